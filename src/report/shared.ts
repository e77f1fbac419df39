// Small helpers the reporters share: ordering, counting, wording. Pure.
import type { Finding, RunResult, SiteVerdict, Span } from '../model.js';

/** Verdicts in the order the summaries list them: the bad news first. */
export const VERDICT_ORDER: readonly SiteVerdict[] = [
  'finding',
  'scoped',
  'admin',
  'security-definer',
  'allowed',
  'caller-checked',
  'not-gated',
];

export function compareSpans(a: Span, b: Span): number {
  if (a.file !== b.file) return a.file < b.file ? -1 : 1;
  return a.start.line - b.start.line || a.start.column - b.start.column;
}

/** Findings ordered by file, position, then rule id: the order every reporter prints them in. */
export function sortFindings(findings: readonly Finding[]): Finding[] {
  return [...findings].sort(
    (a, b) => compareSpans(a.span, b.span) || (a.ruleId < b.ruleId ? -1 : a.ruleId > b.ruleId ? 1 : 0),
  );
}

export interface FindingCounts {
  error: number;
  warning: number;
  note: number;
  suppressed: number;
}

/** Unsuppressed findings by severity, plus the number suppressed. */
export function countFindings(result: RunResult): FindingCounts {
  const counts: FindingCounts = { error: 0, warning: 0, note: 0, suppressed: 0 };
  for (const f of result.findings) {
    if (f.suppressed) counts.suppressed++;
    else counts[f.severity]++;
  }
  return counts;
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** "2 errors, 1 warning, 0 notes", or "no findings" when all three are zero. */
export function describeCounts(c: FindingCounts): string {
  if (c.error + c.warning + c.note === 0) return 'no findings';
  return `${plural(c.error, 'error')}, ${plural(c.warning, 'warning')}, ${plural(c.note, 'note')}`;
}

export function formatPosition(span: Span): string {
  return `${span.file}:${span.start.line}:${span.start.column}`;
}
