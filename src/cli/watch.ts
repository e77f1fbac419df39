// The daemon's view of the file system (daemon.ts): a Host whose stat stamps and directory listings are kept
// between runs while the kernel reports no change to them (inotify, through node's fs.watch), so that a run of a
// warm daemon does not stat every file and list every directory of the tree again (20,000 stats and 1,016 listings,
// ~0.25 s, of a pre-commit run on the 20k-file fork). Watchman and the language servers answer the same way.
//
// What is kept, and why it is still right:
// - A directory's listing, and its stamp, once it is watched: an entry added, removed or renamed in it, and a change
//   of its own attributes, are events on its watch. Any event on a watch forgets what was kept of that directory
//   and of the entry the event names (and, when the entry is a directory, of everything below it: a directory moved
//   away keeps its watch on its new path, so its old path's kept values would be stale).
// - A file's stamp, when its directory's kept listing says it is a regular file (or absent): a write, a truncation,
//   a change of attributes or a rename of it is an event on its directory's watch. A symbolic link is never kept (its
//   target may change without an event in the watched directory), nor a file with other hard links (written
//   through another path, the event goes to that path's directory), nor a path outside a watched directory.
// - Values are kept only when taken while their directory's watch was in place: a change after it is an event.
// - Before each run, `sync` lets the event loop read every event already queued (the caller's edits were made
//   before its request was sent), then forgets everything when too many events came since the last run: the
//   kernel's queue (fs.inotify.max_queued_events) may have overflowed, and libuv drops its overflow notice. It
//   also forgets a watched tree whose top directory's path now leads to another inode (a directory above it moved
//   or replaced: no watch sees that), and everything when the mount table changed (a mount over a watched path
//   raises no event) or too many directories are to be forgotten one by one.
// - Only a directory's canonical path is watched (no symbolic link on the way, which could be re-pointed unseen).
// - Only local file systems are watched (ext4, xfs, btrfs, tmpfs, overlay, ...): a network or FUSE file system does
//   not report changes made by other machines. Elsewhere, and beyond watchLimit() directories, paths are stat'ed on
//   every run, as in-process.
//
// What inotify does not report is not seen: a file written through a hard link made after its stamp was kept
// (making the link notifies the file's own inode, not its directory), a write through mmap (README, the daemon).
//
// Only node built-ins and the host are imported: this runs in the daemon alone.
import * as fs from 'node:fs';
import { basename, dirname, join, sep } from 'node:path';
import { nodeHost, type Host } from '../host.js';

/**
 * Directories watched at most: a quarter of the user's inotify watches (fs.inotify.max_user_watches, 8,192 on older
 * kernels), which editors and other tools need too, and never more than 50,000.
 */
function watchLimit(): number {
  const n = readProcNumber('/proc/sys/fs/inotify/max_user_watches') ?? 8192;
  return Math.min(50_000, Math.max(1, Math.floor(n / 4)));
}

function readProcNumber(file: string): number | null {
  try {
    const n = Number(fs.readFileSync(file, 'utf8').trim());
    return Number.isFinite(n) && n > 0 ? n : null;
  } catch {
    return null;
  }
}

/**
 * statfs(2) f_type of the local file systems whose changes inotify reports whoever makes them: ext2/3/4, xfs,
 * btrfs, tmpfs, ramfs, overlayfs, zfs, f2fs, bcachefs, jfs, reiserfs.
 */
const LOCAL_FS = new Set([0xef53, 0x58465342, 0x9123683e, 0x01021994, 0x858458f6, 0x794c7630, 0x2fc12fc1, 0xf2f52010, 0xca451a4e, 0x3153464a, 0x52654973]);

type Dirent = fs.Dirent;

interface Listing {
  entries: Dirent[];
  byName: Map<string, Dirent>;
}

/** Counters of a watched host (`rlscov daemon status`, tests). */
export interface WatchStats {
  watched: number;
  keptStamps: number;
  keptListings: number;
  /** Times everything was forgotten after a burst of events. */
  resets: number;
}

export interface WatchedHost extends Host {
  stamp(abs: string): string;
  /** Reads every event queued before the call; call before each run. */
  sync(): Promise<void>;
  stats(): WatchStats;
  /** Stops every watch and forgets everything. */
  close(): void;
}

export interface WatchOptions {
  /** Events between two syncs above which everything is forgotten (default: half the kernel's queue). */
  burst?: number;
  /** Directories watched at most. */
  maxWatched?: number;
  /** Whether `dir` is on a file system whose changes are reported (default: statfs against LOCAL_FS). */
  watchable?: (dir: string) => boolean;
  /** The mount table, compared at each sync (default: /proc/self/mountinfo). */
  mounts?: () => string;
}

function queueLimit(): number {
  return readProcNumber('/proc/sys/fs/inotify/max_queued_events') ?? 16_384;
}

/** Directories forgotten one by one at a sync, at most (see drops). */
const MAX_DROPS = 64;

function readMounts(): string {
  try {
    return fs.readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return '';
  }
}

/** A directory's device and inode, or '-'. */
function identity(dir: string): string {
  try {
    const s = fs.statSync(dir, { throwIfNoEntry: false });
    return s ? `${s.dev}:${s.ino}` : '-';
  } catch {
    return '!';
  }
}

function localFileSystem(dir: string): boolean {
  try {
    return LOCAL_FS.has(fs.statfsSync(dir).type);
  } catch {
    return false;
  }
}

/** `base` with stamps and listings kept while their watches report no change. Linux only; elsewhere: `base`. */
export function watchedHost(base: Host = nodeHost, o: WatchOptions = {}): WatchedHost {
  const baseStamp = base.stamp!;
  if (process.platform !== 'linux') {
    // fs.watch is inotify on Linux only; elsewhere its guarantees differ: stat every run.
    return { ...base, stamp: baseStamp, sync: async () => undefined, stats: () => ({ watched: 0, keptStamps: 0, keptListings: 0, resets: 0 }), close: () => undefined };
  }
  const baseReaddir = base.globFs!.readdirSync as unknown as (dir: string, opts?: unknown) => unknown;
  const burst = o.burst ?? Math.max(1, Math.floor(Math.min(queueLimit(), 16_384) / 2));
  const maxWatched = o.maxWatched ?? watchLimit();
  const watchable = o.watchable ?? localFileSystem;
  const watches = new Map<string, fs.FSWatcher>();
  const listings = new Map<string, Listing>();
  const stamps = new Map<string, string>();
  /** Device and inode of each watched directory when its watch was made. */
  const identities = new Map<string, string>();
  let events = 0;
  let resets = 0;
  /**
   * Directories to forget with all below them, at the next sync: each costs a pass over everything kept, so a
   * checkout that removes or renames hundreds of directories forgets everything at once instead.
   */
  const drops = new Set<string>();
  const mounts = o.mounts ?? readMounts;
  let mountTable = mounts();

  const under = (p: string, top: string): boolean => p === top || p.startsWith(top.endsWith(sep) ? top : top + sep);
  /** Forgets `top` and everything below it, watches included. */
  const dropTree = (top: string): void => {
    for (const [d, w] of watches) {
      if (!under(d, top)) continue;
      w.close();
      watches.delete(d);
      identities.delete(d);
    }
    for (const d of listings.keys()) if (under(d, top)) listings.delete(d);
    for (const p of stamps.keys()) if (under(p, top)) stamps.delete(p);
  };
  const onEvent = (dir: string, name: string | Buffer | null): void => {
    events++;
    if (!watches.has(dir)) return; // a watch closed meanwhile
    listings.delete(dir);
    stamps.delete(dir);
    // libuv names an event on the watched directory itself (its attributes, its removal or move) by the directory's
    // own name: such an event, or one with no name, forgets the whole directory.
    const entry = typeof name === 'string' && name !== '' ? name : null;
    if (entry === null || entry === basename(dir)) {
      drops.add(dir);
      return;
    }
    const child = join(dir, entry);
    stamps.delete(child);
    // A directory moved or removed is also an event on its own watch (above); both are heeded, as either may come
    // alone (a directory's own watch ends with its removal, before or after its parent's event is read).
    if (watches.has(child) || listings.has(child)) drops.add(child);
  };
  const watch = (dir: string): boolean => {
    if (watches.has(dir)) return true;
    if (watches.size >= maxWatched || !watchable(dir)) return false;
    try {
      // Only a directory's own path: through a symbolic link, the link could be pointed elsewhere unseen.
      if (fs.realpathSync.native(dir) !== dir) return false;
      const before = identity(dir);
      const w = fs.watch(dir, { persistent: false }, (_type, name) => onEvent(dir, name));
      // Replaced while the watch was made: the watch may be on the old directory.
      if (identity(dir) !== before) {
        w.close();
        return false;
      }
      w.on('error', () => {
        if (watches.get(dir) === w) drops.add(dir);
      });
      watches.set(dir, w);
      identities.set(dir, before);
      return true;
    } catch {
      return false; // gone, unreadable, or out of inotify watches: this directory is stat'ed every run
    }
  };
  /**
   * Forgets each topmost watched directory (one whose parent is not watched) that its path no longer names: a
   * directory above it moved or replaced is no event on any watch, but its path then leads to another inode.
   */
  const checkTops = (): void => {
    for (const d of [...watches.keys()]) {
      if (!watches.has(d) || watches.has(dirname(d))) continue;
      if (identity(d) !== identities.get(d)) dropTree(d);
    }
  };
  /**
   * Whether a stamp of `abs` taken now may be kept (see the header): 'absent' when its directory's listing has no
   * such entry, which keeps only an absent stamp (on a case-insensitive directory, `A.go` stats as the entry
   * `a.go`, whose events name `a.go`).
   */
  const keepable = (abs: string): boolean | 'absent' => {
    if (watches.has(abs)) return true;
    const l = listings.get(dirname(abs));
    if (!l) return false;
    const e = l.byName.get(basename(abs));
    return e === undefined ? 'absent' : e.isFile();
  };
  const stamp = (abs: string): string => {
    const kept = stamps.get(abs);
    if (kept !== undefined) return kept;
    const ok = keepable(abs); // decided before the stat: a change after it is an event
    const st = baseStamp(abs);
    if (ok === 'absent' ? st === '-' : ok && !linkedElsewhere(abs, st)) stamps.set(abs, st);
    return st;
  };
  /**
   * A regular file with other hard links: written through another path, the event goes to that path's directory,
   * not to this one's. Asked once, when a stamp would be kept.
   */
  const linkedElsewhere = (abs: string, st: string): boolean => {
    if (st[0] !== 'f') return false;
    try {
      return (fs.statSync(abs, { throwIfNoEntry: false })?.nlink ?? 1) > 1;
    } catch {
      return true;
    }
  };
  const readdirSync = (dir: string, opts?: unknown): unknown => {
    const plain = typeof opts === 'object' && opts !== null && (opts as { withFileTypes?: boolean }).withFileTypes === true && Object.keys(opts).length === 1;
    if (!plain) return baseReaddir(dir, opts);
    const kept = listings.get(dir);
    if (kept) return kept.entries.slice();
    const watched = watch(dir); // before the listing: an entry added after it is an event
    const entries = baseReaddir(dir, opts) as Dirent[];
    if (watched) listings.set(dir, { entries, byName: new Map(entries.map((e) => [e.name, e])) });
    return entries.slice();
  };
  const close = (): void => {
    for (const w of watches.values()) w.close();
    watches.clear();
    drops.clear();
    identities.clear();
    listings.clear();
    stamps.clear();
  };

  return {
    ...base,
    stamp,
    exists: (abs) => {
      const st = stamp(abs);
      return st[0] === 'f' || st[0] === 'd';
    },
    isDirectory: (abs) => stamp(abs)[0] === 'd',
    globFs: { ...base.globFs, readdirSync: readdirSync as unknown as NonNullable<Host['globFs']>['readdirSync'] },
    async sync() {
      // Two turns of the event loop: the second's poll phase reads the inotify descriptor, readable since the edits.
      await new Promise<void>((done) => setImmediate(() => setImmediate(done)));
      // Mounts made or removed inside a watched tree raise no event on its directories: forget everything.
      const now = mounts();
      if (events >= burst || drops.size > MAX_DROPS || now !== mountTable) {
        resets++;
        close();
      } else {
        for (const d of drops) dropTree(d);
        checkTops();
      }
      drops.clear();
      mountTable = now;
      events = 0;
    },
    stats: () => ({ watched: watches.size, keptStamps: stamps.size, keptListings: listings.size, resets }),
    close,
  };
}
