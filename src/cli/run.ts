// The command line's start, run by bin.cts (bundled into run.bundle.cjs by `npm run build`), and with bin.cts the
// only file that touches `process`: answers an identical earlier run on unchanged inputs from its replay record before the
// engine is even loaded (replay.ts), else runs main() and sets the exit code. Unknown errors are bugs: one line
// asking for a report, plus the stack only with RLSCOV_DEBUG=1.
import { fileURLToPath } from 'node:url';
import { nodeHost } from '../host.js';
import { loadBundle, type LoadedBundle } from './code-cache.js';
import { cacheDirOf, runWithReplay } from './replay.js';

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

runWithReplay(argv, io, nodeHost, async (recorder) => {
  const bundle = await loadMain();
  const code = await bundle.main(argv, { ...io, replay: recorder });
  // A code cache holds what the run compiled: only one that analysed a tree writes it.
  const analysed = !ANALYSES_NOTHING.test(argv.find((a) => !a.startsWith('-')) ?? '') && !argv.some((a) => /^(?:--version|--help|-h)$/.test(a));
  const use = analysed ? bundle.saveCodeCache() : bundle.use();
  if (io.env['RLSCOV_TIMING']) io.stderr(`rlscov timing: code cache ${use}\n`);
  return code;
}).then(
  (r) => {
    process.exitCode = r.code;
  },
  (e: unknown) => {
    const err = e instanceof Error ? e : new Error(String(e));
    process.stderr.write(`rlscov: internal error: ${err.message} (please report it with RLSCOV_DEBUG=1 output)\n`);
    if (process.env['RLSCOV_DEBUG']) process.stderr.write(`${err.stack ?? ''}\n`);
    process.exitCode = 2;
  },
);
