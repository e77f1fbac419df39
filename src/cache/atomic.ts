// Atomic file writes for the cache (shared by the main thread and the entry-writer worker, which loads only this).
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';
import { makeDirs } from '../dirs.js';

/**
 * Writes `file` atomically (a temporary file renamed into place, so a reader never sees half of it), making its
 * directory on first need. False when it could not be written: a read-only cache directory only costs speed.
 */
export function writeFileAtomic(file: string, data: string | Uint8Array): boolean {
  try {
    const tmp = `${file}.${process.pid}-${threadId}.tmp`;
    try {
      writeFileSync(tmp, data);
    } catch (e) {
      // The directory is made on the first write that needs it (one mkdir per entry cost 12 ms per 1,300 entries).
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      makeDirs(join(file, '..'));
      writeFileSync(tmp, data);
    }
    renameSync(tmp, file);
    return true;
  } catch {
    return false;
  }
}
