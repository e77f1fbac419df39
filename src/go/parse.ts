// tree-sitter-go parsing. One parser per thread, reused (creating one costs more than parsing a small file).
import { createRequire } from 'node:module';
import type ParserT from 'tree-sitter';

const require = createRequire(import.meta.url);
const Parser = require('tree-sitter') as typeof ParserT;
const Go = require('tree-sitter-go') as ParserT.Language;

let parser: ParserT | null = null;

export function parseGo(source: string): ParserT.Tree {
  if (!parser) {
    parser = new Parser();
    parser.setLanguage(Go);
  }
  // bufferSize: the binding's default chunk is small; give it room for the whole file in one read.
  return parser.parse(source, undefined, { bufferSize: Math.max(32 * 1024, source.length * 2 + 1024) });
}
