// Config `tables: {add, remove}`, applied last on top of any catalog (migrations, built-in, database).

import type { Catalog, CatalogTable, Provenance } from '../model.js';
import { normalizeTableName } from '../sql/index.js';
import { record } from '../records.js';

/**
 * Returns a copy of `c` with the configured tables added (as enabled, not forced, provenance kind 'config') and
 * then removed, so a table listed in both ends up removed. Names are normalised like table references
 * (`public.API_Keys` -> `api_keys`, `"Audit"."Events"` -> `Audit.Events`). A table that is already in the catalog
 * keeps its entry (and its more precise provenance) when it is added again.
 */
export function applyTableOverrides(c: Catalog, add: string[], remove: string[], configFile: string | null): Catalog {
  const tables: Record<string, CatalogTable> = record(c.tables);
  for (const raw of add) {
    const name = normalizeTableName(null, raw);
    if (name === '' || tables[name]) continue;
    const source: Provenance = { kind: 'config', detail: 'tables.add' };
    if (configFile !== null) source.file = configFile;
    tables[name] = { name, enabled: true, forced: false, source, policies: [] };
  }
  for (const raw of remove) delete tables[normalizeTableName(null, raw)];
  return { ...c, tables };
}
