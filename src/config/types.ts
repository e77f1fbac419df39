// The validated configuration (after defaults). The file format is described by schema.json beside this file.
import type { RuleLevel } from '../model.js';

export interface AllowEntry {
  /** `path::Func`, `path::Type.Method` or `path::*`; path relative to the config file's directory. */
  site: string;
  reason: string;
  /** 1-based line of the entry in the config file, when known (for "unused allow entry" reports). */
  line?: number;
}

export interface Config {
  /** Absolute path of the config file used, or null for defaults. */
  file: string | null;
  /** Directory relative paths in the config are resolved against (the config file's directory, else cwd). */
  baseDir: string;
  include: string[];
  exclude: string[];
  tests: boolean;
  migrations: string[];
  tables: { add: string[]; remove: string[] };
  wrappers: string[];
  adminOpeners: string[];
  scopeSettings: string[];
  allow: AllowEntry[];
  /** Rule levels by id (`RLS004`); the ids are well-formed but not checked against the rule registry here. */
  rules: Record<string, RuleLevel>;
  /** A live database to read the catalog from (src/catalog/live.ts); --database-url / RLSCOV_DATABASE_URL win. */
  database?: { url?: string };
  /** `static` (migrations folded, default) or `exact` (migrations executed in embedded Postgres). */
  catalog?: 'static' | 'exact';
}
