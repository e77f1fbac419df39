// The file system as rlscov's config loader and discoverer see it. Everything that reads the user's files goes
// through a Host, so tests (and editors, with unsaved buffers) can substitute their own; only `nodeHost` touches
// node:fs. Paths are absolute.
import * as fs from 'node:fs';
import type { FileSystemAdapter } from 'fast-glob';

/**
 * The node:fs subset fast-glob walks directories with (`readdir`, `lstat`, `stat` and their sync forms). A Host
 * that is not backed by the real disk supplies it so directory walks see the same files as `readFile`.
 */
export type GlobFs = Partial<FileSystemAdapter>;

export interface Host {
  /** The file's text (UTF-8). Throws (a Node error with `code`) when it cannot be read. */
  readFile(abs: string): string;
  /** The file's bytes. Optional: falls back to encoding `readFile`. */
  readFileBuffer?(abs: string): Uint8Array;
  /** At most the first `maxBytes` bytes, decoded as UTF-8. Optional: falls back to slicing `readFile`. Throws like readFile. */
  readFileHead?(abs: string, maxBytes: number): string;
  /** True when something (file or directory, symlinks followed) exists at the path. Never throws. */
  exists(abs: string): boolean;
  /** True when the path is a directory (symlinks followed). Never throws. */
  isDirectory(abs: string): boolean;
  /** Canonical path with symlinks resolved. Throws when the path does not exist. */
  realpath(abs: string): string;
  /** What directory walks use; absent means the real file system (node:fs). */
  globFs?: GlobFs;
  /**
   * A change stamp of the path (see statStamp): equal stamps mean unchanged content, within the limits statStamp
   * describes. Optional: a host without it never has its files' facts reused by stamp.
   */
  stamp?(abs: string): string;
}

/**
 * A path's stat stamp: `-` when absent, `!CODE` when it cannot be stat'ed, else type, size, mtime, ctime and inode
 * (what make, git's index and ESLint's metadata cache compare). A directory's stamp changes when its entries do.
 * A stamp whose times are not clearly older than the time it was taken proves nothing (see stampTime): the file
 * may change again within the same timestamp tick.
 */
export function statStamp(abs: string): string {
  let s: fs.Stats | undefined;
  try {
    s = fs.statSync(abs, { throwIfNoEntry: false });
  } catch (e) {
    return `!${(e as NodeJS.ErrnoException).code ?? 'error'}`;
  }
  if (!s) return '-';
  return `${s.isDirectory() ? 'd' : 'f'}${s.size}:${s.mtimeMs}:${s.ctimeMs}:${s.ino}`;
}

/**
 * The later of the mtime and ctime (ms since the epoch) a statStamp records, or null for an absent or unreadable
 * path: when the path's content last changed, or was put in place (a copy that keeps an old mtime, `cp -p`,
 * `tar x`, still gets a new ctime).
 */
export function stampTime(stamp: string): number | null {
  const t = stampTimes(stamp);
  return t && Math.max(t.mtime, t.ctime);
}

/** The mtime and ctime (ms since the epoch) a statStamp records, or null for an absent or unreadable path. */
export function stampTimes(stamp: string): { mtime: number; ctime: number } | null {
  if (stamp[0] !== 'd' && stamp[0] !== 'f') return null;
  const [, mtime, ctime] = stamp.split(':');
  return { mtime: Number(mtime), ctime: Number(ctime) };
}

/** How much older than the run's start a stamp's times must be to be trusted by a later run. */
export const RACY_STAMP_MS = 2000;

/**
 * Whether a later run may trust `stamp` (taken by a run that started at `startedAt`): the path existed and had
 * not changed for RACY_STAMP_MS before, so any later change gets a different stamp.
 */
export function stampTrusted(stamp: string, startedAt: number): boolean {
  const t = stampTime(stamp);
  return t !== null && t < startedAt - RACY_STAMP_MS;
}

/** Reads the head of a file through the host, using `readFileHead` when the host has it. */
export function readHead(host: Host, abs: string, maxBytes: number): string {
  if (host.readFileHead) return host.readFileHead(abs, maxBytes);
  const text = host.readFile(abs);
  return text.length > maxBytes ? text.slice(0, maxBytes) : text;
}

function statOrNull(abs: string): fs.Stats | null {
  try {
    return fs.statSync(abs);
  } catch {
    return null;
  }
}

/** The real file system. */
export const nodeHost: Host = {
  readFile: (abs) => fs.readFileSync(abs, 'utf8'),
  readFileBuffer: (abs) => fs.readFileSync(abs),
  readFileHead(abs, maxBytes) {
    const fd = fs.openSync(abs, 'r');
    try {
      const buf = Buffer.alloc(maxBytes);
      let n = 0;
      while (n < maxBytes) {
        const got = fs.readSync(fd, buf, n, maxBytes - n, null);
        if (got === 0) break;
        n += got;
      }
      return buf.toString('utf8', 0, n);
    } finally {
      fs.closeSync(fd);
    }
  },
  exists: (abs) => statOrNull(abs) !== null,
  isDirectory: (abs) => statOrNull(abs)?.isDirectory() ?? false,
  realpath: (abs) => fs.realpathSync.native(abs),
  stamp: statStamp,
  globFs: {
    readdir: fs.readdir,
    readdirSync: fs.readdirSync,
    lstat: fs.lstat,
    lstatSync: fs.lstatSync,
    stat: fs.stat,
    statSync: fs.statSync,
  },
};
