/**
 * The simulator's data and its indexes. Records are plain data (see `model.ts`); every list an
 * operation pages through has an {@link OrderedIndex}, so no request scans all HITs.
 *
 * This module only stores and indexes. The rules (what a status becomes, what is paid) live in
 * `engine.ts`, which calls {@link SimState.unindexHit} before changing a HIT and
 * {@link SimState.indexHit} after.
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
  VisibleAssignmentStatus,
  WorkerBlockRecord,
  WorkerRecord,
} from './model.js';
import { OrderedIndex } from './ordered-index.js';

/** Everything the state file holds (besides id generator state and the format header). */
export interface StateRecords {
  seq: number;
  accounts: AccountRecord[];
  hitTypes: HitTypeRecord[];
  hits: HitRecord[];
  assignments: AssignmentRecord[];
  qualificationTypes: QualificationTypeRecord[];
  grants: QualificationGrantRecord[];
  /** Absent in files written before qualification requests existed. */
  qualificationRequests?: QualificationRequestRecord[];
  bonuses: BonusRecord[];
  blocks: WorkerBlockRecord[];
  workers: WorkerRecord[];
  tokens: TokenRecord[];
  notifications: NotificationRecord[];
}

/** How many notification events are kept; older ones are dropped first. */
export const NOTIFICATION_LOG_LIMIT = 10_000;

const key = (...parts: string[]): string => parts.join('\n');

function indexIn<V>(map: Map<string, OrderedIndex<V>>, k: string): OrderedIndex<V> {
  let ix = map.get(k);
  if (ix === undefined) {
    ix = new OrderedIndex<V>();
    map.set(k, ix);
  }
  return ix;
}

const EMPTY = new OrderedIndex<never>();

/** The simulator's records and indexes. */
export class SimState {
  #seq = 0;
  readonly accounts = new Map<string, AccountRecord>();
  readonly hitTypes = new Map<string, HitTypeRecord>();
  readonly #hitTypeByProps = new Map<string, string>();
  readonly hits = new Map<string, HitRecord>();
  readonly assignments = new Map<string, AssignmentRecord>();
  readonly qualificationTypes = new Map<string, QualificationTypeRecord>();
  readonly #qualTypeByName = new Map<string, string>();
  readonly grants = new Map<string, QualificationGrantRecord>();
  readonly qualificationRequests = new Map<string, QualificationRequestRecord>();
  readonly workers = new Map<string, WorkerRecord>();
  readonly tokens = new Map<string, TokenRecord>();
  readonly bonuses: BonusRecord[] = [];
  /** HITs whose assignments are on disk only (see {@link SimState.markDormant}). */
  readonly #dormant = new Set<string>();
  #readDormant: ((hitId: string) => AssignmentRecord[]) | undefined;
  readonly blocks = new Map<string, WorkerBlockRecord>();
  notifications: NotificationRecord[] = [];

  readonly #hitsByAccount = new Map<string, OrderedIndex<HitRecord>>();
  readonly #hitsByQualType = new Map<string, OrderedIndex<HitRecord>>();
  readonly #assignableByType = new Map<string, OrderedIndex<HitRecord>>();
  readonly #reviewable = new Map<string, OrderedIndex<HitRecord>>();
  readonly #assignmentsByHit = new Map<string, OrderedIndex<AssignmentRecord>>();
  readonly #allAssignmentsByHit = new Map<string, AssignmentRecord[]>();
  readonly #heldByWorker = new Map<string, AssignmentRecord>();
  readonly #workedFor = new Set<string>();
  readonly #bonusesByAssignment = new Map<string, OrderedIndex<BonusRecord>>();
  readonly #bonusesByHit = new Map<string, OrderedIndex<BonusRecord>>();
  readonly #bonusesByAccount = new Map<string, BonusRecord[]>();
  readonly #blocksByAccount = new Map<string, OrderedIndex<WorkerBlockRecord>>();
  readonly #qualTypesByAccount = new Map<string, OrderedIndex<QualificationTypeRecord>>();
  readonly #allQualTypes = new OrderedIndex<QualificationTypeRecord>();
  readonly #grantsByTypeStatus = new Map<string, OrderedIndex<QualificationGrantRecord>>();
  readonly #pendingRequests = new Map<string, OrderedIndex<QualificationRequestRecord>>();
  readonly #latestRequest = new Map<string, QualificationRequestRecord>();

  /** The last number taken from the sequence (0: none yet). */
  get lastSeq(): number {
    return this.#seq;
  }

  /** The next number of the one sequence that orders everything (creation, submission, review). */
  nextSeq(): number {
    return ++this.#seq;
  }

  // --- accounts, workers -------------------------------------------------------------------

  addAccount(account: AccountRecord): void {
    this.accounts.set(account.accessKeyId, account);
  }

  addWorker(worker: WorkerRecord): void {
    this.workers.set(worker.workerId, worker);
  }

  // --- HIT types ---------------------------------------------------------------------------

  /** The HIT type of `account` with exactly these properties (CreateHITType reuses it). */
  hitTypeByProps(account: string, props: string): HitTypeRecord | undefined {
    const id = this.#hitTypeByProps.get(key(account, props));
    return id === undefined ? undefined : this.hitTypes.get(id);
  }

  addHitType(type: HitTypeRecord, props: string): void {
    this.hitTypes.set(type.hitTypeId, type);
    this.#hitTypeByProps.set(key(type.account, props), type.hitTypeId);
  }

  // --- HITs --------------------------------------------------------------------------------

  addHit(hit: HitRecord): void {
    this.hits.set(hit.hitId, hit);
    this.#allAssignmentsByHit.set(hit.hitId, []);
    this.indexHit(hit);
  }

  /** Removes the HIT from every status-dependent index; call before changing status, type or disposal. */
  unindexHit(hit: HitRecord): void {
    this.#hitsByAccount.get(hit.account)?.delete(hit.seq);
    for (const req of this.hitTypes.get(hit.hitTypeId)?.qualificationRequirements ?? []) {
      this.#hitsByQualType.get(key(hit.account, req.QualificationTypeId))?.delete(hit.seq);
    }
    this.#assignableByType.get(hit.hitTypeId)?.delete(hit.seq);
    for (const k of [key(hit.account, hit.status), key(hit.account, hit.status, hit.hitTypeId)])
      this.#reviewable.get(k)?.delete(hit.reviewSeq);
  }

  /** Adds the HIT to the indexes its current status, type and disposal call for. */
  indexHit(hit: HitRecord): void {
    if (hit.disposed) return;
    indexIn(this.#hitsByAccount, hit.account).set(hit.seq, hit);
    for (const req of this.hitTypes.get(hit.hitTypeId)?.qualificationRequirements ?? []) {
      indexIn(this.#hitsByQualType, key(hit.account, req.QualificationTypeId)).set(hit.seq, hit);
    }
    if (hit.status === 'Assignable') indexIn(this.#assignableByType, hit.hitTypeId).set(hit.seq, hit);
    if (hit.status === 'Reviewable' || hit.status === 'Reviewing') {
      indexIn(this.#reviewable, key(hit.account, hit.status)).set(hit.reviewSeq, hit);
      indexIn(this.#reviewable, key(hit.account, hit.status, hit.hitTypeId)).set(hit.reviewSeq, hit);
    }
  }

  /** The account's HITs that are not disposed, in creation order. */
  hitsOf(account: string): OrderedIndex<HitRecord> {
    return this.#hitsByAccount.get(account) ?? EMPTY;
  }

  /** The account's live HITs with a requirement on the qualification type, in creation order. */
  hitsRequiring(account: string, qualificationTypeId: string): OrderedIndex<HitRecord> {
    return this.#hitsByQualType.get(key(account, qualificationTypeId)) ?? EMPTY;
  }

  /** Assignable HITs of a HIT type (= HIT group), oldest first. */
  assignableHitsOf(hitTypeId: string): OrderedIndex<HitRecord> {
    return this.#assignableByType.get(hitTypeId) ?? EMPTY;
  }

  /** Reviewable or Reviewing HITs of the account (optionally of one HIT type), in the order they became so. */
  reviewableHits(account: string, status: 'Reviewable' | 'Reviewing', hitTypeId?: string): OrderedIndex<HitRecord> {
    const k = hitTypeId === undefined ? key(account, status) : key(account, status, hitTypeId);
    return this.#reviewable.get(k) ?? EMPTY;
  }

  // --- assignments -------------------------------------------------------------------------

  addAssignment(a: AssignmentRecord): void {
    this.#wakeIfDormant(a.hitId);
    this.assignments.set(a.assignmentId, a);
    this.#allAssignmentsByHit.get(a.hitId)?.push(a);
    this.indexAssignment(a);
  }

  /** Every assignment of a HIT, whatever its status, in accept order. */
  allAssignmentsOf(hitId: string): readonly AssignmentRecord[] {
    this.#wakeIfDormant(hitId);
    return this.#allAssignmentsByHit.get(hitId) ?? [];
  }

  unindexAssignment(a: AssignmentRecord): void {
    if (a.submitSeq !== undefined) this.#assignmentsByHit.get(key(a.hitId, a.status))?.delete(a.submitSeq);
    const held = key(a.hitId, a.workerId);
    if (this.#heldByWorker.get(held) === a) this.#heldByWorker.delete(held);
  }

  indexAssignment(a: AssignmentRecord): void {
    this.#indexAssignment(a);
  }

  // Kept apart from the public method, which a store may wrap to note changes: restoring is no change.
  #indexAssignment(a: AssignmentRecord): void {
    if (a.submitSeq !== undefined && (a.status === 'Submitted' || a.status === 'Approved' || a.status === 'Rejected')) {
      indexIn(this.#assignmentsByHit, key(a.hitId, a.status)).set(a.submitSeq, a);
    }
    if (a.status !== 'Returned' && a.status !== 'Abandoned') this.#heldByWorker.set(key(a.hitId, a.workerId), a);
    if (a.status === 'Approved' || a.status === 'Rejected') this.#workedFor.add(key(a.account, a.workerId));
  }

  /** Records that the account approved or rejected work of the worker (for work kept out of memory). */
  markWorkedFor(account: string, workerId: string): void {
    this.#workedFor.add(key(account, workerId));
  }

  /**
   * Puts a deleted (disposed) HIT and its assignments back in memory, indexed, as a store that
   * keeps only live records in memory reads them on demand. Not a change: the maps' own methods
   * are bypassed so a store tracking them does not write the records again.
   */
  restoreDisposedHit(hit: HitRecord, assignments: readonly AssignmentRecord[]): void {
    Map.prototype.set.call(this.hits, hit.hitId, hit);
    this.#allAssignmentsByHit.set(hit.hitId, [...assignments]);
    for (const a of assignments) {
      Map.prototype.set.call(this.assignments, a.assignmentId, a);
      this.#indexAssignment(a);
    }
  }

  /**
   * Forgets a deleted HIT and its assignments (they stay in the store, which can restore them);
   * the reverse of {@link restoreDisposedHit}. A HIT that is not disposed is left in place.
   */
  evictDisposedHit(hitId: string): void {
    const hit = Map.prototype.get.call(this.hits, hitId) as HitRecord | undefined;
    if (!hit?.disposed) return;
    this.#dormant.delete(hitId); // its assignments were never read: nothing of them to forget
    for (const a of this.#allAssignmentsByHit.get(hitId) ?? []) {
      this.unindexAssignment(a);
      Map.prototype.delete.call(this.assignments, a.assignmentId);
    }
    for (const status of ['Submitted', 'Approved', 'Rejected']) this.#assignmentsByHit.delete(key(hitId, status));
    this.#allAssignmentsByHit.delete(hitId);
    Map.prototype.delete.call(this.hits, hitId);
  }

  /**
   * A HIT whose assignments are all finished (approved, rejected, returned or abandoned) and that
   * takes no new ones: nothing runs on its assignments until someone asks for them, so a store
   * may leave them on disk. Marked dormant, the HIT's assignments are read through `read` the
   * first time any of them is needed (by HIT, by worker on the HIT, or by id through the store),
   * indexed as a restored HIT's are, and stay in memory from then on.
   */
  markDormant(hitId: string, read: (hitId: string) => AssignmentRecord[]): void {
    this.#dormant.add(hitId);
    this.#readDormant = read;
  }

  /** Whether the HIT's assignments are still on disk only (see {@link markDormant}). */
  isDormant(hitId: string): boolean {
    return this.#dormant.has(hitId);
  }

  /** Reads a dormant HIT's assignments into memory; a no-op for any other HIT. Not a change. */
  wake(hitId: string): void {
    this.#wakeIfDormant(hitId);
  }

  #wakeIfDormant(hitId: string): void {
    if (this.#dormant.size === 0 || !this.#dormant.delete(hitId)) return;
    const assignments = this.#readDormant!(hitId).sort((x, y) => x.seq - y.seq);
    this.#allAssignmentsByHit.set(hitId, assignments);
    for (const a of assignments) {
      Map.prototype.set.call(this.assignments, a.assignmentId, a);
      this.#indexAssignment(a);
    }
  }

  /** Whether the account approved or rejected work of the worker (NotifyWorkers only reaches those). */
  hasWorkedFor(account: string, workerId: string): boolean {
    return this.#workedFor.has(key(account, workerId));
  }

  /** Submitted, approved or rejected assignments of a HIT with that status, in submission order. */
  assignmentsOf(hitId: string, status: VisibleAssignmentStatus): OrderedIndex<AssignmentRecord> {
    this.#wakeIfDormant(hitId);
    return this.#assignmentsByHit.get(key(hitId, status)) ?? EMPTY;
  }

  /** The assignment a worker holds (accepted, submitted or decided) on a HIT, if any. */
  heldBy(hitId: string, workerId: string): AssignmentRecord | undefined {
    this.#wakeIfDormant(hitId);
    return this.#heldByWorker.get(key(hitId, workerId));
  }

  // --- bonuses, blocks ---------------------------------------------------------------------

  addBonus(b: BonusRecord): void {
    this.bonuses.push(b);
    indexIn(this.#bonusesByAssignment, b.assignmentId).set(b.seq, b);
    indexIn(this.#bonusesByHit, b.hitId).set(b.seq, b);
    const list = this.#bonusesByAccount.get(b.account) ?? [];
    list.push(b);
    this.#bonusesByAccount.set(b.account, list);
  }

  bonusesOfAssignment(assignmentId: string): OrderedIndex<BonusRecord> {
    return this.#bonusesByAssignment.get(assignmentId) ?? EMPTY;
  }

  bonusesOfHit(hitId: string): OrderedIndex<BonusRecord> {
    return this.#bonusesByHit.get(hitId) ?? EMPTY;
  }

  bonusesOfAccount(account: string): readonly BonusRecord[] {
    return this.#bonusesByAccount.get(account) ?? [];
  }

  block(account: string, workerId: string): WorkerBlockRecord | undefined {
    return this.blocks.get(key(account, workerId));
  }

  putBlock(b: WorkerBlockRecord): void {
    const existing = this.block(b.account, b.workerId);
    if (existing) indexIn(this.#blocksByAccount, b.account).delete(existing.seq);
    this.blocks.set(key(b.account, b.workerId), b);
    indexIn(this.#blocksByAccount, b.account).set(b.seq, b);
  }

  removeBlock(account: string, workerId: string): void {
    const existing = this.block(account, workerId);
    if (!existing) return;
    this.blocks.delete(key(account, workerId));
    this.#blocksByAccount.get(account)?.delete(existing.seq);
  }

  blocksOf(account: string): OrderedIndex<WorkerBlockRecord> {
    return this.#blocksByAccount.get(account) ?? EMPTY;
  }

  // --- qualification types and grants ------------------------------------------------------

  addQualificationType(q: QualificationTypeRecord): void {
    this.qualificationTypes.set(q.qualificationTypeId, q);
    if (q.deleted) return;
    this.#qualTypeByName.set(key(q.account, q.name), q.qualificationTypeId);
    indexIn(this.#qualTypesByAccount, q.account).set(q.seq, q);
    this.#allQualTypes.set(q.seq, q);
  }

  /** Registers a built-in (system) type in the global listing, under a negative key so it comes first. */
  addSystemQualificationType(q: QualificationTypeRecord, order: number): void {
    this.#allQualTypes.set(-1000 + order, q);
  }

  removeQualificationType(q: QualificationTypeRecord): void {
    q.deleted = true;
    this.#qualTypeByName.delete(key(q.account, q.name));
    this.#qualTypesByAccount.get(q.account)?.delete(q.seq);
    this.#allQualTypes.delete(q.seq);
  }

  qualificationTypeByName(account: string, name: string): QualificationTypeRecord | undefined {
    const id = this.#qualTypeByName.get(key(account, name));
    return id === undefined ? undefined : this.qualificationTypes.get(id);
  }

  qualificationTypesOf(account: string): OrderedIndex<QualificationTypeRecord> {
    return this.#qualTypesByAccount.get(account) ?? EMPTY;
  }

  allQualificationTypes(): OrderedIndex<QualificationTypeRecord> {
    return this.#allQualTypes;
  }

  grant(qualificationTypeId: string, workerId: string): QualificationGrantRecord | undefined {
    return this.grants.get(key(qualificationTypeId, workerId));
  }

  putGrant(g: QualificationGrantRecord): void {
    const existing = this.grant(g.qualificationTypeId, g.workerId);
    if (existing)
      this.#grantsByTypeStatus.get(key(existing.qualificationTypeId, existing.status))?.delete(existing.seq);
    this.grants.set(key(g.qualificationTypeId, g.workerId), g);
    indexIn(this.#grantsByTypeStatus, key(g.qualificationTypeId, g.status)).set(g.seq, g);
  }

  grantsOf(qualificationTypeId: string, status: 'Granted' | 'Revoked'): OrderedIndex<QualificationGrantRecord> {
    return this.#grantsByTypeStatus.get(key(qualificationTypeId, status)) ?? EMPTY;
  }

  /** Adds or updates a qualification request, keeping the pending indexes (per account, per account and type) right. */
  putQualificationRequest(r: QualificationRequestRecord): void {
    const latest = this.#latestRequest.get(key(r.qualificationTypeId, r.workerId));
    if (!latest || latest.seq <= r.seq) this.#latestRequest.set(key(r.qualificationTypeId, r.workerId), r);
    this.qualificationRequests.set(r.qualificationRequestId, r);
    for (const k of [key(r.account), key(r.account, r.qualificationTypeId)]) {
      if (r.status === 'Pending') indexIn(this.#pendingRequests, k).set(r.seq, r);
      else this.#pendingRequests.get(k)?.delete(r.seq);
    }
  }

  /** Pending qualification requests for the account's types (optionally one type), oldest first. */
  pendingQualificationRequests(
    account: string,
    qualificationTypeId?: string,
  ): OrderedIndex<QualificationRequestRecord> {
    return (
      this.#pendingRequests.get(qualificationTypeId === undefined ? key(account) : key(account, qualificationTypeId)) ??
      EMPTY
    );
  }

  /** The worker's latest request for a type, if any. */
  latestQualificationRequest(qualificationTypeId: string, workerId: string): QualificationRequestRecord | undefined {
    return this.#latestRequest.get(key(qualificationTypeId, workerId));
  }

  // --- tokens, notifications ---------------------------------------------------------------

  static tokenKey(account: string, kind: string, token: string): string {
    return key(account, kind, token);
  }

  addNotification(n: NotificationRecord): void {
    this.notifications.push(n);
    if (this.notifications.length > NOTIFICATION_LOG_LIMIT * 1.5)
      this.notifications = this.notifications.slice(-NOTIFICATION_LOG_LIMIT);
  }

  // --- persistence -------------------------------------------------------------------------

  /** Every record, for the state file. */
  records(): StateRecords {
    for (const hitId of [...this.#dormant]) this.#wakeIfDormant(hitId);
    return {
      seq: this.#seq,
      accounts: [...this.accounts.values()],
      hitTypes: [...this.hitTypes.values()],
      hits: [...this.hits.values()],
      assignments: [...this.assignments.values()],
      qualificationTypes: [...this.qualificationTypes.values()],
      grants: [...this.grants.values()],
      qualificationRequests: [...this.qualificationRequests.values()],
      bonuses: this.bonuses,
      blocks: [...this.blocks.values()],
      workers: [...this.workers.values()],
      tokens: [...this.tokens.values()],
      notifications: this.notifications.slice(-NOTIFICATION_LOG_LIMIT),
    };
  }

  /** Rebuilds a state and all its indexes from the records of a state file. */
  static fromRecords(r: StateRecords, hitTypeProps: (t: HitTypeRecord) => string): SimState {
    const s = new SimState();
    s.#seq = r.seq;
    for (const a of r.accounts) s.addAccount(a);
    for (const t of r.hitTypes) s.addHitType(t, hitTypeProps(t));
    for (const h of [...r.hits].sort((a, b) => a.seq - b.seq)) s.addHit(h);
    for (const a of [...r.assignments].sort((x, y) => x.seq - y.seq)) s.addAssignment(a);
    for (const q of r.qualificationTypes) s.addQualificationType(q);
    for (const g of r.grants) s.putGrant(g);
    for (const q of [...(r.qualificationRequests ?? [])].sort((x, y) => x.seq - y.seq)) s.putQualificationRequest(q);
    for (const b of [...r.bonuses].sort((x, y) => x.seq - y.seq)) s.addBonus(b);
    for (const b of r.blocks) s.putBlock(b);
    for (const w of r.workers) s.addWorker(w);
    for (const t of r.tokens) s.tokens.set(SimState.tokenKey(t.account, t.kind, t.token), t);
    s.notifications = [...r.notifications];
    return s;
  }
}
