/**
 * The drift report: the store compared with MTurk for one run. HITs (listed by the run's
 * annotation), submissions (a Reviewable HIT whose unit has no stored data), and bonuses (what
 * MTurk paid per assignment against the confirmed bonus intents). Each difference is a
 * `drift.found` event; the status sync and the replayed intents then repair what can be repaired.
 *
 * Cost: the HIT listing (ceil(account HITs / 100) calls) plus one ListBonusPayments per
 * assignment that has bonus intents.
 *
 * @module
 */
import { UNIT_STATES, UnitTag, hitOf, unitEntryOf, unitStatusesTagged } from '../../../machines/index.js';
import { toCents } from '../../mturk/money.js';
import type { HITInfo } from '../../mturk/records.js';
import { DriftKind, type DriftFoundEvent } from '../core/events.js';
import type { RunPort } from '../core/run-port.js';
import type { RunHost } from '../supervisor/supervisor.js';

/** Run statuses in which hitstate itself expires and disposes the run's HITs. */
const ENDING = new Set(['expiring', 'draining', 'done', 'failed']);
/** Unit statuses whose HIT may still be taken by a worker: news of it matters to the unit. */
const OPEN_UNIT: ReadonlySet<string> = new Set(
  UNIT_STATES.filter((s) => !unitStatusesTagged(UnitTag.settled).includes(s)),
);

/** A HIT of the run as the status sync sees it: its unit (null for a pool HIT) and that unit's status. */
export interface SyncedHit {
  readonly hitId: string;
  readonly unitId: string | null;
  readonly unitStatus: string | null;
}

/**
 * A change to a HIT of a running run that hitstate did not make: the HIT was disposed (a cleanup
 * from another store on the account, or a person on the requester site), or expired before its
 * lifetime ended. Emits a `drift.found` naming the HIT and what happened. Returns true when the
 * unit must take the HIT as gone (send `hit.notFound`): a Disposed observation alone tells a unit
 * nothing (H5), and it would stay `launched` on a HIT no worker can take. An early expiry needs no
 * more: the observation itself expires the unit (H4; rows in docs/mephisto-semantics.md#hit-rows).
 */
export function noticeOutsideChange(
  run: RunPort,
  synced: SyncedHit,
  hit: Pick<HITInfo, 'hitStatus' | 'assignmentsAvailable' | 'expiresAtMs'>,
  now: number,
): boolean {
  if (ENDING.has(run.status())) return false;
  if (synced.unitStatus !== null && !OPEN_UNIT.has(synced.unitStatus)) return false;
  const unit = synced.unitId === null ? 'a launched unit (pool HIT)' : `unit ${synced.unitId}`;
  const report = (message: string): void => {
    run.services.events.emit('drift.found', {
      runId: run.runId,
      kind: DriftKind.hitChangedOutside,
      message,
      hitId: synced.hitId,
      ...(synced.unitId === null ? {} : { unitId: synced.unitId }),
      action: 'adopted',
    });
  };
  if (hit.hitStatus === 'Disposed') {
    report(
      `HIT ${synced.hitId} was disposed on MTurk while the run was running, not by this run (a cleanup from another store, or by hand); ${unit} is expired, since no worker can take it`,
    );
    return true;
  }
  const stored = run.services.store.hits.get(synced.hitId);
  const expiredUnfilled =
    (hit.hitStatus === 'Reviewable' || hit.hitStatus === 'Reviewing') && hit.assignmentsAvailable > 0;
  if (
    expiredUnfilled &&
    stored !== undefined &&
    stored.expiresAt > now &&
    hit.expiresAtMs !== undefined &&
    hit.expiresAtMs < stored.expiresAt - 1000
  ) {
    report(
      `HIT ${synced.hitId} was expired on MTurk at ${new Date(hit.expiresAtMs).toISOString()}, before its lifetime ended (${new Date(stored.expiresAt).toISOString()}), not by this run; ${unit} follows it: expired`,
    );
  }
  return false;
}

/** The differences found, as emitted. */
export interface DriftReport {
  readonly runId: string;
  readonly items: readonly DriftFoundEvent[];
  /** True when MTurk could not be read (the report is then partial). */
  readonly incomplete: boolean;
}

/** Compares the store with MTurk for one run and emits a `drift.found` event per difference. */
export async function checkDrift(run: RunHost): Promise<DriftReport> {
  const { store, events } = run.services;
  const items: DriftFoundEvent[] = [];
  const found = (item: DriftFoundEvent): void => {
    items.push(item);
    events.emit('drift.found', item);
  };
  let incomplete = false;
  const sup = run.supervisor();
  const hitTypeId = sup.context.hitTypeId;
  if (hitTypeId !== null) {
    const listed = await run.gateway.listHITsForHITType({ hitTypeId }, { lane: 'polling' });
    if (listed.status !== 'ok') incomplete = true;
    else {
      const onMTurk = new Map(
        listed.value
          .filter((h) => h.annotation?.runId === run.runId && h.annotation.purpose === undefined)
          .map((h) => [h.hitId, h]),
      );
      const unconfirmedUnits = new Set(
        store.outbox
          .unconfirmedIntents(run.runId)
          .filter((i) => i.kind === 'createHIT')
          .map((i) => i.unitId),
      );
      for (const [hitId, hit] of onMTurk) {
        const stored = store.hits.get(hitId);
        if (stored === undefined) {
          const unitId = hit.annotation?.unitId;
          found({
            runId: run.runId,
            kind: DriftKind.hitMissingInStore,
            message: `HIT ${hitId} of unit ${unitId ?? '?'} exists on MTurk but not in the store${unitId !== undefined && unconfirmedUnits.has(unitId) ? '; its creation intent is being replayed and will record it' : ''}`,
            hitId,
            ...(unitId === undefined ? {} : { unitId }),
            action: unitId !== undefined && unconfirmedUnits.has(unitId) ? 'replayed' : 'reported',
          });
          continue;
        }
        if (hit.hitStatus === 'Disposed' && stored.status !== 'Disposed' && !ENDING.has(run.status())) {
          found({
            runId: run.runId,
            kind: DriftKind.hitChangedOutside,
            message: `HIT ${hitId} was disposed on MTurk, not by this run (a cleanup from another store, or by hand); the status sync expires its unit`,
            hitId,
            action: 'reported',
          });
        } else if (stored.status !== null && stored.status !== hit.hitStatus && stored.status !== 'Disposed') {
          found({
            runId: run.runId,
            kind: DriftKind.hitStatusDiffers,
            message: `HIT ${hitId} is ${hit.hitStatus} on MTurk, the store last saw ${stored.status}; the status sync delivers it`,
            hitId,
            action: 'reported',
          });
        }
        const record = hitOf(sup, hitId);
        const unitStatus =
          record?.unitId === undefined || record.unitId === null ? undefined : unitEntryOf(sup, record.unitId)?.status;
        const submitted =
          (hit.hitStatus === 'Reviewable' || hit.hitStatus === 'Reviewing') && hit.assignmentsAvailable === 0;
        if (submitted && record !== undefined) {
          const agentId = record.unitId === null ? null : (run.unit(record.unitId)?.context.agentId ?? null);
          const hasData =
            agentId !== null &&
            store.agents.get(agentId) !== undefined &&
            store.agents.submission(agentId) !== undefined;
          if (!hasData && unitStatus !== 'expired') {
            found({
              runId: run.runId,
              kind: DriftKind.submissionMissing,
              message: `HIT ${hitId} was submitted on MTurk and the store has no data for it; the unit reconciles it from MTurk's answer`,
              hitId,
              ...(record.unitId === null ? {} : { unitId: record.unitId }),
              action: 'reported',
            });
          }
        }
      }
      for (const stored of store.hits.ofRun(run.runId)) {
        if (onMTurk.has(stored.id) || stored.status === 'Disposed') continue;
        found({
          runId: run.runId,
          kind: DriftKind.hitMissingOnMTurk,
          message: `HIT ${stored.id} is in the store (last seen ${stored.status ?? 'never'}) but not listed on MTurk; the status sync confirms it with GetHIT`,
          hitId: stored.id,
          action: 'reported',
        });
      }
    }
  }

  const bonusIntents = store.outbox.ofRun(run.runId).filter((i) => i.kind === 'bonus' && i.assignmentId !== null);
  const byAssignment = new Map<string, typeof bonusIntents>();
  for (const intent of bonusIntents) {
    const list = byAssignment.get(intent.assignmentId!);
    if (list === undefined) byAssignment.set(intent.assignmentId!, [intent]);
    else list.push(intent);
  }
  for (const [assignmentId, intents] of byAssignment) {
    const paid = await run.gateway.listBonusPayments({ assignmentId }, { lane: 'polling' });
    if (paid.status !== 'ok') {
      incomplete = true;
      continue;
    }
    const confirmedCents = intents
      .filter((i) => i.state === 'confirmed')
      .reduce((n, i) => n + toCents(i.amountUsd ?? '0', 'amountUsd'), 0);
    const openCents = intents
      .filter((i) => i.state === 'pending' || i.state === 'sent')
      .reduce((n, i) => n + toCents(i.amountUsd ?? '0', 'amountUsd'), 0);
    if (paid.value.totalCents !== confirmedCents) {
      const explained = paid.value.totalCents <= confirmedCents + openCents && paid.value.totalCents >= confirmedCents;
      found({
        runId: run.runId,
        kind: DriftKind.bonusDiffers,
        message: `assignment ${assignmentId}: MTurk paid ${paid.value.totalCents} cents of bonus, the store has ${confirmedCents} confirmed${explained ? ' (an unconfirmed intent explains it; it is being replayed)' : ''}`,
        assignmentId,
        action: explained ? 'replayed' : 'reported',
      });
    }
  }
  return { runId: run.runId, items, incomplete };
}
