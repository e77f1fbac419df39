// Persistent cache of per-file facts (the lowered IR, keyed by a hash of the file's path, package and content; and
// the file's pass-1 facts, keyed by that and the program's declarations), under the tool version (one small file
// each, so an edit rewrites few entries); plus the last whole-run result keyed by every input, so an unchanged
// tree answers without parsing or analysing anything, and small side tables per root (the file index, SQL
// classifications, the folded catalog, the last widening). Under the user cache directory (or --cache-dir),
// written atomically; a corrupt or foreign entry is ignored, never fatal.
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readdirSync, readFileSync, readSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import { UNLOADED_BODY, type FileIR, type FuncDeclIR } from '../go/ir.js';
import type { RunResult } from '../model.js';
import { TOOL_VERSION } from '../version.js';
import { writeFileAtomic } from '../files.js';
import { EntryWriter } from './writer.js';

/** Bump when the IR or the analysis changes shape, so old caches are not read. */
export const CACHE_FORMAT = 17;

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

export function defaultCacheDir(env: Record<string, string | undefined>): string {
  if (env['RLSCOV_CACHE_DIR']) return env['RLSCOV_CACHE_DIR'];
  const base = env['XDG_CACHE_HOME'] || join(homedir(), '.cache');
  return join(base, 'rlscov');
}

export function hashText(...parts: string[]): string {
  const h = createHash('sha1');
  for (const p of parts) {
    h.update(p);
    h.update('\0');
  }
  return h.digest('hex');
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

  constructor(dir: string, root: string) {
    this.id = hashText(root).slice(0, 16);
    this.dir = join(dir, `facts-${this.id}-v${CACHE_FORMAT}`);
    this.runFile = join(dir, `run-${this.id}.bin`);
    this.sideDir = dir;
  }

  /**
   * A file's IR; undefined: not cached. Function bodies are read lazily: the entry's first line holds the
   * declarations, the second the bodies, and only the first line is read here (bodies are 80% of the IR, and a
   * run whose pass-1 facts come from the cache never needs them). Each function's body is UNLOADED_BODY until
   * `loadBodies` reads them from the entry; should the entry have vanished or been replaced by then (another run
   * cleaning the cache), `relower` gives them from the source instead.
   */
  get(key: string, relower?: () => FileIR): FileIR | null | undefined {
    const file = join(this.dir, `${key}.json`);
    const read = readEntry<StoredFile>(file);
    if (!read) return undefined;
    const head = read.stored;
    const ir = head.ir;
    if (ir) {
      // Validated now, parsed later: a truncated entry is a miss, never a failure in the middle of the analysis.
      if (read.bodiesAt < 0 || !read.complete || typeof head.decl !== 'string') return undefined;
      // Not `read`: the closure below would keep the declarations text alive.
      const { bodiesAt, version } = read;
      let bodies: FuncDeclIR['body'][] | null = null;
      const load = (): FuncDeclIR['body'][] => {
        if (bodies) return bodies;
        try {
          bodies = JSON.parse(readFrom(file, bodiesAt, version)) as FuncDeclIR['body'][];
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
    const head: StoredFile = { format: CACHE_FORMAT, tool: TOOL_VERSION, ir: ir && { ...ir, funcs: ir.funcs.map((f) => ({ ...f, body: [] })) }, decl };
    const text = JSON.stringify(head) + (ir ? '\n' + JSON.stringify(ir.funcs.map((f) => f.body)) : '');
    this.writes.add(join(this.dir, `${key}.json`), text);
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
    const file = join(this.dir, `${key}.json`);
    const read = readEntry<StoredFacts>(file);
    if (!read || read.bodiesAt < 0 || !read.complete) return undefined;
    this.used.add(key);
    const { bodiesAt: at, version } = read;
    let deps: unknown;
    let body: unknown;
    return {
      head: read.stored.facts,
      // The lookups alone (a run after a declaration change reads those of every entry, and few bodies).
      deps: () => (deps ??= JSON.parse(readLine(file, at, version))),
      body: () => {
        if (body === undefined) {
          const rest = readFrom(file, at, version);
          const nl = rest.indexOf('\n');
          if (nl < 0) throw new Error(`${file}: no facts after the lookups`);
          body = JSON.parse(rest.slice(nl + 1));
        }
        return body;
      },
    };
  }

  /** `deps`, `bodies`: JSON arrays (the entry's second and third lines). */
  setFacts(key: string, head: unknown, deps: unknown[], bodies: unknown[]): void {
    this.used.add(key);
    this.writes.add(join(this.dir, `${key}.json`), JSON.stringify({ format: CACHE_FORMAT, tool: TOOL_VERSION, facts: head } satisfies StoredFacts) + '\n' + JSON.stringify(deps) + '\n' + JSON.stringify(bodies));
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
   * Finishes the entries still being written, writes the run result, and drops facts of files that no longer
   * exist in this form once they pile up.
   */
  async save(): Promise<void> {
    await this.writes.done();
    if (this.runDirty && this.run) {
      const { result, ...head } = this.run;
      writeFileAtomic(this.runFile, Buffer.concat([Buffer.from(JSON.stringify(head) + '\n'), serialize(result)]));
    }
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

/** An entry's first line, parsed and checked to be of this format and tool (null: a miss), and readHead's offsets. */
function readEntry<T extends { format: number; tool: string }>(file: string): { stored: T; bodiesAt: number; complete: boolean; version: string } | null {
  const read = readHead(file);
  if (!read) return null;
  try {
    const stored = JSON.parse(read.head) as T;
    return stored && stored.format === CACHE_FORMAT && stored.tool === TOOL_VERSION ? { stored, bodiesAt: read.bodiesAt, complete: read.complete, version: read.version } : null;
  } catch {
    return null;
  }
}

/**
 * The first line of an entry, read without the rest; `bodiesAt`: the byte offset of the second line (-1: none);
 * `complete`: the entry ends as a whole one does. Null when it cannot be read.
 */
function readHead(file: string): { head: string; bodiesAt: number; complete: boolean; version: string } | null {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return null;
  }
  try {
    const st = fstatSync(fd);
    const version = versionOf(st);
    const line = lineAt(fd, 0, st.size);
    if (!line.ended) return { head: line.text, bodiesAt: -1, complete: true, version };
    const bodiesAt = line.bytes + 1;
    const last = Buffer.alloc(1);
    const complete = st.size > bodiesAt && readSync(fd, last, 0, 1, st.size - 1) === 1 && last[0] === 0x5d; // ']'
    return { head: line.text, bodiesAt, complete, version };
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}

const HEAD_READ = 64 * 1024;

/**
 * The line of an open file of `size` bytes that starts at byte `offset`, without its newline: its text, its
 * length in bytes, and whether a newline ends it (else it runs to the end of the file, or of what could be read).
 */
function lineAt(fd: number, offset: number, size: number): { text: string; bytes: number; ended: boolean } {
  // Most lines asked for (an entry's head, a variant's lookups) are a few KB: one read usually holds the whole line.
  const left = Math.max(0, size - offset);
  let buf = Buffer.allocUnsafe(Math.max(1, Math.min(left, HEAD_READ)));
  let have = 0;
  for (;;) {
    if (have === buf.length) {
      const more = Buffer.allocUnsafe(Math.min(left, buf.length * 4));
      buf.copy(more, 0, 0, have);
      buf = more;
    }
    const n = readSync(fd, buf, have, buf.length - have, offset + have);
    const nl = buf.subarray(have, have + n).indexOf(10);
    if (nl >= 0) return { text: buf.toString('utf8', 0, have + nl), bytes: have + nl, ended: true };
    have += n;
    // Shrank while read: whatever was read is judged as it is.
    if (n === 0 || have >= left) return { text: buf.toString('utf8', 0, have), bytes: have, ended: false };
  }
}

/**
 * Which write of a file this is: entries are replaced whole (written beside, then renamed), so a file read later
 * under the same inode, size and modification time is the one whose first line was read. The rest of an entry is
 * read only from that file: another run may have replaced it in between (with other variants, say).
 */
function versionOf(st: { ino: number; size: number; mtimeMs: number }): string {
  return `${st.ino}:${st.size}:${st.mtimeMs}`;
}

/** The size of an open entry, if it is still `version` (readHead); else throws. */
function sizeIfSame(fd: number, file: string, version: string): number {
  const st = fstatSync(fd);
  if (versionOf(st) !== version) throw new Error(`${file} was replaced after its first line was read`);
  return st.size;
}

/**
 * The line of `file` that starts at byte `offset`, without its newline (the rest of the file if it has none), if
 * the file is still `version` (readHead); else throws.
 */
function readLine(file: string, offset: number, version: string): string {
  const fd = openSync(file, 'r');
  try {
    return lineAt(fd, offset, sizeIfSame(fd, file, version)).text;
  } finally {
    closeSync(fd);
  }
}

/** The text of `file` from byte `offset` on, if the file is still `version` (readHead); else throws. */
function readFrom(file: string, offset: number, version: string): string {
  const fd = openSync(file, 'r');
  try {
    const size = sizeIfSame(fd, file, version);
    const buf = Buffer.allocUnsafe(Math.max(0, size - offset));
    let at = 0;
    while (at < buf.length) {
      const n = readSync(fd, buf, at, buf.length - at, offset + at);
      if (n === 0) break;
      at += n;
    }
    return buf.toString('utf8', 0, at);
  } finally {
    closeSync(fd);
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
