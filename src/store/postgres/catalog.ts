/**
 * What a PostgreSQL store holds, without opening it: its environments and their run ids, for the
 * commands that list stores (`hitstate status`) or find the environment of a run. Read-only; takes
 * no lock.
 *
 * @module
 */
import pg from 'pg';
import { normalizeEnvironment, type StoreEnvironment } from '../environment.js';
import { postgresError } from './errors.js';
import { parseStoreUrl } from './open-store.js';

/** One environment's store in the database. */
export interface DatabaseStore {
  readonly environment: StoreEnvironment;
  readonly runIds: readonly string[];
}

/** The environment of an `env` column value (`live`, `sandbox`, `custom <endpoint>`). */
export function environmentOfKey(key: string): StoreEnvironment | null {
  if (key === 'live' || key === 'sandbox') return { kind: key };
  if (key.startsWith('custom ')) {
    try {
      return normalizeEnvironment({ kind: 'custom', endpoint: key.slice('custom '.length) });
    } catch {
      return null;
    }
  }
  return null;
}

/**
 * Every environment with records in the database's hitstate schema, with its run ids in creation
 * order; empty when the schema does not exist yet.
 *
 * @param field - the option the URL came from, named by errors.
 * @throws HST_ERR_CONFIG_INVALID (a bad URL), the PostgreSQL connection errors.
 */
export async function listDatabaseStores(location: string, field = '--store'): Promise<DatabaseStore[]> {
  const { url, schema, target } = parseStoreUrl(location, field);
  const client = new pg.Client({
    connectionString: url,
    application_name: 'hitstate',
    connectionTimeoutMillis: 10_000,
  });
  client.on('error', () => {
    // The query below reports a broken connection.
  });
  try {
    await client.connect();
    const present = await client.query<{ present: boolean }>('SELECT to_regclass($1) IS NOT NULL AS present', [
      `"${schema}".records`,
    ]);
    if (present.rows[0]?.present !== true) return [];
    const rows = await client.query<{ env: string; key: string | null; json: string | null }>(
      `SELECT e.env, r.key, r.json
         FROM (SELECT DISTINCT env FROM "${schema}".records WHERE run = '') e
         LEFT JOIN "${schema}".records r ON r.env = e.env AND r.run = '' AND r.collection = 'runs'
                                       AND r.json IS NOT NULL`,
    );
    const byEnv = new Map<string, { key: string; createdAt: number }[]>();
    for (const row of rows.rows) {
      let runs = byEnv.get(row.env);
      if (runs === undefined) byEnv.set(row.env, (runs = []));
      if (row.key === null) continue;
      let createdAt = 0;
      try {
        createdAt = Number((JSON.parse(row.json ?? '{}') as { createdAt?: unknown }).createdAt) || 0;
      } catch {
        // Listed all the same; opening the store names what is wrong with the record.
      }
      runs.push({ key: row.key, createdAt });
    }
    const stores: DatabaseStore[] = [];
    for (const [env, runs] of [...byEnv].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      const environment = environmentOfKey(env);
      if (environment === null) continue;
      runs.sort((a, b) => a.createdAt - b.createdAt || (a.key < b.key ? -1 : 1));
      stores.push({ environment, runIds: runs.map((r) => r.key) });
    }
    return stores;
  } catch (error) {
    throw postgresError(error, target, 'listing the stores');
  } finally {
    await client.end().catch(() => undefined);
  }
}
