// GitHub Actions workflow commands (`::error file=...::message`), which the runner turns into annotations on the
// pull request. Pure.
import type { RuleMeta } from '../engine/rule.js';
import type { Finding, RunResult, Severity } from '../model.js';
import { countFindings, describeCounts, plural, sortFindings } from './shared.js';

/** GitHub shows at most this many annotations of each level per step; the rest are dropped silently. */
export const GITHUB_ANNOTATIONS_PER_LEVEL = 10;

export interface GithubOptions {
  /**
   * Prepended (with a `/`) to every path, when the run's root is a subdirectory of the repository: annotation
   * paths must be repository-relative.
   */
  pathPrefix?: string;
}

const COMMAND: Record<Severity, 'error' | 'warning' | 'notice'> = {
  error: 'error',
  warning: 'warning',
  note: 'notice',
};

/** Escapes the message part of a workflow command. */
export function escapeData(text: string): string {
  return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

/** Escapes a property value of a workflow command (also `:` and `,`, which delimit properties). */
export function escapeProperty(text: string): string {
  return escapeData(text).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

function annotation(f: Finding, prefix: string): string {
  const props: Array<[string, string | number]> = [
    ['file', prefix + f.span.file],
    ['line', f.span.start.line],
    ['col', f.span.start.column],
    ['endLine', f.span.end.line],
    ['endColumn', f.span.end.column],
    ['title', `${f.ruleId} ${f.ruleName}`],
  ];
  const list = props.map(([k, v]) => `${k}=${escapeProperty(String(v))}`).join(',');
  return `::${COMMAND[f.severity]} ${list}::${escapeData(f.message)}`;
}

/**
 * One annotation per unsuppressed finding, at most GITHUB_ANNOTATIONS_PER_LEVEL per level; when some do not fit, a
 * notice says how many (it takes one of the notice slots). Ends with a plain summary line.
 */
export function formatGithub(result: RunResult, _rules: readonly RuleMeta[], opts: GithubOptions = {}): string {
  const prefix = opts.pathPrefix ? `${opts.pathPrefix.replace(/\\/g, '/').replace(/\/+$/, '')}/` : '';
  const byLevel: Record<Severity, Finding[]> = { error: [], warning: [], note: [] };
  for (const f of sortFindings(result.findings)) if (!f.suppressed) byLevel[f.severity].push(f);

  const cap = GITHUB_ANNOTATIONS_PER_LEVEL;
  const overflowOf = (noteCap: number): number =>
    Math.max(0, byLevel.error.length - cap) +
    Math.max(0, byLevel.warning.length - cap) +
    Math.max(0, byLevel.note.length - noteCap);
  // The overflow notice is itself a notice: when it is needed, findings of level note get one slot fewer.
  const noteCap = overflowOf(cap) > 0 ? cap - 1 : cap;
  const hidden = overflowOf(noteCap);

  const lines = [
    ...byLevel.error.slice(0, cap).map((f) => annotation(f, prefix)),
    ...byLevel.warning.slice(0, cap).map((f) => annotation(f, prefix)),
    ...byLevel.note.slice(0, noteCap).map((f) => annotation(f, prefix)),
  ];
  if (hidden > 0) {
    lines.push(
      `::notice::${escapeData(`rlscov: ${plural(hidden, 'more finding')} not annotated; see the SARIF or text report`)}`,
    );
  }
  const counts = countFindings(result);
  const suppressed = counts.suppressed ? ` (${counts.suppressed} suppressed)` : '';
  lines.push(`rlscov: ${describeCounts(counts)}${suppressed}`);
  return `${lines.join('\n')}\n`;
}
