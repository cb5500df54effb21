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
import type { OpenReport, Store } from './store-api.js';
import { storeReconciler } from './shared-writes.js';
import { StoreBase } from './store-base.js';
import { StoreState } from './store-state.js';

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
      // Two stores of one environment may be open in one process: writers merge their commits.
      false,
    );
    const built = buildFromImage(state, image, options.where);
    // Several processes may write one environment (each owning its runs): the backend merges the
    // store-wide records others committed into this memory with the one rule of shared-writes.ts.
    if (!options.readOnly && 'reconcile' in options.backend) options.backend.reconcile = storeReconciler(state);
    const report: OpenReport = {
      migratedFrom: null,
      migrationBackup: null,
      tornAuditLines: [],
      removedTempFiles: [],
      orphanRunDirectories: [],
      backedUp: [],
      deferredShards: 0,
      filesHashed: 0,
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
    this.writeThrough(options, {
      commit: async (commit) => {
        await this.backend.commit(commit);
        return commitBytes(commit.changes, commit.audit);
      },
      files: (scopes) => scopes.map((scope) => (scope === '' ? 'store' : `runs/${scope}`)),
      failure: (error) =>
        new HitstateError(
          'HST_ERR_STORE_WRITE_FAILED',
          `a commit to ${state.root} failed: ${(error as Error)?.message ?? String(error)}. The changes stay in memory and are written again with the next write or flush().`,
          { file: state.root, cause: error },
        ),
    });
  }

  protected async closeNow(): Promise<void> {
    const s = this.#state;
    if (s.closed) return;
    if (!this.readOnly) await this.flushForClose();
    s.closed = true;
    try {
      await this.backend.close();
    } finally {
      s.releaseFiles();
      await this.#lock?.release();
    }
    this.emit('closed');
  }
}
