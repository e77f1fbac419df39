// The hand-written Go parser (src/go/goparser.ts) must read well-formed Go exactly as tree-sitter-go does, as far
// as the analysis can tell (the lowered IR), and hand broken files to tree-sitter, whose error recovery keeps the
// rest of the file. bench/parser-diff.ts runs the same comparison on whole real trees.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fg from 'fast-glob';
import { describe, expect, it } from 'vitest';
import { GoSyntaxError, parseGoFile } from '../src/go/goparser.js';
import { lowerGoFile } from '../src/go/lower.js';
import { compareParsers } from '../src/go/parser-compare.js';
import type { Expr, Stmt } from '../src/go/ir.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const lower = (source: string, parser: 'auto' | 'goparser' | 'tree-sitter' = 'auto') => lowerGoFile({ path: 'x.go', source, pkgKey: 'example.com/p' }, parser);
const body = (source: string): Stmt[] => lower(source).funcs[0]!.body;

describe('hand-written Go parser', () => {
  const files = fg.sync('fixtures/**/*.go', { cwd: REPO });
  it('finds the fixture Go files', () => expect(files.length).toBeGreaterThan(60));
  for (const rel of files) {
    it(`reads ${rel} as tree-sitter does`, () => {
      const source = readFileSync(path.join(REPO, rel), 'utf8');
      const c = compareParsers({ path: rel, source, pkgKey: 'p' });
      if (source.includes('wantSyntaxError')) expect(c).toEqual({ kind: 'tree-sitter-error', goparser: 'gave-up' });
      else if (source.includes('new(42)')) expect(c).toEqual({ kind: 'tree-sitter-error', goparser: 'ok' });
      else expect(c).toEqual({ kind: 'same' });
    });
  }

  it('reads a call through a table as a call (tree-sitter: a conversion when there is one argument)', () => {
    const [s] = body('package p\nfunc f() { handlers[kind](tx) }\n');
    expect(s).toMatchObject({ k: 'expr', e: { k: 'call', f: { k: 'idx', x: { k: 'id', n: 'handlers' } }, a: [{ k: 'id', n: 'tx' }] } });
    expect(lower('package p\nfunc f() { handlers[kind](tx) }\n', 'tree-sitter').funcs[0]!.body[0]).toMatchObject({ k: 'expr', e: { k: 'conv' } });
  });

  it('reads x[a.b][c.d] as two index expressions (tree-sitter: a generic type)', () => {
    const [s] = body('package p\nfunc f() int { return m[a.b][c.d] }\n');
    expect(s).toMatchObject({ k: 'ret', v: [{ k: 'idx', x: { k: 'idx', x: { k: 'id', n: 'm' } }, i: { k: 'sel', n: 'd' } }] });
  });

  it('reads Go 1.26 new(expr) without a syntax error, and new(T) as an allocation of T', () => {
    const ir = lower('package p\nfunc f() { a := new(42); b := new(g() + 1); c := new(T) }\n');
    expect(ir.syntaxErrors).toEqual([]);
    const [a, b, c] = ir.funcs[0]!.body as Array<Extract<Stmt, { k: 'assign' }>>;
    expect(a!.r[0]).toMatchObject({ k: 'call', a: [{ k: 'lit', v: '42' }] });
    expect(b!.r[0]).toMatchObject({ k: 'call', a: [{ k: 'bin', op: '+' }] });
    expect(c!.r[0]).toMatchObject({ k: 'call', a: [{ k: 'conv', t: 'example.com/p.T' }] });
    expect(lower('package p\nfunc f() { a := new(42) }\n', 'tree-sitter').syntaxErrors.length).toBeGreaterThan(0);
  });

  it('names every parameter of a long grouped list (tree-sitter reads some as types)', () => {
    const names = 'a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p';
    const fn = lower(`package p\nfunc f(${names} any) {}\n`).funcs[0]!;
    expect(fn.params.map((p) => p.name).join(', ')).toBe(names);
    expect(new Set(fn.params.map((p) => p.type))).toEqual(new Set(['any']));
  });

  it('groups parameters as Go does', () => {
    const fn = lower('package p\nimport "context"\nfunc f(ctx context.Context, a, b int, rest ...string) {}\nfunc g(int, *T, ...any) {}\n').funcs;
    expect(fn[0]!.params).toEqual([
      { name: 'ctx', type: 'context.Context' },
      { name: 'a', type: 'int' },
      { name: 'b', type: 'int' },
      { name: 'rest', type: '[]string' },
    ]);
    expect(fn[1]!.params).toEqual([
      { name: '', type: 'int' },
      { name: '', type: '*example.com/p.T' },
      { name: '', type: '[]any' },
    ]);
  });

  it('keeps const names aligned with their values (tree-sitter counts the comma as a name)', () => {
    const ir = lower('package p\nconst a, b = "x", "y"\n');
    expect(ir.consts).toEqual({ a: { k: 'str', v: 'x' }, b: { k: 'str', v: 'y' } });
    expect(lower('package p\nconst a, b = "x", "y"\n', 'tree-sitter').consts).toEqual(ir.consts);
  });

  it('finds rlscov:ignore directives with their positions', () => {
    const src = 'package p\n\nfunc f() {\n\t// rlscov:ignore RLS001 admin backfill\n\tg()\n}\n';
    expect(lower(src).directives).toEqual(lower(src, 'tree-sitter').directives);
    expect(lower(src).directives).toMatchObject([{ line: 4, column: 2, rules: ['RLS001'], reason: 'admin backfill' }]);
  });

  it('gives up on broken Go with a GoSyntaxError, and the file goes to tree-sitter, which recovers', () => {
    const src = 'package p\nfunc a() { g(1) }\nfunc b() {\n\tvar id string =\n}\nfunc c() { h(2) }\n';
    expect(() => parseGoFile(src)).toThrow(GoSyntaxError);
    const ir = lower(src);
    expect(ir.syntaxErrors.length).toBeGreaterThan(0);
    expect(ir.funcs.map((f) => f.name)).toEqual(expect.arrayContaining(['a', 'c']));
  });

  // From an adversarial review: valid Go the hand-written parser once gave up on or read differently.
  const reviewed: Record<string, string> = {
    'a label on an empty statement': 'package p\nfunc f() {\nL:\n\t;\n\tgoto L\n}\n',
    'an array length N * M': 'package p\nconst N, M = 2, 3\ntype A [N * M]int\ntype B [N * 2]byte\n',
    'a *T constraint that can only be a type': 'package p\ntype T[P *struct{}] struct{}\ntype U[P *[]int] struct{}\n',
    'an identifier outside the BMP': 'package p\nfunc f() int { 𝑥 := 1; return 𝑥 }\n',
    'a nested switch in a type switch header': 'package p\nfunc f() {\n\tswitch v := func() any { switch {}; return 1 }().(type) {\n\tcase int:\n\t\t_ = v\n\t}\n}\n',
    'new of pointer and parenthesized types': 'package p\ntype G[T any] struct{}\nfunc f() { _ = new(*G[int]); _ = new(**int); _ = new((int)) }\n',
    'comments where a value is expected': 'package p\nfunc f() int {\nL:\n\t// why\n\tfor {\n\t\tbreak L\n\t}\n\tdefer /* c */ g()\n\t_ = T{A /* c */ : 1}\n\treturn /* c */ 1\n}\n',
  };
  for (const [name, source] of Object.entries(reviewed)) {
    it(`reads ${name} as tree-sitter does`, () => expect(compareParsers({ path: 'x.go', source, pkgKey: 'p' })).toEqual({ kind: 'same' }));
  }

  it('keeps a labelled loop preceded by a comment, and values behind comments', () => {
    const [loop, deferred, , ret] = body('package p\nfunc f() int {\nL:\n\t// why\n\tfor {\n\t\tg()\n\t}\n\tdefer /* c */ h()\n\t_ = 1\n\treturn /* c */ 1\n}\n');
    expect(loop).toMatchObject({ k: 'for', body: [{ k: 'expr', e: { k: 'call', txt: 'g' } }] });
    expect(deferred).toMatchObject({ k: 'defer', e: { k: 'call', txt: 'h' } });
    expect(ret).toMatchObject({ k: 'ret', v: [{ k: 'lit', v: '1' }] });
  });

  it('finds directives in CRLF files with both parsers', () => {
    const src = 'package p\r\n\r\nfunc f() {\r\n\t// rlscov:ignore RLS001 admin backfill\r\n\tg()\r\n}\r\n';
    for (const parser of ['goparser', 'tree-sitter'] as const) expect(lower(src, parser).directives).toMatchObject([{ line: 4, rules: ['RLS001'], reason: 'admin backfill' }]);
  });

  it('attaches thousands of comments in one literal without quadratic work', () => {
    const src = `package p\nvar t = []int{\n${Array.from({ length: 20000 }, (_, i) => `\t/* ${i} */ ${i},`).join('\n')}\n}\n`;
    const root = parseGoFile(src);
    expect(root.descendantsOfType('comment')).toHaveLength(20000);
    expect((lower(src).vars['t']!.v as Extract<Expr, { k: 'comp' }>).el).toHaveLength(20000);
  });

  it('hands pathological nesting to tree-sitter instead of overflowing the stack', () => {
    const deep = `package p\nfunc f() { x := ${'('.repeat(20000)}1${')'.repeat(20000)} }\nfunc g() { h() }\n`;
    expect(() => parseGoFile(deep)).toThrow(GoSyntaxError);
    expect(lower(deep).funcs.map((f) => f.name)).toEqual(['f', 'g']);
    const closures = `package p\nfunc f() {\n${'func() {\n'.repeat(5000)}${'}()\n'.repeat(5000)}}\n`;
    expect(() => parseGoFile(closures)).toThrow(GoSyntaxError);
    expect(lower(closures).funcs.map((f) => f.name)).toEqual(['f']);
  });

  it('reports positions in UTF-16 columns, as tree-sitter does', () => {
    const src = 'package p\nfunc f() { x := "éé€𝄞"; g(x) }\n';
    const call = (lower(src).funcs[0]!.body[1] as { e: Expr }).e as Extract<Expr, { k: 'call' }>;
    expect(call.loc).toEqual((lower(src, 'tree-sitter').funcs[0]!.body[1] as { e: Extract<Expr, { k: 'call' }> }).e.loc);
    expect(call.loc).toEqual([2, 26, 2, 30]); // 𝄞 is two UTF-16 units
  });
});
