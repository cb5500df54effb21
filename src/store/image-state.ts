/**
 * Builds the store's memory from a backend's {@link LoadedImage} (the JSON texts of every committed
 * record), for the backends that have no lowdb files to read (PostgreSQL). Every record is checked
 * as the lowdb files' records are; snapshots stay JSON text until read, as on the lowdb path.
 *
 * @module
 */
import { HitstateError } from '../errors.js';
import type { CollectionName, LoadedImage, ScopeImage } from './backend.js';
import { JsonText, RecordMap, type ShardKind } from './layout.js';
import { indexRun, SHARD_READERS } from './load.js';
import { readQualification, readRequester, readRun, readWorker } from './schema.js';
import type { ShardSet } from './shard-set.js';
import type { StoreState } from './store-state.js';

type Raw = Record<string, unknown>;

/** Where the image came from, for the messages of a bad record. */
export interface ImageSource {
  /** E.g. `PostgreSQL postgres://u:***@db:5432/hitstate (schema hitstate)`; never a password. */
  readonly describe: string;
  /** How to remove or fix one record there (a SQL line), for the message of a bad record. */
  readonly fixOf: (runId: string | null, collection: CollectionName, key: string) => string;
}

/** What building found: runs with records but no run record (left alone), for the open report. */
export interface ImageReport {
  readonly notes: readonly string[];
}

const RUN_KINDS: readonly ShardKind[] = ['units', 'agents', 'hits', 'snapshots', 'submissions', 'outbox'];

const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Creation order where a record says when it was made (then `index`, then key): the order lowdb keeps. */
function byCreation(a: [string, unknown], b: [string, unknown]): number {
  const ra = a[1] as { createdAt?: unknown; index?: unknown };
  const rb = b[1] as { createdAt?: unknown; index?: unknown };
  const ca = typeof ra?.createdAt === 'number' ? ra.createdAt : 0;
  const cb = typeof rb?.createdAt === 'number' ? rb.createdAt : 0;
  if (ca !== cb) return ca - cb;
  const ia = typeof ra?.index === 'number' ? ra.index : 0;
  const ib = typeof rb?.index === 'number' ? rb.index : 0;
  return ia - ib || compareText(a[0], b[0]);
}

/**
 * Fills an empty {@link StoreState} from `image`.
 *
 * @throws HST_ERR_STORE_CORRUPT naming the collection, run and key of a record that cannot be
 *   used, and the statement that removes it; nothing is changed.
 */
export function buildFromImage(state: StoreState, image: LoadedImage, source: ImageSource): ImageReport {
  const bad = (runId: string | null, collection: CollectionName, key: string, problem: string): HitstateError =>
    new HitstateError(
      'HST_ERR_STORE_CORRUPT',
      `record ${collection}/${key}${runId === null ? '' : ` of run ${runId}`} in ${source.describe} cannot be used: ${problem}. ` +
        `hitstate refuses to start and has left it untouched. It was written by a hitstate with a bug or edited by hand: ` +
        `fix its JSON, or remove it (${source.fixOf(runId, collection, key)}) if the run can do without it.`,
      { ...(runId === null ? {} : { runId }), field: `${collection}.${key}` },
    );
  const parse = <R>(
    runId: string | null,
    collection: CollectionName,
    key: string,
    json: string,
    read: (r: Raw, at: string) => R,
  ): R => {
    try {
      const raw = JSON.parse(json) as unknown;
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new Error('it is not a JSON object');
      return read(raw as Raw, `${collection}.${key}`);
    } catch (err) {
      throw bad(runId, collection, key, (err as Error).message);
    }
  };
  const sorted = <R>(
    scope: ScopeImage,
    runId: string | null,
    collection: CollectionName,
    read: (r: Raw, at: string) => R,
  ): [string, R][] =>
    [...(scope.get(collection) ?? new Map<string, string>())]
      .map(([key, json]): [string, R] => [key, parse(runId, collection, key, json, read)])
      .sort(byCreation);

  const store = image.store;
  const storeId = store.get('meta')?.get('storeId');
  if (storeId !== undefined) {
    let id: unknown;
    try {
      id = JSON.parse(storeId);
    } catch {
      id = undefined;
    }
    if (typeof id !== 'string') throw bad(null, 'meta', 'storeId', 'it is not a JSON string');
    const { requesters, runs, qualifications, ...header } = state.core.data;
    state.core.data = { ...header, storeId: id, requesters, runs, qualifications };
  }
  const core = state.core.data;
  for (const [key, r] of sorted(store, null, 'requesters', readRequester)) core.requesters.set(key, r);
  for (const [key, r] of sorted(store, null, 'runs', readRun)) core.runs.set(key, r);
  for (const [key, q] of sorted(store, null, 'qualifications', readQualification)) {
    const at = key.indexOf('/');
    if (at <= 0) throw bad(null, 'qualifications', key, 'its key is not REQUESTER/NAME');
    const requester = key.slice(0, at);
    let byName = core.qualifications.get(requester);
    if (byName === undefined) core.qualifications.set(requester, (byName = new RecordMap()));
    byName.set(key.slice(at + 1), q);
  }
  for (const [key, w] of sorted(store, null, 'workers', readWorker)) state.workers.data.records.set(key, w);

  const notes: string[] = [];
  for (const runId of [...image.runs.keys()].sort(compareText))
    if (!core.runs.has(runId))
      notes.push(`run ${runId} has records in ${source.describe} but no run record; it is left alone and not shown`);
  for (const runId of core.runs.keys()) {
    const run = state.addRun(runId);
    const scope = image.runs.get(runId) ?? new Map();
    for (const kind of RUN_KINDS) {
      const set = run[kind] as ShardSet<unknown>;
      if (kind === 'snapshots') {
        const texts = [...(scope.get('snapshots') ?? new Map<string, string>())].sort((a, b) =>
          compareText(a[0], b[0]),
        );
        for (const [key, json] of texts) set.put(key, new JsonText(json));
        continue;
      }
      for (const [key, record] of sorted(
        scope,
        runId,
        kind,
        SHARD_READERS[kind].read as (r: Raw, at: string) => unknown,
      ))
        set.put(key, record);
    }
    const conflict = indexRun(state, run);
    if (conflict !== null) {
      // The problem starts with `records.<key>` (load.ts names the record that way).
      const key = /^records\.(\S+?)(?:\.unitId)? /.exec(conflict.problem)?.[1] ?? '?';
      throw bad(runId, conflict.kind, key, conflict.problem);
    }
  }
  // What was just read is committed already: nothing of it is a change for the next commit.
  state.dirty = new Map();
  return { notes };
}
