// src/catalog: the RLS catalog folded from migrations, the built-in catalog and config overrides.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseSync } from 'libpg-query';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  applyTableOverrides,
  buildCatalogFromMigrations,
  builtinCatalog,
  builtinCatalogPath,
  foldMigrations,
  isRollbackMigration,
  loadCatalogParser,
  orderMigrations,
} from '../src/catalog/index.js';
import { lineLocator, locateStatement, splitSql } from '../src/catalog/split.js';
import type { Catalog } from '../src/model.js';

const repo = resolve(__dirname, '..');

/** Folds one migration text (path m/001.sql). */
async function fold1(text: string, opts?: { defaultSetting?: string }): Promise<Catalog> {
  return buildCatalogFromMigrations([{ path: 'm/001.sql', text }], opts);
}

/** Folds several texts in the order given (m/001.sql, m/002.sql, ...). */
async function fold(...texts: string[]): Promise<Catalog> {
  return buildCatalogFromMigrations(texts.map((text, i) => ({ path: `m/${String(i + 1).padStart(3, '0')}.sql`, text })));
}

/** What a caller does with a migrations directory: list, drop rollbacks, order, read; paths relative to `root`. */
async function foldDir(root: string): Promise<Catalog> {
  const walk = (d: string): string[] =>
    readdirSync(d).flatMap((e) => (statSync(join(d, e)).isDirectory() ? walk(join(d, e)) : [join(d, e)]));
  const paths = walk(root).map((p) => relative(root, p).split('\\').join('/'));
  const ordered = orderMigrations(paths.filter((p) => !isRollbackMigration(p)));
  return buildCatalogFromMigrations(ordered.map((p) => ({ path: p, text: readFileSync(join(root, p), 'utf8') })));
}

const gated = (c: Catalog): string[] => Object.keys(c.tables).sort();

beforeAll(async () => {
  await loadCatalogParser();
});

describe('orderMigrations', () => {
  it('orders by the number that starts the file name, numerically', () => {
    expect(orderMigrations(['m/10_y.sql', 'm/2_x.sql', 'm/1_a.sql'])).toEqual(['m/1_a.sql', 'm/2_x.sql', 'm/10_y.sql']);
    expect(orderMigrations(['m/010_c.sql', 'm/3_b.sql', 'm/002_a.sql'])).toEqual(['m/002_a.sql', 'm/3_b.sql', 'm/010_c.sql']);
    expect(orderMigrations(['m/20240102000000_b.sql', 'm/20240101120000_a.sql'])).toEqual([
      'm/20240101120000_a.sql',
      'm/20240102000000_b.sql',
    ]);
    expect(orderMigrations(['m/12-later.sql', 'm/9-earlier.sql'])).toEqual(['m/9-earlier.sql', 'm/12-later.sql']);
  });

  it('breaks ties by path and puts files without a number last', () => {
    expect(orderMigrations(['z/001_b.sql', 'schema.sql', 'a/001_a.sql', 'm/002_c.sql', 'extra.sql'])).toEqual([
      'a/001_a.sql',
      'z/001_b.sql',
      'm/002_c.sql',
      'extra.sql',
      'schema.sql',
    ]);
  });

  it('understands Flyway versions and numbered directories', () => {
    expect(orderMigrations(['V1_10__c.sql', 'V1_2__b.sql', 'V1__a.sql'])).toEqual(['V1__a.sql', 'V1_2__b.sql', 'V1_10__c.sql']);
    expect(orderMigrations(['m/10_x/up.sql', 'm/9_y/up.sql'])).toEqual(['m/9_y/up.sql', 'm/10_x/up.sql']);
  });

  it('does not mutate its input', () => {
    const input = ['b/2.sql', 'a/1.sql'];
    orderMigrations(input);
    expect(input).toEqual(['b/2.sql', 'a/1.sql']);
  });
});

describe('isRollbackMigration', () => {
  it('recognises down migrations', () => {
    for (const p of [
      'migrations/core/021_runtime_down.sql',
      'm/003_x.down.sql',
      'm/003-x-down.sql',
      'm/2024-01-01-000000_create/down.sql',
      'm/down/003_x.sql',
      'm/rollback/003_x.sql',
      'db/U3__drop_things.sql',
      'm/003_x.undo.sql',
      'M\\003_X_DOWN.SQL',
    ]) {
      expect(isRollbackMigration(p), p).toBe(true);
    }
  });

  it('leaves forward migrations alone', () => {
    for (const p of [
      'migrations/core/021_runtime.sql',
      'm/003_x.up.sql',
      'm/2024-01-01-000000_create/up.sql',
      'm/003_slowdown.sql',
      'm/down_payments/001_init.sql',
      'm/countdown/001.sql',
      'db/V3__add.sql',
    ]) {
      expect(isRollbackMigration(p), p).toBe(false);
    }
  });
});

describe('RLS switches', () => {
  it('ENABLE and FORCE gate a table, with the statement that gated it as provenance', async () => {
    const c = await fold1('CREATE TABLE a (id int);\nALTER TABLE a ENABLE ROW LEVEL SECURITY;\n\nALTER TABLE b FORCE ROW LEVEL SECURITY;\nALTER TABLE b ENABLE ROW LEVEL SECURITY;\n');
    expect(c.origin).toBe('migrations');
    expect(c.tables['a']).toMatchObject({ name: 'a', enabled: true, forced: false, source: { kind: 'migration', file: 'm/001.sql', line: 2 } });
    expect(c.tables['b']).toMatchObject({ enabled: true, forced: true, source: { line: 4 } });
    expect(c.migrationFiles).toEqual(['m/001.sql']);
  });

  it('ENABLE then DISABLE: not gated', async () => {
    const c = await fold('ALTER TABLE a ENABLE ROW LEVEL SECURITY;', 'ALTER TABLE a DISABLE ROW LEVEL SECURITY;');
    expect(c.tables['a']).toBeUndefined();
  });

  it('NO FORCE keeps the table gated when it is enabled, clears forced', async () => {
    const c = await fold(
      'ALTER TABLE a ENABLE ROW LEVEL SECURITY; ALTER TABLE a FORCE ROW LEVEL SECURITY;',
      'ALTER TABLE a NO FORCE ROW LEVEL SECURITY;',
    );
    expect(c.tables['a']).toMatchObject({ enabled: true, forced: false });
  });

  it('FORCE without ENABLE is treated as gated, with a diagnostic; NO FORCE then ungates it', async () => {
    const c = await fold1('ALTER TABLE a FORCE ROW LEVEL SECURITY;');
    expect(c.tables['a']).toMatchObject({ enabled: false, forced: true });
    expect(c.diagnostics).toEqual([expect.objectContaining({ file: 'm/001.sql', line: 1, message: expect.stringMatching(/FORCEd but not ENABLEd/) })]);
    const d = await fold('ALTER TABLE a FORCE ROW LEVEL SECURITY;', 'ALTER TABLE a NO FORCE ROW LEVEL SECURITY;');
    expect(d.tables['a']).toBeUndefined();
  });

  it('FORCE survives DISABLE, as in Postgres, and comes back with ENABLE', async () => {
    const c = await fold(
      'ALTER TABLE a ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;',
      'ALTER TABLE a DISABLE ROW LEVEL SECURITY;',
      '\n\nALTER TABLE a ENABLE ROW LEVEL SECURITY;',
    );
    expect(c.tables['a']).toMatchObject({ enabled: true, forced: true, source: { file: 'm/003.sql', line: 3 } });
  });

  it('accepts any case, extra spaces, IF EXISTS, ONLY, schemas and quotes', async () => {
    const c = await fold1(`
alter   table   if exists  only   Public.Members   enable  row   level security;
ALTER TABLE "Audit_Log" ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit.Events ENABLE ROW LEVEL SECURITY;
ALTER TABLE public."public_Quoted" ENABLE ROW LEVEL SECURITY;
ALTER TABLE IF EXISTS -- a comment between the words
    ONLY ledger
    FORCE ROW LEVEL SECURITY,
    ENABLE ROW LEVEL SECURITY;
ALTER TABLE user_data ENABLE ROW LEVEL SECURITY;
`);
    expect(gated(c)).toEqual(['Audit_Log', 'audit.events', 'ledger', 'members', 'public_Quoted', 'user_data']);
    expect(c.tables['ledger']).toMatchObject({ enabled: true, forced: true, source: { line: 6 } });
  });

  it('reads ALTER TABLE with several commands, RLS among other changes', async () => {
    const c = await fold1('ALTER TABLE a ADD COLUMN org_id uuid, ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;\nALTER TABLE b ADD COLUMN x int;');
    expect(c.tables['a']).toMatchObject({ enabled: true, forced: true });
    expect(c.tables['b']).toBeUndefined();
  });

  it('DROP TABLE removes the table and its policies; RENAME moves them', async () => {
    const c = await fold1(`
ALTER TABLE a ENABLE ROW LEVEL SECURITY;
ALTER TABLE b ENABLE ROW LEVEL SECURITY;
CREATE POLICY pb ON b USING (org = current_setting('app.b'));
ALTER TABLE c ENABLE ROW LEVEL SECURITY;
CREATE POLICY pc ON c USING (org = current_setting('app.c'));
DROP TABLE IF EXISTS a, public.b CASCADE;
ALTER TABLE c RENAME TO c2;
ALTER TABLE b ENABLE ROW LEVEL SECURITY;
`);
    expect(gated(c)).toEqual(['b', 'c2']);
    expect(c.tables['b']!.policies).toEqual([]);
    expect(c.tables['c2']!.policies.map((p) => p.name)).toEqual(['pc']);
    expect(c.tables['c2']!.source.line).toBe(5);
  });

  it('DROP SCHEMA ... CASCADE drops what the schema holds; without CASCADE it cannot have held anything', async () => {
    const c = await fold1(`
ALTER TABLE audit.events ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit.trail ENABLE ROW LEVEL SECURITY;
ALTER TABLE ops.jobs ENABLE ROW LEVEL SECURITY;
ALTER TABLE jobs ENABLE ROW LEVEL SECURITY;
CREATE FUNCTION audit.f() RETURNS int LANGUAGE sql AS 'SELECT 1';
DROP SCHEMA IF EXISTS audit CASCADE;
DROP SCHEMA ops;
`);
    expect(gated(c)).toEqual(['jobs', 'ops.jobs']);
    expect(c.functions).toEqual({});
  });

  it('SET SCHEMA moves the table to its new key', async () => {
    const c = await fold1('ALTER TABLE a ENABLE ROW LEVEL SECURITY; ALTER TABLE a SET SCHEMA audit;');
    expect(gated(c)).toEqual(['audit.a']);
  });

  it('does not read RLS switches in comments or strings', async () => {
    const c = await fold1(`
-- ALTER TABLE a ENABLE ROW LEVEL SECURITY;
/* ALTER TABLE b ENABLE ROW LEVEL SECURITY; */
COMMENT ON TABLE x IS 'ALTER TABLE c ENABLE ROW LEVEL SECURITY;';
SELECT $q$ ALTER TABLE d ENABLE ROW LEVEL SECURITY; $q$;
`);
    expect(gated(c)).toEqual([]);
    expect(c.diagnostics).toEqual([]);
  });
});

describe('DO blocks', () => {
  it('EXECUTE of a string literal', async () => {
    const c = await fold1(`DO $$ BEGIN EXECUTE 'ALTER TABLE customers FORCE ROW LEVEL SECURITY'; EXECUTE 'ALTER TABLE customers ENABLE ROW LEVEL SECURITY'; END $$;`);
    expect(c.tables['customers']).toMatchObject({ enabled: true, forced: true });
  });

  it('FOREACH over an ARRAY literal with format(%I), statements under IF EXISTS included', async () => {
    const c = await fold1(`
DO $$
DECLARE
    tbl text;
BEGIN
    FOREACH tbl IN ARRAY ARRAY['customers', 'api_keys', 'Mixed Case'] LOOP
        IF EXISTS (SELECT 1 FROM information_schema.tables WHERE table_name = tbl) THEN
            EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', tbl);
            EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', tbl);
        END IF;
    END LOOP;
END $$;
`);
    expect(gated(c)).toEqual(['Mixed Case', 'api_keys', 'customers']);
    // The line of the EXECUTE inside the block.
    expect(c.tables['customers']).toMatchObject({ enabled: true, forced: true, source: { line: 8 } });
  });

  it('FOR ... IN SELECT unnest(ARRAY[...]), an array variable, %s and quote_ident concatenation', async () => {
    const c = await fold1(`
DO $$
DECLARE
    names text[] := ARRAY['t_one', 't_two'];
    n text;
    r record;
BEGIN
    FOR n IN SELECT unnest(ARRAY['t_three']) LOOP
        EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', n);
    END LOOP;
    FOR r IN SELECT x FROM unnest(ARRAY['t_four']) AS x LOOP
        EXECUTE 'ALTER TABLE ' || quote_ident(r.x) || ' ENABLE ROW LEVEL SECURITY';
    END LOOP;
    FOREACH n IN ARRAY names LOOP
        EXECUTE format('ALTER TABLE %1$I ENABLE ROW LEVEL SECURITY; CREATE POLICY p ON %1$I USING (org = current_setting(%2$L))', n, 'app.tenant_id');
    END LOOP;
END $$;
`);
    expect(gated(c)).toEqual(['t_four', 't_one', 't_three', 't_two']);
    expect(c.tables['t_two']!.policies).toEqual([expect.objectContaining({ name: 'p', settings: ['app.tenant_id'] })]);
    expect(c.diagnostics).toEqual([]);
  });

  it('plain SQL inside the block, nested blocks and every IF branch', async () => {
    const c = await fold1(`
DO $$
BEGIN
    IF current_setting('server_version_num')::int >= 150000 THEN
        ALTER TABLE a ENABLE ROW LEVEL SECURITY;
    ELSE
        BEGIN
            ALTER TABLE b ENABLE ROW LEVEL SECURITY;
        EXCEPTION WHEN undefined_table THEN
            NULL;
        END;
    END IF;
END $$;
`);
    expect(gated(c)).toEqual(['a', 'b']);
    expect(c.tables['a']!.source.line).toBe(5);
  });

  it('a loop over rows of a real table is reported, not guessed', async () => {
    const c = await fold1(`
DO $$
DECLARE r record;
BEGIN
    FOR r IN SELECT tablename FROM pg_tables WHERE schemaname = 'public' LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', r.tablename);
    END LOOP;
END $$;
`);
    expect(gated(c)).toEqual([]);
    expect(c.diagnostics).toEqual([
      expect.objectContaining({ line: 6, message: expect.stringMatching(/only known at run time: ALTER TABLE \? ENABLE ROW LEVEL SECURITY/) }),
    ]);
  });

  it('a DO block in another language is reported when it mentions RLS', async () => {
    const c = await fold1(`DO LANGUAGE plpython3u $$ plpy.execute("ALTER TABLE a ENABLE ROW LEVEL SECURITY") $$;`);
    expect(gated(c)).toEqual([]);
    expect(c.diagnostics).toEqual([expect.objectContaining({ line: 1, message: expect.stringMatching(/language plpython3u is not read/) })]);
  });

  it('a DO block the PL/pgSQL parser rejects: diagnostic, literal switches still read', async () => {
    const c = await fold1(`DO $$ BEGIN EXECUTE 'ALTER TABLE z ENABLE ROW LEVEL SECURITY'; FOR x IN 1..2 LOOP NULL; END LOOP; BOGUS; END $$;`);
    expect(gated(c)).toEqual(['z']);
    expect(c.diagnostics[0]).toMatchObject({ line: 1, message: expect.stringMatching(/cannot parse DO block/) });
  });
});

describe('functions', () => {
  it('SECURITY DEFINER vs INVOKER, language, search_path, and the tables a plpgsql body writes', async () => {
    const c = await fold1(`
CREATE OR REPLACE FUNCTION auth_insert_api_key(p_org uuid, p_hash text) RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $fn$
DECLARE v_id uuid;
BEGIN
    INSERT INTO api_keys (org_id, key_hash) VALUES (p_org, p_hash) RETURNING id INTO v_id;
    EXECUTE 'DELETE FROM api_key_cache WHERE org_id = $1' USING p_org;
    EXECUTE format('UPDATE %I SET last_used = now()', 'key_usage');
    RETURN v_id;
END $fn$;

CREATE FUNCTION touch_usage(p_org uuid) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    UPDATE usage_events SET seen = true WHERE org_id = p_org;
END $$;

CREATE FUNCTION add_event(p_org uuid) RETURNS void LANGUAGE sql
AS $$ INSERT INTO usage_events (org_id) VALUES (p_org) ON CONFLICT (org_id) DO UPDATE SET n = usage_events.n + 1 $$;

CREATE FUNCTION atomic_add(p_org uuid) RETURNS void LANGUAGE sql
BEGIN ATOMIC
    INSERT INTO audit_logs (org_id) VALUES (p_org);
END;
`);
    const definer = c.functions['auth_insert_api_key']!;
    expect(definer).toMatchObject({ securityDefiner: true, language: 'plpgsql', setsSearchPath: true, source: { file: 'm/001.sql', line: 2 } });
    expect(definer.writes.map((w) => `${w.verb} ${w.table?.name}`).sort()).toEqual(['DELETE api_key_cache', 'INSERT api_keys', 'UPDATE key_usage']);
    expect(c.functions['touch_usage']).toMatchObject({ securityDefiner: false, language: 'plpgsql', setsSearchPath: false });
    expect(c.functions['touch_usage']!.writes).toEqual([expect.objectContaining({ verb: 'UPDATE', table: { name: 'usage_events' } })]);
    expect(c.functions['add_event']!.writes).toEqual([expect.objectContaining({ verb: 'INSERT', table: { name: 'usage_events' }, upsert: true })]);
    expect(c.functions['atomic_add']!.writes).toEqual([expect.objectContaining({ verb: 'INSERT', table: { name: 'audit_logs' } })]);
  });

  it('long bodies (read from the text, the header parsed alone) give the same record', async () => {
    const filler = Array.from({ length: 30 }, (_, i) => `    -- step ${i}: keep the ledger consistent`).join('\n');
    const c = await fold1(`
CREATE OR REPLACE FUNCTION settle(p_org uuid) RETURNS void AS $body$
DECLARE v uuid := current_setting('App.Current_Org_Id')::uuid;
BEGIN
${filler}
    INSERT INTO settlements (org_id) VALUES (v);
    DELETE FROM pending WHERE org_id = p_org;
END
$body$ LANGUAGE plpgsql SECURITY DEFINER SET search_path = public;

CREATE FUNCTION report(p_org uuid) RETURNS bigint LANGUAGE sql AS $$
${filler}
    UPDATE reports SET n = n + 1 WHERE org_id = p_org RETURNING n
$$;
`);
    expect(c.functions['settle']).toMatchObject({ securityDefiner: true, setsSearchPath: true, language: 'plpgsql', readsSettings: ['app.current_org_id'], source: { line: 2 } });
    expect(c.functions['settle']!.writes.map((w) => `${w.verb} ${w.table?.name}`).sort()).toEqual(['DELETE pending', 'INSERT settlements']);
    expect(c.functions['report']!.writes.map((w) => `${w.verb} ${w.table?.name}`)).toEqual(['UPDATE reports']);
    expect(c.diagnostics).toEqual([]);
  });

  it('a write whose table is only known at run time keeps its verb', async () => {
    const c = await fold1(`CREATE FUNCTION purge(t text) RETURNS void LANGUAGE plpgsql AS $$ BEGIN EXECUTE 'DELETE FROM ' || quote_ident(t); END $$;`);
    expect(c.functions['purge']!.writes).toEqual([expect.objectContaining({ verb: 'DELETE', table: null })]);
  });

  it('settings read by the body, lower-cased; names normalised; later definitions replace earlier ones', async () => {
    const c = await fold1(`
CREATE FUNCTION Util.Current_Org() RETURNS uuid LANGUAGE sql AS $$ SELECT current_setting('App.Current_Org_ID')::uuid $$;
CREATE FUNCTION public.f() RETURNS int LANGUAGE sql AS 'SELECT 1';
CREATE OR REPLACE FUNCTION f() RETURNS int LANGUAGE sql SECURITY DEFINER AS 'INSERT INTO t VALUES (1) RETURNING 1';
`);
    expect(c.functions['util.current_org']!.readsSettings).toEqual(['app.current_org_id']);
    expect(c.functions['f']).toMatchObject({ securityDefiner: true, source: { line: 4 } });
    expect(c.functions['f']!.writes).toEqual([expect.objectContaining({ verb: 'INSERT', table: { name: 't' } })]);
  });

  it('DROP FUNCTION removes; ALTER FUNCTION changes SECURITY and search_path; RENAME moves', async () => {
    const c = await fold1(`
CREATE FUNCTION a() RETURNS void LANGUAGE sql AS 'SELECT 1';
CREATE FUNCTION b() RETURNS void LANGUAGE sql AS 'SELECT 1';
CREATE FUNCTION c() RETURNS void LANGUAGE sql AS 'SELECT 1';
DROP FUNCTION IF EXISTS a();
ALTER FUNCTION b() SECURITY DEFINER SET search_path = public;
ALTER FUNCTION c() RENAME TO c2;
CREATE FUNCTION d() RETURNS void LANGUAGE sql SECURITY DEFINER SET search_path = public AS 'SELECT 1';
ALTER FUNCTION d() SECURITY INVOKER RESET ALL;
`);
    expect(Object.keys(c.functions).sort()).toEqual(['b', 'c2', 'd']);
    expect(c.functions['b']).toMatchObject({ securityDefiner: true, setsSearchPath: true });
    expect(c.functions['d']).toMatchObject({ securityDefiner: false, setsSearchPath: false });
  });
});

describe('policies and scope settings', () => {
  it('a policy reading a setting directly', async () => {
    const c = await fold1(`
ALTER TABLE t ENABLE ROW LEVEL SECURITY;
CREATE POLICY t_org ON t FOR ALL TO app_user
    USING (org_id = current_setting('app.current_org_id', true)::uuid);
`);
    expect(c.tables['t']!.policies).toEqual([
      { name: 't_org', settings: ['app.current_org_id'], source: { kind: 'migration', file: 'm/001.sql', line: 3 } },
    ]);
    expect(c.scopeSettings).toEqual(['app.current_org_id']);
  });

  it('a policy reading a setting through a function defined after it (and through a function that function calls)', async () => {
    const c = await fold1(`
ALTER TABLE t ENABLE ROW LEVEL SECURITY;
CREATE POLICY t_org ON t USING (org_id = get_current_org_id()) WITH CHECK (tenant_id = current_tenant());
CREATE FUNCTION get_current_org_id() RETURNS uuid LANGUAGE sql STABLE AS $$ SELECT current_setting('app.org_id', true)::uuid $$;
CREATE FUNCTION current_tenant() RETURNS uuid LANGUAGE plpgsql AS $$ BEGIN RETURN tenant_of(get_current_org_id()); END $$;
CREATE FUNCTION tenant_of(o uuid) RETURNS uuid LANGUAGE sql AS $$ SELECT nullif(current_setting('app.tenant_id'), '')::uuid $$;
`);
    expect(c.tables['t']!.policies[0]!.settings.sort()).toEqual(['app.org_id', 'app.tenant_id']);
    expect(c.scopeSettings.sort()).toEqual(['app.org_id', 'app.tenant_id']);
    expect(c.functions['current_tenant']!.readsSettings.sort()).toEqual(['app.org_id', 'app.tenant_id']);
  });

  it('a policy created before RLS is switched on attaches when it is; one on an ungated table does not count', async () => {
    const c = await fold(
      `CREATE POLICY p ON t USING (org = current_setting('app.x'));\nCREATE POLICY q ON never_gated USING (org = current_setting('app.y'));`,
      'ALTER TABLE t ENABLE ROW LEVEL SECURITY;',
    );
    expect(c.tables['t']!.policies).toEqual([expect.objectContaining({ name: 'p', settings: ['app.x'], source: expect.objectContaining({ file: 'm/001.sql', line: 1 }) })]);
    expect(c.scopeSettings).toEqual(['app.x']);
  });

  it('policy and table names are normalised like table references', async () => {
    const c = await fold1(`
ALTER TABLE Public."Orders" ENABLE ROW LEVEL SECURITY;
CREATE POLICY "Org Rows" ON "Orders" USING (org = current_setting('app.org'));
CREATE POLICY Lower_Me ON public."Orders" USING (org = current_setting('app.org'));
DROP POLICY lower_me ON "Orders";
`);
    expect(c.tables['Orders']!.policies.map((p) => p.name)).toEqual(['Org Rows']);
  });

  it('DROP POLICY removes, ALTER POLICY updates, ALTER POLICY RENAME renames', async () => {
    const c = await fold1(`
ALTER TABLE t ENABLE ROW LEVEL SECURITY;
CREATE POLICY a ON t USING (org = current_setting('app.a'));
CREATE POLICY b ON t USING (org = current_setting('app.b')) WITH CHECK (org = current_setting('app.b2'));
CREATE POLICY c ON t USING (true);
DROP POLICY IF EXISTS a ON t;
ALTER POLICY b ON t USING (org = current_setting('app.b3'));
ALTER POLICY c ON t RENAME TO c2;
`);
    expect(c.tables['t']!.policies.map((p) => [p.name, p.settings])).toEqual([
      ['b', ['app.b3', 'app.b2']],
      ['c2', []],
    ]);
  });

  it('falls back to app.current_org_id, or the configured default, when no policy reads a setting', async () => {
    expect((await fold1('ALTER TABLE t ENABLE ROW LEVEL SECURITY;')).scopeSettings).toEqual(['app.current_org_id']);
    expect((await fold1('ALTER TABLE t ENABLE ROW LEVEL SECURITY;', { defaultSetting: 'app.tenant' })).scopeSettings).toEqual(['app.tenant']);
  });
});

describe('robustness', () => {
  it('a broken statement gives a diagnostic and the rest still folds', async () => {
    const c = await fold1(`ALTER TABLE a ENABLE ROW LEVEL SECURITY;
CREATE POLICY broken ON a USING (org = ;
ALTER TABLE b ENABLE ROW LEVEL SECURITY FOR EVERYONE;
ALTER TABLE c ENABLE ROW LEVEL SECURITY;
`);
    expect(gated(c)).toEqual(['a', 'b', 'c']);
    expect(c.diagnostics.map((d) => [d.file, d.line])).toEqual([
      ['m/001.sql', 2],
      ['m/001.sql', 3],
    ]);
    expect(c.diagnostics[0]!.message).toMatch(/cannot parse statement \(syntax error/);
  });

  it('never throws on garbage', async () => {
    for (const text of ["ALTER TABLE 'unterminated", '$$ DO $$', 'DO $x$ BEGIN', '\u0000\u0001;;;', 'CREATE FUNCTION f( AS $$ x $$;', 'é'.repeat(1000)]) {
      const c = await fold1(text);
      expect(c.origin).toBe('migrations');
    }
  });

  it('ignores everything after a goose Down / dbmate migrate:down marker, and psql meta lines', async () => {
    const goose = await foldDir(join(repo, 'fixtures/catalog/goose'));
    expect(goose.tables['audit_trail']).toMatchObject({ enabled: true, forced: true, source: { file: '20240105093000_audit_trail.sql', line: 4 } });
    const dbmate = await fold1('-- migrate:up\nALTER TABLE a ENABLE ROW LEVEL SECURITY;\n-- migrate:down\nALTER TABLE a DISABLE ROW LEVEL SECURITY;\n');
    expect(gated(dbmate)).toEqual(['a']);
    const psql = await fold1('\\connect app\n\\set ON_ERROR_STOP on\nALTER TABLE a ENABLE ROW LEVEL SECURITY;\nCOPY x FROM stdin;\n1\tALTER TABLE b ENABLE ROW LEVEL SECURITY;\n\\.\nALTER TABLE c ENABLE ROW LEVEL SECURITY;\n');
    expect(gated(psql)).toEqual(['a', 'c']);
    expect(psql.tables['c']!.source.line).toBe(7);
    expect(psql.diagnostics).toEqual([]);
  });
});

describe('line numbers', () => {
  it('count lines, not bytes, after non-ASCII text', async () => {
    const c = await fold1('-- Größe, naïve, 日本語, 🎉\nSELECT \'ü\';\n/* ☃ */ ALTER TABLE a ENABLE ROW LEVEL SECURITY;\n\n  ALTER TABLE b ENABLE ROW LEVEL SECURITY;');
    expect(c.tables['a']!.source.line).toBe(3);
    expect(c.tables['b']!.source.line).toBe(5);
  });

  it('convert libpg-query byte offsets (stmt_location) to lines at the first non-comment token', () => {
    const text = '-- 日本語 comment\nSELECT 1;\n/* 🎉\n */ -- x\n  SELECT \'ü\';';
    const buf = Buffer.from(text, 'utf8');
    const stmts = parseSync(text).stmts!;
    const located = stmts.map((s) => locateStatement(buf, s.stmt_location, s.stmt_len));
    expect(located.map((l) => l.lineOffset + 1)).toEqual([2, 5]);
    expect(located.map((l) => l.text)).toEqual(['SELECT 1', "SELECT 'ü'"]);
  });

  it('splitter: statements start at their first token; quotes, comments and BEGIN ATOMIC respected', () => {
    const text = "-- lead\nSELECT E'a\\'; b', 'c'';d', \"e;f\", $t$ ; $t$ /* ; /* ; */ ; */;\nCREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT CASE WHEN true THEN 1 END; SELECT 2; END;\nx";
    const { statements } = splitSql(text);
    const lineOf = lineLocator(text);
    expect(statements.map((s) => [lineOf(s.start), s.text.slice(0, 15)])).toEqual([
      [2, "SELECT E'a\\'; b"],
      [3, 'CREATE FUNCTION'],
      [4, 'x'],
    ]);
    expect(statements[1]!.text.endsWith('SELECT 2; END')).toBe(true);
    // An escaped backslash before the closing quote of an E'' string.
    expect(splitSql("SELECT E'c\\\\'; SELECT 3").statements.map((s) => s.text)).toEqual(["SELECT E'c\\\\'", 'SELECT 3']);
  });
});

describe('fixture: basic migrations directory', () => {
  it('folds in numeric order without the rollback, with file:line provenance', async () => {
    const c = await foldDir(join(repo, 'fixtures/catalog/basic'));
    expect(c.migrationFiles).toEqual([
      'migrations/001_init.sql',
      'migrations/002_force.sql',
      'migrations/3_pause_webhooks.sql',
      'migrations/010_resume_webhooks.sql',
    ]);
    expect(gated(c)).toEqual(['invoices', 'ledger_entries', 'webhooks']);
    expect(c.tables['invoices']).toMatchObject({ enabled: true, forced: true, source: { file: 'migrations/001_init.sql', line: 27 } });
    expect(c.tables['invoices']!.policies).toEqual([
      { name: 'invoices_by_org', settings: ['app.current_org_id'], source: { kind: 'migration', file: 'migrations/001_init.sql', line: 23 } },
    ]);
    expect(c.tables['ledger_entries']).toMatchObject({ enabled: true, forced: false, source: { file: 'migrations/002_force.sql', line: 10 } });
    expect(c.tables['ledger_entries']!.policies).toEqual([expect.objectContaining({ name: 'org_rows', settings: ['app.current_org_id'] })]);
    // Disabled by 3_, enabled again by 010_: numeric order, not string order.
    expect(c.tables['webhooks']!.source).toEqual({ kind: 'migration', file: 'migrations/010_resume_webhooks.sql', line: 1 });
    expect(c.functions['record_payment']).toMatchObject({ securityDefiner: true, setsSearchPath: true, language: 'plpgsql' });
    expect(c.functions['record_payment']!.writes.map((w) => `${w.verb} ${w.table?.name}`).sort()).toEqual(['INSERT ledger_entries', 'UPDATE invoices']);
    expect(c.functions['billing_org']).toMatchObject({ securityDefiner: false, language: 'sql', readsSettings: ['app.current_org_id'] });
    expect(c.scopeSettings).toEqual(['app.current_org_id']);
    expect(c.diagnostics).toEqual([]);
  });
});

describe('builtinCatalog', () => {
  it('is the v8.0.0 FORCE-RLS list with builtin provenance', () => {
    const c = builtinCatalog();
    expect(c.origin).toBe('builtin');
    expect(Object.keys(c.tables)).toHaveLength(19);
    expect(Object.keys(c.tables)).toEqual(expect.arrayContaining(['organizations', 'tenants', 'audit_logs', 'decision_chain', 'api_keys', 'customers']));
    for (const t of Object.values(c.tables)) {
      expect(t).toMatchObject({ enabled: true, forced: true, policies: [], source: { kind: 'builtin', detail: 'AxonFlow v8.0.0 operator guide, Step C' } });
    }
    expect(c.scopeSettings).toEqual(['app.current_org_id']);
    expect(c.functions).toEqual({});
    expect(c.migrationFiles).toEqual([]);
  });

  it('reads rules/catalog/builtin.json, which says where it comes from', () => {
    expect(builtinCatalogPath()).toBe(join(repo, 'rules/catalog/builtin.json'));
    expect(JSON.parse(readFileSync(builtinCatalogPath(), 'utf8'))['$comment']).toMatch(/Step C/);
  });

  it('returns a fresh object every time', () => {
    const a = builtinCatalog();
    delete a.tables['customers'];
    expect(builtinCatalog().tables['customers']).toBeDefined();
  });
});

describe('applyTableOverrides', () => {
  it('adds (provenance config) then removes, normalising names, without touching its input', () => {
    const base = builtinCatalog();
    const c = applyTableOverrides(base, ['Public.Invoices', '"Audit"."Events"', 'api_keys'], ['customers', 'PUBLIC.TENANTS'], '/repo/.rlscov.yml');
    expect(c.tables['invoices']).toEqual({
      name: 'invoices',
      enabled: true,
      forced: false,
      policies: [],
      source: { kind: 'config', file: '/repo/.rlscov.yml', detail: 'tables.add' },
    });
    expect(c.tables['Audit.Events']).toBeDefined();
    expect(c.tables['api_keys']!.source.kind).toBe('builtin');
    expect(c.tables['customers']).toBeUndefined();
    expect(c.tables['tenants']).toBeUndefined();
    expect(base.tables['customers']).toBeDefined();
    expect(applyTableOverrides(base, ['x'], ['x'], null).tables['x']).toBeUndefined();
    expect(applyTableOverrides(base, ['y'], [], null).tables['y']!.source).toEqual({ kind: 'config', detail: 'tables.add' });
  });
});

describe('large histories', () => {
  /** 200 migrations: tables, seeds, ENABLE + FORCE, a policy each, a function every 4th, a DO loop every 20th. */
  function corpus(tag: string): Array<{ path: string; text: string }> {
    const files = [];
    for (let i = 0; i < 200; i++) {
      const n = `${tag}${i}`;
      let text = `-- migration ${i}: größe\nCREATE TABLE ${n} (id uuid PRIMARY KEY, org_id uuid NOT NULL, name text NOT NULL, created_at timestamptz NOT NULL DEFAULT now());\n`;
      text += `CREATE INDEX ${n}_org ON ${n} (org_id);\nINSERT INTO ${n} (id, org_id, name) VALUES (gen_random_uuid(), gen_random_uuid(), 'seed');\n`;
      text += `ALTER TABLE ${n} ENABLE ROW LEVEL SECURITY;\nALTER TABLE ${n} FORCE ROW LEVEL SECURITY;\n`;
      text += `CREATE POLICY ${n}_org ON ${n} USING (org_id = current_setting('app.current_org_id', true)::uuid);\n`;
      if (i % 4 === 0) {
        text += `CREATE OR REPLACE FUNCTION ${n}_f(o uuid) RETURNS void LANGUAGE plpgsql SECURITY DEFINER AS $$\nBEGIN\n  INSERT INTO ${n} (org_id, name) VALUES (o, 'x');\nEND $$;\n`;
      }
      if (i % 20 === 0) {
        text += `DO $$ DECLARE t text; BEGIN FOREACH t IN ARRAY ARRAY['${n}_a', '${n}_b'] LOOP EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t); END LOOP; END $$;\n`;
      }
      files.push({ path: `m/${String(i).padStart(3, '0')}_m.sql`, text });
    }
    return files;
  }

  it('folds a 200-migration history completely (its speed is measured by the benchmark, not here)', () => {
    const c = foldMigrations(corpus('p'));
    expect(Object.keys(c.tables)).toHaveLength(220);
    expect(Object.keys(c.functions)).toHaveLength(50);
    expect(c.diagnostics).toEqual([]);
  });

  it('nested loops over literal lists stay bounded', async () => {
    const list = `ARRAY[${Array.from({ length: 40 }, (_, i) => `'t${i}'`).join(', ')}]`;
    const c = await fold1(`
DO $$
DECLARE a text; b text; d text;
BEGIN
    FOREACH a IN ARRAY ${list} LOOP
        FOREACH b IN ARRAY ${list} LOOP
            FOREACH d IN ARRAY ${list} LOOP
                EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', a || b || d);
            END LOOP;
        END LOOP;
    END LOOP;
END $$;`);
    // 64,000 combinations: the walk stops expanding and reports what it could not enumerate.
    expect(Object.keys(c.tables).length).toBeLessThanOrEqual(1024);
    expect(c.diagnostics.some((d) => /only known at run time/.test(d.message))).toBe(true);
  });
});
