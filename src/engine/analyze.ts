// The pipeline, in order: config -> discover -> parse+lower -> catalog -> resolve -> classify -> rules -> result.
import { dirname, join, relative, resolve as resolvePath, sep } from 'node:path';
import type { Catalog, FileProblem, Finding, RunResult, SiteVerdict, SqlStatement, WriteSite } from '../model.js';
import { findConfig, loadConfig, relativePosix, type Config } from '../config/index.js';
import { nodeHost, type Host } from '../host.js';
import { discoverFiles } from '../discover/index.js';
import type { FileIR } from '../go/ir.js';
import { lowerGoFile, type LowerInput } from '../go/lower.js';
import { defaultWorkers, LowerPool } from '../go/pool.js';
import { defaultCacheDir, FactsCache, hashText } from '../cache/cache.js';
import { seedMatcher } from '../discover/prefilter.js';
import { FileIndex, type ImportRefs, type SourceFile } from './sources.js';
import { applyTableOverrides, buildCatalogFromMigrations, builtinCatalog, isRollbackMigration, orderMigrations } from '../catalog/index.js';
import { own, record } from '../records.js';
import { buildExactCatalog } from '../catalog/exact.js';
import { readLiveCatalog } from '../catalog/live.js';
import { catalogDrift } from '../catalog/drift.js';
import { loadSqlParser, seedSqlClassifications, sqlClassifications, sqlClassifiedWithoutParser, sqlParserLoaded, sqlParserNeeded } from '../sql/index.js';
import { importedPackageKey, Program, type FuncInfo, type PackageInfo } from '../resolve/program.js';
import { emptyFacts, Interpreter, type Facts, type RawSite, type SetterLookup } from '../resolve/interpret.js';
import { declarationsOf, factsFromData, factsToData, isExported, mergeSetters, nameableElsewhere, settersFromData, sitesFromData, type FileFactsData } from '../resolve/facts.js';
import { factKeys, ProgramFacts, type FactKeys, type FactsPart } from '../resolve/program-facts.js';
import { paramRefs, Solver, satisfies, type WriteNeed } from '../resolve/solve.js';
import { DEFAULT_ADMIN_OPENERS, DEFAULT_WRAPPERS, isHandleType } from '../resolve/drivers.js';
import type { AnalyzeOptions } from './options.js';
import { runRules } from './run-rules.js';
import { TOOL_VERSION } from '../version.js';
import { ConfigError, InternalError, UsageError } from '../errors.js';
import { allRules, ruleById } from '../../rules/index.js';
import { scopeAlternatives } from '../../rules/support.js';
import type { ClassifiedSite } from './rule.js';
import { compareNames } from '../order.js';

export interface AnalyzeDeps {
  host?: Host;
  /** Environment (for the cache directory: RLSCOV_CACHE_DIR, XDG_CACHE_HOME). */
  env?: Record<string, string | undefined>;
  /** Where RLSCOV_TIMING=1 writes its stage times (the CLI passes stderr). */
  timingSink?: (line: string) => void;
  /** Where a warning about the run itself goes (the CLI passes stderr): a cache that could not be used. */
  warn?: (line: string) => void;
  /**
   * The wall clock (ms since the epoch; default Date.now). Stamps of files modified within two seconds of a run's
   * start are never trusted later: tests move the clock instead of waiting.
   */
  now?: () => number;
  /**
   * Takes the work that only fills the cache for later runs (the run's result, the file index, the packs), to
   * run once the answer is out: a resident process (the daemon) answers first. Without it, the run does the work
   * before it returns. The work never throws; the result must not be changed by whoever receives it.
   */
  defer?: (work: () => Promise<void>) => void;
}

/**
 * RLSCOV_TIMING=1: wall time of each pipeline stage and the JS heap in use when it ends, written when the run ends
 * (like ESLint's TIMING). A stage ends where the next one is marked.
 */
interface StageTimer {
  mark: (name: string) => void;
  /** A part of the current stage, printed under it. */
  detail: (name: string, ms: number) => void;
  /** A line printed after the stages. */
  note: (line: string) => void;
  done: () => void;
}

function stageTimer(sink: ((line: string) => void) | null): StageTimer {
  if (!sink) return { mark: () => {}, detail: () => {}, note: () => {}, done: () => {} };
  // [stage, start ms, details, heap used at the end of the stage in MB]
  const marks: Array<[string, number, Array<[string, number]>, number]> = [['start', performance.now(), [], 0]];
  const notes: string[] = [];
  const heapMB = (): number => process.memoryUsage().heapUsed / 2 ** 20;
  return {
    mark: (name) => {
      marks[marks.length - 1]![3] = heapMB();
      marks.push([name, performance.now(), [], 0]);
    },
    detail: (name, ms) => marks[marks.length - 1]![2].push([name, ms]),
    note: (line) => notes.push(line),
    done: () => {
      marks[marks.length - 1]![3] = heapMB();
      marks.push(['end', performance.now(), [], 0]);
      const rows = marks.slice(0, -1).map(([name, t, details, heap], i) =>
        [
          `  ${name.padEnd(12)} ${(marks[i + 1]![1] - t).toFixed(0).padStart(6)} ms ${heap.toFixed(0).padStart(6)} MB heap`,
          ...details.map(([d, ms]) => `    ${d.padEnd(10)} ${ms.toFixed(0).padStart(6)} ms`),
        ].join('\n'),
      );
      sink(`rlscov timing (process up ${(performance.now() / 1000).toFixed(2)} s):\n${[...rows, ...notes.map((n) => `  ${n}`)].join('\n')}\n`);
    },
  };
}

/**
 * Analyses the tree. A run with the cache that fails with anything but a usage or config error is run again with
 * this tree's cache emptied: an entry damaged in a way its checks cannot see (a line that still parses, of the
 * wrong shape) must cost one slow run, never every later run.
 */
export async function analyze(opts: AnalyzeOptions, deps: AnalyzeDeps = {}): Promise<RunResult> {
  let used: FactsCache | null = null;
  try {
    return await analyzeTree(opts, deps, (cache) => (used = cache));
  } catch (e) {
    const cache = used as FactsCache | null;
    if (!cache || e instanceof UsageError || e instanceof ConfigError) throw e;
    await cache.discard();
    deps.warn?.(`rlscov: warning: the cache could not be used for this tree (${(e as Error).message}); it was emptied and the tree analysed again\n`);
    return analyzeTree(opts, deps);
  }
}

async function analyzeTree(opts: AnalyzeOptions, deps: AnalyzeDeps, onCache?: (cache: FactsCache) => void): Promise<RunResult> {
  const startedAt = (deps.now ?? Date.now)();
  const host = deps.host ?? nodeHost;
  const stage = stageTimer(deps.env?.['RLSCOV_TIMING'] && deps.timingSink ? deps.timingSink : null);
  const cwd = opts.cwd;
  const paths = (opts.paths.length ? opts.paths : ['.']).map((p) => resolvePath(cwd, p));
  const config: Config = opts.config ?? loadConfig(host, opts.configPath ? resolvePath(cwd, opts.configPath) : findConfig(host, firstDir(host, paths[0]!)), cwd);
  for (const id of Object.keys(config.rules)) {
    if (!ruleById(id)) throw new ConfigError(`${config.file ? relative(cwd, config.file) || config.file : 'config'}: rules.${id} is not a rlscov rule (known: ${allRules.map((r) => r.meta.id).join(', ')})`, config.file ?? undefined);
  }
  const root = resolvePath(cwd, opts.root ?? defaultRoot(host, cwd, paths));
  // Asked ~3 times per file (discovery, the file index, its save): answered once.
  const rels = new Map<string, string>();
  const rel = (abs: string): string => {
    let r = rels.get(abs);
    if (r === undefined) rels.set(abs, (r = relativePosix(root, abs) || '.'));
    return r;
  };
  const cache = opts.cache !== true ? null : new FactsCache(opts.cacheDir ?? defaultCacheDir(deps.env ?? {}), root);
  if (cache) onCache?.(cache);
  const adminOpeners = new Set([...DEFAULT_ADMIN_OPENERS, ...config.adminOpeners]);
  const wrappers = new Set([...DEFAULT_WRAPPERS, ...config.wrappers.map((w) => w.slice(w.lastIndexOf('.') + 1)), ...config.wrappers]);
  const seedNames = [...adminOpeners, ...wrappers];
  // What seeds were computed with: seeds (in the file index) and the widening (in the cache) hold only under it.
  const seedKey = hashText(TOOL_VERSION, ...seedNames);
  // Unchanged files (by stat stamp, with the cache) are neither read nor re-examined: see sources.ts.
  const index = new FileIndex(host, cache, rel, seedKey, startedAt);

  stage.mark('discover');
  const found = await discoverFiles(host, {
    knownGenerated: (abs) => index.knownGenerated(abs),
    paths,
    root,
    includeTests: opts.includeTests ?? config.tests,
    include: config.include,
    exclude: config.exclude,
    baseDir: config.baseDir,
    migrationGlobs: [...config.migrations.map((g) => relativeGlob(root, config.baseDir, g)), ...(opts.migrations ?? []).map((g) => relativeGlob(root, cwd, g))],
  });
  const fileErrors: FileProblem[] = [...found.problems];
  index.noteGenerated(found.generated);
  index.noteNamed(found.named);

  // Catalog.
  const migrationPaths = orderMigrations(found.migrationFiles.map(rel).filter((p) => !isRollbackMigration(p)));
  const migrationTexts: Array<{ path: string; text: string }> = [];
  for (const p of migrationPaths) {
    try {
      migrationTexts.push({ path: p, text: host.readFile(join(root, p)) });
    } catch (e) {
      fileErrors.push({ file: p, message: `cannot read migration: ${(e as Error).message}` });
    }
  }
  stage.mark('read');
  // Read every changed file once; the whole-run cache answers an unchanged tree without parsing or analysing.
  const modules = new ModuleMap(host, root, found.listedDirs);
  const sources: SourceFile[] = [];
  for (const abs of found.goFiles) {
    try {
      sources.push(index.source(abs, modules.pkgKey(abs)));
    } catch (e) {
      fileErrors.push({ file: rel(abs), message: `cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` });
    }
  }
  const catalogMode = opts.catalogMode ?? config.catalog ?? 'static';
  const databaseUrl = opts.databaseUrl ?? config.database?.url;
  const runKey = hashText(
    TOOL_VERSION,
    JSON.stringify(config),
    JSON.stringify({ only: opts.onlyRules ?? null, ns: opts.noSuppressions ?? false, pf: opts.prefilter !== false, catalog: catalogMode, disc: opts.discover !== false }),
    ...migrationTexts.map((m) => hashText(m.path, m.text)),
    ...sources.map((s) => s.key),
    ...fileErrors.map((f) => f.file + f.message),
  );
  // A live database can change between runs with the same inputs: never answer it from the whole-run cache.
  const cachedRun = databaseUrl ? null : cache?.lastRun(runKey);
  if (cachedRun && cache) {
    index.save(sources);
    stage.done();
    return asWholeRunHit(cachedRun);
  }

  stage.mark('catalog');
  // The Postgres parser (~25-40 ms to load) is loaded by the first step that meets a text no earlier run classified
  // (sqlParserNeeded), by a catalog folded again, or beside the lowering of many files: a run answered by its caches
  // never loads it. RLSCOV_TIMING says which step did.
  let parserLoadedBy: string | null = null;
  const needSqlParser = async (step: string): Promise<void> => {
    if (sqlParserLoaded()) return;
    const t = performance.now();
    await loadSqlParser();
    parserLoadedBy ??= step;
    stage.detail('sql parser', performance.now() - t);
  };
  // SQL classification is a pure function of the text: earlier runs' results answer most of this run's texts.
  const sqlSeen = cache ? seedFromCache(cache) : 0;
  const defaultSetting = config.scopeSettings[0] ?? 'app.current_org_id';
  let catalog: Catalog = await buildCatalog(migrationTexts, {
    mode: catalogMode,
    databaseUrl,
    defaultSetting,
    cacheDir: cache ? (opts.cacheDir ?? defaultCacheDir(deps.env ?? {})) : null,
    cache,
  });
  catalog = applyTableOverrides(catalog, config.tables.add, config.tables.remove, config.file ? rel(config.file) : null);
  if (config.scopeSettings.length) catalog = { ...catalog, scopeSettings: [...new Set([...catalog.scopeSettings, ...config.scopeSettings])] };

  stage.mark('parse');
  const { files, parsed, fromCache } = await parseRelevant(sources, {
    cache,
    workers: opts.workers ?? defaultWorkers(),
    prefilter: opts.prefilter !== false,
    seedNames,
    seedKey,
    problems: fileErrors,
    detail: stage.detail,
    startSqlParser: () => {
      parserLoadedBy ??= 'parse';
      loadSqlParser().catch(() => undefined); // a failed load is retried, and reported, by the step that needs it
    },
  });
  // Every cached IR entry's first line this run needs was read.
  cache?.releasePack('ir');
  const syntaxErrors: FileProblem[] = [];
  for (const ir of files) {
    if (!ir.syntaxErrors.length) continue;
    const first = ir.syntaxErrors[0]!;
    syntaxErrors.push({ file: ir.path, line: first.line, column: first.column, message: `syntax error (${ir.syntaxErrors.length} region${ir.syntaxErrors.length > 1 ? 's' : ''}); the rest of the file was analysed` });
  }
  syntaxErrors.sort((a, b) => compareNames(a.file, b.file));

  // Resolve.
  stage.mark('interpret');
  const program = new Program(files.sort((a, b) => compareNames(a.path, b.path)));
  // A file that changed or vanished while this run read it (stale, found so at any point of the run) has no valid
  // key: nothing computed from it is cached, and neither is the run's result (its key was computed before).
  const sourceOf = new Map(sources.map((s) => [s.rel, s]));
  const problemsBefore = fileErrors.length;
  const interpretation = (): ReturnType<typeof interpretAll> => interpretAll(program, adminOpeners, fileErrors, cache ? { cache, sourceOf } : null, needSqlParser);
  let { facts, fromCache: factsFromCache, newSites, reinterpreted } = await interpretation();
  // Every cached facts entry's first line this run needs was read.
  cache?.releasePack('facts');
  stage.mark('solve');
  const needs = makeNeeds(catalog);
  // A site interpreted in this run with a text no earlier run classified: load the parser first, not solve twice.
  // The texts of an SQL helper (a text made of its own parameters, and callers) are its callers' (Solver.instantiate).
  const unclassified = (s: RawSite): boolean =>
    s.kind === 'sql' &&
    !(paramRefs(s.sql, s.owner).length > 0 && facts.callsTo(s.owner).length > 0) &&
    s.sql.some((v) => v.t === 'str' && !sqlClassifiedWithoutParser({ parts: v.parts.map((p) => (typeof p === 'string' ? p : { hole: p.hole })) }));
  // Counted from before the check: the callers it asks for can make pass 2 interpret a file.
  let needed = sqlParserNeeded();
  if (!sqlParserLoaded() && newSites.some(unclassified)) await needSqlParser('solve');
  let solver = new Solver(program, facts, { wrappers, defaultSetting, needs });
  let solved = solver.solve();
  if (sqlParserNeeded() > needed) {
    // A text met while solving (a caller's text given to an SQL helper, or a text of a file interpreted again in
    // pass 2) was classified by the scanner alone: solved again with the parser; interpreted again first (from what
    // the cache holds) when pass 2 interpreted a file, whose facts may hold such a classification.
    await needSqlParser('solve, then solved again');
    if (reinterpreted() > 0) {
      fileErrors.length = problemsBefore;
      ({ facts, fromCache: factsFromCache, newSites, reinterpreted } = await interpretation());
    }
    needed = sqlParserNeeded();
    solver = new Solver(program, facts, { wrappers, defaultSetting, needs });
    solved = solver.solve();
    if (sqlParserNeeded() > needed) throw new InternalError('an SQL text was classified without the Postgres parser after it was loaded');
  }
  stage.note(sqlParserLoaded() ? `sql parser: loaded (by ${parserLoadedBy ?? 'catalog'})` : 'sql parser: not loaded');

  // Classify.
  stage.mark('rules');
  const sites: ClassifiedSite[] = solved.sites.map((s) => classified(s, verdictOf(s, needs(s.statements), catalog)));
  const siteByObj = new Map<WriteSite, ClassifiedSite>();
  solved.sites.forEach((s, i) => siteByObj.set(s, sites[i]!));
  const helperCalls = solved.helperCalls.map((h) => ({ ...h, write: siteByObj.get(h.write)! }));

  const directives = new Map(files.map((f) => [f.path, f.directives]));
  const { findings, invalidSuppressions } = runRules({
    catalog,
    sites,
    helperCalls,
    config,
    onlyRules: opts.onlyRules,
    noSuppressions: opts.noSuppressions ?? false,
    directives,
    root,
  });

  // A site whose every finding is suppressed (allow-list or //rlscov:ignore) is an allowed site.
  const bySpan = new Map<string, Finding[]>();
  for (const f of findings) {
    const k = `${f.span.file}:${f.span.start.line}:${f.span.start.column}`;
    bySpan.set(k, [...(bySpan.get(k) ?? []), f]);
  }
  for (const s of sites) {
    if (s.verdict !== 'finding') continue;
    const fs = bySpan.get(`${s.span.file}:${s.span.start.line}:${s.span.start.column}`);
    if (fs?.length && fs.every((f) => f.suppressed)) s.verdict = 'allowed';
  }
  const verdicts: Partial<Record<SiteVerdict, number>> = {};
  for (const s of sites) if (s.verdict !== 'not-gated') verdicts[s.verdict] = (verdicts[s.verdict] ?? 0) + 1;
  const findingsByRule: Record<string, number> = {};
  for (const f of findings) if (!f.suppressed) findingsByRule[f.ruleId] = (findingsByRule[f.ruleId] ?? 0) + 1;
  void invalidSuppressions;

  const result: RunResult = {
    toolVersion: TOOL_VERSION,
    root,
    configFile: config.file ? rel(config.file) : null,
    catalog,
    sites: sites.filter((s) => s.statements.some((st) => st.writes.length || st.scopeSettings.length || st.functionCalls.length) || s.verdict !== 'not-gated'),
    findings: sortFindings(findings),
    syntaxErrors,
    fileErrors,
    summary: {
      filesScanned: found.goFiles.length,
      filesParsed: parsed,
      ...(cache ? { cache: { filesFromCache: fromCache, factsFromCache, wholeRun: false } } : {}),
      writeSites: sites.filter((s) => s.statements.some((st) => st.writes.length)).length,
      verdicts,
      findingsByRule,
    },
    ...(opts.discover !== false ? { discovered: solver.discovered([...adminOpeners]) } : {}),
  };
  if (cache) {
    stage.mark('cache-save');
    if (!databaseUrl && !sources.some((s) => s.stale)) cache.setLastRun(runKey, result);
    const sql = sqlClassifications();
    const save = async (): Promise<void> => {
      if (sql.added > sqlSeen) cache.writeSide('sql', sql.entries);
      index.save(sources);
      await cache.save();
    };
    if (deps.defer) {
      deps.defer(() =>
        save().catch(async (e: unknown) => {
          // Nothing of a cache half saved may be trusted: the next run starts from an empty one.
          await cache.discard();
          deps.warn?.(`rlscov: warning: the cache could not be saved (${(e as Error).message}); it was emptied\n`);
        }),
      );
    } else await save();
  }
  stage.done();
  return result;
}

/** Loads the SQL classifications stored by earlier runs; returns the count of classifications made so far. */
function seedFromCache(cache: FactsCache): number {
  const stored = cache.readSide('sql');
  if (Array.isArray(stored)) seedSqlClassifications(stored as Array<[string, SqlStatement[]]>);
  return sqlClassifications().added;
}

/** A result as a later run on the same inputs reports it: nothing parsed, the whole result reused. */
export function asWholeRunHit(result: RunResult): RunResult {
  const fromCache = result.summary.filesParsed + (result.summary.cache?.filesFromCache ?? 0);
  return { ...result, summary: { ...result.summary, filesParsed: 0, cache: { filesFromCache: fromCache, factsFromCache: result.summary.cache?.factsFromCache ?? 0, wholeRun: true } } };
}

/**
 * The catalog before config overrides. A database URL: the live catalog (errors propagate as DatabaseError, never
 * a fall-back), compared with the migrations when there are any. Else `exact` executes the migrations in embedded
 * Postgres (drift: static vs exact), `static` folds them; no migrations: the built-in list.
 */
async function buildCatalog(
  migrations: Array<{ path: string; text: string }>,
  o: { mode: 'static' | 'exact'; databaseUrl: string | undefined; defaultSetting: string; cacheDir: string | null; cache: FactsCache | null },
): Promise<Catalog> {
  const fromMigrations = async (): Promise<Catalog> =>
    o.mode === 'exact'
      ? (await buildExactCatalog(migrations, { defaultSetting: o.defaultSetting, cacheDir: o.cacheDir })).catalog
      : staticFold(migrations, o.defaultSetting, o.cache);
  if (o.databaseUrl) {
    const live = await readLiveCatalog(o.databaseUrl, { defaultSetting: o.defaultSetting });
    if (!migrations.length) return live;
    const mig = await fromMigrations();
    return { ...live, drift: catalogDrift(mig, live, { left: o.mode === 'exact' ? 'exact' : 'migrations', right: 'database' }) };
  }
  if (!migrations.length) return builtinCatalog();
  return fromMigrations();
}

/**
 * The static fold of the migrations, a pure function of their texts (axonflow's takes ~100 ms): the last one is
 * kept beside the run result. A catalog read back from JSON gets prototype-free maps again (see records.ts).
 */
async function staticFold(migrations: Array<{ path: string; text: string }>, defaultSetting: string, cache: FactsCache | null): Promise<Catalog> {
  const key = hashText(TOOL_VERSION, defaultSetting, ...migrations.map((m) => hashText(m.path, m.text)));
  const stored = cache?.readSide('catalog') as { key: string; catalog: Catalog } | undefined;
  if (stored?.key === key) return { ...stored.catalog, tables: record(stored.catalog.tables), functions: record(stored.catalog.functions) };
  const catalog = await buildCatalogFromMigrations(migrations, { defaultSetting });
  cache?.writeSide('catalog', { key, catalog });
  return catalog;
}

interface ParseOptions {
  /** Reports the time of the parse stage's parts (RLSCOV_TIMING). */
  detail: (name: string, ms: number) => void;
  /** Starts loading the Postgres parser in the background (many files to lower: they will be interpreted). */
  startSqlParser: () => void;
  cache: FactsCache | null;
  workers: number;
  prefilter: boolean;
  seedNames: string[];
  /** Identifies seedNames (see analyze). */
  seedKey: string;
  problems: FileProblem[];
}

/** Lowering this many files in one round starts the Postgres parser's load beside it (see parseRelevant). */
const EAGER_SQL_PARSER_FILES = 16;

/**
 * Parses (or takes from the cache) the files that can matter: prefilter seeds, widened to whole packages and then
 * to every file referencing an exported name of a kept package, until nothing new is added. With the prefilter
 * off, every file.
 */
async function parseRelevant(sources: SourceFile[], o: ParseOptions): Promise<{ files: FileIR[]; parsed: number; fromCache: number }> {
  const byPkg = new Map<string, typeof sources>();
  for (const s of sources) {
    const l = byPkg.get(s.pkgKey) ?? [];
    l.push(s);
    byPkg.set(s.pkgKey, l);
  }
  const isSeed = seedMatcher(o.seedNames);
  // A file indexed as unchanged but unreadable when its text is finally needed (deleted during the run).
  const failedRead = new Set<SourceFile>();
  // Where problems go: o.problems, or, while the last widening is tried, a list kept only if it holds (a widening
  // started again from the seeds meets again the problems of the files it keeps, and only those).
  let problems = o.problems;
  const unreadable = (s: SourceFile, e: unknown): void => {
    if (failedRead.has(s)) return;
    failedRead.add(s);
    problems.push({ file: s.rel, message: `cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` });
  };
  const kept = new Set<string>();
  let frontier = new Set<string>();
  let t = performance.now();
  for (const s of sources) {
    try {
      if (!o.prefilter || s.seed(isSeed)) frontier.add(s.pkgKey);
    } catch (e) {
      unreadable(s, e);
    }
  }
  const seedPackages = new Set(frontier);
  const timing = { seed: performance.now() - t, cache: 0, lower: 0, widen: 0 };
  const files: FileIR[] = [];
  // What the widening asks of each file's declarations, worked out once (let go with the widening).
  const checks = new Map<FileIR, CarrierChecks>();
  /** Every file taken from the cache or lowered in this run (a widening started again reuses them). */
  const loaded = new Map<string, FileIR>();
  /** A file that could not be lowered: the widening of this run is not stored. */
  let lowerFailed = false;
  const pool = new LowerPool(o.workers);
  const pkgOfImport = new Map<string, string | null>();
  const treePackage = (path: string): string | null => {
    let key = pkgOfImport.get(path);
    if (key === undefined) pkgOfImport.set(path, (key = importedPackageKey(path, byPkg.keys())));
    return key;
  };
  const inTree = (path: string): boolean => treePackage(path) !== null;
  // The last run's widening, when every file that changed since still reads the same to it (see lastWidening).
  const previous = o.cache && o.prefilter && failedRead.size === 0 ? lastWidening(o.cache, o.seedKey, sources, isSeed, inTree) : null;
  let reusing = previous !== null;
  if (previous) {
    frontier = new Set(previous.kept);
    problems = [];
  }
  /** How each loaded file was had (the counts are of the files finally kept). */
  const lowered = new Set<string>();
  try {
    while (frontier.size) {
      const todo = [...frontier].filter((k) => !kept.has(k));
      frontier = new Set();
      if (!todo.length) break;
      for (const k of todo) kept.add(k);
      const inputs = todo.flatMap((k) => byPkg.get(k) ?? []);
      const toParse: LowerInput[] = [];
      t = performance.now();
      for (const s of inputs) {
        const had = loaded.get(s.rel);
        if (had) {
          files.push(had);
          continue;
        }
        const hit = o.cache?.get(s.key, () => {
          // The entry vanished before its bodies were read: lower them again, from the text the key was made of.
          const source = s.text();
          if (s.stale) throw new Error(`${s.rel} changed while it was analysed; run rlscov again`);
          return lowerGoFile({ path: s.rel, source, pkgKey: s.pkgKey });
        });
        if (hit) {
          files.push(hit);
          loaded.set(s.rel, hit);
          continue;
        }
        try {
          toParse.push({ path: s.rel, source: s.text(), pkgKey: s.pkgKey });
        } catch (e) {
          unreadable(s, e);
        }
      }
      timing.cache += performance.now() - t;
      if (toParse.length) {
        t = performance.now();
        // Files lowered here are interpreted later, most with texts no earlier run classified: the parser loads
        // meanwhile (the main thread mostly waits for the lowering workers). A few files (a pre-commit run) rarely
        // add a text: for them it is loaded only when one does.
        if (toParse.length >= EAGER_SQL_PARSER_FILES) o.startSqlParser();
        const out = await pool.lower(toParse);
        timing.lower += performance.now() - t;
        const byRel = new Map(inputs.map((s) => [s.rel, s]));
        for (const ir of out.irs) {
          files.push(ir);
          loaded.set(ir.path, ir);
          lowered.add(ir.path);
          const s = byRel.get(ir.path);
          // A file that changed while the run read it is analysed as read, but never cached under the old key.
          if (s && !s.stale && o.cache) o.cache.set(s.key, ir, declHash(ir));
          s?.dropText();
        }
        for (const f of out.failures) problems.push({ file: f.path, message: `could not be analysed: ${f.message}` });
        if (out.failures.length) lowerFailed = true;
      }
      if (!o.prefilter) break;
      t = performance.now();
      if (previous && reusing) {
        // All of the last run's packages are in: its widening holds if the changed files of kept packages declare
        // the same carriers. Else the widening starts again from the seeds (with what was loaded so far).
        const same = previous.check.every((c) => {
          const ir = loaded.get(c.rel);
          return ir !== undefined && carrierDigest(ir) === c.carriers;
        });
        timing.widen += performance.now() - t;
        if (same) {
          o.problems.push(...problems);
          problems = o.problems;
          break;
        }
        reusing = false;
        problems = o.problems;
        failedRead.clear();
        lowerFailed = false;
        files.length = 0;
        kept.clear();
        frontier = new Set(seedPackages);
        continue;
      }
      // Widen: files outside the kept packages that use a *carrier* of a kept package: an exported name through
      // which a database handle, a closure for a wrapper, or SQL text can flow.
      const exported = carrierNames(files, kept, checks);
      for (const [pkgKey, group] of byPkg) {
        if (kept.has(pkgKey)) continue;
        if (group.some((s) => usesKept(s, exported, treePackage, inTree, unreadable))) frontier.add(pkgKey);
      }
      timing.widen += performance.now() - t;
    }
    if (o.cache && o.prefilter && !lowerFailed && failedRead.size === 0 && !sources.some((s) => s.stale)) {
      t = performance.now();
      if (previous && reusing) {
        // Held: only the changed files' keys are new (what the widening reads of them is as stored).
        for (const s of previous.changed) own(previous.stored.files, s.rel)![0] = s.key;
        if (previous.changed.length) o.cache.writeSide('widen', previous.stored);
      } else {
        saveWidening(o.cache, o.seedKey, sources, kept, seedPackages, loaded, isSeed, inTree);
      }
      timing.widen += performance.now() - t;
    }
  } finally {
    await pool.close();
  }
  // Texts read for seeds, references or lowering are not needed any more (~10 MB on temporal's first run).
  for (const s of sources) s.dropText();
  o.detail('seed', timing.seed);
  if (o.cache) o.detail('from cache', timing.cache);
  o.detail('lower', timing.lower);
  o.detail('widen', timing.widen);
  const parsed = files.filter((f) => lowered.has(f.path)).length;
  return { files, parsed, fromCache: files.length - parsed };
}

/**
 * The widening of the last run, stored per root: the packages it kept, in order, and per file what the widening
 * read of it: content key, package, seed or not, a digest of its references into the tree (files of packages
 * without a seed: only those are ever asked whether they use a carrier) and of the carriers it declares (files
 * of kept packages). The widening is a function of exactly these.
 */
interface StoredWidening {
  /** The seed names the seeds were computed with. */
  seedKey: string;
  kept: string[];
  files: Record<string, [key: string, pkg: string, seed: 0 | 1, refs: string, carriers: string]>;
}

/**
 * The last widening, when it holds for this run: the same files in the same packages, and every file whose text
 * changed still a seed or not as before, with the same references; `check`: changed files of kept packages, whose
 * carriers are compared once they are lowered. Null: widen from the seeds.
 */
function lastWidening(
  cache: FactsCache,
  seedKey: string,
  sources: SourceFile[],
  isSeed: (text: string) => boolean,
  inTree: (path: string) => boolean,
): { stored: StoredWidening; kept: string[]; check: Array<{ rel: string; carriers: string }>; changed: SourceFile[] } | null {
  const stored = cache.readSide('widen') as StoredWidening | undefined;
  if (!stored || stored.seedKey !== seedKey || !Array.isArray(stored.kept) || typeof stored.files !== 'object' || stored.files === null) return null;
  if (Object.keys(stored.files).length !== sources.length) return null;
  const kept = new Set(stored.kept);
  const check: Array<{ rel: string; carriers: string }> = [];
  const changed: SourceFile[] = [];
  try {
    for (const s of sources) {
      const e = own(stored.files, s.rel);
      if (!Array.isArray(e) || e[1] !== s.pkgKey) return null;
      if (e[0] === s.key) continue;
      changed.push(s);
      if ((s.seed(isSeed) ? 1 : 0) !== e[2]) return null;
      if (e[3] !== '' && refsDigest(s, inTree) !== e[3]) return null;
      if (kept.has(s.pkgKey)) check.push({ rel: s.rel, carriers: e[4] });
    }
  } catch {
    return null; // an unreadable changed file: the full widening reports it
  }
  return { stored, kept: stored.kept, check, changed };
}

function saveWidening(
  cache: FactsCache,
  seedKey: string,
  sources: SourceFile[],
  kept: Set<string>,
  seedPackages: Set<string>,
  loaded: Map<string, FileIR>,
  isSeed: (text: string) => boolean,
  inTree: (path: string) => boolean,
): void {
  const files = record<StoredWidening['files'][string]>();
  try {
    for (const s of sources) {
      const ir = kept.has(s.pkgKey) ? loaded.get(s.rel) : undefined;
      files[s.rel] = [s.key, s.pkgKey, s.seed(isSeed) ? 1 : 0, seedPackages.has(s.pkgKey) ? '' : refsDigest(s, inTree), ir ? carrierDigest(ir) : ''];
    }
  } catch {
    return; // unreadable now: nothing stored
  }
  cache.writeSide('widen', { seedKey, kept: [...kept], files } satisfies StoredWidening);
}

function refsDigest(s: SourceFile, inTree: (path: string) => boolean): string {
  return hashText(JSON.stringify(s.refs(inTree))).slice(0, 16);
}

function carrierDigest(ir: FileIR): string {
  return hashText(JSON.stringify(carrierFacts(ir))).slice(0, 16);
}

const SQLISH = /\b(?:insert\s+into|delete\s+from|update\s+[\w."]+\s+set|merge\s+into|truncate|copy\s|set_config|set\s+local)\b/i;
const SQL_METHOD_NAMES = /^(?:Exec|ExecContext|Query|QueryContext|QueryRow|QueryRowContext|Prepare|PrepareContext|NamedExec|NamedExecContext|Begin|BeginTx|SendBatch|CopyFrom)$/;

/** What carrierNames needs from one file, computed once per file (the widening rounds ask again and again). */
interface CarrierFacts {
  /** Declared types: id, the types they hold (fields, underlying), whether they have driver-named methods. */
  types: Array<{ name: string; id: string; holds: string[]; sqlMethods: boolean }>;
  /** Methods: receiver type id and the types they take or return. */
  methods: Array<{ recvId: string; sig: string[] }>;
  /** Exported plain functions with the types they take or return. */
  funcs: Array<{ name: string; sig: string[] }>;
  /** Exported variables with their declared type; `sql`: initialised with SQL text. */
  vars: Array<{ name: string; type: string; sql: boolean }>;
  /** Exported constants holding SQL text. */
  sqlConsts: string[];
}

const carrierFactsOf = new WeakMap<FileIR, CarrierFacts>();

function carrierFacts(f: FileIR): CarrierFacts {
  let c = carrierFactsOf.get(f);
  if (c) return c;
  c = {
    types: Object.entries(f.types).map(([n, d]) => ({
      name: n,
      id: `${f.pkgKey}.${n}`,
      holds: [...Object.values(d.fields), d.underlying],
      sqlMethods: (d.methods ?? []).some((m) => SQL_METHOD_NAMES.test(m)),
    })),
    methods: f.funcs.filter((fn) => fn.recvType).map((fn) => ({ recvId: `${f.pkgKey}.${fn.recvType}`, sig: [...fn.params.map((p) => p.type), ...fn.results] })),
    funcs: f.funcs.filter((fn) => !fn.recvType && isExported(fn.name)).map((fn) => ({ name: fn.name, sig: [...fn.params.map((p) => p.type), ...fn.results] })),
    vars: Object.entries(f.vars)
      .filter(([n]) => isExported(n))
      .map(([n, v]) => ({ name: n, type: v.t, sql: v.v?.k === 'str' && SQLISH.test(v.v.v) })),
    sqlConsts: Object.entries(f.consts)
      .filter(([n, e]) => isExported(n) && (e.k === 'str' || e.k === 'bin') && SQLISH.test(e.k === 'str' ? e.v : JSON.stringify(e)))
      .map(([n]) => n),
  };
  carrierFactsOf.set(f, c);
  return c;
}

/** Whether a type is a handle, a function value or a pgx batch/tx, whatever the kept packages: memoised. */
const staticHandleish = new Map<string, boolean>();
function isStaticHandleish(t: string): boolean {
  let r = staticHandleish.get(t);
  if (r === undefined) {
    const base = strippedType(t);
    r = isHandleType(t) || isHandleType('*' + base) || t.startsWith('func(') || /pgx\/v\d+\.(Batch|Tx)$/.test(base);
    staticHandleish.set(t, r);
  }
  return r;
}

/**
 * Per kept package, a matcher for its exported carriers: functions whose parameters or results are database
 * handles, function values (possible wrappers) or carrier types; types with handle fields, handle methods or
 * database-like interfaces; handle-typed variables; constants holding SQL text.
 */
function carrierNames(files: FileIR[], kept: Set<string>, checks: Map<FileIR, CarrierChecks>): Map<string, Set<string>> {
  const carrierTypes = new Set<string>();
  const keptFiles = files.filter((f) => kept.has(f.pkgKey));
  const inKept = keptFiles.map((f) => {
    let c = checks.get(f);
    if (!c) checks.set(f, (c = carrierChecks(f)));
    return c;
  });
  // Whether any type of a list is handle-ish: a handle whatever the kept packages, or a carrier type found so far.
  const carries = (l: TypeList): boolean => l.handle || l.bases.some((b) => carrierTypes.has(b));
  const names = new Map<string, Set<string>>();
  const add = (pkg: string, n: string): void => {
    if (!names.has(pkg)) names.set(pkg, new Set());
    names.get(pkg)!.add(n);
  };
  // Types first (to a fixpoint: a struct holding a carrier type is a carrier), then functions, vars, consts.
  for (let round = 0, grew = true; grew && round < 4; round++) {
    grew = false;
    for (const { facts: f, types, methods } of inKept) {
      f.types.forEach((t, i) => {
        if (carrierTypes.has(t.id)) return;
        if (t.sqlMethods || carries(types[i]!)) {
          carrierTypes.add(t.id);
          grew = true;
        }
      });
      f.methods.forEach((m, i) => {
        if (!carrierTypes.has(m.recvId) && carries(methods[i]!)) {
          carrierTypes.add(m.recvId);
          grew = true;
        }
      });
    }
  }
  inKept.forEach(({ facts: c, funcs, vars }, i) => {
    const pkg = keptFiles[i]!.pkgKey;
    for (const t of c.types) if (isExported(t.name) && carrierTypes.has(t.id)) add(pkg, t.name);
    c.funcs.forEach((fn, j) => carries(funcs[j]!) && add(pkg, fn.name));
    c.vars.forEach((v, j) => (v.sql || carries(vars[j]!)) && add(pkg, v.name));
    for (const n of c.sqlConsts) add(pkg, n);
  });
  return names;
}

/**
 * A list of types as carrierNames asks of it, worked out once per file and widening (it asks in every round, ~80 ms
 * of temporal's pre-commit run after an exported declaration changed): whether one is handle-ish whatever the
 * kept packages, and the types they name with pointer, slice and array marks stripped (a carrier type among those
 * makes the list carry).
 */
interface TypeList {
  handle: boolean;
  bases: string[];
}

/** A file's CarrierFacts with a TypeList for each of its types' held types, methods', functions' and variables' types. */
interface CarrierChecks {
  facts: CarrierFacts;
  types: TypeList[];
  methods: TypeList[];
  funcs: TypeList[];
  vars: TypeList[];
}

function carrierChecks(f: FileIR): CarrierChecks {
  const facts = carrierFacts(f);
  const list = (types: string[]): TypeList => ({ handle: types.some(isStaticHandleish), bases: [...new Set(types.map(strippedType))] });
  return { facts, types: facts.types.map((t) => list(t.holds)), methods: facts.methods.map((m) => list(m.sig)), funcs: facts.funcs.map((fn) => list(fn.sig)), vars: facts.vars.map((v) => list([v.type])) };
}

/** A type without its leading pointer, slice and array marks. */
function strippedType(t: string): string {
  return t.replace(/^[*[\]]+/, '');
}

/**
 * Whether a file references a carrier of a kept package (its `alias.Name` references, mapped to the tree's
 * packages; the standard library and dependencies are never kept). An unreadable file references nothing.
 */
function usesKept(
  s: SourceFile,
  exported: Map<string, Set<string>>,
  treePackage: (path: string) => string | null,
  inTree: (path: string) => boolean,
  unreadable: (s: SourceFile, e: unknown) => void,
): boolean {
  let refs: ImportRefs;
  try {
    refs = s.refs(inTree);
  } catch (e) {
    unreadable(s, e);
    return false;
  }
  for (const [path, used] of refs) {
    const pkg = treePackage(path);
    const names = pkg === null ? undefined : exported.get(pkg);
    if (names) for (const n of used) if (names.has(n)) return true;
  }
  return false;
}

/**
 * One interpretation of a file: its facts, its problems, and what it looked up outside its file and package:
 * the same lookups giving the same answers give the same facts. Its sites and setter summaries are at hand
 * (every round merges them); the rest of its facts is a part of the program's facts (read from the cache only
 * when pass 2 asks for a key the file holds).
 */
interface FileVariant {
  /** Setter summaries looked up: function id -> settersText of its summary ('' for none). */
  queried: Array<[string, string]>;
  /** Declarations of other packages looked up (a variant interpreted in this run; see Deps). */
  deps?: Deps;
  problems: FileProblem[];
  sites: RawSite[];
  setters: Facts['setters'];
  part: FactsPart;
  /** A variant read from the cache: as stored (its lookups and data undefined when they cannot be read). */
  stored?: { head: StoredVariant; deps: () => Deps | undefined; body: () => StoredBody | undefined };
}

/** Declarations of other packages a variant looked up: dependency name -> digest of its answer (see interpretAll). */
type Deps = Array<[string, string]>;

/**
 * A file's variants in the cache, under its text and its own package's declarations: the first line of the
 * entry, with the keys each variant's facts hold. The second line holds each variant's Deps, parsed only when the
 * program's declarations are not those its digests were last checked under; the third the rest of each variant's
 * facts (StoredBody), parsed only when pass 2 asks for one of those keys.
 */
interface StoredVariants {
  variants: StoredVariant[];
}

interface StoredVariant {
  queried: Array<[string, string]>;
  /** depsHash of the variant's Deps (the entry's second line). */
  dh: string;
  problems: FileProblem[];
  sites: FileFactsData['sites'];
  setters: FileFactsData['setters'];
  keys: FactKeys;
}

type StoredBody = Omit<FileFactsData, 'sites' | 'setters'>;
const BODY_KEYS = ['calls', 'fields', 'gvars', 'returns', 'invocations', 'forwards', 'batches'] as const satisfies ReadonlyArray<keyof StoredBody>;

/**
 * Pass 1 over the whole program: each file's functions are interpreted into facts of their own, merged in
 * program order. What a file's facts depend on besides its own text and its own package's declarations is
 * recorded while it is interpreted: the setter summaries it looked up, and every lookup into other packages
 * (import paths resolved, named types, functions by id, interface implementations; a package it reached counts
 * with everything code elsewhere can name of it). A file is interpreted again in a later round only when a
 * setter summary it looked up changed; with the cache, its facts are read back while all of these still answer
 * the same. An edit inside function bodies re-interprets only the edited file; a declaration change re-interprets
 * its package and the files that looked into it.
 */
async function interpretAll(
  program: Program,
  adminOpeners: Set<string>,
  problems: FileProblem[],
  cached: { cache: FactsCache; sourceOf: ReadonlyMap<string, SourceFile> } | null,
  /** Loads the Postgres parser: a file or initialiser that met a text it would have parsed is interpreted again. */
  needSqlParser: (step: string) => Promise<void>,
): Promise<{ facts: ProgramFacts; fromCache: number; newSites: RawSite[]; reinterpreted: () => number }> {
  // Each file's functions and package variables (interpreted with the file: their facts are cached with its
  // facts, where interpreting every package's variables in every run cost ~20 ms of a temporal pre-commit run).
  const byFile = new Map<FileIR, { fns: FuncInfo[]; vars: string[] }>();
  const ofFile = (file: FileIR): { fns: FuncInfo[]; vars: string[] } => {
    let l = byFile.get(file);
    if (!l) byFile.set(file, (l = { fns: [], vars: [] }));
    return l;
  };
  for (const fn of program.funcs.values()) ofFile(fn.file).fns.push(fn);
  for (const pkg of program.packages.values()) for (const [name, v] of pkg.vars) if (v.v) ofFile(v.file).vars.push(name);
  // Keys and digests: a file's entry is keyed by its text and its own package's full declarations (and the tool,
  // the admin openers and the ids of duplicate functions, which embed a line: `init#file:12`); variants are
  // checked against the digests of what they looked up in other packages.
  const hashes = new Map<FileIR, string[]>();
  const hashesOf = (f: FileIR): string[] => {
    let h = hashes.get(f);
    if (!h) hashes.set(f, (h = (cached?.cache.declHash(f) ?? declHash(f)).split(' ')));
    return h;
  };
  const base = cached ? hashText(TOOL_VERSION, [...adminOpeners].sort().join(','), [...program.funcs.keys()].filter((id) => id.includes('#')).join('\n')) : '';
  const packageKey = new Map<string, string>();
  const entryKey = (file: FileIR, fileKey: string): string => {
    let k = packageKey.get(file.pkgKey);
    if (k === undefined) {
      const pkg = program.packages.get(file.pkgKey);
      packageKey.set(file.pkgKey, (k = hashText(base, ...(pkg?.files ?? [file]).map((f) => `${f.path} ${hashesOf(f)[0]}`))));
    }
    return hashText('facts', fileKey, k);
  };
  // Digests are stored with every variant: kept short (a hash of what the lookup answers). Every lookup answers
  // from the program's declarations alone, so the digests of the last run hold while no file's declarations
  // changed (a body edit): they are kept beside the facts under a hash of all of them (~35 ms on temporal).
  const programDecls = cached ? hashText(...program.files.map((f) => `${f.path} ${hashesOf(f)[0]}`)) : '';
  const storedDigests = cached?.cache.readSide('digests') as StoredDigests | undefined;
  const stillHold = storedDigests?.decls === programDecls;
  const digests = new Map<string, string>(stillHold && Array.isArray(storedDigests.digests) ? storedDigests.digests : []);
  const digestsKnown = digests.size;
  // Whether a variant's lookups still answer the same is a function of its Deps and of the declarations alone:
  // the Deps found to hold under these declarations are kept with the digests (by depsHash), so that a body edit
  // reads no variant's Deps (a third of its first line, which every run reads, before they had a line of their own).
  const holding = new Set<string>(stillHold && Array.isArray(storedDigests.holding) ? storedDigests.holding : []);
  const holdingKnown = holding.size;
  const depsHold = (dh: string, deps: () => Deps | undefined): boolean => {
    if (holding.has(dh)) return true;
    const d = deps();
    // The line as written with the first (else: interpreted again, as when it cannot be read).
    if (!Array.isArray(d) || depsHash(d) !== dh || !d.every(([dep, digest]) => digestOf(dep) === digest)) return false;
    holding.add(dh);
    return true;
  };
  const digestOf = (dep: string): string => {
    let d = digests.get(dep);
    if (d !== undefined) return d;
    d = hashText(answerOf(dep)).slice(0, 16);
    digests.set(dep, d);
    return d;
  };
  const answerOf = (dep: string): string => {
    const arg = dep.slice(2);
    switch (dep[0]) {
      case 'i':
        return program.packageForImport(arg)?.key ?? '';
      case 't':
        return program.typeDecl(arg)?.pkg.key ?? '';
      case 'p': {
        const pkg = program.packages.get(arg);
        return pkg ? hashText(...pkg.files.map((f) => `${f.path} ${hashesOf(f)[1]}`)) : '';
      }
      case 'f': {
        const f = program.funcs.get(arg);
        return f ? `${f.pkg.key} ${f.name} ${program.signatureText(f)}` : '';
      }
      default:
        return program.implementationsDigest(arg);
    }
  };

  /** Interprets a file's functions and package variables with the setter summaries `lookup` gives. */
  const interpretFile = (file: FileIR, { fns, vars }: { fns: FuncInfo[]; vars: string[] }, lookup: SetterLookup): { facts: Facts; failed: FileProblem[] } => {
    const local = emptyFacts();
    const interp = new Interpreter(program, local, { adminOpeners }, lookup);
    const failed: FileProblem[] = [];
    for (const fn of fns) {
      try {
        cached?.cache.loadBodies(fn.file);
        interp.run(fn);
      } catch (e) {
        if (!failed.length) failed.push({ file: fn.file.path, line: fn.decl.loc[0], message: `internal error analysing ${fn.name}: ${(e as Error).message}; other functions were analysed` });
      }
    }
    const pkg = program.packages.get(file.pkgKey)!;
    for (const name of vars) {
      try {
        interp.runVarInit(pkg, name);
      } catch (e) {
        if (!failed.length) failed.push({ file: file.path, line: pkg.vars.get(name)!.line, message: `internal error analysing the initial value of ${name}: ${(e as Error).message}; other declarations were analysed` });
      }
    }
    return { facts: local, failed };
  };
  // The setter summaries of the last round: a cached variant whose data cannot be read when pass 2 asks for it
  // (its entry removed meanwhile) is interpreted again with them, which gives the same facts (it was chosen
  // because the summaries it looked up answer as they did then).
  let finalSetters = new Map<string, Map<number, string[]>>();
  /**
   * Files pass 2 interpreted again (their cached data unreadable): counted, as their facts may hold an SQL text
   * classified before the parser was loaded.
   */
  let reinterpretations = 0;
  /** Runs `interpret` again, with the Postgres parser loaded, when it met a text it would have parsed. */
  const withSqlParser = async <T>(interpret: () => T): Promise<T> => {
    const needed = sqlParserNeeded();
    const first = interpret();
    if (sqlParserNeeded() === needed) return first;
    await needSqlParser('interpret');
    return interpret();
  };

  const variants = new Map<FileIR, FileVariant[]>();
  const interpreted = new Set<FileIR>();
  /** The cache key of each file's entry (files without a valid content key are never cached). */
  const entryKeys = new Map<FileIR, string>();
  const variantsOf = (file: FileIR, decls: { fns: FuncInfo[]; vars: string[] }): FileVariant[] => {
    let vs = variants.get(file);
    if (vs) return vs;
    vs = [];
    const source = cached?.sourceOf.get(file.path);
    const pkg = program.packages.get(file.pkgKey);
    if (cached && source && !source.stale && pkg) {
      const key = entryKey(file, source.key);
      entryKeys.set(file, key);
      const hit = cached.cache.getFacts(key);
      const stored = hit?.head as StoredVariants | undefined;
      const depsOf = (n: number): Deps | undefined => {
        try {
          return (hit!.deps() as Deps[])[n];
        } catch {
          return undefined;
        }
      };
      (stored?.variants ?? []).forEach((v, n) => {
        // Only variants whose lookups into other packages still answer the same.
        if (typeof v.dh !== 'string' || !depsHold(v.dh, () => depsOf(n))) return;
        const body = (): StoredBody | undefined => {
          try {
            const b = (hit!.body() as StoredBody[])[n];
            // The second line as written with this first line (else: interpreted again, see load).
            return b && BODY_KEYS.every((k) => Array.isArray(b[k])) ? b : undefined;
          } catch {
            return undefined;
          }
        };
        // Pass 2 loads the data after the last round: should it be unreadable by then, the file is interpreted again.
        const load = (): Facts => {
          const b = body();
          if (b) return factsFromData({ ...b, sites: v.sites, setters: v.setters }, file, pkg);
          const again = interpretFile(file, decls, finalSetters);
          reinterpretations++;
          // Pass 2 runs before the result is made: what interpreting it again met is reported with the rest.
          problems.push(...again.failed);
          return again.facts;
        };
        // What every round merges: the sites and setter summaries alone (the rest is parsed when pass 2 asks).
        vs!.push({ queried: v.queried, problems: v.problems, sites: sitesFromData(v.sites, file, pkg), setters: settersFromData(v.setters), part: { keys: v.keys, load }, stored: { head: v, deps: () => depsOf(n), body } });
      });
    }
    variants.set(file, vs);
    return vs;
  };
  const saveVariants = (file: FileIR, vs: FileVariant[]): void => {
    const key = entryKeys.get(file);
    if (!key || cached!.sourceOf.get(file.path)?.stale) return;
    const head: StoredVariants = { variants: [] };
    const deps: Deps[] = [];
    const bodies: StoredBody[] = [];
    for (const x of vs) {
      if (x.stored) {
        // Kept as stored; a variant whose lookups or data are gone meanwhile is dropped.
        const d = x.stored.deps();
        const b = x.stored.body();
        if (!d || depsHash(d) !== x.stored.head.dh || !b) continue;
        head.variants.push(x.stored.head);
        deps.push(d);
        bodies.push(b);
        continue;
      }
      const f = (x.part as { facts: Facts }).facts;
      const { sites, setters, ...body } = factsToData(f);
      head.variants.push({ queried: x.queried, dh: depsHash(x.deps!), problems: x.problems, sites, setters, keys: factKeys(f) });
      deps.push(x.deps!);
      bodies.push(body);
    }
    cached!.cache.setFacts(key, head, deps, bodies);
  };

  // Setter summaries (helpers that set the scope on a transaction they are given) feed back into callers:
  // re-run until no new setter appears (rarely more than two rounds).
  let setters = new Map<string, Map<number, string[]>>();
  let merged = emptyFacts();
  let parts: FactsPart[] = [];
  // The problems of the last round only (each round interprets, or reuses, every file again).
  let roundProblems: FileProblem[] = [];
  // The sites of the last round computed in this run (not read from the cache): their texts are new to the solver.
  let newSites: RawSite[] = [];
  for (let round = 0; round < 4; round++) {
    merged = emptyFacts();
    parts = [];
    roundProblems = [];
    newSites = [];
    const current = setters;
    const answer = (id: string): string => {
      const m = current.get(id);
      return m ? settersText(new Map([[id, m]])) : '';
    };
    for (const [file, decls] of byFile) {
      const vs = variantsOf(file, decls);
      let v = vs.find((x) => x.queried.every(([id, a]) => answer(id) === a));
      if (!v) {
        const { result, queried, deps } = await withSqlParser(() => {
          const queried = new Map<string, string>();
          // What the file looks up in other packages, recorded only for the cache (a key of its cached facts). The
          // observer is called on every lookup: packages are collected as objects, their names made once at the end.
          const depPackages = new Set<PackageInfo>();
          const deps = new Set<string>();
          if (cached) {
            program.observer = {
              imported: (path, p) => {
                deps.add(`i:${path}`);
                if (p) depPackages.add(p);
              },
              // A type found, or a method or exported function found, is covered by its package's digest; what was
              // not found (and an unexported function, which other packages' digests leave out) is recorded itself.
              typeDecl: (canonical, p) => (p ? depPackages.add(p) : deps.add(`t:${canonical}`)),
              func: (id, f) => (f && nameableElsewhere(f.decl) ? depPackages.add(f.pkg) : deps.add(`f:${id}`)),
              implementations: (m) => deps.add(`m:${m}`),
            };
          }
          let result: { facts: Facts; failed: FileProblem[] };
          try {
            result = interpretFile(file, decls, { get: (id) => (queried.set(id, answer(id)), current.get(id)) });
          } finally {
            program.observer = null;
          }
          for (const p of depPackages) deps.add(`p:${p.key}`);
          return { result, queried, deps };
        });
        const local = result.facts;
        const looked: Deps = [...deps].sort().map((dep) => [dep, digestOf(dep)]);
        // Found now under these declarations: they hold.
        if (cached) holding.add(depsHash(looked));
        v = { queried: [...queried], deps: looked, problems: result.failed, sites: local.sites, setters: local.setters, part: { facts: local } };
        vs.push(v);
        interpreted.add(file);
        // Written at once (again if a later round adds a variant): serialising every file's facts at the end
        // held them all as text at the same time (+40 MB of heap on temporal).
        if (cached) saveVariants(file, vs);
      }
      // Concatenated: a site's key (siteKey) names its file, and a file's facts hold only its own sites, already
      // merged by the interpreter (merging them again by key took ~20 ms of the 20k-file fork's pre-commit run).
      for (const site of v.sites) merged.sites.push(site);
      mergeSetters(merged, v.setters);
      if (!v.stored) newSites.push(...v.sites);
      parts.push(v.part);
      roundProblems.push(...v.problems);
    }
    finalSetters = current;
    const next = merged.setters;
    if (settersText(setters) === settersText(next)) break;
    setters = next;
  }
  problems.push(...roundProblems);
  if (cached && (digests.size > digestsKnown || holding.size > holdingKnown)) cached.cache.writeSide('digests', { decls: programDecls, digests: [...digests], holding: [...holding] } satisfies StoredDigests);
  return { facts: new ProgramFacts(merged.sites, parts), fromCache: cached ? byFile.size - interpreted.size : 0, newSites, reinterpreted: () => reinterpretations };
}

/** The digests of lookups into other packages (interpretAll), valid for the program declarations hashed in `decls`. */
interface StoredDigests {
  decls: string;
  digests: Array<[string, string]>;
  /** depsHash of every Deps found to hold under `decls`. */
  holding: string[];
}

/** Names a variant's Deps (kept in its entry's first line; their text is in the second). */
function depsHash(d: Deps): string {
  return hashText(JSON.stringify(d)).slice(0, 20);
}

/**
 * Hashes of what a file declares (declarationsOf), as seen from its own package and from others, joined by a
 * space: equal hashes, equal inputs to other files' interpretation.
 */
function declHash(f: FileIR): string {
  return `${hashText(JSON.stringify(declarationsOf(f, false)))} ${hashText(JSON.stringify(declarationsOf(f, true)))}`;
}

function settersText(m: Map<string, Map<number, string[]>>): string {
  return JSON.stringify([...m].map(([k, v]) => [k, [...v]]).sort());
}

/** A site with its verdict, built field by field (a spread copy of each site cost ~18 ms of the 20k-file fork's run). */
function classified(s: WriteSite, verdict: SiteVerdict): ClassifiedSite {
  const c: ClassifiedSite = { span: s.span, statementLine: s.statementLine, function: s.function, package: s.package, method: s.method, receiver: s.receiver, handles: s.handles, statements: s.statements, sql: s.sql, verdict };
  if (s.via) c.via = s.via;
  return c;
}

/** What each statement set needs from its handle, from the catalog (policy alternatives per gated table). */
function makeNeeds(catalog: Catalog): (statements: SqlStatement[]) => WriteNeed {
  return (statements) => {
    const settings = new Set<string>();
    const tables: string[][][] = [];
    const what: string[] = [];
    const need = (table: string): void => {
      const alts = scopeAlternatives(catalog, table);
      tables.push(alts);
      for (const s of alts[0] ?? []) settings.add(s);
    };
    for (const st of statements) {
      for (const w of st.writes) {
        if (!w.table || !catalog.tables[w.table.name]) continue;
        what.push(`${w.verb.replace('_', ' ')} ${w.verb === 'INSERT' || w.verb === 'MERGE' || w.verb === 'COPY_FROM' ? 'into' : w.verb === 'DELETE' ? 'from' : 'of'} ${w.table.name}`);
        need(w.table.name);
      }
      for (const fnName of st.functionCalls) {
        const f = catalog.functions[fnName];
        if (!f || f.securityDefiner) continue;
        for (const w of f.writes) {
          if (!w.table || !catalog.tables[w.table.name]) continue;
          what.push(`${w.verb} ${w.table.name} (through SQL function ${f.name})`);
          need(w.table.name);
        }
      }
    }
    return { gated: tables.length > 0, settings: [...settings].sort(), tables, what: [...new Set(what)].join(', ') };
  };
}

function verdictOf(s: WriteSite, need: WriteNeed, catalog: Catalog): SiteVerdict {
  // TRUNCATE ignores RLS and COPY FROM is refused under it: no scope makes them safe, only the admin pool.
  const rlsBlind = s.statements.some((st) => st.writes.some((w) => (w.verb === 'TRUNCATE' || w.verb === 'COPY_FROM') && w.table && catalog.tables[w.table.name]));
  if (rlsBlind) return s.handles.length && s.handles.every((h) => h.kind === 'adminPool') ? 'admin' : 'finding';
  const hasWrite = s.statements.some((st) => st.writes.length > 0);
  const unresolved = s.statements.some((st) => st.writes.some((w) => !w.table));
  const definerOnly =
    !need.gated &&
    s.statements.some((st) => st.functionCalls.some((f) => catalog.functions[f]?.securityDefiner && catalog.functions[f]!.writes.some((w) => w.table && catalog.tables[w.table.name])));
  if (definerOnly) return 'security-definer';
  if (!need.gated && !(hasWrite && unresolved)) return 'not-gated';
  const live = s.handles.filter((h) => h.kind !== 'handleParam');
  if (s.handles.some((h) => h.kind === 'handleParam') && live.every((h) => satisfies(h, need))) return live.length ? 'scoped' : 'caller-checked';
  if (!need.gated) return live.every((h) => h.kind === 'adminPool' || h.kind === 'scopedTx') ? 'scoped' : 'finding';
  if (live.length && live.every((h) => h.kind === 'adminPool')) return 'admin';
  if (live.every((h) => satisfies(h, need))) return 'scoped';
  return 'finding';
}

function sortFindings(fs: Finding[]): Finding[] {
  return fs.sort((a, b) => compareNames(a.span.file, b.span.file) || a.span.start.line - b.span.start.line || a.span.start.column - b.span.start.column || compareNames(a.ruleId, b.ruleId));
}

/**
 * Reported paths are relative to the current directory when every scanned path is inside it; otherwise to the
 * repository (the nearest directory with .git above the first path), else that path's directory.
 */
function defaultRoot(host: Host, cwd: string, paths: string[]): string {
  const inside = (p: string): boolean => p === cwd || p.startsWith(cwd.endsWith(sep) ? cwd : cwd + sep);
  if (paths.every(inside)) return cwd;
  const start = firstDir(host, paths[0]!);
  for (let d = start; ; d = dirname(d)) {
    if (host.exists(join(d, '.git'))) return d;
    if (dirname(d) === d) return start;
  }
}

function firstDir(host: Host, p: string): string {
  try {
    return host.isDirectory(p) ? p : dirname(p);
  } catch {
    return dirname(p);
  }
}

function relativeGlob(root: string, base: string, glob: string): string {
  if (glob.startsWith('/')) return relative(root, glob).split(sep).join('/');
  const r = relative(root, base).split(sep).join('/');
  return r ? `${r}/${glob}` : glob;
}

/** Maps a Go file to its package identity: module path from the nearest go.mod plus the directory. */
class ModuleMap {
  private modCache = new Map<string, { dir: string; module: string } | null>();
  constructor(
    private readonly host: Host,
    private readonly root: string,
    /** Directories discovery listed, and whether each holds a go.mod entry: those are not probed again. */
    private readonly listed: ReadonlyMap<string, boolean> = new Map(),
  ) {}

  private keyOfDir = new Map<string, string>();

  pkgKey(abs: string): string {
    const dir = dirname(abs);
    let key = this.keyOfDir.get(dir);
    if (key === undefined) {
      const mod = this.moduleOf(dir);
      const r = relative(mod ? mod.dir : this.root, dir).split(sep).join('/');
      key = mod ? (r ? `${mod.module}/${r}` : mod.module) : `dir:${r || '.'}`;
      this.keyOfDir.set(dir, key);
    }
    return key;
  }

  private moduleOf(dir: string): { dir: string; module: string } | null {
    const hit = this.modCache.get(dir);
    if (hit !== undefined) return hit;
    let found: { dir: string; module: string } | null = null;
    const gm = join(dir, 'go.mod');
    if (this.listed.get(dir) ?? this.host.exists(gm)) {
      try {
        const m = /^\s*module\s+("?)([^\s"]+)\1/m.exec(this.host.readFile(gm));
        if (m) found = { dir, module: m[2]! };
      } catch {
        found = null;
      }
    }
    if (!found) {
      const parent = dirname(dir);
      found = parent === dir ? null : this.moduleOf(parent);
    }
    this.modCache.set(dir, found);
    return found;
  }
}
