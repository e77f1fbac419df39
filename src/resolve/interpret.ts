// Pass 1: interpret each function's body over abstract values, flow-sensitively (branches are explored
// separately and merged; loops run once or not at all). Records facts, symbolic where they depend on the rest of
// the program: SQL-running calls (raw sites), calls into the tree, field and package-variable assignments,
// returns, invocations of function-typed parameters. solve.ts resolves the symbols over the whole program.
import type { Evidence, Span } from '../model.js';
import { UNLOADED_BODY, type Expr, type FileIR, type FuncIR, type Loc, type Stmt } from '../go/ir.js';
import { own, record } from '../records.js';
import { classifySql } from '../sql/index.js';
import { BEGIN_METHODS, CONN_METHODS, POOL_OPENERS, PREPARE_METHODS, SQL_METHODS } from './drivers.js';
import type { FuncInfo, PackageInfo, Program } from './program.js';
import { asParts, concat, hole, mkStr, str, union, withSetting, type Part, type Val } from './values.js';

export interface RawSite {
  owner: string;
  ownerName: string;
  pkg: PackageInfo;
  file: FileIR;
  loc: Loc;
  sl: number;
  method: string;
  receiver: string;
  recv: Val[];
  /** Possible SQL texts (string values). For CopyFrom: the table identifier parts. */
  sql: Val[];
  kind: 'sql' | 'copyfrom' | 'queue';
  batch?: string;
}

export interface RawCall {
  caller: string;
  callerName: string;
  pkg: PackageInfo;
  file: FileIR;
  loc: Loc;
  sl: number;
  callee: string;
  calleeText: string;
  args: Val[][];
  argText: string[];
}

export interface Facts {
  sites: RawSite[];
  /** The same call reached twice (a loop body interpreted twice, a deferred call): one site, values merged. */
  siteIndex: Map<string, RawSite>;
  calls: RawCall[];
  /** field key (`TypeId.field`) -> values assigned anywhere */
  fields: Map<string, { vals: Val[]; where: Evidence[] }>;
  gvars: Map<string, { vals: Val[]; where: Evidence[] }>;
  returns: Map<string, Val[][]>;
  /** `fnId#k` -> argument tuples the function passes when it calls its k-th (function-typed) parameter */
  invocations: Map<string, Val[][][]>;
  /** `fnId#k` -> [calleeId, m]: the function hands its k-th parameter on to calleeId's m-th parameter */
  forwards: Map<string, Array<[string, number]>>;
  /** batch id -> handles SendBatch ran it on */
  batches: Map<string, Val[]>;
  /** fnId -> param index -> settings the function sets transaction-locally on that parameter */
  setters: Map<string, Map<number, string[]>>;
}

/** Read access to setter summaries: the only thing a function's facts take from other functions' facts. */
export interface SetterLookup {
  get(fnId: string): ReadonlyMap<number, string[]> | undefined;
}

export interface InterpretOptions {
  adminOpeners: Set<string>;
}

export function emptyFacts(): Facts {
  return { sites: [], siteIndex: new Map(), calls: [], fields: new Map(), gvars: new Map(), returns: new Map(), invocations: new Map(), forwards: new Map(), batches: new Map(), setters: new Map() };
}

interface Binding {
  vals: Val[];
  type: string;
}

const NO_OVERLAYS: Scope[] = [];

/**
 * A lexical scope. Branches do not copy the scope chain: each alternative runs in an overlay scope that records
 * its writes to enclosing variables (keyed by the scope that declares them), and the writes of all alternatives
 * are merged afterwards. Cost is proportional to what a branch assigns, not to everything in scope.
 */
class Scope {
  vars = new Map<string, Binding>();
  /** Set on an overlay scope: assignments to variables of enclosing scopes made while it is active. */
  readonly writes: Map<Scope, Map<string, Binding>> | null;
  constructor(
    readonly parent: Scope | null,
    overlay = false,
  ) {
    this.writes = overlay ? new Map() : null;
  }

  /** The defining scope of `n` and the innermost overlay between here and it (null: none). */
  private find(n: string): { def: Scope; overlays: Scope[] } | null {
    let overlays: Scope[] | null = null; // allocated only under a branch
    for (let s: Scope | null = this; s; s = s.parent) {
      if (s.vars.has(n)) return { def: s, overlays: overlays ?? NO_OVERLAYS };
      if (s.writes) (overlays ??= []).push(s);
    }
    return null;
  }

  private static read(def: Scope, n: string, overlays: Scope[]): Binding | undefined {
    for (const o of overlays) {
      const b = o.writes!.get(def)?.get(n);
      if (b) return b;
    }
    return def.vars.get(n);
  }

  lookup(n: string): Binding | undefined {
    const f = this.find(n);
    return f ? Scope.read(f.def, n, f.overlays) : undefined;
  }

  /** Assign to the nearest definition; returns false when the name is not a local. */
  assign(n: string, b: Binding): boolean {
    const f = this.find(n);
    if (!f) return false;
    Scope.write(f.def, n, b, f.overlays);
    return true;
  }

  private static write(def: Scope, n: string, b: Binding, overlays: Scope[]): void {
    const o = overlays[0];
    if (!o) {
      def.vars.set(n, b);
      return;
    }
    let m = o.writes!.get(def);
    if (!m) o.writes!.set(def, (m = new Map()));
    m.set(n, b);
  }

  /** The overlays between this scope and `def` (an ancestor), innermost first. */
  private overlaysUpTo(def: Scope): Scope[] {
    const out: Scope[] = [];
    for (let s: Scope | null = this; s && s !== def; s = s.parent) if (s.writes) out.push(s);
    return out;
  }

  /** Merge the writes of alternative overlays (children of this scope) into what this scope sees. */
  mergeOverlays(alts: Scope[]): void {
    const keys = new Map<Scope, Set<string>>();
    for (const o of alts) {
      for (const [def, m] of o.writes!) {
        let set = keys.get(def);
        if (!set) keys.set(def, (set = new Set()));
        for (const n of m.keys()) set.add(n);
      }
    }
    for (const [def, names] of keys) {
      const overlays = this.overlaysUpTo(def);
      for (const n of names) {
        const before = Scope.read(def, n, overlays);
        const seen = alts.map((o) => o.writes!.get(def)?.get(n) ?? before).filter((x): x is Binding => !!x);
        if (!seen.length) continue;
        Scope.write(def, n, { vals: union(...seen.map((x) => x.vals)), type: seen.find((x) => x.type)?.type ?? '' }, overlays);
      }
    }
  }
}

interface Frame {
  /** Deferred calls, run in reverse order when the body ends. */
  defers: Expr[];
  /** Named function owning the code (closures report as their enclosing function). */
  owner: FuncInfo;
  /** Id whose params/returns these are (the named function, or a closure id). */
  fnId: string;
  isLit: boolean;
  resultNames: string[];
}

const MAX_LIT_DEPTH = 8;

export class Interpreter {
  private frame!: Frame;
  private scope!: Scope;
  private litDepth = 0;
  private boundCounter = 0;
  private loopDepth = 0;
  private litCounter = 0;
  private litIds = new WeakMap<FuncIR, string>();

  constructor(
    private readonly program: Program,
    private facts: Facts,
    private readonly opts: InterpretOptions,
    /** Setter summaries from the previous round (functions that set a scope setting on a parameter). */
    private readonly setters: SetterLookup,
  ) {}

  run(info: FuncInfo): void {
    this.frame = { owner: info, fnId: info.id, isLit: false, resultNames: info.decl.resultNames, defers: [] };
    this.scope = new Scope(null);
    this.litCounter = 0;
    const d = info.decl;
    if (d.recvType && d.recvName) {
      const t = `${info.pkg.key}.${d.recvType}`;
      this.scope.vars.set(d.recvName, { vals: [{ t: 'unknown', type: t, why: 'receiver' }], type: t });
    }
    d.params.forEach((p, i) => {
      if (p.name && p.name !== '_') this.scope.vars.set(p.name, { vals: [this.paramVal(info.id, i, p.type, p.name)], type: p.type });
    });
    d.resultNames.forEach((n, i) => {
      if (n) this.scope.vars.set(n, { vals: [], type: d.results[i] ?? '' });
    });
    this.exits = new Map();
    if (d.body === UNLOADED_BODY) throw new Error(`the body of ${info.name} was not read from the cache`);
    try {
      this.block(d.body);
      this.runDefers();
      this.noteExit();
      for (const [i, settings] of this.exits) if (settings.length) this.addSetter(info.id, i, settings);
      this.finishLits();
    } catch (e) {
      if (!(e instanceof RangeError)) throw e;
      this.pendingLits.clear();
      this.analysedLits.clear();
    }
  }

  /** Package-level `var x = ...` initialisers, recorded as assignments of the variable. */
  runVarInit(pkg: PackageInfo, name: string): void {
    const v = pkg.vars.get(name);
    if (!v?.v) return;
    const owner: FuncInfo = {
      // One per file: each file's variables are interpreted with that file, so ids made from this one (its function
      // literals') must tell files apart.
      id: `${pkg.key}.<vars>@${v.file.path}`,
      name: '<package vars>',
      pkg,
      file: v.file,
      decl: { params: [], results: [], resultNames: [], body: [], loc: [v.line, 1, v.line, 1], name: '<vars>', recvType: null, recvName: '' },
    };
    this.frame = { owner, fnId: owner.id, isLit: false, resultNames: [], defers: [] };
    this.scope = new Scope(null);
    const b = this.eval(v.v);
    this.recordAssign(this.facts.gvars, `${pkg.key}.${name}#init`, b.vals, v.line);
    this.finishLits();
  }

  private paramVal(fn: string, i: number, type: string, name: string): Val {
    if (type === 'string') return { t: 'str', parts: [{ hole: `parameter ${name}`, param: { fn, i } }] };
    // A batch filled here and sent by a caller: its handle is whatever the callers' batches are sent on.
    if (/pgx\/v\d+\.Batch$/.test(type)) return { t: 'batch', id: `param:${fn}#${i}` };
    return { t: 'param', fn, i, type, name, settings: [] };
  }

  // ------------------------------------------------------------------ statements

  private block(stmts: Stmt[]): void {
    for (const s of stmts) this.stmt(s);
  }

  private inChildScope(fn: () => void): void {
    const saved = this.scope;
    this.scope = new Scope(saved);
    try {
      fn();
    } finally {
      this.scope = saved;
    }
  }

  /** Runs alternative branches from the same state and merges their results into the current scope. */
  private branches(alts: Array<(() => void) | null>): void {
    const base = this.scope;
    const overlays: Scope[] = [];
    try {
      for (const alt of alts) {
        const o = new Scope(base, true);
        if (alt) {
          this.scope = o;
          this.inChildScope(alt);
        }
        overlays.push(o);
      }
    } finally {
      this.scope = base;
    }
    base.mergeOverlays(overlays);
  }

  private stmt(s: Stmt): void {
    switch (s.k) {
      case 'expr':
        this.eval(s.e);
        return;
      case 'defer':
        // Runs when the function returns: after everything the body does from here on.
        this.frame.defers.push(s.e);
        return;
      case 'assign':
        this.assign(s);
        return;
      case 'block':
        this.inChildScope(() => this.block(s.b));
        return;
      case 'if':
        this.inChildScope(() => {
          this.block(s.init);
          this.eval(s.c);
          this.branches([() => this.block(s.t), s.e ? () => this.block(s.e!) : null]);
        });
        return;
      case 'for':
        this.inChildScope(() => {
          this.block(s.init);
          const body = (): void => {
            if (s.range) {
              const xs = this.eval(s.range.x);
              const items: Val[] = [];
              for (const v of xs.vals) {
                if (v.t === 'list') items.push(...v.items);
                else if (v.t === 'str') items.push(v);
              }
              const bind = (e: Expr | null, vals: Val[], type: string): void => {
                if (e?.k === 'id' && e.n !== '_') {
                  if (s.range!.define) this.scope.vars.set(e.n, { vals, type });
                  else this.setLocal(e.n, { vals, type });
                }
              };
              bind(s.range.key, [], 'int');
              bind(s.range.val, items.length ? union(items) : [], xs.type.startsWith('[]') ? xs.type.slice(2) : '');
            }
            this.block(s.body);
            this.block(s.post);
          };
          // Zero, one or (for loop-carried state such as a transaction re-begun every N rows) two iterations;
          // nested loops beyond three levels run once, to stay linear.
          const twice = (): void => {
            body();
            if (this.loopDepth < 3) body();
          };
          this.loopDepth++;
          try {
            this.branches([twice, null]);
          } finally {
            this.loopDepth--;
          }
        });
        return;
      case 'switch':
        this.inChildScope(() => {
          this.block(s.init);
          if (s.tag) this.eval(s.tag);
          const alts: Array<(() => void) | null> = s.cases.map((c) => () => this.block(c));
          if (!s.exhaustive) alts.push(null);
          this.branches(alts);
        });
        return;
      case 'ret': {
        const vals = s.v.length === 1 && this.frame.resultNames.length > 1 ? this.evalMulti(s.v[0]!, this.frame.resultNames.length) : s.v.map((e) => this.eval(e));
        if (s.v.length === 0) {
          const named = this.frame.resultNames.map((n) => (n ? this.scope.lookup(n)?.vals ?? [] : []));
          this.recordReturn(named);
        } else this.recordReturn(vals.map((v) => v.vals));
        return;
      }
    }
  }

  private runDefers(): void {
    const ds = this.frame.defers.splice(0).reverse();
    for (const e of ds) this.eval(e);
  }

  /**
   * At each exit of a named function: the settings each parameter carries there. A function is a setter for a
   * parameter (a helper that scopes the transaction it is given) only for the settings it sets on every path.
   */
  private noteExit(): void {
    if (this.frame.isLit) return;
    const d = this.frame.owner.decl;
    d.params.forEach((p, i) => {
      if (!p.name || p.name === '_' || p.type === 'string') return;
      const b = this.scope.lookup(p.name);
      const mine = b?.vals.filter((v): v is Extract<Val, { t: 'param' }> => v.t === 'param' && v.fn === this.frame.fnId && v.i === i) ?? [];
      const here = mine.length ? mine.map((v) => v.settings).reduce((a, x) => a.filter((s) => x.includes(s))) : [];
      const prev = this.exits.get(i);
      this.exits.set(i, prev ? prev.filter((s) => here.includes(s)) : here);
    });
  }

  private exits = new Map<number, string[]>();

  private recordReturn(vals: Val[][]): void {
    this.noteExit();
    if (this.frame.isLit) return;
    const prev = this.facts.returns.get(this.frame.fnId) ?? [];
    const next = vals.map((v, i) => union(prev[i] ?? [], v));
    this.facts.returns.set(this.frame.fnId, next);
  }

  private setLocal(n: string, b: Binding): void {
    if (!this.scope.assign(n, b)) this.scope.vars.set(n, b);
  }

  private assign(s: Extract<Stmt, { k: 'assign' }>): void {
    let rhs: Binding[];
    if (s.r.length === 1 && s.l.length > 1) rhs = this.evalMulti(s.r[0]!, s.l.length);
    else rhs = s.r.map((e) => this.eval(e));
    s.l.forEach((lhs, i) => {
      let b = rhs[i] ?? { vals: [], type: '' };
      if (s.op === 'var' && s.t) b = { vals: b.vals.length ? b.vals : this.zeroOf(s.t, s.line), type: s.t };
      if (s.op === '+=') {
        const cur = this.eval(lhs);
        b = { vals: concat(cur.vals, b.vals, 'earlier text', 'appended text'), type: 'string' };
      }
      this.store(lhs, b, s.op === ':=' || s.op === 'var', s.line);
    });
  }

  private zeroOf(t: string, line = 0): Val[] {
    if (t === 'string' || TEXT_BUFFER.test(t)) return [str('')];
    if (/pgx\/v\d+\.Batch$/.test(t)) return [{ t: 'batch', id: `batch@${this.frame.owner.file.path}:${line}` }];
    return [];
  }

  private store(lhs: Expr, b: Binding, define: boolean, line: number): void {
    if (lhs.k === 'id') {
      if (lhs.n === '_') return;
      if (define) {
        // `a, err := ...` re-assigns names already declared in the same scope.
        if (this.scope.vars.has(lhs.n) || !this.scope.lookup(lhs.n)) this.scope.vars.set(lhs.n, b);
        else this.scope.vars.set(lhs.n, b);
        return;
      }
      if (this.scope.assign(lhs.n, b)) return;
      const pv = this.frame.owner.pkg.vars.get(lhs.n);
      if (pv) this.recordAssign(this.facts.gvars, `${this.frame.owner.pkg.key}.${lhs.n}`, b.vals, line);
      return;
    }
    if (lhs.k === 'sel') {
      // pkg.Var = v
      const imp = lhs.x.k === 'id' && !this.scope.lookup(lhs.x.n) ? own(this.frame.owner.file.imports, lhs.x.n) : undefined;
      if (imp) {
        const pkg = this.program.packageForImport(imp);
        if (pkg) this.recordAssign(this.facts.gvars, `${pkg.key}.${lhs.n}`, b.vals, line);
        return;
      }
      const base = this.eval(lhs.x);
      const owner = this.fieldOwner(base.type, lhs.n);
      if (owner) this.recordAssign(this.facts.fields, `${owner}.${lhs.n}`, b.vals, line);
      for (const v of base.vals) if (v.t === 'obj') v.fields[lhs.n] = b.vals;
    }
  }

  private recordAssign(map: Map<string, { vals: Val[]; where: Evidence[] }>, k: string, vals: Val[], line: number): void {
    const builders = vals.filter((v): v is Extract<Val, { t: 'builder' }> => v.t === 'builder');
    if (builders.length && builders.some((b) => b.runWith.length)) this.recordAssign(map, `${k}#runWith`, union(...builders.map((b) => b.runWith)), line);
    const prev = map.get(k) ?? { vals: [], where: [] };
    const span = this.span([line, 1, line, 1]);
    map.set(k, { vals: union(prev.vals, vals.length ? vals : [{ t: 'unknown', type: '', why: 'an expression rlscov cannot follow' }]), where: [...prev.where, { message: 'assigned here', span }].slice(0, 8) });
  }

  private fieldOwner(type: string, field: string): string | null {
    const ft = this.program.fieldType(type, field);
    return ft ? ft.owner : null;
  }

  // ------------------------------------------------------------------ expressions

  private span(l: Loc): Span {
    return { file: this.frame.owner.file.path, start: { line: l[0], column: l[1] }, end: { line: l[2], column: l[3] } };
  }

  private evalMulti(e: Expr, n: number): Binding[] {
    if (e.k === 'call') {
      const r = this.call(e);
      return Array.from({ length: n }, (_, i) => r[i] ?? { vals: [], type: '' });
    }
    if (e.k === 'idx' || e.k === 'conv' || e.k === 'un') {
      // v, ok := m[k] / x.(T) / <-ch
      const b = this.eval(e);
      return [b, ...Array.from({ length: n - 1 }, () => ({ vals: [], type: 'bool' }))];
    }
    return Array.from({ length: n }, (_, i) => (i === 0 ? this.eval(e) : { vals: [], type: '' }));
  }

  eval(e: Expr): Binding {
    switch (e.k) {
      case 'str':
        return { vals: [str(e.v)], type: 'string' };
      case 'lit':
        return { vals: [str(e.v)], type: '' };
      case 'id':
        return this.ident(e.n);
      case 'sel':
        return this.selector(e);
      case 'call':
        return this.call(e)[0] ?? { vals: [], type: '' };
      case 'bin': {
        if (e.op === '+' && e.l.k === 'bin' && e.l.op === '+') {
          // Evaluate a long left-nested chain iteratively.
          const leaves: Expr[] = [];
          let cur: Expr = e;
          while (cur.k === 'bin' && cur.op === '+') {
            leaves.push(cur.r);
            cur = cur.l;
          }
          leaves.push(cur);
          leaves.reverse();
          let acc = this.eval(leaves[0]!);
          for (const leaf of leaves.slice(1)) {
            const r = this.eval(leaf);
            if (acc.type === 'string' || r.type === 'string' || acc.vals.some((v) => v.t === 'str') || r.vals.some((v) => v.t === 'str')) {
              acc = { vals: concat(acc.vals, r.vals, 'a value rlscov cannot follow', 'a value rlscov cannot follow'), type: 'string' };
            } else acc = { vals: [], type: acc.type };
          }
          return acc;
        }
        const l = this.eval(e.l);
        const r = this.eval(e.r);
        if (e.op === '+' && (l.type === 'string' || r.type === 'string' || l.vals.some((v) => v.t === 'str') || r.vals.some((v) => v.t === 'str'))) {
          return { vals: concat(l.vals, r.vals, 'a value rlscov cannot follow', 'a value rlscov cannot follow'), type: 'string' };
        }
        return { vals: [], type: /^(==|!=|<|>|<=|>=|&&|\|\|)$/.test(e.op) ? 'bool' : l.type };
      }
      case 'un': {
        const x = this.eval(e.x);
        if (e.op === '&') return { vals: x.vals, type: x.type ? '*' + x.type : '' };
        if (e.op === '*') return { vals: x.vals, type: x.type.replace(/^\*/, '') };
        return { vals: [], type: x.type };
      }
      case 'fn': {
        const id = this.litId(e.f);
        this.pendingLits.set(id, { f: e.f, scope: this.scope, frame: this.frame });
        return { vals: [{ t: 'fnlit', id }], type: 'func' };
      }
      case 'comp':
        return this.composite(e);
      case 'idx': {
        const x = this.eval(e.x);
        const key = this.eval(e.i);
        // A literal key of a map literal picks its entry; any other key, every entry.
        const k = key.vals.length === 1 && key.vals[0]!.t === 'str' && key.vals[0]!.parts.length === 1 && typeof key.vals[0]!.parts[0] === 'string' ? key.vals[0]!.parts[0] : null;
        const items: Val[] = [];
        for (const v of x.vals) {
          if (v.t === 'list') items.push(...v.items);
          else if (v.t === 'obj' && v.type === 'map') items.push(...((k !== null ? own(v.fields, k) : undefined) ?? Object.values(v.fields).flat()));
        }
        return { vals: union(items), type: x.type.startsWith('[]') ? x.type.slice(2) : '' };
      }
      case 'conv': {
        const x = this.eval(e.x);
        return { vals: x.vals, type: e.t };
      }
      case 'unk':
        return { vals: [], type: '' };
    }
  }

  private litId(f: FuncIR): string {
    let id = this.litIds.get(f);
    if (!id) {
      id = `${this.frame.owner.id}$lit${this.litCounter++}@${f.loc[0]}:${f.loc[1]}`;
      this.litIds.set(f, id);
    }
    return id;
  }

  private pendingLits = new Map<string, { f: FuncIR; scope: Scope; frame: Frame }>();
  private analysedLits = new Set<string>();

  /** Analyse a function literal with its parameters bound to `args`. */
  private runLit(id: string, args: Array<{ vals: Val[]; type?: string }>): void {
    const lit = this.pendingLits.get(id);
    if (!lit || this.litDepth >= MAX_LIT_DEPTH) return;
    this.analysedLits.add(id);
    const savedScope = this.scope;
    const savedFrame = this.frame;
    this.litDepth++;
    try {
      this.scope = new Scope(lit.scope);
      this.frame = { owner: lit.frame.owner, fnId: id, isLit: true, resultNames: lit.f.resultNames, defers: [] };
      lit.f.params.forEach((p, i) => {
        if (p.name && p.name !== '_') this.scope.vars.set(p.name, { vals: args[i]?.vals ?? [], type: p.type });
      });
      this.block(lit.f.body);
      this.runDefers();
    } finally {
      this.litDepth--;
      this.scope = savedScope;
      this.frame = savedFrame;
    }
  }

  /** Literals never passed anywhere we understand (stored in a struct, returned): analyse with unknown params. */
  finishLits(): void {
    for (const [id, lit] of this.pendingLits) {
      if (this.analysedLits.has(id)) continue;
      this.frame = lit.frame;
      this.runLit(
        id,
        lit.f.params.map((p) => ({ vals: [{ t: 'unknown', type: p.type, why: 'a parameter of a function literal whose caller rlscov cannot see' } as Val] })),
      );
    }
    this.pendingLits.clear();
    this.analysedLits.clear();
  }

  private ident(n: string): Binding {
    const b = this.scope.lookup(n);
    if (b) return b;
    return this.packageMember(this.frame.owner.pkg, n);
  }

  private constStack = new Set<string>();

  /**
   * Evaluates a package-level initialiser (a constant, a variable's initial value) where Go does: in its own
   * package and file, with no locals in scope, whichever function reads it.
   */
  private inPackageOf<T>(pkg: PackageInfo, file: FileIR, run: () => T): T {
    const savedFrame = this.frame;
    const savedScope = this.scope;
    const owner: FuncInfo =
      pkg === this.frame.owner.pkg
        ? { ...this.frame.owner, file }
        : { id: `${pkg.key}.<package>`, name: '<package initialisers>', pkg, file, decl: { params: [], results: [], resultNames: [], body: [], loc: [1, 1, 1, 1], name: '<package>', recvType: null, recvName: '' } };
    this.frame = { ...this.frame, owner };
    this.scope = new Scope(null);
    try {
      return run();
    } finally {
      this.frame = savedFrame;
      this.scope = savedScope;
    }
  }

  private packageMember(pkg: PackageInfo, n: string): Binding {
    const k = `${pkg.key}.${n}`;
    const c = pkg.consts.get(n);
    if (c) {
      if (this.constStack.has(k)) return { vals: [hole(`constant ${n}`)], type: 'string' };
      this.constStack.add(k);
      try {
        const r = this.inPackageOf(pkg, c.file, () => this.eval(c.e));
        return { vals: r.vals, type: r.type || 'string' };
      } finally {
        this.constStack.delete(k);
      }
    }
    const v = pkg.vars.get(n);
    if (v) {
      const vals: Val[] = [{ t: 'gvar', key: k, type: v.t, settings: [] }];
      // A package var initialised with a string is also read as that string.
      // A package var initialised with a string or a literal list is also read as that value (table lists of
      // tenant-delete cascades live in package vars).
      // So is a package-level query builder (`var psql = sq.StatementBuilder.PlaceholderFormat(sq.Dollar)`).
      // Evaluated against scratch facts: reading a variable must not record its initialiser's calls again.
      const init = v.v;
      if (init && !this.constStack.has(k) && (init.k === 'str' || init.k === 'bin' || init.k === 'call' || init.k === 'sel' || (init.k === 'comp' && (init.t.startsWith('[]') || init.t === 'map')))) {
        const saved = this.facts;
        this.facts = emptyFacts();
        this.constStack.add(k);
        try {
          const r = this.inPackageOf(pkg, v.file, () => this.eval(init));
          vals.push(...r.vals.filter((x) => x.t === 'str' || x.t === 'list' || x.t === 'builder' || (x.t === 'obj' && x.type === 'map')));
        } finally {
          this.facts = saved;
          this.constStack.delete(k);
        }
      }
      return { vals, type: v.t };
    }
    const f = pkg.funcs.get(n);
    if (f) return { vals: [{ t: 'fnref', fn: f.id }], type: 'func' };
    return { vals: [], type: '' };
  }

  private selector(e: Extract<Expr, { k: 'sel' }>): Binding {
    if (e.x.k === 'id' && !this.scope.lookup(e.x.n)) {
      const imp = own(this.frame.owner.file.imports, e.x.n);
      if (imp) {
        const pkg = this.program.packageForImport(imp);
        if (pkg) return this.packageMember(pkg, e.n);
        if (SQUIRREL.test(imp) && e.n === 'StatementBuilder') return { vals: [{ t: 'builder', verb: null, table: [], runWith: [] }], type: 'squirrel.builder' };
        return { vals: [], type: '' };
      }
    }
    const base = this.eval(e.x);
    const vals: Val[] = [];
    let fromObj = false;
    for (const v of base.vals) {
      const fv = v.t === 'obj' ? own(v.fields, e.n) : undefined;
      if (fv) {
        vals.push(...fv);
        fromObj = true;
      }
    }
    const ft = this.program.fieldType(base.type, e.n);
    if (ft && !fromObj) {
      vals.push({ t: 'field', key: `${ft.owner}.${e.n}`, type: ft.type, settings: [] });
      // A query builder kept in a field runs on whatever handle was given to its RunWith where it was assigned.
      if (SQUIRREL_TYPE.test(ft.type)) vals.push({ t: 'builder', verb: null, table: [], runWith: [{ t: 'field', key: `${ft.owner}.${e.n}#runWith`, type: '', settings: [] }] });
    }
    if (!ft) {
      const m = this.program.method(base.type, e.n);
      if (m) return { vals: [{ t: 'fnref', fn: m.id }], type: 'func' };
      // `exec := db.ExecContext`: a method value of a handle, called later.
      if ((SQL_METHODS.has(e.n) || e.n === 'CopyFrom') && base.vals.some((v) => v.t !== 'str' && v.t !== 'list' && v.t !== 'fnlit' && v.t !== 'fnref')) {
        return { vals: [{ t: 'bound', recv: base.vals, recvType: base.type, recvText: exprText(e.x), method: e.n }], type: 'func' };
      }
    }
    return { vals: union(vals), type: ft?.type ?? '' };
  }

  private composite(e: Extract<Expr, { k: 'comp' }>): Binding {
    if (TEXT_BUFFER.test(e.t)) return { vals: [str('')], type: e.t };
    if (/pgx\/v\d+\.Batch$/.test(e.t)) return { vals: [{ t: 'batch', id: `batch@${this.frame.owner.file.path}:${e.loc[0]}:${e.loc[1]}` }], type: '*' + e.t };
    if (/pgx\/v\d+\.Identifier$/.test(e.t)) {
      // One identifier per combination of its parts' possible values (a table name bound in a loop).
      let combos: Val[][] = [[]];
      for (const x of e.el) {
        const alts = this.eval(x).vals.filter((v) => v.t === 'str');
        const choices: Val[] = alts.length ? alts : [hole('identifier part')];
        const next: Val[][] = [];
        for (const c of combos) for (const a of choices) if (next.length < 24) next.push([...c, a]);
        combos = next;
      }
      return { vals: union(combos.map((items) => ({ t: 'list', items }) as Val)), type: e.t };
    }
    if (e.t === 'map') {
      // map[string]T{"k": v, ...}: entries by their literal key (SQL tables, handler tables).
      const fields = record<Val[]>();
      for (const [k, x] of e.kv) {
        const key = /^"(.*)"$|^`(.*)`$/.exec(k);
        const name = key ? (key[1] ?? key[2] ?? k) : k;
        fields[name] = union(fields[name] ?? [], this.eval(x).vals);
      }
      return { vals: [{ t: 'obj', type: 'map', fields }], type: 'map' };
    }
    if (e.t.startsWith('[]') || e.t === '?') {
      const items = e.el.map((x) => this.eval(x).vals).flat();
      return { vals: [{ t: 'list', items: union(items) }], type: e.t };
    }
    const td = this.program.typeDecl(e.t);
    const fields = record<Val[]>();
    if (td) {
      const owner = `${td.pkg.key}.${td.name}`;
      const names = Object.keys(td.decl.fields);
      const line = e.loc[0];
      for (const [k, x] of e.kv) {
        const b = this.eval(x);
        fields[k] = b.vals;
        this.recordAssign(this.facts.fields, `${owner}.${k}`, b.vals, line);
      }
      e.el.forEach((x, i) => {
        const name = names[i];
        const b = this.eval(x);
        if (name) {
          fields[name] = b.vals;
          this.recordAssign(this.facts.fields, `${owner}.${name}`, b.vals, line);
        }
      });
    } else {
      for (const [, x] of e.kv) this.eval(x);
      for (const x of e.el) this.eval(x);
    }
    return { vals: [{ t: 'obj', type: e.t, fields }], type: e.t };
  }

  // ------------------------------------------------------------------ calls

  private call(e: Extract<Expr, { k: 'call' }>): Binding[] {
    const f = e.f;
    // Function literal called in place: func(){...}()
    if (f.k === 'fn') {
      const args = e.a.map((a) => this.eval(a));
      const id = this.litId(f.f);
      this.pendingLits.set(id, { f: f.f, scope: this.scope, frame: this.frame });
      this.runLit(id, args);
      return [];
    }
    if (f.k === 'idx') {
      // handlers[kind](tx): every function the table can hold is called.
      const fv = this.eval(f);
      if (fv.vals.length) return this.invokeValues(e, fv.vals, this.args(e));
      // F[T](...): an explicitly instantiated generic function is a call of F.
      if (f.x.k === 'id' || f.x.k === 'sel') return this.call({ ...e, f: f.x });
    }
    if (f.k === 'id') return this.callIdent(e, f.n);
    if (f.k === 'sel') {
      if (f.x.k === 'id' && !this.scope.lookup(f.x.n)) {
        const imp = own(this.frame.owner.file.imports, f.x.n);
        if (imp) return this.callQualified(e, imp, f.n);
      }
      return this.callMethod(e, f);
    }
    // (expr)(args) and other shapes: evaluate the arguments for their side effects.
    const fv = this.eval(f);
    return this.invokeValues(e, fv.vals, e.a.map((a) => this.eval(a)));
  }

  private args(e: Extract<Expr, { k: 'call' }>): Binding[] {
    return e.a.map((a) => this.eval(a));
  }

  private callIdent(e: Extract<Expr, { k: 'call' }>, n: string): Binding[] {
    const local = this.scope.lookup(n);
    if (local) return this.invokeValues(e, local.vals, this.args(e));
    switch (n) {
      case 'string': {
        const a = this.args(e);
        return [{ vals: a[0]?.vals ?? [], type: 'string' }];
      }
      case 'append': {
        const a = this.args(e);
        const items: Val[] = [];
        for (const b of a.slice(0, 1)) for (const v of b.vals) if (v.t === 'list') items.push(...v.items);
        for (const b of a.slice(1)) for (const v of b.vals) items.push(...(v.t === 'list' ? v.items : [v]));
        return [{ vals: [{ t: 'list', items: union(items) }], type: a[0]?.type ?? '' }];
      }
      case 'new': {
        const a0 = e.a[0];
        if (a0?.k === 'conv') return [{ vals: this.zeroOf(a0.t, e.loc[0]), type: '*' + a0.t }];
        this.args(e);
        return [];
      }
      case 'make':
      case 'len':
      case 'cap':
      case 'panic':
      case 'print':
      case 'println':
      case 'copy':
      case 'delete':
      case 'close':
        this.args(e);
        return [];
    }
    if (this.opts.adminOpeners.has(n)) {
      this.args(e);
      return [{ vals: [this.adminPool(n, e.loc)], type: '*database/sql.DB' }, { vals: [], type: 'error' }];
    }
    const fn = this.frame.owner.pkg.funcs.get(n);
    if (fn) return this.callInTree(e, fn, this.args(e));
    this.args(e);
    return [];
  }

  private adminPool(n: string, l: Loc): Val {
    return { t: 'pool', admin: true, origin: `opened by ${n}`, ev: [{ message: `admin (BYPASSRLS) pool opened by ${n}`, span: this.span(l) }] };
  }

  private callQualified(e: Extract<Expr, { k: 'call' }>, imp: string, n: string): Binding[] {
    const q = `${imp}.${n}`;
    if (this.opts.adminOpeners.has(n) || this.opts.adminOpeners.has(q)) {
      this.args(e);
      return [{ vals: [this.adminPool(n, e.loc)], type: '*database/sql.DB' }, { vals: [], type: 'error' }];
    }
    if (POOL_OPENERS.has(q)) {
      this.args(e);
      const ev: Evidence[] = [{ message: `application pool opened by ${e.txt}`, span: this.span(e.loc) }];
      return [{ vals: [{ t: 'pool', admin: false, origin: `opened by ${e.txt}`, ev }], type: '*database/sql.DB' }, { vals: [], type: 'error' }];
    }
    if (SQUIRREL.test(imp)) {
      const a = this.args(e);
      const verb = BUILDER_VERBS[n];
      if (verb !== undefined) return [{ vals: [{ t: 'builder', verb, table: verb === 'SELECT' ? [] : (a[0]?.vals.filter((v) => v.t === 'str') ?? []), runWith: [] }], type: 'squirrel.builder' }];
      return [];
    }
    if (imp === 'fmt' && (n === 'Sprintf' || n === 'Sprint' || n === 'Sprintln')) return [{ vals: this.sprintf(e, n), type: 'string' }];
    if (imp === 'fmt' && (n === 'Fprintf' || n === 'Fprint') && e.a.length >= 2) {
      // fmt.Fprintf(&sb, ...) into a strings.Builder / bytes.Buffer appends the formatted text to it.
      const target = e.a[0]!.k === 'un' && e.a[0]!.op === '&' ? e.a[0]!.x : e.a[0]!;
      const cur = target.k === 'id' ? this.scope.lookup(target.n) : undefined;
      const text = this.sprintf({ ...e, a: e.a.slice(1), at: e.at.slice(1) }, n === 'Fprintf' ? 'Sprintf' : 'Sprint');
      if (cur && target.k === 'id' && TEXT_BUFFER.test(cur.type.replace(/^\*/, ''))) this.scope.assign(target.n, { vals: concat(cur.vals, text, 'earlier text', 'formatted text'), type: cur.type });
      return [];
    }
    if (imp === 'strings') {
      const a = this.args(e);
      switch (n) {
        case 'Join': {
          const lists = a[0]?.vals.filter((v) => v.t === 'list') ?? [];
          const sep = a[1]?.vals.find((v) => v.t === 'str');
          const sepParts = sep && sep.t === 'str' ? sep.parts : [{ hole: 'separator' } as Part];
          const out: Val[] = [];
          for (const l of lists) {
            if (l.t !== 'list') continue;
            const parts: Part[] = [];
            l.items.forEach((it, i) => {
              if (i) parts.push(...sepParts);
              parts.push(...asParts(it, 'list element'));
            });
            out.push(mkStr(parts));
          }
          return [{ vals: out.length ? union(out) : [hole('strings.Join of a list rlscov cannot follow')], type: 'string' }];
        }
        case 'TrimSpace':
        case 'ToUpper':
        case 'ToLower':
        case 'Trim':
        case 'TrimPrefix':
        case 'TrimSuffix':
        case 'ReplaceAll':
        case 'Replace':
          return [{ vals: a[0]?.vals.filter((v) => v.t === 'str') ?? [], type: 'string' }];
        case 'Repeat':
          return [{ vals: [hole('repeated text')], type: 'string' }];
      }
      return [{ vals: [], type: '' }];
    }
    const pkg = this.program.packageForImport(imp);
    const fn = pkg?.funcs.get(n);
    if (fn) return this.callInTree(e, fn, this.args(e));
    // An external function: arguments may still carry closures (e.g. a retry helper from a library).
    const a = this.args(e);
    this.passFunctionArgs(e, `${imp}.${n}`, n, a);
    return [];
  }

  private sprintf(e: Extract<Expr, { k: 'call' }>, n: string): Val[] {
    const a = this.args(e);
    if (n !== 'Sprintf') {
      let acc: Val[] = [str('')];
      a.forEach((b, i) => (acc = concat(acc, b.vals, 'text', `argument ${i + 1} of fmt.${n}`)));
      return acc;
    }
    const formats = a[0]?.vals.filter((v): v is Extract<Val, { t: 'str' }> => v.t === 'str') ?? [];
    if (!formats.length) return [hole('fmt.Sprintf with a format rlscov cannot follow')];
    const out: Val[] = [];
    for (const fmtVal of formats) {
      const fmt = fmtVal.parts.length === 1 && typeof fmtVal.parts[0] === 'string' ? fmtVal.parts[0] : null;
      if (fmt === null) {
        out.push(fmtVal);
        continue;
      }
      // Expand verbs left to right; each verb takes the next argument's possible texts.
      let acc: Val[] = [str('')];
      let argi = 1;
      const re = /%([-+# 0]*)(?:\[(\d+)\])?(\d+|\*)?(\.\d+)?([a-zA-Z%])/g;
      let last = 0;
      let m: RegExpExecArray | null;
      while ((m = re.exec(fmt))) {
        acc = concat(acc, [str(fmt.slice(last, m.index))], '', '');
        last = m.index + m[0].length;
        if (m[5] === '%') {
          acc = concat(acc, [str('%')], '', '');
          continue;
        }
        // %[n]s takes argument n (1-based) and the following verbs continue from n+1, as in fmt.
        if (m[2]) argi = Number(m[2]);
        const arg = a[argi++];
        let vals: Val[] = arg?.vals.filter((v) => v.t === 'str' || v.t === 'param') ?? [];
        if (m[5] === 'q') vals = vals.map((v) => (v.t === 'str' ? mkStr(['"', ...v.parts, '"']) : v));
        acc = concat(acc, vals.length ? vals : [hole(`argument ${argi - 1} of fmt.Sprintf`)], '', `argument ${argi - 1} of fmt.Sprintf`);
      }
      acc = concat(acc, [str(fmt.slice(last))], '', '');
      out.push(...acc);
    }
    return union(out);
  }

  private callMethod(e: Extract<Expr, { k: 'call' }>, f: Extract<Expr, { k: 'sel' }>): Binding[] {
    const recv = this.eval(f.x);
    const m = f.n;
    const receiverText = e.txt.slice(0, Math.max(0, e.txt.length - m.length - 1));
    // strings.Builder / bytes.Buffer holding SQL: writes append to the variable's possible texts.
    if (TEXT_BUFFER.test(recv.type.replace(/^\*/, '')) && f.x.k === 'id') {
      const a = this.args(e);
      if (/^Write(String|Byte|Rune)?$/.test(m)) {
        const cur = this.scope.lookup(f.x.n);
        if (cur) this.scope.assign(f.x.n, { vals: concat(cur.vals, a[0]?.vals ?? [], 'earlier text', `text written by ${m}`), type: cur.type });
        return [];
      }
      if (m === 'String') return [{ vals: recv.vals.filter((v) => v.t === 'str'), type: 'string' }];
      return [];
    }
    const builders = recv.vals.filter((v): v is Extract<Val, { t: 'builder' }> => v.t === 'builder');
    if (builders.length) return this.builderMethod(e, m, builders);
    if (SQL_METHODS.has(m)) {
      const a = this.args(e);
      // The SQL is the first string argument among the first three (database/sql: query first; pgx: ctx, sql;
      // sqlx Get/Select: dest, query). A pointer (`&id` of a string) is a destination, not SQL.
      const sqlIdx = a.slice(0, 3).findIndex((b) => b.type === 'string' || (!b.type.startsWith('*') && b.vals.some((v) => v.t === 'str')));
      if (sqlIdx >= 0 && !recv.vals.some((v) => v.t === 'stmt')) {
        // Text known here, or a function result / struct field whose possible texts pass 2 looks up.
        const sql = a[sqlIdx]!.vals.filter((v) => v.t === 'str' || v.t === 'ret' || v.t === 'field');
        this.site(e, m, receiverText, recv, f.x, sql.length ? sql : [hole(`SQL argument ${e.at[sqlIdx] ?? ''}`)], 'sql', undefined, a.slice(sqlIdx + 1));
      }
      if (PREPARE_METHODS.has(m)) return [{ vals: [{ t: 'stmt' }], type: 'stmt' }, { vals: [], type: 'error' }];
      return [{ vals: [], type: '' }, { vals: [], type: 'error' }];
    }
    if (m === 'CopyFrom') {
      const a = this.args(e);
      const ident = a[1]?.vals.filter((v) => v.t === 'list') ?? [];
      this.site(e, m, receiverText, recv, f.x, ident, 'copyfrom');
      return [{ vals: [], type: 'int64' }, { vals: [], type: 'error' }];
    }
    if (m === 'Queue') {
      const a = this.args(e);
      const batches = recv.vals.filter((v): v is Extract<Val, { t: 'batch' }> => v.t === 'batch');
      const sql = a[0]?.vals.filter((v) => v.t === 'str') ?? [];
      if (sql.length && (batches.length || /pgx\/v\d+\.Batch$/.test(recv.type))) {
        const id = batches[0]?.id ?? `batch@${this.frame.owner.file.path}:${e.loc[0]}`;
        this.site(e, m, `the handle that sends batch ${receiverText}`, { vals: [], type: '' }, f.x, sql, 'queue', id);
      }
      return [];
    }
    if (m === 'SendBatch') {
      const a = this.args(e);
      const handles: Val[] = recv.vals.length ? recv.vals : [{ t: 'unknown', type: recv.type, why: receiverText }];
      for (const v of a[1]?.vals ?? []) {
        const id = v.t === 'batch' ? v.id : v.t === 'ret' ? `ret:${v.fn}#${v.i}` : null;
        if (id) this.facts.batches.set(id, union(this.facts.batches.get(id) ?? [], handles));
      }
      return [];
    }
    if (BEGIN_METHODS.has(m)) {
      this.args(e);
      const ev: Evidence = { message: `transaction begun by ${e.txt} without an org scope`, span: this.span(e.loc) };
      const vals: Val[] = recv.vals.map((v) => (v.t === 'pool' && v.admin ? { ...v, origin: `transaction on ${v.origin}` } : ({ t: 'tx', settings: [], ev: [ev], origin: `begun by ${e.txt}`, ...(v.t === 'pool' ? {} : { from: v }) } as Val)));
      if (!vals.length) vals.push({ t: 'tx', settings: [], ev: [ev], origin: `begun by ${e.txt}` });
      return [{ vals: union(vals), type: '*database/sql.Tx' }, { vals: [], type: 'error' }];
    }
    if (CONN_METHODS.has(m) && recv.vals.some((v) => v.t === 'pool' || v.t === 'field' || v.t === 'gvar' || v.t === 'param')) {
      this.args(e);
      return [{ vals: recv.vals, type: recv.type }, { vals: [], type: 'error' }];
    }
    // A method of the tree.
    const target = this.program.method(recv.type, m);
    const a = this.args(e);
    if (target) return this.callInTree(e, target, a);
    // A method of an interface of the tree: a call of every implementation in the tree.
    const impls = this.program.implementations(recv.type, m);
    if (impls.length) {
      return mergeResults(impls.slice(0, 16).map((fn) => this.callInTree(e, fn, a)));
    }
    // A function-typed field or value: h.run(func(tx) {...})
    this.passFunctionArgs(e, `${receiverText}.${m}`, m, a);
    return [];
  }

  /** squirrel: chain methods keep the builder; RunWith records the handle; Exec/Query run it; ToSql renders it. */
  private builderMethod(e: Extract<Expr, { k: 'call' }>, m: string, bs: Array<Extract<Val, { t: 'builder' }>>): Binding[] {
    const a = this.args(e);
    const strs = (i: number): Val[] => a[i]?.vals.filter((v) => v.t === 'str') ?? [];
    const next = (f: (b: Extract<Val, { t: 'builder' }>) => Val): Binding[] => [{ vals: union(bs.map(f)), type: 'squirrel.builder' }];
    const verb = BUILDER_VERBS[m];
    if (verb !== undefined) return next(() => ({ t: 'builder', verb, table: verb === 'SELECT' ? [] : strs(0), runWith: bs[0]?.runWith ?? [] }));
    if (m === 'Into' || m === 'Table' || (m === 'From' && bs.some((b) => b.verb === 'DELETE'))) return next((b) => ({ ...b, table: strs(0) }));
    if (m === 'RunWith') return next((b) => ({ ...b, runWith: a[0]?.vals ?? [], runWithText: e.at[0] ?? '' }));
    const sql = union(bs.flatMap((b) => builderSql(b)));
    if (m === 'ToSql' || m === 'MustSql') return [{ vals: sql, type: 'string' }, { vals: [], type: '[]interface' }, { vals: [], type: 'error' }];
    if (/^(Exec|Query|QueryRow|Scan)(Context)?$/.test(m)) {
      if (sql.length) {
        const recv = union(...bs.map((b) => b.runWith));
        const texts = [...new Set(bs.map((b) => b.runWithText).filter((t): t is string => !!t))];
        this.site(e, m, texts.length === 1 ? texts[0]! : 'the handle given to the builder\'s RunWith', { vals: recv, type: '' }, { k: 'unk' }, sql, 'sql');
      }
      return [{ vals: [], type: '' }, { vals: [], type: 'error' }];
    }
    return next((b) => b);
  }

  private site(e: Extract<Expr, { k: 'call' }>, method: string, receiver: string, recv: Binding, recvExpr: Expr, sql: Val[], kind: RawSite['kind'], batch?: string, sqlArgs: Binding[] = []): void {
    const vals = recv.vals.length ? recv.vals : kind === 'queue' ? [] : [{ t: 'unknown', type: recv.type, why: `the receiver ${receiver}` } as Val];
    const at = `${this.frame.owner.file.path}:${e.loc.join(':')}:${kind}`;
    const prev = this.facts.siteIndex.get(at);
    if (prev) {
      prev.recv = union(prev.recv, vals);
      prev.sql = union(prev.sql, sql);
    } else {
      const s: RawSite = { owner: this.frame.owner.id, ownerName: this.frame.owner.name, pkg: this.frame.owner.pkg, file: this.frame.owner.file, loc: e.loc, sl: e.sl, method, receiver, recv: vals, sql, kind };
      if (batch) s.batch = batch;
      this.facts.sites.push(s);
      this.facts.siteIndex.set(at, s);
    }
    // A transaction-local scope setting marks the transaction as scoped from here on: every variable (and every
    // struct literal's field) that holds the same transaction, not only the receiver's name (`q := tx`).
    if (kind === 'sql') {
      const settings = localSettings(sql, sqlArgs);
      if (settings.length) this.markScoped(vals, settings);
    }
  }

  private markScoped(recv: Val[], settings: string[]): void {
    const ident = (v: Val): string | null => ('settings' in v ? JSON.stringify({ ...v, settings: [] }) : null);
    const ids = new Set(recv.map(ident).filter((x): x is string => x !== null));
    if (!ids.size) return;
    const update = (vals: Val[]): Val[] | null => {
      let changed = false;
      const out = vals.map((v) => {
        const id = ident(v);
        if (id && ids.has(id)) {
          changed = true;
          return settings.reduce((acc, st) => withSetting(acc, st), v);
        }
        if (v.t === 'obj') {
          for (const [f, fv] of Object.entries(v.fields)) {
            const u = update(fv);
            if (u) v.fields[f] = u;
          }
        }
        return v;
      });
      return changed ? out : null;
    };
    // A transaction stored in a field or package variable and then scoped (a unit-of-work struct): the stored
    // value is the scoped transaction.
    for (const map of [this.facts.fields, this.facts.gvars]) {
      for (const entry of map.values()) {
        const u = update(entry.vals);
        if (u) entry.vals = u;
      }
    }
    const names = new Set<string>();
    for (let sc: Scope | null = this.scope; sc; sc = sc.parent) for (const n of sc.vars.keys()) names.add(n);
    for (const n of names) {
      const b = this.scope.lookup(n);
      if (!b) continue;
      const u = update(b.vals);
      if (u) this.scope.assign(n, { vals: u, type: b.type });
    }
  }

  private addSetter(fn: string, i: number, settings: string[]): void {
    let m = this.facts.setters.get(fn);
    if (!m) this.facts.setters.set(fn, (m = new Map()));
    m.set(i, [...new Set([...(m.get(i) ?? []), ...settings])].sort());
  }

  /** Calls into a function of the tree: record the call, bind closures, apply setter summaries. */
  private callInTree(e: Extract<Expr, { k: 'call' }>, fn: FuncInfo, a: Binding[]): Binding[] {
    this.recordCall(e, fn, e.txt, a.map((b) => b.vals), e.at);
    this.passFunctionArgs(e, fn.id, fn.name, a);
    const setters = this.setters.get(fn.id);
    if (setters) {
      for (const [i, settings] of setters) {
        const ae = e.a[i];
        if (ae?.k !== 'id') continue;
        const b = this.scope.lookup(ae.n);
        if (!b) continue;
        let vals = b.vals;
        for (const s of settings) vals = vals.map((v) => withSetting(v, s));
        this.scope.assign(ae.n, { vals, type: b.type });
      }
    }
    const results = fn.decl.results;
    return results.map((t, i) => ({ vals: [{ t: 'ret', fn: fn.id, i, settings: [] } as Val], type: t }));
  }

  /**
   * Records a call for pass 2, which reads calls only through the callee's parameters (what a caller passes for
   * a handle, SQL text or batch parameter): a call to a function without parameters is left out (a third of all
   * calls, and of the cached facts, on temporal).
   */
  private recordCall(e: Extract<Expr, { k: 'call' }>, callee: FuncInfo, calleeText: string, args: Val[][], argText: string[]): void {
    if (!callee.decl.params.length) return;
    const o = this.frame.owner;
    this.facts.calls.push({ caller: o.id, callerName: o.name, pkg: o.pkg, file: o.file, loc: e.loc, sl: e.sl, callee: callee.id, calleeText, args, argText });
  }

  private passFunctionArgs(e: Extract<Expr, { k: 'call' }>, calleeId: string, calleeName: string, a: Binding[]): void {
    a.forEach((b, k) => {
      for (const v of b.vals) {
        if (v.t === 'fnlit') {
          const lit = this.pendingLits.get(v.id);
          if (!lit) continue;
          const params = lit.f.params.map((p, j) => ({ vals: [{ t: 'cb', fn: calleeId, k, j, callee: calleeName, type: p.type, settings: [] } as Val] }));
          this.runLit(v.id, params);
        } else if (v.t === 'fnref') {
          const target = this.program.func(v.fn);
          if (!target) continue;
          // A function or method value handed over: called by the callee with its k-th parameter's arguments.
          this.recordCall(
            e,
            target,
            `${e.at[k] ?? target.name} (passed to ${calleeName})`,
            target.decl.params.map((p, j) => [{ t: 'cb', fn: calleeId, k, j, callee: calleeName, type: p.type, settings: [] } as Val]),
            target.decl.params.map((p) => p.name),
          );
        } else if (v.t === 'param' && v.type.startsWith('func(')) {
          // The function's own function parameter handed on (to a wrapper in the tree, or a named one outside it).
          const key = `${v.fn}#${v.i}`;
          const list = this.facts.forwards.get(key) ?? [];
          if (!list.some(([c, m]) => c === calleeId && m === k)) list.push([calleeId, k]);
          this.facts.forwards.set(key, list);
        }
      }
    });
  }

  /** Calling a value: a closure, a function reference, or a function-typed parameter. */
  private invokeValues(e: Extract<Expr, { k: 'call' }>, fvals: Val[], a: Binding[]): Binding[] {
    // Every function the value may be is called (a loop over []func{stepA, stepB} calls both).
    const results: Binding[][] = [];
    for (const v of fvals.flatMap((x) => (x.t === 'list' ? x.items : x.t === 'obj' && x.type === 'map' ? Object.values(x.fields).flat() : [x]))) {
      if (v.t === 'bound') {
        // Re-dispatch as the method call it stands for, on its bound receiver.
        const recvVar = `\u0000bound${this.boundCounter++}`;
        this.scope.vars.set(recvVar, { vals: v.recv, type: v.recvType });
        const call: Extract<Expr, { k: 'call' }> = { ...e, f: { k: 'sel', x: { k: 'id', n: recvVar }, n: v.method }, txt: `${v.recvText}.${v.method}` };
        results.push(this.callMethod(call, call.f as Extract<Expr, { k: 'sel' }>));
        this.scope.vars.delete(recvVar);
      } else if (v.t === 'fnlit') this.runLit(v.id, a);
      else if (v.t === 'fnref') {
        const fn = this.program.func(v.fn);
        if (fn) results.push(this.callInTree(e, fn, a));
      } else if (v.t === 'param') {
        const key = `${v.fn}#${v.i}`;
        const list = this.facts.invocations.get(key) ?? [];
        list.push(a.map((b) => b.vals));
        this.facts.invocations.set(key, list);
      }
    }
    return mergeResults(results);
  }
}

/** The results of calling one of several functions: per result position, the union of what each returns. */
function mergeResults(results: Binding[][]): Binding[] {
  if (results.length <= 1) return results[0] ?? [];
  const n = Math.max(...results.map((r) => r.length));
  return Array.from({ length: n }, (_, i) => ({ vals: union(...results.map((r) => r[i]?.vals ?? [])), type: results.find((r) => r[i]?.type)?.[i]?.type ?? '' }));
}

/** Short source text of a simple receiver expression (for messages about bound method values). */
function exprText(e: Expr): string {
  if (e.k === 'id') return e.n;
  if (e.k === 'sel') return `${exprText(e.x)}.${e.n}`;
  return 'a handle';
}

const SQUIRREL = /(^|\/)Masterminds\/squirrel$|(^|\/)squirrel$/;
const SQUIRREL_TYPE = /Masterminds\/squirrel\.\w+$/;
const TEXT_BUFFER = /^(strings\.Builder|bytes\.Buffer)$/;
const BUILDER_VERBS: Record<string, 'INSERT' | 'UPDATE' | 'DELETE' | 'SELECT' | undefined> = { Insert: 'INSERT', Replace: 'INSERT', Update: 'UPDATE', Delete: 'DELETE', Select: 'SELECT' };

/** The statement a squirrel builder runs, with its table literal as the target (columns and values elided). */
function builderSql(b: Extract<Val, { t: 'builder' }>): Val[] {
  if (!b.verb || b.verb === 'SELECT') return [];
  const tables = b.table.length ? b.table : [hole('table of the query builder')];
  const head = b.verb === 'INSERT' ? 'INSERT INTO ' : b.verb === 'UPDATE' ? 'UPDATE ' : 'DELETE FROM ';
  const tail = b.verb === 'INSERT' ? ' DEFAULT VALUES' : b.verb === 'UPDATE' ? ' SET __rlscov_col = NULL' : '';
  return tables.map((t) => mkStr([head, ...asParts(t, 'table of the query builder'), tail]));
}

/**
 * Settings a set of SQL texts sets transaction-locally (set_config(..., true), SET LOCAL). A setting named by a
 * placeholder (`set_config($1, $2, true)`) takes its name from the matching argument of the call.
 */
export function localSettings(sql: Val[], args: Array<{ vals: Val[] }> = []): string[] {
  const out = new Set<string>();
  for (const v of sql) {
    if (v.t !== 'str') continue;
    const text = v.parts.map((p) => (typeof p === 'string' ? p : '')).join(' ');
    if (!/set_config|\bset\s+local\b/i.test(text)) continue;
    for (const st of classifySql({ parts: v.parts.map((p) => (typeof p === 'string' ? p : { hole: p.hole })) })) {
      for (const s of st.scopeSettings) if (s.local === true && s.name) out.add(s.name);
    }
    for (const m of text.matchAll(/set_config\s*\(\s*\$(\d+)\s*,[^,]*,\s*true\s*\)/gi)) {
      for (const a of args[Number(m[1]) - 1]?.vals ?? []) {
        if (a.t === 'str' && a.parts.length === 1 && typeof a.parts[0] === 'string') out.add(a.parts[0].toLowerCase());
      }
    }
  }
  return [...out].sort();
}

