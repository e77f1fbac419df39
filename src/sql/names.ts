// Identifier and object-name normalisation shared by the Postgres path, the tolerant scanner and (through
// src/sql/index.ts) the catalog: unquoted identifiers are folded to lower case (ASCII only, like Postgres),
// double-quoted ones keep their case, both are truncated to NAMEDATALEN-1 (63) bytes like Postgres does, and the
// `public` schema is dropped so that "public.api_keys" and "api_keys" are the same key.

const MAX_IDENT_BYTES = 63;

/** Postgres folds unquoted identifiers with ASCII-only lower-casing (downcase_identifier for UTF-8). */
export function asciiLower(s: string): string {
  return /[A-Z]/.test(s) ? s.replace(/[A-Z]+/g, (m) => m.toLowerCase()) : s;
}

/** Truncates an identifier to 63 bytes of UTF-8 at a character boundary, as the Postgres lexer does. */
export function truncateIdent(s: string): string {
  // 21 UTF-16 code units are at most 63 bytes of UTF-8 (3 bytes per unit, 4 per surrogate pair).
  if (s.length <= 21) return s;
  if (Buffer.byteLength(s, 'utf8') <= MAX_IDENT_BYTES) return s;
  let bytes = 0;
  let i = 0;
  while (i < s.length) {
    const cp = s.codePointAt(i) ?? 0;
    const len = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    if (bytes + len > MAX_IDENT_BYTES) break;
    bytes += len;
    i += cp > 0xffff ? 2 : 1;
  }
  return s.slice(0, i);
}

/**
 * Normalises one identifier as written in SQL: `"Foo"` (double-quoted, `""` escapes) -> `Foo`; `Foo` -> `foo`.
 * `U&"..."` is treated like a quoted identifier (its escapes are not decoded). Surrounding whitespace is ignored.
 */
export function normalizeIdent(raw: string): string {
  let s = raw.trim();
  if (s.length >= 3 && (s[0] === 'U' || s[0] === 'u') && s[1] === '&' && s[2] === '"') s = s.slice(2);
  if (s.length >= 2 && s[0] === '"' && s[s.length - 1] === '"') {
    return truncateIdent(s.slice(1, -1).replace(/""/g, '"'));
  }
  return truncateIdent(asciiLower(s));
}

/** Splits a raw qualified name (`public."Api.Keys"`) on dots that are outside double quotes. */
export function splitQualifiedName(raw: string): string[] {
  const parts: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (c === '"') {
      if (quoted && raw[i + 1] === '"') {
        cur += '""';
        i++;
        continue;
      }
      quoted = !quoted;
      cur += c;
    } else if (c === '.' && !quoted) {
      parts.push(cur.trim());
      cur = '';
    } else {
      cur += c;
    }
  }
  parts.push(cur.trim());
  return parts;
}

/**
 * The normalised key of a table (TableRef.name).
 *
 * - `folded = false` (default): `schema` and `name` are spelled as in SQL source (`"Audit"`, `API_KEYS`,
 *   `public`), and each is normalised with normalizeIdent. When `schema` is null/undefined/empty, `name` may be
 *   a whole qualified name (`public.api_keys`, `"Audit"."Events"`, `db.audit.events`) and is split on dots outside
 *   double quotes; a catalog (database) prefix is dropped.
 * - `folded = true`: both are already folded identifiers (e.g. `schemaname`/`relname` from a Postgres parse tree)
 *   and are used verbatim, without splitting or case changes.
 *
 * The schema is dropped when it is `public` (exactly, after folding): `public.api_keys` -> `api_keys`,
 * `"Audit"."Events"` -> `Audit.Events`, `audit.events` -> `audit.events`.
 */
export function normalizeTableName(schema: string | null | undefined, name: string, folded = false): string {
  let s: string | null;
  let n: string;
  if (folded) {
    s = schema ? schema : null;
    n = name;
  } else {
    let rawSchema = schema ?? '';
    let rawName = name;
    if (rawSchema === '') {
      const parts = splitQualifiedName(name);
      if (parts.length > 1) {
        rawName = parts[parts.length - 1];
        rawSchema = parts[parts.length - 2];
      }
    }
    s = rawSchema.trim() === '' ? null : normalizeIdent(rawSchema);
    n = normalizeIdent(rawName);
  }
  if (s === 'public') s = null;
  return s ? `${s}.${n}` : n;
}

/**
 * The normalised name of a function from its name parts (`['util', 'f']`, `['pg_catalog', 'set_config']`):
 * catalog prefix dropped, schema dropped when it is `public` or `pg_catalog`. `folded` as in normalizeTableName.
 */
export function normalizeFunctionName(parts: readonly string[], folded = false): string {
  const ps = folded ? parts.slice() : parts.map((p) => normalizeIdent(p));
  if (ps.length === 0) return '';
  const n = ps[ps.length - 1];
  const s = ps.length > 1 ? ps[ps.length - 2] : null;
  if (s === null || s === '' || s === 'public' || s === 'pg_catalog') return n;
  return `${s}.${n}`;
}
