// Public face of src/config: find, load and validate `.rlscov.yml`, and match allow-list entries.
export type { AllowEntry, Config } from './types.js';
export { CONFIG_FILE_NAMES, configSchema, defaultConfig, displayPath, findConfig, loadConfig } from './load.js';
export {
  globMatcher,
  globToRegExp,
  isGlob,
  matchAllow,
  normaliseFunctionName,
  parseAllowSite,
  relativePosix,
  unusedAllowEntries,
} from './allow.js';
export type { AllowSite } from './allow.js';
