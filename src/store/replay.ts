/**
 * Opening = checkpoint + journal: applies the committed journal entries of a scope to the
 * state read from its checkpoint files, checking every record as the files' records are checked.
 *
 * @module
 */
import { join } from 'node:path';
import { HitstateError } from '../errors.js';
import { JsonText, RecordMap, type ShardKind } from './layout.js';
import type { JournalChange } from './lowdb/journal.js';
import { JOURNAL_FILE, scopeDir } from './lowdb/backend.js';
import { SHARD_READERS } from './load.js';
import { readQualification, readRequester, readRun, readWorker, SchemaProblem } from './schema.js';
import type { ShardSet } from './shard-set.js';
import type { RunState, StoreState } from './store-state.js';

type Raw = Record<string, unknown>;

function parsed(state: StoreState, scope: string, c: JournalChange, check: (r: Raw, at: string) => unknown): unknown {
  const at = `${c[0]}.${c[1]}`;
  try {
    const raw = JSON.parse(c[2]!) as unknown;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new SchemaProblem(at, 'is not an object');
    return check(raw as Raw, at);
  } catch (err) {
    const file = join(scopeDir(state.root, scope), JOURNAL_FILE);
    throw new HitstateError(
      'HST_ERR_STORE_CORRUPT',
      `a committed entry of ${file} (or of a journal segment next to it) cannot be used: ${(err as Error).message}. Its checksum holds, so it was written that way by a hitstate with a bug, or edited by hand; hitstate refuses to start and has left it untouched.`,
      { file },
    );
  }
}

/** Applies store-wide changes (requesters, runs, qualifications, workers, the store id). */
export function replayStore(state: StoreState, changes: readonly JournalChange[]): void {
  const core = state.core.data;
  for (const c of changes) {
    const [collection, key, json] = c;
    switch (collection) {
      case 'meta':
        if (key === 'storeId') {
          const { storeId: _old, requesters, runs, qualifications, ...header } = core;
          state.core.data = {
            ...header,
            ...(json === null ? {} : { storeId: JSON.parse(json) as string }),
            requesters,
            runs,
            qualifications,
          };
        }
        break;
      case 'requesters':
        if (json === null) state.core.data.requesters.delete(key);
        else state.core.data.requesters.set(key, parsed(state, '', c, readRequester) as never);
        break;
      case 'runs':
        if (json === null) state.core.data.runs.delete(key);
        else state.core.data.runs.set(key, parsed(state, '', c, readRun) as never);
        break;
      case 'qualifications': {
        const at = key.indexOf('/');
        const [requester, name] = [key.slice(0, at), key.slice(at + 1)];
        const all = state.core.data.qualifications;
        let byName = all.get(requester);
        if (json === null) {
          byName?.delete(name);
          if (byName?.size === 0) all.delete(requester);
        } else {
          if (byName === undefined) all.set(requester, (byName = new RecordMap()));
          byName.set(name, parsed(state, '', c, readQualification) as never);
        }
        break;
      }
      case 'workers':
        if (json === null) state.workers.data.records.delete(key);
        else state.workers.data.records.set(key, parsed(state, '', c, readWorker) as never);
        break;
      default:
        break;
    }
  }
}

/** Applies a run's changes to its shard sets (before its indexes are built). */
export function replayRun(state: StoreState, run: RunState, changes: readonly JournalChange[]): void {
  for (const c of changes) {
    const [collection, key, json] = c;
    const set = run[collection as ShardKind] as ShardSet<unknown> | undefined;
    if (set === undefined) continue;
    if (json === null) set.delete(key);
    else if (collection === 'snapshots') set.put(key, new JsonText(json));
    else set.put(key, parsed(state, run.id, c, SHARD_READERS[collection as ShardKind].read as never));
    // Replayed records are committed already: not changes for the next commit.
    state.dirty.delete(`${collection}\n${run.id}\n${key}`);
  }
}
