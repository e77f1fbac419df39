// The Postgres parser (libpg-query: Postgres's own grammar compiled to WASM), loaded on demand. Requiring the
// package costs ~10 ms of the main thread, and instantiating its module ~10-30 ms more once it is compiled: a run
// whose catalog and SQL classifications all come from the cache (a pre-commit run that edits no SQL, a repeated
// run) never needs it, nor does a command that analyses nothing (measured; see the README, design section). Every
// caller awaits loadPg() before calling pg(); the SQL classifier also answers from its cache without it
// (classify.ts, sqlParserNeeded).
import { createRequire } from 'node:module';
import { InternalError } from '../errors.js';

type PgModule = typeof import('libpg-query');

let pgModule: PgModule | null = null;
let ready = false;
let loading: Promise<void> | null = null;

/** Requires libpg-query and instantiates its WASM module, once; a failed load can be retried. */
export function loadPg(): Promise<void> {
  loading ??= (async () => {
    // Its WASM runtime prints with the console functions it finds when the module starts (bound then): a parse
    // that runs out of WASM memory printed "Terminating process due to FATAL error" to stdout, ahead of a JSON or
    // SARIF report, and its memory statistics to stderr, before throwing (the text then goes to the scanner). Only
    // src/cli writes output: the runtime gets functions that drop what it prints.
    const saved = { log: console.log, error: console.error, warn: console.warn };
    let m: PgModule;
    try {
      console.log = console.error = console.warn = () => {};
      m = createRequire(import.meta.url)('libpg-query') as PgModule;
    } finally {
      Object.assign(console, saved);
    }
    await m.loadModule();
    pgModule = m;
    ready = true;
  })().catch((e: unknown) => {
    loading = null;
    throw e;
  });
  return loading;
}

/** Whether loadPg() has resolved. */
export function pgReady(): boolean {
  return ready;
}

/** The loaded parser; throws InternalError before loadPg() has resolved. */
export function pg(): PgModule {
  if (!pgModule) throw new InternalError('the Postgres parser was used before it was loaded');
  return pgModule;
}
