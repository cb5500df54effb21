/**
 * The rules of the simulated marketplace: how a HIT's status and counters follow from its
 * assignments and its expiry, what is held and paid, which timed events fire, and which
 * notification events are recorded. Requester operations and worker actions both change the
 * state only through this class, so the invariants (counters match assignments, escrow matches
 * open slots, indexes match statuses) hold after every call.
 *
 * Money follows MTurk's prepaid model: creating a HIT (or extending it) holds reward + fee for
 * each slot that may still be paid; approval pays from the hold; rejection, expiry and disposal
 * release what is no longer needed.
 *
 * @module
 */
import type { Clock, TimerHandle } from '../clock.js';
import { EventQueue, type TimedEvent } from './event-queue.js';
import type { IdGenerator } from './ids.js';
import type { AccountRecord, AssignmentRecord, HitRecord, HitStatus, HitTypeRecord, WorkerRecord } from './model.js';
import { assignmentCostCents, formatCents } from './money.js';
import { TurkErrorCode, requestError } from './protocol.js';
import { SYSTEM_QUALIFICATION_TYPES, systemQualificationType } from './qualifications.js';
import { SimState } from './state.js';

/** How long a UniqueRequestToken is remembered. */
export const TOKEN_TTL_MS = 24 * 60 * 60 * 1000;
/** The longest delay Node's timers accept. */
const MAX_TIMER_MS = 2_147_483_647;
/** How long after submission a rejection can still be overridden. */
export const OVERRIDE_WINDOW_MS = 30 * 24 * 60 * 60 * 1000;

export interface EngineOptions {
  state: SimState;
  clock: Clock;
  ids: IdGenerator;
  /** Starting balance of every new requester account, in cents. */
  startingBalanceCents: number;
  /** Called after anything changed (the persistence layer schedules a write). */
  onChange?: () => void;
  /**
   * Each requester's qualification types are private: another requester's type answers as an
   * unknown one and is not listed (`hitstate serve`). MTurk lists Active types of every requester.
   * @defaultValue false
   */
  privateQualificationTypes?: boolean;
  /** Called when money moves (`hitstate serve` keeps its ledger from these); synchronous, must not throw. */
  onMoney?: (movement: MoneyMovement) => void;
}

/**
 * A movement of a requester's money, as the engine makes it: `escrow` when a HIT's hold changes
 * (positive: held for slots; negative: released, or used by a `reward` just reported), `reward`
 * when an assignment is paid (reward to the worker plus the fee).
 */
export type MoneyMovement =
  | { kind: 'escrow'; account: string; hitId: string; deltaCents: number; atMs: number }
  | {
      kind: 'reward';
      account: string;
      hitId: string;
      assignmentId: string;
      workerId: string;
      rewardCents: number;
      feeCents: number;
      /** False when a rejected assignment is approved after all: paid from the available balance. */
      fromEscrow: boolean;
      atMs: number;
    };

/** The simulated marketplace. */
export class Engine {
  readonly state: SimState;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  /** See {@link EngineOptions.privateQualificationTypes}. */
  readonly privateQualificationTypes: boolean;
  readonly #startingBalanceCents: number;
  readonly #onChange: () => void;
  readonly #onMoney: ((movement: MoneyMovement) => void) | undefined;
  readonly #events = new EventQueue();
  #timer: TimerHandle | undefined;
  #timerAt: number | undefined;
  #closed = false;

  constructor(options: EngineOptions) {
    this.state = options.state;
    this.clock = options.clock;
    this.ids = options.ids;
    this.#startingBalanceCents = options.startingBalanceCents;
    this.#onChange = options.onChange ?? (() => {});
    this.#onMoney = options.onMoney;
    this.privateQualificationTypes = options.privateQualificationTypes ?? false;
    Object.keys(SYSTEM_QUALIFICATION_TYPES).forEach((id, i) => {
      this.state.addSystemQualificationType(systemQualificationType(id)!, i);
    });
    this.#rescheduleFromState();
  }

  now(): number {
    return this.clock.now();
  }

  changed(): void {
    this.#onChange();
  }

  // --- accounts and workers ----------------------------------------------------------------

  /** The requester account of an access key, created with the starting balance on first use. */
  account(accessKeyId: string): AccountRecord {
    let a = this.state.accounts.get(accessKeyId);
    if (a === undefined) {
      a = { accessKeyId, customerId: this.ids.customerId(), balanceCents: this.#startingBalanceCents, onHoldCents: 0 };
      this.state.addAccount(a);
      this.changed();
    }
    return a;
  }

  /** A simulated worker, created with locale US on first use. */
  worker(workerId: string): WorkerRecord {
    let w = this.state.workers.get(workerId);
    if (w === undefined) {
      w = {
        workerId,
        locale: { Country: 'US' },
        systemQualifications: {},
        approved: 0,
        rejected: 0,
        decided: 0,
        messages: [],
      };
      this.state.addWorker(w);
      this.changed();
    }
    return w;
  }

  availableCents(account: AccountRecord): number {
    return account.balanceCents - account.onHoldCents;
  }

  /** @throws MTurkError RequestError `InsufficientFunds` when the account cannot cover `cents`. */
  requireFunds(account: AccountRecord, cents: number): void {
    if (cents > 0 && this.availableCents(account) < cents) {
      throw requestError(
        `This Requester has insufficient funds in their account to complete this transaction (needs $${formatCents(cents)}, available $${formatCents(this.availableCents(account))}). Please visit https://requester.mturk.com/account to purchase more.`,
        TurkErrorCode.InsufficientFunds,
        this.now(),
      );
    }
  }

  // --- HIT status ----------------------------------------------------------------------------

  type(hit: HitRecord): HitTypeRecord {
    return this.state.hitTypes.get(hit.hitTypeId)!;
  }

  available(hit: HitRecord): number {
    return hit.maxAssignments - hit.pending - hit.submitted - hit.approved - hit.rejected;
  }

  unitCostCents(hit: HitRecord, type: HitTypeRecord = this.type(hit)): number {
    return assignmentCostCents(type.rewardCents, hit.maxAssignments);
  }

  /** What should be held for a HIT: every slot that may still be paid. */
  escrowFor(hit: HitRecord, type: HitTypeRecord = this.type(hit)): number {
    const open = hit.pending + hit.submitted + (hit.expired || hit.disposed ? 0 : Math.max(0, this.available(hit)));
    return open * this.unitCostCents(hit, type);
  }

  #statusOf(hit: HitRecord): HitStatus {
    if (hit.disposed) return 'Disposed';
    if (hit.expired || this.available(hit) <= 0) {
      if (hit.pending > 0) return 'Unassignable';
      return hit.reviewing ? 'Reviewing' : 'Reviewable';
    }
    return 'Assignable';
  }

  /**
   * Applies a change to a HIT and everything that follows from it: status, indexes, escrow and
   * the HITReviewable notification. Every HIT mutation goes through here.
   */
  changeHit(hit: HitRecord, atMs: number, mutate: () => void): void {
    const before = hit.status;
    this.state.unindexHit(hit);
    mutate();
    hit.status = this.#statusOf(hit);
    if (hit.status !== 'Reviewing') hit.reviewing = false;
    if ((hit.status === 'Reviewable' || hit.status === 'Reviewing') && hit.status !== before)
      hit.reviewSeq = this.state.nextSeq();
    this.state.indexHit(hit);
    const account = this.state.accounts.get(hit.account)!;
    const escrow = this.escrowFor(hit);
    if (escrow !== hit.escrowCents)
      this.#onMoney?.({
        kind: 'escrow',
        account: hit.account,
        hitId: hit.hitId,
        deltaCents: escrow - hit.escrowCents,
        atMs,
      });
    account.onHoldCents += escrow - hit.escrowCents;
    hit.escrowCents = escrow;
    if (hit.status === 'Reviewable' && before !== 'Reviewable' && before !== 'Reviewing')
      this.notify(hit, 'HITReviewable', atMs);
    this.changed();
  }

  /** Creates a HIT of a type; the caller has checked funds and the token. */
  createHit(
    account: AccountRecord,
    type: HitTypeRecord,
    props: { lifetimeSec: number; maxAssignments: number; question: string; requesterAnnotation?: string },
  ): HitRecord {
    const nowMs = this.now();
    const hit: HitRecord = {
      hitId: this.ids.entityId(),
      account: account.accessKeyId,
      hitTypeId: type.hitTypeId,
      seq: this.state.nextSeq(),
      creationMs: nowMs,
      expirationMs: nowMs + props.lifetimeSec * 1000,
      expired: false,
      question: props.question,
      ...(props.requesterAnnotation !== undefined ? { requesterAnnotation: props.requesterAnnotation } : {}),
      maxAssignments: props.maxAssignments,
      pending: 0,
      submitted: 0,
      approved: 0,
      rejected: 0,
      reviewing: false,
      disposed: false,
      status: 'Assignable',
      reviewSeq: 0,
      escrowCents: 0,
    };
    this.state.addHit(hit);
    this.changeHit(hit, nowMs, () => {});
    this.schedule({ atMs: hit.expirationMs, kind: 'hitExpiry', ref: hit.hitId });
    this.notify(hit, 'HITCreated', nowMs);
    return hit;
  }

  /** Expires a HIT now (UpdateExpirationForHIT with a past time). An expired HIT is left as it is. */
  expireHit(hit: HitRecord, atMs: number): void {
    if (hit.expired || hit.disposed) return;
    this.notify(hit, 'HITExpired', atMs);
    this.changeHit(hit, atMs, () => {
      hit.expired = true;
      hit.expirationMs = Math.min(hit.expirationMs, atMs);
    });
  }

  /** Moves the expiration to a later time, reopening an expired HIT. */
  extendHit(hit: HitRecord, expirationMs: number): void {
    const nowMs = this.now();
    if (hit.expired) {
      const account = this.state.accounts.get(hit.account)!;
      this.requireFunds(account, Math.max(0, this.available(hit)) * this.unitCostCents(hit));
    }
    this.changeHit(hit, nowMs, () => {
      hit.expired = false;
      hit.expirationMs = expirationMs;
    });
    this.schedule({ atMs: expirationMs, kind: 'hitExpiry', ref: hit.hitId });
    this.notify(hit, 'HITExtended', nowMs);
  }

  // --- assignments ---------------------------------------------------------------------------

  changeAssignment(a: AssignmentRecord, mutate: () => void): void {
    this.state.unindexAssignment(a);
    mutate();
    this.state.indexAssignment(a);
  }

  /** Approves a Submitted assignment, or a Rejected one when overriding; pays reward and fee. */
  approve(a: AssignmentRecord, atMs: number, feedback?: string): void {
    const hit = this.state.hits.get(a.hitId)!;
    const account = this.state.accounts.get(hit.account)!;
    const worker = this.worker(a.workerId);
    const cost = this.unitCostCents(hit);
    const wasRejected = a.status === 'Rejected';
    if (wasRejected) this.requireFunds(account, cost);
    this.changeAssignment(a, () => {
      a.status = 'Approved';
      a.approvalMs = atMs;
      delete a.rejectionMs;
      if (feedback !== undefined) a.requesterFeedback = feedback;
    });
    account.balanceCents -= cost;
    this.#onMoney?.({
      kind: 'reward',
      account: hit.account,
      hitId: hit.hitId,
      assignmentId: a.assignmentId,
      workerId: a.workerId,
      rewardCents: this.type(hit).rewardCents,
      feeCents: cost - this.type(hit).rewardCents,
      fromEscrow: !wasRejected,
      atMs,
    });
    this.changeHit(hit, atMs, () => {
      if (wasRejected) hit.rejected--;
      else hit.submitted--;
      hit.approved++;
    });
    worker.approved++;
    if (wasRejected) worker.rejected--;
    this.notify(hit, 'AssignmentApproved', atMs, a.assignmentId);
  }

  reject(a: AssignmentRecord, atMs: number, feedback: string): void {
    const hit = this.state.hits.get(a.hitId)!;
    this.changeAssignment(a, () => {
      a.status = 'Rejected';
      a.rejectionMs = atMs;
      a.requesterFeedback = feedback;
    });
    this.changeHit(hit, atMs, () => {
      hit.submitted--;
      hit.rejected++;
    });
    this.worker(a.workerId).rejected++;
    this.notify(hit, 'AssignmentRejected', atMs, a.assignmentId);
  }

  /** Ends an accepted assignment without a submission (return or abandon); the slot is freed. */
  release(a: AssignmentRecord, atMs: number, how: 'Returned' | 'Abandoned'): void {
    const hit = this.state.hits.get(a.hitId)!;
    this.changeAssignment(a, () => {
      a.status = how;
      a.endMs = atMs;
    });
    this.notify(hit, how === 'Returned' ? 'AssignmentReturned' : 'AssignmentAbandoned', atMs, a.assignmentId);
    this.changeHit(hit, atMs, () => {
      hit.pending--;
    });
  }

  // --- tokens --------------------------------------------------------------------------------

  /** The live (under 24 h old) record of a UniqueRequestToken, if any. */
  tokenInUse(
    account: string,
    kind: 'hit' | 'bonus' | 'assignments',
    token: string,
  ): { ref: string; atMs: number } | undefined {
    const rec = this.state.tokens.get(SimState.tokenKey(account, kind, token));
    if (rec === undefined || rec.atMs + TOKEN_TTL_MS <= this.now()) return undefined;
    return rec;
  }

  rememberToken(account: string, kind: 'hit' | 'bonus' | 'assignments', token: string, ref: string): void {
    const atMs = this.now();
    const k = SimState.tokenKey(account, kind, token);
    this.state.tokens.set(k, { account, kind, token, ref, atMs });
    this.schedule({ atMs: atMs + TOKEN_TTL_MS, kind: 'tokenExpiry', ref: k });
  }

  // --- notifications -------------------------------------------------------------------------

  /** Records a notification event of a HIT (and an assignment), with where MTurk would deliver it. */
  notify(hit: HitRecord, eventType: string, atMs: number, assignmentId?: string): void {
    const type = this.state.hitTypes.get(hit.hitTypeId);
    const spec = type?.notification;
    const deliver = spec !== undefined && type!.notificationActive && spec.EventTypes.includes(eventType);
    const account = this.state.accounts.get(hit.account)!;
    this.state.addNotification({
      seq: this.state.nextSeq(),
      account: account.accessKeyId,
      EventDocId: this.ids.eventDocId(),
      EventType: eventType,
      EventTimestamp: new Date(atMs).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      HITTypeId: hit.hitTypeId,
      HITId: hit.hitId,
      ...(assignmentId !== undefined ? { AssignmentId: assignmentId } : {}),
      destination: deliver ? { Transport: spec.Transport, Destination: spec.Destination, Version: spec.Version } : null,
      test: false,
    });
  }

  // --- time ----------------------------------------------------------------------------------

  schedule(event: TimedEvent): void {
    this.#events.push(event);
    this.#arm();
  }

  /** Fires every timed event due at the clock's current time, in time order, then re-arms the timer. */
  processDue(): void {
    const nowMs = this.now();
    for (let ev = this.#events.popDue(nowMs); ev !== undefined; ev = this.#events.popDue(nowMs)) this.#fire(ev);
    this.#arm();
  }

  #fire(ev: TimedEvent): void {
    if (ev.kind === 'hitExpiry') {
      const hit = this.state.hits.get(ev.ref);
      if (hit && !hit.expired && !hit.disposed && hit.expirationMs === ev.atMs) this.expireHit(hit, ev.atMs);
    } else if (ev.kind === 'assignmentDeadline') {
      const a = this.state.assignments.get(ev.ref);
      if (a && a.status === 'Accepted' && a.deadlineMs === ev.atMs) this.release(a, ev.atMs, 'Abandoned');
    } else if (ev.kind === 'autoApproval') {
      const a = this.state.assignments.get(ev.ref);
      if (a && a.status === 'Submitted' && a.autoApprovalMs === ev.atMs) this.approve(a, ev.atMs);
    } else {
      const rec = this.state.tokens.get(ev.ref);
      if (rec && rec.atMs + TOKEN_TTL_MS <= ev.atMs) {
        this.state.tokens.delete(ev.ref);
        this.changed();
      }
    }
  }

  #arm(): void {
    if (this.#closed) return;
    const next = this.#events.peekTime();
    if (next === this.#timerAt) return;
    if (this.#timer !== undefined) this.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = next;
    if (next === undefined) return;
    // Node fires timers longer than 2^31-1 ms at once; an early wake-up finds nothing due and re-arms.
    this.#timer = this.clock.setTimeout(
      () => {
        this.#timer = undefined;
        this.#timerAt = undefined;
        this.processDue();
      },
      Math.min(next - this.now(), MAX_TIMER_MS),
    );
  }

  /** Rebuilds the event queue from restored records (expiry, deadlines, auto-approval, tokens). */
  #rescheduleFromState(): void {
    for (const hit of this.state.hits.values()) {
      if (!hit.expired && !hit.disposed)
        this.#events.push({ atMs: hit.expirationMs, kind: 'hitExpiry', ref: hit.hitId });
    }
    for (const a of this.state.assignments.values()) {
      if (a.status === 'Accepted')
        this.#events.push({ atMs: a.deadlineMs, kind: 'assignmentDeadline', ref: a.assignmentId });
      if (a.status === 'Submitted' && a.autoApprovalMs !== undefined)
        this.#events.push({ atMs: a.autoApprovalMs, kind: 'autoApproval', ref: a.assignmentId });
    }
    for (const [k, t] of this.state.tokens)
      this.#events.push({ atMs: t.atMs + TOKEN_TTL_MS, kind: 'tokenExpiry', ref: k });
  }

  /** Stops the timer; the engine does nothing on its own afterwards. */
  close(): void {
    this.#closed = true;
    if (this.#timer !== undefined) this.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
