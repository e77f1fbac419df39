// The RLS catalog folded from SQL migrations: which tables are gated by row-level security, the policies on them
// and the settings those policies read, and the functions (SECURITY DEFINER or not) with the tables they write.
//
// How a file is read:
// 1. `splitSql` cuts it into statements (quotes, dollar quotes, comments and BEGIN ATOMIC bodies respected), drops
//    everything after a goose/sql-migrate/dbmate "down" marker and skips psql meta lines (`\connect ...`).
// 2. Only statements that can change the catalog are looked at: ALTER TABLE ... ROW LEVEL SECURITY / RENAME TO /
//    SET SCHEMA, CREATE/ALTER/DROP POLICY, CREATE/ALTER/DROP FUNCTION|PROCEDURE, DROP TABLE, DROP SCHEMA ...
//    CASCADE, DO blocks. They are parsed one at a time with the real Postgres grammar (libpg-query); parsing every
//    CREATE TABLE and INSERT of a 200-file history would cost several times the fold's budget, and skipping them
//    means a syntax error in an unrelated statement cannot hide anything. Two shapes that dominate real histories
//    skip the per-statement parse: a bare `ALTER TABLE t ENABLE ROW LEVEL SECURITY` (matched exactly) and
//    CREATE POLICY (parsed once per text with its names replaced by placeholders; loops create the same policy on
//    many tables).
// 3. A statement the grammar rejects becomes a CatalogDiagnostic and is folded with a regex fallback that only
//    understands `ALTER TABLE name (ENABLE | FORCE | DISABLE | NO FORCE) ROW LEVEL SECURITY`.
// 4. DO blocks and PL/pgSQL function bodies are parsed with the PL/pgSQL parser (plpgsql.ts); the SQL a DO block
//    runs, including `EXECUTE format('ALTER TABLE %I ...', v)` over literal lists, is folded like top-level SQL,
//    placed at its own line inside the block. Every branch counts (see plpgsql.ts).
//
// Gating follows Postgres (relrowsecurity / relforcerowsecurity), with one deliberate widening: a table that is
// FORCEd but not ENABLEd is listed as gated (enabled: false, forced: true) with a diagnostic, because Postgres does
// not apply RLS to it until ENABLE but the migration author clearly meant it to be gated. Policies are kept per
// table whether or not the table is gated yet, and attached at the end; settings read through functions are
// resolved at the end too, so a function may be defined after the policy that calls it.

import { InternalError } from '../errors.js';
import type { Catalog, CatalogDiagnostic, CatalogFunction, CatalogPolicy, CatalogTable, Provenance, SqlWrite } from '../model.js';
import { classifySql, loadSqlParser, normalizeFunctionName, normalizeIdent, normalizeTableName } from '../sql/index.js';
import { pg } from '../sql/pg.js';
import { plpgsqlEmbeddedSql, renderParts, type EmbeddedSql } from './plpgsql.js';
import { lineLocator, locateStatement, splitSql } from './split.js';
import { asArr, asObj, asStr, type Json } from './json.js';
import { record } from '../records.js';

export const DEFAULT_SCOPE_SETTING = 'app.current_org_id';


/** `[{String: {sval: 'a'}}, ...]` -> ['a', ...] */
function strings(list: unknown): string[] {
  return asArr(list).map((x) => asStr(asObj(asObj(x)?.['String'])?.['sval']) ?? '');
}

// ---------------------------------------------------------------------------------------------------------------
// Migration file names

/**
 * A rollback ("down") migration, which is never part of the forward schema:
 * - the file name ends in `down.sql` after a separator or as the whole name: `003_x_down.sql`, `003_x.down.sql`,
 *   `003-x-down.sql`, `down.sql` (diesel / refinery style `2024..._x/down.sql`);
 * - `*.undo.sql`, `*.rollback.sql`, and Flyway undo migrations `U3__x.sql`;
 * - any file inside a directory named `down`, `rollback` or `rollbacks` (`migrations/down/003_x.sql`).
 * Paths may use either slash.
 */
export function isRollbackMigration(path: string): boolean {
  const parts = path.replace(/\\/g, '/').split('/');
  const base = (parts.pop() ?? '').toLowerCase();
  if (/(^|[._-])down\.sql$/.test(base)) return true;
  if (/\.(undo|rollback)\.sql$/.test(base)) return true;
  if (/^u\d+(?:[._]\d+)*__.*\.sql$/.test(base)) return true;
  return parts.some((d) => /^(down|rollbacks?)$/i.test(d));
}

/** The digit string of a version, without leading zeros ("" for zero). */
function stripZeros(d: string): string {
  return d.replace(/^0+/, '');
}

/** Version of a migration file: leading digits of its name, or Flyway `V1_2__` / `V1.2__` components. */
function migrationVersion(path: string): string[] | null {
  const parts = path.replace(/\\/g, '/').split('/');
  // The file name, else the nearest directory with a number (`001_init/up.sql`, `2024-01-01-000000_x/up.sql`).
  for (let k = parts.length - 1; k >= 0; k--) {
    const name = parts[k]!;
    const flyway = /^[Vv](\d+(?:[._]\d+)*)__/.exec(name);
    if (flyway) return flyway[1]!.split(/[._]/).map(stripZeros);
    const lead = /^(\d+)/.exec(name);
    if (lead) return [stripZeros(lead[1]!)];
    if (k === parts.length - 1) continue;
    break;
  }
  return null;
}

function compareDigits(a: string, b: string): number {
  return a.length !== b.length ? a.length - b.length : a < b ? -1 : a > b ? 1 : 0;
}

function compareVersions(a: string[], b: string[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const c = compareDigits(a[i]!, b[i]!);
    if (c !== 0) return c;
  }
  return a.length - b.length;
}

/** Path order with digit runs compared as numbers ("a2.sql" < "a10.sql"). */
function naturalCompare(a: string, b: string): number {
  const re = /(\d+)|(\D+)/g;
  const xa = a.match(re) ?? [];
  const xb = b.match(re) ?? [];
  for (let i = 0; i < Math.min(xa.length, xb.length); i++) {
    const p = xa[i]!;
    const q = xb[i]!;
    if (p === q) continue;
    const dp = /^\d/.test(p);
    const dq = /^\d/.test(q);
    if (dp && dq) {
      const c = compareDigits(stripZeros(p), stripZeros(q));
      if (c !== 0) return c;
      return p.length - q.length;
    }
    return p < q ? -1 : 1;
  }
  return xa.length - xb.length;
}

/**
 * Orders migration files the way migration tools apply them: by the number that starts the file name
 * (`001_`, `20240101120000_`, `12-`, Flyway `V1_2__`), compared numerically (`2_x.sql` before `10_y.sql`), then by
 * path (digit runs compared numerically). A file whose name has no number takes the number of its directory
 * (`001_init/up.sql`); files with no number at all come after every numbered one, by path. Same-number files from
 * different directories interleave by number, as a tool applying one merged history would.
 */
export function orderMigrations(paths: string[]): string[] {
  const keyed = paths.map((p) => ({ p, v: migrationVersion(p) }));
  keyed.sort((a, b) => {
    if (a.v && b.v) {
      const c = compareVersions(a.v, b.v);
      if (c !== 0) return c;
    } else if (a.v) return -1;
    else if (b.v) return 1;
    return naturalCompare(a.p, b.p) || (a.p < b.p ? -1 : a.p > b.p ? 1 : 0);
  });
  return keyed.map((k) => k.p);
}

// ---------------------------------------------------------------------------------------------------------------
// The fold

interface TableState {
  /** relrowsecurity */
  enabled: boolean;
  /** relforcerowsecurity */
  forced: boolean;
  /** FORCEd while not enabled (and not DISABLEd since): treated as gated, see the file comment. */
  forceOnly: boolean;
  /** Statement that last turned gating on. */
  source: Provenance;
}

interface ExprInfo {
  settings: string[];
  calls: string[];
}

interface PolicyState {
  name: string;
  using: ExprInfo;
  check: ExprInfo;
  source: Provenance;
}

interface FunctionState {
  fn: CatalogFunction;
  /** Settings read directly by the body. */
  settings: string[];
  /** Names called in the body (candidates for other catalog functions). */
  calls: string[];
}

/**
 * Where a statement sits. SQL run by a DO block gets the line of its statement inside the block when PL/pgSQL
 * reports it, else the DO's own line.
 */
interface Where {
  file: string;
  line: number;
}

const MAX_EMBED_DEPTH = 4;

const RELEVANT_HEAD =
  /^(?:ALTER\s+(?:TABLE|POLICY|FUNCTION|PROCEDURE|ROUTINE)\b|CREATE\s+(?:OR\s+REPLACE\s+)?(?:FUNCTION|PROCEDURE|POLICY)\b|DROP\s+(?:TABLE|FUNCTION|PROCEDURE|ROUTINE|POLICY|SCHEMA)\b|DO\b)/i;
const ALTER_TABLE_HEAD = /^ALTER\s+TABLE\b/i;
const ALTER_TABLE_RELEVANT = /ROW\s+LEVEL\s+SECURITY|RENAME\s+TO|SET\s+SCHEMA/i;
const MENTIONS_RLS = /ROW\s+LEVEL\s+SECURITY/i;

/** Could this statement change the catalog? (Cheap text test; the parse decides.) */
function isRelevant(text: string): boolean {
  if (ALTER_TABLE_HEAD.test(text)) return ALTER_TABLE_RELEVANT.test(text);
  return RELEVANT_HEAD.test(text) || MENTIONS_RLS.test(text);
}

const IDENT = String.raw`(?:"[^"]*(?:""[^"]*)*"|[A-Za-z_\u0080-\uffff][\w$\u0080-\uffff]*)`;
const RLS_FALLBACK = new RegExp(
  String.raw`ALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?(${IDENT}(?:\s*\.\s*${IDENT})*)\s*\*?\s*((?:,?\s*(?:ENABLE|FORCE|DISABLE|NO\s+FORCE)\s+ROW\s+LEVEL\s+SECURITY\s*)+)`,
  'gi',
);
const RLS_ACTION = /(ENABLE|FORCE|DISABLE|NO\s+FORCE)\s+ROW\s+LEVEL\s+SECURITY/gi;

/** An identifier the fast paths accept: "quoted" (not empty, "" escapes) or plain ASCII. */
const ASCII_IDENT = String.raw`(?:"(?=[^"]|"")[^"]*(?:""[^"]*)*"|[A-Za-z_][A-Za-z0-9_$]*)`;
const RLS_ACTION_TEXT = String.raw`(?:ENABLE|FORCE|DISABLE|NO\s+FORCE)\s+ROW\s+LEVEL\s+SECURITY`;
const SIMPLE_RLS = new RegExp(
  String.raw`^ALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?(${ASCII_IDENT}(?:\s*\.\s*${ASCII_IDENT}){0,2})\s+(${RLS_ACTION_TEXT}(?:\s*,\s*${RLS_ACTION_TEXT})*)\s*$`,
  'i',
);
/** Reserved words that cannot be unquoted table names (plus a few that would make the fast path ambiguous). */
const RESERVED = new Set(
  ('all analyse analyze and any array as asc asymmetric both case cast check collate column constraint create ' +
    'current_catalog current_date current_role current_time current_timestamp current_user default deferrable desc ' +
    'distinct do else end except false fetch for foreign from grant group having in initially intersect into ' +
    'lateral leading limit localtime localtimestamp not null offset on only or order placing primary references ' +
    'returning select session_user some symmetric system_user table then to trailing true union unique user using ' +
    'variadic when where window with if exists')
    .split(' '),
);

const ASCII_IDENT_G = new RegExp(ASCII_IDENT, 'g');
const QUALIFIED = String.raw`${ASCII_IDENT}(?:\s*\.\s*${ASCII_IDENT}){0,2}`;
const DROP_POLICY = new RegExp(
  String.raw`^DROP\s+POLICY\s+(?:IF\s+EXISTS\s+)?(${ASCII_IDENT})\s+ON\s+(${QUALIFIED})(?:\s+(?:CASCADE|RESTRICT))?\s*$`,
  'i',
);
const CREATE_POLICY_HEAD = new RegExp(String.raw`^CREATE\s+POLICY\s+(${ASCII_IDENT})\s+ON\s+(${QUALIFIED})(?=\s)`, 'i');

interface PolicyInfo {
  using: ExprInfo;
  check: ExprInfo;
}
/** Settings and calls of CREATE POLICY texts with the names replaced by placeholders (see policyShortcut). */
const policyTemplates = new Map<string, PolicyInfo | null>();

/** A (possibly qualified) name as written, with an unquoted part that is a reserved word. */
function isReservedName(raw: string): boolean {
  for (const m of raw.matchAll(ASCII_IDENT_G)) if (!m[0].startsWith('"') && RESERVED.has(m[0].toLowerCase())) return true;
  return false;
}

/** Table key of a (possibly qualified) name as written in SQL. */
function tableKey(raw: string): string {
  // Most names are already keys: unquoted, lower case, unqualified, short enough not to be truncated.
  if (raw.length <= 63 && PLAIN_KEY.test(raw)) return raw;
  return normalizeTableName(null, raw.replace(/\s*\.\s*/g, '.'));
}
const PLAIN_KEY = /^[a-z_][a-z0-9_$]*$/;

const CREATE_FUNCTION_HEAD = /^CREATE\s+(?:OR\s+REPLACE\s+)?(?:FUNCTION|PROCEDURE)\b/i;
/** The opening of a dollar-quoted body: `AS $tag$`. */
const DOLLAR_BODY = /\bAS\s+(\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$)/i;

const CURRENT_SETTING_TEXT = /current_setting\s*\(\s*'([^']*(?:''[^']*)*)'/gi;
const CALL_TEXT = /(?<![\w$".])((?:"[^"]*"|[A-Za-z_][\w$]*)(?:\s*\.\s*(?:"[^"]*"|[A-Za-z_][\w$]*))?)\s*\(/g;

function uniq(xs: Iterable<string>): string[] {
  return [...new Set(xs)];
}

function errorMessage(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return m.split('\n')[0]!.slice(0, 200);
}

function snippet(text: string): string {
  const t = text.replace(/\s+/g, ' ').trim();
  return t.length > 80 ? `${t.slice(0, 77)}...` : t;
}

/** Normalised table key of a RangeVar node. */
function rangeVarName(rv: Json | undefined): string | null {
  const rel = asStr(rv?.['relname']);
  if (!rel) return null;
  return normalizeTableName(asStr(rv?.['schemaname']) ?? null, rel, true);
}

/** Normalised function key from parse-tree name parts (already folded). */
function functionKey(parts: string[]): string {
  return normalizeFunctionName(
    parts.filter((p) => p !== ''),
    true,
  );
}

/** Settings read (current_setting('x', ...)) and functions called in a parse-tree expression. */
function exprInfo(node: unknown): ExprInfo {
  const settings: string[] = [];
  const calls: string[] = [];
  const visit = (x: unknown): void => {
    if (Array.isArray(x)) {
      for (const y of x) visit(y);
      return;
    }
    const o = asObj(x);
    if (!o) return;
    for (const [k, v] of Object.entries(o)) {
      if (k === 'FuncCall') {
        const fc = asObj(v);
        const name = functionKey(strings(fc?.['funcname']));
        if (name === 'current_setting') {
          const first = asObj(asObj(asArr(fc?.['args'])[0])?.['A_Const']);
          const s = asStr(asObj(first?.['sval'])?.['sval']);
          if (s !== undefined) settings.push(s.toLowerCase());
        } else calls.push(name);
      }
      if (v !== null && typeof v === 'object') visit(v);
    }
  };
  visit(node);
  return { settings: uniq(settings), calls: uniq(calls) };
}

function policyInfo(body: Json): PolicyInfo {
  return { using: exprInfo(body['qual']), check: exprInfo(body['with_check']) };
}

/** Settings named in current_setting('...') anywhere in a text, lower-cased. */
function settingsInText(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(CURRENT_SETTING_TEXT)) out.push(m[1]!.replace(/''/g, "'").toLowerCase());
  return uniq(out);
}

/** Names called in a text (`f(`, `util.f(`), normalised; keywords included, filtered by the caller. */
function callsInText(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(CALL_TEXT)) {
    out.push(normalizeTableName(null, m[1]!.replace(/\s+/g, '')).replace(/^pg_catalog\./, ''));
  }
  return uniq(out);
}

function writeKey(w: SqlWrite): string {
  return `${w.verb}|${w.table?.name ?? '?'}|${w.upsert ? 1 : 0}|${w.inCte ? 1 : 0}`;
}

class Fold {
  readonly tables = new Map<string, TableState>();
  /** Policies by table (gated or not yet gated); attached to gated tables at the end. */
  readonly policies = new Map<string, Map<string, PolicyState>>();
  readonly functions = new Map<string, FunctionState>();
  readonly diagnostics: CatalogDiagnostic[] = [];

  diag(where: Where, message: string): void {
    this.diagnostics.push({ file: where.file, line: where.line, message });
  }

  foldFile(file: string, text: string): void {
    const lineOf = lineLocator(text);
    for (const st of splitSql(text, { migrationMarkers: true }).statements) {
      this.foldStatement(st.text, { file, line: lineOf(st.start) }, 0);
    }
  }

  /** SQL run by a DO block (written in it or built for EXECUTE): every statement at `where`. */
  private foldEmbedded(text: string, where: Where, depth: number): void {
    if (depth > MAX_EMBED_DEPTH) return;
    for (const st of splitSql(text).statements) this.foldStatement(st.text, where, depth);
  }

  /** One statement as cut by the splitter; `where.line` is the line of its first token. */
  private foldStatement(text: string, where: Where, depth: number): void {
    if (!isRelevant(text)) return;
    if (this.simpleRls(text, where) || this.policyShortcut(text, where) || this.functionShortcut(text, where)) return;
    let parsed: Json;
    try {
      parsed = pg().parseSync(text) as unknown as Json;
    } catch (e) {
      this.diag(where, `cannot parse statement (${errorMessage(e)}): ${snippet(text)}`);
      this.regexFallback(text, where);
      return;
    }
    const stmts = asArr(parsed['stmts']);
    // Normally one statement; if the grammar sees several, place each by its UTF-8 byte offset.
    const buf = stmts.length > 1 ? Buffer.from(text, 'utf8') : null;
    for (const raw of stmts) {
      const r = asObj(raw);
      const node = asObj(r?.['stmt']);
      if (!r || !node) continue;
      if (buf) {
        const loc = typeof r['stmt_location'] === 'number' ? r['stmt_location'] : undefined;
        const len = typeof r['stmt_len'] === 'number' ? r['stmt_len'] : undefined;
        const s = locateStatement(buf, loc, len);
        this.foldNode(node, s.text, { file: where.file, line: where.line + s.lineOffset }, depth);
      } else this.foldNode(node, text, where, depth);
    }
  }

  private createPolicy(table: string, name: string, info: PolicyInfo, where: Where): void {
    let byName = this.policies.get(table);
    if (!byName) this.policies.set(table, (byName = new Map()));
    byName.set(name, { name, ...info, source: { kind: 'migration', file: where.file, line: where.line } });
  }

  /**
   * CREATE POLICY and DROP POLICY without a parse of their own. Migrations create the same policy on many tables
   * (often from a loop), so CREATE POLICY is parsed once per text with the policy and table names replaced by
   * placeholders, and the settings and functions its expressions use are shared. The placeholders are plain
   * identifiers, so the template parses exactly when the original would (reserved words excepted, which take the
   * normal path). `DROP POLICY [IF EXISTS] p ON t` is matched exactly. Anything else returns false.
   */
  private policyShortcut(text: string, where: Where): boolean {
    const drop = DROP_POLICY.exec(text);
    if (drop) {
      if (isReservedName(drop[1]!) || isReservedName(drop[2]!)) return false;
      this.policies.get(tableKey(drop[2]!))?.delete(normalizeIdent(drop[1]!));
      return true;
    }
    const m = CREATE_POLICY_HEAD.exec(text);
    if (!m || isReservedName(m[1]!) || isReservedName(m[2]!)) return false;
    const template = `CREATE POLICY __rlscov_policy ON __rlscov_table${text.slice(m[0].length)}`;
    let info = policyTemplates.get(template);
    if (info === undefined) {
      info = null;
      try {
        const stmts = asArr((pg().parseSync(template) as unknown as Json)['stmts']);
        const body = asObj(asObj(asObj(stmts[0])?.['stmt'])?.['CreatePolicyStmt']);
        if (body && stmts.length === 1) info = policyInfo(body);
      } catch {
        info = null;
      }
      if (policyTemplates.size > 2000) policyTemplates.clear();
      policyTemplates.set(template, info);
    }
    if (info === null) return false;
    this.createPolicy(tableKey(m[2]!), normalizeIdent(m[1]!), info, where);
    return true;
  }

  /**
   * CREATE FUNCTION with a long dollar-quoted body: the grammar only needs the header (name, LANGUAGE, SECURITY,
   * SET), and the body, a string to it, is read from the text as written (dollar quotes have no escapes). Parsing
   * the header alone with an empty body saves marshalling the body through the parser twice (the PL/pgSQL parser
   * reads it anyway). Anything unexpected returns false and takes the normal path.
   */
  private functionShortcut(text: string, where: Where): boolean {
    if (text.length < 512 || !CREATE_FUNCTION_HEAD.test(text)) return false;
    const m = DOLLAR_BODY.exec(text);
    if (!m) return false;
    const open = m.index + m[0].length;
    const close = text.indexOf(m[1]!, open);
    if (close < 0) return false;
    let body: Json | undefined;
    try {
      const stmts = asArr((pg().parseSync(text.slice(0, open) + text.slice(close)) as unknown as Json)['stmts']);
      if (stmts.length === 1) body = asObj(asObj(asObj(stmts[0])?.['stmt'])?.['CreateFunctionStmt']);
    } catch {
      return false;
    }
    if (!body) return false;
    this.foldCreateFunction(body, text, where, text.slice(open, close));
    return true;
  }

  /**
   * Fast path for the most common relevant statement, `ALTER TABLE [IF EXISTS] [ONLY] name <rls action>[, ...]`
   * with nothing else in it (no comments, plain ASCII names that are not reserved words): folded exactly as the
   * grammar would, without a parse. Anything else returns false and goes to the parser.
   */
  private simpleRls(text: string, where: Where): boolean {
    const m = SIMPLE_RLS.exec(text);
    if (!m || isReservedName(m[1]!)) return false;
    const table = tableKey(m[1]!);
    for (const a of m[2]!.matchAll(RLS_ACTION)) this.applyRls(table, a[1]!.toUpperCase().replace(/\s+/g, ' '), where);
    return true;
  }

  private regexFallback(text: string, where: Where): void {
    const lineOf = lineLocator(text);
    for (const m of text.matchAll(RLS_FALLBACK)) {
      const name = normalizeTableName(null, m[1]!.replace(/\s*\.\s*/g, '.'));
      const at = { file: where.file, line: where.line + lineOf(m.index ?? 0) - 1 };
      for (const a of m[2]!.matchAll(RLS_ACTION)) this.applyRls(name, a[1]!.toUpperCase().replace(/\s+/g, ' '), at);
    }
  }

  private applyRls(table: string, action: string, where: Where): void {
    const prov: Provenance = { kind: 'migration', file: where.file, line: where.line };
    const cur = this.tables.get(table);
    const gated = cur !== undefined && (cur.enabled || cur.forceOnly);
    const st: TableState = cur ?? { enabled: false, forced: false, forceOnly: false, source: prov };
    switch (action) {
      case 'ENABLE':
        st.enabled = true;
        st.forceOnly = false;
        break;
      case 'FORCE':
        st.forced = true;
        if (!st.enabled) st.forceOnly = true;
        break;
      case 'DISABLE':
        st.enabled = false;
        st.forceOnly = false;
        break;
      case 'NO FORCE':
        st.forced = false;
        st.forceOnly = false;
        break;
    }
    if (!gated && (st.enabled || st.forceOnly)) st.source = prov;
    // Keep the entry even when not gated: relforcerowsecurity survives DISABLE, and ENABLE brings it back.
    this.tables.set(table, st);
  }

  private moveTable(from: string, to: string): void {
    if (from === to) return;
    const t = this.tables.get(from);
    this.tables.delete(from);
    if (t) this.tables.set(to, t);
    else this.tables.delete(to);
    const p = this.policies.get(from);
    this.policies.delete(from);
    if (p) this.policies.set(to, p);
    else this.policies.delete(to);
  }

  private dropTable(name: string): void {
    this.tables.delete(name);
    this.policies.delete(name);
  }

  private foldNode(node: Json, text: string, where: Where, depth: number): void {
    const [kind, v] = Object.entries(node)[0] ?? [];
    const body = asObj(v);
    if (!kind || !body) return;
    switch (kind) {
      case 'AlterTableStmt': {
        if (body['objtype'] !== undefined && body['objtype'] !== 'OBJECT_TABLE') return;
        const name = rangeVarName(asObj(body['relation']));
        if (!name) return;
        for (const c of asArr(body['cmds'])) {
          const sub = asStr(asObj(asObj(c)?.['AlterTableCmd'])?.['subtype']);
          if (sub === 'AT_EnableRowSecurity') this.applyRls(name, 'ENABLE', where);
          else if (sub === 'AT_ForceRowSecurity') this.applyRls(name, 'FORCE', where);
          else if (sub === 'AT_DisableRowSecurity') this.applyRls(name, 'DISABLE', where);
          else if (sub === 'AT_NoForceRowSecurity') this.applyRls(name, 'NO FORCE', where);
        }
        return;
      }
      case 'RenameStmt':
        this.foldRename(body);
        return;
      case 'AlterObjectSchemaStmt': {
        if (body['objectType'] !== 'OBJECT_TABLE') return;
        const rv = asObj(body['relation']);
        const from = rangeVarName(rv);
        const schema = asStr(body['newschema']);
        if (from && schema) this.moveTable(from, normalizeTableName(schema, asStr(rv?.['relname']) ?? '', true));
        return;
      }
      case 'DropStmt':
        this.foldDrop(body);
        return;
      case 'CreatePolicyStmt': {
        const table = rangeVarName(asObj(body['table']));
        const name = asStr(body['policy_name']);
        if (table && name) this.createPolicy(table, name, policyInfo(body), where);
        return;
      }
      case 'AlterPolicyStmt': {
        const table = rangeVarName(asObj(body['table']));
        const name = asStr(body['policy_name']);
        const p = table && name ? this.policies.get(table)?.get(name) : undefined;
        if (!p) return;
        if (body['qual'] !== undefined) p.using = exprInfo(body['qual']);
        if (body['with_check'] !== undefined) p.check = exprInfo(body['with_check']);
        return;
      }
      case 'CreateFunctionStmt':
        this.foldCreateFunction(body, text, where);
        return;
      case 'AlterFunctionStmt': {
        const name = functionKey(strings(asObj(body['func'])?.['objname']));
        const f = this.functions.get(name);
        if (!f) return;
        for (const a of asArr(body['actions'])) {
          const d = asObj(asObj(a)?.['DefElem']);
          if (d?.['defname'] === 'security') f.fn.securityDefiner = asObj(asObj(d['arg'])?.['Boolean'])?.['boolval'] === true;
          if (d?.['defname'] === 'set') {
            // SET search_path ..., RESET search_path and RESET ALL all arrive as a VariableSetStmt.
            const vs = asObj(asObj(d['arg'])?.['VariableSetStmt']);
            if (vs?.['kind'] === 'VAR_RESET_ALL') f.fn.setsSearchPath = false;
            else if (asStr(vs?.['name'])?.toLowerCase() === 'search_path') f.fn.setsSearchPath = vs?.['kind'] !== 'VAR_RESET';
          }
        }
        return;
      }
      case 'DoStmt':
        this.foldDo(body, text, where, depth);
        return;
      default:
        return;
    }
  }

  private foldRename(body: Json): void {
    const type = body['renameType'];
    const newname = asStr(body['newname']);
    if (!newname) return;
    if (type === 'OBJECT_TABLE') {
      const rv = asObj(body['relation']);
      const from = rangeVarName(rv);
      if (from) this.moveTable(from, normalizeTableName(asStr(rv?.['schemaname']) ?? null, newname, true));
    } else if (type === 'OBJECT_POLICY') {
      const table = rangeVarName(asObj(body['relation']));
      const old = asStr(body['subname']);
      const byName = table ? this.policies.get(table) : undefined;
      const p = old ? byName?.get(old) : undefined;
      if (byName && p && old) {
        byName.delete(old);
        p.name = newname;
        byName.set(newname, p);
      }
    } else if (type === 'OBJECT_FUNCTION' || type === 'OBJECT_PROCEDURE' || type === 'OBJECT_ROUTINE') {
      const parts = strings(asObj(asObj(body['object'])?.['ObjectWithArgs'])?.['objname']);
      const from = functionKey(parts);
      const f = this.functions.get(from);
      if (f) {
        const to = functionKey([...parts.slice(0, -1), newname]);
        this.functions.delete(from);
        f.fn.name = to;
        this.functions.set(to, f);
      }
    }
  }

  private foldDrop(body: Json): void {
    const type = body['removeType'];
    if (type === 'OBJECT_SCHEMA') {
      // DROP SCHEMA s CASCADE drops its tables (and their policies) and functions. Without CASCADE it fails unless
      // the schema is empty, so a history that applies cleanly had nothing of ours in it.
      if (body['behavior'] !== 'DROP_CASCADE') return;
      for (const o of asArr(body['objects'])) {
        const schema = asStr(asObj(asObj(o)?.['String'])?.['sval']);
        if (!schema) continue;
        const inSchema = (key: string): boolean => (schema === 'public' ? !key.includes('.') : key.startsWith(`${schema}.`));
        for (const k of [...this.tables.keys()]) if (inSchema(k)) this.tables.delete(k);
        for (const k of [...this.policies.keys()]) if (inSchema(k)) this.policies.delete(k);
        for (const k of [...this.functions.keys()]) if (inSchema(k)) this.functions.delete(k);
      }
      return;
    }
    for (const o of asArr(body['objects'])) {
      if (type === 'OBJECT_TABLE') {
        const parts = strings(asObj(asObj(o)?.['List'])?.['items']);
        const n = parts[parts.length - 1];
        if (n) this.dropTable(normalizeTableName(parts.length > 1 ? parts[parts.length - 2]! : null, n, true));
      } else if (type === 'OBJECT_POLICY') {
        const parts = strings(asObj(asObj(o)?.['List'])?.['items']);
        const policy = parts.pop();
        const n = parts[parts.length - 1];
        if (policy && n) {
          const table = normalizeTableName(parts.length > 1 ? parts[parts.length - 2]! : null, n, true);
          this.policies.get(table)?.delete(policy);
        }
      } else if (type === 'OBJECT_FUNCTION' || type === 'OBJECT_PROCEDURE' || type === 'OBJECT_ROUTINE') {
        // Overloads are not told apart: dropping one signature drops the name.
        this.functions.delete(functionKey(strings(asObj(asObj(o)?.['ObjectWithArgs'])?.['objname'])));
      }
    }
  }

  /** `bodyText`: the body as written, when the parse tree was made with an empty one (functionShortcut). */
  private foldCreateFunction(body: Json, text: string, where: Where, bodyText?: string): void {
    const name = functionKey(strings(body['funcname']));
    if (!name) return;
    let language = 'sql';
    let securityDefiner = false;
    let setsSearchPath = false;
    let asText: string | null = null;
    for (const o of asArr(body['options'])) {
      const d = asObj(asObj(o)?.['DefElem']);
      const arg = asObj(d?.['arg']);
      switch (d?.['defname']) {
        case 'language':
          language = (asStr(asObj(arg?.['String'])?.['sval']) ?? language).toLowerCase();
          break;
        case 'security':
          securityDefiner = asObj(arg?.['Boolean'])?.['boolval'] === true;
          break;
        case 'set': {
          const vs = asObj(arg?.['VariableSetStmt']);
          if (asStr(vs?.['name'])?.toLowerCase() === 'search_path' && vs?.['kind'] !== 'VAR_RESET') setsSearchPath = true;
          break;
        }
        case 'as': {
          // One string for SQL / PL/pgSQL bodies; two (object file, symbol) for C functions.
          const items = strings(asObj(arg?.['List'])?.['items']);
          if (items.length === 1) asText = bodyText ?? items[0]!;
          break;
        }
      }
    }
    if (asText === null && body['sql_body'] !== undefined) {
      // BEGIN ATOMIC ... END: the statements are in the CREATE text itself.
      const m = /\bBEGIN\s+ATOMIC\b([\s\S]*)\bEND\s*;?\s*$/i.exec(text);
      asText = m ? m[1]! : '';
    }
    const src = asText ?? '';
    const writes = new Map<string, SqlWrite>();
    const addWrites = (parts: EmbeddedSql['parts']): void => {
      for (const s of classifySql({ parts })) for (const w of s.writes) if (!writes.has(writeKey(w))) writes.set(writeKey(w), w);
    };
    if (language === 'sql') {
      if (src.trim() !== '') addWrites([src]);
    } else if (language === 'plpgsql') {
      let embedded: EmbeddedSql[] | null = null;
      try {
        embedded = plpgsqlEmbeddedSql(pg().parsePlPgSQLSync(text));
      } catch (e) {
        this.diag(where, `cannot parse PL/pgSQL body of ${name} (${errorMessage(e)}); its writes are guessed from the text`);
      }
      if (embedded) for (const e of embedded) addWrites(e.parts);
      else for (const st of splitSql(src).statements) {
        const m = /\b(?:WITH|INSERT|UPDATE|DELETE|MERGE|TRUNCATE|COPY)\b/i.exec(st.text);
        if (m) addWrites([st.text.slice(m.index)]);
      }
    }
    const fn: CatalogFunction = {
      name,
      securityDefiner,
      language,
      writes: [...writes.values()],
      readsSettings: settingsInText(src),
      setsSearchPath,
      source: { kind: 'migration', file: where.file, line: where.line },
    };
    // Later definitions (CREATE OR REPLACE, or a new overload) replace earlier ones.
    this.functions.set(name, { fn, settings: fn.readsSettings, calls: callsInText(src).filter((c) => c !== name) });
  }

  private foldDo(body: Json, text: string, where: Where, depth: number): void {
    let code: string | undefined;
    let language = 'plpgsql';
    for (const a of asArr(body['args'])) {
      const d = asObj(asObj(a)?.['DefElem']);
      if (d?.['defname'] === 'as') code = asStr(asObj(asObj(d['arg'])?.['String'])?.['sval']);
      if (d?.['defname'] === 'language') language = (asStr(asObj(asObj(d['arg'])?.['String'])?.['sval']) ?? language).toLowerCase();
    }
    if (code === undefined) return;
    if (language !== 'plpgsql') {
      if (MENTIONS_RLS.test(code)) this.diag(where, `DO block in language ${language} is not read: ${snippet(code)}`);
      return;
    }
    let embedded: EmbeddedSql[];
    try {
      embedded = plpgsqlEmbeddedSql(
        pg().parsePlPgSQLSync(`CREATE FUNCTION __rlscov_do() RETURNS void LANGUAGE plpgsql AS $rlscov$${code}$rlscov$`),
      );
    } catch (e) {
      this.diag(where, `cannot parse DO block (${errorMessage(e)}); only literal ALTER TABLE ... ROW LEVEL SECURITY in it is read`);
      this.regexFallback(code, where);
      return;
    }
    // PL/pgSQL numbers lines from the line where the body starts (the opening $$). A dollar-quoted body appears
    // verbatim in the statement; a single-quoted one ('' escapes) does not, and then the DO's own line is used.
    const bodyAt = text.indexOf(code);
    const bodyLine = bodyAt >= 0 ? where.line + (text.slice(0, bodyAt).match(/\n/g)?.length ?? 0) : null;
    for (const e of embedded) {
      const at = bodyLine !== null && e.lineno !== undefined ? { file: where.file, line: bodyLine + e.lineno - 1 } : where;
      const known = e.parts.length === 1 && typeof e.parts[0] === 'string' ? e.parts[0] : e.parts.length === 0 ? '' : null;
      if (known !== null) {
        // Every branch is folded: an RLS switch under IF EXISTS (...) counts as made. Only running the migration
        // against a real database knows whether the condition held; "may be gated" is the linter's safe side.
        this.foldEmbedded(known, at, depth + 1);
      } else {
        const shown = renderParts(e.parts);
        if (MENTIONS_RLS.test(shown) || /\bPOLICY\b|\bFUNCTION\b/i.test(shown)) {
          this.diag(at, `DO block runs SQL that is only known at run time: ${snippet(shown)}`);
        }
      }
    }
  }

  /** Transitive settings of a function (its body and the catalog functions it calls). */
  private functionSettings(name: string, seen = new Set<string>()): string[] {
    const f = this.functions.get(name);
    if (!f || seen.has(name)) return [];
    seen.add(name);
    const out = [...f.settings];
    for (const c of f.calls) if (this.functions.has(c)) out.push(...this.functionSettings(c, seen));
    return uniq(out);
  }

  private infoSettings(info: ExprInfo): string[] {
    const out = [...info.settings];
    for (const c of info.calls) out.push(...this.functionSettings(c));
    return out;
  }

  result(files: string[], defaultSetting: string | undefined): Catalog {
    const functions: Record<string, CatalogFunction> = record();
    for (const [name, f] of this.functions) {
      functions[name] = { ...f.fn, readsSettings: this.functionSettings(name) };
    }
    const tables: Record<string, CatalogTable> = record();
    const scope: string[] = [];
    for (const [name, t] of this.tables) {
      if (!t.enabled && !t.forceOnly) continue;
      if (t.forceOnly) {
        this.diagnostics.push({
          file: t.source.file ?? '',
          line: t.source.line ?? 0,
          message: `table ${name} is FORCEd but not ENABLEd: Postgres applies no RLS to it until ENABLE; treated as gated`,
        });
      }
      const policies: CatalogPolicy[] = [];
      for (const p of this.policies.get(name)?.values() ?? []) {
        const settings = uniq([...this.infoSettings(p.using), ...this.infoSettings(p.check)]);
        scope.push(...settings);
        policies.push({ name: p.name, settings, source: p.source });
      }
      tables[name] = { name, enabled: t.enabled, forced: t.forced, source: t.source, policies };
    }
    const scopeSettings = uniq(scope);
    return {
      origin: 'migrations',
      tables,
      functions,
      scopeSettings: scopeSettings.length > 0 ? scopeSettings : [defaultSetting ?? DEFAULT_SCOPE_SETTING],
      migrationFiles: files,
      diagnostics: this.diagnostics,
    };
  }
}

/**
 * A small migration touching every path of the fold. WebAssembly functions are compiled lazily, on first call: the
 * first parse of each statement kind costs 10-20 ms, later ones a fraction of a millisecond. Folding this once at
 * load time moves that cost out of the fold proper.
 */
const WARM_UP = `
ALTER TABLE w ENABLE ROW LEVEL SECURITY;
ALTER TABLE IF EXISTS ONLY public."W" FORCE ROW LEVEL SECURITY, NO FORCE ROW LEVEL SECURITY;
CREATE POLICY p ON w USING (o = current_setting('app.w', true)::uuid) WITH CHECK (o = f());
ALTER POLICY p ON w USING (true);
CREATE OR REPLACE FUNCTION f() RETURNS uuid LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
  AS $$ INSERT INTO w (o) VALUES (current_setting('app.w')::uuid) RETURNING o $$;
CREATE FUNCTION g(a uuid) RETURNS void LANGUAGE plpgsql AS $$
DECLARE r record; BEGIN
  UPDATE w SET o = a; EXECUTE format('DELETE FROM %I', 'w');
  FOR r IN SELECT unnest(ARRAY['w']) AS t LOOP PERFORM 1; END LOOP;
END $$;
DO $$ DECLARE t text; BEGIN
  FOREACH t IN ARRAY ARRAY['w'] LOOP
    IF EXISTS (SELECT 1) THEN EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t); END IF;
    EXECUTE format('DROP POLICY IF EXISTS p ON %I', t);
  END LOOP;
  EXECUTE 'ALTER TABLE ' || quote_ident('w') || ' DISABLE ROW LEVEL SECURITY';
END $$;
ALTER TABLE w RENAME TO w2;
DROP POLICY p ON w2; DROP FUNCTION f(); DROP TABLE w2;
ALTER TABLE broken ENABLE ROW LEVEL SECURITY x;
`;

let loaded: Promise<void> | null = null;
let parserReady = false;

/** Loads the Postgres parser (and the SQL classifier's) and warms them up. Idempotent; a failed load can be retried. */
export function loadCatalogParser(): Promise<void> {
  loaded ??= (async () => {
    await loadSqlParser();
    parserReady = true;
    foldMigrations([{ path: 'warm-up.sql', text: WARM_UP }]);
  })().catch((e: unknown) => {
    loaded = null;
    throw e;
  });
  return loaded;
}

/**
 * Folds migration files, in the order given (see orderMigrations; rollbacks already removed, see
 * isRollbackMigration), into a catalog with origin 'migrations'. Never throws for bad SQL: what cannot be read
 * becomes a diagnostic. `defaultSetting` is the scope setting used when no policy reads any (default
 * app.current_org_id).
 */
export async function buildCatalogFromMigrations(
  files: { path: string; text: string }[],
  opts: { defaultSetting?: string } = {},
): Promise<Catalog> {
  await loadCatalogParser();
  return foldMigrations(files, opts);
}

/** The synchronous fold; throws InternalError unless loadCatalogParser() has resolved. */
export function foldMigrations(files: { path: string; text: string }[], opts: { defaultSetting?: string } = {}): Catalog {
  if (!parserReady) throw new InternalError('foldMigrations called before loadCatalogParser() resolved');
  const fold = new Fold();
  for (const f of files) fold.foldFile(f.path, f.text);
  return fold.result(
    files.map((f) => f.path),
    opts.defaultSetting,
  );
}
