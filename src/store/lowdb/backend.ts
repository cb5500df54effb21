/**
 * The default {@link StoreBackend}: lowdb JSON checkpoints plus an append-only journal per scope
 * (the store-wide one and one per run). See docs/datastore.md#writing-the-journal-and-checkpoints.
 *
 * ```
 * <env>/journal.jsonl              store-wide commits since the last checkpoint (active segment)
 * <env>/journal.<k>.jsonl          a sealed segment, being folded into the checkpoint
 * <env>/checkpoint.json            which segments are folded in, and the writers' high-water marks
 * <env>/runs/<id>/journal.jsonl    the run's commits ... and the same three files per run
 * <env>/runs/<id>/lease.json       who owns the run
 * <env>/runs/<id>/requests/<id>.json  requests to the run's owner
 * ```
 *
 * A commit writes one entry per scope it touches, each naming the commit (`<writer>:<n>`) and the
 * list of scopes; it is durable once every part is appended and fsync'd. On reading, a part whose
 * commit lacks a part in another listed scope (a crash between two appends) is ignored: a part is
 * there when that scope's journal holds it or that scope's checkpoint already folded in a commit of
 * the same writer with that number or a later one (a writer commits one at a time, in order).
 * A part a live writer failed to complete is cancelled with a void entry before its next commit.
 *
 * Checkpoints: when a scope's active journal passes `checkpointBytes`, it is sealed (renamed to
 * `journal.<k>.jsonl`) and folded, in the background, into the scope's lowdb files (each written
 * to a temp file, fsync'd, renamed); the audit lines go to the scope's `audit.jsonl`; then
 * `checkpoint.json` records the segment as folded and the segment is deleted. Folding only puts
 * whole records, so repeating it after a crash at any step gives the same files.
 *
 * @module
 */
import { createHash, randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { Low } from 'lowdb';
import { HitstateError } from '../../errors.js';
import { AtomicJsonAdapter } from '../atomic-json-adapter.js';
import type {
  AuditLine,
  CollectionName,
  Commit,
  LeaseHolder,
  LeaseResult,
  LoadedImage,
  RunLease,
  RunRequest,
  ScopeImage,
  StoreBackend,
} from '../backend.js';
import type { StoreEnvironment } from '../environment.js';
import type { FileStat, StoreFileSystem } from '../file-system.js';
import { fileHeader, RUNS_DIR, SHARD_CAPACITY, SHARD_FILE, type ShardKind, shardFilePath } from '../layout.js';
import { encodeEntry, type JournalChange, type JournalEntry, parseJournal, splitCommitId } from './journal.js';
import {
  decodeSnapshotIndex,
  encodeSnapshotIndex,
  type ShardSpans,
  SNAPSHOT_INDEX_FILE,
  spansOf,
} from './snapshot-index.js';
import { acquireLease, isDead, readLease, type LeaseFiles } from './lease.js';
import { acquireLockWaiting, type HeldLock } from '../lock.js';
import { LOCK_FILE } from '../layout.js';
import { RequestInbox } from './requests.js';

export const JOURNAL_FILE = 'journal.jsonl';
export const CHECKPOINT_FILE = 'checkpoint.json';
/** Sealed segments: `journal.<k>.jsonl`. */
export const SEGMENT_FILE = /^journal\.(\d+)\.jsonl$/;
const STORE_SCOPE = '';

const RUN_COLLECTIONS = new Set<CollectionName>(['units', 'agents', 'hits', 'snapshots', 'submissions', 'outbox']);

/** What `checkpoint.json` holds. */
interface CheckpointMark {
  /** Every sealed segment numbered up to this one is folded into the files (and its audit lines appended). */
  readonly folded: number;
  /** While a segment's audit lines are being appended: the size `audit.jsonl` had before. */
  readonly auditFrom: { readonly segment: number; readonly offset: number } | null;
  /** Per writer, the highest commit number folded into this scope's files. */
  readonly writers: Readonly<Record<string, number>>;
  /**
   * SHA-256 of each file of the scope as the last checkpoint wrote it, by file name. A file whose
   * bytes still have this digest holds only whole records a checkpoint wrote from checked records,
   * so opening may take it without checking record by record, and parse it when first read
   * (load.ts). A file written any other way (a migration, a restored backup, a hand edit) no
   * longer matches and is checked in full.
   */
  readonly digests: Readonly<Record<string, string>>;
  /**
   * Each file's size and modification time (`<bytes>:<ms>`, {@link statKey}) as it stood when its
   * digest was recorded. A file that still has them holds the bytes its digest was taken of, so
   * opening need not hash it again ({@link vouchedByStat}), as git and make trust a file's stat.
   */
  readonly stats: Readonly<Record<string, string>>;
}

const EMPTY_MARK: CheckpointMark = { folded: 0, auditFrom: null, writers: {}, digests: {}, stats: {} };

/** A file's size and modification time (ms, to the microsecond), as {@link CheckpointMark.stats} records them. */
export const statKey = (stat: FileStat): string => `${stat.size}:${stat.modifiedAt.toFixed(3)}`;

/**
 * How far a file's time may be from the one recorded and still match: a copy that keeps times
 * (`cp -p`, Node's `cpSync`) sets them through a double in seconds and lands up to a millisecond
 * off. The trust rule below asks the file to be older than its mark by more than this.
 */
const STAT_TOLERANCE_MS = 1;

/**
 * The digest {@link CheckpointMark.digests} records for `name` when the file's stat vouches for
 * it, else undefined (hash it). A file changed since its stat was recorded has another size or a
 * later modification time, unless the change fell in the same tick of the file system's clock
 * (Linux stamps files from a clock that advances every few milliseconds) as the write that was
 * recorded: so a stat is trusted only when it is older, in that clock, than the mark recorded
 * after it (by more than the copy tolerance, {@link STAT_TOLERANCE_MS}). A write in the mark's
 * tick is hashed ("racily clean", as git calls it). Only a deliberate restore of the old time
 * over changed bytes of the same size escapes this; `hitstate store check` reads every file
 * record by record.
 */
export function vouchedByStat(
  journal: ScopeJournal | undefined,
  name: string,
  stat: FileStat | null,
): string | undefined {
  if (journal === undefined || stat === null || journal.markModifiedAt === undefined) return undefined;
  const recorded = journal.mark.stats[name];
  const digest = journal.mark.digests[name];
  if (recorded === undefined || digest === undefined) return undefined;
  const at = recorded.indexOf(':');
  const size = Number(recorded.slice(0, at));
  const modifiedAt = Number(recorded.slice(at + 1));
  if (size !== stat.size || !(Math.abs(modifiedAt - stat.modifiedAt) < STAT_TOLERANCE_MS)) return undefined;
  return modifiedAt < journal.markModifiedAt - STAT_TOLERANCE_MS ? digest : undefined;
}

/** The SHA-256 of a file's bytes, as {@link CheckpointMark.digests} records it. */
export const fileDigest = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

/** One scope's journal as read from disk. */
export interface ScopeJournal {
  readonly scope: string;
  readonly mark: CheckpointMark;
  /** Sealed segments not folded yet, oldest first, then the active journal (segment Infinity). */
  readonly segments: readonly { readonly segment: number; readonly entries: readonly JournalEntry[] }[];
  readonly notes: readonly string[];
  /** When `checkpoint.json` was last written (file system time, ms); undefined without one. */
  readonly markModifiedAt?: number;
}

/**
 * With the default threshold, a run's journal is folded once it passes this share of the run's
 * files too: the bytes a fold rewrites stay within ~16 times the journal it folds, and opening
 * replays at most about that share of the files from the journal.
 */
export const CHECKPOINT_SHARE = 1 / 16;

/** Options of {@link LowdbBackend}. */
export interface LowdbBackendOptions {
  readonly root: string;
  readonly environment: StoreEnvironment;
  readonly fs: StoreFileSystem;
  /** Seal and fold a scope's journal once it passes this many bytes (default 4 MiB). */
  readonly checkpointBytes?: number;
  /**
   * ...and, for a run, this share of the run's lowdb files. Default {@link CHECKPOINT_SHARE} with
   * the default `checkpointBytes`, 0 (none) when `checkpointBytes` is given.
   */
  readonly checkpointShare?: number;
  /** Epoch ms now (leases, requests). */
  readonly now?: () => number;
  /** Called when a background checkpoint fails (the journal keeps everything; it is tried again later). */
  readonly onCheckpointError?: (error: unknown) => void;
}

/**
 * A store-wide record another writer changed since this backend last read the store-wide journal:
 * `json` is its new text (null: deleted), `base` what this backend had read before (null: absent).
 */
export interface ForeignChange {
  readonly collection: CollectionName;
  readonly key: string;
  readonly json: string | null;
  readonly base: string | null;
}

/**
 * Given by the store: applies other writers' store-wide changes to its memory and returns this
 * commit's store-wide changes as they are to be written (merged with theirs), or throws when a
 * record cannot be merged (the commit is then refused and nothing is appended).
 */
export type StoreReconciler = (
  foreign: readonly ForeignChange[],
  mine: readonly JournalChange[],
) => readonly JournalChange[];

/** Bytes written by this backend, for the store's stats. */
export interface BackendCounters {
  journalBytes: number;
  journalAppends: number;
  checkpointBytes: number;
  checkpoints: number;
}

export const scopeDir = (root: string, scope: string): string =>
  scope === STORE_SCOPE ? root : join(root, RUNS_DIR, scope);

/** The lowdb journal backend of one environment directory. */
export class LowdbBackend implements StoreBackend {
  readonly kind = 'lowdb' as const;
  readonly environment: StoreEnvironment;
  readonly root: string;
  readonly counters: BackendCounters = { journalBytes: 0, journalAppends: 0, checkpointBytes: 0, checkpoints: 0 };
  /** Checkpoint files written since this backend was made (absolute paths), for the closing backups. */
  readonly writtenFiles = new Set<string>();
  readonly #fs: StoreFileSystem;
  readonly #threshold: number;
  /** The share of a run's files its journal must also pass before it is folded (0: none). */
  readonly #share: number;
  /** Bytes of each scope's lowdb files, measured when its journal first passes the threshold after a fold. */
  readonly #scopeBytes = new Map<string, number>();
  /** Scopes whose files are being measured (waited for as checkpoints are). */
  readonly #sizing = new Map<string, Promise<void>>();
  readonly #now: () => number;
  readonly #onCheckpointError: (error: unknown) => void;
  readonly #writer = `${hostname()}.${process.pid}.${randomBytes(4).toString('hex')}`;
  #commits = 0;
  /** Per scope: bytes in its active journal, next seq, whether its tail was checked this session. */
  readonly #active = new Map<string, { bytes: number; seq: number }>();
  /** Parts of a commit that failed half-way: to cancel before the next commit. */
  #voids: { commit: string; scopes: string[] } | null = null;
  readonly #checkpointing = new Map<string, Promise<void>>();
  readonly #leases: LeaseFiles;
  readonly #inbox: RequestInbox;
  #tail: Promise<unknown> = Promise.resolve();
  #closed = false;
  /** Runs taken by this backend, released on close. */
  readonly #held = new Map<string, RunLease>();
  /** The store-wide commit lock while this backend holds it, and how many callers are inside. */
  #storeLock: HeldLock | null = null;
  #storeLockQueue: Promise<unknown> = Promise.resolve();
  /** Per store-wide record (`collection\nkey`): its text as this backend last read or wrote it. */
  readonly #synced = new Map<string, string>();
  /**
   * Where this backend stopped reading the store-wide journal: the checkpoint's `folded` number
   * then, the file (its identity) and the byte offset. Null: read everything on the next pull.
   */
  #position: { folded: number; id: string | null; offset: number } | null = null;
  /** The previous holder of the commit lock died holding it: check its last commit's parts on the next pull. */
  #lockWasStale = false;
  /** Set by the store: merges other writers' store-wide changes into its memory. */
  reconcile: StoreReconciler | null = null;
  /** Run scopes this backend appended to. */
  readonly #wrote = new Set<string>();
  /** Runs this backend held at some point (their view in memory is this backend's own). */
  readonly #everHeld = new Set<string>();
  /** Per run: what its journal and checkpoint looked like when the store was opened ({@link noteOpened}). */
  #openedRuns: Map<string, string> | null = null;

  constructor(options: LowdbBackendOptions) {
    this.root = options.root;
    this.environment = options.environment;
    this.#fs = options.fs;
    this.#threshold = options.checkpointBytes ?? 4 * 1024 * 1024;
    this.#share = options.checkpointShare ?? (options.checkpointBytes === undefined ? CHECKPOINT_SHARE : 0);
    this.#now = options.now ?? Date.now;
    this.#onCheckpointError = options.onCheckpointError ?? ((e) => process.emitWarning(String(e)));
    this.#leases = { fs: this.#fs, root: this.root, owner: this.#writer, now: this.#now };
    this.#inbox = new RequestInbox(this.#fs, this.root, this.#now);
  }

  /** This backend's writer id (`<host>.<pid>.<random>`), which names its commits. */
  get writer(): string {
    return this.#writer;
  }

  // ---- reading ---------------------------------------------------------------------------

  /** Reads a scope's checkpoint mark and its journals (sealed segments not folded, then the active one). */
  async readScope(scope: string): Promise<ScopeJournal> {
    const dir = scopeDir(this.root, scope);
    const notes: string[] = [];
    const mark = await this.#readMark(scope);
    const names = await this.#fs.listDirectory(dir);
    const sealed = names
      .map((n) => SEGMENT_FILE.exec(n))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]))
      .sort((a, b) => a - b);
    const segments: { segment: number; entries: JournalEntry[] }[] = [];
    const read = async (segment: number, name: string) => {
      const bytes = await this.#fs.readFile(join(dir, name));
      if (bytes === null) return;
      const parsed = parseJournal(bytes);
      const inside = parsed.damaged.find((d) => d.offset < parsed.goodBytes);
      if (inside !== undefined)
        throw new HitstateError(
          'HST_ERR_STORE_CORRUPT',
          `${join(dir, name)} cannot be used: ${inside.bytes} bytes at offset ${inside.offset} do not check out, and committed entries follow them. A crash only ever tears the last entry (which is ignored), so this is a damaged disk or a hand edit; hitstate refuses to start and has left the file untouched. Keep a copy of the store directory; \`hitstate store check\` names the checkpoint files and their backups.`,
          { file: join(dir, name) },
        );
      for (const d of parsed.damaged)
        notes.push(
          `${join(dir, name)}: ignored ${d.bytes} bytes at offset ${d.offset} that do not check out (a commit torn by a crash is never half-applied)`,
        );
      segments.push({ segment, entries: parsed.entries });
    };
    for (const k of sealed) await read(k, `journal.${k}.jsonl`);
    await read(Number.POSITIVE_INFINITY, JOURNAL_FILE);
    const markStat = await this.#fs.statFile(join(dir, CHECKPOINT_FILE));
    return { scope, mark, segments, notes, ...(markStat === null ? {} : { markModifiedAt: markStat.modifiedAt }) };
  }

  async #readMark(scope: string): Promise<CheckpointMark> {
    const path = join(scopeDir(this.root, scope), CHECKPOINT_FILE);
    const bytes = await this.#fs.readFile(path);
    if (bytes === null) return EMPTY_MARK;
    try {
      const raw = JSON.parse(bytes.toString('utf8')) as CheckpointMark & { format?: string };
      if (raw.format !== 'hitstate-checkpoint' || typeof raw.folded !== 'number')
        throw new Error('not a checkpoint mark');
      return {
        folded: raw.folded,
        auditFrom: raw.auditFrom ?? null,
        writers: raw.writers ?? {},
        digests: raw.digests ?? {},
        stats: raw.stats ?? {},
      };
    } catch (err) {
      throw new HitstateError(
        'HST_ERR_STORE_CORRUPT',
        `${path} cannot be used: ${(err as Error).message}. It is replaced atomically, so only a damaged disk or a hand edit causes this; hitstate refuses to start and has left it untouched. It records which journal segments are folded into the files: if no journal.<k>.jsonl is next to it, deleting it is safe.`,
        { file: path },
      );
    }
  }

  /** Scopes (run ids) with a directory under runs/. */
  async runScopes(): Promise<string[]> {
    return (await this.#fs.listDirectory(join(this.root, RUNS_DIR))).filter((n) => !n.startsWith('.'));
  }

  /**
   * The committed entries of the scopes read, in order: void, torn and incomplete parts left out
   * (see the module comment). `others` gives the journals of scopes a multi-scope part names.
   */
  static committed(
    journals: ReadonlyMap<string, ScopeJournal>,
    scope: string,
  ): { entries: { segment: number; entry: JournalEntry }[]; notes: string[] } {
    const own = journals.get(scope);
    if (own === undefined) return { entries: [], notes: [] };
    const voided = new Set<string>();
    for (const s of own.segments) for (const e of s.entries) if (e.void === true) voided.add(e.commit);
    const idsOf = new Map<string, Set<string>>();
    const ids = (t: string): Set<string> | null => {
      const j = journals.get(t);
      if (j === undefined) return null;
      let set = idsOf.get(t);
      if (set === undefined) {
        set = new Set();
        for (const s of j.segments) for (const e of s.entries) if (e.void !== true) set.add(e.commit);
        idsOf.set(t, set);
      }
      return set;
    };
    const entries: { segment: number; entry: JournalEntry }[] = [];
    const notes: string[] = [];
    for (const s of own.segments) {
      for (const e of s.entries) {
        if (e.void === true || voided.has(e.commit)) continue;
        const missing = e.scopes.filter((t) => {
          if (t === scope) return false;
          if (ids(t)?.has(e.commit) === true) return false;
          const { writer, n } = splitCommitId(e.commit);
          return (journals.get(t)?.mark.writers[writer] ?? 0) < n;
        });
        if (missing.length > 0) {
          notes.push(
            `commit ${e.commit} of ${scope === '' ? 'the store' : `run ${scope}`} was not applied: its part for ${missing.map((t) => (t === '' ? 'the store' : `run ${t}`)).join(', ')} never reached the disk (a crash in the middle of the commit)`,
          );
          continue;
        }
        entries.push({ segment: s.segment, entry: e });
      }
    }
    return { entries, notes };
  }

  /** Reads every scope's journal (and the store's), for {@link committed}. */
  async readJournals(runs?: readonly string[]): Promise<Map<string, ScopeJournal>> {
    const scopes = [STORE_SCOPE, ...(runs ?? (await this.runScopes()))];
    const journals = new Map<string, ScopeJournal>();
    // Multi-scope parts may name scopes outside the list: read those too.
    const queue = [...scopes];
    while (queue.length > 0) {
      const scope = queue.shift()!;
      if (journals.has(scope)) continue;
      const j = await this.readScope(scope);
      journals.set(scope, j);
      for (const s of j.segments)
        for (const e of s.entries) for (const t of e.scopes) if (!journals.has(t)) queue.push(t);
    }
    return journals;
  }

  async load(options?: { readonly runs?: readonly string[] }): Promise<LoadedImage> {
    this.#assertOpen();
    return this.#consistent(() => this.#load(options));
  }

  async #load(options?: { readonly runs?: readonly string[] }): Promise<LoadedImage> {
    const journals = await this.readJournals(options?.runs);
    const notes: string[] = [];
    const image = async (scope: string): Promise<Map<CollectionName, Map<string, string>>> => {
      const img = await readCheckpointImage(this.#fs, this.root, scope);
      const { entries, notes: n } = LowdbBackend.committed(journals, scope);
      notes.push(...n, ...(journals.get(scope)?.notes ?? []));
      for (const { entry } of entries) applyChanges(img, entry.changes);
      return img;
    };
    const store = await image(STORE_SCOPE);
    const runs = new Map<string, ScopeImage>();
    const runIds = options?.runs ?? [...new Set([...(store.get('runs')?.keys() ?? []), ...(await this.runScopes())])];
    for (const id of runIds) runs.set(id, await image(id));
    return { store, runs, notes };
  }

  async *auditLines(runId: string | null): AsyncIterable<string> {
    this.#assertOpen();
    // Read whole before yielding: a fold moving lines from a segment to audit.jsonl meanwhile
    // would otherwise show some twice or not at all.
    yield* await this.#consistent(() => this.#auditLines(runId));
  }

  async #auditLines(runId: string | null): Promise<string[]> {
    const scope = runId ?? STORE_SCOPE;
    const journals = await this.readJournals(runId === null ? [] : [runId]);
    const own = journals.get(scope)!;
    const auditPath = join(scopeDir(this.root, scope), 'audit.jsonl');
    const bytes = (await this.#fs.readFile(auditPath)) ?? Buffer.alloc(0);
    const out: string[] = [];
    // Lines past auditFrom.offset belong to a segment still being folded: they are read from it.
    const limit = own.mark.auditFrom === null ? bytes.length : Math.min(bytes.length, own.mark.auditFrom.offset);
    for (const line of bytes.toString('utf8', 0, limit).split('\n')) if (isWholeJson(line)) out.push(line);
    for (const { segment, entry } of LowdbBackend.committed(journals, scope).entries)
      if (segment > own.mark.folded) out.push(...entry.audit);
    return out;
  }

  /**
   * Runs a read until no checkpoint moved under it. A checkpoint (of this process or another)
   * seals a journal and folds it into the files while a reader walks them, so a read that saw a
   * journal segment and a checkpoint mark change in the meantime may have missed or doubled
   * commits: it is read again.
   */
  async #consistent<T>(read: () => Promise<T>): Promise<T> {
    await this.whenCheckpointed();
    for (let attempt = 0; ; attempt++) {
      const before = await this.#checkpointState();
      const result = await read();
      if ((await this.#checkpointState()) === before) return result;
      if (attempt >= 100)
        throw new HitstateError(
          'HST_ERR_STORE_LOCKED',
          `could not read the store at ${this.root}: checkpoints kept changing its files during 100 reads in a row; try again`,
          { file: this.root },
        );
      await this.whenCheckpointed();
    }
  }

  /** What a checkpoint changes, of every scope: the sealed segments and the checkpoint marks. */
  async #checkpointState(): Promise<string> {
    const parts: string[] = [];
    for (const scope of [STORE_SCOPE, ...(await this.runScopes())]) {
      const dir = scopeDir(this.root, scope);
      const names = (await this.#fs.listDirectory(dir)).filter((n) => SEGMENT_FILE.test(n)).sort();
      const mark = await this.#fs.readFile(join(dir, CHECKPOINT_FILE));
      parts.push(`${scope}\n${names.join(',')}\n${mark?.toString('utf8') ?? ''}`);
    }
    return parts.join('\n\n');
  }

  // ---- writing ---------------------------------------------------------------------------

  async commit(commit: Commit): Promise<void> {
    // Checked when called: a commit made before close() still completes while it closes.
    this.#assertOpen();
    // One commit at a time: a writer's commit numbers must reach every journal in order.
    const run = this.#tail.then(() => this.#commit(commit));
    this.#tail = run.catch(() => undefined);
    return run;
  }

  async #commit(commit: Commit): Promise<void> {
    await this.#cancelFailed();
    const touchesStore =
      commit.changes.some((c) => c.runId === null) || commit.audit.some((a) => (a as AuditLine).runId === null);
    if (!touchesStore) return this.#commitParts(commit, commit.changes);
    // Store-wide records are shared by every writer of the store: their part is written under the
    // store's commit lock, after reading what the others appended (see docs/datastore.md).
    return this.withStoreLock(async () => {
      const foreign = await this.#pull();
      const mine: JournalChange[] = commit.changes
        .filter((c) => c.runId === null)
        .map((c) => [c.collection, c.key, c.json] as const);
      const merged = this.reconcile === null ? mine : this.reconcile(foreign, mine);
      const changes = [
        ...merged.map(([collection, key, json]) => ({ collection, runId: null, key, json })),
        ...commit.changes.filter((c) => c.runId !== null),
      ];
      await this.#commitParts(commit, changes);
      for (const [collection, key, json] of merged) this.#remember(collection, key, json);
      await this.#advance();
    });
  }

  async #commitParts(commit: Commit, all: Commit['changes']): Promise<void> {
    const parts = new Map<string, { changes: JournalChange[]; audit: string[] }>();
    const part = (scope: string) => {
      let p = parts.get(scope);
      if (p === undefined) parts.set(scope, (p = { changes: [], audit: [] }));
      return p;
    };
    for (const c of all) {
      const isRun = RUN_COLLECTIONS.has(c.collection);
      if (isRun !== (c.runId !== null))
        throw new HitstateError(
          'HST_ERR_STORE_INVALID_RECORD',
          `a change to ${c.collection} "${c.key}" ${isRun ? 'needs the runId of its run' : 'is store-wide and takes runId null'}`,
          { field: 'runId' },
        );
      part(c.runId ?? STORE_SCOPE).changes.push([c.collection, c.key, c.json]);
    }
    for (const a of commit.audit) part((a as AuditLine).runId ?? STORE_SCOPE).audit.push(a.json);
    if (parts.size === 0) return;
    const id = `${this.#writer}:${++this.#commits}`;
    const scopes = [...parts.keys()].sort();
    // One scope after the other (a commit touches one or two as a rule): the order of the
    // appends, and so of what a crash can leave, is always the same.
    const done: string[] = [];
    try {
      for (const scope of scopes) {
        const p = parts.get(scope)!;
        await this.#append(scope, { seq: 0, commit: id, scopes, changes: p.changes, audit: p.audit });
        done.push(scope);
      }
    } catch (err) {
      if (done.length > 0) {
        this.#voids = { commit: id, scopes: done };
        // Cancelled at once, while the commit lock is still held, so that no other writer reads
        // a store-wide part whose run part never came; if that fails too, before the next commit.
        await this.#cancelFailed(true).catch(() => undefined);
      }
      throw err;
    }
    for (const scope of scopes) if (scope !== STORE_SCOPE) this.#wrote.add(scope);
    // Runs, requesters and qualification mappings change a few times per run, and commands that
    // list stores without opening them read store.json (and a run's run.json): fold them at once.
    const central = parts.get(STORE_SCOPE)?.changes.some(([c]) => c !== 'workers') ?? false;
    for (const scope of scopes) this.#maybeCheckpoint(scope, central && scope === STORE_SCOPE);
  }

  /** Cancels the parts of a commit that failed half-way, before anything else is committed. */
  async #cancelFailed(inLock = false): Promise<void> {
    const v = this.#voids;
    if (v === null) return;
    const cancel = async () => {
      for (const scope of v.scopes)
        await this.#append(scope, { seq: 0, commit: v.commit, scopes: [], changes: [], audit: [], void: true });
      this.#voids = null;
    };
    if (v.scopes.includes(STORE_SCOPE) && !inLock) await this.withStoreLock(cancel);
    else await cancel();
  }

  // ---- several writers: the store-wide scope -------------------------------------------

  /**
   * Runs `work` holding the store's commit lock (`store.json.lock`), which every writer takes for
   * a store-wide commit, the seal and fold of the store-wide journal, and its open. Calls of this
   * backend queue; other backends (of this process or others) wait for the file. Not reentrant:
   * the methods called inside take no lock of their own.
   */
  async withStoreLock<T>(work: () => Promise<T>): Promise<T> {
    const turn = this.#storeLockQueue.then(async () => {
      await this.#fs.makeDirectory(this.root);
      const lock = await acquireLockWaiting(join(this.root, LOCK_FILE), this.#now());
      if (lock.recovered !== null) this.#lockWasStale = true;
      this.#storeLock = lock;
      try {
        return await work();
      } finally {
        this.#storeLock = null;
        await lock.release();
      }
    });
    this.#storeLockQueue = turn.catch(() => undefined);
    return turn;
  }

  /** The commit lock a previous holder left behind when it died, if the last acquisition took one over. */
  get recoveredStoreLock(): HeldLock['recovered'] {
    return this.#storeLock?.recovered ?? null;
  }

  #remember(collection: CollectionName, key: string, json: string | null): void {
    if (json === null) this.#synced.delete(`${collection}\n${key}`);
    else this.#synced.set(`${collection}\n${key}`, json);
  }

  /**
   * Called by the store once it has read the store (holding the commit lock): what it read is the
   * store-wide state this backend's next pull compares with, and each run's journal as it was.
   */
  async startSync(records: Iterable<readonly [CollectionName, string, string]>): Promise<void> {
    this.#synced.clear();
    for (const [collection, key, json] of records) this.#remember(collection, key, json);
    await this.#advance();
    this.#openedRuns = new Map();
    for (const runId of await this.runScopes()) this.#openedRuns.set(runId, await this.#runSignature(runId));
  }

  /** Records where the store-wide journal ends now (called holding the lock, after reading or appending). */
  async #advance(): Promise<void> {
    const mark = await this.#readMark(STORE_SCOPE);
    const stat = await this.#fs.statFile(join(this.root, JOURNAL_FILE));
    this.#position = { folded: mark.folded, id: stat?.id ?? null, offset: stat?.size ?? 0 };
  }

  /**
   * Reads what other writers appended to the store-wide journal since this backend last read it
   * (called holding the commit lock) and returns the records that changed, with what this backend
   * had read of them. Incremental while no checkpoint folded the journal in the meantime; after
   * one (or after taking over the lock of a writer that died), the whole store-wide scope is read
   * again and compared record by record.
   */
  async #pull(): Promise<ForeignChange[]> {
    const mark = await this.#readMark(STORE_SCOPE);
    const position = this.#position;
    const changed = new Map<string, { collection: CollectionName; key: string; json: string | null }>();
    if (position === null || position.folded !== mark.folded || this.#lockWasStale) {
      this.#lockWasStale = false;
      const journals = await this.readJournals([]);
      const image = await readCheckpointImage(this.#fs, this.root, STORE_SCOPE);
      for (const { entry } of LowdbBackend.committed(journals, STORE_SCOPE).entries) applyChanges(image, entry.changes);
      const seen = new Set<string>();
      for (const [collection, records] of image)
        for (const [key, json] of records) {
          const k = `${collection}\n${key}`;
          seen.add(k);
          if (this.#synced.get(k) !== json) changed.set(k, { collection, key, json });
        }
      for (const k of this.#synced.keys())
        if (!seen.has(k)) {
          const at = k.indexOf('\n');
          changed.set(k, { collection: k.slice(0, at) as CollectionName, key: k.slice(at + 1), json: null });
        }
      // Read again (and a torn tail cut off) by the next append.
      this.#active.delete(STORE_SCOPE);
    } else {
      const dir = this.root;
      const names = await this.#fs.listDirectory(dir);
      const files = names
        .map((n) => SEGMENT_FILE.exec(n))
        .filter((m): m is RegExpExecArray => m !== null && Number(m[1]) > mark.folded)
        .sort((a, b) => Number(a[1]) - Number(b[1]))
        .map((m) => m[0]);
      files.push(JOURNAL_FILE);
      const stats = await Promise.all(files.map((f) => this.#fs.statFile(join(dir, f))));
      const from = stats.findIndex((st) => st !== null && st.id === position.id);
      const entries: JournalEntry[] = [];
      let tail: { good: number; size: number; seq: number } | null = null;
      for (let i = Math.max(from, 0); i < files.length; i++) {
        if (stats[i] === null) continue;
        const bytes = await this.#fs.readFile(join(dir, files[i]!));
        if (bytes === null) continue;
        const start = i === from ? Math.min(position.offset, bytes.length) : 0;
        const parsed = parseJournal(bytes.subarray(start));
        entries.push(...parsed.entries);
        if (files[i] === JOURNAL_FILE)
          tail = {
            good: parsed.entries.length === 0 ? start : start + parsed.goodBytes,
            size: bytes.length,
            seq: parsed.entries.at(-1)?.seq ?? this.#active.get(STORE_SCOPE)?.seq ?? 1,
          };
      }
      const voided = new Set(entries.filter((e) => e.void === true).map((e) => e.commit));
      for (const e of entries) {
        if (e.void === true || voided.has(e.commit) || splitCommitId(e.commit).writer === this.#writer) continue;
        for (const [collection, key, json] of e.changes)
          changed.set(`${collection}\n${key}`, { collection, key, json });
      }
      if (tail === null) this.#active.delete(STORE_SCOPE);
      else {
        // Bytes after the last good entry are a torn append of a writer that died holding the
        // lock (nobody else appends now): cut off before appending, as on a first append.
        if (tail.good < tail.size) await this.#fs.truncateFile(join(dir, JOURNAL_FILE), tail.good);
        this.#active.set(STORE_SCOPE, { bytes: tail.good, seq: tail.seq + 1 });
      }
    }
    const foreign: ForeignChange[] = [];
    for (const [k, c] of changed) {
      const base = this.#synced.get(k) ?? null;
      if (base === c.json) continue;
      foreign.push({ ...c, base });
      this.#remember(c.collection, c.key, c.json);
    }
    return foreign;
  }

  /** What a run's journal files and checkpoint mark look like now (not the lease or requests). */
  async #runSignature(runId: string): Promise<string> {
    const dir = scopeDir(this.root, runId);
    const names = (await this.#fs.listDirectory(dir))
      .filter((n) => SEGMENT_FILE.test(n) || n === JOURNAL_FILE || n === CHECKPOINT_FILE)
      .sort();
    const parts: string[] = [];
    for (const name of names) {
      const st = await this.#fs.statFile(join(dir, name));
      parts.push(`${name}@${st?.id ?? '-'}:${st?.size ?? 0}:${st?.modifiedAt ?? 0}`);
    }
    return parts.join('\n');
  }

  async #append(scope: string, entry: JournalEntry): Promise<void> {
    const dir = scopeDir(this.root, scope);
    const path = join(dir, JOURNAL_FILE);
    let state = this.#active.get(scope);
    if (state === undefined) {
      await this.#fs.makeDirectory(dir);
      const bytes = await this.#fs.readFile(path);
      const parsed = bytes === null ? null : parseJournal(bytes);
      // A torn tail (a crash during the last append; ignored by readers) is cut off before
      // appending, so that a damaged line followed by good entries always means a damaged disk.
      if (parsed !== null && bytes !== null && parsed.goodBytes < bytes.length)
        await this.#fs.truncateFile(path, parsed.goodBytes);
      if (bytes === null) {
        // A new journal (and maybe a new run directory): its directory entry must be durable too.
        await this.#fs.appendDurable(path, '');
        await this.#fs.syncDirectory(dir);
        if (scope !== STORE_SCOPE) await this.#fs.syncDirectory(join(this.root, RUNS_DIR));
      }
      state = { bytes: parsed?.goodBytes ?? 0, seq: (parsed?.entries.at(-1)?.seq ?? 0) + 1 };
      this.#active.set(scope, state);
    }
    const line = encodeEntry({ ...entry, seq: state.seq });
    await this.#fs.appendDurable(path, line);
    state.seq++;
    const n = Buffer.byteLength(line, 'utf8');
    state.bytes += n;
    this.counters.journalBytes += n;
    this.counters.journalAppends++;
  }

  // ---- checkpoints -----------------------------------------------------------------------

  #maybeCheckpoint(scope: string, now = false): void {
    const state = this.#active.get(scope);
    if (state === undefined || (!now && state.bytes < this.#threshold)) return;
    if (!now && this.#share > 0 && scope !== STORE_SCOPE) {
      // A fold rewrites every shard holding a changed record, and a run's changes are spread over
      // all of its shards: folding after a fixed 4 MiB at 100,000 units rewrote ~500 MB per 4 MB
      // of journal. Waiting for a share of the files keeps that ratio bounded at any size.
      const size = this.#scopeBytes.get(scope);
      if (size === undefined) {
        if (!this.#sizing.has(scope)) {
          const sizing = this.#measureScope(scope).then(
            (bytes) => {
              this.#sizing.delete(scope);
              this.#scopeBytes.set(scope, bytes);
              if (!this.#closed) this.#maybeCheckpoint(scope);
            },
            (err: unknown) => {
              this.#sizing.delete(scope);
              this.#onCheckpointError(err);
            },
          );
          this.#sizing.set(scope, sizing);
        }
        return;
      }
      if (state.bytes < size * this.#share) return;
    }
    const running = this.#checkpointing.get(scope);
    if (running !== undefined) {
      // One more fold after the one under way, for what it does not cover.
      if (now) void running.then(() => this.#maybeCheckpoint(scope, true));
      return;
    }
    const run = this.checkpoint(scope)
      .catch((err: unknown) => this.#onCheckpointError(err))
      .finally(() => {
        this.#checkpointing.delete(scope);
        // The fold changed the files: measured again when the journal next passes the threshold.
        this.#scopeBytes.delete(scope);
      });
    this.#checkpointing.set(scope, run);
  }

  /** Bytes of a run scope's lowdb files (shards and its run record; not journals or backups). */
  async #measureScope(scope: string): Promise<number> {
    const dir = scopeDir(this.root, scope);
    let bytes = 0;
    for (const name of await this.#fs.listDirectory(dir)) {
      if (!SHARD_FILE.test(name)) continue;
      bytes += (await this.#fs.statFile(join(dir, name)))?.size ?? 0;
    }
    return bytes;
  }

  /** Waits for the background checkpoints under way. */
  async whenCheckpointed(): Promise<void> {
    while (this.#checkpointing.size > 0 || this.#sizing.size > 0)
      await Promise.all([...this.#checkpointing.values(), ...this.#sizing.values()]);
  }

  /**
   * Seals a scope's active journal and folds every sealed segment into its files (see the module
   * comment). Serialized with commits, which keeps the seal between two appends.
   */
  async checkpoint(scope: string): Promise<void> {
    if (scope === STORE_SCOPE) {
      // Every writer may fold the store-wide journal: one at a time, and never while another
      // appends to it, so the seal and the fold both hold the commit lock. The next pull reads
      // the store-wide scope whole again (the fold moved the checkpoint's number).
      const both = this.#tail.then(() =>
        this.withStoreLock(async () => {
          await this.#seal(scope);
          await this.#fold(scope);
        }),
      );
      this.#tail = both.catch(() => undefined);
      return both;
    }
    const seal = this.#tail.then(() => this.#seal(scope));
    this.#tail = seal.catch(() => undefined);
    await seal;
    await this.#fold(scope);
  }

  /** Folds every scope with a journal (on close, so a closed store is all in its files). */
  async checkpointAll(): Promise<void> {
    await this.whenCheckpointed();
    for (const scope of [STORE_SCOPE, ...(await this.runScopes())]) {
      const names = await this.#fs.listDirectory(scopeDir(this.root, scope));
      const journal = await this.#fs.statFile(join(scopeDir(this.root, scope), JOURNAL_FILE));
      if (!((journal?.size ?? 0) > 0 || names.some((n) => SEGMENT_FILE.test(n)))) continue;
      if (scope === STORE_SCOPE || this.#held.has(scope)) {
        await this.checkpoint(scope);
        continue;
      }
      // A run another process owns is folded by its owner; a run nobody holds is folded by whoever
      // can take it for the moment (its journal must not grow while it is folded).
      const holder = await readLease(this.#leases, scope).catch(() => null);
      if (holder !== null && holder.owner !== this.#writer && !isDead(holder, this.#now())) continue;
      const taken = await acquireLease(this.#leases, scope, 60_000).catch(() => null);
      if (taken === null || !taken.ok) continue;
      try {
        await this.checkpoint(scope);
      } finally {
        await taken.lease.release();
      }
    }
  }

  async #seal(scope: string): Promise<void> {
    const dir = scopeDir(this.root, scope);
    const path = join(dir, JOURNAL_FILE);
    const stat = await this.#fs.statFile(path);
    if (stat === null || stat.size === 0) return;
    const names = await this.#fs.listDirectory(dir);
    const mark = await this.#readMark(scope);
    const highest = Math.max(
      mark.folded,
      ...names.map((n) => SEGMENT_FILE.exec(n)).map((m) => (m === null ? 0 : Number(m[1]))),
    );
    await this.#fs.rename(path, join(dir, `journal.${highest + 1}.jsonl`));
    await this.#fs.syncDirectory(dir);
    this.#active.delete(scope);
  }

  async #fold(scope: string): Promise<void> {
    const dir = scopeDir(this.root, scope);
    const journals = await this.readJournals(scope === STORE_SCOPE ? [] : [scope]);
    const own = journals.get(scope)!;
    const sealed = own.segments.filter((s) => Number.isFinite(s.segment)).map((s) => s.segment);
    if (sealed.length === 0) return;
    const through = Math.max(...sealed);
    // Segments up to mark.folded are in the files already (a crash before their removal): only removed again.
    const entries = LowdbBackend.committed(journals, scope).entries.filter(
      (e) => e.segment <= through && e.segment > own.mark.folded,
    );
    // 1. The records, into the lowdb files.
    const written = await writeCheckpoint(
      this.#fs,
      this.root,
      this.environment,
      scope,
      entries.map((e) => e.entry.changes),
    );
    this.counters.checkpointBytes += written.bytes;
    for (const f of written.files) this.writtenFiles.add(f);
    // Read back as written: what opening compares each file with (a crash before the mark below
    // leaves the old digests, which the new files do not match: they are then checked in full).
    const digests: Record<string, string> = { ...own.mark.digests };
    const stats: Record<string, string> = { ...own.mark.stats };
    const snapshotShards = new Map<string, Buffer>();
    for (const f of written.files) {
      if (dirname(f) !== dir) continue;
      const bytes = await this.#fs.readFile(f);
      const stat = bytes === null ? null : await this.#fs.statFile(f);
      if (stat === null) delete stats[basename(f)];
      else stats[basename(f)] = statKey(stat);
      if (bytes === null) delete digests[basename(f)];
      else {
        digests[basename(f)] = fileDigest(bytes);
        if (SHARD_FILE.exec(basename(f))?.[1] === 'snapshots') snapshotShards.set(basename(f), bytes);
      }
    }
    // The compact open index, after the shards it describes and before the mark (see snapshot-index.ts).
    if (scope !== STORE_SCOPE) await this.#writeSnapshotIndex(dir, digests, snapshotShards);
    // 2. The audit lines, appended from a recorded offset so that a repeat does not double them.
    const audit = entries.flatMap((e) => e.entry.audit);
    const auditPath = join(dir, 'audit.jsonl');
    let mark = own.mark;
    if (audit.length > 0) {
      // An append cut short by a crash belongs to segments this fold takes again (they are not
      // folded yet), so its offset stays the place to start from.
      const offset = mark.auditFrom?.offset ?? (await this.#fs.statFile(auditPath))?.size ?? 0;
      if (mark.auditFrom?.segment !== through || mark.auditFrom.offset !== offset) {
        mark = { ...mark, auditFrom: { segment: through, offset } };
        await this.#writeMark(scope, mark);
      }
      const size = (await this.#fs.statFile(auditPath))?.size ?? 0;
      if (size > offset) await this.#fs.truncateFile(auditPath, offset);
      // A file torn by an older hitstate may end without a newline.
      const text = `${audit.join('\n')}\n`;
      await this.#fs.appendDurable(auditPath, text);
      this.counters.checkpointBytes += Buffer.byteLength(text, 'utf8');
    }
    // 3. The mark: these segments are folded, and how far each writer's commits are.
    const writers = { ...mark.writers };
    for (const { entry } of entries) {
      const { writer, n } = splitCommitId(entry.commit);
      if ((writers[writer] ?? 0) < n) writers[writer] = n;
    }
    await this.#writeMark(scope, {
      folded: Math.max(through, own.mark.folded),
      auditFrom: null,
      writers,
      digests,
      stats,
    });
    // 4. The folded segments go.
    for (const k of sealed) await this.#fs.removeFile(join(dir, `journal.${k}.jsonl`));
    await this.#fs.syncDirectory(dir);
    this.counters.checkpoints++;
  }

  /**
   * Writes a run's compact open index when it does not cover every snapshot shard (a store written
   * before the index existed): called on open, under the lock, so the next open takes the shards
   * with it. Costs one read of the shards, once.
   */
  async indexSnapshots(runId: string): Promise<void> {
    const mark = await this.#readMark(runId);
    await this.#writeSnapshotIndex(scopeDir(this.root, runId), { ...mark.digests }, new Map());
  }

  /**
   * Writes the run's compact open index when a snapshot shard changed or the index does not cover
   * every shard: spans of the shards just written, the previous index's for unchanged shards whose
   * digest it lists, and spans read anew otherwise (a store written before the index, once).
   */
  async #writeSnapshotIndex(dir: string, digests: Record<string, string>, written: Map<string, Buffer>): Promise<void> {
    const names = (await this.#fs.listDirectory(dir)).filter((n) => SHARD_FILE.exec(n)?.[1] === 'snapshots');
    const path = join(dir, SNAPSHOT_INDEX_FILE);
    const previous = decodeSnapshotIndex(await this.#fs.readFile(path));
    const shards: Record<string, ShardSpans> = {};
    let changed = written.size > 0 || previous === undefined;
    for (const name of names.sort()) {
      const bytes = written.get(name);
      const known = previous?.shards[name];
      if (bytes === undefined && known !== undefined && known.digest === digests[name]) {
        shards[name] = known;
        continue;
      }
      changed = true;
      const read = bytes ?? (await this.#fs.readFile(join(dir, name)));
      if (read === null) continue;
      const digest = bytes === undefined ? fileDigest(read) : digests[name]!;
      const spans = spansOf(read, digest);
      if (spans !== undefined) shards[name] = spans;
    }
    if (previous !== undefined && Object.keys(previous.shards).some((n) => !names.includes(n))) changed = true;
    if (!changed) return;
    const temp = join(dir, `.${SNAPSHOT_INDEX_FILE}.tmp`);
    await this.#fs.writeFileDurable(temp, encodeSnapshotIndex({ shards }));
    await this.#fs.rename(temp, path);
  }

  /**
   * Records the digests of files of a scope that opening checked in full (a store written before
   * the digests), so the next open takes them on their digest. Called on open, under the lock,
   * before any checkpoint.
   */
  async addDigests(
    scope: string,
    digests: Readonly<Record<string, string>>,
    stats: Readonly<Record<string, string>> = {},
  ): Promise<void> {
    const mark = await this.#readMark(scope);
    const kept = { ...mark.stats };
    // A digest recorded anew holds for the bytes read now: an older stat no longer describes them.
    for (const name of Object.keys(digests)) delete kept[name];
    await this.#writeMark(scope, {
      ...mark,
      digests: { ...mark.digests, ...digests },
      stats: { ...kept, ...stats },
    });
  }

  async #writeMark(scope: string, mark: CheckpointMark): Promise<void> {
    const dir = scopeDir(this.root, scope);
    const temp = join(dir, `.${CHECKPOINT_FILE}.tmp`);
    await this.#fs.writeFileDurable(temp, JSON.stringify({ format: 'hitstate-checkpoint', ...mark }));
    await this.#fs.rename(temp, join(dir, CHECKPOINT_FILE));
    await this.#fs.syncDirectory(dir);
  }

  // ---- leases and requests ---------------------------------------------------------------

  async acquireRun(runId: string, ttlMs: number): Promise<LeaseResult> {
    this.#assertOpen();
    const result = await acquireLease(this.#leases, runId, ttlMs);
    if (!result.ok) return result;
    // The store's memory holds the run as it was when the store was opened: taking a run another
    // process wrote since then would write over its newer records from a stale view.
    if (this.#openedRuns !== null && !this.#everHeld.has(runId) && !this.#wrote.has(runId)) {
      const now = await this.#runSignature(runId);
      if (now !== (this.#openedRuns.get(runId) ?? '')) {
        await result.lease.release();
        const by = result.tookOverFrom ?? (await readLease(this.#leases, runId).catch(() => null));
        throw new HitstateError(
          'HST_ERR_RUN_OWNED',
          `run ${runId} was written by another process${by === null ? '' : ` (pid ${by.pid} on ${by.hostname})`} after this one opened the store at ${this.root}, so this process's view of it is out of date; open the store again (run the command again) to take it`,
          { runId },
        );
      }
    }
    this.#everHeld.add(runId);
    const inner = result.lease;
    const held = this.#held;
    // Released by its holder: no longer this backend's to fold or release on close.
    const lease: RunLease = {
      runId,
      get holder() {
        return inner.holder;
      },
      renew: () => inner.renew(),
      async release() {
        if (held.get(runId) === lease) held.delete(runId);
        await inner.release();
      },
    };
    this.#held.set(runId, lease);
    return { ...result, lease };
  }

  liveRuns(): Promise<ReadonlyMap<string, LeaseHolder>> {
    this.#assertOpen();
    return this.liveHolders();
  }

  /** The runs of the store whose lease a live process holds (this backend's included). */
  async liveHolders(): Promise<Map<string, LeaseHolder>> {
    const holders = new Map<string, LeaseHolder>();
    for (const runId of await this.runScopes()) {
      const holder = await readLease(this.#leases, runId).catch(() => null);
      if (holder !== null && !isDead(holder, this.#now())) holders.set(runId, holder);
    }
    return holders;
  }

  async runHolder(runId: string): Promise<LeaseHolder | null> {
    this.#assertOpen();
    const holder = await readLease(this.#leases, runId);
    // Expired, or its process is gone on this host (killed): nobody holds the run.
    return holder === null || isDead(holder, this.#now()) ? null : holder;
  }

  postRequest(request: Omit<RunRequest, 'result' | 'settledAt'>): Promise<void> {
    this.#assertOpen();
    return this.#inbox.post(request);
  }

  pendingRequests(runId: string): Promise<readonly RunRequest[]> {
    this.#assertOpen();
    return this.#inbox.pending(runId);
  }

  settleRequest(runId: string, id: string, result: string): Promise<void> {
    this.#assertOpen();
    return this.#inbox.settle(runId, id, result);
  }

  request(runId: string, id: string): Promise<RunRequest | null> {
    this.#assertOpen();
    return this.#inbox.get(runId, id);
  }

  /**
   * Waits for the commits and checkpoints under way, releases the runs this backend holds (a
   * lease it lost to a takeover is left to its new holder) and refuses any later call.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#tail;
    await this.whenCheckpointed();
    const errors: unknown[] = [];
    for (const lease of this.#held.values()) await lease.release().catch((err: unknown) => errors.push(err));
    this.#held.clear();
    if (errors.length > 0)
      throw new HitstateError(
        'HST_ERR_STORE_WRITE_FAILED',
        `closing the store backend at ${this.root}: ${errors.length} run lease(s) could not be released (${String(errors[0])}); they free themselves when they expire`,
        { file: this.root },
      );
  }

  #assertOpen(): void {
    if (this.#closed)
      throw new HitstateError('HST_ERR_STORE_CLOSED', `the store backend at ${this.root} is closed`, {
        file: this.root,
      });
  }
}

const isWholeJson = (line: string): boolean => {
  if (line.length === 0) return false;
  try {
    JSON.parse(line);
    return true;
  } catch {
    return false;
  }
};

/** Applies changes to an image (later ones win; null deletes). */
export function applyChanges(image: Map<CollectionName, Map<string, string>>, changes: readonly JournalChange[]): void {
  for (const [collection, key, json] of changes) {
    let records = image.get(collection);
    if (records === undefined) image.set(collection, (records = new Map()));
    if (json === null) records.delete(key);
    else records.set(key, json);
  }
}

// ---- the checkpoint files (today's lowdb layout) ------------------------------------------

type Raw = Record<string, unknown>;

async function readJson(fs: StoreFileSystem, path: string): Promise<Raw | null> {
  const bytes = await fs.readFile(path);
  if (bytes === null) return null;
  try {
    return JSON.parse(bytes.toString('utf8')) as Raw;
  } catch (err) {
    throw new HitstateError(
      'HST_ERR_STORE_CORRUPT',
      `${path} cannot be used: the file is not valid JSON (${(err as Error).message}); hitstate refuses to start and has left it untouched. Run \`hitstate store check\` to find its newest good backup.`,
      { file: path },
    );
  }
}

const recordsOf = (raw: Raw | null): Raw => ((raw?.records as Raw | undefined) ?? {}) as Raw;

/**
 * Applies to a shard the pending changes of the records it holds (a new text, or null to delete),
 * taking each from `pending`; true when the shard changed.
 */
function applyHeld(file: Raw, pending: Map<string, string | null>): boolean {
  const records = recordsOf(file);
  let changed = false;
  // Whichever is smaller is walked: a shard holds at most 1,000 records, a fold may carry more.
  const keys = Object.keys(records);
  const held = keys.length < pending.size ? keys.filter((k) => pending.has(k)) : [...pending.keys()];
  for (const key of held) {
    if (!Object.hasOwn(records, key)) continue;
    const json = pending.get(key)!;
    if (json === null) delete records[key];
    else records[key] = JSON.parse(json);
    pending.delete(key);
    changed = true;
  }
  if (changed && file.records === undefined) file.records = records;
  return changed;
}

/** Key of a qualification mapping record: `<requester>/<name>`. */
export const qualificationKey = (requesterName: string, name: string): string => `${requesterName}/${name}`;

/** Reads a scope's checkpoint files as JSON text per record. */
export async function readCheckpointImage(
  fs: StoreFileSystem,
  root: string,
  scope: string,
): Promise<Map<CollectionName, Map<string, string>>> {
  const image = new Map<CollectionName, Map<string, string>>();
  const put = (c: CollectionName, key: string, value: unknown) => {
    let m = image.get(c);
    if (m === undefined) image.set(c, (m = new Map()));
    m.set(key, JSON.stringify(value));
  };
  if (scope === STORE_SCOPE) {
    const core = await readJson(fs, join(root, 'store.json'));
    if (core !== null) {
      if (typeof core.storeId === 'string') put('meta', 'storeId', core.storeId);
      // Other meta records (storeId keeps its place at the top, where commands listing stores read it).
      for (const [k, v] of Object.entries((core.meta ?? {}) as Raw)) put('meta', k, v);
      for (const [k, v] of Object.entries((core.requesters ?? {}) as Raw)) put('requesters', k, v);
      for (const [k, v] of Object.entries((core.runs ?? {}) as Raw)) put('runs', k, v);
      for (const [requester, byName] of Object.entries((core.qualifications ?? {}) as Raw))
        for (const [name, v] of Object.entries(byName as Raw))
          put('qualifications', qualificationKey(requester, name), v);
    }
    for (const [k, v] of Object.entries(recordsOf(await readJson(fs, join(root, 'workers.json')))))
      put('workers', k, v);
    return image;
  }
  const dir = join(root, RUNS_DIR, scope);
  const shards = (await fs.listDirectory(dir))
    .map((n) => SHARD_FILE.exec(n))
    .filter((m): m is RegExpExecArray => m !== null)
    .sort((a, b) => Number(a[2]) - Number(b[2]));
  for (const m of shards)
    for (const [k, v] of Object.entries(recordsOf(await readJson(fs, join(dir, m[0]))))) put(m[1] as ShardKind, k, v);
  return image;
}

/** Replaces a checkpoint file through lowdb and the store's atomic adapter (temp file, fsync, rename, fsync of the directory). */
async function replaceFile(fs: StoreFileSystem, path: string, data: unknown): Promise<number> {
  const adapter = new AtomicJsonAdapter<unknown>(path, fs);
  await new Low<unknown>(adapter, data).write();
  return adapter.lastWrite?.bytes ?? 0;
}

/**
 * Folds changes into a scope's lowdb files: only the files holding a changed record are
 * rewritten; a new record goes to the newest shard of its collection until it is full. Returns
 * the bytes written.
 */
export async function writeCheckpoint(
  fs: StoreFileSystem,
  root: string,
  environment: StoreEnvironment,
  scope: string,
  batches: readonly (readonly JournalChange[])[],
): Promise<{ bytes: number; files: string[] }> {
  const latest = new Map<string, JournalChange>();
  for (const changes of batches) for (const c of changes) latest.set(`${c[0]}\n${c[1]}`, c);
  const files: string[] = [];
  if (latest.size === 0) return { bytes: 0, files };
  let bytes = 0;
  const replace = async (path: string, data: unknown) => {
    files.push(path);
    bytes += await replaceFile(fs, path, data);
  };
  if (scope === STORE_SCOPE) {
    const corePath = join(root, 'store.json');
    const workersPath = join(root, 'workers.json');
    const changes = [...latest.values()];
    const coreChanges = changes.filter((c) => c[0] !== 'workers');
    const workerChanges = changes.filter((c) => c[0] === 'workers');
    const runCopies: [string, string | null][] = [];
    if (coreChanges.length > 0) {
      const core = (await readJson(fs, corePath)) ?? {
        ...fileHeader('store', environment),
        requesters: {},
        runs: {},
        qualifications: {},
      };
      const maps: Record<string, Raw> = {
        requesters: (core.requesters ?? {}) as Raw,
        runs: (core.runs ?? {}) as Raw,
        qualifications: (core.qualifications ?? {}) as Raw,
      };
      let storeId = core.storeId as string | undefined;
      const meta = { ...((core.meta ?? {}) as Raw) };
      for (const [collection, key, json] of coreChanges) {
        const value = json === null ? undefined : JSON.parse(json);
        if (collection === 'meta') {
          if (key === 'storeId') storeId = value as string | undefined;
          else if (value === undefined) delete meta[key];
          else meta[key] = value;
        } else if (collection === 'qualifications') {
          const at = key.indexOf('/');
          const [requester, name] = [key.slice(0, at), key.slice(at + 1)];
          const byName = ((maps.qualifications![requester] as Raw | undefined) ?? {}) as Raw;
          if (value === undefined) delete byName[name];
          else byName[name] = value;
          if (Object.keys(byName).length === 0) delete maps.qualifications![requester];
          else maps.qualifications![requester] = byName;
        } else if (collection === 'requesters' || collection === 'runs') {
          if (value === undefined) delete maps[collection]![key];
          else maps[collection]![key] = value;
          if (collection === 'runs') runCopies.push([key, json]);
        }
      }
      // The copies first: store.json, read directly by commands that list stores, is written last.
      // Every run's record is also kept in its own directory (so a damaged store.json never loses a run).
      for (const [runId, json] of runCopies) {
        if (json === null) continue;
        const dir = join(root, RUNS_DIR, runId);
        await fs.makeDirectory(dir);
        await replace(join(dir, 'run.json'), { ...fileHeader('run', environment, runId), run: JSON.parse(json) });
        await fs.syncDirectory(dir);
      }
      const { requesters: _r, runs: _u, qualifications: _q, storeId: _s, meta: _m, ...header } = core;
      const next = {
        ...header,
        ...(storeId === undefined ? {} : { storeId }),
        ...(Object.keys(meta).length === 0 ? {} : { meta }),
        requesters: maps.requesters,
        runs: maps.runs,
        qualifications: maps.qualifications,
      };
      await replace(corePath, next);
    }
    if (workerChanges.length > 0) {
      const file = (await readJson(fs, workersPath)) ?? { ...fileHeader('workers', environment), records: {} };
      const records = recordsOf(file);
      for (const [, key, json] of workerChanges) {
        if (json === null) delete records[key];
        else records[key] = JSON.parse(json);
      }
      await replace(workersPath, { ...file, records });
    }
    await fs.syncDirectory(root);
    return { bytes, files };
  }
  const dir = join(root, RUNS_DIR, scope);
  await fs.makeDirectory(dir);
  const byKind = new Map<ShardKind, JournalChange[]>();
  for (const c of latest.values()) {
    const list = byKind.get(c[0] as ShardKind);
    if (list === undefined) byKind.set(c[0] as ShardKind, [c]);
    else list.push(c);
  }
  const names = await fs.listDirectory(dir);
  for (const [kind, changes] of byKind) {
    const indexes = names
      .map((n) => SHARD_FILE.exec(n))
      .filter((m): m is RegExpExecArray => m !== null && m[1] === kind)
      .map((m) => Number(m[2]))
      .sort((a, b) => a - b);
    // One shard in memory at a time: each is read, given the changes of the records it holds,
    // written if any, and let go. Holding every shard of a kind parsed until the end made a fold
    // at 10,000 units keep ~46 MB of files as objects at once (the process's memory peak).
    const pending = new Map<string, string | null>();
    for (const [, key, json] of changes) pending.set(key, json);
    const pathOf = (i: number) => join(root, shardFilePath(scope, kind, i));
    const last = indexes.at(-1);
    for (const i of indexes) {
      if (pending.size === 0) break;
      // The newest shard also takes the records no shard holds, once every other has been read.
      if (i === last) continue;
      const file = (await readJson(fs, pathOf(i)))!;
      if (applyHeld(file, pending)) await replace(pathOf(i), file);
    }
    if (pending.size === 0) continue;
    let newest = last;
    let file: Raw =
      newest === undefined
        ? { ...fileHeader(kind, environment, scope, 0), records: {} }
        : (await readJson(fs, pathOf(newest)))!;
    newest ??= 0;
    let changed = applyHeld(file, pending);
    for (const [key, json] of pending) {
      // A delete of a record no shard holds changes nothing.
      if (json === null) continue;
      if (Object.keys(recordsOf(file)).length >= SHARD_CAPACITY[kind]) {
        if (changed) await replace(pathOf(newest), file);
        newest++;
        file = { ...fileHeader(kind, environment, scope, newest), records: {} };
      }
      if (file.records === undefined) file.records = {};
      (file.records as Raw)[key] = JSON.parse(json);
      changed = true;
    }
    if (changed) await replace(pathOf(newest), file);
  }
  await fs.syncDirectory(dir);
  return { bytes, files };
}
