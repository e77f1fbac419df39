import { describe, it, expect, beforeAll } from 'vitest';
import type { SqlPart, SqlStatement, SqlText } from '../src/model.js';
import {
  classifySql,
  loadSqlParser,
  normalizeFunctionName,
  normalizeIdent,
  normalizeTableName,
  renderSqlText,
  scanSql,
  seedSqlClassifications,
  sqlClassifications,
} from '../src/sql/index.js';
import { tokenize } from '../src/sql/scanner.js';

const H = (hole = 'value'): SqlPart => ({ hole });
const q = (...parts: SqlPart[]): SqlText => ({ parts });
const one = (text: SqlText | string): SqlStatement => {
  const ss = classifySql(typeof text === 'string' ? q(text) : text);
  expect(ss).toHaveLength(1);
  return ss[0];
};
const tables = (s: SqlStatement): Array<string | null> => s.writes.map((w) => (w.table ? w.table.name : null));
const reads = (s: SqlStatement): string[] => s.reads.map((r) => r.name);

beforeAll(async () => {
  await loadSqlParser();
});

describe('stored classifications', () => {
  it('are what a later run reads back: entries made are listed, seeded entries answer', () => {
    const text = 'UPDATE rlscov_memo_probe SET a = 1';
    const before = sqlClassifications().added;
    const real = classifySql(q(text));
    expect(sqlClassifications().added).toBe(before + 1);
    const stored = sqlClassifications().entries.find(([t]) => t === text);
    expect(stored?.[1]).toEqual(real);
    // A seeded classification (here a different, recognisable one) answers its text without re-parsing.
    const seededText = 'DELETE FROM rlscov_memo_seeded';
    const fake: SqlStatement[] = JSON.parse(JSON.stringify(real));
    fake[0]!.writes[0]!.table!.name = 'seeded_table';
    seedSqlClassifications([[seededText, fake]]);
    expect(tables(one(seededText))).toEqual(['seeded_table']);
    expect(sqlClassifications().added).toBe(before + 1);
    // Malformed entries are skipped, never fatal.
    seedSqlClassifications([[42 as unknown as string, fake], ['SELECT 1', null as unknown as SqlStatement[]]]);
    expect(classifySql(q('SELECT 1'))).toHaveLength(1);
  });
});

describe('loadSqlParser', () => {
  it('is idempotent and caches its promise', async () => {
    const a = loadSqlParser();
    const b = loadSqlParser();
    expect(a).toBe(b);
    await expect(a).resolves.toBeUndefined();
  });
});

describe('writes', () => {
  it('classifies INSERT, UPDATE and DELETE with their target table', () => {
    const ins = one('INSERT INTO api_keys (id, org_id) VALUES ($1, $2)');
    expect(ins).toMatchObject({ kind: 'INSERT', complete: true, parser: 'postgres' });
    expect(ins.writes).toEqual([{ verb: 'INSERT', table: { name: 'api_keys' } }]);
    expect(one('UPDATE api_keys SET revoked = true WHERE id = $1').writes).toEqual([
      { verb: 'UPDATE', table: { name: 'api_keys' } },
    ]);
    expect(one('DELETE FROM api_keys WHERE id = $1').writes).toEqual([{ verb: 'DELETE', table: { name: 'api_keys' } }]);
  });

  it('marks INSERT ... ON CONFLICT DO UPDATE as an upsert, but not DO NOTHING', () => {
    expect(one('INSERT INTO t (id) VALUES ($1) ON CONFLICT (id) DO UPDATE SET id = excluded.id').writes).toEqual([
      { verb: 'INSERT', table: { name: 't' }, upsert: true },
    ]);
    const nothing = one('INSERT INTO t (id) VALUES ($1) ON CONFLICT DO NOTHING').writes;
    expect(nothing).toEqual([{ verb: 'INSERT', table: { name: 't' } }]);
    expect(nothing[0].upsert).toBeUndefined();
  });

  it('classifies MERGE by its target and reads its source', () => {
    const s = one(
      'MERGE INTO accounts a USING staged s ON s.id = a.id WHEN MATCHED THEN UPDATE SET v = s.v ' +
        'WHEN NOT MATCHED THEN INSERT (id, v) VALUES (s.id, s.v)',
    );
    expect(s.kind).toBe('MERGE');
    expect(s.writes).toEqual([{ verb: 'MERGE', table: { name: 'accounts' } }]);
    expect(reads(s)).toEqual(['staged']);
  });

  it('counts COPY ... FROM as a write and COPY ... TO as none', () => {
    const from = one('COPY api_keys (id, org_id) FROM STDIN');
    expect(from.kind).toBe('COPY');
    expect(from.writes).toEqual([{ verb: 'COPY_FROM', table: { name: 'api_keys' } }]);
    expect(one('COPY api_keys TO STDOUT').writes).toEqual([]);
    const sel = one('COPY (SELECT * FROM api_keys) TO STDOUT WITH (FORMAT csv)');
    expect(sel.writes).toEqual([]);
    expect(reads(sel)).toEqual(['api_keys']);
  });

  it('counts every table of a TRUNCATE', () => {
    const s = one('TRUNCATE TABLE ONLY a, audit.b CASCADE');
    expect(s.kind).toBe('TRUNCATE');
    expect(s.writes).toEqual([
      { verb: 'TRUNCATE', table: { name: 'a' } },
      { verb: 'TRUNCATE', table: { name: 'audit.b' } },
    ]);
    expect(tables(one('truncate sessions'))).toEqual(['sessions']);
  });

  it('finds writes in CTEs (inCte) and takes the kind of the main statement', () => {
    const s = one('WITH moved AS (DELETE FROM queue WHERE id = $1 RETURNING *) INSERT INTO done SELECT * FROM moved');
    expect(s.kind).toBe('INSERT');
    expect(s.writes).toEqual([
      { verb: 'DELETE', table: { name: 'queue' }, inCte: true },
      { verb: 'INSERT', table: { name: 'done' } },
    ]);
    expect(s.reads).toEqual([]); // `moved` is a CTE, not a table
    const sel = one('WITH u AS (UPDATE t SET a = 1 RETURNING *) SELECT * FROM u');
    expect(sel.kind).toBe('SELECT');
    expect(sel.writes).toEqual([{ verb: 'UPDATE', table: { name: 't' }, inCte: true }]);
  });

  it('does not count a CTE that only selects as a write', () => {
    const s = one('WITH x AS (SELECT * FROM api_keys) SELECT * FROM x');
    expect(s.kind).toBe('SELECT');
    expect(s.writes).toEqual([]);
    expect(reads(s)).toEqual(['api_keys']);
  });

  it('writes the INSERT target and reads the tables of its SELECT', () => {
    const s = one('INSERT INTO t (a) SELECT a FROM u JOIN v ON v.id = u.id');
    expect(tables(s)).toEqual(['t']);
    expect(reads(s)).toEqual(['u', 'v']);
  });

  it('finds writes nested elsewhere in the tree (EXPLAIN ANALYZE, COPY (DML) TO, PREPARE)', () => {
    expect(tables(one('EXPLAIN ANALYZE DELETE FROM t'))).toEqual(['t']);
    expect(tables(one('EXPLAIN (ANALYZE, BUFFERS) UPDATE t SET a = 1'))).toEqual(['t']);
    expect(tables(one('COPY (DELETE FROM t RETURNING *) TO STDOUT'))).toEqual(['t']);
    expect(tables(one('PREPARE ins (int) AS INSERT INTO t VALUES ($1)'))).toEqual(['t']);
    // plain EXPLAIN does not execute its statement
    const ex = one('EXPLAIN DELETE FROM t');
    expect(ex.kind).toBe('EXPLAIN');
    expect(ex.writes).toEqual([]);
    expect(one('EXPLAIN (ANALYZE false) DELETE FROM t').writes).toEqual([]);
  });

  it('does not count SELECTs (even FOR UPDATE) as writes', () => {
    const s = one('SELECT * FROM api_keys WHERE id = $1 FOR UPDATE');
    expect(s.kind).toBe('SELECT');
    expect(s.writes).toEqual([]);
    expect(reads(s)).toEqual(['api_keys']);
  });

  it('counts a comment-prefixed INSERT but not SQL inside string literals', () => {
    const s = one('-- create the key\n/* outer /* nested */ still comment */ INSERT INTO api_keys VALUES ($1)');
    expect(s.kind).toBe('INSERT');
    expect(tables(s)).toEqual(['api_keys']);
    expect(s.text).toBe('INSERT INTO api_keys VALUES ($1)');
    const lit = one("SELECT * FROM notes WHERE body = 'INSERT INTO x VALUES (1)' OR body = $t$DELETE FROM y$t$");
    expect(lit.writes).toEqual([]);
    expect(reads(lit)).toEqual(['notes']);
    expect(one("SELECT E'it\\'s; DELETE FROM z'").writes).toEqual([]);
  });
});

describe('table names', () => {
  it('folds case, keeps quoted case, keeps non-public schemas, drops public', () => {
    expect(tables(one('INSERT INTO API_Keys VALUES (1)'))).toEqual(['api_keys']);
    expect(tables(one('INSERT INTO public.api_keys VALUES (1)'))).toEqual(['api_keys']);
    expect(tables(one('INSERT INTO "Api_Keys" VALUES (1)'))).toEqual(['Api_Keys']);
    expect(tables(one('UPDATE "Audit"."Events" SET a = 1'))).toEqual(['Audit.Events']);
    expect(tables(one('DELETE FROM Audit.Events'))).toEqual(['audit.events']);
    expect(tables(one('DELETE FROM PUBLIC."public"'))).toEqual(['public']);
  });

  it('handles ONLY and aliases', () => {
    expect(tables(one('UPDATE ONLY api_keys SET a = 1'))).toEqual(['api_keys']);
    expect(tables(one('UPDATE api_keys AS k SET revoked = true WHERE k.id = $1'))).toEqual(['api_keys']);
    expect(tables(one('DELETE FROM ONLY api_keys k WHERE k.id = $1'))).toEqual(['api_keys']);
    expect(tables(one('INSERT INTO api_keys AS k (id) VALUES (1)'))).toEqual(['api_keys']);
  });
});

describe('holes', () => {
  it('gives table null when the target is a hole, with the verb known', () => {
    const s = one(q('DELETE FROM ', H('table'), ' WHERE id = $1'));
    expect(s).toMatchObject({ kind: 'DELETE', complete: false, parser: 'postgres', text: 'DELETE FROM ? WHERE id = $1' });
    expect(s.writes).toEqual([{ verb: 'DELETE', table: null }]);
    expect(tables(one(q('INSERT INTO ', H('schema'), '.api_keys VALUES (1)')))).toEqual([null]);
    expect(tables(one(q('INSERT INTO tenant_', H('suffix'), ' VALUES (1)')))).toEqual([null]);
    expect(tables(one(q('UPDATE "', H('t'), '" SET a = 1')))).toEqual([null]);
  });

  it('keeps the table when the hole is elsewhere', () => {
    const s = one(q('UPDATE api_keys SET revoked = true WHERE id IN (', H('ids'), ") AND note = '", H('n'), "'"));
    expect(s).toMatchObject({ complete: false, parser: 'postgres' });
    expect(tables(s)).toEqual(['api_keys']);
    expect(s.text).toBe("UPDATE api_keys SET revoked = true WHERE id IN (?) AND note = '?'");
    const lim = one(q('SELECT * FROM api_keys LIMIT ', H('n'), ' OFFSET ', H('m')));
    expect(lim).toMatchObject({ parser: 'postgres', complete: false, text: 'SELECT * FROM api_keys LIMIT ? OFFSET ?' });
    expect(reads(lim)).toEqual(['api_keys']);
  });

  it('tries other spellings when a hole is not an identifier (whole clauses)', () => {
    const set = one(q('UPDATE api_keys SET ', H('assignments'), ' WHERE id = $1'));
    expect(set).toMatchObject({ kind: 'UPDATE', parser: 'postgres', complete: false });
    expect(tables(set)).toEqual(['api_keys']);
    const values = one(q('INSERT INTO api_keys (id, org_id) VALUES ', H('rows')));
    expect(values).toMatchObject({ parser: 'postgres', text: 'INSERT INTO api_keys (id, org_id) VALUES ?' });
    expect(tables(values)).toEqual(['api_keys']);
    const trailing = one(q('SELECT * FROM api_keys WHERE a = 1 ', H('order by')));
    expect(trailing).toMatchObject({ parser: 'postgres', text: 'SELECT * FROM api_keys WHERE a = 1 ?', complete: false });
    expect(one(q('SELECT $', H('n'))).parser).toBe('postgres');
  });

  it('falls back to the scanner when no spelling parses', () => {
    const kw = classifySql(q('DEL', H('x'), 'ETE FROM t'));
    expect(kw).toHaveLength(1);
    expect(kw[0].parser).toBe('scanner');
    expect(kw[0].writes).toEqual([]);
    const ins = one(q('INSERT INTO api_keys ', H('rest')));
    expect(ins).toMatchObject({ kind: 'INSERT', parser: 'scanner', complete: false, text: 'INSERT INTO api_keys ?' });
    expect(tables(ins)).toEqual(['api_keys']);
  });

  it('sets complete per statement', () => {
    const ss = classifySql(q('UPDATE t SET a = 1; DELETE FROM ', H('table'), ' WHERE id = $1'));
    expect(ss.map((s) => s.complete)).toEqual([true, false]);
    expect(ss.map(tables)).toEqual([['t'], [null]]);
  });
});

describe('broken SQL and robustness', () => {
  it('uses the scanner for complete texts Postgres rejects, statement by statement', () => {
    const ss = classifySql(q('UPDATE api_keys SET WHERE id = $1; INSERT INTO logs VALUES (1)'));
    expect(ss).toHaveLength(2);
    expect(ss[0]).toMatchObject({ kind: 'UPDATE', parser: 'scanner', complete: true });
    expect(tables(ss[0])).toEqual(['api_keys']);
    expect(ss[1]).toMatchObject({ kind: 'INSERT', parser: 'postgres' });
    expect(tables(ss[1])).toEqual(['logs']);
  });

  it('never throws', () => {
    const weird: unknown[] = [
      q(),
      q(''),
      q('   -- only a comment'),
      q(';;;'),
      q("SELECT 'unterminated"),
      q('SELECT "unterminated'),
      q('/* unterminated'),
      q('$$'),
      q(')))((( UPDATE'),
      q(H(), H(), H()),
      q('SELECT \0 1'),
      { parts: [42, null, 'x'] },
      { parts: 'nope' },
      {},
    ];
    for (const w of weird) expect(() => classifySql(w as SqlText)).not.toThrow();
    expect(classifySql(q())).toEqual([]);
    expect(classifySql(q('  -- nothing'))).toEqual([]);
    expect(classifySql(q(H()))).toEqual([
      { kind: 'OTHER', writes: [], reads: [], functionCalls: [], scopeSettings: [], text: '?', complete: false, parser: 'scanner' },
    ]);
  });

  it('sends huge texts and texts with over 1,000 holes straight to the scanner', () => {
    const parts: SqlPart[] = ['INSERT INTO t (a) VALUES '];
    for (let i = 0; i < 1001; i++) parts.push(i === 0 ? '(' : ', (', H(), ')');
    const many = one(q(...parts));
    expect(many).toMatchObject({ parser: 'scanner', kind: 'INSERT', complete: false });
    expect(tables(many)).toEqual(['t']);
    const big = one(q(`UPDATE big SET a = 1 WHERE b IN (${'1, '.repeat(350_000)}1)`));
    expect(big.parser).toBe('scanner');
    expect(tables(big)).toEqual(['big']);
  });

  it('parses driver placeholders (? and :name) with the Postgres grammar', () => {
    const s = one('UPDATE api_keys SET revoked = ? WHERE id = ? AND org_id = :org');
    expect(s).toMatchObject({ parser: 'postgres', complete: true, text: 'UPDATE api_keys SET revoked = ? WHERE id = ? AND org_id = :org' });
    expect(tables(s)).toEqual(['api_keys']);
  });

  it('maps statement offsets correctly in non-ASCII texts', () => {
    const ss = classifySql(q('/* é 😀 */ SELECT 1; -- ü\n INSERT INTO "ä" VALUES (1); DELETE FROM 😀x WHERE a = \'ß\''));
    expect(ss.map((s) => s.text)).toEqual(['SELECT 1', 'INSERT INTO "ä" VALUES (1)', "DELETE FROM 😀x WHERE a = 'ß'"]);
    expect(ss.map(tables)).toEqual([[], ['ä'], ['😀x']]);
    expect(ss.every((s) => s.parser === 'postgres')).toBe(true);
  });
});

describe('multi-statement texts', () => {
  it('counts every statement, split by the parser', () => {
    const ss = classifySql(q("SET LOCAL app.current_org_id = '1'; INSERT INTO t DEFAULT VALUES;\nDELETE FROM u; SELECT 1;"));
    expect(ss.map((s) => s.kind)).toEqual(['SET', 'INSERT', 'DELETE', 'SELECT']);
    expect(ss.map((s) => s.text)).toEqual([
      "SET LOCAL app.current_org_id = '1'",
      'INSERT INTO t DEFAULT VALUES',
      'DELETE FROM u',
      'SELECT 1',
    ]);
  });

  it('splits in the scanner outside strings, comments and dollar quotes', () => {
    const ss = scanSql(q("SELECT ';'; -- ; not here\nUPDATE t SET a = $x$;$x$; /* ; */ DELETE FROM u"));
    expect(ss.map((s) => s.kind)).toEqual(['SELECT', 'UPDATE', 'DELETE']);
    expect(ss.every((s) => s.parser === 'scanner')).toBe(true);
  });
});

describe('reads', () => {
  it('collects FROM / JOIN tables, including subqueries, USING and UPDATE ... FROM', () => {
    expect(reads(one('SELECT * FROM a JOIN b ON b.id = a.id LEFT JOIN s.c ON true, d'))).toEqual(['a', 'b', 's.c', 'd']);
    expect(reads(one('SELECT * FROM t WHERE EXISTS (SELECT 1 FROM u) AND x IN (SELECT y FROM w)'))).toEqual(['t', 'u', 'w']);
    expect(reads(one('DELETE FROM t USING u WHERE t.id = u.id'))).toEqual(['u']);
    expect(reads(one('UPDATE t SET a = u.a FROM u WHERE t.id = u.id'))).toEqual(['u']);
  });

  it('excludes CTE names, write targets and functions in FROM', () => {
    expect(one('WITH x AS (SELECT 1) SELECT * FROM x').reads).toEqual([]);
    expect(one('UPDATE t SET a = 1 WHERE id = $1').reads).toEqual([]);
    expect(reads(one('SELECT * FROM util.f($1) AS r JOIN t ON true'))).toEqual(['t']);
  });
});

describe('functionCalls', () => {
  it('normalises every called function', () => {
    expect(one('SELECT auth_insert_api_key($1)').functionCalls).toEqual(['auth_insert_api_key']);
    expect(one('SELECT * FROM util.f($1)').functionCalls).toEqual(['util.f']);
    expect(one('SELECT public.g($1), pg_catalog.lower($2), "Mixed"($3), Util.H(1)').functionCalls).toEqual([
      'g',
      'lower',
      'Mixed',
      'util.h',
    ]);
    expect(one('CALL util.do_thing($1)').functionCalls).toEqual(['util.do_thing']);
    expect(one('INSERT INTO t (a) VALUES (now())').functionCalls).toEqual(['now']);
  });

  it('does not mistake syntax for calls', () => {
    expect(one('INSERT INTO t (a) VALUES (1)').functionCalls).toEqual([]);
    expect(one('SELECT coalesce(a, b), cast(a AS int), a::numeric(10,2) FROM t WHERE a IN (1)').functionCalls).toEqual([]);
  });
});

describe('scopeSettings', () => {
  it('reads set_config anywhere, with its local flag', () => {
    expect(one("SELECT set_config('app.current_org_id', $1, true)").scopeSettings).toEqual([
      { name: 'app.current_org_id', local: true, form: 'set_config' },
    ]);
    expect(one("SELECT 1 FROM t WHERE set_config('App.User', $1, 'f') IS NOT NULL").scopeSettings).toEqual([
      { name: 'app.user', local: false, form: 'set_config' },
    ]);
    expect(one("SELECT pg_catalog.set_config('app.x', $1::text, 'on'::boolean)").scopeSettings).toEqual([
      { name: 'app.x', local: true, form: 'set_config' },
    ]);
    expect(one("SELECT set_config('app.x', $1, $2)").scopeSettings).toEqual([{ name: 'app.x', local: null, form: 'set_config' }]);
  });

  it('gives name null when the setting name is a hole', () => {
    expect(one(q("SELECT set_config('", H('name'), "', $1, true)")).scopeSettings).toEqual([
      { name: null, local: true, form: 'set_config' },
    ]);
    expect(one(q('SELECT set_config(', H('name'), ', $1, ', H('local'), ')')).scopeSettings).toEqual([
      { name: null, local: null, form: 'set_config' },
    ]);
    expect(one(q('SET LOCAL ', H('name'), ' = $1')).scopeSettings).toEqual([{ name: null, local: true, form: 'SET' }]);
  });

  it('reads SET [LOCAL | SESSION], but not RESET or SET ... TO DEFAULT', () => {
    expect(one('SET LOCAL app.current_org_id = $1').scopeSettings).toEqual([
      { name: 'app.current_org_id', local: true, form: 'SET' },
    ]);
    expect(one("SET app.current_org_id TO 'x'").scopeSettings).toEqual([{ name: 'app.current_org_id', local: false, form: 'SET' }]);
    expect(one("SET SESSION App.User_Id = '1'").scopeSettings).toEqual([{ name: 'app.user_id', local: false, form: 'SET' }]);
    const reset = one('RESET app.current_org_id');
    expect(reset.kind).toBe('RESET');
    expect(reset.scopeSettings).toEqual([]);
    expect(one('SET app.current_org_id TO DEFAULT').scopeSettings).toEqual([]);
  });
});

describe('kind and text', () => {
  it('uses the first keyword for other statements', () => {
    expect(one('BEGIN').kind).toBe('BEGIN');
    expect(one('create table t (a int)').kind).toBe('CREATE');
    expect(one('VALUES (1)').kind).toBe('SELECT');
    expect(one('(SELECT 1) UNION (SELECT 2)').kind).toBe('SELECT');
    expect(one('SET TIME ZONE UTC').kind).toBe('SET');
  });

  it('strips comments, collapses whitespace, drops the trailing semicolon', () => {
    const s = one('  UPDATE   t\n\tSET a = 1 -- why\n  WHERE /* c */ id = $1 ;  ');
    expect(s.text).toBe('UPDATE t SET a = 1 WHERE id = $1');
  });

  it('renders whole texts with holes as ?', () => {
    expect(renderSqlText(q('SELECT *\n  FROM ', H(), ' -- c\n WHERE id = $1;'))).toBe('SELECT * FROM ? WHERE id = $1;');
    expect(renderSqlText(q("SELECT 'a", H(), "b'"))).toBe("SELECT 'a?b'");
  });
});

describe('scanner', () => {
  it('tokenizes strings, quoted identifiers, dollar quotes and nested comments', () => {
    const toks = tokenize(`SELECT E'a\\'b', 'c''d', "Q""x", $fn$ a ' b $fn$, $1 /* a /* b */ c */ -- x\n1.5e3`);
    expect(toks.map((t) => [t.type, t.value])).toEqual([
      ['ident', 'select'],
      ['string', "a'b"],
      ['op', ','],
      ['string', "c'd"],
      ['op', ','],
      ['qident', 'Q"x'],
      ['op', ','],
      ['string', " a ' b "],
      ['op', ','],
      ['param', '$1'],
      ['number', '1.5e3'],
    ]);
  });

  it('recognises the write shapes on texts Postgres cannot parse', () => {
    const broken = (s: string): SqlStatement[] => scanSql(q(s));
    expect(broken('INSERT INTO Audit.Events ((').flatMap(tables)).toEqual(['audit.events']);
    expect(broken('UPDATE ONLY t SET ,,').flatMap(tables)).toEqual(['t']);
    expect(broken('DELETE FROM ONLY "T" WHERE').flatMap(tables)).toEqual(['T']);
    expect(broken('MERGE INTO m USING').flatMap(tables)).toEqual(['m']);
    expect(broken('COPY c (a, b) FROM STDIN WITH ((').map((s) => s.writes)).toEqual([[{ verb: 'COPY_FROM', table: { name: 'c' } }]]);
    expect(broken('TRUNCATE TABLE ONLY a, b, ').flatMap(tables)).toEqual(['a', 'b']);
    expect(broken('WITH x AS (DELETE FROM d RETURNING *) SELECT FROM FROM').map((s) => s.writes)).toEqual([
      [{ verb: 'DELETE', table: { name: 'd' }, inCte: true }],
    ]);
    expect(broken("SELECT set_config('app.x', $1, true) ,,").flatMap((s) => s.scopeSettings)).toEqual([
      { name: 'app.x', local: true, form: 'set_config' },
    ]);
    expect(broken('INSERT INTO ').flatMap(tables)).toEqual([null]);
    expect(broken("SELECT 'INSERT INTO x' ,,").flatMap(tables)).toEqual([]);
  });

  it('agrees with the Postgres path on complete statements', () => {
    const statements = [
      'INSERT INTO api_keys (id, org_id) VALUES ($1, $2)',
      'insert into public.api_keys(id) values ($1) returning id',
      'INSERT INTO "Api_Keys" AS k (id) VALUES ($1) ON CONFLICT (id) DO UPDATE SET id = excluded.id',
      'INSERT INTO audit.events (id) VALUES ($1) ON CONFLICT DO NOTHING',
      'INSERT INTO t (a) SELECT a FROM u JOIN v ON v.id = u.id WHERE u.x > 1',
      'UPDATE api_keys AS k SET revoked = true WHERE k.id = $1',
      'UPDATE ONLY "Audit"."Events" SET a = 1',
      'UPDATE t SET a = u.a FROM u, v WHERE t.id = u.id AND v.id = u.id',
      'DELETE FROM ONLY public.sessions WHERE expires_at < now()',
      'DELETE FROM t USING u, w WHERE t.id = u.id',
      'MERGE INTO accounts a USING staged s ON s.id = a.id WHEN MATCHED THEN UPDATE SET v = s.v WHEN NOT MATCHED THEN INSERT (id, v) VALUES (s.id, s.v)',
      'COPY api_keys (id, org_id) FROM STDIN',
      'COPY api_keys TO STDOUT',
      'COPY (SELECT * FROM api_keys) TO STDOUT WITH (FORMAT csv)',
      'TRUNCATE TABLE ONLY a, b CASCADE',
      'TRUNCATE audit.events',
      'WITH moved AS (DELETE FROM queue WHERE id = $1 RETURNING *) INSERT INTO done SELECT * FROM moved',
      'WITH RECURSIVE x(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM x WHERE n < 10) SELECT n FROM x',
      'WITH a AS MATERIALIZED (SELECT * FROM t), b AS NOT MATERIALIZED (UPDATE u SET x = 1 RETURNING *) SELECT * FROM a, b',
      'SELECT * FROM api_keys WHERE id = $1',
      'SELECT a.id, count(*) FROM a LEFT JOIN b ON b.a_id = a.id GROUP BY a.id ORDER BY a.id, 2 LIMIT 10',
      'SELECT * FROM (SELECT id FROM inner_t) s JOIN other o USING (id), third',
      'SELECT * FROM t WHERE EXISTS (SELECT 1 FROM u WHERE u.id = t.id) AND t.x IN (SELECT y FROM w)',
      'SELECT * FROM t FOR UPDATE',
      'SELECT set_config($$app.current_org_id$$, $1, true)',
      "SELECT set_config('app.current_org_id', $1, false), set_config('App.User', $2, 't')",
      "SELECT pg_catalog.set_config('app.x', $1::text, 'on'::boolean)",
      'SELECT auth_insert_api_key($1)',
      'SELECT * FROM util.f($1)',
      'SELECT public.g($1), "Mixed"($2), lower(name) FROM t',
      'CALL util.do_thing($1, $2)',
      'SET LOCAL app.current_org_id = $1',
      "SET app.current_org_id TO 'x'",
      "SET SESSION app.user_id = '1'",
      'SET search_path TO app, public',
      'RESET app.current_org_id',
      'SET app.x TO DEFAULT',
      "SET TIME ZONE 'UTC'",
      'BEGIN',
      'EXPLAIN ANALYZE DELETE FROM t',
      'EXPLAIN DELETE FROM t',
      'EXPLAIN (ANALYZE, BUFFERS) UPDATE t SET a = 1',
      'TABLE t',
      'VALUES (1), (2)',
      '(SELECT 1 FROM a) UNION (SELECT 2 FROM b)',
      "SELECT * FROM t WHERE note = 'INSERT INTO x' AND body = $tag$ DELETE FROM y $tag$",
      '-- leading\n/* and /* nested */ block */ INSERT INTO t VALUES (1)',
      "SELECT E'it\\'s', x IS DISTINCT FROM y FROM t",
      'SELECT * FROM t AS x(a, b), LATERAL jsonb_each(x.a) AS e(k, v)',
      'INSERT INTO t DEFAULT VALUES; DELETE FROM u; SELECT 1',
      'PREPARE ins (int) AS INSERT INTO t VALUES ($1)',
      'SELECT coalesce(a, b), nullif(a, 1), greatest(a, b), cast(a AS int), a::numeric(10,2) FROM t',
      'SELECT count(*) FILTER (WHERE a > 1) OVER (PARTITION BY b) FROM t',
      'COPY (DELETE FROM t RETURNING *) TO STDOUT',
      'SELECT extract(epoch FROM created_at), substring(s FROM 2) FROM t',
    ];
    const facts = (ss: SqlStatement[]) =>
      ss.map((s) => ({
        kind: s.kind,
        writes: s.writes,
        reads: s.reads,
        functionCalls: s.functionCalls,
        scopeSettings: s.scopeSettings,
        text: s.text,
        complete: s.complete,
      }));
    expect(statements.length).toBeGreaterThanOrEqual(40);
    for (const sql of statements) {
      const pg = classifySql(q(sql));
      expect(pg.every((s) => s.parser === 'postgres'), sql).toBe(true);
      const sc = scanSql(q(sql));
      expect(sc.every((s) => s.parser === 'scanner'), sql).toBe(true);
      expect(facts(sc), sql).toEqual(facts(pg));
    }
  });
});

describe('names', () => {
  it('normalizeIdent folds unquoted and keeps quoted identifiers', () => {
    expect(normalizeIdent('Foo')).toBe('foo');
    expect(normalizeIdent('"Foo"')).toBe('Foo');
    expect(normalizeIdent('"a""b"')).toBe('a"b');
    expect(normalizeIdent('x'.repeat(70))).toBe('x'.repeat(63));
  });

  it('normalizeTableName drops public and keeps other schemas', () => {
    expect(normalizeTableName(null, 'public.api_keys')).toBe('api_keys');
    expect(normalizeTableName('public', 'API_KEYS')).toBe('api_keys');
    expect(normalizeTableName(undefined, '"Audit"."Events"')).toBe('Audit.Events');
    expect(normalizeTableName('"Audit"', '"Events"')).toBe('Audit.Events');
    expect(normalizeTableName(null, 'audit.events')).toBe('audit.events');
    expect(normalizeTableName(null, 'db.audit.events')).toBe('audit.events');
    expect(normalizeTableName(null, '"a.b"')).toBe('a.b');
    // folded = true: names from a parse tree, used verbatim
    expect(normalizeTableName('Audit', 'Events', true)).toBe('Audit.Events');
    expect(normalizeTableName('public', 'Api', true)).toBe('Api');
    expect(normalizeFunctionName(['pg_catalog', 'set_config'], true)).toBe('set_config');
    expect(normalizeFunctionName(['Util', '"F"'])).toBe('util.F');
  });
});

describe('cache', () => {
  it('returns fresh, equal results for the same text', () => {
    const t = q('UPDATE api_keys SET a = 1 WHERE id = ', H());
    const a = classifySql(t);
    a[0].writes.push({ verb: 'DELETE', table: null });
    a[0].writes[0].table = { name: 'mutated' };
    const b = classifySql(t);
    expect(b[0].writes).toEqual([{ verb: 'UPDATE', table: { name: 'api_keys' } }]);
    expect(b).not.toBe(a);
  });

  it('classifies thousands of distinct texts, each correctly (speed is the benchmark\'s job)', () => {
    for (let i = 0; i < 3000; i++) {
      const r = classifySql(q(`UPDATE api_keys_${i} AS k SET revoked = true WHERE k.id = $1 AND k.org_id = `, H()));
      expect(r[0]!.writes).toEqual([{ verb: 'UPDATE', table: { name: `api_keys_${i}` } }]);
    }
  });
});
