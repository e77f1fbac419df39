// The persistent cache: an unchanged tree reuses the last result without parsing; an edit re-parses exactly the
// edited file and changes exactly the findings it should; config and migrations are part of the key; a corrupt
// cache is ignored.
import type * as Fs from 'node:fs';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { MIGRATION, writeTree } from './helpers/cli.js';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FactsCache } from '../src/cache/cache.js';
import { makeDirs } from '../src/files.js';
import { UNLOADED_BODY } from '../src/go/ir.js';
import { lowerGoFile } from '../src/go/lower.js';
import { emptyFacts, Interpreter } from '../src/resolve/interpret.js';
import { Program } from '../src/resolve/program.js';
import { analyze } from '../src/engine/analyze.js';
import type { RunResult } from '../src/model.js';

const SAMPLE = resolve(__dirname, '../fixtures/sample-fork');

function setup(): { dir: string; cacheDir: string; run: () => Promise<RunResult> } {
  const dir = mkdtempSync(join(tmpdir(), 'rlscov-cache-tree-'));
  cpSync(SAMPLE, dir, { recursive: true });
  const cacheDir = mkdtempSync(join(tmpdir(), 'rlscov-cache-dir-'));
  return { dir, cacheDir, run: () => analyze({ paths: ['.'], cwd: dir, cache: true, cacheDir }) };
}

/**
 * How many files' pass-1 facts a run takes from the cache when no Go file changed (every analysed file that
 * declares a function): a comment appended to a migration only drops the whole-run result.
 */
async function allFacts(dir: string, run: () => Promise<RunResult>): Promise<number> {
  const r = await touchMigrationAndRun(dir, run);
  expect(r.summary.cache?.factsFromCache).toBeGreaterThan(1);
  return r.summary.cache!.factsFromCache;
}

/** A run after a comment appended to a migration: no whole-run result, every Go file's facts from the cache. */
async function touchMigrationAndRun(dir: string, run: () => Promise<RunResult>): Promise<RunResult> {
  const migration = join(dir, 'migrations/001_init.sql');
  writeFileSync(migration, readFileSync(migration, 'utf8') + '\n-- touched\n');
  const r = await run();
  expect(r.summary.cache?.wholeRun).toBe(false);
  expect(r.summary.filesParsed).toBe(0);
  return r;
}

type GetFacts = FactsCache['getFacts'];

/** `run` with FactsCache.getFacts replaced by `patched` (handed the cache, the key and the original), then restored. */
async function withGetFacts<T>(patched: (cache: FactsCache, key: string, getFacts: (key: string) => ReturnType<GetFacts>) => ReturnType<GetFacts>, run: () => Promise<T>): Promise<T> {
  const getFacts = FactsCache.prototype.getFacts;
  FactsCache.prototype.getFacts = function (this: FactsCache, key: string) {
    return patched(this, key, (k) => getFacts.call(this, k));
  };
  try {
    return await run();
  } finally {
    FactsCache.prototype.getFacts = getFacts;
  }
}

/** Removes the packs of first lines (pack.ts): the next run reads each entry's first line from the entry. */
function dropPack(cacheDir: string): void {
  const packs = readdirSync(cacheDir).filter((n) => n.startsWith('pack-'));
  expect(packs.map((n) => n.split('-')[1]).sort()).toEqual(['facts', 'ir']);
  for (const n of packs) rmSync(join(cacheDir, n));
}

/**
 * `run`, counting the files under `dir` it opens: node:fs's openSync is wrapped meanwhile (the cache's named
 * import of it follows, see syncBuiltinESMExports).
 */
async function countingOpens<T>(dir: string, run: () => Promise<T>): Promise<{ result: T; opened: number }> {
  // The module object, whose properties the named exports follow (not the ESM namespace, which is read-only).
  const fs = createRequire(import.meta.url)('node:fs') as typeof Fs;
  const original = fs.openSync;
  let opened = 0;
  fs.openSync = ((path: Fs.PathLike, ...rest: [Fs.OpenMode?, Fs.Mode?]) => {
    if (String(path).startsWith(dir)) opened++;
    return original(path, ...rest);
  }) as typeof fs.openSync;
  syncBuiltinESMExports();
  try {
    return { result: await run(), opened };
  } finally {
    fs.openSync = original;
    syncBuiltinESMExports();
  }
}

/** Rewrites the lines (head, lookups, bodies) of every cached facts entry; returns how many were rewritten. */
function rewriteFactsEntries(cacheDir: string, rewrite: (lines: string[]) => string[]): number {
  // Read as they are now, not as the pack's lines of the writes before say.
  dropPack(cacheDir);
  const [facts] = readdirSync(cacheDir).filter((n) => n.startsWith('facts-'));
  let changed = 0;
  for (const n of readdirSync(join(cacheDir, facts!))) {
    const p = join(cacheDir, facts!, n);
    const lines = readFileSync(p, 'utf8').split('\n');
    if (lines[0]!.includes('"ir":{')) continue;
    expect(lines).toHaveLength(3);
    writeFileSync(p, rewrite(lines).join('\n'));
    changed++;
  }
  return changed;
}

/** store.go of the trees whose SQL text comes from package queries: a delete of `queries.DeleteOne`, then `more`. */
const storeGo = (more = ''): string => `package store

import (
\t"context"
\t"database/sql"

\t"example.com/app/queries"
)

type Store struct{ db *sql.DB }

func (s *Store) Delete(ctx context.Context, id string) error {
\t_, err := s.db.ExecContext(ctx, queries.DeleteOne, id)
\treturn err
}
${more}`;

const live = (r: RunResult): string[] => r.findings.filter((f) => !f.suppressed).map((f) => `${f.span.file}:${f.span.start.line} ${f.ruleId}`).sort();

describe('persistent cache', () => {
  it('runs without it where no directory can be made (a path under a file)', async () => {
    // A directory under /proc, which once hung the run, is in cli.test.ts (a child process, which a test can stop).
    const tree = mkdtempSync(join(tmpdir(), 'rlscov-nocachedir-'));
    cpSync(SAMPLE, tree, { recursive: true });
    const file = join(mkdtempSync(join(tmpdir(), 'rlscov-file-')), 'plain');
    writeFileSync(file, '');
    const plain = await analyze({ cwd: tree, paths: ['.'] });
    for (const dir of [join(file, 'cache'), join(file, 'a/b/cache')]) {
      const r = await analyze({ cwd: tree, paths: ['.'], cache: true, cacheDir: dir });
      expect(r.findings, dir).toEqual(plain.findings);
    }
    expect(() => makeDirs(join(file, 'a/b'))).toThrow(/ENOTDIR/);
    const made = join(tree, 'made/a/b');
    makeDirs(made);
    makeDirs(made);
    expect(readdirSync(join(tree, 'made/a'))).toEqual(['b']);
  });

  it('gives cached IR without its bodies until they are loaded, and never interprets a body not loaded', async () => {
    const cacheDir = mkdtempSync(join(tmpdir(), 'rlscov-cache-dir-'));
    const ir = lowerGoFile({ path: 'a/a.go', pkgKey: 'example.com/a', source: 'package a\n\nfunc F(x int) int {\n\treturn x + 1\n}\n\nfunc G() { F(2) }\n' });
    const writer = new FactsCache(cacheDir, '/some/root');
    writer.set('k', ir, 'decl');
    await writer.save();
    const cache = new FactsCache(cacheDir, '/some/root');
    const got = cache.get('k')!;
    expect(got.funcs.map((f) => f.name)).toEqual(['F', 'G']);
    expect(got.funcs.every((f) => f.body === UNLOADED_BODY)).toBe(true);
    const program = new Program([got]);
    const interpret = () => new Interpreter(program, emptyFacts(), { adminOpeners: new Set() }, new Map()).run(program.funcs.get('example.com/a.F')!);
    expect(interpret).toThrow(/not read from the cache/);
    cache.loadBodies(got);
    expect(got.funcs.map((f) => f.body)).toEqual(ir.funcs.map((f) => f.body));
    expect(interpret).not.toThrow();
  });

  it('reads the rest of an entry only from the write whose first line it read', async () => {
    const cacheDir = mkdtempSync(join(tmpdir(), 'rlscov-cache-dir-'));
    const write = async (bodies: unknown[]): Promise<void> => {
      const c = new FactsCache(cacheDir, '/some/root');
      c.setFacts('k', { variants: [{ dh: 'x' }] }, [[['p:a', '1']]], bodies);
      await c.save();
    };
    await write([{ calls: [['first']] }]);
    const reader = new FactsCache(cacheDir, '/some/root');
    const hit = reader.getFacts('k')!;
    // Another run replaces the entry (same first line, same length, other facts) before this one reads the rest.
    await write([{ calls: [['other']] }]);
    expect(() => hit.body()).toThrow(/replaced/);
    expect(() => hit.deps()).toThrow(/replaced/);
    // Read again from the top, the entry as it is now.
    expect(reader.getFacts('k')!.body()).toEqual([{ calls: [['other']] }]);
  });

  it("reads the entries' first lines from the pack, and an entry written again since from the entry", async () => {
    const cacheDir = mkdtempSync(join(tmpdir(), 'rlscov-cache-dir-'));
    // Characters outside ASCII, which the pack holds as JSON escapes.
    const ir = lowerGoFile({ path: 'a/ä.go', pkgKey: 'example.com/a', source: 'package a\n\nconst Greeting = "héllo 😀 \\u00e9"\n\nfunc F(x int) int {\n\treturn x + 1\n}\n' });
    const writer = new FactsCache(cacheDir, '/some/root');
    writer.set('ir', ir, 'decl');
    writer.setFacts('k', { variants: [{ dh: 'x' }] }, [[['p:a', '1']]], [{ calls: [['first']] }]);
    await writer.save();
    const entries = join(cacheDir, readdirSync(cacheDir).find((n) => n.startsWith('facts-'))!);
    const reader = new FactsCache(cacheDir, '/some/root');
    const heads = await countingOpens(entries, async () => [reader.get('ir'), reader.getFacts('k')] as const);
    expect(heads.opened).toBe(0);
    expect(heads.result[0]!.funcs.map((f) => f.name)).toEqual(['F']);
    expect({ ...heads.result[0]!, funcs: [] }).toEqual({ ...ir, funcs: [] });
    expect(JSON.stringify(ir.consts)).toContain('héllo 😀');
    const hit = heads.result[1]!;
    expect(hit.head).toEqual({ variants: [{ dh: 'x' }] });
    expect((await countingOpens(entries, async () => hit.body())).result).toEqual([{ calls: [['first']] }]);
    reader.loadBodies(heads.result[0]!);
    expect(heads.result[0]!.funcs.map((f) => f.body)).toEqual(ir.funcs.map((f) => f.body));

    // The facts entry written again by a run whose pack this is not (same first line, other facts).
    const other = new FactsCache(join(cacheDir, 'elsewhere'), '/some/root');
    other.setFacts('k', { variants: [{ dh: 'x' }] }, [[['p:a', '1']]], [{ calls: [['other']] }]);
    await other.save();
    renameSync(join(cacheDir, 'elsewhere', basename(entries), 'k.json'), join(entries, 'k.json'));
    const stale = new FactsCache(cacheDir, '/some/root');
    // The pack's line is of the write before: its facts are not read from the new write.
    expect(() => stale.getFacts('k')!.body()).toThrow(/replaced/);
    expect(stale.getFacts('k')!.body()).toEqual([{ calls: [['other']] }]);
    await stale.save();
    // The pack written again holds the entry's line as it is now.
    const after = new FactsCache(cacheDir, '/some/root');
    const again = await countingOpens(entries, async () => after.getFacts('k')!);
    expect(again.opened).toBe(0);
    expect(again.result.body()).toEqual([{ calls: [['other']] }]);

    // A pack cut short is no pack: the lines are read from the entries, and the next pack is whole.
    const pack = join(cacheDir, readdirSync(cacheDir).find((n) => n.startsWith('pack-facts-'))!);
    writeFileSync(pack, readFileSync(pack).subarray(0, 40));
    const cut = new FactsCache(cacheDir, '/some/root');
    const fromEntries = await countingOpens(entries, async () => cut.getFacts('k')!.body());
    expect(fromEntries.result).toEqual([{ calls: [['other']] }]);
    expect(fromEntries.opened).toBe(2);
    await cut.save();
    const whole = new FactsCache(cacheDir, '/some/root');
    expect((await countingOpens(entries, async () => whole.getFacts('k'))).opened).toBe(0);
  });

  it('runs again without the cache when a cached line of the wrong shape breaks the run, and refills it', async () => {
    const { dir, cacheDir } = setup();
    const warnings: string[] = [];
    const run = () => analyze({ paths: ['.'], cwd: dir, cache: true, cacheDir }, { warn: (l) => warnings.push(l) });
    await run();
    // Still JSON of this format, of the same length (so the pack is read whole), but a variant without setters.
    const [pack] = readdirSync(cacheDir).filter((n) => n.startsWith('pack-facts-'));
    const text = readFileSync(join(cacheDir, pack!), 'latin1');
    expect(text).toContain('"setters":');
    writeFileSync(join(cacheDir, pack!), text.replace('"setters":', '"settxrs":'), 'latin1');
    const plain = await analyze({ paths: ['.'], cwd: dir, cache: false });
    const migration = join(dir, 'migrations/001_init.sql');
    writeFileSync(migration, readFileSync(migration, 'utf8') + '\n-- touched\n');
    const second = await run();
    expect(second.findings).toEqual(plain.findings);
    // Analysed again from the sources: every file parsed.
    expect(second.summary.filesParsed).toBe(plain.summary.filesParsed);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^rlscov: warning: the cache could not be used for this tree \(.+\); it was emptied and the tree analysed again\n$/);
    // The cache was filled again: the next run takes every file's facts from it, with no warning.
    const third = await touchMigrationAndRun(dir, run);
    expect(third.findings).toEqual(plain.findings);
    expect(third.summary.cache?.factsFromCache).toBeGreaterThan(1);
    expect(warnings).toHaveLength(1);
  });

  it('leaves no temporary file behind where a pack cannot be written, and stays right', async () => {
    const { dir, cacheDir, run } = setup();
    await run();
    // A directory where each pack goes: every write of a pack fails at its rename.
    for (const n of readdirSync(cacheDir).filter((n) => n.startsWith('pack-'))) {
      rmSync(join(cacheDir, n));
      mkdirSync(join(cacheDir, n));
    }
    const plain = await analyze({ paths: ['.'], cwd: dir, cache: false });
    for (let i = 0; i < 2; i++) {
      const r = await touchMigrationAndRun(dir, run);
      expect(r.findings).toEqual(plain.findings);
    }
    expect(readdirSync(cacheDir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it("reads every cached first line of a run after an edit from the pack, with the same findings", async () => {
    const { dir, cacheDir, run } = setup();
    await run();
    const entries = join(cacheDir, readdirSync(cacheDir).find((n) => n.startsWith('facts-'))!);
    const packed = await countingOpens(entries, () => touchMigrationAndRun(dir, run));
    const cache = packed.result.summary.cache!;
    expect(cache.filesFromCache).toBeGreaterThan(1);
    dropPack(cacheDir);
    const unpacked = await countingOpens(entries, () => touchMigrationAndRun(dir, run));
    // The same entries read past their first line; without the pack, each entry is opened for its first line too.
    expect(unpacked.result.summary.cache).toEqual(cache);
    expect(unpacked.opened - packed.opened).toBe(cache.filesFromCache + cache.factsFromCache);
    const plain = await analyze({ paths: ['.'], cwd: dir, cache: false });
    expect(packed.result.findings).toEqual(plain.findings);
    expect(unpacked.result.findings).toEqual(plain.findings);
  });

  it('reads back the three lines of a facts entry, each on its own, whatever their length', async () => {
    const cacheDir = mkdtempSync(join(tmpdir(), 'rlscov-cache-dir-'));
    const cache = new FactsCache(cacheDir, '/some/root');
    // Lookups longer than one read of the entry (64 KB), with non-ASCII text.
    const deps = [Array.from({ length: 20_000 }, (_, i) => [`p:example.com/pkg${i}/ä`, `${i}`])];
    const bodies = [{ calls: [['x', 'ü'.repeat(100_000)]] }];
    cache.setFacts('k1', { variants: [{ dh: 'x' }] }, deps, bodies);
    cache.setFacts('k2', { variants: [] }, [], []);
    await cache.save();
    const again = new FactsCache(cacheDir, '/some/root');
    const hit = again.getFacts('k1')!;
    expect(hit.head).toEqual({ variants: [{ dh: 'x' }] });
    expect(hit.body()).toEqual(bodies);
    expect(hit.deps()).toEqual(deps);
    const empty = again.getFacts('k2')!;
    expect(empty.deps()).toEqual([]);
    expect(empty.body()).toEqual([]);
    expect(again.getFacts('missing')).toBeUndefined();
  });

  it('reuses the whole result on an unchanged tree, without parsing', async () => {
    const { run } = setup();
    const first = await run();
    expect(first.summary.filesParsed).toBeGreaterThan(0);
    expect(first.summary.cache).toEqual({ filesFromCache: 0, factsFromCache: 0, wholeRun: false });
    const second = await run();
    expect(second.summary.filesParsed).toBe(0);
    expect(second.summary.cache?.wholeRun).toBe(true);
    expect(live(second)).toEqual(live(first));
    expect(second.findings).toEqual(first.findings);
  });

  it('re-parses only the edited file, and its findings follow the edit', async () => {
    const { dir, run } = setup();
    const first = await run();
    const parsedFirst = first.summary.filesParsed;
    const withFuncs = await allFacts(dir, run);
    const file = join(dir, 'platform/billing/invoices.go');
    const src = readFileSync(file, 'utf8');
    expect(live(first)).toContain('platform/billing/invoices.go:38 RLS001');
    // Scope the unscoped DELETE at line 38 by routing it to the admin pool field the service has.
    const line38 = src.split('\n')[37]!;
    expect(line38).toContain('s.db.');
    writeFileSync(file, src.replace(line38, line38.replace('s.db.', 's.admin.')));
    const second = await run();
    expect(second.summary.filesParsed).toBe(1);
    // A body-only edit: every other file's pass-1 facts come from the cache.
    expect(second.summary.cache).toEqual({ filesFromCache: parsedFirst - 1, factsFromCache: withFuncs - 1, wholeRun: false });
    expect(live(second)).not.toContain('platform/billing/invoices.go:38 RLS001');
    expect(live(second)).toEqual(live(first).filter((f) => f !== 'platform/billing/invoices.go:38 RLS001'));
    // And the plain, uncached analysis agrees.
    const plain = await analyze({ paths: ['.'], cwd: dir, cache: false, workers: 0 });
    expect(live(plain)).toEqual(live(second));
  });

  it('a changed declaration re-interprets its package and the files that looked into it; findings follow', async () => {
    const { dir, run } = setup();
    const first = await run();
    const withFuncs = await allFacts(dir, run);
    const file = join(dir, 'platform/billing/invoices.go');
    // A new parameter changes DiscardDraft's signature: what every caller's interpretation reads.
    writeFileSync(file, readFileSync(file, 'utf8').replace('func (s *Service) DiscardDraft(ctx context.Context, id string) error {', 'func (s *Service) DiscardDraft(ctx context.Context, id string, _ int) error {'));
    const second = await run();
    expect(second.summary.filesParsed).toBe(1);
    // billing's three files at least; the org-scope wrapper's package never looks into billing.
    expect(second.summary.cache?.factsFromCache).toBeGreaterThan(0);
    expect(second.summary.cache?.factsFromCache).toBeLessThanOrEqual(withFuncs - 3);
    const plain = await analyze({ paths: ['.'], cwd: dir, cache: false, workers: 0 });
    expect(second.findings).toEqual(plain.findings);
    expect(live(second)).toEqual(live(first));
    // An edit that leaves every declaration alone needs no interpretation beyond the file itself, even when it
    // moves every function below it (findings then move with their lines).
    writeFileSync(file, readFileSync(file, 'utf8').replace('package billing\n', 'package billing\n\n// Invoices: a note that\n// moves everything below.\n'));
    const third = await run();
    expect(third.summary.cache?.factsFromCache).toBe(withFuncs - 1);
    const plainThird = await analyze({ paths: ['.'], cwd: dir, cache: false, workers: 0 });
    expect(third.findings).toEqual(plainThird.findings);
    expect(live(third)).not.toEqual(live(second)); // the lines moved
  });

  it('a new unexported function re-interprets only its own package; a new exported one, every package', async () => {
    const { dir, run } = setup();
    await run();
    const withFuncs = await allFacts(dir, run);
    const billing = join(dir, 'platform/billing');
    const inBilling = readdirSync(billing).filter((n) => n.endsWith('.go') && !n.endsWith('_test.go') && /^func /m.test(readFileSync(join(billing, n), 'utf8'))).length;
    expect(inBilling).toBeGreaterThan(1);
    const file = join(billing, 'invoices.go');
    writeFileSync(file, readFileSync(file, 'utf8') + '\nfunc invoiceNote() string { return "note" }\n');
    const second = await run();
    expect(second.summary.cache?.factsFromCache).toBe(withFuncs - inBilling);
    const plain = await analyze({ paths: ['.'], cwd: dir, cache: false, workers: 0 });
    expect(second.findings).toEqual(plain.findings);
    writeFileSync(file, readFileSync(file, 'utf8') + '\nfunc InvoiceNote() string { return "note" }\n');
    const third = await run();
    // The package, and every file that looked into it, again; the rest (the tenancy wrapper) from the cache.
    expect(third.summary.cache?.factsFromCache).toBeLessThanOrEqual(withFuncs - inBilling);
    expect(third.summary.cache?.factsFromCache).toBeGreaterThan(0);
    expect(third.findings).toEqual(plain.findings);
  });

  it("follows edits of package variables' initial values, in a file of their own, in the package and in another", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rlscov-cache-vars-'));
    const cacheDir = mkdtempSync(join(tmpdir(), 'rlscov-cache-dir-'));
    // Files that declare variables and no function: their initial values are interpreted with them, and cached.
    const queries = (table: string): string => `package queries\n\nvar table = "${table}"\n\n// DeleteOne deletes one row.\nvar DeleteOne = "DELETE FROM " + table + " WHERE id = $1"\n`;
    const stmts = (table: string): string => `package store\n\nvar deleteKey = "DELETE FROM ${table} WHERE id = $1"\n`;
    const files: Record<string, string> = {
      'go.mod': 'module example.com/app\n\ngo 1.22\n',
      'migrations/001_init.sql': MIGRATION,
      'queries/vars.go': queries('api_keys'),
      'store/stmts.go': stmts('api_keys'),
      'store/store.go': storeGo(`
func (s *Store) DeleteKey(ctx context.Context, id string) error {
\t_, err := s.db.ExecContext(ctx, deleteKey, id)
\treturn err
}
`),
    };
    writeTree(dir, files);
    const run = () => analyze({ paths: ['.'], cwd: dir, cache: true, cacheDir });
    const plain = async (): Promise<string[]> => live(await analyze({ paths: ['.'], cwd: dir, cache: false }));
    const both = ['store/store.go:13 RLS001', 'store/store.go:18 RLS001'];
    expect(live(await run())).toEqual(both);
    // widgets has no row-level security: each edit drops the RLS001 of the text it changes, store.go unchanged (a
    // variable may be set again elsewhere: what else it may hold is a write target rlscov cannot determine).
    writeFileSync(join(dir, 'queries/vars.go'), queries('widgets'));
    const second = await run();
    expect(live(second)).toEqual(await plain());
    expect(live(second)).toEqual(['store/store.go:13 RLS004', 'store/store.go:18 RLS001']);
    writeFileSync(join(dir, 'store/stmts.go'), stmts('widgets'));
    const third = await run();
    expect(live(third)).toEqual(await plain());
    expect(live(third).filter((f) => f.endsWith('RLS001'))).toEqual([]);
    // Back as they were: both findings again.
    writeFileSync(join(dir, 'queries/vars.go'), queries('api_keys'));
    writeFileSync(join(dir, 'store/stmts.go'), stmts('api_keys'));
    const fourth = await run();
    expect(live(fourth)).toEqual(both);
    // Both variable files' facts from the cache; store.go's entry kept only the variant of the second run (its
    // lookup into queries did not hold then), so store.go is interpreted again.
    expect(fourth.summary.cache?.factsFromCache).toBe(2);
    expect(fourth.summary.filesParsed).toBe(0);
  });

  it('re-interprets a file when a constant of another package it uses changes, though the file did not', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rlscov-cache-const-'));
    const cacheDir = mkdtempSync(join(tmpdir(), 'rlscov-cache-dir-'));
    const queries = (table: string): string => `package queries\n\nconst table = "${table}"\n\n// DeleteOne deletes one row.\nconst DeleteOne = "DELETE FROM " + table + " WHERE id = $1"\n`;
    const files: Record<string, string> = {
      'go.mod': 'module example.com/app\n\ngo 1.22\n',
      'migrations/001_init.sql': MIGRATION,
      'queries/queries.go': queries('api_keys'),
      'store/store.go': storeGo(),
      'other/other.go': 'package other\n\nimport "database/sql"\n\nfunc Ping(db *sql.DB) error { return db.Ping() }\n',
    };
    writeTree(dir, files);
    const run = () => analyze({ paths: ['.'], cwd: dir, cache: true, cacheDir });
    const first = await run();
    expect(live(first)).toContain('store/store.go:13 RLS001');
    // widgets has no row-level security: the delete is no longer a finding, though store.go is unchanged.
    writeFileSync(join(dir, 'queries/queries.go'), queries('widgets'));
    const second = await run();
    expect(live(second)).not.toContain('store/store.go:13 RLS001');
    expect(live(second)).toEqual(live(await analyze({ paths: ['.'], cwd: dir, cache: false })));
    expect(second.summary.cache?.factsFromCache).toBe(1); // other.go; store.go looked into queries
  });

  it('re-interprets a caller when a helper it calls stops (or starts) setting the scope', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rlscov-cache-setter-'));
    const cacheDir = mkdtempSync(join(tmpdir(), 'rlscov-cache-dir-'));
    const setOrg = (local: boolean): string =>
      `package store\n\nimport (\n\t"context"\n\t"database/sql"\n)\n\n// setOrg sets the org on the transaction it is given.\nfunc setOrg(ctx context.Context, tx *sql.Tx, org string) error {\n\t_, err := tx.ExecContext(ctx, "SELECT set_config('app.current_org_id', $1, ${local})", org)\n\treturn err\n}\n`;
    const files: Record<string, string> = {
      'go.mod': 'module example.com/app\n\ngo 1.22\n',
      'migrations/001_init.sql': MIGRATION,
      'store/setorg.go': setOrg(true),
      'store/keys.go': `package store

import (
	"context"
	"database/sql"
)

type Store struct{ db *sql.DB }

func (s *Store) AddKey(ctx context.Context, org, id string) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := setOrg(ctx, tx, org); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO api_keys (id, org_id) VALUES ($1, $2)", id, org); err != nil {
		return err
	}
	return tx.Commit()
}
`,
      'store/widgets.go': `package store

import "context"

func (s *Store) AddWidget(ctx context.Context, id string) error {
	_, err := s.db.ExecContext(ctx, "INSERT INTO widgets (id, name) VALUES ($1, $1)", id)
	return err
}
`,
    };
    writeTree(dir, files);
    const run = () => analyze({ paths: ['.'], cwd: dir, cache: true, cacheDir });
    const plain = async () => live(await analyze({ paths: ['.'], cwd: dir, cache: false }));
    const first = await run();
    expect(live(first).filter((f) => f.includes('RLS001'))).toEqual([]);
    // The helper now sets the org for the session: the caller's insert is unscoped, though keys.go is unchanged.
    writeFileSync(join(dir, 'store/setorg.go'), setOrg(false));
    const second = await run();
    expect(live(second)).toContain('store/keys.go:19 RLS001');
    expect(live(second)).toEqual(await plain());
    // keys.go's interpretation without the setter was cached in the first run (its first round): no file but the
    // edited one is interpreted.
    expect(second.summary.cache?.factsFromCache).toBe(2);
    writeFileSync(join(dir, 'store/setorg.go'), setOrg(true));
    const third = await run();
    expect(live(third)).toEqual(live(first));
    expect(live(third)).toEqual(await plain());
    expect(third.summary.cache?.factsFromCache).toBe(3);
  });

  describe('the last widening is reused only while the changed files read the same to it', () => {
    // jobs/ has no SQL and no database import: it is analysed only when the widening keeps it, for using a
    // carrier of store/ (DeleteInvoices, once it takes a *sql.DB). Analysed, its call is where the write's
    // requirement goes unmet (RLS002); not analysed, the write stands alone in store/ (RLS001).
    const STORE = (param: string, on = 'db') => `package store

import "database/sql"

var Main *sql.DB

func DeleteInvoices(${param}, id string) error {
	_, err := ${on}.Exec("DELETE FROM invoices WHERE id = $1", id)
	return err
}
`;
    const JOBS = (call: string) => `package jobs

import "example.com/w/store"

func Run(h interface{}) error {
${call}
	return nil
}
`;
    function tree(files: Record<string, string>): { dir: string; run: () => Promise<RunResult>; plain: () => Promise<RunResult> } {
      const dir = mkdtempSync(join(tmpdir(), 'rlscov-widen-'));
      writeTree(dir, { 'go.mod': 'module example.com/w\n\ngo 1.21\n', 'migrations/001_init.sql': MIGRATION, ...files });
      const cacheDir = mkdtempSync(join(tmpdir(), 'rlscov-widen-cache-'));
      return {
        dir,
        run: () => analyze({ paths: ['.'], cwd: dir, cache: true, cacheDir }),
        plain: () => analyze({ paths: ['.'], cwd: dir, cache: false, prefilter: false }),
      };
    }

    it('a kept file that starts declaring a carrier widens again', async () => {
      // Before: DeleteInvoices takes no handle (not a carrier), so jobs/ is not kept.
      const t = tree({ 'store/store.go': STORE('h interface{}', 'Main'), 'jobs/jobs.go': JOBS('\t_ = store.DeleteInvoices(h, "x")') });
      const before = await t.run();
      expect(live(before)).toEqual(['store/store.go:8 RLS001']);
      // After: only store.go changes (still a seed, same references); its new signature makes it a carrier.
      writeFileSync(join(t.dir, 'store/store.go'), STORE('db *sql.DB'));
      const after = await t.run();
      expect(live(after)).toEqual(live(await t.plain()));
      expect(live(after)).toEqual(['jobs/jobs.go:6 RLS002']);
    });

    it('a file that starts using a carrier widens again', async () => {
      const t = tree({ 'store/store.go': STORE('db *sql.DB'), 'jobs/jobs.go': JOBS('\t_ = h') });
      const before = await t.run();
      expect(live(before)).toEqual(['store/store.go:8 RLS001']);
      writeFileSync(join(t.dir, 'jobs/jobs.go'), JOBS('\t_ = store.DeleteInvoices(h.(*sql.DB), "x")'));
      const after = await t.run();
      expect(live(after)).toEqual(live(await t.plain()));
      expect(live(after)).toEqual(['jobs/jobs.go:6 RLS002']);
    });

    it('a kept file that stops declaring a carrier widens again, and counts only what that widening keeps', async () => {
      const t = tree({ 'store/store.go': STORE('db *sql.DB'), 'jobs/jobs.go': JOBS('\t_ = store.DeleteInvoices(h.(*sql.DB), "x")') });
      expect(live(await t.run())).toEqual(['jobs/jobs.go:6 RLS002']);
      writeFileSync(join(t.dir, 'store/store.go'), STORE('h interface{}', 'Main'));
      const after = await t.run();
      const fresh = await analyze({ paths: ['.'], cwd: t.dir, cache: false });
      expect(live(after)).toEqual(live(fresh));
      expect(live(after)).toEqual(['store/store.go:8 RLS001']);
      // jobs/ was loaded while the last widening was tried, but the widening done again does not keep it.
      expect(after.summary.filesParsed + (after.summary.cache?.filesFromCache ?? 0)).toBe(fresh.summary.filesParsed);
    });

    it('a carrier whose name starts with a non-ASCII capital (exported in Go) keeps the packages that use it', async () => {
      const t = tree({
        'store/store.go': STORE('db *sql.DB').replace('func DeleteInvoices', 'func ÄndereRechnungen'),
        'jobs/jobs.go': JOBS('\t_ = store.ÄndereRechnungen(h.(*sql.DB), "x")'),
      });
      const prefiltered = await analyze({ paths: ['.'], cwd: t.dir, cache: false });
      expect(live(prefiltered)).toEqual(live(await t.plain()));
      expect(live(prefiltered)).toEqual(['jobs/jobs.go:6 RLS002']);
    });

    it('an import alias with non-ASCII letters is followed like any other', async () => {
      const t = tree({
        'store/store.go': STORE('db *sql.DB'),
        'jobs/jobs.go': JOBS('\t_ = läger.DeleteInvoices(h.(*sql.DB), "x")').replace('import "example.com/w/store"', 'import läger "example.com/w/store"'),
      });
      const prefiltered = await analyze({ paths: ['.'], cwd: t.dir, cache: false });
      expect(live(prefiltered)).toEqual(live(await t.plain()));
      expect(live(prefiltered)).toEqual(['jobs/jobs.go:6 RLS002']);
    });

    it('a body edit keeps the widening, and the findings follow the edit', async () => {
      const t = tree({ 'store/store.go': STORE('db *sql.DB'), 'jobs/jobs.go': JOBS('\t_ = store.DeleteInvoices(h.(*sql.DB), "x")') });
      expect(live(await t.run())).toEqual(['jobs/jobs.go:6 RLS002']);
      writeFileSync(join(t.dir, 'jobs/jobs.go'), JOBS('\t_ = store.DeleteInvoices(store.Main, "x")'));
      const after = await t.run();
      expect(after.summary.filesParsed).toBe(1);
      expect(live(after)).toEqual(live(await t.plain()));
      expect(live(after)).toEqual(['jobs/jobs.go:6 RLS002']);
      expect(after.findings.find((f) => f.ruleId === 'RLS002')?.message).toContain('store.Main');
    });
  });

  it('a file whose cached IR vanishes and whose text changes mid-run is reported, never cached as analysed', async () => {
    // Between the parse stage (IR declarations read) and the interpretation (bodies read lazily), another run's
    // cleanup deletes w.go's IR entry and an editor saves w.go: its bodies cannot be had as they were.
    const W = `package ledger

import (
	"context"
	"database/sql"
)

func WriteInvoice(ctx context.Context, db *sql.DB) error {
	_, err := db.ExecContext(ctx, "INSERT INTO invoices (id, org_id, status) VALUES ('a', 'b', 'c')")
	return err
}
`;
    const dir = mkdtempSync(join(tmpdir(), 'rlscov-vanish-'));
    cpSync(SAMPLE, dir, { recursive: true });
    mkdirSync(join(dir, 'ledger'));
    const w = join(dir, 'ledger/w.go');
    writeFileSync(w, W);
    const cacheDir = mkdtempSync(join(tmpdir(), 'rlscov-vanish-cache-'));
    // Runs that start 5 s later than the clock says: the file index trusts the stamps of files just written, so
    // unchanged files are not read again (as on a tree edited more than two seconds before).
    const run = () => analyze({ paths: ['.'], cwd: dir, cache: true, cacheDir }, { now: () => Date.now() + 5000 });
    const first = await run();
    expect(live(first)).toContain('ledger/w.go:9 RLS001');
    // A new file in w.go's package changes its package's declarations: w.go is interpreted again, from its cached IR.
    writeFileSync(join(dir, 'ledger/extra.go'), 'package ledger\n\nfunc Extra(n int) int { return n }\n');
    let fired = false;
    const second = await withGetFacts((cache, key, getFacts) => {
      if (!fired) {
        fired = true;
        for (const e of readdirSync(cache.dir)) if (readFileSync(join(cache.dir, e), 'utf8').startsWith('{') && readFileSync(join(cache.dir, e), 'utf8').includes('"path":"ledger/w.go"')) rmSync(join(cache.dir, e));
        writeFileSync(w, W.replace('func WriteInvoice', 'func Added() {}\n\nfunc WriteInvoice'));
      }
      return getFacts(key);
    }, run);
    expect(fired).toBe(true);
    // Reported as a problem of the file, not analysed from the wrong bodies.
    expect(second.fileErrors.some((e) => e.message.includes('ledger/w.go changed while it was analysed'))).toBe(true);
    // Nothing of it was kept: with w.go as it was, the next run analyses it again and agrees with a plain run.
    writeFileSync(w, W);
    const third = await run();
    expect(third.summary.cache?.wholeRun).toBe(false);
    expect(third.fileErrors).toEqual([]);
    expect(live(third)).toEqual(live(await analyze({ paths: ['.'], cwd: dir, cache: false })));
    expect(live(third)).toContain('ledger/w.go:9 RLS001');
  });

  it('reads a truncated IR entry as a miss', async () => {
    const { cacheDir, run } = setup();
    const first = await run();
    const [facts] = readdirSync(cacheDir).filter((n) => n.startsWith('facts-'));
    let cut = 0;
    for (const n of readdirSync(join(cacheDir, facts!))) {
      const p = join(cacheDir, facts!, n);
      const text = readFileSync(p, 'utf8');
      if (!text.includes('"ir":{')) continue;
      writeFileSync(p, text.slice(0, text.length - 10)); // the bodies line loses its end
      cut++;
    }
    expect(cut).toBe(first.summary.filesParsed);
    const dropRun = (): void => {
      for (const n of readdirSync(cacheDir)) if (n.startsWith('run-')) writeFileSync(join(cacheDir, n), 'not a cache');
    };
    dropRun();
    // The pack holds the first lines of the whole writes: a run that needs no function body reads none of them.
    const packed = await run();
    expect(packed.summary.filesParsed).toBe(0);
    expect(packed.findings).toEqual(first.findings);
    // Read from the entries themselves (no pack), the truncated ones are misses.
    dropPack(cacheDir);
    dropRun();
    const second = await run();
    expect(second.summary.filesParsed).toBe(first.summary.filesParsed);
    expect(second.findings).toEqual(first.findings);
  });

  it("parses a file's cached facts only when pass 2 asks for a key the file holds", async () => {
    const { dir, cacheDir } = setup();
    // As pre-commit runs: no list of discovered wrappers, which would walk every field of the program.
    const run = () => analyze({ paths: ['.'], cwd: dir, cache: true, cacheDir, discover: false });
    await run();
    let heads = 0;
    let bodies = 0;
    const second = await withGetFacts((_cache, key, getFacts) => {
      const hit = getFacts(key);
      if (hit) heads++;
      return hit && { ...hit, body: () => (bodies++, hit.body()) };
    }, () => touchMigrationAndRun(dir, run));
    expect(second.summary.cache?.factsFromCache).toBe(heads);
    expect(bodies).toBeGreaterThan(0);
    expect(bodies).toBeLessThan(heads);
    const plain = await analyze({ paths: ['.'], cwd: dir, cache: false, discover: false });
    expect(second.findings).toEqual(plain.findings);
    expect(second.sites).toEqual(plain.sites);
  });

  it('reports what interpreting a file again in pass 2 meets (its source changed meanwhile)', async () => {
    const { dir, cacheDir } = setup();
    // A clock ahead: the copied files' stamps are trusted, so the next run takes their text from the cache too.
    const run = () => analyze({ paths: ['.'], cwd: dir, cache: true, cacheDir }, { now: () => Date.now() + 5000 });
    await run();
    const goFiles = (readdirSync(dir, { recursive: true }) as string[]).filter((f) => f.endsWith('.go')).map((f) => join(dir, f));
    const originals = new Map(goFiles.map((f) => [f, readFileSync(f, 'utf8')]));
    let fired = false;
    const second = await withGetFacts((cache, key, getFacts) => {
      const hit = getFacts(key);
      return (
        hit && {
          ...hit,
          body: () => {
            // Pass 2 asks for a file's facts: they are gone, and so are the IR entries and the text they came from.
            if (!fired) {
              fired = true;
              for (const e of readdirSync(cache.dir)) rmSync(join(cache.dir, e));
              for (const f of goFiles) writeFileSync(f, originals.get(f)! + '\n// edited meanwhile\n');
            }
            throw new Error('gone');
          },
        }
      );
    }, () => touchMigrationAndRun(dir, run));
    expect(fired).toBe(true);
    expect(second.fileErrors.some((e) => e.message.includes('changed while it was analysed'))).toBe(true);
    // Nothing of it was kept: with the files as they were, the next run agrees with a plain run.
    for (const [f, text] of originals) writeFileSync(f, text);
    const third = await run();
    const plain = await analyze({ paths: ['.'], cwd: dir, cache: false });
    expect(third.fileErrors).toEqual([]);
    expect(third.findings).toEqual(plain.findings);
  });

  it('interprets a file again when its cached facts cannot be read past their first line', async () => {
    const { dir, run } = setup();
    await run();
    let removed = 0;
    const second = await withGetFacts((cache, key, getFacts) => {
      const hit = getFacts(key);
      // As if another run had removed the entry after this one read its first line.
      return hit && { ...hit, body: () => (removed++, rmSync(join(cache.dir, `${key}.json`)), hit.body()) };
    }, () => touchMigrationAndRun(dir, run));
    expect(removed).toBeGreaterThan(0);
    const plain = await analyze({ paths: ['.'], cwd: dir, cache: false });
    expect(second.findings).toEqual(plain.findings);
    expect(second.sites).toEqual(plain.sites);
    expect(second.discovered).toEqual(plain.discovered);
    expect(second.fileErrors).toEqual(plain.fileErrors);
  });

  it('interprets a file again when the bodies of its cached facts are not what the first line promises', async () => {
    const { dir, cacheDir, run } = setup();
    await run();
    const changed = rewriteFactsEntries(cacheDir, ([head, deps]) => [head!, deps!, '[{}]']); // valid JSON, not facts
    expect(changed).toBeGreaterThan(1);
    const second = await touchMigrationAndRun(dir, run);
    const plain = await analyze({ paths: ['.'], cwd: dir, cache: false });
    expect(second.findings).toEqual(plain.findings);
    expect(second.sites).toEqual(plain.sites);
    expect(second.discovered).toEqual(plain.discovered);
  });

  it("reads no variant's lookups after a body edit, and reads them again after a declaration change", async () => {
    const { dir, run } = setup();
    await run();
    const counting = async (edit: () => void): Promise<{ r: RunResult; heads: number; deps: number }> => {
      edit();
      let heads = 0;
      let deps = 0;
      const r = await withGetFacts((_cache, key, getFacts) => {
        const hit = getFacts(key);
        if (hit) heads++;
        return hit && { ...hit, deps: () => (deps++, hit.deps()) };
      }, run);
      const plain = await analyze({ paths: ['.'], cwd: dir, cache: false });
      expect(r.findings).toEqual(plain.findings);
      expect(r.sites).toEqual(plain.sites);
      expect(r.discovered).toEqual(plain.discovered);
      return { r, heads, deps };
    };
    const usage = join(dir, 'platform/billing/usage.go');
    // A comment in one file: its facts are interpreted again, every other file's come from the cache unread.
    const body = await counting(() => writeFileSync(usage, readFileSync(usage, 'utf8') + '\n// edited\n'));
    expect(body.heads).toBeGreaterThan(1);
    expect(body.deps).toBe(0);
    // An exported function in another package: the lookups of the files kept from the cache are checked again.
    const audit = join(dir, 'platform/audit/audit.go');
    const decl = await counting(() => writeFileSync(audit, readFileSync(audit, 'utf8') + '\nfunc RlscovTestAdded() {}\n'));
    expect(decl.heads).toBeGreaterThan(1);
    expect(decl.deps).toBeGreaterThan(0);
    // And once checked under these declarations, not again.
    const again = await counting(() => writeFileSync(usage, readFileSync(usage, 'utf8') + '\n// edited again\n'));
    expect(again.deps).toBe(0);
  });

  it("interprets a file again when its cached lookups are not what the first line names", async () => {
    const { dir, cacheDir, run } = setup();
    await run();
    // Lookups that would hold anywhere (none), under a first line that names others.
    const changed = rewriteFactsEntries(cacheDir, ([head, deps, bodies]) => [head!, JSON.stringify((JSON.parse(deps!) as unknown[]).map(() => [])), bodies!]);
    expect(changed).toBeGreaterThan(1);
    // Without the lookups known to hold, every variant's are read, found not to be what they were, and dropped.
    for (const n of readdirSync(cacheDir)) if (n.startsWith('digests-')) rmSync(join(cacheDir, n));
    const second = await touchMigrationAndRun(dir, run);
    expect(second.summary.cache?.factsFromCache).toBe(0);
    const plain = await analyze({ paths: ['.'], cwd: dir, cache: false });
    expect(second.findings).toEqual(plain.findings);
    expect(second.sites).toEqual(plain.sites);
  });

  it('a config or migration change invalidates the whole-run result but not the per-file facts', async () => {
    const { dir, run } = setup();
    const first = await run();
    writeFileSync(join(dir, '.rlscov.yml'), readFileSync(join(dir, '.rlscov.yml'), 'utf8') + '\nrules:\n  RLS004: off\n');
    const second = await run();
    expect(second.summary.cache?.wholeRun).toBe(false);
    expect(second.summary.filesParsed).toBe(0);
    expect(live(second)).toEqual(live(first).filter((f) => !f.endsWith('RLS004')));
    writeFileSync(join(dir, 'migrations/001_init.sql'), readFileSync(join(dir, 'migrations/001_init.sql'), 'utf8').replace(/ALTER TABLE invoices ENABLE ROW LEVEL SECURITY;/i, ''));
    const third = await run();
    expect(third.summary.cache?.wholeRun).toBe(false);
    expect(third.summary.filesParsed).toBe(0);
    // The catalog (kept beside the run result) follows the migration.
    const plain = await analyze({ paths: ['.'], cwd: dir, cache: false });
    expect(third.catalog.tables['invoices']).not.toEqual(second.catalog.tables['invoices']);
    expect(third.catalog).toEqual(plain.catalog);
    expect(live(third)).toEqual(live(plain));
  });

  it('keeps the whole-run result behind a line naming its inputs; a result that cannot be read is a miss', async () => {
    const { cacheDir, run } = setup();
    const first = await run();
    const [runFile] = readdirSync(cacheDir).filter((n) => n.startsWith('run-'));
    const bytes = readFileSync(join(cacheDir, runFile!));
    const nl = bytes.indexOf(10);
    expect(JSON.parse(bytes.subarray(0, nl).toString('utf8'))).toMatchObject({ format: expect.any(Number), key: expect.any(String) });
    expect((await run()).summary.cache?.wholeRun).toBe(true);
    // The same inputs, a result cut short: analysed again, with the same answer.
    writeFileSync(join(cacheDir, runFile!), bytes.subarray(0, nl + 20));
    const second = await run();
    expect(second.summary.cache?.wholeRun).toBe(false);
    expect(second.findings).toEqual(first.findings);
    expect((await run()).summary.cache?.wholeRun).toBe(true);
  });

  it('ignores a corrupt cache file', async () => {
    const { cacheDir, run } = setup();
    const first = await run();
    const corrupt = (dir: string): void => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        if (e.isDirectory()) corrupt(join(dir, e.name));
        else writeFileSync(join(dir, e.name), 'not a cache');
      }
    };
    corrupt(cacheDir);
    const second = await run();
    expect(second.summary.cache?.wholeRun).toBe(false);
    expect(second.summary.filesParsed).toBe(first.summary.filesParsed);
    expect(live(second)).toEqual(live(first));
  });
});
