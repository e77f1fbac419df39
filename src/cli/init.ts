// `rlscov init`: a commented starter .rlscov.yml for the tree it runs in. It runs the real analysis with default
// settings and writes down what it found, for review: where the RLS catalog came from (migrations and how many
// tables they gate, or SQL files outside `migrations/` that enable RLS and need listing), the org-scope wrappers
// the engine recognised (built-in names and ones it discovered: functions that open a transaction, set a scope
// setting transaction-locally and call their function parameter with it), the admin openers in use, and functions
// whose name and result type suggest an admin pool that is not configured yet. Active keys are only those that
// change the analysis of this tree (extra migration globs); everything else is listed as comments.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, resolve, sep } from 'node:path';
import fg from 'fast-glob';
import { analyze } from '../engine/analyze.js';
import { defaultConfig, loadConfig, CONFIG_FILE_NAMES, displayPath } from '../config/index.js';
import { DEFAULT_EXCLUDED_DIRS } from '../discover/discover.js';
import { lowerGoFile } from '../go/lower.js';
import { DEFAULT_ADMIN_OPENERS, DEFAULT_WRAPPERS, isPoolType, shortType } from '../resolve/drivers.js';
import { InternalError, UsageError } from '../errors.js';
import { nodeHost } from '../host.js';
import type { RunResult, Span } from '../model.js';

export interface InitOptions {
  cwd: string;
  /** Where to write, relative to cwd (default .rlscov.yml). */
  output: string;
  force: boolean;
}

export interface FoundWrapper {
  name: string;
  where: string | null;
  builtIn: boolean;
  settings: string[];
  /** The engine relied on it for a scoped verdict (false: found by its shape only). */
  usedBy: boolean;
}

export interface FoundOpener {
  name: string;
  where: string | null;
  /** 'known': recognised already (the engine saw admin pools from it, or a built-in name); 'candidate': only its name and result type suggest one. */
  kind: 'known' | 'candidate';
  detail: string;
}

export interface InitFindings {
  result: RunResult;
  /** .sql files outside `migrations/` directories that enable RLS: they need a `migrations:` entry. */
  extraMigrationGlobs: string[];
  wrappers: FoundWrapper[];
  openers: FoundOpener[];
}

const at = (s: Span | undefined): string | null => (s ? `${s.file}:${s.start.line}` : null);
const posix = (p: string): string => p.split(sep).join('/');

/** Wrappers the engine relied on for scoped verdicts, read from the evidence of the sites it classified. */
function wrappersOf(result: RunResult): FoundWrapper[] {
  const found = new Map<string, FoundWrapper>();
  const add = (name: string, where: string | null, settings: string[]): void => {
    const prev = found.get(name);
    if (prev) {
      prev.settings = [...new Set([...prev.settings, ...settings])].sort();
      prev.where ??= where;
      return;
    }
    found.set(name, { name, where, builtIn: DEFAULT_WRAPPERS.includes(name), settings: [...settings].sort(), usedBy: true });
  };
  for (const site of result.sites) {
    for (const h of site.handles) {
      if (h.kind !== 'scopedTx') continue;
      for (const e of h.evidence) {
        let m = /^(\w+) calls the closure with this handle$/.exec(e.message);
        if (m) add(m[1]!, at(e.span), h.settings);
        m = /^closure parameter of (\w+), which sets/.exec(e.message);
        if (m) add(m[1]!, at(e.span), h.settings);
        m = /^(\w+) is a known org-scope wrapper/.exec(e.message);
        if (m) add(m[1]!, at(e.span), h.settings);
      }
    }
  }
  return [...found.values()].sort((a, b) => a.name.localeCompare(b.name));
}

const ADMINISH = /admin|owner|superuser|bypass|privileged|breakglass|break_glass|migrat|root|platform/i;

/** Every call and string literal in a lowered function body (the IR is plain data: a generic walk will do). */
function callsAndStrings(node: unknown, calls: Array<{ callee: string; method: string }>, strings: string[]): void {
  if (Array.isArray(node)) {
    for (const n of node) callsAndStrings(n, calls, strings);
    return;
  }
  if (typeof node !== 'object' || node === null) return;
  const o = node as Record<string, unknown>;
  if (o['k'] === 'str' && typeof o['v'] === 'string') strings.push(o['v']);
  if (o['k'] === 'call') {
    const f = o['f'] as Record<string, unknown>;
    calls.push({ callee: f['k'] === 'id' ? String(f['n']) : '', method: f['k'] === 'sel' ? String(f['n']) : '' });
  }
  for (const v of Object.values(o)) if (typeof v === 'object') callsAndStrings(v, calls, strings);
}

const TX_IN_FUNC_TYPE = /^func\(.*(?:database\/sql\.Tx|jmoiron\/sqlx\.Tx|jackc\/pgx\/v\d+\.Tx|pgx\/v\d+\.Tx|pgxpool\.Tx)/;
const BEGIN = new Set(['Begin', 'BeginTx', 'Beginx', 'BeginTxx', 'MustBegin', 'MustBeginTx']);

/**
 * Wrapper-shaped functions the evidence did not show (no write ran inside them yet): a function-typed parameter
 * that takes a transaction, a Begin call, a scope setting set transaction-locally, and a call of the parameter.
 */
function wrapperShapes(root: string, goFiles: string[], known: Map<string, FoundWrapper>): FoundWrapper[] {
  const out: FoundWrapper[] = [];
  for (const rel of goFiles) {
    let source: string;
    try {
      source = readFileSync(resolve(root, rel), 'utf8');
    } catch {
      continue;
    }
    if (!/set_config|SET\s+LOCAL/i.test(source)) continue;
    let ir;
    try {
      ir = lowerGoFile({ path: rel, source, pkgKey: `dir:${posix(dirname(rel))}` });
    } catch {
      continue;
    }
    for (const fn of ir.funcs) {
      const name = fn.recvType ? `${fn.recvType}.${fn.name}` : fn.name;
      if (known.has(fn.name) || known.has(name)) continue;
      const cbs = fn.params.filter((p) => p.name && TX_IN_FUNC_TYPE.test(p.type)).map((p) => p.name);
      if (!cbs.length) continue;
      const calls: Array<{ callee: string; method: string }> = [];
      const strings: string[] = [];
      callsAndStrings(fn.body, calls, strings);
      const settings = strings.flatMap((t) => [...t.matchAll(/set_config\(\s*'([^']+)'\s*,[^)]*,\s*true\s*\)|SET\s+LOCAL\s+([\w.]+)/gi)].map((m) => (m[1] ?? m[2] ?? '').toLowerCase()));
      if (calls.some((c) => BEGIN.has(c.method)) && settings.length && calls.some((c) => cbs.includes(c.callee))) {
        out.push({ name, where: `${rel}:${fn.loc[0]}`, builtIn: DEFAULT_WRAPPERS.includes(fn.name), settings: [...new Set(settings)].sort(), usedBy: false });
      }
    }
  }
  return out;
}

/** Admin openers whose pools the engine saw, plus pool-returning functions whose name suggests one. */
function openersOf(result: RunResult, root: string, goFiles: string[]): FoundOpener[] {
  const found = new Map<string, FoundOpener>();
  for (const site of result.sites) {
    for (const h of site.handles) {
      if (h.kind !== 'adminPool') continue;
      for (const text of [h.description, ...h.evidence.map((e) => e.message)]) {
        const m = /opened by (\w+)/.exec(text);
        if (m && !found.has(m[1]!)) {
          const ev = h.evidence.find((e) => e.message.includes(`opened by ${m[1]}`));
          found.set(m[1]!, { name: m[1]!, where: at(ev?.span), kind: 'known', detail: `in use, ${DEFAULT_ADMIN_OPENERS.includes(m[1]!) ? 'built in' : 'configured'}` });
        }
      }
    }
  }
  for (const rel of goFiles) {
    let source: string;
    try {
      source = readFileSync(resolve(root, rel), 'utf8');
    } catch {
      continue;
    }
    if (!ADMINISH.test(source)) continue; // cheap prefilter: only files that mention such a name get lowered
    let ir;
    try {
      ir = lowerGoFile({ path: rel, source, pkgKey: `dir:${posix(dirname(rel))}` });
    } catch {
      continue;
    }
    for (const fn of ir.funcs) {
      if (fn.recvType !== null || found.has(fn.name)) continue;
      const pool = fn.results.find((t) => isPoolType(t));
      if (!pool) continue;
      if (DEFAULT_ADMIN_OPENERS.includes(fn.name)) found.set(fn.name, { name: fn.name, where: `${rel}:${fn.loc[0]}`, kind: 'known', detail: 'built in, declared here' });
      else if (ADMINISH.test(fn.name)) found.set(fn.name, { name: fn.name, where: `${rel}:${fn.loc[0]}`, kind: 'candidate', detail: `returns ${shortType(pool)}` });
    }
  }
  return [...found.values()].sort((a, b) => (a.kind === b.kind ? a.name.localeCompare(b.name) : a.kind === 'known' ? -1 : 1));
}

/** SQL files outside `migrations/` directories that enable row-level security: the default glob misses them. */
async function extraMigrations(root: string, known: ReadonlySet<string>): Promise<string[]> {
  const files = await fg('**/*.sql', {
    cwd: root,
    ignore: [...DEFAULT_EXCLUDED_DIRS.map((d) => `**/${d}/**`), '**/.*/**'],
    followSymbolicLinks: false,
    suppressErrors: true,
  });
  const dirs = new Set<string>();
  for (const f of files.sort()) {
    if (known.has(f)) continue;
    let text: string;
    try {
      text = readFileSync(resolve(root, f), 'utf8');
    } catch {
      continue;
    }
    if (/\bENABLE\s+ROW\s+LEVEL\s+SECURITY\b/i.test(text)) dirs.add(posix(dirname(f)));
  }
  return [...dirs].map((d) => (d === '.' ? '*.sql' : `${d}/*.sql`));
}

/** Runs the analysis with defaults (plus any extra migrations found) and collects what the config should say. */
export async function discoverForInit(cwd: string): Promise<InitFindings> {
  const first = await analyze({ paths: ['.'], cwd, config: defaultConfig(cwd) });
  const extraMigrationGlobs = await extraMigrations(cwd, new Set(first.catalog.migrationFiles));
  const result = extraMigrationGlobs.length
    ? await analyze({ paths: ['.'], cwd, config: { ...defaultConfig(cwd), migrations: extraMigrationGlobs } })
    : first;
  const goFiles = await fg('**/*.go', { cwd, ignore: [...DEFAULT_EXCLUDED_DIRS.map((d) => `**/${d}/**`), '**/.*/**', '**/*_test.go'], suppressErrors: true });
  const seen = wrappersOf(result);
  const shaped = wrapperShapes(cwd, goFiles.sort(), new Map(seen.map((w) => [w.name, w])));
  const wrappers = [...seen, ...shaped].sort((a, b) => a.name.localeCompare(b.name));
  return { result, extraMigrationGlobs, wrappers, openers: openersOf(result, cwd, goFiles) };
}

const q = (s: string): string => JSON.stringify(s); // a JSON string is a valid YAML double-quoted scalar

function plural(n: number, w: string): string {
  return `${n} ${w}${n === 1 ? '' : 's'}`;
}

/** The commented YAML. */
export function renderInitConfig(f: InitFindings): string {
  const r = f.result;
  const c = r.catalog;
  const tables = Object.keys(c.tables).sort();
  const findings = r.findings.filter((x) => !x.suppressed).length;
  const L: string[] = [];
  L.push('# rlscov configuration, written by `rlscov init`. Every key is optional; delete what you do not need.');
  L.push('# Check it with `rlscov config verify`; all keys: https://github.com/rlscov/rlscov (src/config/schema.json).');
  L.push(`# When written: ${plural(r.summary.filesScanned, 'Go file')}, ${plural(r.summary.writeSites, 'write site')}, ${plural(findings, 'finding')}.`);
  L.push('');

  L.push('# --- Where the row-level-security catalog comes from ---------------------------------------------------');
  if (c.origin === 'migrations') {
    const dirs = [...new Set(c.migrationFiles.map((m) => posix(dirname(m))))].sort();
    L.push(`# Found ${plural(c.migrationFiles.length, 'migration')} in ${dirs.map((d) => `${d}/`).join(', ')}; ${c.migrationFiles.length === 1 ? 'it gates' : 'they gate'} ${plural(tables.length, 'RLS table')}:`);
    for (const line of wrapList(tables, 100)) L.push(`#   ${line}`);
  } else {
    L.push('# No migrations were found, so the built-in table list applies. Point `migrations` at your schema files.');
  }
  if (f.extraMigrationGlobs.length) {
    L.push('# These SQL files enable RLS but are not under a migrations/ directory, so they are listed here:');
    L.push('migrations:');
    for (const g of f.extraMigrationGlobs) L.push(`  - ${q(g)}`);
  } else {
    L.push('# `**/migrations/**/*.sql` is always read; add other schema files here:');
    L.push('# migrations:');
    L.push('#   - "db/schema/*.sql"');
  }
  if (c.scopeSettings.length) L.push(`# Scope settings the policies read: ${c.scopeSettings.join(', ')}.`);
  L.push('# Tables to add to or drop from the catalog:');
  L.push('# tables:');
  L.push('#   add: ["audit.events"]');
  L.push('#   remove: ["feature_flags"]');
  L.push('');

  L.push('# --- Org-scope wrappers ---------------------------------------------------------------------------------');
  L.push('# rlscov recognises these already (built in, or discovered: they open a transaction, set the scope setting');
  L.push('# transaction-locally and call their function parameter with it). Review them; list a wrapper here only when');
  L.push('# its body is outside the scanned tree (a vendored or separate module).');
  if (f.wrappers.length) {
    for (const w of f.wrappers) {
      const how = w.builtIn ? 'built in' : w.usedBy ? 'discovered' : 'wrapper-shaped, no write runs inside it yet';
      const sets = w.settings.length ? `, sets ${w.settings.join(', ')}` : '';
      L.push(`#   ${w.name}${w.where ? ` (${w.where})` : ''}: ${how}${sets}`);
    }
  } else {
    L.push('#   (none seen: no write ran inside a wrapper)');
  }
  L.push('# wrappers:');
  L.push('#   - "dbkit.InTenant"');
  L.push('');

  L.push('# --- Admin (RLS-bypassing) openers ---------------------------------------------------------------------');
  L.push('# Writes through pools these functions return are admin writes, not unscoped ones.');
  const used = f.openers.filter((o) => o.kind === 'known');
  const candidates = f.openers.filter((o) => o.kind === 'candidate');
  if (used.length) for (const o of used) L.push(`#   ${o.name}${o.where ? ` (${o.where})` : ''}: ${o.detail}`);
  else L.push(`#   (no admin pool seen; built in: ${DEFAULT_ADMIN_OPENERS.join(', ')})`);
  if (candidates.length) {
    L.push('# Functions whose name and result type suggest an admin pool. Uncomment the ones that really return a');
    L.push('# BYPASSRLS (or table-owner) connection:');
    L.push('# adminOpeners:');
    for (const o of candidates) L.push(`#   - ${q(o.name)}  # ${o.where ?? ''} ${o.detail}`.trimEnd());
  } else {
    L.push('# adminOpeners:');
    L.push('#   - "OpenBreakGlassPool"');
  }
  L.push('');

  L.push('# --- Accepted findings ---------------------------------------------------------------------------------');
  L.push('# Functions whose writes are reviewed and accepted, each with the reason (unused entries are reported, RLS008).');
  L.push('# To adopt rlscov on a tree with findings, prefer a baseline: rlscov scan --write-baseline .rlscov-baseline.json');
  L.push('# allow:');
  L.push('#   - site: "cmd/backfill/main.go::run"');
  L.push('#     reason: "one-off backfill, runs as the table owner (OPS-123)"');
  L.push('');
  L.push('# --- Files and rules -----------------------------------------------------------------------------------');
  L.push('# exclude: ["internal/legacy/**"]');
  L.push('# tests: false');
  L.push('# rules:');
  L.push('#   RLS004: warning');
  return `${L.join('\n')}\n`;
}

function wrapList(items: string[], width: number): string[] {
  const out: string[] = [];
  let line = '';
  for (const it of items) {
    const next = line ? `${line}, ${it}` : it;
    if (next.length > width && line) {
      out.push(`${line},`);
      line = it;
    } else line = next;
  }
  if (line) out.push(line);
  return out;
}

/** Writes the starter config; refuses to overwrite without `force`. Returns the path written and a summary line. */
export async function initConfig(o: InitOptions): Promise<{ file: string; summary: string }> {
  const target = resolve(o.cwd, o.output);
  const shown = displayPath(o.cwd, target);
  if (existsSync(target) && !o.force) throw new UsageError(`${shown} already exists; run \`rlscov init --force\` to overwrite it`);
  const dir = dirname(target);
  if (!existsSync(dir)) throw new UsageError(`cannot write ${shown}: directory ${displayPath(o.cwd, dir)} does not exist`);
  const found = await discoverForInit(o.cwd);
  const text = renderInitConfig(found);
  try {
    writeFileSync(target, text);
  } catch (e) {
    throw new UsageError(`cannot write ${shown}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    loadConfig(nodeHost, target, o.cwd);
  } catch (e) {
    throw new InternalError(`the config written to ${shown} does not validate: ${(e as Error).message}`);
  }
  // Another config file in the same directory with a higher priority would still win.
  const rank = (p: string): number => (dirname(p) === resolve(o.cwd) ? (CONFIG_FILE_NAMES as readonly string[]).indexOf(basename(p)) : -1);
  const shadow = rank(target) > 0 ? CONFIG_FILE_NAMES.slice(0, rank(target)).map((n) => resolve(o.cwd, n)).find((p) => existsSync(p)) : undefined;
  const c = found.result.catalog;
  const parts = [
    c.origin === 'migrations' ? `${plural(c.migrationFiles.length, 'migration')} gating ${plural(Object.keys(c.tables).length, 'RLS table')}` : 'no migrations (built-in table list)',
    plural(found.wrappers.length, 'wrapper'),
    plural(found.openers.filter((x) => x.kind === 'known').length, 'admin opener') + ' recognised',
    plural(found.openers.filter((x) => x.kind === 'candidate').length, 'admin opener candidate'),
  ];
  const note = shadow ? `; note: ${displayPath(o.cwd, shadow)} takes precedence over it` : '';
  return { file: shown, summary: `${parts.join(', ')}${note}` };
}
