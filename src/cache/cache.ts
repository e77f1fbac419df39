// Persistent cache of per-file facts (the lowered IR), keyed by a hash of the file's path, package and content,
// and of the tool version; plus the last whole-run result keyed by every input, so an unchanged tree answers
// without parsing or analysing anything. One file per root under the user cache directory (or --cache-dir),
// written atomically; a corrupt or foreign cache is ignored, never fatal.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import type { FileIR } from '../go/ir.js';
import type { RunResult } from '../model.js';
import { TOOL_VERSION } from '../version.js';

/** Bump when the IR or the analysis changes shape, so old caches are not read. */
export const CACHE_FORMAT = 4;

interface Stored {
  format: number;
  tool: string;
  /** content hash -> IR */
  files: Map<string, FileIR | null>;
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
  private stored: Stored | null = null;
  private used = new Map<string, FileIR | null>();
  private dirty = false;
  private run: StoredRun | null = null;
  private runDirty = false;
  readonly file: string;
  /** The last whole-run result lives in its own small file: a warm run reads only that. */
  readonly runFile: string;

  constructor(dir: string, root: string) {
    const id = hashText(root).slice(0, 16);
    this.file = join(dir, `facts-${id}.bin`);
    this.runFile = join(dir, `run-${id}.bin`);
  }

  private facts(): Stored {
    if (!this.stored) {
      this.stored = { format: CACHE_FORMAT, tool: TOOL_VERSION, files: new Map() };
      const s = readStored<Stored>(this.file);
      if (s && s.files instanceof Map) this.stored = s;
    }
    return this.stored;
  }

  /** undefined: not cached. */
  get(key: string): FileIR | null | undefined {
    const v = this.facts().files.get(key);
    if (v !== undefined) this.used.set(key, v);
    return v;
  }

  set(key: string, ir: FileIR | null): void {
    this.used.set(key, ir);
    this.dirty = true;
  }

  lastRun(key: string): RunResult | null {
    this.run ??= readStored<StoredRun>(this.runFile);
    return this.run?.key === key ? this.run.result : null;
  }

  setLastRun(key: string, result: RunResult): void {
    this.run = { format: CACHE_FORMAT, tool: TOOL_VERSION, key, result };
    this.runDirty = true;
  }

  /** Writes what changed: the facts used by this run (entries of deleted or changed files are dropped), the run. */
  save(): void {
    if (this.stored && (this.dirty || this.used.size !== this.stored.files.size)) {
      writeStored(this.file, { format: CACHE_FORMAT, tool: TOOL_VERSION, files: this.used } satisfies Stored);
    }
    if (this.runDirty && this.run) writeStored(this.runFile, this.run);
  }
}

function readStored<T extends { format: number; tool: string }>(file: string): T | null {
  try {
    const s = deserialize(readFileSync(file)) as T;
    return s && s.format === CACHE_FORMAT && s.tool === TOOL_VERSION ? s : null;
  } catch {
    return null; // missing, unreadable or corrupt: start empty
  }
}

function writeStored(file: string, value: unknown): void {
  try {
    mkdirSync(join(file, '..'), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, serialize(value));
    renameSync(tmp, file);
  } catch {
    // a read-only cache directory only costs speed
  }
}
