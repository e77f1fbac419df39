// Writing files: atomic writes and the directories they need, shared by every stage that writes (the cache and its
// writer thread, the exact catalog's dump, --output files, baselines, replay records).
import { closeSync, existsSync, mkdirSync, openSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/**
 * Names this thread's temporary files: each thread (the cache writer's too) loads this module for itself. Not
 * worker_threads' threadId: loading that module took ~3 ms of every run's start.
 */
const THREAD_TOKEN = Math.random().toString(36).slice(2, 10);

/**
 * Writes `file` atomically (a temporary file renamed into place, so a reader never sees half of it), making its
 * directory on first need. False when it could not be written: a read-only cache directory only costs speed.
 */
export function writeFileAtomic(file: string, data: string | Uint8Array): boolean {
  return writeAtomic(file, data);
}

/** As writeFileAtomic, the data given in parts, written one after the other (never joined in memory). */
export function writeFileAtomicParts(file: string, parts: Iterable<string | Uint8Array>): boolean {
  return writeAtomic(file, parts);
}

function writeAtomic(file: string, data: string | Uint8Array | Iterable<string | Uint8Array>): boolean {
  const tmp = `${file}.${process.pid}-${THREAD_TOKEN}.tmp`;
  try {
    const write = (): void => {
      if (typeof data === 'string' || data instanceof Uint8Array) return writeFileSync(tmp, data);
      const fd = openSync(tmp, 'w');
      try {
        for (const part of data) {
          const bytes = typeof part === 'string' ? Buffer.from(part) : part;
          for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at, bytes.length - at);
        }
      } finally {
        closeSync(fd);
      }
    };
    try {
      write();
    } catch (e) {
      // The directory is made on the first write that needs it (one mkdir per entry cost 12 ms per 1,300 entries).
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      makeDirs(dirname(file));
      write();
    }
    renameSync(tmp, file);
    return true;
  } catch {
    // Not left behind (a pack is tens of MB on a large tree): a failed rename, or a write cut short.
    try {
      rmSync(tmp, { force: true });
    } catch {
      // never written, or not ours to remove
    }
    return false;
  }
}

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
