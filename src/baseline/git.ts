// The lines changed since a revision, from the local git: `git diff -U0 <base>` against the working tree (staged and
// unstaged edits), plus untracked files as wholly new. Every failure is a UsageError with one line that names the
// revision, so `--new-from-rev` never silently falls back to a full report.
import { execFileSync } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { UsageError } from '../errors.js';
import { parseUnifiedDiff, type ChangedLines } from './diff.js';

/** Runs git with `args` in `cwd` and returns stdout; throws like execFileSync. Injectable for tests. */
export type GitRunner = (args: string[], cwd: string) => string;

export const runGit: GitRunner = (args, cwd) =>
  execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 512 * 1024 * 1024 });

export interface DiffBase {
  /** How the user named it: `--new-from-rev main` or `--new-from-merge-base origin/main`. */
  flag: '--new-from-rev' | '--new-from-merge-base';
  rev: string;
}

export interface ChangedSince {
  /** Absolute, symlink-resolved repository top level; ChangedLines paths are relative to it. */
  topLevel: string;
  /** Full commit id the diff is taken against. */
  base: string;
  changed: ChangedLines;
}

function failure(e: unknown): { missing: boolean; stderr: string } {
  const err = e as NodeJS.ErrnoException & { stderr?: string | Buffer };
  const stderr = String(err.stderr ?? '').trim().split('\n')[0] ?? '';
  return { missing: err.code === 'ENOENT', stderr };
}

/** Changed lines since `base` for the repository holding `cwd`. */
export function changedSince(cwd: string, base: DiffBase, git: GitRunner = runGit): ChangedSince {
  const what = `${base.flag} ${base.rev}`;
  if (base.rev.trim() === '' || base.rev.startsWith('-')) throw new UsageError(`${what}: not a revision`);
  let topLevel: string;
  try {
    topLevel = git(['rev-parse', '--show-toplevel'], cwd).trim();
  } catch (e) {
    const f = failure(e);
    if (f.missing) throw new UsageError(`${what}: git is not installed or not on PATH; it is needed to find the changed lines`);
    throw new UsageError(`${what}: ${cwd} is not inside a git repository (${f.stderr || 'git rev-parse failed'})`);
  }
  let commit: string;
  try {
    commit = git(['rev-parse', '--verify', '--quiet', `${base.rev}^{commit}`], topLevel).trim();
  } catch {
    throw new UsageError(`${what}: unknown revision "${base.rev}" in ${topLevel} (is it fetched? in CI use a full clone, e.g. fetch-depth: 0)`);
  }
  if (base.flag === '--new-from-merge-base') {
    try {
      commit = git(['merge-base', commit, 'HEAD'], topLevel).trim();
    } catch {
      throw new UsageError(`${what}: no merge base between HEAD and "${base.rev}" (is the history fetched? in CI use fetch-depth: 0)`);
    }
  }
  let diff: string;
  let untracked: string;
  try {
    diff = git(
      ['-c', 'core.quotePath=false', 'diff', '-U0', '-M', '--no-color', '--no-ext-diff', '--no-textconv', '--no-relative', '--src-prefix=a/', '--dst-prefix=b/', commit, '--'],
      topLevel,
    );
    untracked = git(['ls-files', '--others', '--exclude-standard', '-z'], topLevel);
  } catch (e) {
    throw new UsageError(`${what}: git diff failed: ${failure(e).stderr || (e as Error).message}`);
  }
  const changed = parseUnifiedDiff(diff);
  for (const p of untracked.split('\0')) if (p) changed.set(p, 'all');
  return { topLevel: safeRealpath(topLevel), base: commit, changed };
}

function safeRealpath(p: string): string {
  try {
    return realpathSync.native(p);
  } catch {
    return p;
  }
}

/**
 * A look-up from a run's root-relative finding path to that file's changed lines: paths are re-based from the
 * run's root onto the repository's top level (both symlink-resolved).
 */
export function changedLinesFor(since: ChangedSince, runRoot: string): (file: string) => Set<number> | 'all' | undefined {
  const root = safeRealpath(runRoot);
  return (file) => {
    const abs = isAbsolute(file) ? file : resolve(root, file);
    const rel = relative(since.topLevel, abs).split(sep).join('/');
    return since.changed.get(rel);
  };
}
