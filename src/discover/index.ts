// Public face of src/discover: which Go files and migrations a run scans.
export {
  DEFAULT_EXCLUDED_DIRS,
  DEFAULT_MIGRATION_GLOB,
  GENERATED_HEAD_BYTES,
  discoverFiles,
  isGeneratedGo,
} from './discover.js';
export type { DiscoverOptions, DiscoverResult } from './discover.js';
