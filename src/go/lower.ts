// Lowers a tree-sitter-go tree to the IR in ir.ts. Pure: takes source text, returns data. Tolerates ERROR nodes
// (tree-sitter's error recovery): whatever it cannot read becomes `unk` and lowering goes on.
import type { SyntaxNode as TreeSitterNode } from 'tree-sitter';
import type { DirectiveIR, Expr, FileIR, FuncDeclIR, FuncIR, Loc, ParamIR, Stmt, TypeDeclIR, TypeIR } from './ir.js';
import { record } from '../records.js';
import { GoSyntaxError, parseGoFile } from './goparser.js';
import { parseGo } from './parse.js';
import type { SyntaxNodeLike as SyntaxNode } from './syntax.js';

const MAX_DEPTH = 400;
const TEXT_MAX = 80;

export interface LowerInput {
  path: string;
  source: string;
  pkgKey: string;
}

/**
 * Which parser reads the file. `auto`: the hand-written parser (goparser.ts), and tree-sitter-go when the file
 * has a syntax error it gives up on (tree-sitter's error recovery keeps the rest of the file). The other two
 * force one parser (the parser equivalence test and `bench/parser-diff.ts` compare them).
 */
export type ParserChoice = 'auto' | 'goparser' | 'tree-sitter';

export function lowerGoFile(input: LowerInput, parser: ParserChoice = 'auto'): FileIR {
  let root: SyntaxNode | null = null;
  if (parser !== 'tree-sitter') {
    try {
      root = parseGoFile(input.source);
    } catch (e) {
      if (!(e instanceof GoSyntaxError) || parser === 'goparser') throw e;
    }
  }
  root ??= parseGo(input.source).rootNode;
  return new Lowerer(input).file(root);
}

function loc(n: SyntaxNode): Loc {
  return [n.startPosition.row + 1, n.startPosition.column + 1, n.endPosition.row + 1, n.endPosition.column + 1];
}

function clip(s: string): string {
  const one = s.replace(/\s+/g, ' ');
  return one.length > TEXT_MAX ? one.slice(0, TEXT_MAX - 1) + '…' : one;
}

/** Decodes a Go interpreted string literal's body (without quotes). */
export function decodeGoString(body: string): string {
  if (!body.includes('\\')) return body;
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const e = body[++i];
    switch (e) {
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      case 'r': out += '\r'; break;
      case 'a': out += '\x07'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'v': out += '\v'; break;
      case '\\': out += '\\'; break;
      case '"': out += '"'; break;
      case "'": out += "'"; break;
      case 'x': out += String.fromCharCode(parseInt(body.slice(i + 1, i + 3), 16) || 0); i += 2; break;
      case 'u': out += String.fromCodePoint(parseInt(body.slice(i + 1, i + 5), 16) || 0); i += 4; break;
      case 'U': out += String.fromCodePoint(Math.min(parseInt(body.slice(i + 1, i + 9), 16) || 0, 0x10ffff)); i += 8; break;
      default:
        if (e !== undefined && e >= '0' && e <= '7') {
          out += String.fromCharCode(parseInt(body.slice(i, i + 3), 8) || 0);
          i += 2;
        } else if (e !== undefined) out += e;
    }
  }
  return out;
}

const DIRECTIVE = /^\/\/\s*rlscov:ignore\b(.*)$/;

class Lowerer {
  private imports: Record<string, string> = record();
  private depth = 0;
  private stmtLine = 0;
  constructor(private readonly input: LowerInput) {}

  file(root: SyntaxNode): FileIR {
    const out: FileIR = {
      path: this.input.path,
      pkgName: '',
      pkgKey: this.input.pkgKey,
      imports: this.imports,
      funcs: [],
      types: record(),
      consts: record(),
      vars: record(),
      directives: [],
      syntaxErrors: [],
    };
    // Comments and error regions are rare: look for them only when the text or the tree says they exist.
    if (this.input.source.includes('rlscov:ignore')) {
      for (const c of root.descendantsOfType('comment')) {
        const d = this.directive(c);
        if (d) out.directives.push(d);
      }
    }
    if (root.hasError) this.collectErrors(root as TreeSitterNode, out); // only tree-sitter trees have errors
    for (const n of root.namedChildren) {
      try {
        this.topLevel(n, out);
      } catch (e) {
        if (e instanceof RangeError) continue; // pathological nesting: skip the declaration, keep the file
        throw e;
      }
    }
    return out;
  }

  private collectErrors(root: TreeSitterNode, out: FileIR): void {
    // Iterative walk (deep trees must not overflow the stack), descending only into subtrees with errors.
    const cursor = root.walk();
    for (;;) {
      const n = cursor.currentNode;
      if ((n.type === 'ERROR' || n.isMissing) && out.syntaxErrors.length < 50) {
        out.syntaxErrors.push({ line: n.startPosition.row + 1, column: n.startPosition.column + 1 });
      }
      if (n.hasError && n.type !== 'ERROR' && cursor.gotoFirstChild()) continue;
      while (!cursor.gotoNextSibling()) {
        if (!cursor.gotoParent()) return;
      }
    }
  }

  private directive(n: SyntaxNode): DirectiveIR | null {
    const m = DIRECTIVE.exec(n.text.replace(/\r$/, '')); // a CRLF file's comment keeps its \r in tree-sitter
    if (!m) return null;
    const rest = m[1]!.trim();
    const firstSpace = rest.search(/\s/);
    const ruleTok = firstSpace < 0 ? rest : rest.slice(0, firstSpace);
    const reason = firstSpace < 0 ? '' : rest.slice(firstSpace).trim();
    const rules = ruleTok
      .split(',')
      .map((r) => r.trim().toUpperCase())
      .filter((r) => r.length > 0);
    const [sl, sc, el, ec] = loc(n);
    return { line: sl, column: sc, endLine: el, endColumn: ec, text: rest, rules, reason };
  }

  private topLevel(n: SyntaxNode, out: FileIR): void {
    switch (n.type) {
      case 'package_clause': {
        const id = n.namedChildren.find((c) => c.type === 'package_identifier');
        if (id) out.pkgName = id.text;
        return;
      }
      case 'import_declaration':
        for (const spec of descendantsOfType(n, 'import_spec')) this.importSpec(spec);
        return;
      case 'function_declaration':
      case 'method_declaration': {
        const f = this.funcDecl(n);
        if (f) out.funcs.push(f);
        return;
      }
      case 'type_declaration':
        for (const spec of n.namedChildren) {
          if (spec.type !== 'type_spec' && spec.type !== 'type_alias') continue;
          const name = spec.childForFieldName('name');
          const t = spec.childForFieldName('type');
          if (name && t) out.types[name.text] = this.typeDecl(t);
        }
        return;
      case 'const_declaration':
        this.constDecl(n, out);
        return;
      case 'var_declaration':
        for (const spec of varSpecs(n)) {
          const names = specNames(spec).map((c) => c.text);
          const t = spec.childForFieldName('type');
          const vals = this.exprList(spec.childForFieldName('value'));
          names.forEach((nm, i) => {
            out.vars[nm] = { t: t ? this.type(t) : '', v: vals.length === names.length ? vals[i]! : null, line: spec.startPosition.row + 1 };
          });
        }
        return;
      default:
        return;
    }
  }

  private importSpec(spec: SyntaxNode): void {
    const pathNode = spec.childForFieldName('path');
    if (!pathNode) return;
    const p = stringValue(pathNode);
    if (p === null) return;
    const nameNode = spec.childForFieldName('name');
    let alias = nameNode ? nameNode.text : defaultImportName(p);
    if (alias === '.' || alias === '_') alias = alias + p;
    this.imports[alias] = p;
  }

  private constDecl(n: SyntaxNode, out: FileIR): void {
    // iota and implicit repetition are irrelevant for SQL text; a spec without value repeats the previous one.
    let prev: Expr[] = [];
    for (const spec of n.namedChildren) {
      if (spec.type !== 'const_spec') continue;
      const names = specNames(spec).map((c) => c.text);
      const valueNode = spec.childForFieldName('value');
      const vals = valueNode ? this.exprList(valueNode) : prev;
      prev = vals;
      names.forEach((nm, i) => {
        const v = vals[i];
        if (v) out.consts[nm] = v;
      });
    }
  }

  private typeDecl(t: SyntaxNode): TypeDeclIR {
    const decl: TypeDeclIR = { fields: record(), embedded: [], underlying: this.type(t) };
    if (t.type === 'struct_type') {
      const list = t.namedChildren.find((c) => c.type === 'field_declaration_list');
      for (const fd of list?.namedChildren ?? []) {
        if (fd.type !== 'field_declaration') continue;
        const ft = fd.childForFieldName('type');
        if (!ft) continue;
        const names = fd.childrenForFieldName('name');
        // An embedded `*T` keeps its star as a separate token of the field declaration.
        const star = names.length === 0 && ft.type !== 'pointer_type' && fd.children.some((c) => c.type === '*');
        const ty = (star ? '*' : '') + this.type(ft);
        if (names.length === 0) {
          decl.embedded.push(ty);
          const base = ty.replace(/^\*/, '');
          decl.fields[base.slice(base.lastIndexOf('.') + 1)] = ty;
        }
        for (const nm of names) decl.fields[nm.text] = ty;
      }
    } else if (t.type === 'interface_type') {
      decl.methods = t.namedChildren
        .filter((c) => c.type === 'method_elem' || c.type === 'method_spec')
        .map((c) => c.childForFieldName('name')?.text ?? '')
        .filter((s) => s);
    }
    return decl;
  }

  /** Canonical type text with package qualifiers resolved to import paths. */
  type(n: SyntaxNode | null): TypeIR {
    if (!n) return '?';
    switch (n.type) {
      case 'type_identifier': {
        const name = n.text;
        return BUILTIN_TYPES.has(name) ? name : `${this.input.pkgKey}.${name}`;
      }
      case 'qualified_type': {
        const pkg = n.childForFieldName('package')?.text ?? '';
        const name = n.childForFieldName('name')?.text ?? '';
        return `${this.imports[pkg] ?? pkg}.${name}`;
      }
      case 'pointer_type':
        return '*' + this.type(first(n));
      case 'slice_type':
        return '[]' + this.type(n.childForFieldName('element'));
      case 'array_type':
        return '[]' + this.type(n.childForFieldName('element'));
      case 'generic_type':
        return this.type(n.childForFieldName('type'));
      case 'parenthesized_type':
        return this.type(first(n));
      case 'function_type': {
        const ps = this.params(n.childForFieldName('parameters')).map((p) => p.type);
        const rs = this.results(n.childForFieldName('result')).types;
        return `func(${ps.join(',')})(${rs.join(',')})`;
      }
      case 'map_type':
        return 'map';
      case 'interface_type':
        return 'interface';
      case 'struct_type':
        return 'struct';
      case 'channel_type':
        return 'chan';
      default:
        return '?';
    }
  }

  private params(list: SyntaxNode | null): ParamIR[] {
    const out: ParamIR[] = [];
    if (!list) return out;
    for (const p of list.namedChildren) {
      if (p.type !== 'parameter_declaration' && p.type !== 'variadic_parameter_declaration') continue;
      const t = this.type(p.childForFieldName('type'));
      const ty = p.type === 'variadic_parameter_declaration' ? '[]' + t : t;
      const names = p.childrenForFieldName('name');
      if (names.length === 0) out.push({ name: '', type: ty });
      for (const nm of names) out.push({ name: nm.text, type: ty });
    }
    return out;
  }

  private results(r: SyntaxNode | null): { types: TypeIR[]; names: string[] } {
    if (!r) return { types: [], names: [] };
    if (r.type === 'parameter_list') {
      const ps = this.params(r);
      return { types: ps.map((p) => p.type), names: ps.map((p) => p.name) };
    }
    return { types: [this.type(r)], names: [''] };
  }

  private funcDecl(n: SyntaxNode): FuncDeclIR | null {
    const name = n.childForFieldName('name');
    if (!name) return null;
    let recvType: string | null = null;
    let recvName = '';
    if (n.type === 'method_declaration') {
      const recv = this.params(n.childForFieldName('receiver'))[0];
      if (recv) {
        recvName = recv.name;
        const t = recv.type.replace(/^\*/, '');
        recvType = t.slice(t.lastIndexOf('.') + 1);
      }
    }
    const f = this.func(n);
    return { ...f, name: name.text, recvType, recvName };
  }

  private func(n: SyntaxNode): FuncIR {
    const params = this.params(n.childForFieldName('parameters'));
    const res = this.results(n.childForFieldName('result'));
    const body = n.childForFieldName('body');
    return { params, results: res.types, resultNames: res.names, body: body ? this.block(body) : [], loc: loc(n) };
  }

  private block(n: SyntaxNode | null): Stmt[] {
    if (!n) return [];
    const out: Stmt[] = [];
    for (const c of n.namedChildren) {
      if (c.type === 'statement_list') {
        for (const s of c.namedChildren) this.stmtInto(s, out);
      } else this.stmtInto(c, out);
    }
    return out;
  }

  private stmtInto(n: SyntaxNode, out: Stmt[]): void {
    const s = this.stmt(n);
    if (s) out.push(s);
  }

  private enter(): void {
    if (++this.depth > MAX_DEPTH) {
      this.depth = 0;
      throw new RangeError('nesting too deep');
    }
  }

  private stmt(n: SyntaxNode): Stmt | null {
    if (this.depth >= MAX_DEPTH) return null; // pathological nesting: keep the rest of the function
    this.enter();
    const saved = this.stmtLine;
    this.stmtLine = n.startPosition.row + 1;
    try {
      return this.stmtInner(n);
    } finally {
      this.stmtLine = saved;
      this.depth--;
    }
  }

  private stmtInner(n: SyntaxNode): Stmt | null {
    const line = n.startPosition.row + 1;
    switch (n.type) {
      case 'expression_statement':
        return { k: 'expr', e: this.expr(first(n)) };
      case 'short_var_declaration':
        return { k: 'assign', op: ':=', l: this.exprList(n.childForFieldName('left')), r: this.exprList(n.childForFieldName('right')), line };
      case 'assignment_statement': {
        const op = n.childForFieldName('operator')?.text ?? n.children.find((c) => !c.isNamed && /=$/.test(c.type))?.type ?? '=';
        return { k: 'assign', op, l: this.exprList(n.childForFieldName('left')), r: this.exprList(n.childForFieldName('right')), line };
      }
      case 'var_declaration': {
        const stmts: Stmt[] = [];
        for (const spec of varSpecs(n)) {
          const names = specNames(spec).map((c) => ({ k: 'id', n: c.text }) as Expr);
          const t = spec.childForFieldName('type');
          stmts.push({ k: 'assign', op: 'var', l: names, r: this.exprList(spec.childForFieldName('value')), t: t ? this.type(t) : '', line });
        }
        return stmts.length === 1 ? stmts[0]! : { k: 'block', b: stmts };
      }
      case 'const_declaration': {
        const stmts: Stmt[] = [];
        for (const spec of n.namedChildren) {
          if (spec.type !== 'const_spec') continue;
          const names = specNames(spec).map((c) => ({ k: 'id', n: c.text }) as Expr);
          stmts.push({ k: 'assign', op: 'var', l: names, r: this.exprList(spec.childForFieldName('value')), t: '', line });
        }
        return { k: 'block', b: stmts };
      }
      case 'if_statement': {
        const init = n.childForFieldName('initializer');
        const alt = n.childForFieldName('alternative');
        return {
          k: 'if',
          init: init ? nonNull([this.stmt(init)]) : [],
          c: this.expr(n.childForFieldName('condition')),
          t: this.block(n.childForFieldName('consequence')),
          e: alt ? (alt.type === 'block' ? this.block(alt) : nonNull([this.stmt(alt)])) : null,
        };
      }
      case 'for_statement': {
        const body = this.block(n.childForFieldName('body'));
        const clause = n.namedChildren.find((c) => c.type === 'for_clause' || c.type === 'range_clause');
        if (clause?.type === 'range_clause') {
          const left = this.exprList(clause.childForFieldName('left'));
          const op = clause.children.find((c) => c.type === ':=' || c.type === '=');
          return {
            k: 'for',
            init: [],
            post: [],
            body,
            range: { key: left[0] ?? null, val: left[1] ?? null, x: this.expr(clause.childForFieldName('right')), define: op?.type === ':=' },
          };
        }
        const init = clause?.childForFieldName('initializer');
        const post = clause?.childForFieldName('update');
        return { k: 'for', init: init ? nonNull([this.stmt(init)]) : [], post: post ? nonNull([this.stmt(post)]) : [], body };
      }
      case 'expression_switch_statement':
      case 'type_switch_statement':
      case 'select_statement': {
        const init = n.childForFieldName('initializer');
        const cases: Stmt[][] = [];
        let exhaustive = false;
        for (const c of n.namedChildren) {
          if (!/case|default_case|communication_case/.test(c.type)) continue;
          if (c.type === 'default_case') exhaustive = true;
          const body: Stmt[] = [];
          for (const s of c.namedChildren) {
            if (c.childrenForFieldName('value').some((v) => v.id === s.id)) continue;
            if (s.type === 'statement_list') for (const s2 of s.namedChildren) this.stmtInto(s2, body);
            else if (isStatement(s)) this.stmtInto(s, body);
          }
          cases.push(body);
        }
        const value = n.type === 'expression_switch_statement' ? n.childForFieldName('value') : null;
        return { k: 'switch', init: init ? nonNull([this.stmt(init)]) : [], tag: value ? this.expr(value) : null, cases, exhaustive };
      }
      case 'return_statement': {
        const list = first(n);
        return { k: 'ret', v: list ? this.exprList(list) : [], line };
      }
      case 'block':
        return { k: 'block', b: this.block(n) };
      case 'labeled_statement': {
        const inner = syntax(n).find((c) => c.type !== 'label_name');
        return inner ? this.stmt(inner) : null;
      }
      case 'defer_statement':
        return { k: 'defer', e: this.expr(first(n)) };
      case 'go_statement':
        return { k: 'expr', e: this.expr(first(n)) };
      case 'inc_statement':
      case 'dec_statement':
      case 'send_statement':
      case 'empty_statement':
      case 'break_statement':
      case 'continue_statement':
      case 'goto_statement':
      case 'fallthrough_statement':
      case 'comment':
        return null;
      case 'ERROR': {
        // Recover what we can: the statements and expressions tree-sitter still recognised inside the error.
        const b: Stmt[] = [];
        for (const c of n.namedChildren) {
          if (isStatement(c)) this.stmtInto(c, b);
          else if (c.type === 'call_expression') b.push({ k: 'expr', e: this.expr(c) });
        }
        return b.length ? { k: 'block', b } : null;
      }
      default:
        if (n.type.endsWith('_expression')) return { k: 'expr', e: this.expr(n) };
        return null;
    }
  }

  exprList(n: SyntaxNode | null): Expr[] {
    if (!n) return [];
    if (n.type === 'expression_list') return syntax(n).map((c) => this.expr(c));
    return [this.expr(n)];
  }

  expr(n: SyntaxNode | null): Expr {
    if (!n || this.depth >= MAX_DEPTH) return { k: 'unk' };
    this.enter();
    try {
      return this.exprInner(n);
    } finally {
      this.depth--;
    }
  }

  private exprInner(n: SyntaxNode): Expr {
    switch (n.type) {
      case 'interpreted_string_literal':
      case 'raw_string_literal': {
        const v = stringValue(n);
        return v === null ? { k: 'unk' } : { k: 'str', v };
      }
      case 'int_literal':
      case 'float_literal':
      case 'rune_literal':
      case 'true':
      case 'false':
      case 'nil':
      case 'iota':
        return { k: 'lit', v: n.text };
      case 'identifier':
      case 'field_identifier':
      case 'package_identifier':
      case 'type_identifier':
        return { k: 'id', n: n.text };
      case 'selector_expression':
        return { k: 'sel', x: this.expr(n.childForFieldName('operand')), n: n.childForFieldName('field')?.text ?? '' };
      case 'parenthesized_expression':
        return this.expr(first(n));
      case 'call_expression': {
        const fnode = n.childForFieldName('function');
        const args = n.childForFieldName('arguments');
        const argNodes = args ? syntax(args) : [];
        const a: Expr[] = [];
        const at: string[] = [];
        for (const c of argNodes) {
          // `new(T)` / `make([]T, n)` put a type in the argument list.
          // `new(T)` / `make([]T, n)` put a type in the argument list: keep the type.
          a.push(c.type.endsWith('_type') || c.type === 'type_identifier' ? { k: 'conv', t: this.type(c), x: { k: 'unk' } } : this.expr(c));
          at.push(clip(c.text));
        }
        const dots = args?.children.some((c) => c.type === '...') ?? false;
        const call: Expr = {
          k: 'call',
          f: this.expr(fnode),
          a,
          loc: loc(n),
          sl: this.stmtLine || n.startPosition.row + 1,
          txt: clip(fnode?.text ?? ''),
          at,
        };
        if (dots) call.dots = true;
        return call;
      }
      case 'binary_expression': {
        // Long `a + b + c + ...` chains (generated SQL) nest thousands deep on the left: walk the spine
        // iteratively so depth limits never cut the head of the text.
        if (n.childForFieldName('operator')?.text === '+') {
          const rights: SyntaxNode[] = [];
          let cur: SyntaxNode = n;
          while (cur.type === 'binary_expression' && cur.childForFieldName('operator')?.text === '+') {
            const r = cur.childForFieldName('right');
            if (r) rights.push(r);
            const l = cur.childForFieldName('left');
            if (!l) break;
            cur = l;
          }
          let acc = this.expr(cur);
          for (let i = rights.length - 1; i >= 0; i--) acc = { k: 'bin', op: '+', l: acc, r: this.expr(rights[i]!) };
          return acc;
        }
        return {
          k: 'bin',
          op: n.childForFieldName('operator')?.text ?? '',
          l: this.expr(n.childForFieldName('left')),
          r: this.expr(n.childForFieldName('right')),
        };
      }
      case 'unary_expression':
        return { k: 'un', op: n.childForFieldName('operator')?.text ?? '', x: this.expr(n.childForFieldName('operand')) };
      case 'func_literal':
        return { k: 'fn', f: this.func(n) };
      case 'composite_literal': {
        const body = n.childForFieldName('body');
        const el: Expr[] = [];
        const kv: Array<[string, Expr]> = [];
        for (const e of body?.namedChildren ?? []) {
          if (e.type === 'keyed_element') {
            const [k, v] = syntax(e);
            const keyNode = k?.type === 'literal_element' ? first(k) : k;
            const valNode = v?.type === 'literal_element' ? first(v) : v;
            kv.push([keyNode?.text ?? '', this.expr(valNode ?? null)]);
          } else if (e.type === 'literal_element') el.push(this.expr(first(e)));
          else if (e.type !== 'comment') el.push(this.expr(e));
        }
        return { k: 'comp', t: this.type(n.childForFieldName('type')), el, kv, loc: loc(n) };
      }
      case 'literal_value':
        return {
          k: 'comp',
          t: '?',
          el: syntax(n).map((c) => this.expr(c.type === 'literal_element' ? first(c) : c)),
          kv: [],
          loc: loc(n),
        };
      case 'index_expression':
        return { k: 'idx', x: this.expr(n.childForFieldName('operand')), i: this.expr(n.childForFieldName('index')) };
      case 'slice_expression':
        return { k: 'idx', x: this.expr(n.childForFieldName('operand')), i: { k: 'unk' } };
      case 'type_assertion_expression':
        return { k: 'conv', t: this.type(n.childForFieldName('type')), x: this.expr(n.childForFieldName('operand')) };
      case 'type_conversion_expression':
        return { k: 'conv', t: this.type(n.childForFieldName('type')), x: this.expr(n.childForFieldName('operand')) };
      default:
        return { k: 'unk' };
    }
  }
}

const BUILTIN_TYPES = new Set([
  'string', 'bool', 'byte', 'rune', 'int', 'int8', 'int16', 'int32', 'int64', 'uint', 'uint8', 'uint16', 'uint32',
  'uint64', 'uintptr', 'float32', 'float64', 'complex64', 'complex128', 'error', 'any',
]);

/**
 * The named children that are syntax, not comments: a comment can sit between any two tokens (after `return`,
 * between a key and its colon), and both parsers keep it as a named child of the innermost node around it.
 */
function syntax(n: SyntaxNode): readonly SyntaxNode[] {
  const kids = n.namedChildren;
  return kids.some((c) => c.type === 'comment') ? kids.filter((c) => c.type !== 'comment') : kids;
}

/** The first named child that is syntax (see `syntax`). */
function first(n: SyntaxNode): SyntaxNode | null {
  for (const c of n.namedChildren) if (c.type !== 'comment') return c;
  return null;
}

function nonNull<T>(xs: Array<T | null>): T[] {
  return xs.filter((x): x is T => x !== null);
}

function isStatement(n: SyntaxNode): boolean {
  return n.type.endsWith('_statement') || n.type.endsWith('_declaration') || n.type === 'block';
}

/**
 * The names a const or var spec declares. tree-sitter-go puts the field on the whole `a, b` sequence, commas
 * included, so the anonymous commas are dropped here.
 */
function specNames(spec: SyntaxNode): SyntaxNode[] {
  return spec.childrenForFieldName('name').filter((c) => c.isNamed);
}

function varSpecs(n: SyntaxNode): SyntaxNode[] {
  const out: SyntaxNode[] = [];
  for (const c of n.namedChildren) {
    if (c.type === 'var_spec') out.push(c);
    else if (c.type === 'var_spec_list') out.push(...c.namedChildren.filter((s) => s.type === 'var_spec'));
  }
  return out;
}

function descendantsOfType(n: SyntaxNode, type: string): SyntaxNode[] {
  return n.descendantsOfType(type);
}

/** The value of a Go string literal node, or null when it is malformed. */
function stringValue(n: SyntaxNode): string | null {
  const t = n.text;
  if (n.type === 'raw_string_literal') {
    if (t.length < 2 || !t.startsWith('`')) return null;
    return t.slice(1, t.endsWith('`') ? -1 : undefined).replace(/\r/g, '');
  }
  if (t.length < 2 || !t.startsWith('"')) return null;
  return decodeGoString(t.slice(1, t.endsWith('"') ? -1 : undefined));
}

function defaultImportName(path: string): string {
  const segs = path.split('/');
  let last = segs[segs.length - 1] ?? path;
  // Major-version suffixes (".../pgx/v5") name the package by the element before them.
  if (/^v\d+$/.test(last) && segs.length > 1) last = segs[segs.length - 2]!;
  if (last.startsWith('go-')) last = last.slice(3);
  return last.replace(/[.-]/g, '_');
}
