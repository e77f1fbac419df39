// The live catalog against a REAL PostgreSQL server: a throw-away cluster (scripts/pg-test-server.sh) on a private
// port on 127.0.0.1, the fixtures' migrations applied by psql as the owning role, read as the application role.
// Compares the live catalog with the migration-derived ones, runs every error path and the schema rules on the
// database. Never skipped: when the server cannot start (no PostgreSQL installed), the tests fail and say why.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, cpSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildExactCatalog } from '../src/catalog/exact.js';
import { orderMigrations } from '../src/catalog/index.js';
import { maskUrl, readLiveCatalog } from '../src/catalog/live.js';
import { main } from '../src/cli/main.js';
import { analyze } from '../src/engine/analyze.js';
import { DatabaseError } from '../src/errors.js';
import type { Catalog } from '../src/model.js';
import { formatReport } from '../src/report/index.js';
import { allRules } from '../rules/index.js';
import { validateSarif } from './helpers/sarif-validate.js';

const repo = resolve(__dirname, '..');
const SCRIPT = join(repo, 'scripts/pg-test-server.sh');
const EXACT_ONLY = join(repo, 'fixtures/catalog/exact-only');
const APP_PW = 'rlscov-app-pw';
const SCHEMA_RULES = ['RLS101', 'RLS102', 'RLS103', 'RLS104'];

interface Server_ {
  dir: string;
  port: number;
  superUrl: string;
  url: (db: string, user?: string, password?: string) => string;
}

let server: Server_ | null = null;
let startError: string | null = null;
let cacheDir: string;
/** Databases made from fixtures: name -> case directory. */
const ruleDbs = new Map<string, string>();

function sh(args: string[]): string {
  return execFileSync('bash', [SCRIPT, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
}

function need(): Server_ {
  if (!server) throw new Error(`the PostgreSQL test server did not start, so the real-database tests cannot run: ${startError}`);
  return server;
}

function migrationFiles(caseDir: string): Array<{ path: string; text: string }> {
  const dir = join(caseDir, 'migrations');
  return orderMigrations(readdirSync(dir).filter((n) => n.endsWith('.sql')).map((n) => `migrations/${n}`)).map((p) => ({ path: p, text: readFileSync(join(caseDir, p), 'utf8') }));
}

beforeAll(async () => {
  cacheDir = mkdtempSync(join(tmpdir(), 'rlscov-live-test-'));
  let out: string;
  try {
    out = sh(['start']);
  } catch (e) {
    const err = e as { stderr?: string; message?: string };
    startError = (err.stderr || err.message || String(e)).trim();
    return;
  }
  const env = Object.fromEntries(out.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  const port = Number(env['PGTEST_PORT']);
  server = {
    dir: env['PGTEST_DIR']!,
    port,
    superUrl: env['PGTEST_SUPERUSER_URL']!,
    url: (db, user = 'rlscov_app', password = APP_PW) => `postgres://${user}:${encodeURIComponent(password)}@127.0.0.1:${port}/${db}`,
  };
  // Roles that migrations GRANT to live outside migrations.
  const su = new pg.Client({ connectionString: server.superUrl });
  await su.connect();
  try {
    await su.query('CREATE ROLE app_user NOLOGIN');
  } finally {
    await su.end();
  }
  sh(['apply', join(EXACT_ONLY, 'migrations'), 'exact_only', String(port)]);
  for (const rule of SCHEMA_RULES) {
    const base = join(repo, 'fixtures/rules', rule);
    for (const name of readdirSync(base).sort()) {
      if (!statSync(join(base, name)).isDirectory()) continue;
      const db = `${rule}_${name}`.toLowerCase().replace(/[^a-z0-9]+/g, '_');
      sh(['apply', join(base, name, 'migrations'), db, String(port)]);
      ruleDbs.set(db, join(base, name));
    }
  }
});

afterAll(() => {
  if (server) sh(['stop', server.dir]);
  rmSync(cacheDir, { recursive: true, force: true });
});

/** The parts of a catalog a server and the migrations must agree on (provenance differs by design). */
function shape(c: Catalog): unknown {
  return {
    tables: Object.fromEntries(
      Object.values(c.tables)
        .sort((a, b) => a.name.localeCompare(b.name))
        .map((t) => [t.name, { enabled: t.enabled, forced: t.forced, policies: t.policies.map((p) => [p.name, [...p.settings].sort()]).sort() }]),
    ),
    functions: Object.fromEntries(
      Object.values(c.functions)
        .sort((a, b) => a.name.localeCompare(b.name))
        .map((f) => [f.name, { securityDefiner: f.securityDefiner, setsSearchPath: f.setsSearchPath, readsSettings: [...f.readsSettings].sort(), writes: f.writes.map((w) => `${w.verb} ${w.table?.name}`).sort() }]),
    ),
    scopeSettings: [...c.scopeSettings].sort(),
  };
}

describe('the test server', () => {
  it('started (scripts/pg-test-server.sh start)', () => {
    need();
  });
});

describe('live catalog vs the migrations', () => {
  it('equals the exact catalog of the same migrations, and differs from the static fold where execution does', async () => {
    const s = need();
    const live = await readLiveCatalog(s.url('exact_only'));
    const exact = await buildExactCatalog(migrationFiles(EXACT_ONLY), { cacheDir });
    expect(shape(live)).toEqual(shape(exact.catalog));
    expect(live.origin).toBe('database');
    expect(live.build).toEqual({ mode: 'live', database: `postgres://***@127.0.0.1:${s.port}/exact_only` });
    expect(live.tables['api_keys']!.source).toEqual({ kind: 'database', detail: `table api_keys in postgres://***@127.0.0.1:${s.port}/exact_only` });
    expect(live.functions['current_org_id']).toMatchObject({ owner: 'rlscov_owner', ownerBypassesRls: false });
  });

  it('the schema-rule fixtures read the same from the server as from execution', async () => {
    const s = need();
    for (const [db, dir] of ruleDbs) {
      const live = await readLiveCatalog(s.url(db));
      const exact = await buildExactCatalog(migrationFiles(dir), { cacheDir });
      expect(shape(live), db).toEqual(shape(exact.catalog));
    }
  });

  it('analyze with a database URL and migrations: the catalog is the database, with the drift from the migrations', async () => {
    const s = need();
    const r = await analyze({ paths: ['.'], cwd: EXACT_ONLY, databaseUrl: s.url('exact_only') });
    expect(r.catalog.origin).toBe('database');
    expect(Object.keys(r.catalog.tables).sort()).toEqual(['api_keys', 'customers', 'tenant_files', 'tenant_notes']);
    expect(r.catalog.drift).toEqual({ left: 'migrations', right: 'database', onlyLeft: ['audit_log', 'invoices'], onlyRight: ['tenant_files', 'tenant_notes'], forced: [], agree: ['api_keys', 'customers'] });
    const withExact = await analyze({ paths: ['.'], cwd: EXACT_ONLY, databaseUrl: s.url('exact_only'), catalogMode: 'exact', cache: true, cacheDir });
    expect(withExact.catalog.drift).toEqual({ left: 'exact', right: 'database', onlyLeft: [], onlyRight: [], forced: [], agree: ['api_keys', 'customers', 'tenant_files', 'tenant_notes'] });
  });

  it('`rlscov catalog --database-url` shows the drift and never prints the password', async () => {
    const s = need();
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(['catalog', '.', '--database-url', s.url('exact_only')], { stdout: (x) => out.push(x), stderr: (x) => err.push(x), cwd: EXACT_ONLY, isTTY: false, env: {} });
    const text = out.join('');
    expect(err.join('')).toBe('');
    expect(code).toBe(0);
    expect(text).toContain(`catalog origin: database postgres://***@127.0.0.1:${s.port}/exact_only`);
    expect(text).toMatch(/^ {2}api_keys {2}ENABLE\+FORCE {2}table api_keys in postgres:\/\/\*\*\*@.* migrations vs database: agree$/m);
    expect(text).toContain('drift (migrations vs database):\n  migrations vs database: 2 tables agree, 4 differ\n    audit_log: gated in migrations only\n    invoices: gated in migrations only\n    tenant_files: gated in database only');
    expect(text).not.toContain(APP_PW);
  });

  it('takes the URL from RLSCOV_DATABASE_URL, and from database.url in the config', async () => {
    const s = need();
    const out: string[] = [];
    const code = await main(['catalog', '.', '--format', 'json'], { stdout: (x) => out.push(x), stderr: () => undefined, cwd: EXACT_ONLY, isTTY: false, env: { RLSCOV_DATABASE_URL: s.url('exact_only') } });
    expect(code).toBe(0);
    expect((JSON.parse(out.join('')) as Catalog).origin).toBe('database');

    const dir = mkdtempSync(join(tmpdir(), 'rlscov-live-config-'));
    try {
      cpSync(EXACT_ONLY, dir, { recursive: true });
      writeFileSync(join(dir, '.rlscov.yml'), `database:\n  url: ${s.url('exact_only')}\n`);
      const r = await analyze({ paths: ['.'], cwd: dir });
      expect(r.catalog.origin).toBe('database');
      // The flag (or the environment, through the CLI) wins over the config.
      const bad = s.url('exact_only', 'rlscov_app', 'wrong');
      await expect(analyze({ paths: ['.'], cwd: dir, databaseUrl: bad })).rejects.toMatchObject({ reason: 'auth' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads in one READ ONLY transaction under a statement timeout (the server log shows every statement)', async () => {
    const s = need();
    const su = new pg.Client({ connectionString: s.superUrl });
    await su.connect();
    try {
      await su.query("ALTER SYSTEM SET log_statement = 'all'");
      await su.query("ALTER SYSTEM SET log_line_prefix = '[%a] '");
      await su.query('SELECT pg_reload_conf()');
      await new Promise((r) => setTimeout(r, 300));
      const before = readFileSync(join(s.dir, 'server.log'), 'utf8').length;
      await readLiveCatalog(s.url('exact_only'));
      await new Promise((r) => setTimeout(r, 300));
      const log = readFileSync(join(s.dir, 'server.log'), 'utf8').slice(before);
      const mine = [...log.matchAll(/^\[rlscov\] LOG: {2}statement: (\S+(?: \S+){0,2})/gm)].map((m) => m[1]!);
      expect(mine[0]).toBe('BEGIN TRANSACTION READ');
      expect(mine[1]).toBe('SET LOCAL statement_timeout');
      expect(mine.at(-1)).toBe('COMMIT');
      expect(mine.slice(2, -1).every((x) => x.startsWith('SELECT'))).toBe(true);
      expect(mine.length).toBeGreaterThanOrEqual(6);
    } finally {
      await su.query('ALTER SYSTEM RESET log_statement');
      await su.query('ALTER SYSTEM RESET log_line_prefix');
      await su.query('SELECT pg_reload_conf()');
      await su.end();
    }
  });
});

describe('live catalog: every failure is a one-line DatabaseError, exit 2, credentials masked', () => {
  const expectError = async (p: Promise<unknown>, reason: string, pattern: RegExp, secret?: string): Promise<DatabaseError> => {
    let caught: unknown;
    try {
      await p;
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(DatabaseError);
    const e = caught as DatabaseError;
    expect(e.reason, e.message).toBe(reason);
    expect(e.message).toMatch(pattern);
    expect(e.message).not.toContain('\n');
    if (secret) expect(e.message).not.toContain(secret);
    return e;
  };

  it('bad password', async () => {
    const s = need();
    await expectError(readLiveCatalog(s.url('exact_only', 'rlscov_app', 'not-the-password')), 'auth', /^cannot connect to postgres:\/\/\*\*\*@127\.0\.0\.1:\d+\/exact_only: password authentication failed \(SQLSTATE 28P01\)/, 'not-the-password');
  });

  it('nothing listening on a loopback port: connection refused', async () => {
    const port = await freePort();
    await expectError(readLiveCatalog(`postgres://rlscov_app:s3cret@127.0.0.1:${port}/x`), 'connect', /connection refused/, 's3cret');
  });

  it('a server that accepts and never answers: connect timeout', async () => {
    const sockets: Socket[] = [];
    const hole: Server = createServer((sock) => void sockets.push(sock));
    await new Promise<void>((r) => hole.listen(0, '127.0.0.1', r));
    const port = (hole.address() as { port: number }).port;
    try {
      await expectError(readLiveCatalog(`postgres://u:s3cret@127.0.0.1:${port}/x`, { connectTimeoutMs: 400 }), 'timeout', /timed out after 0\.4 s/, 's3cret');
    } finally {
      for (const sock of sockets) sock.destroy();
      hole.close();
    }
  });

  it('a catalog locked by another session: statement timeout', async () => {
    const s = need();
    const su = new pg.Client({ connectionString: s.superUrl.replace(/\/postgres$/, '/exact_only') });
    await su.connect();
    try {
      await su.query('BEGIN');
      await su.query('LOCK TABLE pg_catalog.pg_policy IN ACCESS EXCLUSIVE MODE');
      await expectError(readLiveCatalog(s.url('exact_only'), { statementTimeoutMs: 300 }), 'timeout', /(statement timeout after 0\.3 s \(SQLSTATE 57014\)|lock not available)/, APP_PW);
    } finally {
      await su.query('ROLLBACK');
      await su.end();
    }
  });

  it('missing privilege (no CONNECT on the database)', async () => {
    const s = need();
    const su = new pg.Client({ connectionString: s.superUrl });
    await su.connect();
    try {
      await su.query('CREATE DATABASE no_connect OWNER rlscov_owner');
      await su.query('REVOKE CONNECT ON DATABASE no_connect FROM PUBLIC');
    } finally {
      await su.end();
    }
    await expectError(readLiveCatalog(s.url('no_connect')), 'privilege', /missing privilege: permission denied for database "no_connect" \(SQLSTATE 42501\)/, APP_PW);
  });

  it('unknown database, bad URL', async () => {
    const s = need();
    await expectError(readLiveCatalog(s.url('no_such_db')), 'connect', /database "no_such_db" does not exist \(SQLSTATE 3D000\)/, APP_PW);
    await expectError(readLiveCatalog('mysql://root:hunter2@db/app'), 'url', /^invalid database URL mysql:\/\/\*\*\*@db\/app: expected postgres:\/\//, 'hunter2');
  });

  it('the CLI exits 2 with the masked message, no fall-back to the migrations', async () => {
    const s = need();
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(['scan', '.', '--database-url', s.url('exact_only', 'rlscov_app', 'wrong-pw')], { stdout: (x) => out.push(x), stderr: (x) => err.push(x), cwd: EXACT_ONLY, isTTY: false, env: {} });
    expect(code).toBe(2);
    expect(out.join('')).toBe('');
    expect(err.join('')).toMatch(/^rlscov: cannot connect to postgres:\/\/\*\*\*@127\.0\.0\.1:\d+\/exact_only: password authentication failed/);
    expect(err.join('')).not.toContain('wrong-pw');
  });

  it('maskUrl hides user info and password parameters in every form', () => {
    expect(maskUrl('postgres://app:p%40ss@db.internal:5432/app?sslmode=require')).toBe('postgres://***@db.internal:5432/app?sslmode=require');
    expect(maskUrl('postgresql://db/app?user=x&password=secret&sslpassword=k')).toBe('postgresql://db/app?user=x&password=***&sslpassword=***');
    expect(maskUrl('host=db user=app password=secret dbname=app')).toBe('host=db user=app password=*** dbname=app');
    expect(maskUrl('postgres://db:5432/app')).toBe('postgres://db:5432/app');
  });
});

describe('schema rules on a live database', () => {
  it('report the same objects as the migrations, on @database/ paths with the masked URL', async () => {
    const s = need();
    for (const [db, dir] of ruleDbs) {
      const fromMigrations = await analyze({ paths: [dir], cwd: dir });
      const fromDb = await analyze({ paths: [dir], cwd: dir, databaseUrl: s.url(db) });
      const key = (f: { ruleId: string; function: string }): string => `${f.ruleId} ${f.function}`;
      const schema = (r: typeof fromDb) => r.findings.filter((f) => SCHEMA_RULES.includes(f.ruleId));
      expect(schema(fromDb).map(key).sort(), db).toEqual(schema(fromMigrations).map(key).sort());
      for (const f of schema(fromDb)) {
        expect(f.span.file).toMatch(/^@database\/(table|function|policy)\//);
        expect(f.message).toContain(`(database postgres://***@127.0.0.1:${s.port}/${db})`);
        expect(f.message).not.toContain(APP_PW);
      }
    }
  });

  it('a live finding can be accepted with an allow entry on its @database/ path', async () => {
    const s = need();
    const tmp = mkdtempSync(join(tmpdir(), 'rlscov-live-allow-'));
    try {
      cpSync(join(repo, 'fixtures/rules/RLS102/enabled-without-policy'), tmp, { recursive: true });
      writeFileSync(join(tmp, '.rlscov.yml'), `database:\n  url: ${s.url('rls102_enabled_without_policy')}\nallow:\n  - site: "@database/table/webhooks::webhooks"\n    reason: admin-only table\n`);
      const r = await analyze({ paths: ['.'], cwd: tmp });
      const f = r.findings.filter((x) => x.ruleId === 'RLS102').map((x) => [x.span.file, x.suppressed?.justification ?? null]);
      expect(f).toEqual([
        ['@database/table/invoices', null],
        ['@database/table/webhooks', 'admin-only table'],
      ]);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('a live finding is valid SARIF and readable text', async () => {
    const s = need();
    const dir = join(repo, 'fixtures/rules/RLS101/definer-without-search-path');
    const r = await analyze({ paths: [dir], cwd: dir, databaseUrl: s.url('rls101_definer_without_search_path') });
    const metas = allRules.map((x) => x.meta);
    const text = formatReport('text', r, metas, { color: false, verbose: false });
    expect(text).toMatch(/^@database\/function\/auth_lookup_note:1:1: warning RLS101 SECURITY DEFINER function auth_lookup_note\(\) owned by rlscov_owner \(database postgres:\/\/\*\*\*@/m);
    const file = join(cacheDir, 'live.sarif');
    writeFileSync(file, formatReport('sarif', r, metas, { color: false, verbose: false, sources: new Map() }));
    const v = validateSarif(file);
    expect(v.errors, v.output).toBe(0);
    expect(existsSync(file)).toBe(true);
  });
});

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

