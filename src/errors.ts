// Known errors. The CLI prints their message on one line and exits 2; anything else is a bug (InternalError).

/** Wrong flags, unknown sub-command, missing path. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Invalid configuration: unknown key, wrong type, unreadable or unparsable config file. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(
    message: string,
    readonly file?: string,
  ) {
    super(message);
  }
}

/**
 * A database given with --database-url / RLSCOV_DATABASE_URL / `database.url` could not be read: bad URL,
 * connection refused or timed out, authentication failed, a missing privilege, a statement timeout. Exit 2 like
 * any input error (it is a UsageError); the message is one line and never contains the URL's credentials.
 */
export class DatabaseError extends UsageError {
  override name = 'DatabaseError';
  constructor(
    message: string,
    /** What went wrong, for callers and tests. */
    readonly reason: 'url' | 'connect' | 'auth' | 'timeout' | 'privilege' | 'tls' | 'query',
    /** SQLSTATE or Node error code, when there is one. */
    readonly code?: string,
  ) {
    super(message);
  }
}

/** Something rlscov itself got wrong; printed with a request to report it. */
export class InternalError extends Error {
  override name = 'InternalError';
}

/**
 * What the command line prints for an error it did not expect (a bug), wherever the run ran (in-process, run.ts,
 * or in the daemon, daemon.ts): one line asking for a report, plus the stack only with RLSCOV_DEBUG=1.
 */
export function internalErrorText(e: unknown, env: Record<string, string | undefined>): string {
  const err = e instanceof Error ? e : new Error(String(e));
  return `rlscov: internal error: ${err.message} (please report it with RLSCOV_DEBUG=1 output)\n${env['RLSCOV_DEBUG'] ? `${err.stack ?? ''}\n` : ''}`;
}
