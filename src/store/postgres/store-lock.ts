/**
 * Who has an environment's store open on PostgreSQL, through a session-level advisory lock on a
 * hash of schema and environment, held on a connection of its own for as long as the store is
 * open. Writers take it SHARED: any number of processes write one environment at once, each
 * owning its runs through leases, their store-wide records merged commit by commit
 * (postgres-backend.ts). Work that needs the store alone takes it EXCLUSIVE
 * ({@link takeStoreAlone}), so it waits for no writer and no writer opens while it runs.
 *
 * PostgreSQL ends the lock with the session, so a process that dies (even by SIGKILL) leaves no
 * stale lock behind. The holder is named through the lock connection's `application_name`
 * (`hitstate pid=… host=…`), read back from `pg_stat_activity`.
 *
 * @module
 */
import { hostname as osHostname } from 'node:os';
import pg from 'pg';
import { HitstateError } from '../../errors.js';
import type { LockInfo } from '../lock.js';
import { type ConnectionTarget, postgresError } from './errors.js';

/** The advisory lock this process holds on one environment of a schema. */
export interface PostgresStoreLock {
  readonly info: LockInfo;
  /** Ends the lock's session (and so the lock). */
  release(): Promise<void>;
}

const APP_NAME = /^hitstate pid=(\d+) host=(.*)$/;

/** The text hashed into the lock's key: one per schema and environment. */
const lockKey = (schema: string, env: string): string => `hitstate store:${schema}:${env}`;

/**
 * The sessions holding the lock of `schema`/`env`: a bigint advisory key shows in `pg_locks` as
 * its high 32 bits (`classid`) and low 32 bits (`objid`), with `objsubid` 1.
 */
const HOLDER_SQL = `
  WITH k AS (SELECT hashtextextended($1, 0) AS key)
  SELECT a.pid AS backend_pid, a.application_name, a.backend_start, a.client_addr::text AS client_addr
    FROM pg_locks l, k, pg_stat_activity a
   WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
     AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
     AND l.classid::bigint = ((k.key >> 32) & 4294967295)
     AND l.objid::bigint = (k.key & 4294967295)
     AND a.pid = l.pid
     AND ($2::text IS NULL OR l.mode = $2)
     AND a.pid <> pg_backend_pid()
   ORDER BY a.backend_start`;

/** How a store is held: by one of several writers, or by work that needs it alone. */
export type StoreLockMode = 'writer' | 'alone';

/** The lock mode (in `pg_locks.mode`) that keeps a taker of `mode` out: writers are kept out by one holder alone. */
const BLOCKING_MODE: Record<StoreLockMode, string | null> = { writer: 'ExclusiveLock', alone: null };

function holderOf(row: { application_name: string; backend_start: Date | null; client_addr: string | null }): LockInfo {
  const m = APP_NAME.exec(row.application_name ?? '');
  return {
    pid: m ? Number(m[1]) : 0,
    hostname: m ? m[2]! : (row.client_addr ?? 'an unknown host'),
    startedAt: (row.backend_start ?? new Date(0)).toISOString(),
  };
}

/** A live holder of the lock (the longest connected; a writer or a holder of the store alone), or null. Takes nothing. */
export async function storeLockHolder(client: pg.ClientBase, schema: string, env: string): Promise<LockInfo | null> {
  return (await holderSession(client, schema, env, null))?.info ?? null;
}

async function holderSession(
  client: pg.ClientBase,
  schema: string,
  env: string,
  mode: string | null,
): Promise<{ info: LockInfo; backendPid: number } | null> {
  const found = await client.query(HOLDER_SQL, [lockKey(schema, env), mode]);
  const row = found.rows[0];
  return row ? { info: holderOf(row), backendPid: row.backend_pid as number } : null;
}

/** True unless the operating system says no process has that pid (EPERM: it exists, another user's). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** How long a lock whose holder died on this host may take to be let go by the server. */
const DEAD_HOLDER_WAIT_MS = 10_000;

/**
 * Other hitstate sessions holding any advisory lock on this database (stores open as writers or
 * alone, on any schema or environment), this process's own excepted: who a schema migration
 * would pull the tables from under.
 */
export async function otherWriters(client: pg.ClientBase): Promise<LockInfo[]> {
  const found = await client.query(
    `SELECT DISTINCT a.pid AS backend_pid, a.application_name, a.backend_start, a.client_addr::text AS client_addr
       FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
      WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
        AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
        AND a.application_name LIKE 'hitstate pid=%' AND a.pid <> pg_backend_pid()
      ORDER BY a.backend_start`,
  );
  return found.rows.map(holderOf).filter((info) => !(info.pid === process.pid && info.hostname === osHostname()));
}

/**
 * Takes the lock of one environment of a schema as one of its writers (shared with the other
 * writers), on a connection of its own.
 *
 * @param describe - the store as messages show it (never with a password).
 * @throws HST_ERR_STORE_LOCKED naming the process that has the store alone; the PostgreSQL open errors.
 */
export function takeStoreLock(
  url: string,
  target: ConnectionTarget,
  schema: string,
  env: string,
  describe: string,
  connectTimeoutMs = 10_000,
): Promise<PostgresStoreLock> {
  return takeLock('writer', url, target, schema, env, describe, connectTimeoutMs);
}

/**
 * Takes the lock of one environment of a schema for work that needs the store alone (no writer
 * may be open, and none opens until it is released).
 *
 * @throws HST_ERR_STORE_LOCKED naming a live writer (stop it first); the PostgreSQL open errors.
 */
export function takeStoreAlone(
  url: string,
  target: ConnectionTarget,
  schema: string,
  env: string,
  describe: string,
  connectTimeoutMs = 10_000,
): Promise<PostgresStoreLock> {
  return takeLock('alone', url, target, schema, env, describe, connectTimeoutMs);
}

async function takeLock(
  mode: StoreLockMode,
  url: string,
  target: ConnectionTarget,
  schema: string,
  env: string,
  describe: string,
  connectTimeoutMs: number,
): Promise<PostgresStoreLock> {
  const host = osHostname();
  const client = new pg.Client({
    connectionString: url,
    // application_name is at most 63 bytes; the pid comes first so a long host name cannot hide it.
    application_name: `hitstate pid=${process.pid} host=${host}`.slice(0, 63),
    connectionTimeoutMillis: connectTimeoutMs,
    keepAlive: true,
  });
  // Without a listener a dropped connection would crash the process; the lock is gone with it
  // either way, which the commits (another process may now write) cannot see: say it loudly.
  client.on('error', (error) => {
    process.emitWarning(
      `the connection holding the lock of ${describe} broke (${error.message}); another process may now open it`,
      { code: 'HST_ERR_STORE_PG_UNREACHABLE', type: 'HitstateWarning' },
    );
  });
  try {
    await client.connect();
  } catch (error) {
    throw postgresError(error, target, 'open (taking the store lock)');
  }
  try {
    const key = lockKey(schema, env);
    const fn = mode === 'writer' ? 'pg_try_advisory_lock_shared' : 'pg_try_advisory_lock';
    const tryLock = async () =>
      (await client.query<{ ok: boolean }>(`SELECT ${fn}(hashtextextended($1, 0)) AS ok`, [key])).rows[0]?.ok === true;
    let ok = await tryLock();
    // A holder that died on this machine (SIGKILL) holds the lock until the server notices its
    // connection is gone: end that session, as the lowdb lock takes over a dead process's lock
    // file, then wait for the lock to be let go.
    const deadline = Date.now() + DEAD_HOLDER_WAIT_MS;
    while (!ok && Date.now() <= deadline) {
      const session = await holderSession(client, schema, env, BLOCKING_MODE[mode]);
      if (session !== null) {
        const dead = session.info.hostname === host && session.info.pid !== 0 && !isAlive(session.info.pid);
        if (!dead) break;
        await client.query('SELECT pg_terminate_backend($1)', [session.backendPid]).catch(() => undefined);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
      ok = await tryLock();
    }
    if (!ok) {
      const holder = (await holderSession(client, schema, env, BLOCKING_MODE[mode]))?.info ?? null;
      const who =
        holder === null
          ? 'another session (it let go just now; try again)'
          : `hitstate pid ${holder.pid} on ${holder.hostname}, connected since ${holder.startedAt}`;
      throw new HitstateError(
        'HST_ERR_STORE_LOCKED',
        mode === 'writer'
          ? `${describe} is held alone by ${who} (a command that needs the store to itself); wait for it to finish, ` +
              'then open again. Reading works meanwhile (`hitstate status` and `export` open read-only).'
          : `${describe} is in use by ${who}; this needs the store to itself: stop every process that has it open ` +
              '(runs, reviews), then try again.',
        { file: describe },
      );
    }
    const started = await client.query<{ backend_start: Date }>(
      'SELECT backend_start FROM pg_stat_activity WHERE pid = pg_backend_pid()',
    );
    const info: LockInfo = {
      pid: process.pid,
      hostname: host,
      startedAt: (started.rows[0]?.backend_start ?? new Date()).toISOString(),
    };
    let released = false;
    return {
      info,
      async release() {
        if (released) return;
        released = true;
        // Ending the session ends the lock; an explicit unlock first would only cost a round trip.
        await client.end().catch(() => {
          // Already broken: the server ended the session, and the lock with it.
        });
      },
    };
  } catch (error) {
    await client.end().catch(() => {
      // Opening failed; that failure is the one reported.
    });
    throw postgresError(error, target, 'open (taking the store lock)');
  }
}
