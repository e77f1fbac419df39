#!/usr/bin/env node
// The only file that touches `process`: answers an identical earlier run on unchanged inputs from its replay
// record before the engine is even loaded (replay.ts), else runs main() and sets the exit code. Unknown errors are
// bugs: one line asking for a report, plus the stack only with RLSCOV_DEBUG=1.
import { nodeHost } from '../host.js';
import { runWithReplay } from './replay.js';

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

/** The bundled command line (scripts/bundle.mjs: loads in half the time) when the build made one, else main.js. */
async function loadMain(): Promise<typeof import('./main.js')> {
  const bundle = new URL('./main.bundle.js', import.meta.url);
  try {
    return (await import(bundle.href)) as typeof import('./main.js');
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { url?: string };
    if (err.code !== 'ERR_MODULE_NOT_FOUND' || !String(err.message).includes('main.bundle.js')) throw e;
    return import('./main.js');
  }
}

runWithReplay(argv, io, nodeHost, async (recorder) => {
  const { main } = await loadMain();
  return main(argv, { ...io, replay: recorder });
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
