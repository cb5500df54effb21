/**
 * The durable side of a store: what a backend (lowdb journal files, PostgreSQL) must do, and
 * nothing else. The store's collections keep an in-memory view for the runtime's hot path and
 * hand the backend record-level changes; the contract is about what is durable and when.
 *
 * Every method returns a promise, so a networked database can implement it. One contract test
 * suite (`test/store/contract/`) runs against every backend.
 *
 * Records travel as JSON text: a backend stores and returns it byte for byte and never looks
 * inside, so both backends hold exactly what the store wrote.
 *
 * @module
 */
import type { StoreEnvironment } from './environment.js';

/** The store-wide collections (one per environment). */
export type StoreCollection = 'meta' | 'requesters' | 'runs' | 'qualifications' | 'workers';
/** The collections kept per run. */
export type RunCollection = 'units' | 'agents' | 'hits' | 'snapshots' | 'submissions' | 'outbox';
export type CollectionName = StoreCollection | RunCollection;

/** Where a record lives: the store-wide scope (`runId` null) or one run's. */
export interface RecordAddress {
  readonly collection: CollectionName;
  /** Null for the store-wide collections, the run's id for the per-run ones. */
  readonly runId: string | null;
  readonly key: string;
}

/** One record written (`json` is its JSON text) or deleted (`json` null). */
export interface RecordChange extends RecordAddress {
  readonly json: string | null;
}

/** One audit line (the JSON text of an `AuditEntry`), of a run or store-wide (`runId` null). */
export interface AuditLine {
  readonly runId: string | null;
  readonly json: string;
}

/** One commit: all of it becomes durable, or none of it. */
export interface Commit {
  readonly changes: readonly RecordChange[];
  readonly audit: readonly AuditLine[];
}

/** Every committed record of one scope, keyed by collection then key, as JSON text. */
export type ScopeImage = ReadonlyMap<CollectionName, ReadonlyMap<string, string>>;

/** What {@link StoreBackend.load} read. */
export interface LoadedImage {
  /** The store-wide scope. */
  readonly store: ScopeImage;
  /** One image per run. */
  readonly runs: ReadonlyMap<string, ScopeImage>;
  /** What opening found and repaired (a torn journal tail ignored, a checkpoint finished...), for the log. */
  readonly notes: readonly string[];
}

/** Who holds a run. */
export interface LeaseHolder {
  /** Unique per process and open store (e.g. `host:pid:random`). */
  readonly owner: string;
  readonly pid: number;
  readonly hostname: string;
  /** Epoch ms; after this the lease is free for anyone to take. */
  readonly expiresAt: number;
}

/** A run this process holds. Renew it before it expires; a lost lease means stop writing the run. */
export interface RunLease {
  readonly runId: string;
  readonly holder: LeaseHolder;
  /** Extends the lease by its time to live. Resolves false when it was lost (expired and taken). */
  renew(): Promise<boolean>;
  release(): Promise<void>;
}

/** The outcome of trying to take a run. */
export type LeaseResult =
  | { readonly ok: true; readonly lease: RunLease; readonly tookOverFrom: LeaseHolder | null }
  | { readonly ok: false; readonly heldBy: LeaseHolder };

/**
 * A request to the process that owns a run, from a process that does not (a `review` while the
 * run is live elsewhere, an arrival that reached another task server). Posted durably, executed by
 * the owner, answered with a result the poster can wait for.
 */
export interface RunRequest {
  readonly id: string;
  readonly runId: string;
  readonly kind: string;
  /** JSON text. */
  readonly body: string;
  readonly postedAt: number;
  /** JSON text of the owner's answer; null while pending. */
  readonly result: string | null;
  readonly settledAt: number | null;
}

/** The durable side of one environment's store. */
export interface StoreBackend {
  readonly kind: 'lowdb' | 'postgres';
  readonly environment: StoreEnvironment;
  /** Reads everything committed (the whole store, or only the runs named). Read-only: takes no lease. */
  load(options?: { readonly runs?: readonly string[] }): Promise<LoadedImage>;
  /** Makes one commit durable, all or nothing; resolves once it is. */
  commit(commit: Commit): Promise<void>;
  /** Reads a run's audit lines in the order committed. */
  auditLines(runId: string | null): AsyncIterable<string>;
  /** Takes a run for this process for `ttlMs`, or names who holds it. */
  acquireRun(runId: string, ttlMs: number): Promise<LeaseResult>;
  /** The live holder of a run, or null. */
  runHolder(runId: string): Promise<LeaseHolder | null>;
  /**
   * Every run a live process holds, with its holder (this backend's runs included): where a task
   * server that does not own a run routes an arrival for it.
   */
  liveRuns(): Promise<ReadonlyMap<string, LeaseHolder>>;
  /** Posts a request to a run's owner; idempotent by `id`. */
  postRequest(request: Omit<RunRequest, 'result' | 'settledAt'>): Promise<void>;
  /** Requests of a run not settled yet, oldest first. */
  pendingRequests(runId: string): Promise<readonly RunRequest[]>;
  /** Records the owner's answer; settling twice keeps the first answer. */
  settleRequest(runId: string, id: string, result: string): Promise<void>;
  /** One request, or null if no such id was posted. */
  request(runId: string, id: string): Promise<RunRequest | null>;
  /** Releases what this process holds (leases included) and closes files or connections. */
  close(): Promise<void>;
}
