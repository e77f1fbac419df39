// Bundles the command line (dist/src/cli/main.js and everything it imports, yargs included) into one module,
// dist/src/cli/main.bundle.js, which bin.js loads when present. Resolving and instantiating ~90 ES modules took
// 110-145 ms of every run's start; the bundle loads in ~60 ms (measured; see README, design section).
// Packages with native code, WASM or files of their own (and those loaded only on demand) stay external and load
// from node_modules as before. The bundle sits beside main.js, so paths built from import.meta.url ('../config/
// schema.json', '../go/worker.js', '../../rules/...') resolve to the same files from either.
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const BUNDLED = new Set(['yargs']);
const external = Object.keys(pkg.dependencies ?? {}).filter((d) => !BUNDLED.has(d));

await build({
  entryPoints: [join(root, 'dist/src/cli/main.js')],
  outfile: join(root, 'dist/src/cli/main.bundle.js'),
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  external,
  logLevel: 'warning',
  // yargs (CommonJS parts) calls require(); an ES module bundle needs a require to hand them.
  banner: { js: "import { createRequire as __rlscovCreateRequire } from 'node:module'; const require = __rlscovCreateRequire(import.meta.url);" },
});
