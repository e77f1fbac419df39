// The fixture oracle: `// want "regexp"` comments in Go fixtures, in the manner of golang.org/x/tools'
// analysistest, and the comparison of those expectations with the findings of a run.
//
// Syntax (inside any `//` comment of a .go file; see fixtures/README.md):
//
//   x := h.db.Exec(`DELETE FROM api_keys`) // want "RLS001 .*api_keys"
//   y := h.db.Exec(q)                      // want "RLS001 .*invoices" `RLS001 .*api_keys`
//   z := h.db.Exec(q)                      // wantSuppressed "RLS001"
//   z := h.db.Exec(q)                      // want "RLS001" want@-1 "RLS008"
//   // wantSyntaxError
//
// - Each pattern is a Go string literal (interpreted "..." with Go escapes, or raw `...`) holding a JavaScript
//   regular expression, tested (unanchored) against `ruleId + ' ' + message` of a finding.
// - `want` expects an unsuppressed finding, `wantSuppressed` a suppressed one (inline //rlscov:ignore or a config
//   allow entry). Suppressed findings are never matched by `want`, live ones never by `wantSuppressed`.
// - `@-N` / `@+N` after the keyword moves the expectation N lines up / down from the comment's line. It exists for
//   lines that cannot carry a trailing comment of their own, such as an //rlscov:ignore directive (anything after
//   it would become its reason).
// - Several clauses may share one comment; two findings on one line need two patterns.
// - `wantSyntaxError` (no patterns) says the engine must list this file among its syntax errors.
// - The expectation comment starts at the first `//` of a comment whose text begins with one of these keywords,
//   so `//rlscov:ignore RLS001 reason // want ...` would also work (but makes `// want ...` part of the reason).
//   `//` inside string literals, raw strings and /* */ comments is never taken for a comment.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

export type WantKind = 'want' | 'wantSuppressed';

export interface Want {
  kind: WantKind;
  /** Path relative to the collected directory, forward slashes. */
  file: string;
  /** The line the expectation applies to (1-based). */
  line: number;
  /** The line the comment is written on (differs from `line` for `want@±N`). */
  commentLine: number;
  /** The pattern as written in the fixture, quotes included, for messages. */
  literal: string;
  pattern: RegExp;
}

/** Wants keyed by `relpath:line`. */
export type WantIndex = Map<string, Want[]>;

export interface FixtureExpectations {
  wants: WantIndex;
  /** Files (relative, forward slashes) carrying a `// wantSyntaxError` marker. */
  syntaxErrorFiles: string[];
  /** Every .go file seen (relative), for hygiene checks. */
  goFiles: string[];
}

/** The part of a finding the oracle looks at (structurally compatible with model.ts `Finding`). */
export interface FindingLike {
  ruleId: string;
  message: string;
  span: { file: string; start: { line: number; column?: number } };
  suppressed?: unknown;
}

export class WantSyntaxError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    detail: string,
  ) {
    super(`${file}:${line}: malformed want comment: ${detail}`);
    this.name = 'WantSyntaxError';
  }
}

export function wantKey(file: string, line: number): string {
  return `${normalizeFile(file)}:${line}`;
}

function normalizeFile(file: string): string {
  let f = file.replace(/\\/g, '/');
  while (f.startsWith('./')) f = f.slice(2);
  return path.posix.normalize(f);
}

// ---------------------------------------------------------------------------------------------------------------
// Go lexing: just enough to find real `//` comments.

export interface LineComment {
  /** 1-based line of the `//`. */
  line: number;
  /** Text after the leading `//`, up to (not including) the end of line. */
  text: string;
}

/**
 * The `//` comments of a Go source text. String literals (interpreted and raw), rune literals and block comments
 * are skipped, so `"http://x"` or a `//` inside a multi-line raw SQL string is never a comment. Unterminated
 * literals end at the end of the line (interpreted, rune) or of the file (raw), as a tolerant lexer should.
 */
export function goLineComments(src: string): LineComment[] {
  const out: LineComment[] = [];
  let line = 1;
  let i = 0;
  const n = src.length;
  while (i < n) {
    const c = src[i];
    if (c === '\n') {
      line++;
      i++;
    } else if (c === '/' && src[i + 1] === '/') {
      let j = src.indexOf('\n', i);
      if (j < 0) j = n;
      let text = src.slice(i + 2, j);
      if (text.endsWith('\r')) text = text.slice(0, -1);
      out.push({ line, text });
      i = j;
    } else if (c === '/' && src[i + 1] === '*') {
      let j = src.indexOf('*/', i + 2);
      j = j < 0 ? n : j + 2;
      for (let k = i; k < j; k++) if (src[k] === '\n') line++;
      i = j;
    } else if (c === '`') {
      let j = src.indexOf('`', i + 1);
      j = j < 0 ? n : j + 1;
      for (let k = i; k < j; k++) if (src[k] === '\n') line++;
      i = j;
    } else if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < n && src[j] !== c && src[j] !== '\n') j += src[j] === '\\' ? 2 : 1;
      i = j < n && src[j] === c ? j + 1 : j;
    } else {
      i++;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Want comments

const KEYWORD = /^(wantSuppressed|wantSyntaxError|want)(?:@([+-]\d+))?(?=\s|$)/;

interface Clause {
  keyword: 'want' | 'wantSuppressed' | 'wantSyntaxError';
  offset: number;
  literals: Array<{ literal: string; value: string }>;
}

/** Decodes one Go string literal at the start of `s`; returns it with the number of characters consumed. */
export function readGoString(s: string): { literal: string; value: string; length: number } | string {
  if (s[0] === '`') {
    const end = s.indexOf('`', 1);
    if (end < 0) return 'unterminated raw string';
    const value = s.slice(1, end).replace(/\r/g, '');
    return { literal: s.slice(0, end + 1), value, length: end + 1 };
  }
  if (s[0] !== '"') return `expected a Go string literal, found ${JSON.stringify(s.slice(0, 20))}`;
  let value = '';
  let i = 1;
  const simple: Record<string, string> = {
    a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\', '"': '"', "'": "'",
  };
  while (i < s.length && s[i] !== '"') {
    if (s[i] !== '\\') {
      value += s[i++];
      continue;
    }
    const e = s[i + 1];
    if (e === undefined) return 'unterminated escape';
    if (e in simple) {
      value += simple[e];
      i += 2;
    } else if (/[0-7]/.test(e)) {
      const oct = s.slice(i + 1, i + 4);
      if (!/^[0-7]{3}$/.test(oct)) return `bad octal escape \\${oct}`;
      value += String.fromCharCode(parseInt(oct, 8));
      i += 4;
    } else if (e === 'x' || e === 'u' || e === 'U') {
      const len = e === 'x' ? 2 : e === 'u' ? 4 : 8;
      const hex = s.slice(i + 2, i + 2 + len);
      if (!new RegExp(`^[0-9a-fA-F]{${len}}$`).test(hex)) return `bad \\${e} escape`;
      value += String.fromCodePoint(parseInt(hex, 16));
      i += 2 + len;
    } else {
      return `unknown escape \\${e} (write \\\\${e} for a regexp escape, or use a raw string)`;
    }
  }
  if (s[i] !== '"') return 'unterminated string';
  return { literal: s.slice(0, i + 1), value, length: i + 1 };
}

/** Parses the clauses of one comment's text (after `//`), or returns null when it holds no expectation. */
export function parseWantComment(text: string): Clause[] | null | string {
  // The expectation starts at the first `//`-separated segment that begins with a keyword.
  let start = -1;
  const starts = [0];
  for (let k = text.indexOf('//'); k >= 0; k = text.indexOf('//', k + 2)) starts.push(k + 2);
  for (const s of starts) {
    if (KEYWORD.test(text.slice(s).trimStart())) {
      start = s;
      break;
    }
  }
  if (start < 0) return null;
  let rest = text.slice(start).trimStart();
  const clauses: Clause[] = [];
  while (rest.length > 0) {
    const m = KEYWORD.exec(rest);
    if (!m) return `expected want, wantSuppressed or wantSyntaxError, found ${JSON.stringify(rest.slice(0, 20))}`;
    const clause: Clause = {
      keyword: m[1] as Clause['keyword'],
      offset: m[2] ? parseInt(m[2], 10) : 0,
      literals: [],
    };
    rest = rest.slice(m[0].length).trimStart();
    while (rest.startsWith('"') || rest.startsWith('`')) {
      const r = readGoString(rest);
      if (typeof r === 'string') return r;
      clause.literals.push({ literal: r.literal, value: r.value });
      rest = rest.slice(r.length).trimStart();
    }
    if (clause.keyword === 'wantSyntaxError') {
      if (clause.literals.length > 0) return 'wantSyntaxError takes no patterns';
      if (clause.offset !== 0) return 'wantSyntaxError takes no line offset';
    } else if (clause.literals.length === 0) {
      return `${clause.keyword} needs at least one pattern`;
    }
    clauses.push(clause);
  }
  return clauses;
}

/** The expectations written in one Go file's text. `file` is the relative path used in keys. */
export function scanFileExpectations(src: string, file: string): { wants: Want[]; syntaxError: boolean } {
  const rel = normalizeFile(file);
  const wants: Want[] = [];
  let syntaxError = false;
  for (const c of goLineComments(src)) {
    const parsed = parseWantComment(c.text);
    if (parsed === null) continue;
    if (typeof parsed === 'string') throw new WantSyntaxError(rel, c.line, parsed);
    for (const clause of parsed) {
      if (clause.keyword === 'wantSyntaxError') {
        syntaxError = true;
        continue;
      }
      for (const lit of clause.literals) {
        let pattern: RegExp;
        try {
          pattern = new RegExp(lit.value);
        } catch (e) {
          throw new WantSyntaxError(rel, c.line, `invalid regexp ${lit.literal}: ${(e as Error).message}`);
        }
        wants.push({
          kind: clause.keyword,
          file: rel,
          line: c.line + clause.offset,
          commentLine: c.line,
          literal: lit.literal,
          pattern,
        });
      }
    }
  }
  return { wants, syntaxError };
}

function listGoFiles(dir: string, rel = ''): string[] {
  const out: string[] = [];
  const entries = readdirSync(path.join(dir, rel), { withFileTypes: true }).sort((a, b) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
  );
  for (const e of entries) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) {
      if (e.name === '.git' || e.name === 'node_modules') continue;
      out.push(...listGoFiles(dir, r));
    } else if (e.isFile() && e.name.endsWith('.go')) {
      out.push(r);
    }
  }
  return out;
}

/**
 * Every expectation below `dir`, from every .go file (vendor/, testdata/ and generated files included: a want
 * there means the engine must report there, which is usually wrong, so such files simply carry none).
 */
export function collectExpectations(dir: string): FixtureExpectations {
  const wants: WantIndex = new Map();
  const syntaxErrorFiles: string[] = [];
  const goFiles = listGoFiles(dir);
  for (const rel of goFiles) {
    const src = readFileSync(path.join(dir, rel), 'utf8');
    const scanned = scanFileExpectations(src, rel);
    if (scanned.syntaxError) syntaxErrorFiles.push(rel);
    for (const w of scanned.wants) {
      const key = wantKey(w.file, w.line);
      const list = wants.get(key);
      if (list) list.push(w);
      else wants.set(key, [w]);
    }
  }
  return { wants, syntaxErrorFiles, goFiles };
}

/** Wants keyed by `relpath:line` for every .go file below `dir`. */
export function collectWants(dir: string): WantIndex {
  return collectExpectations(dir).wants;
}

/** The rule id a want's pattern names (`RLS001` for "RLS001 .*invoices"), or null. */
export function wantRuleId(w: Want): string | null {
  const m = /^\^?(RLS\d{3})(?![0-9])/.exec(w.pattern.source);
  return m ? m[1] : null;
}

export function allWants(index: WantIndex): Want[] {
  return [...index.values()].flat();
}

// ---------------------------------------------------------------------------------------------------------------
// Comparison

export interface ExtraFinding {
  finding: FindingLike;
  key: string;
  suppressed: boolean;
}

export interface WantCheckResult {
  ok: boolean;
  matched: number;
  /** Wants no finding matched. */
  missing: Want[];
  /** Findings no want matched. */
  extra: ExtraFinding[];
}

function subject(f: FindingLike): string {
  return `${f.ruleId} ${f.message}`;
}

/** Maximum bipartite matching (Kuhn): which wants the findings on one line take. */
function matchLine(findings: FindingLike[], wants: Want[]): { unmatchedFindings: number[]; unmatchedWants: number[] } {
  const fits = findings.map((f) => wants.map((w) => w.pattern.test(subject(f))));
  const wantOwner: number[] = wants.map(() => -1);
  const tryAssign = (fi: number, seen: boolean[]): boolean => {
    for (let wi = 0; wi < wants.length; wi++) {
      if (!fits[fi][wi] || seen[wi]) continue;
      seen[wi] = true;
      if (wantOwner[wi] < 0 || tryAssign(wantOwner[wi], seen)) {
        wantOwner[wi] = fi;
        return true;
      }
    }
    return false;
  };
  const findingMatched = findings.map((_, fi) => tryAssign(fi, wants.map(() => false)));
  return {
    unmatchedFindings: findings.map((_, i) => i).filter((i) => !findingMatched[i]),
    unmatchedWants: wants.map((_, i) => i).filter((i) => wantOwner[i] < 0),
  };
}

/**
 * Compares expectations with findings. Live findings are matched against `want`, suppressed ones against
 * `wantSuppressed`, on the same `file:line`; each want takes at most one finding and each finding one want.
 * Pure: no I/O.
 */
export function checkWants(wants: WantIndex, findings: readonly FindingLike[]): WantCheckResult {
  const groups = new Map<string, { findings: FindingLike[]; wants: Want[] }>();
  const group = (k: string) => {
    let g = groups.get(k);
    if (!g) groups.set(k, (g = { findings: [], wants: [] }));
    return g;
  };
  for (const [key, list] of wants) {
    for (const w of list) group(`${w.kind === 'wantSuppressed' ? 's' : 'l'}|${key}`).wants.push(w);
  }
  for (const f of findings) {
    const key = wantKey(f.span.file, f.span.start.line);
    group(`${f.suppressed ? 's' : 'l'}|${key}`).findings.push(f);
  }
  const missing: Want[] = [];
  const extra: ExtraFinding[] = [];
  let matched = 0;
  for (const [gk, g] of groups) {
    const { unmatchedFindings, unmatchedWants } = matchLine(g.findings, g.wants);
    matched += g.findings.length - unmatchedFindings.length;
    for (const i of unmatchedWants) missing.push(g.wants[i]);
    for (const i of unmatchedFindings) {
      extra.push({ finding: g.findings[i], key: gk.slice(2), suppressed: gk.startsWith('s|') });
    }
  }
  const byKey = (a: { file: string; line: number }, b: { file: string; line: number }) =>
    a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line;
  missing.sort(byKey);
  extra.sort((a, b) =>
    byKey(
      { file: normalizeFile(a.finding.span.file), line: a.finding.span.start.line },
      { file: normalizeFile(b.finding.span.file), line: b.finding.span.start.line },
    ),
  );
  return { ok: missing.length === 0 && extra.length === 0, matched, missing, extra };
}

/**
 * One line per problem, sorted by position, with hints for the usual slips (finding one line off, finding
 * suppressed when a live one was wanted, or the other way round). Empty when the check passed.
 */
export function describeWantCheck(result: WantCheckResult): string[] {
  const lines: string[] = [];
  const items: Array<{ file: string; line: number; text: string }> = [];
  for (const w of result.missing) {
    const at = w.commentLine === w.line ? '' : ` (written on line ${w.commentLine})`;
    let hint = '';
    const near = result.extra.find(
      (e) =>
        normalizeFile(e.finding.span.file) === w.file &&
        Math.abs(e.finding.span.start.line - w.line) <= 3 &&
        w.pattern.test(subject(e.finding)),
    );
    if (near) {
      const sameLine = near.finding.span.start.line === w.line;
      hint = sameLine
        ? ` (a ${near.suppressed ? 'suppressed' : 'live'} finding matches: check want vs wantSuppressed)`
        : ` (a matching finding is on line ${near.finding.span.start.line})`;
    }
    items.push({
      file: w.file,
      line: w.line,
      text: `- missing ${w.file}:${w.line}: ${w.kind} ${w.literal}${at}${hint}`,
    });
  }
  for (const e of result.extra) {
    const f = e.finding;
    const file = normalizeFile(f.span.file);
    const col = f.span.start.column !== undefined ? `:${f.span.start.column}` : '';
    const tag = e.suppressed ? 'extra suppressed' : 'extra';
    items.push({ file, line: f.span.start.line, text: `+ ${tag} ${file}:${f.span.start.line}${col}: ${subject(f)}` });
  }
  items.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line));
  for (const it of items) lines.push(it.text);
  return lines;
}

/** A readable report of a failed check, or '' when it passed. */
export function formatWantCheck(result: WantCheckResult, title = 'findings vs // want'): string {
  if (result.ok) return '';
  const lines = describeWantCheck(result);
  return [
    `${title}: ${result.missing.length} missing, ${result.extra.length} unexpected, ${result.matched} matched`,
    ...lines.map((l) => `  ${l}`),
  ].join('\n');
}
