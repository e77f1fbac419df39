// What `scan` and `pre-commit` do around the analysis: limit reporting to changed lines or given files, compare
// with (or write) a baseline, format, and decide the exit code. The analysis itself always covers the whole tree:
// a write is only judged correctly with its wrappers, helpers and callers in view.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { makeDirs } from '../files.js';
import { dirname, isAbsolute, resolve } from 'node:path';
import {
  annotateJson,
  annotateSarif,
  appendLines,
  changedLinesFor,
  changedSince,
  compareWithBaseline,
  createBaseline,
  findingTouched,
  parseBaseline,
  restrictFindings,
  serializeBaseline,
  summaryLines,
  type Baseline,
  type BaselineInfo,
  type ChangedSince,
  type DiffBase,
  type GitRunner,
  type LimitInfo,
} from '../baseline/index.js';
import { UsageError } from '../errors.js';
import type { Finding, RunResult, Severity } from '../model.js';
import { allRules } from '../../rules/index.js';
import { formatReport, type ReportFormat } from '../report/index.js';

export const FAIL_ON = ['error', 'warning', 'note', 'none'] as const;
export type FailOn = (typeof FAIL_ON)[number];
const RANK: Record<Severity, number> = { error: 3, warning: 2, note: 1 };

export function exitCodeFor(result: RunResult, failOn: FailOn): number {
  if (failOn === 'none') return 0;
  const min = RANK[failOn];
  return result.findings.some((f) => !f.suppressed && RANK[f.severity] >= min) ? 1 : 0;
}

/** Everything decided (and checked) before the analysis runs, so a bad rev or baseline fails fast with exit 2. */
export interface ScanPlan {
  cwd: string;
  baseline: { shown: string; data: Baseline } | null;
  writeBaseline: { abs: string; shown: string } | null;
  changed: { since: ChangedSince; flag: DiffBase } | null;
  /** pre-commit: report only findings in these files (absolute paths). */
  onlyFiles: string[] | null;
}

export interface PlanArgs {
  baseline?: string | undefined;
  'write-baseline'?: string | undefined;
  'new-from-rev'?: string | undefined;
  'new-from-merge-base'?: string | undefined;
}

export function planScan(a: PlanArgs, cwd: string, onlyFiles: string[] | null = null, git?: GitRunner): ScanPlan {
  const plan: ScanPlan = { cwd, baseline: null, writeBaseline: null, changed: null, onlyFiles };
  if (a['new-from-rev'] !== undefined && a['new-from-merge-base'] !== undefined) {
    throw new UsageError('--new-from-rev and --new-from-merge-base cannot be combined; give one base');
  }
  const flag: DiffBase | null =
    a['new-from-rev'] !== undefined
      ? { flag: '--new-from-rev', rev: String(a['new-from-rev']) }
      : a['new-from-merge-base'] !== undefined
        ? { flag: '--new-from-merge-base', rev: String(a['new-from-merge-base']) }
        : null;
  if (flag) plan.changed = { since: changedSince(cwd, flag, git), flag };
  if (a.baseline !== undefined) {
    const abs = resolve(cwd, a.baseline);
    if (!existsSync(abs)) throw new UsageError(`baseline file not found: ${a.baseline} (create it with --write-baseline ${a.baseline})`);
    let text: string;
    try {
      text = readFileSync(abs, 'utf8');
    } catch (e) {
      throw new UsageError(`cannot read baseline ${a.baseline}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    plan.baseline = { shown: a.baseline, data: parseBaseline(text, a.baseline) };
  }
  if (a['write-baseline'] !== undefined) {
    const shown = a['write-baseline'];
    plan.writeBaseline = { abs: isAbsolute(shown) ? shown : resolve(cwd, shown), shown };
  }
  return plan;
}

export interface RenderOptions {
  format: ReportFormat;
  failOn: FailOn;
  color: boolean;
  verbose: boolean;
  sources: ReadonlyMap<string, string>;
  automationId?: string;
}

export interface ScanOutcome {
  /** The report. */
  text: string;
  exit: number;
  /** One-line notes for stderr ("wrote baseline ..."). */
  notes: string[];
}

/** Limits, baseline, formatting and exit code for an analysed tree. */
export function finishScan(plan: ScanPlan, full: RunResult, o: RenderOptions): ScanOutcome {
  const notes: string[] = [];
  let result = full;
  let limit: LimitInfo | null = null;

  if (plan.changed) {
    const { since, flag } = plan.changed;
    const linesOf = changedLinesFor(since, full.root);
    const r = restrictFindings(result, (f) => findingTouched(f, linesOf(f.span.file)));
    result = r.result;
    const short = since.base.slice(0, 12);
    limit = {
      kind: 'changed-lines',
      description: flag.flag === '--new-from-rev' ? `lines changed since ${flag.rev} (${short})` : `lines changed since the merge base of HEAD and ${flag.rev} (${short})`,
      hidden: r.hidden,
      rev: flag.rev,
      base: since.base,
    };
  }
  if (plan.onlyFiles) {
    const wanted = new Set(plan.onlyFiles.map((p) => resolve(plan.cwd, p)));
    const r = restrictFindings(result, (f) => wanted.has(resolve(full.root, f.span.file)));
    result = r.result;
    limit = { kind: 'files', description: `the ${wanted.size === 1 ? 'file' : `${wanted.size} files`} given`, hidden: r.hidden + (limit?.hidden ?? 0) };
  }

  if (plan.writeBaseline) {
    // The baseline records the whole tree, whatever the report is limited to.
    const b = createBaseline(full.findings, full.toolVersion);
    try {
      makeDirs(dirname(plan.writeBaseline.abs));
      writeFileSync(plan.writeBaseline.abs, serializeBaseline(b));
    } catch (e) {
      throw new UsageError(`cannot write baseline ${plan.writeBaseline.shown}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    const n = b.entries.reduce((s, e) => s + e.count, 0);
    notes.push(`rlscov: wrote baseline ${plan.writeBaseline.shown} with ${n} finding${n === 1 ? '' : 's'}; runs with --baseline ${plan.writeBaseline.shown} fail only on new ones`);
  }

  let baseline: BaselineInfo | null = null;
  let failing = result;
  if (plan.baseline) {
    // Matched over the whole tree (so an entry for a finding outside the changed lines is not "fixed"), then
    // counted over what is reported.
    const whole = compareWithBaseline(full.findings, plan.baseline.data);
    const shown = new Set(result.findings);
    const states = new Map([...whole.states].filter(([f]) => shown.has(f)));
    const count = (st: string) => [...states.values()].filter((x) => x === st).length;
    const comparison = { ...whole, states, unchanged: count('unchanged'), new: count('new') };
    baseline = { file: plan.baseline.shown, comparison };
    const unchanged = new Set<Finding>([...states].filter(([, st]) => st === 'unchanged').map(([f]) => f));
    failing = restrictFindings(result, (f) => !unchanged.has(f)).result;
  }

  const rules = allRules.map((r) => r.meta);
  const base = { color: o.color, verbose: o.verbose, sources: o.sources, ...(o.automationId ? { automationId: o.automationId } : {}) };
  let text: string;
  switch (o.format) {
    case 'text':
    case 'github':
      // Baselined findings are only counted: the report lists what is new.
      text = appendLines(formatReport(o.format, failing, rules, base), summaryLines(baseline, limit));
      break;
    case 'json':
      text = formatReport('json', result, rules, base);
      if (baseline || limit) text = annotateJson(text, baseline, limit);
      break;
    case 'sarif':
      text = formatReport('sarif', result, rules, base);
      if (baseline) text = annotateSarif(text, baseline);
      break;
  }
  // Writing a baseline records every current finding: the run that writes it passes.
  const exit = plan.writeBaseline ? 0 : exitCodeFor(failing, o.failOn);
  return { text, exit, notes };
}
