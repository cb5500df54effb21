/**
 * The simulator's state in SQLite, through the same store as `hitstate serve` (`store.ts`): one
 * row per record, the records a call changed written in one transaction right after it. Beside
 * the records, `meta` keeps what only the simulator has: the virtual clock and the fault
 * generator.
 *
 * Without `--state`, the database is in memory (gone when the simulator stops); with `--state
 * FILE`, it is that file, one simulator per file. A `--state` file written by an older simulator
 * (a JSON state) is imported once: the SQLite database takes its place and the JSON is kept
 * beside it as `FILE.imported.json`.
 *
 * Unlike `serve`, the simulator keeps every record in memory (deleted HITs, every assignment):
 * `inspect()` and `GET /_sim/state` show the whole state, as they always did.
 *
 * @module
 */
import { closeSync, existsSync, openSync, readSync, renameSync, rmSync } from 'node:fs';
import { HitstateError } from '../../errors.js';
import { hitTypePropsKey } from '../operations/hits.js';
import { loadState as loadJsonState, type PersistedState, STATE_FORMAT, STATE_VERSION } from '../persistence.js';
import { SimState } from '../state.js';
import { lockDatabase, openDatabase, type Db } from './db.js';
import { loadState, readMeta, RecordWriter } from './store.js';

/** An open SQLite state of the simulator. */
export interface SimStore {
  readonly state: SimState;
  /** Saved generator and clock states, when the file has run before. */
  readonly saved: { clockMs?: number; idPrngState?: number; faultPrngState?: number };
  /** The JSON state file imported at this start, kept under this name; undefined when none. */
  readonly importedJson: string | undefined;
  /** Starts writing through: `meta` gives the generator and clock states to keep with each write. */
  attach(meta: () => Record<string, string>): void;
  /** The engine changed something: written right after the current call. */
  changed(): void;
  /** Writes what is left, releases the lock and closes the database. */
  close(): void;
}

const SQLITE_HEADER = 'SQLite format 3\0';

/** Whether an existing file is an SQLite database (by its header); anything else is read as a JSON state. */
export function isSqliteFile(file: string): boolean {
  const fd = openSync(file, 'r');
  try {
    const head = Buffer.alloc(SQLITE_HEADER.length);
    const n = readSync(fd, head, 0, head.length, 0);
    return head.toString('latin1', 0, n) === SQLITE_HEADER;
  } finally {
    closeSync(fd);
  }
}

/**
 * The records of a simulator state file, whichever its format: an SQLite state (read, then
 * closed) or a JSON one. For `hitstate serve import`.
 *
 * @throws HitstateError `HST_ERR_SIM_STATE_CORRUPT`, `HST_ERR_SERVE_LOCKED` while a simulator uses it.
 */
export function readSimStateFile(file: string): PersistedState | undefined {
  if (!existsSync(file) || !isSqliteFile(file)) return loadJsonState(file);
  const store = openSimStore(file);
  try {
    return {
      format: STATE_FORMAT,
      version: STATE_VERSION,
      savedAtMs: Date.now(),
      clockMs: store.saved.clockMs ?? Date.now(),
      idPrngState: store.saved.idPrngState ?? 0,
      faultPrngState: store.saved.faultPrngState ?? 0,
      records: store.state.records(),
    };
  } finally {
    store.close();
  }
}

/**
 * A JSON state file into an SQLite database at the same path, once: the database is built
 * beside it, the JSON renamed to `FILE.imported.json`, then the database put in its place, so
 * a crash at any point leaves the JSON (under one of its names) and no half-made database.
 *
 * @throws HitstateError `HST_ERR_SIM_STATE_CORRUPT` (from reading the JSON) with the file untouched.
 */
function importJsonState(file: string): string {
  const json = loadJsonState(file)!; // the caller saw the file exists
  const building = `${file}.importing`;
  const kept = `${file}.imported.json`;
  for (const f of [building, `${building}-wal`, `${building}-shm`]) rmSync(f, { force: true });
  if (existsSync(kept))
    throw new HitstateError(
      'HST_ERR_SIM_STATE_CORRUPT',
      `The simulator state file ${file} is a JSON state to import, but ${kept} (where the import keeps the JSON) already exists; move one of them away.`,
      { file },
    );
  const db = openDatabase(building);
  try {
    const state = SimState.fromRecords(json.records, hitTypePropsKey);
    new RecordWriter(
      db,
      state,
      () => ({
        idPrng: String(json.idPrngState),
        faultPrng: String(json.faultPrngState),
        clockMs: String(json.clockMs),
      }),
      { everything: true },
    ).writeAll();
  } finally {
    db.close();
  }
  renameSync(file, kept);
  renameSync(building, file);
  return kept;
}

/**
 * Opens (creating) the simulator's SQLite state and, for a file, takes its one-process lock.
 *
 * @param file the state file, or undefined for a database in memory.
 * @throws HitstateError `HST_ERR_SIM_STATE_CORRUPT` (neither an SQLite database nor a JSON state,
 *   or a record that cannot be read), `HST_ERR_SERVE_DB` (a newer schema),
 *   `HST_ERR_SERVE_LOCKED` when another process uses the file.
 */
export function openSimStore(file: string | undefined): SimStore {
  const path = file ?? ':memory:';
  const importedJson =
    file !== undefined && existsSync(file) && !isSqliteFile(file) ? importJsonState(file) : undefined;
  let db: Db;
  try {
    db = openDatabase(path);
  } catch (err) {
    if (err instanceof HitstateError && err.code === 'HST_ERR_SERVE_DB' && /cannot be opened/.test(err.message))
      throw new HitstateError(
        'HST_ERR_SIM_STATE_CORRUPT',
        `The simulator state file ${path} is neither an SQLite database nor a JSON state; it was left untouched. Move it away to start empty, or restore a copy.`,
        { file: path, cause: err },
      );
    throw err;
  }
  let lock: ReturnType<typeof lockDatabase>;
  try {
    lock = lockDatabase(db, path);
  } catch (err) {
    db.close();
    throw err;
  }
  let loaded: ReturnType<typeof loadState>;
  try {
    loaded = loadState(db, { everything: true });
  } catch (err) {
    lock.release();
    db.close();
    throw new HitstateError(
      'HST_ERR_SIM_STATE_CORRUPT',
      `The simulator state file ${path} has a record that cannot be read (${err instanceof Error ? err.message : String(err)}); it was left untouched.`,
      { file: path, cause: err },
    );
  }
  lock.describe('hitstate sim');
  const meta = readMeta(db);
  const num = (k: string) => (meta[k] === undefined ? undefined : Number(meta[k]));
  let writer: RecordWriter | undefined;
  let queued = false;
  const flush = () => {
    queued = false;
    writer?.flush();
  };
  return {
    state: loaded.state,
    saved: {
      ...(num('clockMs') !== undefined ? { clockMs: num('clockMs')! } : {}),
      ...(loaded.idPrngState !== undefined ? { idPrngState: loaded.idPrngState } : {}),
      ...(num('faultPrng') !== undefined ? { faultPrngState: num('faultPrng')! } : {}),
    },
    importedJson,
    attach(m) {
      writer = new RecordWriter(db, loaded.state, m, { everything: true });
    },
    changed() {
      writer?.markDirty();
      if (queued) return;
      queued = true;
      setImmediate(flush);
    },
    close() {
      writer?.markDirty(); // the clock moved even when no record did
      flush();
      lock.release();
      db.close();
    },
  };
}
