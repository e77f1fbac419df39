// GitHub integration at the CLI level: `--format github` workflow-command annotations, and stable identities of
// SARIF results (partialFingerprints.primaryLocationLineHash) across edits, from real runs on a temp tree.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GITHUB_ANNOTATIONS_PER_LEVEL } from '../src/report/index.js';
import { baseTree, removeTempDirs, runCli, tempDir, writeTree } from './helpers/cli.js';

afterAll(removeTempDirs);

function manyWrites(n: number): string {
  const fns = Array.from({ length: n }, (_, i) => `func Purge${i}(ctx context.Context, db *sql.DB) error {\n\t_, err := db.ExecContext(ctx, "DELETE FROM api_keys WHERE label = 'k${i}'")\n\treturn err\n}\n`);
  return `package keys\n\nimport (\n\t"context"\n\t"database/sql"\n)\n\n${fns.join('\n')}`;
}

describe('--format github (CLI)', () => {
  it('prints one ::error per finding with repository-relative file, line and column, and exits by --fail-on', async () => {
    const dir = tempDir('rlscov-gh-');
    writeTree(dir, { ...baseTree(), 'keys/keys.go': manyWrites(2) });
    const r = await runCli(['scan', '--format', 'github'], dir);
    expect(r.code).toBe(1);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^::error file=keys\/keys\.go,line=9,col=12,endLine=9,endColumn=\d+,title=RLS001 unscoped-write::DELETE from api_keys runs on db/);
    expect(lines[1]).toMatch(/^::error file=keys\/keys\.go,line=14,col=12,/);
    expect(lines[2]).toBe('rlscov: 2 errors, 0 warnings, 0 notes');
    expect((await runCli(['scan', '--format', 'github', '--fail-on', 'none'], dir)).code).toBe(0);
  });

  it('stays within GitHub\'s per-step annotation limit and says how many did not fit', async () => {
    const dir = tempDir('rlscov-gh-many-');
    const n = GITHUB_ANNOTATIONS_PER_LEVEL + 3;
    writeTree(dir, { ...baseTree(), 'keys/keys.go': manyWrites(n) });
    const r = await runCli(['scan', '--format', 'github'], dir);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines.filter((l) => l.startsWith('::error '))).toHaveLength(GITHUB_ANNOTATIONS_PER_LEVEL);
    expect(lines).toContain('::notice::rlscov: 3 more findings not annotated; see the SARIF or text report');
    expect(lines.at(-1)).toBe(`rlscov: ${n} errors, 0 warnings, 0 notes`);
  });

  it('annotates only findings on changed lines or not in the baseline, with the limit said in plain text', async () => {
    const dir = tempDir('rlscov-gh-base-');
    writeTree(dir, { ...baseTree(), 'keys/keys.go': manyWrites(2) });
    await runCli(['scan', '--write-baseline', 'b.json'], dir);
    writeFileSync(join(dir, 'keys/keys.go'), readFileSync(join(dir, 'keys/keys.go'), 'utf8').replace("'k1'", "'k1-changed'"));
    const r = await runCli(['scan', '--format', 'github', '--baseline', 'b.json'], dir);
    expect(r.code).toBe(1);
    expect(r.stdout.split('\n').filter((l) => l.startsWith('::error '))).toEqual([expect.stringMatching(/^::error file=keys\/keys\.go,line=14,/)]);
    expect(r.stdout).toContain('baseline b.json: 1 known finding not reported (baseline), 1 new');
  });
});

// ---------------------------------------------------------------------------------------------------------------

const KEYS_GO = `package keys

import (
	"context"
	"database/sql"
)

type Store struct{ db *sql.DB }

// Purge writes on the pool: the finding whose identity is followed.
func (s *Store) Purge(ctx context.Context, id string) error {
	_, err := s.db.ExecContext(ctx, "DELETE FROM api_keys WHERE id = $1", id)
	return err
}
`;

interface SarifLog {
  runs: Array<{
    results: Array<{
      ruleId: string;
      partialFingerprints?: { primaryLocationLineHash: string };
      locations: Array<{ physicalLocation: { region: { startLine: number } } }>;
      properties: { function: string; key: string };
    }>;
  }>;
}

async function purgeResult(dir: string) {
  const r = await runCli(['scan', '--format', 'sarif'], dir);
  const log = JSON.parse(r.stdout) as SarifLog;
  const hits = log.runs[0]!.results.filter((x) => x.ruleId === 'RLS001' && x.properties.function === 'Store.Purge');
  expect(hits).toHaveLength(1);
  return { line: hits[0]!.locations[0]!.physicalLocation.region.startLine, hash: hits[0]!.partialFingerprints!.primaryLocationLineHash };
}

describe('stable identities (SARIF partialFingerprints)', () => {
  it('keeps primaryLocationLineHash when unrelated lines above the finding move, and changes it with its own line', async () => {
    const dir = tempDir('rlscov-fp-');
    writeTree(dir, { ...baseTree(), 'keys/keys.go': KEYS_GO });
    const file = join(dir, 'keys/keys.go');
    const before = await purgeResult(dir);
    expect(before.line).toBe(12);
    expect(before.hash).toMatch(/^[0-9a-f]+:1$/);

    // Unrelated edits above: a new function, comments, blank lines, a changed import block.
    const above = readFileSync(file, 'utf8').replace(
      'type Store struct{ db *sql.DB }',
      '// Store keeps API keys.\n//\n// It is safe for concurrent use.\ntype Store struct{ db *sql.DB }\n\n\nfunc (s *Store) Name() string { return "keys" }\n',
    );
    writeFileSync(file, above);
    const moved = await purgeResult(dir);
    expect(moved.line).toBe(19);
    expect(moved.hash).toBe(before.hash);

    // Re-indenting the line keeps it too (spaces and tabs are not hashed).
    writeFileSync(file, above.replace('\t_, err := s.db.ExecContext(ctx, "DELETE', '\t\t_, err := s.db.ExecContext(ctx, "DELETE'));
    expect((await purgeResult(dir)).hash).toBe(before.hash);

    // Editing the finding's own line changes it.
    writeFileSync(file, above.replace('WHERE id = $1", id)', 'WHERE id = $1 AND label IS NULL", id)'));
    const edited = await purgeResult(dir);
    expect(edited.line).toBe(19);
    expect(edited.hash).not.toBe(before.hash);
  });
});
