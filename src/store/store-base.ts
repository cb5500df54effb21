/**
 * What every {@link Store} shares whatever its backend: the collections over one in-memory
 * {@link StoreState}, writing through a {@link WriteScheduler} (flush, stats, one close at a time),
 * the store's id and a run's export. The lowdb store (`open-store.ts`) and the store on any other
 * backend (`open-backend.ts`) differ only in how they commit and close.
 *
 * @module
 */
import { EventEmitter } from 'eventemitter3';
import { HitstateError } from '../errors.js';
import type { Commit } from './backend.js';
import { type AgentsCollection, agentsCollection } from './collections/agents.js';
import { type AuditTrail, auditTrail } from './collections/audit.js';
import { type HitPool, hitPool } from './collections/hits.js';
import { type OutboxCollection, outboxCollection } from './collections/outbox.js';
import { type QualificationsCollection, qualificationsCollection } from './collections/qualifications.js';
import { type RequestersCollection, requestersCollection } from './collections/requesters.js';
import { type RunsCollection, runsCollection } from './collections/runs.js';
import { type SnapshotsCollection, snapshotsCollection } from './collections/snapshots.js';
import { type UnitsCollection, unitsCollection } from './collections/units.js';
import { type WorkersCollection, workersCollection } from './collections/workers.js';
import type { StoreEnvironment } from './environment.js';
import { buildRunExport, type RunExport } from './export-run.js';
import type { StoreEvents, StoreStats } from './store-api.js';
import type { FileStats } from './store-file.js';
import type { StoreState } from './store-state.js';
import { WriteScheduler, type WriteSchedulerOptions } from './write-scheduler.js';

/** How a store names what {@link StoreBase.commitPending} wrote, or failed to. */
export interface CommitReporting {
  /** Makes the commit durable; resolves with the bytes it wrote. */
  commit(commit: Commit): Promise<number>;
  /** What `written` names for the scopes written (`''` is the store-wide scope, else a run id). */
  files(scopes: readonly string[]): string[];
  /** The error reported for a failed commit that is not already a HitstateError of its own. */
  failure(error: unknown): HitstateError;
}

export abstract class StoreBase extends EventEmitter<StoreEvents> {
  readonly environment: StoreEnvironment;
  readonly readOnly: boolean;
  readonly requesters: RequestersCollection;
  readonly runs: RunsCollection;
  readonly units: UnitsCollection;
  readonly hits: HitPool;
  readonly agents: AgentsCollection;
  readonly workers: WorkersCollection;
  readonly qualifications: QualificationsCollection;
  readonly outbox: OutboxCollection;
  readonly snapshots: SnapshotsCollection;
  readonly audit: AuditTrail;
  readonly #state: StoreState;
  #writes = 0;
  #failedWrites = 0;
  #bytesWritten = 0;
  #lastWriteMs = 0;
  #lastError: HitstateError | null = null;
  #scheduler: WriteScheduler | null = null;
  #closing: Promise<void> | null = null;

  protected constructor(state: StoreState) {
    super();
    this.#state = state;
    this.environment = state.environment;
    this.readOnly = state.readOnly;
    const flush = () => this.flush();
    this.requesters = requestersCollection(state);
    this.runs = runsCollection(state);
    this.units = unitsCollection(state);
    this.hits = hitPool(state);
    this.workers = workersCollection(state);
    this.agents = agentsCollection(state, this.workers);
    this.qualifications = qualificationsCollection(state);
    this.outbox = outboxCollection(state, flush);
    this.snapshots = snapshotsCollection(state);
    this.audit = auditTrail(state, flush);
  }

  /**
   * Writes through a scheduler from now on (called once, by the constructor of the store): every
   * change of the state touches it, and each write it starts is {@link commitPending} reported
   * as `how` says; a read-only store refuses changes instead.
   */
  protected writeThrough(timing: Pick<WriteSchedulerOptions, 'coalesceMs' | 'maxDelayMs'>, how: CommitReporting): void {
    const scheduler = new WriteScheduler({
      clock: this.#state.clock,
      coalesceMs: timing.coalesceMs,
      maxDelayMs: timing.maxDelayMs,
      write: () => this.commitPending(how),
    });
    this.#scheduler = scheduler;
    const s = this.#state;
    // Every method that changes data refuses first in a read-only store; this catches one that would not.
    s.onChange = s.readOnly ? () => s.assertWritable() : () => scheduler.touch();
  }

  /** The scheduler given to {@link writeThrough}. */
  protected get scheduler(): WriteScheduler {
    if (this.#scheduler === null) throw new Error('the store was built without writeThrough(scheduler)');
    return this.#scheduler;
  }

  async flush(): Promise<void> {
    this.#state.assertOpen();
    if (this.readOnly) return;
    return this.scheduler.flush();
  }

  async whenIdle(): Promise<void> {
    await this.scheduler.whenIdle();
  }

  stats(): StoreStats {
    const files: Record<string, FileStats> = {};
    for (const log of this.#state.auditLogs()) files[log.relPath] = log.stats();
    return {
      ...this.writeStats(),
      pending: this.scheduler.pending,
      files,
      ...this.checkpointCounters(),
    };
  }

  /** Checkpoints done and the bytes they wrote; none for a backend that has no checkpoints. */
  protected checkpointCounters(): Pick<StoreStats, 'checkpoints' | 'checkpointBytes'> {
    return { checkpoints: 0, checkpointBytes: 0 };
  }

  /** Closes the store once: a call while a close is under way gets that close; one that failed may be tried again. */
  close(): Promise<void> {
    this.#closing ??= this.closeNow().finally(() => {
      if (!this.#state.closed) this.#closing = null;
    });
    return this.#closing;
  }

  /** What closing does on this backend (see {@link close}). */
  protected abstract closeNow(): Promise<void>;

  /** The write counters {@link Store.stats} reports. */
  protected writeStats(): Pick<StoreStats, 'writes' | 'failedWrites' | 'bytesWritten' | 'lastWriteMs' | 'lastError'> {
    return {
      writes: this.#writes,
      failedWrites: this.#failedWrites,
      bytesWritten: this.#bytesWritten,
      lastWriteMs: this.#lastWriteMs,
      lastError: this.#lastError,
    };
  }

  /**
   * Commits every changed record and every queued audit line as one commit, all or nothing, through
   * the backend's `commit`. The records are serialized at once, in this turn of the event loop, so
   * the commit holds one state of memory; a change made while it is on its way goes into the next.
   * On failure nothing of it counts: the records stay changed and the lines queued, in order, for
   * the next commit, and the failure is reported (`writeFailed`, else a process warning) and thrown.
   */
  protected async commitPending(how: CommitReporting): Promise<void> {
    const s = this.#state;
    const started = performance.now();
    const dirty = s.dirty;
    const logs = s.auditLogs().filter((l) => l.hasPending);
    if (dirty.size === 0 && logs.length === 0) return;
    s.dirty = new Map();
    const taken = logs.map((l) => l.take());
    const changes = [...dirty.values()].map((a) => ({ ...a, json: s.recordJson(a) }));
    const audit = logs.flatMap((l, i) => taken[i]!.map((json) => ({ runId: l.runId, json })));
    let bytes: number;
    try {
      bytes = await how.commit({ changes, audit });
    } catch (error) {
      for (const [key, address] of dirty) if (!s.dirty.has(key)) s.dirty.set(key, address);
      for (const [i, l] of logs.entries()) l.requeue(taken[i]!);
      this.#failedWrites++;
      this.#lastWriteMs = performance.now() - started;
      const err =
        error instanceof HitstateError && error.code !== 'HST_ERR_STORE_WRITE_FAILED' ? error : how.failure(error);
      this.#lastError = err;
      this.reportWriteFailure(err);
      throw err;
    }
    const now = s.clock.now();
    for (const [i, l] of logs.entries()) l.committed(taken[i]!, now);
    const durationMs = performance.now() - started;
    this.#bytesWritten += bytes;
    this.#lastWriteMs = durationMs;
    this.#writes++;
    const scopes = new Set([...changes.map((c) => c.runId ?? ''), ...audit.map((a) => a.runId ?? '')]);
    try {
      this.emit('written', { files: how.files([...scopes]), bytes, durationMs });
    } catch (listenerError) {
      // The data is committed; a listener's bug must not turn a good write into a failed one.
      process.emitWarning(
        `a store 'written' listener threw: ${(listenerError as Error).message}; the write itself succeeded`,
      );
    }
  }

  /**
   * The writes of a closing store: everything pending, then (no change can be made any more) the
   * last one. On failure the store stays open and writable, and the error is thrown.
   */
  protected async flushForClose(): Promise<void> {
    const s = this.#state;
    const scheduler = this.scheduler;
    await scheduler.flush();
    s.closed = true;
    scheduler.stop();
    try {
      await scheduler.flush();
    } catch (err) {
      s.closed = false;
      scheduler.resume();
      throw err;
    }
  }

  /** Hands a write failure to the `writeFailed` listeners, or warns when there is none. */
  protected reportWriteFailure(error: HitstateError): void {
    if (this.listenerCount('writeFailed') === 0) {
      process.emitWarning(error.message, { code: error.code });
      return;
    }
    try {
      this.emit('writeFailed', error);
    } catch (listenerError) {
      process.emitWarning(
        `a store 'writeFailed' listener threw: ${(listenerError as Error).message}; the write failure was: ${error.message}`,
      );
    }
  }

  get storeId(): string | null {
    return this.#state.core.data.storeId ?? null;
  }

  ensureStoreId(): string {
    const existing = this.#state.core.data.storeId;
    if (existing !== undefined) return existing;
    this.#state.assertWritable();
    return this.#state.ensureStoreId();
  }

  async exportRun(runId: string): Promise<RunExport> {
    const run = this.runs.require(runId);
    return buildRunExport({
      environment: this.#state.environment,
      now: this.#state.clock.now(),
      run,
      requester: this.requesters.get(run.requesterName),
      qualifications: this.qualifications.ofRequester(run.requesterName),
      hits: this.hits.ofRun(runId),
      units: this.units.ofRun(runId),
      agents: this.agents.ofRun(runId),
      submissionOf: (agentId) => this.agents.submission(agentId),
      workers: this.workers.ofRun(runId),
      outbox: this.outbox.ofRun(runId),
      snapshots: this.snapshots.ofRun(runId),
      audit: this.audit.entries({ runId }),
    });
  }
}
