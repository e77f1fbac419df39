// Compares the two Go parsers on one file: the IR lowered from the hand-written parser (goparser.ts) against the
// IR lowered from tree-sitter-go. Used by the parser equivalence test and `bench/parser-diff.ts` on real trees.
import type { LowerInput } from './lower.js';
import { lowerGoFile } from './lower.js';
import { GoSyntaxError } from './goparser.js';

export type ParserComparison =
  /** Both parsers give the same IR (up to the known, equivalent differences below). */
  | { kind: 'same' }
  /** tree-sitter reports a syntax error: its recovery and the hand-written parser's verdict are not comparable. */
  | { kind: 'tree-sitter-error'; goparser: 'ok' | 'gave-up' }
  /** The hand-written parser gave up on a file tree-sitter reads without error (it then goes to tree-sitter). */
  | { kind: 'gave-up'; detail: string }
  /** tree-sitter misreads valid Go here; the hand-written parser's reading is the right one. */
  | { kind: 'tree-sitter-misread'; detail: string }
  | { kind: 'differs'; detail: string };

export function compareParsers(input: LowerInput): ParserComparison {
  const ts = lowerGoFile(input, 'tree-sitter');
  let fast;
  try {
    fast = lowerGoFile(input, 'goparser');
  } catch (e) {
    if (!(e instanceof GoSyntaxError)) throw e;
    return ts.syntaxErrors.length ? { kind: 'tree-sitter-error', goparser: 'gave-up' } : { kind: 'gave-up', detail: e.message };
  }
  if (ts.syntaxErrors.length) return { kind: 'tree-sitter-error', goparser: 'ok' };
  const d = firstDiff(fast, ts);
  if (!d) return { kind: 'same' };
  // tree-sitter-go misreads some valid Go: long grouped parameter (or result) lists (`a, b, c, ... T`) as lists of
  // unnamed types, and `x[a.b][c.d]` as the instantiation of a generic type (which lowers to nothing).
  if (/\.params\.\d+\.name: "\w+" != ""$/.test(d) || /\.results\.\d+: "[^"]*" != "[^"]*"$/.test(d) || /: "idx" != "unk"$/.test(d)) {
    return { kind: 'tree-sitter-misread', detail: d };
  }
  return { kind: 'differs', detail: d };
}

type J = Record<string, unknown>;

/**
 * The first path at which two JSON values differ, or null. `a` is the hand-written parser's IR, `b`
 * tree-sitter's. Known differences that the analysis treats alike are skipped: tree-sitter reads `x[i](a)` with
 * one argument (also `F[A, B](a)`, `(*G[T])(nil)`) as a conversion to a generic type, the hand-written parser as
 * a call (the intended difference, see goparser.ts); `pkg.F[T](...)` is a call of an index expression on one side
 * and a call of `pkg.F` with type arguments on the other, which the interpreter treats alike (a call of F); and
 * tree-sitter reads `*(*T)(p)` as a conversion to `**T`.
 */
function firstDiff(a0: unknown, b0: unknown): string | null {
  // Iterative: generated SQL concatenations nest thousands of `+` deep.
  const stack: Array<[unknown, unknown, string]> = [[a0, b0, '']];
  while (stack.length) {
    const [a, b, path] = stack.pop()!;
    if (a === b) continue;
    const x = a as J | null;
    const y = b as J | null;
    if (x?.['k'] === 'un' && x['op'] === '*' && y?.['k'] === 'conv' && String(y['t']).startsWith('*')) {
      stack.push([x['x'], { ...y, t: String(y['t']).slice(1) }, `${path}(deref)`]);
      continue;
    }
    if (x?.['k'] === 'call' && y?.['k'] === 'conv' && (x['a'] as unknown[]).length === 1) {
      stack.push([(x['a'] as unknown[])[0], y['x'], `${path}(call~conv)`]);
      continue;
    }
    if (x?.['k'] === 'call' && String(x['txt']).includes('[') && y?.['k'] === 'call' && (x['f'] as J).k === 'idx' && (y['f'] as J).k !== 'idx') {
      stack.push([{ ...x, f: (x['f'] as J)['x'], txt: y['txt'] }, y, path]);
      continue;
    }
    if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return `${path}: ${JSON.stringify(a)?.slice(0, 120)} != ${JSON.stringify(b)?.slice(0, 120)}`;
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
    for (let i = keys.length - 1; i >= 0; i--) stack.push([(a as J)[keys[i]!], (b as J)[keys[i]!], `${path}.${keys[i]!}`]);
  }
  return null;
}
