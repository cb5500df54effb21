/**
 * Turns what `pg` throws into `HitstateError`s that name the fix: an unreachable server, a refused
 * login, a missing database, or a statement that failed. The URL in messages never shows the
 * password.
 *
 * @module
 */
import { HitstateError } from '../../errors.js';

/** The parts of a `postgres://` URL a message may show (never the password). */
export interface ConnectionTarget {
  readonly host: string;
  readonly port: string;
  readonly user: string;
  readonly database: string;
  /** The URL with its password replaced by `***`. */
  readonly redacted: string;
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNRESET',
  'EPIPE',
]);

/**
 * Checks a store URL and returns what messages may show of it.
 *
 * @throws HST_ERR_CONFIG_INVALID when it is not a `postgres://` or `postgresql://` URL with a host.
 */
export function parseConnectionUrl(url: string): ConnectionTarget {
  const example = 'postgres://USER:PASSWORD@HOST:5432/DATABASE';
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new HitstateError(
      'HST_ERR_CONFIG_INVALID',
      `store must be a PostgreSQL URL like ${example}, got a string that is not a URL`,
      { field: 'store' },
    );
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new HitstateError(
      'HST_ERR_CONFIG_INVALID',
      `store must be a PostgreSQL URL like ${example}, got the scheme ${JSON.stringify(parsed.protocol)}`,
      { field: 'store' },
    );
  }
  if (!parsed.hostname) {
    throw new HitstateError('HST_ERR_CONFIG_INVALID', `store URL names no host; write it like ${example}`, {
      field: 'store',
    });
  }
  const user = decodeURIComponent(parsed.username) || process.env.PGUSER || 'the default user';
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, '')) || user;
  if (parsed.password) parsed.password = '***';
  return { host: parsed.hostname, port: parsed.port || '5432', user, database, redacted: parsed.toString() };
}

function networkCode(error: unknown): string | undefined {
  const e = error as { code?: unknown; errors?: unknown[] };
  if (typeof e?.code === 'string' && NETWORK_CODES.has(e.code)) return e.code;
  // Node tries every address of a name (IPv4 and IPv6) and throws an AggregateError of them.
  if (Array.isArray(e?.errors)) for (const inner of e.errors) if (networkCode(inner)) return networkCode(inner);
  return undefined;
}

/** True when the error means the connection broke or never opened (so a commit's outcome may be unknown). */
export function isConnectionFailure(error: unknown): boolean {
  if (networkCode(error)) return true;
  const message = String((error as Error)?.message ?? '');
  return /Connection terminated|timeout expired|connection timeout|Client has encountered a connection error/i.test(
    message,
  );
}

/**
 * The `HitstateError` for a failure of `operation` against `target`.
 *
 * @param outcome what is known of the data: for a commit, whether a failure left it unwritten or unknown.
 */
export function postgresError(
  error: unknown,
  target: ConnectionTarget,
  operation: string,
  outcome = '',
): HitstateError {
  if (error instanceof HitstateError) return error;
  const where = `${target.host}:${target.port}`;
  const sqlState = (error as { code?: unknown })?.code;
  const message = String((error as Error)?.message ?? error);
  const net = networkCode(error);
  if (net || isConnectionFailure(error)) {
    return new HitstateError(
      'HST_ERR_STORE_PG_UNREACHABLE',
      `${operation}: PostgreSQL at ${where} cannot be reached (${net ?? message}). Start the server, or fix the ` +
        `host and port in the store URL ${target.redacted}${outcome ? `; ${outcome}` : ''}`,
      { operation, field: 'store', cause: error },
    );
  }
  if (sqlState === '28P01' || sqlState === '28000') {
    return new HitstateError(
      'HST_ERR_STORE_PG_AUTH_FAILED',
      `${operation}: PostgreSQL at ${where} refused the login of user "${target.user}" (${message}). Check the user ` +
        "and password in the store URL, or the server's pg_hba.conf",
      { operation, field: 'store', cause: error },
    );
  }
  if (sqlState === '3D000') {
    return new HitstateError(
      'HST_ERR_STORE_PG_DATABASE_MISSING',
      `${operation}: database "${target.database}" does not exist on PostgreSQL at ${where}. Create it ` +
        `(\`createdb -h ${target.host} -p ${target.port} -U ${target.user} ${target.database}\`, or CREATE DATABASE), ` +
        'or name an existing database in the store URL',
      { operation, field: 'store', cause: error },
    );
  }
  const hint =
    sqlState === '42501'
      ? ` User "${target.user}" lacks a privilege: grant it CREATE on the database (for the schema) or use its owner.`
      : '';
  return new HitstateError(
    'HST_ERR_STORE_PG_FAILED',
    `${operation} failed on PostgreSQL at ${where}${typeof sqlState === 'string' ? ` (SQLSTATE ${sqlState})` : ''}: ${message}.${hint}${outcome ? ` ${outcome}` : ''}`,
    { operation, cause: error },
  );
}
