// The catalog of a live PostgreSQL server (`--database-url`, RLSCOV_DATABASE_URL, `database.url`), read with the
// `pg` client in one short READ ONLY transaction under a statement timeout, after a connect timeout. TLS follows the
// URL (`sslmode=require|verify-full|no-verify|disable`, `sslrootcert=`, `sslcert=`, `sslkey=`, as `pg` reads them).
//
// Every failure is a DatabaseError (exit 2) with a one-line message: there is no silent fall-back to the
// migrations. Credentials never appear in a message: maskUrl() is applied to every URL shown, and the password (and
// the raw URL) are scrubbed from driver and server messages before they are shown.

import { DatabaseError } from '../errors.js';
import type { Catalog, Provenance } from '../model.js';
import { catalogFromRows, readPgCatalogRows, type QueryFn } from './pgcatalog.js';

export interface LiveOptions {
  /** Per-statement limit, also set as the session's statement_timeout (default 10 000 ms). */
  statementTimeoutMs?: number;
  /** Limit for opening the connection, TLS and authentication included (default 10 000 ms). */
  connectTimeoutMs?: number;
  /** Scope setting used when no policy reads any (default app.current_org_id). */
  defaultSetting?: string;
}

/**
 * The URL with its credentials replaced: `postgres://***@host:5432/db?sslmode=require`. Also masks `password=`
 * and `sslpassword=` parameters, and key=value connection strings (`host=h password=x`). Never throws.
 */
export function maskUrl(url: string): string {
  const params = (s: string): string => s.replace(/([?&;](?:ssl)?password=)[^&;#]*/gi, '$1***');
  const m = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*@)?(.*)$/is.exec(url.trim());
  if (m) return `${m[1]}${m[2] ? '***@' : ''}${params(m[3]!)}`;
  // key=value form
  return url.replace(/(\b(?:ssl)?password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)/gi, '$1***');
}

/** The password in a URL, if any (to scrub it from messages). */
function secretsOf(url: string): string[] {
  const out: string[] = [];
  const m = /^[a-z][a-z0-9+.-]*:\/\/([^/?#@]*)@/i.exec(url.trim());
  if (m) {
    const userinfo = m[1]!;
    const colon = userinfo.indexOf(':');
    if (colon >= 0) {
      const raw = userinfo.slice(colon + 1);
      out.push(raw);
      try {
        out.push(decodeURIComponent(raw));
      } catch {
        // not percent-encoded
      }
    }
  }
  for (const p of url.matchAll(/[?&;](?:ssl)?password=([^&;#]*)/gi)) out.push(p[1]!);
  for (const p of url.matchAll(/\b(?:ssl)?password\s*=\s*('(?:[^'\\]|\\.)*'|\S+)/gi)) out.push(p[1]!.replace(/^'|'$/g, ''));
  return out.filter((s) => s.length > 0);
}

/** Removes the raw URL and its secrets from a message and keeps its first line. */
function scrub(message: string, url: string): string {
  let m = message.split('\n')[0]!.trim();
  if (url) m = m.split(url).join(maskUrl(url));
  for (const s of secretsOf(url).sort((a, b) => b.length - a.length)) m = m.split(s).join('***');
  return m;
}

function isPostgresUrl(url: string): boolean {
  return /^postgres(?:ql)?:\/\//i.test(url.trim());
}

interface PgErrorLike {
  code?: string;
  message?: string;
  errno?: number;
}

/** A one-line DatabaseError for a driver or server error. */
export function databaseError(e: unknown, url: string, stage: 'connect' | 'read', limits: { connectMs: number; statementMs: number }): DatabaseError {
  const shown = maskUrl(url);
  const err = (e ?? {}) as PgErrorLike;
  const code = typeof err.code === 'string' ? err.code : undefined;
  const msg = scrub(typeof err.message === 'string' && err.message ? err.message : String(e), url);
  const where = stage === 'connect' ? `cannot connect to ${shown}` : `cannot read the catalog from ${shown}`;
  const secs = (ms: number): string => `${ms / 1000} s`;
  switch (code) {
    case '28P01':
      return new DatabaseError(`${where}: password authentication failed (SQLSTATE 28P01); check the user and password in the URL`, 'auth', code);
    case '28000':
      return new DatabaseError(`${where}: not allowed to connect (${msg}; SQLSTATE 28000)`, 'auth', code);
    case '3D000':
      return new DatabaseError(`${where}: ${msg} (SQLSTATE 3D000)`, 'connect', code);
    case '42501':
      return new DatabaseError(`${where}: missing privilege: ${msg} (SQLSTATE 42501); the role needs CONNECT on the database and read access to pg_catalog`, 'privilege', code);
    case '57014':
      return new DatabaseError(`${where}: statement timeout after ${secs(limits.statementMs)} (SQLSTATE 57014); the server is busy or a lock blocks the catalog`, 'timeout', code);
    case '55P03':
      return new DatabaseError(`${where}: lock not available (SQLSTATE 55P03)`, 'timeout', code);
    case '57P03':
    case '53300':
      return new DatabaseError(`${where}: the server does not accept connections now: ${msg} (SQLSTATE ${code})`, 'connect', code);
    case 'ECONNREFUSED':
      return new DatabaseError(`${where}: connection refused (is the server running and listening on that host and port?)`, 'connect', code);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new DatabaseError(`${where}: unknown host (${code})`, 'connect', code);
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return new DatabaseError(`${where}: ${code === 'ETIMEDOUT' ? `timed out after ${secs(limits.connectMs)}` : 'host unreachable'} (${code})`, code === 'ETIMEDOUT' ? 'timeout' : 'connect', code);
    case 'ECONNRESET':
      return new DatabaseError(`${where}: the server closed the connection (ECONNRESET)`, 'connect', code);
  }
  if (/timeout|timed out/i.test(msg)) {
    return stage === 'connect'
      ? new DatabaseError(`${where}: timed out after ${secs(limits.connectMs)} (no answer to the connection; check host, port and firewall)`, 'timeout', code)
      : new DatabaseError(`${where}: query timed out after ${secs(limits.statementMs)}`, 'timeout', code);
  }
  if (/ssl|tls|certificate/i.test(msg) || (code !== undefined && /^(?:ERR_TLS|ERR_SSL|DEPTH_ZERO|SELF_SIGNED|UNABLE_TO|CERT_)/.test(code))) {
    return new DatabaseError(`${where}: TLS error: ${msg}`, 'tls', code);
  }
  if (code && /^[0-9A-Z]{5}$/.test(code)) return new DatabaseError(`${where}: ${msg} (SQLSTATE ${code})`, stage === 'connect' ? 'connect' : 'query', code);
  return new DatabaseError(`${where}: ${msg}`, stage === 'connect' ? 'connect' : 'query', code);
}

/**
 * Reads the RLS catalog from a live server (origin 'database'; every object's provenance is kind 'database' with
 * the masked URL and the object in `detail`). Throws DatabaseError on any failure.
 */
export async function readLiveCatalog(url: string, opts: LiveOptions = {}): Promise<Catalog> {
  const shown = maskUrl(url);
  if (!isPostgresUrl(url)) {
    throw new DatabaseError(`invalid database URL ${shown}: expected postgres://user:password@host:port/database`, 'url');
  }
  const statementMs = opts.statementTimeoutMs ?? 10_000;
  const connectMs = opts.connectTimeoutMs ?? 10_000;
  const limits = { connectMs, statementMs };
  const pg = (await import('pg')).default;
  let client: InstanceType<typeof pg.Client>;
  try {
    client = new pg.Client({
      connectionString: url,
      connectionTimeoutMillis: connectMs,
      statement_timeout: statementMs,
      lock_timeout: statementMs,
      query_timeout: statementMs + 2_000,
      application_name: 'rlscov',
    });
  } catch (e) {
    throw new DatabaseError(`invalid database URL ${shown}: ${scrub(e instanceof Error ? e.message : String(e), url)}`, 'url');
  }
  // Errors after connect (server shutdown) arrive as events; the awaited calls below report them.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (e) {
    await client.end().catch(() => undefined);
    throw databaseError(e, url, 'connect', limits);
  }
  let rows: Awaited<ReturnType<typeof readPgCatalogRows>>;
  try {
    const q: QueryFn = async (sql) => (await client.query(sql)).rows as Array<Record<string, unknown>>;
    await client.query('BEGIN TRANSACTION READ ONLY');
    await client.query(`SET LOCAL statement_timeout = ${Math.max(1, Math.floor(statementMs))}`);
    rows = await readPgCatalogRows(q);
    await client.query('COMMIT');
  } catch (e) {
    throw databaseError(e, url, 'read', limits);
  } finally {
    await client.end().catch(() => undefined);
  }
  const provenance = (kind: 'table' | 'policy' | 'function', key: string): Provenance => ({
    kind: 'database',
    detail: `${kind} ${kind === 'policy' ? key.replace('|', ' / ') : key} in ${shown}`,
  });
  const catalog = await catalogFromRows(rows, { origin: 'database', provenance, ...(opts.defaultSetting ? { defaultSetting: opts.defaultSetting } : {}) });
  return { ...catalog, build: { mode: 'live', database: shown } };
}
