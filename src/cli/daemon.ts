// The resident process (`rlscov daemon`), in the way of mypy's dmypy and eslint_d: a process that keeps the
// engine loaded and compiled between runs, so that a pre-commit run on a large tree does not pay node's start,
// the bundle's load and a cold JIT every time (a pre-commit run on temporal: 0.34-0.44 s as a process of its own,
// ~0.2 s of it in `main`, which a warm process runs in ~0.19 s).
//
// - Opt-in: `--daemon` (or RLSCOV_DAEMON=1) on scan, pre-commit, audit and catalog. The command line checks the
//   replay record first (replay.ts) as always, then hands the run to the daemon over a Unix socket: argv, working
//   directory, environment and whether stdout is a terminal. The daemon runs `main` with exactly those (its own
//   working directory and environment set to the caller's for the run), one run at a time, and answers with what
//   the run printed, in order, and its exit code. Its runs write replay records as a run of their own would.
// - No daemon running: the run goes in-process, as without --daemon, and a daemon is started in the background for
//   the next one. A daemon that fails to answer (stopped, crashed, of another build) never costs a finding: the
//   run goes in-process.
// - One daemon per user, build and process identity: the socket is named by the tool's build stamp (replay.ts),
//   node's version, and what a process fixes at its start (groups, locale, environment variables read once:
//   processIdentity),
//   in a directory only its user can enter (RLSCOV_DAEMON_DIR, else $XDG_RUNTIME_DIR/rlscov, else
//   <tmpdir>/rlscov-<uid>); a rebuilt or upgraded rlscov never talks to an old daemon, and an old daemon that
//   sees its own files change stops. A daemon stops after --idle-timeout minutes without a run (default 60).
//
// Only node built-ins and the build stamp are imported here: the client side is on the path of every run that
// asks for the daemon.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hashText } from '../cache/names.js';
import { internalErrorText } from '../errors.js';
import { nodeHost } from '../host.js';
import { buildStamp, RunRecorder } from './replay.js';
import { watchedHost } from './watch.js';
import type { Io } from './main.js';

type Env = Record<string, string | undefined>;
type Main = (argv: string[], io: Io) => Promise<number>;

/** What a client asks. */
type Request =
  | { op: 'run'; argv: string[]; cwd: string; env: Env; isTTY: boolean; umask: number }
  | { op: 'status' }
  | { op: 'stop' };

/** What the daemon says about itself. */
export interface DaemonStatus {
  pid: number;
  /** ms since the epoch */
  started: number;
  runs: number;
  rssMB: number;
  idleMinutes: number;
  socket: string;
  /** Directories watched (watch.ts); absent from daemons of earlier builds. */
  watched?: number;
}

/** The line a daemon sends as soon as it reads a run request. */
const TAKEN = '{"taken":true}\n';

/** The answer to a run: what it printed (1: stdout, 2: stderr, in order) and its exit code; or: ask elsewhere. */
type RunReply = { out: Array<[1 | 2, string]>; code: number } | { stale: true };

export const DEFAULT_IDLE_MINUTES = 60;
/** Node's timers hold at most 2^31 - 1 ms (24.8 days). */
const MAX_IDLE_MINUTES = 35_000;

/** Commands the daemon does not run: those that analyse no tree (every other one, and paths alone, does). */
const OTHER_COMMANDS = new Set(['rules', 'explain', 'config', 'init', 'daemon']);

/**
 * Whether this command line asks for the daemon: `--daemon` / `--no-daemon` (the last one wins), else
 * RLSCOV_DAEMON=1 (or true); and only for the commands that analyse a tree, without --help or --version.
 */
export function wantsDaemon(argv: string[], env: Env): boolean {
  let want = /^(?:1|true|yes)$/i.test(env['RLSCOV_DAEMON'] ?? '');
  for (const a of argv) {
    if (a === '--') break;
    if (a === '--daemon' || a === '--daemon=true') want = true;
    else if (a === '--no-daemon' || a === '--daemon=false') want = false;
    else if (a === '--help' || a === '-h' || a === '--version') return false;
  }
  if (!want || process.platform === 'win32') return false;
  const first = argv.find((a) => !a.startsWith('-'));
  return first === undefined || !OTHER_COMMANDS.has(first);
}

/** The directory the sockets live in (see the top of this file). */
export function daemonDir(env: Env): string {
  if (env['RLSCOV_DAEMON_DIR']) return resolve(env['RLSCOV_DAEMON_DIR']);
  if (env['XDG_RUNTIME_DIR']) return join(env['XDG_RUNTIME_DIR'], 'rlscov');
  return join(tmpdir(), `rlscov-${process.getuid?.() ?? 'user'}`);
}

/**
 * Environment variables a process reads once, when it starts or first loads a library, so that setting them for
 * one run of a daemon would not reach it: pg's connection defaults (read when pg loads), node's own options and
 * CA certificates, the locale ICU fixes at start, the time zone; and whether the daemon watches the file system.
 */
const READ_AT_START = /^(?:PG[A-Z]+|USER|LOGNAME|NODE_OPTIONS|NODE_EXTRA_CA_CERTS|LANG|LANGUAGE|LC_[A-Z]+|TZ|RLSCOV_DAEMON_WATCH)$/;

/**
 * What a process carries from its start and a daemon cannot take from a request: the build, node, the user's
 * groups (what files a run may read), and the environment variables READ_AT_START, which include those ICU takes
 * its locale from (LANG, LC_*; reports sort names with a fixed collation anyway, order.ts). A client whose identity
 * differs asks another daemon. (Asking ICU for its locale cost ~9 ms of every client's start.)
 */
function processIdentity(env: Env): string {
  const vars = Object.keys(env)
    .filter((k) => READ_AT_START.test(k))
    .sort()
    .map((k) => `${k}=${env[k]}`);
  const groups = process.getgroups ? [...process.getgroups()].sort((a, b) => a - b).join(',') : '';
  return hashText(buildStamp(), process.version, String(process.getgid?.() ?? ''), groups, ...vars);
}

/** The socket of the daemon that may run this process's commands. */
export function socketPath(env: Env): string {
  return join(daemonDir(env), `daemon-${processIdentity(env).slice(0, 16)}.sock`);
}

/**
 * Null when `dir` (made if missing) is a directory of this user that no one else may enter; else why not. Anyone
 * who can reach the socket can run scans as its user, and write their reports where that user can.
 */
function privateDirProblem(dir: string, make: boolean): string | null {
  try {
    if (make) fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = fs.lstatSync(dir);
    if (!st.isDirectory()) return `${dir} is not a directory`;
    if (process.getuid && st.uid !== process.getuid()) return `${dir} belongs to another user`;
    if ((st.mode & 0o077) !== 0) return `${dir} can be entered by other users (chmod 700 it)`;
    return null;
  } catch (e) {
    return `${dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`;
  }
}

/** Unix domain socket paths are limited to 108 bytes on Linux (104 on macOS), the final NUL included. */
const MAX_SOCKET_PATH_BYTES = 103;

/** Null when `socket` can be listened on as far as its name goes; else why not. */
function socketNameProblem(socket: string): string | null {
  const n = Buffer.byteLength(socket);
  return n > MAX_SOCKET_PATH_BYTES ? `its socket path is ${n} bytes long, over the ${MAX_SOCKET_PATH_BYTES} a Unix socket allows (set RLSCOV_DAEMON_DIR to a shorter directory)` : null;
}

/**
 * How long a client waits for a daemon to take its run (it says so at once, before the run; a daemon busy with
 * another run's synchronous analysis answers when that run is done): a stopped daemon must not hang the caller.
 */
const ACK_MS = 15_000;

/**
 * One request, one answer (a JSON line each way, a run's answer after the TAKEN line); null when no daemon
 * answered: within `timeoutMs` of silence, or `ackMs` without taking the run (0: no limit).
 */
function ask<T>(socket: string, request: Request, timeoutMs = 0, ackMs = 0): Promise<T | null> {
  return new Promise((done) => {
    let text = '';
    let ack: NodeJS.Timeout | undefined;
    let settled = false;
    const finish = (v: T | null): void => {
      if (settled) return;
      settled = true;
      if (ack) clearTimeout(ack);
      c.destroy();
      done(v);
    };
    const c = net.createConnection(socket);
    c.setEncoding('utf8');
    if (timeoutMs > 0) c.setTimeout(timeoutMs, () => finish(null));
    c.on('connect', () => {
      c.write(JSON.stringify(request) + '\n');
      if (ackMs > 0) ack = setTimeout(() => finish(null), ackMs);
    });
    /**
     * The answer once its line is whole: not at the connection's end, which the daemon's saving may delay. Looked
     * for only when a chunk brings a line end (a report of tens of MB comes in thousands of chunks, one line end).
     */
    const answer = (atEnd: boolean): void => {
      const body = text.startsWith(TAKEN) ? text.slice(TAKEN.length) : text;
      const nl = body.indexOf('\n');
      if (nl < 0 && !atEnd) return;
      try {
        finish(JSON.parse(nl < 0 ? body : body.slice(0, nl)) as T);
      } catch {
        finish(null); // cut short: the daemon went away during the run
      }
    };
    c.on('data', (d: string) => {
      text += d;
      // The daemon's first line takes the run: from then on the answer is waited for, however long the run.
      if (ack && text.startsWith(TAKEN)) {
        clearTimeout(ack);
        ack = undefined;
      }
      if (d.includes('\n')) answer(false);
    });
    c.on('end', () => answer(true));
    c.on('error', () => finish(null));
    c.on('close', () => finish(null));
  });
}

/** bin.cjs beside this file (built), which starts a daemon; null under a TypeScript runner. */
function binScript(): string | null {
  const bin = join(dirname(fileURLToPath(import.meta.url)), 'bin.cjs');
  return fs.existsSync(bin) ? bin : null;
}

/**
 * Starts a daemon in the background (its log: daemon.log beside the socket), in a directory the caller found
 * private (privateDirProblem). Returns its pid, or null.
 */
function spawnDaemon(env: Env, idleMinutes: number): number | null {
  const bin = binScript();
  if (!bin) return null;
  const dir = daemonDir(env);
  let log: number | 'ignore' = 'ignore';
  try {
    log = fs.openSync(join(dir, 'daemon.log'), 'a', 0o600);
  } catch {
    // no log
  }
  try {
    const child = spawn(process.execPath, ['--expose-gc', bin, 'daemon', 'start', '--foreground', '--idle-timeout', String(idleMinutes)], {
      detached: true,
      stdio: ['ignore', log, log],
      // The directory resolved here: the child, started in it, would resolve a relative one again.
      env: { ...env, RLSCOV_DAEMON_DIR: dir } as NodeJS.ProcessEnv,
      cwd: dir,
    });
    child.unref();
    return child.pid ?? null;
  } catch {
    return null;
  } finally {
    if (typeof log === 'number') fs.closeSync(log);
  }
}

export interface ClientIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  cwd: string;
  isTTY: boolean;
  env: Env;
}

/**
 * The client side of `--daemon`: the run's exit code when the daemon ran it (its output written to `io`), or null
 * when the caller must run it in-process (no daemon: one is started for the next run; a daemon of another build;
 * a daemon gone during the run, which printed nothing yet).
 */
export async function runInDaemon(argv: string[], io: ClientIo): Promise<number | null> {
  const dir = daemonDir(io.env);
  const socket = socketPath(io.env);
  const badName = socketNameProblem(socket);
  if (badName) {
    io.stderr(`rlscov: warning: not using the daemon: ${badName}\n`);
    return null;
  }
  // The directory is checked before a daemon is trusted with the run, and made (private) before one is started.
  const running = fs.existsSync(socket);
  const problem = privateDirProblem(dir, !running);
  if (problem) {
    io.stderr(`rlscov: warning: not using the daemon: ${problem}\n`);
    return null;
  }
  if (!running) {
    spawnDaemon(io.env, DEFAULT_IDLE_MINUTES);
    return null;
  }
  const reply = await ask<RunReply>(socket, { op: 'run', argv, cwd: io.cwd, env: io.env, isTTY: io.isTTY, umask: process.umask() }, 0, ACK_MS);
  if (reply === null) {
    // No one listening (a daemon killed), or gone during the run: a new one for the next run.
    if (!(await ask<DaemonStatus>(socket, { op: 'status' }, 1000))) spawnDaemon(io.env, DEFAULT_IDLE_MINUTES);
    return null;
  }
  if ('stale' in reply) return null;
  for (const [fd, s] of reply.out) (fd === 1 ? io.stdout : io.stderr)(s);
  return reply.code;
}

/** `rlscov daemon start|stop|status [--foreground] [--idle-timeout MINUTES]`: the exit code. */
export async function daemonCommand(argv: string[], io: ClientIo, loadMain: () => Promise<Main>): Promise<number> {
  const args = argv.slice(argv.indexOf('daemon') + 1);
  const usage = (msg: string): number => {
    io.stderr(`rlscov: ${msg} (see rlscov daemon --help)\n`);
    return 2;
  };
  let action: string | undefined;
  let foreground = false;
  let idleMinutes = DEFAULT_IDLE_MINUTES;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--foreground') foreground = true;
    else if (a === '--idle-timeout' || a.startsWith('--idle-timeout=')) {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : args[++i];
      const n = Number(v);
      if (v === undefined || v === '' || !Number.isFinite(n) || n < 0 || n > MAX_IDLE_MINUTES) return usage(`--idle-timeout takes minutes from 0 (never) to ${MAX_IDLE_MINUTES}, got ${v ?? 'nothing'}`);
      idleMinutes = n;
    } else if (a.startsWith('-')) return usage(`unknown option ${a} for daemon`);
    else if (action === undefined) action = a;
    else return usage(`unexpected argument ${a}`);
  }
  if (process.platform === 'win32') return usage('the daemon needs Unix domain sockets; it is not available on Windows');
  const socket = socketPath(io.env);
  const badName = socketNameProblem(socket);
  if (badName) return usage(`cannot use the daemon: ${badName}`);
  // A daemon in the middle of a run answers once the run's synchronous part is done: give it time.
  const running = (): Promise<DaemonStatus | null> => ask<DaemonStatus>(socket, { op: 'status' }, 20_000);
  switch (action) {
    case 'status': {
      const s = await running();
      if (!s) {
        io.stdout(`rlscov daemon: not running (socket ${socket})\n`);
        return 1;
      }
      const up = Math.round((Date.now() - s.started) / 60_000);
      io.stdout(`rlscov daemon: running, pid ${s.pid}, up ${up} min, ${s.runs} run${s.runs === 1 ? '' : 's'}, ${s.rssMB} MB, ${s.watched ?? 0} director${s.watched === 1 ? 'y' : 'ies'} watched, stops after ${s.idleMinutes || 'no'} idle minutes (socket ${s.socket})\n`);
      return 0;
    }
    case 'stop': {
      const s = await ask<DaemonStatus>(socket, { op: 'stop' }, 10_000);
      io.stdout(s ? `rlscov daemon: stopped (pid ${s.pid})\n` : 'rlscov daemon: not running\n');
      return 0;
    }
    case 'start': {
      const s = await running();
      if (s) {
        io.stdout(`rlscov daemon: already running, pid ${s.pid} (socket ${s.socket})\n`);
        return 0;
      }
      if (foreground) return serve(io, loadMain, idleMinutes);
      const problem = privateDirProblem(daemonDir(io.env), true);
      if (problem) return usage(`cannot start the daemon: ${problem}`);
      if (spawnDaemon(io.env, idleMinutes) === null) return usage('cannot start the daemon (a build without dist/src/cli/bin.cjs?)');
      for (let waited = 0; waited < 10_000; waited += 50) {
        const up = await running();
        if (up) {
          io.stdout(`rlscov daemon: started, pid ${up.pid} (socket ${up.socket})\n`);
          return 0;
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      return usage(`the daemon did not start; see ${join(daemonDir(io.env), 'daemon.log')}`);
    }
    case undefined:
      return usage('daemon needs an action: start, stop or status');
    default:
      return usage(`unknown daemon action ${action} (start, stop, status)`);
  }
}

/** The daemon itself (`daemon start --foreground`): serves until stopped or idle. Resolves with its exit code. */
async function serve(io: ClientIo, loadMain: () => Promise<Main>, idleMinutes: number): Promise<number> {
  const dir = daemonDir(io.env);
  const problem = privateDirProblem(dir, true);
  if (problem) {
    io.stderr(`rlscov: cannot start the daemon: ${problem}\n`);
    return 2;
  }
  const socket = socketPath(io.env);
  const build = buildStamp();
  const log = (s: string): void => io.stderr(`${new Date().toISOString()} rlscov daemon ${process.pid}: ${s}\n`);
  // A socket file no one answers on is left by a daemon that was killed.
  if (await ask<DaemonStatus>(socket, { op: 'status' }, 2000)) {
    log('another daemon answers on this socket; not starting');
    return 0;
  }
  fs.rmSync(socket, { force: true });
  const main = await loadMain();
  // RLSCOV_DAEMON_WATCH=0: stat every file every run, as in-process (what inotify cannot see: README, the daemon).
  const files = watchedHost(nodeHost, io.env['RLSCOV_DAEMON_WATCH'] === '0' ? { watchable: () => false } : {});
  const started = Date.now();
  let runs = 0;
  let queue: Promise<unknown> = Promise.resolve();
  let idle: NodeJS.Timeout | undefined;
  let ino = -1;
  let finish: (code: number) => void = () => undefined;
  const finished = new Promise<number>((r) => (finish = r));

  /** Whether the socket's path is still this daemon's: not removed, nor taken by another daemon since. */
  const ownsSocket = (): boolean => {
    try {
      return fs.lstatSync(socket).ino === ino;
    } catch {
      return false; // removed
    }
  };
  const stop = (why: string): void => {
    log(`stopping: ${why}`);
    // Closing a listening Unix socket removes its path, which another daemon may have taken since: only our own.
    // A displaced daemon just exits (run.ts ends the process).
    if (ownsSocket()) {
      server.close();
      fs.rmSync(socket, { force: true });
    }
    files.close();
    finish(0);
  };
  const armIdle = (): void => {
    if (idle) clearTimeout(idle);
    if (idleMinutes > 0) idle = setTimeout(() => stop(`idle for ${idleMinutes} min`), idleMinutes * 60_000);
  };
  // The heap a run leaves is collected once runs pause (the daemon runs with --expose-gc): a full collection of a
  // large tree's heap takes 0.1-0.3 s, which a run that came in meanwhile would wait for.
  let collect: NodeJS.Timeout | undefined;
  const collectSoon = (): void => {
    if (collect) clearTimeout(collect);
    collect = setTimeout(() => (globalThis as { gc?: () => void }).gc?.(), 2000);
    collect.unref();
  };
  const status = (): DaemonStatus => ({ pid: process.pid, started, runs, rssMB: Math.round(process.memoryUsage().rss / 1e6), idleMinutes, socket, watched: files.stats().watched });

  /** What the run being answered left to do once it has answered (saving the cache, its replay record). */
  let after: Array<() => Promise<void>> = [];
  const finishRun = async (): Promise<void> => {
    const work = after;
    after = [];
    for (const w of work) {
      try {
        await w();
      } catch (e) {
        log(`after a run: ${(e as Error).message}`);
      }
    }
    try {
      process.chdir(dir);
    } catch {
      process.chdir('/'); // its directory was removed: the daemon stops at its next socket check
    }
  };
  const runOne = async (r: Extract<Request, { op: 'run' }>): Promise<RunReply> => {
    // Rebuilt or reinstalled under us: this process runs old code. The caller runs it in-process.
    if (buildStamp(true) !== build) {
      setImmediate(() => stop('rlscov was rebuilt or reinstalled'));
      return { stale: true };
    }
    const out: Array<[1 | 2, string]> = [];
    // The run sees the caller's environment and working directory, as the same run in-process would (libraries
    // read process.env: pg's PGHOST and friends).
    for (const k of Object.keys(process.env)) if (!(k in r.env)) delete process.env[k];
    Object.assign(process.env, r.env);
    // What the run writes once it has answered (a warning from saving the cache) goes to the daemon's log.
    let answered = false;
    const write = (fd: 1 | 2) => (s: string) => (answered ? log(s.trimEnd()) : out.push([fd, s]));
    const runIo: Io = { stdout: write(1), stderr: write(2), cwd: r.cwd, isTTY: r.isTTY, env: r.env };
    try {
      process.chdir(r.cwd);
      // Files the run writes (reports, baselines, the cache) get the caller's permissions.
      if (Number.isInteger(r.umask)) process.umask(r.umask);
      // Stamps and listings kept from earlier runs while no change was reported (watch.ts): the events the
      // caller's edits queued are read first.
      await files.sync();
      const recorder = new RunRecorder(r.argv, runIo, files);
      // The cache is saved and the replay record written once the caller has its answer, before the next run.
      const code = await main(r.argv, { ...runIo, replay: recorder, resident: true, defer: (work) => after.push(work) });
      after.push(async () => void recorder.save(code));
      answered = true;
      return { out, code };
    } catch (e) {
      out.push([2, internalErrorText(e, r.env)]);
      return { out, code: 2 };
    }
  };

  const server = net.createServer((conn) => {
    let text = '';
    conn.setEncoding('utf8');
    conn.on('error', () => undefined); // a client gone: nothing to answer
    conn.on('data', (d: string) => {
      text += d;
      const nl = text.indexOf('\n');
      if (nl < 0) return;
      conn.removeAllListeners('data');
      let req: Request;
      try {
        req = JSON.parse(text.slice(0, nl)) as Request;
      } catch {
        conn.destroy();
        return;
      }
      if (req.op === 'status') conn.end(JSON.stringify(status()) + '\n');
      else if (req.op === 'stop') {
        conn.end(JSON.stringify(status()) + '\n', () => stop('asked to stop'));
      } else if (req.op === 'run' && Array.isArray(req.argv) && typeof req.cwd === 'string' && req.env && typeof req.env === 'object') {
        if (idle) clearTimeout(idle);
        if (collect) clearTimeout(collect);
        conn.write(TAKEN);
        const r = req;
        queue = queue
          .then(() => runOne(r))
          .then((reply) => {
            runs++;
            conn.end(JSON.stringify(reply) + '\n');
            return finishRun();
          })
          .then(() => {
            armIdle();
            collectSoon();
          });
      } else conn.destroy();
    });
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(socket, () => ok());
  }).catch((e: NodeJS.ErrnoException) => {
    log(`cannot listen on ${socket}: ${e.code ?? e.message}`);
    finish(e.code === 'EADDRINUSE' ? 0 : 2);
  });
  if (!server.listening) return finished;
  try {
    ino = fs.lstatSync(socket).ino;
  } catch (e) {
    // Listening, but not where it should: nothing could reach it. Stop rather than live on unreachable.
    log(`cannot find its own socket ${socket}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    server.close();
    return 2;
  }
  log(`listening on ${socket}`);
  armIdle();
  // Another daemon that took the socket's name (two started at once) leaves this one unreachable, and so does a
  // rebuild or reinstall (new clients ask another socket): stop, rather than hold memory until the idle timeout.
  const watch = setInterval(() => {
    if (!ownsSocket()) stop('its socket was removed or replaced');
    else if (buildStamp(true) !== build) stop('rlscov was rebuilt or reinstalled');
  }, 30_000);
  watch.unref();
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.once(sig, () => stop(sig));
  const code = await finished;
  clearInterval(watch);
  if (idle) clearTimeout(idle);
  return code;
}
