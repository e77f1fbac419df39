// The pipeline, in order: config -> discover -> parse+lower -> catalog -> resolve -> classify -> rules -> result.
import { dirname, join, relative, resolve as resolvePath, sep } from 'node:path';
import type { Catalog, FileProblem, Finding, RunResult, SiteVerdict, SqlStatement, WriteSite } from '../model.js';
import { findConfig, loadConfig, type Config } from '../config/index.js';
import { nodeHost, type Host } from '../host.js';
import { discoverFiles } from '../discover/index.js';
import { lowerGoFile } from '../go/lower.js';
import type { FileIR } from '../go/ir.js';
import { applyTableOverrides, buildCatalogFromMigrations, builtinCatalog, isRollbackMigration, orderMigrations } from '../catalog/index.js';
import { loadSqlParser } from '../sql/index.js';
import { Program } from '../resolve/program.js';
import { emptyFacts, Interpreter, type Facts } from '../resolve/interpret.js';
import { Solver, satisfies, type WriteNeed } from '../resolve/solve.js';
import { DEFAULT_ADMIN_OPENERS, DEFAULT_WRAPPERS } from '../resolve/drivers.js';
import type { AnalyzeOptions } from './options.js';
import { runRules } from './run-rules.js';
import { TOOL_VERSION } from '../version.js';
import type { ClassifiedSite } from './rule.js';

export interface AnalyzeDeps {
  host?: Host;
}

export async function analyze(opts: AnalyzeOptions, deps: AnalyzeDeps = {}): Promise<RunResult> {
  const host = deps.host ?? nodeHost;
  const cwd = opts.cwd;
  const paths = (opts.paths.length ? opts.paths : ['.']).map((p) => resolvePath(cwd, p));
  const config: Config = opts.config ?? loadConfig(host, opts.configPath ? resolvePath(cwd, opts.configPath) : findConfig(host, firstDir(host, paths[0]!)), cwd);
  const root = resolvePath(cwd, opts.root ?? cwd);
  const rel = (abs: string): string => relative(root, abs).split(sep).join('/') || '.';

  await loadSqlParser();

  const found = await discoverFiles(host, {
    paths,
    root,
    includeTests: opts.includeTests ?? config.tests,
    include: config.include,
    exclude: config.exclude,
    baseDir: config.baseDir,
    migrationGlobs: [...config.migrations.map((g) => relativeGlob(root, config.baseDir, g)), ...(opts.migrations ?? []).map((g) => relativeGlob(root, cwd, g))],
  });
  const fileErrors: FileProblem[] = [...found.problems];

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
  const defaultSetting = config.scopeSettings[0] ?? 'app.current_org_id';
  let catalog: Catalog = migrationTexts.length ? await buildCatalogFromMigrations(migrationTexts, { defaultSetting }) : builtinCatalog();
  catalog = applyTableOverrides(catalog, config.tables.add, config.tables.remove, config.file ? rel(config.file) : null);
  if (config.scopeSettings.length) catalog = { ...catalog, scopeSettings: [...new Set([...catalog.scopeSettings, ...config.scopeSettings])] };

  // Parse and lower.
  const modules = new ModuleMap(host, root);
  const files: FileIR[] = [];
  const syntaxErrors: FileProblem[] = [];
  for (const abs of found.goFiles) {
    let source: string;
    try {
      source = host.readFile(abs);
    } catch (e) {
      fileErrors.push({ file: rel(abs), message: `cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` });
      continue;
    }
    try {
      const ir = lowerGoFile({ path: rel(abs), source, pkgKey: modules.pkgKey(abs) });
      if (ir.syntaxErrors.length) {
        const first = ir.syntaxErrors[0]!;
        syntaxErrors.push({ file: ir.path, line: first.line, column: first.column, message: `syntax error (${ir.syntaxErrors.length} region${ir.syntaxErrors.length > 1 ? 's' : ''}); the rest of the file was analysed` });
      }
      files.push(ir);
    } catch (e) {
      fileErrors.push({ file: rel(abs), message: `could not be analysed: ${(e as Error).message}` });
    }
  }

  // Resolve.
  const program = new Program(files);
  const adminOpeners = new Set([...DEFAULT_ADMIN_OPENERS, ...config.adminOpeners]);
  const wrappers = new Set([...DEFAULT_WRAPPERS, ...config.wrappers.map((w) => w.slice(w.lastIndexOf('.') + 1)), ...config.wrappers]);
  const facts = interpretAll(program, adminOpeners, fileErrors);
  const needs = makeNeeds(catalog, defaultSetting);
  const solved = new Solver(program, facts, { wrappers, defaultSetting, needs }).solve();

  // Classify.
  const sites: ClassifiedSite[] = solved.sites.map((s) => ({ ...s, verdict: verdictOf(s, needs(s.statements), catalog) }));
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

  const verdicts: Partial<Record<SiteVerdict, number>> = {};
  for (const s of sites) if (s.verdict !== 'not-gated') verdicts[s.verdict] = (verdicts[s.verdict] ?? 0) + 1;
  const findingsByRule: Record<string, number> = {};
  for (const f of findings) if (!f.suppressed) findingsByRule[f.ruleId] = (findingsByRule[f.ruleId] ?? 0) + 1;
  void invalidSuppressions;

  return {
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
      filesParsed: files.length,
      writeSites: sites.filter((s) => s.statements.some((st) => st.writes.length)).length,
      verdicts,
      findingsByRule,
    },
  };
}

function interpretAll(program: Program, adminOpeners: Set<string>, problems: FileProblem[]): Facts {
  // Setter summaries (helpers that set the scope on a transaction they are given) feed back into callers:
  // re-run until no new setter appears (rarely more than two rounds).
  let setters = new Map<string, Map<number, string[]>>();
  let facts = emptyFacts();
  for (let round = 0; round < 4; round++) {
    facts = emptyFacts();
    const interp = new Interpreter(program, facts, { adminOpeners }, setters);
    const failed = new Set<string>();
    for (const fn of program.funcs.values()) {
      try {
        interp.run(fn);
      } catch (e) {
        if (!failed.has(fn.file.path)) problems.push({ file: fn.file.path, line: fn.decl.loc[0], message: `internal error analysing ${fn.name}: ${(e as Error).message}; other functions were analysed` });
        failed.add(fn.file.path);
      }
    }
    for (const pkg of program.packages.values()) for (const name of pkg.vars.keys()) interp.runVarInit(pkg, name);
    const next = facts.setters;
    if (sameSetters(setters, next)) break;
    setters = next;
  }
  return facts;
}

function sameSetters(a: Map<string, Map<number, string[]>>, b: Map<string, Map<number, string[]>>): boolean {
  const s = (m: Map<string, Map<number, string[]>>): string => JSON.stringify([...m].map(([k, v]) => [k, [...v]]).sort());
  return s(a) === s(b);
}

/** What each statement set needs from its handle, from the catalog. */
function makeNeeds(catalog: Catalog, defaultSetting: string): (statements: SqlStatement[]) => WriteNeed {
  return (statements) => {
    const settings = new Set<string>();
    const what: string[] = [];
    let gated = false;
    for (const st of statements) {
      for (const w of st.writes) {
        if (!w.table) continue;
        const t = catalog.tables[w.table.name];
        if (!t) continue;
        gated = true;
        what.push(`${w.verb.replace('_', ' ')} ${w.verb === 'INSERT' || w.verb === 'MERGE' || w.verb === 'COPY_FROM' ? 'into' : w.verb === 'DELETE' ? 'from' : 'of'} ${w.table.name}`);
        const pol = t.policies.flatMap((p) => p.settings);
        for (const s of pol.length ? pol : [defaultSetting]) settings.add(s);
      }
      for (const fnName of st.functionCalls) {
        const f = catalog.functions[fnName];
        if (!f || f.securityDefiner) continue;
        for (const w of f.writes) {
          if (!w.table || !catalog.tables[w.table.name]) continue;
          gated = true;
          what.push(`${w.verb} ${w.table.name} (through SQL function ${f.name})`);
          const t = catalog.tables[w.table.name]!;
          const pol = t.policies.flatMap((p) => p.settings);
          for (const s of pol.length ? pol : [defaultSetting]) settings.add(s);
        }
      }
    }
    return { gated, settings: [...settings].sort(), what: [...new Set(what)].join(', ') };
  };
}

function verdictOf(s: WriteSite, need: WriteNeed, catalog: Catalog): SiteVerdict {
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
  return fs.sort((a, b) => a.span.file.localeCompare(b.span.file) || a.span.start.line - b.span.start.line || a.span.start.column - b.span.start.column || a.ruleId.localeCompare(b.ruleId));
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
  ) {}

  pkgKey(abs: string): string {
    const dir = dirname(abs);
    const mod = this.moduleOf(dir);
    if (mod) {
      const r = relative(mod.dir, dir).split(sep).join('/');
      return r ? `${mod.module}/${r}` : mod.module;
    }
    return `dir:${relative(this.root, dir).split(sep).join('/') || '.'}`;
  }

  private moduleOf(dir: string): { dir: string; module: string } | null {
    const hit = this.modCache.get(dir);
    if (hit !== undefined) return hit;
    let found: { dir: string; module: string } | null = null;
    const gm = join(dir, 'go.mod');
    if (this.host.exists(gm)) {
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
