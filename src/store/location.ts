/**
 * Where a store lives: a directory (lowdb files) or a PostgreSQL database (`postgres://…`), chosen
 * by `openStore({ dir })`, `openStore({ url })`, `HITSTATE_DATABASE_URL` or `HITSTATE_STORE_DIR`.
 * Kept free of `pg` so a lowdb store never loads it.
 *
 * @module
 */
import { HitstateError } from '../errors.js';

/** True for a `postgres://` or `postgresql://` URL (a store location that is a database, not a directory). */
export function isDatabaseUrl(location: string): boolean {
  return /^postgres(ql)?:\/\//i.test(location.trim());
}

/** True for anything written like a URL (`scheme://…`). */
const looksLikeUrl = (location: string): boolean => /^[a-z][a-z0-9+.-]*:\/\//i.test(location.trim());

/**
 * A store location as messages may show it: a URL with its password replaced by `***`, a
 * directory as it is.
 */
export function redactStoreLocation(location: string): string {
  if (!looksLikeUrl(location)) return location;
  try {
    const url = new URL(location);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    // Not parseable: hide whatever sits between the scheme and an @.
    return location.replace(/\/\/[^@/]*@/, '//***@');
  }
}

/**
 * Refuses a location written as a URL of another scheme (`mysql://…`), which would otherwise
 * become a directory of that name.
 *
 * @param field - the option it came from, named by the error.
 * @throws HST_ERR_CONFIG_INVALID
 */
export function checkStoreLocation(location: string, field: string): void {
  if (looksLikeUrl(location) && !isDatabaseUrl(location))
    throw new HitstateError(
      'HST_ERR_CONFIG_INVALID',
      `${field} must be a directory or a PostgreSQL URL like postgres://USER:PASSWORD@HOST:5432/DATABASE, got ${JSON.stringify(redactStoreLocation(location).replace(/^([^:]*:).*$/, '$1…'))}`,
      { field },
    );
}

/** The database a store opens in, and the option that named it; null for a directory. */
export function databaseOf(
  options: { readonly dir?: string | undefined; readonly url?: string | undefined },
  env: NodeJS.ProcessEnv = process.env,
): { readonly location: string; readonly field: string } | null {
  if (options.url !== undefined) {
    if (options.dir !== undefined)
      throw new HitstateError('HST_ERR_CONFIG_INVALID', 'give either store option dir or url, not both', {
        field: 'url',
      });
    return { location: options.url, field: 'url' };
  }
  if (options.dir !== undefined) {
    checkStoreLocation(options.dir, 'dir');
    return isDatabaseUrl(options.dir) ? { location: options.dir, field: 'dir' } : null;
  }
  // The command line's order: HITSTATE_STORE_DIR is --store's variable, HITSTATE_DATABASE_URL
  // applies when neither is given.
  const dir = env.HITSTATE_STORE_DIR;
  if (dir !== undefined && dir !== '') {
    checkStoreLocation(dir, 'HITSTATE_STORE_DIR');
    return isDatabaseUrl(dir) ? { location: dir, field: 'HITSTATE_STORE_DIR' } : null;
  }
  const fromEnv = env.HITSTATE_DATABASE_URL;
  if (fromEnv !== undefined && fromEnv !== '') return { location: fromEnv, field: 'HITSTATE_DATABASE_URL' };
  return null;
}
