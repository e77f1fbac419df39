// Suppression hygiene through the CLI: allow entries that match no finding are reported (RLS008, on the entry's
// line in the config file), and --no-suppressions (audit mode) reports suppressed findings as live.
import { afterAll, describe, expect, it } from 'vitest';
import { baseTree, removeTempDirs, runCli, tempDir, writeTree } from './helpers/cli.js';

afterAll(removeTempDirs);

const JOBS_GO = `package jobs

import (
	"context"
	"database/sql"
)

type Jobs struct{ db *sql.DB }

// Purge is allowed by the config.
func (j *Jobs) Purge(ctx context.Context) error {
	_, err := j.db.ExecContext(ctx, "DELETE FROM api_keys WHERE label = 'expired'")
	return err
}

// Reset is suppressed in the source.
func (j *Jobs) Reset(ctx context.Context) error {
	//rlscov:ignore RLS001 demo data reset, runs as the owner role in staging only
	_, err := j.db.ExecContext(ctx, "UPDATE invoices SET status = 'draft'")
	return err
}
`;

const CONFIG = `# allow-list with one live and two stale entries
allow:
  - site: "jobs/jobs.go::Jobs.Purge"
    reason: "retention job, owner role"
  - site: "jobs/jobs.go::Purge"
    reason: "stale: Purge became a method"
  - site: "cmd/old/**::*"
    reason: "stale: the directory is gone"
`;

function tree(config = CONFIG, name = '.rlscov.yml'): string {
  const dir = tempDir('rlscov-suppress-');
  writeTree(dir, { ...baseTree(), 'jobs/jobs.go': JOBS_GO, [name]: config });
  return dir;
}

interface JsonDoc {
  findings: Array<{ ruleId: string; severity: string; message: string; location: { file: string; line: number; column: number }; suppressed: unknown }>;
}

describe('unused allow entries (RLS008)', () => {
  it('are reported as warnings on their line in the config file; used ones are not', async () => {
    const dir = tree();
    const r = await runCli(['scan'], dir);
    expect(r.code, r.stdout).toBe(0); // RLS008 is a warning; the default --fail-on is error
    const lines = r.stdout.split('\n').filter((l) => l.startsWith('.rlscov.yml:'));
    expect(lines).toEqual([
      `.rlscov.yml:5:1: warning RLS008 allow entry "jobs/jobs.go::Purge" matches no finding's function; remove it, or fix its path or function name`,
      `.rlscov.yml:7:1: warning RLS008 allow entry "cmd/old/**::*" matches no finding's function; remove it, or fix its path or function name`,
    ]);
    expect((await runCli(['scan', '--fail-on', 'warning'], dir)).code).toBe(1);

    const sarif = JSON.parse((await runCli(['scan', '--format', 'sarif'], dir)).stdout) as {
      runs: Array<{ results: Array<{ ruleId: string; level: string; locations: Array<{ physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number } } }> }> }>;
    };
    const rls008 = sarif.runs[0]!.results.filter((x) => x.ruleId === 'RLS008');
    expect(rls008.map((x) => `${x.level} ${x.locations[0]!.physicalLocation.artifactLocation.uri}:${x.locations[0]!.physicalLocation.region.startLine}`)).toEqual([
      'warning .rlscov.yml:5',
      'warning .rlscov.yml:7',
    ]);
  });

  it('count an entry as used when a directive suppressed its function\'s finding first', async () => {
    const dir = tree(`allow:\n  - site: "jobs/jobs.go::Jobs.Reset"\n    reason: "staging only"\n`);
    const doc = JSON.parse((await runCli(['scan', '--format', 'json'], dir)).stdout) as JsonDoc;
    expect(doc.findings.filter((f) => f.ruleId === 'RLS008')).toEqual([]);
  });

  it('also works for .rlscov.json (lines located in the JSON text)', async () => {
    const dir = tree(JSON.stringify({ allow: [{ site: 'jobs/jobs.go::Jobs.Purge', reason: 'owner role' }, { site: 'jobs/jobs.go::Gone', reason: 'stale' }] }, null, 2), '.rlscov.json');
    const doc = JSON.parse((await runCli(['scan', '--format', 'json'], dir)).stdout) as JsonDoc;
    expect(doc.findings.filter((f) => f.ruleId === 'RLS008').map((f) => `${f.location.file}:${f.location.line} ${f.message.slice(0, 30)}`)).toEqual([
      '.rlscov.json:7 allow entry "jobs/jobs.go::Gon',
    ]);
  });

  it('are not reported when RLS008 is off, or in audit mode (--no-suppressions applies no entry)', async () => {
    const off = tree(`${CONFIG}rules:\n  RLS008: off\n`);
    expect((await runCli(['scan'], off)).stdout).not.toContain('RLS008');
    const dir = tree();
    expect((await runCli(['scan', '--no-suppressions'], dir)).stdout).not.toContain('RLS008');
  });
});

describe('--no-suppressions (audit mode)', () => {
  it('reports findings suppressed by //rlscov:ignore and by allow entries as live, and fails on them', async () => {
    const dir = tree(`allow:\n  - site: "jobs/jobs.go::Jobs.Purge"\n    reason: "retention job, owner role"\n`);
    const normal = JSON.parse((await runCli(['scan', '--format', 'json'], dir)).stdout) as JsonDoc;
    expect(normal.findings.map((f) => `${f.ruleId}:${f.location.line}:${f.suppressed ? 'suppressed' : 'live'}`)).toEqual(['RLS001:12:suppressed', 'RLS001:19:suppressed']);
    expect((await runCli(['scan'], dir)).code).toBe(0);

    const audit = await runCli(['scan', '--no-suppressions'], dir);
    expect(audit.code).toBe(1);
    expect(audit.stdout).toMatch(/^jobs\/jobs\.go:12:\d+: error RLS001 DELETE from api_keys/m);
    expect(audit.stdout).toMatch(/^jobs\/jobs\.go:19:\d+: error RLS001 UPDATE of invoices/m);
    const doc = JSON.parse((await runCli(['scan', '--no-suppressions', '--format', 'json'], dir)).stdout) as JsonDoc;
    expect(doc.findings.every((f) => f.suppressed === null)).toBe(true);
    // --suppressions is the default and can be spelled out.
    expect((await runCli(['scan', '--suppressions'], dir)).code).toBe(0);
  });

  it('is documented in --help', async () => {
    const help = await runCli(['scan', '--help'], tempDir('rlscov-help-'));
    expect(help.stdout).toContain('--no-suppressions');
  });
});
