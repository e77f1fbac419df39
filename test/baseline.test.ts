// Baselines (--write-baseline / --baseline) and changed-line limits (--new-from-rev / --new-from-merge-base), run
// through the CLI on real temp trees (and real temp git repositories for the diffs).
import { appendFileSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { changedSince, parseBaseline, parseUnifiedDiff, type GitRunner } from '../src/baseline/index.js';
import { UsageError } from '../src/errors.js';
import { baseTree, git, removeTempDirs, runCli, tempDir, writeTree } from './helpers/cli.js';

afterAll(removeTempDirs);

const STORE_GO = `package store

import (
	"context"
	"database/sql"

	"example.com/app/internal/tenancy"
)

type Store struct{ db *sql.DB }

// Rename is safe: it writes inside the org-scope wrapper.
func (s *Store) Rename(ctx context.Context, orgID, id, label string) error {
	return tenancy.WithTenantTx(ctx, s.db, orgID, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "UPDATE api_keys SET label = $1 WHERE id = $2", label, id)
		return err
	})
}

// Purge writes on the pool: a finding.
func (s *Store) Purge(ctx context.Context, id string) error {
	_, err := s.db.ExecContext(ctx, "DELETE FROM api_keys WHERE id = $1", id)
	return err
}

// Void runs the same unscoped statement twice: two findings with one identity.
func (s *Store) Void(ctx context.Context, id string) error {
	if _, err := s.db.ExecContext(ctx, "UPDATE invoices SET status = 'void' WHERE id = $1", id); err != nil {
		return err
	}
	_, err := s.db.ExecContext(ctx, "UPDATE invoices SET status = 'void' WHERE id = $1", id)
	return err
}
`;

function tree(): string {
  const dir = tempDir('rlscov-baseline-');
  writeTree(dir, { ...baseTree(), 'store/store.go': STORE_GO });
  return dir;
}

const storeFile = (dir: string) => join(dir, 'store/store.go');
const edit = (dir: string, f: (s: string) => string) => writeFileSync(storeFile(dir), f(readFileSync(storeFile(dir), 'utf8')));

interface JsonDoc {
  findings: Array<{ ruleId: string; location: { file: string; line: number }; baselineState: string | null; function: string }>;
  baseline: { unchanged: number; new: number; fixed: number; fixedEntries: Array<{ function: string; count: number }> };
  limitedTo?: { kind: string; hidden: number; rev: string | null };
}

describe('baselines', () => {
  it('--write-baseline records findings by rule, path, function and statement, with counts, and exits 0', async () => {
    const dir = tree();
    const before = await runCli(['scan', '.'], dir);
    expect(before.code).toBe(1);
    const w = await runCli(['scan', '--write-baseline', '.rlscov-baseline.json'], dir);
    expect(w.code, w.stderr).toBe(0);
    expect(w.stderr).toContain('wrote baseline .rlscov-baseline.json with 3 findings');
    expect(w.stdout).toContain('store/store.go:22'); // the report still lists what was recorded
    const b = parseBaseline(readFileSync(join(dir, '.rlscov-baseline.json'), 'utf8'), 'b');
    expect(b.entries.map((e) => [e.rule, e.path, e.function, e.key, e.count])).toEqual([
      ['RLS001', 'store/store.go', 'Store.Purge', 'DELETE FROM api_keys WHERE id = $1', 1],
      ['RLS001', 'store/store.go', 'Store.Void', "UPDATE invoices SET status = 'void' WHERE id = $1", 2],
    ]);
    // No positions in the file: nothing that moves when code moves.
    expect(readFileSync(join(dir, '.rlscov-baseline.json'), 'utf8')).not.toMatch(/"line"|"column"/);
  });

  it('--baseline passes on known findings, and keeps matching when they move to other lines', async () => {
    const dir = tree();
    await runCli(['scan', '--write-baseline', 'b.json'], dir);
    const same = await runCli(['scan', '--baseline', 'b.json'], dir);
    expect(same.code).toBe(0);
    expect(same.stdout).toContain('baseline b.json: 3 known findings not reported (baseline), 0 new');
    expect(same.stdout).not.toContain('store/store.go:22');

    // Move everything: lines above, and Purge after Void.
    edit(dir, (s) => {
      const purge = s.slice(s.indexOf('// Purge'), s.indexOf('// Void'));
      return s.replace(purge, '').replace('type Store struct', '// a comment\n// another\n\ntype Store struct') + '\n' + purge;
    });
    const moved = await runCli(['scan', '--baseline', 'b.json', '--format', 'json'], dir);
    expect(moved.code).toBe(0);
    const doc = JSON.parse(moved.stdout) as JsonDoc;
    expect(doc.baseline).toMatchObject({ unchanged: 3, new: 0, fixed: 0 });
    expect(doc.findings.map((f) => f.baselineState)).toEqual(['unchanged', 'unchanged', 'unchanged']);
    expect(doc.findings.find((f) => f.function === 'Store.Purge')!.location.line).toBeGreaterThan(30);
  });

  it('an edit to the statement text makes the finding new, and the old one counts as fixed', async () => {
    const dir = tree();
    await runCli(['scan', '--write-baseline', 'b.json'], dir);
    edit(dir, (s) => s.replace('DELETE FROM api_keys WHERE id = $1', 'DELETE FROM api_keys WHERE id = $1 AND label IS NULL'));
    const r = await runCli(['scan', '--baseline', 'b.json'], dir);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/store\/store\.go:22:\d+: error RLS001 DELETE from api_keys/);
    expect(r.stdout).toContain('2 known findings not reported (baseline), 1 new');
    expect(r.stdout).toContain('1 finding in the baseline is fixed');

    const sarif = JSON.parse((await runCli(['scan', '--baseline', 'b.json', '--format', 'sarif'], dir)).stdout) as {
      runs: Array<{ results: Array<{ baselineState?: string; properties: { function: string } }> }>;
    };
    const states = sarif.runs[0]!.results.map((x) => `${x.properties.function} ${x.baselineState}`);
    expect(states).toEqual(['Store.Purge new', 'Store.Void unchanged', 'Store.Void unchanged']);
  });

  it('counts fixed findings, in the text summary and the JSON report', async () => {
    const dir = tree();
    await runCli(['scan', '--write-baseline', 'b.json'], dir);
    edit(dir, (s) => s.replace('s.db.ExecContext(ctx, "DELETE FROM api_keys', 'tx.ExecContext(ctx, "DELETE FROM api_keys').replace('func (s *Store) Purge(ctx context.Context, id string) error {', 'func (s *Store) Purge(ctx context.Context, id string) error {\n\ttx, _ := s.db.BeginTx(ctx, nil)\n\t_, _ = tx.ExecContext(ctx, "SELECT set_config(\'app.current_org_id\', $1, true)", id)'));
    // Also drop one of the two identical Void writes.
    edit(dir, (s) => s.replace(`	if _, err := s.db.ExecContext(ctx, "UPDATE invoices SET status = 'void' WHERE id = $1", id); err != nil {\n\t\treturn err\n\t}\n`, ''));
    const text = await runCli(['scan', '--baseline', 'b.json'], dir);
    expect(text.code, text.stdout).toBe(0);
    expect(text.stdout).toContain('2 findings in the baseline are fixed');
    const doc = JSON.parse((await runCli(['scan', '--baseline', 'b.json', '--format', 'json'], dir)).stdout) as JsonDoc;
    expect(doc.baseline).toMatchObject({ unchanged: 1, new: 0, fixed: 2 });
    expect(doc.baseline.fixedEntries.map((e) => `${e.function} x${e.count}`).sort()).toEqual(['Store.Purge x1', 'Store.Void x1']);
  });

  it('a third copy of a statement recorded twice is new', async () => {
    const dir = tree();
    await runCli(['scan', '--write-baseline', 'b.json'], dir);
    edit(dir, (s) => s.replace(`	_, err := s.db.ExecContext(ctx, "UPDATE invoices SET status = 'void' WHERE id = $1", id)\n\treturn err\n}`, `	_, _ = s.db.ExecContext(ctx, "UPDATE invoices SET status = 'void' WHERE id = $1", id)\n\t_, err := s.db.ExecContext(ctx, "UPDATE invoices SET status = 'void' WHERE id = $1", id)\n\treturn err\n}`));
    const r = await runCli(['scan', '--baseline', 'b.json'], dir);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('3 known findings not reported (baseline), 1 new');
  });

  it('refuses a missing or malformed baseline with exit 2 and one line', async () => {
    const dir = tree();
    const missing = await runCli(['scan', '--baseline', 'nope.json'], dir);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe('rlscov: baseline file not found: nope.json (create it with --write-baseline nope.json)\n');
    writeFileSync(join(dir, 'bad.json'), '{"version": 7, "entries": []}');
    const bad = await runCli(['scan', '--baseline', 'bad.json'], dir);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toContain('baseline bad.json: unsupported version 7');
    writeFileSync(join(dir, 'bad.json'), '{"version": 1, "entries": [');
    expect((await runCli(['scan', '--baseline', 'bad.json'], dir)).stderr).toMatch(/^rlscov: baseline bad\.json: not valid JSON/);
  });
});

// ---------------------------------------------------------------------------------------------------------------

const LEGACY_GO = `package legacy

import (
	"context"
	"database/sql"
)

// Wipe is an old unscoped write, committed before rlscov was adopted.
func Wipe(ctx context.Context, db *sql.DB, orgID string) error {
	_, err := db.ExecContext(ctx, "DELETE FROM invoices WHERE org_id = $1", orgID)
	return err
}
`;

/** A repository with one commit: the base tree, a safe store and the legacy finding. */
function repo(): string {
  const dir = tempDir('rlscov-diff-');
  const safeStore = STORE_GO.slice(0, STORE_GO.indexOf('// Purge'));
  writeTree(dir, { ...baseTree(), 'store/store.go': safeStore, 'legacy/legacy.go': LEGACY_GO });
  git(dir, 'init', '-q');
  git(dir, 'add', '-A');
  git(dir, 'commit', '-qm', 'initial');
  return dir;
}

const PURGE = `
func (s *Store) Purge(ctx context.Context, id string) error {
	_, err := s.db.ExecContext(ctx, "DELETE FROM api_keys WHERE id = $1", id)
	return err
}
`;

describe('--new-from-rev / --new-from-merge-base', () => {
  it('reports only findings on lines changed since REV (committed, staged, unstaged and untracked changes)', async () => {
    const dir = repo();
    const full = await runCli(['scan'], dir);
    expect(full.stdout).toContain('legacy/legacy.go:10');

    appendFileSync(join(dir, 'store/store.go'), PURGE);
    git(dir, 'commit', '-qam', 'add Purge');
    const r = await runCli(['scan', '--new-from-rev', 'HEAD~1'], dir);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/store\/store\.go:\d+:\d+: error RLS001 DELETE from api_keys/);
    expect(r.stdout).not.toContain('legacy/legacy.go:10');
    expect(r.stdout).toMatch(/reporting limited to lines changed since HEAD~1 \([0-9a-f]{12}\); 1 finding elsewhere not shown/);
    expect((await runCli(['scan', '--new-from-rev', 'HEAD'], dir)).code).toBe(0);

    // Unstaged edit of a tracked file, and an untracked new file: both count as changed.
    appendFileSync(join(dir, 'legacy/legacy.go'), `\nfunc Wipe2(ctx context.Context, db *sql.DB) error {\n\t_, err := db.ExecContext(ctx, "DELETE FROM api_keys")\n\treturn err\n}\n`);
    writeTree(dir, { 'jobs/jobs.go': `package jobs\n\nimport (\n\t"context"\n\t"database/sql"\n)\n\nfunc Run(ctx context.Context, db *sql.DB) error {\n\t_, err := db.ExecContext(ctx, "UPDATE invoices SET status = 'x'")\n\treturn err\n}\n` });
    const json = JSON.parse((await runCli(['scan', '--new-from-rev', 'HEAD', '--format', 'json'], dir)).stdout) as JsonDoc;
    expect(json.findings.map((f) => `${f.location.file}:${f.location.line}`).sort()).toEqual(['jobs/jobs.go:9', 'legacy/legacy.go:15']);
    expect(json.limitedTo).toMatchObject({ kind: 'changed-lines', rev: 'HEAD', hidden: 2 }); // Wipe and Purge, committed
  });

  it('follows renames: a moved file has no new findings, an edited line in it does', async () => {
    const dir = repo();
    git(dir, 'mv', 'legacy/legacy.go', 'legacy/old.go');
    git(dir, 'commit', '-qm', 'rename');
    expect((await runCli(['scan', '--new-from-rev', 'HEAD~1'], dir)).code).toBe(0);
    const text = readFileSync(join(dir, 'legacy/old.go'), 'utf8');
    renameSync(join(dir, 'legacy/old.go'), join(dir, 'legacy/older.go'));
    writeFileSync(join(dir, 'legacy/older.go'), text.replace('WHERE org_id = $1', 'WHERE org_id = $1 AND true'));
    git(dir, 'add', '-A');
    git(dir, 'commit', '-qm', 'rename and edit');
    const r = await runCli(['scan', '--new-from-rev', 'HEAD~2'], dir);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^legacy\/older\.go:10:\d+: error RLS001/m);
  });

  it('--new-from-merge-base diffs against the merge base of HEAD and the branch', async () => {
    const dir = repo();
    git(dir, 'checkout', '-qb', 'feature');
    appendFileSync(join(dir, 'store/store.go'), PURGE);
    git(dir, 'commit', '-qam', 'feature: Purge');
    git(dir, 'checkout', '-q', 'main');
    appendFileSync(join(dir, 'legacy/legacy.go'), '\n// touched on main after the branch\n');
    git(dir, 'commit', '-qam', 'main moves on');
    git(dir, 'checkout', '-q', 'feature');
    const r = await runCli(['scan', '--new-from-merge-base', 'main'], dir);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/store\/store\.go:\d+:\d+: error RLS001/);
    expect(r.stdout).toContain('lines changed since the merge base of HEAD and main');
  });

  it('an unknown revision, no repository or no git: exit 2 with one line naming the rev, never a full report', async () => {
    const dir = repo();
    const r = await runCli(['scan', '--new-from-rev', 'no-such-branch'], dir);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^rlscov: --new-from-rev no-such-branch: unknown revision "no-such-branch"[^\n]*\n$/);

    const plain = tempDir('rlscov-nogit-');
    writeTree(plain, baseTree());
    const n = await runCli(['scan', '--new-from-merge-base', 'main'], plain);
    expect(n.code).toBe(2);
    expect(n.stderr).toMatch(/^rlscov: --new-from-merge-base main: .* is not inside a git repository/);

    const noGit: GitRunner = () => {
      throw Object.assign(new Error('spawn git ENOENT'), { code: 'ENOENT' });
    };
    expect(() => changedSince(dir, { flag: '--new-from-rev', rev: 'main' }, noGit)).toThrow(UsageError);
    expect(() => changedSince(dir, { flag: '--new-from-rev', rev: 'main' }, noGit)).toThrow('--new-from-rev main: git is not installed or not on PATH');

    const both = await runCli(['scan', '--new-from-rev', 'HEAD', '--new-from-merge-base', 'main'], dir);
    expect(both.code).toBe(2);
  });
});

describe('baselines with limited reporting', () => {
  it('--new-from-rev with --baseline: entries outside the changed lines are neither shown nor counted as fixed', async () => {
    const dir = repo();
    await runCli(['scan', '--write-baseline', 'b.json'], dir);
    git(dir, 'add', 'b.json');
    git(dir, 'commit', '-qm', 'baseline');
    appendFileSync(join(dir, 'store/store.go'), PURGE);
    const r = await runCli(['scan', '--new-from-rev', 'HEAD', '--baseline', 'b.json'], dir);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('baseline b.json: 0 known findings not reported (baseline), 1 new');
    expect(r.stdout).not.toContain('in the baseline are fixed');
  });

  it('rlscov pre-commit reports findings in the given files only, and honours --baseline', async () => {
    const dir = repo();
    const legacy = await runCli(['pre-commit', 'legacy/legacy.go'], dir);
    expect(legacy.code).toBe(1);
    expect(legacy.stdout).toMatch(/^legacy\/legacy\.go:10:\d+: error RLS001/m);
    const store = await runCli(['pre-commit', 'store/store.go'], dir);
    expect(store.code).toBe(0);
    expect(store.stdout).toContain('reporting limited to the file given; 1 finding elsewhere not shown');
    await runCli(['scan', '--write-baseline', 'b.json'], dir);
    expect((await runCli(['pre-commit', '--baseline', 'b.json', 'legacy/legacy.go', 'store/store.go'], dir)).code).toBe(0);
    expect(await runCli(['pre-commit'], dir)).toEqual({ code: 0, stdout: 'rlscov: no files given; nothing to check\n', stderr: '' });
  });
});

describe('parseUnifiedDiff', () => {
  it('reads new-side lines of hunks, new files, renames and quoted paths; skips deletions', () => {
    const diff = [
      'diff --git a/a.go b/a.go',
      'index 1..2 100644',
      '--- a/a.go',
      '+++ b/a.go',
      '@@ -3 +3 @@ x',
      '-old',
      '+new',
      '@@ -10,0 +11,2 @@',
      '+a',
      '+b',
      '@@ -20,3 +22,0 @@',
      '-gone',
      'diff --git a/n.go b/n.go',
      'new file mode 100644',
      '--- /dev/null',
      '+++ b/n.go',
      '@@ -0,0 +1,4 @@',
      'diff --git a/old.go b/sub/new.go',
      'similarity index 100%',
      'rename from old.go',
      'rename to sub/new.go',
      'diff --git a/r.go b/r2.go',
      'similarity index 90%',
      'rename from r.go',
      'rename to r2.go',
      '--- a/r.go',
      '+++ b/r2.go',
      '@@ -5 +5 @@',
      'diff --git a/d.go b/d.go',
      'deleted file mode 100644',
      '--- a/d.go',
      '+++ /dev/null',
      '@@ -1,3 +0,0 @@',
      'diff --git "a/t\\303\\251st.go" "b/t\\303\\251st.go"',
      '--- "a/t\\303\\251st.go"',
      '+++ "b/t\\303\\251st.go"',
      '@@ -1 +1 @@',
    ].join('\n');
    const c = parseUnifiedDiff(diff);
    expect([...(c.get('a.go') as Set<number>)].sort((x, y) => x - y)).toEqual([3, 11, 12]);
    expect(c.get('n.go')).toBe('all');
    expect(c.has('sub/new.go')).toBe(false);
    expect([...(c.get('r2.go') as Set<number>)]).toEqual([5]);
    expect(c.has('d.go')).toBe(false);
    expect([...(c.get('tést.go') as Set<number>)]).toEqual([1]);
  });
});

describe('--help', () => {
  it('documents the baseline and changed-lines flags', async () => {
    const help = (await runCli(['scan', '--help'], tempDir('rlscov-help-'))).stdout;
    for (const flag of ['--baseline', '--write-baseline', '--new-from-rev', '--new-from-merge-base']) expect(help).toContain(flag);
  });
});
