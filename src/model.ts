// The records every stage of rlscov exchanges. Data flows one way:
//   discover -> parse (src/go) -> facts/catalog -> resolve (write sites) -> engine (rules) -> report.
// Everything here is plain, JSON-serialisable data (no class instances, no Maps), so that facts can be cached
// and reporters can print them without knowing where they came from.

/** 1-based line, 1-based column counted in UTF-16 code units (what SARIF and editors expect). */
export interface Position {
  line: number;
  column: number;
}

/** A region of a file. `file` is a path relative to the run's root, with forward slashes. */
export interface Span {
  file: string;
  start: Position;
  end: Position;
}

/** One step of the reasoning behind a verdict: "closure parameter of WithOrgScope (rls/scope.go:12)". */
export interface Evidence {
  message: string;
  span?: Span;
}

/** Where a catalog entry came from. */
export interface Provenance {
  kind: 'migration' | 'builtin' | 'config' | 'database';
  /** Root-relative path of the migration (or config) file. */
  file?: string;
  line?: number;
  detail?: string;
}

// ---------------------------------------------------------------------------------------------------------------
// SQL (src/sql)

/** A piece of SQL text: literal text, or a hole whose text is not known statically. */
export type SqlPart = string | SqlHole;
export interface SqlHole {
  /** Human description of what the hole stands for: "value of table", "argument 2 of fmt.Sprintf". */
  hole: string;
}
/** One possible SQL text reaching a call: a sequence of literal text and holes. */
export interface SqlText {
  parts: SqlPart[];
}

export type WriteVerb = 'INSERT' | 'UPDATE' | 'DELETE' | 'MERGE' | 'COPY_FROM' | 'TRUNCATE';

/**
 * A table reference. `name` is the normalised key used for catalog look-ups: unquoted identifiers lower-cased,
 * quoted ones kept as written, schema kept only when it is not `public` ("audit.events", "api_keys").
 */
export interface TableRef {
  name: string;
}

export interface SqlWrite {
  verb: WriteVerb;
  /** null when the target is (partly) a hole: the verb is known, the table is not. */
  table: TableRef | null;
  /** INSERT ... ON CONFLICT DO UPDATE */
  upsert?: boolean;
  /** The write sits in a WITH clause (CTE) of another statement. */
  inCte?: boolean;
}

export interface ScopeSettingWrite {
  /** Setting name, lower-cased ("app.current_org_id"); null when it is a hole. */
  name: string | null;
  /** true: transaction-local (set_config(..., true) / SET LOCAL); false: session; null: not known statically. */
  local: boolean | null;
  /** 'set_config' or 'SET'. */
  form: 'set_config' | 'SET';
}

export interface SqlStatement {
  /** The first keyword's statement kind, e.g. 'INSERT', 'SELECT', 'SET', 'COPY', 'WITH' -> kind of the main query. */
  kind: string;
  writes: SqlWrite[];
  /** Tables read by SELECT (FROM / JOIN), normalised like TableRef.name; used by the opt-in read rule. */
  reads: TableRef[];
  /** Functions called anywhere in the statement, normalised names ("auth_insert_api_key", "util.f"). */
  functionCalls: string[];
  scopeSettings: ScopeSettingWrite[];
  /** The statement's text, holes rendered as `?`, whitespace collapsed; for messages and baselines. */
  text: string;
  /** false when any hole is in the statement. */
  complete: boolean;
  /** Which classifier produced it: the real Postgres grammar, or the tolerant scanner (holes, syntax errors). */
  parser: 'postgres' | 'scanner';
}

// ---------------------------------------------------------------------------------------------------------------
// Catalog (src/catalog)

export interface CatalogPolicy {
  name: string;
  /** Settings its USING / WITH CHECK read, directly or through SQL functions. */
  settings: string[];
  source: Provenance;
}

export interface CatalogTable {
  /** Normalised like TableRef.name. */
  name: string;
  enabled: boolean;
  forced: boolean;
  /** Where RLS was (last) switched on. */
  source: Provenance;
  policies: CatalogPolicy[];
}

export interface CatalogFunction {
  /** Normalised name (lower-cased, schema kept when not public). */
  name: string;
  securityDefiner: boolean;
  language: string;
  /** Writes its body performs (for SECURITY INVOKER functions these are writes of the caller). */
  writes: SqlWrite[];
  /** Settings its body reads via current_setting(...). */
  readsSettings: string[];
  /** SET search_path given on the function. */
  setsSearchPath: boolean;
  source: Provenance;
  /** Owning role (catalogs read from a database: live or exact). */
  owner?: string;
  /** The owner has BYPASSRLS or is a superuser, so a SECURITY DEFINER body ignores RLS (live or exact). */
  ownerBypassesRls?: boolean;
}

export interface CatalogDiagnostic {
  file: string;
  line: number;
  message: string;
}

/**
 * How two catalogs of the same schema differ (src/catalog/drift.ts): static fold vs embedded execution of the
 * migrations, or migrations vs a live database. Table names are normalised like CatalogTable.name, sorted.
 */
export interface CatalogDrift {
  /** Label of each side: 'static' (migration fold), 'exact' (migrations executed), 'database'. */
  left: string;
  right: string;
  /** Gated on the left only / on the right only. */
  onlyLeft: string[];
  onlyRight: string[];
  /** Gated on both sides, FORCEd on one only. */
  forced: Array<{ table: string; left: boolean; right: boolean }>;
  /** Gated on both sides with the same FORCE. */
  agree: string[];
}

/** How a catalog was obtained (absent: the static fold or the built-in list, as `origin` says). */
export interface CatalogBuild {
  /** static: migrations folded; exact: migrations executed in embedded Postgres; live: read from a server. */
  mode: 'static' | 'exact' | 'live';
  /** live: the masked URL of the database read. */
  database?: string;
  /** exact: migrations that failed to execute and were folded statically instead. */
  failedMigrations?: string[];
}

export interface Catalog {
  /** Where the gated-table list came from overall. */
  origin: 'migrations' | 'builtin' | 'database';
  /** Gated tables (RLS enabled, forced or not) by normalised name. Tables whose RLS was disabled are absent. */
  tables: Record<string, CatalogTable>;
  functions: Record<string, CatalogFunction>;
  /** Settings that policies read (current_setting('app.x')), plus configured ones; default app.current_org_id. */
  scopeSettings: string[];
  /** Root-relative migration files folded, in order. */
  migrationFiles: string[];
  /** Migration statements that could not be understood (reported, never fatal). */
  diagnostics: CatalogDiagnostic[];
  /** Set for exact and live catalogs. */
  build?: CatalogBuild;
  /** Exact: static fold vs execution. Live with migrations: migrations vs database. */
  drift?: CatalogDrift;
}

// ---------------------------------------------------------------------------------------------------------------
// Resolution (src/resolve) -> write sites

export type HandleKind = 'scopedTx' | 'unscopedTx' | 'appPool' | 'adminPool' | 'handleParam' | 'unknown';

/** What a receiver is, and why we believe it. */
export interface HandleVerdict {
  kind: HandleKind;
  /** One line: "transaction tx opened by BeginTx at a.go:10, no org scope set on it". */
  description: string;
  /** Settings set transaction-locally on it (scopedTx / unscopedTx). */
  settings: string[];
  evidence: Evidence[];
}

export type SiteVerdict = 'scoped' | 'admin' | 'security-definer' | 'allowed' | 'finding' | 'not-gated' | 'caller-checked';

/** A call that runs SQL (Exec, Query, CopyFrom, ...), with every possible SQL text and handle resolved. */
export interface WriteSite {
  span: Span;
  /** First line of the statement the call is part of (suppression comments may sit above it). */
  statementLine: number;
  /** Enclosing named function: "Func", "Type.Method"; closures report their enclosing named function. */
  function: string;
  /** Package directory, root-relative. */
  package: string;
  /** Method called: Exec, ExecContext, CopyFrom, Prepare, ... */
  method: string;
  /** Source text of the receiver expression. */
  receiver: string;
  handles: HandleVerdict[];
  statements: SqlStatement[];
  /** How much of the SQL was known: every text complete, some holes, or nothing at all. */
  sql: 'complete' | 'holes' | 'unknown';
  /** Set when the site is a call of an SQL helper (execWithRetry(db, q)) rather than a driver method. */
  via?: Evidence[];
}

// ---------------------------------------------------------------------------------------------------------------
// Findings (src/engine, rules/)

export type Severity = 'error' | 'warning' | 'note';
export type RuleLevel = Severity | 'off';

export interface Suppression {
  kind: 'inSource' | 'external';
  justification: string;
  /** Where the directive or allow entry is. */
  location?: Span;
}

export interface Finding {
  ruleId: string;
  ruleName: string;
  severity: Severity;
  message: string;
  span: Span;
  /** Enclosing named function of the finding, for allow-lists and baselines. */
  function: string;
  /** Related locations (SARIF relatedLocations; text output lists them under the finding). */
  related: Evidence[];
  /** Call path from the reported call down to the write (SARIF codeFlows). */
  flow?: Evidence[];
  /** Normalised statement text (or other stable key) used by baselines. */
  key: string;
  suppressed?: Suppression;
}

export interface FileProblem {
  file: string;
  line?: number;
  column?: number;
  message: string;
}

export interface RunSummary {
  filesScanned: number;
  filesParsed: number;
  writeSites: number;
  /** Count of write sites into gated tables (or unresolved targets) by verdict. */
  verdicts: Partial<Record<SiteVerdict, number>>;
  findingsByRule: Record<string, number>;
  /** Files whose facts came from the persistent cache; wholeRun: the whole result was reused (unchanged inputs). */
  cache?: {
    filesFromCache: number;
    /** Files whose pass-1 facts (the interpretation of their functions) came from the cache. */
    factsFromCache: number;
    wholeRun: boolean;
  };
}

/** What the analysis learned about the tree's own code (for `rlscov catalog` and `rlscov init`). */
export interface DiscoveredFacts {
  /** Functions that hand their closure a transaction with scope settings set (found, or named in config/defaults). */
  wrappers: Array<{ name: string; file: string; line: number; settings: string[]; how: 'discovered' | 'named' }>;
  /** Struct fields and package variables that only ever hold the admin pool. */
  adminHandles: Array<{ name: string; file?: string; line?: number }>;
  /** Admin opener names in effect. */
  adminOpeners: string[];
  /** Package-level functions of the tree that return a pool (admin opener candidates), with their result type. */
  poolFunctions: Array<{ name: string; file: string; line: number; type: string }>;
}

export interface RunResult {
  toolVersion: string;
  /** Absolute path all spans are relative to. */
  root: string;
  configFile: string | null;
  catalog: Catalog;
  sites: Array<WriteSite & { verdict: SiteVerdict }>;
  findings: Finding[];
  /** Files with syntax errors (still analysed) and files that could not be read. */
  syntaxErrors: FileProblem[];
  fileErrors: FileProblem[];
  summary: RunSummary;
  discovered?: DiscoveredFacts;
}
