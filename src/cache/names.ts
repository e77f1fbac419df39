// What names the cache and its files, apart from the cache itself: the run's start (replay.ts, the daemon's client,
// code-cache.ts) needs these three, and loading cache.ts with its writer thread's module took ~6 ms of it.
import { createHash } from 'node:crypto';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** Bump when the IR or the analysis changes shape, so old caches are not read. */
export const CACHE_FORMAT = 23;

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
