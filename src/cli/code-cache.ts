// Loads the bundled command line (dist/src/cli/main.bundle.cjs, scripts/bundle.mjs) compiled from V8's code
// cache. Compiling the 750 KB bundle, and then each function on its first call, took ~40 ms of every run that is
// not replayed (a tenth of a pre-commit run on a large tree, a fifth on a small one). V8 can serialise what it
// compiled, lazily compiled functions included, and accept it back for the same source and flags; Node 20 offers
// this for scripts (vm.Script's cachedData), not for ES modules, hence the CommonJS bundle. The cache is written
// to the cache directory after a run that found none (or found it rejected: another node, other V8 flags), named
// by the node version and the bundle's size and modification time, since V8 itself only checks the source's
// length. No cache directory (--no-cache): compiled as any script.
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { constants, Script } from 'node:vm';
import { writeFileAtomic } from '../files.js';
import { hashText } from '../cache/names.js';
import { TOOL_VERSION } from '../version.js';

type Main = typeof import('./main.js');

export interface LoadedBundle {
  main: Main['main'];
  /** Writes the code cache when there was none, or V8 rejected it; says what it found and did. Never throws. */
  saveCodeCache(): CodeCacheUse;
  /** What was found (before saveCodeCache). */
  use(): CodeCacheUse;
}

/** off: no cache directory; used: compiled from it; missing / rejected (and then written, or not). */
export type CodeCacheUse = 'off' | 'used' | 'missing' | 'rejected' | 'missing, written' | 'rejected, written';

/** The bundle's `main`, or null when there is no bundle (a build without it: run.js imports main.js). */
export function loadBundle(file: string, cacheDir: string | null): LoadedBundle | null {
  let source: string;
  let name: string;
  try {
    const st = statSync(file);
    source = readFileSync(file, 'utf8');
    name = `code-${hashText(process.version, process.arch, TOOL_VERSION, String(st.size), String(st.mtimeMs)).slice(0, 24)}.bin`;
  } catch {
    return null;
  }
  const cacheFile = cacheDir ? join(cacheDir, name) : null;
  let cachedData: Buffer | undefined;
  try {
    if (cacheFile) cachedData = readFileSync(cacheFile);
  } catch {
    cachedData = undefined;
  }
  const script = new Script(Module.wrap(source), { filename: file, cachedData, importModuleDynamically: constants.USE_MAIN_CONTEXT_DEFAULT_LOADER });
  const mod = { exports: {} as Main };
  (script.runInThisContext() as (...args: unknown[]) => void)(mod.exports, createRequire(file), mod, file, dirname(file));
  const use = (): CodeCacheUse => (!cacheFile ? 'off' : !cachedData ? 'missing' : script.cachedDataRejected ? 'rejected' : 'used');
  return {
    main: mod.exports.main,
    use,
    saveCodeCache: () => {
      const found = use();
      if (found !== 'missing' && found !== 'rejected') return found;
      try {
        // One code cache per cache directory: those of other builds go.
        for (const n of readdirSync(cacheDir!)) if (n.startsWith('code-') && n.endsWith('.bin') && n !== name) rmSync(join(cacheDir!, n), { force: true });
      } catch {
        // no directory yet
      }
      return writeFileAtomic(cacheFile!, script.createCachedData()) ? `${found}, written` : found;
    },
  };
}
