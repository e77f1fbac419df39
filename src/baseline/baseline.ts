// Baselines: the findings a tree had when rlscov was adopted, recorded so that later runs fail only on new ones.
// An entry is keyed by rule, path, enclosing function and the finding's stable key (the normalised statement text
// for write rules), never by line or column, so moving code around does not turn known findings into new ones.
// Several identical findings (same rule, path, function and statement) share one entry with a count. Pure: the
// CLI reads and writes the file.
import { UsageError } from '../errors.js';
import type { Finding } from '../model.js';

/** Bumped on any incompatible change of the file's shape; older files are refused with a one-line message. */
export const BASELINE_VERSION = 1;

export interface BaselineEntry {
  rule: string;
  /** Root-relative path with forward slashes (as findings report it). */
  path: string;
  /** Enclosing named function ("Store.Save"), '' when the finding has none. */
  function: string;
  /** The finding's stable key (`Finding.key`): the normalised statement text, or callee + table. */
  key: string;
  /** How many findings share this identity. */
  count: number;
  /** The message when the baseline was written; for people reading the file, not used for matching. */
  message: string;
}

export interface Baseline {
  version: typeof BASELINE_VERSION;
  tool: { name: 'rlscov'; version: string };
  entries: BaselineEntry[];
}

/** The identity of a finding in a baseline. */
export function baselineKey(f: { rule: string; path: string; function: string; key: string }): string {
  return JSON.stringify([f.rule, f.path.replace(/\\/g, '/').replace(/^\.\//, ''), f.function, normaliseKey(f.key)]);
}

function findingIdentity(f: Finding): string {
  return baselineKey({ rule: f.ruleId, path: f.span.file, function: f.function, key: f.key });
}

/** Whitespace runs collapse to one space, so re-indenting a multi-line SQL literal keeps the identity. */
function normaliseKey(key: string): string {
  return key.replace(/\s+/g, ' ').trim();
}

/** A baseline recording every unsuppressed finding. */
export function createBaseline(findings: readonly Finding[], toolVersion: string): Baseline {
  const byKey = new Map<string, BaselineEntry>();
  for (const f of findings) {
    if (f.suppressed) continue;
    const k = findingIdentity(f);
    const e = byKey.get(k);
    if (e) e.count++;
    else byKey.set(k, { rule: f.ruleId, path: f.span.file, function: f.function, key: normaliseKey(f.key), count: 1, message: f.message });
  }
  const entries = [...byKey.values()].sort(
    (a, b) => cmp(a.path, b.path) || cmp(a.rule, b.rule) || cmp(a.function, b.function) || cmp(a.key, b.key),
  );
  return { version: BASELINE_VERSION, tool: { name: 'rlscov', version: toolVersion }, entries };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The file's text: pretty JSON, one entry per finding identity, sorted, so diffs of the file review well. */
export function serializeBaseline(b: Baseline): string {
  return `${JSON.stringify(b, null, 2)}\n`;
}

/** Parses a baseline file; throws UsageError with a one-line message naming `shown` when it is not one. */
export function parseBaseline(text: string, shown: string): Baseline {
  let data: unknown;
  try {
    data = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (e) {
    throw new UsageError(`baseline ${shown}: not valid JSON (${(e as Error).message.split('\n')[0]})`);
  }
  const bad = (why: string): never => {
    throw new UsageError(`baseline ${shown}: ${why}; write a new one with --write-baseline`);
  };
  if (!isObject(data)) return bad('expected a JSON object');
  if (data['version'] !== BASELINE_VERSION) return bad(`unsupported version ${JSON.stringify(data['version'])} (this rlscov reads version ${BASELINE_VERSION})`);
  const entries = data['entries'];
  if (!Array.isArray(entries)) return bad('"entries" must be a list');
  const out: BaselineEntry[] = [];
  entries.forEach((e: unknown, i) => {
    if (!isObject(e)) return bad(`entries[${i}] must be an object`);
    for (const k of ['rule', 'path', 'function', 'key'] as const) if (typeof e[k] !== 'string') bad(`entries[${i}].${k} must be a string`);
    const count = e['count'] ?? 1;
    if (typeof count !== 'number' || !Number.isInteger(count) || count < 1) bad(`entries[${i}].count must be a positive integer`);
    out.push({
      rule: e['rule'] as string,
      path: e['path'] as string,
      function: e['function'] as string,
      key: e['key'] as string,
      count: count as number,
      message: typeof e['message'] === 'string' ? e['message'] : '',
    });
  });
  const tool = isObject(data['tool']) && typeof data['tool']['version'] === 'string' ? data['tool']['version'] : 'unknown';
  return { version: BASELINE_VERSION, tool: { name: 'rlscov', version: tool }, entries: out };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export type BaselineState = 'new' | 'unchanged';

export interface BaselineComparison {
  /** State of every unsuppressed finding (suppressed findings are not in the map). */
  states: Map<Finding, BaselineState>;
  unchanged: number;
  new: number;
  /** Baseline entries (with the count still unmatched) that no current finding matched: fixed since. */
  fixed: BaselineEntry[];
  /** Sum of `fixed` counts. */
  fixedCount: number;
}

/**
 * Matches findings against a baseline. Each entry absorbs up to `count` findings with its identity, in report
 * order (file, line, column); the rest are new. Suppressed findings neither match nor count as new.
 */
export function compareWithBaseline(findings: readonly Finding[], baseline: Baseline): BaselineComparison {
  const remaining = new Map<string, { entry: BaselineEntry; left: number }>();
  for (const e of baseline.entries) {
    const k = baselineKey(e);
    const r = remaining.get(k);
    if (r) r.left += e.count;
    else remaining.set(k, { entry: e, left: e.count });
  }
  const states = new Map<Finding, BaselineState>();
  let unchanged = 0;
  let added = 0;
  const ordered = [...findings].sort(
    (a, b) => cmp(a.span.file, b.span.file) || a.span.start.line - b.span.start.line || a.span.start.column - b.span.start.column || cmp(a.ruleId, b.ruleId),
  );
  for (const f of ordered) {
    if (f.suppressed) continue;
    const r = remaining.get(findingIdentity(f));
    if (r && r.left > 0) {
      r.left--;
      states.set(f, 'unchanged');
      unchanged++;
    } else {
      states.set(f, 'new');
      added++;
    }
  }
  const fixed = [...remaining.values()].filter((r) => r.left > 0).map((r) => ({ ...r.entry, count: r.left }));
  return { states, unchanged, new: added, fixed, fixedCount: fixed.reduce((n, e) => n + e.count, 0) };
}
