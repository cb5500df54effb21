/**
 * The end of a run on MTurk: once the run is expiring, every HIT whose unit is finished
 * (accepted, soft-rejected or expired) is disposed (`DeleteHIT`); at `done` a last sweep over
 * MTurk makes sure no HIT of the run is left Assignable, and reports the HITs kept (a submission
 * awaiting review, a rejection that may still be overridden: never live, only Reviewable).
 *
 * @module
 */
import { UnitTag, hitOf, hitsOf, unitEntryOf, unitStatusesTagged } from '../../../machines/index.js';
import { isStateRefusal } from '../../mturk/outcome.js';
import { DriftKind, type DisposalReport } from '../core/events.js';
import type { RunPort } from '../core/run-port.js';

/** Unit statuses whose HIT can go: nothing about it will change any more. */
const DISPOSABLE: ReadonlySet<string> = new Set(unitStatusesTagged(UnitTag.final));
/** Run statuses in which finished HITs are disposed. */
const ENDING = new Set(['expiring', 'draining', 'done']);

/** Disposes one run's finished HITs, once per HIT, and sweeps MTurk at `done`. */
export class Disposal {
  readonly #run: RunPort;
  readonly #underWay = new Set<string>();
  /** HITs MTurk would not dispose yet, and when to try again (after a poll interval, not in a loop). */
  readonly #retryAfter = new Map<string, number>();
  /** Disposals and sweeps under way, for {@link Disposal.settled}. */
  readonly #work = new Set<Promise<unknown>>();
  #swept = false;
  #stopped = false;

  constructor(run: RunPort) {
    this.#run = run;
  }

  /**
   * Disposes the HITs of finished units when the run is ending: of one unit (it just changed), or
   * of every unit (the run changed, a sync cycle ended). At `done`, once nothing is under way, sweeps MTurk.
   */
  disposeFinished(unitId?: string): void {
    const run = this.#run;
    if (this.#stopped || !ENDING.has(run.status())) return;
    const snapshot = run.supervisor();
    if (unitId !== undefined) {
      const hitId = run.unit(unitId)?.context.hitId ?? null;
      if (hitId !== null) this.#consider(hitId, unitId, snapshot);
    } else {
      for (const [hitId, record] of hitsOf(snapshot))
        if (record.unitId !== null) this.#consider(hitId, record.unitId, snapshot);
    }
    if (run.status() === 'done' && !this.#swept && this.#underWay.size === 0) {
      this.#swept = true;
      void this.#watch(run.services.track(this.#sweep())).catch((err: unknown) => {
        this.#swept = false;
        if (!this.#stopped) run.services.reportError(err);
      });
    }
  }

  #consider(hitId: string, unitId: string, snapshot: ReturnType<RunPort['supervisor']>): void {
    const run = this.#run;
    if (this.#underWay.has(hitId) || hitOf(snapshot, hitId)?.unitId !== unitId) return;
    const status = unitEntryOf(snapshot, unitId)?.status;
    if (status === undefined || !DISPOSABLE.has(status)) return;
    if (run.services.store.hits.get(hitId)?.status === 'Disposed') return;
    if ((this.#retryAfter.get(hitId) ?? 0) > run.services.clock.now()) return;
    this.#underWay.add(hitId);
    void this.#watch(run.services.track(this.#dispose(hitId)))
      .catch((err: unknown) => {
        this.#retryAfter.set(hitId, run.services.clock.now() + run.services.options.activePollMs);
        if (!this.#stopped) run.services.reportError(err);
      })
      .finally(() => {
        this.#underWay.delete(hitId);
        // The sweep at done waits for the last disposal.
        if (this.#underWay.size === 0) this.disposeFinished(unitId);
      });
  }

  #watch<T>(work: Promise<T>): Promise<T> {
    this.#work.add(work);
    const forget = (): void => {
      this.#work.delete(work);
    };
    work.then(forget, forget);
    return work;
  }

  /**
   * Resolves when no disposal or sweep is under way (those started meanwhile included): a command
   * that reviewed a finished run waits for it before closing, so the HITs it finished are disposed
   * by that command, not left to the next one.
   */
  async settled(): Promise<void> {
    while (this.#work.size > 0) {
      await Promise.allSettled([...this.#work]);
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  /** Stops disposing (the runtime is closing); what is left is disposed after a resume. */
  stop(): void {
    this.#stopped = true;
  }

  /** DeleteHIT; a HIT MTurk still holds open is expired first. Returns whether it is gone. */
  async #dispose(hitId: string): Promise<boolean> {
    const run = this.#run;
    let outcome = await run.gateway.deleteHIT(hitId);
    if (outcome.status !== 'ok' && outcome.status !== 'alreadyDone' && isStateRefusal(outcome)) {
      const both = await run.gateway.expireAndDisposeHIT(hitId);
      if (both.status === 'ok') return this.#record(hitId, both.value.disposed);
      outcome = both;
    }
    if (outcome.status === 'ok' || outcome.status === 'alreadyDone' || outcome.status === 'notFound')
      return this.#record(hitId, true);
    return this.#record(hitId, false);
  }

  #record(hitId: string, disposed: boolean): boolean {
    const { store, clock, options } = this.#run.services;
    if (disposed) {
      this.#retryAfter.delete(hitId);
      if (store.hits.get(hitId) !== undefined) store.hits.observe(hitId, 'Disposed', clock.now());
    } else {
      this.#retryAfter.set(hitId, clock.now() + options.activePollMs);
    }
    return disposed;
  }

  /**
   * At `done`: every HIT of the run on MTurk (by its RequesterAnnotation) that is still live is
   * expired, finished ones are disposed, and the rest is reported as kept.
   */
  async #sweep(): Promise<void> {
    const run = this.#run;
    const { store, clock, events } = run.services;
    const hitTypeId = run.supervisor().context.hitTypeId;
    const disposed: string[] = [];
    const kept: Array<{ hitId: string; reason: string }> = [];
    if (hitTypeId !== null) {
      const listed = await run.gateway.listHITsForHITType({ hitTypeId }, { lane: 'polling' });
      if (listed.status === 'ok') {
        const snapshot = run.supervisor();
        const pool = new Map(hitsOf(snapshot));
        for (const hit of listed.value) {
          if (hit.annotation?.runId !== run.runId || hit.annotation.purpose !== undefined) continue;
          // A HIT another store owns (same run id, same HIT type) is never this run's to dispose.
          if (hit.annotation.storeId !== undefined && hit.annotation.storeId !== run.services.store.storeId) continue;
          if (hit.hitStatus === 'Assignable' || hit.hitStatus === 'Unassignable') {
            events.emit('drift.found', {
              runId: run.runId,
              kind: DriftKind.hitStatusDiffers,
              message: `HIT ${hit.hitId} was still ${hit.hitStatus} after the run ended; expiring it`,
              hitId: hit.hitId,
              action: 'adopted',
            });
            await run.gateway.expireHIT(hit.hitId);
          }
          const unitId = pool.get(hit.hitId)?.unitId ?? null;
          const status = unitId === null ? undefined : unitEntryOf(snapshot, unitId)?.status;
          if (unitId === null || (status !== undefined && DISPOSABLE.has(status))) {
            if (await this.#dispose(hit.hitId)) disposed.push(hit.hitId);
            else
              kept.push({
                hitId: hit.hitId,
                reason: 'MTurk refused to dispose it yet (an assignment is pending or awaits review)',
              });
          } else {
            kept.push({
              hitId: hit.hitId,
              reason:
                status === 'rejected'
                  ? 'rejected: kept so the rejection can still be overridden'
                  : `unit ${unitId} is ${status ?? 'unknown'}: awaiting review`,
            });
          }
        }
      }
    }
    for (const hit of store.hits.ofRun(run.runId))
      if (hit.status === 'Disposed' && !disposed.includes(hit.id)) disposed.push(hit.id);
    const report: DisposalReport = { disposed, kept };
    events.emit('run.progress', {
      runId: run.runId,
      status: run.status(),
      counts: run.supervisor().context.counts,
      at: clock.now(),
      disposal: report,
    });
  }
}
