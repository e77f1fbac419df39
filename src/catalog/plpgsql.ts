// The SQL a PL/pgSQL body runs, as far as it is known statically.
//
// Input: the JSON tree of `parsePlPgSQLSync` (libpg-query). Output: every embedded statement (`INSERT ...;` written
// in the body, the query of a FOR loop, ...) and every dynamic `EXECUTE expr`, with `expr` evaluated where it can be:
// string literals, `||` concatenation, `format()` with %s / %I / %L (also %1$I), `quote_ident()`,
// `quote_literal()`, `concat()`, casts, and variables bound by
//   FOREACH v IN ARRAY ARRAY['a', 'b'] LOOP ...            (also an array variable, '{a,b}'::text[])
//   FOR v IN SELECT unnest(ARRAY['a', 'b']) LOOP ...       (also FROM unnest(...), VALUES ('a'), ('b'), r.col)
//   DECLARE v text := 'a';  v := 'b';
// A loop body is walked once per element with the variable bound to that element, so two uses of the variable in
// one statement stay consistent. Unknown parts become holes.
//
// Control flow is not evaluated: every branch of IF / CASE / loops / exception handlers is taken, so a DO block that
// enables RLS only `IF EXISTS (...)` counts as enabling it. Only running the migration against a real database knows
// whether the condition held; for a linter, "may be gated" is the safe side.

import { pg } from '../sql/pg.js';
import type { SqlHole, SqlPart } from '../model.js';
import { asArr, asObj, asStr, type Json } from './json.js';

export interface EmbeddedSql {
  parts: SqlPart[];
  /** From EXECUTE (text built at run time) rather than written in the body. */
  dynamic: boolean;
  /** Line within the body (PL/pgSQL's own numbering), when known. */
  lineno?: number;
}

type Alt = SqlPart[];

/** More alternatives than this for one expression collapse to a single hole. */
const MAX_ALTS = 256;
/** Loops over longer lists are walked once with the variable unknown. */
const MAX_LOOP = 256;
/** Nesting limit for the walk (pathological inputs). */
const MAX_DEPTH = 64;
/** Loop-body walks per function; nested loops beyond it run once with their variables unknown. */
const MAX_ITERATIONS = 1024;


function hole(what: string): SqlHole {
  return { hole: what };
}

/** Concatenates part lists, merging adjacent literal text. */
function concatAlt(a: Alt, b: Alt): Alt {
  const out: Alt = [...a];
  for (const p of b) {
    const last = out[out.length - 1];
    if (typeof p === 'string' && typeof last === 'string') out[out.length - 1] = last + p;
    else out.push(p);
  }
  return out;
}

function product(lists: Alt[][]): Alt[][] | null {
  let acc: Alt[][] = [[]];
  for (const l of lists) {
    if (acc.length * l.length > MAX_ALTS) return null;
    const next: Alt[][] = [];
    for (const a of acc) for (const x of l) next.push([...a, x]);
    acc = next;
  }
  return acc;
}

function complete(alt: Alt): string | null {
  if (alt.length === 0) return '';
  return alt.length === 1 && typeof alt[0] === 'string' ? alt[0] : null;
}

/** quote_ident / %I. Always quoting is exact for our purpose: "customers" and customers normalise alike. */
export function quoteIdent(s: string): string {
  return `"${s.replace(/"/g, '""')}"`;
}
function quoteLiteral(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/** Postgres format(): %s, %I, %L, %%, positional %n$, flags and width (ignored). null when not understood. */
function pgFormat(fmt: string, args: Alt[]): Alt | null {
  let out: Alt = [];
  let next = 0;
  let i = 0;
  const re = /%(?:(\d+)\$)?-?(\d+|\*)?([sIL%])/y;
  while (i < fmt.length) {
    const p = fmt.indexOf('%', i);
    if (p < 0) {
      out = concatAlt(out, [fmt.slice(i)]);
      break;
    }
    if (p > i) out = concatAlt(out, [fmt.slice(i, p)]);
    re.lastIndex = p;
    const m = re.exec(fmt);
    if (!m) return null;
    i = re.lastIndex;
    if (m[3] === '%') {
      out = concatAlt(out, ['%']);
      continue;
    }
    if (m[2] === '*') return null;
    const idx = m[1] !== undefined ? Number(m[1]) - 1 : next;
    next = idx + 1;
    const arg = args[idx];
    if (arg === undefined) return null;
    const text = complete(arg);
    if (m[3] === 's') out = concatAlt(out, arg);
    else if (text !== null) out = concatAlt(out, [m[3] === 'I' ? quoteIdent(text) : quoteLiteral(text)]);
    else out = concatAlt(out, [hole(m[3] === 'I' ? 'identifier only known at run time' : 'literal only known at run time')]);
  }
  return out;
}

interface Binding {
  /** Possible scalar values (alternatives). */
  scalar?: Alt[];
  /** Elements of an array value, when known. */
  array?: string[];
  /** A record variable: `r.anything` takes `scalar`. */
  record?: boolean;
}

type Env = Map<string, Binding>;

/**
 * Parses `SELECT <expr>` (and loop queries) once per distinct text. Shared by all bodies: migrations repeat the
 * same `format('ALTER TABLE %I ...', t)` and array literals in many DO blocks. The trees are only read.
 */
class ExprCache {
  private readonly cache = new Map<string, Json | null>();
  private remember(key: string, v: Json | null): void {
    if (this.cache.size >= 5000) this.cache.clear();
    this.cache.set(key, v);
  }
  target(expr: string): Json | null {
    let v = this.cache.get(expr);
    if (v === undefined) {
      v = null;
      try {
        const res = pg().parseSync(`SELECT ${expr}`) as unknown as Json;
        const stmt = asObj(asObj(asArr(res['stmts'])[0])?.['stmt']);
        const sel = asObj(stmt?.['SelectStmt']);
        const targets = asArr(sel?.['targetList']);
        if (sel && targets.length === 1 && !sel['fromClause']) v = asObj(asObj(asObj(targets[0])?.['ResTarget'])?.['val']) ?? null;
      } catch {
        v = null;
      }
      this.remember(expr, v);
    }
    return v;
  }
  statement(query: string): Json | null {
    const key = `\u0000${query}`;
    let v = this.cache.get(key);
    if (v === undefined) {
      v = null;
      try {
        const res = pg().parseSync(query) as unknown as Json;
        v = asObj(asObj(asArr(res['stmts'])[0])?.['stmt']) ?? null;
      } catch {
        v = null;
      }
      this.remember(key, v);
    }
    return v;
  }
}

const sharedExprs = new ExprCache();

function funcName(fc: Json): string {
  const names = asArr(fc['funcname']).map((n) => asStr(asObj(asObj(n)?.['String'])?.['sval']) ?? '');
  return names[names.length - 1]?.toLowerCase() ?? '';
}

function columnRefName(cr: Json): string | null {
  const parts: string[] = [];
  for (const f of asArr(cr['fields'])) {
    const s = asStr(asObj(asObj(f)?.['String'])?.['sval']);
    if (s === undefined) return null;
    parts.push(s);
  }
  return parts.join('.');
}

function lookup(env: Env, name: string): Binding | undefined {
  const b = env.get(name);
  if (b) return b;
  const dot = name.indexOf('.');
  if (dot > 0) {
    const rec = env.get(name.slice(0, dot));
    if (rec?.record) return rec;
  }
  return undefined;
}

/** Elements of a Postgres array literal '{a,"b c"}' (simple one-dimensional forms only). */
function arrayLiteral(s: string): string[] | null {
  const t = s.trim();
  if (!t.startsWith('{') || !t.endsWith('}')) return null;
  const inner = t.slice(1, -1).trim();
  if (inner === '') return [];
  const out: string[] = [];
  const re = /\s*(?:"((?:[^"\\]|\\.)*)"|([^,{}"]*?))\s*(?:,|$)/y;
  let i = 0;
  while (i < inner.length) {
    re.lastIndex = i;
    const m = re.exec(inner);
    if (!m || re.lastIndex === i) return null;
    out.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : (m[2] ?? ''));
    i = re.lastIndex;
  }
  return out;
}

class Evaluator {
  /** The possible values of an expression node. Never empty. */
  value(node: unknown, env: Env): Alt[] {
    const n = asObj(node);
    if (!n) return [[hole('unknown value')]];
    const [kind, body0] = Object.entries(n)[0] ?? [];
    const body = asObj(body0);
    if (!kind || !body) return [[hole('unknown value')]];
    switch (kind) {
      case 'A_Const': {
        const s = asStr(asObj(body['sval'])?.['sval']);
        if (s !== undefined) return [[s]];
        if (body['sval'] !== undefined) return [['']];
        const iv = asObj(body['ival']);
        if (iv) return [[String(iv['ival'] ?? 0)]];
        return [[hole('constant')]];
      }
      case 'TypeCast':
        return this.value(body['arg'], env);
      case 'ColumnRef': {
        const name = columnRefName(body);
        const b = name !== null ? lookup(env, name) : undefined;
        if (b?.scalar) return b.scalar;
        return [[hole(`value of ${name ?? 'a variable'}`)]];
      }
      case 'A_Expr': {
        const op = asStr(asObj(asObj(asArr(body['name'])[0])?.['String'])?.['sval']);
        if (op === '||' && body['kind'] === 'AEXPR_OP') return this.combine([body['lexpr'], body['rexpr']], env, (xs) => concatAlt(xs[0]!, xs[1]!));
        return [[hole('expression')]];
      }
      case 'FuncCall': {
        const name = funcName(body);
        const args = asArr(body['args']);
        if (name === 'format' && args.length >= 1) {
          return this.combine(args, env, (xs) => {
            const fmt = complete(xs[0]!);
            return (fmt !== null ? pgFormat(fmt, xs.slice(1)) : null) ?? [hole('format() result')];
          });
        }
        if ((name === 'quote_ident' || name === 'quote_literal' || name === 'quote_nullable') && args.length === 1) {
          return this.combine(args, env, (xs) => {
            const s = complete(xs[0]!);
            if (s === null) return [hole(`${name}() of a run-time value`)];
            return [name === 'quote_ident' ? quoteIdent(s) : quoteLiteral(s)];
          });
        }
        if (name === 'concat') return this.combine(args, env, (xs) => xs.reduce((a, b) => concatAlt(a, b), [] as Alt));
        return [[hole(`result of ${name}()`)]];
      }
      default:
        return [[hole('expression')]];
    }
  }

  private combine(nodes: unknown[], env: Env, f: (xs: Alt[]) => Alt): Alt[] {
    const lists = nodes.map((x) => this.value(x, env));
    const combos = product(lists);
    if (!combos) return [[hole('too many possible values')]];
    const seen = new Set<string>();
    const out: Alt[] = [];
    for (const c of combos) {
      const alt = f(c);
      const key = JSON.stringify(alt);
      if (!seen.has(key)) {
        seen.add(key);
        out.push(alt);
      }
    }
    return out;
  }

  /** Elements of an array expression, or null. */
  array(node: unknown, env: Env): string[] | null {
    const n = asObj(node);
    if (!n) return null;
    const [kind, body0] = Object.entries(n)[0] ?? [];
    const body = asObj(body0);
    if (!body) return null;
    if (kind === 'A_ArrayExpr') {
      const out: string[] = [];
      for (const el of asArr(body['elements'])) {
        const vals = this.value(el, env);
        if (vals.length !== 1) return null;
        const s = complete(vals[0]!);
        if (s === null) return null;
        out.push(s);
      }
      return out;
    }
    if (kind === 'TypeCast') return this.array(body['arg'], env);
    if (kind === 'A_Const') {
      const s = asStr(asObj(body['sval'])?.['sval']);
      return s !== undefined ? arrayLiteral(s) : null;
    }
    if (kind === 'ColumnRef') {
      const name = columnRefName(body);
      return (name !== null ? lookup(env, name)?.array : undefined) ?? null;
    }
    return null;
  }

  /** The values a FOR-over-query loop variable takes, or null when the query reads real data. */
  queryValues(stmt: Json | null, env: Env): string[] | null {
    const sel = asObj(stmt?.['SelectStmt']);
    if (!sel) return null;
    const values = asArr(sel['valuesLists']);
    if (values.length > 0) {
      const out: string[] = [];
      for (const row of values) {
        const first = asArr(asObj(asObj(row)?.['List'])?.['items'])[0];
        const v = this.value(first, env);
        const s = v.length === 1 ? complete(v[0]!) : null;
        if (s === null) return null;
        out.push(s);
      }
      return out;
    }
    const targets = asArr(sel['targetList']);
    const from = asArr(sel['fromClause']);
    if (from.length === 0 && targets.length >= 1) {
      const val = asObj(asObj(asObj(targets[0])?.['ResTarget'])?.['val']);
      const fc = asObj(val?.['FuncCall']);
      if (fc && funcName(fc) === 'unnest') return this.array(asArr(fc['args'])[0], env);
      const v = this.value(val, env);
      const s = v.length === 1 ? complete(v[0]!) : null;
      return s === null ? null : [s];
    }
    if (from.length === 1) {
      // FROM unnest(ARRAY[...]) AS x: RangeFunction.functions is a list of (FuncCall, column definitions) pairs.
      const rf = asObj(asObj(from[0])?.['RangeFunction']);
      const pair = asObj(asObj(asArr(rf?.['functions'])[0])?.['List']);
      const fc = asObj(asObj(asArr(pair?.['items'])[0])?.['FuncCall']);
      if (fc && funcName(fc) === 'unnest') return this.array(asArr(fc['args'])[0], env);
    }
    return null;
  }
}

/** The text after `var :=` of an assignment expression ("t := 'abc'" -> "'abc'"). */
function assignedExpr(query: string): string {
  let k = query.indexOf(':=');
  if (k >= 0) return query.slice(k + 2);
  k = query.indexOf('=');
  return k >= 0 ? query.slice(k + 1) : query;
}

class Walker {
  readonly out: EmbeddedSql[] = [];
  private readonly seen = new Set<string>();
  private readonly ev: Evaluator;
  private iterations = 0;

  constructor(
    private readonly datums: unknown[],
    private readonly exprs: ExprCache,
  ) {
    this.ev = new Evaluator();
  }

  private emit(parts: Alt, dynamic: boolean, lineno: number | undefined): void {
    const key = `${dynamic ? 'D' : 'S'}${JSON.stringify(parts)}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.out.push(lineno !== undefined ? { parts, dynamic, lineno } : { parts, dynamic });
  }

  private datumName(varno: unknown): string | null {
    const d = asObj(this.datums[typeof varno === 'number' ? varno : 0]);
    if (!d) return null;
    const inner = asObj(Object.values(d)[0]);
    return asStr(inner?.['refname']) ?? null;
  }

  private exprText(x: unknown): string | null {
    return asStr(asObj(asObj(x)?.['PLpgSQL_expr'])?.['query']) ?? null;
  }

  /** Binds a variable from an expression (DECLARE default or assignment). */
  bindFromExpr(env: Env, name: string, expr: string): void {
    const node = this.exprs.target(expr);
    if (!node) {
      env.delete(name);
      return;
    }
    const array = this.ev.array(node, env);
    const scalar = this.ev.value(node, env);
    env.set(name, array ? { array, scalar } : { scalar });
  }

  initialEnv(): Env {
    const env: Env = new Map();
    for (const d of this.datums) {
      const v = asObj(asObj(d)?.['PLpgSQL_var']);
      const name = asStr(v?.['refname']);
      const def = this.exprText(v?.['default_val']);
      if (name && def !== null) this.bindFromExpr(env, name, def);
    }
    return env;
  }

  /** Runs `body` once per value of the loop variable(s). */
  private loop(env: Env, names: string[], record: boolean, values: string[] | null, body: () => void): void {
    const saved = names.map((n) => [n, env.get(n)] as const);
    const known = values !== null && values.length <= MAX_LOOP && this.iterations + values.length <= MAX_ITERATIONS;
    if (!known || values === null) {
      for (const n of names) env.delete(n);
      body();
    } else {
      this.iterations += values.length;
      for (const v of values) {
        for (const n of names) env.set(n, { scalar: [[v]], record });
        body();
      }
    }
    for (const [n, b] of saved) {
      if (b) env.set(n, b);
      else env.delete(n);
    }
  }

  walk(node: unknown, env: Env, depth = 0): void {
    if (depth > MAX_DEPTH) return;
    if (Array.isArray(node)) {
      for (const x of node) this.walk(x, env, depth + 1);
      return;
    }
    const n = asObj(node);
    if (!n) return;
    for (const [key, val] of Object.entries(n)) {
      const v = asObj(val);
      switch (key) {
        case 'PLpgSQL_expr': {
          // Statements written in the body (execsql, FOR ... IN query, RETURN QUERY, PERFORM, OPEN cursor).
          const q = asStr(v?.['query']);
          if (q !== undefined && (v?.['parseMode'] ?? 0) === 0) this.emit([q], false, undefined);
          break;
        }
        case 'PLpgSQL_stmt_execsql': {
          const q = this.exprText(v?.['sqlstmt']);
          if (q !== null) this.emit([q], false, typeof v?.['lineno'] === 'number' ? v['lineno'] : undefined);
          break;
        }
        case 'PLpgSQL_stmt_dynexecute':
        case 'PLpgSQL_stmt_dynfors': {
          const q = this.exprText(v?.['query']);
          const lineno = typeof v?.['lineno'] === 'number' ? v['lineno'] : undefined;
          if (q !== null) {
            const target = this.exprs.target(q);
            const alts = target ? this.ev.value(target, env) : [[hole('dynamic SQL')]];
            for (const alt of alts) this.emit(alt, true, lineno);
          }
          if (key === 'PLpgSQL_stmt_dynfors') {
            const names = this.loopVarNames(v?.['var']);
            this.loop(env, names.names, names.record, null, () => this.walk(v?.['body'], env, depth + 1));
          }
          break;
        }
        case 'PLpgSQL_stmt_assign': {
          const name = this.datumName(v?.['varno']);
          const q = this.exprText(v?.['expr']);
          if (name && q !== null) this.bindFromExpr(env, name, assignedExpr(q));
          break;
        }
        case 'PLpgSQL_stmt_foreach_a': {
          const name = this.datumName(v?.['varno']);
          const q = this.exprText(v?.['expr']);
          const node2 = q !== null ? this.exprs.target(q) : null;
          const values = node2 ? this.ev.array(node2, env) : null;
          this.loop(env, name ? [name] : [], false, values, () => this.walk(v?.['body'], env, depth + 1));
          break;
        }
        case 'PLpgSQL_stmt_fors': {
          const q = this.exprText(v?.['query']);
          if (q !== null) this.emit([q], false, typeof v?.['lineno'] === 'number' ? v['lineno'] : undefined);
          const names = this.loopVarNames(v?.['var']);
          const values = q !== null && names.names.length === 1 ? this.ev.queryValues(this.exprs.statement(q), env) : null;
          this.loop(env, names.names, names.record, values, () => this.walk(v?.['body'], env, depth + 1));
          break;
        }
        default:
          if (val !== null && typeof val === 'object') this.walk(val, env, depth + 1);
      }
    }
  }

  private loopVarNames(x: unknown): { names: string[]; record: boolean } {
    const o = asObj(x);
    const rec = asObj(o?.['PLpgSQL_rec']);
    if (rec) return { names: [asStr(rec['refname']) ?? ''], record: true };
    const row = asObj(o?.['PLpgSQL_row']);
    if (row) {
      // Only a single scalar target gets values (the caller leaves multi-column targets unknown).
      const fields = asArr(row['fields']);
      return { names: fields.map((f) => asStr(asObj(f)?.['name']) ?? ''), record: false };
    }
    const v = asObj(o?.['PLpgSQL_var']);
    return { names: v ? [asStr(v['refname']) ?? ''] : [], record: false };
  }
}

/**
 * The SQL of every function in a `parsePlPgSQLSync` result. Throws nothing; an unexpected shape yields fewer
 * statements.
 */
export function plpgsqlEmbeddedSql(parseResult: unknown): EmbeddedSql[] {
  const out: EmbeddedSql[] = [];
  const exprs = sharedExprs;
  for (const f of asArr(asObj(parseResult)?.['plpgsql_funcs'])) {
    const fn = asObj(asObj(f)?.['PLpgSQL_function']);
    if (!fn) continue;
    const w = new Walker(asArr(fn['datums']), exprs);
    w.walk(fn['action'], w.initialEnv());
    out.push(...w.out);
  }
  return out;
}

/** Renders parts as text with `?` for holes (for messages). */
export function renderParts(parts: SqlPart[]): string {
  return parts.map((p) => (typeof p === 'string' ? p : '?')).join('');
}
