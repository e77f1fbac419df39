import type { Config } from '../config/types.js';

export interface AnalyzeOptions {
  /** Paths to scan (files or directories), absolute or relative to cwd. Default ['.']. */
  paths: string[];
  cwd: string;
  /** Root all reported paths are relative to (default: cwd). */
  root?: string;
  /** Explicit config file (else found by walking up from the first path). */
  configPath?: string;
  /** A ready config (tests); skips config discovery. */
  config?: Config;
  /** Include *_test.go files. */
  includeTests?: boolean;
  /** Extra migration globs (relative to cwd). */
  migrations?: string[];
  /** Run only these rule ids (others off); levels still come from config/defaults. */
  onlyRules?: string[];
  /** Report suppressed findings as live. */
  noSuppressions?: boolean;
  /** Use the persistent facts cache (default false here; the CLI turns it on unless --no-cache). */
  cache?: boolean;
  cacheDir?: string;
  /** Worker threads for parsing (0: in-process; default: up to 4, by CPU count). */
  workers?: number;
  /** Parse only files that can matter (default true); false parses every file. */
  prefilter?: boolean;
  /** Compute RunResult.discovered (wrappers, admin handles; default true). Reports that do not show it skip it. */
  discover?: boolean;
  /**
   * Read the catalog from this live database (postgres://...) instead of the migrations; overrides the config's
   * `database.url` (the CLI passes --database-url, else RLSCOV_DATABASE_URL). Failures throw DatabaseError.
   */
  databaseUrl?: string;
  /**
   * How the migrations become a catalog: `static` (fold, default) or `exact` (executed in embedded Postgres);
   * overrides the config's `catalog`. With a database URL, it decides the side the database is compared with.
   */
  catalogMode?: 'static' | 'exact';
}
