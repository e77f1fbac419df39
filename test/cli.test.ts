// The command line, in process: `main(argv, io)` with captured streams, on the fixture trees (read-only) and on
// temporary copies for config variants. Exit codes (0 clean, 1 findings at or above --fail-on, 2 usage errors with
// one line on stderr), the sub-commands (scan, audit, catalog, rules, explain), formats and --output, config
// discovery. One smoke test spawns the built CLI the way a user runs it.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type * as Sarif from 'sarif';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main, type Io } from '../src/cli/main.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const FIXTURES = path.join(REPO, 'fixtures');
const SAMPLE_FORK = 'fixtures/sample-fork';
/** A case with only RLS001 findings (errors by default). */
const WITH_FINDINGS = path.join(FIXTURES, 'rules/RLS001/handles-and-pools');
/** A case with no finding at all. */
const CLEAN = 'fixtures/rules/RLS002/helpers-called-safely';
const SUPPRESSIONS = 'fixtures/rules/RLS001/suppressions';

interface Run {
  code: number;
  out: string;
  err: string;
}

/** Runs the CLI in process. Analysis commands get --no-cache so tests never read or write ~/.cache. */
async function run(args: string[], cwd = REPO): Promise<Run> {
  let out = '';
  let err = '';
  const io: Io = { stdout: (s) => (out += s), stderr: (s) => (err += s), cwd, isTTY: false, env: {} };
  const analysing = !['rules', 'explain', 'config'].includes(args[0] ?? '');
  const code = await main(analysing ? [...args, '--no-cache'] : args, io);
  return { code, out, err };
}

/** A usage error: exit 2, exactly one line on stderr, no stack trace, nothing on stdout. */
function expectUsageError(r: Run, message: RegExp): void {
  expect(r.code, `exit code; stderr: ${r.err}`).toBe(2);
  const lines = r.err.replace(/\n$/, '').split('\n');
  expect(lines, `stderr must be exactly one line:\n${r.err}`).toHaveLength(1);
  expect(lines[0]).toMatch(/^rlscov: /);
  expect(lines[0]).toMatch(message);
  expect(r.err).not.toMatch(/^\s+at .+[:(]\d+/m);
  expect(r.err).not.toMatch(/\b(TypeError|ReferenceError|RangeError)\b/);
}

const temps: string[] = [];
/**
 * A temporary "repository" (with a .git directory, where config discovery stops) holding a copy of a fixture case
 * at `sub`, plus the given extra files (path relative to the repository root -> content).
 */
function tempRepo(fixture: string, sub: string, files: Record<string, string> = {}): string {
  const root = mkdtempSync(path.join(tmpdir(), 'rlscov-cli-'));
  temps.push(root);
  mkdirSync(path.join(root, '.git'));
  cpSync(fixture, path.join(root, sub), { recursive: true });
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    writeFileSync(path.join(root, rel), text);
  }
  return root;
}

afterAll(() => {
  for (const t of temps) rmSync(t, { recursive: true, force: true });
});

interface JsonFinding {
  ruleId: string;
  severity: string;
  message: string;
  location: { file: string; line: number; column: number };
  suppressed: unknown;
}
interface JsonReport {
  configFile: string | null;
  findings: JsonFinding[];
  sites: Array<{ location: { file: string; line: number }; verdict: string }>;
  summary: { filesScanned: number; findings: Record<string, number> };
}

// ---------------------------------------------------------------------------------------------------------------

describe('exit codes', () => {
  it('exits 0 on a tree with no finding, and says so in the summary', async () => {
    const r = await run(['scan', CLEAN]);
    expect(r.code, r.out + r.err).toBe(0);
    expect(r.err).toBe('');
    expect(r.out).toMatch(/^no findings$/m);
  });

  it('exits 1 with error-level findings, listing them as path:line:col: level RLS00X', async () => {
    const r = await run(['scan', SAMPLE_FORK]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^fixtures\/sample-fork\/platform\/billing\/invoices\.go:\d+:\d+: error RLS001 /m);
    expect(r.err).toBe('');
  });

  it('writes stage times to stderr with RLSCOV_TIMING=1, leaving the report alone', async () => {
    let out = '';
    let err = '';
    const io: Io = { stdout: (s) => (out += s), stderr: (s) => (err += s), cwd: REPO, isTTY: false, env: { RLSCOV_TIMING: '1' } };
    const code = await main(['scan', SAMPLE_FORK, '--no-cache'], io);
    expect(code).toBe(1);
    expect(out).toMatch(/error RLS001 /);
    expect(err).toMatch(/^rlscov timing \(process up [\d.]+ s\):\n/);
    for (const stage of ['discover', 'read', 'catalog', 'parse', 'interpret', 'solve', 'rules']) expect(err).toMatch(new RegExp(`^  ${stage} +\\d+ ms +\\d+ MB heap$`, 'm'));
    expect((await run(['scan', SAMPLE_FORK])).err).toBe('');
  });

  it('means scan when no sub-command is given', async () => {
    const r = await run([SAMPLE_FORK]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/: error RLS001 /);
  });

  describe('--fail-on', () => {
    // The same findings at three levels, set by the case's config.
    const at = (level: string) => tempRepo(WITH_FINDINGS, 'svc', { '.rlscov.yml': `rules:\n  RLS001: ${level}\n` });
    const levels = { error: at('error'), warning: at('warning'), note: at('note') };
    const table: Array<[keyof typeof levels, string | null, number]> = [
      ['error', null, 1],
      ['error', 'error', 1],
      ['error', 'warning', 1],
      ['error', 'note', 1],
      ['error', 'none', 0],
      ['warning', null, 0],
      ['warning', 'error', 0],
      ['warning', 'warning', 1],
      ['warning', 'note', 1],
      ['warning', 'none', 0],
      ['note', null, 0],
      ['note', 'warning', 0],
      ['note', 'note', 1],
      ['note', 'none', 0],
    ];
    it.each(table)('findings at %s level, --fail-on %s: exit %i', async (level, failOn, exit) => {
      const r = await run(['scan', 'svc', ...(failOn ? ['--fail-on', failOn] : [])], levels[level]);
      expect(r.code, r.out + r.err).toBe(exit);
      expect(r.out).toMatch(new RegExp(`^svc/billing/\\S+\\.go:\\d+:\\d+: ${level} RLS001 `, 'm'));
    });
  });

  it('does not fail on suppressed findings alone; --no-suppressions makes them count', async () => {
    const root = tempRepo(WITH_FINDINGS, 'svc', {
      '.rlscov.yml': [
        'allow:',
        '  - site: "svc/billing/handler.go::*"',
        '    reason: "fixture: handler writes reviewed in SEC-101"',
        '  - site: "svc/billing/pools.go::*"',
        '    reason: "fixture: pool writes reviewed in SEC-101"',
        '',
      ].join('\n'),
    });
    const r = await run(['scan', 'svc', '-f', 'json'], root);
    const report = JSON.parse(r.out) as JsonReport;
    expect(report.findings.length).toBeGreaterThan(0);
    expect(report.findings.every((f) => f.suppressed)).toBe(true);
    expect(r.code).toBe(0);
    expect((await run(['scan', 'svc', '--fail-on', 'note'], root)).code).toBe(0);
    expect((await run(['scan', 'svc', '--no-suppressions'], root)).code).toBe(1);
  });
});

describe('usage errors: exit 2, one line on stderr, no stack trace', () => {
  it('unknown flag', async () => {
    expectUsageError(await run(['scan', CLEAN, '--bogus-flag']), /bogus-flag/);
  });

  it('missing path, named in the message', async () => {
    expectUsageError(await run(['scan', 'fixtures/no/such/dir']), /path not found: fixtures\/no\/such\/dir/);
  });

  it('unknown config key, naming the key and the file', async () => {
    const root = tempRepo(WITH_FINDINGS, 'svc', { '.rlscov.yml': 'colour: true\n' });
    expectUsageError(await run(['scan', 'svc'], root), /\.rlscov\.yml.*"colour"|"colour".*\.rlscov\.yml/);
  });

  it('config value of the wrong type, naming the key and the file', async () => {
    const root = tempRepo(WITH_FINDINGS, 'svc', { '.rlscov.yml': 'rules:\n  RLS001: loud\n' });
    expectUsageError(await run(['scan', 'svc'], root), /\.rlscov\.yml.*RLS001/);
  });

  it('--config to a missing file', async () => {
    expectUsageError(await run(['scan', CLEAN, '--config', 'no-such-config.yml']), /no-such-config\.yml/);
  });

  it('explain of an unknown rule', async () => {
    expectUsageError(await run(['explain', 'RLS999']), /unknown rule.*RLS999/);
  });

  it('bad --format', async () => {
    expectUsageError(await run(['scan', CLEAN, '--format', 'xml']), /format.*xml|xml.*format/);
  });

  it('bad --format on audit', async () => {
    expectUsageError(await run(['audit', CLEAN, '-f', 'sarif']), /sarif/);
  });

  it('bad --fail-on', async () => {
    expectUsageError(await run(['scan', CLEAN, '--fail-on', 'critical']), /critical/);
  });
});

describe('rules and explain', () => {
  it('rules lists RLS001 to RLS008 with names and levels', async () => {
    const r = await run(['rules']);
    expect(r.code).toBe(0);
    const ids = [...r.out.matchAll(/^(RLS\d{3})\s+([a-z-]+)\s+(error|warning|note|off)\s+\S/gm)].map((m) => m[1]);
    for (let i = 1; i <= 8; i++) expect(ids).toContain(`RLS00${i}`);
    expect(r.out).toMatch(/^RLS001\s+unscoped-write\s+error\b/m);
    expect(r.out).toMatch(/^RLS007\s+unscoped-read\s+off\b/m);
  });

  it('explain RLS001 prints the full documentation', async () => {
    const r = await run(['explain', 'RLS001']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^RLS001 unscoped-write: /);
    for (const heading of ['What it does', 'Why is this bad?', 'Example', 'Use instead']) expect(r.out).toContain(heading);
    expect(r.out).toContain('42501');
    expect(r.out).toContain('WithOrgScope(ctx, h.db, orgID');
  });

  it('explain takes a rule name too', async () => {
    const byName = await run(['explain', 'unscoped-tx-helper-call']);
    const byId = await run(['explain', 'RLS002']);
    expect(byName.code).toBe(0);
    expect(byName.out).toBe(byId.out);
  });
});

describe('formats and --output', () => {
  it('--format json parses and carries the findings of the text report', async () => {
    const text = await run(['scan', SAMPLE_FORK]);
    const r = await run(['scan', SAMPLE_FORK, '--format', 'json']);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.out) as JsonReport;
    const textLines = text.out.split('\n').filter((l) => /^\S+\.go:\d+:\d+: (error|warning|note) RLS\d{3} /.test(l));
    const live = report.findings.filter((f) => !f.suppressed);
    expect(live.length).toBe(textLines.length);
    for (const f of live) expect(text.out).toContain(`${f.location.file}:${f.location.line}:${f.location.column}: ${f.severity} ${f.ruleId} `);
    expect(report.configFile).toMatch(/sample-fork\/\.rlscov\.yml$/);
  });

  it('-f sarif writes SARIF 2.1.0 with runs[0].results', async () => {
    const r = await run(['scan', SAMPLE_FORK, '-f', 'sarif']);
    expect(r.code).toBe(1);
    const log = JSON.parse(r.out) as Sarif.Log;
    expect(log.version).toBe('2.1.0');
    const results = log.runs[0]!.results!;
    expect(results.length).toBeGreaterThan(0);
    const json = JSON.parse((await run(['scan', SAMPLE_FORK, '-f', 'json'])).out) as JsonReport;
    expect(results.length).toBe(json.findings.length);
    expect(results.filter((x) => x.suppressions?.length).length).toBe(json.findings.filter((f) => f.suppressed).length);
    expect(results.map((x) => x.ruleId)).toContain('RLS002');
  });

  it('--output FILE writes the report there instead of stdout, with the same exit code', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'rlscov-cli-out-'));
    temps.push(dir);
    const file = path.join(dir, 'reports', 'rlscov.json');
    const r = await run(['scan', SAMPLE_FORK, '-f', 'json', '--output', file]);
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    const written = readFileSync(file, 'utf8');
    expect(written).toBe((await run(['scan', SAMPLE_FORK, '-f', 'json'])).out);
    expect((JSON.parse(written) as JsonReport).findings.length).toBeGreaterThan(0);
  });

  it('-o writes the text report too, relative to the current directory', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'rlscov-cli-out-'));
    temps.push(dir);
    const r = await run(['scan', path.join(REPO, SAMPLE_FORK), '-o', 'report.txt', '--root', REPO], dir);
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    const text = readFileSync(path.join(dir, 'report.txt'), 'utf8');
    expect(text).toMatch(/^fixtures\/sample-fork\/\S+\.go:\d+:\d+: error RLS001 /m);
    expect(text).not.toContain('\u001b[');
  });
});

describe('audit', () => {
  it('--format markdown: the coverage line, the site table and per-package totals', async () => {
    const r = await run(['audit', SAMPLE_FORK, '--format', 'markdown']);
    expect(r.code).toBe(0);
    const m = /\*\*(\d+) write sites? into RLS tables, (\d+) safe[^*]*, (\d+) findings?[^*]*\(coverage (\d+\.\d)%\)\*\*/.exec(r.out);
    expect(m, r.out).not.toBeNull();
    const [total, safe, findings, coverage] = [Number(m![1]), Number(m![2]), Number(m![3]), Number(m![4])];
    expect(safe + findings).toBe(total);
    expect(coverage).toBeCloseTo((safe / total) * 100, 1);
    expect(r.out).toContain('| Location | Function | Verb | Tables | Verdict | Evidence |');
    const siteRows = r.out.split('\n').filter((l) => /^\| `fixtures\/sample-fork\/\S+\.go:\d+` \|/.test(l));
    expect(siteRows).toHaveLength(total);
    expect(siteRows.filter((l) => l.includes('**FINDING**'))).toHaveLength(findings);
    // Per package: the totals add up to the headline.
    const pkgRows = [...r.out.matchAll(/^\| `(fixtures\/sample-fork\/[^`]+)` \| (\d+) \| (\d+) \|$/gm)];
    expect(pkgRows.map((p) => p[1])).toEqual(expect.arrayContaining(['fixtures/sample-fork/platform/billing', 'fixtures/sample-fork/ee/portal']));
    expect(pkgRows.reduce((s, p) => s + Number(p[2]), 0)).toBe(total);
    expect(pkgRows.reduce((s, p) => s + Number(p[3]), 0)).toBe(findings);
  });

  it('--format json: summary, per-package totals and sites agree with each other', async () => {
    const r = await run(['audit', SAMPLE_FORK, '--format', 'json']);
    expect(r.code).toBe(0);
    const a = JSON.parse(r.out) as {
      summary: { total: number; safe: number; findings: number };
      packages: Record<string, { total: number; findings: number }>;
      sites: Array<{ location: string; verdict: string; tables: string; verb: string; evidence: string }>;
    };
    expect(a.summary.total).toBe(a.sites.length);
    expect(a.summary.safe + a.summary.findings).toBe(a.summary.total);
    expect(a.sites.filter((s) => s.verdict === 'FINDING')).toHaveLength(a.summary.findings);
    const pk = Object.values(a.packages);
    expect(pk.reduce((s, p) => s + p.total, 0)).toBe(a.summary.total);
    expect(pk.reduce((s, p) => s + p.findings, 0)).toBe(a.summary.findings);
    // Every verdict comes with evidence, and the markdown headline says the same numbers.
    for (const s of a.sites) expect(s.evidence, s.location).not.toBe('');
    expect(a.sites.map((s) => s.verdict)).toEqual(expect.arrayContaining(['scoped', 'admin pool', 'SECURITY DEFINER', 'allowed', 'FINDING']));
    const md = (await run(['audit', SAMPLE_FORK, '-f', 'markdown'])).out;
    expect(md).toContain(`**${a.summary.total} write sites into RLS tables, ${a.summary.safe} safe`);
  });

  it('text: one line per site, per-package lines and the coverage figure', async () => {
    const r = await run(['audit', SAMPLE_FORK]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^per package:$/m);
    expect(r.out).toMatch(/^ {2}fixtures\/sample-fork\/platform\/billing: \d+ write sites, \d+ findings$/m);
    expect(r.out).toMatch(/^\d+ write sites into RLS tables, \d+ safe .*\(coverage \d+\.\d%\)$/m);
  });

  it('marks as FINDING every site the scan reports a write finding at (RLS001, RLS004, RLS005, RLS006)', async () => {
    // A site is not "scoped" in the audit when the scan reports it: TRUNCATE inside a scope (RLS005) and COPY FROM
    // inside a scope (RLS006) are findings whatever the handle.
    const scan = JSON.parse((await run(['scan', SAMPLE_FORK, '-f', 'json'])).out) as JsonReport;
    const audit = JSON.parse((await run(['audit', SAMPLE_FORK, '-f', 'json'])).out) as { sites: Array<{ location: string; verdict: string }> };
    const verdictAt = new Map(audit.sites.map((s) => [s.location, s.verdict]));
    const wrong: string[] = [];
    for (const f of scan.findings) {
      if (f.suppressed || !['RLS001', 'RLS004', 'RLS005', 'RLS006'].includes(f.ruleId)) continue;
      const at = `${f.location.file}:${f.location.line}`;
      if (verdictAt.get(at) !== 'FINDING') wrong.push(`${at} ${f.ruleId}: audit says ${verdictAt.get(at) ?? 'nothing'}`);
    }
    expect(wrong).toEqual([]);
  });
});

describe('catalog', () => {
  it('lists the RLS tables and SQL functions with the file:line they come from', async () => {
    const r = await run(['catalog', SAMPLE_FORK]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^catalog origin: migrations \(\d+ migrations\)/m);
    const tables = [...r.out.matchAll(/^ {2}([a-z_]+) {2}(ENABLE\+FORCE|ENABLE) {2}(\S+\.sql):(\d+)/gm)];
    expect(tables.map((t) => t[1])).toEqual(expect.arrayContaining(['api_keys', 'audit_logs', 'invoices', 'payments', 'usage_events']));
    for (const [, name, , file, line] of tables) {
      // The provenance points at the statement that gated the table (a DO block's EXECUTE for a looped batch).
      const text = readFileSync(path.join(REPO, file!), 'utf8').split('\n')[Number(line) - 1] ?? '';
      expect(text, `${name} -> ${file}:${line}`).toMatch(/ROW LEVEL SECURITY/i);
    }
    const fns = [...r.out.matchAll(/^ {2}([a-z_]+)\(\) {2}(SECURITY DEFINER|SECURITY INVOKER) {2}(\S+\.sql):(\d+)/gm)];
    expect(fns.map((f) => f[1])).toContain('auth_issue_api_key');
    for (const [, name, , file, line] of fns) {
      const text = readFileSync(path.join(REPO, file!), 'utf8').split('\n')[Number(line) - 1] ?? '';
      expect(text, `${name}() -> ${file}:${line}`).toMatch(new RegExp(`FUNCTION\\s+(public\\.)?${name}\\b`, 'i'));
    }
    expect(r.out).toMatch(/^scope settings: app\.current_org_id/m);
  });

  it('shows SECURITY INVOKER functions with the tables they write', async () => {
    const r = await run(['catalog', 'fixtures/rules/RLS001/sql-function-invoker']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^ {2}record_usage\(\) {2}SECURITY INVOKER {2}\S+002_usage\.sql:\d+ {2}writes: INSERT usage_events/m);
    expect(r.out).toMatch(/^ {2}record_usage_as_owner\(\) {2}SECURITY DEFINER\b/m);
  });

  it('also lists the wrappers discovered and the admin openers, with where each came from', async () => {
    // Issue 3: "the resolved catalog (gated tables, SECURITY DEFINER and INVOKER functions with the tables they
    // write, scope settings, wrappers discovered, admin openers, pool fields) with where each came from".
    const r = await run(['catalog', SAMPLE_FORK]);
    expect(r.out).toMatch(/WithOrgScope\b.*fixtures\/sample-fork\/platform\/tenancy\/scope\.go:\d+/);
    expect(r.out).toMatch(/withRequestOrgScope\b.*fixtures\/sample-fork\/ee\/portal\/handler\.go:\d+/);
    expect(r.out).toMatch(/OpenPlatformAdminConnection\b/);
  });

  it('--format json parses', async () => {
    const r = await run(['catalog', SAMPLE_FORK, '--format', 'json']);
    const c = JSON.parse(r.out) as { tables: Record<string, { source: { file?: string; line?: number } }> };
    expect(c.tables['invoices']?.source.file).toMatch(/migrations\/001_init\.sql$/);
    expect(c.tables['invoices']?.source.line).toBeGreaterThan(0);
  });
});

describe('text report details', () => {
  it('shows an SQL function write with the function migration line as a related location', async () => {
    const r = await run(['scan', 'fixtures/rules/RLS001/sql-function-invoker']);
    expect(r.code).toBe(1);
    const block = r.out.split(/\n(?=\S)/).find((b) => b.includes('RLS001 INSERT into usage_events through SQL function record_usage()'));
    expect(block, r.out).toBeDefined();
    expect(block).toMatch(/^ {4}fixtures\/rules\/RLS001\/sql-function-invoker\/migrations\/002_usage\.sql:\d+:\d+: note: record_usage\(\) is SECURITY INVOKER/m);
  });

  it('shows an RLS002 helper chain as related locations, from the call down to the write', async () => {
    const r = await run(['scan', 'fixtures/rules/RLS002/pgxpool-param-chain']);
    expect(r.code).toBe(1);
    const block = r.out.split(/\n(?=\S)/).find((b) => /api\/server\.go:\d+:\d+: error RLS002 onboarding\.Onboard /.test(b));
    expect(block, r.out).toBeDefined();
    expect(block).toMatch(/onboarding\/onboarding\.go:\d+:\d+: note: calls events\.RecordSignup/);
    expect(block).toMatch(/events\/events\.go:\d+:\d+: note: calls insertEvent/);
    expect(block).toMatch(/events\/events\.go:\d+:\d+: note: the write: INSERT into audit_logs/);
  });
});

describe('config discovery', () => {
  for (const [name, text] of [
    ['.rlscov.yaml', 'rules:\n  RLS001: warning\n'],
    ['.rlscov.json', '{ "rules": { "RLS001": "warning" } }\n'],
  ] as const) {
    it(`finds ${name} by walking up from the scanned path`, async () => {
      const root = tempRepo(WITH_FINDINGS, 'services/billing-svc', { [name]: text });
      const r = await run(['scan', 'services/billing-svc'], root);
      expect(r.code, r.out + r.err).toBe(0);
      expect(r.out).toMatch(new RegExp(`^config: ${name.replace('.', '\\.')}$`, 'm'));
      expect(r.out).toMatch(/^services\/billing-svc\/billing\/\S+\.go:\d+:\d+: warning RLS001 /m);
      expect(r.out).not.toMatch(/: error RLS001 /);
    });
  }

  it('stops at the repository root', async () => {
    const outer = mkdtempSync(path.join(tmpdir(), 'rlscov-cli-outer-'));
    temps.push(outer);
    writeFileSync(path.join(outer, '.rlscov.yml'), 'rules:\n  RLS001: off\n');
    mkdirSync(path.join(outer, 'repo', '.git'), { recursive: true });
    cpSync(WITH_FINDINGS, path.join(outer, 'repo', 'svc'), { recursive: true });
    const r = await run(['scan', 'svc'], path.join(outer, 'repo'));
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^config: no config file/m);
  });

  it('--config overrides the file found by walking up', async () => {
    const root = tempRepo(WITH_FINDINGS, 'svc', { '.rlscov.yml': 'rules:\n  RLS001: warning\n', 'ci/strict.yml': 'rules:\n  RLS001: error\n' });
    expect((await run(['scan', 'svc'], root)).code).toBe(0);
    const r = await run(['scan', 'svc', '--config', 'ci/strict.yml'], root);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^config: ci\/strict\.yml$/m);
  });

  it('include: globs narrow the files scanned', async () => {
    const fork = path.join(FIXTURES, 'sample-fork');
    const original = readFileSync(path.join(fork, '.rlscov.yml'), 'utf8');
    const root = tempRepo(fork, 'fork', { 'fork/.rlscov.yml': `${original}\ninclude: ["platform/**"]\n` });
    const all = JSON.parse((await run(['scan', 'fork', '-f', 'json', '--config', path.join(root, 'fork/.rlscov.yml')], root)).out) as JsonReport;
    const full = JSON.parse((await run(['scan', SAMPLE_FORK, '-f', 'json'])).out) as JsonReport;
    const files = new Set(all.findings.map((f) => f.location.file).filter((f) => f.endsWith('.go')));
    expect(files.size).toBeGreaterThan(0);
    for (const f of files) expect(f).toMatch(/^fork\/platform\//);
    expect(full.findings.some((f) => f.location.file.includes('/ee/'))).toBe(true);
    expect(all.summary.filesScanned).toBeLessThan(full.summary.filesScanned);
  });
});

describe('--no-suppressions', () => {
  it('turns //rlscov:ignore-suppressed findings live', async () => {
    const normal = JSON.parse((await run(['scan', SUPPRESSIONS, '-f', 'json'])).out) as JsonReport;
    const audit = JSON.parse((await run(['scan', SUPPRESSIONS, '-f', 'json', '--no-suppressions'])).out) as JsonReport;
    const suppressed = normal.findings.filter((f) => f.suppressed);
    expect(suppressed.length).toBeGreaterThan(0);
    expect(audit.findings.filter((f) => f.suppressed)).toEqual([]);
    const liveAt = new Set(audit.findings.map((f) => `${f.ruleId} ${f.location.file}:${f.location.line}`));
    for (const f of suppressed) expect(liveAt.has(`${f.ruleId} ${f.location.file}:${f.location.line}`)).toBe(true);
  });

  it('turns allow-listed findings live and makes them fail the run', async () => {
    // Every unsuppressed finding of the sample fork switched off but RLS001, and RLS001's live ones allowed away:
    // only the config-allowed one is left, so the exit code shows whether it counts.
    const fork = path.join(FIXTURES, 'sample-fork');
    const original = readFileSync(path.join(fork, '.rlscov.yml'), 'utf8');
    const root = tempRepo(fork, 'fork', {
      'fork/.rlscov.yml': `${original}\nrules:\n  RLS001: error\n  RLS002: off\n  RLS003: off\n  RLS004: off\n  RLS005: off\n  RLS006: off\n  RLS008: off\n`,
    });
    const base = JSON.parse((await run(['scan', 'fork', '-f', 'json'], root)).out) as JsonReport;
    const allowed = base.findings.filter((f) => f.suppressed);
    expect(allowed.length).toBe(1);
    const r = await run(['scan', 'fork', '-f', 'json', '--no-suppressions'], root);
    const live = (JSON.parse(r.out) as JsonReport).findings;
    expect(live.filter((f) => f.suppressed)).toEqual([]);
    expect(live.length).toBe(base.findings.length);
    expect(r.code).toBe(1);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// The built CLI, spawned as a user runs it.

const BIN = path.join(REPO, 'dist/src/cli/bin.cjs');

function newestSource(): number {
  let newest = statSync(path.join(REPO, 'package.json')).mtimeMs;
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(c?ts|json)$/.test(e.name)) newest = Math.max(newest, statSync(p).mtimeMs);
    }
  };
  walk(path.join(REPO, 'src'));
  walk(path.join(REPO, 'rules'));
  return newest;
}

describe('built CLI (smoke)', () => {
  beforeAll(() => {
    if (existsSync(BIN) && statSync(BIN).mtimeMs >= newestSource()) return;
    const b = spawnSync('npm', ['run', 'build'], { cwd: REPO, encoding: 'utf8', timeout: 110_000 });
    if (b.status !== 0) throw new Error(`npm run build failed:\n${b.stdout}\n${b.stderr}`);
  }, 120_000);

  it('node dist/src/cli/bin.cjs scan fixtures/sample-fork: exit 1, findings on stdout, no colour', () => {
    const r = spawnSync(process.execPath, [BIN, 'scan', SAMPLE_FORK, '--no-cache'], {
      cwd: REPO,
      encoding: 'utf8',
      env: { PATH: process.env['PATH'] ?? '', NO_COLOR: '1' },
      timeout: 60_000,
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/^fixtures\/sample-fork\/platform\/billing\/invoices\.go:\d+:\d+: error RLS001 /m);
    expect(r.stdout).not.toContain('\u001b[');
  });

  it('runs the bundled command line, which answers exactly as the modules it was built from', async () => {
    expect(existsSync(path.join(REPO, 'dist/src/cli/main.bundle.cjs'))).toBe(true);
    const r = spawnSync(process.execPath, [BIN, 'scan', SAMPLE_FORK, '--no-cache', '--format', 'json'], { cwd: REPO, encoding: 'utf8', env: { PATH: process.env['PATH'] ?? '' }, timeout: 60_000 });
    expect(r.status).toBe(1);
    const inProcess = await run(['scan', SAMPLE_FORK, '--format', 'json']);
    expect(JSON.parse(r.stdout)).toEqual(JSON.parse(inProcess.out));
    // The version comes from package.json, found from the bundle's directory too.
    const v = spawnSync(process.execPath, [BIN, '--version'], { cwd: REPO, encoding: 'utf8' });
    expect(v.stdout.trim()).toBe(JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')).version);
    // bin.cjs starts the bundled run.js (replay, then the bundle above), which answers as run.js's modules do,
    // replayed runs included.
    expect(existsSync(path.join(REPO, 'dist/src/cli/run.bundle.cjs'))).toBe(true);
    const cacheDir = mkdtempSync(path.join(tmpdir(), 'rlscov-start-'));
    for (const entry of ['dist/src/cli/run.js', 'dist/src/cli/run.bundle.cjs', 'dist/src/cli/run.js']) {
      const e = spawnSync(process.execPath, [path.join(REPO, entry), 'scan', SAMPLE_FORK, '--format', 'json', '--cache-dir', cacheDir], { cwd: REPO, encoding: 'utf8', env: { PATH: process.env['PATH'] ?? '' }, timeout: 60_000 });
      expect(e.status, entry).toBe(1);
      const [got, want] = [JSON.parse(e.stdout), JSON.parse(r.stdout)] as Array<Record<string, unknown>>;
      for (const k of ['findings', 'sites', 'discovered', 'catalog']) expect(got![k], `${entry}: ${k}`).toEqual(want![k]);
    }
  });

  it('compiles the bundle from a code cache that the first analysing run writes; a rejected one is written again', () => {
    const cacheDir = mkdtempSync(path.join(tmpdir(), 'rlscov-code-cache-'));
    const env = { PATH: process.env['PATH'] ?? '', RLSCOV_CACHE_DIR: cacheDir, RLSCOV_TIMING: '1' };
    const cli = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { cwd: REPO, encoding: 'utf8', env, timeout: 60_000 });
    const codeCaches = () => readdirSync(cacheDir).filter((n) => n.startsWith('code-'));
    const use = (r: { stderr: string }) => /rlscov timing: code cache (.*)/.exec(r.stderr)?.[1];
    // A command that analyses nothing compiles only a little: it writes no code cache.
    expect(use(cli(['rules']))).toBe('missing');
    expect(codeCaches()).toEqual([]);
    const plain = cli(['scan', SAMPLE_FORK, '--no-cache', '--format', 'json']);
    expect(use(plain)).toBe('off');
    expect(codeCaches()).toEqual([]);
    const first = cli(['scan', SAMPLE_FORK, '--format', 'json']);
    expect(use(first)).toBe('missing, written');
    expect(codeCaches()).toHaveLength(1);
    // Other arguments, so that the run is not replayed: compiled from the cache, and answering the same.
    const second = cli(['scan', SAMPLE_FORK, '--format', 'json', '--no-prefilter']);
    expect(use(second)).toBe('used');
    expect(second.status).toBe(1);
    expect(JSON.parse(second.stdout).findings).toEqual(JSON.parse(plain.stdout).findings);
    // A cache V8 does not accept (corrupt, another node, other flags) is ignored, then replaced.
    writeFileSync(path.join(cacheDir, codeCaches()[0]!), 'not a code cache');
    const third = cli(['scan', SAMPLE_FORK, '--format', 'sarif']);
    expect(use(third)).toBe('rejected, written');
    expect(third.status).toBe(1);
    expect(use(cli(['scan', SAMPLE_FORK, '--format', 'text']))).toBe('used');
    expect(codeCaches()).toHaveLength(1);
  });

  it('a first run past the in-place writes hands its cache entries to the writer thread, all of them', async () => {
    // 90 extra packages with a write each: ~200 entries, most of them written by the worker (cache/writer.ts).
    const dir = mkdtempSync(path.join(tmpdir(), 'rlscov-writer-'));
    cpSync(SAMPLE_FORK, dir, { recursive: true });
    for (let i = 0; i < 90; i++) {
      mkdirSync(path.join(dir, `internal/extra${i}`), { recursive: true });
      writeFileSync(
        path.join(dir, `internal/extra${i}/store.go`),
        `package extra${i}\n\nimport "database/sql"\n\nfunc Touch(db *sql.DB, id string) error {\n\t_, err := db.Exec("UPDATE widgets SET name = $1 WHERE id = $1", id)\n\treturn err\n}\n`,
      );
    }
    const cacheDir = mkdtempSync(path.join(tmpdir(), 'rlscov-writer-cache-'));
    const first = spawnSync(process.execPath, [BIN, 'scan', '.', '--format', 'json', '--cache-dir', cacheDir], { cwd: dir, encoding: 'utf8', env: { PATH: process.env['PATH'] ?? '' }, timeout: 60_000 });
    const live = (r: { findings: Array<{ ruleId: string; location?: { file: string; line: number }; span?: { file: string; start: { line: number } } }> }): string[] =>
      r.findings.map((f) => (f.location ? `${f.location.file}:${f.location.line} ${f.ruleId}` : `${f.span!.file}:${f.span!.start.line} ${f.ruleId}`)).sort();
    expect(first.stderr).toBe('');
    const a = JSON.parse(first.stdout) as { summary: { filesParsed: number }; findings: Array<{ ruleId: string; location: { file: string; line: number } }> };
    expect(a.summary.filesParsed).toBeGreaterThan(90);
    const entries = readdirSync(cacheDir).filter((n) => n.startsWith('facts-')).flatMap((d) => readdirSync(path.join(cacheDir, d)));
    expect(entries.filter((n) => n.endsWith('.tmp'))).toEqual([]);
    expect(entries.length).toBeGreaterThan(2 * 90);
    // A migration comment drops the whole-run result (and the replay record), not the per-file entries: every
    // file's IR and facts come back from what the first run wrote.
    writeFileSync(path.join(dir, 'migrations/001_init.sql'), readFileSync(path.join(dir, 'migrations/001_init.sql'), 'utf8') + '\n-- touched\n');
    const { analyze } = await import('../src/engine/analyze.js');
    const second = await analyze({ paths: ['.'], cwd: dir, cache: true, cacheDir });
    expect(second.summary.filesParsed).toBe(0);
    expect(second.summary.cache?.factsFromCache).toBeGreaterThan(90);
    expect(live(second)).toEqual(live(a));
  });

  it('the cache writer thread never keeps the process alive, and finishes every write a run waits for', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'rlscov-writer-exit-'));
    const writer = JSON.stringify(pathToFileURL(path.join(REPO, 'dist/src/cache/writer.js')).href);
    const script = (wait: boolean): string =>
      `import { EntryWriter } from ${writer};
const w = new EntryWriter();
for (let i = 0; i < 100; i++) w.add(${JSON.stringify(dir)} + '/e' + i + '.json', 'x'.repeat(1000));
${wait ? 'await w.done();' : '// no done(): the run failed before saving'}`;
    // A run that fails before saving: the process still exits (it used to hang on the worker).
    const run = (wait: boolean) => {
      const file = path.join(mkdtempSync(path.join(tmpdir(), 'rlscov-writer-script-')), 'run.mjs');
      writeFileSync(file, script(wait));
      return spawnSync(process.execPath, [file], { encoding: 'utf8', timeout: 20_000 });
    };
    const failed = run(false);
    expect(failed.error).toBeUndefined();
    expect(failed.status).toBe(0);
    // A run that saves: every entry is written, whole, before it ends (36 of them by the worker).
    rmSync(dir, { recursive: true });
    mkdirSync(dir);
    const saved = run(true);
    expect(saved.stderr).toBe('');
    expect(saved.status).toBe(0);
    const names = readdirSync(dir);
    expect(names.filter((n) => n.endsWith('.json'))).toHaveLength(100);
    expect(names.every((n) => n.endsWith('.json') && readFileSync(path.join(dir, n), 'utf8').length === 1000)).toBe(true);
  });

  it('runs without a cache where its directory cannot be made, never hanging (a cache directory under /proc)', () => {
    // mkdirSync(dir, { recursive: true }) loops forever on Node 20 when mkdir answers ENOENT under an existing parent
    // (src/files.ts): the run hung at 100% CPU.
    const r = spawnSync(process.execPath, [BIN, 'scan', SAMPLE_FORK, '--format', 'json', '--cache-dir', '/proc/rlscov-test/cache'], { cwd: REPO, encoding: 'utf8', env: { PATH: process.env['PATH'] ?? '' }, timeout: 30_000 });
    expect(r.signal).toBeNull();
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout).findings.length).toBeGreaterThan(0);
  });

  it('keeps the Postgres parser from printing into a report (a statement that exhausts its memory)', () => {
    // libpg-query's runtime printed "Terminating process due to FATAL error" to stdout, and its memory statistics
    // to stderr, when a parse ran out of WASM memory; the text is then classified by the scanner.
    const dir = mkdtempSync(path.join(tmpdir(), 'rlscov-pg-oom-'));
    cpSync(path.join(REPO, SAMPLE_FORK), dir, { recursive: true });
    const cols = Array.from({ length: 2000 }, (_, i) => `c${i}`).join(', ');
    writeFileSync(
      path.join(dir, 'platform/billing/wide.go'),
      `package billing\n\nimport "context"\n\nfunc (s *Service) Wide(ctx context.Context, id string) error {\n\t_, err := s.db.ExecContext(ctx, "UPDATE plans SET (${cols}) = ROW(${cols}) WHERE id = $1", id)\n\treturn err\n}\n`,
    );
    const r = spawnSync(process.execPath, [BIN, 'scan', '.', '--no-cache', '--format', 'json'], { cwd: dir, encoding: 'utf8', env: { PATH: process.env['PATH'] ?? '' }, timeout: 60_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(1);
    const out = JSON.parse(r.stdout) as { sites: Array<{ statements: Array<{ text: string; parser: string }> }> };
    const wide = out.sites.flatMap((s) => s.statements).find((st) => st.text.includes('c1999'));
    expect(wide?.parser).toBe('scanner');
  });

  it('loads packages on demand from code compiled out of the code cache (migration globs, --catalog exact)', () => {
    // On Node 20 a function compiled from V8's code cache has lost its script's dynamic-import callback: an import()
    // in the bundle threw on every run after the first (scripts/bundle.mjs compiles them to require).
    const dir = mkdtempSync(path.join(tmpdir(), 'rlscov-on-demand-'));
    cpSync(path.join(REPO, SAMPLE_FORK), dir, { recursive: true });
    writeFileSync(path.join(dir, '.rlscov.yml'), `${readFileSync(path.join(dir, '.rlscov.yml'), 'utf8')}migrations: ["migrations/*.sql"]\n`);
    const cacheDir = mkdtempSync(path.join(tmpdir(), 'rlscov-on-demand-cache-'));
    const cli = (args: string[]) =>
      spawnSync(process.execPath, [BIN, ...args, ...(args[0] === 'scan' ? ['--format', 'json'] : [])], { cwd: dir, encoding: 'utf8', env: { PATH: process.env['PATH'] ?? '', RLSCOV_CACHE_DIR: cacheDir, RLSCOV_TIMING: '1', NO_COLOR: '1' }, timeout: 120_000 });
    const use = (r: { stderr: string }) => /rlscov timing: code cache (.*)/.exec(r.stderr)?.[1];
    const plain = cli(['scan', '.', '--no-cache']);
    expect(plain.status).toBe(1);
    const first = cli(['scan', '.']);
    expect(use(first)).toBe('missing, written');
    for (const args of [['scan', '.', '--no-prefilter'], ['pre-commit', 'platform/billing/invoices.go'], ['scan', '.', '--catalog', 'exact']]) {
      const r = cli(args);
      expect(r.stderr, args.join(' ')).not.toContain('internal error');
      expect(use(r), args.join(' ')).toBe('used');
      expect(r.status, args.join(' ')).toBe(1);
      const want = (JSON.parse(plain.stdout) as { findings: Array<{ ruleId: string; location: { file: string; line: number } }> }).findings;
      if (args[0] === 'scan') expect(JSON.parse(r.stdout).findings, args.join(' ')).toEqual(want);
      else {
        const shown = [...r.stdout.matchAll(/^(platform\/billing\/invoices\.go):(\d+):\d+: error (RLS\d+)/gm)].map((m) => `${m[1]}:${m[2]} ${m[3]}`);
        expect(shown).toEqual(want.filter((f) => f.location.file === 'platform/billing/invoices.go').map((f) => `${f.location.file}:${f.location.line} ${f.ruleId}`));
        expect(shown.length).toBeGreaterThan(0);
      }
    }
  }, 120_000);

  it('validates config files with the schema compiled at build time, reporting exactly what the sources report', async () => {
    expect(existsSync(path.join(REPO, 'dist/src/config/schema-validator.cjs'))).toBe(true);
    const cases: Record<string, string> = {
      'unknown key': 'inclde: ["**/*.go"]\n',
      'wrong types': 'tests: "yes"\nmigrations: db/*.sql\n',
      'bad rule level and table entry': 'rules:\n  RLS001: loud\ntables:\n  add: [1]\n',
      'nested unknown key and enum': 'tables:\n  drop: [x]\ncatalog: live\n',
      'allow entry without reason': 'allow:\n  - site: platform/billing/invoices.go:38\n',
      'valid, with a wrapper': 'wrappers: [tenancy.WithOrgScope]\ntests: false\n',
    };
    for (const [name, yml] of Object.entries(cases)) {
      const dir = mkdtempSync(path.join(tmpdir(), 'rlscov-config-'));
      cpSync(path.join(REPO, SAMPLE_FORK), dir, { recursive: true });
      writeFileSync(path.join(dir, '.rlscov.yml'), yml);
      const built = spawnSync(process.execPath, [BIN, 'scan', '.', '--no-cache', '--format', 'json'], { cwd: dir, encoding: 'utf8', env: { PATH: process.env['PATH'] ?? '' }, timeout: 60_000 });
      const sources = await run(['scan', '.', '--format', 'json'], dir);
      expect(built.status, name).toBe(sources.code);
      expect(built.stderr, name).toBe(sources.err);
      if (name.startsWith('valid')) expect(JSON.parse(built.stdout).findings, name).toEqual(JSON.parse(sources.out).findings);
      else expect(built.status, name).toBe(2);
    }
  });

  it('loads the Postgres parser only for a text no earlier run classified, and then answers as a run without cache', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'rlscov-lazy-sql-'));
    cpSync(path.join(REPO, SAMPLE_FORK), dir, { recursive: true });
    const cacheDir = mkdtempSync(path.join(tmpdir(), 'rlscov-lazy-sql-cache-'));
    const cli = (args: string[]) => spawnSync(process.execPath, [BIN, 'scan', '.', '--format', 'json', ...args], { cwd: dir, encoding: 'utf8', env: { PATH: process.env['PATH'] ?? '', RLSCOV_TIMING: '1' }, timeout: 60_000 });
    const parser = (r: { stderr: string }) => /^ {2}sql parser: (.*)$/m.exec(r.stderr)?.[1];
    type Out = { findings: unknown[]; sites: Array<{ statements: Array<{ text: string; parser: string }> }> };
    const check = (r: { status: number | null; stdout: string }): Out => {
      const plain = cli(['--no-cache']);
      expect(r.status).toBe(plain.status);
      const [got, want] = [JSON.parse(r.stdout), JSON.parse(plain.stdout)] as Out[];
      expect(got!.findings).toEqual(want!.findings);
      expect(got!.sites).toEqual(want!.sites);
      return got!;
    };
    const parserOf = (o: Out, text: string) => o.sites.flatMap((s) => s.statements).find((st) => st.text.includes(text))?.parser;
    const usage = path.join(dir, 'platform/billing/usage.go');
    // A helper whose query is its caller's (none calls it yet).
    writeFileSync(
      path.join(dir, 'platform/billing/exec.go'),
      'package billing\n\nimport (\n\t"context"\n\t"database/sql"\n)\n\nfunc execOn(ctx context.Context, db *sql.DB, q string) error {\n\t_, err := db.ExecContext(ctx, q)\n\treturn err\n}\n',
    );
    expect(parser(cli([]))).toMatch(/^loaded \(by /);

    // No new text: every classification comes from the cache.
    writeFileSync(usage, `${readFileSync(usage, 'utf8')}\n// reviewed\n`);
    let r = cli([]);
    expect(parser(r)).toBe('not loaded');
    check(r);

    // A new text at a write: seen before solving.
    writeFileSync(
      usage,
      `${readFileSync(usage, 'utf8')}\nfunc (s *Service) ResetPlan(ctx context.Context, planID string) error {\n\t_, err := s.db.ExecContext(ctx, "UPDATE plans SET price_cents = 0 WHERE id = $1 AND price_cents > 0", planID)\n\treturn err\n}\n`,
    );
    r = cli([]);
    expect(parser(r)).toBe('loaded (by solve)');
    expect(parserOf(check(r), 'price_cents > 0')).toBe('postgres');

    // A new text that reaches an unchanged write through a call: met while solving, which is done again.
    const src = readFileSync(usage, 'utf8').replace('\treturn err\n}\n\n// Plans', '\tif err != nil {\n\t\treturn err\n\t}\n\treturn execOn(ctx, s.db, "DELETE FROM usage_events WHERE metric = \'lazy\' AND quantity < 0")\n}\n\n// Plans');
    expect(src).toContain('quantity < 0');
    writeFileSync(usage, src);
    r = cli([]);
    expect(parser(r)).toBe('loaded (by solve, then solved again)');
    expect(parserOf(check(r), 'quantity < 0')).toBe('postgres');

    // A new scope-setting text, which interpreting the wrapper classifies: that file is interpreted again.
    const scope = path.join(dir, 'platform/tenancy/scope.go');
    writeFileSync(scope, readFileSync(scope, 'utf8').replace("set_config('app.current_org_id', $1, true)", "set_config('app.current_org_id', $1, true) AS scoped"));
    r = cli([]);
    expect(parser(r)).toBe('loaded (by interpret)');
    expect(parserOf(check(r), 'AS scoped')).toBe('postgres');

    // The helper's file read again: its own text (a parameter) is never classified while it has callers.
    writeFileSync(path.join(dir, 'platform/billing/exec.go'), `${readFileSync(path.join(dir, 'platform/billing/exec.go'), 'utf8')}\n// reviewed\n`);
    r = cli([]);
    expect(parser(r)).toBe('not loaded');
    check(r);

    // A text past 16 KB (cached by a digest of it) in one file, then an edit elsewhere.
    const rows = Array.from({ length: 1500 }, () => "($1, 'm', 1)").join(', ');
    writeFileSync(
      path.join(dir, 'platform/billing/bulk.go'),
      `package billing\n\nimport "context"\n\nfunc (s *Service) Bulk(ctx context.Context, org string) error {\n\t_, err := s.db.ExecContext(ctx, "INSERT INTO usage_events (org_id, metric, quantity) VALUES ${rows}", org)\n\treturn err\n}\n`,
    );
    r = cli([]);
    expect(parser(r)).toBe('loaded (by solve)');
    expect(parserOf(check(r), "($1, 'm', 1), ($1")).toBe('postgres');
    writeFileSync(usage, `${readFileSync(usage, 'utf8')}\n// reviewed again\n`);
    r = cli([]);
    expect(parser(r)).toBe('not loaded');
    check(r);
  });

  it('stops quietly when the reader of its output goes away (| head)', async () => {
    const child = spawn(process.execPath, [BIN, 'scan', SAMPLE_FORK, '--no-cache', '--format', 'json'], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((res) => child.on('close', (c) => res(c)));
    expect(stderr).toBe('');
    expect(code).toBe(1);
  });
});

describe('SARIF of a real analysis', () => {
  it('the sample fork (findings of every kind, a suppression, an RLS002 code flow) passes the official validator', async () => {
    const { validateSarif } = await import('./helpers/sarif-validate.js');
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const out = join(mkdtempSync(join(tmpdir(), 'rlscov-sarif-')), 'sample.sarif');
    const r = await run(['scan', SAMPLE_FORK, '--format', 'sarif', '--output', out, '--no-cache']);
    expect(r.code).toBe(1);
    const log = JSON.parse((await import('node:fs')).readFileSync(out, 'utf8')) as { runs: Array<{ results: Array<{ ruleId: string; codeFlows?: unknown[]; suppressions?: unknown[]; partialFingerprints?: Record<string, string> }> }> };
    const results = log.runs[0]!.results;
    expect(results.some((x) => x.ruleId === 'RLS002' && (x.codeFlows?.length ?? 0) > 0)).toBe(true);
    expect(results.some((x) => (x.suppressions?.length ?? 0) > 0)).toBe(true);
    expect(results.every((x) => x.partialFingerprints?.['primaryLocationLineHash'])).toBe(true);
    const v = validateSarif(out);
    expect({ errors: v.errors, warnings: v.warnings }, v.output).toEqual({ errors: 0, warnings: 0 });
  });
});
