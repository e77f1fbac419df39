// What the Go database libraries look like from the outside: which methods run SQL, which open transactions or
// pools, which types are handles. database/sql, sqlx, pgx v4/v5 (+pgxpool).

/** Methods that run SQL given as an argument (the SQL is the first string-valued argument among the first 3). */
export const SQL_METHODS = new Set([
  'Exec', 'ExecContext', 'Query', 'QueryContext', 'QueryRow', 'QueryRowContext',
  'Prepare', 'PrepareContext', 'Preparex', 'PreparexContext', 'PrepareNamed', 'PrepareNamedContext',
  'NamedExec', 'NamedExecContext', 'MustExec', 'MustExecContext', 'Get', 'GetContext', 'Select', 'SelectContext',
  'Queryx', 'QueryxContext', 'QueryRowx', 'QueryRowxContext', 'NamedQuery', 'NamedQueryContext',
]);

export const PREPARE_METHODS = new Set(['Prepare', 'PrepareContext', 'Preparex', 'PreparexContext', 'PrepareNamed', 'PrepareNamedContext']);

/** Methods that open a transaction on a pool or connection. */
export const BEGIN_METHODS = new Set(['Begin', 'BeginTx', 'Beginx', 'BeginTxx', 'MustBegin', 'MustBeginTx']);

/** Methods that return a connection (or pool-like handle) of the same pool. */
export const CONN_METHODS = new Set(['Conn', 'Acquire', 'Unsafe']);

/** Package functions that open an application pool or connection. */
export const POOL_OPENERS = new Set([
  'database/sql.Open', 'database/sql.OpenDB',
  'github.com/jmoiron/sqlx.Open', 'github.com/jmoiron/sqlx.Connect', 'github.com/jmoiron/sqlx.MustConnect',
  'github.com/jmoiron/sqlx.MustOpen', 'github.com/jmoiron/sqlx.NewDb', 'github.com/jmoiron/sqlx.ConnectContext',
  'github.com/jackc/pgx/v5/pgxpool.New', 'github.com/jackc/pgx/v5/pgxpool.NewWithConfig',
  'github.com/jackc/pgx/v4/pgxpool.Connect', 'github.com/jackc/pgx/v4/pgxpool.ConnectConfig',
  'github.com/jackc/pgx/v5.Connect', 'github.com/jackc/pgx/v4.Connect', 'github.com/jackc/pgx/v5.ConnectConfig',
  'github.com/jackc/pgx/v4.ConnectConfig',
]);

export const DEFAULT_WRAPPERS = [
  'WithOrgScope', 'WithOrgAndTenantScope', 'withOrgScope', 'withRequestOrgScope', 'execWithRetryOrgScope',
  'withOrgScopeTx', 'withSSOOrgScope', 'withSAMLOrgScope',
];

/** Settings a named wrapper is known to set when its body is not in the analysed tree. */
export function wrapperSettings(name: string, defaultSetting: string): string[] {
  if (/tenant/i.test(name)) return [defaultSetting, 'app.current_tenant_id'].sort();
  return [defaultSetting];
}

export const DEFAULT_ADMIN_OPENERS = ['OpenPlatformAdminConnection'];

const TX_TYPES = [/^\*database\/sql\.Tx$/, /^\*github\.com\/jmoiron\/sqlx\.Tx$/, /^github\.com\/jackc\/pgx\/v\d+\.Tx$/, /^\*github\.com\/jackc\/pgx\/v\d+\/pgxpool\.Tx$/];
const POOL_TYPES = [
  /^\*database\/sql\.(DB|Conn)$/, /^\*github\.com\/jmoiron\/sqlx\.(DB|Conn)$/, /^\*github\.com\/jackc\/pgx\/v\d+\/pgxpool\.(Pool|Conn)$/,
  /^\*github\.com\/jackc\/pgx\/v\d+\.Conn$/,
];

export function isTxType(t: string): boolean {
  return TX_TYPES.some((r) => r.test(t));
}

export function isPoolType(t: string): boolean {
  return POOL_TYPES.some((r) => r.test(t));
}

export function isHandleType(t: string): boolean {
  return isTxType(t) || isPoolType(t);
}

/** A short, readable form of a canonical type: `*database/sql.Tx` -> `*sql.Tx`. */
export function shortType(t: string): string {
  return t.replace(/(^|[*\[\](,])([\w.\-~]+\/)+([\w]+)\./g, (_m, pre: string, _dir: string, last: string) => `${pre}${last}.`).replace(/dir:[^.]*\./g, '');
}
