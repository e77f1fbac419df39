// The whole analysed tree as one index: packages, their functions, methods, types, consts and vars, and how
// import paths map onto packages of the tree.
import type { Expr, FileIR, FuncDeclIR, TypeDeclIR } from '../go/ir.js';
import { own } from '../records.js';

export interface FuncInfo {
  /** `pkgKey.Name` or `pkgKey.Type.Method`. */
  id: string;
  /** Display name: `Name` or `Type.Method`. */
  name: string;
  pkg: PackageInfo;
  file: FileIR;
  decl: FuncDeclIR;
}

export interface PackageInfo {
  key: string;
  /** Root-relative directory. */
  dir: string;
  name: string;
  files: FileIR[];
  funcs: Map<string, FuncInfo>;
  /** `Type.Method` -> function */
  methods: Map<string, FuncInfo>;
  types: Map<string, TypeDeclIR>;
  consts: Map<string, { e: Expr; file: FileIR }>;
  vars: Map<string, { t: string; v: Expr | null; file: FileIR; line: number }>;
}

/**
 * The key of the tree package an import path names: the key itself (a module path), else the package without a
 * module (`dir:<directory>`) whose directory ends the import path, the longest such. Null: not in the tree.
 */
export function importedPackageKey(path: string, keys: Iterable<string>): string | null {
  let found: string | null = null;
  let bestLen = 0;
  for (const key of keys) {
    if (key === path) return key;
    if (!key.startsWith('dir:')) continue;
    const dir = key.slice(4);
    if (dir !== '.' && (path === dir || path.endsWith('/' + dir)) && dir.length > bestLen) {
      found = key;
      bestLen = dir.length;
    }
  }
  return found;
}

/**
 * Told of every lookup into the program's declarations made while it is set: what one file's interpretation
 * depends on besides its own package (the engine keys cached facts by it).
 */
export interface ProgramObserver {
  imported(path: string, pkg: PackageInfo | null): void;
  typeDecl(canonical: string, pkg: PackageInfo | null): void;
  func(id: string, f: FuncInfo | undefined): void;
  implementations(method: string): void;
}

export class Program {
  readonly packages = new Map<string, PackageInfo>();
  readonly funcs = new Map<string, FuncInfo>();
  private importCache = new Map<string, PackageInfo | null>();
  /** See ProgramObserver; null outside an interpretation that records its dependencies. */
  observer: ProgramObserver | null = null;

  constructor(readonly files: FileIR[]) {
    for (const f of files) {
      const dir = f.path.includes('/') ? f.path.slice(0, f.path.lastIndexOf('/')) : '.';
      let p = this.packages.get(f.pkgKey);
      if (!p) {
        p = { key: f.pkgKey, dir, name: f.pkgName, files: [], funcs: new Map(), methods: new Map(), types: new Map(), consts: new Map(), vars: new Map() };
        this.packages.set(f.pkgKey, p);
      }
      p.files.push(f);
      // Keys, and objects built field by field: Object.entries and a spread copy per variable made this loop ~130 ms
      // of the 20k-file fork's pre-commit run.
      for (const n of Object.keys(f.types)) p.types.set(n, f.types[n]!);
      for (const n of Object.keys(f.consts)) p.consts.set(n, { e: f.consts[n]!, file: f });
      for (const n of Object.keys(f.vars)) {
        const v = f.vars[n]!;
        p.vars.set(n, { t: v.t, v: v.v, line: v.line, file: f });
      }
      for (const d of f.funcs) {
        const name = d.recvType ? `${d.recvType}.${d.name}` : d.name;
        const id = `${f.pkgKey}.${name}`;
        // init() may appear in several files: keep each, with a distinct id.
        const uid = this.funcs.has(id) ? `${id}#${f.path}:${d.loc[0]}` : id;
        const info: FuncInfo = { id: uid, name, pkg: p, file: f, decl: d };
        this.funcs.set(uid, info);
        if (d.recvType) p.methods.set(name, info);
        else if (!p.funcs.has(d.name)) p.funcs.set(d.name, info);
      }
    }
  }

  /** The package of the tree an import path names, if any (see importedPackageKey). */
  packageForImport(path: string): PackageInfo | null {
    let found = this.importCache.get(path);
    if (found === undefined) {
      const key = importedPackageKey(path, this.packages.keys());
      found = key === null ? null : this.packages.get(key)!;
      this.importCache.set(path, found);
    }
    this.observer?.imported(path, found);
    return found;
  }

  /** A function of the tree by id (observed: see ProgramObserver). */
  func(id: string): FuncInfo | undefined {
    const f = this.funcs.get(id);
    this.observer?.func(id, f);
    return f;
  }

  /** A named type of the tree from its canonical name (`pkgKey.Name`, pointer stripped). */
  private typeDecls = new Map<string, { pkg: PackageInfo; name: string; decl: TypeDeclIR } | null>();

  typeDecl(canonical: string): { pkg: PackageInfo; name: string; decl: TypeDeclIR } | null {
    let hit = this.typeDecls.get(canonical);
    if (hit === undefined) {
      const observer = this.observer;
      this.observer = null; // the lookup's own import resolution is part of this answer
      try {
        hit = this.lookupTypeDecl(canonical);
      } finally {
        this.observer = observer;
      }
      this.typeDecls.set(canonical, hit);
    }
    this.observer?.typeDecl(canonical, hit?.pkg ?? null);
    return hit;
  }

  private lookupTypeDecl(canonical: string): { pkg: PackageInfo; name: string; decl: TypeDeclIR } | null {
    const t = canonical.replace(/^\*+/, '');
    const dot = t.lastIndexOf('.');
    if (dot < 0) return null;
    const pkgKey = t.slice(0, dot);
    const name = t.slice(dot + 1);
    const pkg = this.packages.get(pkgKey) ?? this.packageForImport(pkgKey);
    const decl = pkg?.types.get(name);
    return pkg && decl ? { pkg, name, decl } : null;
  }

  /** Type of field `f` of a named struct type (following embedded fields two levels deep). */
  fieldType(typeName: string, field: string, depth = 0): { owner: string; type: string } | null {
    const td = this.typeDecl(typeName);
    if (!td) return null;
    const owner = `${td.pkg.key}.${td.name}`;
    const direct = own(td.decl.fields, field);
    if (direct && !td.decl.embedded.includes(direct)) return { owner, type: direct };
    if (depth < 2) {
      for (const emb of td.decl.embedded) {
        const r = this.fieldType(emb, field, depth + 1);
        if (r) return r;
      }
    }
    if (direct) return { owner, type: direct };
    // A defined type over another named type (`type Store struct{...}; type TxStore Store`)
    if (td.decl.underlying && td.decl.underlying !== 'struct' && depth < 2) return this.fieldType(td.decl.underlying, field, depth + 1);
    return null;
  }

  private methodSets: Map<string, Set<string>> | null = null;
  private byMethodName: Map<string, FuncInfo[]> | null = null;

  /**
   * The methods of the tree an interface method call can reach: method `m` of every named type of the tree whose
   * method set includes all of the interface's methods. Empty when `typeName` is not an interface of the tree.
   */
  implementations(typeName: string, m: string): FuncInfo[] {
    const td = this.typeDecl(typeName);
    const wanted = td?.decl.methods;
    if (!td || !wanted?.includes(m)) return [];
    this.observer?.implementations(m);
    // Memoised per interface and method (the lookups above still run: the observer must see them every time).
    let byMethod = this.implementationsOf.get(td);
    if (!byMethod) this.implementationsOf.set(td, (byMethod = new Map()));
    let found = byMethod.get(m);
    if (!found) {
      const { methodSets, byMethodName } = this.methodIndex();
      found = (byMethodName.get(m) ?? []).filter((f) => {
        const set = methodSets.get(`${f.pkg.key}.${f.decl.recvType}`);
        return !!set && wanted.every((w) => set.has(w));
      });
      byMethod.set(m, found);
    }
    return found;
  }

  private implementationsOf = new Map<object, Map<string, FuncInfo[]>>();

  private methodIndex(): { methodSets: Map<string, Set<string>>; byMethodName: Map<string, FuncInfo[]> } {
    if (!this.methodSets || !this.byMethodName) {
      this.methodSets = new Map();
      this.byMethodName = new Map();
      for (const f of this.funcs.values()) {
        if (!f.decl.recvType) continue;
        const id = `${f.pkg.key}.${f.decl.recvType}`;
        if (!this.methodSets.has(id)) this.methodSets.set(id, new Set());
        this.methodSets.get(id)!.add(f.decl.name);
        if (!this.byMethodName.has(f.decl.name)) this.byMethodName.set(f.decl.name, []);
        this.byMethodName.get(f.decl.name)!.push(f);
      }
    }
    return { methodSets: this.methodSets, byMethodName: this.byMethodName };
  }

  /**
   * What `implementations(…, m)` can answer from: every method named `m` with its receiver's method set and its
   * signature. Equal digests, equal answers (and equal callees) for every interface.
   */
  implementationsDigest(m: string): string {
    const { methodSets, byMethodName } = this.methodIndex();
    return (byMethodName.get(m) ?? []).map((f) => `${this.signatureText(f)} ${this.methodSetText(methodSets, `${f.pkg.key}.${f.decl.recvType}`)}`).join('\n');
  }

  private signatures = new Map<string, string>();
  /** A function's id and signature as text (memoised). */
  signatureText(f: FuncInfo): string {
    let t = this.signatures.get(f.id);
    if (t === undefined) this.signatures.set(f.id, (t = JSON.stringify([f.id, f.decl.params, f.decl.results, f.decl.resultNames])));
    return t;
  }

  private methodSetTexts = new Map<string, string>();
  private methodSetText(sets: Map<string, Set<string>>, recv: string): string {
    let t = this.methodSetTexts.get(recv);
    if (t === undefined) this.methodSetTexts.set(recv, (t = [...(sets.get(recv) ?? [])].sort().join(',')));
    return t;
  }

  /** Method `m` of a named type (following embedded fields). */
  method(typeName: string, m: string, depth = 0): FuncInfo | null {
    const td = this.typeDecl(typeName);
    if (!td) return null;
    const direct = td.pkg.methods.get(`${td.name}.${m}`);
    if (direct) return direct;
    if (depth < 2) {
      for (const emb of td.decl.embedded) {
        const r = this.method(emb, m, depth + 1);
        if (r) return r;
      }
    }
    return null;
  }
}
