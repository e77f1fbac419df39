// A hand-written Go parser (scanner with semicolon insertion + recursive descent, after go/parser) that builds
// trees with tree-sitter-go's node types and field names, so that one lowering (lower.ts) reads either parser's
// tree. It exists for speed: walking a tree-sitter tree through the Node binding crosses into native code for
// every node (~1.4 MB/s of Go per thread, measured), while this parser runs in plain JavaScript.
//
// It accepts well-formed Go only. On anything it does not understand it throws GoSyntaxError and the caller parses
// the file with tree-sitter instead, whose error recovery keeps the rest of a broken file analysable.
//
// Deliberate difference from tree-sitter-go: `x[i](a)` is a call of an index expression, never the conversion
// `x[i]`-as-generic-type that tree-sitter picks when the call has exactly one argument and the index looks like a
// type (a handler table `handlers[kind](tx)` is a call).
import type { Point, SyntaxNodeLike } from './syntax.js';

export class GoSyntaxError extends Error {
  constructor(
    readonly offset: number,
    what: string,
  ) {
    super(`${what} at offset ${offset}`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Tree

class FileText {
  private lineStarts: number[] | null = null;
  constructor(readonly src: string) {}

  point(offset: number): Point {
    if (!this.lineStarts) {
      const ls = [0];
      const s = this.src;
      for (let i = s.indexOf('\n'); i >= 0; i = s.indexOf('\n', i + 1)) ls.push(i + 1);
      this.lineStarts = ls;
    }
    const ls = this.lineStarts;
    let lo = 0;
    let hi = ls.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (ls[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { row: lo, column: offset - ls[lo]! };
  }
}

/** The children of every leaf: most nodes are leaves, and an array each is garbage the parser need not make. */
const NO_CHILDREN: GoNode[] = Object.freeze([]) as unknown as GoNode[];

export class GoNode implements SyntaxNodeLike {
  children: GoNode[] = NO_CHILDREN;
  private fields: Array<string | null> | null = null;
  private named: GoNode[] | null = null;
  /** Some child is an anonymous token (an operator): namedChildren must filter. */
  private anon = false;
  constructor(
    readonly type: string,
    readonly isNamed: boolean,
    public start: number,
    public end: number,
    private readonly file: FileText,
    readonly id: number,
  ) {}

  get text(): string {
    return this.file.src.slice(this.start, this.end);
  }
  get startPosition(): Point {
    return this.file.point(this.start);
  }
  get endPosition(): Point {
    return this.file.point(this.end);
  }
  get hasError(): boolean {
    return false;
  }
  get isMissing(): boolean {
    return false;
  }
  get namedChildren(): GoNode[] {
    if (!this.anon) return this.children;
    if (!this.named) this.named = this.children.filter((c) => c.isNamed);
    return this.named;
  }

  add(child: GoNode | null, field?: string): this {
    if (!child) return this;
    if (this.children === NO_CHILDREN) this.children = [];
    if (field) {
      if (!this.fields) this.fields = this.children.map(() => null);
      this.fields.push(field);
    } else if (this.fields) this.fields.push(null);
    if (!child.isNamed) this.anon = true;
    this.children.push(child);
    return this;
  }

  /** Merges extras (comments, sorted by position) into the children, in source order. */
  mergeExtras(extras: GoNode[]): void {
    const kids = this.children;
    const out: GoNode[] = [];
    const fields: Array<string | null> | null = this.fields ? [] : null;
    let i = 0;
    for (const x of extras) {
      while (i < kids.length && kids[i]!.start < x.end) {
        out.push(kids[i]!);
        fields?.push(this.fields![i]!);
        i++;
      }
      out.push(x);
      fields?.push(null);
    }
    for (; i < kids.length; i++) {
      out.push(kids[i]!);
      fields?.push(this.fields![i]!);
    }
    this.children = out;
    this.fields = fields;
    this.named = null;
  }

  childForFieldName(name: string): GoNode | null {
    if (!this.fields) return null;
    for (let i = 0; i < this.fields.length; i++) if (this.fields[i] === name) return this.children[i]!;
    return null;
  }

  childrenForFieldName(name: string): GoNode[] {
    const out: GoNode[] = [];
    if (!this.fields) return out;
    for (let i = 0; i < this.fields.length; i++) if (this.fields[i] === name) out.push(this.children[i]!);
    return out;
  }

  descendantsOfType(type: string): GoNode[] {
    const out: GoNode[] = [];
    const stack: GoNode[] = [this];
    while (stack.length) {
      const n = stack.pop()!;
      if (n.type === type) out.push(n);
      for (let i = n.children.length - 1; i >= 0; i--) stack.push(n.children[i]!);
    }
    return out;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Scanner

/**
 * The token stream, as parallel arrays (no object per token: a 10 MB tree has millions of tokens). Kinds: 'id',
 * literal kinds, 'EOF', ';', keywords and operators by their text.
 */
interface Tokens {
  kinds: string[];
  starts: Int32Array;
  ends: Int32Array;
}

const KEYWORDS = new Set([
  'break', 'case', 'chan', 'const', 'continue', 'default', 'defer', 'else', 'fallthrough', 'for', 'func', 'go', 'goto',
  'if', 'import', 'interface', 'map', 'package', 'range', 'return', 'select', 'struct', 'switch', 'type', 'var',
]);
/** Tokens after which a newline ends the statement (the Go spec's semicolon rule). */
const ENDS_LINE = new Set(['id', 'int', 'float', 'imag', 'rune', 'str', 'raw', 'break', 'continue', 'fallthrough', 'return', '++', '--', ')', ']', '}']);

/** The operator or punctuation token at `i` (longest match), read from char codes without making strings. */
function operatorAt(src: string, i: number): string | null {
  const d = src.charCodeAt(i + 1);
  switch (src.charCodeAt(i)) {
    case 43: return d === 43 ? '++' : d === 61 ? '+=' : '+';
    case 45: return d === 45 ? '--' : d === 61 ? '-=' : '-';
    case 42: return d === 61 ? '*=' : '*';
    case 47: return d === 61 ? '/=' : '/';
    case 37: return d === 61 ? '%=' : '%';
    case 38:
      if (d === 38) return '&&';
      if (d === 94) return src.charCodeAt(i + 2) === 61 ? '&^=' : '&^';
      return d === 61 ? '&=' : '&';
    case 124: return d === 124 ? '||' : d === 61 ? '|=' : '|';
    case 94: return d === 61 ? '^=' : '^';
    case 60:
      if (d === 60) return src.charCodeAt(i + 2) === 61 ? '<<=' : '<<';
      if (d === 45) return '<-';
      return d === 61 ? '<=' : '<';
    case 62:
      if (d === 62) return src.charCodeAt(i + 2) === 61 ? '>>=' : '>>';
      return d === 61 ? '>=' : '>';
    case 61: return d === 61 ? '==' : '=';
    case 33: return d === 61 ? '!=' : '!';
    case 58: return d === 61 ? ':=' : ':';
    case 46: return d === 46 && src.charCodeAt(i + 2) === 46 ? '...' : '.';
    case 40: return '(';
    case 41: return ')';
    case 91: return '[';
    case 93: return ']';
    case 123: return '{';
    case 125: return '}';
    case 44: return ',';
    case 59: return ';';
    case 126: return '~';
    default: return null;
  }
}
const UNICODE_LETTER = /[\p{L}\p{Nl}_]/u;
const UNICODE_DIGIT = /\p{Nd}/u;

function isIdentStart(c: number, src: string, i: number): boolean {
  if ((c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95) return true;
  return c > 127 && UNICODE_LETTER.test(String.fromCodePoint(src.codePointAt(i)!));
}
function isIdentPart(c: number, src: string, i: number): boolean {
  if ((c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || (c >= 48 && c <= 57)) return true;
  if (c <= 127) return false;
  const ch = String.fromCodePoint(src.codePointAt(i)!);
  return UNICODE_LETTER.test(ch) || UNICODE_DIGIT.test(ch);
}

/** The end of the interpreted string or rune literal starting at `start` (its quote), escapes skipped. */
function quotedEnd(src: string, start: number): number {
  const quote = src.charCodeAt(start);
  for (let i = start + 1; ; ) {
    if (i >= src.length) throw new GoSyntaxError(start, 'unterminated literal');
    const d = src.charCodeAt(i);
    if (d === 92) i += 2;
    else if (d === quote) return i + 1;
    else if (d === 10) throw new GoSyntaxError(start, 'newline in literal');
    else i++;
  }
}

function scan(src: string): { toks: Tokens; comments: Array<[number, number]> } {
  const kinds: string[] = [];
  let starts = new Int32Array(1024);
  let ends = new Int32Array(1024);
  const comments: Array<[number, number]> = [];
  const n = src.length;
  let i = src.charCodeAt(0) === 0xfeff ? 1 : 0;
  let semi = false; // a newline here would end the statement
  const push = (k: string, s: number, e: number): void => {
    const at = kinds.length;
    if (at === starts.length) {
      const grow = (a: Int32Array<ArrayBuffer>): Int32Array<ArrayBuffer> => {
        const b = new Int32Array(a.length * 2);
        b.set(a);
        return b;
      };
      starts = grow(starts);
      ends = grow(ends);
    }
    kinds.push(k);
    starts[at] = s;
    ends[at] = e;
    semi = ENDS_LINE.has(k);
  };
  while (i < n) {
    const c = src.charCodeAt(i);
    if (c === 10) {
      if (semi) push(';', i, i + 1);
      semi = false;
      i++;
      continue;
    }
    if (c === 32 || c === 9 || c === 13) {
      i++;
      continue;
    }
    if (c === 47 && src.charCodeAt(i + 1) === 47) {
      let j = src.indexOf('\n', i);
      if (j < 0) j = n;
      comments.push([i, j]); // up to the newline, a CRLF file's \r included (as tree-sitter)
      i = j;
      continue;
    }
    if (c === 47 && src.charCodeAt(i + 1) === 42) {
      const j = src.indexOf('*/', i + 2);
      if (j < 0) throw new GoSyntaxError(i, 'unterminated comment');
      comments.push([i, j + 2]);
      if (semi && src.slice(i, j).includes('\n')) push(';', i, i);
      i = j + 2;
      continue;
    }
    const s = i;
    if (isIdentStart(c, src, i)) {
      i += src.codePointAt(i)! > 0xffff ? 2 : 1;
      while (i < n) {
        const d = src.charCodeAt(i);
        if (!isIdentPart(d, src, i)) break;
        i += d >= 0xd800 && d <= 0xdbff ? 2 : 1;
      }
      // Keywords are 2-11 lower-case letters: other identifiers never need a string of their own here.
      const first = src.charCodeAt(s);
      if (first >= 97 && first <= 122 && i - s >= 2 && i - s <= 11) {
        const w = src.slice(s, i);
        push(KEYWORDS.has(w) ? w : 'id', s, i);
      } else push('id', s, i);
      continue;
    }
    if ((c >= 48 && c <= 57) || (c === 46 && src.charCodeAt(i + 1) >= 48 && src.charCodeAt(i + 1) <= 57)) {
      const hex = c === 48 && (src.charCodeAt(i + 1) | 32) === 120;
      let float = false;
      let last = 0;
      while (i < n) {
        const d = src.charCodeAt(i);
        const lower = d | 32;
        if ((d >= 48 && d <= 57) || (lower >= 97 && lower <= 122) || d === 95) {
          if (!hex && (lower === 101)) float = true;
          if (hex && lower === 112) float = true;
        } else if (d === 46) float = true;
        else if ((d === 43 || d === 45) && ((!hex && (last | 32) === 101) || (hex && (last | 32) === 112))) {
          /* exponent sign */
        } else break;
        last = d;
        i++;
      }
      const kind = src.charCodeAt(i - 1) === 105 ? 'imag' : float ? 'float' : 'int';
      push(kind, s, i);
      continue;
    }
    if (c === 34 || c === 39) {
      i = quotedEnd(src, i);
      push(c === 34 ? 'str' : 'rune', s, i);
      continue;
    }
    if (c === 96) {
      const j = src.indexOf('`', i + 1);
      if (j < 0) throw new GoSyntaxError(s, 'unterminated raw string');
      i = j + 1;
      push('raw', s, i);
      continue;
    }
    const op = operatorAt(src, i);
    if (op !== null) {
      push(op, i, i + op.length);
      i += op.length;
      continue;
    }
    const one = src[i]!;
    throw new GoSyntaxError(i, `unexpected character ${JSON.stringify(one)}`);
  }
  if (semi) push(';', n, n);
  push('EOF', n, n);
  return { toks: { kinds, starts, ends }, comments };
}

// ---------------------------------------------------------------------------------------------------------------
// Parser

const BIN_PREC: Record<string, number> = {
  '||': 1, '&&': 2,
  '==': 3, '!=': 3, '<': 3, '<=': 3, '>': 3, '>=': 3,
  '+': 4, '-': 4, '|': 4, '^': 4,
  '*': 5, '/': 5, '%': 5, '<<': 5, '>>': 5, '&': 5, '&^': 5,
};
const ASSIGN_OPS = new Set(['=', '+=', '-=', '*=', '/=', '%=', '&=', '|=', '^=', '<<=', '>>=', '&^=']);
const UNARY_OPS = new Set(['+', '-', '!', '^', '*', '&', '<-']);
const LITERAL_NODE: Record<string, string> = { int: 'int_literal', float: 'float_literal', imag: 'imaginary_literal', rune: 'rune_literal', str: 'interpreted_string_literal', raw: 'raw_string_literal' };
const WORD_NODE = new Map([['nil', 'nil'], ['true', 'true'], ['false', 'false'], ['iota', 'iota']]);
/** Tokens that can start a type (besides an identifier). */
const TYPE_START = new Set(['id', '*', '[', 'map', 'chan', 'func', 'struct', 'interface', '<-', '(', '~']);

/** A node that can only be a type (`[]T`, `*[4]byte`, `map[K]V`), never an expression. */
function isTypeNode(n: GoNode): boolean {
  return n.type.endsWith('_type') && n.type !== 'type_identifier';
}

/** Parses a Go source file into a tree-sitter-go-shaped tree. Throws GoSyntaxError on anything it cannot read. */
export function parseGoFile(src: string): GoNode {
  const { toks, comments } = scan(src);
  const p = new Parser(src, toks);
  let root: GoNode;
  try {
    root = p.file();
  } catch (e) {
    // Pathological nesting (thousands of parentheses or closures) overflows the recursion: such a file goes to
    // tree-sitter, which parses iteratively, like any file this parser does not read.
    if (e instanceof RangeError) throw new GoSyntaxError(0, 'nesting too deep');
    throw e;
  }
  if (comments.length) attachComments(root, comments.map(([s, e]) => p.node('comment', true, s, e)));
  return root;
}

/**
 * A comment belongs to the deepest node that contains it without any child containing it (tree-sitter's rule).
 * Targets are found by binary search and each node's comments are merged in once: generated files put
 * thousands of comments in one literal.
 */
function attachComments(root: GoNode, comments: GoNode[]): void {
  const byTarget = new Map<GoNode, GoNode[]>();
  for (const c of comments) {
    let n = root;
    for (;;) {
      const kids = n.children;
      let lo = 0;
      let hi = kids.length - 1;
      let into: GoNode | null = null;
      while (lo <= hi) {
        const mid = (lo + hi) >> 1;
        const k = kids[mid]!;
        if (k.end <= c.start) lo = mid + 1;
        else if (k.start >= c.end) hi = mid - 1;
        else {
          if (k.isNamed && k.start <= c.start && c.end <= k.end) into = k;
          break;
        }
      }
      if (!into) break;
      n = into;
    }
    const list = byTarget.get(n);
    if (list) list.push(c);
    else byTarget.set(n, [c]);
  }
  for (const [n, cs] of byTarget) n.mergeExtras(cs);
}

class Parser {
  private i = 0;
  private ids = 0;
  /** go/parser's exprLev: < 0 in control clauses, where `T {` starts a block, not a composite literal. */
  private exprLev = 0;
  private inSwitchHeader = false;
  private readonly file_: FileText;

  private readonly kinds: string[];
  private readonly starts: Int32Array;
  private readonly ends: Int32Array;

  constructor(src: string, toks: Tokens) {
    this.file_ = new FileText(src);
    this.kinds = toks.kinds;
    this.starts = toks.starts;
    this.ends = toks.ends;
  }

  node(type: string, named: boolean, s: number, e: number): GoNode {
    return new GoNode(type, named, s, e, this.file_, ++this.ids);
  }

  /** The current token's kind (a method, not a getter: TypeScript must not narrow it across `this.i++`). */
  private k(): string {
    return this.kinds[this.i]!;
  }
  /** Start offset of the current token. */
  private s(): number {
    return this.starts[this.i]!;
  }
  private peek(n: number): string {
    return this.kinds[Math.min(this.i + n, this.kinds.length - 1)]!;
  }
  private prevEnd(): number {
    return this.ends[this.i - 1]!;
  }
  private fail(what: string): never {
    throw new GoSyntaxError(this.s(), `${what} (found ${this.k()})`);
  }
  /** Consumes a token of kind k; returns its start offset. */
  private expect(k: string): number {
    if (this.kinds[this.i] !== k) this.fail(`expected ${k}`);
    return this.starts[this.i++]!;
  }
  private got(k: string): boolean {
    if (this.k() !== k) return false;
    this.i++;
    return true;
  }
  /** A leaf node for the current token, consumed. */
  private leaf(type: string, named = true): GoNode {
    const i = this.i++;
    return this.node(type, named, this.starts[i]!, this.ends[i]!);
  }
  private ident(type = 'identifier'): GoNode {
    if (this.k() !== 'id') this.fail('expected identifier');
    return this.leaf(type);
  }
  private semi(): void {
    if (this.k() === ';') this.i++;
    else if (this.k() !== ')' && this.k() !== '}' && this.k() !== 'EOF') this.fail('expected ;');
  }

  // --- declarations ------------------------------------------------------------------------------------------

  file(): GoNode {
    const root = this.node('source_file', true, 0, this.file_.src.length);
    if (this.k() !== 'package') this.fail('expected package clause');
    const pk = this.s();
    this.i++;
    const pc = this.node('package_clause', true, pk, 0).add(this.ident('package_identifier'));
    pc.end = this.prevEnd();
    root.add(pc);
    this.semi();
    while (this.k() !== 'EOF') {
      switch (this.k()) {
        case 'import':
          root.add(this.importDecl());
          break;
        case 'func':
          root.add(this.funcDecl());
          break;
        case 'var':
        case 'const':
        case 'type':
          root.add(this.declaration());
          break;
        case ';':
          break;
        default:
          this.fail('expected declaration');
      }
      this.semi();
    }
    return root;
  }

  private importDecl(): GoNode {
    const s = this.expect('import');
    const d = this.node('import_declaration', true, s, 0);
    if (this.k() === '(') {
      const ls = this.s();
      this.i++;
      const list = this.node('import_spec_list', true, ls, 0);
      while (this.k() !== ')') {
        list.add(this.importSpec());
        this.semi();
      }
      this.i++;
      list.end = this.prevEnd();
      d.add(list);
    } else d.add(this.importSpec());
    d.end = this.prevEnd();
    return d;
  }

  private importSpec(): GoNode {
    const spec = this.node('import_spec', true, this.s(), 0);
    if (this.k() === '.') spec.add(this.leaf('dot'), 'name');
    else if (this.k() === 'id') spec.add(this.leaf(this.file_.src.slice(this.s(), this.ends[this.i]!) === '_' ? 'blank_identifier' : 'package_identifier'), 'name');
    if (this.k() !== 'str' && this.k() !== 'raw') this.fail('expected import path');
    spec.add(this.leaf(LITERAL_NODE[this.k()]!), 'path');
    spec.end = this.prevEnd();
    return spec;
  }

  private funcDecl(): GoNode {
    const s = this.expect('func');
    let d: GoNode;
    if (this.k() === '(') {
      d = this.node('method_declaration', true, s, 0);
      d.add(this.parameterList(), 'receiver');
      d.add(this.ident('field_identifier'), 'name');
    } else {
      d = this.node('function_declaration', true, s, 0);
      d.add(this.ident(), 'name');
      if (this.k() === '[') d.add(this.typeParameterList(), 'type_parameters');
    }
    d.add(this.parameterList(), 'parameters');
    d.add(this.result(), 'result');
    if (this.k() === '{') d.add(this.body(), 'body');
    d.end = this.prevEnd();
    return d;
  }

  private declaration(): GoNode {
    const kw = this.k();
    const s = this.s();
    this.i++;
    const d = this.node(`${kw}_declaration`, true, s, 0);
    const spec = (): GoNode => (kw === 'var' ? this.varSpec() : kw === 'const' ? this.constSpec() : this.typeSpec());
    if (this.k() === '(') {
      const ls = this.s();
      this.i++;
      // var groups have a list node; const and type groups put their specs directly in the declaration.
      const into = kw === 'var' ? this.node('var_spec_list', true, ls, 0) : d;
      while (this.k() !== ')') {
        into.add(spec());
        this.semi();
      }
      this.i++;
      if (into !== d) {
        into.end = this.prevEnd();
        d.add(into);
      }
    } else d.add(spec());
    d.end = this.prevEnd();
    return d;
  }

  private names(into: GoNode, field: string): void {
    into.add(this.ident(), field);
    while (this.k() === ',') {
      this.i++;
      into.add(this.ident(), field);
    }
  }

  private varSpec(): GoNode {
    const spec = this.node('var_spec', true, this.s(), 0);
    this.names(spec, 'name');
    if (this.k() !== '=') spec.add(this.type(), 'type');
    if (this.got('=')) spec.add(this.expressionList(), 'value');
    spec.end = this.prevEnd();
    return spec;
  }

  private constSpec(): GoNode {
    const spec = this.node('const_spec', true, this.s(), 0);
    this.names(spec, 'name');
    if (this.k() !== ';' && this.k() !== ')') {
      if (this.k() !== '=') spec.add(this.type(), 'type');
      this.expect('=');
      spec.add(this.expressionList(), 'value');
    }
    spec.end = this.prevEnd();
    return spec;
  }

  private typeSpec(): GoNode {
    const s = this.s();
    const name = this.ident('type_identifier');
    let params: GoNode | null = null;
    if (this.k() === '[' && this.looksLikeTypeParams()) params = this.typeParameterList();
    const alias = this.got('=');
    const spec = this.node(alias ? 'type_alias' : 'type_spec', true, s, 0);
    spec.add(name, 'name');
    spec.add(params, 'type_parameters');
    spec.add(this.type(), 'type');
    spec.end = this.prevEnd();
    return spec;
  }

  /** After `type Name`, does `[` open type parameters (`[T any]`) rather than an array length (`[N]int`)? */
  private looksLikeTypeParams(): boolean {
    if (this.peek(1) !== 'id') return false;
    const after = this.peek(2);
    if (after === ']' || after === '.' || after === '(' || (after !== '*' && Object.hasOwn(BIN_PREC, after))) return false;
    if (after === '*') {
      // go/parser's rule: `[P *C]` is an array length (P times C) unless C can only be a type (`*[]int`,
      // `*struct{}`...) or more parameters follow (`[P *C, Q any]`).
      const t3 = this.peek(3);
      if (t3 === '[' || t3 === 'struct' || t3 === 'func' || t3 === 'interface' || t3 === 'map' || t3 === 'chan' || t3 === '*') return true;
      return t3 === 'id' && this.peek(4) === ',';
    }
    if (TYPE_START.has(after) || after === ',') return true;
    this.fail('ambiguous array length or type parameters');
  }

  private typeParameterList(): GoNode {
    const list = this.node('type_parameter_list', true, this.expect('['), 0);
    let pending: GoNode[] = [];
    while (this.k() !== ']') {
      const name = this.ident();
      pending.push(name);
      if (this.got(',')) continue;
      const decl = this.node('type_parameter_declaration', true, pending[0]!.start, 0);
      for (const n of pending) decl.add(n, 'name');
      pending = [];
      decl.add(this.typeElem('type_constraint'), 'type');
      decl.end = this.prevEnd();
      list.add(decl);
      if (!this.got(',')) break;
    }
    if (pending.length) this.fail('type parameter without constraint');
    this.expect(']');
    list.end = this.prevEnd();
    return list;
  }

  private typeElem(type = 'type_elem'): GoNode {
    const el = this.node(type, true, this.s(), 0);
    el.add(this.type());
    while (this.got('|')) el.add(this.type());
    el.end = this.prevEnd();
    return el;
  }

  /** A parameter list, grouped as tree-sitter does: `(a, b int, c string)` is two declarations. */
  parameterList(): GoNode {
    const list = this.node('parameter_list', true, this.expect('('), 0);
    interface Entry {
      name: GoNode | null;
      type: GoNode | null;
      variadic: boolean;
      s: number;
    }
    const entries: Entry[] = [];
    while (this.k() !== ')') {
      const s = this.s();
      if (this.got('...')) entries.push({ name: null, type: this.type(), variadic: true, s });
      else if (this.k() === 'id') {
        const nk = this.peek(1);
        if (nk === '.') entries.push({ name: null, type: this.type(), variadic: false, s });
        else if (nk === ',' || nk === ')') entries.push({ name: this.ident(), type: null, variadic: false, s });
        else if (nk === '...') {
          const name = this.ident();
          this.i++;
          entries.push({ name, type: this.type(), variadic: true, s });
        } else if (nk === '[' && !this.namedBeforeBracket()) entries.push({ name: null, type: this.type(), variadic: false, s });
        else {
          const name = this.ident();
          entries.push({ name, type: this.type(), variadic: false, s });
        }
      } else entries.push({ name: null, type: this.type(), variadic: false, s });
      if (!this.got(',')) break;
    }
    this.expect(')');
    list.end = this.prevEnd();
    const named = entries.some((e) => e.name && e.type);
    const decl = (variadic: boolean, s: number, names: GoNode[], type: GoNode): GoNode => {
      const d = this.node(variadic ? 'variadic_parameter_declaration' : 'parameter_declaration', true, s, type.end);
      for (const n of names) d.add(n, 'name');
      return d.add(type, 'type');
    };
    if (!named) {
      for (const e of entries) {
        const t = e.type ?? this.node('type_identifier', true, e.name!.start, e.name!.end);
        list.add(decl(e.variadic, e.s, [], t));
      }
      return list;
    }
    let pending: GoNode[] = [];
    for (const e of entries) {
      if (!e.type) {
        pending.push(e.name!);
        continue;
      }
      if (!e.name) this.fail('mixed named and unnamed parameters');
      if (e.variadic && pending.length) this.fail('grouped variadic parameter');
      const names = [...pending, e.name];
      list.add(decl(e.variadic, names[0]!.start, names, e.type));
      pending = [];
    }
    if (pending.length) this.fail('parameter without type');
    return list;
  }

  /** At `ident [`: is the identifier a name followed by an array/slice type (`buf [4]byte`), not a generic type? */
  private namedBeforeBracket(): boolean {
    if (this.peek(2) === ']') return true;
    let depth = 0;
    for (let j = this.i + 1; j < this.kinds.length; j++) {
      const k = this.kinds[j]!;
      if (k === '[' || k === '(' || k === '{') depth++;
      else if (k === ']' || k === ')' || k === '}') {
        depth--;
        if (depth === 0) {
          const after = this.kinds[j + 1]!;
          return !(after === ',' || after === ')' || after === ';' || after === '}' || after === 'str' || after === 'raw' || after === '{');
        }
      } else if (k === 'EOF') break;
    }
    this.fail('unbalanced brackets');
  }

  private result(): GoNode | null {
    if (this.k() === '(') return this.parameterList();
    if (this.k() !== '(' && TYPE_START.has(this.k())) return this.type();
    return null;
  }

  // --- types -------------------------------------------------------------------------------------------------

  type(): GoNode {
    const s = this.s();
    switch (this.k()) {
      case 'id': {
        let t: GoNode;
        if (this.peek(1) === '.') {
          t = this.node('qualified_type', true, s, 0);
          t.add(this.ident('package_identifier'), 'package');
          this.i++;
          t.add(this.ident('type_identifier'), 'name');
          t.end = this.prevEnd();
        } else t = this.ident('type_identifier');
        if (this.k() === '[') return this.genericType(t);
        return t;
      }
      case '*': {
        this.i++;
        return this.wrap('pointer_type', s, this.type());
      }
      case '[': {
        this.i++;
        if (this.got(']')) {
          const el = this.type();
          return this.node('slice_type', true, s, el.end).add(el, 'element');
        }
        if (this.got('...')) {
          this.expect(']');
          const el = this.type();
          return this.node('implicit_length_array_type', true, s, el.end).add(el, 'element');
        }
        const len = this.enclosed(() => this.expr());
        this.expect(']');
        const el = this.type();
        return this.node('array_type', true, s, el.end).add(len, 'length').add(el, 'element');
      }
      case 'map': {
        this.i++;
        this.expect('[');
        const key = this.type();
        this.expect(']');
        const value = this.type();
        return this.node('map_type', true, s, value.end).add(key, 'key').add(value, 'value');
      }
      case 'chan': {
        this.i++;
        this.got('<-');
        const value = this.type();
        return this.node('channel_type', true, s, value.end).add(value, 'value');
      }
      case '<-': {
        this.i++;
        this.expect('chan');
        const value = this.type();
        return this.node('channel_type', true, s, value.end).add(value, 'value');
      }
      case 'func': {
        this.i++;
        const t = this.node('function_type', true, s, 0);
        t.add(this.parameterList(), 'parameters');
        t.add(this.result(), 'result');
        t.end = this.prevEnd();
        return t;
      }
      case 'struct':
        return this.structType();
      case 'interface':
        return this.interfaceType();
      case '(': {
        this.i++;
        const inner = this.type();
        this.expect(')');
        return this.wrap('parenthesized_type', s, inner);
      }
      case '~': {
        this.i++;
        return this.wrap('negated_type', s, this.type());
      }
      default:
        this.fail('expected type');
    }
  }

  /** Parses inside brackets, where `T {` is a composite literal again even in a control clause (go/parser's exprLev). */
  private enclosed<T>(f: () => T): T {
    const saved = this.exprLev;
    this.exprLev = saved < 0 ? 1 : saved + 1;
    try {
      return f();
    } finally {
      this.exprLev = saved;
    }
  }

  private wrap(type: string, s: number, inner: GoNode): GoNode {
    return this.node(type, true, s, this.prevEnd()).add(inner);
  }

  private genericType(base: GoNode): GoNode {
    const g = this.node('generic_type', true, base.start, 0).add(base, 'type');
    g.add(this.typeArguments(), 'type_arguments');
    g.end = this.prevEnd();
    return g;
  }

  private typeArguments(): GoNode {
    const args = this.node('type_arguments', true, this.expect('['), 0);
    while (this.k() !== ']') {
      args.add(this.typeElem());
      if (!this.got(',')) break;
    }
    this.expect(']');
    args.end = this.prevEnd();
    return args;
  }

  private structType(): GoNode {
    const s = this.expect('struct');
    const list = this.node('field_declaration_list', true, this.expect('{'), 0);
    while (this.k() !== '}') {
      list.add(this.fieldDecl());
      this.semi();
    }
    this.i++;
    list.end = this.prevEnd();
    return this.node('struct_type', true, s, list.end).add(list);
  }

  private fieldDecl(): GoNode {
    const fd = this.node('field_declaration', true, this.s(), 0);
    const embedded = (): void => {
      let t: GoNode;
      if (this.peek(1) === '.') {
        t = this.node('qualified_type', true, this.s(), 0);
        t.add(this.ident('package_identifier'), 'package');
        this.i++;
        t.add(this.ident('type_identifier'), 'name');
        t.end = this.prevEnd();
      } else t = this.ident('type_identifier');
      fd.add(this.k() === '[' ? this.genericType(t) : t, 'type');
    };
    if (this.k() === '*') {
      fd.add(this.leaf('*', false));
      embedded();
    } else if (this.k() === 'id') {
      const nk = this.peek(1);
      if (nk === '.' || nk === ';' || nk === '}' || nk === 'str' || nk === 'raw' || (nk === '[' && !this.namedBeforeBracket())) embedded();
      else {
        this.names(fd, 'name');
        fd.add(this.type(), 'type');
      }
    } else this.fail('expected field');
    if (this.k() === 'str' || this.k() === 'raw') fd.add(this.leaf(LITERAL_NODE[this.k()]!), 'tag');
    fd.end = this.prevEnd();
    return fd;
  }

  private interfaceType(): GoNode {
    const t = this.node('interface_type', true, this.expect('interface'), 0);
    this.expect('{');
    while (this.k() !== '}') {
      if (this.k() === 'id' && this.peek(1) === '(') {
        const m = this.node('method_elem', true, this.s(), 0);
        m.add(this.ident('field_identifier'), 'name');
        m.add(this.parameterList(), 'parameters');
        m.add(this.result(), 'result');
        m.end = this.prevEnd();
        t.add(m);
      } else t.add(this.typeElem());
      this.semi();
    }
    this.i++;
    t.end = this.prevEnd();
    return t;
  }

  // --- statements --------------------------------------------------------------------------------------------

  /** A function body: composite literals are allowed again whatever the enclosing clause. */
  private body(): GoNode {
    const saved = this.exprLev;
    const savedHeader = this.inSwitchHeader;
    this.exprLev = 0;
    this.inSwitchHeader = false;
    const b = this.block();
    this.exprLev = saved;
    this.inSwitchHeader = savedHeader;
    return b;
  }

  private block(): GoNode {
    const b = this.node('block', true, this.expect('{'), 0);
    b.add(this.statementList());
    this.expect('}');
    b.end = this.prevEnd();
    return b;
  }

  /** Statements up to `}` or the next case; null when there are none. Spans its last terminator, as tree-sitter. */
  private statementList(): GoNode | null {
    let list: GoNode | null = null;
    while (this.k() !== '}' && this.k() !== 'case' && this.k() !== 'default' && this.k() !== 'EOF') {
      if (this.k() === ';') {
        this.i++;
        continue;
      }
      const st = this.stmt();
      list ??= this.node('statement_list', true, st.start, 0);
      list.add(st);
      list.end = st.end;
      if (this.k() === ';') {
        list.end = this.ends[this.i]!;
        this.i++;
      } else if (this.k() !== '}' && this.k() !== 'case' && this.k() !== 'default') this.fail('expected end of statement');
    }
    return list;
  }

  private stmt(): GoNode {
    const s = this.s();
    switch (this.k()) {
      case 'var':
      case 'const':
      case 'type':
        return this.declaration();
      case 'return': {
        this.i++;
        const r = this.node('return_statement', true, s, 0);
        if (this.k() !== ';' && this.k() !== '}') r.add(this.expressionList());
        r.end = this.prevEnd();
        return r;
      }
      case 'go':
      case 'defer': {
        const kw = this.k();
        this.i++;
        return this.wrapExpr(`${kw}_statement`, s, this.expr());
      }
      case 'if':
        return this.ifStmt();
      case 'for':
        return this.forStmt();
      case 'switch':
        return this.switchStmt();
      case 'select':
        return this.selectStmt();
      case 'break':
      case 'continue': {
        const kw = this.k();
        this.i++;
        const st = this.node(`${kw}_statement`, true, s, 0);
        if (this.k() === 'id') st.add(this.leaf('label_name'));
        st.end = this.prevEnd();
        return st;
      }
      case 'goto': {
        this.i++;
        const st = this.node('goto_statement', true, s, 0).add(this.ident('label_name'));
        st.end = this.prevEnd();
        return st;
      }
      case 'fallthrough':
        this.i++;
        return this.node('fallthrough_statement', true, s, this.prevEnd());
      case '{':
        return this.block();
      case 'id':
        if (this.peek(1) === ':') {
          const st = this.node('labeled_statement', true, s, 0).add(this.leaf('label_name'), 'label');
          this.i++;
          // `L:` before `}`, a case, or an empty statement (`L: ;`) labels nothing.
          if (this.k() !== '}' && this.k() !== 'case' && this.k() !== 'default' && this.k() !== ';') st.add(this.stmt());
          st.end = this.prevEnd();
          return st;
        }
        return this.simpleStmt(false);
      default:
        return this.simpleStmt(false);
    }
  }

  private wrapExpr(type: string, s: number, e: GoNode): GoNode {
    return this.node(type, true, s, e.end).add(e);
  }

  /** A simple statement; with `range` allowed, a `range` clause of a for statement. */
  private simpleStmt(range: boolean): GoNode {
    const s = this.s();
    if (range && this.k() === 'range') {
      this.i++;
      const right = this.expr();
      return this.node('range_clause', true, s, right.end).add(right, 'right');
    }
    const lhs = this.exprs();
    const op = this.k();
    if (op === ':=' || op === '=') {
      const opTok = this.leaf(op, false);
      if (range && this.k() === 'range') {
        this.i++;
        const right = this.expr();
        return this.node('range_clause', true, s, right.end).add(this.list(lhs), 'left').add(opTok).add(right, 'right');
      }
      const rhs = this.expressionList();
      if (op === ':=') return this.node('short_var_declaration', true, s, rhs.end).add(this.list(lhs), 'left').add(opTok).add(rhs, 'right');
      return this.node('assignment_statement', true, s, rhs.end).add(this.list(lhs), 'left').add(opTok, 'operator').add(rhs, 'right');
    }
    if (ASSIGN_OPS.has(op)) {
      const opTok = this.leaf(op, false);
      const rhs = this.expressionList();
      return this.node('assignment_statement', true, s, rhs.end).add(this.list(lhs), 'left').add(opTok, 'operator').add(rhs, 'right');
    }
    if (lhs.length !== 1) this.fail('expected assignment');
    const x = lhs[0]!;
    if (op === '++' || op === '--') {
      this.i++;
      return this.node(op === '++' ? 'inc_statement' : 'dec_statement', true, s, this.prevEnd()).add(x);
    }
    if (op === '<-') {
      this.i++;
      const v = this.expr();
      return this.node('send_statement', true, s, v.end).add(x, 'channel').add(v, 'value');
    }
    return this.wrapExpr('expression_statement', s, x);
  }

  private ifStmt(): GoNode {
    const st = this.node('if_statement', true, this.expect('if'), 0);
    const saved = this.exprLev;
    this.exprLev = -1;
    let cond: GoNode;
    if (this.k() === ';') {
      this.i++;
      cond = this.expr();
    } else {
      const first = this.simpleStmt(false);
      if (this.got(';')) {
        st.add(first, 'initializer');
        cond = this.expr();
      } else cond = this.condition(first);
    }
    this.exprLev = saved;
    st.add(cond, 'condition');
    st.add(this.block(), 'consequence');
    if (this.got('else')) st.add(this.k() === 'if' ? this.ifStmt() : this.block(), 'alternative');
    st.end = this.prevEnd();
    return st;
  }

  private condition(st: GoNode): GoNode {
    if (st.type !== 'expression_statement') this.fail('expected condition');
    return st.children[0]!;
  }

  private forStmt(): GoNode {
    const st = this.node('for_statement', true, this.expect('for'), 0);
    const saved = this.exprLev;
    this.exprLev = -1;
    if (this.k() !== '{') {
      const s = this.s();
      const first = this.k() === ';' ? null : this.simpleStmt(true);
      if (first?.type === 'range_clause') st.add(first);
      else if (this.k() === ';') {
        this.i++;
        const clause = this.node('for_clause', true, s, 0);
        clause.add(first, 'initializer');
        if (this.k() !== ';') clause.add(this.expr(), 'condition');
        this.expect(';');
        if (this.k() !== '{') clause.add(this.simpleStmt(false), 'update');
        clause.end = this.prevEnd();
        st.add(clause);
      } else st.add(this.condition(first!));
    }
    this.exprLev = saved;
    st.add(this.block(), 'body');
    st.end = this.prevEnd();
    return st;
  }

  private switchStmt(): GoNode {
    const s = this.expect('switch');
    const saved = this.exprLev;
    this.exprLev = -1;
    const savedHeader = this.inSwitchHeader;
    this.inSwitchHeader = true;
    let init: GoNode | null = null;
    let head: GoNode | null = null;
    if (this.k() !== '{') {
      const first = this.k() === ';' ? null : this.simpleStmt(false);
      if (this.got(';')) {
        init = first;
        if (this.k() !== '{') head = this.simpleStmt(false);
      } else head = first;
    }
    this.inSwitchHeader = savedHeader;
    this.exprLev = saved;
    // A type switch: `x.(type)` alone or on the right of `v :=`.
    const guardOf = (n: GoNode | null): { alias: GoNode | null; value: GoNode } | null => {
      if (n?.type === 'expression_statement' && n.children[0]!.type === '$guard') return { alias: null, value: n.children[0]!.children[0]! };
      if (n?.type === 'short_var_declaration') {
        const r = n.childForFieldName('right')!;
        if (r.children.length === 1 && r.children[0]!.type === '$guard') return { alias: n.childForFieldName('left'), value: r.children[0]!.children[0]! };
      }
      return null;
    };
    const guard = guardOf(head);
    const st = this.node(guard ? 'type_switch_statement' : 'expression_switch_statement', true, s, 0);
    st.add(init, 'initializer');
    if (guard) {
      st.add(guard.alias, 'alias');
      st.add(guard.value, 'value');
    } else if (head) st.add(this.condition(head), 'value');
    this.expect('{');
    while (this.k() !== '}') {
      const cs = this.s();
      let c: GoNode;
      if (this.got('default')) c = this.node('default_case', true, cs, 0);
      else {
        this.expect('case');
        if (guard) {
          c = this.node('type_case', true, cs, 0);
          c.add(this.type(), 'type');
          while (this.got(',')) c.add(this.type(), 'type');
        } else c = this.node('expression_case', true, cs, 0).add(this.expressionList(), 'value');
      }
      this.expect(':');
      c.add(this.statementList());
      c.end = this.prevEnd();
      st.add(c);
    }
    this.i++;
    st.end = this.prevEnd();
    return st;
  }

  private selectStmt(): GoNode {
    const st = this.node('select_statement', true, this.expect('select'), 0);
    this.expect('{');
    while (this.k() !== '}') {
      const cs = this.s();
      let c: GoNode;
      if (this.got('default')) c = this.node('default_case', true, cs, 0);
      else {
        this.expect('case');
        c = this.node('communication_case', true, cs, 0);
        const s = this.s();
        const lhs = this.exprs();
        let comm: GoNode;
        if (this.k() === ':=' || this.k() === '=') {
          const op = this.leaf(this.k(), false);
          const right = this.expr();
          comm = this.node('receive_statement', true, s, right.end).add(this.list(lhs), 'left').add(op).add(right, 'right');
        } else if (this.k() === '<-' && lhs.length === 1) {
          this.i++;
          const v = this.expr();
          comm = this.node('send_statement', true, s, v.end).add(lhs[0]!, 'channel').add(v, 'value');
        } else {
          if (lhs.length !== 1) this.fail('expected receive');
          comm = this.node('receive_statement', true, s, lhs[0]!.end).add(lhs[0]!, 'right');
        }
        c.add(comm, 'communication');
      }
      this.expect(':');
      c.add(this.statementList());
      c.end = this.prevEnd();
      st.add(c);
    }
    this.i++;
    st.end = this.prevEnd();
    return st;
  }

  // --- expressions -------------------------------------------------------------------------------------------

  private exprs(): GoNode[] {
    const out = [this.expr()];
    while (this.got(',')) out.push(this.expr());
    return out;
  }

  private list(xs: GoNode[]): GoNode {
    const l = this.node('expression_list', true, xs[0]!.start, xs[xs.length - 1]!.end);
    for (const x of xs) l.add(x);
    return l;
  }

  private expressionList(): GoNode {
    return this.list(this.exprs());
  }

  expr(prec = 1): GoNode {
    let x = this.unary();
    for (;;) {
      const op = this.k();
      const p = Object.hasOwn(BIN_PREC, op) ? BIN_PREC[op] : undefined;
      if (p === undefined || p < prec) return x;
      const opTok = this.leaf(op, false);
      const y = this.expr(p + 1);
      x = this.node('binary_expression', true, x.start, y.end).add(x, 'left').add(opTok, 'operator').add(y, 'right');
    }
  }

  private unary(): GoNode {
    const op = this.k();
    if (UNARY_OPS.has(op) && !(op === '<-' && this.peek(1) === 'chan')) {
      const s = this.s();
      const opTok = this.leaf(op, false);
      const x = this.unary();
      // `*[4]byte` in `(*[4]byte)(p)`: a pointer type, since its operand can only be a type.
      if (op === '*' && isTypeNode(x)) return this.node('pointer_type', true, s, x.end).add(x);
      return this.node('unary_expression', true, s, x.end).add(opTok, 'operator').add(x, 'operand');
    }
    return this.primary();
  }

  private primary(): GoNode {
    let x = this.operand();
    for (;;) {
      switch (this.k()) {
        case '.': {
          this.i++;
          if (this.k() === 'id') {
            const f = this.ident('field_identifier');
            x = this.node('selector_expression', true, x.start, f.end).add(x, 'operand').add(f, 'field');
          } else {
            this.expect('(');
            if (this.got('type')) {
              if (!this.inSwitchHeader) this.fail('type switch guard outside a switch');
              this.expect(')');
              x = this.node('$guard', true, x.start, this.prevEnd()).add(x);
            } else {
              const t = this.type();
              this.expect(')');
              x = this.node('type_assertion_expression', true, x.start, this.prevEnd()).add(x, 'operand').add(t, 'type');
            }
          }
          break;
        }
        case '[':
          x = this.indexOrSlice(x);
          break;
        case '(':
          x = this.call(x, null);
          break;
        case '{': {
          const t = this.exprLev >= 0 ? this.asLiteralType(x) : null;
          if (!t) return x;
          x = this.compositeLiteral(t);
          break;
        }
        default:
          return x;
      }
    }
  }

  private operand(): GoNode {
    const k = this.k();
    switch (k) {
      case 'id': {
        const w = this.file_.src.slice(this.s(), this.ends[this.i]!);
        return this.leaf(WORD_NODE.get(w) ?? 'identifier');
      }
      case 'int':
      case 'float':
      case 'imag':
      case 'rune':
      case 'str':
      case 'raw':
        return this.leaf(LITERAL_NODE[k]!);
      case '(': {
        const s = this.s();
        this.i++;
        const inner = this.enclosed(() => this.expr());
        this.expect(')');
        // `(*[4]byte)(p)`, `(func())(f)`: a parenthesized type, converted.
        if (isTypeNode(inner)) return this.typeOperand(this.wrap('parenthesized_type', s, inner));
        return this.wrap('parenthesized_expression', s, inner);
      }
      case 'func': {
        const s = this.s();
        const t = this.type();
        if (this.k() !== '{') return this.typeOperand(t);
        const lit = this.node('func_literal', true, s, 0);
        lit.add(t.childForFieldName('parameters'), 'parameters');
        lit.add(t.childForFieldName('result'), 'result');
        lit.add(this.body(), 'body');
        lit.end = this.prevEnd();
        return lit;
      }
      case '[':
      case 'map':
      case 'chan':
      case 'struct':
      case 'interface':
      case '<-':
        return this.typeOperand(this.type());
      default:
        this.fail('expected expression');
    }
  }

  /** A type in operand position: a composite literal, a conversion, or the type itself (as in `make([]T, n)`). */
  private typeOperand(t: GoNode): GoNode {
    if (this.k() === '{' && /^(?:map_type|slice_type|array_type|implicit_length_array_type|struct_type)$/.test(t.type)) return this.compositeLiteral(t);
    if (this.k() === '(') {
      const conv = this.node('type_conversion_expression', true, t.start, 0).add(t, 'type');
      this.i++;
      conv.add(this.enclosed(() => this.expr()), 'operand');
      this.got(',');
      this.expect(')');
      conv.end = this.prevEnd();
      return conv;
    }
    return t;
  }

  private indexOrSlice(x: GoNode): GoNode {
    this.i++;
    const saved = this.exprLev;
    this.exprLev = this.exprLev < 0 ? 1 : this.exprLev + 1;
    try {
      let first: GoNode | null = null;
      if (this.k() !== ':') first = this.expr();
      if (this.k() === ':') {
        const sl = this.node('slice_expression', true, x.start, 0).add(x, 'operand').add(first, 'start');
        this.i++;
        if (this.k() !== ']' && this.k() !== ':') sl.add(this.expr(), 'end');
        if (this.got(':')) sl.add(this.expr(), 'capacity');
        this.expect(']');
        sl.end = this.prevEnd();
        return sl;
      }
      if (this.k() === ',') {
        // `F[A, B]`: an instantiation with several type arguments.
        const args = this.node('type_arguments', true, this.starts[this.i - 1]!, 0);
        args.add(this.elem(first!));
        while (this.got(',')) {
          if (this.k() === ']') break;
          args.add(this.elem(this.expr()));
        }
        this.expect(']');
        args.end = this.prevEnd();
        this.exprLev = saved;
        if (this.k() === '(') return this.call(x, args);
        const base = this.asTypeName(x);
        const g = this.node('generic_type', true, x.start, args.end).add(base, 'type').add(args, 'type_arguments');
        if (this.k() === '{' && saved >= 0) return g;
        return this.node('type_instantiation_expression', true, x.start, args.end).add(g);
      }
      this.expect(']');
      return this.node('index_expression', true, x.start, this.prevEnd()).add(x, 'operand').add(first, 'index');
    } finally {
      this.exprLev = saved;
    }
  }

  private elem(x: GoNode): GoNode {
    return this.node('type_elem', true, x.start, x.end).add(this.asType(x));
  }

  private call(fn: GoNode, typeArgs: GoNode | null): GoNode {
    const c = this.node('call_expression', true, fn.start, 0).add(fn, 'function').add(typeArgs, 'type_arguments');
    const args = this.node('argument_list', true, this.expect('('), 0);
    const special = fn.type === 'identifier' && /^(?:new|make)$/.test(fn.text);
    this.enclosed(() => {
      for (let first = true; this.k() !== ')'; first = false) {
        if (first && special) args.add(this.newArg(this.expr()));
        else {
          const a = this.expr();
          if (this.k() === '...') {
            const dots = this.leaf('...', false);
            args.add(this.node('variadic_argument', true, a.start, dots.end).add(a).add(dots));
          } else args.add(a);
        }
        if (!this.got(',')) break;
      }
    });
    this.expect(')');
    args.end = this.prevEnd();
    c.add(args, 'arguments');
    c.end = args.end;
    return c;
  }

  /**
   * The first argument of new/make: a type (`new(T)`, `make([]T, n)`), as tree-sitter reads it; since Go 1.26
   * `new` also takes a value (`new(f())`, `new("s")`), which stays an expression (tree-sitter-go 0.25 cannot
   * parse those).
   */
  private newArg(x: GoNode): GoNode {
    try {
      return this.asType(x);
    } catch (e) {
      if (e instanceof GoSyntaxError) return x;
      throw e;
    }
  }

  /** The type of `x {`: a type name, qualified name or instantiation; null when `x` cannot be one. */
  private asLiteralType(x: GoNode): GoNode | null {
    if (x.type === 'identifier') return this.asTypeName(x);
    if (x.type === 'selector_expression' && x.childForFieldName('operand')!.type === 'identifier') return this.asTypeName(x);
    if (x.type === 'generic_type') return x;
    if (x.type === 'index_expression') {
      const base = x.childForFieldName('operand')!;
      if (base.type !== 'identifier' && !(base.type === 'selector_expression' && base.childForFieldName('operand')!.type === 'identifier')) return null;
      const args = this.node('type_arguments', true, base.end, x.end).add(this.elem(x.childForFieldName('index')!));
      return this.node('generic_type', true, x.start, x.end).add(this.asTypeName(base), 'type').add(args, 'type_arguments');
    }
    return null;
  }

  /** `T` -> type_identifier, `pkg.T` -> qualified_type. */
  private asTypeName(x: GoNode): GoNode {
    if (x.type === 'identifier') return this.node('type_identifier', true, x.start, x.end);
    if (x.type === 'selector_expression') {
      const pkg = x.childForFieldName('operand')!;
      const name = x.childForFieldName('field')!;
      if (pkg.type !== 'identifier') this.fail('expected type name');
      return this.node('qualified_type', true, x.start, x.end)
        .add(this.node('package_identifier', true, pkg.start, pkg.end), 'package')
        .add(this.node('type_identifier', true, name.start, name.end), 'name');
    }
    this.fail('expected type name');
  }

  /** An expression read where a type was meant (a type argument). */
  private asType(x: GoNode): GoNode {
    if (x.type === 'identifier' || x.type === 'selector_expression') return this.asTypeName(x);
    if (x.type === 'unary_expression' && x.childForFieldName('operator')!.type === '*') return this.node('pointer_type', true, x.start, x.end).add(this.asType(x.childForFieldName('operand')!));
    if (x.type === 'index_expression') {
      const args = this.node('type_arguments', true, x.childForFieldName('operand')!.end, x.end).add(this.elem(x.childForFieldName('index')!));
      return this.node('generic_type', true, x.start, x.end).add(this.asTypeName(x.childForFieldName('operand')!), 'type').add(args, 'type_arguments');
    }
    if (x.type === 'type_instantiation_expression') return x.children[0]!;
    if (x.type === 'parenthesized_expression') return this.node('parenthesized_type', true, x.start, x.end).add(this.asType(x.children[0]!));
    if (x.type.endsWith('_type')) return x;
    this.fail('expected type argument');
  }

  private compositeLiteral(t: GoNode): GoNode {
    const lit = this.node('composite_literal', true, t.start, 0).add(t, 'type');
    lit.add(this.literalValue(), 'body');
    lit.end = this.prevEnd();
    return lit;
  }

  private literalValue(): GoNode {
    const v = this.node('literal_value', true, this.expect('{'), 0);
    this.enclosed(() => {
      while (this.k() !== '}') {
        const a = this.literalElement();
        if (this.got(':')) {
          const b = this.literalElement();
          v.add(this.node('keyed_element', true, a.start, b.end).add(a, 'key').add(b, 'value'));
        } else v.add(a);
        if (!this.got(',')) break;
      }
    });
    this.expect('}');
    v.end = this.prevEnd();
    return v;
  }

  private literalElement(): GoNode {
    const inner = this.k() === '{' ? this.literalValue() : this.expr();
    return this.node('literal_element', true, inner.start, inner.end).add(inner);
  }
}
