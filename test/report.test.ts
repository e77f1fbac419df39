import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as Sarif from 'sarif';
import { afterAll, describe, expect, it } from 'vitest';
import type { RuleMeta } from '../src/engine/rule.js';
import type { Catalog, Finding, RunResult, Span } from '../src/model.js';
import {
  GITHUB_ANNOTATIONS_PER_LEVEL,
  artifactUri,
  directoryFileUri,
  escapeData,
  escapeProperty,
  formatGithub,
  formatJson,
  formatReport,
  formatSarif,
  formatText,
  lineHashes,
  primaryLocationLineHash,
  renderRuleMarkdown,
  renderRuleText,
  toSarifLog,
} from '../src/report/index.js';
import { validateSarif } from './helpers/sarif-validate.js';

// ---------------------------------------------------------------------------------------------------------------
// A synthetic run: three Go files with findings, one with a syntax error, one unreadable.

const STORE_GO = [
  'package keys', //                                                                   1
  '', //                                                                               2
  'func (s *Store) Create(ctx context.Context, k Key) error {', //                      3
  '\ttx, _ := s.db.BeginTx(ctx, nil)', //                                               4
  '\t_, err := tx.ExecContext(ctx, "INSERT INTO api_keys (id) VALUES ($1)", k.ID)', // 5
  '\treturn err', //                                                                    6
  '}', //                                                                               7
  '', //                                                                               8
  'func (s *Store) Backfill(ctx context.Context) error {', //                           9
  '\t//rlscov:ignore RLS001 backfill runs as the table owner during migrations', //    10
  '\t_, err := s.db.ExecContext(ctx, "UPDATE api_keys SET v = 2")', //                 11
  '\treturn err', //                                                                    12
  '}', //                                                                               13
  '',
].join('\n');

const AUDIT_GO = [
  'package audit',
  '',
  'func (s *Service) Record(ctx context.Context, e Event) error {',
  '\ttx, err := s.db.BeginTx(ctx, nil)',
  '\tif err != nil {',
  '\t\treturn err',
  '\t}',
  '\treturn s.insertAudit(ctx, tx, e)',
  '}',
  '',
  'func (s *Service) insertAudit(ctx context.Context, tx *sql.Tx, e Event) error {',
  '\t_, err := tx.ExecContext(ctx, "INSERT INTO audit.events (kind) VALUES ($1)", e.Kind)',
  '\treturn err',
  '}',
  '',
].join('\r\n');

// A path with a space: its SARIF URI must be percent-encoded.
const CONN_FILE = 'internal/db/pool conn.go';
const CONN_GO = ['package db', '', 'func init() {', '\tdb.Exec("SET app.current_org_id = \'1\'")', '}', ''].join('\n');

function span(file: string, line: number, column: number, endLine: number, endColumn: number): Span {
  return { file, start: { line, column }, end: { line: endLine, column: endColumn } };
}

const FINDINGS: Finding[] = [
  {
    ruleId: 'RLS002',
    ruleName: 'unscoped-helper-call',
    severity: 'warning',
    message: 'call passes tx, which has no org scope, to s.insertAudit, which writes to audit.events',
    span: span('internal/audit/service.go', 8, 9, 8, 35),
    function: 'Service.Record',
    related: [
      { message: 'write to audit.events inside s.insertAudit', span: span('internal/audit/service.go', 12, 12, 12, 88) },
      { message: 'the handle is a plain transaction (no wrapper sets app.current_org_id)' },
    ],
    flow: [
      { message: 'tx passed to s.insertAudit', span: span('internal/audit/service.go', 8, 9, 8, 35) },
      { message: 'INSERT INTO audit.events runs on it', span: span('internal/audit/service.go', 12, 12, 12, 88) },
    ],
    key: 's.insertAudit audit.events',
  },
  {
    ruleId: 'RLS001',
    ruleName: 'unscoped-write',
    severity: 'error',
    message: 'INSERT INTO api_keys runs on tx, a transaction with no org scope',
    span: span('internal/keys/store.go', 5, 12, 5, 80),
    function: 'Store.Create',
    related: [
      { message: 'transaction tx opened by BeginTx, no org scope set on it', span: span('internal/keys/store.go', 4, 12, 4, 33) },
    ],
    key: 'INSERT INTO api_keys (id) VALUES (?)',
  },
  {
    ruleId: 'RLS001',
    ruleName: 'unscoped-write',
    severity: 'error',
    message: 'UPDATE api_keys runs on s.db, the application pool',
    span: span('internal/keys/store.go', 11, 12, 11, 64),
    function: 'Store.Backfill',
    related: [],
    key: 'UPDATE api_keys SET v = 2',
    suppressed: {
      kind: 'inSource',
      justification: 'backfill runs as the table owner during migrations',
      location: span('internal/keys/store.go', 10, 2, 10, 75),
    },
  },
  {
    ruleId: 'RLS003',
    ruleName: 'session-scope-setting',
    severity: 'note',
    message: "SET app.current_org_id (session-wide) on db: it leaks to the pool's next user of []byte conn",
    span: span(CONN_FILE, 4, 2, 4, 42),
    function: 'init',
    related: [],
    key: 'SET app.current_org_id = ?',
  },
];

const CATALOG: Catalog = {
  origin: 'migrations',
  tables: {
    api_keys: {
      name: 'api_keys',
      enabled: true,
      forced: true,
      source: { kind: 'migration', file: 'migrations/0003_rls.sql', line: 7 },
      policies: [
        {
          name: 'org_isolation',
          settings: ['app.current_org_id'],
          source: { kind: 'migration', file: 'migrations/0003_rls.sql', line: 9 },
        },
      ],
    },
    'audit.events': {
      name: 'audit.events',
      enabled: true,
      forced: false,
      source: { kind: 'migration', file: 'migrations/0004_audit.sql', line: 3 },
      policies: [],
    },
  },
  functions: {
    auth_insert_api_key: {
      name: 'auth_insert_api_key',
      securityDefiner: true,
      language: 'plpgsql',
      writes: [{ verb: 'INSERT', table: { name: 'api_keys' } }],
      readsSettings: [],
      setsSearchPath: true,
      source: { kind: 'migration', file: 'migrations/0005_fn.sql', line: 1 },
    },
  },
  scopeSettings: ['app.current_org_id'],
  migrationFiles: ['migrations/0003_rls.sql', 'migrations/0004_audit.sql', 'migrations/0005_fn.sql'],
  diagnostics: [],
};

function makeResult(findings: Finding[] = FINDINGS): RunResult {
  return {
    toolVersion: '0.1.0',
    root: '/home/ci/work/my repo',
    configFile: '.rlscov.yml',
    catalog: CATALOG,
    sites: [
      {
        span: span('internal/keys/store.go', 5, 12, 5, 80),
        statementLine: 5,
        function: 'Store.Create',
        package: 'internal/keys',
        method: 'ExecContext',
        receiver: 'tx',
        handles: [
          {
            kind: 'unscopedTx',
            description: 'transaction tx opened by BeginTx at internal/keys/store.go:4, no org scope set on it',
            settings: [],
            evidence: [{ message: 'tx := s.db.BeginTx(...)', span: span('internal/keys/store.go', 4, 2, 4, 33) }],
          },
        ],
        statements: [
          {
            kind: 'INSERT',
            writes: [{ verb: 'INSERT', table: { name: 'api_keys' } }],
            reads: [],
            functionCalls: [],
            scopeSettings: [],
            text: 'INSERT INTO api_keys (id) VALUES ($1)',
            complete: true,
            parser: 'postgres',
          },
        ],
        sql: 'complete',
        verdict: 'finding',
      },
      {
        span: span(CONN_FILE, 4, 2, 4, 42),
        statementLine: 4,
        function: 'init',
        package: 'internal/db',
        method: 'Exec',
        receiver: 'db',
        handles: [{ kind: 'appPool', description: 'application pool db', settings: [], evidence: [] }],
        statements: [
          {
            kind: 'SET',
            writes: [],
            reads: [],
            functionCalls: [],
            scopeSettings: [{ name: 'app.current_org_id', local: false, form: 'SET' }],
            text: "SET app.current_org_id = '1'",
            complete: true,
            parser: 'postgres',
          },
        ],
        sql: 'complete',
        via: [{ message: 'through execWithRetry', span: span(CONN_FILE, 4, 2, 4, 42) }],
        verdict: 'not-gated',
      },
    ],
    findings,
    syntaxErrors: [{ file: 'internal/broken/broken.go', line: 3, column: 1, message: "unexpected '}'" }],
    fileErrors: [{ file: 'internal/secret/locked.go', message: 'permission denied' }],
    summary: {
      filesScanned: 6,
      filesParsed: 5,
      writeSites: 9,
      verdicts: { finding: 3, scoped: 4, admin: 1 },
      findingsByRule: { RLS001: 2, RLS002: 1, RLS003: 1 },
    },
  };
}

function rule(
  id: string,
  name: string,
  defaultLevel: RuleMeta['defaultLevel'],
  securitySeverity: number,
  summary: string,
): RuleMeta {
  return {
    id,
    name,
    defaultLevel,
    securitySeverity,
    precision: 'high',
    tags: ['rls', 'external/cwe/cwe-284'],
    since: '0.1.0',
    docs: {
      summary,
      whatItDoes: `Reports ${summary.toLowerCase()}.`,
      whyBad: 'Under `FORCE ROW LEVEL SECURITY` the write fails, or it runs for no org at all.',
      example: `
        func create(ctx context.Context, db *sql.DB) error {
            _, err := db.ExecContext(ctx, "INSERT INTO api_keys (id) VALUES ($1)", 1)
            return err
        }`,
      useInstead: `
        func create(ctx context.Context, db *sql.DB) error {
            return WithOrgScope(ctx, db, org, func(tx *sql.Tx) error {
                _, err := tx.ExecContext(ctx, "INSERT INTO api_keys (id) VALUES ($1)", 1)
                return err
            })
        }`,
      whenNotToUse: 'When the table has no RLS policy that reads the org setting.',
    },
  };
}

const RULES: RuleMeta[] = [
  rule('RLS001', 'unscoped-write', 'error', 8.8, 'Write into an RLS table outside an org scope'),
  rule('RLS002', 'unscoped-helper-call', 'warning', 7.5, 'Unscoped handle passed to a helper that writes RLS tables'),
  rule('RLS003', 'session-scope-setting', 'note', 5, 'Org scope set for the whole session'),
  rule('RLS009', 'unscoped-read', 'off', 4.3, 'Read from an RLS table outside an org scope'),
];

const SOURCES = new Map<string, string>([
  ['internal/keys/store.go', STORE_GO],
  ['internal/audit/service.go', AUDIT_GO],
  // CONN_FILE deliberately absent: its finding gets no fingerprint.
]);

const ANSI_RE = /\u001b\[/;

// ---------------------------------------------------------------------------------------------------------------

describe('formatText', () => {
  it('prints one line per finding, evidence indented below, then the summary', () => {
    const text = formatText(makeResult(), RULES, { color: false });
    expect(text.split('\n')).toEqual([
      'internal/audit/service.go:8:9: warning RLS002 call passes tx, which has no org scope, to s.insertAudit, which writes to audit.events',
      '    internal/audit/service.go:12:12: note: write to audit.events inside s.insertAudit',
      '    note: the handle is a plain transaction (no wrapper sets app.current_org_id)',
      '    internal/audit/service.go:8:9: note: tx passed to s.insertAudit',
      '    internal/audit/service.go:12:12: note: INSERT INTO audit.events runs on it',
      "internal/db/pool conn.go:4:2: note RLS003 SET app.current_org_id (session-wide) on db: it leaks to the pool's next user of []byte conn",
      'internal/keys/store.go:5:12: error RLS001 INSERT INTO api_keys runs on tx, a transaction with no org scope',
      '    internal/keys/store.go:4:12: note: transaction tx opened by BeginTx, no org scope set on it',
      '',
      'config: .rlscov.yml',
      'catalog: 2 RLS tables from 3 migrations',
      'files: 6 scanned, 5 parsed',
      'syntax errors: 1 file',
      "  internal/broken/broken.go:3:1: unexpected '}'",
      'unreadable: 1 file',
      '  internal/secret/locked.go: permission denied',
      'write sites: 9 seen; into RLS tables: finding 3, scoped 4, admin 1',
      'findings by rule: RLS001 unscoped-write 2, RLS002 unscoped-helper-call 1, RLS003 session-scope-setting 1',
      'suppressed: 1',
      '1 error, 1 warning, 1 note',
      '',
    ]);
    expect(text).not.toMatch(ANSI_RE);
  });

  it('shows suppressed findings only when verbose, with the reason', () => {
    const quiet = formatText(makeResult(), RULES, { color: false });
    expect(quiet).not.toContain('UPDATE api_keys');
    const verbose = formatText(makeResult(), RULES, { color: false, verbose: true });
    expect(verbose).toContain(
      'internal/keys/store.go:11:12: error RLS001 UPDATE api_keys runs on s.db, the application pool ' +
        '[suppressed: backfill runs as the table owner during migrations]\n',
    );
    // Still counted as suppressed, not as an error.
    expect(verbose).toMatch(/\n1 error, 1 warning, 1 note\n$/);
  });

  it('colours levels and evidence only when asked', () => {
    const coloured = formatText(makeResult(), RULES, { color: true });
    expect(coloured).toContain('\u001b[31merror\u001b[0m RLS001');
    expect(coloured).toContain('\u001b[33mwarning\u001b[0m RLS002');
    expect(coloured).toContain('\u001b[36mnote\u001b[0m RLS003');
    expect(coloured).toContain('\u001b[2m    internal/keys/store.go:4:12: note: transaction tx opened');
    // Stripping the codes gives back the plain report.
    expect(coloured.replace(/\u001b\[\d+m/g, '')).toBe(formatText(makeResult(), RULES, { color: false }));
  });

  it('says so when there is nothing to report, and describes the other catalog origins', () => {
    const builtin: RunResult = {
      ...makeResult([]),
      configFile: null,
      syntaxErrors: [],
      fileErrors: [],
      catalog: {
        ...CATALOG,
        origin: 'builtin',
        migrationFiles: [],
        tables: { api_keys: { ...CATALOG.tables.api_keys!, source: { kind: 'builtin', detail: 'v8.0.0' } } },
      },
      summary: { filesScanned: 2, filesParsed: 2, writeSites: 0, verdicts: {}, findingsByRule: {} },
    };
    expect(formatText(builtin, RULES, { color: false }).split('\n')).toEqual([
      'config: no config file, defaults',
      'catalog: built-in v8.0.0 list, 1 RLS table (no migrations found)',
      'files: 2 scanned, 2 parsed',
      'write sites: 0 seen',
      'no findings',
      '',
    ]);
    const db = formatText({ ...builtin, catalog: { ...builtin.catalog, origin: 'database' } }, RULES, { color: false });
    expect(db).toContain('catalog: 1 RLS table from the live database\n');
  });

  it('lists at most ten files with syntax errors', () => {
    const many = Array.from({ length: 13 }, (_, i) => ({ file: `f${i}.go`, line: 1, message: 'bad' }));
    const text = formatText({ ...makeResult(), syntaxErrors: many }, RULES, { color: false });
    expect(text).toContain('syntax errors: 13 files\n');
    expect(text).toContain('  f9.go:1: bad\n  ... and 3 more\n');
    expect(text).not.toContain('f10.go');
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('formatJson', () => {
  const doc = JSON.parse(formatJson(makeResult(), RULES)) as Record<string, any>;

  it('is pretty-printed with two spaces', () => {
    expect(formatJson(makeResult(), RULES)).toMatch(/^\{\n {2}"version": 1,\n {2}"tool": \{\n {4}"name": "rlscov"/);
  });

  it('has the documented top-level fields, in order', () => {
    expect(Object.keys(doc)).toEqual([
      'version',
      'tool',
      'root',
      'configFile',
      'rules',
      'catalog',
      'discovered',
      'findings',
      'sites',
      'syntaxErrors',
      'fileErrors',
      'summary',
    ]);
    expect(doc.tool).toEqual({ name: 'rlscov', version: '0.1.0' });
    expect(Object.keys(doc.catalog)).toEqual([
      'origin',
      'tables',
      'functions',
      'scopeSettings',
      'migrationFiles',
      'diagnostics',
      'build',
      'drift',
    ]);
    expect(doc.catalog.build).toBeNull();
    expect(doc.catalog.drift).toBeNull();
    expect(doc.catalog.tables.map((t: { name: string }) => t.name)).toEqual(['api_keys', 'audit.events']);
    expect(doc.catalog.tables[0].source).toEqual({
      kind: 'migration',
      file: 'migrations/0003_rls.sql',
      line: 7,
      detail: null,
    });
  });

  it('describes findings with locations, evidence, suppression and key', () => {
    expect(doc.findings).toHaveLength(4);
    const create = doc.findings.find((f: { function: string }) => f.function === 'Store.Create');
    expect(create).toEqual({
      ruleId: 'RLS001',
      ruleName: 'unscoped-write',
      severity: 'error',
      message: 'INSERT INTO api_keys runs on tx, a transaction with no org scope',
      location: { file: 'internal/keys/store.go', line: 5, column: 12, endLine: 5, endColumn: 80 },
      function: 'Store.Create',
      related: [
        {
          message: 'transaction tx opened by BeginTx, no org scope set on it',
          location: { file: 'internal/keys/store.go', line: 4, column: 12, endLine: 4, endColumn: 33 },
        },
      ],
      flow: [],
      suppressed: null,
      key: 'INSERT INTO api_keys (id) VALUES (?)',
    });
    const backfill = doc.findings.find((f: { function: string }) => f.function === 'Store.Backfill');
    expect(backfill.suppressed).toEqual({
      kind: 'inSource',
      justification: 'backfill runs as the table owner during migrations',
      location: { file: 'internal/keys/store.go', line: 10, column: 2, endLine: 10, endColumn: 75 },
    });
    const helper = doc.findings.find((f: { ruleId: string }) => f.ruleId === 'RLS002');
    expect(helper.related[1]).toEqual({
      message: 'the handle is a plain transaction (no wrapper sets app.current_org_id)',
      location: null,
    });
    expect(helper.flow).toHaveLength(2);
  });

  it('describes sites with verdict, handles and statements', () => {
    expect(doc.sites).toHaveLength(2);
    const [conn, store] = doc.sites;
    expect(conn.verdict).toBe('not-gated');
    expect(conn.via).toEqual([
      { message: 'through execWithRetry', location: { file: CONN_FILE, line: 4, column: 2, endLine: 4, endColumn: 42 } },
    ]);
    expect(store.verdict).toBe('finding');
    expect(store.via).toBeNull();
    expect(store.handles[0]).toMatchObject({ kind: 'unscopedTx', settings: [] });
    expect(store.handles[0].evidence[0].location.line).toBe(4);
    expect(store.statements[0]).toEqual({
      kind: 'INSERT',
      text: 'INSERT INTO api_keys (id) VALUES ($1)',
      complete: true,
      parser: 'postgres',
      writes: [{ verb: 'INSERT', table: 'api_keys', upsert: false, inCte: false }],
      reads: [],
      functionCalls: [],
      scopeSettings: [],
    });
  });

  it('summarises with every verdict and the finding counts', () => {
    expect(doc.summary).toEqual({
      filesScanned: 6,
      filesParsed: 5,
      writeSites: 9,
      verdicts: {
        finding: 3,
        scoped: 4,
        admin: 1,
        'security-definer': 0,
        allowed: 0,
        'caller-checked': 0,
        'not-gated': 0,
      },
      findingsByRule: { RLS001: 2, RLS002: 1, RLS003: 1 },
      findings: { error: 1, warning: 1, note: 1, suppressed: 1 },
    });
    expect(doc.syntaxErrors).toEqual([
      { file: 'internal/broken/broken.go', line: 3, column: 1, message: "unexpected '}'" },
    ]);
    expect(doc.fileErrors).toEqual([
      { file: 'internal/secret/locked.go', line: null, column: null, message: 'permission denied' },
    ]);
  });

  it('documents every field it emits in docs/json-output.md', () => {
    const documented = readFileSync(new URL('../docs/json-output.md', import.meta.url), 'utf8');
    const withDiagnostics = makeResult();
    withDiagnostics.catalog = {
      ...CATALOG,
      diagnostics: [{ file: 'migrations/0006.sql', line: 4, message: 'DO block not understood' }],
    };
    const full = JSON.parse(formatJson(withDiagnostics, RULES)) as unknown;
    // Objects of a shared shape are documented once, as a type: `Location.file`, `Evidence.message`, ...
    const SHARED: Record<string, string> = {
      location: 'Location',
      source: 'Provenance',
      related: 'Evidence',
      flow: 'Evidence',
      evidence: 'Evidence',
      via: 'Evidence',
      writes: 'Write',
    };
    const types = new Set(Object.values(SHARED));
    const paths = new Set<string>();
    const walk = (value: unknown, path: string): void => {
      if (Array.isArray(value)) {
        for (const v of value) walk(v, types.has(path) ? path : `${path}[]`);
      } else if (value !== null && typeof value === 'object') {
        // Maps keyed by data (rule ids) are documented as a whole.
        if (path === 'summary.findingsByRule') return;
        for (const [k, v] of Object.entries(value)) {
          const p = path ? `${path}.${k}` : k;
          paths.add(p);
          walk(v, SHARED[k] ?? p);
        }
      }
    };
    walk(full, '');
    const missing = [...paths].filter((p) => !documented.includes(`\`${p}\``));
    expect(missing).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('formatGithub', () => {
  it('emits escaped workflow commands and a summary', () => {
    const out = formatGithub(makeResult(), RULES).split('\n');
    expect(out).toEqual([
      '::error file=internal/keys/store.go,line=5,col=12,endLine=5,endColumn=80,title=RLS001 unscoped-write::' +
        'INSERT INTO api_keys runs on tx, a transaction with no org scope',
      '::warning file=internal/audit/service.go,line=8,col=9,endLine=8,endColumn=35,title=RLS002 unscoped-helper-call::' +
        'call passes tx, which has no org scope, to s.insertAudit, which writes to audit.events',
      '::notice file=internal/db/pool conn.go,line=4,col=2,endLine=4,endColumn=42,title=RLS003 session-scope-setting::' +
        "SET app.current_org_id (session-wide) on db: it leaks to the pool's next user of []byte conn",
      'rlscov: 1 error, 1 warning, 1 note (1 suppressed)',
      '',
    ]);
  });

  it('escapes data and properties per the workflow-command rules', () => {
    expect(escapeData('100% of\r\nrows: a,b')).toBe('100%25 of%0D%0Arows: a,b');
    expect(escapeProperty('a,b:c%d\ne')).toBe('a%2Cb%3Ac%25d%0Ae');
    const odd: Finding = {
      ...FINDINGS[1]!,
      span: span('cmd/a,b:c.go', 1, 1, 1, 2),
      ruleName: 'x:y,z',
      message: '50% done\nnext line',
    };
    expect(formatGithub(makeResult([odd]), RULES, { pathPrefix: 'services/api/' }).split('\n')[0]).toBe(
      '::error file=services/api/cmd/a%2Cb%3Ac.go,line=1,col=1,endLine=1,endColumn=2,title=RLS001 x%3Ay%2Cz::50%25 done%0Anext line',
    );
  });

  it('annotates at most ten findings per level and says how many were left out', () => {
    const at = (i: number) => span('a.go', i + 1, 1, i + 1, 5);
    const make = (severity: Finding['severity'], n: number, from: number): Finding[] =>
      Array.from({ length: n }, (_, i) => ({ ...FINDINGS[1]!, severity, span: at(from + i), related: [] }));
    const findings = [...make('error', 15, 0), ...make('warning', 12, 100), ...make('note', 3, 200)];
    const lines = formatGithub(makeResult(findings), RULES).trimEnd().split('\n');
    const count = (prefix: string) => lines.filter((l) => l.startsWith(prefix)).length;
    expect(count('::error ')).toBe(GITHUB_ANNOTATIONS_PER_LEVEL);
    expect(count('::warning ')).toBe(GITHUB_ANNOTATIONS_PER_LEVEL);
    expect(count('::notice file=')).toBe(3);
    expect(lines.at(-2)).toBe('::notice::rlscov: 7 more findings not annotated; see the SARIF or text report');
    expect(lines.at(-1)).toBe('rlscov: 15 errors, 12 warnings, 3 notes');
    // The errors shown are the first ten by location.
    expect(lines[0]).toContain('line=1,');
    expect(lines[9]).toContain('line=10,');

    // Notes share their ten slots with the overflow notice.
    const notes = formatGithub(makeResult(make('note', 12, 0)), RULES).trimEnd().split('\n');
    expect(notes.filter((l) => l.startsWith('::notice file=')).length).toBe(9);
    expect(notes.filter((l) => l.startsWith('::notice')).length).toBe(GITHUB_ANNOTATIONS_PER_LEVEL);
    expect(notes.at(-2)).toBe('::notice::rlscov: 3 more findings not annotated; see the SARIF or text report');
  });

  it('prints only the summary when nothing is to be annotated', () => {
    expect(formatGithub(makeResult([]), RULES)).toBe('rlscov: no findings\n');
  });
});

// ---------------------------------------------------------------------------------------------------------------

/**
 * A second, independent formulation of GitHub's line hash, written from its definition rather than as a rolling
 * update: normalise the text (CRLF and CR to LF, spaces and tabs dropped), append the 65535 sentinel, and for each
 * line hash the 100 characters from its start (zeros past the end) as a base-37 polynomial modulo 2^64.
 */
function definitionalLineHashes(text: string): string[] {
  const normalised = text.replace(/\r\n/g, '\n').replace(/\r/g, '\n').replace(/[ \t]/g, '');
  const s: number[] = [];
  for (let i = 0; i < normalised.length; i++) s.push(normalised.charCodeAt(i));
  s.push(65535);
  const starts = s.map((_, i) => i).filter((i) => i === 0 || s[i - 1] === 10);
  const seen = new Map<string, number>();
  return starts.map((start) => {
    let h = 0n;
    for (let i = 0; i < 100; i++) h = (h * 37n + BigInt(s[start + i] ?? 0)) % 2n ** 64n;
    const hex = h.toString(16);
    const n = (seen.get(hex) ?? 0) + 1;
    seen.set(hex, n);
    return `${hex}:${n}`;
  });
}

describe('primaryLocationLineHash', () => {
  // Expected values from github/codeql-action, src/fingerprints.test.ts ("hash").
  const upstream: Array<[string, string[]]> = [
    ['', ['c129715d7a2bc9a3:1']],
    [' a\nb\n  \t\tc\n d', ['271789c17abda88f:1', '54703d4cd895b18:1', '180aee12dab6264:1', 'a23a3dc5e078b07b:1']],
    [
      ' hello; \t\nworld!!!\n\n\n  \t\tGreetings\n End',
      [
        '8b7cf3e952e7aeb2:1',
        'b1ae1287ec4718d9:1',
        'bff680108adb0fcc:1',
        'c6805c5e1288b612:1',
        'b86d3392aea1be30:1',
        'e6ceba753e1a442:1',
      ],
    ],
    ...[
      ' hello; \t\nworld!!!\n\n\n  \t\tGreetings\n End\n',
      ' hello; \t\nworld!!!\r\r\r  \t\tGreetings\r End\r',
      ' hello; \t\r\nworld!!!\r\n\r\n\r\n  \t\tGreetings\r\n End\r\n',
      ' hello; \t\nworld!!!\r\n\n\r  \t\tGreetings\r End\r\n',
    ].map((input): [string, string[]] => [
      input,
      [
        'e9496ae3ebfced30:1',
        'fb7c023a8b9ccb3f:1',
        'ce8ba1a563dcdaca:1',
        'e20e36e16fcb0cc8:1',
        'b3edc88f2938467e:1',
        'c8e28b0b4002a3a0:1',
        'c129715d7a2bc9a3:1',
      ],
    ]),
    [
      'Lorem ipsum dolor sit amet.\n'.repeat(10),
      [
        'a7f2ff13bc495cf2:1',
        'a7f2ff13bc495cf2:2',
        'a7f2ff13bc495cf2:3',
        'a7f2ff13bc495cf2:4',
        'a7f2ff13bc495cf2:5',
        'a7f2ff13bc495cf2:6',
        'a7f2ff1481e87703:1',
        'a9cf91f7bbf1862b:1',
        '55ec222b86bcae53:1',
        'cc97dc7b1d7d8f7b:1',
        'c129715d7a2bc9a3:1',
      ],
    ],
  ];

  it.each(upstream.map(([input, hashes], i) => ({ i, input, hashes })))(
    'matches codeql-action on its test input $i',
    ({ input, hashes }) => {
      expect(lineHashes(input)).toEqual(hashes);
      expect(definitionalLineHashes(input)).toEqual(hashes);
    },
  );

  it('agrees with the definitional formulation on arbitrary text', () => {
    // A small deterministic generator: long lines, blank lines, CR/LF mixes, tabs, non-ASCII and astral characters.
    let seed = 42;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    const alphabet = ['a', 'Z', '0', ' ', '\t', '\n', '\r', '\r\n', '{', '"', 'é', '界', '😀', 'x'.repeat(120)];
    for (let round = 0; round < 40; round++) {
      let text = '';
      const length = next() % 400;
      for (let i = 0; i < length; i++) text += alphabet[next() % alphabet.length];
      expect(lineHashes(text)).toEqual(definitionalLineHashes(text));
    }
  });

  it('keeps a line hash when unrelated lines above it move, and changes it when the line changes', () => {
    const line = 5; // the INSERT in STORE_GO
    const before = primaryLocationLineHash(STORE_GO, line);
    expect(before).toMatch(/^[0-9a-f]{1,16}:1$/);

    const shifted = ['// Copyright 2024', 'import "database/sql"', '', STORE_GO].join('\n');
    expect(primaryLocationLineHash(shifted, line + 3)).toBe(before);

    const edited = STORE_GO.replace('VALUES ($1)', 'VALUES ($1) RETURNING id');
    expect(primaryLocationLineHash(edited, line)).not.toBe(before);
    // Whitespace-only edits do not count.
    expect(primaryLocationLineHash(STORE_GO.replace('\t_, err := tx', '\t_, err  :=   tx'), line)).toBe(before);
    // A line that does not exist has no hash.
    expect(primaryLocationLineHash(STORE_GO, 99)).toBeUndefined();
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('formatSarif', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rlscov-report-test-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const log = JSON.parse(formatSarif(makeResult(), RULES, { sources: SOURCES })) as Sarif.Log;
  const run = log.runs[0]!;
  const results = run.results!;
  const byFunction = (fn: string) => results.find((r) => r.properties?.['function'] === fn)!;

  it('describes the tool and every rule passed, with GitHub metadata', () => {
    expect(log.$schema).toBe('https://json.schemastore.org/sarif-2.1.0.json');
    expect(log.version).toBe('2.1.0');
    const driver = run.tool.driver;
    expect(driver).toMatchObject({
      name: 'rlscov',
      version: '0.1.0',
      semanticVersion: '0.1.0',
      informationUri: 'https://github.com/rlscov/rlscov',
    });
    expect(driver.rules!.map((r) => r.id)).toEqual(['RLS001', 'RLS002', 'RLS003', 'RLS009']);
    const [r1, , , r9] = driver.rules!;
    expect(r1).toMatchObject({
      id: 'RLS001',
      name: 'UnscopedWrite',
      shortDescription: { text: 'Write into an RLS table outside an org scope' },
      fullDescription: { text: 'Reports write into an rls table outside an org scope.' },
      helpUri: 'https://github.com/rlscov/rlscov/blob/main/docs/rules/RLS001.md',
      defaultConfiguration: { level: 'error' },
      properties: {
        tags: ['security', 'rls', 'external/cwe/cwe-284'],
        precision: 'high',
        'security-severity': '8.8',
        'problem.severity': 'error',
      },
    });
    expect(r1!.help!.markdown).toBe(renderRuleMarkdown(RULES[0]!));
    expect(r1!.help!.text).toBe(renderRuleText(RULES[0]!));
    expect(r9!.defaultConfiguration).toEqual({ enabled: false, level: 'warning' });
    expect(driver.rules![2]!.properties!['problem.severity']).toBe('recommendation');
    expect(driver.rules![2]!.properties!['security-severity']).toBe('5.0');
  });

  it('sets up the run: category, source root, columns, notifications', () => {
    expect(run.automationDetails).toEqual({ id: 'rlscov/scan/' });
    expect(run.originalUriBaseIds).toEqual({ '%SRCROOT%': { uri: 'file:///home/ci/work/my%20repo/' } });
    expect(run.columnKind).toBe('utf16CodeUnits');
    const [invocation] = run.invocations!;
    expect(invocation!.executionSuccessful).toBe(true);
    expect(invocation!.toolExecutionNotifications).toEqual([
      {
        level: 'warning',
        message: { text: "Syntax error in 'internal/broken/broken.go': unexpected '}' (the file was still analysed)." },
        locations: [
          {
            physicalLocation: {
              artifactLocation: { uri: 'internal/broken/broken.go', uriBaseId: '%SRCROOT%' },
              region: { startLine: 3, startColumn: 1 },
            },
          },
        ],
        descriptor: { id: 'RLSN001', index: 0 },
      },
      {
        level: 'error',
        message: { text: "Could not read 'internal/secret/locked.go': permission denied." },
        locations: [
          { physicalLocation: { artifactLocation: { uri: 'internal/secret/locked.go', uriBaseId: '%SRCROOT%' } } },
        ],
        descriptor: { id: 'RLSN002', index: 1 },
      },
    ]);
    const custom = toSarifLog(makeResult(), RULES, { sources: SOURCES, automationId: '/nightly/', srcRoot: '/home/ci/work' });
    expect(custom.runs[0]!.automationDetails).toEqual({ id: 'rlscov/nightly/' });
    expect(custom.runs[0]!.originalUriBaseIds).toEqual({ '%SRCROOT%': { uri: 'file:///home/ci/work/' } });
    expect(custom.runs[0]!.results![0]!.locations![0]!.physicalLocation!.artifactLocation!.uri).toBe(
      'my%20repo/internal/audit/service.go',
    );
  });

  it('writes results with regions, related locations, code flows and suppressions', () => {
    const create = byFunction('Store.Create');
    expect(create).toEqual({
      ruleId: 'RLS001',
      ruleIndex: 0,
      level: 'error',
      message: {
        text:
          'INSERT INTO api_keys runs on tx, a transaction with no org scope. ' +
          'Related: [transaction tx opened by BeginTx, no org scope set on it](1).',
      },
      locations: [
        {
          physicalLocation: {
            artifactLocation: { uri: 'internal/keys/store.go', uriBaseId: '%SRCROOT%' },
            region: { startLine: 5, startColumn: 12, endLine: 5, endColumn: 80 },
          },
        },
      ],
      partialFingerprints: { primaryLocationLineHash: primaryLocationLineHash(STORE_GO, 5) },
      relatedLocations: [
        {
          id: 1,
          physicalLocation: {
            artifactLocation: { uri: 'internal/keys/store.go', uriBaseId: '%SRCROOT%' },
            region: { startLine: 4, startColumn: 12, endLine: 4, endColumn: 33 },
          },
          message: { text: 'transaction tx opened by BeginTx, no org scope set on it.' },
        },
      ],
      properties: { function: 'Store.Create', key: 'INSERT INTO api_keys (id) VALUES (?)' },
    });
    expect(create.suppressions).toBeUndefined();

    const helper = byFunction('Service.Record');
    expect(helper.ruleIndex).toBe(1);
    expect(helper.message.text).toBe(
      'call passes tx, which has no org scope, to s.insertAudit, which writes to audit.events. ' +
        'Related: [write to audit.events inside s.insertAudit](1). ' +
        'the handle is a plain transaction (no wrapper sets app.current_org_id).',
    );
    expect(helper.partialFingerprints).toEqual({ primaryLocationLineHash: lineHashes(AUDIT_GO)[7] });
    expect(helper.codeFlows).toEqual([
      {
        threadFlows: [
          {
            locations: [
              {
                location: {
                  physicalLocation: {
                    artifactLocation: { uri: 'internal/audit/service.go', uriBaseId: '%SRCROOT%' },
                    region: { startLine: 8, startColumn: 9, endLine: 8, endColumn: 35 },
                  },
                  message: { text: 'tx passed to s.insertAudit.' },
                },
              },
              {
                location: {
                  physicalLocation: {
                    artifactLocation: { uri: 'internal/audit/service.go', uriBaseId: '%SRCROOT%' },
                    region: { startLine: 12, startColumn: 12, endLine: 12, endColumn: 88 },
                  },
                  message: { text: 'INSERT INTO audit.events runs on it.' },
                },
              },
            ],
          },
        ],
      },
    ]);

    const backfill = byFunction('Store.Backfill');
    expect(backfill.suppressions).toEqual([
      {
        kind: 'inSource',
        status: 'accepted',
        justification: 'backfill runs as the table owner during migrations',
        location: {
          physicalLocation: {
            artifactLocation: { uri: 'internal/keys/store.go', uriBaseId: '%SRCROOT%' },
            region: { startLine: 10, startColumn: 2, endLine: 10, endColumn: 75 },
          },
        },
      },
    ]);

    // Not in `sources`: no fingerprint (GitHub's upload action computes one when it can read the file).
    const conn = byFunction('init');
    expect(conn.partialFingerprints).toBeUndefined();
    const withConn = toSarifLog(makeResult(), RULES, { sources: new Map([...SOURCES, [CONN_FILE, CONN_GO]]) });
    expect(withConn.runs[0]!.results!.find((r) => r.properties?.['function'] === 'init')!.partialFingerprints).toEqual({
      primaryLocationLineHash: primaryLocationLineHash(CONN_GO, 4),
    });
    expect(conn.locations![0]!.physicalLocation!.artifactLocation!.uri).toBe('internal/db/pool%20conn.go');
    expect(conn.level).toBe('note');
    expect(conn.message.text).toBe(
      "SET app.current_org_id (session-wide) on db: it leaks to the pool's next user of []byte conn.",
    );
  });

  it('encodes URIs', () => {
    expect(artifactUri('a b/c#d?.go', '/r')).toBe('a%20b/c%23d%3F.go');
    expect(artifactUri('x/é.go', '/r')).toBe('x/%C3%A9.go');
    expect(artifactUri('pkg/a.go', '/repo/sub', '/repo')).toBe('sub/pkg/a.go');
    expect(artifactUri('pkg/a.go', '/elsewhere', '/repo')).toBe('pkg/a.go');
    expect(directoryFileUri('C:\\src\\my repo')).toBe('file:///C:/src/my%20repo/');
    expect(directoryFileUri('/')).toBe('file:///');
  });

  it('passes the official SARIF validator with the GitHub rules: no error, no warning', () => {
    const file = join(dir, 'rlscov.sarif');
    writeFileSync(file, formatSarif(makeResult(), RULES, { sources: SOURCES }));
    const { errors, warnings, output } = validateSarif(file);
    expect(errors, output).toBe(0);
    expect(warnings, output).toBe(0);

    // An empty run is valid too.
    const empty = join(dir, 'empty.sarif');
    writeFileSync(
      empty,
      formatSarif({ ...makeResult([]), syntaxErrors: [], fileErrors: [] }, RULES, { sources: new Map() }),
    );
    const emptyCheck = validateSarif(empty);
    expect(emptyCheck.errors + emptyCheck.warnings, emptyCheck.output).toBe(0);
  });

  it('has a validator that does catch broken logs', () => {
    const broken = toSarifLog(makeResult(), RULES, { sources: SOURCES });
    const brokenRun = broken.runs[0]!;
    delete brokenRun.tool.driver.rules; // GitHub requires rule metadata
    delete brokenRun.tool.driver.version;
    delete brokenRun.tool.driver.semanticVersion;
    brokenRun.results![0]!.locations![0]!.physicalLocation!.artifactLocation!.uri = 'C:\\not a uri\\x.go';
    delete brokenRun.results![0]!.ruleIndex;
    const file = join(dir, 'broken.sarif');
    writeFileSync(file, JSON.stringify(broken, null, 2));
    const { errors, warnings, output } = validateSarif(file);
    expect(errors, output).toBeGreaterThan(0);
    expect(warnings, output).toBeGreaterThan(0);
    expect(output).toMatch(/GH1018|rules/);
  });
});

describe('formatReport', () => {
  it('dispatches to each format', () => {
    const r = makeResult();
    expect(formatReport('text', r, RULES, { color: false })).toBe(formatText(r, RULES, { color: false }));
    expect(formatReport('json', r, RULES, { color: false })).toBe(formatJson(r, RULES));
    expect(formatReport('github', r, RULES, { color: false })).toBe(formatGithub(r, RULES));
    expect(formatReport('sarif', r, RULES, { color: false, sources: SOURCES })).toBe(
      formatSarif(r, RULES, { sources: SOURCES }),
    );
  });
});

describe('rule documentation', () => {
  it('renders the sections in order with Go code blocks', () => {
    const md = renderRuleMarkdown(RULES[0]!, { title: true });
    const headings = md.split('\n').filter((l) => l.startsWith('#'));
    expect(headings).toEqual([
      '# RLS001: unscoped-write',
      '## What it does',
      '## Why is this bad?',
      '## Example',
      '## Use instead',
      '## When not to use it',
    ]);
    expect(md).toContain(
      '## Example\n\n```go\nfunc create(ctx context.Context, db *sql.DB) error {\n' +
        '    _, err := db.ExecContext(ctx, "INSERT INTO api_keys (id) VALUES ($1)", 1)\n    return err\n}\n```\n',
    );
    expect(renderRuleMarkdown(RULES[0]!)).not.toContain('# RLS001');
  });

  it('renders plain text for explain', () => {
    const text = renderRuleText(RULES[0]!);
    expect(text.split('\n').slice(0, 5)).toEqual([
      'RLS001 unscoped-write: Write into an RLS table outside an org scope',
      'Default level: error. Precision: high. Security severity: 8.8. Since 0.1.0.',
      '',
      'What it does',
      '  Reports write into an rls table outside an org scope.',
    ]);
    expect(text).toContain('Example\n    func create(ctx context.Context, db *sql.DB) error {\n');
    expect(text).not.toContain('```');
  });
});
