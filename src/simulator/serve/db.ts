/**
 * The `hitstate serve` database: one SQLite file in WAL mode, its schema migrations, and the lock
 * that keeps a second server off the same file.
 *
 * Durability: every change is committed before the reply that acknowledges it is written (see
 * `store.ts`). WAL with `synchronous = NORMAL` keeps a committed transaction through a crash or
 * `kill -9` of the process; `synchronous = FULL` (config `durability: "full"`) also keeps it through
 * a power loss, at the price of an fsync per commit.
 *
 * @module
 */
import { chmodSync, existsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { HitstateError } from '../../errors.js';

/** A better-sqlite3 connection. */
export type Db = Database.Database;

/**
 * The migrations, in order: migration `i` brings the schema from version `i` to `i + 1`. A
 * released migration is never edited; a change is a new entry at the end.
 */
export const MIGRATIONS: readonly string[] = [
  // 1: the engine's records, server metadata, requester credentials, queued operator changes.
  `CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
   CREATE TABLE records (kind TEXT NOT NULL, id TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (kind, id)) WITHOUT ROWID;
   CREATE TABLE requesters (
     id TEXT PRIMARY KEY,
     name TEXT NOT NULL UNIQUE,
     access_key_id TEXT NOT NULL UNIQUE,
     secret TEXT NOT NULL,
     disabled INTEGER NOT NULL DEFAULT 0,
     created_ms INTEGER NOT NULL
   );
   CREATE TABLE admin_ops (
     id INTEGER PRIMARY KEY,
     kind TEXT NOT NULL,
     requester TEXT NOT NULL,
     amount_cents INTEGER,
     memo TEXT,
     created_ms INTEGER NOT NULL,
     applied_ms INTEGER
   );`,
  // 2: the double-entry ledger and payout batches.
  `CREATE TABLE ledger_txn (
     id INTEGER PRIMARY KEY,
     at_ms INTEGER NOT NULL,
     kind TEXT NOT NULL,
     requester TEXT,
     worker TEXT,
     hit_id TEXT,
     assignment_id TEXT,
     memo TEXT,
     batch_id TEXT
   );
   CREATE TABLE ledger_entry (
     txn_id INTEGER NOT NULL REFERENCES ledger_txn (id),
     account TEXT NOT NULL,
     amount_cents INTEGER NOT NULL
   );
   CREATE INDEX ledger_entry_txn ON ledger_entry (txn_id);
   CREATE INDEX ledger_entry_account ON ledger_entry (account);
   CREATE INDEX ledger_txn_worker ON ledger_txn (worker, batch_id);
   CREATE TABLE payout_batch (
     id TEXT PRIMARY KEY,
     created_ms INTEGER NOT NULL,
     since_ms INTEGER NOT NULL,
     paid_ms INTEGER
   );
   CREATE TABLE payout_item (
     batch_id TEXT NOT NULL REFERENCES payout_batch (id),
     worker TEXT NOT NULL,
     amount_cents INTEGER NOT NULL,
     items INTEGER NOT NULL,
     PRIMARY KEY (batch_id, worker)
   );`,
  // 3: worker accounts, invitations and sessions (the worker site).
  `CREATE TABLE worker_accounts (
     worker_id TEXT PRIMARY KEY,
     username TEXT NOT NULL UNIQUE COLLATE NOCASE,
     password_hash TEXT NOT NULL,
     external_id TEXT,
     invite TEXT,
     created_ms INTEGER NOT NULL,
     disabled INTEGER NOT NULL DEFAULT 0
   );
   CREATE TABLE invites (
     code TEXT PRIMARY KEY,
     created_ms INTEGER NOT NULL,
     expires_ms INTEGER,
     qualification_type_id TEXT,
     qualification_value INTEGER,
     used_by TEXT,
     used_ms INTEGER
   );
   CREATE TABLE sessions (
     token_hash TEXT PRIMARY KEY,
     worker_id TEXT NOT NULL REFERENCES worker_accounts (worker_id),
     csrf TEXT NOT NULL,
     created_ms INTEGER NOT NULL,
     expires_ms INTEGER NOT NULL
   );
   CREATE INDEX sessions_worker ON sessions (worker_id);`,
  // 4: only live records are loaded at start. A deleted HIT and its assignments are `live = 0`
  // and read on demand (by id, or an assignment's HIT); a worker's assignments are found by
  // `worker_id`; who worked for whom (NotifyWorkers) is kept apart so it needs no assignment.
  `ALTER TABLE records ADD COLUMN live INTEGER NOT NULL DEFAULT 1;
   ALTER TABLE records ADD COLUMN hit_id TEXT;
   ALTER TABLE records ADD COLUMN worker_id TEXT;
   UPDATE records SET hit_id = json_extract(data, '$.hitId'), worker_id = json_extract(data, '$.workerId')
     WHERE kind = 'assignment';
   UPDATE records SET live = 0 WHERE kind = 'hit' AND json_extract(data, '$.disposed') = 1;
   UPDATE records SET live = 0 WHERE kind = 'assignment'
     AND hit_id IN (SELECT id FROM records WHERE kind = 'hit' AND live = 0);
   CREATE INDEX records_live ON records (live, kind);
   CREATE INDEX records_hit ON records (hit_id) WHERE hit_id IS NOT NULL;
   CREATE INDEX records_worker ON records (worker_id) WHERE worker_id IS NOT NULL;
   CREATE TABLE worked_for (account TEXT NOT NULL, worker_id TEXT NOT NULL, PRIMARY KEY (account, worker_id)) WITHOUT ROWID;
   INSERT OR IGNORE INTO worked_for (account, worker_id)
     SELECT json_extract(data, '$.account'), worker_id FROM records
     WHERE kind = 'assignment' AND json_extract(data, '$.status') IN ('Approved', 'Rejected');`,
  // 5: invitations made by a requester for its own crowd (null: the operator's).
  `ALTER TABLE invites ADD COLUMN requester TEXT;
   CREATE INDEX invites_requester ON invites (requester, created_ms) WHERE requester IS NOT NULL;`,
  // 6: the start reads the live records from a covering index of their own: in the table they
  // lie scattered among the deleted ones (ids are random), so reading 100,000 of them out of a
  // million touched most of the file's pages. The index keeps them together, a HIT's assignments
  // side by side (read per HIT, and only for HITs that still take or hold work), for one more
  // copy of each live row (deleted HITs, most of a platform's data, are not in it).
  `DROP INDEX records_live;
   CREATE INDEX records_live_rows ON records (kind, hit_id, id, data) WHERE live = 1;`,
];

/** The schema version this code writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;

function dbError(file: string, message: string, cause?: unknown): HitstateError {
  return new HitstateError('HST_ERR_SERVE_DB', message, { file, ...(cause !== undefined ? { cause } : {}) });
}

/** The schema version of an open database (0: empty). */
export function schemaVersion(db: Db): number {
  const has = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'").get();
  if (!has) return 0;
  const row = db.prepare('SELECT version FROM schema_version').get() as { version: number } | undefined;
  return row?.version ?? 0;
}

/**
 * Brings the schema to `target` (default: {@link SCHEMA_VERSION}), each migration in its own
 * transaction with the version bump, so a crash leaves the database at a known version.
 *
 * @throws HitstateError `HST_ERR_SERVE_DB` when the database was written by a newer release.
 */
export function migrate(db: Db, file: string, target = SCHEMA_VERSION): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
  const current = schemaVersion(db);
  if (current > SCHEMA_VERSION)
    throw dbError(
      file,
      `The database ${file} has schema version ${current}; this hitstate knows up to ${SCHEMA_VERSION}. Upgrade hitstate, or restore a backup made by this release.`,
    );
  for (let v = current; v < target; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]!);
      db.prepare('DELETE FROM schema_version').run();
      db.prepare('INSERT INTO schema_version (version) VALUES (?)').run(v + 1);
    })();
  }
}

/** Options of {@link openDatabase}. */
export interface OpenOptions {
  /** `normal` (survives a process crash) or `full` (also a power loss). @defaultValue 'normal' */
  durability?: 'normal' | 'full';
  /** Open an existing file only; never create. */
  mustExist?: boolean;
}

/**
 * Opens (creating when absent) a serve database: WAL, foreign keys, a busy timeout so the
 * operator's commands can write while the server runs, the schema migrated, and the file mode
 * 0600 because it holds the requesters' secret keys.
 *
 * @throws HitstateError `HST_ERR_SERVE_DB` naming the file and the fix.
 */
export function openDatabase(file: string, options: OpenOptions = {}): Db {
  if (file !== ':memory:') {
    const dir = dirname(file);
    if (!existsSync(dir) || !statSync(dir).isDirectory())
      throw dbError(file, `--db: the folder ${dir} does not exist; create it or choose another path.`);
    if (existsSync(file) && statSync(file).isDirectory())
      throw dbError(file, `--db: ${file} is a directory; give a file path such as ${file}/hitstate.db.`);
    if (options.mustExist && !existsSync(file))
      throw dbError(file, `--db: ${file} does not exist. Start \`hitstate serve --db ${file}\` once to create it.`);
  }
  let db: Db;
  try {
    db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${options.durability === 'full' ? 'FULL' : 'NORMAL'}`);
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
  } catch (err) {
    throw dbError(
      file,
      `--db: ${file} cannot be opened as an SQLite database (${err instanceof Error ? err.message : String(err)}). Move it away or restore a backup.`,
      err,
    );
  }
  if (file !== ':memory:') {
    for (const f of [file, `${file}-wal`, `${file}-shm`]) if (existsSync(f)) chmodSync(f, 0o600);
  }
  migrate(db, file);
  return db;
}

/** What a running server writes so that a second one can say who holds the database. */
interface LockHolder {
  pid: number;
  startedMs: number;
  url?: string;
}

/**
 * Takes the one-server-per-database lock: an exclusive SQLite lock on `FILE.lock`, held by this
 * connection until it closes. The operating system drops it when the process dies, even by
 * `kill -9`, so a crash never leaves a stale lock behind.
 *
 * @throws HitstateError `HST_ERR_SERVE_LOCKED` when another process holds it.
 */
export function lockDatabase(db: Db, file: string): { release(): void; describe(url: string): void } {
  if (file === ':memory:') return { release() {}, describe() {} };
  const lock = new Database(`${file}.lock`);
  try {
    lock.pragma('busy_timeout = 0');
    // The file holds nothing worth keeping, only the lock: no journal, no fsync. An fsync here
    // waited behind the disk's other writes (up to 0.7 s of a start, measured).
    lock.pragma('journal_mode = OFF');
    lock.pragma('synchronous = OFF');
    lock.pragma('locking_mode = EXCLUSIVE');
    lock.exec('BEGIN EXCLUSIVE; CREATE TABLE IF NOT EXISTS held (x); COMMIT;');
  } catch (err) {
    lock.close();
    const row = db.prepare("SELECT value FROM meta WHERE key = 'server'").get() as { value: string } | undefined;
    const holder = row ? (JSON.parse(row.value) as LockHolder) : undefined;
    throw new HitstateError(
      'HST_ERR_SERVE_LOCKED',
      `Another hitstate serve is using ${file}${holder ? ` (pid ${holder.pid}${holder.url ? `, ${holder.url}` : ''}, started ${new Date(holder.startedMs).toISOString()})` : ''}. One server per database: stop it first, or give this one its own --db.`,
      { file, cause: err },
    );
  }
  chmodSync(`${file}.lock`, 0o600);
  return {
    release: () => lock.close(),
    describe: (url: string) => {
      const holder: LockHolder = { pid: process.pid, startedMs: Date.now(), url };
      db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('server', ?)").run(JSON.stringify(holder));
    },
  };
}

/**
 * Copies the database to `target` with SQLite's online backup: consistent even while the server
 * writes. The copy is mode 0600.
 */
export async function backupDatabase(db: Db, target: string): Promise<void> {
  if (existsSync(target))
    throw new HitstateError(
      'HST_ERR_SERVE_DB',
      `backup: ${target} already exists; choose a new file name (backups never overwrite).`,
      {
        file: target,
      },
    );
  await db.backup(target);
  chmodSync(target, 0o600);
}
