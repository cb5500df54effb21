/**
 * The public shape of a store: {@link Store}, the options of `openStore` and what it reports.
 *
 * @module
 */
import type { EventEmitter } from 'eventemitter3';
import type { Clock } from '../clock.js';
import type { HitstateError } from '../errors.js';
import type { AgentsCollection } from './collections/agents.js';
import type { AuditTrail } from './collections/audit.js';
import type { HitPool } from './collections/hits.js';
import type { OutboxCollection } from './collections/outbox.js';
import type { QualificationsCollection } from './collections/qualifications.js';
import type { RequestersCollection } from './collections/requesters.js';
import type { RunsCollection } from './collections/runs.js';
import type { SnapshotsCollection } from './collections/snapshots.js';
import type { UnitsCollection } from './collections/units.js';
import type { WorkersCollection } from './collections/workers.js';
import type { StoreBackend } from './backend.js';
import type { StoreEnvironment } from './environment.js';
import type { RunExport } from './export-run.js';
import type { StoreFileSystem } from './file-system.js';
import type { LoadReport } from './load.js';
import type { LockInfo } from './lock.js';
import type { FileStats } from './store-file.js';

/** Options of {@link openStore}. */
export interface StoreOptions {
  /**
   * The directory holding one sub-directory per environment, or a PostgreSQL URL
   * (`postgres://USER:PASSWORD@HOST:5432/DATABASE`, optionally `?schema=NAME`) to keep the store
   * in that database (docs/postgres.md).
   * @defaultValue `$HITSTATE_STORE_DIR`, else `$HITSTATE_DATABASE_URL`, else `<cwd>/.hitstate`
   */
  readonly dir?: string;
  /**
   * The PostgreSQL database holding the store (the same as a `postgres://` `dir`); give `dir`
   * or `url`, not both.
   */
  readonly url?: string;
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
  /**
   * Opens the store's last committed state without its lock, for a look at a store another
   * process may be writing (`hitstate status` during a run): no lock taken, nothing written,
   * repaired, migrated on disk or backed up, and every method that changes data throws
   * `HST_ERR_STORE_READ_ONLY`. The data is what was committed when the store was opened; open
   * again for newer data.
   * @defaultValue false
   */
  readonly readOnly?: boolean;
  /**
   * A scope's journal is sealed and folded into its lowdb files (a checkpoint, in the background)
   * once it passes this many bytes. @defaultValue 4 MiB
   */
  readonly checkpointBytes?: number;
  /**
   * A run's journal is folded only once it also passes this share of the run's lowdb files, so
   * that a fold (which rewrites every shard holding a changed record) costs a bounded multiple of
   * the journal it folds at any run size. @defaultValue 1/16 with the default `checkpointBytes`,
   * 0 (no share) when `checkpointBytes` is given
   */
  readonly checkpointShare?: number;
}

/** What opening the store found and did, for the runtime to log. */
export interface OpenReport extends LoadReport {
  /** The lock of a dead process that was taken over, if any. */
  readonly staleLockRecovered: LockInfo | null;
  /**
   * Stores last written by hitstate before the journal: a write that had committed (in its
   * `commit.json`) when the process writing it died, but whose files were not all in place:
   * opening finished it, as that release did, before switching the store to the journal. Null
   * otherwise.
   */
  readonly finishedFlush: { readonly flush: number; readonly files: readonly string[] } | null;
  /** Read-only stores only: the live process holding the store's lock when it was read (its writer), else null. */
  readonly heldBy: LockInfo | null;
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
  /** Completed commits (each one journal append per scope it touches). */
  readonly writes: number;
  readonly failedWrites: number;
  /** Bytes appended to the journals by commits. */
  readonly bytesWritten: number;
  readonly lastWriteMs: number;
  /** True when some change is not on disk yet. */
  readonly pending: boolean;
  readonly lastError: HitstateError | null;
  /** Per audit trail (`audit.jsonl`, `runs/<id>/audit.jsonl`): lines committed, keyed by path relative to the store directory. */
  readonly files: Readonly<Record<string, FileStats>>;
  /** Checkpoints done (journals folded into the lowdb files) and the bytes they wrote. */
  readonly checkpoints: number;
  readonly checkpointBytes: number;
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
  /** Opened with `readOnly: true`: reads only, no lock held. */
  readonly readOnly: boolean;
  /**
   * The environment's directory, e.g. `<cwd>/.hitstate/sandbox`; on PostgreSQL the database and
   * environment, e.g. `postgres://lab:***@db:5432/hitstate (schema hitstate, sandbox)` (never the password).
   */
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
  /**
   * The durable side (docs/datastore.md): read-only stores use it too, to post requests to the
   * process that owns a run (`hitstate review` while the run is live elsewhere).
   */
  readonly backend: StoreBackend;
  /** Everything about a run as one JSON-safe object. @throws HST_ERR_RUN_NOT_FOUND */
  exportRun(runId: string): Promise<RunExport>;
  /**
   * The store's id, named by every HIT's RequesterAnnotation (so a cleanup can tell whose HITs
   * are whose); null while the store has never needed one.
   */
  readonly storeId: string | null;
  /**
   * The store's id, made (and written with the next write) if it has none yet.
   * @throws HST_ERR_STORE_READ_ONLY in a read-only store without an id.
   */
  ensureStoreId(): string;
  /**
   * Writes every change made so far, all of it or nothing; resolves when it is on disk (a read-only
   * store has nothing to write and resolves at once).
   * @throws HST_ERR_STORE_WRITE_FAILED
   */
  flush(): Promise<void>;
  /** Resolves when no write is in progress, without starting one. */
  whenIdle(): Promise<void>;
  stats(): StoreStats;
  /**
   * Flushes, backs up the files written, and releases the lock. If the final write fails the
   * store stays open and the promise rejects: fix the disk and call close() again. A read-only
   * store only lets go of its data.
   * @throws HST_ERR_STORE_WRITE_FAILED
   */
  close(): Promise<void>;
}
