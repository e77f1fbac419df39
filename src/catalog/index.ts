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
// The catalog of a live server, of the migrations executed in embedded Postgres, and how two catalogs differ.
// (pg and PGlite themselves are imported only when a catalog is actually read from them.)
export { readLiveCatalog, maskUrl, type LiveOptions } from './live.js';
export { buildExactCatalog, type ExactOptions, type ExactResult, type ExactFailure } from './exact.js';
export { catalogDrift, driftIsEmpty, formatDrift, tableAgreement } from './drift.js';
