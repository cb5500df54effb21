/**
 * The JSON `--state` file of simulators before December 2026: the whole state in one JSON
 * file. The simulator now keeps its state in SQLite (`serve/sim-store.ts`) and reads such a file
 * once, to import it; `hitstate serve import` reads it too. A file that is not a simulator state
 * is refused and left untouched.
 *
 * @module
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { HitstateError } from '../errors.js';
import type { StateRecords } from './state.js';

export const STATE_FORMAT = 'hitstate-simulator-state';
export const STATE_VERSION = 1;

/** The content of a state file. */
export interface PersistedState {
  format: typeof STATE_FORMAT;
  version: number;
  savedAtMs: number;
  /** The simulator clock when saved; a new virtual clock starts there. */
  clockMs: number;
  idPrngState: number;
  faultPrngState: number;
  records: StateRecords;
}

const RECORD_ARRAYS = [
  'accounts',
  'hitTypes',
  'hits',
  'assignments',
  'qualificationTypes',
  'grants',
  'bonuses',
  'blocks',
  'workers',
  'tokens',
  'notifications',
] as const;

function corrupt(file: string, why: string, cause?: unknown): HitstateError {
  return new HitstateError(
    'HST_ERR_SIM_STATE_CORRUPT',
    `The simulator state file ${file} ${why}; it was left untouched. Move it away to start empty, or restore a copy.`,
    {
      file,
      ...(cause !== undefined ? { cause } : {}),
    },
  );
}

/**
 * Reads a state file; undefined when it does not exist yet.
 *
 * @throws HitstateError `HST_ERR_SIM_STATE_CORRUPT` naming the file when it is unreadable, not
 *   JSON, or not a simulator state of a version this code knows.
 */
export function loadState(file: string): PersistedState | undefined {
  if (!existsSync(file)) return undefined;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw corrupt(file, 'cannot be read', err);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw corrupt(file, `is not valid JSON (${err instanceof Error ? err.message : String(err)})`, err);
  }
  const d = data as Partial<PersistedState> | null;
  if (d === null || typeof d !== 'object' || d.format !== STATE_FORMAT)
    throw corrupt(file, `is not a simulator state (no "format": "${STATE_FORMAT}")`);
  if (d.version !== STATE_VERSION)
    throw corrupt(file, `has version ${String(d.version)}, this simulator reads version ${STATE_VERSION}`);
  const r = d.records as Partial<StateRecords> | undefined;
  if (
    r === undefined ||
    typeof r !== 'object' ||
    typeof r.seq !== 'number' ||
    RECORD_ARRAYS.some((k) => !Array.isArray(r[k]))
  ) {
    throw corrupt(file, 'is missing parts of the simulator state (records)');
  }
  if (typeof d.clockMs !== 'number' || typeof d.idPrngState !== 'number' || typeof d.faultPrngState !== 'number')
    throw corrupt(file, 'is missing the clock or generator state');
  return d as PersistedState;
}

/**
 * Checks that a state file can be created: its folder exists and it is not a directory.
 *
 * @throws HitstateError `HST_ERR_SIM_OPTIONS_INVALID` naming the option.
 */
export function checkStatePath(file: string): void {
  const dir = dirname(file);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new HitstateError(
      'HST_ERR_SIM_OPTIONS_INVALID',
      `stateFile: the folder ${dir} does not exist; create it or choose another path for --state.`,
      { field: 'stateFile', file },
    );
  }
  if (existsSync(file) && statSync(file).isDirectory()) {
    throw new HitstateError(
      'HST_ERR_SIM_OPTIONS_INVALID',
      `stateFile: ${file} is a directory; --state needs a file path.`,
      { field: 'stateFile', file },
    );
  }
}
