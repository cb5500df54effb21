/**
 * Where the store keeps what, and the header every JSON file starts with.
 *
 * ```
 * <dir>/<environment>/            live, sandbox, custom-127.0.0.1-8787
 *   store.json                    requesters, task runs, qualification mappings
 *   store.json.lock               {pid, hostname, startedAt} of the process holding the store
 *   workers.json                  workers and their blocks
 *   audit.jsonl                   MTurk calls that belong to no run
 *   runs/<runId>/units-000.json ...       units, 1000 per shard
 *   runs/<runId>/agents-000.json ...      agents, 1000 per shard
 *   runs/<runId>/hits-000.json ...        the HIT pool, 1000 HITs per shard
 *   runs/<runId>/snapshots-000.json ...   actor snapshots, 500 actors per shard
 *   runs/<runId>/submissions-000.json ... submitted data, 500 agents per shard
 *   runs/<runId>/outbox-000.json ...      money intents, 1000 per shard
 *   runs/<runId>/audit.jsonl      MTurk calls of the run, appended
 *   runs/<runId>/run.json         a copy of the run's record in store.json (so a damaged
 *                                 store.json never loses a run: `hitstate store restore`)
 * ```
 *
 * @module
 */
import type { StoreEnvironment } from './environment.js';
import type { SubmissionRecord } from './schema.js';
import type {
  AgentRecord,
  HitRecord,
  IntentRecord,
  QualificationMapping,
  RequesterRecord,
  SnapshotRecord,
  TaskRunRecord,
  UnitRecord,
} from './types.js';

/** The schema version this hitstate writes. Older files are migrated on open; newer ones refused. */
export const SCHEMA_VERSION = 1;
/** Marks a file as a hitstate store file. */
export const STORE_FORMAT = 'hitstate-store';

export const STORE_FILE = 'store.json';
export const LOCK_FILE = 'store.json.lock';
export const WORKERS_FILE = 'workers.json';
export const AUDIT_FILE = 'audit.jsonl';
export const RUNS_DIR = 'runs';
/** The copy of a run's record kept in its own directory. */
export const RUN_COPY_FILE = 'run.json';

/** What a store file holds. */
export const FileKind = {
  store: 'store',
  workers: 'workers',
  units: 'units',
  agents: 'agents',
  hits: 'hits',
  snapshots: 'snapshots',
  submissions: 'submissions',
  outbox: 'outbox',
  run: 'run',
  /** A scope's journal (`journal.jsonl`, `journal.<k>.jsonl`): not a lowdb file; listed by `hitstate store check`. */
  journal: 'journal',
} as const;
export type FileKind = (typeof FileKind)[keyof typeof FileKind];

/**
 * Per-run collections, each split into shards that fill up and roll over: a new record goes into
 * the newest shard until it holds the capacity below, then a new shard starts; a record never
 * moves. A write rewrites only the shards that changed, so it costs a few hundred kilobytes
 * whatever the size of the run (a 10,000-unit run has 10 unit shards).
 */
export type ShardKind = 'units' | 'agents' | 'hits' | 'snapshots' | 'submissions' | 'outbox';

/** Every per-run collection. */
export const SHARD_KINDS: readonly ShardKind[] = Object.freeze([
  'units',
  'agents',
  'hits',
  'snapshots',
  'submissions',
  'outbox',
]);
const SHARD_KIND_SET: ReadonlySet<string> = new Set(SHARD_KINDS);
/** Whether a collection name (of a journal change, a file) is a per-run collection. */
export const isShardKind = (name: string): name is ShardKind => SHARD_KIND_SET.has(name);

/**
 * The record each per-run collection holds in memory: index it with a generic `K extends ShardKind`
 * to keep a collection and its records together (snapshots may be held as their JSON text).
 */
export interface ShardRecords {
  readonly units: UnitRecord;
  readonly agents: AgentRecord;
  readonly hits: HitRecord;
  readonly snapshots: SnapshotRecord | JsonText;
  readonly submissions: SubmissionRecord;
  readonly outbox: IntentRecord;
}

/** Records per shard: about 200-400 KB of JSON each at typical record sizes. */
export const SHARD_CAPACITY: Readonly<Record<ShardKind, number>> = Object.freeze({
  units: 1000,
  agents: 1000,
  hits: 1000,
  snapshots: 500,
  submissions: 500,
  outbox: 1000,
});

/** Temp files of any write (`.<name>.tmp`, `.<name>.<n>.tmp`): never data on their own. */
export const TEMP_FILE = /^\..+\.tmp$/;

/** Matches shard file names: `units-000.json`. */
export const SHARD_FILE = /^(units|agents|hits|snapshots|submissions|outbox)-(\d{3,6})\.json$/;

export const runDirPath = (runId: string): string => `${RUNS_DIR}/${runId}`;
export const shardFilePath = (runId: string, kind: ShardKind, index: number): string =>
  `${RUNS_DIR}/${runId}/${kind}-${String(index).padStart(3, '0')}.json`;
export const runAuditPath = (runId: string): string => `${RUNS_DIR}/${runId}/${AUDIT_FILE}`;
export const runCopyPath = (runId: string): string => `${RUNS_DIR}/${runId}/${RUN_COPY_FILE}`;

/** The fields every store file starts with. */
export interface FileHeader {
  readonly format: typeof STORE_FORMAT;
  readonly kind: FileKind;
  readonly schemaVersion: number;
  readonly environment: StoreEnvironment;
  /** Set in the files of a run. */
  readonly runId?: string;
  /** Set in shard files. */
  readonly shard?: number;
}

/** A map that serializes as a JSON object; ids are never used as plain-object keys in memory. */
export class RecordMap<V> extends Map<string, V> {
  toJSON(): Record<string, V> {
    return Object.fromEntries(this);
  }
}

/**
 * A record kept in memory as the JSON text the store writes anyway: a large record held this way
 * costs a fraction of its object tree, and a write copies the text into the file as it is
 * ({@link stringifyStoreFile}). Read it with `JSON.parse(text)`, which also makes the fresh copy
 * handed to a caller.
 */
export class JsonText {
  readonly #text: string;

  constructor(text: string) {
    this.#text = text;
  }

  get text(): string {
    return this.#text;
  }

  /** For a plain `JSON.stringify` of the file (slower than {@link stringifyStoreFile}, same result). */
  toJSON(): unknown {
    return JSON.parse(this.text);
  }
}

/**
 * A record of a shard file taken on open with the run's compact open index
 * (`lowdb/snapshot-index.ts`): its bytes in the file as read, decoded only when its text is asked
 * for, and its payload's `index` entry decodable alone. The file's bytes are shared by its records.
 */
export class SlicedJsonText extends JsonText {
  constructor(
    private readonly bytes: Buffer,
    private readonly start: number,
    private readonly end: number,
    private readonly indexStart: number,
    private readonly indexEnd: number,
  ) {
    super('');
  }

  override get text(): string {
    return this.bytes.toString('utf8', this.start, this.end);
  }

  /** The text of the payload's `index` entry, or undefined when the record has none. */
  indexText(): string | undefined {
    return this.indexStart < 0 ? undefined : this.bytes.toString('utf8', this.indexStart, this.indexEnd);
  }
}

/** Whether some record is held as text (one native `JSON.stringify` of the file is faster otherwise). */
function holdsText(records: RecordMap<unknown>): boolean {
  for (const value of records.values()) if (value instanceof JsonText) return true;
  return false;
}

/**
 * The text of a store file: `JSON.stringify(data)`, except that records held as {@link JsonText}
 * are copied in as they are instead of being parsed and serialized again.
 */
export function stringifyStoreFile(data: unknown): string {
  const records = (data as { records?: unknown } | null)?.records;
  if (!(records instanceof RecordMap) || Object.keys(data as object).at(-1) !== 'records' || !holdsText(records))
    return JSON.stringify(data);
  const { records: _records, ...header } = data as Record<string, unknown>;
  const head = JSON.stringify(header);
  const entries: string[] = [];
  for (const [key, value] of records as RecordMap<unknown>)
    entries.push(`${JSON.stringify(key)}:${value instanceof JsonText ? value.text : JSON.stringify(value)}`);
  return `${head.length > 2 ? `${head.slice(0, -1)},` : '{'}"records":{${entries.join(',')}}}`;
}

/** A file holding one collection of records keyed by id. */
export interface RecordsFile<R> extends FileHeader {
  readonly records: RecordMap<R>;
}

/** `runs/<runId>/run.json`: the run's record as store.json holds it, written in the same commit. */
export interface RunCopyFile extends FileHeader {
  readonly run: TaskRunRecord | null;
}

/** `store.json`: the small, central file. */
export interface CoreFile extends FileHeader {
  /**
   * The store's own id, made once and kept: every HIT's RequesterAnnotation names it, so a cleanup
   * from another store can tell this store's HITs from its own. Absent in stores that never ran.
   */
  readonly storeId?: string;
  readonly requesters: RecordMap<RequesterRecord>;
  readonly runs: RecordMap<TaskRunRecord>;
  /** requesterName -> local name -> mapping. */
  readonly qualifications: RecordMap<RecordMap<QualificationMapping>>;
}

/** Builds a header in the key order files are written with. */
export function fileHeader(kind: FileKind, environment: StoreEnvironment, runId?: string, shard?: number): FileHeader {
  return {
    format: STORE_FORMAT,
    kind,
    schemaVersion: SCHEMA_VERSION,
    environment,
    ...(runId === undefined ? {} : { runId }),
    ...(shard === undefined ? {} : { shard }),
  };
}

/** What a store file holds and which run it belongs to, from its path relative to the store directory. */
export function describePath(relPath: string): { kind: FileKind; runId?: string } | null {
  const parts = relPath.split(/[\\/]/);
  if (parts.length === 1 && parts[0] === STORE_FILE) return { kind: 'store' };
  if (parts.length === 1 && parts[0] === WORKERS_FILE) return { kind: 'workers' };
  if (parts.length !== 3 || parts[0] !== RUNS_DIR) return null;
  const [, runId, name] = parts as [string, string, string];
  if (name === RUN_COPY_FILE) return { kind: 'run', runId };
  const shard = SHARD_FILE.exec(name);
  return shard === null || !isShardKind(shard[1]!) ? null : { kind: shard[1], runId };
}
