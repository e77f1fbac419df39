// Bundles the command line (dist/src/cli/main.js and everything it imports, yargs and yaml included) into one
// CommonJS script, dist/src/cli/main.bundle.cjs, which run.js loads when present (src/cli/code-cache.ts). Resolving and
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
// yaml: load.ts requires it on first use (a config file read), from the bundle's own lazily evaluated copy.
const BUNDLED = new Set(['yargs', 'yaml']);
const external = Object.keys(pkg.dependencies ?? {}).filter((d) => !BUNDLED.has(d));

/**
 * yargs measures text with `string-width` to lay out help and usage messages. Each copy of it builds an
 * Intl.Segmenter and Unicode-property regular expressions (RGI_Emoji) when its module is evaluated: ~25 ms of
 * every run's start (measured: the segmenter ~9 ms, the regular expressions ~14 ms), for text that a run which
 * prints no help never measures. Every import of it gets a stand-in that loads the real module (and its
 * dependencies) on the first call; esbuild evaluates a module reached by `require` only when it is required.
 */
const lazyStringWidth = {
  name: 'lazy-string-width',
  setup(b) {
    b.onResolve({ filter: /^string-width$/ }, async (args) => {
      if (args.pluginData === 'real') return undefined;
      const real = await b.resolve(args.path, { kind: args.kind, importer: args.importer, resolveDir: args.resolveDir, pluginData: 'real' });
      if (real.errors.length) return { errors: real.errors };
      return { path: real.path, namespace: 'lazy-string-width' };
    });
    b.onLoad({ filter: /.*/, namespace: 'lazy-string-width' }, (args) => ({
      resolveDir: dirname(args.path),
      loader: 'js',
      contents: `let real;\nexport default function stringWidth(string, options) {\n  real ??= require(${JSON.stringify(args.path)});\n  return real.default(string, options);\n}\n`,
    }));
  },
};

/**
 * yargs guesses the program's version (which rlscov sets itself) from the nearest package.json above its "main
 * file", which its shim takes to be the directory above `node_modules` in its own path. In the bundle that path has
 * no `node_modules`, so the search started at the working directory: every run listed the user's tree's root and
 * each directory above it (a `/tmp` of 12,000 entries: 8 ms). It starts from the bundle's own file instead (the
 * build fails if the shim's line changes).
 */
const yargsMainFile = {
  name: 'yargs-main-file',
  setup(b) {
    b.onLoad({ filter: /[\\/]yargs[\\/]lib[\\/]platform-shims[\\/]esm\.mjs$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8');
      const line = "const mainFilename = __dirname.substring(0, __dirname.lastIndexOf('node_modules'));";
      if (!text.includes(line)) throw new Error(`yargs's shim changed: ${args.path} no longer has ${line}`);
      return { contents: text.replace(line, 'const mainFilename = __dirname;'), loader: 'js', resolveDir: dirname(args.path) };
    });
  },
};

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  logLevel: 'warning',
  // What ES module code reads of import.meta, given from the script's own file name.
  define: { 'import.meta.url': '__rlscovUrl', 'import.meta.resolve': '__rlscovResolve' },
  banner: {
    js: "const __rlscovUrl = require('node:url').pathToFileURL(__filename).href; const __rlscovResolve = (s) => require('node:url').pathToFileURL(require.resolve(s)).href;",
  },
};
await build({
  ...common,
  entryPoints: [join(root, 'dist/src/cli/main.js')],
  outfile: join(root, 'dist/src/cli/main.bundle.cjs'),
  external,
  plugins: [lazyStringWidth, yargsMainFile],
  // No import() in the bundle: `require` instead (every package loaded on demand has a CommonJS entry). On Node 20,
  // a function V8 compiled from the code cache (code-cache.ts) has lost the script's dynamic-import callback, and
  // its import() throws ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING: fast-glob (migration globs in a config), pg
  // (--database-url) and PGlite (--catalog exact) failed on every run after the first.
  supported: { 'dynamic-import': false },
});
// The start of every run (run.js: replay, then loading the bundle above) as one script too, which bin.cjs requires:
// node's ES module loader took ~10 ms to resolve and link its eight modules, a tenth of a replayed run. main.js
// stays out: run.js loads it only when there is no main.bundle.cjs.
await build({
  ...common,
  entryPoints: [join(root, 'dist/src/cli/run.js')],
  outfile: join(root, 'dist/src/cli/run.bundle.cjs'),
  external: [...external, './main.js'],
});
// An ES module bundle of earlier builds would otherwise stay beside it.
rmSync(join(root, 'dist/src/cli/main.bundle.js'), { force: true });
