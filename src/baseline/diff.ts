// Which lines changed: parsing `git diff -U0` output into the new side's changed lines per file, and restricting a
// run's reported findings to them. Pure; src/baseline/git.ts runs git.

import type { Finding, RunResult } from '../model.js';

/** Changed lines of each file (new-side path, relative to the repository's top level); 'all' for a new file. */
export type ChangedLines = Map<string, Set<number> | 'all'>;

/**
 * Parses the output of `git diff -U0 -M --no-color --no-ext-diff [--src-prefix=a/ --dst-prefix=b/]`. For each file
 * the new-side path is used (renamed files are known by their new name; a pure rename has no changed lines), added
 * files count as wholly changed, deleted and binary files are skipped. A hunk `@@ -a,b +c,d @@` marks lines
 * c..c+d-1 (d defaults to 1; d = 0 is a pure deletion and marks nothing).
 */
export function parseUnifiedDiff(text: string): ChangedLines {
  const out: ChangedLines = new Map();
  let path: string | null = null;
  let added = false;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, '');
    if (line.startsWith('diff --git ')) {
      path = null;
      added = false;
      // Fallback for diffs with no ---/+++ lines (pure renames, mode changes): take the b/ side of the header.
      const b = headerNewPath(line.slice('diff --git '.length));
      if (b !== null) path = b;
      continue;
    }
    if (line.startsWith('rename to ')) {
      path = unquote(line.slice('rename to '.length));
      continue;
    }
    if (line.startsWith('new file mode')) {
      added = true;
      continue;
    }
    if (line.startsWith('deleted file mode')) {
      path = null;
      continue;
    }
    if (line.startsWith('+++ ')) {
      const p = line.slice(4);
      if (p === '/dev/null') path = null;
      else path = stripPrefix(unquote(p.replace(/\t$/, '')));
      if (path !== null && added) out.set(path, 'all');
      continue;
    }
    if (line.startsWith('@@') && path !== null) {
      const m = /^@@+ (?:-\d+(?:,\d+)? )+\+(\d+)(?:,(\d+))? @@/.exec(line);
      if (!m) continue;
      const start = Number(m[1]);
      const count = m[2] === undefined ? 1 : Number(m[2]);
      const prev = out.get(path);
      if (prev === 'all') continue;
      const set = prev ?? new Set<number>();
      for (let l = start; l < start + count; l++) set.add(l);
      out.set(path, set);
    }
  }
  return out;
}

/** The b/ path of a `diff --git a/x b/y` header (null when it cannot be split unambiguously). */
function headerNewPath(rest: string): string | null {
  if (rest.startsWith('"')) {
    // "a/x" "b/y" or "a/x" b/y
    const end = closingQuote(rest, 0);
    if (end < 0) return null;
    const second = rest.slice(end + 1).trimStart();
    return stripPrefix(unquote(second));
  }
  const q = rest.indexOf(' "');
  if (q >= 0) return stripPrefix(unquote(rest.slice(q + 1)));
  // a/x b/x: without renames both halves are equal, so split in the middle.
  const half = (rest.length - 1) / 2;
  if (Number.isInteger(half) && rest[half] === ' ') {
    const a = stripPrefix(rest.slice(0, half));
    const b = stripPrefix(rest.slice(half + 1));
    if (a === b) return b;
  }
  return null;
}

function closingQuote(s: string, open: number): number {
  for (let i = open + 1; i < s.length; i++) {
    if (s[i] === '\\') i++;
    else if (s[i] === '"') return i;
  }
  return -1;
}

function stripPrefix(p: string): string {
  return p.replace(/^[abciwo]\//, '');
}

/** Undoes git's C-style quoting of unusual path names ("a/t\303\251st \"x\".go"). */
export function unquote(p: string): string {
  if (!p.startsWith('"') || !p.endsWith('"') || p.length < 2) return p;
  const body = p.slice(1, -1);
  const bytes: number[] = [];
  const simple: Record<string, number> = { a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11, '\\': 92, '"': 34 };
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c !== '\\') {
      bytes.push(...Buffer.from(c, 'utf8'));
      continue;
    }
    const e = body[i + 1] ?? '';
    if (/[0-7]/.test(e)) {
      bytes.push(parseInt(body.slice(i + 1, i + 4), 8));
      i += 3;
    } else {
      bytes.push(simple[e] ?? e.charCodeAt(0));
      i += 1;
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** True when any line of the finding's span (its first to its last line) changed. */
export function findingTouched(f: Finding, changed: Set<number> | 'all' | undefined): boolean {
  if (changed === undefined) return false;
  if (changed === 'all') return true;
  for (let l = f.span.start.line; l <= Math.max(f.span.start.line, f.span.end.line); l++) if (changed.has(l)) return true;
  return false;
}

/**
 * The run with only the findings `keep` accepts; summary counts are recomputed. The analysis itself (catalog,
 * sites, files) is left as it was: it covered the whole tree.
 */
export function restrictFindings(result: RunResult, keep: (f: Finding) => boolean): { result: RunResult; hidden: number } {
  const findings = result.findings.filter(keep);
  const hidden = result.findings.filter((f) => !f.suppressed).length - findings.filter((f) => !f.suppressed).length;
  const findingsByRule: Record<string, number> = {};
  for (const f of findings) if (!f.suppressed) findingsByRule[f.ruleId] = (findingsByRule[f.ruleId] ?? 0) + 1;
  return { result: { ...result, findings, summary: { ...result.summary, findingsByRule } }, hidden };
}
