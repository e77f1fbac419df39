// `rlscov init` (a commented starter config for the tree it runs in) and `rlscov config verify [FILE]`.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { baseTree, removeTempDirs, runCli, tempDir, writeTree } from './helpers/cli.js';

afterAll(removeTempDirs);

const APP_GO = `package app

import (
	"context"
	"database/sql"

	"example.com/app/internal/tenancy"
)

type App struct {
	db    *sql.DB
	admin *sql.DB
}

// Discovered wrapper: opens a transaction, sets the org scope transaction-locally, calls its function parameter.
func inOrg(ctx context.Context, db *sql.DB, orgID string, fn func(*sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, "SET LOCAL app.current_org_id = '42'"); err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

func (a *App) Rename(ctx context.Context, orgID, id string) error {
	return inOrg(ctx, a.db, orgID, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "UPDATE api_keys SET label = 'x' WHERE id = $1", id)
		return err
	})
}

func (a *App) Close(ctx context.Context, orgID, id string) error {
	return tenancy.WithTenantTx(ctx, a.db, orgID, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "UPDATE invoices SET status = 'closed' WHERE id = $1", id)
		return err
	})
}

// OpenPlatformAdminConnection is the built-in admin opener name.
func OpenPlatformAdminConnection() (*sql.DB, error) { return sql.Open("postgres", "admin") }

// OpenOwnerPool looks like an admin opener but is not configured: a candidate for review.
func OpenOwnerPool() (*sql.DB, error) { return sql.Open("postgres", "owner") }

func Sweep(ctx context.Context) error {
	db, err := OpenPlatformAdminConnection()
	if err != nil {
		return err
	}
	_, err = db.ExecContext(ctx, "DELETE FROM invoices WHERE status = 'void'")
	return err
}

// Audit writes into a table whose RLS is enabled by a schema file outside migrations/.
func (a *App) Audit(ctx context.Context) error {
	_, err := a.db.ExecContext(ctx, "INSERT INTO audit_events (org_id) VALUES ('x')")
	return err
}
`;

const SCHEMA_SQL = `CREATE TABLE audit_events (org_id text NOT NULL);
ALTER TABLE audit_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_events FORCE ROW LEVEL SECURITY;
CREATE POLICY audit_events_org ON audit_events USING (org_id = current_setting('app.current_org_id', true));
`;

function initTree(): string {
  const dir = tempDir('rlscov-init-');
  writeTree(dir, { ...baseTree(), 'app/app.go': APP_GO, 'db/schema/audit.sql': SCHEMA_SQL });
  mkdirSync(join(dir, '.git')); // the repository root: config look-ups stop here
  return dir;
}

describe('rlscov init', () => {
  it('writes a commented starter config listing migrations, wrappers and admin openers, which validates', async () => {
    const dir = initTree();
    const before = await runCli(['scan'], dir);
    expect(before.stdout).not.toContain('audit_events'); // the schema file is not found without a config

    const r = await runCli(['init'], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^wrote \.rlscov\.yml: 2 migrations gating 3 RLS tables, 2 wrappers, 1 admin opener recognised, 1 admin opener candidate\n/);
    const text = readFileSync(join(dir, '.rlscov.yml'), 'utf8');
    expect(text).toContain('# Found 2 migrations in db/schema/, migrations/; they gate 3 RLS tables:');
    expect(text).toContain('#   api_keys, audit_events, invoices');
    // Schema files outside migrations/ that enable RLS become an active `migrations:` entry.
    expect(text).toMatch(/^migrations:\n  - "db\/schema\/\*\.sql"$/m);
    expect(text).toMatch(/^# {3}inOrg \(app\/app\.go:16\): discovered, sets app\.current_org_id$/m);
    expect(text).toMatch(/^# {3}WithTenantTx \(internal\/tenancy\/scope\.go:9\): discovered, sets app\.current_org_id$/m);
    expect(text).toMatch(/^# {3}OpenPlatformAdminConnection \(app\/app\.go:\d+\): in use, built in$/m);
    expect(text).toMatch(/^# {3}- "OpenOwnerPool" {2}# app\/app\.go:\d+ returns \*sql\.DB$/m);

    // Only `migrations` is active; everything else is commented for review.
    const doc = parseDocument(text).toJS() as Record<string, unknown>;
    expect(Object.keys(doc)).toEqual(['migrations']);

    const verify = await runCli(['config', 'verify'], dir);
    expect(verify.code).toBe(0);
    expect(verify.stdout).toBe('.rlscov.yml: valid (this is the config rlscov uses from here)\n');
    const after = await runCli(['scan'], dir);
    expect(after.stdout).toMatch(/app\/app\.go:\d+:\d+: error RLS001 INSERT into audit_events/);
  });

  it('refuses to overwrite an existing file without --force', async () => {
    const dir = initTree();
    writeFileSync(join(dir, '.rlscov.yml'), 'tests: true\n');
    const r = await runCli(['init'], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('rlscov: .rlscov.yml already exists; run `rlscov init --force` to overwrite it\n');
    expect(readFileSync(join(dir, '.rlscov.yml'), 'utf8')).toBe('tests: true\n');
    const forced = await runCli(['init', '--force'], dir);
    expect(forced.code).toBe(0);
    expect(readFileSync(join(dir, '.rlscov.yml'), 'utf8')).toContain('written by `rlscov init`');
  });

  it('works on a tree with no migrations (the built-in list applies) and still validates', async () => {
    const dir = tempDir('rlscov-init-empty-');
    writeTree(dir, { 'go.mod': 'module example.com/e\n\ngo 1.22\n', 'main.go': 'package main\n\nfunc main() {}\n' });
    const r = await runCli(['init', '--output', 'rlscov.yml'], dir);
    expect(r.code, r.stderr).toBe(0);
    const text = readFileSync(join(dir, 'rlscov.yml'), 'utf8');
    expect(text).toContain('No migrations were found, so the built-in table list applies');
    expect((await runCli(['config', 'verify', 'rlscov.yml'], dir)).code).toBe(0);
  });

  it('is listed in --help', async () => {
    const help = await runCli(['--help'], tempDir('rlscov-help-'));
    expect(help.stdout).toMatch(/rlscov init +write a commented starter \.rlscov\.yml/);
    expect(help.stdout).toMatch(/rlscov pre-commit \[files\.\.]/);
  });
});

describe('rlscov config verify', () => {
  function repoWithConfig(config: string, name = '.rlscov.yml'): string {
    const dir = tempDir('rlscov-verify-');
    mkdirSync(join(dir, '.git'));
    writeTree(dir, { [name]: config, 'svc/api/main.go': 'package main\n' });
    return dir;
  }

  it('accepts a valid config and says it is the one used from here', async () => {
    const dir = repoWithConfig('tests: true\nrules:\n  RLS004: off\n');
    const r = await runCli(['config', 'verify'], dir);
    expect(r).toEqual({ code: 0, stdout: '.rlscov.yml: valid (this is the config rlscov uses from here)\n', stderr: '' });
  });

  it('shows which file applies from a subdirectory (found by walking up to the repository root)', async () => {
    const dir = repoWithConfig('tests: true\n');
    const r = await runCli(['config', 'verify'], join(dir, 'svc/api'));
    expect(r.stdout).toBe('../../.rlscov.yml: valid (this is the config rlscov uses from here)\n');
    // A closer file wins, and .yml over .json in one directory.
    writeTree(dir, { 'svc/.rlscov.json': '{"tests": false}', 'svc/.rlscov.yml': 'tests: false\n' });
    expect((await runCli(['config', 'verify'], join(dir, 'svc/api'))).stdout).toBe('../.rlscov.yml: valid (this is the config rlscov uses from here)\n');
  });

  it('does not look above the repository root, and says defaults apply', async () => {
    const outer = tempDir('rlscov-verify-outer-');
    writeTree(outer, { '.rlscov.yml': 'tests: true\n', 'repo/go.mod': 'module x\n' });
    mkdirSync(join(outer, 'repo/.git'));
    const r = await runCli(['config', 'verify'], join(outer, 'repo'));
    expect(r).toEqual({ code: 0, stdout: 'no config file found from this directory up to the repository root; defaults apply\n', stderr: '' });
  });

  it('validates an explicit FILE', async () => {
    const dir = repoWithConfig('tests: true\n', 'ci.rlscov.yml');
    const r = await runCli(['config', 'verify', 'ci.rlscov.yml'], dir);
    expect(r).toEqual({ code: 0, stdout: 'ci.rlscov.yml: valid\n', stderr: '' });
    const missing = await runCli(['config', 'verify', 'nope.yml'], dir);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe('rlscov: config file not found: nope.yml\n');
  });

  it('rejects an invalid config with exit 2 and a one-line message naming the file and the problem', async () => {
    const cases: Array<[string, RegExp]> = [
      ['test: true\n', /^rlscov: \.rlscov\.yml: unknown key "test" at top level, did you mean "tests"\?/],
      ['rules:\n  RLS004: loud\n', /^rlscov: \.rlscov\.yml: rules\.RLS004 must be one of off, note, warning, error, got "loud"/],
      ['allow:\n  - site: "jobs.go"\n    reason: "x"\n', /^rlscov: \.rlscov\.yml: .*allow\[0\]\.site/],
      ['tests: [unclosed\n', /^rlscov: \.rlscov\.yml:\d+:\d+: invalid YAML/],
    ];
    for (const [config, message] of cases) {
      const r = await runCli(['config', 'verify'], repoWithConfig(config));
      expect(r.code, config).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr, config).toMatch(message);
      expect(r.stderr.trimEnd().split('\n'), config).toHaveLength(1);
    }
  });
});
