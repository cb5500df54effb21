/**
 * `openStore()`: the datastore hitstate keeps everything it must not lose in, on lowdb files or
 * in a PostgreSQL database (`dir` or `url` a `postgres://` URL, or `HITSTATE_DATABASE_URL`).
 *
 * @module
 */
import { basename, dirname, join, resolve } from 'node:path';
import { type Clock, systemClock } from '../clock.js';
import { HitstateError } from '../errors.js';
import { environmentSlug, normalizeEnvironment, type StoreEnvironment } from './environment.js';
import { nodeFileSystem, type StoreFileSystem } from './file-system.js';
import { retireCommitRecord } from './legacy-commit.js';
import {
  CHECKPOINT_FILE,
  JOURNAL_FILE,
  LowdbBackend,
  SEGMENT_FILE,
  type ScopeJournal,
  scopeDir,
} from './lowdb/backend.js';
import { loadStore } from './load.js';
import { liveWriters, type LockInfo, readLockHolder, registerWriter, type WriterPresence } from './lock.js';
import { storeReconciler } from './shared-writes.js';
import type { CollectionName } from './backend.js';
import { databaseOf } from './location.js';
import { LOCK_FILE, stringifyStoreFile } from './layout.js';
import { rotateBackups } from './backups.js';
import type { StoreBackend } from './backend.js';
import type { OpenReport, Store, StoreOptions, StoreStats } from './store-api.js';
import { StoreBase } from './store-base.js';
import { StoreState } from './store-state.js';

// Other parts import the store's types from here.
export type { OpenReport, Store, StoreEvents, StoreOptions, StoreStats, WriteReport } from './store-api.js';

function checkOption(value: number | undefined, fallback: number, field: string, min: number, max: number): number {
  const v = value ?? fallback;
  if (!Number.isFinite(v) || v < min || v > max) {
    throw new HitstateError(
      'HST_ERR_CONFIG_INVALID',
      `store option ${field} must be a number from ${min} to ${max}, got ${JSON.stringify(value)}`,
      { field },
    );
  }
  return v;
}

/**
 * Opens (or creates) the store of an environment, taking its lock.
 *
 * Opens (or creates) the store of an environment, taking its lock; a crash in the middle of the
 * last write is finished (committed) or undone (not committed) first. With `readOnly: true`, reads
 * the last committed state instead, without the lock, while another process may be writing.
 *
 * @example
 * ```ts
 * const store = await openStore({ environment: { kind: 'sandbox' } });
 * store.requesters.put({ name: 'lab', credentialSource: { kind: 'profile', profile: 'lab' } });
 * store.runs.create({ runId: 'pilot-1', requesterName: 'lab', config: { title: 'Label images' } });
 * await store.close();
 *
 * // In another process, while the first one holds the store:
 * const look = await openStore({ environment: { kind: 'sandbox' }, readOnly: true });
 * console.log(look.runs.list(), look.openReport.heldBy?.pid);
 * await look.close();
 * ```
 * @throws HST_ERR_STORE_LOCKED (another live process holds it; read-only: its writer committed
 *   during every attempt to read), HST_ERR_STORE_CORRUPT (a file is damaged; it is left untouched
 *   and its newest good backup named), HST_ERR_STORE_VERSION_NEWER, HST_ERR_STORE_MIGRATION_FAILED,
 *   HST_ERR_STORE_ENVIRONMENT_MISMATCH, HST_ERR_CONFIG_INVALID, HST_ERR_STORE_NOT_FOUND (read-only:
 *   the environment's directory does not exist).
 */
export async function openStore(options: StoreOptions): Promise<Store> {
  const started = performance.now();
  const environment = normalizeEnvironment(options.environment);
  const coalesceMs = checkOption(options.coalesceMs, 50, 'coalesceMs', 0, 60_000);
  const maxDelayMs = checkOption(options.maxDelayMs, 1000, 'maxDelayMs', coalesceMs, 600_000);
  const backups = checkOption(options.backups, 3, 'backups', 0, 50);
  const clock = options.clock ?? systemClock;
  const database = databaseOf(options);
  if (database !== null) {
    // Loaded only for a database store, so a lowdb store never loads pg.
    const { openPostgresStore } = await import('./postgres/open-store.js');
    return openPostgresStore({
      ...database,
      environment,
      clock,
      coalesceMs,
      maxDelayMs,
      readOnly: options.readOnly === true,
      started,
    });
  }
  const fs = options.fileSystem ?? nodeFileSystem;
  const base = resolve(options.dir ?? process.env.HITSTATE_STORE_DIR ?? join(process.cwd(), '.hitstate'));
  const root = join(base, environmentSlug(environment));
  const settings = { coalesceMs, maxDelayMs, backups };
  if (options.readOnly === true) return openReadOnly(root, environment, clock, fs, settings, started);
  await fs.makeDirectory(root);
  let state: StoreState | undefined;
  const backend = new LowdbBackend({
    root,
    environment,
    fs,
    now: () => clock.now(),
    ...(options.checkpointBytes === undefined ? {} : { checkpointBytes: options.checkpointBytes }),
    ...(options.checkpointShare === undefined
      ? {}
      : { checkpointShare: checkOption(options.checkpointShare, 0, 'checkpointShare', 0, 1) }),
  });
  try {
    // Several processes may write the store at once (each owning its runs): the open reads the
    // store-wide scope holding the commit lock, so no other writer appends or folds it meanwhile.
    return await backend.withStoreLock(async () => {
      const recovered = backend.recoveredStoreLock;
      // A store last written by hitstate before the journal may hold a write to finish first.
      const finishedFlush = await retireCommitRecord(fs, root);
      const live = new Set((await backend.liveHolders()).keys());
      const journals = await backend.readJournals();
      state = new StoreState(backend, root, environment, clock, fs);
      const loaded = await loadStore(state, { backups, journals, liveRuns: live });
      await backend.startSync(storeRecords(state));
      backend.reconcile = storeReconciler(state);
      const report: OpenReport = {
        ...loaded,
        staleLockRecovered: recovered,
        finishedFlush,
        heldBy: null,
        durationMs: performance.now() - started,
      };
      const presence = await registerWriter(root, clock.now());
      return new LowdbStore(state, report, { ...settings, backend, presence });
    });
  } catch (err) {
    state?.releaseFiles();
    throw err;
  }
}

/** Every store-wide record in memory, as the text the store commits. */
function* storeRecords(state: StoreState): Generator<readonly [CollectionName, string, string]> {
  const record = function* (collection: CollectionName, keys: Iterable<string>) {
    for (const key of keys) {
      const json = state.recordJson({ collection, runId: null, key });
      if (json !== null) yield [collection, key, json] as const;
    }
  };
  yield* record('meta', ['storeId']);
  yield* record('requesters', state.core.data.requesters.keys());
  yield* record('runs', state.core.data.runs.keys());
  for (const [requester, byName] of state.core.data.qualifications)
    yield* record(
      'qualifications',
      [...byName.keys()].map((name) => `${requester}/${name}`),
    );
  yield* record('workers', state.workers.data.records.keys());
}

/** A live process writing the store (an open writer, the owner of one of its runs, or the holder of its commit lock). */
async function liveWriter(root: string, backend: LowdbBackend): Promise<LockInfo | null> {
  const [writer] = await liveWriters(root, false);
  if (writer !== undefined) return writer;
  for (const holder of (await backend.liveHolders()).values())
    return { pid: holder.pid, hostname: holder.hostname, startedAt: new Date(holder.expiresAt).toISOString() };
  return readLockHolder(join(root, LOCK_FILE));
}

/** What a read-only open compares before and after reading: the journals and marks of every scope. */
async function journalSignature(fs: StoreFileSystem, backend: LowdbBackend): Promise<string> {
  const parts: string[] = [];
  for (const scope of ['', ...(await backend.runScopes())]) {
    const dir = scopeDir(backend.root, scope);
    const names = (await fs.listDirectory(dir)).filter(
      (n) => SEGMENT_FILE.test(n) || n === JOURNAL_FILE || n === CHECKPOINT_FILE,
    );
    for (const name of names.sort()) parts.push(`${scope}/${name}@${(await fs.statFile(join(dir, name)))?.id ?? '-'}`);
  }
  return parts.join('\n');
}

/** Reads of a file return `data` once set (a read-only open migrating an old store in memory). */
function overlay(fs: StoreFileSystem): { fs: StoreFileSystem; replace: (path: string, data: unknown) => void } {
  const replaced = new Map<string, Buffer>();
  return {
    fs: {
      ...fs,
      readFile: async (path) => replaced.get(path) ?? fs.readFile(path),
      async listDirectory(dir) {
        const names = new Set(await fs.listDirectory(dir));
        for (const path of replaced.keys()) if (dirname(path) === dir) names.add(basename(path));
        return [...names];
      },
    },
    replace: (path, data) => replaced.set(path, Buffer.from(stringifyStoreFile(data), 'utf8')),
  };
}

async function openReadOnly(
  root: string,
  environment: StoreEnvironment,
  clock: Clock,
  fs: StoreFileSystem,
  settings: StoreSettings,
  started: number,
): Promise<Store> {
  if ((await fs.statFile(root)) === null) {
    throw new HitstateError(
      'HST_ERR_STORE_NOT_FOUND',
      `there is no ${environmentSlug(environment)} store at ${root}; a read-only open never creates one`,
      { file: root },
    );
  }
  const heldBy = await liveWriter(root, new LowdbBackend({ root, environment, fs, now: () => clock.now() }));
  // A writer may fold a journal into the files while this reads them: read the journals first,
  // then the files, and start again if any journal was sealed or folded meanwhile.
  for (let attempt = 0; attempt < 25; attempt++) {
    const view = overlay(fs);
    const backend = new LowdbBackend({ root, environment, fs: view.fs, now: () => clock.now() });
    const before = await journalSignature(fs, backend);
    const journals: Map<string, ScopeJournal> = await backend.readJournals();
    const state = new StoreState(backend, root, environment, clock, view.fs, true);
    let loaded: Awaited<ReturnType<typeof loadStore>>;
    try {
      loaded = await loadStore(state, { backups: settings.backups, journals, replace: view.replace });
    } catch (err) {
      if ((await journalSignature(fs, backend)) !== before) continue;
      throw err;
    }
    if ((await journalSignature(fs, backend)) !== before) continue;
    const report: OpenReport = {
      ...loaded,
      staleLockRecovered: null,
      finishedFlush: null,
      heldBy,
      durationMs: performance.now() - started,
    };
    return new LowdbStore(state, report, { ...settings, backend });
  }
  throw new HitstateError(
    'HST_ERR_STORE_LOCKED',
    `the store at ${root} was checkpointed by its writer during each of 25 attempts to read it; try again in a moment`,
    { file: root },
  );
}

interface StoreSettings {
  readonly coalesceMs: number;
  readonly maxDelayMs: number;
  readonly backups: number;
}

class LowdbStore extends StoreBase implements Store {
  readonly dir: string;
  readonly #state: StoreState;
  /** A writer's record that it writes the store (null: read-only). */
  readonly #presence: WriterPresence | null;
  readonly #backend: LowdbBackend;

  get backend(): StoreBackend {
    return this.#backend;
  }
  readonly #backups: number;

  constructor(
    state: StoreState,
    readonly openReport: OpenReport,
    options: StoreSettings & { backend: LowdbBackend; presence?: WriterPresence },
  ) {
    super(state);
    this.#state = state;
    this.#backend = options.backend;
    this.#presence = options.presence ?? null;
    this.#backups = options.backups;
    this.dir = state.root;
    this.writeThrough(options, {
      commit: async (commit) => {
        const before = this.#backend.counters.journalBytes;
        await this.#backend.commit(commit);
        return this.#backend.counters.journalBytes - before;
      },
      files: (scopes) => scopes.map((scope) => (scope === '' ? 'journal.jsonl' : `runs/${scope}/journal.jsonl`)),
      failure: (error) => {
        const file = (error as NodeJS.ErrnoException)?.path ?? join(state.root, 'journal.jsonl');
        return new HitstateError(
          'HST_ERR_STORE_WRITE_FAILED',
          `writing ${file} failed: ${(error as Error)?.message ?? String(error)}. Nothing of this commit counts (a part that reached a journal is cancelled before the next commit); the changes stay in memory and are written again with the next write or flush().`,
          { file, cause: error },
        );
      },
    });
  }

  override async whenIdle(): Promise<void> {
    await super.whenIdle();
    // Background checkpoints are writes too.
    await this.#backend.whenCheckpointed().catch(() => undefined);
  }

  protected override checkpointCounters(): Pick<StoreStats, 'checkpoints' | 'checkpointBytes'> {
    const { checkpoints, checkpointBytes } = this.#backend.counters;
    return { checkpoints, checkpointBytes };
  }

  protected async closeNow(): Promise<void> {
    const s = this.#state;
    if (s.closed) return;
    if (s.readOnly) {
      s.closed = true;
      this.emit('closed');
      return;
    }
    await this.flushForClose();
    // A closed store is all in its files: fold every journal, then back up what that wrote.
    try {
      await this.#backend.checkpointAll();
      await this.#backend.close();
    } catch (err) {
      s.closed = false;
      this.scheduler.resume();
      throw new HitstateError(
        'HST_ERR_STORE_WRITE_FAILED',
        `folding the journal into the files of ${s.root} on close failed: ${(err as Error).message}. Every commit is safe in the journal; the store stays open, call close() again (or the next open reads the journal).`,
        { file: s.root, cause: err },
      );
    }
    let failed: { reason: unknown } | undefined;
    for (const file of [...this.#backend.writtenFiles].sort())
      await rotateBackups(s.fs, file, this.#backups).catch((reason: unknown) => {
        failed ??= { reason };
      });
    if (failed !== undefined)
      this.#warn(
        new HitstateError(
          'HST_ERR_STORE_WRITE_FAILED',
          `taking the closing backups in ${s.root} failed: ${(failed.reason as Error).message}; the data itself is written`,
          { file: s.root, cause: failed.reason },
        ),
      );
    s.releaseFiles();
    await this.#presence?.remove();
    this.emit('closed');
  }

  #warn(error: HitstateError): void {
    process.emitWarning(error.message, { code: error.code });
  }
}
