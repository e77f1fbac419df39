// Schema rules RLS101-RLS104 on their fixtures (fixtures/rules/RLS1xx/<case>/). Their findings are on migration
// files, which the Go want harness (test/fixtures.test.ts) does not read: here, expected findings are written in the
// SQL itself, on the line the finding is reported at, as `-- want "RLS102 .*webhooks"` (a regexp matched against
// "<rule> <message>"; one want per finding). Every case runs with the static catalog and with the exact one
// (migrations executed in embedded Postgres), which must report the same findings at the same lines.
import { cpSync, existsSync, mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allRules, ruleById } from '../rules/index.js';
import { databasePath, judged, objectSpan } from '../rules/schema-support.js';
import { analyze } from '../src/engine/analyze.js';
import type { Finding, RunResult } from '../src/model.js';
import { formatReport } from '../src/report/index.js';
import { validateSarif } from './helpers/sarif-validate.js';

const repo = resolve(__dirname, '..');
const SCHEMA_RULES = ['RLS101', 'RLS102', 'RLS103', 'RLS104'];

interface SqlWant {
  file: string;
  line: number;
  pattern: RegExp;
}

/** `-- want "re"` comments of every .sql file under dir/migrations (paths relative to dir). */
function sqlWants(dir: string): SqlWant[] {
  const out: SqlWant[] = [];
  const mig = join(dir, 'migrations');
  for (const name of readdirSync(mig).filter((n) => n.endsWith('.sql')).sort()) {
    readFileSync(join(mig, name), 'utf8')
      .split('\n')
      .forEach((text, i) => {
        for (const m of text.matchAll(/--\s*want\s+("(?:[^"\\]|\\.)*")/g)) out.push({ file: `migrations/${name}`, line: i + 1, pattern: new RegExp(JSON.parse(m[1]!) as string) });
      });
  }
  return out;
}

/** One line per problem: missing wants and unexpected schema findings. */
function compare(wants: SqlWant[], findings: Finding[]): string[] {
  const left = [...findings];
  const problems: string[] = [];
  for (const w of wants) {
    const i = left.findIndex((f) => f.span.file === w.file && f.span.start.line === w.line && w.pattern.test(`${f.ruleId} ${f.message}`));
    if (i < 0) problems.push(`- missing ${w.file}:${w.line}: want ${w.pattern.source}`);
    else left.splice(i, 1);
  }
  for (const f of left) problems.push(`+ extra ${f.span.file}:${f.span.start.line}: ${f.ruleId} ${f.message}`);
  return problems;
}

const cases: Array<{ label: string; dir: string }> = [];
for (const rule of SCHEMA_RULES) {
  const base = join(repo, 'fixtures/rules', rule);
  for (const name of existsSync(base) ? readdirSync(base).sort() : []) {
    if (statSync(join(base, name)).isDirectory()) cases.push({ label: `${rule}/${name}`, dir: join(base, name) });
  }
}

const schemaFindings = (r: RunResult): Finding[] => r.findings.filter((f) => SCHEMA_RULES.includes(f.ruleId));

let cacheDir: string;
beforeAll(() => {
  cacheDir = mkdtempSync(join(tmpdir(), 'rlscov-schema-rules-'));
});
afterAll(() => {
  rmSync(cacheDir, { recursive: true, force: true });
});

describe('schema rule fixtures', () => {
  it('every schema rule has a flagged case and a clean case', () => {
    for (const rule of SCHEMA_RULES) {
      const mine = cases.filter((c) => c.label.startsWith(`${rule}/`));
      const flagged = mine.filter((c) => sqlWants(c.dir).some((w) => w.pattern.source.startsWith(rule)));
      expect(flagged.length, `${rule} has no flagged case`).toBeGreaterThan(0);
      expect(mine.length - flagged.length, `${rule} has no clean case`).toBeGreaterThan(0);
    }
  });

  describe.each(cases)('$label', ({ label, dir }) => {
    it('static catalog: reports exactly the findings its -- want comments expect, and none in Go code', async () => {
      const r = await analyze({ paths: [dir], cwd: dir });
      expect(compare(sqlWants(dir), schemaFindings(r)), label).toEqual([]);
      expect(r.findings.filter((f) => f.span.file.endsWith('.go')).map((f) => `${f.span.file}:${f.span.start.line} ${f.ruleId}`)).toEqual([]);
    });

    it('exact catalog: the same findings at the same lines', async () => {
      const r = await analyze({ paths: [dir], cwd: dir, catalogMode: 'exact', cache: true, cacheDir });
      expect(r.catalog.build?.failedMigrations, 'every fixture migration executes').toEqual([]);
      expect(compare(sqlWants(dir), schemaFindings(r)), label).toEqual([]);
    });
  });
});

describe('schema rules: details', () => {
  it('are registered with SQL examples and the documented default levels', () => {
    const levels = Object.fromEntries(SCHEMA_RULES.map((id) => [id, ruleById(id)?.meta.defaultLevel]));
    expect(levels).toEqual({ RLS101: 'warning', RLS102: 'warning', RLS103: 'warning', RLS104: 'note' });
    expect(allRules.map((r) => r.meta.name)).toEqual(expect.arrayContaining(['security-definer-search-path', 'rls-without-policy', 'policy-unknown-setting', 'enabled-not-forced']));
    for (const id of SCHEMA_RULES) expect(ruleById(id)!.meta.docs.language).toBe('sql');
  });

  it('name the object in the finding (allow entries can target `migrations/x.sql::table`) and keep a stable key', async () => {
    const dir = join(repo, 'fixtures/rules/RLS102/enabled-without-policy');
    const r = await analyze({ paths: [dir], cwd: dir });
    expect(schemaFindings(r).map((f) => [f.function, f.key])).toEqual([
      ['webhooks', 'RLS102|table|webhooks'],
      ['invoices', 'RLS102|table|invoices'],
    ]);
  });

  it('can be accepted per object with an allow entry on the migration file', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'rlscov-schema-allow-'));
    try {
      cpSync(join(repo, 'fixtures/rules/RLS102/enabled-without-policy'), tmp, { recursive: true });
      writeFileSync(join(tmp, '.rlscov.yml'), 'allow:\n  - site: migrations/001_init.sql::webhooks\n    reason: only the admin role writes webhooks\n');
      const r = await analyze({ paths: ['.'], cwd: tmp });
      expect(schemaFindings(r).map((f) => [f.function, f.suppressed?.justification ?? null])).toEqual([
        ['webhooks', 'only the admin role writes webhooks'],
        ['invoices', null],
      ]);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('do not judge built-in or config-added tables (their policies are not known)', () => {
    expect(judged({ kind: 'builtin' })).toBe(false);
    expect(judged({ kind: 'config', file: '.rlscov.yml' })).toBe(false);
    expect(judged({ kind: 'migration', file: 'm.sql', line: 3 })).toBe(true);
    expect(judged({ kind: 'database', detail: 'table x in postgres://***@h/db' })).toBe(true);
  });

  it('report live-database objects on a stable pseudo-path, migration objects on their line', () => {
    expect(objectSpan({ kind: 'database', detail: 'x' }, 'table', 'audit.events')).toEqual({ file: '@database/table/audit.events', start: { line: 1, column: 1 }, end: { line: 1, column: 1 } });
    expect(databasePath('function', 'auth_lookup')).toBe('@database/function/auth_lookup');
    expect(objectSpan({ kind: 'migration', file: 'migrations/1.sql', line: 7 }, 'policy', 't/p').file).toBe('migrations/1.sql');
    expect(objectSpan({ kind: 'migration', file: 'migrations/1.sql', line: 7 }, 'policy', 't/p').start.line).toBe(7);
  });

  it('RLS103 turns off with the config like any rule', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'rlscov-rls103-'));
    try {
      cpSync(join(repo, 'fixtures/rules/RLS103/unknown-setting'), tmp, { recursive: true });
      const before = await analyze({ paths: ['.'], cwd: tmp });
      expect(before.findings.filter((f) => f.ruleId === 'RLS103')).toHaveLength(2);
      writeFileSync(join(tmp, '.rlscov.yml'), 'rules:\n  RLS103: off\n');
      const after = await analyze({ paths: ['.'], cwd: tmp });
      expect(after.catalog.tables['invoices']).toBeDefined();
      expect(after.findings.filter((f) => f.ruleId === 'RLS103')).toEqual([]);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  describe('the documentation examples behave', () => {
    const PREAMBLE = [
      'CREATE TABLE api_keys (id uuid PRIMARY KEY, org_id uuid NOT NULL, key_hash text);',
      'CREATE TABLE invoices (id uuid PRIMARY KEY, org_id uuid NOT NULL);',
      'ALTER TABLE invoices ENABLE ROW LEVEL SECURITY;',
      'ALTER TABLE invoices FORCE ROW LEVEL SECURITY;',
    ].join('\n');
    const run = async (sql: string): Promise<string[]> => {
      const dir = mkdtempSync(join(tmpdir(), 'rlscov-schema-doc-'));
      try {
        mkdirSync(join(dir, 'migrations'));
        writeFileSync(join(dir, 'migrations', '001.sql'), `${PREAMBLE}\n${sql}\n`);
        writeFileSync(join(dir, 'go.mod'), 'module example.com/doc\n\ngo 1.22\n');
        writeFileSync(join(dir, 'doc.go'), 'package doc\n');
        const r = await analyze({ paths: ['.'], cwd: dir });
        return r.findings.filter((f) => f.span.file === 'migrations/001.sql' && f.span.start.line > 4).map((f) => f.ruleId);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    };
    for (const id of SCHEMA_RULES) {
      it(`${id}: the example triggers it and the fix does not`, async () => {
        const docs = ruleById(id)!.meta.docs;
        expect(await run(docs.example)).toContain(id);
        expect(await run(docs.useInstead)).not.toContain(id);
      });
    }
  });

  describe('in every output format', () => {
    let result: RunResult;
    beforeAll(async () => {
      const dir = join(repo, 'fixtures/rules/RLS102/enabled-without-policy');
      result = await analyze({ paths: [dir], cwd: dir });
    });
    const metas = allRules.map((r) => r.meta);

    it('text: path:line:col: level RLS102 message', () => {
      const text = formatReport('text', result, metas, { color: false, verbose: false });
      expect(text).toMatch(/^migrations\/001_init\.sql:19:1: warning RLS102 table webhooks has row-level security enabled but no policy/m);
    });

    it('json', () => {
      const json = JSON.parse(formatReport('json', result, metas, { color: false, verbose: false })) as { findings: Array<{ ruleId: string; location?: { file: string; startLine?: number }; file?: string }> };
      const text = JSON.stringify(json.findings.filter((f) => f.ruleId === 'RLS102'));
      expect(text).toContain('migrations/001_init.sql');
    });

    it('github annotations', () => {
      const gh = formatReport('github', result, metas, { color: false, verbose: false });
      expect(gh).toMatch(/^::warning file=migrations\/001_init\.sql,line=19.*RLS102/m);
    });

    it('SARIF that the validator accepts, with the migration as the location', () => {
      const sarif = formatReport('sarif', result, metas, { color: false, verbose: false, sources: new Map() });
      const log = JSON.parse(sarif) as { runs: Array<{ results: Array<{ ruleId: string; locations: Array<{ physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number } } }> }> }> };
      const r = log.runs[0]!.results.filter((x) => x.ruleId === 'RLS102');
      expect(r.map((x) => `${x.locations[0]!.physicalLocation.artifactLocation.uri}:${x.locations[0]!.physicalLocation.region.startLine}`)).toEqual(['migrations/001_init.sql:19', 'migrations/001_init.sql:27']);
      const file = join(cacheDir, 'schema.sarif');
      writeFileSync(file, sarif);
      const v = validateSarif(file);
      expect(v.errors, v.output).toBe(0);
    });
  });
});
