// The pack of the cache entries' first lines (cache.ts): a run after an edit reads the first line of every
// file's IR entry (its declarations) and of every file's facts entry; read from the pack, that is one read of
// one file per kind, not five system calls per entry (open, fstat, two reads, close: ~300 ms of the 20k-file
// fork's pre-commit run, ~35 ms of temporal's).
//
// Each line is kept with the identity (inode, size, modification time) of the write it came from, as readHead
// gives it, and the rest of an entry is read only from that write (readFrom, readLine): a pack older than its
// entries costs speed (the entry's first line is read from the entry again, or the file analysed again), never
// a line of one write paired with the rest of another.
//
// On disk: the entries' first lines (without their newlines, which JSON text never holds), one after the other,
// then a newline and the index, a JSON line `{format, tool, entries: [[key, length, bodiesAt, complete (0 or 1),
// version], ...]}` (last: it is known only once every line is written). The lines are ASCII (other characters
// written as JSON escapes): the pack is read as one string, and each line parsed from a slice of it. Parsed
// apart, each line was a string of its own, which the values parsed from it refer to (V8 slices long strings
// out of the text parsed): 5 MB of strings on temporal, copied twice by the young generation's collections.

import { closeSync, fstatSync, openSync, readFileSync } from 'node:fs';
import { writeFileAtomicParts } from '../files.js';
import { readHead, versionOf, type HeadRead } from './entry.js';
import { keepingParsedLines, parsedOnce } from './kept.js';

interface Pack {
  entries: Map<string, PackedHead>;
  /** The lines (null: let go, see release). */
  text: string | null;
}

interface PackedHead extends HeadRead {
  /** Where the line is in the pack (characters, which are bytes: ASCII). */
  at: number;
  length: number;
}

type PackIndex = { format: number; tool: string; entries: Array<[key: string, length: number, bodiesAt: number, complete: number, version: string]> };

/** An entry's first line as read: from the pack, or from the entry itself. */
type Read = PackedHead | NonNullable<ReturnType<typeof readHead>>;

/** Where an entry's first line is, for the next pack: as read, or in an entry written by this run. */
type Head = Read | { written: true };

/** The first lines of one kind of entry (a file's IR, a file's facts), in one file beside the entries. */
export class HeadPack {
  /** Undefined until first needed; null when there is none to read. */
  private pack: Pack | null | undefined;
  /** Where the first line of each entry used in this run is, in the order used. */
  private readonly heads = new Map<string, Head>();
  /** Entries whose line in the pack proved to be of another write than the entry now holds (or of none). */
  private readonly stale = new Set<string>();

  constructor(
    readonly file: string,
    /** The entry file of a key. */
    private readonly entryFile: (key: string) => string,
    /** Written in the index: a pack of another format or tool is not read. */
    private readonly stamp: { format: number; tool: string },
  ) {}

  /**
   * The first line of entry `key`, as `accept` takes it (null: it does not): from the pack when it holds the
   * entry's line (not known to be stale), else from the entry. Null when neither gives one `accept` takes.
   */
  head<T>(key: string, accept: (text: string) => T | null): { value: T; read: HeadRead } | null {
    const pack = this.stale.has(key) ? null : this.packed();
    // Parsed once per write in a process that keeps parsed lines (kept.ts), wherever the line is read from.
    const name = `${this.entryFile(key)}\0head`;
    // The lines first: read again (if let go), they come with their own index.
    const text = pack?.entries.has(key) ? this.text() : null;
    const packed = text !== null && pack!.entries.get(key);
    if (packed) {
      const value = parsedOnce(name, packed.version, () => accept(text!.slice(packed.at, packed.at + packed.length)));
      if (value !== null) {
        this.heads.set(key, packed);
        return { value, read: packed };
      }
    }
    const read = readHead(this.entryFile(key));
    const value = read && parsedOnce(name, read.version, () => accept(read.head));
    if (!read || value === null) return null;
    this.heads.set(key, read);
    return { value, read };
  }

  /** Entry `key` was written by this run: its first line is read back once written (save). */
  written(key: string): void {
    // Not kept meanwhile: the lines of a first run's entries, held to its end, added 16 MB to its peak.
    this.heads.set(key, { written: true });
  }

  /** Reads past an entry's first line: should the entry not be the write its line came from, the line is stale. */
  readPast<T>(key: string, read: () => T): T {
    try {
      return read();
    } catch (e) {
      this.stale.add(key);
      throw e;
    }
  }

  /**
   * Lets the pack's lines go once the run has read the first lines it needs: held to the end of the run, they
   * added their size to its peak (30 MB on the 20k-file fork). A line asked for later, or a pack written again,
   * reads them again.
   */
  release(): void {
    if (this.pack && !keepingParsedLines()) this.pack.text = null;
  }

  /**
   * Writes the pack of the first lines of the entries this run used, unless the last one serves the next run
   * about as well: every line it holds is still the entry's, and it misses or holds unused only a few (a
   * pre-commit run reads the entries of the edited file from the entries themselves, until they add up).
   */
  save(): void {
    const { heads, stale } = this;
    if (heads.size === 0) return;
    const pack = this.packed();
    let fromPack = 0;
    let rewrite = pack === null || stale.size > 0;
    for (const [key, h] of heads) {
      if ('at' in h) fromPack++;
      // Written again by this run (a variant added): the pack's line is of the write before.
      else if (pack?.entries.has(key)) rewrite = true;
    }
    const packed = pack?.entries.size ?? 0;
    if (!rewrite && heads.size - fromPack <= 64 + heads.size / 32 && packed - fromPack <= 64 + packed / 4) return;
    // The lines of this run's pack, read again if they were let go: each line is taken from the pack at hand when
    // it holds the line of the same write of the entry (else from the entry).
    const text = pack ? this.text() : null;
    const { entryFile, stamp } = this;
    function* lines(): Generator<string> {
      const index: PackIndex['entries'] = [];
      for (const [key, h] of heads) {
        // Left out: a line in the pack that proved to be of another write.
        if ('at' in h && stale.has(key)) continue;
        let read: Read | null = 'written' in h ? null : h;
        if (read && 'at' in read) {
          const now = pack!.entries.get(key);
          read = now && now.version === read.version ? now : null;
        }
        // A line written by this run, or no longer in the pack, is read back as it is now, with the identity of
        // the write it is in.
        read ??= readHead(entryFile(key));
        if (!read) continue;
        const line = 'at' in read ? text!.slice(read.at, read.at + read.length) : ascii(read.head);
        index.push([key, line.length, read.bodiesAt, read.complete ? 1 : 0, read.version]);
        yield line;
      }
      yield '\n' + JSON.stringify({ ...stamp, entries: index } satisfies PackIndex);
    }
    writeFileAtomicParts(this.file, lines());
  }

  /** The pack the last run wrote, read on first need (null: none, or not of this format and tool). */
  private packed(): Pack | null {
    if (this.pack === undefined) this.pack = this.read();
    return this.pack;
  }

  /**
   * The lines of the pack `packed` gave, read again if they were let go (release). Should the pack have been
   * replaced meanwhile, its index is replaced with the new one's, whose lines these are.
   */
  private text(): string {
    const pack = this.pack!;
    if (pack.text !== null) return pack.text;
    const again = this.read();
    pack.entries = again?.entries ?? new Map();
    return (pack.text = again?.text ?? '');
  }

  /**
   * The pack on disk, null when there is none or it is not one of this format and tool written whole. Parsed once
   * per write in a process that keeps parsed lines (kept.ts): a pack is replaced whole, never changed in place.
   */
  private read(): Pack | null {
    let fd: number;
    try {
      fd = openSync(this.file, 'r');
    } catch {
      return null; // no pack: every first line is read from its entry
    }
    try {
      return parsedOnce(`${this.file}\0pack`, versionOf(fstatSync(fd)), () => this.parse(readFileSync(fd)));
    } catch {
      return null;
    } finally {
      closeSync(fd);
    }
  }

  private parse(data: Buffer): Pack | null {
    try {
      const nl = data.lastIndexOf(10);
      if (nl < 0) return null;
      // A pack cut short ends inside its lines or its index: not JSON, or not an index.
      const index = JSON.parse(data.toString('utf8', nl + 1)) as PackIndex;
      if (index?.format !== this.stamp.format || index.tool !== this.stamp.tool || !Array.isArray(index.entries)) return null;
      const entries = new Map<string, PackedHead>();
      let at = 0;
      for (const e of index.entries) {
        if (!Array.isArray(e) || typeof e[0] !== 'string' || !Number.isInteger(e[1]) || e[1] < 0 || !Number.isInteger(e[2]) || typeof e[4] !== 'string') return null;
        entries.set(e[0], { at, length: e[1], bodiesAt: e[2], complete: e[3] === 1, version: e[4] });
        at += e[1];
      }
      // The lines are exactly what the index says.
      return at === nl ? { entries, text: data.toString('latin1', 0, nl) } : null;
    } catch {
      return null; // corrupt: every first line is read from its entry
    }
  }
}

/** JSON text in ASCII: every other character as its JSON escape (surrogate pairs as two, which parse back as one). */
function ascii(json: string): string {
  return /[^\x00-\x7f]/.test(json) ? json.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`) : json;
}
