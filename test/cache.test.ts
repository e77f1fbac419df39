// The persistent cache: an unchanged tree reuses the last result without parsing; an edit re-parses exactly the
// edited file and changes exactly the findings it should; config and migrations are part of the key; a corrupt
// cache is ignored.
import { cpSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyze } from '../src/engine/analyze.js';
import type { RunResult } from '../src/model.js';

const SAMPLE = resolve(__dirname, '../fixtures/sample-fork');

function setup(): { dir: string; cacheDir: string; run: () => Promise<RunResult> } {
  const dir = mkdtempSync(join(tmpdir(), 'rlscov-cache-tree-'));
  cpSync(SAMPLE, dir, { recursive: true });
  const cacheDir = mkdtempSync(join(tmpdir(), 'rlscov-cache-dir-'));
  return { dir, cacheDir, run: () => analyze({ paths: ['.'], cwd: dir, cache: true, cacheDir }) };
}

const live = (r: RunResult): string[] => r.findings.filter((f) => !f.suppressed).map((f) => `${f.span.file}:${f.span.start.line} ${f.ruleId}`).sort();

describe('persistent cache', () => {
  it('reuses the whole result on an unchanged tree, without parsing', async () => {
    const { run } = setup();
    const first = await run();
    expect(first.summary.filesParsed).toBeGreaterThan(0);
    expect(first.summary.cache).toEqual({ filesFromCache: 0, wholeRun: false });
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
    const file = join(dir, 'platform/billing/invoices.go');
    const src = readFileSync(file, 'utf8');
    expect(live(first)).toContain('platform/billing/invoices.go:38 RLS001');
    // Scope the unscoped DELETE at line 38 by routing it to the admin pool field the service has.
    const line38 = src.split('\n')[37]!;
    expect(line38).toContain('s.db.');
    writeFileSync(file, src.replace(line38, line38.replace('s.db.', 's.admin.')));
    const second = await run();
    expect(second.summary.filesParsed).toBe(1);
    expect(second.summary.cache).toEqual({ filesFromCache: parsedFirst - 1, wholeRun: false });
    expect(live(second)).not.toContain('platform/billing/invoices.go:38 RLS001');
    expect(live(second)).toEqual(live(first).filter((f) => f !== 'platform/billing/invoices.go:38 RLS001'));
    // And the plain, uncached analysis agrees.
    const plain = await analyze({ paths: ['.'], cwd: dir, cache: false, workers: 0 });
    expect(live(plain)).toEqual(live(second));
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
