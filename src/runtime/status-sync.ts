/**
 * Batched status sync: one poller per run. Each cycle lists the run's HITs in pages of 100
 * (`ListHITs`, filtered to the run's HIT type, or `ListReviewableHITs` when only completions and
 * expiries can still change anything) and sends `hit.observed` only for HITs whose observation
 * changed. Per-HIT calls are made only to confirm that a HIT vanished, and to check an
 * assignment MTurk approved (or rejected) by itself. Everything runs in the gateway's `polling`
 * lane. The interval adapts: `activeMs` while units are assigned or the run is ending, `idleMs`
 * otherwise.
 *
 * Cost per cycle: ceil(account HITs / 100) list calls, plus at most {@link PER_HIT_BUDGET}.
 *
 * @module
 */
import { hitsOf, unitEntryOf, type HITStatus, type TaskRunContext } from '../../machines/index.js';
import type { TimerHandle } from '../clock.js';
import { isHitstateError } from '../errors.js';
import type { HITInfo } from '../mturk/records.js';
import { DriftKind } from './events.js';
import type { RunPort } from './run-port.js';

/** Per-HIT calls (GetHIT, GetAssignment) a cycle may make; more wait for the next cycle. */
export const PER_HIT_BUDGET = 2;
/** Every this many cycles a full listing runs even when reviewable HITs would do (to see vanished HITs). */
const FULL_EVERY = 10;
/** The requestId of the approval that records MTurk's auto-approval. */
export const AUTO_APPROVAL_REQUEST = 'mturk-auto-approval';

/** What one cycle did. */
export interface SyncReport {
  readonly listing: 'full' | 'reviewable' | 'none';
  /** List pages read (one call each). */
  readonly pages: number;
  /** Observations sent to units. */
  readonly observed: number;
  /** Per-HIT calls made. */
  readonly perHitCalls: number;
  /** Set when the listing failed; the next cycle tries again. */
  readonly failure?: string;
}

interface Seen {
  readonly key: string;
  readonly completed: number;
}

type Watched = { readonly hitId: string; readonly unitId: string | null; readonly assignmentId: string | null; readonly unitStatus: string | null };

const TERMINAL = new Set(['accepted', 'expired', 'soft_rejected', 'rejected']);

/** The status poller of one run. */
export class StatusSync {
  readonly #run: RunPort;
  readonly #seen = new Map<string, Seen>();
  /** Assignments whose MTurk review was already looked at (auto-approval), by assignment id. */
  readonly #reviewChecked = new Set<string>();
  #timer: TimerHandle | undefined;
  #timerAt: number | undefined;
  #cycle: Promise<SyncReport> | undefined;
  #again = false;
  #cycles = 0;
  #stopped = true;

  constructor(run: RunPort) {
    this.#run = run;
  }

  /** True while a cycle is under way. */
  get running(): boolean {
    return this.#cycle !== undefined;
  }

  /** The next scheduled cycle (epoch ms), if any. */
  get nextAt(): number | undefined {
    return this.#timerAt;
  }

  /** Starts polling: a first cycle after the current interval. */
  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#schedule();
  }

  /** Stops polling; a cycle under way finishes. */
  stop(): void {
    this.#stopped = true;
    this.#clearTimer();
  }

  /** Re-arms the timer when the wanted interval got shorter (a unit was just assigned, the run is ending). */
  reschedule(): void {
    if (this.#stopped || this.#cycle !== undefined) return;
    if (this.#timerAt === undefined) {
      this.#schedule();
      return;
    }
    const due = this.#run.services.clock.now() + this.#interval();
    if (this.#timerAt === undefined || due < this.#timerAt) this.#schedule();
  }

  /** Runs a cycle now (or joins the one under way, and runs one more after it). */
  syncNow(): Promise<SyncReport> {
    if (this.#cycle !== undefined) {
      this.#again = true;
      return this.#cycle;
    }
    this.#clearTimer();
    const cycle = this.#run.services
      .track(this.#runCycle())
      .catch((err: unknown): SyncReport => {
        // A gateway closed under a stopping run is the end of polling, not a failure.
        if (!(this.#stopped && isHitstateError(err, 'HST_ERR_MTURK_UNAVAILABLE'))) this.#run.services.reportError(err);
        return { listing: 'none', pages: 0, observed: 0, perHitCalls: 0, failure: err instanceof Error ? err.message : String(err) };
      })
      .finally(() => {
        this.#cycle = undefined;
        this.#run.afterSync();
        if (this.#again) {
          this.#again = false;
          void this.syncNow();
        } else if (!this.#stopped) this.#schedule();
      });
    this.#cycle = cycle;
    return cycle;
  }

  /** Remembers an observation a per-HIT call made, so the next listing does not send it again. */
  noteObservation(hitId: string, status: HITStatus, available: number, completed: number): void {
    const record = hitsOf(this.#run.supervisor()).find(([id]) => id === hitId)?.[1];
    this.#seen.set(hitId, { key: this.#key(status, available, completed, record?.unitId ?? null, record?.assignmentId ?? null), completed });
  }

  #key(status: string, available: number, completed: number, unitId: string | null, assignmentId: string | null): string {
    return `${status}|${available}|${completed}|${unitId ?? ''}/${assignmentId ?? ''}`;
  }

  #interval(): number {
    const { options } = this.#run.services;
    const status = this.#run.status();
    const sup = this.#run.supervisor().context;
    const active = sup.counts.assigned > 0 || status === 'expiring' || status === 'draining';
    return active ? options.activePollMs : options.idlePollMs;
  }

  #schedule(): void {
    this.#clearTimer();
    if (this.#stopped) return;
    // A finished run with nothing left to learn from MTurk needs no more polls.
    if (this.#run.status() === 'done' && this.#watched(this.#run.supervisor().context).length === 0) return;
    const { clock } = this.#run.services;
    const delay = this.#interval();
    this.#timerAt = clock.now() + delay;
    this.#timer = clock.setTimeout(() => {
      this.#timer = undefined;
      this.#timerAt = undefined;
      void this.syncNow();
    }, delay);
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) this.#run.services.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = undefined;
  }

  /** HITs whose news can still change a unit: unbound pool HITs and HITs of launched, assigned or completed units. */
  #watched(context: TaskRunContext): Watched[] {
    const out: Watched[] = [];
    const snapshot = { value: 'running', context };
    for (const [hitId, record] of hitsOf(snapshot)) {
      const unitStatus = record.unitId === null ? null : (unitEntryOf(snapshot, record.unitId)?.status ?? null);
      if (unitStatus !== null && TERMINAL.has(unitStatus)) continue;
      out.push({ hitId, unitId: record.unitId, assignmentId: record.assignmentId, unitStatus });
    }
    return out;
  }

  /** Whether a full listing is needed: an assigned unit's worker may return (Assignable), or it is time to look for vanished HITs. */
  #needsFull(watched: readonly Watched[]): boolean {
    if (this.#cycles % FULL_EVERY === 0) return true;
    for (const w of watched) {
      if (w.unitStatus !== 'assigned' || w.unitId === null) continue;
      if (this.#run.unit(w.unitId)?.context.hitExpired !== true) return true;
    }
    return false;
  }

  async #list(hitTypeId: string, full: boolean): Promise<{ hits: Map<string, HITInfo>; pages: number }> {
    const hits = new Map<string, HITInfo>();
    let pages = 0;
    const gw = this.#run.gateway;
    const source = full ? gw.paginateHITsForHITType({ hitTypeId }, { lane: 'polling' }) : gw.paginateReviewableHITs({ hitTypeId }, { lane: 'polling' });
    for await (const page of source) {
      pages++;
      for (const hit of page) if (hit.hitTypeId === hitTypeId) hits.set(hit.hitId, hit);
    }
    return { hits, pages };
  }

  async #runCycle(): Promise<SyncReport> {
    const run = this.#run;
    const { clock, store } = run.services;
    const sup = run.supervisor().context;
    if (sup.hitTypeId === null) return { listing: 'none', pages: 0, observed: 0, perHitCalls: 0 };
    const watched = this.#watched(sup);
    if (watched.length === 0) return { listing: 'none', pages: 0, observed: 0, perHitCalls: 0 };
    const full = this.#needsFull(watched);
    this.#cycles++;
    let listing: { hits: Map<string, HITInfo>; pages: number };
    try {
      listing = await this.#list(sup.hitTypeId, full);
    } catch (err) {
      if (!isHitstateError(err)) throw err;
      return { listing: full ? 'full' : 'reviewable', pages: 0, observed: 0, perHitCalls: 0, failure: err.message };
    }
    let observed = 0;
    let budget = PER_HIT_BUDGET;
    const at = clock.now();
    for (const w of watched) {
      const hit = listing.hits.get(w.hitId);
      if (hit === undefined) {
        if (full && budget > 0 && this.#seen.get(w.hitId)?.key !== 'gone') {
          budget--;
          observed += await this.#confirmVanished(w.hitId);
        }
        continue;
      }
      const key = this.#key(hit.hitStatus, hit.assignmentsAvailable, hit.assignmentsCompleted, w.unitId, w.assignmentId);
      const previous = this.#seen.get(w.hitId);
      const wantsSecondLook = w.unitStatus === 'assigned' && w.unitId !== null && this.#awaitsConfirmation(w.unitId);
      if (previous?.key !== key || wantsSecondLook) {
        this.#seen.set(w.hitId, { key, completed: hit.assignmentsCompleted });
        if (store.hits.get(w.hitId)?.status !== hit.hitStatus && store.hits.get(w.hitId) !== undefined) store.hits.observe(w.hitId, hit.hitStatus, at);
        run.send({ type: 'hit.observed', hitId: w.hitId, status: hit.hitStatus, available: hit.assignmentsAvailable, at });
        observed++;
      }
      if (budget > 0 && hit.assignmentsCompleted > 0 && w.unitStatus === 'completed' && w.assignmentId !== null && !this.#reviewChecked.has(w.assignmentId)) {
        budget -= await this.#checkMTurkReview(w);
      }
    }
    return { listing: full ? 'full' : 'reviewable', pages: listing.pages, observed, perHitCalls: PER_HIT_BUDGET - budget };
  }

  #awaitsConfirmation(unitId: string): boolean {
    const value = this.#run.unit(unitId)?.value as { assigned?: string } | undefined;
    return value?.assigned === 'returnTentative' || value?.assigned === 'overdue';
  }

  /** A HIT missing from a full listing: GetHIT tells disposed from gone. */
  async #confirmVanished(hitId: string): Promise<number> {
    const run = this.#run;
    const outcome = await run.gateway.getHIT(hitId, { lane: 'polling' });
    const at = run.services.clock.now();
    if (outcome.status === 'ok') {
      const hit = outcome.value;
      this.noteObservation(hitId, hit.hitStatus, hit.assignmentsAvailable, hit.assignmentsCompleted);
      if (run.services.store.hits.get(hitId) !== undefined) run.services.store.hits.observe(hitId, hit.hitStatus, at);
      run.send({ type: 'hit.observed', hitId, status: hit.hitStatus, available: hit.assignmentsAvailable, at });
      return 1;
    }
    if (outcome.status === 'notFound') {
      this.#seen.set(hitId, { key: 'gone', completed: 0 });
      run.services.events.emit('drift.found', { runId: run.runId, kind: DriftKind.hitMissingOnMTurk, message: `HIT ${hitId} no longer exists on MTurk`, hitId, action: 'reported' });
      run.send({ type: 'hit.notFound', hitId, at });
      return 1;
    }
    return 0;
  }

  /**
   * A completed unit's HIT counts a decided assignment hitstate did not decide: MTurk approved it
   * by itself (auto-approval) or someone rejected it elsewhere. Record it as such.
   */
  async #checkMTurkReview(w: Watched): Promise<number> {
    const run = this.#run;
    const assignmentId = w.assignmentId!;
    const unit = w.unitId === null ? undefined : run.unit(w.unitId);
    const agentId = unit?.context.agentId;
    if (agentId === null || agentId === undefined) return 0;
    const waiting = (run.agent(agentId)?.value as { completed?: string } | undefined)?.completed === 'idle';
    if (!waiting) return 0;
    this.#reviewChecked.add(assignmentId);
    const read = await run.gateway.getAssignment(assignmentId, { lane: 'polling' });
    if (read.status !== 'ok') {
      this.#reviewChecked.delete(assignmentId);
      return 1;
    }
    const at = run.services.clock.now();
    const status = read.value.assignment.assignmentStatus;
    if (status === 'Approved') {
      run.services.events.emit('drift.found', { runId: run.runId, kind: DriftKind.reviewDiffers, message: `assignment ${assignmentId} was approved on MTurk (auto-approval); recorded as approved`, assignmentId, hitId: w.hitId, action: 'adopted' });
      run.send({ type: 'review.approve', agentId, requestId: AUTO_APPROVAL_REQUEST, feedback: 'approved by MTurk (auto-approval)', at });
    } else if (status === 'Rejected') {
      run.services.events.emit('drift.found', { runId: run.runId, kind: DriftKind.reviewDiffers, message: `assignment ${assignmentId} was rejected on MTurk outside hitstate; recorded as rejected`, assignmentId, hitId: w.hitId, action: 'adopted' });
      run.send({ type: 'review.reject', agentId, requestId: 'mturk-rejection', feedback: read.value.assignment.requesterFeedback ?? 'rejected on MTurk', at });
    }
    return 1;
  }
}
