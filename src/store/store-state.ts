/**
 * The store's memory: every file's data plus the indexes (Maps) rebuilt on open, shared by the
 * collections. Lookups by id go through a Map, never a scan.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import type { Clock } from '../clock.js';
import { HitstateError } from '../errors.js';
import { AuditLog } from './audit-log.js';
import type { StoreEnvironment } from './environment.js';
import type { StoreFileSystem } from './file-system.js';
import {
  AUDIT_FILE,
  type CoreFile,
  type FileHeader,
  fileHeader,
  JsonText,
  RecordMap,
  type RecordsFile,
  runAuditPath,
  type RunCopyFile,
  runCopyPath,
  SHARD_CAPACITY,
  type ShardKind,
  shardFilePath,
  STORE_FILE,
  WORKERS_FILE,
} from './layout.js';
import type { CollectionName, RecordAddress, StoreBackend } from './backend.js';
import type { SubmissionRecord } from './schema.js';
import { ShardSet } from './shard-set.js';
import { StoreFile } from './store-file.js';
import type { AgentRecord, HitRecord, IntentRecord, SnapshotRecord, UnitRecord, WorkerRecord } from './types.js';

/** Everything about one task run, and its indexes. */
export interface RunState {
  readonly id: string;
  readonly units: ShardSet<UnitRecord>;
  readonly agents: ShardSet<AgentRecord>;
  readonly hits: ShardSet<HitRecord>;
  /** Held as JSON text once written or read (see `collections/snapshots.ts`). */
  readonly snapshots: ShardSet<SnapshotRecord | JsonText>;
  readonly submissions: ShardSet<SubmissionRecord>;
  readonly outbox: ShardSet<IntentRecord>;
  /** `run.json`: the copy of the run's record, read on open (checkpoints rewrite it with store.json's record). */
  readonly copy: StoreFile<RunCopyFile>;
  readonly audit: AuditLog;
  /** status -> number of units; kept up to date on every change. */
  readonly unitCounts: Map<string, number>;
  /** Unbound HIT ids in creation order. */
  readonly unboundHits: Set<string>;
  readonly hitByUnit: Map<string, string>;
  readonly agentsByUnit: Map<string, string[]>;
  /** Tokens of intents that are not confirmed and not failed for good. */
  readonly openIntents: Set<string>;
  /**
   * Shards taken on open without being parsed (their checkpoint digest vouches for them), per
   * collection: each adopts its shard when the collection is first used (see {@link LAZY_KINDS}).
   */
  readonly deferred: Map<ShardKind, Array<() => void>>;
}

/**
 * Collections whose shards may be parsed when first used instead of on open: nothing the store
 * indexes on open lives in them (snapshots are read one record at a time, submissions one agent
 * at a time), and they are the bulk of a run's bytes. An outbox shard is deferred too when every
 * intent in it is settled (load.ts, `holdsOpenIntent`): what the open indexes of it is its
 * open intents, and it has none; its tokens are indexed when the outbox is first used
 * ({@link StoreState.intentRunOf}).
 */
export const LAZY_KINDS: ReadonlySet<ShardKind> = new Set<ShardKind>(['snapshots', 'submissions']);

type AnyFile = StoreFile<FileHeader>;

/** Shared by the collections of one open store. */
export class StoreState {
  readonly core: StoreFile<CoreFile>;
  readonly workers: StoreFile<RecordsFile<WorkerRecord>>;
  readonly audit: AuditLog;
  readonly runs = new Map<string, RunState>();
  readonly unitRun = new Map<string, RunState>();
  readonly agentRun = new Map<string, RunState>();
  readonly hitRun = new Map<string, RunState>();
  readonly intentRun = new Map<string, RunState>();
  /** `${assignmentId}\n${workerId}` -> agent id. */
  readonly agentByAssignment = new Map<string, string>();
  closed = false;
  /** Called on every change; set by the store to its scheduler. */
  onChange: () => void = () => undefined;
  /** Records changed since the last commit was cut, by `collection\nrunId\nkey`. */
  dirty = new Map<string, RecordAddress>();
  readonly #files: AnyFile[] = [];

  /**
   * @param readOnly - a read-only store: its files may be open for writing in this process too,
   *   and every change is refused ({@link StoreState.assertWritable}).
   * @param exclusiveFiles - refuse a second writer of these files in this process (false for a
   *   store on a database, whose files are never written and whose writers merge their commits).
   */
  constructor(
    readonly backend: StoreBackend,
    readonly root: string,
    readonly environment: StoreEnvironment,
    readonly clock: Clock,
    readonly fs: StoreFileSystem,
    readonly readOnly = false,
    private readonly exclusiveFiles = !readOnly,
  ) {
    this.core = this.#file<CoreFile>(STORE_FILE, {
      ...fileHeader('store', environment),
      requesters: new RecordMap(),
      runs: new RecordMap(),
      qualifications: new RecordMap(),
    });
    this.workers = this.#file(WORKERS_FILE, {
      ...fileHeader('workers', environment),
      records: new RecordMap<WorkerRecord>(),
    });
    this.audit = new AuditLog(null, AUDIT_FILE, backend);
  }

  #file<D extends FileHeader>(relPath: string, initial: D): StoreFile<D> {
    const file = new StoreFile<D>(this.root, relPath, this.fs, initial, this.exclusiveFiles);
    this.#files.push(file as unknown as AnyFile);
    return file;
  }

  #records<R>(relPath: string, kind: FileHeader['kind'], runId: string, shard?: number): StoreFile<RecordsFile<R>> {
    return this.#file<RecordsFile<R>>(relPath, {
      ...fileHeader(kind, this.environment, runId, shard),
      records: new RecordMap<R>(),
    });
  }

  /**
   * The run holding a money intent. An outbox whose settled shards are not parsed yet does not
   * know their tokens: a token not found makes every such outbox adopt them, then looks again.
   */
  intentRunOf(token: string): RunState | undefined {
    const known = this.intentRun.get(token);
    if (known !== undefined) return known;
    let adopted = false;
    for (const run of this.runs.values()) {
      if (!run.deferred.has('outbox')) continue;
      void run.outbox;
      adopted = true;
    }
    return adopted ? this.intentRun.get(token) : undefined;
  }

  /** Creates the (empty) state of a run; its files appear on disk at the first write that needs them. */
  addRun(runId: string): RunState {
    const shards = <R>(kind: ShardKind) =>
      new ShardSet<R>(
        (i) => this.shardFile<R>(runId, kind, i),
        SHARD_CAPACITY[kind],
        (key) => this.markRecord(kind, runId, key),
      );
    const deferred = new Map<ShardKind, Array<() => void>>();
    // A collection with deferred shards adopts them the first time anything uses it.
    const lazy = <R>(kind: ShardKind): (() => ShardSet<R>) => {
      const set = shards<R>(kind);
      return () => {
        const pending = deferred.get(kind);
        if (pending !== undefined) {
          deferred.delete(kind);
          for (const adopt of pending) adopt();
        }
        return set;
      };
    };
    const snapshots = lazy<SnapshotRecord | JsonText>('snapshots');
    const submissions = lazy<SubmissionRecord>('submissions');
    const outbox = lazy<IntentRecord>('outbox');
    const run: RunState = {
      id: runId,
      units: shards('units'),
      agents: shards('agents'),
      hits: shards('hits'),
      get snapshots() {
        return snapshots();
      },
      get submissions() {
        return submissions();
      },
      get outbox() {
        return outbox();
      },
      copy: this.#file<RunCopyFile>(runCopyPath(runId), { ...fileHeader('run', this.environment, runId), run: null }),
      audit: new AuditLog(runId, runAuditPath(runId), this.backend),
      unitCounts: new Map(),
      unboundHits: new Set(),
      hitByUnit: new Map(),
      agentsByUnit: new Map(),
      openIntents: new Set(),
      deferred,
    };
    this.runs.set(runId, run);
    return run;
  }

  /** Creates the object of one shard file (empty until read or written). */
  shardFile<R>(runId: string, kind: ShardKind, index: number): StoreFile<RecordsFile<R>> {
    return this.#records<R>(shardFilePath(runId, kind, index), kind, runId, index);
  }

  /** Every file object of the store, store.json first. */
  get files(): readonly AnyFile[] {
    return this.#files;
  }

  auditLogs(): AuditLog[] {
    return [this.audit, ...[...this.runs.values()].map((r) => r.audit)];
  }

  /** The store's id (see {@link CoreFile.storeId}), made the first time it is needed. */
  ensureStoreId(): string {
    const existing = this.core.data.storeId;
    if (existing !== undefined) return existing;
    const { requesters, runs, qualifications, ...header } = this.core.data;
    const storeId = `st-${randomBytes(6).toString('hex')}`;
    this.core.data = { ...header, storeId, requesters, runs, qualifications };
    this.changedRecord('meta', null, 'storeId');
    return storeId;
  }

  /** Marks one record changed (the next commit writes it); a ShardSet does this for its records. */
  markRecord(collection: CollectionName, runId: string | null, key: string): void {
    this.dirty.set(`${collection}\n${runId ?? ''}\n${key}`, { collection, runId, key });
  }

  /** Marks a store-wide record changed and tells the scheduler. */
  changedRecord(collection: CollectionName, runId: string | null, key: string): void {
    this.markRecord(collection, runId, key);
    this.onChange();
  }

  /** Tells the scheduler that records changed (the shard sets marked them). */
  changed(): void {
    this.onChange();
  }

  /** The committed form of a record as it is in memory now: its JSON text, or null when it is gone. */
  recordJson(a: RecordAddress): string | null {
    let value: unknown;
    switch (a.collection) {
      case 'meta':
        value = a.key === 'storeId' ? this.core.data.storeId : undefined;
        break;
      case 'requesters':
        value = this.core.data.requesters.get(a.key);
        break;
      case 'runs':
        value = this.core.data.runs.get(a.key);
        break;
      case 'qualifications': {
        const at = a.key.indexOf('/');
        value = this.core.data.qualifications.get(a.key.slice(0, at))?.get(a.key.slice(at + 1));
        break;
      }
      case 'workers':
        value = this.workers.data.records.get(a.key);
        break;
      default:
        value = (this.runs.get(a.runId!)?.[a.collection] as ShardSet<unknown> | undefined)?.get(a.key);
    }
    if (value === undefined) return null;
    return value instanceof JsonText ? value.text : JSON.stringify(value);
  }

  /** @throws HST_ERR_STORE_CLOSED after close(). */
  assertOpen(): void {
    if (this.closed)
      throw new HitstateError(
        'HST_ERR_STORE_CLOSED',
        `the store at ${this.root} is closed; open it again with openStore()`,
        { file: this.root },
      );
  }

  /**
   * Called first by every method that changes data, before anything changes.
   * @throws HST_ERR_STORE_CLOSED after close(), HST_ERR_STORE_READ_ONLY in a read-only store.
   */
  assertWritable(): void {
    this.assertOpen();
    if (this.readOnly)
      throw new HitstateError(
        'HST_ERR_STORE_READ_ONLY',
        `the store at ${this.root} was opened read-only (openStore({ readOnly: true })), so it cannot change; open it without readOnly (which takes its lock) to change it`,
        { file: this.root },
      );
  }

  /** Lets this process open the files again. */
  releaseFiles(): void {
    for (const file of this.#files) file.release();
  }

  /** @throws HST_ERR_RUN_NOT_FOUND */
  run(runId: string): RunState {
    const run = this.runs.get(runId);
    if (run === undefined)
      throw new HitstateError(
        'HST_ERR_RUN_NOT_FOUND',
        `no task run "${runId}" in the ${describe(this)} store at ${this.root}`,
        { runId },
      );
    return run;
  }

  /** @throws HST_ERR_UNIT_NOT_FOUND */
  unit(unitId: string): { run: RunState; unit: UnitRecord } {
    const run = this.unitRun.get(unitId);
    const unit = run?.units.get(unitId);
    if (run === undefined || unit === undefined)
      throw new HitstateError('HST_ERR_UNIT_NOT_FOUND', `no unit "${unitId}" in the ${describe(this)} store`, {
        unitId,
      });
    return { run, unit };
  }

  /** @throws HST_ERR_AGENT_NOT_FOUND */
  agent(agentId: string): { run: RunState; agent: AgentRecord } {
    const run = this.agentRun.get(agentId);
    const agent = run?.agents.get(agentId);
    if (run === undefined || agent === undefined)
      throw new HitstateError('HST_ERR_AGENT_NOT_FOUND', `no agent "${agentId}" in the ${describe(this)} store`, {
        agentId,
      });
    return { run, agent };
  }

  /** @throws HST_ERR_STORE_NOT_FOUND */
  hit(hitId: string): { run: RunState; hit: HitRecord } {
    const run = this.hitRun.get(hitId);
    const hit = run?.hits.get(hitId);
    if (run === undefined || hit === undefined)
      throw new HitstateError(
        'HST_ERR_STORE_NOT_FOUND',
        `no HIT "${hitId}" in the ${describe(this)} store (HIT ids of one environment are unknown to another)`,
        { hitId },
      );
    return { run, hit };
  }

  /** Keeps the per-status unit counts of a run right. */
  countUnit(run: RunState, from: string | null, to: string | null): void {
    if (from !== null) run.unitCounts.set(from, (run.unitCounts.get(from) ?? 1) - 1);
    if (to !== null) run.unitCounts.set(to, (run.unitCounts.get(to) ?? 0) + 1);
  }
}

const describe = (s: StoreState): string =>
  s.environment.kind === 'custom' ? `custom-endpoint (${s.environment.endpoint})` : s.environment.kind;

export const assignmentKey = (assignmentId: string, workerId: string): string => `${assignmentId}\n${workerId}`;
