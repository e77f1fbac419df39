// Helpers of the schema rules (RLS101-RLS104): which catalog objects they judge, and where a finding about one is
// reported. Objects come from migrations (static or exact catalog: reported on the migration file and line) or
// from a live database (reported on the pseudo-path `@database/<kind>/<name>`, line 1: a stable location that names
// the object, independent of the URL, so baselines and SARIF fingerprints survive a change of host or password;
// the message names the database with its credentials masked). Built-in and config-added tables are never judged:
// their policies and functions are not known.
import type { Catalog, CatalogFunction, CatalogTable, Provenance, Span } from '../src/model.js';
import { compareNames } from '../src/order.js';

/** The pseudo-path of a database object that has no migration location. */
export function databasePath(kind: 'table' | 'function' | 'policy', name: string): string {
  return `@database/${kind}/${name}`;
}

/** Whether a schema rule should judge an object with this provenance. */
export function judged(source: Provenance): boolean {
  return source.kind === 'migration' || source.kind === 'database';
}

/** Where a finding about the object is reported. */
export function objectSpan(source: Provenance, kind: 'table' | 'function' | 'policy', name: string): Span {
  const file = source.file ?? databasePath(kind, name);
  const line = source.file ? (source.line ?? 1) : 1;
  return { file, start: { line, column: 1 }, end: { line, column: 1 } };
}

/** "in postgres://***@db:5432/app" for a live object, "" otherwise. */
export function databaseSuffix(catalog: Catalog, source: Provenance): string {
  return source.kind === 'database' && catalog.build?.database ? ` (database ${catalog.build.database})` : '';
}

/** Gated tables (RLS enabled) a schema rule judges, by name. */
export function judgedTables(catalog: Catalog): CatalogTable[] {
  return Object.values(catalog.tables)
    .filter((t) => t.enabled && judged(t.source))
    .sort((a, b) => compareNames(a.name, b.name));
}

export function judgedFunctions(catalog: Catalog): CatalogFunction[] {
  return Object.values(catalog.functions)
    .filter((f) => judged(f.source))
    .sort((a, b) => compareNames(a.name, b.name));
}
