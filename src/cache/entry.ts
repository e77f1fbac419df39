// Reading a cache entry (cache.ts): its first line alone, then the rest, each read only from the write the first
// line came from. An entry is lines of JSON text, replaced whole (written beside, then renamed).
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

/** Where the rest of an entry starts (-1: no rest), whether the entry ends whole, and the write it is of. */
export interface HeadRead {
  bodiesAt: number;
  complete: boolean;
  version: string;
}

/**
 * The first line of an entry, read without the rest; `bodiesAt`: the byte offset of the second line (-1: none);
 * `complete`: the entry ends as a whole one does. Null when it cannot be read.
 */
export function readHead(file: string): (HeadRead & { head: string }) | null {
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
let lineBuffer = Buffer.allocUnsafeSlow(HEAD_READ);

/**
 * The line of an open file of `size` bytes that starts at byte `offset`, without its newline: its text, its
 * length in bytes, and whether a newline ends it (else it runs to the end of the file, or of what could be read).
 */
function lineAt(fd: number, offset: number, size: number): { text: string; bytes: number; ended: boolean } {
  // Most lines asked for (an entry's head, a variant's lookups) are a few KB: one read usually holds the whole line.
  // Read into one buffer kept for the run (the text is copied out): a buffer per line, of up to 64 KB, put ~1.3 GB
  // of short-lived external memory through the collector on the 20k-file fork's pre-commit run.
  const left = Math.max(0, size - offset);
  let buf = lineBuffer;
  let have = 0;
  for (;;) {
    if (have === buf.length) {
      const more = Buffer.allocUnsafeSlow(buf.length * 4);
      buf.copy(more, 0, 0, have);
      buf = lineBuffer = more;
    }
    const n = readSync(fd, buf, have, Math.min(buf.length, left) - have, offset + have);
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
export function versionOf(st: { ino: number; size: number; mtimeMs: number }): string {
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
export function readLine(file: string, offset: number, version: string): string {
  const fd = openSync(file, 'r');
  try {
    return lineAt(fd, offset, sizeIfSame(fd, file, version)).text;
  } finally {
    closeSync(fd);
  }
}

/** The text of `file` from byte `offset` on, if the file is still `version` (readHead); else throws. */
export function readFrom(file: string, offset: number, version: string): string {
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
