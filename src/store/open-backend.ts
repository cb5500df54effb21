/**
 * A {@link Store} on any {@link StoreBackend} that has no lowdb files (PostgreSQL): its memory is
 * built from `backend.load()` and every write goes through `backend.commit()`, one commit per
 * coalesced write, all or nothing. The collections, indexes and write coalescing are the lowdb
 * store's own (`StoreState`, `WriteScheduler`), so both backends behave alike above the contract.
 *
 * @module
 */
import type { Clock } from '../clock.js';
import { HitstateError } from '../errors.js';
import type { StoreBackend } from './backend.js';
import type { StoreEnvironment } from './environment.js';
import { nodeFileSystem } from './file-system.js';
import { buildFromImage, type ImageSource } from './image-state.js';
import type { LockInfo } from './lock.js';
import type { OpenReport, Store, StoreStats } from './store-api.js';
import type { FileStats } from './store-file.js';
import { StoreBase } from './store-base.js';
import { StoreState } from './store-state.js';
import { WriteScheduler } from './write-scheduler.js';

/** What {@link openBackendStore} needs besides the backend. */
export interface BackendStoreOptions {
  readonly backend: StoreBackend;
  /** The store as messages and `Store.dir` show it (never with a password); unique per backend and environment. */
  readonly where: ImageSource;
  readonly environment: StoreEnvironment;
  readonly clock: Clock;
  readonly coalesceMs: number;
  readonly maxDelayMs: number;
  readonly readOnly: boolean;
  /** The writer's lock (null for a read-only store); released by close(), after the backend. */
  readonly lock: { readonly info: LockInfo; release(): Promise<void> } | null;
  /** Read-only stores: who held the store when it was read. */
  readonly heldBy: LockInfo | null;
  /** `performance.now()` when opening began. */
  readonly started: number;
}

/**
 * Opens a store on `backend`: loads the image, checks and indexes every record.
 *
 * The backend and the lock are closed if opening fails, and owned by the store (closed by its
 * `close()`) once it succeeds.
 *
 * @throws HST_ERR_STORE_CORRUPT naming a record that cannot be used; the backend's load errors.
 */
export async function openBackendStore(options: BackendStoreOptions): Promise<Store> {
  let state: StoreState | undefined;
  try {
    const image = await options.backend.load();
    state = new StoreState(
      options.backend,
      options.where.describe,
      options.environment,
      options.clock,
      // Never used: this store has no files. StoreState keeps a file object per shard for the
      // collections' layout only; nothing reads or writes them.
      nodeFileSystem,
      options.readOnly,
    );
    const built = buildFromImage(state, image, options.where);
    const report: OpenReport = {
      migratedFrom: null,
      migrationBackup: null,
      tornAuditLines: [],
      removedTempFiles: [],
      orphanRunDirectories: [],
      backedUp: [],
      deferredShards: 0,
      journalNotes: [...image.notes, ...built.notes],
      staleLockRecovered: null,
      finishedFlush: null,
      heldBy: options.heldBy,
      durationMs: performance.now() - options.started,
    };
    return new BackendStore(state, report, options);
  } catch (err) {
    state?.releaseFiles();
    await options.backend.close().catch(() => undefined);
    await options.lock?.release().catch(() => undefined);
    throw err;
  }
}

/** UTF-8 bytes of a commit's JSON texts: what the backend was handed to keep. */
function commitBytes(changes: readonly { json: string | null; key: string }[], audit: readonly { json: string }[]) {
  let bytes = 0;
  for (const c of changes)
    bytes += Buffer.byteLength(c.key, 'utf8') + (c.json === null ? 0 : Buffer.byteLength(c.json, 'utf8'));
  for (const a of audit) bytes += Buffer.byteLength(a.json, 'utf8');
  return bytes;
}

class BackendStore extends StoreBase implements Store {
  readonly dir: string;
  readonly backend: StoreBackend;
  readonly #state: StoreState;
  readonly #lock: BackendStoreOptions['lock'];
  readonly #scheduler: WriteScheduler;
  #writes = 0;
  #failedWrites = 0;
  #bytesWritten = 0;
  #lastWriteMs = 0;
  #lastError: HitstateError | null = null;
  #closing: Promise<void> | null = null;

  constructor(
    state: StoreState,
    readonly openReport: OpenReport,
    options: BackendStoreOptions,
  ) {
    super(state);
    this.#state = state;
    this.#lock = options.lock;
    this.backend = options.backend;
    this.dir = state.root;
    this.#scheduler = new WriteScheduler({
      clock: state.clock,
      coalesceMs: options.coalesceMs,
      maxDelayMs: options.maxDelayMs,
      write: () => this.#write(),
    });
    state.onChange = state.readOnly ? () => state.assertWritable() : () => this.#scheduler.touch();
  }

  async flush(): Promise<void> {
    this.#state.assertOpen();
    if (this.readOnly) return;
    return this.#scheduler.flush();
  }

  async whenIdle(): Promise<void> {
    await this.#scheduler.whenIdle();
  }

  stats(): StoreStats {
    const files: Record<string, FileStats> = {};
    for (const log of this.#state.auditLogs()) files[log.relPath] = log.stats();
    return {
      writes: this.#writes,
      failedWrites: this.#failedWrites,
      bytesWritten: this.#bytesWritten,
      lastWriteMs: this.#lastWriteMs,
      pending: this.#scheduler.pending,
      lastError: this.#lastError,
      files,
      checkpoints: 0,
      checkpointBytes: 0,
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
    if (!this.readOnly) {
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
    }
    s.closed = true;
    try {
      await this.backend.close();
    } finally {
      s.releaseFiles();
      await this.#lock?.release();
    }
    this.emit('closed');
  }

  /**
   * Commits every changed record and every queued audit line as one commit, all or nothing. The
   * records are serialized at once, in this turn of the event loop, so the commit holds one state
   * of memory; a change made while it is on its way goes into the next one.
   */
  async #write(): Promise<void> {
    const s = this.#state;
    const started = performance.now();
    const dirty = s.dirty;
    const logs = s.auditLogs().filter((l) => l.hasPending);
    if (dirty.size === 0 && logs.length === 0) return;
    s.dirty = new Map();
    const taken = logs.map((l) => l.take());
    const changes = [...dirty.values()].map((a) => ({ ...a, json: s.recordJson(a) }));
    const audit = logs.flatMap((l, i) => taken[i]!.map((json) => ({ runId: l.runId, json })));
    try {
      await this.backend.commit({ changes, audit });
    } catch (error) {
      // Not committed (or, when the connection broke, not known to be): the records stay changed
      // and the lines queued, in order, for the next commit, which writes the same records again.
      for (const [key, address] of dirty) if (!s.dirty.has(key)) s.dirty.set(key, address);
      for (const [i, l] of logs.entries()) l.requeue(taken[i]!);
      this.#failedWrites++;
      this.#lastWriteMs = performance.now() - started;
      const err =
        error instanceof HitstateError && error.code !== 'HST_ERR_STORE_WRITE_FAILED'
          ? error
          : new HitstateError(
              'HST_ERR_STORE_WRITE_FAILED',
              `a commit to ${s.root} failed: ${(error as Error)?.message ?? String(error)}. The changes stay in memory and are written again with the next write or flush().`,
              { file: s.root, cause: error },
            );
      this.#lastError = err;
      this.#report(err);
      throw err;
    }
    const now = s.clock.now();
    for (const [i, l] of logs.entries()) l.committed(taken[i]!, now);
    const bytes = commitBytes(changes, audit);
    const durationMs = performance.now() - started;
    this.#bytesWritten += bytes;
    this.#lastWriteMs = durationMs;
    this.#writes++;
    const scopes = new Set([...changes.map((c) => c.runId ?? ''), ...audit.map((a) => a.runId ?? '')]);
    const files = [...scopes].map((scope) => (scope === '' ? 'store' : `runs/${scope}`));
    try {
      this.emit('written', { files, bytes, durationMs });
    } catch (listenerError) {
      // The data is committed; a listener's bug must not turn a good write into a failed one.
      process.emitWarning(
        `a store 'written' listener threw: ${(listenerError as Error).message}; the write itself succeeded`,
      );
    }
  }

  #report(error: HitstateError): void {
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
}
