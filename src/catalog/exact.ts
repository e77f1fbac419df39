// The exact catalog: the migrations executed, in order, in an embedded real Postgres (PGlite: Postgres compiled to
// WebAssembly, run in-process), then read with the same catalog queries as a live server (pgcatalog.ts). Only
// execution knows what a `DO` block did (`IF to_regclass('public.x') IS NOT NULL THEN EXECUTE ...`, loops over
// pg_tables), so this is the catalog the static fold is measured against.
//
// - Each migration file runs in its own transaction, statement by statement (the splitter of the static fold cuts
//   them, so goose/sql-migrate/dbmate "down" sections and psql meta lines are skipped the same way). Transaction
//   control inside a file (BEGIN/COMMIT) is skipped, `CONCURRENTLY` is dropped from index statements, and
//   statements that cannot run in a transaction block and do not change the catalog (VACUUM, CREATE DATABASE, ...)
//   are skipped.
// - A role a migration GRANTs to or ALTERs, or a schema it creates objects in, that does not exist is created
//   (role NOLOGIN, empty schema) and the file retried: roles and platform schemas live outside migrations.
//   Extensions PGlite ships (uuid-ossp, pgcrypto, citext, pg_trgm, ...) are loaded when a migration creates them.
// - A file that fails (a missing extension, a missing earlier object, a syntax PGlite rejects) is rolled back,
//   reported as a CatalogDiagnostic with its error and line, and its statements are folded statically on top of the
//   state executed so far. Later executions of the same objects take precedence over such corrections. Nothing
//   aborts the run: if PGlite itself cannot start, the static fold is returned with a diagnostic.
// - Provenance: the static fold's migration file:line when it places the object in the same file as execution did
//   (it is the more precise line inside a DO block), else the statement after which execution showed the change
//   (snapshots are taken after every statement that can change the catalog).
// - The result is cached by a hash of the migrations (paths and content), the tool version and PGlite's version,
//   in `<cacheDir>/exact-<hash>.json`: a repeat run does not load PGlite at all. A gzipped template of a freshly
//   initialised PGlite data directory is cached next to it, which saves initdb (about two thirds of a cold start)
//   on every later cold run.

import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { writeFileAtomic } from '../files.js';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import type { Catalog, CatalogDiagnostic, CatalogDrift, CatalogFunction, CatalogPolicy, CatalogTable, Provenance } from '../model.js';
import { TOOL_VERSION } from '../version.js';
import { catalogDrift } from './drift.js';
import { DEFAULT_SCOPE_SETTING, foldMigrations, loadCatalogParser } from './migrations.js';
import { catalogFromRows, readPgCatalogRows, readSnapshot, type QueryFn, type Snapshot } from './pgcatalog.js';
import { lineLocator, splitSql } from './split.js';
import { record } from '../records.js';

export interface ExactOptions {
  /** Scope setting used when no policy reads any (default app.current_org_id). */
  defaultSetting?: string;
  /** Directory for cached results and the PGlite data-directory template; null or absent: no cache at all. */
  cacheDir?: string | null;
  /** Reuse and store results in cacheDir (default true). false still uses the template. */
  reuseResults?: boolean;
  /** The static fold of the same files, when the caller already has it. */
  staticCatalog?: Catalog;
}

export interface ExactFailure {
  file: string;
  line: number;
  message: string;
}

export interface ExactResult {
  /** origin 'migrations', build.mode 'exact', drift = agreement. */
  catalog: Catalog;
  /** The static fold of the same migrations. */
  static: Catalog;
  /** Static fold (left) vs execution (right), table by table. */
  agreement: CatalogDrift;
  /** Migrations that failed to execute and were folded statically. */
  failures: ExactFailure[];
  /** Answered from the cache (PGlite not started). */
  cached: boolean;
  timings: { totalMs: number; startMs: number; applyMs: number };
}

/** Bump when the stored shape or the execution semantics change. */
const CACHE_FORMAT = 1;
const DUMP_PATH = '(state executed so far)';

/** Contrib extensions PGlite ships as `@electric-sql/pglite/contrib/<id>` (export named `<id>`). */
const PGLITE_CONTRIB = new Set(
  ('amcheck auto_explain bloom btree_gin btree_gist citext cube dict_int dict_xsyn earthdistance file_fdw fuzzystrmatch ' +
    'hstore intarray isn lo ltree moddatetime pageinspect pg_buffercache pg_freespacemap pg_surgery pg_trgm ' +
    'pg_visibility pg_walinspect pgcrypto seg tablefunc tcn tsm_system_rows tsm_system_time unaccent uuid_ossp').split(' '),
);

let pgliteVersionMemo: string | null = null;
/** PGlite's package version (part of the cache key); 'unknown' when it cannot be read. */
export function pgliteVersion(): string {
  if (pgliteVersionMemo) return pgliteVersionMemo;
  pgliteVersionMemo = 'unknown';
  try {
    const entry = createRequire(import.meta.url).resolve('@electric-sql/pglite');
    let dir = dirname(entry);
    for (let i = 0; i < 4; i++) {
      const p = join(dir, 'package.json');
      if (existsSync(p)) {
        const pkg = JSON.parse(readFileSync(p, 'utf8')) as { name?: string; version?: string };
        if (pkg.name === '@electric-sql/pglite' && pkg.version) {
          pgliteVersionMemo = pkg.version;
          break;
        }
      }
      dir = dirname(dir);
    }
  } catch {
    // not installed: the import below reports it
  }
  return pgliteVersionMemo;
}

/** The cache key of a migration set. */
export function exactCacheKey(files: { path: string; text: string }[], defaultSetting?: string): string {
  const h = createHash('sha256');
  for (const part of [`format ${CACHE_FORMAT}`, TOOL_VERSION, pgliteVersion(), defaultSetting ?? DEFAULT_SCOPE_SETTING]) h.update(part).update('\0');
  for (const f of files) h.update(f.path).update('\0').update(f.text).update('\0');
  return h.digest('hex').slice(0, 32);
}

interface Stored {
  format: number;
  key: string;
  catalog: Catalog;
  static: Catalog;
  agreement: CatalogDrift;
  failures: ExactFailure[];
}

function readStored(file: string, key: string): Stored | null {
  try {
    const s = JSON.parse(readFileSync(file, 'utf8')) as Stored;
    return s && s.format === CACHE_FORMAT && s.key === key && s.catalog && s.static && s.agreement ? s : null;
  } catch {
    return null;
  }
}

function errorText(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return m.split('\n')[0]!.slice(0, 300);
}

function sqlState(e: unknown): string | undefined {
  const c = (e as { code?: unknown } | null)?.code;
  return typeof c === 'string' && /^[0-9A-Z]{5}$/.test(c) ? c : undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Statements as executed

const TX_CONTROL = /^(?:BEGIN|START\s+TRANSACTION|COMMIT|END|ROLLBACK|ABORT)\b(?!\s+ATOMIC)/i;
/** Cannot run in a transaction block and cannot change the catalog. */
const SKIP = /^(?:VACUUM|CHECKPOINT|CREATE\s+DATABASE|DROP\s+DATABASE|ALTER\s+DATABASE|ALTER\s+SYSTEM|CREATE\s+TABLESPACE|DROP\s+TABLESPACE|REINDEX|CLUSTER|COPY\b[\s\S]*\bFROM\s+STDIN\b|LISTEN|NOTIFY|UNLISTEN)/i;
/** Statements after which a snapshot is taken (they may change RLS, policies or functions). */
const MAY_CHANGE_CATALOG = /ROW\s+LEVEL\s+SECURITY|POLICY|FUNCTION|PROCEDURE|^\s*(?:DO|CALL|SELECT|ALTER|DROP|EXECUTE)\b/i;

interface ExecStatement {
  text: string;
  line: number;
}

function executableStatements(text: string): ExecStatement[] {
  const lineOf = lineLocator(text);
  const out: ExecStatement[] = [];
  for (const st of splitSql(text, { migrationMarkers: true }).statements) {
    let t = st.text.trim();
    if (t === '' || TX_CONTROL.test(t) || SKIP.test(t)) continue;
    t = t.replace(/^(CREATE\s+(?:UNIQUE\s+)?INDEX\s+)CONCURRENTLY\s+/i, '$1').replace(/^(DROP\s+INDEX\s+)CONCURRENTLY\s+/i, '$1');
    out.push({ text: t, line: lineOf(st.start) });
  }
  return out;
}

/** Line of an error inside a statement (Postgres reports a 1-based character position). */
function errorLine(st: ExecStatement, e: unknown): number {
  const pos = Number((e as { position?: unknown } | null)?.position);
  if (!Number.isFinite(pos) || pos < 1) return st.line;
  return st.line + (st.text.slice(0, pos - 1).match(/\n/g)?.length ?? 0);
}

/** Extensions the files create that PGlite ships. */
function wantedExtensions(files: { text: string }[]): string[] {
  const out = new Set<string>();
  for (const f of files) {
    for (const m of f.text.matchAll(/CREATE\s+EXTENSION\s+(?:IF\s+NOT\s+EXISTS\s+)?(?:"([^"]+)"|([A-Za-z_][\w-]*))/gi)) {
      const id = (m[1] ?? m[2]!).toLowerCase().replace(/-/g, '_');
      if (PGLITE_CONTRIB.has(id)) out.add(id);
    }
  }
  return [...out].sort();
}

function quoteIdent(s: string): string {
  return `"${s.replace(/"/g, '""')}"`;
}
/** A normalised name (`audit.events`, `api_keys`, `API_Keys`) as a quoted SQL name. */
function quoteName(name: string): string {
  const dot = name.indexOf('.');
  return dot > 0 ? `${quoteIdent(name.slice(0, dot))}.${quoteIdent(name.slice(dot + 1))}` : quoteIdent(name);
}
function quoteLiteral(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

// ---------------------------------------------------------------------------------------------------------------
// PGlite

async function startPglite(files: { text: string }[], cacheDir: string | null): Promise<PGlite> {
  const mod = await import('@electric-sql/pglite');
  const extensions: Record<string, unknown> = {};
  for (const id of wantedExtensions(files)) {
    try {
      const m = (await import(`@electric-sql/pglite/contrib/${id}`)) as Record<string, unknown>;
      if (m[id]) extensions[id] = m[id];
    } catch {
      // not shipped by this PGlite: CREATE EXTENSION fails and the file is folded statically
    }
  }
  const template = cacheDir ? join(cacheDir, `pglite-${pgliteVersion()}-datadir.tar.gz`) : null;
  const base = { relaxedDurability: true, extensions: extensions as never };
  if (template && existsSync(template)) {
    try {
      const db = new mod.PGlite({ ...base, loadDataDir: new Blob([readFileSync(template)], { type: 'application/x-gzip' }) });
      await db.waitReady;
      return db;
    } catch {
      // a damaged template: initialise afresh (and replace it below)
    }
  }
  const db = new mod.PGlite(base);
  await db.waitReady;
  if (template) {
    try {
      const blob = await db.dumpDataDir('gzip');
      writeFileAtomic(template, new Uint8Array(await blob.arrayBuffer()));
    } catch {
      // no template: later cold runs initialise afresh
    }
  }
  return db;
}

// ---------------------------------------------------------------------------------------------------------------
// The run

interface Corrections {
  tables: Map<string, CatalogTable | null>;
  policies: Map<string, CatalogPolicy | null>;
  functions: Map<string, CatalogFunction | null>;
}

class ExactRun {
  private snapshot: Snapshot = new Map();
  /** Where execution last turned gating on / created a policy / (re)defined a function. */
  private readonly gatedAt = new Map<string, { file: string; line: number }>();
  private readonly policyAt = new Map<string, { file: string; line: number }>();
  private readonly functionAt = new Map<string, { file: string; line: number }>();
  private readonly corrections: Corrections = { tables: new Map(), policies: new Map(), functions: new Map() };
  private readonly createdObjects = new Set<string>();
  readonly failures: ExactFailure[] = [];
  readonly diagnostics: CatalogDiagnostic[] = [];
  private readonly q: QueryFn;

  constructor(
    private readonly db: PGlite,
    private readonly stat: Catalog,
    private readonly defaultSetting: string | undefined,
  ) {
    this.q = async (sql) => (await db.query<Record<string, unknown>>(sql)).rows;
  }

  async apply(files: { path: string; text: string }[]): Promise<void> {
    this.snapshot = await readSnapshot(this.q);
    for (const f of files) {
      const stmts = executableStatements(f.text);
      for (let attempt = 0; ; attempt++) {
        const r = await this.applyFile(f, stmts);
        if (r === null) break;
        if (attempt < 20 && (await this.createMissing(r.error))) continue;
        const code = sqlState(r.error);
        const message = `migration failed when executed in embedded Postgres (${errorText(r.error)}${code ? `; SQLSTATE ${code}` : ''}); its statements were folded statically instead`;
        this.failures.push({ file: f.path, line: r.line, message });
        this.diagnostics.push({ file: f.path, line: r.line, message });
        if (!code && (this.db.closed || /RuntimeError|abort|unreachable/i.test(errorText(r.error)))) throw r.error;
        await this.foldStatically(f);
        break;
      }
      // A fresh session for the next file, as a migration tool would give it (SET ROLE, search_path, temp tables).
      await this.db.exec('DISCARD ALL');
    }
  }

  /**
   * Roles and schemas live outside migrations (created by infrastructure, or by the platform: Supabase's `auth`):
   * create one a file needs (a role NOLOGIN, an empty schema) so the file can be retried. False when the error is
   * something else, or the object was already created once.
   */
  private async createMissing(error: unknown): Promise<boolean> {
    const text = errorText(error);
    const code = sqlState(error);
    const role = code === '42704' ? /^role "((?:[^"]|"")+)" does not exist/.exec(text)?.[1] : undefined;
    const schema = code === '3F000' ? /^schema "((?:[^"]|"")+)" does not exist/.exec(text)?.[1] : undefined;
    const key = role !== undefined ? `role ${role}` : schema !== undefined ? `schema ${schema}` : null;
    if (key === null || this.createdObjects.has(key)) return false;
    this.createdObjects.add(key);
    try {
      await this.db.exec(role !== undefined ? `CREATE ROLE ${quoteIdent(role)} NOLOGIN` : `CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema!)}`);
      return true;
    } catch {
      return false;
    }
  }

  /** Runs one file in a transaction; null on success, else the error and its line (the file is rolled back). */
  private async applyFile(f: { path: string; text: string }, stmts: ExecStatement[]): Promise<{ error: unknown; line: number } | null> {
    const file = f.path;
    let snap = this.snapshot;
    const changes: Array<{ before: Snapshot; after: Snapshot; line: number }> = [];
    await this.db.exec('BEGIN');
    let current: ExecStatement | null = null;
    try {
      for (const st of stmts) {
        current = st;
        await this.db.exec(st.text);
        if (MAY_CHANGE_CATALOG.test(st.text)) {
          const next = await readSnapshot(this.q);
          changes.push({ before: snap, after: next, line: st.line });
          snap = next;
        }
      }
      current = null;
      const next = await readSnapshot(this.q);
      changes.push({ before: snap, after: next, line: stmts[0]?.line ?? 1 });
      await this.db.exec('COMMIT');
    } catch (e) {
      await this.db.exec('ROLLBACK').catch(() => undefined);
      return { error: e, line: current ? errorLine(current, e) : (stmts[0]?.line ?? 1) };
    }
    for (const c of changes) this.record(file, c.before, c.after, c.line);
    this.snapshot = snap;
    // Objects that only exist as static corrections (a failed file created them) keep being followed statically:
    // a later file that executes fine may still switch their RLS or drop their policy.
    if (this.corrections.tables.size || this.corrections.policies.size || this.corrections.functions.size) {
      await this.foldStatically(f, true);
    }
    return null;
  }

  private record(file: string, before: Snapshot, after: Snapshot, line: number): void {
    const keys = new Set([...before.keys(), ...after.keys()]);
    for (const k of keys) {
      const a = before.get(k);
      const b = after.get(k);
      if (a === b) continue;
      const [kind, name, sub] = k.split('|') as [string, string, string | undefined];
      if (kind === 't') {
        if (b?.startsWith('E') && !a?.startsWith('E')) this.gatedAt.set(name, { file, line });
        this.corrections.tables.delete(name);
      } else if (kind === 'p') {
        if (a === undefined) this.policyAt.set(`${name}|${sub}`, { file, line });
        this.corrections.policies.delete(`${name}|${sub}`);
      } else {
        if (b !== undefined) this.functionAt.set(name, { file, line });
        this.corrections.functions.delete(name);
      }
    }
  }

  private provenance(kind: 'table' | 'policy' | 'function', key: string): Provenance {
    let s: Provenance | undefined;
    let rec: { file: string; line: number } | undefined;
    if (kind === 'table') {
      s = this.stat.tables[key]?.source;
      rec = this.gatedAt.get(key);
    } else if (kind === 'policy') {
      const [t, p] = key.split('|') as [string, string];
      s = this.stat.tables[t]?.policies.find((x) => x.name === p)?.source;
      rec = this.policyAt.get(key);
    } else {
      s = this.stat.functions[key]?.source;
      rec = this.functionAt.get(key);
    }
    if (s && s.kind === 'migration' && (!rec || s.file === rec.file)) return s;
    if (rec) return { kind: 'migration', file: rec.file, line: rec.line, detail: 'seen when the migrations were executed' };
    return s ?? { kind: 'migration', detail: 'executed migrations' };
  }

  /** The catalog as executed so far, with the static corrections of failed files applied. */
  async current(): Promise<Catalog> {
    const rows = await readPgCatalogRows(this.q);
    const c = await catalogFromRows(rows, {
      origin: 'migrations',
      provenance: (k, key) => this.provenance(k, key),
      ...(this.defaultSetting ? { defaultSetting: this.defaultSetting } : {}),
    });
    return this.applyCorrections(c);
  }

  private applyCorrections(c: Catalog): Catalog {
    const tables: Record<string, CatalogTable> = record();
    for (const [n, t] of Object.entries(c.tables)) tables[n] = { ...t, policies: [...t.policies] };
    for (const [n, t] of this.corrections.tables) {
      if (!t) delete tables[n];
      else if (tables[n]) tables[n] = { ...tables[n]!, enabled: t.enabled, forced: t.forced, source: t.source };
      else tables[n] = { ...t, policies: [...t.policies] };
    }
    for (const [k, p] of this.corrections.policies) {
      const [tn, pn] = k.split('|') as [string, string];
      const t = tables[tn];
      if (!t) continue;
      t.policies = t.policies.filter((x) => x.name !== pn);
      if (p) t.policies.push(p);
    }
    const functions: Record<string, CatalogFunction> = record(c.functions);
    for (const [n, f] of this.corrections.functions) {
      if (f) functions[n] = f;
      else delete functions[n];
    }
    const scope = new Set<string>();
    for (const t of Object.values(tables)) for (const p of t.policies) for (const s of p.settings) scope.add(s);
    return { ...c, tables, functions, scopeSettings: scope.size ? [...scope] : [this.defaultSetting ?? DEFAULT_SCOPE_SETTING] };
  }

  /**
   * A failed file: fold its statements on top of the state executed so far (written out as SQL the fold reads),
   * and keep what it changed as corrections.
   */
  private async foldStatically(f: { path: string; text: string }, onlyCorrected = false): Promise<void> {
    const only = onlyCorrected
      ? { tables: new Set(this.corrections.tables.keys()), policies: new Set(this.corrections.policies.keys()), functions: new Set(this.corrections.functions.keys()) }
      : null;
    const before = await this.current();
    const r = foldMigrations([{ path: DUMP_PATH, text: dumpSql(before) }, f], this.defaultSetting ? { defaultSetting: this.defaultSetting } : {});
    const restore = <T extends { source: Provenance }>(x: T, orig: Provenance | undefined): T => (x.source.file === DUMP_PATH && orig ? { ...x, source: orig } : x);
    for (const name of new Set([...Object.keys(before.tables), ...Object.keys(r.tables)])) {
      const a = before.tables[name];
      const b = r.tables[name];
      if (only && !only.tables.has(name)) continue;
      const changed = !a !== !b || (a && b && (a.enabled !== b.enabled || a.forced !== b.forced)) || b?.source.file === f.path;
      if (!changed) continue;
      if (!b) {
        this.corrections.tables.set(name, null);
        continue;
      }
      const policies = b.policies.map((p) => restore(p, a?.policies.find((x) => x.name === p.name)?.source));
      this.corrections.tables.set(name, { ...restore(b, a?.source), policies });
    }
    const policyFollowed = (table: string, policy: string): boolean => !only || only.tables.has(table) || only.policies.has(`${table}|${policy}`);
    for (const [name, b] of Object.entries(r.tables)) {
      const a = before.tables[name];
      for (const p of b.policies) if (p.source.file === f.path && policyFollowed(name, p.name)) this.corrections.policies.set(`${name}|${p.name}`, p);
      for (const p of a?.policies ?? []) if (!b.policies.some((x) => x.name === p.name) && policyFollowed(name, p.name)) this.corrections.policies.set(`${name}|${p.name}`, null);
    }
    for (const name of new Set([...Object.keys(before.functions), ...Object.keys(r.functions)])) {
      if (only && !only.functions.has(name)) continue;
      const a = before.functions[name];
      const b = r.functions[name];
      if (a && !b) this.corrections.functions.set(name, null);
      else if (b && b.source.file === f.path) this.corrections.functions.set(name, b);
      else if (a && b && (a.securityDefiner !== b.securityDefiner || a.setsSearchPath !== b.setsSearchPath)) {
        this.corrections.functions.set(name, { ...a, securityDefiner: b.securityDefiner, setsSearchPath: b.setsSearchPath });
      }
    }
    if (!only) for (const d of r.diagnostics) if (d.file === f.path) this.diagnostics.push(d);
  }
}

/** SQL the static fold reads back as `c`: functions (flags and settings), RLS switches, policies (settings). */
export function dumpSql(c: Catalog): string {
  const out: string[] = [];
  for (const f of Object.values(c.functions)) {
    const reads = f.readsSettings.map((s) => `current_setting(${quoteLiteral(s)}, true)`);
    out.push(
      `CREATE OR REPLACE FUNCTION ${quoteName(f.name)}() RETURNS void LANGUAGE sql${f.securityDefiner ? ' SECURITY DEFINER' : ''}${f.setsSearchPath ? ' SET search_path = pg_catalog' : ''} AS $rlscov$ SELECT ${reads.length ? reads.join(', ') : '1'} $rlscov$;`,
    );
  }
  for (const t of Object.values(c.tables)) {
    if (t.enabled) out.push(`ALTER TABLE ${quoteName(t.name)} ENABLE ROW LEVEL SECURITY;`);
    if (t.forced) out.push(`ALTER TABLE ${quoteName(t.name)} FORCE ROW LEVEL SECURITY;`);
    for (const p of t.policies) {
      const cond = p.settings.map((s) => `current_setting(${quoteLiteral(s)}, true) IS NOT NULL`).join(' AND ') || 'true';
      out.push(`CREATE POLICY ${quoteIdent(p.name)} ON ${quoteName(t.name)} USING (${cond});`);
    }
  }
  return out.join('\n');
}

/**
 * Executes the migrations (in the order given; rollbacks removed) in embedded Postgres and reads the catalog, with
 * the static fold's agreement. Never throws for bad SQL; see the file comment for failures and caching.
 */
export async function buildExactCatalog(files: { path: string; text: string }[], opts: ExactOptions = {}): Promise<ExactResult> {
  const t0 = performance.now();
  const cacheDir = opts.cacheDir ?? null;
  const key = exactCacheKey(files, opts.defaultSetting);
  const cacheFile = cacheDir ? join(cacheDir, `exact-${key}.json`) : null;
  if (cacheFile && opts.reuseResults !== false) {
    const hit = readStored(cacheFile, key);
    if (hit) {
      return { catalog: hit.catalog, static: hit.static, agreement: hit.agreement, failures: hit.failures, cached: true, timings: { totalMs: performance.now() - t0, startMs: 0, applyMs: 0 } };
    }
  }
  await loadCatalogParser();
  const fopts = opts.defaultSetting ? { defaultSetting: opts.defaultSetting } : {};
  const stat = opts.staticCatalog ?? foldMigrations(files, fopts);
  let db: PGlite | null = null;
  let startMs = 0;
  let applyMs = 0;
  let catalog: Catalog;
  let failures: ExactFailure[] = [];
  let cacheable = true;
  try {
    const t1 = performance.now();
    db = await startPglite(files, cacheDir);
    startMs = performance.now() - t1;
    const t2 = performance.now();
    const run = new ExactRun(db, stat, opts.defaultSetting);
    await run.apply(files);
    const c = await run.current();
    applyMs = performance.now() - t2;
    failures = run.failures;
    catalog = {
      ...c,
      migrationFiles: files.map((f) => f.path),
      diagnostics: run.diagnostics,
      build: { mode: 'exact', failedMigrations: [...new Set(failures.map((f) => f.file))] },
    };
  } catch (e) {
    // PGlite could not start or stopped: the static fold, said loudly.
    cacheable = false;
    const message = `embedded Postgres (PGlite) could not execute the migrations (${errorText(e)}); the static fold is used instead`;
    failures = [{ file: files[0]?.path ?? '', line: 1, message }];
    catalog = { ...stat, diagnostics: [...stat.diagnostics, { file: files[0]?.path ?? '', line: 1, message }], build: { mode: 'exact', failedMigrations: files.map((f) => f.path) } };
  } finally {
    await db?.close().catch(() => undefined);
  }
  const agreement = catalogDrift(stat, catalog, { left: 'static', right: 'exact' });
  catalog = { ...catalog, drift: agreement };
  if (cacheFile && cacheable && opts.reuseResults !== false) {
    const stored: Stored = { format: CACHE_FORMAT, key, catalog, static: stat, agreement, failures };
    writeFileAtomic(cacheFile, JSON.stringify(stored));
  }
  return { catalog, static: stat, agreement, failures, cached: false, timings: { totalMs: performance.now() - t0, startMs, applyMs } };
}
