// Allow-list entries (`allow:` in the config) and the glob dialect config paths are written in. Pure: no I/O.
import * as path from 'node:path';
import { ConfigError } from '../errors.js';
import type { AllowEntry } from './types.js';

// ---------------------------------------------------------------------------------------------------------------
// Config globs. Used for allow sites and by src/discover for `include` / `exclude`, so that both mean the same.
//
// A glob is matched against a path relative to the config's baseDir, with forward slashes:
//   *  any run of characters except '/'        ?  one character except '/'
//   ** a whole path segment: any number of directories (also none)
//   [abc] [a-z] [!abc] [^abc]  character classes  {a,b}  alternatives   \x  a literal x
// A glob that matches a directory also matches everything under it (`internal/legacy` = `internal/legacy/**`).
// A leading './' or '/' is ignored (globs are always anchored at baseDir). Matching is case-sensitive and
// `*` matches names starting with '.' too. Negation (`!glob`) is not supported.

const REGEX_SPECIAL = /[.+^$()|[\]{}\\]/;

function escapeChar(c: string): string {
  return REGEX_SPECIAL.test(c) ? `\\${c}` : c;
}

/** Strips surrounding blanks, './' prefixes, leading '/' and a trailing '/'. */
function normaliseGlob(pattern: string): string {
  let p = pattern.trim();
  while (p.startsWith('./')) p = p.slice(2);
  while (p.startsWith('/')) p = p.slice(1);
  while (p.length > 1 && p.endsWith('/')) p = p.slice(0, -1);
  return p === '.' ? '' : p;
}

function bracesBalanced(p: string): boolean {
  let depth = 0;
  for (let i = 0; i < p.length; i++) {
    const c = p[i];
    if (c === '\\') i++;
    else if (c === '{') depth++;
    else if (c === '}' && --depth < 0) return false;
  }
  return depth === 0;
}

/** The regular expression a config glob stands for (see the comment above for the dialect). */
export function globToRegExp(pattern: string): RegExp {
  const p = normaliseGlob(pattern);
  if (p === '' || p === '**') return /^.*$/s;
  const braces = bracesBalanced(p);
  let re = '';
  let depth = 0;
  let i = 0;
  while (i < p.length) {
    const c = p[i]!;
    if (c === '\\' && i + 1 < p.length) {
      re += escapeChar(p[i + 1]!);
      i += 2;
    } else if (c === '*') {
      const wholeSegment = p[i + 1] === '*' && (i === 0 || p[i - 1] === '/') && (i + 2 === p.length || p[i + 2] === '/');
      if (wholeSegment && i + 2 === p.length) {
        // trailing '/**': the directory itself or anything below it
        re = re.endsWith('/') ? `${re.slice(0, -1)}(?:/.*)?` : `${re}.*`;
        i += 2;
      } else if (wholeSegment) {
        re += '(?:.*/)?';
        i += 3;
      } else {
        while (p[i] === '*') i++;
        re += '[^/]*';
      }
    } else if (c === '?') {
      re += '[^/]';
      i++;
    } else if (c === '[') {
      let j = i + 1;
      if (p[j] === '!' || p[j] === '^') j++;
      if (p[j] === ']') j++;
      while (j < p.length && p[j] !== ']') j++;
      if (j >= p.length) {
        re += '\\[';
        i++;
        continue;
      }
      let body = p.slice(i + 1, j);
      let negate = false;
      if (body.startsWith('!') || body.startsWith('^')) {
        negate = true;
        body = body.slice(1);
      }
      body = body.replace(/[\\\]^]/g, (m) => `\\${m}`);
      re += negate ? `[^/${body}]` : `[${body}]`;
      i = j + 1;
    } else if (c === '{' && braces) {
      re += '(?:';
      depth++;
      i++;
    } else if (c === ',' && braces && depth > 0) {
      re += '|';
      i++;
    } else if (c === '}' && braces && depth > 0) {
      re += ')';
      depth--;
      i++;
    } else {
      re += escapeChar(c);
      i++;
    }
  }
  return new RegExp(`^(?:${re})(?:/.*)?$`, 's');
}

/** True when the string uses glob syntax (as opposed to naming one path). */
export function isGlob(pattern: string): boolean {
  return /[*?[{\\]/.test(pattern);
}

/**
 * A predicate for "matches any of these globs" over baseDir-relative, forward-slash paths. With no globs it
 * matches nothing.
 */
export function globMatcher(globs: readonly string[]): (relPath: string) => boolean {
  const res = globs.map(globToRegExp);
  return (relPath) => res.some((re) => re.test(relPath));
}

/** `to` relative to `from`, with forward slashes ('' when they are the same directory). */
export function relativePosix(from: string, to: string): string {
  // path.relative normalises both paths (microseconds a call); a normalised path inside `from` is a slice of it.
  const prefix = from.endsWith(path.sep) ? from : from + path.sep;
  if (to.startsWith(prefix) && path.isAbsolute(to) && !to.includes(`${path.sep}.`) && !to.includes(path.sep + path.sep) && !to.endsWith(path.sep)) {
    const rest = to.slice(prefix.length);
    return path.sep === '/' ? rest : rest.split(path.sep).join('/');
  }
  return path.relative(from, to).split(path.sep).join('/');
}

// ---------------------------------------------------------------------------------------------------------------
// Allow sites

export interface AllowSite {
  /** Path or glob, relative to the config's baseDir, as written (a leading './' removed). */
  path: string;
  /** `Func`, `Type.Method`, `Type.*` or `*` (receivers written `(*Type).Method` are normalised to `Type.Method`). */
  func: string;
}

const IDENT = String.raw`[\p{L}_][\p{L}\p{Nd}_]*`;
const FUNC_RE = new RegExp(`^(?:\\*|${IDENT}(?:\\.(?:${IDENT}|\\*))?)$`, 'u');

/**
 * Normalises a Go function name the way allow sites and findings are compared: `(*Store).Save`, `(Store).Save`
 * and `Store[T].Save` all become `Store.Save`; surrounding whitespace is dropped.
 */
export function normaliseFunctionName(name: string): string {
  let f = name.trim();
  const recv = /^\(\s*\*?\s*([^()]+?)\s*\)\s*\.\s*(.+)$/.exec(f);
  if (recv) f = `${recv[1]}.${recv[2]}`;
  // drop type parameters of a generic receiver: Store[K, V].Save
  f = f.replace(/\[[^\]]*\](?=\.)/, '');
  return f;
}

/**
 * Splits an allow site `path::Func` (also `path::Type.Method`, `path::Type.*`, `path::*`). The split is at the
 * last `::`. Throws ConfigError (without a file; the loader adds it) when the site is malformed.
 */
export function parseAllowSite(site: string): AllowSite {
  const at = site.lastIndexOf('::');
  const expected = 'expected path::Func, path::Type.Method or path::*';
  if (at < 0) throw new ConfigError(`malformed allow site "${site}": no "::" (${expected})`);
  let p = site.slice(0, at).trim();
  while (p.startsWith('./')) p = p.slice(2);
  const func = normaliseFunctionName(site.slice(at + 2));
  if (p === '') throw new ConfigError(`malformed allow site "${site}": the path before "::" is empty (${expected})`);
  if (func === '') throw new ConfigError(`malformed allow site "${site}": the function after "::" is empty (${expected})`);
  if (!FUNC_RE.test(func)) {
    throw new ConfigError(
      `malformed allow site "${site}": "${func}" is not a function name (${expected}, or path::Type.* for every method of Type)`,
    );
  }
  return { path: isGlob(p) ? p : path.posix.normalize(p), func };
}

interface CompiledSite {
  pathRe: RegExp;
  func: string;
}

const compiledSites = new Map<string, CompiledSite | null>();

function compileSite(site: string): CompiledSite | null {
  let c = compiledSites.get(site);
  if (c === undefined) {
    try {
      const parsed = parseAllowSite(site);
      c = { pathRe: globToRegExp(parsed.path), func: parsed.func };
    } catch {
      c = null; // the loader rejects malformed sites; a hand-made Config with one simply never matches
    }
    compiledSites.set(site, c);
  }
  return c;
}

function funcMatches(pattern: string, fn: string): boolean {
  if (pattern === '*') return true;
  if (pattern.endsWith('.*')) return fn.startsWith(pattern.slice(0, -1));
  return pattern === fn;
}

/**
 * The first allow entry covering a finding, or null. `finding.file` is relative to `root`; entry paths are relative
 * to `baseDir` (the config file's directory) and may be globs or directories. `finding.function` is `Func` or
 * `Type.Method`.
 */
export function matchAllow(
  entries: readonly AllowEntry[],
  baseDir: string,
  root: string,
  finding: { file: string; function: string },
): AllowEntry | null {
  if (entries.length === 0) return null;
  const rel = relativePosix(baseDir, path.resolve(root, finding.file));
  const fn = normaliseFunctionName(finding.function);
  for (const entry of entries) {
    const site = compileSite(entry.site);
    if (site && funcMatches(site.func, fn) && site.pathRe.test(rel)) return entry;
  }
  return null;
}

/** The entries not in `used` (in config order), for "unused allow entry" reports. */
export function unusedAllowEntries(entries: readonly AllowEntry[], used: ReadonlySet<AllowEntry>): AllowEntry[] {
  return entries.filter((e) => !used.has(e));
}
