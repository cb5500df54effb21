/**
 * Opening = checkpoint + journal: applies the committed journal entries of a scope to the
 * state read from its checkpoint files, checking every record as the files' records are checked.
 *
 * @module
 */
import { join } from 'node:path';
import { HitstateError } from '../errors.js';
import { isShardKind, JsonText, RecordMap, type ShardKind, type ShardRecords } from './layout.js';
import type { JournalChange } from './lowdb/journal.js';
import { JOURNAL_FILE, scopeDir } from './lowdb/backend.js';
import { SHARD_READERS } from './load.js';
import { isObject, readQualification, readRequester, readRun, readWorker, SchemaProblem } from './schema.js';
import type { ShardSet } from './shard-set.js';
import type { RunState, StoreState } from './store-state.js';

type Raw = Record<string, unknown>;

function parsed<R>(state: StoreState, scope: string, c: JournalChange, check: (r: Raw, at: string) => R): R {
  const at = `${c[0]}.${c[1]}`;
  try {
    const raw: unknown = JSON.parse(c[2]!);
    if (!isObject(raw)) throw new SchemaProblem(at, 'is not an object');
    return check(raw, at);
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
        else state.core.data.requesters.set(key, parsed(state, '', c, readRequester));
        break;
      case 'runs':
        if (json === null) state.core.data.runs.delete(key);
        else state.core.data.runs.set(key, parsed(state, '', c, readRun));
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
          byName.set(name, parsed(state, '', c, readQualification));
        }
        break;
      }
      case 'workers':
        if (json === null) state.workers.data.records.delete(key);
        else state.workers.data.records.set(key, parsed(state, '', c, readWorker));
        break;
      default:
        break;
    }
  }
}

/** A run's shard sets and their readers, seen through one mapped type so that a generic kind keeps them together. */
type ShardSets = { readonly [K in ShardKind]: ShardSet<ShardRecords[K]> };
type ShardReaders = { readonly [K in ShardKind]: { readonly read: (r: Raw, at: string) => ShardRecords[K] } };

/** Puts the record of change `c` into the run's shard set of `kind`, checked as a file's record is. */
function putParsed<K extends ShardKind>(
  state: StoreState,
  sets: ShardSets,
  runId: string,
  kind: K,
  c: JournalChange,
): void {
  // Read here, not at module level: load.ts and this module import each other.
  const readers: ShardReaders = SHARD_READERS;
  sets[kind].put(c[1], parsed(state, runId, c, readers[kind].read));
}

/** Applies a run's changes to its shard sets (before its indexes are built). */
export function replayRun(state: StoreState, run: RunState, changes: readonly JournalChange[]): void {
  for (const c of changes) {
    const [collection, key, json] = c;
    if (!isShardKind(collection)) continue;
    if (json === null) run[collection].delete(key);
    else if (collection === 'snapshots') run.snapshots.put(key, new JsonText(json));
    else putParsed(state, run, run.id, collection, c);
    // Replayed records are committed already: not changes for the next commit.
    state.dirty.delete(`${collection}\n${run.id}\n${key}`);
  }
}
