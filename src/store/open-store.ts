/**
 * `openStore()`: the datastore hitstate keeps everything it must not lose in, on lowdb.
 *
 * @module
 */
import { join, resolve } from 'node:path';
import { EventEmitter } from 'eventemitter3';
import { type Clock, systemClock } from '../clock.js';
import { HitstateError } from '../errors.js';
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
import { environmentSlug, normalizeEnvironment, type StoreEnvironment } from './environment.js';
import { buildRunExport, type RunExport } from './export-run.js';
import { nodeFileSystem, type StoreFileSystem } from './file-system.js';
import { type LoadReport, loadStore } from './load.js';
import { acquireLock, type HeldLock, type LockInfo } from './lock.js';
import { LOCK_FILE } from './layout.js';
import { rotateBackups } from './backups.js';
import type { FileStats } from './store-file.js';
import { StoreState } from './store-state.js';
import { WriteScheduler } from './write-scheduler.js';

/** Options of {@link openStore}. */
export interface StoreOptions {
  /**
   * The directory holding one sub-directory per environment.
   * @defaultValue `$HITSTATE_STORE_DIR`, else `<cwd>/.hitstate`
   */
  readonly dir?: string;
  /** Which MTurk the data belongs to; each environment has its own files. */
  readonly environment: StoreEnvironment;
  /** @defaultValue systemClock */
  readonly clock?: Clock;
  /** A write happens after this long without a change. @defaultValue 50 */
  readonly coalesceMs?: number;
  /** ...and at the latest this long after the first change not yet written. @defaultValue 1000 */
  readonly maxDelayMs?: number;
  /** Rotating backups kept per file (`<file>.bak.1` is the newest). @defaultValue 3 */
  readonly backups?: number;
  /** The file operations; tests inject faults here. @defaultValue nodeFileSystem */
  readonly fileSystem?: StoreFileSystem;
}

/** What opening the store found and did, for the runtime to log. */
export interface OpenReport extends LoadReport {
  /** The lock of a dead process that was taken over, if any. */
  readonly staleLockRecovered: LockInfo | null;
  readonly durationMs: number;
}

/** One completed write of the store. */
export interface WriteReport {
  /** Paths (relative to the store directory) written or appended to. */
  readonly files: readonly string[];
  readonly bytes: number;
  readonly durationMs: number;
}

/** Counters since the store was opened. */
export interface StoreStats {
  /** Completed writes (each writes every file that changed). */
  readonly writes: number;
  readonly failedWrites: number;
  readonly bytesWritten: number;
  readonly lastWriteMs: number;
  /** True when some change is not on disk yet. */
  readonly pending: boolean;
  readonly lastError: HitstateError | null;
  /** Per file, keyed by path relative to the store directory. */
  readonly files: Readonly<Record<string, FileStats>>;
}

/** Events of a store (eventemitter3). */
export interface StoreEvents {
  written: [report: WriteReport];
  /** A write failed; the changes stay in memory and are written again. Without a listener the error becomes a process warning. */
  writeFailed: [error: HitstateError];
  closed: [];
}

/**
 * The datastore of one MTurk environment. Reads and mutations are synchronous on memory; writes
 * are coalesced and atomic; `flush()` resolves once everything changed so far is on disk.
 */
export interface Store extends Pick<EventEmitter<StoreEvents>, 'on' | 'once' | 'off'> {
  readonly environment: StoreEnvironment;
  /** The environment's directory, e.g. `<cwd>/.hitstate/sandbox`. */
  readonly dir: string;
  readonly openReport: OpenReport;
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
  /** Everything about a run as one JSON-safe object. @throws HST_ERR_RUN_NOT_FOUND */
  exportRun(runId: string): Promise<RunExport>;
  /** Writes every change made so far; resolves when it is on disk. @throws HST_ERR_STORE_WRITE_FAILED */
  flush(): Promise<void>;
  /** Resolves when no write is in progress, without starting one. */
  whenIdle(): Promise<void>;
  stats(): StoreStats;
  /**
   * Flushes, backs up the files written, and releases the lock. If the final write fails the
   * store stays open and the promise rejects: fix the disk and call close() again.
   * @throws HST_ERR_STORE_WRITE_FAILED
   */
  close(): Promise<void>;
}

function checkOption(value: number | undefined, fallback: number, field: string, min: number, max: number): number {
  const v = value ?? fallback;
  if (!Number.isFinite(v) || v < min || v > max) {
    throw new HitstateError('HST_ERR_CONFIG_INVALID', `store option ${field} must be a number from ${min} to ${max}, got ${JSON.stringify(value)}`, { field });
  }
  return v;
}

/**
 * Opens (or creates) the store of an environment, taking its lock.
 *
 * @example
 * ```ts
 * const store = await openStore({ environment: { kind: 'sandbox' } });
 * store.requesters.put({ name: 'lab', credentialSource: { kind: 'profile', profile: 'lab' } });
 * store.runs.create({ runId: 'pilot-1', requesterName: 'lab', config: { title: 'Label images' } });
 * await store.close();
 * ```
 * @throws HST_ERR_STORE_LOCKED (another live process holds it), HST_ERR_STORE_CORRUPT (a file is
 *   damaged; it is left untouched and its newest good backup named), HST_ERR_STORE_VERSION_NEWER,
 *   HST_ERR_STORE_MIGRATION_FAILED, HST_ERR_STORE_ENVIRONMENT_MISMATCH, HST_ERR_CONFIG_INVALID.
 */
export async function openStore(options: StoreOptions): Promise<Store> {
  const started = performance.now();
  const environment = normalizeEnvironment(options.environment);
  const coalesceMs = checkOption(options.coalesceMs, 50, 'coalesceMs', 0, 60_000);
  const maxDelayMs = checkOption(options.maxDelayMs, 1000, 'maxDelayMs', coalesceMs, 600_000);
  const backups = checkOption(options.backups, 3, 'backups', 0, 50);
  const clock = options.clock ?? systemClock;
  const fs = options.fileSystem ?? nodeFileSystem;
  const base = resolve(options.dir ?? process.env.HITSTATE_STORE_DIR ?? join(process.cwd(), '.hitstate'));
  const root = join(base, environmentSlug(environment));
  await fs.makeDirectory(root);
  const lock = await acquireLock(join(root, LOCK_FILE), clock.now());
  let state: StoreState | undefined;
  try {
    state = new StoreState(root, environment, clock, fs);
    const loaded = await loadStore(state, { backups });
    const report: OpenReport = { ...loaded, staleLockRecovered: lock.recovered, durationMs: performance.now() - started };
    return new LowdbStore(state, lock, report, { coalesceMs, maxDelayMs, backups });
  } catch (err) {
    state?.releaseFiles();
    await lock.release();
    throw err;
  }
}

class LowdbStore extends EventEmitter<StoreEvents> implements Store {
  readonly environment: StoreEnvironment;
  readonly dir: string;
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
  readonly #lock: HeldLock;
  readonly #scheduler: WriteScheduler;
  readonly #backups: number;
  #writes = 0;
  #failedWrites = 0;
  #bytesWritten = 0;
  #lastWriteMs = 0;
  #lastError: HitstateError | null = null;
  #closing: Promise<void> | null = null;

  constructor(
    state: StoreState,
    lock: HeldLock,
    readonly openReport: OpenReport,
    options: { coalesceMs: number; maxDelayMs: number; backups: number },
  ) {
    super();
    this.#state = state;
    this.#lock = lock;
    this.#backups = options.backups;
    this.environment = state.environment;
    this.dir = state.root;
    this.#scheduler = new WriteScheduler({ clock: state.clock, coalesceMs: options.coalesceMs, maxDelayMs: options.maxDelayMs, write: () => this.#write() });
    state.onChange = () => this.#scheduler.touch();
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

  async flush(): Promise<void> {
    this.#state.assertOpen();
    return this.#scheduler.flush();
  }

  whenIdle(): Promise<void> {
    return this.#scheduler.whenIdle();
  }

  async exportRun(runId: string): Promise<RunExport> {
    const s = this.#state;
    const run = this.runs.require(runId);
    return buildRunExport({
      environment: s.environment,
      now: s.clock.now(),
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

  stats(): StoreStats {
    const files: Record<string, FileStats> = {};
    for (const file of this.#state.files) files[file.relPath] = file.stats();
    for (const log of this.#state.auditLogs()) files[log.relPath] = log.stats();
    return {
      writes: this.#writes,
      failedWrites: this.#failedWrites,
      bytesWritten: this.#bytesWritten,
      lastWriteMs: this.#lastWriteMs,
      pending: this.#scheduler.pending,
      lastError: this.#lastError,
      files,
    };
  }

  close(): Promise<void> {
    this.#closing ??= this.#close().finally(() => {
      if (!this.#state.closed) this.#closing = null;
    });
    return this.#closing;
  }

  async #close(): Promise<void> {
    const s = this.#state;
    if (s.closed) return;
    await this.#scheduler.flush();
    // From here on no change can be made, so the last flush below is the final state.
    s.closed = true;
    this.#scheduler.stop();
    try {
      await this.#scheduler.flush();
    } catch (err) {
      s.closed = false;
      this.#scheduler.resume();
      throw err;
    }
    const written = s.files.filter((f) => f.stats().writes > 0);
    const results = await Promise.allSettled(written.map((f) => rotateBackups(s.fs, f.absPath, this.#backups)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed !== undefined) this.#warn(new HitstateError('HST_ERR_STORE_WRITE_FAILED', `taking the closing backups in ${s.root} failed: ${(failed.reason as Error).message}; the data itself is written`, { file: s.root, cause: failed.reason }));
    s.releaseFiles();
    await this.#lock.release();
    this.emit('closed');
  }

  /** Writes every dirty file (store.json first, so a run's files never exist without its record) and the queued audit lines. */
  async #write(): Promise<void> {
    const s = this.#state;
    const started = performance.now();
    const now = s.clock.now();
    const dirty = s.files.filter((f) => f.dirty);
    const logs = s.auditLogs().filter((l) => l.hasPending);
    const written: string[] = [];
    let bytes = 0;
    const failures: { file: string; error: unknown }[] = [];
    const attempt = async (path: string, write: () => Promise<number>) => {
      try {
        bytes += await write();
        written.push(path);
      } catch (error) {
        failures.push({ file: path, error });
      }
    };
    if (s.core.dirty) await attempt(s.core.relPath, () => s.core.write(now));
    const rest = dirty.filter((f) => f !== (s.core as unknown));
    if (failures.length === 0) {
      await Promise.all([...rest.map((f) => attempt(f.relPath, () => f.write(now))), ...logs.map((l) => attempt(l.relPath, () => l.writePending(now)))]);
    }
    const durationMs = performance.now() - started;
    this.#bytesWritten += bytes;
    this.#lastWriteMs = durationMs;
    if (failures.length > 0) {
      this.#failedWrites++;
      const { file, error } = failures[0]!;
      const more = failures.length > 1 ? ` (and ${failures.length - 1} more file(s))` : '';
      const err = new HitstateError('HST_ERR_STORE_WRITE_FAILED', `writing ${join(s.root, file)}${more} failed: ${(error as Error).message}. The changes stay in memory and are written again with the next write or flush().`, { file: join(s.root, file), cause: error });
      this.#lastError = err;
      this.#report(err);
      throw err;
    }
    this.#writes++;
    try {
      this.emit('written', { files: written, bytes, durationMs });
    } catch (listenerError) {
      // The data is on disk; a listener's bug must not turn a good write into a failed one.
      process.emitWarning(`a store 'written' listener threw: ${(listenerError as Error).message}; the write itself succeeded`);
    }
  }

  #report(error: HitstateError): void {
    if (this.listenerCount('writeFailed') === 0) return this.#warn(error);
    try {
      this.emit('writeFailed', error);
    } catch (listenerError) {
      process.emitWarning(`a store 'writeFailed' listener threw: ${(listenerError as Error).message}; the write failure was: ${error.message}`);
    }
  }

  #warn(error: HitstateError): void {
    process.emitWarning(error.message, { code: error.code });
  }
}
