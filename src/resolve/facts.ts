// Pass-1 facts per file: each file's functions are interpreted into facts of their own, which are then joined in
// program order (sites concatenated, setter summaries merged here, the rest per key in program-facts.ts). A file's
// facts depend only on its own text, on the declarations of the whole program (types, signatures, constants,
// variables: its "shape") and on the setter summaries of the round, so they can be cached under those keys and
// read back (factsToData / factsFromData) instead of interpreting again: a body-only edit re-interprets only the
// edited file.
import type { Evidence } from '../model.js';
import type { FileIR, FuncDeclIR } from '../go/ir.js';
import { emptyFacts, type Facts, type RawCall, type RawSite } from './interpret.js';
import type { PackageInfo } from './program.js';
import type { Val } from './values.js';

/** Facts of one file as plain JSON: sites and calls without their (implied) package and file. */
export interface FileFactsData {
  sites: Array<Omit<RawSite, 'pkg' | 'file'>>;
  calls: Array<Omit<RawCall, 'pkg' | 'file'>>;
  fields: Array<[string, { vals: Val[]; where: Evidence[] }]>;
  gvars: Array<[string, { vals: Val[]; where: Evidence[] }]>;
  returns: Array<[string, Val[][]]>;
  invocations: Array<[string, Val[][][]]>;
  forwards: Array<[string, Array<[string, number]>]>;
  batches: Array<[string, Val[]]>;
  setters: Array<[string, Array<[number, string[]]>]>;
}

export function siteKey(s: Pick<RawSite, 'file' | 'loc' | 'kind'>): string {
  return `${s.file.path}:${s.loc.join(':')}:${s.kind}`;
}

export function factsToData(f: Facts): FileFactsData {
  return {
    sites: f.sites.map(({ pkg: _p, file: _f, ...rest }) => rest),
    calls: f.calls.map(({ pkg: _p, file: _f, ...rest }) => rest),
    fields: [...f.fields],
    gvars: [...f.gvars],
    returns: [...f.returns],
    invocations: [...f.invocations],
    forwards: [...f.forwards],
    batches: [...f.batches],
    setters: [...f.setters].map(([fn, m]) => [fn, [...m]]),
  };
}

/** The facts `factsToData` stored, for the file they came from. */
export function factsFromData(d: FileFactsData, file: FileIR, pkg: PackageInfo): Facts {
  const f = emptyFacts();
  f.sites = sitesFromData(d.sites, file, pkg);
  for (const site of f.sites) f.siteIndex.set(siteKey(site), site);
  for (const c of d.calls) f.calls.push(callFromData(c, file, pkg));
  f.fields = new Map(d.fields);
  f.gvars = new Map(d.gvars);
  f.returns = new Map(d.returns);
  f.invocations = new Map(d.invocations);
  f.forwards = new Map(d.forwards);
  f.batches = new Map(d.batches);
  f.setters = settersFromData(d.setters);
  return f;
}

/**
 * The sites `factsToData` stored, for the file they came from (what every round merges of a cached file). Built
 * field by field, in the order the interpreter builds them: a spread copy (`{ ...s, pkg, file }`) of an object
 * JSON.parse made costs ~15 times as much (~45 ms of the 20k-file fork's pre-commit run).
 */
export function sitesFromData(sites: FileFactsData['sites'], file: FileIR, pkg: PackageInfo): RawSite[] {
  return sites.map((s) => {
    const site: RawSite = { owner: s.owner, ownerName: s.ownerName, pkg, file, loc: s.loc, sl: s.sl, method: s.method, receiver: s.receiver, recv: s.recv, sql: s.sql, kind: s.kind };
    if (s.batch !== undefined) site.batch = s.batch;
    return site;
  });
}

/** A call `factsToData` stored, for the file it came from (field by field: see sitesFromData). */
function callFromData(c: FileFactsData['calls'][number], file: FileIR, pkg: PackageInfo): RawCall {
  return { caller: c.caller, callerName: c.callerName, pkg, file, loc: c.loc, sl: c.sl, callee: c.callee, calleeText: c.calleeText, args: c.args, argText: c.argText };
}

/** The setter summaries `factsToData` stored. */
export function settersFromData(setters: FileFactsData['setters']): Facts['setters'] {
  return new Map(setters.map(([fn, m]) => [fn, new Map(m)]));
}

/** Adds one file's setter summaries to `into`. */
export function mergeSetters(into: Pick<Facts, 'setters'>, setters: Facts['setters']): void {
  for (const [fn, m] of setters) {
    let to = into.setters.get(fn);
    if (!to) into.setters.set(fn, (to = new Map()));
    for (const [i, settings] of m) to.set(i, [...new Set([...(to.get(i) ?? []), ...settings])].sort());
  }
}

/**
 * What interpreting a file's functions can read of another file `f`: its package, imports, types, constants,
 * variables (type and initialiser) and function signatures; for a file of another package (`forOtherPackages`),
 * without its unexported plain functions, which Go code there cannot name. Part of every file's facts key.
 * Positions that only `f`'s own facts use are left out (a function's span, a variable's line: an edit that moves
 * them does not re-interpret the rest of the program; a function id that embeds a line is covered separately).
 * Never reads `body` (cached IR parses bodies on first access).
 */
export function declarationsOf(f: FileIR, forOtherPackages: boolean): unknown {
  const visible = forOtherPackages ? f.funcs.filter(nameableElsewhere) : f.funcs;
  const funcs = visible.map((d) => [d.name, d.recvType, d.recvName, d.params, d.results, d.resultNames]);
  const vars = Object.entries(f.vars).map(([n, v]) => [n, v.t, v.v]);
  return [f.path, f.pkgName, f.pkgKey, f.imports, f.types, f.consts, vars, funcs];
}

/** Whether code of another package can name a function: a method, or an exported function. */
export function nameableElsewhere(d: Pick<FuncDeclIR, 'name' | 'recvType'>): boolean {
  return d.recvType !== null || isExported(d.name);
}

/** Go's rule: a name is exported when it starts with an upper-case letter of any script (`Ärger` too). */
export function isExported(name: string): boolean {
  return /^\p{Lu}/u.test(name);
}
