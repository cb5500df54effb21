/**
 * `hitstate sim --state FILE.db`: the simulator's state in SQLite, through the same store as
 * `hitstate serve` (`store.ts`): one row per record, the records a call changed written in one
 * transaction right after it, only live records loaded at start. Beside the records, `meta`
 * keeps what only the simulator has: the virtual clock and the fault generator.
 *
 * Loaded on demand by `createSimulator`, so a simulator without such a file never loads SQLite.
 *
 * @module
 */
import { HitstateError } from '../../errors.js';
import type { SimState } from '../state.js';
import { lockDatabase, openDatabase, type Db } from './db.js';
import { loadState, readMeta, RecordWriter } from './store.js';

export { SQLITE_STATE_FILE } from './sim-store-name.js';

/** An open SQLite state of the simulator. */
export interface SimStore {
  readonly state: SimState;
  /** Saved generator and clock states, when the file has run before. */
  readonly saved: { clockMs?: number; idPrngState?: number; faultPrngState?: number };
  /** Starts writing through: `meta` gives the generator and clock states to keep with each write. */
  attach(meta: () => Record<string, string>): void;
  /** The engine changed something: written right after the current call. */
  changed(): void;
  /** Writes what is left, releases the lock and closes the file. */
  close(): void;
}

/**
 * Opens (creating) the simulator's SQLite state file and takes its one-process lock.
 *
 * @throws HitstateError `HST_ERR_SERVE_DB` (not a database, newer schema),
 *   `HST_ERR_SERVE_LOCKED` when another process uses the file.
 */
export function openSimStore(file: string): SimStore {
  const db: Db = openDatabase(file);
  let lock: ReturnType<typeof lockDatabase>;
  try {
    lock = lockDatabase(db, file);
  } catch (err) {
    db.close();
    throw err;
  }
  let loaded: ReturnType<typeof loadState>;
  try {
    loaded = loadState(db);
  } catch (err) {
    lock.release();
    db.close();
    throw new HitstateError(
      'HST_ERR_SIM_STATE_CORRUPT',
      `The simulator state file ${file} has a record that cannot be read (${err instanceof Error ? err.message : String(err)}); it was left untouched.`,
      { file, cause: err },
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
    attach(m) {
      writer = new RecordWriter(db, loaded.state, m);
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
