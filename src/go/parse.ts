// tree-sitter-go parsing, for files the hand-written parser (goparser.ts) gives up on: its error recovery keeps
// the rest of a broken file analysable. Loaded on first use (the native binding costs ~40 ms to load), one parser
// per thread, reused (creating one costs more than parsing a small file).
import { createRequire } from 'node:module';
import type ParserT from 'tree-sitter';

const require = createRequire(import.meta.url);

let parser: ParserT | null = null;
let parsedBytes = 0;

/** Source bytes parsed by tree-sitter in this thread (its binding keeps each tree's native memory). */
export function treeSitterBytes(): number {
  return parsedBytes;
}

export function parseGo(source: string): ParserT.Tree {
  if (!parser) {
    const Parser = require('tree-sitter') as typeof ParserT;
    const Go = require('tree-sitter-go') as ParserT.Language;
    parser = new Parser();
    parser.setLanguage(Go);
  }
  parsedBytes += source.length;
  // bufferSize: the binding's default chunk is small; give it room for the whole file in one read.
  return parser.parse(source, undefined, { bufferSize: Math.max(32 * 1024, source.length * 2 + 1024) });
}
