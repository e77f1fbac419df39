// `partialFingerprints.primaryLocationLineHash`, computed exactly as GitHub's upload action does (codeql-action,
// src/fingerprints.ts), so that the value we write matches the one the uploader would compute and alerts keep their
// identity when unrelated lines move.
//
// The algorithm: a rolling polynomial hash (base 37, 64-bit wrapping arithmetic) over a window of BLOCK_SIZE
// characters of the file with spaces and tabs dropped and line endings (\r\n, \r, \n) normalised to \n. The hash of
// a line is the hash of the window that starts at the line's first kept character. A sentinel 65535 follows the
// last character and zeros pad the window at the end. The value is printed as unsigned hex followed by `:N`, where
// N counts earlier lines of the file with the same hash (1 for the first).
//
// Characters are UTF-16 code units (JavaScript's charCodeAt), as in the original. Pass the file's text decoded as
// UTF-8 with nothing stripped (a byte-order mark, if any, is part of the first line's hash there too).

const TAB = 0x09;
const SPACE = 0x20;
const LF = 0x0a;
const CR = 0x0d;
const EOF = 65535;
const BLOCK_SIZE = 100;
const MOD = 37n;

/** MOD^BLOCK_SIZE, the weight of the character that leaves the window. */
const FIRST_MOD = BigInt.asIntN(64, MOD ** BigInt(BLOCK_SIZE));

/**
 * Calls `callback(line, hash)` once for every line of `contents`, in line order (lines are 1-based; a text that
 * ends with a line break has one more, empty, line after it, as in the original).
 */
export function forEachLineHash(contents: string, callback: (line: number, hash: string) => void): void {
  // The window of the last BLOCK_SIZE characters, and for each slot the line that starts there (-1: none).
  const window: number[] = new Array<number>(BLOCK_SIZE).fill(0);
  const lineNumbers: number[] = new Array<number>(BLOCK_SIZE).fill(-1);
  const hashCounts = new Map<string, number>();
  let hash = 0n;
  let index = 0;
  let lineNumber = 0;
  let lineStart = true;
  let prevCR = false;

  const outputHash = (): void => {
    const value = BigInt.asUintN(64, hash).toString(16);
    const count = (hashCounts.get(value) ?? 0) + 1;
    hashCounts.set(value, count);
    callback(lineNumbers[index]!, `${value}:${count}`);
    lineNumbers[index] = -1;
  };

  const updateHash = (current: number): void => {
    const begin = window[index]!;
    window[index] = current;
    hash = BigInt.asIntN(64, MOD * hash + BigInt(current) - FIRST_MOD * BigInt(begin));
    index = (index + 1) % BLOCK_SIZE;
  };

  for (let i = 0, len = contents.length; i <= len; i++) {
    let current = i === len ? EOF : contents.charCodeAt(i);
    // Spaces and tabs never count; neither does the \n of a \r\n pair.
    if (current === SPACE || current === TAB || (prevCR && current === LF)) {
      prevCR = false;
      continue;
    }
    if (current === CR) {
      current = LF;
      prevCR = true;
    } else {
      prevCR = false;
    }
    // The window has come round to a slot where a line started BLOCK_SIZE characters ago: that line is done.
    if (lineNumbers[index] !== -1) outputHash();
    if (lineStart) {
      lineStart = false;
      lineNumber++;
      lineNumbers[index] = lineNumber;
    }
    if (current === LF) lineStart = true;
    updateHash(current);
  }

  // Flush the lines that started within the last BLOCK_SIZE characters.
  for (let i = 0; i < BLOCK_SIZE; i++) {
    if (lineNumbers[index] !== -1) outputHash();
    updateHash(0);
  }
}

/** Every line's hash: element `i` is the hash of line `i + 1`. */
export function lineHashes(contents: string): string[] {
  const hashes: string[] = [];
  forEachLineHash(contents, (line, hash) => {
    hashes[line - 1] = hash;
  });
  return hashes;
}

/** The hash of one line (1-based), or undefined when the file has no such line. */
export function primaryLocationLineHash(contents: string, line: number): string | undefined {
  let found: string | undefined;
  forEachLineHash(contents, (l, hash) => {
    if (l === line) found = hash;
  });
  return found;
}
