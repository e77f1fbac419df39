// `rlscov daemon` and `--daemon` (src/cli/daemon.ts), driven as a user drives them: the built command line,
// spawned, with its own private socket directory (RLSCOV_DAEMON_DIR). A run handed to the daemon must print and
// exit exactly as the same run in-process; a daemon missing, killed or unreachable must cost nothing but speed.
import { spawnSync } from 'node:child_process';
import { appendFileSync, chmodSync, cpSync, existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { socketPath, wantsDaemon } from '../src/cli/daemon.js';
import { removeTempDirs, tempDir } from './helpers/cli.js';

const REPO = join(__dirname, '..');
const BIN = join(REPO, 'dist/src/cli/bin.cjs');
const SAMPLE = join(REPO, 'fixtures', 'sample-fork');

describe('wantsDaemon', () => {
  it('follows --daemon, --no-daemon (the last wins) and RLSCOV_DAEMON, for commands that analyse a tree', () => {
    expect(wantsDaemon(['scan', '.'], {})).toBe(false);
    expect(wantsDaemon(['scan', '.', '--daemon'], {})).toBe(true);
    expect(wantsDaemon(['pre-commit', 'a.go', '--daemon'], {})).toBe(true);
    expect(wantsDaemon(['.', '--daemon'], {})).toBe(true); // paths alone: scan
    expect(wantsDaemon(['scan'], { RLSCOV_DAEMON: '1' })).toBe(true);
    expect(wantsDaemon(['scan', '--no-daemon'], { RLSCOV_DAEMON: '1' })).toBe(false);
    expect(wantsDaemon(['scan', '--no-daemon', '--daemon'], {})).toBe(true);
    expect(wantsDaemon(['scan', '--daemon=false'], { RLSCOV_DAEMON: 'true' })).toBe(false);
    for (const other of [['rules'], ['explain', 'RLS001'], ['config', 'verify'], ['init'], ['daemon', 'status']]) expect(wantsDaemon([...other, '--daemon'], {}), other[0]).toBe(false);
    expect(wantsDaemon(['scan', '--daemon', '--help'], {})).toBe(false);
    expect(wantsDaemon(['--version', '--daemon'], {})).toBe(false);
  });
});

describe('socketPath', () => {
  it('differs with what a process fixes at its start (the locale, pg and node settings), not with the rest', () => {
    const base = { RLSCOV_DAEMON_DIR: '/tmp/x', PWD: '/a', LANG: 'C.UTF-8' };
    expect(socketPath({ ...base, PWD: '/b', SHLVL: '3' })).toBe(socketPath(base));
    for (const [k, v] of [['LANG', 'da_DK.UTF-8'], ['LC_ALL', 'C'], ['USER', 'alice'], ['PGUSER', 'bob'], ['NODE_OPTIONS', '--max-old-space-size=100'], ['TZ', 'UTC']]) {
      expect(socketPath({ ...base, [k!]: v }), k).not.toBe(socketPath(base));
    }
  });
});

describe.skipIf(process.platform === 'win32')('the daemon, through the built command line', () => {
  let home: string;
  let daemonDir: string;
  let tree: string;
  const pids = new Set<number>();

  const env = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({ PATH: process.env['PATH'] ?? '', HOME: home, NO_COLOR: '1', RLSCOV_DAEMON_DIR: daemonDir, ...extra });
  const rlscov = (args: string[], extra: Record<string, string> = {}, cwd = tree) => {
    const r = spawnSync(process.execPath, [BIN, ...args], { cwd, env: env(extra), encoding: 'utf8', timeout: 60_000 });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const status = (): { running: boolean; pid: number; runs: number } => {
    const r = rlscov(['daemon', 'status']);
    const m = /pid (\d+), up \d+ min, (\d+) runs?/.exec(r.stdout);
    if (m) pids.add(Number(m[1]));
    return { running: r.code === 0, pid: m ? Number(m[1]) : 0, runs: m ? Number(m[2]) : 0 };
  };
  const waitFor = async (cond: () => boolean, what: string): Promise<void> => {
    for (let i = 0; i < 200; i++) {
      if (cond()) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`timed out waiting for ${what}`);
  };
  /** The JSON report without its summary (how many files a run parsed differs with the cache). */
  const findings = (stdout: string): unknown => {
    const r = JSON.parse(stdout) as Record<string, unknown>;
    delete r['summary'];
    return r;
  };

  beforeAll(() => {
    if (!existsSync(BIN)) throw new Error('dist/src/cli/bin.cjs is missing: run `npm run build` (npm ci does)');
    home = tempDir('rlscov-daemon-home-');
    daemonDir = join(tempDir('rlscov-daemon-'), 'sockets');
    tree = tempDir('rlscov-daemon-tree-');
    cpSync(SAMPLE, tree, { recursive: true });
  });
  afterAll(() => {
    rlscov(['daemon', 'stop']);
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
    removeTempDirs();
  });

  it('starts, says so, and answers runs exactly as runs in-process do', () => {
    expect(rlscov(['daemon', 'status'])).toMatchObject({ code: 1, stdout: expect.stringMatching(/^rlscov daemon: not running \(socket .*\.sock\)\n$/) });
    const started = rlscov(['daemon', 'start']);
    expect(started.code, started.stderr).toBe(0);
    expect(started.stdout).toMatch(/^rlscov daemon: started, pid \d+ \(socket .*\)\n$/);
    expect(rlscov(['daemon', 'start']).stdout).toMatch(/^rlscov daemon: already running, pid \d+/);
    const before = status();
    expect(before).toMatchObject({ running: true, runs: 0 });

    const cache = ['--cache-dir', join(home, 'cache-daemon')];
    const viaDaemon = rlscov(['scan', '.', '--format', 'json', ...cache, '--daemon']);
    const here = rlscov(['scan', '.', '--format', 'json', '--no-cache']);
    expect(viaDaemon.code).toBe(1);
    expect(viaDaemon.code).toBe(here.code);
    expect(findings(viaDaemon.stdout)).toEqual(findings(here.stdout));
    expect(status().runs).toBe(1);

    // A pre-commit run after an edit, through RLSCOV_DAEMON=1: the daemon reads the cache its first run filled.
    appendFileSync(join(tree, 'platform/billing/invoices.go'), '\n// edited for the daemon\n');
    const pc = rlscov(['pre-commit', 'platform/billing/invoices.go', ...cache], { RLSCOV_DAEMON: '1' });
    const pcHere = rlscov(['pre-commit', 'platform/billing/invoices.go', '--no-cache']);
    expect(pc.code).toBe(1);
    expect(pc.stdout.replace(/^files: .*$/m, '')).toBe(pcHere.stdout.replace(/^files: .*$/m, ''));
    expect(pc.stdout).toMatch(/^files: 9 scanned, 1 parsed, 8 from the cache$/m);
    expect(status().runs).toBe(2);

    // --output relative to the caller's directory, not the daemon's; --no-daemon runs in-process.
    const sub = join(tree, 'platform');
    const out = rlscov(['scan', '..', '--format', 'sarif', '--output', 'report.sarif', ...cache, '--daemon'], {}, sub);
    expect(out.code).toBe(1);
    expect(JSON.parse(readFileSync(join(sub, 'report.sarif'), 'utf8')).runs[0].results.length).toBeGreaterThan(0);
    expect(status().runs).toBe(3);
    rlscov(['scan', '.', '--format', 'json', ...cache, '--no-daemon'], { RLSCOV_DAEMON: '1' });
    expect(status().runs).toBe(3);

    // Errors come back as they would in-process: one line, exit 2.
    const bad = rlscov(['scan', 'no-such-dir', '--daemon']);
    expect(bad).toMatchObject({ code: 2, stdout: '', stderr: 'rlscov: path not found: no-such-dir\n' });
    expect(status().runs).toBe(4);
  });

  it('sees every change to the tree between its runs (its watched view of the file system, watch.ts)', () => {
    const cache = ['--cache-dir', join(home, 'cache-watch')];
    const same = (what: string): void => {
      const viaDaemon = rlscov(['scan', '.', '--format', 'json', ...cache, '--daemon']);
      const here = rlscov(['scan', '.', '--format', 'json', '--no-cache']);
      expect(viaDaemon.code, `${what}: ${viaDaemon.stderr}`).toBe(here.code);
      expect(findings(viaDaemon.stdout), what).toEqual(findings(here.stdout));
    };
    expect(rlscov(['daemon', 'start']).code).toBe(0); // running already, unless this test runs alone
    same('first run');
    const runs = status().runs;
    expect(rlscov(['daemon', 'status']).stdout).toMatch(/, [1-9]\d* directories watched,/);
    // A package copied in (more findings), a file removed, a directory renamed, a file emptied of its writes.
    cpSync(join(tree, 'platform/billing'), join(tree, 'platform/billing2'), { recursive: true });
    same('package copied in');
    rmSync(join(tree, 'platform/billing2/invoices.go'));
    same('file removed');
    renameSync(join(tree, 'platform/billing2'), join(tree, 'platform/receipts'));
    same('directory renamed');
    const audit = readdirSync(join(tree, 'platform/audit')).find((n) => n.endsWith('.go'))!;
    writeFileSync(join(tree, 'platform/audit', audit), 'package audit\n');
    same('file rewritten');
    rmSync(join(tree, 'platform/receipts'), { recursive: true });
    same('directory removed');
    expect(status().runs).toBe(runs + 5);
  });

  it('stats every file every run with RLSCOV_DAEMON_WATCH=0 (a daemon of its own)', () => {
    const off = { RLSCOV_DAEMON_WATCH: '0' };
    expect(rlscov(['daemon', 'start'], off).code).toBe(0);
    const viaDaemon = rlscov(['scan', '.', '--format', 'json', '--cache-dir', join(home, 'cache-nowatch'), '--daemon'], off);
    const here = rlscov(['scan', '.', '--format', 'json', '--no-cache']);
    expect(findings(viaDaemon.stdout)).toEqual(findings(here.stdout));
    const st = rlscov(['daemon', 'status'], off);
    expect(st.stdout).toMatch(/, 1 run, .*, 0 directories watched,/);
    expect(rlscov(['daemon', 'status']).stdout).toMatch(/, [1-9]\d* directories watched,/);
    expect(rlscov(['daemon', 'stop'], off).code).toBe(0);
  });

  it("writes files with the caller's umask, not the daemon's", () => {
    const runs = status().runs;
    const r = spawnSync('sh', ['-c', `umask 077 && exec "${process.execPath}" "${BIN}" scan . --format sarif --output private.sarif --no-cache --daemon`], { cwd: tree, env: env(), encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(1);
    expect(statSync(join(tree, 'private.sarif')).mode & 0o777).toBe(0o600);
    expect(status().runs).toBe(runs + 1);
  });

  it('does not hang on a daemon that is stopped (SIGSTOP): the run goes in-process', () => {
    const { pid } = status();
    process.kill(pid, 'SIGSTOP');
    try {
      const r = rlscov(['scan', '.', '--format', 'json', '--no-cache', '--daemon']);
      expect(r.code).toBe(1);
      expect(findings(r.stdout)).toEqual(findings(rlscov(['scan', '.', '--format', 'json', '--no-cache']).stdout));
    } finally {
      process.kill(pid, 'SIGCONT');
    }
  }, 60_000);

  it('stops on request, and a run without a daemon goes in-process and starts one for the next run', async () => {
    const { pid } = status();
    expect(rlscov(['daemon', 'stop']).stdout).toBe(`rlscov daemon: stopped (pid ${pid})\n`);
    expect(rlscov(['daemon', 'stop']).stdout).toBe('rlscov daemon: not running\n');
    expect(status().running).toBe(false);
    const r = rlscov(['scan', '.', '--format', 'json', '--no-cache', '--daemon']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('');
    expect(findings(r.stdout)).toEqual(findings(rlscov(['scan', '.', '--format', 'json', '--no-cache']).stdout));
    await waitFor(() => status().running, 'the daemon started by --daemon');
    expect(status().runs).toBe(0);
  });

  it('survives a daemon killed under it: the run goes in-process, and a new daemon replaces it', async () => {
    const { pid } = status();
    process.kill(pid, 'SIGKILL');
    await waitFor(() => !status().running, 'the daemon to die');
    const r = rlscov(['scan', '.', '--format', 'json', '--no-cache', '--daemon']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('');
    expect(findings(r.stdout)).toEqual(findings(rlscov(['scan', '.', '--format', 'json', '--no-cache']).stdout));
    await waitFor(() => status().running && status().pid !== pid, 'a new daemon');
  });

  it('never uses a socket directory other users can enter', () => {
    chmodSync(daemonDir, 0o755);
    try {
      const r = rlscov(['scan', '.', '--format', 'json', '--no-cache', '--daemon']);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(`rlscov: warning: not using the daemon: ${daemonDir} can be entered by other users (chmod 700 it)\n`);
      expect(findings(r.stdout)).toEqual(findings(rlscov(['scan', '.', '--format', 'json', '--no-cache']).stdout));
    } finally {
      chmodSync(daemonDir, 0o700);
    }
    rlscov(['daemon', 'stop']);
    chmodSync(daemonDir, 0o755);
    try {
      expect(rlscov(['daemon', 'start'])).toMatchObject({ code: 2, stderr: `rlscov: cannot start the daemon: ${daemonDir} can be entered by other users (chmod 700 it) (see rlscov daemon --help)\n` });
    } finally {
      chmodSync(daemonDir, 0o700);
    }
  });

  it('stops by itself after --idle-timeout minutes without a run', async () => {
    rlscov(['daemon', 'stop']);
    expect(rlscov(['daemon', 'start', '--idle-timeout', '0.02']).code).toBe(0); // 1.2 s
    expect(status().running).toBe(true);
    await waitFor(() => !status().running, 'the idle daemon to stop');
    expect(readFileSync(join(daemonDir, 'daemon.log'), 'utf8')).toMatch(/stopping: idle for 0\.02 min\n/);
  });

  it('says what is wrong with a daemon command line in one line, exit 2', () => {
    expect(rlscov(['daemon'])).toMatchObject({ code: 2, stderr: 'rlscov: daemon needs an action: start, stop or status (see rlscov daemon --help)\n' });
    expect(rlscov(['daemon', 'restart'])).toMatchObject({ code: 2, stderr: 'rlscov: unknown daemon action restart (start, stop, status) (see rlscov daemon --help)\n' });
    expect(rlscov(['daemon', 'start', '--idle-timeout', 'soon'])).toMatchObject({ code: 2, stderr: 'rlscov: --idle-timeout takes minutes from 0 (never) to 35000, got soon (see rlscov daemon --help)\n' });
    expect(rlscov(['daemon', 'start', '--idle-timeout', '50000'])).toMatchObject({ code: 2, stderr: 'rlscov: --idle-timeout takes minutes from 0 (never) to 35000, got 50000 (see rlscov daemon --help)\n' });
    expect(rlscov(['daemon', 'status', '--verbose'])).toMatchObject({ code: 2, stderr: 'rlscov: unknown option --verbose for daemon (see rlscov daemon --help)\n' });
    const help = rlscov(['daemon', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--idle-timeout');
  });

  it('says so, once, when the socket path would be too long for a Unix socket', () => {
    const long = join(tempDir('rlscov-daemon-long-'), 'd'.repeat(90));
    const r = rlscov(['scan', '.', '--format', 'json', '--no-cache', '--daemon'], { RLSCOV_DAEMON_DIR: long });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^rlscov: warning: not using the daemon: its socket path is \d+ bytes long, over the 103 a Unix socket allows \(set RLSCOV_DAEMON_DIR to a shorter directory\)\n$/);
    expect(findings(r.stdout)).toEqual(findings(rlscov(['scan', '.', '--format', 'json', '--no-cache']).stdout));
    expect(rlscov(['daemon', 'start'], { RLSCOV_DAEMON_DIR: long })).toMatchObject({ code: 2, stderr: expect.stringMatching(/^rlscov: cannot use the daemon: its socket path is \d+ bytes long/) });
  });

  it('makes its socket directory private when it makes it', () => {
    const fresh = join(tempDir('rlscov-daemon-fresh-'), 'a', 'b');
    const r = spawnSync(process.execPath, [BIN, 'daemon', 'start', '--idle-timeout', '0.05'], { env: env({ RLSCOV_DAEMON_DIR: fresh }), encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const m = /pid (\d+)/.exec(r.stdout);
    if (m) pids.add(Number(m[1]));
    expect(existsSync(fresh)).toBe(true);
    expect(statSync(fresh).mode & 0o777).toBe(0o700);
    spawnSync(process.execPath, [BIN, 'daemon', 'stop'], { env: env({ RLSCOV_DAEMON_DIR: fresh }) });
  });
});
