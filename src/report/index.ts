// The reporters: pure functions from a run's result and the rules' metadata to the text of one output format.
import type { RuleMeta } from '../engine/rule.js';
import type { RunResult } from '../model.js';
import { formatGithub, type GithubOptions } from './github.js';
import { formatJson } from './json.js';
import { formatSarif, type SarifOptions } from './sarif.js';
import { formatText, type TextOptions } from './text.js';

export { formatText, type TextOptions } from './text.js';
export {
  formatJson,
  toJsonReport,
  JSON_REPORT_VERSION,
  type JsonReport,
  type JsonFinding,
  type JsonSite,
  type JsonLocation,
  type JsonEvidence,
} from './json.js';
export {
  formatSarif,
  toSarifLog,
  artifactUri,
  directoryFileUri,
  SARIF_SCHEMA,
  RLSCOV_INFORMATION_URI,
  type SarifOptions,
} from './sarif.js';
export { formatGithub, escapeData, escapeProperty, GITHUB_ANNOTATIONS_PER_LEVEL, type GithubOptions } from './github.js';
export { forEachLineHash, lineHashes, primaryLocationLineHash } from './fingerprint.js';
export { renderRuleMarkdown, renderRuleText, ruleHelpUri, dedent, type RuleMarkdownOptions } from './markdown.js';

export const REPORT_FORMATS = ['text', 'json', 'sarif', 'github'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

/** Everything any format may need; each format reads only its own part. */
export type ReportOptions = TextOptions & Partial<SarifOptions> & GithubOptions;

/** Formats `result` in `format`. `sources` (for SARIF fingerprints) defaults to none. */
export function formatReport(
  format: ReportFormat,
  result: RunResult,
  rules: readonly RuleMeta[],
  opts: ReportOptions,
): string {
  switch (format) {
    case 'text':
      return formatText(result, rules, opts);
    case 'json':
      return formatJson(result, rules);
    case 'sarif':
      return formatSarif(result, rules, { ...opts, sources: opts.sources ?? new Map() });
    case 'github':
      return formatGithub(result, rules, opts);
  }
}
