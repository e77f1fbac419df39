// Public face of src/baseline: adopting rlscov on a tree with existing findings. Baseline files (record the current
// findings, fail only on new ones), changed-line limits (`--new-from-rev`, pre-commit's staged files) and how both
// show in the reports.
export {
  BASELINE_VERSION,
  baselineKey,
  compareWithBaseline,
  createBaseline,
  parseBaseline,
  serializeBaseline,
  type Baseline,
  type BaselineComparison,
  type BaselineEntry,
  type BaselineState,
} from './baseline.js';
export { findingTouched, parseUnifiedDiff, restrictFindings, unquote, type ChangedLines } from './diff.js';
export { changedLinesFor, changedSince, runGit, type ChangedSince, type DiffBase, type GitRunner } from './git.js';
export { annotateJson, annotateSarif, appendLines, summaryLines, type BaselineInfo, type LimitInfo } from './report.js';
