/**
 * Batched status sync: one poller per run. Each cycle lists the run's HITs in pages of 100
 * (`ListHITs`, filtered to the run's HIT type, or `ListReviewableHITs` when only completions and
 * expiries can still change anything), compares each page as it arrives, and sends `hit.observed`
 * only for HITs whose observation changed. Per-HIT calls are made only to confirm that a HIT
 * vanished, and to check an assignment MTurk approved (or rejected) by itself. Everything runs in
 * the gateway's `polling` lane. The interval adapts: `activeMs` while units are assigned or the run is ending, `idleMs`
 * otherwise.
 *
 * Cost per cycle: ceil(account HITs / 100) list calls, plus at most {@link PER_HIT_BUDGET}. The
 * cycle's own work is linear in the run's HITs with a small constant: the watched list is rebuilt
 * only when the supervisor's HIT or unit table changed (one pass over each), and each listed HIT
 * is compared field by field with what was last sent. What was last sent is persisted (the sync
 * records, {@link SYNC_RECORDS}), so the first cycle of a resumed run sends only real changes.
 *
 * @module
 */
import { AgentTag, UnitTag, agentHasTag, hitOf, type HITStatus } from '../../../machines/index.js';
import type { TimerHandle } from '../../clock.js';
import { isHitstateError } from '../../errors.js';
import type { HITCounters, ListedHIT } from '../../mturk/records.js';
import { noticeOutsideChange } from './drift.js';
import { DriftKind } from '../core/events.js';
import type { RunPort } from '../core/run-port.js';
import { WatchedHits, type WatchedHit } from './watched-hits.js';

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

/**
 * What the sync knows of one HIT, in one record so a cycle makes one lookup per HIT: the
 * observation last sent (or seen by a per-HIT call) with the binding it was sent for, and what
 * deciding on a second look needs. Updated in place.
 */
interface Track {
  /** The HIT status last sent; {@link GONE} once a GetHIT found the HIT gone (not looked up again). */
  status: string;
  available: number;
  completed: number;
  unitId: string | null;
  assignmentId: string | null;
  /** Last seen Assignable: an assigned unit may wait in `returnTentative` for a second look. */
  sighted: boolean;
  /** The assignment whose deadline `deadlineAt` is (read from the unit once per binding); undefined before it is read. */
  deadlineOf: string | null | undefined;
  deadlineAt: number;
  /** The cycle whose listing last showed the HIT (a full listing without it means it vanished). */
  listed: number;
}

/** What one cycle gathers while it reads the listing. */
interface Scan {
  readonly hitTypeId: string;
  /** The cycle's number, stamped on the track of each HIT it lists. */
  readonly stamp: number;
  observed: number;
  /** Completed units' HITs counting a decided assignment: their review on MTurk may need a look. */
  readonly reviews: WatchedHit[];
}

const GONE = 'gone';

/**
 * The sync's tracks are persisted in this many records per run (`run:<runId>#sync.<n>`, a HIT in
 * the record its id hashes to), so a cycle writes only the records of the HITs whose track changed
 * and a resumed run's first cycle compares with what was last sent instead of treating every HIT
 * as news. Never change it: records are read back by this count.
 */
export const SYNC_RECORDS = 1024;
/** The machine name the sync's records are stored under (they are not an actor's snapshot). */
export const SYNC_MACHINE = 'statusSync';

/** A track as persisted: status, available, completed, unit, assignment. */
type StoredTrack = [string, number, number, string | null, string | null];

/** Which sync record holds a HIT's track (FNV-1a of its id). */
export function syncRecordOf(hitId: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < hitId.length; i++) h = Math.imul(h ^ hitId.charCodeAt(i), 0x01000193);
  return (h >>> 0) % SYNC_RECORDS;
}

const unchanged = (t: Track, hit: HITCounters, w: WatchedHit): boolean =>
  t.status === hit.hitStatus &&
  t.available === hit.assignmentsAvailable &&
  t.completed === hit.assignmentsCompleted &&
  t.unitId === w.unitId &&
  t.assignmentId === w.assignmentId;

/** The status poller of one run. */
export class StatusSync {
  readonly #run: RunPort;
  readonly #tracks = new Map<string, Track>();
  /** Assignments whose MTurk review was already looked at (auto-approval), by assignment id. */
  readonly #reviewChecked = new Set<string>();
  readonly #watched = new WatchedHits();
  /** Sync records whose tracks changed since they were last stored. */
  readonly #dirty = new Set<number>();
  /** The HITs of each sync record. */
  readonly #members = new Map<number, string[]>();
  /** Whether the persisted tracks were read back (at the first cycle). */
  #loaded = false;
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
        return {
          listing: 'none',
          pages: 0,
          observed: 0,
          perHitCalls: 0,
          failure: err instanceof Error ? err.message : String(err),
        };
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
    const record = hitOf(this.#run.supervisor(), hitId);
    this.#record(hitId, status, available, completed, record?.unitId ?? null, record?.assignmentId ?? null);
  }

  #record(
    hitId: string,
    status: string,
    available: number,
    completed: number,
    unitId: string | null,
    assignmentId: string | null,
  ): Track {
    const t = this.#tracks.get(hitId);
    const record = syncRecordOf(hitId);
    this.#dirty.add(record);
    if (t === undefined) {
      const members = this.#members.get(record);
      if (members === undefined) this.#members.set(record, [hitId]);
      else members.push(hitId);
      const created: Track = {
        status,
        available,
        completed,
        unitId,
        assignmentId,
        sighted: status === 'Assignable',
        deadlineOf: undefined,
        deadlineAt: 0,
        listed: 0,
      };
      this.#tracks.set(hitId, created);
      return created;
    }
    t.status = status;
    t.available = available;
    t.completed = completed;
    t.unitId = unitId;
    t.assignmentId = assignmentId;
    t.sighted = status === 'Assignable';
    return t;
  }

  /** Reads the tracks a previous process stored (what it last sent for each HIT), once. */
  #loadTracks(): void {
    if (this.#loaded) return;
    this.#loaded = true;
    const { store } = this.#run.services;
    for (let n = 0; n < SYNC_RECORDS; n++) {
      const stored = store.snapshots.get(`run:${this.#run.runId}#sync.${n}`);
      const hits = (stored?.snapshot as { hits?: Record<string, StoredTrack> } | undefined)?.hits;
      if (hits === undefined) continue;
      for (const [hitId, [status, available, completed, unitId, assignmentId]] of Object.entries(hits))
        if (!this.#tracks.has(hitId)) this.#record(hitId, status, available, completed, unitId, assignmentId);
    }
    // Read back, not changed: nothing to store again.
    this.#dirty.clear();
  }

  /**
   * Stores the sync records whose tracks changed. After the sends they describe, so a commit that
   * holds a record holds what the units did with those observations; a crash before it only makes
   * the next process send them again, which changes nothing in a unit that had them.
   */
  #saveTracks(): void {
    if (this.#dirty.size === 0) return;
    const { store } = this.#run.services;
    for (const n of this.#dirty) {
      const hits: Record<string, StoredTrack> = {};
      for (const hitId of this.#members.get(n) ?? []) {
        const t = this.#tracks.get(hitId)!;
        hits[hitId] = [t.status, t.available, t.completed, t.unitId, t.assignmentId];
      }
      try {
        store.snapshots.put(`run:${this.#run.runId}#sync.${n}`, {
          machine: SYNC_MACHINE,
          machineVersion: 1,
          snapshot: { record: n, hits },
        });
        this.#dirty.delete(n);
      } catch (err) {
        this.#run.services.reportError(err);
        return;
      }
    }
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
    if (this.#run.status() === 'done' && this.#watched.update(this.#run.supervisor().context).size === 0) return;
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

  /** Whether a full listing is needed: an assigned unit's worker may return (Assignable), or it is time to look for vanished HITs. */
  #needsFull(watched: ReadonlyMap<string, WatchedHit>): boolean {
    if (this.#cycles % FULL_EVERY === 0) return true;
    for (const w of watched.values()) {
      if (w.unitStatus !== 'assigned' || w.unitId === null) continue;
      if (this.#run.unitIndex(w.unitId)?.hitExpired !== true) return true;
    }
    return false;
  }

  /**
   * One cycle, streamed: each page of the listing is compared as it arrives, and its news is sent
   * before the next page is asked for; between pages only each HIT's {@link Track} is kept, never
   * the listing. What needs the whole listing (a watched HIT missing from it) is decided after
   * the last page, from the cycle stamp each listed HIT's track got; so are the per-HIT calls.
   */
  async #runCycle(): Promise<SyncReport> {
    const run = this.#run;
    const sup = run.supervisor().context;
    const hitTypeId = sup.hitTypeId;
    if (hitTypeId === null) return { listing: 'none', pages: 0, observed: 0, perHitCalls: 0 };
    // HITs whose news can still change a unit: unbound pool HITs and HITs of unfinished units.
    const watched = this.#watched.update(sup);
    if (watched.size === 0) return { listing: 'none', pages: 0, observed: 0, perHitCalls: 0 };
    this.#loadTracks();
    try {
      return await this.#scan(watched, hitTypeId);
    } finally {
      this.#saveTracks();
    }
  }

  async #scan(watched: ReadonlyMap<string, WatchedHit>, hitTypeId: string): Promise<SyncReport> {
    const run = this.#run;
    const full = this.#needsFull(watched);
    const listing = full ? 'full' : 'reviewable';
    const scan: Scan = { hitTypeId, stamp: ++this.#cycles, observed: 0, reviews: [] };
    const gw = run.gateway;
    const source = full
      ? gw.paginateHITsForHITType({ hitTypeId }, { lane: 'polling' })
      : gw.paginateReviewableHITs({ hitTypeId }, { lane: 'polling' });
    let pages = 0;
    try {
      for await (const page of source) {
        pages++;
        this.#comparePage(page, watched, run.services.clock.now(), scan);
      }
    } catch (err) {
      if (!isHitstateError(err)) throw err;
      // The pages read were handled; a listing cut short proves no HIT missing, so none is looked up.
      return { listing, pages, observed: scan.observed, perHitCalls: 0, failure: err.message };
    }
    let budget = PER_HIT_BUDGET;
    if (full) {
      for (const w of watched.values()) {
        if (budget === 0) break;
        const t = this.#tracks.get(w.hitId);
        if (t !== undefined && (t.listed === scan.stamp || t.status === GONE)) continue;
        budget--;
        scan.observed += await this.#confirmVanished(w);
      }
    }
    for (const w of scan.reviews) {
      if (budget === 0) break;
      if (!this.#reviewChecked.has(w.assignmentId!)) budget -= await this.#checkMTurkReview(w);
    }
    return { listing, pages, observed: scan.observed, perHitCalls: PER_HIT_BUDGET - budget };
  }

  /** One page of the listing: its watched HITs compared (a plain loop, apart from the async cycle, so it is optimized). */
  #comparePage(page: readonly ListedHIT[], watched: ReadonlyMap<string, WatchedHit>, at: number, scan: Scan): void {
    for (let i = 0; i < page.length; i++) {
      const hit = page[i]!;
      const w = watched.get(hit.hitId);
      if (w !== undefined) this.#compare(hit, w, at, scan);
    }
  }

  /** One listed HIT against what the sync last sent for it: sends what changed, notes a review to check. */
  #compare(hit: ListedHIT, w: WatchedHit, at: number, scan: Scan): void {
    if (hit.hitTypeId !== scan.hitTypeId) return;
    const run = this.#run;
    const known = this.#tracks.get(w.hitId);
    const changed = known === undefined || !unchanged(known, hit, w);
    const t = changed
      ? this.#record(
          w.hitId,
          hit.hitStatus,
          hit.assignmentsAvailable,
          hit.assignmentsCompleted,
          w.unitId,
          w.assignmentId,
        )
      : known;
    t.listed = scan.stamp;
    if (changed || this.#wantsSecondLook(w, t, at)) {
      const { store } = run.services;
      const stored = store.hits.get(w.hitId);
      if (stored !== undefined && stored.status !== hit.hitStatus) store.hits.observe(w.hitId, hit.hitStatus, at);
      // Disposed or expired early by someone else: reported as drift; a disposed HIT is gone for its unit.
      if (changed && noticeOutsideChange(run, w, hit, at)) {
        run.send({ type: 'hit.notFound', hitId: w.hitId, at });
        scan.observed++;
        return;
      }
      run.send({
        type: 'hit.observed',
        hitId: w.hitId,
        status: hit.hitStatus,
        available: hit.assignmentsAvailable,
        at,
      });
      scan.observed++;
    }
    if (
      hit.assignmentsCompleted > 0 &&
      w.unitStatus === 'completed' &&
      w.assignmentId !== null &&
      !this.#reviewChecked.has(w.assignmentId)
    )
      scan.reviews.push(w);
  }

  /**
   * An unchanged observation is sent again when the assigned unit waits for a confirmation
   * (`returnTentative` after an Assignable sighting, `overdue` past its deadline), in case its
   * confirmHIT could not give one. Only those two situations need the unit looked up, so a cycle
   * does not look up every assigned unit.
   */
  #wantsSecondLook(w: WatchedHit, t: Track, now: number): boolean {
    if (w.unitStatus !== 'assigned' || w.unitId === null) {
      t.sighted = false;
      t.deadlineOf = undefined;
      return false;
    }
    if (t.deadlineOf !== w.assignmentId) {
      t.deadlineOf = w.assignmentId;
      t.deadlineAt = this.#run.unitIndex(w.unitId)?.deadlineAt ?? 0;
    }
    if (now < t.deadlineAt && !t.sighted) return false;
    if (this.#awaitsConfirmation(w.unitId)) return true;
    t.sighted = false;
    return false;
  }

  #awaitsConfirmation(unitId: string): boolean {
    return this.#run.unitIndex(unitId)?.tags.includes(UnitTag.confirming) === true;
  }

  /** A HIT missing from a full listing: GetHIT tells disposed from gone. */
  async #confirmVanished(w: WatchedHit): Promise<number> {
    const run = this.#run;
    const { hitId } = w;
    const outcome = await run.gateway.getHIT(hitId, { lane: 'polling' });
    const at = run.services.clock.now();
    if (outcome.status === 'ok') {
      const hit = outcome.value;
      // Disposed by someone else (listings leave disposed HITs out): drift, and gone for its unit.
      if (noticeOutsideChange(run, w, hit, at)) {
        this.#record(hitId, GONE, 0, 0, null, null);
        if (run.services.store.hits.get(hitId) !== undefined) run.services.store.hits.observe(hitId, hit.hitStatus, at);
        run.send({ type: 'hit.notFound', hitId, at });
        return 1;
      }
      this.noteObservation(hitId, hit.hitStatus, hit.assignmentsAvailable, hit.assignmentsCompleted);
      if (run.services.store.hits.get(hitId) !== undefined) run.services.store.hits.observe(hitId, hit.hitStatus, at);
      run.send({ type: 'hit.observed', hitId, status: hit.hitStatus, available: hit.assignmentsAvailable, at });
      return 1;
    }
    if (outcome.status === 'notFound') {
      this.#record(hitId, GONE, 0, 0, null, null);
      run.services.events.emit('drift.found', {
        runId: run.runId,
        kind: DriftKind.hitMissingOnMTurk,
        message: `HIT ${hitId} no longer exists on MTurk`,
        hitId,
        action: 'reported',
      });
      run.send({ type: 'hit.notFound', hitId, at });
      return 1;
    }
    return 0;
  }

  /**
   * A completed unit's HIT counts a decided assignment hitstate did not decide: MTurk approved it
   * by itself (auto-approval) or someone rejected it elsewhere. Record it as such.
   */
  async #checkMTurkReview(w: WatchedHit): Promise<number> {
    const run = this.#run;
    const assignmentId = w.assignmentId!;
    const unit = w.unitId === null ? undefined : run.unit(w.unitId);
    const agentId = unit?.context.agentId;
    if (agentId === null || agentId === undefined) return 0;
    const agent = run.agent(agentId);
    if (agent === undefined || !agentHasTag(agent, AgentTag.needsReview)) return 0;
    this.#reviewChecked.add(assignmentId);
    const read = await run.gateway.getAssignment(assignmentId, { lane: 'polling' });
    if (read.status !== 'ok') {
      this.#reviewChecked.delete(assignmentId);
      return 1;
    }
    const at = run.services.clock.now();
    const status = read.value.assignment.assignmentStatus;
    if (status === 'Approved') {
      run.services.events.emit('drift.found', {
        runId: run.runId,
        kind: DriftKind.reviewDiffers,
        message: `assignment ${assignmentId} was approved on MTurk (auto-approval); recorded as approved`,
        assignmentId,
        hitId: w.hitId,
        action: 'adopted',
      });
      run.send({
        type: 'review.approve',
        agentId,
        requestId: AUTO_APPROVAL_REQUEST,
        feedback: 'approved by MTurk (auto-approval)',
        at,
      });
    } else if (status === 'Rejected') {
      run.services.events.emit('drift.found', {
        runId: run.runId,
        kind: DriftKind.reviewDiffers,
        message: `assignment ${assignmentId} was rejected on MTurk outside hitstate; recorded as rejected`,
        assignmentId,
        hitId: w.hitId,
        action: 'adopted',
      });
      run.send({
        type: 'review.reject',
        agentId,
        requestId: 'mturk-rejection',
        feedback: read.value.assignment.requesterFeedback ?? 'rejected on MTurk',
        at,
      });
    }
    return 1;
  }
}
