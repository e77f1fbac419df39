// The exact catalog: migrations executed in embedded Postgres (PGlite), compared with the static fold, with
// failures folded statically and results cached by content hash.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildExactCatalog, dumpSql, exactCacheKey, type ExactResult } from '../src/catalog/exact.js';
import { catalogDrift, formatDrift, tableAgreement } from '../src/catalog/drift.js';
import { foldMigrations, loadCatalogParser, orderMigrations } from '../src/catalog/index.js';
import { analyze } from '../src/engine/analyze.js';
import { main } from '../src/cli/main.js';

const repo = resolve(__dirname, '..');

function migrations(dir: string): Array<{ path: string; text: string }> {
  const names = orderMigrations(readdirSync(dir).filter((n) => n.endsWith('.sql')).map((n) => `migrations/${n}`));
  return names.map((p) => ({ path: p, text: readFileSync(join(dir, '..', p), 'utf8') }));
}

const EXACT_ONLY = join(repo, 'fixtures/catalog/exact-only/migrations');
const FAILURE = join(repo, 'fixtures/catalog/exact-failure/migrations');

let cacheDir: string;
let exactOnly: ExactResult;
let failure: ExactResult;

beforeAll(async () => {
  cacheDir = mkdtempSync(join(tmpdir(), 'rlscov-exact-test-'));
  exactOnly = await buildExactCatalog(migrations(EXACT_ONLY), { cacheDir });
  failure = await buildExactCatalog(migrations(FAILURE), { cacheDir });
});

afterAll(() => {
  rmSync(cacheDir, { recursive: true, force: true });
});

describe('exact catalog: only execution gets it right', () => {
  it('runs the DO blocks: tables that do not exist are not gated, tables found at run time are', () => {
    const c = exactOnly.catalog;
    expect(Object.keys(c.tables).sort()).toEqual(['api_keys', 'customers', 'tenant_files', 'tenant_notes']);
    expect(c.tables['api_keys']).toMatchObject({ enabled: true, forced: true });
    expect(c.tables['tenant_notes']).toMatchObject({ enabled: true, forced: false });
    expect(c.origin).toBe('migrations');
    expect(c.build).toEqual({ mode: 'exact', failedMigrations: [] });
    expect(c.migrationFiles).toEqual(migrations(EXACT_ONLY).map((f) => f.path));
  });

  it('says where static fold and execution disagree', () => {
    const a = exactOnly.agreement;
    expect(a).toEqual({
      left: 'static',
      right: 'exact',
      onlyLeft: ['audit_log', 'invoices'],
      onlyRight: ['tenant_files', 'tenant_notes'],
      forced: [],
      agree: ['api_keys', 'customers'],
    });
    expect(exactOnly.catalog.drift).toEqual(a);
    expect(Object.keys(exactOnly.static.tables).sort()).toEqual(['api_keys', 'audit_log', 'customers', 'invoices']);
    expect(tableAgreement(a, 'api_keys')).toBe('agree');
    expect(tableAgreement(a, 'invoices')).toBe('exact: not gated');
    expect(tableAgreement(a, 'tenant_notes')).toBe('static: not gated');
    expect(formatDrift(a)).toEqual([
      'static vs exact: 2 tables agree, 4 differ',
      '  audit_log: gated in static only',
      '  invoices: gated in static only',
      '  tenant_files: gated in exact only',
      '  tenant_notes: gated in exact only',
    ]);
  });

  it('keeps the static line where both agree on the file, and the executed statement where only execution knows', () => {
    const c = exactOnly.catalog;
    // The EXECUTE inside the DO block (line 9), not the DO statement (line 4).
    expect(c.tables['api_keys']!.source).toEqual({ kind: 'migration', file: 'migrations/002_enable_rls.sql', line: 9 });
    expect(c.tables['api_keys']!.policies).toEqual([
      { name: 'org_isolation', settings: ['app.current_org_id'], source: { kind: 'migration', file: 'migrations/002_enable_rls.sql', line: 11 } },
    ]);
    expect(c.tables['tenant_notes']!.source).toMatchObject({ kind: 'migration', file: 'migrations/003_tenant_tables.sql', line: 2 });
    expect(c.functions['current_org_id']).toMatchObject({ securityDefiner: false, readsSettings: ['app.current_org_id'], source: { file: 'migrations/001_tables.sql', line: 26 } });
  });

  it('follows settings read through SQL functions, as on a server', () => {
    // Policies call current_org_id(), which reads app.current_org_id.
    expect(exactOnly.catalog.scopeSettings).toEqual(['app.current_org_id']);
  });

  it('creates roles that migrations grant to (004 grants to app_user, which no migration creates)', () => {
    expect(exactOnly.failures).toEqual([]);
    expect(exactOnly.catalog.diagnostics).toEqual([]);
  });
});

describe('exact catalog: a migration that fails', () => {
  it('is reported with its error and line, and never aborts the run', () => {
    expect(failure.failures).toEqual([
      {
        file: 'migrations/002_metrics.sql',
        line: 3,
        message: expect.stringMatching(/^migration failed when executed in embedded Postgres \(extension "timescaledb" is not available; SQLSTATE 0A000\); its statements were folded statically instead$/),
      },
    ]);
    expect(failure.catalog.diagnostics.map((d) => `${d.file}:${d.line}`)).toEqual(['migrations/002_metrics.sql:3']);
    expect(failure.catalog.build).toEqual({ mode: 'exact', failedMigrations: ['migrations/002_metrics.sql'] });
  });

  it('folds the failed file statically on top of what executed, and keeps following what only it created', () => {
    const c = failure.catalog;
    expect(Object.keys(c.tables).sort()).toEqual(['customers', 'metrics', 'orders']);
    // 002 FORCEs customers (a table that executed) and creates metrics; 004 (executed, IF EXISTS skipped) un-FORCEs
    // metrics, which the static fold keeps following.
    expect(c.tables['customers']).toMatchObject({ enabled: true, forced: true, source: { file: 'migrations/001_init.sql', line: 8 } });
    expect(c.tables['metrics']).toMatchObject({ enabled: true, forced: false, source: { file: 'migrations/002_metrics.sql', line: 10 } });
    expect(c.tables['metrics']!.policies).toEqual([
      { name: 'org_isolation', settings: ['app.current_org_id'], source: { kind: 'migration', file: 'migrations/002_metrics.sql', line: 12 } },
    ]);
    // The goose Down section of 001 was not executed; the extension PGlite ships was loaded for 003.
    expect(c.tables['orders']).toMatchObject({ enabled: true, forced: true, source: { file: 'migrations/003_orders.sql', line: 8 } });
    expect(failure.agreement.onlyLeft).toEqual([]);
    expect(failure.agreement.onlyRight).toEqual([]);
  });
});

describe('exact catalog: objects that live outside migrations', () => {
  it('creates a missing schema (a platform schema such as Supabase auth) and retries the file', async () => {
    const r = await buildExactCatalog(
      [
        {
          path: 'migrations/001_audit.sql',
          text: 'CREATE TABLE audit.events (org_id uuid NOT NULL, what text);\nALTER TABLE audit.events ENABLE ROW LEVEL SECURITY;\nALTER TABLE audit.events FORCE ROW LEVEL SECURITY;\nGRANT INSERT ON audit.events TO audit_writer;\n',
        },
      ],
      { cacheDir, reuseResults: false },
    );
    expect(r.failures).toEqual([]);
    expect(r.catalog.tables['audit.events']).toMatchObject({ enabled: true, forced: true, source: { file: 'migrations/001_audit.sql', line: 2 } });
    expect(r.agreement.agree).toEqual(['audit.events']);
  });
});

describe('exact catalog: cache', () => {
  it('answers a repeat run from the cache without starting PGlite', async () => {
    const again = await buildExactCatalog(migrations(EXACT_ONLY), { cacheDir });
    expect(again.cached).toBe(true);
    expect(again.timings.startMs).toBe(0);
    expect(again.catalog).toEqual(exactOnly.catalog);
    expect(again.agreement).toEqual(exactOnly.agreement);
    expect(readdirSync(cacheDir).filter((n) => n.startsWith('exact-')).length).toBe(2);
    expect(readdirSync(cacheDir).some((n) => /^pglite-.*-datadir\.tar\.gz$/.test(n))).toBe(true);
  });

  it('keys results by the migrations content: any change is a miss', () => {
    const files = migrations(EXACT_ONLY);
    const k = exactCacheKey(files);
    expect(exactCacheKey(files)).toBe(k);
    expect(exactCacheKey([...files.slice(0, -1), { ...files.at(-1)!, text: files.at(-1)!.text + '\n' }])).not.toBe(k);
    expect(exactCacheKey(files.map((f) => ({ ...f, path: `db/${f.path}` })))).not.toBe(k);
    expect(exactCacheKey(files, 'app.tenant')).not.toBe(k);
  });
});

describe('exact catalog: building blocks', () => {
  it('dumpSql writes a catalog the static fold reads back identically', async () => {
    await loadCatalogParser();
    const c = exactOnly.catalog;
    const back = foldMigrations([{ path: 'dump.sql', text: dumpSql(c) }]);
    expect(Object.keys(back.tables).sort()).toEqual(Object.keys(c.tables).sort());
    for (const [n, t] of Object.entries(c.tables)) {
      expect(back.tables[n]).toMatchObject({ enabled: t.enabled, forced: t.forced });
      expect(back.tables[n]!.policies.map((p) => [p.name, p.settings])).toEqual(t.policies.map((p) => [p.name, p.settings]));
    }
    expect(back.functions['current_org_id']).toMatchObject({ securityDefiner: false, readsSettings: ['app.current_org_id'] });
  });

  it('catalogDrift reports FORCE differences and FORCE-only static entries', async () => {
    await loadCatalogParser();
    const a = foldMigrations([{ path: 'a.sql', text: 'ALTER TABLE x ENABLE ROW LEVEL SECURITY; ALTER TABLE x FORCE ROW LEVEL SECURITY; ALTER TABLE y FORCE ROW LEVEL SECURITY; ALTER TABLE z ENABLE ROW LEVEL SECURITY;' }]);
    const b = foldMigrations([{ path: 'b.sql', text: 'ALTER TABLE x ENABLE ROW LEVEL SECURITY; ALTER TABLE z ENABLE ROW LEVEL SECURITY;' }]);
    expect(catalogDrift(a, b, { left: 'migrations', right: 'database' })).toEqual({ left: 'migrations', right: 'database', onlyLeft: ['y'], onlyRight: [], forced: [{ table: 'x', left: true, right: false }], agree: ['z'] });
    expect(formatDrift(catalogDrift(b, b))).toEqual(['static and exact agree on all 2 RLS tables']);
  });
});

describe('exact catalog through the engine and the CLI', () => {
  it('analyze({catalogMode: "exact"}) uses the executed catalog and carries the agreement', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rlscov-exact-engine-'));
    try {
      cpSync(join(repo, 'fixtures/catalog/exact-only'), dir, { recursive: true });
      const r = await analyze({ paths: ['.'], cwd: dir, catalogMode: 'exact', cache: true, cacheDir });
      expect(Object.keys(r.catalog.tables).sort()).toEqual(['api_keys', 'customers', 'tenant_files', 'tenant_notes']);
      expect(r.catalog.drift?.onlyLeft).toEqual(['audit_log', 'invoices']);
      const s = await analyze({ paths: ['.'], cwd: dir });
      expect(Object.keys(s.catalog.tables).sort()).toEqual(['api_keys', 'audit_log', 'customers', 'invoices']);
      expect(s.catalog.drift).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('`rlscov catalog --catalog exact` shows per table whether static fold and execution agree, and the drift', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(['catalog', '--catalog', 'exact', '--cache-dir', cacheDir, '.'], {
      stdout: (s) => out.push(s),
      stderr: (s) => err.push(s),
      cwd: join(repo, 'fixtures/catalog/exact-only'),
      isTTY: false,
      env: {},
    });
    const text = out.join('');
    expect(err.join('')).toBe('');
    expect(code).toBe(0);
    expect(text).toContain('catalog origin: migrations, executed in embedded Postgres (4 migrations)');
    expect(text).toMatch(/^ {2}api_keys {2}ENABLE\+FORCE {2}migrations\/002_enable_rls\.sql:9 .* static vs exact: agree$/m);
    expect(text).toMatch(/^ {2}tenant_notes {2}ENABLE .* static vs exact: static: not gated$/m);
    expect(text).toContain('drift (static vs exact):\n  static vs exact: 2 tables agree, 4 differ\n    audit_log: gated in static only');
  });

  it('a config file can ask for the exact catalog (catalog: exact)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rlscov-exact-config-'));
    try {
      mkdirSync(join(dir, 'migrations'));
      writeFileSync(join(dir, 'migrations', '001.sql'), readFileSync(join(EXACT_ONLY, '001_tables.sql'), 'utf8'));
      writeFileSync(join(dir, 'migrations', '002.sql'), readFileSync(join(EXACT_ONLY, '002_enable_rls.sql'), 'utf8'));
      writeFileSync(join(dir, '.rlscov.yml'), 'catalog: exact\n');
      const r = await analyze({ paths: ['.'], cwd: dir, cache: true, cacheDir });
      expect(r.catalog.build?.mode).toBe('exact');
      expect(Object.keys(r.catalog.tables).sort()).toEqual(['api_keys', 'customers']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
