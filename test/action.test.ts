// The GitHub Action (action.yml): its declared shape, and its scan step run for real with bash against a temp tree
// (GitHub's expressions replaced by the environment the runner would give the step).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parse } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { baseTree, removeTempDirs, tempDir, writeTree } from './helpers/cli.js';

afterAll(removeTempDirs);

const REPO = resolve(__dirname, '..');

interface Step {
  name?: string;
  id?: string;
  uses?: string;
  run?: string;
  shell?: string;
  if?: string;
  with?: Record<string, string>;
  env?: Record<string, string>;
  'working-directory'?: string;
}
interface Action {
  name: string;
  description: string;
  inputs: Record<string, { description: string; required?: boolean; default?: string }>;
  outputs: Record<string, { description: string; value: string }>;
  runs: { using: string; steps: Step[] };
}

const action = parse(readFileSync(join(REPO, 'action.yml'), 'utf8')) as Action;
const steps = action.runs.steps;
const scan = steps.find((s) => s.id === 'scan')!;

describe('action.yml', () => {
  it('is a composite action with the inputs paths, config, category and fail-on', () => {
    expect(action.name).toBe('rlscov');
    expect(action.description.length).toBeGreaterThan(20);
    expect(action.runs.using).toBe('composite');
    for (const k of ['paths', 'config', 'category', 'fail-on']) {
      expect(action.inputs[k], k).toBeDefined();
      expect(action.inputs[k]!.description.length, k).toBeGreaterThan(10);
      expect(typeof action.inputs[k]!.default, `${k} has a default`).toBe('string');
    }
    expect(action.inputs['fail-on']!.default).toBe('error');
    expect(action.inputs['paths']!.default).toBe('.');
  });

  it('has outputs sarif-file and findings, taken from the scan step', () => {
    expect(action.outputs['sarif-file']!.value).toBe('${{ steps.scan.outputs.sarif-file }}');
    expect(action.outputs['findings']!.value).toBe('${{ steps.scan.outputs.findings }}');
  });

  it('sets up Node, installs rlscov in the action directory, scans, then uploads SARIF even when the scan failed', () => {
    expect(steps.map((s) => s.uses ?? s.id ?? s.name)).toEqual(['actions/setup-node@v4', 'Install rlscov', 'scan', 'github/codeql-action/upload-sarif@v3']);
    for (const s of steps.filter((x) => x.run)) expect(s.shell, `${s.name} needs a shell (composite actions require it)`).toBe('bash');
    const install = steps[1]!;
    expect(install['working-directory']).toBe('${{ github.action_path }}');
    expect(install.run).toContain('npm ci');
    // Inputs reach the script through env, never pasted into the script text (no injection through inputs).
    expect(scan.run).not.toContain('${{');
    expect(scan.env).toMatchObject({
      RLSCOV_ACTION_PATHS: '${{ inputs.paths }}',
      RLSCOV_ACTION_CONFIG: '${{ inputs.config }}',
      RLSCOV_ACTION_CATEGORY: '${{ inputs.category }}',
      RLSCOV_ACTION_FAIL_ON: '${{ inputs.fail-on }}',
      RLSCOV_ACTION_BIN: '${{ github.action_path }}/dist/src/cli/bin.cjs',
    });
    const upload = steps[3]!;
    expect(upload.if).toMatch(/^always\(\) && /);
    expect(upload.if).toContain("steps.scan.outputs.sarif-file != ''");
    expect(upload.with).toEqual({ sarif_file: '${{ steps.scan.outputs.sarif-file }}' });
    // The built CLI the scan step runs is what `npm ci` (prepare: build) produces.
    const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { bin: Record<string, string>; scripts: Record<string, string> };
    expect(pkg.bin['rlscov']).toBe('dist/src/cli/bin.cjs');
    expect(pkg.scripts['prepare']).toBeDefined();
  });
});

// ---------------------------------------------------------------------------------------------------------------

const UNSCOPED_GO = `package keys

import (
	"context"
	"database/sql"
)

func Purge(ctx context.Context, db *sql.DB, id string) error {
	_, err := db.ExecContext(ctx, "DELETE FROM api_keys WHERE id = $1", id)
	return err
}
`;

/** Runs the scan step's script as the runner would: bash, in working-directory, with the step's env. */
function runScanStep(workspace: string, inputs: Record<string, string>) {
  const defaults = Object.fromEntries(Object.entries(action.inputs).map(([k, v]) => [k, v.default ?? '']));
  const i = { ...defaults, ...inputs };
  const out = join(tempDir('rlscov-action-out-'), 'output');
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  const r = spawnSync('bash', ['-e', '-c', scan.run!], {
    cwd: join(workspace, i['working-directory']!),
    encoding: 'utf8',
    env: {
      PATH: process.env['PATH'],
      HOME: process.env['HOME'],
      NO_COLOR: '1',
      NODE_OPTIONS: `--import=${tsx}`, // the test runs the TypeScript sources; the action runs dist/
      RLSCOV_CACHE_DIR: tempDir('rlscov-action-cache-'),
      GITHUB_OUTPUT: out,
      GITHUB_WORKSPACE: workspace,
      RLSCOV_ACTION_BIN: join(REPO, 'src/cli/bin.cts'),
      RLSCOV_ACTION_PATHS: i['paths']!,
      RLSCOV_ACTION_CONFIG: i['config']!,
      RLSCOV_ACTION_CATEGORY: i['category']!,
      RLSCOV_ACTION_FAIL_ON: i['fail-on']!,
      RLSCOV_ACTION_ARGS: i['args']!,
      RLSCOV_ACTION_SARIF: join(tempDir('rlscov-action-runner-temp-'), 'rlscov.sarif'),
    },
  });
  const outputs = existsSync(out)
    ? Object.fromEntries(readFileSync(out, 'utf8').trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]))
    : {};
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, outputs };
}

describe('action.yml scan step (run with bash)', () => {
  it('writes SARIF, sets the outputs, annotates, and fails by fail-on', () => {
    const ws = tempDir('rlscov-action-');
    writeTree(ws, { ...baseTree(), 'svc/keys/keys.go': UNSCOPED_GO });
    const r = runScanStep(ws, { category: 'backend' });
    expect(r.code, r.stderr).toBe(1);
    expect(r.outputs['findings']).toBe('1');
    const sarif = JSON.parse(readFileSync(r.outputs['sarif-file']!, 'utf8')) as {
      runs: Array<{ automationDetails: { id: string }; results: Array<{ locations: Array<{ physicalLocation: { artifactLocation: { uri: string } } }> }> }>;
    };
    expect(sarif.runs[0]!.automationDetails.id).toBe('rlscov/backend/');
    expect(sarif.runs[0]!.results[0]!.locations[0]!.physicalLocation.artifactLocation.uri).toBe('svc/keys/keys.go');
    expect(r.stdout).toMatch(/^::error file=svc\/keys\/keys\.go,line=9,col=\d+,.*::DELETE from api_keys/m);

    const lenient = runScanStep(ws, { 'fail-on': 'none' });
    expect(lenient.code).toBe(0);
    expect(lenient.outputs['findings']).toBe('1');
  });

  it('keeps paths repository-relative from a working-directory, and passes extra args (a baseline)', () => {
    const ws = tempDir('rlscov-action-wd-');
    writeTree(ws, { 'svc/go.mod': 'module example.com/svc\n\ngo 1.22\n', 'svc/migrations/001.sql': baseTree()['migrations/001_init.sql']!, 'svc/keys/keys.go': UNSCOPED_GO });
    const first = runScanStep(ws, { 'working-directory': 'svc', args: '--write-baseline .rlscov-baseline.json' });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/^::error file=svc\/keys\/keys\.go,/m);
    const again = runScanStep(ws, { 'working-directory': 'svc', args: '--baseline .rlscov-baseline.json' });
    expect(again.code, again.stderr).toBe(0);
    expect(again.outputs['findings']).toBe('0');
    const sarif = JSON.parse(readFileSync(again.outputs['sarif-file']!, 'utf8')) as { runs: Array<{ results: Array<{ baselineState: string }> }> };
    expect(sarif.runs[0]!.results.map((x) => x.baselineState)).toEqual(['unchanged']);
  });

  it('stops with exit 2 and no outputs on a config error, so nothing half-written is uploaded', () => {
    const ws = tempDir('rlscov-action-bad-');
    writeTree(ws, { ...baseTree(), '.rlscov.yml': 'tset: true\n', 'keys.go': UNSCOPED_GO });
    const r = runScanStep(ws, {});
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('rlscov: .rlscov.yml: unknown key "tset"');
    expect(r.outputs).toEqual({});
  });
});
