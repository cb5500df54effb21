/**
 * The engine's records written through to SQLite: each record is one row of `records` (kind, id,
 * JSON), and each request's changes are committed before its reply leaves (the requests of one
 * turn of the event loop in one transaction: the group commit of `index.ts`).
 *
 * How the changed records are found without touching the engine: every record the engine
 * changes is reached through one of the state's maps (`hits.get(id)`), or passes through
 * `indexHit` / `indexAssignment`, or is appended to the bonus or notification log. The tracker
 * wraps those methods on this state instance and notes the keys; a flush writes the noted rows
 * (a read-only call notes keys too, but writes nothing unless the engine reported a change).
 * So a call costs a handful of row upserts, never a rewrite of the whole state. The test
 * `test/serve/store.test.ts` reloads the database after randomized calls and compares it with the
 * live state, which catches a record changed by a path the tracker does not see.
 *
 * @module
 */
import type {
  AccountRecord,
  AssignmentRecord,
  BonusRecord,
  HitRecord,
  HitTypeRecord,
  NotificationRecord,
  QualificationGrantRecord,
  QualificationRequestRecord,
  QualificationTypeRecord,
  TokenRecord,
  WorkerBlockRecord,
  WorkerRecord,
} from '../model.js';
import { hitTypePropsKey } from '../operations/hits.js';
import { NOTIFICATION_LOG_LIMIT, SimState, type StateRecords } from '../state.js';
import type { Db } from './db.js';

/** The keyed record kinds, each with the state map that holds it. */
const MAP_KINDS = {
  account: 'accounts',
  hitType: 'hitTypes',
  hit: 'hits',
  assignment: 'assignments',
  qualificationType: 'qualificationTypes',
  grant: 'grants',
  qualificationRequest: 'qualificationRequests',
  worker: 'workers',
  token: 'tokens',
  block: 'blocks',
} as const satisfies Record<string, keyof SimState>;
type MapKind = keyof typeof MAP_KINDS;

/** Sequence numbers as row ids that sort as numbers do. */
const seqId = (seq: number): string => String(seq).padStart(12, '0');

/** What {@link loadState} read. */
export interface LoadedState {
  state: SimState;
  /** The id generator's state, when the database has run before. */
  idPrngState: number | undefined;
}

/** Options of {@link loadState} and {@link RecordWriter}. */
export interface StoreOptions {
  /**
   * Keep every record in memory, deleted HITs and all assignments included (`hitstate sim`,
   * whose `inspect()` shows everything): read all rows at start, let nothing leave memory.
   * @defaultValue false (`serve`: live records only, dormant HITs' assignments on disk)
   */
  everything?: boolean;
}

/** Reads the engine's records from the database (an empty state for a new database). */
export function loadState(db: Db, options: StoreOptions = {}): LoadedState {
  const r: Required<StateRecords> = {
    seq: 0,
    accounts: [],
    hitTypes: [],
    hits: [],
    assignments: [],
    qualificationTypes: [],
    grants: [],
    qualificationRequests: [],
    bonuses: [],
    blocks: [],
    workers: [],
    tokens: [],
    notifications: [],
  };
  const into: Record<string, unknown[]> = {
    account: r.accounts,
    hitType: r.hitTypes,
    hit: r.hits,
    assignment: r.assignments,
    qualificationType: r.qualificationTypes,
    grant: r.grants,
    qualificationRequest: r.qualificationRequests,
    worker: r.workers,
    token: r.tokens,
    block: r.blocks,
    bonus: r.bonuses,
    notification: r.notifications,
  };
  // Only live records: a deleted HIT and its assignments are read when asked for (RecordWriter).
  // Rows come in (kind, id) order: bonuses and notifications by sequence, as the state keeps them.
  // Assignments are read per HIT below, all but the kinds' ranges around them here.
  // INDEXED BY: the covering index of live rows (migration 6); without statistics the planner
  // would walk the table.
  const live = (range: string) =>
    db
      .prepare(
        `SELECT kind, data FROM records INDEXED BY records_live_rows WHERE live = 1 AND ${range} ORDER BY kind, hit_id, id`,
      )
      .raw()
      .iterate() as Iterable<[string, string]>;
  if (options.everything) {
    for (const [kind, data] of db
      .prepare('SELECT kind, data FROM records ORDER BY kind, id')
      .raw()
      .iterate() as Iterable<[string, string]>)
      into[kind]?.push(JSON.parse(data));
  } else
    for (const range of ["kind < 'assignment'", "kind > 'assignment'"])
      for (const [kind, data] of live(range)) into[kind]?.push(JSON.parse(data));
  // A HIT that takes no new work and whose every assignment is finished is dormant: its
  // assignments stay on disk until asked for (most of a platform's live HITs, once reviewed).
  const assignmentsOf = liveAssignmentsReader(db);
  const dormant: string[] = [];
  if (!options.everything)
    for (const hit of r.hits as HitRecord[]) {
      if (isDormant(hit)) dormant.push(hit.hitId);
      else for (const a of assignmentsOf(hit.hitId)) r.assignments.push(a);
    }
  const meta = readMeta(db);
  r.seq = Number(meta.seq ?? 0);
  if (r.notifications.length > NOTIFICATION_LOG_LIMIT) r.notifications = r.notifications.slice(-NOTIFICATION_LOG_LIMIT);
  const state = SimState.fromRecords(r, hitTypePropsKey);
  for (const hitId of dormant) state.markDormant(hitId, assignmentsOf);
  for (const [account, workerId] of db.prepare('SELECT account, worker_id FROM worked_for').raw().iterate() as Iterable<
    [string, string]
  >)
    state.markWorkedFor(account, workerId);
  return {
    state,
    idPrngState: meta.idPrng === undefined ? undefined : Number(meta.idPrng),
  };
}

/** Whether a HIT's assignments can stay on disk at start (see `SimState.markDormant`). */
function isDormant(hit: HitRecord): boolean {
  return !hit.disposed && hit.status !== 'Assignable' && hit.pending === 0 && hit.submitted === 0;
}

/** Reads the assignments of a live HIT, next to each other in the live rows' index. */
function liveAssignmentsReader(db: Db): (hitId: string) => AssignmentRecord[] {
  const rows = db
    .prepare(
      "SELECT data FROM records INDEXED BY records_live_rows WHERE live = 1 AND kind = 'assignment' AND hit_id = ?",
    )
    .pluck();
  return (hitId) => (rows.all(hitId) as string[]).map((d) => JSON.parse(d) as AssignmentRecord);
}

/** The `meta` table as an object. */
export function readMeta(db: Db): Record<string, string> {
  const out: Record<string, string> = {};
  for (const row of db.prepare('SELECT key, value FROM meta').all() as { key: string; value: string }[])
    out[row.key] = row.value;
  return out;
}

/** Something else written in the same transaction as the records (the ledger, applied operator changes). */
export type FlushPart = (db: Db) => void;

/**
 * Notes which records a request touches and writes them in one transaction on {@link flush}.
 * Attach it once, right after the state is loaded.
 */
export class RecordWriter {
  readonly #db: Db;
  readonly #state: SimState;
  readonly #touched = new Map<MapKind, Set<string>>();
  readonly #rawGet = new Map<MapKind, (key: string) => unknown>();
  readonly #parts: FlushPart[] = [];
  readonly #meta: () => Record<string, string>;
  #bonusesWritten: number;
  #lastNotificationSeq: number;
  #firstNotificationSeq: number;
  #seq: number;
  #dirty = false;
  readonly #upsert;
  readonly #delete;
  readonly #insert;
  readonly #putMeta;
  readonly #trimNotifications;
  readonly #coldHit;
  readonly #coldAssignmentsOf;
  readonly #assignmentHit;
  readonly #retire;
  readonly #workedFor;
  /** Deleted HITs in memory only until the next flush: read on demand, or deleted since the last one. */
  readonly #evict = new Set<string>();

  readonly #everything: boolean;

  /** @param meta what to store in `meta` with every write (e.g. the id generator's state). */
  constructor(db: Db, state: SimState, meta: () => Record<string, string>, options: StoreOptions = {}) {
    this.#db = db;
    this.#everything = options.everything ?? false;
    this.#state = state;
    this.#meta = meta;
    this.#bonusesWritten = state.bonuses.length;
    this.#lastNotificationSeq = state.notifications.at(-1)?.seq ?? 0;
    this.#firstNotificationSeq = state.notifications[0]?.seq ?? 0;
    this.#upsert = db.prepare(
      `INSERT INTO records (kind, id, data, live, hit_id, worker_id) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (kind, id) DO UPDATE SET data = excluded.data, live = excluded.live,
         hit_id = excluded.hit_id, worker_id = excluded.worker_id`,
    );
    this.#coldHit = db.prepare("SELECT data FROM records WHERE kind = 'hit' AND id = ? AND live = 0").pluck();
    this.#coldAssignmentsOf = db
      .prepare("SELECT data FROM records WHERE hit_id = ? AND kind = 'assignment' AND live = 0")
      .pluck();
    this.#assignmentHit = db.prepare("SELECT hit_id, live FROM records WHERE kind = 'assignment' AND id = ?").raw();
    this.#retire = db.prepare("UPDATE records SET live = 0 WHERE hit_id = ? AND kind = 'assignment'");
    this.#workedFor = db.prepare('INSERT OR IGNORE INTO worked_for (account, worker_id) VALUES (?, ?)');
    this.#delete = db.prepare('DELETE FROM records WHERE kind = ? AND id = ?');
    this.#insert = db.prepare('INSERT OR REPLACE INTO records (kind, id, data) VALUES (?, ?, ?)');
    this.#putMeta = db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)');
    this.#trimNotifications = db.prepare("DELETE FROM records WHERE kind = 'notification' AND id < ?");
    const seqRow = db.prepare("SELECT value FROM meta WHERE key = 'seq'").get() as { value: string } | undefined;
    this.#seq = Number(seqRow?.value ?? 0);
    this.#track();
  }

  #track(): void {
    const state = this.#state;
    for (const [kind, field] of Object.entries(MAP_KINDS) as [MapKind, keyof SimState][]) {
      const map = state[field] as unknown as Map<string, unknown>;
      const touched = new Set<string>();
      this.#touched.set(kind, touched);
      const get = map.get.bind(map);
      const set = map.set.bind(map);
      const del = map.delete.bind(map);
      this.#rawGet.set(kind, get);
      const miss =
        kind === 'hit'
          ? (key: string) => this.#restoreHit(key)
          : kind === 'assignment'
            ? (key: string) => {
                // Not in memory: an assignment of a deleted HIT, or of a dormant one, or none.
                const row = this.#assignmentHit.get(key) as [string, number] | undefined;
                if (row === undefined) return undefined;
                const [hitId, live] = row;
                if (live === 0) return this.#restoreHit(hitId) ? get(key) : undefined;
                if (!this.#state.isDormant(hitId)) return undefined;
                this.#state.wake(hitId);
                return get(key);
              }
            : undefined;
      map.get = (key: string) => {
        let v = get(key);
        if (v === undefined && miss !== undefined) v = miss(key);
        if (v !== undefined) touched.add(key);
        return v;
      };
      map.set = (key: string, value: unknown) => {
        touched.add(key);
        return set(key, value);
      };
      map.delete = (key: string) => {
        touched.add(key);
        return del(key);
      };
    }
    // A HIT or assignment found through an index (a HIT group's oldest HIT) is re-indexed when it changes.
    const hits = this.#touched.get('hit')!;
    const assignments = this.#touched.get('assignment')!;
    const indexHit = state.indexHit.bind(state);
    const indexAssignment = state.indexAssignment.bind(state);
    const nextSeq = state.nextSeq.bind(state);
    state.indexHit = (hit: HitRecord) => {
      hits.add(hit.hitId);
      indexHit(hit);
    };
    state.indexAssignment = (a: AssignmentRecord) => {
      assignments.add(a.assignmentId);
      indexAssignment(a);
    };
    state.nextSeq = () => {
      this.#seq = nextSeq();
      return this.#seq;
    };
  }

  /** Reads a deleted HIT and its assignments back into memory until the next flush. */
  #restoreHit(hitId: string): HitRecord | undefined {
    const data = this.#coldHit.get(hitId) as string | undefined;
    if (data === undefined) return undefined;
    const hit = JSON.parse(data) as HitRecord;
    const assignments = (this.#coldAssignmentsOf.all(hitId) as string[])
      .map((d) => JSON.parse(d) as AssignmentRecord)
      .sort((x, y) => x.seq - y.seq);
    this.#state.restoreDisposedHit(hit, assignments);
    this.#evict.add(hitId);
    return hit;
  }

  /** Forgets the deleted HITs read or deleted since the last flush (they are on disk). */
  #evictDisposed(): void {
    for (const hitId of this.#evict) this.#state.evictDisposedHit(hitId);
    this.#evict.clear();
  }

  /** The row of one record: whether it is loaded at start, and the keys it is found by. */
  #writeRecord(kind: MapKind, key: string, v: unknown): void {
    if (kind === 'hit') {
      const hit = v as HitRecord;
      if (hit.disposed) {
        // Its assignments leave memory with it; their rows say so even when unchanged.
        this.#retire.run(key);
        if (!this.#everything) this.#evict.add(key);
      }
      this.#upsert.run(kind, key, JSON.stringify(v), hit.disposed ? 0 : 1, null, null);
    } else if (kind === 'assignment') {
      const a = v as AssignmentRecord;
      const hit = this.#rawGet.get('hit')!(a.hitId) as HitRecord | undefined;
      this.#upsert.run(kind, key, JSON.stringify(v), hit?.disposed ? 0 : 1, a.hitId, a.workerId);
      if (a.status === 'Approved' || a.status === 'Rejected') this.#workedFor.run(a.account, a.workerId);
    } else this.#upsert.run(kind, key, JSON.stringify(v), 1, null, null);
  }

  /**
   * Writes every record of the state now, in one transaction: a state made elsewhere (a JSON
   * state file being imported) into an empty database.
   */
  writeAll(): void {
    this.#db.transaction(() => {
      for (const [kind, field] of Object.entries(MAP_KINDS) as [MapKind, keyof SimState][])
        for (const [key, v] of (this.#state[field] as unknown as Map<string, unknown>).entries())
          this.#writeRecord(kind, key, v);
      for (const b of this.#state.bonuses) this.#insert.run('bonus', seqId(b.seq), JSON.stringify(b));
      for (const n of this.#state.notifications) this.#insert.run('notification', seqId(n.seq), JSON.stringify(n));
      this.#seq = this.#state.lastSeq;
      this.#putMeta.run('seq', String(this.#seq));
      for (const [k, v] of Object.entries(this.#meta())) this.#putMeta.run(k, v);
    })();
    this.#evictDisposed();
  }

  /** The engine reported a change: the next {@link flush} writes. */
  markDirty(): void {
    this.#dirty = true;
  }

  /** Adds a part written in the next transaction (and marks the writer dirty). */
  include(part: FlushPart): void {
    this.#parts.push(part);
    this.#dirty = true;
  }

  /** Whether anything waits to be written. */
  get dirty(): boolean {
    return (
      this.#dirty ||
      this.#state.bonuses.length > this.#bonusesWritten ||
      (this.#state.notifications.at(-1)?.seq ?? 0) > this.#lastNotificationSeq
    );
  }

  /**
   * Writes every noted change in one transaction; forgets the notes of read-only requests.
   *
   * @throws the SQLite error when the write fails; nothing of the transaction is kept then.
   */
  flush(): void {
    if (!this.dirty) {
      for (const t of this.#touched.values()) t.clear();
      this.#evictDisposed();
      return;
    }
    const parts = this.#parts.splice(0);
    this.#db.transaction(() => {
      for (const [kind, keys] of this.#touched) {
        const get = this.#rawGet.get(kind)!;
        for (const key of keys) {
          const v = get(key);
          if (v === undefined) this.#delete.run(kind, key);
          else this.#writeRecord(kind, key, v);
        }
      }
      const bonuses = this.#state.bonuses;
      for (let i = this.#bonusesWritten; i < bonuses.length; i++) {
        const b = bonuses[i]!;
        this.#insert.run('bonus', seqId(b.seq), JSON.stringify(b));
      }
      const notes = this.#state.notifications;
      let i = notes.length;
      while (i > 0 && notes[i - 1]!.seq > this.#lastNotificationSeq) i--;
      for (; i < notes.length; i++) this.#insert.run('notification', seqId(notes[i]!.seq), JSON.stringify(notes[i]));
      const first = notes[0]?.seq ?? 0;
      if (first > this.#firstNotificationSeq) this.#trimNotifications.run(seqId(first));
      this.#putMeta.run('seq', String(this.#seq));
      for (const [k, v] of Object.entries(this.#meta())) this.#putMeta.run(k, v);
      for (const part of parts) part(this.#db);
    })();
    // Only after the commit: a failed write leaves every note in place for the next try.
    for (const t of this.#touched.values()) t.clear();
    this.#bonusesWritten = this.#state.bonuses.length;
    this.#lastNotificationSeq = this.#state.notifications.at(-1)?.seq ?? this.#lastNotificationSeq;
    this.#firstNotificationSeq = this.#state.notifications[0]?.seq ?? this.#firstNotificationSeq;
    this.#dirty = false;
    this.#evictDisposed();
  }
}

/** Record types by kind, for readers of the `records` table (the ledger check, `requester list`). */
export interface RecordTypes {
  account: AccountRecord;
  hitType: HitTypeRecord;
  hit: HitRecord;
  assignment: AssignmentRecord;
  qualificationType: QualificationTypeRecord;
  grant: QualificationGrantRecord;
  qualificationRequest: QualificationRequestRecord;
  worker: WorkerRecord;
  token: TokenRecord;
  block: WorkerBlockRecord;
  bonus: BonusRecord;
  notification: NotificationRecord;
}

/** One record from the database, or undefined. */
export function readRecord<K extends keyof RecordTypes>(db: Db, kind: K, id: string): RecordTypes[K] | undefined {
  const row = db.prepare('SELECT data FROM records WHERE kind = ? AND id = ?').get(kind, id) as
    | { data: string }
    | undefined;
  return row ? (JSON.parse(row.data) as RecordTypes[K]) : undefined;
}
