// The RLS catalog: gated tables, their policies and scope settings, and SQL functions, each with provenance.
// Built from migrations (migrations.ts), the built-in list (builtin.ts), then config overrides (overrides.ts).

export {
  DEFAULT_SCOPE_SETTING,
  buildCatalogFromMigrations,
  foldMigrations,
  isRollbackMigration,
  loadCatalogParser,
  orderMigrations,
} from './migrations.js';
export { builtinCatalog, builtinCatalogPath } from './builtin.js';
export { applyTableOverrides } from './overrides.js';
