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

/** Something rlscov itself got wrong; printed with a request to report it. */
export class InternalError extends Error {
  override name = 'InternalError';
}
