// Abstract values of the interpreter. A variable holds a *set* of values (every binding on every path).
// Values that depend on facts outside the function being interpreted are symbolic (param, field, gvar, ret, cb)
// and resolved over the whole program afterwards (solve.ts).
import type { Evidence } from '../model.js';
import type { FuncIR } from '../go/ir.js';

/** A piece of a possible string: literal text or a hole; a hole may stand for a parameter of a function. */
export type Part = string | { hole: string; param?: { fn: string; i: number } };

export type Val =
  | { t: 'str'; parts: Part[] }
  | { t: 'list'; items: Val[] }
  | { t: 'tx'; settings: string[]; ev: Evidence[]; origin: string; from?: Val }
  | { t: 'pool'; admin: boolean; ev: Evidence[]; origin: string }
  | { t: 'stmt' }
  /** A squirrel query builder: its verb, possible table names, and the handle given to RunWith. */
  | { t: 'builder'; verb: 'INSERT' | 'UPDATE' | 'DELETE' | 'SELECT' | null; table: Val[]; runWith: Val[]; runWithText?: string }
  | { t: 'batch'; id: string }
  | { t: 'obj'; type: string; fields: Record<string, Val[]> }
  | { t: 'fnlit'; id: string }
  /** A driver method value (`exec := db.ExecContext`): calling it runs SQL on the bound receiver. */
  | { t: 'bound'; recv: Val[]; recvType: string; recvText: string; method: string }
  | { t: 'fnref'; fn: string }
  | { t: 'param'; fn: string; i: number; type: string; name: string; settings: string[] }
  | { t: 'field'; key: string; type: string; settings: string[] }
  | { t: 'gvar'; key: string; type: string; settings: string[] }
  | { t: 'ret'; fn: string; i: number; settings: string[] }
  | { t: 'cb'; fn: string; k: number; j: number; callee: string; type: string; settings: string[] }
  | { t: 'unknown'; type: string; why: string };

export const MAX_VALS = 24;
const MAX_PARTS = 400;

export function key(v: Val): string {
  return JSON.stringify(v);
}

/** Union without duplicates, widening string sets that grow past MAX_VALS. */
export function union(...sets: Val[][]): Val[] {
  // Most unions are of one value or of the same object twice: no key (a JSON text) is needed for those.
  let total = 0;
  let only: Val | undefined;
  for (const s of sets) {
    total += s.length;
    if (s.length) only = s[0];
  }
  if (total === 0) return [];
  if (total === 1) return [only!];
  const seenObj = new Set<Val>();
  const seen = new Set<string>();
  const out: Val[] = [];
  for (const s of sets) {
    for (const v of s) {
      if (seenObj.has(v)) continue;
      seenObj.add(v);
      const k = key(v);
      if (seen.has(k)) continue;
      seen.add(k);
      out.push(v);
    }
  }
  return out.length > MAX_VALS ? widen(out) : out;
}

export function str(s: string): Val {
  return { t: 'str', parts: [s] };
}

export function hole(desc: string): Val {
  return { t: 'str', parts: [{ hole: desc }] };
}

/** Literal text of a string value before its first hole. */
export function literalPrefix(parts: Part[]): string {
  let s = '';
  for (const p of parts) {
    if (typeof p !== 'string') break;
    s += p;
  }
  return s;
}

/**
 * Too many possible texts (forty `if` appends to one query): keep each distinct head (the literal text up to the
 * first hole, cut at 120 characters) followed by a hole, so verbs and tables survive and nothing is enumerated.
 */
function widen(vals: Val[]): Val[] {
  const strs = vals.filter((v): v is Extract<Val, { t: 'str' }> => v.t === 'str');
  const others = vals.filter((v) => v.t !== 'str');
  const heads = new Map<string, Val>();
  for (const s of strs) {
    const head = literalPrefix(s.parts).slice(0, 120);
    if (!heads.has(head)) heads.set(head, { t: 'str', parts: head ? [head, { hole: 'one of many possible texts' }] : [{ hole: 'one of many possible texts' }] });
  }
  let out = [...others.slice(0, MAX_VALS), ...heads.values()];
  if (out.length > MAX_VALS) {
    // Still too many heads: fold them to their common prefix.
    const texts = [...heads.keys()];
    let common = texts[0] ?? '';
    for (const t of texts) while (!t.startsWith(common)) common = common.slice(0, -1);
    out = [...others.slice(0, MAX_VALS - 1), { t: 'str', parts: common ? [common, { hole: 'one of many possible texts' }] : [{ hole: 'one of many possible texts' }] }];
  }
  return out;
}

function normParts(parts: Part[]): Part[] {
  const out: Part[] = [];
  for (const p of parts) {
    const last = out[out.length - 1];
    if (typeof p === 'string') {
      if (p === '') continue;
      if (typeof last === 'string') out[out.length - 1] = last + p;
      else out.push(p);
    } else {
      // Adjacent anonymous holes merge; parameter holes stay distinct.
      if (last && typeof last !== 'string' && !last.param && !p.param) continue;
      out.push(p);
    }
  }
  if (out.length > MAX_PARTS) return [...out.slice(0, MAX_PARTS), { hole: 'rest of a very long text' }];
  return out;
}

/** The string parts a value contributes when used as text (a non-string becomes a hole). */
export function asParts(v: Val, desc: string): Part[] {
  switch (v.t) {
    case 'str':
      return v.parts;
    case 'param':
      return [{ hole: `parameter ${v.name}`, param: { fn: v.fn, i: v.i } }];
    default:
      return [{ hole: desc }];
  }
}

export function concat(a: Val[], b: Val[], descA: string, descB: string): Val[] {
  const as = a.length ? a : [hole(descA)];
  const bs = b.length ? b : [hole(descB)];
  if (as.length * bs.length > MAX_VALS * 4) {
    // Widen before the product explodes.
    return union(as.map((x) => ({ t: 'str', parts: normParts([...asParts(x, descA), { hole: descB }]) }) as Val));
  }
  const out: Val[] = [];
  for (const x of as) for (const y of bs) out.push({ t: 'str', parts: normParts([...asParts(x, descA), ...asParts(y, descB)]) });
  return union(out);
}

export function mkStr(parts: Part[]): Val {
  return { t: 'str', parts: normParts(parts) };
}


/** Adds a transaction-local setting to every value that can carry one. */
export function withSetting(v: Val, setting: string): Val {
  if ('settings' in v) {
    if (v.settings.includes(setting)) return v;
    return { ...v, settings: [...v.settings, setting].sort() } as Val;
  }
  return v;
}

export interface FnLit {
  id: string;
  f: FuncIR;
}
