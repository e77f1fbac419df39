// Reading the RLS catalog out of a running Postgres: the same SQL for a live server (live.ts, through `pg`) and for
// the embedded one the migrations are executed in (exact.ts, through PGlite). What a server knows exactly is taken
// from its system catalogs:
//   - gated tables: pg_class.relrowsecurity (ENABLE) / relforcerowsecurity (FORCE), schema-qualified;
//   - functions: pg_proc.prosecdef (SECURITY DEFINER), proconfig (SET search_path = ...), the owner and whether it
//     bypasses RLS (pg_roles.rolbypassrls / rolsuper);
//   - policies: pg_policy with pg_get_expr(polqual / polwithcheck), and the functions each expression calls
//     (pg_depend, so an overloaded or schema-qualified call resolves exactly).
// What only text can tell (which settings an expression or a function body reads, which tables a body writes) is
// read from the server's own deparsed text: current_setting('...') in the expressions, and the function definitions
// (pg_get_functiondef) folded by the same code as migrations, so the static and the database catalogs interpret
// bodies identically. Settings read through functions are followed transitively.
//
// Only relrowsecurity makes a table gated here, as in Postgres: a table FORCEd but never ENABLEd is not gated (the
// static fold lists it, on purpose; catalogDrift shows the difference).

import type { Catalog, CatalogFunction, CatalogPolicy, CatalogTable, Provenance } from '../model.js';
import { normalizeFunctionName, normalizeTableName } from '../sql/index.js';
import { DEFAULT_SCOPE_SETTING, foldMigrations, loadCatalogParser } from './migrations.js';
import { record } from '../records.js';

/** Runs one read-only query and returns its rows as plain objects (column name -> value). */
export type QueryFn = (sql: string) => Promise<Array<Record<string, unknown>>>;

const USER_SCHEMA = (col: string): string =>
  `${col} NOT IN ('pg_catalog', 'information_schema') AND ${col} !~ '^pg_(toast|temp_|toast_temp_)'`;

/** Tables with RLS enabled or forced (relkind r: table, p: partitioned table). */
export const TABLES_SQL = `
SELECT n.nspname AS schema, c.relname AS name, c.relrowsecurity AS enabled, c.relforcerowsecurity AS forced
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND (c.relrowsecurity OR c.relforcerowsecurity) AND ${USER_SCHEMA('n.nspname')}
ORDER BY 1, 2`.trim();

/** Every policy with its expressions deparsed and the functions they call (oids, comma-separated). */
export const POLICIES_SQL = `
SELECT n.nspname AS schema, c.relname AS table_name, p.polname AS name, p.polpermissive AS permissive,
  p.polcmd::text AS cmd,
  COALESCE(pg_catalog.pg_get_expr(p.polqual, p.polrelid), '') AS using_expr,
  COALESCE(pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid), '') AS check_expr,
  COALESCE((SELECT pg_catalog.string_agg(d.refobjid::text, ',' ORDER BY d.refobjid)
            FROM pg_catalog.pg_depend d
            WHERE d.classid = 'pg_catalog.pg_policy'::pg_catalog.regclass AND d.objid = p.oid
              AND d.refclassid = 'pg_catalog.pg_proc'::pg_catalog.regclass), '') AS calls
FROM pg_catalog.pg_policy p
JOIN pg_catalog.pg_class c ON c.oid = p.polrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE ${USER_SCHEMA('n.nspname')}
ORDER BY 1, 2, 3`.trim();

/**
 * User functions and procedures (not those of extensions): SECURITY DEFINER, SET options, owner and whether the
 * owner bypasses RLS, and the full definition for SQL and PL/pgSQL ones (what the fold reads bodies from).
 */
export const FUNCTIONS_SQL = `
SELECT p.oid::text AS oid, n.nspname AS schema, p.proname AS name, p.prokind::text AS kind, l.lanname AS language,
  p.prosecdef AS security_definer,
  COALESCE(pg_catalog.array_to_string(p.proconfig, E'\\n'), '') AS config,
  pg_catalog.pg_get_userbyid(p.proowner) AS owner,
  COALESCE(r.rolbypassrls, false) AS owner_bypassrls, COALESCE(r.rolsuper, false) AS owner_superuser,
  CASE WHEN p.prokind IN ('f', 'p') AND l.lanname IN ('sql', 'plpgsql')
       THEN pg_catalog.pg_get_functiondef(p.oid) ELSE '' END AS definition,
  COALESCE(p.prosrc, '') AS src
FROM pg_catalog.pg_proc p
JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
JOIN pg_catalog.pg_language l ON l.oid = p.prolang
LEFT JOIN pg_catalog.pg_roles r ON r.oid = p.proowner
WHERE ${USER_SCHEMA('n.nspname')}
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                  WHERE d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass AND d.objid = p.oid AND d.deptype = 'e')
ORDER BY 2, 3, p.oid`.trim();

/**
 * A cheap fingerprint of everything the catalog depends on, one row per object: used after each migration (and
 * each relevant statement) of an exact build to see what a statement changed.
 */
export const SNAPSHOT_SQL = `
SELECT 't' AS k, n.nspname AS schema, c.relname AS name, '' AS sub,
  (CASE WHEN c.relrowsecurity THEN 'E' ELSE '' END) || (CASE WHEN c.relforcerowsecurity THEN 'F' ELSE '' END) AS v
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND (c.relrowsecurity OR c.relforcerowsecurity) AND ${USER_SCHEMA('n.nspname')}
UNION ALL
SELECT 'p', n.nspname, c.relname, p.polname,
  pg_catalog.md5(COALESCE(pg_catalog.pg_get_expr(p.polqual, p.polrelid), '') || '|' ||
                 COALESCE(pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid), ''))
FROM pg_catalog.pg_policy p JOIN pg_catalog.pg_class c ON c.oid = p.polrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE ${USER_SCHEMA('n.nspname')}
UNION ALL
SELECT 'f', n.nspname, p.proname, p.oid::text,
  p.prosecdef::text || '|' || COALESCE(pg_catalog.array_to_string(p.proconfig, ','), '') || '|' ||
  pg_catalog.md5(COALESCE(p.prosrc, ''))
FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
WHERE ${USER_SCHEMA('n.nspname')}
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                  WHERE d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass AND d.objid = p.oid AND d.deptype = 'e')`.trim();

export interface TableRow {
  schema: string;
  name: string;
  enabled: boolean;
  forced: boolean;
}
export interface PolicyRow {
  schema: string;
  table_name: string;
  name: string;
  permissive: boolean;
  cmd: string;
  using_expr: string;
  check_expr: string;
  calls: string;
}
export interface FunctionRow {
  oid: string;
  schema: string;
  name: string;
  kind: string;
  language: string;
  security_definer: boolean;
  config: string;
  owner: string;
  owner_bypassrls: boolean;
  owner_superuser: boolean;
  definition: string;
  src: string;
}

export interface PgCatalogRows {
  tables: TableRow[];
  policies: PolicyRow[];
  functions: FunctionRow[];
}

const str = (v: unknown): string => (v === null || v === undefined ? '' : String(v));
const bool = (v: unknown): boolean => v === true || v === 't' || v === 'true';

/** Runs the three catalog queries (in the caller's transaction, if any). */
export async function readPgCatalogRows(q: QueryFn): Promise<PgCatalogRows> {
  const tables = (await q(TABLES_SQL)).map((r) => ({ schema: str(r['schema']), name: str(r['name']), enabled: bool(r['enabled']), forced: bool(r['forced']) }));
  const policies = (await q(POLICIES_SQL)).map((r) => ({
    schema: str(r['schema']),
    table_name: str(r['table_name']),
    name: str(r['name']),
    permissive: bool(r['permissive']),
    cmd: str(r['cmd']),
    using_expr: str(r['using_expr']),
    check_expr: str(r['check_expr']),
    calls: str(r['calls']),
  }));
  const functions = (await q(FUNCTIONS_SQL)).map((r) => ({
    oid: str(r['oid']),
    schema: str(r['schema']),
    name: str(r['name']),
    kind: str(r['kind']),
    language: str(r['language']),
    security_definer: bool(r['security_definer']),
    config: str(r['config']),
    owner: str(r['owner']),
    owner_bypassrls: bool(r['owner_bypassrls']),
    owner_superuser: bool(r['owner_superuser']),
    definition: str(r['definition']),
    src: str(r['src']),
  }));
  return { tables, policies, functions };
}

/** One object of a snapshot: `t|table`, `p|table|policy`, `f|function|oid` -> a value that changes with it. */
export type Snapshot = Map<string, string>;

export async function readSnapshot(q: QueryFn): Promise<Snapshot> {
  const out: Snapshot = new Map();
  for (const r of await q(SNAPSHOT_SQL)) {
    const k = str(r['k']);
    const schema = str(r['schema']);
    const name = str(r['name']);
    if (k === 't') out.set(`t|${normalizeTableName(schema, name, true)}`, str(r['v']));
    else if (k === 'p') out.set(`p|${normalizeTableName(schema, name, true)}|${str(r['sub'])}`, str(r['v']));
    else out.set(`f|${normalizeFunctionName([schema, name], true)}|${str(r['sub'])}`, str(r['v']));
  }
  return out;
}

const CURRENT_SETTING = /current_setting\s*\(\s*'((?:[^']|'')*)'/gi;
const CALL = /(?<![\w$".])((?:"[^"]*"|[A-Za-z_][\w$]*)(?:\s*\.\s*(?:"[^"]*"|[A-Za-z_][\w$]*))?)\s*\(/g;

/** Settings named in current_setting('...') in a text, lower-cased. */
export function settingsInText(text: string): string[] {
  const out = new Set<string>();
  for (const m of text.matchAll(CURRENT_SETTING)) out.add(m[1]!.replace(/''/g, "'").toLowerCase());
  return [...out];
}

function callsInText(text: string): string[] {
  const out = new Set<string>();
  for (const m of text.matchAll(CALL)) {
    const parts = m[1]!.replace(/\s+/g, '').split('.').map((p) => (p.startsWith('"') ? p.slice(1, -1) : p.toLowerCase()));
    out.add(normalizeFunctionName(parts, true));
  }
  return [...out];
}

export interface FromRowsOptions {
  origin: Catalog['origin'];
  /** Provenance of each object: kind 'table' (key: table), 'policy' (key: table|policy), 'function' (key: name). */
  provenance: (kind: 'table' | 'policy' | 'function', key: string) => Provenance;
  defaultSetting?: string;
}

/**
 * Builds a Catalog from the rows read by readPgCatalogRows. Function bodies are folded like migrations (writes,
 * settings read, transitively through other functions); SECURITY DEFINER, search_path and the owner come from the
 * server. Overloads share one entry: SECURITY DEFINER when any overload is, search_path set only when every
 * SECURITY DEFINER overload sets it, writes and settings united.
 */
export async function catalogFromRows(rows: PgCatalogRows, opts: FromRowsOptions): Promise<Catalog> {
  await loadCatalogParser();
  const defs = rows.functions.filter((f) => f.definition.trim() !== '');
  const folded = defs.length ? foldMigrations(defs.map((f) => ({ path: `oid:${f.oid}`, text: f.definition }))) : null;
  // The fold keeps one entry per name (the last definition); per-oid results come from folding each alone only
  // when a name is overloaded, which is rare.
  const byName = new Map<string, FunctionRow[]>();
  for (const f of rows.functions) {
    const key = normalizeFunctionName([f.schema, f.name], true);
    byName.set(key, [...(byName.get(key) ?? []), f]);
  }
  const nameByOid = new Map<string, string>();
  const functions: Record<string, CatalogFunction> = record();
  for (const [name, overloads] of byName) {
    for (const f of overloads) nameByOid.set(f.oid, name);
    const foldedFns = overloads.length === 1 ? [folded?.functions[name]] : overloads.map((f) => (f.definition ? foldMigrations([{ path: `oid:${f.oid}`, text: f.definition }]).functions[name] : undefined));
    const definers = overloads.filter((f) => f.security_definer);
    const writes = new Map<string, CatalogFunction['writes'][number]>();
    const settings = new Set<string>();
    for (const ff of foldedFns) {
      for (const w of ff?.writes ?? []) writes.set(`${w.verb}|${w.table?.name ?? '?'}|${w.upsert ? 1 : 0}|${w.inCte ? 1 : 0}`, w);
      for (const s of ff?.readsSettings ?? []) settings.add(s);
    }
    for (const f of overloads) for (const s of settingsInText(f.src)) settings.add(s);
    const sets = (f: FunctionRow): boolean => f.config.split('\n').some((c) => /^search_path=/i.test(c));
    const first = definers[0] ?? overloads[0]!;
    functions[name] = {
      name,
      securityDefiner: definers.length > 0,
      language: first.language,
      writes: [...writes.values()],
      readsSettings: [...settings],
      setsSearchPath: definers.length > 0 ? definers.every(sets) : overloads.some(sets),
      source: opts.provenance('function', name),
      owner: first.owner,
      ownerBypassesRls: first.owner_bypassrls || first.owner_superuser,
    };
  }
  // Settings through functions called by other functions (by name in the body) were followed by the fold for SQL
  // and PL/pgSQL; follow them once more across the whole set so that a policy sees the closure.
  const closure = (name: string, seen = new Set<string>()): string[] => {
    const f = functions[name];
    if (!f || seen.has(name)) return [];
    seen.add(name);
    const out = new Set(f.readsSettings);
    for (const row of byName.get(name) ?? []) for (const c of callsInText(row.src)) if (c !== name) for (const s of closure(c, seen)) out.add(s);
    return [...out];
  };
  for (const name of Object.keys(functions)) functions[name]!.readsSettings = closure(name).sort();

  const tables: Record<string, CatalogTable> = record();
  for (const t of rows.tables) {
    if (!t.enabled) continue;
    const name = normalizeTableName(t.schema, t.name, true);
    tables[name] = { name, enabled: true, forced: t.forced, source: opts.provenance('table', name), policies: [] };
  }
  const scope = new Set<string>();
  for (const p of rows.policies) {
    const table = normalizeTableName(p.schema, p.table_name, true);
    const t = tables[table];
    if (!t) continue;
    const text = `${p.using_expr}\n${p.check_expr}`;
    const settings = new Set(settingsInText(text));
    const called = new Set<string>(callsInText(text));
    for (const oid of p.calls.split(',').filter(Boolean)) {
      const n = nameByOid.get(oid);
      if (n) called.add(n);
    }
    for (const c of called) for (const s of functions[c]?.readsSettings ?? []) settings.add(s);
    const policy: CatalogPolicy = { name: p.name, settings: [...settings].sort(), source: opts.provenance('policy', `${table}|${p.name}`) };
    t.policies.push(policy);
    for (const s of policy.settings) scope.add(s);
  }
  return {
    origin: opts.origin,
    tables,
    functions,
    scopeSettings: scope.size ? [...scope] : [opts.defaultSetting ?? DEFAULT_SCOPE_SETTING],
    migrationFiles: [],
    diagnostics: [],
  };
}
