// Making directories (the cache, --output files, baselines, the exact catalog's dump), shared by every stage that
// writes and by the cache's writer thread.
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/**
 * `mkdir -p`, without `mkdirSync(dir, { recursive: true })`: on Node 20 that loops forever when the kernel answers
 * ENOENT for a directory whose parent exists (procfs, sysfs; a cache directory under /proc hung the run at 100%
 * CPU). Throws the first error other than EEXIST (ENOENT, ENOTDIR, EACCES, EROFS...).
 */
export function makeDirs(dir: string): void {
  const missing: string[] = [];
  for (let d = resolve(dir); !existsSync(d); d = dirname(d)) {
    missing.push(d);
    if (dirname(d) === d) break;
  }
  for (const d of missing.reverse()) {
    try {
      mkdirSync(d);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
}
