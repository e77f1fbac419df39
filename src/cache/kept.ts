// Parsed cache lines kept between the runs of one process: the daemon's (cli/daemon.ts), which runs many commands
// one after the other. A run reads the first lines of hundreds of entries and parses them (JSON); the next run,
// after an edit, reads nearly all of them again, as the same writes. A line is named by its file and which line
// it is, and kept with the write it was read from (the file's inode, size and modification time: entry.ts,
// versionOf; entries and packs are replaced whole, never changed in place): the same write always parses to the
// same value, which is handed out again instead of parsing the line; another write replaces it (one value per
// line, so that a file rewritten by every run, like a pack, does not pile up its old versions). Readers never
// change what they are given (`freeze` makes every kept value immutable: test/kept.test.ts runs the analysis
// that way). Off by default: a process that runs one command keeps nothing.

interface Kept {
  values: Map<string, { version: string; value: unknown }>;
  max: number;
  freeze: boolean;
  hits: number;
}

let kept: Kept | null = null;

/** How many values a process keeps by default (the 20k-file fork's pre-commit run reads ~30,000 lines). */
export const KEPT_MAX = 100_000;

/**
 * Keeps parsed lines from now on (`null`: stops, and lets them all go). `max`: how many, the least recently used
 * going first. `freeze`: kept values are frozen, deeply, so that a reader that changes one fails.
 */
export function keepParsedLines(opts: { max?: number; freeze?: boolean } | null): void {
  if (!opts) {
    kept = null;
    return;
  }
  if (kept && kept.freeze === (opts.freeze ?? false)) {
    kept.max = opts.max ?? KEPT_MAX;
    return;
  }
  kept = { values: new Map(), max: opts.max ?? KEPT_MAX, freeze: opts.freeze ?? false, hits: 0 };
}

/** Whether lines are kept (then a pack's text is kept too, pack.ts). */
export function keepingParsedLines(): boolean {
  return kept !== null;
}

/** How many values are kept, and how many times one was handed out again. */
export function keptLineStats(): { values: number; hits: number } {
  return { values: kept?.values.size ?? 0, hits: kept?.hits ?? 0 };
}

/**
 * The value of the line named `id` (its file and which line) in the write `version`, parsed by `parse` unless
 * kept. `parse` may throw: nothing is kept then.
 */
export function parsedOnce<T>(id: string, version: string, parse: () => T): T {
  const k = kept;
  if (!k) return parse();
  const hit = k.values.get(id);
  if (hit && hit.version === version) {
    k.values.delete(id);
    k.values.set(id, hit);
    k.hits++;
    return hit.value as T;
  }
  const value = parse();
  if (k.freeze) deepFreeze(value);
  k.values.delete(id);
  k.values.set(id, { version, value });
  if (k.values.size > k.max) k.values.delete(k.values.keys().next().value!);
  return value;
}

function deepFreeze(v: unknown): void {
  if (typeof v !== 'object' || v === null || Object.isFrozen(v)) return;
  Object.freeze(v);
  for (const x of Object.values(v)) deepFreeze(x);
}
