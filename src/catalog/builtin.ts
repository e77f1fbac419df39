// The built-in catalog: the stock FORCE-RLS tables of AxonFlow v8.0.0 (rules/catalog/builtin.json).
//
// The JSON sits outside src/ so that packaging copies it as data (scripts/copy-assets.mjs copies rules/catalog to
// dist/rules/catalog). Source runs (vitest) load it from src/catalog/ -> ../../rules/catalog; the built CLI runs from
// dist/src/catalog/ -> ../../rules/catalog too (the copy), with ../../../rules/catalog (the source tree) as a last
// resort for a dist/ built without the asset copy.

import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Catalog, CatalogFunction, CatalogTable, Provenance } from '../model.js';
import { InternalError } from '../errors.js';
import { record } from '../records.js';

const CANDIDATES = ['../../rules/catalog/builtin.json', '../../../rules/catalog/builtin.json'];

interface BuiltinFile {
  source: Provenance;
  scopeSettings: string[];
  tables: Array<{ name: string; enabled?: boolean; forced?: boolean; detail?: string }>;
  functions?: CatalogFunction[];
}

let cached: BuiltinFile | null = null;

/** Absolute path of the built-in catalog file that builtinCatalog() reads. */
export function builtinCatalogPath(): string {
  for (const rel of CANDIDATES) {
    const p = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(p)) return p;
  }
  throw new InternalError(`built-in catalog not found (looked for ${CANDIDATES.join(', ')} next to ${import.meta.url})`);
}

function load(): BuiltinFile {
  if (cached) return cached;
  const path = builtinCatalogPath();
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new InternalError(`built-in catalog ${path} is not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  const d = data as Partial<BuiltinFile> | null;
  if (
    !d ||
    typeof d !== 'object' ||
    !Array.isArray(d.tables) ||
    !d.tables.every((t) => t && typeof t.name === 'string') ||
    !Array.isArray(d.scopeSettings) ||
    !d.source ||
    d.source.kind !== 'builtin'
  ) {
    throw new InternalError(`built-in catalog ${path} does not have the expected shape`);
  }
  cached = d as BuiltinFile;
  return cached;
}

/** The built-in catalog (origin 'builtin'); a fresh object on every call. */
export function builtinCatalog(): Catalog {
  const d = load();
  const tables: Record<string, CatalogTable> = record();
  for (const t of d.tables) {
    const source: Provenance = { ...d.source };
    if (t.detail) source.detail = `${d.source.detail ?? ''}${d.source.detail ? '; ' : ''}${t.detail}`;
    tables[t.name] = { name: t.name, enabled: t.enabled ?? true, forced: t.forced ?? false, source, policies: [] };
  }
  const functions: Record<string, CatalogFunction> = record();
  for (const f of d.functions ?? []) functions[f.name] = structuredClone(f);
  return {
    origin: 'builtin',
    tables,
    functions,
    scopeSettings: [...d.scopeSettings],
    migrationFiles: [],
    diagnostics: [],
  };
}
