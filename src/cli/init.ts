// `rlscov init`: a commented starter .rlscov.yml for the tree it runs in. It runs the real analysis with default
// settings and writes down what it found, for review: where the RLS catalog came from (migrations and how many
// tables they gate, or SQL files outside `migrations/` that enable RLS and need listing), the org-scope wrappers
// the engine recognised (built-in names and ones it discovered: functions that open a transaction, set a scope
// setting transaction-locally and call their function parameter with it), the admin openers in use, and functions
// whose name and result type suggest an admin pool that is not configured yet. Active keys are only those that
// change the analysis of this tree (extra migration globs); everything else is listed as comments.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, resolve, sep } from 'node:path';
import { analyze } from '../engine/analyze.js';
import { defaultConfig, loadConfig, CONFIG_FILE_NAMES, displayPath } from '../config/index.js';
import { DEFAULT_EXCLUDED_DIRS } from '../discover/discover.js';
import { DEFAULT_ADMIN_OPENERS, DEFAULT_WRAPPERS } from '../resolve/drivers.js';
import { InternalError, UsageError } from '../errors.js';
import { nodeHost } from '../host.js';
import type { RunResult } from '../model.js';
import { compareNames } from '../order.js';

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

const posix = (p: string): string => p.split(sep).join('/');

/** The org-scope wrappers the analysis found: discovered from their bodies, or named by default or in config. */
function wrappersOf(result: RunResult): FoundWrapper[] {
  return (result.discovered?.wrappers ?? [])
    .map((w) => ({ name: w.name, where: `${w.file}:${w.line}`, builtIn: DEFAULT_WRAPPERS.includes(w.name.slice(w.name.lastIndexOf('.') + 1)), settings: [...w.settings], usedBy: true }))
    .sort((a, b) => compareNames(a.name, b.name));
}

const ADMINISH = /admin|owner|superuser|bypass|privileged|breakglass|break_glass|migrat|root|platform/i;

/** Admin openers in effect that the tree declares, plus pool-returning functions whose name suggests one. */
function openersOf(result: RunResult): FoundOpener[] {
  const d = result.discovered;
  const found = new Map<string, FoundOpener>();
  for (const name of d?.adminOpeners ?? []) {
    if (found.has(name)) continue;
    // In use: where the analysis saw its pool opened.
    const ev = result.sites.flatMap((s) => s.handles).filter((h) => h.kind === 'adminPool').flatMap((h) => h.evidence).find((e) => e.message.includes(`opened by ${name}`));
    if (ev) found.set(name, { name, where: ev.span ? `${ev.span.file}:${ev.span.start.line}` : null, kind: 'known', detail: `in use, ${DEFAULT_ADMIN_OPENERS.includes(name) ? 'built in' : 'configured'}` });
  }
  for (const f of d?.poolFunctions ?? []) {
    if (found.has(f.name)) continue;
    if (d!.adminOpeners.includes(f.name)) found.set(f.name, { name: f.name, where: `${f.file}:${f.line}`, kind: 'known', detail: DEFAULT_ADMIN_OPENERS.includes(f.name) ? 'built in, declared here' : 'configured, declared here' });
    else if (ADMINISH.test(f.name)) found.set(f.name, { name: f.name, where: `${f.file}:${f.line}`, kind: 'candidate', detail: `returns ${f.type}` });
  }
  return [...found.values()].sort((a, b) => (a.kind === b.kind ? compareNames(a.name, b.name) : a.kind === 'known' ? -1 : 1));
}

/** SQL files outside `migrations/` directories that enable row-level security: the default glob misses them. */
async function extraMigrations(root: string, known: ReadonlySet<string>): Promise<string[]> {
  const fg = (await import('fast-glob')).default;
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
  return { result, extraMigrationGlobs, wrappers: wrappersOf(result), openers: openersOf(result) };
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
