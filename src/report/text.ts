// The human report: one `path:line:col: level RLS00X message` line per finding (the shape editors and CI problem
// matchers parse), its related locations and flow indented below, then a summary of the run. Pure.
import type { RuleMeta } from '../engine/rule.js';
import type { Catalog, Evidence, FileProblem, Finding, RunResult, Severity } from '../model.js';
import { VERDICT_ORDER, countFindings, describeCounts, formatPosition, plural, sortFindings } from './shared.js';

export interface TextOptions {
  /** Wrap levels and related lines in ANSI colour codes (the caller decides: a TTY, NO_COLOR, --color). */
  color: boolean;
  /** Also print suppressed findings, marked `[suppressed: reason]`. */
  verbose?: boolean;
}

/** How many files with syntax errors (and unreadable files) the summary lists by name. */
const LISTED_PROBLEMS = 10;

const ANSI = {
  red: '\u001b[31m',
  yellow: '\u001b[33m',
  cyan: '\u001b[36m',
  dim: '\u001b[2m',
  bold: '\u001b[1m',
  reset: '\u001b[0m',
} as const;

type Paint = (code: keyof typeof ANSI, text: string) => string;

const LEVEL_COLOUR: Record<Severity, keyof typeof ANSI> = { error: 'red', warning: 'yellow', note: 'cyan' };

function evidenceLine(e: Evidence): string {
  return e.span ? `    ${formatPosition(e.span)}: note: ${e.message}` : `    note: ${e.message}`;
}

function findingLines(f: Finding, paint: Paint): string[] {
  const mark = f.suppressed ? ` [suppressed: ${f.suppressed.justification}]` : '';
  const head = `${formatPosition(f.span)}: ${paint(LEVEL_COLOUR[f.severity], f.severity)} ${f.ruleId} ${f.message}${mark}`;
  const lines = [head];
  for (const e of [...f.related, ...(f.flow ?? [])]) lines.push(paint('dim', evidenceLine(e)));
  return lines;
}

function describeCatalog(catalog: Catalog): string {
  const tables = plural(Object.keys(catalog.tables).length, 'RLS table');
  switch (catalog.origin) {
    case 'migrations': {
      const diagnostics = catalog.diagnostics.length
        ? `, ${plural(catalog.diagnostics.length, 'migration statement')} not understood`
        : '';
      return `catalog: ${tables} from ${plural(catalog.migrationFiles.length, 'migration')}${diagnostics}`;
    }
    case 'database':
      return `catalog: ${tables} from the live database`;
    case 'builtin': {
      // The built-in list names its version in the provenance detail ("v8.0.0").
      const detail = Object.values(catalog.tables).find((t) => t.source.kind === 'builtin')?.source.detail;
      return `catalog: built-in ${detail ? `${detail} ` : ''}list, ${tables} (no migrations found)`;
    }
  }
}

function problemLines(title: string, problems: readonly FileProblem[]): string[] {
  if (problems.length === 0) return [];
  const files = new Set(problems.map((p) => p.file)).size;
  const lines = [`${title}: ${plural(files, 'file')}`];
  for (const p of problems.slice(0, LISTED_PROBLEMS)) {
    const at = p.line === undefined ? p.file : `${p.file}:${p.line}${p.column === undefined ? '' : `:${p.column}`}`;
    lines.push(`  ${at}: ${p.message}`);
  }
  if (problems.length > LISTED_PROBLEMS) lines.push(`  ... and ${problems.length - LISTED_PROBLEMS} more`);
  return lines;
}

function summaryLines(result: RunResult, rules: readonly RuleMeta[]): string[] {
  const s = result.summary;
  const lines = [
    `config: ${result.configFile ?? 'no config file, defaults'}`,
    describeCatalog(result.catalog),
    `files: ${s.filesScanned} scanned, ${s.filesParsed} parsed${s.cache ? (s.cache.wholeRun ? ' (unchanged since the last run: result reused from the cache)' : `, ${s.cache.filesFromCache} from the cache`) : ''}`,
    ...problemLines('syntax errors', result.syntaxErrors),
    ...problemLines('unreadable', result.fileErrors),
  ];

  const verdicts = VERDICT_ORDER.filter((v) => (s.verdicts[v] ?? 0) > 0).map((v) => `${v} ${s.verdicts[v]}`);
  lines.push(`write sites: ${s.writeSites} seen${verdicts.length ? `; into RLS tables: ${verdicts.join(', ')}` : ''}`);

  // Rules in registry order, then any rule id the registry does not know.
  const order = [...rules.map((r) => r.id), ...Object.keys(s.findingsByRule).sort()];
  const byRule = [...new Set(order)]
    .filter((id) => (s.findingsByRule[id] ?? 0) > 0)
    .map((id) => {
      const name = rules.find((r) => r.id === id)?.name;
      return `${id}${name ? ` ${name}` : ''} ${s.findingsByRule[id]}`;
    });
  if (byRule.length) lines.push(`findings by rule: ${byRule.join(', ')}`);

  const counts = countFindings(result);
  if (counts.suppressed) lines.push(`suppressed: ${counts.suppressed}`);
  return lines;
}

/** The text report, ending with a newline. */
export function formatText(result: RunResult, rules: readonly RuleMeta[], opts: TextOptions): string {
  const paint: Paint = opts.color ? (code, text) => `${ANSI[code]}${text}${ANSI.reset}` : (_code, text) => text;
  const out: string[] = [];
  for (const f of sortFindings(result.findings)) {
    if (f.suppressed && !opts.verbose) continue;
    out.push(...findingLines(f, paint));
  }
  if (out.length) out.push('');
  out.push(...summaryLines(result, rules));
  out.push(paint('bold', describeCounts(countFindings(result))));
  return `${out.join('\n')}\n`;
}
