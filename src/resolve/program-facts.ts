// The whole program's pass-1 facts as pass 2 reads them, merged per key on first use.
//
// Each file contributes a part: facts interpreted in this run, or facts in the cache whose data is parsed only
// when pass 2 asks for a key the file holds (a part lists the hashed keys it holds, per kind). Pass 2 asks for
// little of it: on temporal a pre-commit run resolves calls to 655 of 4,313 callees, and parses the facts of 99
// of 616 files instead of all of them. Values for a key are merged from the parts holding it, in program order,
// as merging every file's facts whole, one file after the other, would: the same calls in the same order, the
// same unions.
import type { Evidence } from '../model.js';
import type { Facts, RawCall, RawSite } from './interpret.js';
import { union, type Val } from './values.js';

/** What pass 2 (solve.ts) reads of the program's facts. */
export interface FactsView {
  sites: RawSite[];
  /** Calls of the function with this id, in program order. */
  callsTo(callee: string): RawCall[];
  fields: ReadonlyMap<string, Assigned>;
  gvars: ReadonlyMap<string, Assigned>;
  returns: ReadonlyMap<string, Val[][]>;
  invocations: ReadonlyMap<string, Val[][][]>;
  forwards: ReadonlyMap<string, Array<[string, number]>>;
  batches: ReadonlyMap<string, Val[]>;
}

type Assigned = { vals: Val[]; where: Evidence[] };

/** Kinds of keyed facts, by the letter their hashed keys are stored under. */
const KINDS = { c: 'calls', f: 'fields', g: 'gvars', r: 'returns', i: 'invocations', w: 'forwards', b: 'batches' } as const;
type Kind = keyof typeof KINDS;

/** The hashed keys a file's facts hold, per kind (FNV-1a, 32 bits: a collision only parses a file for nothing). */
export type FactKeys = Record<Kind, number[]>;

/** One file's facts: interpreted in this run, or a cached entry's keys and a loader of its data. */
export type FactsPart = { facts: Facts } | { keys: FactKeys; load: () => Facts };

export function keyHash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

function keysOfKind(f: Facts, kind: Kind): Iterable<string> {
  if (kind === 'c') return new Set(f.calls.map((c) => c.callee));
  return f[KINDS[kind] as Exclude<(typeof KINDS)[Kind], 'calls'>].keys();
}

/** The keys to store with a file's facts. */
export function factKeys(f: Facts): FactKeys {
  const out = {} as FactKeys;
  for (const kind of Object.keys(KINDS) as Kind[]) out[kind] = [...new Set(Array.from(keysOfKind(f, kind), keyHash))];
  return out;
}

/** The merged facts of `parts` (in program order) plus `sites`, already merged. */
export class ProgramFacts implements FactsView {
  private readonly loaded: Array<Facts | undefined> = [];
  private readonly indexes = new Map<Kind, Map<number, number[]>>();
  private readonly callIndex = new Map<number, Map<string, RawCall[]>>();
  private readonly calls = new Map<string, RawCall[]>();
  readonly fields: ReadonlyMap<string, Assigned>;
  readonly gvars: ReadonlyMap<string, Assigned>;
  readonly returns: ReadonlyMap<string, Val[][]>;
  readonly invocations: ReadonlyMap<string, Val[][][]>;
  readonly forwards: ReadonlyMap<string, Array<[string, number]>>;
  readonly batches: ReadonlyMap<string, Val[]>;

  constructor(
    readonly sites: RawSite[],
    private readonly parts: FactsPart[],
  ) {
    // How one more file's value for a key joins the value merged so far.
    const assigned = (prev: Assigned | undefined, a: Assigned): Assigned => (prev ? { vals: union(prev.vals, a.vals), where: [...prev.where, ...a.where].slice(0, 8) } : a);
    this.fields = new MergedMap(this, 'f', (f) => f.fields, assigned);
    this.gvars = new MergedMap(this, 'g', (f) => f.gvars, assigned);
    this.returns = new MergedMap(this, 'r', (f) => f.returns, (prev, rs) => (prev ? rs.map((v, i) => union(prev[i] ?? [], v)) : rs));
    this.invocations = new MergedMap(this, 'i', (f) => f.invocations, (prev, list) => [...(prev ?? []), ...list]);
    this.forwards = new MergedMap(this, 'w', (f) => f.forwards, (prev, list) => {
      const to = prev ?? [];
      for (const [c, m] of list) if (!to.some(([c2, m2]) => c2 === c && m2 === m)) to.push([c, m]);
      return to;
    });
    this.batches = new MergedMap(this, 'b', (f) => f.batches, (prev, hs) => union(prev ?? [], hs));
  }

  callsTo(callee: string): RawCall[] {
    let out = this.calls.get(callee);
    if (out) return out;
    out = [];
    for (const i of this.holding('c', callee)) out.push(...(this.callsIn(i).get(callee) ?? []));
    this.calls.set(callee, out);
    return out;
  }

  /** Indexes of the parts that may hold `key` of `kind`, in program order. */
  holding(kind: Kind, key: string): number[] {
    let index = this.indexes.get(kind);
    if (!index) {
      index = new Map();
      this.parts.forEach((p, i) => {
        for (const h of 'facts' in p ? Array.from(keysOfKind(p.facts, kind), keyHash) : p.keys[kind]) {
          const l = index!.get(h);
          if (!l) index!.set(h, [i]);
          else if (l[l.length - 1] !== i) l.push(i);
        }
      });
      this.indexes.set(kind, index);
    }
    return index.get(keyHash(key)) ?? [];
  }

  /** The facts of part `i`, parsed on first use. */
  part(i: number): Facts {
    let f = this.loaded[i];
    if (!f) {
      const p = this.parts[i]!;
      this.loaded[i] = f = 'facts' in p ? p.facts : p.load();
    }
    return f;
  }

  get partCount(): number {
    return this.parts.length;
  }

  private callsIn(i: number): Map<string, RawCall[]> {
    let m = this.callIndex.get(i);
    if (!m) {
      m = new Map();
      for (const c of this.part(i).calls) {
        const l = m.get(c.callee);
        if (l) l.push(c);
        else m.set(c.callee, [c]);
      }
      this.callIndex.set(i, m);
    }
    return m;
  }
}

/**
 * A map of merged facts of one kind: a key's value is merged from the parts that hold it when first asked; a
 * walk over the whole map merges every part, in program order (entries come in the order files first hold them).
 */
class MergedMap<V> implements ReadonlyMap<string, V> {
  private readonly byKey = new Map<string, V | undefined>();
  private all: Map<string, V> | null = null;

  constructor(
    private readonly program: ProgramFacts,
    private readonly kind: Kind,
    private readonly of: (f: Facts) => ReadonlyMap<string, V>,
    private readonly merge: (prev: V | undefined, add: V) => V,
  ) {}

  get(key: string): V | undefined {
    if (this.all) return this.all.get(key);
    if (this.byKey.has(key)) return this.byKey.get(key);
    let v: V | undefined;
    for (const i of this.program.holding(this.kind, key)) {
      const add = this.of(this.program.part(i)).get(key);
      if (add !== undefined) v = this.merge(v, add);
    }
    this.byKey.set(key, v);
    return v;
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  private whole(): Map<string, V> {
    if (!this.all) {
      const all = new Map<string, V>();
      for (let i = 0; i < this.program.partCount; i++) for (const [k, add] of this.of(this.program.part(i))) all.set(k, this.merge(all.get(k), add));
      this.all = all;
    }
    return this.all;
  }

  get size(): number {
    return this.whole().size;
  }
  entries(): MapIterator<[string, V]> {
    return this.whole().entries();
  }
  keys(): MapIterator<string> {
    return this.whole().keys();
  }
  values(): MapIterator<V> {
    return this.whole().values();
  }
  forEach(cb: (value: V, key: string, map: ReadonlyMap<string, V>) => void): void {
    for (const [k, v] of this.whole()) cb(v, k, this);
  }
  [Symbol.iterator](): MapIterator<[string, V]> {
    return this.whole()[Symbol.iterator]();
  }
}
