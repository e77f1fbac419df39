// The command line. `main` takes argv and injected streams and returns the exit code; only bin.ts touches
// `process`. Exit codes: 0 clean, 1 findings at or above --fail-on, 2 usage/config/input errors.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import yargs from 'yargs';
import { analyze } from '../engine/analyze.js';
import type { AnalyzeOptions } from '../engine/options.js';
import { ConfigError, UsageError } from '../errors.js';
import type { RunResult, Severity } from '../model.js';
import { allRules, ruleById } from '../../rules/index.js';
import { formatReport, REPORT_FORMATS, renderRuleText, type ReportFormat } from '../report/index.js';
import { findConfig, loadConfig, displayPath } from '../config/index.js';
import { nodeHost } from '../host.js';
import { TOOL_VERSION } from '../version.js';
import { formatAudit, formatCatalog, type AuditFormat } from './tables.js';

export interface Io {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  cwd: string;
  isTTY: boolean;
  env: Record<string, string | undefined>;
}

export const FAIL_ON = ['error', 'warning', 'note', 'none'] as const;
type FailOn = (typeof FAIL_ON)[number];
const RANK: Record<Severity, number> = { error: 3, warning: 2, note: 1 };

const SUBCOMMANDS = new Set(['scan', 'audit', 'catalog', 'rules', 'explain', 'config']);

export async function main(argv: string[], io: Io): Promise<number> {
  // `rlscov` with no sub-command (or with only paths and flags) means `scan`.
  const first = argv.find((a) => !a.startsWith('-'));
  const wantsHelpOrVersion = argv.some((a) => a === '--help' || a === '-h' || a === '--version');
  const args = first && SUBCOMMANDS.has(first) ? argv : wantsHelpOrVersion && !first ? argv : ['scan', ...argv];
  let exit = 0;
  const scanOptions = (y: ReturnType<typeof yargs>) =>
    y
      .positional('paths', { type: 'string', array: true, describe: 'files or directories to scan (default: .)' })
      .option('config', { alias: 'c', type: 'string', describe: 'config file (default: .rlscov.yml/.yaml/.json found by walking up from the first path)' })
      .option('include-tests', { type: 'boolean', describe: 'also scan *_test.go files' })
      .option('migrations', { type: 'string', array: true, describe: 'extra migration globs (default: **/migrations/**/*.sql)' })
      .option('root', { type: 'string', describe: 'directory reported paths are relative to (default: current directory)' });
  try {
    await yargs(args)
      .scriptName('rlscov')
      .usage('$0 [scan] [paths..] [options]\n\nFinds writes into Postgres row-level-security tables that run outside an org scope in Go code.')
      .version(TOOL_VERSION)
      .strict()
      .exitProcess(false)
      .fail((msg, err) => {
        throw err instanceof Error && !(err instanceof UsageError) && !msg ? err : new UsageError(msg ?? err?.message ?? 'invalid arguments');
      })
      .command(
        'scan [paths..]',
        'scan Go code and report unsafe writes (default command)',
        (y) =>
          scanOptions(y)
            .option('format', { alias: 'f', choices: REPORT_FORMATS, default: 'text' as ReportFormat, describe: 'output format' })
            .option('output', { alias: 'o', type: 'string', describe: 'write the report to this file instead of stdout' })
            .option('fail-on', { choices: FAIL_ON, default: 'error' as FailOn, describe: 'lowest severity that makes the exit code 1' })
            .option('suppressions', { type: 'boolean', default: true, describe: 'honour //rlscov:ignore comments and allow entries; --no-suppressions reports them as live (audit mode)' })
            .option('category', { type: 'string', describe: 'SARIF automationDetails.id category (default: rlscov/)' })
            .option('color', { type: 'boolean', describe: 'force colour on or off (default: on for a terminal, off when NO_COLOR is set)' })
            .option('verbose', { alias: 'v', type: 'boolean', describe: 'text: also list suppressed findings' }),
        async (a) => {
          const result = await runAnalysis(a, io, { noSuppressions: a.suppressions === false });
          const color = a.color ?? (io.isTTY && !io.env['NO_COLOR'] && !a.output);
          const sources = a.format === 'sarif' ? readSources(result) : new Map<string, string>();
          const text = formatReport(a.format, result, allRules.map((r) => r.meta), {
            color,
            verbose: a.verbose ?? false,
            sources,
            ...(a.category ? { automationId: a.category } : {}),
          });
          emit(text, a.output, io);
          exit = exitCodeFor(result, a['fail-on']);
        },
      )
      .command(
        'audit [paths..]',
        "every write site into an RLS table with its verdict and evidence (the guide's Step B table)",
        (y) => scanOptions(y).option('format', { alias: 'f', choices: ['text', 'markdown', 'json'] as const, default: 'text' as AuditFormat }).option('output', { alias: 'o', type: 'string' }),
        async (a) => {
          const result = await runAnalysis(a, io, {});
          emit(formatAudit(result, a.format), a.output, io);
        },
      )
      .command(
        'catalog [paths..]',
        'print the resolved catalog: RLS tables, SQL functions, scope settings, with where each came from',
        (y) => scanOptions(y).option('format', { alias: 'f', choices: ['text', 'json'] as const, default: 'text' as const }),
        async (a) => {
          const result = await runAnalysis(a, io, {});
          io.stdout(formatCatalog(result, a.format));
        },
      )
      .command('rules', 'list the rules', {}, () => {
        for (const r of allRules) io.stdout(`${r.meta.id}  ${r.meta.name.padEnd(28)} ${r.meta.defaultLevel.padEnd(7)} ${r.meta.docs.summary}\n`);
      })
      .command(
        'explain <rule>',
        "print a rule's full documentation",
        (y) => y.positional('rule', { type: 'string', demandOption: true }),
        (a) => {
          const rule = ruleById(String(a.rule)) ?? allRules.find((r) => r.meta.name === String(a.rule).toLowerCase());
          if (!rule) throw new UsageError(`unknown rule "${a.rule}"; run \`rlscov rules\` for the list`);
          io.stdout(renderRuleText(rule.meta) + '\n');
        },
      )
      .command(
        'config <action> [file]',
        'config verify [FILE]: validate a config file and show which one applies here',
        (y) => y.positional('action', { choices: ['verify'] as const }).positional('file', { type: 'string' }),
        (a) => {
          const file = a.file ? resolve(io.cwd, a.file) : findConfig(nodeHost, io.cwd);
          if (!file) {
            io.stdout('no config file found from this directory up to the repository root; defaults apply\n');
            return;
          }
          if (!nodeHost.exists(file)) throw new UsageError(`config file not found: ${a.file}`);
          loadConfig(nodeHost, file, io.cwd);
          io.stdout(`${displayPath(io.cwd, file)}: valid${a.file ? '' : ' (this is the config rlscov uses from here)'}\n`);
        },
      )
      .demandCommand(1)
      .help()
      .alias('h', 'help')
      .wrap(Math.min(110, 200))
      .parseAsync(args, {}, (err, _argv, output) => {
        if (output && !err) io.stdout(output + (output.endsWith('\n') ? '' : '\n'));
      });
  } catch (e) {
    if (e instanceof UsageError || e instanceof ConfigError) {
      io.stderr(`rlscov: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  return exit;
}

async function runAnalysis(a: Record<string, unknown>, io: Io, extra: Partial<AnalyzeOptions>): Promise<RunResult> {
  const paths = ((a['paths'] as string[] | undefined) ?? []).filter((p) => p !== '');
  for (const p of paths) if (!nodeHost.exists(resolve(io.cwd, p))) throw new UsageError(`path not found: ${p}`);
  const configPath = a['config'] as string | undefined;
  if (configPath && !nodeHost.exists(resolve(io.cwd, configPath))) throw new UsageError(`config file not found: ${configPath}`);
  const opts: AnalyzeOptions = { paths: paths.length ? paths : ['.'], cwd: io.cwd, ...extra };
  if (configPath) opts.configPath = configPath;
  if (a['include-tests'] !== undefined) opts.includeTests = a['include-tests'] as boolean;
  if (a['migrations']) opts.migrations = a['migrations'] as string[];
  if (a['root']) opts.root = a['root'] as string;
  return analyze(opts);
}

function readSources(result: RunResult): Map<string, string> {
  const m = new Map<string, string>();
  for (const f of new Set(result.findings.map((x) => x.span.file))) {
    try {
      m.set(f, readFileSync(join(result.root, f), 'utf8'));
    } catch {
      // no fingerprint for a file that vanished
    }
  }
  return m;
}

function emit(text: string, output: string | undefined, io: Io): void {
  if (!output) {
    io.stdout(text.endsWith('\n') ? text : text + '\n');
    return;
  }
  const abs = isAbsolute(output) ? output : resolve(io.cwd, output);
  try {
    mkdirSync(dirname(abs), { recursive: true });
    writeFileSync(abs, text.endsWith('\n') ? text : text + '\n');
  } catch (e) {
    throw new UsageError(`cannot write ${output}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

export function exitCodeFor(result: RunResult, failOn: FailOn): number {
  if (failOn === 'none') return 0;
  const min = RANK[failOn];
  return result.findings.some((f) => !f.suppressed && RANK[f.severity] >= min) ? 1 : 0;
}
