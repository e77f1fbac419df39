import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tree as makeTree } from './helpers/tree.js';
import {
  configSchema,
  defaultConfig,
  findConfig,
  globToRegExp,
  loadConfig,
  matchAllow,
  parseAllowSite,
  unusedAllowEntries,
  type AllowEntry,
} from '../src/config/index.js';
import { ConfigError } from '../src/errors.js';
import { nodeHost } from '../src/host.js';


const tree = (files: Record<string, string>): string => makeTree('rlscov-config-', files);

/** Loads `text` as `name` in a fresh directory and returns the ConfigError's message (fails if it loads). */
function loadError(name: string, text: string, cwdRel = ''): ConfigError {
  const dir = tree({ [name]: text });
  try {
    loadConfig(nodeHost, path.join(dir, name), path.join(dir, cwdRel));
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error(`expected ${name} to be rejected`);
}

function load(name: string, text: string) {
  const dir = tree({ [name]: text });
  return { dir, config: loadConfig(nodeHost, path.join(dir, name), dir) };
}

describe('findConfig', () => {
  it.each(['.rlscov.yml', '.rlscov.yaml', '.rlscov.json'])('finds %s by walking up', (name) => {
    const dir = tree({ [`repo/${name}`]: '{}', 'repo/.git/': '', 'repo/a/b/c/': '' });
    expect(findConfig(nodeHost, path.join(dir, 'repo/a/b/c'))).toBe(path.join(dir, 'repo', name));
  });

  it('prefers .rlscov.yml over .rlscov.yaml over .rlscov.json in one directory', () => {
    const dir = tree({ '.rlscov.yml': '', '.rlscov.yaml': '', '.rlscov.json': '', '.git/': '' });
    expect(findConfig(nodeHost, dir)).toBe(path.join(dir, '.rlscov.yml'));
    fs.rmSync(path.join(dir, '.rlscov.yml'));
    expect(findConfig(nodeHost, dir)).toBe(path.join(dir, '.rlscov.yaml'));
    fs.rmSync(path.join(dir, '.rlscov.yaml'));
    expect(findConfig(nodeHost, dir)).toBe(path.join(dir, '.rlscov.json'));
  });

  it('takes the nearest config, not a higher one', () => {
    const dir = tree({ '.rlscov.yml': '', 'svc/.rlscov.json': '{}', 'svc/pkg/': '', '.git/': '' });
    expect(findConfig(nodeHost, path.join(dir, 'svc/pkg'))).toBe(path.join(dir, 'svc/.rlscov.json'));
  });

  it('stops at the repository root (a directory containing .git)', () => {
    const dir = tree({ '.rlscov.yml': 'tests: true', 'repo/.git/': '', 'repo/pkg/': '' });
    expect(findConfig(nodeHost, path.join(dir, 'repo/pkg'))).toBeNull();
  });

  it('still looks in the repository root itself, and .git may be a file (worktrees)', () => {
    const dir = tree({ 'repo/.git': 'gitdir: /elsewhere', 'repo/.rlscov.yaml': '', 'repo/pkg/': '' });
    expect(findConfig(nodeHost, path.join(dir, 'repo/pkg'))).toBe(path.join(dir, 'repo/.rlscov.yaml'));
  });

  it('starts from the directory of a file path', () => {
    const dir = tree({ '.git/': '', '.rlscov.yml': '', 'pkg/main.go': 'package main' });
    expect(findConfig(nodeHost, path.join(dir, 'pkg/main.go'))).toBe(path.join(dir, '.rlscov.yml'));
  });

  it('ignores a directory that has a config name', () => {
    const dir = tree({ '.git/': '', '.rlscov.yml/': '', '.rlscov.json': '{}' });
    expect(findConfig(nodeHost, dir)).toBe(path.join(dir, '.rlscov.json'));
  });
});

describe('loadConfig', () => {
  it('gives the defaults without a file', () => {
    expect(loadConfig(nodeHost, null, '/some/cwd')).toEqual({
      file: null,
      baseDir: '/some/cwd',
      include: [],
      exclude: [],
      tests: false,
      migrations: [],
      tables: { add: [], remove: [] },
      wrappers: [],
      adminOpeners: [],
      scopeSettings: [],
      allow: [],
      rules: {},
    });
  });

  it('reads every key of a YAML config', () => {
    const { dir, config } = load(
      '.rlscov.yml',
      [
        'include: ["internal/**"]',
        'exclude: ["internal/legacy/**"]',
        'tests: true',
        'migrations: [db/schema/*.sql]',
        'tables:',
        '  add: [audit.events]',
        '  remove: [feature_flags]',
        'wrappers: [WithOrgScope, rls.InOrg]',
        'adminOpeners: [OpenPlatformAdminConnection]',
        'scopeSettings: [app.current_org_id]',
        'allow:',
        '  - site: cmd/backfill/main.go::main',
        '    reason: one-off backfill runs as platform admin',
        'rules:',
        '  RLS004: off',
        '  RLS002: warning',
        'database:',
        '  url: postgres://localhost/app',
        'catalog: static',
      ].join('\n'),
    );
    expect(config).toEqual({
      file: path.join(dir, '.rlscov.yml'),
      baseDir: dir,
      include: ['internal/**'],
      exclude: ['internal/legacy/**'],
      tests: true,
      migrations: ['db/schema/*.sql'],
      tables: { add: ['audit.events'], remove: ['feature_flags'] },
      wrappers: ['WithOrgScope', 'rls.InOrg'],
      adminOpeners: ['OpenPlatformAdminConnection'],
      scopeSettings: ['app.current_org_id'],
      allow: [{ site: 'cmd/backfill/main.go::main', reason: 'one-off backfill runs as platform admin', line: 12 }],
      rules: { RLS004: 'off', RLS002: 'warning' },
      database: { url: 'postgres://localhost/app' },
      catalog: 'static',
    });
  });

  it('reads a JSON config', () => {
    const { config } = load(
      '.rlscov.json',
      JSON.stringify({ tests: true, tables: { add: ['api_keys'] }, allow: [{ site: 'a.go::*', reason: 'ok' }] }, null, '\t'),
    );
    expect(config.tests).toBe(true);
    expect(config.tables).toEqual({ add: ['api_keys'], remove: [] });
    expect(config.allow).toEqual([{ site: 'a.go::*', reason: 'ok', line: 9 }]);
  });

  it('treats an empty file and keys without a value as defaults', () => {
    expect(load('.rlscov.yml', '# nothing yet\n').config.exclude).toEqual([]);
    expect(load('.rlscov.json', '').config.tests).toBe(false);
    const { config } = load('.rlscov.yml', 'exclude:\n  # - legacy/**\ntests:\n');
    expect(config.exclude).toEqual([]);
    expect(config.tests).toBe(false);
  });

  it('resolves a relative file against cwd and uses its directory as baseDir', () => {
    const dir = tree({ 'conf/rlscov.yaml': 'tests: true' });
    const config = loadConfig(nodeHost, 'conf/rlscov.yaml', dir);
    expect(config.file).toBe(path.join(dir, 'conf/rlscov.yaml'));
    expect(config.baseDir).toBe(path.join(dir, 'conf'));
    expect(config.tests).toBe(true);
  });

  it('reports a missing config file', () => {
    const dir = tree({});
    expect(() => loadConfig(nodeHost, 'nope.yml', dir)).toThrow(/^config file not found: nope\.yml$/);
  });

  it('names the unknown key, the file (relative to cwd) and the keys it expected', () => {
    const err = loadError('sub/.rlscov.yml', 'tabels:\n  add: [x]\n');
    expect(err.message).toBe(
      'sub/.rlscov.yml: unknown key "tabels" at top level, did you mean "tables"? (expected one of: include, exclude, ' +
        'tests, migrations, tables, wrappers, adminOpeners, scopeSettings, allow, rules, database, catalog)',
    );
    expect(err.file).toMatch(/sub\/\.rlscov\.yml$/);
    expect(path.isAbsolute(err.file!)).toBe(true);
  });

  it('names unknown nested keys with their place', () => {
    expect(loadError('.rlscov.yml', 'tables:\n  ad: [x]\n').message).toBe(
      '.rlscov.yml: unknown key "ad" in "tables", did you mean "add"? (expected one of: add, remove)',
    );
    expect(loadError('.rlscov.yml', 'allow:\n  - site: a.go::F\n    reason: r\n    note: x\n').message).toBe(
      '.rlscov.yml: unknown key "note" in allow[0] (expected one of: site, reason)',
    );
  });

  it('says which type a key needs and what it got', () => {
    expect(loadError('.rlscov.yml', 'tests: "yes"\n').message).toBe('.rlscov.yml: "tests" must be a boolean, got string "yes"');
    expect(loadError('.rlscov.yml', 'include: cmd/**\n').message).toBe('.rlscov.yml: "include" must be a list, got string "cmd/**"');
    expect(loadError('.rlscov.json', '{"exclude": ["a", 3]}').message).toBe('.rlscov.json: exclude[1] must be a string, got number 3');
    expect(loadError('.rlscov.yml', '- a\n').message).toBe('.rlscov.yml: top level must be a mapping, got list');
  });

  it('rejects an allow entry without a reason, or with an empty one', () => {
    const text = 'allow:\n  - site: a.go::F\n    reason: fine\n  - site: b.go::G\n';
    expect(loadError('.rlscov.yml', text).message).toBe('.rlscov.yml: allow[1] needs "reason"');
    expect(loadError('.rlscov.yml', 'allow:\n  - site: a.go::F\n    reason: "  "\n').message).toBe(
      '.rlscov.yml: allow[0].reason must not be empty',
    );
  });

  it('rejects a malformed allow site', () => {
    expect(loadError('.rlscov.yml', 'allow:\n  - site: a.go\n    reason: r\n').message).toBe(
      '.rlscov.yml: allow[0].site must look like path::Func, path::Type.Method or path::*, got "a.go"',
    );
    expect(loadError('.rlscov.yml', 'allow:\n  - site: a.go::do-it\n    reason: r\n').message).toMatch(
      /^\.rlscov\.yml: allow\[0\]\.site: malformed allow site "a\.go::do-it": "do-it" is not a function name/,
    );
  });

  it('checks rule levels and rule ids', () => {
    expect(loadError('.rlscov.yml', 'rules:\n  RLS004: fatal\n').message).toBe(
      '.rlscov.yml: rules.RLS004 must be one of off, note, warning, error, got "fatal"',
    );
    expect(loadError('.rlscov.yml', 'rules:\n  rls4: off\n').message).toBe(
      '.rlscov.yml: unknown key "rls4" in "rules" (rule ids are RLS and three digits, e.g. RLS004)',
    );
  });

  it('checks the reserved keys', () => {
    expect(loadError('.rlscov.yml', 'catalog: live\n').message).toBe(
      '.rlscov.yml: "catalog" must be one of static, exact, got "live"',
    );
    expect(loadError('.rlscov.yml', 'database:\n  url: 5\n').message).toBe(
      '.rlscov.yml: database.url must be a string, got number 5',
    );
  });

  it('reports every problem on one line', () => {
    const msg = loadError('.rlscov.yml', 'tests: 1\ntabels: []\n').message;
    expect(msg).toBe(
      '.rlscov.yml: unknown key "tabels" at top level, did you mean "tables"? (expected one of: include, exclude, tests, ' +
        'migrations, tables, wrappers, adminOpeners, scopeSettings, allow, rules, database, catalog); ' +
        '"tests" must be a boolean, got number 1',
    );
    expect(msg).not.toContain('\n');
  });

  it('gives the line and the parser\'s reason for YAML syntax errors', () => {
    expect(loadError('.rlscov.yml', 'tests: true\ninclude:\n  - a\n bad: x\n').message).toBe(
      '.rlscov.yml:4:1: invalid YAML: All mapping items must start at the same column',
    );
    expect(loadError('.rlscov.yml', 'tests: true\ntests: false\n').message).toMatch(/^\.rlscov\.yml:2:1: invalid YAML: .*unique/);
    expect(loadError('.rlscov.yml', 'include: [a\n').message).toMatch(/^\.rlscov\.yml:\d+:\d+: invalid YAML: \S/);
    expect(loadError('.rlscov.yml', 'a: 1\n---\nb: 2\n').message).toContain('more than one YAML document');
  });

  it('gives the line for JSON syntax errors', () => {
    const msg = loadError('.rlscov.json', '{\n  "tests": true,\n}\n').message;
    expect(msg).toMatch(/^\.rlscov\.json:3:1: invalid JSON: \S/);
    expect(msg).not.toContain('\n');
  });
});

describe('schema.json', () => {
  it('describes every property', () => {
    const missing: string[] = [];
    const visit = (schema: Record<string, unknown>, where: string): void => {
      if (typeof schema.description !== 'string' || schema.description === '') missing.push(where);
      const props = (schema.properties ?? {}) as Record<string, Record<string, unknown>>;
      for (const [k, v] of Object.entries(props)) visit(v, `${where}.${k}`);
      if (schema.items) visit(schema.items as Record<string, unknown>, `${where}[]`);
      if (typeof schema.additionalProperties === 'object') visit(schema.additionalProperties as Record<string, unknown>, `${where}.*`);
    };
    visit(configSchema(), '$');
    expect(missing).toEqual([]);
  });

  it('closes every object to unknown keys', () => {
    const open: string[] = [];
    const visit = (schema: Record<string, unknown>, where: string): void => {
      if (schema.type === 'object' && schema.additionalProperties === undefined) open.push(where);
      for (const [k, v] of Object.entries((schema.properties ?? {}) as Record<string, Record<string, unknown>>)) visit(v, `${where}.${k}`);
      if (schema.items) visit(schema.items as Record<string, unknown>, `${where}[]`);
    };
    visit(configSchema(), '$');
    expect(open).toEqual([]);
  });

  it('has a property for every Config field', () => {
    const fields = Object.keys(defaultConfig('/')).filter((k) => k !== 'file' && k !== 'baseDir');
    const props = Object.keys(configSchema().properties as object);
    expect(props.sort()).toEqual([...fields, 'database', 'catalog'].sort());
  });
});

describe('allow entries', () => {
  const root = '/repo';
  const entry = (site: string): AllowEntry => ({ site, reason: 'because' });
  const match = (site: string, file: string, fn: string, baseDir = root) =>
    matchAllow([entry(site)], baseDir, root, { file, function: fn }) !== null;

  it('parses sites', () => {
    expect(parseAllowSite('cmd/main.go::main')).toEqual({ path: 'cmd/main.go', func: 'main' });
    expect(parseAllowSite('./store/orgs.go::(*Store).Save')).toEqual({ path: 'store/orgs.go', func: 'Store.Save' });
    expect(parseAllowSite('store/**::Store.*')).toEqual({ path: 'store/**', func: 'Store.*' });
    expect(() => parseAllowSite('cmd/main.go')).toThrow(ConfigError);
    expect(() => parseAllowSite('cmd/main.go::')).toThrow(/function after "::" is empty/);
    expect(() => parseAllowSite('::main')).toThrow(/path before "::" is empty/);
  });

  it('matches an exact path and function', () => {
    expect(match('cmd/backfill/main.go::main', 'cmd/backfill/main.go', 'main')).toBe(true);
    expect(match('./cmd/backfill/main.go::main', 'cmd/backfill/main.go', 'main')).toBe(true);
    expect(match('cmd/backfill/main.go::main', 'cmd/backfill/main.go', 'run')).toBe(false);
    expect(match('cmd/backfill/main.go::main', 'cmd/other/main.go', 'main')).toBe(false);
  });

  it('matches a glob path', () => {
    expect(match('cmd/**/main.go::main', 'cmd/a/b/main.go', 'main')).toBe(true);
    expect(match('cmd/**/main.go::main', 'cmd/main.go', 'main')).toBe(true);
    expect(match('cmd/*/main.go::main', 'cmd/a/b/main.go', 'main')).toBe(false);
    expect(match('internal/{jobs,cron}/*.go::*', 'internal/cron/x.go', 'Run')).toBe(true);
    expect(match('internal/{jobs,cron}/*.go::*', 'internal/api/x.go', 'Run')).toBe(false);
  });

  it('matches every function of a file, or of a directory, with *', () => {
    expect(match('tools/seed.go::*', 'tools/seed.go', 'anything')).toBe(true);
    expect(match('tools/seed.go::*', 'tools/seed.go', 'Seeder.Run')).toBe(true);
    expect(match('tools::*', 'tools/seed/seed.go', 'main')).toBe(true);
    expect(match('tools::*', 'toolsx/seed.go', 'main')).toBe(false);
  });

  it('matches Type.Method, however the receiver is written', () => {
    expect(match('store/orgs.go::Store.Save', 'store/orgs.go', 'Store.Save')).toBe(true);
    expect(match('store/orgs.go::(*Store).Save', 'store/orgs.go', 'Store.Save')).toBe(true);
    expect(match('store/orgs.go::Store.Save', 'store/orgs.go', '(*Store).Save')).toBe(true);
    expect(match('store/orgs.go::Store.Save', 'store/orgs.go', 'Store.Delete')).toBe(false);
    expect(match('store/orgs.go::Store.Save', 'store/orgs.go', 'Save')).toBe(false);
    expect(match('store/orgs.go::Store.*', 'store/orgs.go', 'Store.Delete')).toBe(true);
    expect(match('store/orgs.go::Store.*', 'store/orgs.go', 'Stores.Delete')).toBe(false);
  });

  it('resolves entry paths against the config directory, finding paths against the root', () => {
    expect(match('jobs/run.go::Run', 'svc/jobs/run.go', 'Run', '/repo/svc')).toBe(true);
    expect(match('svc/jobs/run.go::Run', 'svc/jobs/run.go', 'Run', '/repo/svc')).toBe(false);
  });

  it('returns the first matching entry and lists unused ones', () => {
    const entries = [entry('a.go::F'), entry('a.go::*'), entry('b.go::*')];
    expect(matchAllow(entries, root, root, { file: 'a.go', function: 'G' })).toBe(entries[1]);
    expect(matchAllow(entries, root, root, { file: 'c.go', function: 'G' })).toBeNull();
    expect(unusedAllowEntries(entries, new Set([entries[1]!]))).toEqual([entries[0], entries[2]]);
  });
});

describe('config globs', () => {
  it.each([
    ['**/*_gen.go', 'a/b/x_gen.go', true],
    ['**/*_gen.go', 'x_gen.go', true],
    ['*.go', 'a/x.go', false],
    ['internal/legacy', 'internal/legacy/a/b.go', true],
    ['internal/legacy/**', 'internal/legacy/a.go', true],
    ['internal/legacy/**', 'internal/legacyx/a.go', false],
    ['cmd/?/main.go', 'cmd/a/main.go', true],
    ['cmd/[ab]/main.go', 'cmd/c/main.go', false],
    ['cmd/[!ab]/main.go', 'cmd/c/main.go', true],
    ['{a,b}/**/*.go', 'b/x/y.go', true],
    ['a.go', 'a_go', false],
    ['./a.go', 'a.go', true],
  ])('%s vs %s -> %s', (glob, rel, expected) => {
    expect(globToRegExp(glob).test(rel)).toBe(expected);
  });
});
