#!/usr/bin/env node
// The `rlscov` command. A CommonJS script, so that node starts it without its ES module loader, and it runs run.ts
// from the single CommonJS script `npm run build` bundles it into (run.bundle.cjs, scripts/bundle.mjs) rather than
// from run.ts's graph of ES modules: ~10 ms of every run, a tenth of a replayed one (measured: a replayed scan of
// moby 100 -> 91 ms). Without that script (a build made by tsc alone, or the TypeScript sources under tsx), run.ts.
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const bundled = join(__dirname, 'run.bundle.cjs');
if (!__filename.endsWith('.cts') && existsSync(bundled)) require(bundled);
else {
  import('./run.js').catch((e: unknown) => {
    // An install without its own files: one line, and the exit code of a usage or setup error.
    process.stderr.write(`rlscov: cannot start: ${e instanceof Error ? e.message.split('\n', 1)[0] : String(e)} (reinstall rlscov)\n`);
    process.exitCode = 2;
  });
}
