// Runs the CLI in-process (`main(argv, io)`) with captured streams, and writes small Go trees to temp directories.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { main } from '../../src/cli/main.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** `rlscov ...argv` in `cwd`; the facts cache is off so runs never share state. */
export async function runCli(argv: string[], cwd: string, env: Record<string, string | undefined> = {}): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const code = await main([...argv, ...(argv[0] === 'init' || argv[0] === 'config' || argv[0] === 'rules' || argv[0] === 'explain' ? [] : ['--no-cache'])], {
    stdout: (s) => (stdout += s),
    stderr: (s) => (stderr += s),
    cwd,
    isTTY: false,
    env: { NO_COLOR: '1', ...env },
  });
  return { code, stdout, stderr };
}

const temps: string[] = [];

/** A fresh temp directory (symlinks resolved, so paths compare equal to what git and the engine report). */
export function tempDir(prefix: string): string {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), prefix)));
  temps.push(dir);
  return dir;
}

/** Removes the temp directories made so far (call from afterAll); RLSCOV_KEEP_TMP=1 keeps them for debugging. */
export function removeTempDirs(): void {
  if (process.env['RLSCOV_KEEP_TMP']) return;
  for (const d of temps.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** Writes `files` (path -> text) under `dir`. */
export function writeTree(dir: string, files: Record<string, string>): void {
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
}

/** git in `cwd` with a fixed identity and no user or system config. */
export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=rlscov test', '-c', 'user.email=test@rlscov.invalid', '-c', 'commit.gpgsign=false', '-c', 'init.defaultBranch=main', ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** A migration with RLS enabled and forced on api_keys and invoices (policies read app.current_org_id), and one table without RLS. */
export const MIGRATION = `CREATE TABLE api_keys (id text PRIMARY KEY, org_id text NOT NULL, label text);
ALTER TABLE api_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE api_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY api_keys_org ON api_keys USING (org_id = current_setting('app.current_org_id', true));
CREATE TABLE invoices (id text PRIMARY KEY, org_id text NOT NULL, status text);
ALTER TABLE invoices ENABLE ROW LEVEL SECURITY;
ALTER TABLE invoices FORCE ROW LEVEL SECURITY;
CREATE POLICY invoices_org ON invoices USING (org_id = current_setting('app.current_org_id', true));
CREATE TABLE widgets (id text PRIMARY KEY, name text);
`;

/** The org-scope wrapper every test tree uses (package tenancy). */
export const SCOPE_GO = `package tenancy

import (
	"context"
	"database/sql"
)

// WithTenantTx opens a transaction, sets the org scope on it transaction-locally and hands it to fn.
func WithTenantTx(ctx context.Context, db *sql.DB, orgID string, fn func(tx *sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, "SELECT set_config('app.current_org_id', $1, true)", orgID); err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}
`;

/** go.mod + migration + wrapper: the base of a test tree. */
export function baseTree(module = 'example.com/app'): Record<string, string> {
  return {
    'go.mod': `module ${module}\n\ngo 1.22\n`,
    'migrations/001_init.sql': MIGRATION,
    'internal/tenancy/scope.go': SCOPE_GO,
  };
}
