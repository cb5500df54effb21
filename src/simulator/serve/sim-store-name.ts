/**
 * Which `--state` file names mean SQLite (kept apart from `sim-store.ts` so the simulator can
 * tell without loading SQLite).
 *
 * @module
 */

/** A simulator state file name that means SQLite rather than JSON. */
export const SQLITE_STATE_FILE = /\.(db|sqlite|sqlite3)$/i;
