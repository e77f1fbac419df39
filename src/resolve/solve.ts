// Pass 2: resolve the symbolic values of pass 1 over the whole program and turn raw sites into write sites.
// - fields, package variables, returns: the union of everything assigned to them anywhere;
// - closure parameters: what the function the closure was handed to passes when it calls it (wrapper discovery);
// - parameters of the function holding a write: a requirement on its callers, checked at each call (RLS002),
//   moving up while callers pass their own parameters; with no caller in the tree the write stands alone (RLS001);
// - SQL parameters (`execWithRetry(db, q)`): each call becomes a write site with the caller's SQL.
import { own } from '../records.js';
import type { DiscoveredFacts, Evidence, HandleVerdict, Span, SqlStatement, WriteSite } from '../model.js';
import { handleSatisfies, settingsCover, type HelperCallViolation } from '../engine/rule.js';
import { classifySql } from '../sql/index.js';
import { isPoolType, isTxType, shortType, wrapperSettings } from './drivers.js';
import type { RawCall, RawSite } from './interpret.js';
import type { FactsView } from './program-facts.js';
import type { Program } from './program.js';
import { asParts, mkStr, union, type Part, type Val } from './values.js';
import { compareNames } from '../order.js';

export interface WriteNeed {
  /** The write needs a scoped transaction (or an admin pool) at all. */
  gated: boolean;
  /** Settings the scope must have set (for messages: the first way to satisfy each table). */
  settings: string[];
  /** Per gated table, the alternative sets of settings that satisfy its policies (any one of them will do). */
  tables: string[][][];
  /** Short description for messages: "INSERT into audit_logs". */
  what: string;
}

export interface SolveOptions {
  wrappers: Set<string>;
  defaultSetting: string;
  /** What a set of statements needs from its handle (from the catalog). */
  needs(statements: SqlStatement[]): WriteNeed;
}

export interface SolveResult {
  sites: WriteSite[];
  helperCalls: Array<Omit<HelperCallViolation, 'write'> & { write: WriteSite }>;
}

const MAX_CHAIN = 10;
/** Values resolved inside one another before a walk stops (a bound on the recursion, not met in real code). */
const MAX_STACK = 256;
/** Walks stopped at MAX_STACK and started again from deeper before a value is walked on its own (a bound on the
 * nesting: each retry memoises what lies deeper, so only a cycle longer than MAX_STACK stops them earlier). */
const MAX_RETRIES = 1000;

type Concrete = HandleVerdict;

export class Solver {
  constructor(
    private readonly program: Program,
    private readonly facts: FactsView,
    private readonly opts: SolveOptions,
  ) {}

  solve(): SolveResult {
    const out: SolveResult = { sites: [], helperCalls: [] };
    for (const raw of this.facts.sites) this.site(raw, out);
    return out;
  }

  /** Wrappers the tree defines (functions whose closure parameter resolves to a scoped transaction) and admin-only fields. */
  discovered(adminOpeners: string[]): DiscoveredFacts {
    const wrappers: DiscoveredFacts['wrappers'] = [];
    const seen = new Set<string>();
    for (const key of new Set([...this.facts.invocations.keys(), ...this.facts.forwards.keys()])) {
      const [fn, k] = key.split('#') as [string, string];
      const f = this.program.funcs.get(fn);
      if (!f || seen.has(fn)) continue;
      const param = f.decl.params[Number(k)];
      if (!param?.type.startsWith('func(')) continue;
      const ptypes = /^func\(([^)]*)\)/.exec(param.type)?.[1]?.split(',') ?? [];
      const j = ptypes.findIndex((t) => isTxType(t) || isPoolType(t));
      if (j < 0) continue;
      const shortName = f.name.slice(f.name.lastIndexOf('.') + 1);
      const named = this.opts.wrappers.has(shortName) || this.opts.wrappers.has(f.name);
      const hs = this.resolve({ t: 'cb', fn, k: Number(k), j, callee: shortName, type: ptypes[j]!, settings: [] });
      const scoped = hs.filter((h) => h.kind === 'scopedTx');
      if (!scoped.length || scoped.length !== hs.length) continue;
      seen.add(fn);
      wrappers.push({ name: f.name, file: f.file.path, line: f.decl.loc[0], settings: [...new Set(scoped.flatMap((h) => h.settings))].sort(), how: named ? 'named' : 'discovered' });
    }
    const adminHandles: DiscoveredFacts['adminHandles'] = [];
    for (const [key, a] of [...this.facts.fields, ...this.facts.gvars]) {
      if (key.endsWith('#runWith')) continue;
      const hs = this.resolve(this.facts.fields.has(key) ? { t: 'field', key, type: '', settings: [] } : { t: 'gvar', key: key.replace(/#init$/, ''), type: '', settings: [] });
      if (!hs.length || !hs.every((h) => h.kind === 'adminPool')) continue;
      const short = key.replace(/#init$/, '').slice(key.replace(/#init$/, '').lastIndexOf('/') + 1);
      if (adminHandles.some((x) => x.name === short)) continue;
      const sp = a.where[0]?.span;
      adminHandles.push(sp ? { name: short, file: sp.file, line: sp.start.line } : { name: short });
    }
    const poolFunctions: DiscoveredFacts['poolFunctions'] = [];
    for (const f of this.program.funcs.values()) {
      if (f.decl.recvType) continue;
      const t = f.decl.results.find((r) => isPoolType(r));
      if (t) poolFunctions.push({ name: f.decl.name, file: f.file.path, line: f.decl.loc[0], type: shortType(t) });
    }
    wrappers.sort((a, b) => compareNames(a.file, b.file) || a.line - b.line);
    adminHandles.sort((a, b) => compareNames(a.name, b.name));
    poolFunctions.sort((a, b) => compareNames(a.file, b.file) || a.line - b.line);
    return { wrappers, adminHandles, adminOpeners, poolFunctions };
  }

  // ------------------------------------------------------------------ sites

  private span(file: string, loc: [number, number, number, number]): Span {
    return { file, start: { line: loc[0], column: loc[1] }, end: { line: loc[2], column: loc[3] } };
  }

  private site(raw: RawSite, out: SolveResult): void {
    let recv = raw.recv;
    if (raw.kind === 'queue') {
      recv = this.batchHandles(raw.batch!, new Set());
      if (!recv.length) recv = [{ t: 'unknown', type: '', why: 'a pgx.Batch rlscov never sees sent with SendBatch' }];
    }
    this.instantiate(
      {
        owner: raw.owner,
        span: this.span(raw.file.path, raw.loc),
        sl: raw.sl,
        function: raw.ownerName,
        pkg: raw.pkg.dir,
        method: raw.method,
        receiver: raw.receiver,
        recv,
        sql: raw.sql,
        kind: raw.kind,
        via: [],
      },
      out,
      0,
    );
  }

  /**
   * The handles a batch is sent on: where SendBatch sends it, where callers send the batch they hand to a
   * function filling its batch parameter, and where callers send a batch a function returns.
   */
  private batchHandles(id: string, seen: Set<string>): Val[] {
    if (seen.has(id)) return [];
    seen.add(id);
    const out: Val[][] = [this.facts.batches.get(id) ?? []];
    const pm = /^param:(.*)#(\d+)$/.exec(id);
    if (pm) {
      for (const c of this.facts.callsTo(pm[1]!)) for (const a of c.args[Number(pm[2])] ?? []) if (a.t === 'batch') out.push(this.batchHandles(a.id, seen));
    }
    for (const [fn, rs] of this.facts.returns) {
      rs.forEach((vals, i) => {
        if (vals.some((v) => v.t === 'batch' && v.id === id)) out.push(this.batchHandles(`ret:${fn}#${i}`, seen));
      });
    }
    return union(...out);
  }

  private instantiate(t: Template, out: SolveResult, depth: number): void {
    const sqlParams = t.kind === 'copyfrom' ? [] : paramRefs(t.sql, t.owner);
    const callers = this.facts.callsTo(t.owner);
    if (sqlParams.length && callers.length && depth < MAX_CHAIN) {
      // An SQL helper: its callers supply the text. Each call becomes the write site.
      for (const c of callers) {
        const sql = substituteSql(t.sql, t.owner, c.args);
        const recv = t.recv.flatMap((v) => (v.t === 'param' && v.fn === t.owner ? c.args[v.i]?.map((a) => addSettings(a, v.settings)) ?? [] : [v]));
        this.instantiate(
          {
            owner: c.caller,
            span: this.span(c.file.path, c.loc),
            sl: c.sl,
            function: c.callerName,
            pkg: c.pkg.dir,
            method: t.method,
            receiver: recvText(t, c),
            recv: recv.length ? recv : t.recv,
            sql,
            kind: t.kind,
            via: [{ message: `runs its SQL argument with ${t.method} on ${t.receiver}`, span: t.span }, ...t.via],
          },
          out,
          depth + 1,
        );
      }
      return;
    }
    const statements = this.statements(t);
    const site: WriteSite = {
      span: t.span,
      statementLine: t.sl,
      function: t.function,
      package: t.pkg,
      method: t.method,
      receiver: t.receiver,
      handles: [],
      statements,
      sql: statements.length === 0 ? 'unknown' : statements.every((s) => s.complete) ? 'complete' : 'holes',
    };
    if (t.via.length) site.via = t.via;
    const need = this.opts.needs(statements);
    const handles: HandleVerdict[] = [];
    for (const v of t.recv) {
      if (v.t === 'param' && v.fn === t.owner) {
        const callers = this.facts.callsTo(t.owner);
        const name = v.name || `#${v.i + 1}`;
        if (!callers.length) {
          handles.push({
            kind: 'unknown',
            description: `parameter ${name} of ${t.function}, which has no caller in the analysed tree: nothing shows it is an org-scoped transaction or an admin pool`,
            settings: v.settings,
            evidence: [],
          });
          continue;
        }
        handles.push({ kind: 'handleParam', description: `parameter ${name} of ${t.function} (${shortType(v.type)}); each caller is checked`, settings: v.settings, evidence: [] });
        if (need.gated && !settingsSatisfy(v.settings, need)) this.requirement(t.owner, v.i, v.settings, site, need, [{ message: `the write: ${need.what} (${t.method} on ${name})`, span: t.span }], out, 0, new Set());
        continue;
      }
      handles.push(...this.resolve(v));
    }
    // Nothing the receiver can be resolved to is a pool or a transaction: that is not a reason to call it safe.
    if (!handles.length && t.kind !== 'queue') handles.push({ kind: 'unknown', description: `${t.receiver}, which rlscov cannot resolve to a pool or a transaction`, settings: [], evidence: [] });
    site.handles = dedupeHandles(handles);
    out.sites.push(site);
  }

  private statements(t: Template): SqlStatement[] {
    if (t.kind === 'copyfrom') {
      const out: SqlStatement[] = [];
      for (const v of t.sql) {
        if (v.t !== 'list') continue;
        const names = v.items.map((it) => (it.t === 'str' && it.parts.length === 1 && typeof it.parts[0] === 'string' ? `"${it.parts[0].replace(/"/g, '""')}"` : null));
        const text = names.every((n) => n !== null) && names.length ? `COPY ${names.join('.')} FROM STDIN` : 'COPY ? FROM STDIN';
        out.push(...classifySql({ parts: text.includes('?') ? ['COPY ', { hole: 'table of CopyFrom' }, ' FROM STDIN'] : [text] }));
      }
      if (!out.length) out.push(...classifySql({ parts: ['COPY ', { hole: 'table of CopyFrom' }, ' FROM STDIN'] }));
      return out;
    }
    const out: SqlStatement[] = [];
    const seen = new Set<string>();
    for (const v of this.sqlTexts(t.sql, 0)) {
      if (v.t !== 'str') continue;
      const parts = v.parts.map((p) => (typeof p === 'string' ? p : { hole: p.hole }));
      for (const s of classifySql({ parts })) {
        const k = s.text + '|' + s.kind;
        if (seen.has(k)) continue;
        seen.add(k);
        out.push(s);
      }
    }
    return out;
  }

  /** SQL values with function results and struct fields replaced by the texts they can hold. */
  private sqlTexts(vals: Val[], depth: number): Val[] {
    const out: Val[] = [];
    for (const v of vals) {
      if (v.t === 'str') out.push(v);
      else if (depth < 3 && v.t === 'ret') out.push(...this.sqlTexts(this.facts.returns.get(v.fn)?.[v.i] ?? [], depth + 1));
      else if (depth < 3 && v.t === 'field') out.push(...this.sqlTexts(this.facts.fields.get(v.key)?.vals ?? [], depth + 1));
    }
    // A text built from the function's own parameters stays a hole here (its callers are not substituted).
    return union(out.map((v) => (v.t === 'str' ? { t: 'str', parts: v.parts.map((p) => (typeof p === 'string' ? p : { hole: p.hole })) } : v)) as Val[]);
  }

  /** A write needs its function's `i`-th parameter scoped: check every call, moving up through parameters. */
  private requirement(fn: string, i: number, localSettings: string[], write: WriteSite, need: WriteNeed, flow: Evidence[], out: SolveResult, depth: number, seen: Set<string>): void {
    const key = `${fn}#${i}`;
    if (seen.has(key) || depth > MAX_CHAIN) return;
    seen.add(key);
    const decl = this.program.funcs.get(fn)?.decl;
    const pname = decl?.params[i]?.name ?? `#${i + 1}`;
    for (const c of this.facts.callsTo(fn)) {
      const callEv: Evidence = { message: `calls ${c.calleeText}, passing ${c.argText[i] ?? '?'} as ${pname}`, span: this.span(c.file.path, c.loc) };
      for (const a of c.args[i] ?? []) {
        const v = addSettings(a, localSettings);
        if (v.t === 'param' && v.fn === c.caller) {
          if (settingsSatisfy(v.settings, need)) continue;
          const upCallers = this.facts.callsTo(c.caller);
          if (upCallers.length) {
            this.requirement(c.caller, v.i, v.settings, write, need, [callEv, ...flow], out, depth + 1, seen);
            continue;
          }
          // The chain ends at a function nobody calls: the outermost call is where the requirement is unmet.
          out.helperCalls.push(this.violation(c, i, { kind: 'unknown', description: `parameter ${v.name} of ${c.callerName}, which has no caller in the analysed tree`, settings: v.settings, evidence: [] }, write, need, [callEv, ...flow]));
          continue;
        }
        for (const h of this.resolve(v)) {
          if (satisfies(h, need)) continue;
          out.helperCalls.push(this.violation(c, i, h, write, need, [callEv, ...flow]));
        }
      }
    }
  }

  private violation(c: RawCall, i: number, h: HandleVerdict, write: WriteSite, need: WriteNeed, flow: Evidence[]): Omit<HelperCallViolation, 'write'> & { write: WriteSite } {
    return {
      span: this.span(c.file.path, c.loc),
      statementLine: c.sl,
      function: c.callerName,
      package: c.pkg.dir,
      callee: c.calleeText,
      argIndex: i,
      argText: c.argText[i] ?? '?',
      handle: h,
      needs: 'scopedTx',
      settings: need.settings,
      write,
      flow: flow.slice(0, 24),
    };
  }

  // ------------------------------------------------------------------ values -> handle verdicts

  resolve(v: Val, depth = 0): Concrete[] {
    if (depth > 24) return [];
    switch (v.t) {
      case 'tx': {
        if (v.from) {
          const base = this.resolve(v.from, depth + 1);
          if (base.length && base.every((b) => b.kind === 'adminPool')) return base.map((b) => ({ ...b, description: `transaction on ${b.description}` }));
        }
        return [txVerdict(v.settings, v.ev, `transaction ${v.origin}`)];
      }
      case 'pool':
        return [
          v.admin
            ? { kind: 'adminPool', description: `admin (BYPASSRLS) pool ${v.origin}`, settings: [], evidence: v.ev }
            : { kind: 'appPool', description: `application pool ${v.origin}`, settings: [], evidence: v.ev },
        ];
      case 'field':
        return this.memoised(`field:${v.key}#${v.type}`, () => this.resolveAssigned(this.facts.fields.get(v.key), fieldLabel(v.key), v.type)).map((c) => withSettingsVerdict(c, v.settings));
      case 'gvar': {
        const pv = this.program.packages.get(v.key.slice(0, v.key.lastIndexOf('.')))?.vars.get(v.key.slice(v.key.lastIndexOf('.') + 1));
        return this.memoised(`gvar:${v.key}#${v.type}`, () => {
          const assigned = this.facts.gvars.get(v.key);
          const init = pv?.v ? this.facts.gvars.get(`${v.key}#init`) : undefined;
          const merged = assigned || init ? { vals: union(assigned?.vals ?? [], init?.vals ?? []), where: [...(assigned?.where ?? []), ...(init?.where ?? [])] } : undefined;
          return this.resolveAssigned(merged, `package variable ${v.key.slice(v.key.lastIndexOf('/') + 1)}`, v.type);
        }).map((c) => withSettingsVerdict(c, v.settings));
      }
      case 'ret':
        return this.memoised(`ret:${v.fn}#${v.i}`, () => {
          const rs = this.facts.returns.get(v.fn)?.[v.i] ?? [];
          const f = this.program.funcs.get(v.fn);
          const cuts = this.cuts;
          const r = rs.flatMap((x) => this.resolve(x));
          if (r.length) return r.map((c) => ({ ...c, evidence: [...c.evidence, { message: `returned by ${f?.name ?? v.fn}`, span: f ? this.span(f.file.path, f.decl.loc) : undefined } as Evidence].slice(0, 8) }));
          if (this.cuts !== cuts) return []; // all it returns comes round a cycle: nothing more than is known there
          const t = f?.decl.results[v.i] ?? '';
          return byType(t, `result of ${f?.name ?? v.fn}`);
        }).map((c) => withSettingsVerdict(c, v.settings));
      case 'param':
        return this.memoised(`param:${v.fn}#${v.i}#${v.type}#${v.name}`, () => {
          const calls = this.facts.callsTo(v.fn);
          const f = this.program.funcs.get(v.fn);
          if (!calls.length) return byType(v.type, `parameter ${v.name} of ${f?.name ?? v.fn}, which has no caller in the analysed tree`);
          return calls.flatMap((c) => (c.args[v.i] ?? []).flatMap((a) => this.resolve(a)));
        }).map((c) => withSettingsVerdict(c, v.settings));
      case 'cb':
        return this.memoised(`cb:${v.fn}#${v.k}#${v.j}#${v.type}#${v.callee}`, () => this.resolveCb(v)).map((c) => withSettingsVerdict(c, v.settings));
      case 'unknown':
        return byType(v.type, v.why);
      case 'obj': {
        // A struct of the tree used as a handle (`type AppDB struct{ *sql.DB }`): its embedded handle fields.
        const td = this.program.typeDecl(v.type);
        if (!td) return [];
        const out: Concrete[] = [];
        for (const emb of td.decl.embedded) {
          if (!isTxType(emb) && !isPoolType(emb)) continue;
          const name = emb.replace(/^\*/, '').slice(emb.replace(/^\*/, '').lastIndexOf('.') + 1);
          const vals = own(v.fields, name);
          out.push(...(vals ? vals.flatMap((x) => this.resolve(x, depth + 1)) : this.resolve({ t: 'field', key: `${td.pkg.key}.${td.name}.${name}`, type: emb, settings: [] }, depth + 1)));
        }
        return out;
      }
      default:
        return [];
    }
  }

  /**
   * Memoised resolution, independent of the order values are asked in: a value's result is a function of the
   * value and the facts alone, so a run that resolves fewer sites, or the same ones in another order, gives each
   * site it resolves the result a whole-program run gives it.
   *
   * Resolution follows references (a parameter to what its callers pass, a field to what is assigned to it, …).
   * What a value refers to is fixed by the facts, so the references form a graph, whose strongly connected
   * components are the cycles. A value's result is that of a walk from it in which a value met again on the way
   * adds nothing (what flows into it round the cycle is what it is being resolved to already), and a result left
   * empty only by such cuts falls back to nothing rather than to its type ("cannot follow"). Components are found
   * as they are walked (Tarjan's algorithm): a value outside any cycle is memoised when its walk ends (everything
   * it reached is memoised already); when a cycle's component is complete, each of its values is walked again
   * from itself, within the component (memoised per walk, so in time linear in the component), and memoised.
   * Where the cycle was first entered therefore does not matter.
   */
  private memo = new Map<string, Resolved>();
  /** Tarjan state of the walk under way: visit order and lowlink of the values not yet in a finished component. */
  private visit = new Map<string, { index: number; low: number; f: () => Concrete[] }>();
  private open: string[] = [];
  private path: string[] = [];
  private visits = 0;
  /** Cuts so far: a result left empty by a cut is no evidence of anything (no "cannot follow" fallback). */
  private cuts = 0;
  /** Set while the values of a finished component are walked again, each from itself. */
  private within: { members: Set<string> | null; memo: Map<string, Resolved>; path: Set<string> } | null = null;
  /** Values of finished components not yet walked from themselves: their function and their component. */
  private finished = new Map<string, { f: () => Concrete[]; members: Set<string> }>();
  /** Nested retries of walks that went deeper than MAX_STACK (see resolveFrom), and the values they started from. */
  private retrying = new Set<string>();
  private deep = 0;

  private memoised(k: string, f: () => Concrete[]): Concrete[] {
    const inside = this.within !== null && (this.within.members === null || this.within.members.has(k));
    let hit = this.memo.get(k);
    if (!hit && !inside) {
      // A value of a finished component, walked from itself when first asked for (walking every member of a large
      // component from itself at once cost time quadratic in its size).
      const c = this.finished.get(k);
      if (c) {
        this.finished.delete(k);
        hit = this.walkComponent(k, c.f, c.members);
        this.memo.set(k, hit);
      }
    }
    if (hit && !inside) return this.replay(hit);
    if (this.within) return this.walkWithin(k, f);
    return this.path.length ? this.walk(k, f) : this.resolveFrom(k, f);
  }

  /** One step of the walk under way (Tarjan): k's result, final or (inside an open component) provisional. */
  private walk(k: string, f: () => Concrete[]): Concrete[] {
    const seen = this.visit.get(k);
    if (seen) {
      // On the walk's open component: a cut, and the caller belongs to the same component.
      this.lower(seen.index);
      this.cuts++;
      return [];
    }
    if (this.path.length >= MAX_STACK) throw new DeepWalk(k, f);
    const me = { index: this.visits++, low: 0, f };
    me.low = me.index;
    this.visit.set(k, me);
    this.open.push(k);
    this.path.push(k);
    let r: Resolved;
    try {
      r = this.evaluate(f);
    } finally {
      this.path.pop();
    }
    if (me.low === me.index) {
      const members = this.open.splice(this.open.indexOf(k));
      const set = new Set(members);
      for (const m of members) {
        if (m !== k) this.finished.set(m, { f: this.visit.get(m)!.f, members: set });
        this.visit.delete(m);
      }
      if (members.length === 1) this.memo.set(k, r); // a walk from k: what it reached is memoised, or k itself
      else {
        r = this.walkComponent(k, f, set);
        this.memo.set(k, r);
      }
    } else this.lower(me.low);
    return r.value;
  }

  private lower(index: number): void {
    const top = this.visit.get(this.path[this.path.length - 1]!);
    if (top && index < top.low) top.low = index;
  }

  private replay(r: Resolved): Concrete[] {
    if (r.cut) this.cuts++;
    return r.value;
  }

  /**
   * A walk from a value nothing is being resolved for. A walk deeper than MAX_STACK stops, resolves the value it
   * stopped at first (from itself: the same result), and starts again. When that value is met again while being
   * resolved first (a cycle longer than MAX_STACK, which no walk can finish), the value first asked for is walked
   * on its own, cut at MAX_STACK and without memoised results, and not memoised: a function of the value, whatever
   * was resolved before.
   */
  private resolveFrom(k: string, f: () => Concrete[]): Concrete[] {
    for (;;) {
      let deeper: DeepWalk;
      try {
        return this.walk(k, f);
      } catch (e) {
        this.visit.clear();
        this.open = [];
        this.path = [];
        if (!(e instanceof DeepWalk)) throw e;
        deeper = e;
      }
      // Met again while it is being resolved first: a cycle longer than MAX_STACK, which no walk can finish.
      if (this.deep >= MAX_RETRIES || this.retrying.has(deeper.key)) throw new TooDeep();
      let tooDeep = false;
      this.deep++;
      this.retrying.add(k);
      try {
        this.resolveFrom(deeper.key, deeper.f);
      } catch (e) {
        if (!(e instanceof TooDeep)) throw e;
        tooDeep = true;
      } finally {
        this.deep--;
        this.retrying.delete(k);
      }
      if (tooDeep) {
        if (this.deep > 0) throw new TooDeep();
        return this.walkComponent(k, f, null).value;
      }
    }
  }

  /** A walk from `m` within `members` (null: everything), each value resolved once per walk, cut when met again. */
  private walkComponent(m: string, f: () => Concrete[], members: Set<string> | null): Resolved {
    const outer = this.within;
    this.within = { members, memo: new Map(), path: new Set() };
    try {
      this.walkWithin(m, f);
      return this.within.memo.get(m)!;
    } finally {
      this.within = outer;
    }
  }

  private walkWithin(k: string, f: () => Concrete[]): Concrete[] {
    const w = this.within!;
    const hit = w.memo.get(k);
    if (hit) return this.replay(hit);
    if (w.path.has(k) || w.path.size >= MAX_STACK) {
      this.cuts++;
      return [];
    }
    w.path.add(k);
    let r: Resolved;
    try {
      r = this.evaluate(f);
    } finally {
      w.path.delete(k);
    }
    w.memo.set(k, r);
    return r.value;
  }

  /** A value's function applied, and whether it met a cycle on the way. */
  private evaluate(f: () => Concrete[]): Resolved {
    const cuts = this.cuts;
    const value = dedupeHandles(f());
    return { value, cut: this.cuts !== cuts };
  }

  private resolveAssigned(a: { vals: Val[]; where: Evidence[] } | undefined, what: string, type: string): Concrete[] {
    if (!a || !a.vals.length) return byType(type, `${what}, never assigned in the analysed tree`);
    const cuts = this.cuts;
    const rs = a.vals.flatMap((x) => this.resolve(x));
    if (!rs.length && this.cuts !== cuts) return []; // assigned only what comes round a cycle (see memoised)
    if (!rs.length) return byType(type, `${what}, assigned from values rlscov cannot follow`);
    const allAdmin = rs.every((r) => r.kind === 'adminPool');
    return rs.map((r) => ({
      ...r,
      description: allAdmin
        ? `${what}, only ever assigned an admin pool`
        : r.kind === 'appPool'
          ? `${what}, not shown to hold only an admin pool`
          : r.kind === 'unscopedTx'
            ? `${what}, a transaction with no org scope`
            : `${what}: ${r.description}`,
      evidence: [...r.evidence, { message: `${what} is assigned here: ${r.description}`, span: a.where[0]?.span } as Evidence].slice(0, 8),
    }));
  }

  /** Parameter j of a closure handed as argument k to `fn`: what fn passes when it calls it. */
  private resolveCb(v: Extract<Val, { t: 'cb' }>): Concrete[] {
    const f = this.program.funcs.get(v.fn);
    const named = this.opts.wrappers.has(v.callee) || this.opts.wrappers.has(v.callee.slice(v.callee.lastIndexOf('.') + 1));
    const where = f ? ` (${f.file.path}:${f.decl.loc[0]})` : '';
    const results: Concrete[] = [];
    const cuts = this.cuts;
    if (f) {
      for (const args of this.facts.invocations.get(`${v.fn}#${v.k}`) ?? []) for (const a of args[v.j] ?? []) results.push(...this.resolve(a));
      for (const [g, m] of this.facts.forwards.get(`${v.fn}#${v.k}`) ?? []) {
        const gName = this.program.funcs.get(g)?.name ?? g;
        results.push(...this.resolve({ t: 'cb', fn: g, k: m, j: v.j, callee: gName.slice(gName.lastIndexOf('.') + 1), type: v.type, settings: [] }));
      }
    }
    const isHandle = isTxType(v.type) || isPoolType(v.type) || !v.type || v.type === '?';
    if (named && f && results.length && results.some((r) => r.kind !== 'scopedTx')) {
      // Its body is in the tree and does not always scope the transaction: the body wins over the name.
      return results.map((r) => ({
        ...r,
        description: r.kind === 'scopedTx' ? `closure parameter of ${v.callee}${where}` : `closure parameter of ${v.callee}${where}, whose body hands it ${r.description}`,
        evidence: [{ message: `${v.callee} calls the closure with this handle`, span: this.span(f.file.path, f.decl.loc) }, ...r.evidence].slice(0, 8),
      }));
    }
    if (named) {
      const settings = wrapperSettings(v.callee, this.opts.defaultSetting);
      const fromBody = results.filter((r) => r.kind === 'scopedTx');
      if (fromBody.length) return fromBody.map((r) => ({ ...r, description: `closure parameter of org-scope wrapper ${v.callee}${where}`, evidence: [{ message: `closure parameter of ${v.callee}, which sets ${r.settings.join(', ')} transaction-locally`, span: f ? this.span(f.file.path, f.decl.loc) : undefined }, ...r.evidence].slice(0, 8) }));
      if (!isHandle) return [];
      return [{ kind: 'scopedTx', description: `closure parameter of org-scope wrapper ${v.callee}${where}`, settings, evidence: [{ message: `${v.callee} is a known org-scope wrapper (sets ${settings.join(', ')})`, span: f ? this.span(f.file.path, f.decl.loc) : undefined }] }];
    }
    if (results.length) {
      return results.map((r) => ({
        ...r,
        description: r.kind === 'scopedTx' ? `closure parameter of ${v.callee}${where}, which opens a transaction and sets ${r.settings.join(', ')} on it` : `closure parameter of ${v.callee}${where}: ${r.description}`,
        evidence: [{ message: `${v.callee} calls the closure with this handle`, span: f ? this.span(f.file.path, f.decl.loc) : undefined }, ...r.evidence].slice(0, 8),
      }));
    }
    if (!isHandle || this.cuts !== cuts) return [];
    return byType(v.type, `parameter of a closure passed to ${v.callee}, which is not a known org-scope wrapper`);
  }
}

/** A memoised result, and whether its walk met a cycle (replayed where it is used: see memoised). */
interface Resolved {
  value: Concrete[];
  cut: boolean;
}

/** Thrown when walks stopped at MAX_STACK cannot be finished by starting from deeper (see resolveFrom). */
class TooDeep {}

/** Thrown by a walk deeper than MAX_STACK, with the value it stopped at. */
class DeepWalk {
  constructor(
    readonly key: string,
    readonly f: () => Concrete[],
  ) {}
}

interface Template {
  owner: string;
  span: Span;
  sl: number;
  function: string;
  pkg: string;
  method: string;
  receiver: string;
  recv: Val[];
  sql: Val[];
  kind: RawSite['kind'];
  via: Evidence[];
}

/** "field Store.db" for `pkg/path.Store.db`; a builder's bound handle reads "the RunWith handle of field Store.sb". */
function fieldLabel(key: string): string {
  const runWith = key.endsWith('#runWith');
  const k = runWith ? key.slice(0, -'#runWith'.length) : key;
  const short = k.slice(k.lastIndexOf('.', k.lastIndexOf('.') - 1) + 1);
  return runWith ? `the RunWith handle of builder field ${short}` : `field ${short}`;
}

function recvText(t: Template, c: RawCall): string {
  const p = t.recv.find((v) => v.t === 'param' && v.fn === t.owner);
  if (p && p.t === 'param') return c.argText[p.i] ?? t.receiver;
  return `${t.receiver} (inside ${c.calleeText})`;
}

/** The parameters of `owner` its SQL texts are made of: with callers, an SQL helper, whose callers give the text. */
export function paramRefs(sql: Val[], owner: string): number[] {
  const out = new Set<number>();
  for (const v of sql) if (v.t === 'str') for (const p of v.parts) if (typeof p !== 'string' && p.param && p.param.fn === owner) out.add(p.param.i);
  return [...out];
}

function substituteSql(sql: Val[], owner: string, args: Val[][]): Val[] {
  const out: Val[] = [];
  for (const v of sql) {
    if (v.t !== 'str') continue;
    let acc: Part[][] = [[]];
    for (const p of v.parts) {
      if (typeof p !== 'string' && p.param && p.param.fn === owner) {
        const alts = (args[p.param.i] ?? []).filter((a) => a.t === 'str' || a.t === 'param');
        const choices = alts.length ? alts.map((a) => asParts(a, p.hole)) : [[{ hole: p.hole } as Part]];
        const next: Part[][] = [];
        for (const a of acc) for (const c of choices) if (next.length < 24) next.push([...a, ...c]);
        acc = next;
      } else acc = acc.map((a) => [...a, p]);
    }
    out.push(...acc.map((parts) => mkStr(parts)));
  }
  return union(out);
}

function addSettings(v: Val, settings: string[]): Val {
  if (!settings.length || !('settings' in v)) return v;
  return { ...v, settings: [...new Set([...(v.settings as string[]), ...settings])].sort() } as Val;
}

/** Transaction-local settings satisfy a write when, for every gated table, they cover one of its policies. */
function settingsSatisfy(have: string[], need: WriteNeed): boolean {
  return settingsCover(have, need.tables);
}

export function satisfies(h: HandleVerdict, need: WriteNeed): boolean {
  return !need.gated || handleSatisfies(h, need.tables);
}

function txVerdict(settings: string[], ev: Evidence[], description: string): Concrete {
  return settings.length
    ? { kind: 'scopedTx', description: `${description}, with ${settings.join(', ')} set transaction-locally`, settings, evidence: ev }
    : { kind: 'unscopedTx', description: `${description}, with no org scope set on it`, settings, evidence: ev };
}

function withSettingsVerdict(c: Concrete, settings: string[]): Concrete {
  if (!settings.length || (c.kind !== 'scopedTx' && c.kind !== 'unscopedTx')) return c;
  const all = [...new Set([...c.settings, ...settings])].sort();
  return { ...c, kind: 'scopedTx', settings: all, description: `${c.description.replace(/, with no org scope set on it$/, '')}, then ${settings.join(', ')} set transaction-locally` };
}

function byType(type: string, why: string): Concrete[] {
  if (isTxType(type)) return [{ kind: 'unknown', description: `a transaction (${shortType(type)}) from ${why}; nothing shows an org scope was set on it`, settings: [], evidence: [] }];
  if (isPoolType(type)) return [{ kind: 'appPool', description: `${shortType(type)} from ${why}; not shown to be an admin pool`, settings: [], evidence: [] }];
  return [{ kind: 'unknown', description: why + (type && type !== '?' ? ` (${shortType(type)})` : ''), settings: [], evidence: [] }];
}

function dedupeHandles(hs: Concrete[]): Concrete[] {
  const seen = new Set<string>();
  const out: Concrete[] = [];
  for (const h of hs) {
    const k = `${h.kind}|${h.description}|${h.settings.join(',')}`;
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(h);
  }
  return out.slice(0, 16);
}
