// A tolerant SQL statement splitter for migration files, and the offset/line helpers the fold needs.
//
// The real Postgres grammar (libpg-query) decides what a statement means; this splitter only decides where
// statements begin and end, so that the fold can (a) parse only the few statements that can change the catalog
// (parsing every CREATE TABLE of 200 migrations costs far more than the whole fold budget) and (b) keep going past a
// statement the grammar rejects. It respects '...' strings (E'...' with backslash escapes), "quoted identifiers",
// $tag$ dollar quotes $tag$, -- line comments, nested /* block comments */ and BEGIN ATOMIC ... END bodies.
//
// Migration-tool conventions handled here:
// - goose `-- +goose Down`, sql-migrate `-- +migrate Down` and dbmate `-- migrate:down` end the forward part of a
//   file: everything after the marker is the rollback and is ignored.
// - psql meta-command lines (a line starting with a backslash outside any quote: `\connect db`, `\set x 1`) are
//   skipped, and so are the data lines of `COPY ... FROM stdin;` up to the `\.` terminator.

export interface SplitStatement {
  /** UTF-16 index of the statement's first token (never a comment or white space). */
  start: number;
  /** UTF-16 index just past the statement's last character (its ';' excluded). */
  end: number;
  /** The statement text without the terminating ';' (psql meta lines inside it blanked). */
  text: string;
}

export interface SplitResult {
  statements: SplitStatement[];
  /** UTF-16 index of a migration-tool "down" marker that cut the file, or -1. */
  downMarkerAt: number;
}

const DOWN_MARKER = /^--\s*(?:\+goose\s+down|\+migrate\s+down|migrate:down)\b/i;
const COPY_FROM_STDIN = /^COPY\b[\s\S]*\bFROM\s+STDIN\b/i;

function isIdentChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c >= 128 || (c >= 48 && c <= 57) || c === 36;
}
function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 13 || c === 12 || c === 11;
}

/** Index just past a '...' string starting at `i` (the opening quote); backslash escapes when `escapes`. */
function skipString(text: string, i: number, escapes: boolean): number {
  const n = text.length;
  let j = i + 1;
  for (;;) {
    const q = text.indexOf("'", j);
    if (q < 0) return n;
    if (escapes) {
      // The quote is escaped when an odd number of backslashes precede it.
      let b = q - 1;
      while (b >= j && text.charCodeAt(b) === 92) b--;
      if ((q - 1 - b) % 2 === 1) {
        j = q + 1;
        continue;
      }
    }
    if (text.charCodeAt(q + 1) === 39) {
      j = q + 2;
      continue;
    }
    return q + 1;
  }
}

function skipQuotedIdent(text: string, i: number): number {
  let j = i + 1;
  for (;;) {
    const q = text.indexOf('"', j);
    if (q < 0) return text.length;
    if (text.charCodeAt(q + 1) === 34) {
      j = q + 2;
      continue;
    }
    return q + 1;
  }
}

const COMMENT_EDGE = /\/\*|\*\//g;

function skipBlockComment(text: string, i: number): number {
  let depth = 1;
  COMMENT_EDGE.lastIndex = i + 2;
  for (;;) {
    const m = COMMENT_EDGE.exec(text);
    if (!m) return text.length;
    depth += m[0] === '/*' ? 1 : -1;
    if (depth === 0) return m.index + 2;
  }
}

const DOLLAR_TAG = /\$(?:[A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/y;

/** If a dollar quote opens at `i`, the index just past its closing tag; else -1. */
function skipDollarQuote(text: string, i: number): number {
  if (i > 0 && isIdentChar(text.charCodeAt(i - 1))) return -1;
  DOLLAR_TAG.lastIndex = i;
  const m = DOLLAR_TAG.exec(text);
  if (!m) return -1;
  const tag = m[0];
  const close = text.indexOf(tag, i + tag.length);
  return close < 0 ? text.length : close + tag.length;
}

/** Cheap pre-test for DOWN_MARKER: the comment text starts with '+' or 'm' (after blanks). */
function mayBeMarker(text: string, i: number): boolean {
  let c = text.charCodeAt(i);
  while (c === 32 || c === 9) c = text.charCodeAt(++i);
  return c === 43 || c === 109 || c === 77;
}

/** Index of the end of the line containing `i` (the '\n' itself, or the text length). */
function endOfLine(text: string, i: number): number {
  const e = text.indexOf('\n', i);
  return e < 0 ? text.length : e;
}

/**
 * Everything the splitter must look at inside a statement. The scan jumps from one match to the next, so the text in
 * between (names, numbers, operators, white space) costs only the regex engine's time, not a JavaScript loop.
 */
const SPECIAL = /--|\/\*|['"$;\\]|\b(?:E'|BEGIN\s+ATOMIC\b|CASE\b|END\b)/gi;

/** True when only blanks precede index `i` on its line. */
function atLineStart(text: string, i: number): boolean {
  for (let j = i - 1; j >= 0; j--) {
    const c = text.charCodeAt(j);
    if (c === 10) return true;
    if (c !== 32 && c !== 9 && c !== 13) return false;
  }
  return true;
}

/**
 * Splits SQL text into statements. `migrationMarkers` enables the goose/sql-migrate/dbmate "down" markers (for
 * whole migration files; not for SQL embedded in a DO block).
 */
export function splitSql(text: string, opts: { migrationMarkers?: boolean } = {}): SplitResult {
  const statements: SplitStatement[] = [];
  const n = text.length;
  let i = 0;
  let stmtStart = -1;
  let atomicDepth = 0;
  let metaRanges: Array<[number, number]> = [];
  const isDownMarker = (at: number, eol: number): boolean =>
    opts.migrationMarkers === true && mayBeMarker(text, at + 2) && DOWN_MARKER.test(text.slice(at, eol));

  const finish = (end: number): string | null => {
    if (stmtStart < 0) return null;
    let e = end;
    while (e > stmtStart && (isSpace(text.charCodeAt(e - 1)) || text.charCodeAt(e - 1) === 10)) e--;
    let stmt = text.slice(stmtStart, e);
    for (const [a, b] of metaRanges) {
      if (a >= e) continue;
      const bb = Math.min(b, e);
      stmt = stmt.slice(0, a - stmtStart) + ' '.repeat(bb - a) + stmt.slice(bb - stmtStart);
    }
    statements.push({ start: stmtStart, end: e, text: stmt });
    stmtStart = -1;
    metaRanges = [];
    atomicDepth = 0;
    return stmt;
  };

  while (i < n) {
    if (stmtStart < 0) {
      // Between statements: skip blanks, comments and psql meta lines to the next statement's first token.
      const c = text.charCodeAt(i);
      if (c === 10 || isSpace(c)) {
        i++;
        continue;
      }
      if (c === 45 && text.charCodeAt(i + 1) === 45) {
        const eol = endOfLine(text, i);
        if (isDownMarker(i, eol)) return { statements, downMarkerAt: i };
        i = eol;
        continue;
      }
      if (c === 47 && text.charCodeAt(i + 1) === 42) {
        i = skipBlockComment(text, i);
        continue;
      }
      if (c === 92 && atLineStart(text, i)) {
        i = endOfLine(text, i);
        continue;
      }
      if (c === 59) {
        // An empty statement.
        i++;
        continue;
      }
      stmtStart = i;
    }
    SPECIAL.lastIndex = i;
    const m = SPECIAL.exec(text);
    if (!m) break;
    i = m.index;
    const c = text.charCodeAt(i);
    switch (c) {
      case 45: {
        // -- comment
        const eol = endOfLine(text, i);
        if (isDownMarker(i, eol)) {
          finish(i);
          return { statements, downMarkerAt: i };
        }
        i = eol;
        break;
      }
      case 47:
        i = skipBlockComment(text, i);
        break;
      case 39:
        i = skipString(text, i, false);
        break;
      case 34:
        i = skipQuotedIdent(text, i);
        break;
      case 36: {
        const j = skipDollarQuote(text, i);
        i = j < 0 ? i + 1 : j;
        break;
      }
      case 59: {
        if (atomicDepth > 0) {
          i++;
          break;
        }
        const stmt = finish(i);
        i++;
        if (stmt !== null && COPY_FROM_STDIN.test(stmt)) {
          // Skip the inline data up to a line that is exactly "\.".
          let j = endOfLine(text, i) + 1;
          while (j < n) {
            const eol = endOfLine(text, j);
            const line = text.slice(j, eol).trim();
            j = eol + 1;
            if (line === '\\.') break;
          }
          i = Math.min(j, n);
        }
        break;
      }
      case 92: {
        // psql meta-command line inside a statement.
        if (atLineStart(text, i)) {
          const eol = endOfLine(text, i);
          metaRanges.push([i, eol]);
          i = eol;
        } else i++;
        break;
      }
      default: {
        const word = m[0].toUpperCase();
        if (word === "E'") {
          i = skipString(text, i + 1, true);
          break;
        }
        if (word.startsWith('BEGIN')) {
          if (atomicDepth === 0) atomicDepth = 1;
        } else if (atomicDepth > 0) {
          if (word === 'CASE') atomicDepth++;
          else if (word === 'END') atomicDepth--;
        }
        i += m[0].length;
      }
    }
  }
  finish(n);
  return { statements, downMarkerAt: -1 };
}

/** Maps UTF-16 indexes of `text` to 1-based line numbers. */
export function lineLocator(text: string): (index: number) => number {
  const starts: number[] = [0];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return (index: number) => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= index) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  };
}

/**
 * Index of the first byte at or after `pos` that is not white space or part of a comment. libpg-query reports
 * statement locations as UTF-8 byte offsets; comments and white space are ASCII, so scanning bytes is safe.
 */
export function skipTriviaBytes(buf: Uint8Array, pos: number): number {
  const n = buf.length;
  let i = pos;
  while (i < n) {
    const c = buf[i]!;
    if (isSpace(c) || c === 10) i++;
    else if (c === 45 && buf[i + 1] === 45) {
      while (i < n && buf[i] !== 10) i++;
    } else if (c === 47 && buf[i + 1] === 42) {
      let depth = 1;
      i += 2;
      while (i < n && depth > 0) {
        if (buf[i] === 47 && buf[i + 1] === 42) {
          depth++;
          i += 2;
        } else if (buf[i] === 42 && buf[i + 1] === 47) {
          depth--;
          i += 2;
        } else i++;
      }
    } else break;
  }
  return i;
}

/** Number of '\n' bytes in buf[from, to). */
export function countNewlines(buf: Uint8Array, from: number, to: number): number {
  let k = 0;
  for (let i = from; i < to && i < buf.length; i++) if (buf[i] === 10) k++;
  return k;
}

/**
 * Where a statement reported by libpg-query (`stmt_location`, `stmt_len`: UTF-8 byte offsets, not UTF-16 indexes)
 * starts: the number of lines before its first token (comments and blanks skipped), and its text.
 */
export function locateStatement(
  buf: Uint8Array,
  location: number | undefined,
  length: number | undefined,
): { lineOffset: number; text: string } {
  const loc = location ?? 0;
  const end = length !== undefined && length > 0 ? loc + length : buf.length;
  const first = skipTriviaBytes(buf, loc);
  return { lineOffset: countNewlines(buf, 0, first), text: Buffer.from(buf.subarray(first, end)).toString('utf8') };
}
