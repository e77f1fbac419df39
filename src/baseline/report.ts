// How baselines and changed-line limits show in the reports. The reporters (src/report) format a run; these
// functions add what they do not know about: a summary line for the text and GitHub formats, `baselineState` on
// SARIF results (SARIF 2.1.0 §3.27.24), and `baselineState` plus a `baseline` / `limitedTo` block in the JSON
// document. Pure: text in, text out.
import type { Finding } from '../model.js';
import type { BaselineComparison, BaselineEntry, BaselineState } from './baseline.js';

export interface BaselineInfo {
  /** The baseline file as the user named it. */
  file: string;
  comparison: BaselineComparison;
}

/** Why some findings are not reported: `--new-from-rev` / `--new-from-merge-base`, or pre-commit's file list. */
export interface LimitInfo {
  kind: 'changed-lines' | 'files';
  /** "lines changed since main (3f2c1a0)" or "the 2 files given". */
  description: string;
  /** Unsuppressed findings left out. */
  hidden: number;
  rev?: string;
  base?: string;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** Lines appended to the text (and GitHub) report. */
export function summaryLines(baseline: BaselineInfo | null, limit: LimitInfo | null): string[] {
  const lines: string[] = [];
  if (limit) {
    const hidden = limit.hidden ? `; ${plural(limit.hidden, 'finding')} elsewhere not shown` : '';
    lines.push(`reporting limited to ${limit.description}${hidden}`);
  }
  if (baseline) {
    const c = baseline.comparison;
    lines.push(`baseline ${baseline.file}: ${plural(c.unchanged, 'known finding')} not reported (baseline), ${c.new} new`);
    if (c.fixedCount > 0) {
      lines.push(`${plural(c.fixedCount, 'finding')} in the baseline ${c.fixedCount === 1 ? 'is' : 'are'} fixed; shrink it with --write-baseline ${baseline.file}`);
    }
  }
  return lines;
}

/** Appends `extra` lines to a report that ends with a newline. */
export function appendLines(text: string, extra: readonly string[]): string {
  if (!extra.length) return text;
  return `${text.endsWith('\n') ? text : `${text}\n`}${extra.join('\n')}\n`;
}

/** Position + rule + key: how a finding is recognised in a formatted report. */
function positionKey(ruleId: string, line: number, column: number, key: string): string {
  return JSON.stringify([ruleId, line, column, key]);
}

function statesByPosition(states: ReadonlyMap<Finding, BaselineState>): Map<string, BaselineState[]> {
  const m = new Map<string, BaselineState[]>();
  for (const [f, s] of states) {
    const k = positionKey(f.ruleId, f.span.start.line, f.span.start.column, f.key);
    m.set(k, [...(m.get(k) ?? []), s]);
  }
  return m;
}

function fixedEntry(e: BaselineEntry): Record<string, unknown> {
  return { rule: e.rule, path: e.path, function: e.function, key: e.key, count: e.count, message: e.message };
}

/** Adds `baselineState` to unsuppressed SARIF results (matched by rule, start position and key). */
export function annotateSarif(sarifText: string, baseline: BaselineInfo): string {
  const log = JSON.parse(sarifText) as { runs?: Array<{ results?: Array<Record<string, unknown>>; properties?: Record<string, unknown> }> };
  const byPos = statesByPosition(baseline.comparison.states);
  for (const run of log.runs ?? []) {
    for (const r of run.results ?? []) {
      if (Array.isArray(r['suppressions']) && (r['suppressions'] as unknown[]).length) continue;
      const loc = (r['locations'] as Array<{ physicalLocation?: { region?: { startLine?: number; startColumn?: number } } }> | undefined)?.[0]?.physicalLocation?.region;
      const key = String((r['properties'] as Record<string, unknown> | undefined)?.['key'] ?? '');
      const list = byPos.get(positionKey(String(r['ruleId']), loc?.startLine ?? 0, loc?.startColumn ?? 0, key));
      const state = list?.shift();
      if (state) r['baselineState'] = state;
    }
    run.properties = {
      ...(run.properties ?? {}),
      baseline: { file: baseline.file, unchanged: baseline.comparison.unchanged, new: baseline.comparison.new, fixed: baseline.comparison.fixedCount },
    };
  }
  return `${JSON.stringify(log, null, 2)}\n`;
}

/**
 * Adds to the JSON report: `baselineState` ('new' | 'unchanged' | null for suppressed findings) on every finding
 * when a baseline was given, a `baseline` block (counts and the fixed entries), and a `limitedTo` block when
 * reporting was limited to changed lines or given files.
 */
export function annotateJson(jsonText: string, baseline: BaselineInfo | null, limit: LimitInfo | null): string {
  const doc = JSON.parse(jsonText) as Record<string, unknown> & {
    findings?: Array<Record<string, unknown> & { ruleId: string; key: string; location: { line: number; column: number } }>;
  };
  if (baseline) {
    const byPos = statesByPosition(baseline.comparison.states);
    for (const f of doc.findings ?? []) {
      const list = byPos.get(positionKey(f.ruleId, f.location.line, f.location.column, f.key));
      f['baselineState'] = f['suppressed'] ? null : (list?.shift() ?? null);
    }
    const c = baseline.comparison;
    doc['baseline'] = { file: baseline.file, unchanged: c.unchanged, new: c.new, fixed: c.fixedCount, fixedEntries: c.fixed.map(fixedEntry) };
  }
  if (limit) {
    doc['limitedTo'] = { kind: limit.kind, description: limit.description, hidden: limit.hidden, rev: limit.rev ?? null, base: limit.base ?? null };
  }
  return `${JSON.stringify(doc, null, 2)}\n`;
}
