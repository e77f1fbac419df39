// The command line. `main` takes argv and injected streams and returns the exit code; only run.ts touches
// `process`. Exit codes: 0 clean, 1 findings at or above --fail-on, 2 usage/config/input errors.
import { readFileSync, writeFileSync } from 'node:fs';
import { makeDirs } from '../files.js';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import yargs, { type Argv } from 'yargs';
import { analyze, asWholeRunHit } from '../engine/analyze.js';
import type { AnalyzeOptions } from '../engine/options.js';
import { ConfigError, UsageError } from '../errors.js';
import type { RunResult } from '../model.js';
import { allRules, ruleById } from '../../rules/index.js';
import { REPORT_FORMATS, renderRuleText, type ReportFormat } from '../report/index.js';
import { findConfig, loadConfig, displayPath } from '../config/index.js';
import { nodeHost } from '../host.js';
import { TOOL_VERSION } from '../version.js';
import { formatAudit, formatCatalog, type AuditFormat } from './tables.js';
import { FAIL_ON, finishScan, planScan, type FailOn } from './scan.js';
import { initConfig } from './init.js';
import { keepParsedLines, keepingParsedLines } from '../cache/kept.js';
import { forgetSqlClassifications } from '../sql/index.js';
import type { ReplayOutput, RunRecorder } from './replay.js';

export interface Io {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  cwd: string;
  isTTY: boolean;
  env: Record<string, string | undefined>;
  /** Set by run.ts: records what the run reads, so an identical run on unchanged inputs can be replayed. */
  replay?: RunRecorder;
  /** Set by the daemon (daemon.ts), whose process runs many commands: parsed cache lines are kept between them. */
  resident?: boolean;
  /** Set by the daemon: takes the cache's saving, which it runs once it has answered (AnalyzeDeps.defer). */
  defer?: (work: () => Promise<void>) => void;
}

export { FAIL_ON, exitCodeFor } from './scan.js';

const SUBCOMMANDS = new Set(['scan', 'audit', 'catalog', 'rules', 'explain', 'config', 'pre-commit', 'init', 'daemon']);

export async function main(argv: string[], io: Io): Promise<number> {
  if (io.resident) {
    if (!keepingParsedLines()) keepParsedLines({});
    forgetSqlClassifications();
  }
  // `rlscov` with no sub-command (or with only paths and flags) means `scan`.
  const first = argv.find((a) => !a.startsWith('-'));
  const wantsHelpOrVersion = argv.some((a) => a === '--help' || a === '-h' || a === '--version');
  const args = first && SUBCOMMANDS.has(first) ? argv : wantsHelpOrVersion && !first ? argv : ['scan', ...argv];
  let exit = 0;
  // Options of every command that runs the analysis; `scanOptions` adds the paths to scan (pre-commit takes files).
  const analysisOptions = <T>(y: Argv<T>) =>
    y
      .option('config', { alias: 'c', type: 'string', describe: 'config file (default: .rlscov.yml/.yaml/.json found by walking up from the first path)' })
      .option('include-tests', { type: 'boolean', describe: 'also scan *_test.go files' })
      .option('migrations', { type: 'string', array: true, describe: 'extra migration globs (default: **/migrations/**/*.sql)' })
      .option('root', { type: 'string', describe: 'directory reported paths are relative to (default: current directory)' })
      .option('cache', { type: 'boolean', default: true, describe: 'reuse per-file facts and unchanged results from the cache; --no-cache analyses from scratch' })
      .option('cache-dir', { type: 'string', describe: 'cache directory (default: $RLSCOV_CACHE_DIR, else $XDG_CACHE_HOME/rlscov or ~/.cache/rlscov)' })
      .option('workers', { type: 'number', describe: 'parser worker threads (default 0: parse in-process, the fastest on a few cores)' })
      .option('prefilter', { type: 'boolean', default: true, describe: 'parse only files that can matter; --no-prefilter parses every file' })
      .option('database-url', { type: 'string', describe: 'read the RLS catalog from this live database, read-only (default: $RLSCOV_DATABASE_URL, else database.url in the config); compared with the migrations when there are any' })
      .option('catalog', { choices: ['static', 'exact'] as const, describe: 'how migrations become the catalog: static (fold, default) or exact (executed in embedded Postgres, cached)' })
      .option('daemon', { type: 'boolean', describe: 'run in the resident rlscov daemon, starting one for the next run when none is running (default: $RLSCOV_DAEMON=1; see rlscov daemon)' });
  const scanOptions = (y: Argv) => analysisOptions(y.positional('paths', { type: 'string', array: true, describe: 'files or directories to scan (default: .)' }));
  try {
    const parser = yargs(args);
    skipHelpCaching(parser);
    await parser
      .scriptName('rlscov')
      .usage('$0 [scan] [paths..] [options]\n\nFinds writes into Postgres row-level-security tables that run outside an org scope in Go code.')
      .version(TOOL_VERSION)
      .strict()
      .exitProcess(false)
      .fail((msg, err) => {
        if (err instanceof Error && !(err instanceof UsageError) && !msg) throw err;
        // yargs writes some messages over several lines ("Invalid values:\n  Argument: ..."): one line.
        throw new UsageError((msg ?? err?.message ?? 'invalid arguments').replace(/\s*\n\s*/g, ' ').trim() + ' (see rlscov --help)');
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
            .option('verbose', { alias: 'v', type: 'boolean', describe: 'text: also list suppressed findings' })
            .option('baseline', { type: 'string', describe: 'fail only on findings not recorded in this baseline file; known ones are counted, fixed ones reported' })
            .option('write-baseline', { type: 'string', describe: 'record the current unsuppressed findings in this file (keyed by rule, path, function, statement; not lines) and exit 0' })
            .option('new-from-rev', { type: 'string', describe: 'analyse the whole tree, report only findings on lines changed since REV (git diff + untracked files)' })
            .option('new-from-merge-base', { type: 'string', describe: 'like --new-from-rev, with the merge base of HEAD and REF (pull requests: origin/main)' })
            .conflicts('new-from-rev', 'new-from-merge-base'),
        async (a) => {
          const plan = planScan(a, io.cwd); // git and baseline problems fail (exit 2) before the analysis
          if (plan.baseline) io.replay?.note(resolve(io.cwd, plan.baseline.shown));
          // Only the JSON report shows what the tree defines (wrappers, admin handles): skip computing it otherwise.
          const result = await runAnalysis(a, io, { noSuppressions: a.suppressions === false, discover: a.format === 'json' });
          const sources = a.format === 'sarif' ? readSources(result) : new Map<string, string>();
          const render = (r: RunResult): ReplayOutput => {
            const out = finishScan(plan, r, {
              format: a.format,
              failOn: a['fail-on'],
              color: a.color ?? (io.isTTY && !io.env['NO_COLOR'] && !a.output),
              verbose: a.verbose ?? false,
              sources,
              ...(a.category ? { automationId: a.category } : {}),
            });
            return reportOutput(out.text, a.output, io.cwd, out.notes, out.exit);
          };
          const out = render(result);
          emit(out, a.output, io);
          exit = out.exit;
          // A baseline being written, changed lines (git state) and a live database are never replayed.
          if (io.replay && !plan.writeBaseline && !plan.changed && replayableResult(result)) io.replay.replayable(render(asWholeRunHit(result)));
        },
      )
      .command(
        'pre-commit [files..]',
        'for the pre-commit hook: analyse the whole tree (cwd), report and fail only on findings in FILES (the staged Go files)',
        (y) =>
          analysisOptions(y)
            .positional('files', { type: 'string', array: true, describe: 'files whose findings are reported (pre-commit passes the staged ones)' })
            .option('format', { alias: 'f', choices: ['text', 'github'] as const, default: 'text' as const, describe: 'output format' })
            .option('fail-on', { choices: FAIL_ON, default: 'error' as FailOn, describe: 'lowest severity that makes the exit code 1' })
            .option('color', { type: 'boolean', describe: 'force colour on or off' })
            .option('verbose', { alias: 'v', type: 'boolean', describe: 'also list suppressed findings' })
            .option('baseline', { type: 'string', describe: 'fail only on findings not recorded in this baseline file (see scan --write-baseline)' }),
        async (a) => {
          const files = (a.files ?? []).filter((f) => f !== '');
          if (!files.length) {
            io.stdout('rlscov: no files given; nothing to check\n');
            return;
          }
          const plan = planScan({ baseline: a.baseline }, io.cwd, files);
          if (plan.baseline) io.replay?.note(resolve(io.cwd, plan.baseline.shown));
          const result = await runAnalysis({ ...a, paths: ['.'] }, io, { discover: false });
          const render = (r: RunResult): ReplayOutput => {
            const out = finishScan(plan, r, {
              format: a.format,
              failOn: a['fail-on'],
              color: a.color ?? (io.isTTY && !io.env['NO_COLOR']),
              verbose: a.verbose ?? false,
              sources: new Map(),
            });
            return { stdout: out.text, stderr: '', exit: out.exit, files: [] };
          };
          const out = render(result);
          io.stdout(out.stdout);
          exit = out.exit;
          if (io.replay && replayableResult(result)) io.replay.replayable(render(asWholeRunHit(result)));
        },
      )
      .command(
        'init',
        'write a commented starter .rlscov.yml for this tree (migrations, wrappers and admin openers found, for review)',
        (y) =>
          y
            .option('force', { type: 'boolean', default: false, describe: 'overwrite an existing .rlscov.yml' })
            .option('output', { alias: 'o', type: 'string', default: '.rlscov.yml', describe: 'where to write it' }),
        async (a) => {
          const { file, summary } = await initConfig({ cwd: io.cwd, output: a.output, force: a.force });
          io.stdout(`wrote ${file}: ${summary}\ncheck it with: rlscov config verify ${file}\n`);
        },
      )
      .command(
        'audit [paths..]',
        "every write site into an RLS table with its verdict and evidence (the guide's Step B table)",
        (y) => scanOptions(y).option('format', { alias: 'f', choices: ['text', 'markdown', 'json'] as const, default: 'text' as AuditFormat }).option('output', { alias: 'o', type: 'string' }),
        async (a) => {
          const result = await runAnalysis(a, io, {});
          emit(reportOutput(formatAudit(result, a.format), a.output, io.cwd), a.output, io);
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
      .command(
        'daemon <action>',
        'daemon start|stop|status: the resident process --daemon runs in (the engine stays loaded between runs; stops after --idle-timeout idle minutes)',
        (y) =>
          y
            .positional('action', { choices: ['start', 'stop', 'status'] as const })
            .option('foreground', { type: 'boolean', describe: 'start: serve from this process instead of the background (log on stderr)' })
            .option('idle-timeout', { type: 'number', default: 60, describe: 'start: stop after this many minutes without a run (0: never)' }),
        () => {
          // run.ts answers `rlscov daemon ...` itself (daemon.ts); main() only shows its help.
          throw new UsageError('`rlscov daemon` is run by the rlscov command itself, not through main()');
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

/**
 * yargs renders the whole help text after every sub-command's handler, in case the handler later asks for it
 * (`showHelp`), which rlscov never does: ~30 ms of every `scan` and `pre-commit`, a tenth of a pre-commit run on
 * a small tree (measured with --cpu-prof). The help shown for `--help` is rendered as before.
 */
function skipHelpCaching(parser: Argv): void {
  const internal = (parser as unknown as { getInternalMethods?: () => { getUsageInstance?: () => { cacheHelpMessage?: () => void } } }).getInternalMethods?.();
  const usage = internal?.getUsageInstance?.();
  if (usage && typeof usage.cacheHelpMessage === 'function') usage.cacheHelpMessage = () => undefined;
}

async function runAnalysis(a: Record<string, unknown>, io: Io, extra: Partial<AnalyzeOptions>): Promise<RunResult> {
  const host = io.replay?.host ?? nodeHost;
  const paths = ((a['paths'] as string[] | undefined) ?? []).filter((p) => p !== '');
  for (const p of paths) if (!host.exists(resolve(io.cwd, p))) throw new UsageError(`path not found: ${p}`);
  const configPath = a['config'] as string | undefined;
  if (configPath && !host.exists(resolve(io.cwd, configPath))) throw new UsageError(`config file not found: ${configPath}`);
  const opts: AnalyzeOptions = { paths: paths.length ? paths : ['.'], cwd: io.cwd, ...extra };
  if (configPath) opts.configPath = configPath;
  if (a['include-tests'] !== undefined) opts.includeTests = a['include-tests'] as boolean;
  if (a['migrations']) opts.migrations = a['migrations'] as string[];
  if (a['root']) opts.root = a['root'] as string;
  opts.cache = a['cache'] !== false;
  if (a['cache-dir']) opts.cacheDir = resolve(io.cwd, a['cache-dir'] as string);
  if (a['workers'] !== undefined) {
    const w = a['workers'] as number;
    if (!Number.isInteger(w) || w < 0) throw new UsageError(`--workers takes a whole number >= 0, got ${String(a['workers'])}`);
    opts.workers = w;
  }
  opts.prefilter = a['prefilter'] !== false;
  const databaseUrl = (a['database-url'] as string | undefined) || io.env['RLSCOV_DATABASE_URL'];
  if (databaseUrl) opts.databaseUrl = databaseUrl;
  if (a['catalog']) opts.catalogMode = a['catalog'] as 'static' | 'exact';
  return analyze(opts, { env: io.env, timingSink: io.stderr, warn: io.stderr, host, ...(io.defer ? { defer: io.defer } : {}) });
}

/** A result replay may answer again: computed with the cache on, from files (a live database can change). */
function replayableResult(result: RunResult): boolean {
  return result.summary.cache !== undefined && result.catalog.origin !== 'database';
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

/** A report as it is delivered: to the --output file or stdout, with one-line notes for stderr. */
function reportOutput(report: string, output: string | undefined, cwd: string, notes: string[] = [], exit = 0): ReplayOutput {
  const text = report.endsWith('\n') ? report : report + '\n';
  const file = output ? (isAbsolute(output) ? output : resolve(cwd, output)) : null;
  return { stdout: file ? '' : text, stderr: notes.map((n) => `${n}\n`).join(''), exit, files: file ? [[file, text]] : [] };
}

/** Writes a rendered report: the --output file (if any), stdout, then the stderr notes. */
function emit(out: ReplayOutput, output: string | undefined, io: Io): void {
  for (const [abs, text] of out.files) {
    try {
      makeDirs(dirname(abs));
      writeFileSync(abs, text);
    } catch (e) {
      throw new UsageError(`cannot write ${output ?? abs}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
  if (out.stdout) io.stdout(out.stdout);
  if (out.stderr) io.stderr(out.stderr);
}
