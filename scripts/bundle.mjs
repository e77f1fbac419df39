// Bundles the command line (dist/src/cli/main.js and everything it imports, yargs included) into one CommonJS
// script, dist/src/cli/main.bundle.cjs, which bin.js loads when present (src/cli/code-cache.ts). Resolving and
// instantiating ~90 ES modules took 110-145 ms of every run's start; one script loads in ~60 ms, and a script (not
// an ES module) can be compiled from V8's code cache on Node 20, which saves most of the rest (measured; see README,
// design section). Packages with native code, WASM or files of their own (and those loaded only on demand) stay
// external and load from node_modules as before. The bundle sits beside main.js, and `import.meta.url` is the
// bundle's own URL, so paths built from it ('../config/schema.json', '../go/worker.js', '../../rules/...') resolve
// to the same files from either.
import { build } from 'esbuild';
import { readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const BUNDLED = new Set(['yargs']);
const external = Object.keys(pkg.dependencies ?? {}).filter((d) => !BUNDLED.has(d));

await build({
  entryPoints: [join(root, 'dist/src/cli/main.js')],
  outfile: join(root, 'dist/src/cli/main.bundle.cjs'),
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  external,
  logLevel: 'warning',
  // What ES module code reads of import.meta, given from the script's own file name.
  define: { 'import.meta.url': '__rlscovUrl', 'import.meta.resolve': '__rlscovResolve' },
  banner: {
    js: "const __rlscovUrl = require('node:url').pathToFileURL(__filename).href; const __rlscovResolve = (s) => require('node:url').pathToFileURL(require.resolve(s)).href;",
  },
});
// An ES module bundle of earlier builds would otherwise stay beside it.
rmSync(join(root, 'dist/src/cli/main.bundle.js'), { force: true });
