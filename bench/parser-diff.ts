// Compares the two Go parsers on real trees: for every .go file under the given directories (vendor and tests
// included: more Go is a better test), the IR lowered from the hand-written parser (src/go/goparser.ts) must equal
// the IR lowered from tree-sitter-go (src/go/parser-compare.ts says which differences are known and equivalent).
// Also reports how often the hand-written parser gives up (those files go to tree-sitter), and both parsers'
// parse+lower CPU time as a ratio measured in the same run.
//
//   npm run build && node dist/bench/parser-diff.js DIR... [--show N]
// Exit 1 when any file differs.
import { readFileSync } from 'node:fs';
import fg from 'fast-glob';
import { lowerGoFile } from '../src/go/lower.js';
import { compareParsers } from '../src/go/parser-compare.js';

const args = process.argv.slice(2);
const showAt = args.indexOf('--show');
const show = showAt >= 0 ? Number(args[showAt + 1]) : 10;
const dirs = args.filter((a, i) => !a.startsWith('--') && (showAt < 0 || i !== showAt + 1));
if (!dirs.length) {
  process.stderr.write('usage: node dist/bench/parser-diff.js DIR... [--show N]\n');
  process.exit(2);
}

const count = { files: 0, bytes: 0, same: 0, tsErrors: 0, tsErrorsRead: 0, gaveUp: 0, misread: 0, differs: 0 };
const examples: Record<'gaveUp' | 'misread' | 'differs', string[]> = { gaveUp: [], misread: [], differs: [] };
const note = (k: keyof typeof examples, line: string): void => {
  count[k]++;
  if (examples[k].length < show) examples[k].push(line);
};
let fastMs = 0;
let tsMs = 0;
for (const dir of dirs) {
  for (const path of fg.sync('**/*.go', { cwd: dir, absolute: true, ignore: ['**/node_modules/**'] })) {
    const source = readFileSync(path, 'utf8');
    count.files++;
    count.bytes += source.length;
    const input = { path, source, pkgKey: 'p' };
    const c = compareParsers(input);
    if (c.kind === 'same') count.same++;
    else if (c.kind === 'tree-sitter-error') {
      count.tsErrors++;
      if (c.goparser === 'ok') count.tsErrorsRead++;
    } else if (c.kind === 'gave-up') note('gaveUp', `${path}: ${c.detail}`);
    else if (c.kind === 'tree-sitter-misread') note('misread', `${path}\n      ${c.detail}`);
    else note('differs', `${path}\n      ${c.detail}`);
    // Timing, each parser alone (the comparison above also lowers twice; these runs are warm for both).
    let t = performance.now();
    lowerGoFile(input, 'tree-sitter');
    tsMs += performance.now() - t;
    t = performance.now();
    lowerGoFile(input, 'auto');
    fastMs += performance.now() - t;
  }
}
const list = (xs: string[]): string[] => xs.map((x) => `    ${x}`);
process.stdout.write(
  [
    `files: ${count.files} (${(count.bytes / 1e6).toFixed(1)} MB), identical IR: ${count.same}`,
    `tree-sitter syntax errors: ${count.tsErrors} (the hand-written parser reads ${count.tsErrorsRead} of them, e.g. Go 1.26 new(expr))`,
    `hand-written parser gave up on files tree-sitter reads (they go to tree-sitter): ${count.gaveUp}`,
    ...list(examples.gaveUp),
    `tree-sitter misreads valid Go (grouped parameters read as types, x[a.b][c.d] as a generic type): ${count.misread}`,
    ...list(examples.misread),
    `IR differs: ${count.differs}`,
    ...list(examples.differs),
    `parse+lower CPU: tree-sitter ${(tsMs / 1000).toFixed(2)} s, rlscov's (hand-written, tree-sitter fallback) ${(fastMs / 1000).toFixed(2)} s: ${(tsMs / fastMs).toFixed(1)}x faster`,
    '',
  ].join('\n'),
);
process.exit(count.differs ? 1 : 0);
