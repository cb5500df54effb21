/**
 * The PostgreSQL backend's tables and their migrations. `hitstate_schema` holds the version; opening
 * applies the missing migrations in one transaction under an advisory lock (two processes opening
 * a new database at once do not race), and refuses a database a newer hitstate migrated.
 *
 * The environment is part of every key, so one database holds live, sandbox and custom endpoints
 * without mixing them. The store-wide scope is the run `''` (run ids are never empty).
 *
 * @module
 */
import type pg from 'pg';
import { HitstateError } from '../../errors.js';
import { type ConnectionTarget, postgresError } from './errors.js';
import { otherWriters } from './store-lock.js';

/** The schema version this release writes. */
export const SCHEMA_VERSION = 2;

/** Migration N (index N-1) takes a database from version N-1 to N. `$S` is the quoted schema name. */
const MIGRATIONS: readonly (readonly string[])[] = [
  [
    // Keys compare as bytes (COLLATE "C"): faster than a locale, and the same on every server.
    `CREATE TABLE $S.records (
       env text COLLATE "C" NOT NULL,
       run text COLLATE "C" NOT NULL,
       collection text COLLATE "C" NOT NULL,
       key text COLLATE "C" NOT NULL,
       json text NOT NULL,
       PRIMARY KEY (env, run, collection, key))`,
    `CREATE TABLE $S.audit (
       id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
       env text COLLATE "C" NOT NULL,
       run text COLLATE "C" NOT NULL,
       json text NOT NULL)`,
    'CREATE INDEX audit_by_run ON $S.audit (env, run, id)',
    // prev_* keep the holder a takeover replaced, so one statement can both take and report it.
    `CREATE TABLE $S.leases (
       env text COLLATE "C" NOT NULL,
       run text COLLATE "C" NOT NULL,
       owner text NOT NULL,
       pid integer NOT NULL,
       hostname text NOT NULL,
       expires_at bigint NOT NULL,
       prev_owner text,
       prev_pid integer,
       prev_hostname text,
       prev_expires_at bigint,
       PRIMARY KEY (env, run))`,
    `CREATE TABLE $S.requests (
       env text COLLATE "C" NOT NULL,
       run text COLLATE "C" NOT NULL,
       id text COLLATE "C" NOT NULL,
       seq bigint GENERATED ALWAYS AS IDENTITY,
       kind text NOT NULL,
       body text NOT NULL,
       posted_at bigint NOT NULL,
       result text,
       settled_at bigint,
       PRIMARY KEY (env, run, id))`,
    'CREATE INDEX requests_pending ON $S.requests (env, run, posted_at, seq) WHERE result IS NULL',
  ],
  [
    // Several writers per environment (docs/datastore.md, "Several writers on one database"): each
    // store-wide row carries the commit sequence that last wrote it, so a writer reads exactly what
    // the others committed since it last looked. Run rows keep 0: their run's lease guards them.
    'CREATE SEQUENCE $S.store_seq',
    'ALTER TABLE $S.records ADD COLUMN seq bigint NOT NULL DEFAULT 0',
    // A store-wide delete stays as a row with no json (a tombstone), so the other writers learn of it.
    'ALTER TABLE $S.records ALTER COLUMN json DROP NOT NULL',
    "CREATE INDEX records_store_seq ON $S.records (env, seq) WHERE run = ''",
    // Per run, the commit sequence number of the last commit that wrote its records: a process
    // taking a run compares it with what it read when it opened, so it never writes over a newer
    // run from an old view.
    `CREATE TABLE $S.run_marks (
       env text COLLATE "C" NOT NULL,
       run text COLLATE "C" NOT NULL,
       seq bigint NOT NULL,
       PRIMARY KEY (env, run))`,
  ],
];

/** A valid schema name: lower-case letters, digits and `_`, as PostgreSQL folds unquoted names. */
export const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Brings the schema to {@link SCHEMA_VERSION}, all in one transaction.
 *
 * @returns what was done, for the open's notes (empty when the schema was current).
 * @throws HST_ERR_STORE_VERSION_NEWER when a newer hitstate migrated this database.
 * @throws HST_ERR_STORE_MIGRATION_FAILED when a migration fails (nothing of it stays).
 */
export async function migrate(client: pg.ClientBase, schema: string, target: ConnectionTarget): Promise<string[]> {
  const quoted = `"${schema}"`;
  // The common case, a current schema, costs two reads and takes no lock.
  const table = await client.query<{ present: boolean }>('SELECT to_regclass($1) IS NOT NULL AS present', [
    `${quoted}.hitstate_schema`,
  ]);
  if (table.rows[0]?.present) {
    const current = await client.query<{ version: number }>(`SELECT version FROM ${quoted}.hitstate_schema`);
    if (current.rows[0]?.version === SCHEMA_VERSION) return [];
  }
  const notes: string[] = [];
  let from = 0;
  let step = 'locking the schema';
  try {
    await client.query('BEGIN');
    // One migrator at a time per schema; the lock ends with the transaction.
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`hitstate_schema:${schema}`]);
    step = `creating the schema ${quoted}`;
    // CREATE SCHEMA IF NOT EXISTS needs the CREATE privilege even when the schema exists: look first.
    const exists = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
    if (exists.rowCount === 0) await client.query(`CREATE SCHEMA ${quoted}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${quoted}.hitstate_schema (
         singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
         version integer NOT NULL,
         migrated_at timestamptz NOT NULL DEFAULT now())`,
    );
    step = 'reading the schema version';
    const current = await client.query<{ version: number }>(`SELECT version FROM ${quoted}.hitstate_schema`);
    from = current.rows[0]?.version ?? 0;
    if (from > SCHEMA_VERSION) {
      await client.query('ROLLBACK');
      throw new HitstateError(
        'HST_ERR_STORE_VERSION_NEWER',
        `the PostgreSQL schema ${quoted} at ${target.host}:${target.port}/${target.database} is at version ${from}, ` +
          `written by a newer hitstate; this one knows up to ${SCHEMA_VERSION}. Upgrade hitstate`,
        { operation: 'open' },
      );
    }
    // Writers of the older release are running on these tables: changing them under their feet
    // would break their commits. A migration needs the database alone (docs/datastore.md).
    if (from >= 1 && from < SCHEMA_VERSION) {
      const writers = await otherWriters(client);
      if (writers.length > 0) {
        await client.query('ROLLBACK');
        const w = writers[0]!;
        throw new HitstateError(
          'HST_ERR_STORE_LOCKED',
          `migrating the PostgreSQL schema ${quoted} from version ${from} to ${SCHEMA_VERSION} needs the database alone, ` +
            `but hitstate pid ${w.pid} on ${w.hostname} (connected since ${w.startedAt}) has a store open on it` +
            `${writers.length > 1 ? ` (and ${writers.length - 1} more)` : ''}; stop those processes, then open again`,
          { operation: 'open' },
        );
      }
    }
    for (let version = from + 1; version <= SCHEMA_VERSION; version++) {
      step = `migration ${version}`;
      for (const statement of MIGRATIONS[version - 1] ?? []) await client.query(statement.replaceAll('$S', quoted));
      notes.push(`PostgreSQL schema ${quoted} migrated to version ${version}`);
    }
    if (from < SCHEMA_VERSION) {
      await client.query(
        `INSERT INTO ${quoted}.hitstate_schema (version) VALUES ($1)
         ON CONFLICT (singleton) DO UPDATE SET version = excluded.version, migrated_at = now()`,
        [SCHEMA_VERSION],
      );
    }
    await client.query('COMMIT');
    return notes;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {
      // The connection itself failed: the server rolls the transaction back when it notices.
    });
    if (error instanceof HitstateError) throw error;
    const failure = postgresError(error, target, `open (${step})`);
    // Reaching the server or logging in is not a migration problem; say so precisely.
    if (failure.code !== 'HST_ERR_STORE_PG_FAILED' || step === 'locking the schema') throw failure;
    throw new HitstateError(
      'HST_ERR_STORE_MIGRATION_FAILED',
      `migrating the PostgreSQL schema ${quoted} from version ${from} failed at ${step}; nothing was changed ` +
        `(the transaction was rolled back): ${failure.message}`,
      { operation: 'open', cause: error },
    );
  }
}
