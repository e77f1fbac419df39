// classifySql: SQL texts with holes -> statements (writes, reads, function calls, scope settings), using the real
// Postgres grammar (libpg-query) where it accepts the text and the tolerant scanner (scanner.ts) otherwise.
//
// Holes are replaced by identifier placeholders (`__rlscov_hole_<n>__`) and the text is parsed as a whole. When the
// grammar rejects it, the hole nearest before the error position gets the next alternative spelling (a string
// literal, a number, `(x)`, `x = 1`, nothing) and the text is parsed again, a bounded number of times. Texts that
// still fail are split into statements by the tokenizer and each statement is tried alone; what still fails goes
// to the scanner. Nothing here throws.

import type { SqlStatement, SqlText, TableRef, WriteVerb } from '../model.js';
import { createHash } from 'node:crypto';
import { normalizeFunctionName, normalizeTableName } from './names.js';
import { loadPg, pg, pgReady } from './pg.js';
import {
  type CanonicalText,
  type Collected,
  type Draft,
  type HoleSpan,
  type Token,
  assemble,
  buildCanonical,
  containsHole,
  finalize,
  makeWrite,
  newCollected,
  parseBoolText,
  scanSql,
  scanStatementDraft,
  settingName,
  splitStatements,
  tokenize,
} from './scanner.js';

// ---------------------------------------------------------------------------------------------------------------
// Loading

/** Loads the Postgres parser (pg.ts) for classifySql; later calls return the same promise. */
export function loadSqlParser(): Promise<void> {
  return loadPg();
}

/**
 * How many texts classifySql answered with the tolerant scanner alone because the Postgres grammar, which would have
 * classified them, was not loaded yet. A caller that runs before loading it (the engine does, so that a run whose
 * texts are all cached never loads it) compares this count before and after a step, and when it grew, loads the
 * parser and does the step again: what such a step computed is never kept.
 */
export function sqlParserNeeded(): number {
  return neededWhileUnloaded;
}

let neededWhileUnloaded = 0;

/** Whether classifySql can answer this text without the Postgres grammar: cached, or never given to it. */
export function sqlClassifiedWithoutParser(text: SqlText): boolean {
  if (pgReady()) return true;
  try {
    const c = buildCanonical(text);
    return cache.has(cacheKey(c)) || scannerOnly(c, tokenize(c.text));
  } catch {
    return true; // classifySql's fall-back (the scanner) answers it either way
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Entry point and cache

const MAX_TEXT_CHARS = 1_000_000;
const MAX_HOLES = 1000;
/** A text the grammar rejects as a whole is retried statement by statement only up to this many statements. */
const MAX_STATEMENTS_RETRIED = 200;
const CACHE_MAX_ENTRIES = 10_000;
const CACHE_MAX_KEY_CHARS = 16_384;

/**
 * A text's key in the cache: itself, or past 16 KB a SHA-256 digest of it (so that a long text is classified once,
 * not by every run: before the parser is loaded, a text missing from the cache makes the run solve twice).
 */
function cacheKey(c: CanonicalText): string {
  return c.text.length <= CACHE_MAX_KEY_CHARS ? c.text : `#sha256:${createHash('sha256').update(c.text).digest('base64')}`;
}

/** Canonical text (cacheKey) -> statements, least recently used first. */
const cache = new Map<string, SqlStatement[]>();

/**
 * Classifies one SQL text into its statements. Synchronous; uses the Postgres grammar once loadSqlParser() has
 * resolved (for texts over 1 MB or with over 1,000 holes, only the tolerant scanner). Before that, a text classified
 * earlier (in this process or, through seedSqlClassifications, an earlier run) gets its cached classification, and any
 * other the scanner's, counted by sqlParserNeeded and never cached. Results are cached by text (holes numbered in
 * order; past 16 KB by a digest of it), and every call returns fresh objects. Never throws.
 */
export function classifySql(text: SqlText): SqlStatement[] {
  try {
    const c = buildCanonical(text);
    const key = cacheKey(c);
    const hit = cache.get(key);
    if (hit) {
      cache.delete(key);
      cache.set(key, hit);
      return cloneStatements(hit);
    }
    const result = classifyCanonical(c);
    if (pgReady()) {
      if (cache.size >= CACHE_MAX_ENTRIES) {
        const oldest = cache.keys().next();
        if (!oldest.done) cache.delete(oldest.value);
      }
      cache.set(key, result);
      added++;
    }
    return cloneStatements(result);
  } catch {
    try {
      return scanSql(text);
    } catch {
      return [];
    }
  }
}

/** Classifications added to the in-memory cache since the process started (loaded ones not counted). */
let added = 0;

/**
 * The cached classifications (canonical text -> statements), least recently used first: what a persistent cache
 * stores between runs. Classification is a pure function of the text, so they stay valid for this tool version.
 */
export function sqlClassifications(): { entries: Array<[string, SqlStatement[]]>; added: number } {
  return { entries: [...cache], added };
}

/**
 * Forgets every classification (and the count of those added): a process that runs many commands (the daemon)
 * starts each as a process of its own would, with what its own tree's cache holds, so that one tree's SQL texts
 * are never stored with another's.
 */
export function forgetSqlClassifications(): void {
  cache.clear();
  added = 0;
}

/** Loads classifications stored by an earlier run (see sqlClassifications); entries already cached win. */
export function seedSqlClassifications(entries: ReadonlyArray<[string, SqlStatement[]]>): void {
  for (const [text, statements] of entries) {
    if (cache.size >= CACHE_MAX_ENTRIES) break;
    if (typeof text === 'string' && Array.isArray(statements) && !cache.has(text)) cache.set(text, statements);
  }
}

function cloneStatements(ss: readonly SqlStatement[]): SqlStatement[] {
  return ss.map((s) => ({
    ...s,
    writes: s.writes.map((w) => ({ ...w, table: w.table ? { ...w.table } : null })),
    reads: s.reads.map((r) => ({ ...r })),
    functionCalls: s.functionCalls.slice(),
    scopeSettings: s.scopeSettings.map((x) => ({ ...x })),
  }));
}

/** Texts the Postgres grammar is never given (too large, too many holes, a NUL, no statement). */
function scannerOnly(c: CanonicalText, toks: Token[], ranges = splitStatements(toks)): boolean {
  const rawChars = c.text.length - c.holes.reduce((n, h) => n + (h.end - h.start), 0);
  return rawChars > MAX_TEXT_CHARS || c.holes.length > MAX_HOLES || c.text.includes('\0') || ranges.length === 0;
}

function classifyCanonical(c: CanonicalText): SqlStatement[] {
  const toks = tokenize(c.text);
  const ranges = splitStatements(toks);
  let scanner = scannerOnly(c, toks, ranges);
  if (!scanner && !pgReady()) {
    neededWhileUnloaded++;
    scanner = true;
  }
  let drafts: Draft[];
  if (scanner) {
    drafts = ranges.map(([a, b]) => scanStatementDraft(toks, a, b));
  } else {
    const pg = new PostgresPath(c, toks);
    const whole = pg.tryRegion(0, c.text.length);
    if (whole && whole.length > 0) {
      drafts = whole;
    } else if (ranges.length > 1 && ranges.length <= MAX_STATEMENTS_RETRIED) {
      drafts = [];
      for (const [a, b] of ranges) {
        const one = pg.tryRegion(toks[a].start, toks[b - 1].end);
        if (one && one.length > 0) drafts.push(...one);
        else drafts.push(scanStatementDraft(toks, a, b));
      }
    } else {
      drafts = ranges.map(([a, b]) => scanStatementDraft(toks, a, b));
    }
  }
  return finalize(c.text, toks, c.holes, drafts);
}

// ---------------------------------------------------------------------------------------------------------------
// Variants: the text handed to the parser, with each hole spelled one of several ways

/** Spellings tried for a hole, in order; `p` is its identifier placeholder. */
const HOLE_ALTERNATIVES: ReadonlyArray<(p: string) => string> = [
  (p) => p,
  (p) => `'${p}'`,
  () => '1',
  (p) => `(${p})`,
  (p) => `${p} = 1`,
  () => '',
];

interface VariantSpan {
  vStart: number;
  vEnd: number;
  cStart: number;
  cEnd: number;
}

interface Variant {
  text: string;
  /** Canonical offset where the variant starts. */
  origin: number;
  spans: VariantSpan[];
}

/** Maps a variant offset to a canonical offset; offsets inside a replaced hole go to its start (or end). */
function variantToCanonical(v: Variant, off: number, isEnd: boolean): number {
  const spans = v.spans;
  let lo = 0;
  let hi = spans.length - 1;
  let h = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (spans[mid].vStart <= off) {
      h = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  if (h < 0) return v.origin + off;
  const s = spans[h];
  if (off === s.vStart) return s.cStart;
  if (off < s.vEnd) return isEnd ? s.cEnd : s.cStart;
  return s.cEnd + (off - s.vEnd);
}

/** Maps UTF-8 byte offsets (what libpg-query reports) to UTF-16 offsets of `s`. */
function byteMapper(s: string): (b: number) => number {
  if (!/[^\x00-\x7f]/.test(s)) return (b) => Math.max(0, Math.min(b, s.length));
  const map = new Int32Array(Buffer.byteLength(s, 'utf8') + 1);
  let b = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let len = c < 0x80 ? 1 : c < 0x800 ? 2 : 3;
    const pair = c >= 0xd800 && c <= 0xdbff && i + 1 < s.length;
    if (pair) len = 4;
    for (let k = 0; k < len && b + k < map.length; k++) map[b + k] = i;
    b += len;
    if (pair) i++;
  }
  map[Math.min(b, map.length - 1)] = s.length;
  return (x) => (x <= 0 ? 0 : x >= map.length ? s.length : map[x]);
}

/** Maps a code-point offset (Postgres error cursors) to a UTF-16 offset of `s`. */
function codePointToUtf16(s: string, cp: number): number {
  if (!/[\ud800-\udfff]/.test(s)) return cp;
  let i = 0;
  for (let n = 0; n < cp && i < s.length; n++) {
    const c = s.charCodeAt(i);
    i += c >= 0xd800 && c <= 0xdbff ? 2 : 1;
  }
  return i;
}

function errorCursor(e: unknown): number {
  const d = (e as { sqlDetails?: { cursorPosition?: unknown } } | null)?.sqlDetails;
  return d && typeof d.cursorPosition === 'number' ? d.cursorPosition : -1;
}

// ---------------------------------------------------------------------------------------------------------------
// The Postgres path

type Obj = Record<string, unknown>;

function isObj(x: unknown): x is Obj {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** `{ TypeName: {...} }` -> ['TypeName', {...}] */
function unwrap(n: unknown): [string, Obj] | null {
  if (!isObj(n)) return null;
  const ks = Object.keys(n);
  if (ks.length !== 1) return null;
  const k = ks[0];
  const c = k.charCodeAt(0);
  const v = n[k];
  return c >= 65 && c <= 90 && isObj(v) ? [k, v] : null;
}

function str(x: unknown): string {
  return typeof x === 'string' ? x : '';
}

const KIND_BY_NODE: Record<string, string> = {
  InsertStmt: 'INSERT',
  UpdateStmt: 'UPDATE',
  DeleteStmt: 'DELETE',
  MergeStmt: 'MERGE',
  CopyStmt: 'COPY',
  TruncateStmt: 'TRUNCATE',
  SelectStmt: 'SELECT',
};

/** Parent keys under which a RangeVar is a table being read. */
const READ_KEYS = new Set(['fromClause', 'usingClause', 'sourceRelation', 'larg', 'rarg']);

class PostgresPath {
  private driverFixed: string | null = null;

  constructor(
    private readonly c: CanonicalText,
    private readonly toks: readonly Token[],
  ) {}

  /**
   * Parses canonical text [rs, re) with hole repair; on success returns its statements as drafts, else null.
   * If the text fails as written, it is retried with driver placeholders (`?`, `:name`) spelled as constants.
   */
  tryRegion(rs: number, re: number): Draft[] | null {
    const holes = this.c.holes.filter((h) => h.start >= rs && h.end <= re);
    const bases = [this.c.text];
    for (let b = 0; b < 2; b++) {
      const base = bases[b];
      if (base === undefined) break;
      const choices = new Array<number>(holes.length).fill(0);
      // Bounded: at most 64 parses, and about 2 MB of text parsed per region.
      const bySize = Math.max(2, Math.floor(2_000_000 / Math.max(1, re - rs)));
      const maxAttempts = Math.min(64, 2 + holes.length * HOLE_ALTERNATIVES.length, bySize);
      for (let attempt = 0; attempt < maxAttempts; attempt++) {
        const v = this.variant(base, rs, re, holes, choices);
        let tree: unknown;
        try {
          tree = pg().parseSync(v.text);
        } catch (e) {
          if (holes.length === 0) break;
          const cp = errorCursor(e);
          if (cp < 0) break;
          const h = pickHole(v, codePointToUtf16(v.text, cp));
          if (h < 0 || choices[h] >= HOLE_ALTERNATIVES.length - 1) break;
          choices[h]++;
          continue;
        }
        return this.drafts(tree, v);
      }
      if (b === 0) {
        const fixed = this.fixDriverPlaceholders();
        if (fixed !== this.c.text) bases.push(fixed);
      }
    }
    return null;
  }

  private variant(base: string, rs: number, re: number, holes: readonly HoleSpan[], choices: readonly number[]): Variant {
    let text = '';
    let last = rs;
    const spans: VariantSpan[] = [];
    for (let i = 0; i < holes.length; i++) {
      const h = holes[i];
      text += base.slice(last, h.start);
      const vStart = text.length;
      text += HOLE_ALTERNATIVES[choices[i]](this.c.text.slice(h.start, h.end));
      spans.push({ vStart, vEnd: text.length, cStart: h.start, cEnd: h.end });
      last = h.end;
    }
    text += base.slice(last, re);
    return { text, origin: rs, spans };
  }

  /** `?` (database/sql, sqlx) and `:name` (sqlx named) placeholders -> same-length constants/identifiers. */
  private fixDriverPlaceholders(): string {
    if (this.driverFixed !== null) return this.driverFixed;
    const src = this.c.text;
    const toks = this.toks;
    let chars: string[] | null = null;
    for (let k = 0; k < toks.length; k++) {
      const t = toks[k];
      if (t.type !== 'op') continue;
      const prev = toks[k - 1];
      const next = toks[k + 1];
      const prevAdj = prev !== undefined && prev.end === t.start && prev.type === 'op';
      const nextAdjOp = next !== undefined && next.start === t.end && next.type === 'op';
      if (t.value === '?' && !prevAdj && !nextAdjOp) {
        chars ??= src.split('');
        chars[t.start] = '0';
      } else if (t.value === ':' && !prevAdj && next !== undefined && next.start === t.end && next.type === 'ident') {
        chars ??= src.split('');
        chars[t.start] = ' ';
      }
    }
    this.driverFixed = chars ? chars.join('') : src;
    return this.driverFixed;
  }

  private drafts(tree: unknown, v: Variant): Draft[] {
    const stmts = isObj(tree) && Array.isArray(tree.stmts) ? tree.stmts : [];
    const b2u = byteMapper(v.text);
    const totalBytes = Buffer.byteLength(v.text, 'utf8');
    const out: Draft[] = [];
    for (const raw of stmts) {
      if (!isObj(raw)) continue;
      const loc = typeof raw.stmt_location === 'number' ? raw.stmt_location : 0;
      const len = typeof raw.stmt_len === 'number' ? raw.stmt_len : 0;
      const bEnd = len > 0 ? loc + len : totalBytes;
      const cs = variantToCanonical(v, b2u(loc), false);
      const ce = variantToCanonical(v, b2u(bEnd), true);
      const from = firstTokenAtOrAfter(this.toks, cs);
      const to = firstTokenAtOrAfter(this.toks, ce);
      if (to <= from) continue;
      const hasHole = this.c.holes.some((h) => h.end > this.toks[from].start && h.start < this.toks[to - 1].end);
      out.push(analyzeStatement(raw.stmt, this.toks, from, to, hasHole));
    }
    return out;
  }
}

/** The hole to respell for a syntax error at `pos`: the last one starting at or just before the error. */
function pickHole(v: Variant, pos: number): number {
  let best = -1;
  for (let i = 0; i < v.spans.length; i++) {
    if (v.spans[i].vStart <= pos + 2) best = i;
    else break;
  }
  return best;
}

function firstTokenAtOrAfter(toks: readonly Token[], off: number): number {
  let lo = 0;
  let hi = toks.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (toks[mid].start < off) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function analyzeStatement(stmt: unknown, toks: readonly Token[], from: number, to: number, hasHole: boolean): Draft {
  const u = unwrap(stmt);
  const first = toks[from];
  let kind = first.type === 'ident' && !first.hole ? first.value.toUpperCase() : 'OTHER';
  if (u && KIND_BY_NODE[u[0]]) kind = KIND_BY_NODE[u[0]];
  const w = new AstWalker(hasHole);
  if (u && u[0] === 'VariableSetStmt') w.topLevelSet(u[1]);
  else w.walk(stmt, '', false);
  return assemble(w.c, from, to, kind, 'postgres');
}

class AstWalker {
  readonly c: Collected = newCollected();

  constructor(private readonly hasHole: boolean) {}

  walk(node: unknown, key: string, inCte: boolean): void {
    if (Array.isArray(node)) {
      for (const el of node) this.walk(el, key, inCte);
      return;
    }
    if (!isObj(node)) return;
    const u = unwrap(node);
    if (u) {
      this.visit(u[0], u[1], key, inCte);
      return;
    }
    for (const k of Object.keys(node)) this.walk(node[k], k, inCte);
  }

  private walkFields(body: Obj, inCte: boolean, skip: string): void {
    for (const k of Object.keys(body)) if (k !== skip) this.walk(body[k], k, inCte);
  }

  private visit(type: string, body: Obj, key: string, inCte: boolean): void {
    switch (type) {
      case 'InsertStmt': {
        const oc = body.onConflictClause;
        this.write('INSERT', body.relation, inCte, isObj(oc) && oc.action === 'ONCONFLICT_UPDATE');
        this.walkFields(body, inCte, 'relation');
        return;
      }
      case 'UpdateStmt':
        this.write('UPDATE', body.relation, inCte);
        this.walkFields(body, inCte, 'relation');
        return;
      case 'DeleteStmt':
        this.write('DELETE', body.relation, inCte);
        this.walkFields(body, inCte, 'relation');
        return;
      case 'MergeStmt':
        this.write('MERGE', body.relation, inCte);
        this.walkFields(body, inCte, 'relation');
        return;
      case 'CopyStmt':
        if (isObj(body.relation)) {
          if (body.is_from === true) this.write('COPY_FROM', body.relation, inCte);
          else this.read(body.relation);
        }
        this.walkFields(body, inCte, 'relation');
        return;
      case 'TruncateStmt':
        if (Array.isArray(body.relations)) {
          for (const r of body.relations) {
            const ru = unwrap(r);
            if (ru && ru[0] === 'RangeVar') this.write('TRUNCATE', ru[1], inCte);
          }
        }
        this.walkFields(body, inCte, 'relations');
        return;
      case 'CommonTableExpr': {
        const name = str(body.ctename);
        if (name && !containsHole(name)) this.c.ctes.add(name);
        this.walk(body.ctequery, 'ctequery', true);
        this.walkFields(body, inCte, 'ctequery');
        return;
      }
      case 'ExplainStmt':
        if (explainAnalyzes(body.options)) this.walk(body.query, 'query', inCte);
        return;
      case 'CallStmt':
        if (isObj(body.funccall)) this.func(body.funccall, inCte);
        this.walkFields(body, inCte, 'funccall');
        return;
      case 'RangeVar':
        if (READ_KEYS.has(key)) this.read(body);
        return;
      case 'FuncCall':
        this.func(body, inCte);
        return;
      default:
        this.walkFields(body, inCte, '');
    }
  }

  topLevelSet(body: Obj): void {
    if (body.kind !== 'VAR_SET_VALUE') return;
    this.c.settings.push({ pos: 0, s: { name: settingName(str(body.name)), local: body.is_local === true, form: 'SET' } });
  }

  private table(rv: unknown): TableRef | null {
    if (!isObj(rv)) return null;
    const rel = str(rv.relname);
    const sch = str(rv.schemaname);
    if (containsHole(rel) || containsHole(sch) || containsHole(str(rv.catalogname))) return null;
    // A hole glued to a long name may have been cut off by Postgres' 63-byte identifier truncation.
    if (this.hasHole && (Buffer.byteLength(rel, 'utf8') === 63 || Buffer.byteLength(sch, 'utf8') === 63)) return null;
    return { name: normalizeTableName(sch || null, rel, true) };
  }

  private write(verb: WriteVerb, rv: unknown, inCte: boolean, upsert = false): void {
    const pos = isObj(rv) && typeof rv.location === 'number' ? rv.location : 0;
    this.c.writes.push({ pos, w: makeWrite(verb, this.table(rv), upsert, inCte) });
  }

  private read(rv: Obj): void {
    const t = this.table(rv);
    if (!t) return;
    const pos = typeof rv.location === 'number' ? rv.location : 0;
    this.c.reads.push({ pos, name: t.name, cte: rv.schemaname ? null : str(rv.relname) });
  }

  private func(fc: Obj, inCte: boolean): void {
    const names = Array.isArray(fc.funcname)
      ? fc.funcname.map((n) => {
          const u = unwrap(n);
          return u && u[0] === 'String' ? str(u[1].sval) : '';
        })
      : [];
    const pos = typeof fc.location === 'number' ? fc.location : 0;
    if (names.length > 0 && !names.some((n) => containsHole(n))) {
      const name = normalizeFunctionName(names, true);
      this.c.calls.push({ pos, name });
      if (name === 'set_config') this.setConfig(fc, pos);
    }
    this.walkFields(fc, inCte, 'funcname');
  }

  private setConfig(fc: Obj, pos: number): void {
    const args = Array.isArray(fc.args) ? fc.args : [];
    const nameConst = constOf(args[0]);
    const nameVal = nameConst && isObj(nameConst.sval) ? str(nameConst.sval.sval) : null;
    const name = nameVal !== null ? settingName(nameVal) : null;
    let local: boolean | null = null;
    const l = args.length >= 3 ? constOf(args[2]) : null;
    if (l) {
      if (isObj(l.boolval)) local = l.boolval.boolval === true;
      else if (isObj(l.sval)) local = containsHole(str(l.sval.sval)) ? null : parseBoolText(str(l.sval.sval));
    }
    this.c.settings.push({ pos, s: { name, local, form: 'set_config' } });
  }
}

/** The A_Const body of a constant argument, looking through casts; null otherwise. */
function constOf(n: unknown): Obj | null {
  const u = unwrap(n);
  if (!u) return null;
  if (u[0] === 'TypeCast') return constOf(u[1].arg);
  return u[0] === 'A_Const' ? u[1] : null;
}

/** EXPLAIN executes its statement only with ANALYZE (not switched off). */
function explainAnalyzes(options: unknown): boolean {
  if (!Array.isArray(options)) return false;
  for (const o of options) {
    const u = unwrap(o);
    if (!u || u[0] !== 'DefElem') continue;
    const name = str(u[1].defname);
    if (name !== 'analyze' && name !== 'analyse') continue;
    const arg = unwrap(u[1].arg);
    if (!arg) return true;
    if (arg[0] === 'String') return parseBoolText(str(arg[1].sval)) !== false;
    if (arg[0] === 'Integer') return typeof arg[1].ival === 'number' && arg[1].ival !== 0;
    if (arg[0] === 'Boolean') return arg[1].boolval === true;
    return true;
  }
  return false;
}
