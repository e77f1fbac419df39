// Replay of an unchanged run, checked before the engine (or yargs) is even loaded: a repeated `scan` or
// `pre-commit` on a tree whose inputs are untouched prints the recorded answer in tens of milliseconds.
//
// - What a run read is recorded as it reads it: every file, directory listing and existence probe made through the
//   Host (Go files, go.mod files, migrations, config files and the directories searched for them, the baseline),
//   each with a stat stamp (type, size, mtime, ctime, inode), as make, git's index and ESLint's metadata cache do.
//   A directory's stamp changes when an entry is added, removed or renamed, so new files are seen too.
// - The record is keyed by the exact arguments, the working directory, the environment variables the output
//   depends on and whether stdout is a terminal, and is tied to the tool's own build (the stamps of its files).
// - A record is only written when every input looks the same after the run as before it and none was modified
//   in the two seconds before the run started: a file edited within one timestamp tick of being read can never
//   replay stale findings. Anything else (live database, --no-cache, --write-baseline, --new-from-rev, exit 2)
//   is never recorded.
// - What is replayed is what a run answered from the whole-run cache prints: the report, the stderr notes, the
//   files written by --output, and the exit code.
//
// Only node built-ins and the cache directory rule are imported here: this is on the path of every invocation.
import * as fs from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeDirs, writeFileAtomic } from '../files.js';
import { CACHE_FORMAT, defaultCacheDir, hashText } from '../cache/names.js';
import { stampTimes, stampTrusted, statStamp as stampOf, type GlobFs, type Host } from '../host.js';
import { TOOL_VERSION } from '../version.js';

/** What a recorded run printed and wrote. */
export interface ReplayOutput {
  stdout: string;
  stderr: string;
  exit: number;
  /** Files written by --output: absolute path and text. */
  files: Array<[string, string]>;
}

interface StoredReplay extends ReplayOutput {
  format: number;
  tool: string;
  key: string;
  /** The tool's own files' stamps when the record was written. */
  build: string;
  paths: string[];
  stamps: string[];
}

/** The process facts a replay depends on besides the files. */
export interface ReplayIo {
  cwd: string;
  isTTY: boolean;
  env: Record<string, string | undefined>;
}

/** Records kept per cache directory (one per distinct command line); the oldest go first. */
const MAX_RECORDS = 32;

/**
 * The stamps of the tool's own files (dist/src and dist/rules): a rebuilt tool never replays an old answer (nor
 * talks to a daemon of another build, daemon.ts). Computed once per process unless `fresh`.
 */
let buildStampCache: string | undefined;
export function buildStamp(fresh = false): string {
  if (buildStampCache !== undefined && !fresh) return buildStampCache;
  const dist = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
  const parts: string[] = [TOOL_VERSION, String(CACHE_FORMAT)];
  for (const sub of ['src', 'rules']) {
    let names: string[];
    try {
      names = (fs.readdirSync(join(dist, sub), { recursive: true }) as string[]).sort();
    } catch {
      continue;
    }
    for (const n of names) if (!n.endsWith('.map')) parts.push(n, stampOf(join(dist, sub, n)));
  }
  return (buildStampCache = hashText(...parts));
}

/**
 * Where records live (and the code cache, code-cache.ts): the facts cache directory (--cache-dir, else the
 * environment's). null when the command line turns the cache off or names it in a form this early check does not
 * read (then the run goes the normal way).
 */
export function cacheDirOf(argv: string[], io: Pick<ReplayIo, 'cwd' | 'env'>): string | null {
  let dir: string | null = null;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') return null;
    if (a === '--cache-dir') {
      const v = argv[i + 1];
      if (v === undefined) return null;
      dir = v;
      i++;
    } else if (a.startsWith('--cache-dir=')) dir = a.slice('--cache-dir='.length);
    else if (/^--(?:no-)?cache(?:[-=A-Z]|$)/.test(a)) return null; // --no-cache, --cache=false, --cacheDir
  }
  return dir !== null ? resolve(io.cwd, dir) : defaultCacheDir(io.env);
}

function recordKey(argv: string[], io: ReplayIo): string {
  const env = ['NO_COLOR', 'RLSCOV_CACHE_DIR', 'XDG_CACHE_HOME', 'HOME'].map((k) => `${k}=${io.env[k] ?? '\u0001'}`);
  return hashText(JSON.stringify(argv), io.cwd, String(io.isTTY), ...env);
}

function recordFile(dir: string, key: string): string {
  return join(dir, `replay-${key.slice(0, 24)}.json`);
}

/** The answer of an identical earlier run on unchanged inputs, or null. Never throws. */
export function findReplay(argv: string[], io: ReplayIo): { output: ReplayOutput; checked: number } | null {
  if (io.env['RLSCOV_DATABASE_URL']) return null; // a live database can change under the same files
  const dir = cacheDirOf(argv, io);
  if (dir === null) return null;
  const key = recordKey(argv, io);
  let r: StoredReplay;
  try {
    r = JSON.parse(fs.readFileSync(recordFile(dir, key), 'utf8')) as StoredReplay;
  } catch {
    return null;
  }
  if (r.format !== CACHE_FORMAT || r.tool !== TOOL_VERSION || r.key !== key || !Array.isArray(r.paths) || r.paths.length !== r.stamps?.length) return null;
  if (r.build !== buildStamp()) return null;
  for (let i = 0; i < r.paths.length; i++) if (stampOf(r.paths[i]!) !== r.stamps[i]) return null;
  return { output: { stdout: r.stdout, stderr: r.stderr, exit: r.exit, files: r.files }, checked: r.paths.length };
}

export interface ReplayStreams extends ReplayIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
}

/**
 * One invocation: the replayed answer when there is one (RLSCOV_TIMING=1 says so on stderr), else `run` with a
 * recorder, whose record is then saved if the run allows it.
 */
export async function runWithReplay(
  argv: string[],
  io: ReplayStreams,
  base: Host,
  run: (recorder: RunRecorder) => Promise<number>,
  /** The wall clock (tests move it instead of waiting out the two-second rule). */
  now: () => number = Date.now,
): Promise<{ code: number; replayed: boolean; recorded: boolean }> {
  const t0 = performance.now();
  const replay = findReplay(argv, io);
  if (replay) {
    deliverReplay(replay.output, io);
    if (io.env['RLSCOV_TIMING']) {
      const ms = (performance.now() - t0).toFixed(0).padStart(6);
      io.stderr(`rlscov timing (process up ${(performance.now() / 1000).toFixed(2)} s):\n  replayed     ${ms} ms (an identical earlier run, ${replay.checked} inputs unchanged)\n`);
    }
    return { code: replay.output.exit, replayed: true, recorded: false };
  }
  const recorder = new RunRecorder(argv, io, base, now());
  const code = await run(recorder);
  return { code, replayed: false, recorded: recorder.save(code) };
}

/** Writes a replayed run's output (the --output files first, as the run did). */
function deliverReplay(o: ReplayOutput, out: { stdout: (s: string) => void; stderr: (s: string) => void }): void {
  for (const [abs, text] of o.files) {
    makeDirs(dirname(abs));
    fs.writeFileSync(abs, text);
  }
  if (o.stdout) out.stdout(o.stdout);
  if (o.stderr) out.stderr(o.stderr);
}

/**
 * Records what one run reads (through `host`) and, when the command says its output can be replayed, saves the
 * record after the run.
 */
export class RunRecorder {
  /** The file system as the engine should see it during this run: every access is stamped. */
  readonly host: Host;
  private readonly stamps = new Map<string, string>();
  private output: ReplayOutput | null = null;
  /** The base host's stamps (the daemon's are kept between runs, watch.ts), else a stat. */
  private readonly stampFn: (abs: string) => string;

  constructor(
    private readonly argv: string[],
    private readonly io: ReplayIo,
    base: Host,
    /** Wall-clock time the run started (ms since the epoch). */
    private readonly startedAt: number = Date.now(),
  ) {
    this.stampFn = base.stamp ?? stampOf;
    this.host = recordingHost(base, (abs, stamp) => this.note(abs, stamp));
  }

  /** An input of the run (read outside the host: the baseline file), stamped when first seen. */
  note(abs: string, stamp?: string): void {
    if (!this.stamps.has(abs)) this.stamps.set(abs, stamp ?? this.stampFn(abs));
  }

  /** The command's output as a replay should print it; not calling this means "never replay this command". */
  replayable(o: ReplayOutput): void {
    this.output = o;
  }

  /** Saves the record when the run was replayable and its inputs held still. Never throws. */
  save(exit: number): boolean {
    const o = this.output;
    if (!o || o.exit !== exit || (exit !== 0 && exit !== 1)) return false;
    const dir = cacheDirOf(this.argv, this.io);
    if (dir === null) return false;
    const paths = [...this.stamps.keys()];
    const stamps = [...this.stamps.values()];
    // Too recent to trust (checked first: no system call; a run right after an edit stat'ed every input before it).
    if (stamps.some((st) => (st[0] === 'f' || st[0] === 'd') && !stampTrusted(st, this.startedAt))) return false;
    for (let i = 0; i < paths.length; i++) if (stampOf(paths[i]!) !== stamps[i]) return false; // changed while the run read it
    // Most recently changed first: the next run checks them in this order and stops at the first that differs,
    // which is most often a file edited again (a pre-commit run on temporal met its edited file after 1,300 of
    // 2,700 stat calls in the recorded order, each paid again by the run that follows).
    const modified = stamps.map((st) => stampTimes(st)?.mtime ?? -1); // what an edit moves
    const order = paths.map((_, i) => i).sort((a, b) => modified[b]! - modified[a]!);
    const key = recordKey(this.argv, this.io);
    const record: StoredReplay = { format: CACHE_FORMAT, tool: TOOL_VERSION, key, build: buildStamp(), paths: order.map((i) => paths[i]!), stamps: order.map((i) => stamps[i]!), ...o };
    if (!writeFileAtomic(recordFile(dir, key), JSON.stringify(record))) return false;
    try {
      pruneRecords(dir);
    } catch {
      // pruning is housekeeping
    }
    return true;
  }
}

function pruneRecords(dir: string): void {
  const names = fs.readdirSync(dir).filter((n) => n.startsWith('replay-') && n.endsWith('.json'));
  if (names.length <= MAX_RECORDS) return;
  const byAge = names.map((n) => ({ n, t: fs.statSync(join(dir, n), { throwIfNoEntry: false })?.mtimeMs ?? 0 })).sort((a, b) => a.t - b.t);
  for (const { n } of byAge.slice(0, names.length - MAX_RECORDS)) fs.rmSync(join(dir, n), { force: true });
}

/**
 * `base` with every path it is asked about noted before it is read (directory walks included); a stamp the run
 * asks for itself is the one noted (one stat, not two).
 */
function recordingHost(base: Host, note: (abs: string, stamp?: string) => void): Host {
  const host: Host = {
    readFile: (abs) => (note(abs), base.readFile(abs)),
    exists: (abs) => (note(abs), base.exists(abs)),
    isDirectory: (abs) => (note(abs), base.isDirectory(abs)),
    realpath: (abs) => (note(abs), base.realpath(abs)),
  };
  if (base.stamp) {
    const f = base.stamp;
    host.stamp = (abs) => {
      const st = f(abs);
      note(abs, st);
      return st;
    };
    // One stat answers both the run's question and the record (module lookups probe a go.mod in every directory).
    host.exists = (abs) => {
      const st = f(abs);
      note(abs, st);
      return st[0] === 'f' || st[0] === 'd';
    };
    host.isDirectory = (abs) => {
      const st = f(abs);
      note(abs, st);
      return st[0] === 'd';
    };
  }
  if (base.readFileBuffer) {
    const f = base.readFileBuffer;
    host.readFileBuffer = (abs) => (note(abs), f(abs));
  }
  if (base.readFileHead) {
    const f = base.readFileHead;
    host.readFileHead = (abs, n) => (note(abs), f(abs, n));
  }
  const g = base.globFs;
  if (g) {
    // Only the functions the base has: fast-glob fills the others in, and an explicit undefined would hide them.
    const wrapped: Record<string, unknown> = { ...g };
    for (const name of ['readdir', 'readdirSync', 'lstat', 'lstatSync', 'stat', 'statSync'] as const) {
      const f = g[name] as ((...a: unknown[]) => unknown) | undefined;
      if (f) wrapped[name] = (p: unknown, ...rest: unknown[]) => (typeof p === 'string' && note(p), f(p, ...rest));
    }
    host.globFs = wrapped as GlobFs;
  }
  return host;
}
