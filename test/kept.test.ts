// Parsed cache lines kept between the runs of one process (src/cache/kept.ts), as the daemon keeps them: a value
// handed to one run is handed to the next, so no reader may change it. Here every kept value is frozen, deeply,
// and a sequence of runs (a full scan, edits of a comment and of a declaration, a pre-commit run, the edit taken
// back) must answer exactly as runs without any cache do, with lines actually kept and reused.
import { appendFileSync, cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keepParsedLines, keptLineStats, parsedOnce } from '../src/cache/kept.js';
import { main } from '../src/cli/main.js';
import { removeTempDirs, tempDir } from './helpers/cli.js';

const SAMPLE = join(__dirname, '..', 'fixtures', 'sample-fork');

async function run(argv: string[], cwd: string): Promise<{ code: number; out: string }> {
  let out = '';
  const code = await main(argv, { stdout: (s) => (out += s), stderr: (s) => (out += `stderr: ${s}`), cwd, isTTY: false, env: { NO_COLOR: '1' } });
  return { code, out };
}

/** A JSON report without what differs between a cached and an uncached run (how many files were parsed). */
function comparable(out: string): unknown {
  const r = JSON.parse(out) as Record<string, unknown>;
  delete r['summary'];
  return r;
}

describe('parsedOnce', () => {
  afterAll(() => keepParsedLines(null));

  it('parses every time when nothing is kept, once per name when lines are kept', () => {
    keepParsedLines(null);
    let parses = 0;
    const parse = (): { n: number } => ({ n: ++parses });
    expect(parsedOnce('a', 'v1', parse)).not.toBe(parsedOnce('a', 'v1', parse));
    expect(parses).toBe(2);
    keepParsedLines({ max: 2 });
    const first = parsedOnce('a', 'v1', parse);
    expect(parsedOnce('a', 'v1', parse)).toBe(first);
    expect(parses).toBe(3);
    // The least recently used goes first: 'a' was used last, so 'b' goes when 'c' comes.
    parsedOnce('b', 'v1', parse);
    parsedOnce('a', 'v1', parse);
    parsedOnce('c', 'v1', parse);
    expect(parsedOnce('a', 'v1', parse)).toBe(first);
    const before = parses;
    parsedOnce('b', 'v1', parse);
    expect(parses).toBe(before + 1);
    // Another write of the same line replaces the kept value: one value per line, never a pile of versions.
    const second = parsedOnce('a', 'v2', parse);
    expect(second).not.toBe(first);
    expect(parsedOnce('a', 'v2', parse)).toBe(second);
    expect(keptLineStats().values).toBe(2);
  });

  it('keeps nothing when the parse throws, and freezes what it keeps when asked to', () => {
    keepParsedLines({ freeze: true });
    expect(() =>
      parsedOnce('bad', 'v1', () => {
        throw new Error('torn line');
      }),
    ).toThrow('torn line');
    expect(parsedOnce('bad', 'v1', () => 'read again')).toBe('read again');
    const v = parsedOnce('deep', 'v1', () => ({ list: [{ x: 1 }] }));
    expect(() => {
      (v.list[0] as { x: number }).x = 2;
    }).toThrow(TypeError);
  });
});

describe('runs that share kept, frozen lines answer as uncached runs do', () => {
  let tree: string;
  let cacheDir: string;
  beforeAll(() => {
    tree = tempDir('rlscov-kept-');
    cacheDir = tempDir('rlscov-kept-cache-');
    cpSync(SAMPLE, tree, { recursive: true });
    keepParsedLines({ freeze: true });
  });
  afterAll(() => {
    keepParsedLines(null);
    removeTempDirs();
  });

  const file = 'platform/billing/invoices.go';
  const steps: Array<[string, string | null, (f: string) => string[]]> = [
    ['a full scan (fills the cache)', null, () => ['scan', '.', '--format', 'json']],
    ['a comment appended', '\n// kept: edit 1\n', () => ['scan', '.', '--format', 'json']],
    ['a pre-commit run after another comment', '\n// kept: edit 2\n', (f) => ['pre-commit', f]],
    ['an exported function appended', '\nfunc KeptEditAdded() {}\n', () => ['scan', '.', '--format', 'json']],
    ['the file as it was', 'RESTORE', () => ['scan', '.', '--format', 'json']],
  ];

  it('through every step, with lines reused', async () => {
    const original = readFileSync(join(tree, file), 'utf8');
    let reusedAfterFirst = 0;
    for (const [name, edit, argv] of steps) {
      if (edit === 'RESTORE') writeFileSync(join(tree, file), original);
      else if (edit) appendFileSync(join(tree, file), edit);
      const before = keptLineStats();
      const got = await run([...argv(file), '--cache-dir', cacheDir], tree);
      const after = keptLineStats();
      if (name !== steps[0]![0]) reusedAfterFirst += after.hits - before.hits;
      const want = await run([...argv(file), '--no-cache'], tree);
      expect(got.code, name).toBe(want.code);
      // The text report's summary says how many files came from the cache: the one line that may differ.
      const files = /^files: .*$/m;
      if (argv(file)[0] === 'pre-commit') expect(got.out.replace(files, 'files'), name).toBe(want.out.replace(files, 'files'));
      else expect(comparable(got.out), name).toEqual(comparable(want.out));
    }
    // Not a vacuous pass: the later runs were answered from kept lines.
    expect(reusedAfterFirst).toBeGreaterThan(10);
  });
});
