// The Go files of a run as the engine sees them: path, package, content key, and what the prefilter reads from the
// text (seed or not, references to other packages). With the cache, a *file index* remembers these per file
// together with the file's stat stamp (host.ts: statStamp), so a file whose stamp has not changed since an earlier
// run is not read at all, not even its head for the generated-code check: a pre-commit run on a large tree reads
// only the files that changed. A stamp is only remembered when the file's mtime and ctime were clearly older than
// the start of the run that read it (host.ts: stampTrusted), so an edit within one timestamp tick of a read is
// never missed.
import { hashText, type FactsCache } from '../cache/cache.js';
import { importsOf } from '../discover/prefilter.js';
import { stampTrusted, type Host } from '../host.js';

/** Import path -> every `Name` the file writes as `alias.Name` for that import. */
export type ImportRefs = Array<[string, string[]]>;

interface IndexEntry {
  /** statStamp when the file was read. */
  s: string;
  /** Generated (skipped) file: nothing else is recorded. */
  g?: 1;
  /** Content key (hashText of path, package and text) and the package it was computed with. */
  k?: string;
  p?: string;
  /** Prefilter seed, under the index's seedKey. */
  seed?: boolean;
  /** Every import path of the file, and the references for those that named a package of the tree. */
  imports?: string[];
  refs?: ImportRefs;
  /**
   * Analysed without the generated-code check (a file named on the command line): whether it is generated is
   * not known. Other entries with a content key are of files found not generated.
   */
  u?: 1;
}

interface StoredIndex {
  seedKey: string;
  files: Record<string, IndexEntry>;
}

export class SourceFile {
  private textValue: string | null;
  private seedValue: boolean | undefined;
  private refsValue: ImportRefs | undefined;
  private importsValue: string[] | undefined;
  /**
   * The text read lazily differed from the key the run was computed with, or could not be read (the file changed
   * or vanished during the run): nothing computed from it may be cached under that key.
   */
  stale = false;
  /** The seed or the references were computed in this run (the index has something new to keep). */
  learnt = false;

  constructor(
    readonly rel: string,
    readonly abs: string,
    readonly pkgKey: string,
    readonly key: string,
    text: string | null,
    private readonly host: Host,
    known?: { seed?: boolean | undefined; imports?: string[] | undefined; refs?: ImportRefs | undefined },
  ) {
    this.textValue = text;
    this.seedValue = known?.seed;
    this.refsValue = known?.refs;
    this.importsValue = known?.imports;
  }

  /** The file's text, read on first use when the index answered for it. Throws (a Node error) when unreadable. */
  text(): string {
    if (this.textValue === null) {
      try {
        this.textValue = this.host.readFile(this.abs);
      } catch (e) {
        this.stale = true;
        throw e;
      }
      if (hashText(this.rel, this.pkgKey, this.textValue) !== this.key) this.stale = true;
    }
    return this.textValue;
  }

  seed(isSeed: (text: string) => boolean): boolean {
    if (this.seedValue === undefined) {
      this.seedValue = isSeed(this.text());
      this.learnt = true;
    }
    return this.seedValue;
  }

  /**
   * The file's `alias.Name` references for every import path that names a package of the tree (`inTree`). Only
   * those are collected (the standard library's `fmt.`, `errors.` and the like are most of the rest); a later run
   * whose tree has a package more recomputes them.
   */
  refs(inTree: (path: string) => boolean): ImportRefs {
    if (this.refsValue !== undefined && this.importsValue !== undefined) {
      const considered = new Set(this.refsValue.map(([p]) => p));
      if (this.importsValue.every((p) => considered.has(p) || !inTree(p))) return this.refsValue;
    }
    const text = this.text();
    const imports = importsOf(text);
    this.importsValue = [...new Set(imports.values())];
    this.refsValue = importRefs(text, imports, inTree);
    this.learnt = true;
    return this.refsValue;
  }

  /** What the index keeps of the file (the text itself never). */
  entry(stamp: string): IndexEntry {
    const e: IndexEntry = { s: stamp, k: this.key, p: this.pkgKey };
    if (this.seedValue !== undefined) e.seed = this.seedValue;
    if (this.refsValue !== undefined && this.importsValue !== undefined) {
      e.imports = this.importsValue;
      e.refs = this.refsValue;
    }
    return e;
  }

  /** Lets the text go (it is not needed after parsing). */
  dropText(): void {
    if (this.textValue !== null && !this.stale) this.textValue = null;
  }
}

/** The `alias.Name` references of a file for the imports `wanted` keeps, per import path (names may be none). */
export function importRefs(text: string, imports: ReadonlyMap<string, string>, wanted: (path: string) => boolean): ImportRefs {
  const out: ImportRefs = [];
  // Any non-ASCII code unit counts as part of a name: outside strings and comments Go allows it only in
  // identifiers (`store.ÄndereRechnungen`); what such a scan makes of text in comments does not matter.
  const word = (c: number): boolean => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c > 127;
  for (const [alias, path] of imports) {
    if (!wanted(path)) continue;
    const prefix = `${alias}.`;
    const names = new Set<string>();
    for (let i = text.indexOf(prefix); i >= 0; i = text.indexOf(prefix, i + 1)) {
      const before = i > 0 ? text.charCodeAt(i - 1) : 32;
      if (word(before) || before === 46) continue;
      let j = i + prefix.length;
      while (j < text.length && word(text.charCodeAt(j))) j++;
      if (j > i + prefix.length) names.add(text.slice(i + prefix.length, j));
    }
    out.push([path, [...names]]);
  }
  return out;
}

/**
 * The file index of one run: answers for files whose stamp is unchanged, records what this run learnt, and is
 * written back at the end. Without a cache or a host that stamps files, it only reads files.
 */
export class FileIndex {
  private readonly stored: Record<string, IndexEntry>;
  private readonly stamps = new Map<string, string>();
  private readonly generated = new Map<string, boolean>();
  private named: ReadonlySet<string> = new Set();
  /** Files read this run because the index did not answer for them. */
  private readAgain = new Set<string>();

  constructor(
    private readonly host: Host,
    private readonly cache: FactsCache | null,
    private readonly rel: (abs: string) => string,
    /** Identifies the prefilter's seed rule (its configured names): seeds recorded under another rule are unknown. */
    private readonly seedKey: string,
    /** When the run started (ms since the epoch). */
    private readonly startedAt: number,
  ) {
    const s = cache && host.stamp ? (cache.readSide('files') as StoredIndex | undefined) : undefined;
    this.stored = s && typeof s.files === 'object' && s.files ? s.files : {};
    if (s && s.seedKey !== seedKey) for (const e of Object.values(this.stored)) delete e.seed;
  }

  private stampOf(abs: string): string | null {
    if (!this.host.stamp || !this.cache) return null;
    let st = this.stamps.get(abs);
    if (st === undefined) this.stamps.set(abs, (st = this.host.stamp(abs)));
    return st;
  }

  private known(abs: string): IndexEntry | undefined {
    const st = this.stampOf(abs);
    if (st === null) return undefined;
    const e = this.stored[this.rel(abs)];
    return e && e.s === st ? e : undefined;
  }

  /** For discovery: whether an unchanged walked file is generated; undefined when its head must be read. */
  knownGenerated(abs: string): boolean | undefined {
    const e = this.known(abs);
    if (!e) return undefined;
    return e.g === 1 ? true : e.k !== undefined && e.u !== 1 ? false : undefined;
  }

  /** Files named on the command line: analysed without the generated-code check (see IndexEntry.u). */
  noteNamed(files: ReadonlySet<string>): void {
    this.named = files;
  }

  /** Discovery read these heads: remember which files are generated. */
  noteGenerated(heads: ReadonlyMap<string, boolean>): void {
    for (const [abs, g] of heads) this.generated.set(abs, g);
  }

  /** The run's view of a Go file: from the index when unchanged, else read (throws like host.readFile). */
  source(abs: string, pkgKey: string): SourceFile {
    const r = this.rel(abs);
    const e = this.known(abs);
    if (e?.k !== undefined && e.p === pkgKey) return new SourceFile(r, abs, pkgKey, e.k, null, this.host, { seed: e.seed, imports: e.imports, refs: e.refs });
    // Stamped before reading: an edit after the stamp makes the next run's stamp differ.
    this.stampOf(abs);
    const text = this.host.readFile(abs);
    this.readAgain.add(abs);
    return new SourceFile(r, abs, pkgKey, hashText(r, pkgKey, text), text, this.host);
  }

  /**
   * Writes the index back: every file of this run whose stamp a later run may trust, plus the entries of files
   * this run did not look at (a scan of a subdirectory keeps the rest), unless those pile up. Not written when
   * it would gain no trusted entry: a run just after an edit learns only about files whose stamps are too recent
   * to keep, and the entries they replace can never match again (their stamps differ), so rewriting the whole
   * index (1.4 MB on temporal, ~8 ms) would change nothing a later run reads.
   */
  save(sources: readonly SourceFile[]): void {
    if (!this.cache || !this.host.stamp) return;
    const trusted = (st: string | undefined): st is string => st !== undefined && stampTrusted(st, this.startedAt);
    const seen = new Set([...this.stamps.keys()].map(this.rel));
    const files: Record<string, IndexEntry> = {};
    const unseen = Object.keys(this.stored).filter((r) => !seen.has(r));
    if (unseen.length <= seen.size + 1000) for (const r of unseen) files[r] = this.stored[r]!;
    // Entries of unseen files dropped (they piled up).
    let changed = unseen.length !== Object.keys(files).length;
    // Generated files the index answered for (their heads were not read): kept as they were.
    for (const [abs, st] of this.stamps) {
      const r = this.rel(abs);
      const e = this.stored[r];
      if (e?.g === 1 && e.s === st && !this.generated.has(abs)) files[r] = e;
    }
    for (const [abs, g] of this.generated) {
      const st = this.stamps.get(abs);
      // A head read this run: kept when its stamp is trusted (a generated file, or a file not analysed below).
      if (trusted(st)) {
        if (g) files[this.rel(abs)] = { s: st, g: 1 };
        changed = true;
      }
    }
    for (const src of sources) {
      const st = this.stamps.get(src.abs);
      if (!src.stale && trusted(st)) {
        files[src.rel] = src.entry(st);
        // Named, and not known from this run's or an earlier walk to be other than generated.
        if (this.named.has(src.abs) && this.generated.get(src.abs) !== false && this.knownGenerated(src.abs) !== false) files[src.rel]!.u = 1;
        // Read again, or learnt something (seed, references): a new entry.
        if (this.readAgain.has(src.abs) || src.learnt) changed = true;
      }
    }
    // A seen file whose trusted entry is new (a stamp now trusted).
    if (!changed) for (const r of seen) if (files[r] !== undefined && this.stored[r] === undefined) changed = true;
    if (!changed) return;
    this.cache.writeSide('files', { seedKey: this.seedKey, files } satisfies StoredIndex);
  }
}
