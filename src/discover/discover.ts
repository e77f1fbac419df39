// Which files a run looks at: the Go files to analyse and the SQL migrations to build the RLS catalog from.
// All file access goes through the Host (directory walks through `host.globFs`, fast-glob's fs adapter).
//
// Rules:
// - A path that is a directory is walked for `**/*.go`, skipping `vendor/`, `node_modules/`, `testdata/` and hidden
//   (`.*`, including `.git`) directories below it, hidden files, `*_test.go` (unless includeTests) and generated files
//   (`// Code generated ... DO NOT EDIT.` before the package clause, looked for in the first 4 KB).
// - Symbolic links to directories are not followed (like the go tool's `./...`), so link loops cannot make the walk
//   run forever; symbolic links to .go files are scanned under the link's name.
// - A path that is a .go file is taken as it is: the default excludes (directories, tests, generated) do not apply
//   to files named explicitly. A path that is neither a directory nor a .go file, or that does not exist, is a
//   UsageError.
// - Config `include` globs (when non-empty) keep only matching Go files and `exclude` globs drop Go files; both are
//   relative to `baseDir` (default root) and apply to walked and explicitly named files alike (so a pre-commit hook
//   that passes file names still honours them).
// - Migrations: `**/migrations/**/*.sql` under every directory path (skipping vendor/, node_modules/ and hidden
//   directories, and files matching `exclude`), plus `migrationGlobs` (relative to root, or absolute; a directory
//   stands for every .sql file below it; these are taken as given, `exclude` does not apply).
// - Files or directories that cannot be read become `problems` (root-relative path and reason); they never throw.
import * as path from 'node:path';
import { globMatcher, relativePosix } from '../config/allow.js';
import { UsageError } from '../errors.js';
import { nodeHost, readHead, type GlobFs, type Host } from '../host.js';
import type { FileProblem } from '../model.js';

export interface DiscoverOptions {
  /** Files or directories to scan (absolute; relative ones are resolved against root). */
  paths: string[];
  /** Root of the run: problems are reported relative to it, relative migration globs resolve against it. */
  root: string;
  /** Also scan `*_test.go` files found by walking directories. */
  includeTests: boolean;
  /** Config `include` globs: when non-empty, only Go files matching one are scanned. */
  include: string[];
  /** Config `exclude` globs: Go files (and discovered migrations) matching one are not scanned. */
  exclude: string[];
  /** Extra migration globs or paths, relative to root or absolute. */
  migrationGlobs: string[];
  /** Directory `include` / `exclude` are relative to (the config's baseDir). Default: root. */
  baseDir?: string;
  /**
   * Whether a walked Go file is generated, when already known (an unchanged file the caller saw before); undefined
   * reads the file's head. Files named explicitly are never asked about.
   */
  knownGenerated?: (abs: string) => boolean | undefined;
}

export interface DiscoverResult {
  /** Absolute, sorted, without duplicates. */
  goFiles: string[];
  /** Absolute, sorted, without duplicates. */
  migrationFiles: string[];
  /** Files and directories that could not be read (root-relative paths), sorted by path. */
  problems: FileProblem[];
  /** Walked Go files whose head was read this run: absolute path -> generated. */
  generated: Map<string, boolean>;
  /** Go files named explicitly (taken without the generated-code check). */
  named: Set<string>;
  /**
   * Every directory the walks listed: absolute path -> whether it holds an entry named `go.mod` (of any type). What
   * a probe for that go.mod would answer, without a stat per directory (ModuleMap).
   */
  listedDirs: Map<string, boolean>;
}

/** Directory names never walked into (besides hidden ones). */
export const DEFAULT_EXCLUDED_DIRS: readonly string[] = ['vendor', 'node_modules', 'testdata'];
/** Where migrations are looked for under each scanned directory. */
export const DEFAULT_MIGRATION_GLOB = '**/migrations/**/*.sql';
/** How much of a .go file is read to recognise a generated file. */
export const GENERATED_HEAD_BYTES = 4096;

const HIDDEN_DIRS = '**/.*/**';
/** Directories no walk enters (migrations included); `testdata` only hides Go files. */
const NEVER_ENTERED: readonly string[] = ['vendor', 'node_modules'];
const MIGRATION_IGNORE = [...NEVER_ENTERED.map((d) => `**/${d}/**`), HIDDEN_DIRS];

const GENERATED_RE = /^\/\/ Code generated .* DO NOT EDIT\.$/;

/**
 * Whether a Go file (its first few KB) carries Go's generated-code marker: a line matching
 * `^// Code generated .* DO NOT EDIT\.$` before the first text that is neither blank nor a comment (the package
 * clause). Build constraints and other comments may come first.
 */
export function isGeneratedGo(head: string): boolean {
  const text = head.charCodeAt(0) === 0xfeff ? head.slice(1) : head;
  let inBlock = false;
  for (const raw of text.split('\n')) {
    let line = (raw.endsWith('\r') ? raw.slice(0, -1) : raw).trim();
    // consume block comments; whatever follows them on the line is examined as a line of its own
    for (;;) {
      if (inBlock) {
        const end = line.indexOf('*/');
        if (end < 0) {
          line = '';
          break;
        }
        inBlock = false;
        line = line.slice(end + 2).trim();
      } else if (line.startsWith('/*')) {
        inBlock = true;
        line = line.slice(2);
      } else {
        break;
      }
    }
    if (line === '') continue;
    if (GENERATED_RE.test(line)) return true;
    if (line.startsWith('//')) continue;
    return false;
  }
  return false;
}

/** Finds the Go files and migration files a run scans. */
export async function discoverFiles(host: Host, opts: DiscoverOptions): Promise<DiscoverResult> {
  const root = path.resolve(opts.root);
  const baseDir = path.resolve(root, opts.baseDir ?? root);
  const problems = new Map<string, FileProblem>(); // one per file and message (both walks may hit a directory)
  const report = (abs: string, message: string): void => {
    const file = relativePosix(root, abs) || '.';
    problems.set(`${file}\0${message}`, { file, message });
  };

  const dirs: string[] = [];
  const explicitFiles: string[] = [];
  for (const p of opts.paths) {
    const abs = path.resolve(root, p);
    if (!host.exists(abs)) throw new UsageError(`path not found: ${shown(root, abs)}`);
    if (host.isDirectory(abs)) dirs.push(abs);
    else if (abs.endsWith('.go')) explicitFiles.push(abs);
    else throw new UsageError(`not a Go file or a directory: ${shown(root, abs)}`);
  }

  const globFs = recordingFs(host.globFs, (dir, reason) => report(dir, `cannot read directory: ${reason}`));
  const included = opts.include.length > 0 ? globMatcher(opts.include) : () => true;
  const excluded = opts.exclude.length > 0 ? globMatcher(opts.exclude) : () => false;
  const wanted = (abs: string): boolean => {
    const rel = relativePosix(baseDir, abs);
    return included(rel) && !excluded(rel);
  };

  // Go files
  const go = new Set<string>();
  const generated = new Map<string, boolean>();
  for (const abs of unique(explicitFiles)) {
    if (!wanted(abs)) continue;
    if (readable(host, abs, report) !== null) go.add(abs);
  }
  // One walk per directory finds both the Go files and the migrations (fast-glob walked twice: 110 ms of a warm
  // 450 ms run on temporal).
  const listedDirs = new Map<string, boolean>();
  const walked = unique(dirs).map((dir) => walkTree(host, dir, (d, reason) => report(d, `cannot read directory: ${reason}`), listedDirs));
  for (const { goFiles } of walked) {
    for (const abs of goFiles) {
      if (go.has(abs)) continue;
      if (!opts.includeTests && path.basename(abs).endsWith('_test.go')) continue;
      if (!wanted(abs)) continue;
      const known = opts.knownGenerated?.(abs);
      if (known !== undefined) {
        if (!known) go.add(abs);
        continue;
      }
      const head = readable(host, abs, report);
      if (head === null) continue;
      const isGenerated = isGeneratedGo(head);
      generated.set(abs, isGenerated);
      if (!isGenerated) go.add(abs);
    }
  }

  // Migrations
  const migrations = new Set<string>();
  for (const { migrationFiles } of walked) {
    for (const abs of migrationFiles) {
      if (!excluded(relativePosix(baseDir, abs))) migrations.add(abs);
    }
  }
  for (const glob of opts.migrationGlobs) {
    for (const abs of await expandMigrationGlob(host, root, glob, globFs)) migrations.add(abs);
  }

  const problemList = [...problems.values()].sort((a, b) => compare(a.file, b.file) || compare(a.message, b.message));
  return { goFiles: sorted(go), migrationFiles: sorted(migrations), problems: problemList, generated, listedDirs, named: new Set(explicitFiles) };
}

/** fast-glob, loaded on first use (~20 ms): only configured migration globs need it. */
async function fastGlob(): Promise<typeof import('fast-glob')> {
  return (await import('fast-glob')).default;
}

/** The files one `migrationGlobs` entry stands for. A literal path must exist. */
async function expandMigrationGlob(host: Host, root: string, glob: string, globFs: GlobFs | undefined): Promise<string[]> {
  const fg = await fastGlob();
  if (fg.isDynamicPattern(glob)) {
    // relative to root either way, so that special characters in root itself are never read as glob syntax
    const rel = path.isAbsolute(glob) ? relativePosix(root, glob) : glob.replace(/^(\.\/)+/, '');
    return walk(host, root, [rel], [], globFs);
  }
  const abs = path.resolve(root, glob);
  if (!host.exists(abs)) throw new UsageError(`migrations path not found: ${shown(root, abs)}`);
  if (!host.isDirectory(abs)) return [abs];
  return walk(host, abs, ['**/*.sql'], MIGRATION_IGNORE, globFs);
}

type Dirent = { name: string; isFile(): boolean; isDirectory(): boolean; isSymbolicLink(): boolean };
type ReaddirSync = (dir: string, o: { withFileTypes: true }) => Dirent[];

/**
 * Walks `cwd` once, synchronously, in the host's file system, for what `**\/*.go` (without DEFAULT_EXCLUDED_DIRS)
 * and DEFAULT_MIGRATION_GLOB (testdata included) match: hidden entries, vendor and node_modules are never entered,
 * symlinked directories are not followed, a symlink counts when it points to a file. A directory that cannot be
 * read is reported and skipped. (fast-glob walked twice, asynchronously: 110 ms of a warm 450 ms run on
 * temporal; this walk takes about 10 ms.)
 */
function walkTree(host: Host, cwd: string, onError: (dir: string, reason: string) => void, listed: Map<string, boolean>): { goFiles: string[]; migrationFiles: string[] } {
  const goFiles: string[] = [];
  const migrationFiles: string[] = [];
  const readdirSync = (host.globFs?.readdirSync ?? nodeHost.globFs!.readdirSync) as unknown as ReaddirSync;
  const isFileLike = (abs: string, e: Dirent): boolean => e.isFile() || (e.isSymbolicLink() && host.exists(abs) && !host.isDirectory(abs));
  const visit = (dir: string, goExcluded: boolean, inMigrations: boolean): void => {
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') onError(dir, reasonOf(err));
      return;
    }
    listed.set(dir, entries.some((e) => e.name === 'go.mod'));
    // `dir` is normalised and an entry's name is one component: joined without path.join's normalisation (~20,000
    // calls a run on the 20k-file fork).
    const prefix = dir.endsWith(path.sep) ? dir : dir + path.sep;
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const abs = prefix + e.name;
      if (e.isDirectory()) {
        if (NEVER_ENTERED.includes(e.name)) continue;
        visit(abs, goExcluded || DEFAULT_EXCLUDED_DIRS.includes(e.name), inMigrations || e.name === 'migrations');
      } else if (e.name.endsWith('.go')) {
        if (!goExcluded && isFileLike(abs, e)) goFiles.push(abs);
      } else if (inMigrations && e.name.endsWith('.sql') && isFileLike(abs, e)) migrationFiles.push(abs);
    }
  };
  visit(cwd, false, false);
  return { goFiles, migrationFiles };
}

/** Regular files (and symlinks to files) under `cwd` matching `patterns`, as absolute paths. */
async function walk(host: Host, cwd: string, patterns: string[], ignore: string[], globFs: GlobFs | undefined): Promise<string[]> {
  const fg = await fastGlob();
  const entries = await fg(patterns, {
    cwd,
    absolute: true,
    dot: false,
    onlyFiles: false,
    objectMode: true,
    followSymbolicLinks: false,
    suppressErrors: true,
    unique: true,
    ignore,
    ...(globFs ? { fs: globFs } : {}),
  });
  const out: string[] = [];
  for (const e of entries) {
    const abs = path.normalize(e.path);
    if (e.dirent.isFile()) out.push(abs);
    else if (e.dirent.isSymbolicLink() && host.exists(abs) && !host.isDirectory(abs)) out.push(abs);
  }
  return out;
}

/**
 * The host's glob fs with `readdir` failures (other than a vanished directory) recorded and turned into an empty
 * listing, so one unreadable directory becomes a problem instead of failing or silently shrinking the walk.
 */
function recordingFs(base: GlobFs | undefined, onError: (dir: string, reason: string) => void): GlobFs | undefined {
  const readdir = base?.readdir;
  if (!readdir) return base;
  type Callback = (err: NodeJS.ErrnoException | null, entries: unknown[]) => void;
  const wrapped = (dir: string, ...rest: unknown[]): void => {
    const cb = rest.pop() as Callback;
    (readdir as (...args: unknown[]) => void)(dir, ...rest, (err: NodeJS.ErrnoException | null, entries: unknown[]) => {
      if (err && err.code !== 'ENOENT') {
        onError(dir, reasonOf(err));
        cb(null, []);
      } else {
        cb(err, entries);
      }
    });
  };
  return { ...base, readdir: wrapped as unknown as NonNullable<GlobFs['readdir']> };
}

/** The file's head (for the generated check), or null after recording why it cannot be read. */
function readable(host: Host, abs: string, report: (abs: string, message: string) => void): string | null {
  try {
    return readHead(host, abs, GENERATED_HEAD_BYTES);
  } catch (err) {
    report(abs, `cannot read file: ${reasonOf(err)}`);
    return null;
  }
}

function reasonOf(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EISDIR') return 'is a directory';
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split('\n', 1)[0]!;
}

/** How a path appears in a usage message: relative to root when inside it. */
function shown(root: string, abs: string): string {
  const rel = relativePosix(root, abs);
  return rel === '' ? '.' : rel.startsWith('..') || path.isAbsolute(rel) ? abs : rel;
}

function unique(xs: string[]): string[] {
  return [...new Set(xs)];
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function sorted(xs: Iterable<string>): string[] {
  return [...xs].sort(compare);
}
