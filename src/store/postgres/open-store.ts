/**
 * `openStore()` on PostgreSQL: the backend, the environment's shared writer lock, and the store's memory
 * built from the database. See docs/postgres.md.
 *
 * @module
 */
import pg from 'pg';
import type { Clock } from '../../clock.js';
import { HitstateError } from '../../errors.js';
import type { StoreEnvironment } from '../environment.js';
import { openBackendStore } from '../open-backend.js';
import type { Store } from '../store-api.js';
import { type ConnectionTarget, parseConnectionUrl, postgresError } from './errors.js';
import { environmentKey, openPostgresBackend } from './postgres-backend.js';
import { SCHEMA_NAME } from './schema.js';
import { type PostgresStoreLock, storeLockHolder, takeStoreLock } from './store-lock.js';

/** A store URL split into what pg is given and the hitstate schema (`?schema=NAME`, default `hitstate`). */
export interface StoreUrl {
  /** The URL for pg, without hitstate's own `schema` parameter. */
  readonly url: string;
  readonly schema: string;
  readonly target: ConnectionTarget;
}

/**
 * Checks a PostgreSQL store URL.
 *
 * @param field - the option it came from (`--store`, `HITSTATE_DATABASE_URL`, `url`), named by errors.
 * @throws HST_ERR_CONFIG_INVALID naming `field` and the form the URL must have.
 */
export function parseStoreUrl(location: string, field: string): StoreUrl {
  try {
    parseConnectionUrl(location);
  } catch (err) {
    if (err instanceof HitstateError)
      throw new HitstateError('HST_ERR_CONFIG_INVALID', err.message.replace(/^store /, `${field} `), { field });
    throw err;
  }
  const parsed = new URL(location);
  const schema = parsed.searchParams.get('schema') ?? 'hitstate';
  if (!SCHEMA_NAME.test(schema))
    throw new HitstateError(
      'HST_ERR_CONFIG_INVALID',
      `${field}: ?schema= must be lower-case letters, digits and _ (at most 63, not starting with a digit), got ${JSON.stringify(schema)}`,
      { field },
    );
  parsed.searchParams.delete('schema');
  return { url: parsed.toString(), schema, target: parseConnectionUrl(parsed.toString()) };
}

/** What {@link openPostgresStore} takes (openStore's options, resolved). */
export interface PostgresStoreOptions {
  readonly location: string;
  /** The option the URL came from, for error messages. */
  readonly field: string;
  readonly environment: StoreEnvironment;
  readonly clock: Clock;
  readonly coalesceMs: number;
  readonly maxDelayMs: number;
  readonly readOnly: boolean;
  readonly started: number;
}

const literal = (text: string): string => `'${text.replaceAll("'", "''")}'`;

/**
 * Opens an environment's store in a PostgreSQL database: takes the environment's writer lock,
 * shared with the other writers (none for a read-only open), connects the backend (migrating its
 * schema), and loads every record. Other processes may write the environment meanwhile: commits
 * merge with theirs (docs/datastore.md, "Several writers on one database").
 *
 * @throws HST_ERR_CONFIG_INVALID (a bad URL), HST_ERR_STORE_LOCKED (a process has the environment
 *   alone, or a migration would need it alone), HST_ERR_STORE_CORRUPT (a record cannot be used),
 *   the PostgreSQL open errors.
 */
export async function openPostgresStore(options: PostgresStoreOptions): Promise<Store> {
  const { url, schema, target } = parseStoreUrl(options.location, options.field);
  const env = environmentKey(options.environment);
  const describe = `${target.redacted} (schema ${schema}, ${env})`;
  const where = {
    describe,
    fixOf: (runId: string | null, collection: string, key: string) =>
      `DELETE FROM "${schema}".records WHERE env = ${literal(env)} AND run = ${literal(runId ?? '')} AND collection = ${literal(collection)} AND key = ${literal(key)}`,
  };
  let lock: PostgresStoreLock | null = null;
  let heldBy = null;
  if (!options.readOnly) lock = await takeStoreLock(url, target, schema, env, describe);
  let backend: Awaited<ReturnType<typeof openPostgresBackend>>;
  try {
    backend = await openPostgresBackend({ url, environment: options.environment, schema });
    if (options.readOnly) heldBy = await readHolder(url, target, schema, env);
  } catch (err) {
    await lock?.release();
    throw err;
  }
  return openBackendStore({
    backend,
    where,
    environment: options.environment,
    clock: options.clock,
    coalesceMs: options.coalesceMs,
    maxDelayMs: options.maxDelayMs,
    readOnly: options.readOnly,
    lock,
    heldBy,
    started: options.started,
  });
}

/** A process holding the environment's lock (a writer), for a read-only open's report. */
async function readHolder(url: string, target: ConnectionTarget, schema: string, env: string) {
  const client = new pg.Client({ connectionString: url, application_name: 'hitstate' });
  client.on('error', () => {
    // A read of who holds the lock; its own failure is reported by the query below.
  });
  try {
    await client.connect();
    return await storeLockHolder(client, schema, env);
  } catch (error) {
    throw postgresError(error, target, 'open (reading who holds the store)');
  } finally {
    await client.end().catch(() => undefined);
  }
}
