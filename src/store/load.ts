/**
 * Opening a store: read every file, refuse anything damaged without touching it, migrate an
 * older schema, rebuild the in-memory indexes, seal torn audit lines, clear the temp files of
 * uncommitted writes and take the open-time backups. A read-only store does only the reading:
 * through its committed view, migrating in memory, changing nothing.
 *
 * @module
 */
import { basename, join } from 'node:path';
import { HitstateError } from '../errors.js';
import { decodeText, parseJsonObject, UnreadableFileError } from './atomic-json-adapter.js';
import { deepFreeze } from './json.js';
import { rotateBackups } from './backups.js';
import { corruptionAdvice } from './check.js';
import {
  fileDigest,
  JOURNAL_FILE,
  LowdbBackend,
  type ScopeJournal,
  SEGMENT_FILE,
  statKey,
  vouchedByStat,
} from './lowdb/backend.js';
import type { JournalChange } from './lowdb/journal.js';
import { decodeSnapshotIndex, SNAPSHOT_INDEX_FILE, type SnapshotIndex } from './lowdb/snapshot-index.js';
import { RawRecordsError, splitRecords } from './raw-records.js';
import { replayRun, replayStore } from './replay.js';
import { describeEnvironment, type StoreEnvironment } from './environment.js';
import {
  type FileHeader,
  fileHeader,
  type FileKind,
  JsonText,
  RecordMap,
  type RecordsFile,
  RUNS_DIR,
  runDirPath,
  SCHEMA_VERSION,
  SHARD_FILE,
  type ShardKind,
  SlicedJsonText,
  STORE_FILE,
  TEMP_FILE,
  WORKERS_FILE,
} from './layout.js';
import { migrateInMemory, migrateStore, schemaVersionOf } from './migrations.js';
import {
  checkHeader,
  EnvironmentProblem,
  hydrateCore,
  hydrateRecords,
  hydrateRunCopy,
  readAgent,
  readHit,
  readIntent,
  readSnapshot,
  readSubmission,
  readUnit,
  readWorker,
  SchemaProblem,
} from './schema.js';
import type { ShardSet } from './shard-set.js';
import type { StoreFile } from './store-file.js';
import { assignmentKey, LAZY_KINDS, type RunState, type StoreState } from './store-state.js';
import type { SnapshotRecord } from './types.js';

/** What loading found and did. */
export interface LoadReport {
  /** The schema version the store was migrated from, or null. */
  readonly migratedFrom: number | null;
  /** The backup of `store.json` taken before migrating. */
  readonly migrationBackup: string | null;
  /** Audit files whose last line was torn by a crash (and sealed), with the torn length in bytes. */
  readonly tornAuditLines: readonly { readonly file: string; readonly bytes: number }[];
  /** Temp files of writes a crash interrupted before they committed, removed (the files they were for are intact). */
  readonly removedTempFiles: readonly string[];
  /** Directories under runs/ that store.json does not list (left alone; empty ones are removed). */
  readonly orphanRunDirectories: readonly string[];
  /** Files backed up on open because they changed since their newest backup. */
  readonly backedUp: readonly string[];
  /** What reading the journals found: damaged entries ignored, incomplete commits left out. */
  readonly journalNotes: readonly string[];
  /**
   * Snapshot, submission and settled outbox shards taken on their checkpoint digest without
   * being parsed: each is parsed when its collection is first used (docs/datastore.md, "Opening").
   */
  readonly deferredShards: number;
  /**
   * Checkpoint-written files whose digest opening computed by hashing their bytes; the others
   * were vouched for by the size and time recorded with their digest (docs/datastore.md, "Opening").
   */
  readonly filesHashed: number;
}

interface LoadOptions {
  readonly backups: number;
  /** Every scope's journal, read before the files (opening = checkpoint files + journal). */
  readonly journals: ReadonlyMap<string, ScopeJournal>;
  /** Set for a read-only store: migrates in memory by making later reads of a file see `data`; changes nothing on disk. */
  readonly replace?: (absPath: string, data: unknown) => void;
  /** Filled while loading: digests of lazy-kind shards checked in full, to record, with their stat. */
  verified?: { runId: string; name: string; digest: string; stat?: string }[];
  /** Counts the files hashed to learn their digest (see {@link LoadReport.filesHashed}). */
  readonly hashed?: { count: number };
  /** Filled while loading: the bytes of shards read whole, by path, so the open-time backups need not read them again. */
  readonly read?: Map<string, Buffer>;
  /** Counts the snapshot shards taken with the compact open index (not parsed, as deferred ones). */
  readonly sliced?: { count: number };
  /** Filled while loading: runs with a snapshot shard the compact open index does not cover, to index. */
  unindexed?: Set<string>;
  /** Runs another live process owns: their files are its to repair (its temp files are its writes under way). */
  readonly liveRuns?: ReadonlySet<string>;
}

/** The committed changes of a scope's journal, in order. */
function changesOf(options: LoadOptions, scope: string, notes: string[]): JournalChange[] {
  const { entries, notes: n } = LowdbBackend.committed(options.journals, scope);
  notes.push(...n, ...(options.journals.get(scope)?.notes ?? []));
  return entries.flatMap((e) => e.entry.changes);
}

/**
 * True when `bytes` would open as the file of that kind: a JSON object with the right header,
 * and the current schema version (or an older one for store.json, which the store migrates).
 */
export function isUsableFile(
  bytes: Buffer,
  path: string,
  kind: FileKind,
  environment: StoreEnvironment,
  runId?: string,
): boolean {
  try {
    const raw = parseJsonObject(path, bytes);
    const version = schemaVersionOf(raw);
    if (kind === 'store' && version !== null && version < SCHEMA_VERSION) return true;
    checkHeader(raw, kind, environment, runId);
    return version === SCHEMA_VERSION;
  } catch {
    return false;
  }
}

/** Builds the HST_ERR_STORE_CORRUPT error for a file, naming its newest good backup. */
async function corrupt(
  state: StoreState,
  file: StoreFile<FileHeader>,
  kind: FileKind,
  runId: string | undefined,
  reason: string,
  backups: number,
): Promise<HitstateError> {
  const advice = corruptionAdvice(
    state.root,
    file.relPath,
    kind,
    state.environment,
    runId ?? null,
    Math.max(backups, 3),
  );
  return new HitstateError(
    'HST_ERR_STORE_CORRUPT',
    `${file.absPath} cannot be used: ${reason}. hitstate refuses to start and has left the file untouched. ${advice}`,
    { file: file.absPath, ...(runId === undefined ? {} : { runId }) },
  );
}

/**
 * Reads one file and checks its header and version.
 * @returns the parsed object, or null when the file does not exist.
 */
async function readChecked(
  state: StoreState,
  file: StoreFile<FileHeader>,
  kind: FileKind,
  runId: string | undefined,
  options: LoadOptions,
): Promise<Record<string, unknown> | null> {
  let raw: Record<string, unknown> | null;
  try {
    raw = await file.read();
  } catch (err) {
    if (err instanceof UnreadableFileError) throw await corrupt(state, file, kind, runId, err.reason, options.backups);
    throw err;
  }
  if (raw === null) return null;
  try {
    checkHeader(raw, kind, state.environment, runId);
  } catch (err) {
    if (err instanceof EnvironmentProblem) {
      throw new HitstateError(
        'HST_ERR_STORE_ENVIRONMENT_MISMATCH',
        `${file.absPath} belongs to ${describeEnvironment(err.found as never)}, but the store was opened for ${describeEnvironment(state.environment)}. Open it with the environment it was written for; ids of one MTurk environment are meaningless in another.`,
        { file: file.absPath },
      );
    }
    if (err instanceof SchemaProblem) throw await corrupt(state, file, kind, runId, err.message, options.backups);
    throw err;
  }
  const version = schemaVersionOf(raw);
  if (version !== null && version > SCHEMA_VERSION) {
    throw new HitstateError(
      'HST_ERR_STORE_VERSION_NEWER',
      `${file.absPath} has schema version ${version}, written by a newer hitstate; this one reads up to version ${SCHEMA_VERSION}. Upgrade hitstate; the file was not touched.`,
      { file: file.absPath },
    );
  }
  if (version !== SCHEMA_VERSION)
    throw await corrupt(
      state,
      file,
      kind,
      runId,
      `its schemaVersion is ${JSON.stringify(raw.schemaVersion)} while store.json is at ${SCHEMA_VERSION}`,
      options.backups,
    );
  return raw;
}

async function hydrate<T>(
  state: StoreState,
  file: StoreFile<FileHeader>,
  kind: FileKind,
  runId: string | undefined,
  options: LoadOptions,
  build: () => T,
): Promise<T> {
  try {
    return build();
  } catch (err) {
    if (err instanceof SchemaProblem) throw await corrupt(state, file, kind, runId, err.message, options.backups);
    throw err;
  }
}

const generic = (file: unknown): StoreFile<FileHeader> => file as StoreFile<FileHeader>;

/** Reads and hydrates one collection file; a missing file leaves the collection empty. */
async function loadRecords<R>(
  state: StoreState,
  file: StoreFile<RecordsFile<R>>,
  kind: FileKind,
  runId: string | undefined,
  options: LoadOptions,
  read: (r: Record<string, unknown>, at: string) => R,
  idOf: (r: R) => string,
  runOf?: (r: R) => string,
): Promise<void> {
  const raw = await readChecked(state, generic(file), kind, runId, options);
  if (raw !== null)
    file.data = await hydrate(state, generic(file), kind, runId, options, () => hydrateRecords(raw, read, idOf, runOf));
}

/** How to read the records of each shard kind: reader, id, and (when records carry it) run. */
export interface ShardReader<K extends ShardKind> {
  read: (r: Record<string, unknown>, at: string) => ShardRecord<K>;
  id: (r: ShardRecord<K>) => string;
  run?: (r: ShardRecord<K>) => string;
}

/** How to read the records of each shard kind (a mapped type, so `SHARD_READERS[kind]` is `ShardReader<K>`). */
export const SHARD_READERS: { readonly [K in ShardKind]: ShardReader<K> } = {
  units: { read: readUnit, id: (u) => u.id, run: (u) => u.runId },
  agents: { read: readAgent, id: (a) => a.id, run: (a) => a.runId },
  hits: { read: readHit, id: (h) => h.id, run: (h) => h.runId },
  // Read from disk as objects; the collection turns them into text when first read.
  snapshots: { read: readSnapshot, id: (s) => (s as SnapshotRecord).actorId, run: (s) => (s as SnapshotRecord).runId },
  submissions: { read: readSubmission, id: (s) => s.agentId },
  outbox: { read: readIntent, id: (i) => i.token, run: (i) => i.runId },
};

type ShardRecord<K extends ShardKind> = RunState[K] extends ShardSet<infer R> ? R : never;

async function loadShard<K extends ShardKind>(
  state: StoreState,
  run: RunState,
  kind: K,
  index: number,
  options: LoadOptions,
  snapshotIndex?: SnapshotIndex,
): Promise<() => void> {
  const file = state.shardFile<ShardRecord<K>>(run.id, kind, index);
  // The run's sets through one mapped type, so the generic kind keeps a set and its records together.
  const sets: { readonly [J in ShardKind]: ShardSet<ShardRecord<J>> } = run;
  const reader: ShardReader<K> = SHARD_READERS[kind];
  let actualDigest: string | undefined;
  let actualStat: string | undefined;
  if (!LAZY_KINDS.has(kind)) {
    const vouched = await loadVouchedRecords(state, file, kind, run.id, index, options);
    if (vouched === true) return () => sets[kind].adopt(index, file);
    if (typeof vouched === 'function') {
      // A settled outbox shard: parsed when the outbox is first used (store-state.ts, LAZY_KINDS).
      const adopt = () => {
        vouched();
        sets[kind].adopt(index, file);
        indexSettledIntents(state, run, file);
      };
      return () => defer(run, kind, adopt);
    }
    actualDigest = vouched?.digest;
    actualStat = vouched?.stat;
  } else {
    const bytes = await state.fs.readFile(file.absPath);
    if (bytes !== null) options.read?.set(file.absPath, bytes);
    const digest = options.journals.get(run.id)?.mark.digests[basename(file.absPath)];
    const known = bytes === null ? undefined : await digestOf(state, file.absPath, run.id, bytes, options);
    actualDigest = known?.digest;
    actualStat = known?.stat;
    const spans = kind === 'snapshots' ? snapshotIndex?.shards[basename(file.absPath)] : undefined;
    if (kind === 'snapshots' && bytes !== null && spans?.digest !== actualDigest) options.unindexed?.add(run.id);
    if (bytes !== null && digest !== undefined && actualDigest === digest) {
      file.adapter.found = true;
      if (spans !== undefined && spans.digest === actualDigest) {
        // As the last checkpoint wrote it, and the compact open index says where each record lies:
        // records are decoded one at a time, when read.
        const records = new RecordMap<SlicedJsonText>();
        const { keys, spans: at } = spans;
        for (let i = 0; i < keys.length; i++)
          records.set(keys[i]!, new SlicedJsonText(bytes, at[4 * i]!, at[4 * i + 1]!, at[4 * i + 2]!, at[4 * i + 3]!));
        fillFile(file, { ...fileHeader('snapshots', state.environment, run.id, index), records });
        if (options.sliced !== undefined) options.sliced.count++;
        return () => sets[kind].adopt(index, file);
      }
      // As the last checkpoint wrote it: parsed when the collection is first used.
      const adopt = () => {
        parseVouched(generic(file), kind, run.id, bytes);
        sets[kind].adopt(index, file);
      };
      return () => defer(run, kind, adopt);
    }
  }
  if (kind !== 'snapshots' || !(await loadSnapshotsAsText(state, generic(file), run.id)))
    await loadRecords(state, file, kind, run.id, options, reader.read, reader.id, reader.run);
  // Checked in full: its digest is recorded, so the next open takes it without parsing (a store
  // written before the digests gets them once).
  if (actualDigest !== undefined)
    options.verified?.push({
      runId: run.id,
      name: basename(file.absPath),
      digest: actualDigest,
      ...(actualStat === undefined ? {} : { stat: actualStat }),
    });
  return () => sets[kind].adopt(index, file);
}

/** Queues a shard's adoption until its collection is first used (store-state.ts, `LAZY_KINDS`). */
function defer(run: RunState, kind: ShardKind, adopt: () => void): void {
  const list = run.deferred.get(kind);
  if (list === undefined) run.deferred.set(kind, [adopt]);
  else list.push(adopt);
}

/**
 * How each reader of `schema.ts` hands out its records, for records taken without their checks:
 * units and HITs frozen, agents and intents frozen deeply.
 */
const FREEZE: { readonly [K in ShardKind | 'workers']?: (record: object) => unknown } = {
  workers: deepFreeze,
  units: Object.freeze,
  hits: Object.freeze,
  agents: deepFreeze,
  outbox: deepFreeze,
};

/**
 * Takes a unit, agent, HIT or outbox shard that its checkpoint digest vouches for without checking
 * it record by record: its bytes are those a checkpoint wrote from checked records (see
 * `CheckpointMark.digests`), so only the header and schema version are checked. Returns true when
 * taken; for an outbox shard of settled intents, the function that takes it when the outbox is
 * first used; else the file's actual digest (to record once the thorough read has checked it) or
 * undefined when it has none: the caller then reads it the thorough way, which names any problem.
 */
async function loadVouchedRecords<R>(
  state: StoreState,
  file: StoreFile<RecordsFile<R>>,
  kind: ShardKind | 'workers',
  runId: string | undefined,
  index: number | undefined,
  options: LoadOptions,
): Promise<true | (() => void) | FileDigest | undefined> {
  const bytes = await state.fs.readFile(file.absPath);
  if (bytes === null) return undefined;
  options.read?.set(file.absPath, bytes);
  const actual = await digestOf(state, file.absPath, runId, bytes, options);
  // The store-wide files are vouched by the store-wide scope's mark (scope '').
  if (options.journals.get(runId ?? '')?.mark.digests[basename(file.absPath)] !== actual.digest) return actual;
  const take = (): boolean => {
    let raw: Record<string, unknown>;
    try {
      raw = parseJsonObject(file.absPath, bytes);
      checkHeader(raw, kind, state.environment, runId);
    } catch {
      return false;
    }
    const source = raw.records;
    if (schemaVersionOf(raw) !== SCHEMA_VERSION || typeof source !== 'object' || source === null) return false;
    const freeze = FREEZE[kind] ?? ((record: object) => record);
    const records = new RecordMap<R>();
    for (const key in source as Record<string, object>)
      records.set(key, freeze((source as Record<string, object>)[key]!) as R);
    file.data = { ...fileHeader(kind, state.environment, runId, index), records };
    file.adapter.found = true;
    return true;
  };
  if (kind === 'outbox' && !holdsOpenIntent(bytes)) {
    file.adapter.found = true;
    // Written whole by a checkpoint from checked records (its digest says so): reading it later
    // cannot fail unless memory was corrupted, and then it says so.
    return () => {
      if (!take())
        throw new HitstateError(
          'HST_ERR_STORE_CORRUPT',
          `${file.absPath} matched the digest its checkpoint recorded but cannot be read. hitstate has left the file untouched; run \`hitstate store check\`.`,
          { file: file.absPath, runId },
        );
    };
  }
  return take() ? true : undefined;
}

/** A file's digest as opening learned it, and its stat then (`statKey`), to record with it. */
interface FileDigest {
  readonly digest: string;
  readonly stat?: string;
}

/**
 * The digest of a file opening read: the one its mark records when the file's size and time
 * still vouch for it (`vouchedByStat`), else the SHA-256 of its bytes (counted in
 * {@link LoadReport.filesHashed}). Hashing was ~100 ms of opening 10,000 units (47 MB).
 */
async function digestOf(
  state: StoreState,
  path: string,
  scope: string | undefined,
  bytes: Buffer,
  options: LoadOptions,
): Promise<FileDigest> {
  const stat = await state.fs.statFile(path);
  const journal = options.journals.get(scope ?? '');
  const name = basename(path);
  const vouched = vouchedByStat(journal, name, stat);
  if (vouched !== undefined) return { digest: vouched };
  if (options.hashed !== undefined) options.hashed.count++;
  const digest = fileDigest(bytes);
  if (stat === null) return { digest };
  // The bytes its checkpoint wrote, its stat not recorded yet (or in the mark's tick): recorded
  // now with its digest, so the next open takes it on its stat.
  if (scope !== undefined && journal?.mark.digests[name] === digest)
    options.verified?.push({ runId: scope, name, digest, stat: statKey(stat) });
  return { digest, stat: statKey(stat) };
}

/**
 * Whether an outbox shard may hold an intent that is not confirmed (pending, sent, or failed and
 * perhaps retryable): the resume replays those, so such a shard is read on open. The test is on
 * the bytes, without parsing: a `"state":"…"` pair can appear in JSON text only as a member (a
 * string's quotes are escaped), so any such member other than `"state":"confirmed"` (in an
 * intent or in its arguments) makes it "may", which only costs a parse, and "no" is certain.
 */
function holdsOpenIntent(bytes: Buffer): boolean {
  // One pass over the bytes: each `"state":"` is followed by a settled state or not.
  for (let at = bytes.indexOf(STATE_MEMBER); at >= 0; at = bytes.indexOf(STATE_MEMBER, at + STATE_MEMBER.length)) {
    const from = at + STATE_MEMBER.length;
    if (!bytes.subarray(from, from + CONFIRMED.length).equals(CONFIRMED) || bytes[from + CONFIRMED.length] !== QUOTE)
      return true;
  }
  return false;
}

const STATE_MEMBER = Buffer.from('"state":"');
const CONFIRMED = Buffer.from('confirmed');
const QUOTE = 0x22;

/**
 * Indexes the intents of an outbox shard parsed after the open (settled ones only, see
 * {@link holdsOpenIntent}): each token's run, for lookups by token.
 */
function indexSettledIntents(
  state: StoreState,
  run: RunState,
  file: { readonly absPath: string; readonly data: { readonly records: RecordMap<unknown> } },
): void {
  for (const token of file.data.records.keys()) {
    const other = state.intentRun.get(token);
    if (other !== undefined && other !== run)
      throw new HitstateError(
        'HST_ERR_STORE_CORRUPT',
        `${file.absPath}: records.${token} exists in run "${other.id}" too; ids are unique in an environment. hitstate has left the file untouched; run \`hitstate store check\`.`,
        { file: file.absPath, runId: run.id },
      );
    state.intentRun.set(token, run);
  }
}

/**
 * Puts what a fast path read into `file`'s data slot. lowdb types that slot by the file's
 * generic header, which the fast paths' record maps (texts, sliced texts) do not name: this is
 * the one place that says they fit.
 */
function fillFile<T extends FileHeader>(file: StoreFile<T>, data: unknown): void {
  (file as unknown as { data: unknown }).data = data;
}

/**
 * Parses a shard its checkpoint digest vouched for, when its collection is first used: snapshot
 * records are split into their texts, submissions read as usual. It was written whole from checked
 * records, so this does not fail unless memory was corrupted; if it does, it says so.
 */
function parseVouched<K extends ShardKind>(file: StoreFile<FileHeader>, kind: K, runId: string, bytes: Buffer): void {
  try {
    if (kind === 'snapshots') {
      const { header, records } = splitRecords(decodeText(bytes));
      const map = new RecordMap<JsonText>();
      for (const [key, text] of records) map.set(key, new JsonText(text));
      fillFile(file, { ...header, records: map });
      return;
    }
    const reader: ShardReader<K> = SHARD_READERS[kind];
    const raw = parseJsonObject(file.absPath, bytes);
    fillFile(file, hydrateRecords(raw, reader.read, reader.id, reader.run));
  } catch (err) {
    throw new HitstateError(
      'HST_ERR_STORE_CORRUPT',
      `${file.absPath} matched the digest its checkpoint recorded but cannot be read: ${err instanceof Error ? err.message : String(err)}. hitstate has left the file untouched; run \`hitstate store check\`.`,
      { file: file.absPath, runId },
    );
  }
}

/**
 * The fast way to open a snapshot shard: its records are split into their JSON texts
 * (`raw-records.ts`) and kept as `JsonText`, never parsed into objects, unless read. Returns false
 * when anything is unusual (the file is then read the thorough way, which names the problem).
 */
async function loadSnapshotsAsText(state: StoreState, file: StoreFile<FileHeader>, runId: string): Promise<boolean> {
  const bytes = await state.fs.readFile(file.absPath);
  if (bytes === null || bytes.length === 0) return false;
  try {
    const { header, records } = splitRecords(decodeText(bytes));
    checkHeader(header, 'snapshots', state.environment, runId);
    if (schemaVersionOf(header) !== SCHEMA_VERSION) return false;
    const map = new RecordMap<JsonText>();
    const run = `,"runId":${JSON.stringify(runId)},`;
    for (const [key, text] of records) {
      // What readSnapshot checks first: the record is filed under its id, in this run.
      const head = `{"actorId":${JSON.stringify(key)}`;
      if (!text.startsWith(head) || !text.startsWith(run, head.length) || map.has(key)) return false;
      map.set(key, new JsonText(text));
    }
    fillFile(file, { ...header, records: map });
    file.adapter.found = true;
    return true;
  } catch (err) {
    if (err instanceof RawRecordsError || err instanceof SyntaxError || err instanceof SchemaProblem) return false;
    if (err instanceof EnvironmentProblem) return false;
    throw err;
  }
}

async function loadRun(state: StoreState, run: RunState, options: LoadOptions, notes: string[]): Promise<void> {
  const tasks: Promise<() => void>[] = [];
  const dir = join(state.root, runDirPath(run.id));
  const names = await state.fs.listDirectory(dir);
  // Derived data: absent or damaged, it is ignored (snapshot-index.ts).
  const snapshotIndex = names.includes(SNAPSHOT_INDEX_FILE)
    ? decodeSnapshotIndex(await state.fs.readFile(join(dir, SNAPSHOT_INDEX_FILE)))
    : undefined;
  for (const name of names) {
    const m = SHARD_FILE.exec(name);
    if (m !== null) tasks.push(loadShard(state, run, m[1] as ShardKind, Number(m[2]), options, snapshotIndex));
  }
  for (const adopt of await Promise.all(tasks)) adopt();
  replayRun(state, run, changesOf(options, run.id, notes));
  const copy = generic(run.copy);
  const raw = await readChecked(state, copy, 'run', run.id, options);
  const record = state.core.data.runs.get(run.id);
  if (raw !== null) run.copy.data = await hydrate(state, copy, 'run', run.id, options, () => hydrateRunCopy(raw));
  // A run written before run.json existed (or whose copy lags behind, as it does until the
  // journal is folded into the files) gets its copy at the next checkpoint.
  if (record !== undefined && !state.readOnly && JSON.stringify(run.copy.data.run) !== JSON.stringify(record))
    state.markRecord('runs', null, run.id);
  const conflict = indexRun(state, run);
  if (conflict !== null)
    throw await corrupt(state, generic(conflict.file), conflict.kind, run.id, conflict.problem, options.backups);
}

export interface Conflict {
  readonly file: unknown;
  readonly kind: ShardKind;
  readonly problem: string;
}

/**
 * Rebuilds the indexes of one run. Returns the first record that breaks an invariant the store
 * keeps (ids unique in the environment, one HIT per unit), which only a hand edit can cause.
 */
export function indexRun(state: StoreState, run: RunState): Conflict | null {
  const duplicate = (kind: ShardKind, id: string, other: RunState | undefined): Conflict | null => {
    if (other === undefined) return null;
    return {
      file: (run[kind] as ShardSet<unknown>).fileOf(id),
      kind,
      problem: `records.${id} exists in run "${other.id}" too; ids are unique in an environment`,
    };
  };
  for (const kind of ['units', 'agents', 'hits', 'snapshots', 'submissions', 'outbox'] as const) {
    // Deferred shards were written whole by a checkpoint, which never puts a record in two shards.
    if (run.deferred.has(kind)) continue;
    const [id] = run[kind].duplicates;
    if (id !== undefined)
      return { file: run[kind].fileOf(id), kind, problem: `records.${id} is in two shards of ${kind}` };
  }
  for (const unit of run.units.values()) {
    const clash = duplicate('units', unit.id, state.unitRun.get(unit.id));
    if (clash !== null) return clash;
    state.unitRun.set(unit.id, run);
    state.countUnit(run, null, unit.status);
  }
  const hits = [...run.hits.values()].sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1));
  for (const hit of hits) {
    const clash = duplicate('hits', hit.id, state.hitRun.get(hit.id));
    if (clash !== null) return clash;
    state.hitRun.set(hit.id, run);
    if (hit.unitId === null) {
      run.unboundHits.add(hit.id);
      continue;
    }
    const other = run.hitByUnit.get(hit.unitId);
    if (other !== undefined)
      return {
        file: run.hits.fileOf(hit.id),
        kind: 'hits',
        problem: `records.${hit.id}.unitId binds unit "${hit.unitId}", which HIT "${other}" binds already`,
      };
    run.hitByUnit.set(hit.unitId, hit.id);
  }
  for (const agent of run.agents.values()) {
    const clash = duplicate('agents', agent.id, state.agentRun.get(agent.id));
    if (clash !== null) return clash;
    state.agentRun.set(agent.id, run);
    state.agentByAssignment.set(assignmentKey(agent.assignmentId, agent.workerId), agent.id);
    const list = run.agentsByUnit.get(agent.unitId);
    if (list === undefined) run.agentsByUnit.set(agent.unitId, [agent.id]);
    else list.push(agent.id);
  }
  // Settled shards not parsed yet are indexed when the outbox is first used (indexSettledIntents).
  for (const intent of run.deferred.has('outbox') ? [] : run.outbox.values()) {
    const known = state.intentRun.get(intent.token);
    // Indexed already when the journal's replay made the outbox adopt its deferred shards.
    const clash = duplicate('outbox', intent.token, known === run ? undefined : known);
    if (clash !== null) return clash;
    state.intentRun.set(intent.token, run);
    if (
      intent.state === 'pending' ||
      intent.state === 'sent' ||
      (intent.state === 'failed' && intent.failure?.retryable === true)
    )
      run.openIntents.add(intent.token);
  }
  return null;
}

/** Loads every file of the store into `state`. The caller holds the lock. */
export async function loadStore(state: StoreState, given: LoadOptions): Promise<LoadReport> {
  const options: LoadOptions = state.readOnly
    ? { ...given, sliced: { count: 0 }, hashed: { count: 0 } }
    : {
        ...given,
        verified: [],
        unindexed: new Set(),
        sliced: { count: 0 },
        read: new Map(),
        hashed: { count: 0 },
      };
  let migratedFrom: number | null = null;
  let migrationBackup: string | null = null;
  const core = generic(state.core);
  let raw = await readRaw(state, core, options);
  if (raw !== null) {
    const version = schemaVersionOf(raw);
    if (version !== null && version < SCHEMA_VERSION) {
      const ctx = { root: state.root, fs: state.fs, environment: state.environment };
      if (options.replace === undefined) migrationBackup = await migrateStore(ctx, raw, version);
      else
        for (const [rel, data] of await migrateInMemory(ctx, raw, version))
          options.replace(join(state.root, rel), data);
      migratedFrom = version;
    }
    raw = await readChecked(state, core, 'store', undefined, options);
  } else if (!(options.journals.get('')?.segments.some((seg) => seg.entries.length > 0) ?? false)) {
    // A store whose first commits are still only in its journal has no store.json yet.
    await refuseHeadless(state);
  }
  if (raw !== null) {
    const data = raw;
    state.core.data = await hydrate(state, core, 'store', undefined, options, () => hydrateCore(data));
  }
  const workers = await loadVouchedRecords(state, state.workers, 'workers', undefined, undefined, options);
  // Its digest is recorded by the next store-wide checkpoint (that mark is shared by every writer).
  if (workers !== true) await loadRecords(state, state.workers, 'workers', undefined, options, readWorker, (w) => w.id);
  const journalNotes: string[] = [];
  replayStore(state, changesOf(options, '', journalNotes));

  await Promise.all(
    [...state.core.data.runs.keys()].map((id) => loadRun(state, state.addRun(id), options, journalNotes)),
  );

  const runsDir = join(state.root, RUNS_DIR);
  const runDirs = (await state.fs.listDirectory(runsDir)).filter((name) => !name.startsWith('.'));
  if (state.readOnly) {
    // A directory holding only temp files belongs to a write that has not committed yet.
    const orphans: string[] = [];
    for (const name of runDirs.filter((n) => !state.runs.has(n))) {
      const names = await state.fs.listDirectory(join(runsDir, name));
      if (names.some((f) => !TEMP_FILE.test(f) && !isUncommittedJournal(options, name, f))) orphans.push(name);
    }
    return {
      migratedFrom,
      migrationBackup,
      tornAuditLines: [],
      removedTempFiles: [],
      orphanRunDirectories: orphans,
      backedUp: [],
      journalNotes,
      deferredShards: deferredShards(state) + (options.sliced?.count ?? 0),
      filesHashed: options.hashed?.count ?? 0,
    };
  }

  const tornAuditLines: { file: string; bytes: number }[] = [];
  for (const log of state.auditLogs()) {
    if (log.runId !== null && options.liveRuns?.has(log.runId) === true) continue;
    const path = join(state.root, log.relPath);
    const bytes = await sealTornLine(state, path);
    if (bytes > 0) tornAuditLines.push({ file: path, bytes });
  }
  const removedTempFiles: string[] = [];
  const ownedElsewhere = (name: string) => options.liveRuns?.has(name) === true;
  for (const dir of [state.root, ...runDirs.filter((n) => !ownedElsewhere(n)).map((name) => join(runsDir, name))]) {
    for (const name of await state.fs.listDirectory(dir)) {
      if (TEMP_FILE.test(name)) {
        await state.fs.removeFile(join(dir, name));
        removedTempFiles.push(join(dir, name));
      }
    }
  }
  // A run created by a write that never committed leaves an empty directory once its temp files are gone.
  const orphanRunDirectories: string[] = [];
  for (const name of runDirs.filter((n) => !state.runs.has(n) && !ownedElsewhere(n))) {
    const dir = join(runsDir, name);
    // The journal of a run whose creating commit never completed holds nothing committed.
    for (const f of await state.fs.listDirectory(dir))
      if (isUncommittedJournal(options, name, f)) await state.fs.removeFile(join(dir, f));
    if (!(await state.fs.removeEmptyDirectory(dir))) orphanRunDirectories.push(name);
  }
  const byRun = new Map<string, Record<string, string>>();
  const statsByRun = new Map<string, Record<string, string>>();
  for (const { runId, name, digest, stat } of options.verified ?? []) {
    byRun.set(runId, { ...byRun.get(runId), [name]: digest });
    if (stat !== undefined) statsByRun.set(runId, { ...statsByRun.get(runId), [name]: stat });
  }
  const unindexed = [...(options.unindexed ?? [])].filter((runId) => !ownedElsewhere(runId));
  if (byRun.size > 0 || unindexed.length > 0) {
    const lowdb = state.backend;
    // Only the lowdb backend reads checkpoint files, so only it has digests to record.
    if (!(lowdb instanceof LowdbBackend)) throw new Error('loadStore reads lowdb files only');
    for (const [runId, digests] of byRun) await lowdb.addDigests(runId, digests, statsByRun.get(runId));
    // A store written before the compact open index gets one now, for the next open.
    for (const runId of unindexed) await lowdb.indexSnapshots(runId);
  }
  const backedUp: string[] = [];
  await Promise.all(
    state.files.map(async (file) => {
      const known = options.read?.get(file.absPath);
      if (file.onDisk && (await rotateBackups(state.fs, file.absPath, options.backups, known)))
        backedUp.push(file.absPath);
    }),
  );
  options.read?.clear();
  return {
    migratedFrom,
    migrationBackup,
    tornAuditLines,
    removedTempFiles,
    orphanRunDirectories,
    backedUp: backedUp.sort(),
    journalNotes,
    deferredShards: deferredShards(state) + (options.sliced?.count ?? 0),
    filesHashed: options.hashed?.count ?? 0,
  };
}

/** How many shards wait to be parsed, over every run. */
function deferredShards(state: StoreState): number {
  let n = 0;
  for (const run of state.runs.values()) for (const list of run.deferred.values()) n += list.length;
  return n;
}

/** True for a journal file of a run scope that holds no committed entry (a crash while the run was being created). */
function isUncommittedJournal(options: LoadOptions, runId: string, name: string): boolean {
  if (name !== JOURNAL_FILE && !SEGMENT_FILE.test(name)) return false;
  return LowdbBackend.committed(options.journals, runId).entries.length === 0;
}

/** How far back from the end the open-time check looks for the last newline. */
const TAIL_BYTES = 64 * 1024;

/**
 * Ends a torn last line of an audit file (left by a crash of an older hitstate, which appended
 * without a commit) with a newline, so the lines a checkpoint appends stay whole. Returns the
 * torn line's length in bytes, or 0.
 */
async function sealTornLine(state: StoreState, path: string): Promise<number> {
  const opened = await state.fs.openForReading(path);
  if (opened === null) return 0;
  let bytes: Buffer;
  try {
    bytes = await opened.read();
  } finally {
    await opened.close();
  }
  if (bytes.length === 0 || bytes[bytes.length - 1] === 0x0a) return 0;
  const tail = bytes.subarray(Math.max(0, bytes.length - TAIL_BYTES));
  const lastNewline = tail.lastIndexOf(0x0a);
  await state.fs.appendDurable(path, '\n');
  return lastNewline < 0 ? tail.length : tail.length - lastNewline - 1;
}

/** Reads store.json only far enough to learn its version (migration needs the old shape). */
async function readRaw(
  state: StoreState,
  core: StoreFile<FileHeader>,
  options: LoadOptions,
): Promise<Record<string, unknown> | null> {
  try {
    const raw = await core.read();
    if (raw !== null && schemaVersionOf(raw) === null)
      throw new UnreadableFileError(
        core.absPath,
        `its schemaVersion ${JSON.stringify(raw.schemaVersion)} is not a version number`,
      );
    return raw;
  } catch (err) {
    if (err instanceof UnreadableFileError)
      throw await corrupt(state, core, 'store', undefined, err.reason, options.backups);
    throw err;
  }
}

/** A missing store.json next to other store files means it was lost, not that the store is new. */
async function refuseHeadless(state: StoreState): Promise<void> {
  const names = await state.fs.listDirectory(state.root);
  const present = names.filter((n) => n === WORKERS_FILE || n === RUNS_DIR || n.startsWith(`${STORE_FILE}.bak.`));
  if (present.length === 0) return;
  throw new HitstateError(
    'HST_ERR_STORE_CORRUPT',
    `${join(state.root, STORE_FILE)} is missing, but the directory holds store data (${present.join(', ')}). hitstate refuses to start a new, empty store over it. Restore the newest ${STORE_FILE}.bak.N as ${STORE_FILE}, or move the directory away to start empty.`,
    { file: join(state.root, STORE_FILE) },
  );
}
