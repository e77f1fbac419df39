// The command line's start, run by bin.cts (bundled into run.bundle.cjs by `npm run build`), and with bin.cts and
// the daemon (daemon.ts) the only files that touch `process`: answers an identical earlier run on unchanged inputs
// from its replay record before the engine is even loaded (replay.ts), else hands the run to the resident process
// when asked to (--daemon, daemon.ts), else runs main() and sets the exit code. `rlscov daemon ...` is daemon.ts's.
// Unknown errors are bugs: one line asking for a report, plus the stack only with RLSCOV_DEBUG=1.
import { fileURLToPath } from 'node:url';
import { internalErrorText } from '../errors.js';
import { nodeHost } from '../host.js';
import { loadBundle, type LoadedBundle } from './code-cache.js';
import { cacheDirOf, runWithReplay, type RunRecorder } from './replay.js';

// A reader that stops early (`rlscov scan | head`) closes the pipe: stop quietly, as other command-line tools do.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code !== 'EPIPE') throw e;
  process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
});

const argv = process.argv.slice(2);
const io = {
  stdout: (s: string) => process.stdout.write(s),
  stderr: (s: string) => process.stderr.write(s),
  cwd: process.cwd(),
  isTTY: Boolean(process.stdout.isTTY),
  env: process.env,
};

const ANALYSES_NOTHING = /^(?:rules|explain|config)$/;

/** The bundled command line, compiled from V8's code cache (code-cache.ts), when the build made one; else main.js. */
async function loadMain(): Promise<LoadedBundle> {
  const bundle = loadBundle(fileURLToPath(new URL('./main.bundle.cjs', import.meta.url)), cacheDirOf(argv, io));
  return bundle ?? { main: (await import('./main.js')).main, saveCodeCache: () => 'off', use: () => 'off' };
}

/** The run itself: replayed, else in the daemon when asked for and running, else in this process. */
const ran: Promise<{ code: number }> =
  argv.find((a) => !a.startsWith('-')) === 'daemon' && !argv.some((a) => a === '--help' || a === '-h')
    ? import('./daemon.js').then(async (d) => {
        const code = await d.daemonCommand(argv, io, async () => (await loadMain()).main);
        // A daemon that stopped leaves nothing worth waiting for (a parser worker, a pool of connections).
        if (argv.includes('--foreground')) process.exit(code);
        return { code };
      })
    : runWithReplay(argv, io, nodeHost, async (recorder) => {
        if (io.env['RLSCOV_DAEMON'] || argv.some((a) => a.startsWith('--daemon'))) {
          const d = await import('./daemon.js');
          if (d.wantsDaemon(argv, io.env)) {
            const code = await d.runInDaemon(argv, io);
            if (code !== null) return code;
          }
        }
        return runHere(recorder);
      });

async function runHere(recorder: RunRecorder): Promise<number> {
  const bundle = await loadMain();
  const code = await bundle.main(argv, { ...io, replay: recorder });
  // A code cache holds what the run compiled: only one that analysed a tree writes it.
  const analysed = !ANALYSES_NOTHING.test(argv.find((a) => !a.startsWith('-')) ?? '') && !argv.some((a) => /^(?:--version|--help|-h)$/.test(a));
  const use = analysed ? bundle.saveCodeCache() : bundle.use();
  if (io.env['RLSCOV_TIMING']) io.stderr(`rlscov timing: code cache ${use}\n`);
  return code;
}

ran.then(
  (r) => {
    process.exitCode = r.code;
  },
  (e: unknown) => {
    process.stderr.write(internalErrorText(e, process.env));
    process.exitCode = 2;
  },
);
