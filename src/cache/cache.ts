// Persistent cache of per-file facts (the lowered IR, keyed by a hash of the file's path, package and content; and
// the file's pass-1 facts, keyed by that and the program's declarations), under the tool version (one small file
// each, so an edit rewrites few entries); plus the last whole-run result keyed by every input, so an unchanged
// tree answers without parsing or analysing anything, and small side tables per root (the file index, SQL
// classifications, the folded catalog, the last widening), and packs of the first lines of the entries the last
// run used (read with one call each: pack.ts). Under the user cache directory (or --cache-dir), written atomically; a
// corrupt or foreign entry is ignored, never fatal.
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, sep } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import { UNLOADED_BODY, type FileIR, type FuncDeclIR } from '../go/ir.js';
import type { RunResult } from '../model.js';
import { TOOL_VERSION } from '../version.js';
import { writeFileAtomic } from '../files.js';
import { readFrom, readLine } from './entry.js';
import { keepingParsedLines, parsedOnce } from './kept.js';
import { CACHE_FORMAT, hashText } from './names.js';
import { HeadPack } from './pack.js';
import { EntryWriter } from './writer.js';

// Re-exported: the names every run's start needs live in a module of their own (names.ts).
export { CACHE_FORMAT, defaultCacheDir, hashText } from './names.js';

interface StoredFile {
  format: number;
  tool: string;
  ir: FileIR | null;
  decl?: string;
}

interface StoredFacts {
  format: number;
  tool: string;
  facts: unknown;
}

interface StoredRun {
  format: number;
  tool: string;
  /** hash of every input of the last run -> its result */
  key: string;
  result: RunResult;
}

export class FactsCache {
  private used = new Set<string>();
  /** Per-file entries are written on a worker thread while the run goes on (writer.ts). */
  private readonly writes = new EntryWriter();
  private declOf = new WeakMap<FileIR, string>();
  /** Files whose IR came from the cache without its function bodies: how to read them (get, loadBodies). */
  private bodyLoaders = new WeakMap<FileIR, () => void>();
  private run: StoredRun | null = null;
  private runDirty = false;
  /** One file per source file's facts, named by its content key: a run writes only what changed. */
  readonly dir: string;
  /** The last whole-run result lives in its own small file: a warm run reads only that. */
  readonly runFile: string;
  /** Side tables of this root: `<name>-<id>.json` beside the run file. */
  private readonly sideDir: string;
  private readonly id: string;

  /** The first lines of the IR entries and of the facts entries the last run used, one file each (pack.ts). */
  private readonly packs: Record<'ir' | 'facts', HeadPack>;

  constructor(dir: string, root: string) {
    this.id = hashText(root).slice(0, 16);
    this.dir = join(dir, `facts-${this.id}-v${CACHE_FORMAT}`);
    this.runFile = join(dir, `run-${this.id}.bin`);
    this.sideDir = dir;
    const pack = (kind: string): HeadPack => new HeadPack(join(dir, `pack-${kind}-${this.id}-v${CACHE_FORMAT}.bin`), (key) => this.entryFile(key), { format: CACHE_FORMAT, tool: TOOL_VERSION });
    // Apart: the IR's lines (three quarters of the bytes) are let go once parsing is done.
    this.packs = { ir: pack('ir'), facts: pack('facts') };
  }

  private entryFile(key: string): string {
    // Keys are hex digests and `dir` is normalised: path.join would normalise again, and its intermediate strings
    // were ~15 MB of garbage per pre-commit run on the 20k-file fork (three calls per analysed file).
    return `${this.dir}${sep}${key}.json`;
  }

  /**
   * A file's IR; undefined: not cached. Function bodies are read lazily: the entry's first line holds the
   * declarations, the second the bodies, and only the first line is read here (bodies are 80% of the IR, and a
   * run whose pass-1 facts come from the cache never needs them). Each function's body is UNLOADED_BODY until
   * `loadBodies` reads them from the entry; should the entry have vanished or been replaced by then (another run
   * cleaning the cache), `relower` gives them from the source instead.
   */
  get(key: string, relower?: () => FileIR): FileIR | null | undefined {
    const file = this.entryFile(key);
    const pack = this.packs.ir;
    const found = pack.head(key, parseHead<StoredFile>);
    if (!found) return undefined;
    const { value: head, read } = found;
    // A kept head (kept.ts) is shared with later runs: this run marks and loads the bodies of its own functions.
    const ir = head.ir && keepingParsedLines() ? { ...head.ir, funcs: head.ir.funcs.map((f) => ({ ...f })) } : head.ir;
    if (ir) {
      // Validated now, parsed later: a truncated entry is a miss, never a failure in the middle of the analysis.
      if (read.bodiesAt < 0 || !read.complete || typeof head.decl !== 'string') return undefined;
      // Not `read`: the closure below would keep the declarations text alive.
      const { bodiesAt, version } = read;
      let bodies: FuncDeclIR['body'][] | null = null;
      const load = (): FuncDeclIR['body'][] => {
        if (bodies) return bodies;
        try {
          bodies = parsedOnce(`${file}\0bodies`, version, () => JSON.parse(pack.readPast(key, () => readFrom(file, bodiesAt, version))) as FuncDeclIR['body'][]);
        } catch (e) {
          if (!relower) throw e;
          bodies = relower().funcs.map((f) => f.body);
        }
        return bodies;
      };
      // Marked, not given getters: a property accessor per function cost ~6 ms of a temporal pre-commit run, and
      // made every body access go through it.
      for (const f of ir.funcs) f.body = UNLOADED_BODY;
      this.bodyLoaders.set(ir, () => {
        const b = load();
        ir.funcs.forEach((f, i) => {
          if (f.body === UNLOADED_BODY) f.body = b[i] ?? [];
        });
      });
      this.declOf.set(ir, head.decl);
    }
    this.used.add(key);
    return ir;
  }

  /**
   * Reads the function bodies of a file whose IR `get` returned (nothing for other IR, or once they are read).
   * Throws when they can be read neither from the entry nor from the source (`relower`'s error).
   */
  loadBodies(ir: FileIR): void {
    const loader = this.bodyLoaders.get(ir);
    if (!loader) return;
    loader();
    this.bodyLoaders.delete(ir);
  }

  /** `decl`: a hash of what the file declares (the caller's), kept with the entry and returned by `declHash`. */
  set(key: string, ir: FileIR | null, decl: string): void {
    this.used.add(key);
    if (ir) this.declOf.set(ir, decl);
    const head = JSON.stringify({ format: CACHE_FORMAT, tool: TOOL_VERSION, ir: ir && { ...ir, funcs: ir.funcs.map((f) => ({ ...f, body: [] })) }, decl } satisfies StoredFile);
    this.write(this.packs.ir, key, head, ir ? '\n' + JSON.stringify(ir.funcs.map((f) => f.body)) : '');
  }

  /** The `decl` hash stored with a file's IR (set or read in this run), if any. */
  declHash(ir: FileIR): string | undefined {
    return this.declOf.get(ir);
  }

  /**
   * One file's pass-1 facts (opaque here), stored under a key of everything they depend on; undefined: not
   * cached. An entry has three lines: `head`, read now; `deps()`, parsed when asked for (what the facts looked up
   * elsewhere: needed only when the program's declarations changed); `body()`, the rest, parsed when asked for.
   * Both throw if the entry cannot be read by then.
   */
  getFacts(key: string): { head: unknown; deps: () => unknown; body: () => unknown } | undefined {
    const file = this.entryFile(key);
    const pack = this.packs.facts;
    const found = pack.head(key, parseHead<StoredFacts>);
    if (!found || found.read.bodiesAt < 0 || !found.read.complete) return undefined;
    this.used.add(key);
    const { bodiesAt: at, version } = found.read;
    let deps: unknown;
    let body: unknown;
    return {
      head: found.value.facts,
      // The lookups alone (a run after a declaration change reads those of every entry, and few bodies).
      deps: () => (deps ??= parsedOnce(`${file}\0deps`, version, () => JSON.parse(pack.readPast(key, () => readLine(file, at, version))) as unknown)),
      body: () => {
        body ??= parsedOnce(`${file}\0body`, version, () => {
          const rest = pack.readPast(key, () => readFrom(file, at, version));
          const nl = rest.indexOf('\n');
          if (nl < 0) throw new Error(`${file}: no facts after the lookups`);
          return JSON.parse(rest.slice(nl + 1)) as unknown;
        });
        return body;
      },
    };
  }

  /** `deps`, `bodies`: JSON arrays (the entry's second and third lines). */
  setFacts(key: string, head: unknown, deps: unknown[], bodies: unknown[]): void {
    this.used.add(key);
    this.write(this.packs.facts, key, JSON.stringify({ format: CACHE_FORMAT, tool: TOOL_VERSION, facts: head } satisfies StoredFacts), '\n' + JSON.stringify(deps) + '\n' + JSON.stringify(bodies));
  }

  /** Writes an entry: its first line `head`, then `rest` (empty, or a newline and the other lines). */
  private write(pack: HeadPack, key: string, head: string, rest: string): void {
    pack.written(key);
    this.writes.add(this.entryFile(key), head + rest);
  }

  /**
   * Lets the packs' lines go once the run has read the first lines it needs: the IR's once parsing is done
   * (every file's IR was read), the facts' once pass 1 is (every file's facts were).
   */
  releasePack(kind: 'ir' | 'facts'): void {
    this.packs[kind].release();
  }

  /** A side table kept for the whole tree (one JSON file per name and root), or undefined. */
  readSide(name: string): unknown {
    return readStored<StoredFacts>(this.sideFile(name))?.facts;
  }

  writeSide(name: string, data: unknown): void {
    writeStored(this.sideFile(name), { format: CACHE_FORMAT, tool: TOOL_VERSION, facts: data } satisfies StoredFacts);
  }

  private sideFile(name: string): string {
    return join(this.sideDir, `${name}-${this.id}.json`);
  }

  /**
   * The last run's result if it was computed from the inputs `key` names. The file's first line holds the key (as
   * JSON), the rest the result (v8.serialize): a run whose inputs changed does not deserialise the result (~1 MB
   * on temporal, 4 ms).
   */
  lastRun(key: string): RunResult | null {
    if (this.run === null) {
      try {
        // One read: the key line and the result of the same write (another run may replace the file meanwhile).
        const bytes = readFileSync(this.runFile);
        const nl = bytes.indexOf(10);
        const head = nl > 0 ? (JSON.parse(bytes.toString('utf8', 0, nl)) as Omit<StoredRun, 'result'>) : null;
        if (head?.format === CACHE_FORMAT && head.tool === TOOL_VERSION && head.key === key) this.run = { ...head, result: deserialize(bytes.subarray(nl + 1)) as RunResult };
      } catch {
        // missing, unreadable or corrupt: no result
      }
    }
    return this.run?.key === key ? this.run.result : null;
  }

  setLastRun(key: string, result: RunResult): void {
    this.run = { format: CACHE_FORMAT, tool: TOOL_VERSION, key, result };
    this.runDirty = true;
  }

  /**
   * Removes everything cached for this tree (its entries, packs, run result and side tables), after stopping the
   * writes still under way: a run that failed with this cache runs again without any of it.
   */
  async discard(): Promise<void> {
    await this.writes.stop();
    try {
      for (const n of readdirSync(this.sideDir)) if (n.includes(this.id)) rmSync(join(this.sideDir, n), { recursive: true, force: true });
    } catch {
      // nothing cached, or not ours to remove
    }
  }

  /**
   * Finishes the entries still being written, writes the run result and the pack, and drops facts of files that
   * no longer exist in this form once they pile up.
   */
  async save(): Promise<void> {
    await this.writes.done();
    if (this.runDirty && this.run) {
      const { result, ...head } = this.run;
      writeFileAtomic(this.runFile, Buffer.concat([Buffer.from(JSON.stringify(head) + '\n'), serialize(result)]));
    }
    this.packs.ir.save();
    this.packs.facts.save();
    try {
      const entries = readdirSync(this.dir);
      if (entries.length > 2 * this.used.size + 64) {
        for (const e of entries) if (!this.used.has(e.replace(/\.json$/, ''))) rmSync(join(this.dir, e), { force: true });
      }
    } catch {
      // nothing cached yet, or not ours to clean
    }
  }
}

/** An entry's first line, parsed and checked to be of this format and tool (null: not). */
function parseHead<T extends { format: number; tool: string }>(text: string): T | null {
  try {
    const stored = JSON.parse(text) as T;
    return stored && stored.format === CACHE_FORMAT && stored.tool === TOOL_VERSION ? stored : null;
  } catch {
    return null;
  }
}

/**
 * Side tables and per-file IR are stored as JSON (plain data; JSON.parse reads it ~25% faster than
 * v8.deserialize, measured on temporal's 700 entries); the run result, which holds richer values, with
 * v8.serialize (lastRun).
 */
function readStored<T extends { format: number; tool: string }>(file: string): T | null {
  try {
    const s = JSON.parse(readFileSync(file, 'utf8')) as T;
    return s && s.format === CACHE_FORMAT && s.tool === TOOL_VERSION ? s : null;
  } catch {
    return null; // missing, unreadable or corrupt: start empty
  }
}

function writeStored(file: string, value: unknown): void {
  writeFileAtomic(file, JSON.stringify(value));
}
