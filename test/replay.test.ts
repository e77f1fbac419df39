// Replay of an identical run on unchanged inputs (src/cli/replay.ts), driven the way run.ts drives it: the answer
// equals what the engine prints from its whole-run cache, and any change to what the run read (a file's content,
// a new, removed or renamed file, go.mod, the config, the baseline) sends the run back to the engine. Runs that
// must never be replayed are never recorded.
import { cpSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import { findReplay, runWithReplay } from '../src/cli/replay.js';
import { nodeHost } from '../src/host.js';
import { removeTempDirs, tempDir } from './helpers/cli.js';

afterAll(removeTempDirs);

const SAMPLE = resolve(__dirname, '../fixtures/sample-fork');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  replayed: boolean;
  recorded: boolean;
}

/**
 * A clock ten seconds ahead: the files a test writes count as untouched for a while (a run's inputs modified
 * within two seconds of its start are never recorded), without waiting.
 */
const later = (): number => Date.now() + 10_000;

/** `rlscov ...argv` in `cwd` as run.ts runs it (replay first, else main with a recorder). */
async function rlscov(argv: string[], cwd: string, env: Record<string, string> = {}, clock: () => number = later): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const io = { stdout: (s: string) => void (stdout += s), stderr: (s: string) => void (stderr += s), cwd, isTTY: false, env: { NO_COLOR: '1', ...env } };
  const r = await runWithReplay(argv, io, nodeHost, (recorder) => main(argv, { ...io, replay: recorder }), clock);
  return { ...r, stdout, stderr };
}

function setup(): { dir: string; cache: string[] } {
  const dir = tempDir('rlscov-replay-tree-');
  cpSync(SAMPLE, dir, { recursive: true });
  return { dir, cache: ['--cache-dir', tempDir('rlscov-replay-cache-')] };
}

describe('replay of an unchanged run', () => {
  it('answers a repeated scan with what the whole-run cache gives, and a repeated pre-commit likewise', async () => {
    const { dir, cache } = setup();
    const first = await rlscov(['scan', '.', ...cache], dir);
    expect(first).toMatchObject({ code: 1, replayed: false, recorded: true });
    const second = await rlscov(['scan', '.', ...cache], dir);
    expect(second).toMatchObject({ code: 1, replayed: true });
    // The engine's own answer from its whole-run cache (main alone never looks for a replay record).
    const engine = await engineRun(['scan', '.', ...cache], dir);
    expect(engine.code).toBe(1);
    expect(second.stdout).toBe(engine.stdout);
    expect(second.stdout).toContain('unchanged since the last run: result reused from the cache');
    expect(second.stdout).toContain('RLS001');

    const files = ['platform/billing/invoices.go'];
    const pc1 = await rlscov(['pre-commit', ...cache, ...files], dir);
    const pc2 = await rlscov(['pre-commit', ...cache, ...files], dir);
    expect(pc1).toMatchObject({ code: 1, replayed: false });
    expect(pc2).toMatchObject({ code: 1, replayed: true });
    expect(pc2.stdout).toContain('platform/billing/invoices.go:38');
    // Another command line is another record.
    const json = await rlscov(['scan', '.', '--format', 'json', ...cache], dir);
    expect(json.replayed).toBe(false);
    expect(JSON.parse(json.stdout).findings.length).toBeGreaterThan(0);
  });

  it('keeps the most recently changed inputs first, where the next run looks for a change first', async () => {
    const { dir, cache } = setup();
    // Edited a moment before the others were last touched (the clock runs ten seconds ahead).
    const edited = join(dir, 'platform/billing/invoices.go');
    const past = new Date(Date.now() - 60_000);
    for (const f of readdirSync(dir, { recursive: true }) as string[]) utimesSync(join(dir, f), past, past);
    utimesSync(dir, past, past);
    writeFileSync(edited, readFileSync(edited, 'utf8') + '\n// edited\n');
    expect((await rlscov(['pre-commit', ...cache, 'platform/billing/invoices.go'], dir)).recorded).toBe(true);
    const [record] = readdirSync(cache[1]!).filter((n) => n.startsWith('replay-'));
    const { paths } = JSON.parse(readFileSync(join(cache[1]!, record!), 'utf8')) as { paths: string[] };
    expect(paths[0]).toBe(edited);
    // And it is still only an order: the same command replays, an edit anywhere does not.
    expect((await rlscov(['pre-commit', ...cache, 'platform/billing/invoices.go'], dir)).replayed).toBe(true);
  });

  it('says so under RLSCOV_TIMING=1', async () => {
    const { dir, cache } = setup();
    await rlscov(['scan', '.', ...cache], dir);
    const again = await rlscov(['scan', '.', ...cache], dir, { RLSCOV_TIMING: '1' });
    expect(again.replayed).toBe(true);
    expect(again.stderr).toMatch(/^rlscov timing \(process up [\d.]+ s\):\n {2}replayed +\d+ ms \(an identical earlier run, \d+ inputs unchanged\)\n$/);
  });

  const edits: Array<[string, (dir: string) => void]> = [
    ['an edited Go file', (d) => writeFileSync(join(d, 'platform/billing/invoices.go'), readFileSync(join(d, 'platform/billing/invoices.go'), 'utf8').replace('s.db.', 's.admin.'))],
    ['a Go file touched without a content change', (d) => utimesSync(join(d, 'platform/billing/invoices.go'), new Date(), new Date())],
    ['a new Go file', (d) => writeFileSync(join(d, 'platform/billing/extra.go'), 'package billing\n')],
    ['a removed Go file', (d) => rmSync(join(d, 'platform/billing/invoices.go'))],
    ['a renamed directory', (d) => renameSync(join(d, 'platform/billing'), join(d, 'platform/billing2'))],
    ['an edited migration', (d) => writeFileSync(join(d, firstMigration(d)), readFileSync(join(d, firstMigration(d)), 'utf8') + '\n-- note\n')],
    ['an edited config', (d) => writeFileSync(join(d, '.rlscov.yml'), readFileSync(join(d, '.rlscov.yml'), 'utf8') + '\n# note\n')],
    ['an edited go.mod', (d) => writeFileSync(join(d, 'go.mod'), readFileSync(join(d, 'go.mod'), 'utf8') + '\n')],
    ['a new go.mod in a package directory', (d) => writeFileSync(join(d, 'platform/billing/go.mod'), 'module example.com/billing\n\ngo 1.22\n')],
  ];
  for (const [what, edit] of edits) {
    it(`is not used after ${what}`, async () => {
      const { dir, cache } = setup();
      const first = await rlscov(['scan', '.', ...cache], dir);
      expect(first.recorded).toBe(true);
      edit(dir);
      const after = await rlscov(['scan', '.', ...cache], dir);
      expect(after.replayed).toBe(false);
      // And what it prints is the engine's answer for the tree as it is now.
      const fresh = await engineRun(['scan', '.', '--no-cache'], dir);
      expect(after.code).toBe(fresh.code);
      expect(findingLines(after.stdout)).toEqual(findingLines(fresh.stdout));
    });
  }

  it('is not recorded for runs that must not be replayed', async () => {
    const { dir, cache } = setup();
    expect((await rlscov(['scan', '.', '--no-cache'], dir)).recorded).toBe(false);
    expect((await rlscov(['scan', '.', ...cache, '--write-baseline', join(tempDir('rlscov-replay-bl-'), 'b.json')], dir)).recorded).toBe(false);
    expect((await rlscov(['scan', 'no-such-dir', ...cache], dir))).toMatchObject({ code: 2, recorded: false });
    expect((await rlscov(['rules'], dir)).recorded).toBe(false);
    // A tree edited a moment ago (on the real clock): a stamp taken within a timestamp tick of an edit proves
    // nothing.
    writeFileSync(join(dir, 'platform/billing/extra.go'), 'package billing\n');
    expect((await rlscov(['scan', '.', ...cache], dir, {}, Date.now)).recorded).toBe(false);
    expect((await rlscov(['scan', '.', ...cache], dir, {}, Date.now)).replayed).toBe(false);
  });

  it('follows a baseline file and rewrites --output files', async () => {
    const { dir, cache } = setup();
    const bl = join(tempDir('rlscov-replay-bl-'), 'baseline.json');
    await rlscov(['scan', '.', ...cache, '--write-baseline', bl], dir);
    const out = join(tempDir('rlscov-replay-out-'), 'report.sarif');
    const argv = ['scan', '.', ...cache, '--baseline', bl, '--format', 'sarif', '--output', out];
    const first = await rlscov(argv, dir);
    expect(first).toMatchObject({ code: 0, recorded: true });
    rmSync(out);
    const second = await rlscov(argv, dir);
    expect(second).toMatchObject({ code: 0, replayed: true });
    expect(JSON.parse(readFileSync(out, 'utf8')).runs[0].results.length).toBeGreaterThan(0);
    writeFileSync(bl, readFileSync(bl, 'utf8') + '\n');
    expect((await rlscov(argv, dir)).replayed).toBe(false);
  });

  it('reads only records of its own build, key and format', async () => {
    const { dir, cache } = setup();
    await rlscov(['scan', '.', ...cache], dir);
    const io = { cwd: dir, isTTY: false, env: { NO_COLOR: '1' } };
    expect(findReplay(['scan', '.', ...cache], io)).not.toBeNull();
    // Colour, the cache switched off, or the cache directory named another way: no replay.
    expect(findReplay(['scan', '.', ...cache], { ...io, env: {} })).toBeNull();
    expect(findReplay(['scan', '.', ...cache, '--no-cache'], io)).toBeNull();
    expect(findReplay(['scan', '.', `--cacheDir=${cache[1]}`], io)).toBeNull();
    const [record] = readdirSync(cache[1]!).filter((n) => n.startsWith('replay-'));
    const file = join(cache[1]!, record!);
    const stored = JSON.parse(readFileSync(file, 'utf8'));
    writeFileSync(file, JSON.stringify({ ...stored, build: 'another build' }));
    expect(findReplay(['scan', '.', ...cache], io)).toBeNull();
    writeFileSync(file, '{ not json');
    expect(findReplay(['scan', '.', ...cache], io)).toBeNull();
    expect(statSync(file).isFile()).toBe(true);
  });
});

/** main() alone, as the engine answers (no replay). */
async function engineRun(argv: string[], cwd: string): Promise<{ code: number; stdout: string }> {
  let stdout = '';
  const code = await main(argv, { stdout: (s) => void (stdout += s), stderr: () => {}, cwd, isTTY: false, env: { NO_COLOR: '1' } });
  return { code, stdout };
}

/** The `file:line:col` lines of a text report. */
function findingLines(text: string): string[] {
  return text.split('\n').filter((l) => /^\S+\.go:\d+/.test(l));
}

function firstMigration(dir: string): string {
  const all = (readdirSync(dir, { recursive: true }) as string[]).filter((p) => p.endsWith('.sql')).sort();
  return all[0]!;
}
