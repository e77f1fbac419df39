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
export const CACHE_FORMAT = 3;

interface Stored {
  format: number;
  tool: string;
  /** content hash -> IR, or null for a file the prefilter found irrelevant */
  files: Map<string, FileIR | null>;
  /** hash of every input of the last run -> its result */
  lastRun: { key: string; result: RunResult } | null;
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
  private stored: Stored;
  private used = new Map<string, FileIR | null>();
  private dirty = false;
  readonly file: string;

  constructor(dir: string, root: string) {
    this.file = join(dir, `facts-${hashText(root).slice(0, 16)}.bin`);
    this.stored = { format: CACHE_FORMAT, tool: TOOL_VERSION, files: new Map(), lastRun: null };
    try {
      const s = deserialize(readFileSync(this.file)) as Stored;
      if (s && s.format === CACHE_FORMAT && s.tool === TOOL_VERSION && s.files instanceof Map) this.stored = s;
    } catch {
      // missing or unreadable: start empty
    }
  }

  /** undefined: not cached; null: cached as irrelevant. */
  get(key: string): FileIR | null | undefined {
    const v = this.stored.files.get(key);
    if (v !== undefined) this.used.set(key, v);
    return v;
  }

  set(key: string, ir: FileIR | null): void {
    this.used.set(key, ir);
    this.dirty = true;
  }

  lastRun(key: string): RunResult | null {
    return this.stored.lastRun?.key === key ? this.stored.lastRun.result : null;
  }

  setLastRun(key: string, result: RunResult): void {
    this.stored.lastRun = { key, result };
    this.dirty = true;
  }

  /** Writes the entries used by this run (entries of deleted or changed files are dropped). */
  save(): void {
    if (!this.dirty && this.used.size === this.stored.files.size) return;
    const next: Stored = { format: CACHE_FORMAT, tool: TOOL_VERSION, files: this.used, lastRun: this.stored.lastRun };
    try {
      mkdirSync(join(this.file, '..'), { recursive: true });
      const tmp = `${this.file}.${process.pid}.tmp`;
      writeFileSync(tmp, serialize(next));
      renameSync(tmp, this.file);
    } catch {
      // a read-only cache directory only costs speed
    }
  }
}
