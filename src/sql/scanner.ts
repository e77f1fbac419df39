// The tolerant SQL scanner: a real tokenizer (strings, E'' strings, dollar quotes, quoted identifiers, nested
// comments, hole placeholders) plus a small recogniser of the statement shapes rlscov cares about. It is the
// fallback of classifySql for texts the Postgres grammar rejects (holes in odd places, broken SQL, huge texts)
// and it is also what renders statement texts for both paths. It never throws.
//
// Holes are represented in the text by identifier placeholders `__rlscov_hole_<n>__` (see buildCanonical); any
// token whose text contains one is a hole token.

import type { ScopeSettingWrite, SqlStatement, SqlText, SqlWrite, TableRef, WriteVerb } from '../model.js';
import { asciiLower, normalizeFunctionName, normalizeTableName, truncateIdent } from './names.js';

// ---------------------------------------------------------------------------------------------------------------
// Canonical text: SqlText -> one string with identifier placeholders for holes

export const HOLE_MARK = '__rlscov_hole_';
const HOLE_RE = /__rlscov_hole_\d+__/g;

export function holePlaceholder(index: number): string {
  return `${HOLE_MARK}${index}__`;
}

export function containsHole(s: string): boolean {
  return s.includes(HOLE_MARK);
}

export interface HoleSpan {
  /** UTF-16 offsets of the placeholder in the canonical text. */
  start: number;
  end: number;
}

export interface CanonicalText {
  text: string;
  holes: HoleSpan[];
}

/** Joins the parts of a SqlText, each hole replaced by its placeholder. Tolerates malformed input. */
export function buildCanonical(sql: SqlText): CanonicalText {
  const parts: unknown = sql && typeof sql === 'object' ? (sql as { parts?: unknown }).parts : undefined;
  const holes: HoleSpan[] = [];
  if (!Array.isArray(parts)) return { text: typeof sql === 'string' ? sql : '', holes };
  let text = '';
  for (const p of parts) {
    if (typeof p === 'string') {
      text += p;
    } else {
      const ph = holePlaceholder(holes.length);
      holes.push({ start: text.length, end: text.length + ph.length });
      text += ph;
    }
  }
  return { text, holes };
}

/** Replaces hole placeholders with `?`. */
export function holesToQuestionMarks(s: string): string {
  return s.includes(HOLE_MARK) ? s.replace(HOLE_RE, '?') : s;
}

// ---------------------------------------------------------------------------------------------------------------
// Tokenizer

export type TokenType = 'ident' | 'qident' | 'string' | 'number' | 'param' | 'op';

export interface Token {
  type: TokenType;
  /** UTF-16 offsets in the source. */
  start: number;
  end: number;
  /** ident: ASCII-lower-cased text; qident: contents with `""` unescaped; string: decoded contents; else raw text. */
  value: string;
  /** The token's text contains a hole placeholder. */
  hole: boolean;
  /** Whitespace or a comment precedes the token. */
  space: boolean;
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13 || c === 12 || c === 11;
}
function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
function isIdentStart(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c >= 128;
}
function isIdentCont(c: number): boolean {
  return isIdentStart(c) || isDigit(c) || c === 36;
}

const DOLLAR_TAG = /\$(?:[A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/y;

/** Reads a '...' string starting at the quote `q`; returns [end, decoded]. */
function readQuoted(src: string, q: number, backslashes: boolean): [number, string] {
  const n = src.length;
  let i = q + 1;
  let out = '';
  let segStart = i;
  while (i < n) {
    const c = src.charCodeAt(i);
    if (c === 39 /* ' */) {
      if (src.charCodeAt(i + 1) === 39) {
        out += src.slice(segStart, i + 1);
        i += 2;
        segStart = i;
        continue;
      }
      out += src.slice(segStart, i);
      return [i + 1, out];
    }
    if (backslashes && c === 92 /* \ */ && i + 1 < n) {
      out += src.slice(segStart, i);
      const e = src[i + 1];
      out += e === 'n' ? '\n' : e === 't' ? '\t' : e === 'r' ? '\r' : e === 'b' ? '\b' : e === 'f' ? '\f' : e;
      i += 2;
      segStart = i;
      continue;
    }
    i++;
  }
  out += src.slice(segStart, n);
  return [n, out];
}

/** Tokenizes SQL text. Unterminated strings, identifiers and comments run to the end of the text. */
export function tokenize(src: string): Token[] {
  const toks: Token[] = [];
  const n = src.length;
  const mayHaveHoles = src.includes(HOLE_MARK);
  let i = 0;
  let space = false;
  const push = (type: TokenType, start: number, end: number, value: string): void => {
    const hole = mayHaveHoles && src.slice(start, end).includes(HOLE_MARK);
    toks.push({ type, start, end, value, hole, space });
    space = false;
  };
  while (i < n) {
    const c = src.charCodeAt(i);
    if (isSpace(c)) {
      space = true;
      i++;
      continue;
    }
    // -- comment
    if (c === 45 && src.charCodeAt(i + 1) === 45) {
      const nl = src.indexOf('\n', i + 2);
      i = nl < 0 ? n : nl + 1;
      space = true;
      continue;
    }
    // /* nested */ comment
    if (c === 47 && src.charCodeAt(i + 1) === 42) {
      let depth = 1;
      i += 2;
      while (i < n && depth > 0) {
        if (src.charCodeAt(i) === 47 && src.charCodeAt(i + 1) === 42) {
          depth++;
          i += 2;
        } else if (src.charCodeAt(i) === 42 && src.charCodeAt(i + 1) === 47) {
          depth--;
          i += 2;
        } else {
          i++;
        }
      }
      space = true;
      continue;
    }
    if (c === 39) {
      const [end, val] = readQuoted(src, i, false);
      push('string', i, end, val);
      i = end;
      continue;
    }
    if (c === 34 /* " */) {
      let j = i + 1;
      let val = '';
      let seg = j;
      for (;;) {
        if (j >= n) {
          val += src.slice(seg, n);
          break;
        }
        if (src.charCodeAt(j) === 34) {
          if (src.charCodeAt(j + 1) === 34) {
            val += src.slice(seg, j + 1);
            j += 2;
            seg = j;
            continue;
          }
          val += src.slice(seg, j);
          j++;
          break;
        }
        j++;
      }
      push('qident', i, Math.min(j, n), val);
      i = Math.min(j, n);
      continue;
    }
    if (isIdentStart(c)) {
      const next = src.charCodeAt(i + 1);
      // E'...', B'...', X'...', N'...' strings
      if (next === 39) {
        const lc = c | 32;
        if (lc === 101 /* e */ || lc === 98 || lc === 120 || lc === 110) {
          const [end, val] = readQuoted(src, i + 1, lc === 101);
          push('string', i, end, val);
          i = end;
          continue;
        }
      }
      // U&'...' and U&"..."
      if ((c | 32) === 117 && next === 38 /* & */) {
        const q = src.charCodeAt(i + 2);
        if (q === 39) {
          const [end, val] = readQuoted(src, i + 2, false);
          push('string', i, end, val);
          i = end;
          continue;
        }
        if (q === 34) {
          let j = i + 3;
          while (j < n && !(src.charCodeAt(j) === 34 && src.charCodeAt(j + 1) !== 34)) j += src.charCodeAt(j) === 34 ? 2 : 1;
          const end = Math.min(j + 1, n);
          push('qident', i, end, src.slice(i + 3, Math.min(j, n)).replace(/""/g, '"'));
          i = end;
          continue;
        }
      }
      let j = i + 1;
      while (j < n && isIdentCont(src.charCodeAt(j))) j++;
      push('ident', i, j, asciiLower(src.slice(i, j)));
      i = j;
      continue;
    }
    if (isDigit(c) || (c === 46 && isDigit(src.charCodeAt(i + 1)))) {
      let j = i;
      while (j < n && (isDigit(src.charCodeAt(j)) || src.charCodeAt(j) === 95)) j++;
      if (src.charCodeAt(j) === 46 && src.charCodeAt(j + 1) !== 46) {
        j++;
        while (j < n && (isDigit(src.charCodeAt(j)) || src.charCodeAt(j) === 95)) j++;
      }
      if ((src.charCodeAt(j) | 32) === 101) {
        let k = j + 1;
        if (src.charCodeAt(k) === 43 || src.charCodeAt(k) === 45) k++;
        if (isDigit(src.charCodeAt(k))) {
          j = k;
          while (j < n && isDigit(src.charCodeAt(j))) j++;
        }
      }
      while (j < n && isIdentCont(src.charCodeAt(j))) j++; // 0x1F, trailing junk
      push('number', i, j, src.slice(i, j));
      i = j;
      continue;
    }
    if (c === 36 /* $ */) {
      if (isDigit(src.charCodeAt(i + 1))) {
        let j = i + 1;
        while (j < n && isDigit(src.charCodeAt(j))) j++;
        push('param', i, j, src.slice(i, j));
        i = j;
        continue;
      }
      DOLLAR_TAG.lastIndex = i;
      const m = DOLLAR_TAG.exec(src);
      if (m) {
        const tag = m[0];
        const bodyStart = i + tag.length;
        const close = src.indexOf(tag, bodyStart);
        const end = close < 0 ? n : close + tag.length;
        push('string', i, end, src.slice(bodyStart, close < 0 ? n : close));
        i = end;
        continue;
      }
      if (src.startsWith(HOLE_MARK, i + 1)) {
        // `$%d` with a hole for the number: a parameter whose number is unknown.
        let j = i + 1;
        while (j < n && isIdentCont(src.charCodeAt(j))) j++;
        push('param', i, j, src.slice(i, j));
        i = j;
        continue;
      }
      push('op', i, i + 1, '$');
      i++;
      continue;
    }
    if (c === 58 /* : */ && src.charCodeAt(i + 1) === 58) {
      push('op', i, i + 2, '::');
      i += 2;
      continue;
    }
    const w = c >= 0xd800 && c <= 0xdbff && i + 1 < n ? 2 : 1;
    push('op', i, i + w, src.slice(i, i + w));
    i += w;
  }
  return toks;
}

// ---------------------------------------------------------------------------------------------------------------
// Rendering and splitting

/** Renders tokens [from, to): one space where the source had whitespace or comments, holes as `?`. */
export function renderTokens(src: string, toks: readonly Token[], from: number, to: number): string {
  let out = '';
  for (let k = from; k < to; k++) {
    const t = toks[k];
    if (k > from && t.space) out += ' ';
    const raw = src.slice(t.start, t.end);
    out += t.hole ? holesToQuestionMarks(raw) : raw;
  }
  return out;
}

/**
 * The whole text for messages: holes as `?`, comments stripped, whitespace collapsed to single spaces, trimmed
 * (string literals are kept verbatim).
 */
export function renderSqlText(text: SqlText): string {
  try {
    const c = buildCanonical(text);
    const toks = tokenize(c.text);
    return renderTokens(c.text, toks, 0, toks.length);
  } catch {
    return '';
  }
}

/** Token ranges [from, to) of the statements, split on `;` outside strings, comments, dollar quotes and parens. */
export function splitStatements(toks: readonly Token[]): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let depth = 0;
  let start = 0;
  for (let k = 0; k < toks.length; k++) {
    const t = toks[k];
    if (t.type !== 'op') continue;
    if (t.value === '(' || t.value === '[') depth++;
    else if ((t.value === ')' || t.value === ']') && depth > 0) depth--;
    else if (t.value === ';' && depth === 0) {
      if (k > start) out.push([start, k]);
      start = k + 1;
    }
  }
  if (toks.length > start) out.push([start, toks.length]);
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Collected facts of one statement, shared with the Postgres path (classify.ts)

export interface Collected {
  writes: Array<{ pos: number; w: SqlWrite }>;
  /** `cte`: the folded relation name when the reference is unqualified (it may name a CTE), else null. */
  reads: Array<{ pos: number; name: string; cte: string | null }>;
  calls: Array<{ pos: number; name: string }>;
  settings: Array<{ pos: number; s: ScopeSettingWrite }>;
  ctes: Set<string>;
}

export function newCollected(): Collected {
  return { writes: [], reads: [], calls: [], settings: [], ctes: new Set() };
}

export function makeWrite(verb: WriteVerb, table: TableRef | null, upsert: boolean, inCte: boolean): SqlWrite {
  const w: SqlWrite = { verb, table };
  if (upsert) w.upsert = true;
  if (inCte) w.inCte = true;
  return w;
}

/** A statement before its text and completeness are known. */
export interface Draft {
  /** Token range [from, to) of the statement in the canonical text. */
  from: number;
  to: number;
  kind: string;
  writes: SqlWrite[];
  reads: TableRef[];
  functionCalls: string[];
  scopeSettings: ScopeSettingWrite[];
  parser: 'postgres' | 'scanner';
}

function byPos<T extends { pos: number }>(a: T, b: T): number {
  return a.pos - b.pos;
}

/** Orders facts by position in the text, drops CTE names from reads, de-duplicates reads and function calls. */
export function assemble(
  c: Collected,
  from: number,
  to: number,
  kind: string,
  parser: 'postgres' | 'scanner',
): Draft {
  const writes = c.writes.slice().sort(byPos).map((x) => x.w);
  const seenReads = new Set<string>();
  const reads: TableRef[] = [];
  for (const r of c.reads.slice().sort(byPos)) {
    if (r.cte !== null && c.ctes.has(r.cte)) continue;
    if (seenReads.has(r.name)) continue;
    seenReads.add(r.name);
    reads.push({ name: r.name });
  }
  const seenCalls = new Set<string>();
  const functionCalls: string[] = [];
  for (const f of c.calls.slice().sort(byPos)) {
    if (seenCalls.has(f.name)) continue;
    seenCalls.add(f.name);
    functionCalls.push(f.name);
  }
  const scopeSettings = c.settings.slice().sort(byPos).map((x) => x.s);
  return { from, to, kind, writes, reads, functionCalls, scopeSettings, parser };
}

/**
 * Turns drafts into statements: text rendered from the tokens, `complete` when no hole lies in the statement's
 * share of the text (from its first token up to the next statement's first token; the first statement also owns
 * what precedes it).
 */
export function finalize(src: string, toks: readonly Token[], holes: readonly HoleSpan[], drafts: Draft[]): SqlStatement[] {
  const ds = drafts.filter((d) => d.to > d.from).sort((a, b) => a.from - b.from);
  // A parser may leave out tokens next to a statement (a hole it read as nothing): the statement owns every token
  // up to the neighbouring `;`.
  const isSemi = (k: number): boolean => toks[k].type === 'op' && toks[k].value === ';';
  let prevTo = 0;
  for (let i = 0; i < ds.length; i++) {
    const d = ds[i];
    const limit = i + 1 < ds.length ? ds[i + 1].from : toks.length;
    while (d.from > prevTo && !isSemi(d.from - 1)) d.from--;
    while (d.to < limit && !isSemi(d.to)) d.to++;
    prevTo = d.to;
  }
  const out: SqlStatement[] = [];
  for (let i = 0; i < ds.length; i++) {
    const d = ds[i];
    const lo = i === 0 ? 0 : toks[d.from].start;
    const hi = i + 1 < ds.length ? toks[ds[i + 1].from].start : src.length;
    let complete = true;
    for (const h of holes) {
      if (h.end > lo && h.start < hi) {
        complete = false;
        break;
      }
    }
    out.push({
      kind: d.kind,
      writes: d.writes,
      reads: d.reads,
      functionCalls: d.functionCalls,
      scopeSettings: d.scopeSettings,
      text: renderTokens(src, toks, d.from, d.to),
      complete,
      parser: d.parser,
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Shared literal helpers

const TRUE_WORDS = new Set(['t', 'tr', 'tru', 'true', 'y', 'ye', 'yes', 'on', '1']);
const FALSE_WORDS = new Set(['f', 'fa', 'fal', 'fals', 'false', 'n', 'no', 'of', 'off', '0']);

/** Postgres' boolean input syntax; null when the text is not a boolean. */
export function parseBoolText(s: string): boolean | null {
  const v = s.trim().toLowerCase();
  if (TRUE_WORDS.has(v)) return true;
  if (FALSE_WORDS.has(v)) return false;
  return null;
}

/** A setting name as written in set_config / SET: lower-cased, null when it contains a hole. */
export function settingName(raw: string): string | null {
  return containsHole(raw) ? null : raw.toLowerCase();
}

// ---------------------------------------------------------------------------------------------------------------
// The recogniser

/** Names that, followed by `(`, are syntax rather than a function call. */
const NOT_FUNC = new Set([
  'all', 'and', 'any', 'array', 'as', 'asc', 'at', 'between', 'by', 'case', 'cast', 'check', 'coalesce', 'columns',
  'conflict', 'constraint', 'cube', 'current_time', 'current_timestamp', 'localtime', 'localtimestamp', 'default',
  'desc', 'distinct', 'do', 'else', 'end', 'except', 'exists', 'fetch', 'filter', 'for', 'foreign', 'from',
  'grouping', 'greatest', 'group', 'groups', 'having', 'if', 'ilike', 'in', 'include', 'intersect', 'into', 'is',
  'join', 'key', 'lateral', 'least', 'like', 'limit', 'materialized', 'not', 'nullif', 'of', 'offset', 'on', 'only',
  'or', 'order', 'over', 'partition', 'primary', 'range', 'recursive', 'references', 'repeatable', 'returning',
  'rollup', 'row', 'rows', 'select', 'set', 'sets', 'similar', 'some', 'table', 'tablesample', 'then', 'to',
  'union', 'unique', 'using', 'values', 'when', 'where', 'window', 'with', 'within', 'insert', 'update', 'delete',
  'merge', 'escape', 'matched', 'ordinality', 'nulls', 'collate', 'returns', 'language', 'copy', 'explain',
  'analyze', 'analyse', 'vacuum',
  // type names with modifiers
  'bit', 'char', 'character', 'dec', 'decimal', 'float', 'interval', 'numeric', 'time', 'timestamp', 'varchar',
  'varying', 'nchar', 'national', 'precision',
  // special-syntax expressions that are not FuncCall nodes
  'xmlattributes', 'xmlconcat', 'xmlelement', 'xmlexists', 'xmlforest', 'xmlparse', 'xmlpi', 'xmlroot',
  'xmlserialize', 'xmlnamespaces', 'xmltable', 'json', 'json_array', 'json_arrayagg', 'json_exists', 'json_object',
  'json_objectagg', 'json_query', 'json_scalar', 'json_serialize', 'json_table', 'json_value', 'merge_action',
  'treat',
]);

/** A name preceded by one of these and followed by `(` is not a function call (types, DDL objects). */
const NOT_FUNC_PREV = new Set([
  'as', 'tablesample', 'table', 'function', 'procedure', 'references', 'into', 'only', 'trigger', 'type', 'view',
  'index', 'exists', 'update', 'domain', 'sequence', 'aggregate', 'operator', 'routine', 'prepare', 'execute',
]);

/** Words that cannot be a table alias. */
const ALIAS_STOP = new Set([
  'where', 'join', 'inner', 'left', 'right', 'full', 'cross', 'natural', 'on', 'using', 'group', 'order', 'limit',
  'offset', 'having', 'window', 'union', 'intersect', 'except', 'for', 'fetch', 'returning', 'set', 'tablesample',
  'lateral', 'when', 'do', 'into', 'values', 'select', 'and', 'or', 'not', 'then', 'with', 'from', 'as', 'default',
  'overriding', 'outer', 'to', 'stdin', 'stdout', 'only', 'table', 'cascade', 'restrict', 'restart', 'continue',
]);

/** Words that end a FROM list at its own paren depth. */
const FROM_STOP = new Set([
  'where', 'group', 'having', 'order', 'limit', 'offset', 'window', 'union', 'intersect', 'except', 'for',
  'returning', 'fetch', 'conflict', 'do', 'set', 'when', 'into', 'select', 'values',
]);

const MAIN_VERBS = new Set(['select', 'insert', 'update', 'delete', 'merge', 'values', 'table']);

const FROM_FUNCS = new Set(['extract', 'substring', 'btrim', 'ltrim', 'rtrim', 'overlay', 'normalize']);

class StatementScanner {
  readonly c = newCollected();
  private readonly consumed = new Set<number>();
  private readonly fromTriggers = new Set<number>();
  private readonly skipFrom = new Set<number>();
  private readonly match: Int32Array;

  constructor(
    private readonly toks: readonly Token[],
    private readonly from: number,
    private readonly to: number,
  ) {
    this.match = new Int32Array(Math.max(0, to - from)).fill(-1);
    const stack: number[] = [];
    for (let k = from; k < to; k++) {
      const t = toks[k];
      if (t.type !== 'op') continue;
      if (t.value === '(') stack.push(k);
      else if (t.value === ')' && stack.length > 0) {
        const o = stack.pop()!;
        this.match[o - from] = k;
        this.match[k - from] = o;
      }
    }
    for (const o of stack) this.match[o - from] = to;
  }

  run(): Draft {
    const kind = this.parseStmt(this.from, this.to, false, true);
    this.flatScan();
    return assemble(this.c, this.from, this.to, kind, 'scanner');
  }

  // --- token helpers ---

  private tok(i: number): Token | undefined {
    return i >= this.from && i < this.to ? this.toks[i] : undefined;
  }
  private kw(i: number, w: string): boolean {
    const t = this.tok(i);
    return t !== undefined && t.type === 'ident' && t.value === w;
  }
  private op(i: number, v: string): boolean {
    const t = this.tok(i);
    return t !== undefined && t.type === 'op' && t.value === v;
  }
  private isName(i: number): boolean {
    const t = this.tok(i);
    return t !== undefined && (t.type === 'ident' || t.type === 'qident');
  }
  /** Index of the `)` matching the `(` at i (or `to` when unbalanced). */
  private close(i: number): number {
    const m = this.match[i - this.from];
    return m < 0 ? this.to : m;
  }
  /** Folded identifier value of a name token. */
  private folded(i: number): string {
    return truncateIdent(this.toks[i].value);
  }
  private readName(i: number): { parts: number[]; next: number } | null {
    if (!this.isName(i)) return null;
    const parts = [i];
    let j = i + 1;
    while (this.op(j, '.') && this.isName(j + 1)) {
      parts.push(j + 1);
      j += 2;
    }
    return { parts, next: j };
  }
  private tableOf(parts: number[]): TableRef | null {
    if (parts.some((p) => this.toks[p].hole)) return null;
    const n = parts.length;
    const schema = n >= 2 ? this.folded(parts[n - 2]) : null;
    return { name: normalizeTableName(schema, this.folded(parts[n - 1]), true) };
  }
  private consume(parts: number[]): void {
    for (const p of parts) this.consumed.add(p);
  }
  private addWrite(verb: WriteVerb, name: { parts: number[] } | null, at: number, inCte: boolean, upsert = false): void {
    const table = name ? this.tableOf(name.parts) : null;
    if (name) this.consume(name.parts);
    const pos = this.tok(at)?.start ?? this.toks[Math.min(at, this.toks.length - 1)]?.start ?? 0;
    this.c.writes.push({ pos, w: makeWrite(verb, table, upsert, inCte) });
  }
  private addRead(name: { parts: number[] }): void {
    this.consume(name.parts);
    const table = this.tableOf(name.parts);
    if (!table) return;
    const cte = name.parts.length === 1 ? this.folded(name.parts[0]) : null;
    this.c.reads.push({ pos: this.toks[name.parts[0]].start, name: table.name, cte });
  }
  /** Skips an optional alias (`AS x`, `x`, with optional column list); returns the next index. */
  private skipAlias(j: number, requireAs = false): number {
    if (this.kw(j, 'as')) {
      if (this.isName(j + 1)) {
        this.consumed.add(j + 1);
        j += 2;
        if (this.op(j, '(')) j = this.close(j) + 1;
      }
      return j;
    }
    const t = this.tok(j);
    if (!requireAs && t && (t.type === 'qident' || (t.type === 'ident' && !ALIAS_STOP.has(t.value)))) {
      this.consumed.add(j);
      j++;
      if (this.op(j, '(')) j = this.close(j) + 1;
    }
    return j;
  }

  // --- positional parse: statement verbs, targets, CTEs ---

  private parseStmt(i: number, end: number, inCte: boolean, top: boolean): string {
    let t = this.tok(i);
    if (!t || i >= end) return 'OTHER';
    if (t.type === 'op' && t.value === '(') {
      const cl = this.close(i);
      this.parseStmt(i + 1, Math.min(cl, end), inCte, false);
      return 'SELECT';
    }
    if (t.type === 'ident' && t.value === 'with') {
      i = this.parseWith(i + 1, end, true);
      t = this.tok(i);
      if (!t || i >= end) return 'OTHER';
      if (t.type === 'op' && t.value === '(') return 'SELECT';
    }
    if (t.type !== 'ident') return 'OTHER';
    switch (t.value) {
      case 'insert': {
        let j = i + 1;
        if (this.kw(j, 'into')) j++;
        const nm = this.readName(j);
        this.addWrite('INSERT', nm, j, inCte, this.findUpsert(j, end));
        if (nm) this.skipAlias(nm.next, true);
        return 'INSERT';
      }
      case 'update': {
        let j = i + 1;
        if (this.kw(j, 'only')) j++;
        const nm = this.readName(j);
        this.addWrite('UPDATE', nm, j, inCte);
        if (nm) {
          let k = nm.next;
          if (this.op(k, '*')) k++;
          this.skipAlias(k);
        }
        return 'UPDATE';
      }
      case 'delete': {
        let j = i + 1;
        if (this.kw(j, 'from')) j++;
        if (this.kw(j, 'only')) j++;
        const nm = this.readName(j);
        this.addWrite('DELETE', nm, j, inCte);
        if (nm) {
          let k = nm.next;
          if (this.op(k, '*')) k++;
          k = this.skipAlias(k);
          if (this.kw(k, 'using')) this.fromTriggers.add(k);
        }
        return 'DELETE';
      }
      case 'merge': {
        let j = i + 1;
        if (this.kw(j, 'into')) j++;
        if (this.kw(j, 'only')) j++;
        const nm = this.readName(j);
        this.addWrite('MERGE', nm, j, inCte);
        if (nm) {
          let k = nm.next;
          if (this.op(k, '*')) k++;
          k = this.skipAlias(k);
          if (this.kw(k, 'using')) this.fromTriggers.add(k);
        }
        return 'MERGE';
      }
      case 'copy': {
        const j = i + 1;
        if (this.op(j, '(')) {
          this.parseStmt(j + 1, Math.min(this.close(j), end), inCte, false);
          return 'COPY';
        }
        const nm = this.readName(j);
        let k = nm ? nm.next : j + 1;
        if (nm) this.consume(nm.parts);
        if (this.op(k, '(')) k = this.close(k) + 1;
        if (this.kw(k, 'from')) {
          this.skipFrom.add(k);
          this.addWrite('COPY_FROM', nm, j, inCte);
        } else if (this.kw(k, 'to') && nm) {
          this.addRead(nm);
        }
        return 'COPY';
      }
      case 'truncate': {
        let j = i + 1;
        if (this.kw(j, 'table')) j++;
        for (;;) {
          if (this.kw(j, 'only')) j++;
          const nm = this.readName(j);
          if (!nm) {
            if (this.tok(j)?.hole) this.addWrite('TRUNCATE', null, j, inCte);
            break;
          }
          this.addWrite('TRUNCATE', nm, j, inCte);
          j = nm.next;
          if (this.op(j, '*')) j++;
          if (!this.op(j, ',')) break;
          j++;
        }
        return 'TRUNCATE';
      }
      case 'table': {
        const nm = this.readName(i + 1);
        if (nm) this.addRead(nm);
        return 'SELECT';
      }
      case 'explain': {
        let j = i + 1;
        let analyze = false;
        if (this.op(j, '(')) {
          const cl = this.close(j);
          for (let k = j + 1; k < cl; k++) {
            if (this.kw(k, 'analyze') || this.kw(k, 'analyse')) {
              const a = this.tok(k + 1);
              const off =
                a !== undefined &&
                (a.type === 'ident' || a.type === 'string' || a.type === 'number') &&
                parseBoolText(a.value) === false;
              if (!off) analyze = true;
            }
          }
          j = cl + 1;
        } else {
          while (this.kw(j, 'analyze') || this.kw(j, 'analyse') || this.kw(j, 'verbose')) {
            if (!this.kw(j, 'verbose')) analyze = true;
            j++;
          }
        }
        if (analyze) this.parseStmt(j, end, inCte, false);
        return 'EXPLAIN';
      }
      case 'prepare': {
        for (let k = i + 1; k < end; k++) {
          if (this.op(k, '(')) k = this.close(k);
          else if (this.kw(k, 'as')) {
            this.parseStmt(k + 1, end, inCte, false);
            break;
          }
        }
        return 'PREPARE';
      }
      case 'set':
        if (top) this.parseSet(i + 1, end);
        return 'SET';
      case 'select':
      case 'values':
        return 'SELECT';
      default:
        return t.hole ? 'OTHER' : t.value.toUpperCase();
    }
  }

  /** Finds `ON CONFLICT ... DO UPDATE` at the statement's own paren depth. */
  private findUpsert(j: number, end: number): boolean {
    let conflict = false;
    for (let k = j; k < end; k++) {
      if (this.op(k, '(')) {
        k = this.close(k);
        continue;
      }
      if (!conflict) {
        if (this.kw(k, 'on') && this.kw(k + 1, 'conflict')) conflict = true;
      } else if (this.kw(k, 'do')) {
        return this.kw(k + 1, 'update');
      }
    }
    return false;
  }

  /** Parses CTE definitions after WITH; returns the index of the main statement. */
  private parseWith(i: number, end: number, bodies: boolean): number {
    if (this.kw(i, 'recursive')) i++;
    for (;;) {
      if (!this.isName(i)) return i;
      const nameIdx = i;
      let j = i + 1;
      if (this.op(j, '(')) j = this.close(j) + 1;
      if (!this.kw(j, 'as')) return i;
      j++;
      if (this.kw(j, 'not')) j++;
      if (this.kw(j, 'materialized')) j++;
      if (!this.op(j, '(')) return i;
      const cl = this.close(j);
      this.consumed.add(nameIdx);
      if (!this.toks[nameIdx].hole) this.c.ctes.add(this.folded(nameIdx));
      if (bodies) this.parseStmt(j + 1, Math.min(cl, end), true, false);
      j = cl + 1;
      if (this.kw(j, 'search') || this.kw(j, 'cycle')) {
        while (j < end && !this.op(j, ',')) {
          const t = this.tok(j);
          if (t && t.type === 'ident' && MAIN_VERBS.has(t.value)) break;
          j = this.op(j, '(') ? this.close(j) + 1 : j + 1;
        }
      }
      if (!this.op(j, ',')) return j;
      i = j + 1;
    }
  }

  private parseSet(i: number, end: number): void {
    let j = i;
    let local = false;
    if (this.kw(j, 'local')) {
      local = true;
      j++;
    } else if (this.kw(j, 'session')) {
      if (this.kw(j + 1, 'characteristics')) return;
      if (!this.kw(j + 1, 'authorization')) j++;
    }
    const record = (name: string | null, at: number): void => {
      this.c.settings.push({ pos: this.tok(at)?.start ?? 0, s: { name, local, form: 'SET' } });
    };
    const valueIsDefault = (k: number): boolean => this.kw(k, 'default');
    if (this.kw(j, 'transaction') || this.kw(j, 'constraints')) return;
    if (this.kw(j, 'time') && this.kw(j + 1, 'zone')) {
      if (!valueIsDefault(j + 2) && !this.kw(j + 2, 'local')) record('timezone', j);
      return;
    }
    if (this.kw(j, 'session') && this.kw(j + 1, 'authorization')) {
      if (!valueIsDefault(j + 2)) record('session_authorization', j);
      return;
    }
    if (this.kw(j, 'role') && !this.op(j + 1, '=') && !this.kw(j + 1, 'to')) {
      record('role', j);
      return;
    }
    if (this.kw(j, 'names') && !this.op(j + 1, '=') && !this.kw(j + 1, 'to')) {
      if (!valueIsDefault(j + 1)) record('client_encoding', j);
      return;
    }
    if (this.kw(j, 'schema') && !this.op(j + 1, '=') && !this.kw(j + 1, 'to')) {
      record('search_path', j);
      return;
    }
    if (this.kw(j, 'xml') && this.kw(j + 1, 'option')) {
      record('xmloption', j);
      return;
    }
    const nm = this.readName(j);
    if (!nm) {
      if (this.tok(j)?.hole) record(null, j);
      return;
    }
    const k = nm.next;
    if (!(this.op(k, '=') || this.kw(k, 'to'))) return;
    if (k + 1 < end && valueIsDefault(k + 1)) return;
    const hole = nm.parts.some((p) => this.toks[p].hole);
    record(hole ? null : settingName(nm.parts.map((p) => this.toks[p].value).join('.')), j);
  }

  // --- flat scan: reads, function calls, set_config, nested CTE names ---

  private flatScan(): void {
    const first = this.tok(this.from);
    const firstWord = first && first.type === 'ident' ? first.value : '';
    const noReads = firstWord === 'revoke' || firstWord === 'grant' || firstWord === 'fetch' || firstWord === 'move';
    const fromDepths: number[] = [];
    const labels: string[] = [];
    let depth = 0;
    for (let k = this.from; k < this.to; k++) {
      const t = this.toks[k];
      if (t.type === 'op') {
        if (t.value === '(') {
          labels.push(this.detectCall(k));
          depth++;
        } else if (t.value === ')') {
          labels.pop();
          depth--;
          while (fromDepths.length > 0 && fromDepths[fromDepths.length - 1] > depth) fromDepths.pop();
        } else if (t.value === ',' && fromDepths.length > 0 && fromDepths[fromDepths.length - 1] === depth) {
          this.parseFromItem(k + 1);
        }
        continue;
      }
      if (t.type !== 'ident') continue;
      const v = t.value;
      if (fromDepths.length > 0 && fromDepths[fromDepths.length - 1] === depth && FROM_STOP.has(v) && !this.fromTriggers.has(k)) {
        fromDepths.pop();
      }
      if (v === 'from') {
        if (noReads || this.skipFrom.has(k) || this.kw(k - 1, 'delete') || this.kw(k - 1, 'distinct')) continue;
        if (labels.length > 0 && FROM_FUNCS.has(labels[labels.length - 1])) continue;
        if (fromDepths.length > 0 && fromDepths[fromDepths.length - 1] === depth) fromDepths.pop();
        fromDepths.push(depth);
        this.parseFromItem(k + 1);
      } else if (v === 'join') {
        if (!noReads) this.parseFromItem(k + 1);
      } else if (v === 'using' && this.fromTriggers.has(k)) {
        if (fromDepths.length > 0 && fromDepths[fromDepths.length - 1] === depth) fromDepths.pop();
        fromDepths.push(depth);
        this.parseFromItem(k + 1);
      } else if (v === 'with' && k > this.from) {
        this.parseWith(k + 1, this.to, false);
      }
    }
  }

  private parseFromItem(j: number): void {
    while (this.kw(j, 'only') || this.kw(j, 'lateral')) j++;
    if (this.op(j, '(')) return;
    const nm = this.readName(j);
    if (!nm) return;
    if (this.op(nm.next, '(')) return; // a function in FROM
    if (nm.parts.some((p) => this.consumed.has(p))) return;
    const t = this.toks[nm.parts[0]];
    if (t.type === 'ident' && ALIAS_STOP.has(t.value) && nm.parts.length === 1) return;
    this.addRead(nm);
    let k = nm.next;
    if (this.op(k, '*')) k++;
    this.skipAlias(k);
  }

  /** At a `(`: records a function call when a function name precedes it; returns its name or ''. */
  private detectCall(k: number): string {
    const n = k - 1;
    if (!this.isName(n) || this.consumed.has(n)) return '';
    const nt = this.toks[n];
    if (nt.type === 'ident' && NOT_FUNC.has(nt.value)) return '';
    const parts = [n];
    let m = n - 1;
    while (this.op(m, '.') && this.isName(m - 1) && !this.consumed.has(m - 1)) {
      parts.unshift(m - 1);
      m -= 2;
    }
    const prev = this.tok(m);
    if (prev && ((prev.type === 'op' && (prev.value === '::' || prev.value === '.')) || (prev.type === 'ident' && NOT_FUNC_PREV.has(prev.value)))) {
      return '';
    }
    if (parts.some((p) => this.toks[p].hole)) return '';
    let name = normalizeFunctionName(parts.map((p) => this.folded(p)), true);
    if (name === 'trim') name = this.kw(k + 1, 'leading') ? 'ltrim' : this.kw(k + 1, 'trailing') ? 'rtrim' : 'btrim';
    this.c.calls.push({ pos: this.toks[parts[0]].start, name });
    if (name === 'set_config') this.parseSetConfig(k, this.toks[parts[0]].start);
    return name;
  }

  private parseSetConfig(open: number, pos: number): void {
    const cl = this.close(open);
    const args: Array<[number, number]> = [];
    let s = open + 1;
    for (let k = open + 1; k < cl; k++) {
      if (this.op(k, '(')) k = this.close(k);
      else if (this.op(k, ',')) {
        args.push([s, k]);
        s = k + 1;
      }
    }
    args.push([s, cl]);
    /** The single literal token of an argument (a trailing `::type` cast is ignored), or null. */
    const literal = (a: [number, number] | undefined): Token | null => {
      if (!a) return null;
      const [x, y] = a;
      if (y - x === 1 || (y - x >= 3 && this.op(x + 1, '::'))) return this.toks[x];
      return null;
    };
    const nameTok = literal(args[0]);
    const name = nameTok && nameTok.type === 'string' ? settingName(nameTok.value) : null;
    let local: boolean | null = null;
    const lt = args.length >= 3 ? literal(args[2]) : null;
    if (lt && !lt.hole) {
      if (lt.type === 'ident' && (lt.value === 'true' || lt.value === 'false')) local = lt.value === 'true';
      else if (lt.type === 'string') local = parseBoolText(lt.value);
    }
    this.c.settings.push({ pos, s: { name, local, form: 'set_config' } });
  }
}

/** Classifies the statement made of tokens [from, to) with the tolerant recogniser. Never throws. */
export function scanStatementDraft(toks: readonly Token[], from: number, to: number): Draft {
  try {
    return new StatementScanner(toks, from, to).run();
  } catch {
    const t = toks[from];
    return {
      from,
      to,
      kind: t && t.type === 'ident' ? t.value.toUpperCase() : 'OTHER',
      writes: [],
      reads: [],
      functionCalls: [],
      scopeSettings: [],
      parser: 'scanner',
    };
  }
}

/** The tolerant scanner alone over a whole SqlText (every statement has parser 'scanner'). Never throws. */
export function scanSql(text: SqlText): SqlStatement[] {
  try {
    const c = buildCanonical(text);
    const toks = tokenize(c.text);
    const drafts = splitStatements(toks).map(([a, b]) => scanStatementDraft(toks, a, b));
    return finalize(c.text, toks, c.holes, drafts);
  } catch {
    return [];
  }
}
