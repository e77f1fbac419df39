// The pre-commit hook end to end, with the real `pre-commit` tool (Debian package `pre-commit`): a throw-away Go
// repository lists a temp clone of this repository as its hook source (`repo: <path>`, `rev: <sha>`), pre-commit
// installs the hook as it would for a user (npm install in the clone, which runs `prepare` = tsc build; npm pack;
// npm install -g of the tarball into the hook's environment), and two commits go through `git commit`: one with a
// safe write passes, one adding an unscoped write is refused with the finding printed.
//
// Slow: installing the hook's node environment downloads (or takes from the npm cache) every dependency of this
// package, dev dependencies included, because the `prepare` script compiles TypeScript. Needs the npm registry,
// not the rest of the internet. Never skipped: without pre-commit it fails and says how to install it.
import { execFileSync, spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { baseTree, removeTempDirs, tempDir, writeTree } from './helpers/cli.js';

afterAll(removeTempDirs);

const REPO = resolve(__dirname, '..');
const TIMEOUT = 15 * 60_000;

/** The environment for git and pre-commit: no user or system git config, no npm settings leaking from `npm test`. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^npm_(?!config_(registry|cache|strict_ssl|cafile|proxy|https_proxy|noproxy)$)/i.test(k)) continue;
    if (['INIT_CWD', 'NODE_ENV', 'NODE_OPTIONS', 'PRE_COMMIT_HOME', 'GIT_DIR', 'GIT_WORK_TREE', 'GIT_INDEX_FILE'].includes(k)) continue;
    env[k] = v;
  }
  return {
    ...env,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_AUTHOR_NAME: 'rlscov test',
    GIT_AUTHOR_EMAIL: 'test@rlscov.invalid',
    GIT_COMMITTER_NAME: 'rlscov test',
    GIT_COMMITTER_EMAIL: 'test@rlscov.invalid',
    NO_COLOR: '1',
    ...extra,
  };
}

/** The files of this repository as a commit would have them: tracked and untracked-but-not-ignored files. */
function projectFiles(): string[] {
  if (existsSync(join(REPO, '.git'))) {
    const out = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: REPO, encoding: 'utf8' });
    return out.split('\0').filter((f) => f && existsSync(join(REPO, f)) && statSync(join(REPO, f)).isFile());
  }
  const walk = (rel: string): string[] =>
    readdirSync(join(REPO, rel), { withFileTypes: true }).flatMap((e) => {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) return ['node_modules', 'dist', '.git', 'tmp'].includes(e.name) ? [] : walk(r);
      return e.isFile() ? [r] : [];
    });
  return walk('');
}

const SAFE_WRITE = `
// Rename writes inside the org-scope wrapper from internal/tenancy, a file this commit does not touch: the hook
// must analyse the whole repository to see that it is safe.
func (s *Store) Rename(ctx context.Context, orgID, id, label string) error {
	return tenancy.WithTenantTx(ctx, s.db, orgID, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "UPDATE api_keys SET label = $1 WHERE id = $2", label, id)
		return err
	})
}
`;

const UNSCOPED_WRITE = `
// Purge writes on the pool: refused.
func (s *Store) Purge(ctx context.Context, id string) error {
	_, err := s.db.ExecContext(ctx, "DELETE FROM api_keys WHERE id = $1", id)
	return err
}
`;

const STORE_GO = `package store

import (
	"context"
	"database/sql"

	"example.com/app/internal/tenancy"
)

type Store struct{ db *sql.DB }

var _ = tenancy.WithTenantTx
var _ context.Context
`;

// An unscoped write committed before the hook was installed: the hook must not report it for other files' commits.
const LEGACY_GO = `package legacy

import (
	"context"
	"database/sql"
)

func Wipe(ctx context.Context, db *sql.DB) error {
	_, err := db.ExecContext(ctx, "DELETE FROM invoices")
	return err
}
`;

describe('pre-commit hook (real pre-commit, installed from a clone of this repository)', () => {
  it('passes a commit with a safe write and refuses one adding an unscoped write, printing the finding', { timeout: TIMEOUT }, () => {
    const version = spawnSync('pre-commit', ['--version'], { encoding: 'utf8' });
    expect(version.error, 'pre-commit is not installed: apt-get install pre-commit (.ci/run does this)').toBeUndefined();
    expect(version.status).toBe(0);

    const tmp = tempDir('rlscov-precommit-');
    const env = cleanEnv({ PRE_COMMIT_HOME: join(tmp, 'pre-commit-home'), RLSCOV_CACHE_DIR: join(tmp, 'rlscov-cache') });
    const run = (cwd: string, cmd: string, args: string[]) => {
      const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', timeout: TIMEOUT });
      return { status: r.status, output: `${r.stdout ?? ''}${r.stderr ?? ''}`, error: r.error };
    };
    const must = (cwd: string, cmd: string, args: string[]) => {
      const r = run(cwd, cmd, args);
      expect(r.status, `${cmd} ${args.join(' ')}\n${r.output}`).toBe(0);
      return r.output;
    };

    // 1. The hook source: this repository's files, committed in a throw-away repository.
    const hookRepo = join(tmp, 'rlscov');
    for (const f of projectFiles()) {
      mkdirSync(dirname(join(hookRepo, f)), { recursive: true });
      cpSync(join(REPO, f), join(hookRepo, f));
    }
    expect(existsSync(join(hookRepo, '.pre-commit-hooks.yaml'))).toBe(true);
    must(hookRepo, 'git', ['init', '-q']);
    must(hookRepo, 'git', ['add', '-A']);
    must(hookRepo, 'git', ['commit', '-qm', 'rlscov under test']);
    const rev = must(hookRepo, 'git', ['rev-parse', 'HEAD']).trim();

    // 2. A Go repository using it.
    const app = join(tmp, 'app');
    writeTree(app, {
      ...baseTree(),
      'store/store.go': STORE_GO,
      'legacy/legacy.go': LEGACY_GO,
      '.pre-commit-config.yaml': `repos:\n  - repo: ${hookRepo}\n    rev: ${rev}\n    hooks:\n      - id: rlscov\n`,
      // A config, as `rlscov init` writes one: the installed package validates it with the schema compiled at build
      // time, and loads fast-glob for the migrations glob on the second run too (compiled from the code cache).
      '.rlscov.yml': 'migrations:\n  - "migrations/*.sql"\n',
    });
    must(app, 'git', ['init', '-q']);
    must(app, 'git', ['add', '-A']);
    must(app, 'git', ['commit', '-qm', 'initial, before the hook']);
    must(app, 'pre-commit', ['install']);

    // 3. A safe write: the commit goes through (the first run installs the hook environment).
    appendFileSync(join(app, 'store/store.go'), SAFE_WRITE);
    must(app, 'git', ['add', 'store/store.go']);
    const t0 = Date.now();
    const ok = run(app, 'git', ['commit', '-m', 'rename keys safely']);
    const installAndRun = Date.now() - t0;
    expect(ok.status, ok.output).toBe(0);
    expect(ok.output).toMatch(/rlscov \(writes into row-level-security tables outside an org scope\)\.+Passed/);

    // 4. An unscoped write: refused, with the finding; the legacy finding in an unstaged file is not reported.
    appendFileSync(join(app, 'store/store.go'), UNSCOPED_WRITE);
    must(app, 'git', ['add', 'store/store.go']);
    const t1 = Date.now();
    const refused = run(app, 'git', ['commit', '-m', 'purge keys on the pool']);
    const rerun = Date.now() - t1;
    expect(refused.status, refused.output).not.toBe(0);
    expect(refused.output).toMatch(/rlscov \(writes into row-level-security tables outside an org scope\)\.+Failed/);
    expect(refused.output).toMatch(/^store\/store\.go:26:12: error RLS001 DELETE from api_keys runs on s\.db/m);
    expect(refused.output).not.toContain('legacy/legacy.go:');
    expect(refused.output).toContain('reporting limited to the file given; 1 finding elsewhere not shown');
    expect(must(app, 'git', ['log', '--format=%s']).trim().split('\n')).toEqual(['rename keys safely', 'initial, before the hook']);

    // What pre-commit installed: the packed package (dist/, no sources or tests) in the hook's node environment.
    const envs = readdirSync(join(tmp, 'pre-commit-home')).filter((d) => d.startsWith('repo'));
    const installed = join(tmp, 'pre-commit-home', envs[0]!, 'node_env-system/lib/node_modules/rlscov');
    expect(existsSync(join(installed, 'dist/src/cli/bin.cjs'))).toBe(true);
    expect(existsSync(join(installed, 'src'))).toBe(false);
    expect(existsSync(join(installed, 'test'))).toBe(false);
    console.log(`pre-commit: hook install + first run ${(installAndRun / 1000).toFixed(1)} s, second run ${(rerun / 1000).toFixed(1)} s`);
  });
});
