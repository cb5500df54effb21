/**
 * Who holds which HIT: the supervisor's decisions about arriving workers, about a registration
 * that displaces the bound assignment, and about the agent a reconciled submission belongs to.
 * Pure functions like those of `task-run-logic.ts`.
 *
 * The binding of a HIT is a versioned record (unit + assignment, Mephisto PR #337, #207: lessons #2
 * and #3 of docs/mephisto-semantics.md#known-bugs-and-lessons). Binding
 * follows MTurk: the runtime asks MTurk about an arriving assignment before it sends
 * `worker.arrived` (`confirmed`), and a made-up one never gets here. A registration on a bound HIT
 * with another assignment MTurk confirms is proof that the bound assignment ended, since MTurk
 * re-offers a one-assignment HIT only after a return or a lapse (docs/mephisto-semantics.md#the-l1-race); one
 * MTurk could not confirm never displaces anything. The supervisor cannot tell whether the bound
 * agent's data is stored, so it asks the unit holding the HIT (`unit.bindAgent`) and records a
 * refusal; the unit, if the assignment may have ended, releases its agent as returned, binds the
 * new worker and reports `report.bindingReplaced`, which replaces the refusal with the binding.
 * All of it happens while the one `worker.arrived` is processed, so the outcome is readable right
 * after the send. A refusal is kept only until the next arrival (`context.refusal`), so refused
 * registrations leave no state behind.
 *
 * @module
 */
import { agentIdFor } from './ids.js';
import { AssignmentState } from './states.js';
import { noteAnomaly, pickFreeUnit, putUnit, type Step } from './task-run-logic.js';
import { tablesOf } from './task-run-tables.js';
import { RefusalReason } from './task-run-types.js';
import type { HitRecord, TaskRunContext } from './task-run-types.js';
import type { UnitEvent, UnitReport } from './unit-types.js';

/** What the task server says about an arriving worker. */
export interface ArrivalFacts {
  readonly hitId: string;
  readonly assignmentId: string;
  readonly workerId: string;
  /** MTurk's word on the assignment (see `worker.arrived.confirmed`). */
  readonly confirmed?: boolean;
  readonly at: number;
}

/**
 * The unit, HIT and assignment an agent was bound with, if the run ever bound it (so it has an
 * actor), and whether that binding still holds (the HIT is still bound to that unit and assignment).
 */
export function agentBinding(
  context: TaskRunContext,
  agentId: string,
): { unitId: string; hitId: string; assignmentId: string; current: boolean } | undefined {
  const tables = tablesOf(context);
  const arrival = tables.arrival(agentId);
  if (arrival?.unitId === undefined || arrival.assignmentId === undefined) return undefined;
  const record = tables.hit(arrival.hitId);
  const current = record?.unitId === arrival.unitId && record.assignmentId === arrival.assignmentId;
  return { unitId: arrival.unitId, hitId: arrival.hitId, assignmentId: arrival.assignmentId, current };
}

/**
 * Whether a registration with `assignmentId` may displace the HIT's binding: the HIT is held by an
 * assigned unit under another assignment (not consumed by an expiry, not answered for the pool).
 * The unit still refuses if its agent's data is stored.
 */
function displaceable(
  context: TaskRunContext,
  record: HitRecord,
  assignmentId: string,
): record is HitRecord & { unitId: string } {
  if (record.unitId === null || record.assignmentId === null || record.assignmentId === assignmentId) return false;
  const entry = tablesOf(context).unit(record.unitId);
  return entry?.status === AssignmentState.assigned && entry.pending === undefined;
}

/**
 * A worker arrived on `hitId`. Idempotent for a page reload (same assignment and worker). Binds
 * the HIT and a free unit (which spawns the agent); on a HIT bound under another assignment, asks
 * the unit holding it to take the new worker (see the module comment); or records why the worker
 * is refused.
 */
export function arrive(context: TaskRunContext, event: ArrivalFacts, accepting: boolean): Step {
  const agentId = agentIdFor(event.assignmentId, event.workerId);
  const previous = agentBinding(context, agentId);
  // A refusal is readable only until the next arrival: it leaves nothing in the run's tables.
  const base = context.refusal == null ? context : { ...context, refusal: null };
  if (previous?.current === true) return { context: base, effects: [] };
  const refuse = (refused: RefusalReason): Step => ({
    context: {
      ...base,
      refusal: {
        agentId,
        refused,
        hitId: event.hitId,
        at: event.at,
        ...(previous !== undefined ? { unitId: previous.unitId, assignmentId: previous.assignmentId } : {}),
      },
    },
    effects: [],
  });
  // The agent exists but its unit was released: its id is taken, and the run chose to let it go.
  if (previous !== undefined) return refuse(RefusalReason.agentReleased);
  if (!accepting) return refuse(RefusalReason.runNotAccepting);
  const record = tablesOf(context).hit(event.hitId);
  if (record === undefined) return refuse(RefusalReason.unknownHIT);
  const bind: UnitEvent = {
    type: 'unit.bindAgent',
    hitId: event.hitId,
    assignmentId: event.assignmentId,
    agentId,
    workerId: event.workerId,
    deadlineAt: event.at + context.settings.assignmentDurationSec * 1000,
    ...(event.confirmed !== undefined ? { confirmed: event.confirmed } : {}),
    at: event.at,
  };
  if (record.unitId !== null) {
    const refused = refuse(RefusalReason.hitTaken);
    if (!displaceable(context, record, event.assignmentId)) return refused;
    // An arrival MTurk could not confirm never outranks the binding in place.
    if (event.confirmed === false) return refuse(RefusalReason.unconfirmed);
    return { context: refused.context, effects: [{ kind: 'toUnit', unitId: record.unitId, event: bind }] };
  }
  const unitId = pickFreeUnit(context, record);
  if (unitId === null) return refuse(RefusalReason.noFreeUnit);

  let next = putUnit(base, unitId, { status: AssignmentState.assigned });
  next = {
    ...next,
    tables: tablesOf(next)
      .putHit(event.hitId, { ...record, unitId, assignmentId: event.assignmentId })
      .putArrival(agentId, { unitId, hitId: event.hitId, assignmentId: event.assignmentId, at: event.at }),
  };
  return { context: next, effects: [{ kind: 'toUnit', unitId, event: bind }] };
}

/**
 * A unit took a displacing registration: its HIT is now bound under the new assignment, and the
 * new agent's arrival is recorded as bound. Versioned like a release: only the binding the unit
 * held (same unit, the displaced assignment) is replaced.
 */
export function bindingReplaced(
  context: TaskRunContext,
  report: Extract<UnitReport, { type: 'report.bindingReplaced' }>,
): TaskRunContext {
  const record = tablesOf(context).hit(report.hitId);
  if (record?.unitId !== report.unitId || record.assignmentId !== report.displacedAssignmentId) {
    return noteAnomaly(
      context,
      `unit ${report.unitId} replaced assignment ${report.displacedAssignmentId} on HIT ${report.hitId}, a binding it did not hold`,
    );
  }
  return {
    ...context,
    ...(context.refusal?.agentId === report.agentId ? { refusal: null } : {}),
    tables: tablesOf(context)
      .putHit(report.hitId, { ...record, assignmentId: report.assignmentId })
      .putArrival(report.agentId, {
        unitId: report.unitId,
        hitId: report.hitId,
        assignmentId: report.assignmentId,
        at: report.at,
      }),
  };
}

/**
 * Reconciliation found a submission for a unit without an agent: the worker never reached the
 * task server (the unit adopts a new agent for that worker), or registered on this unit and was
 * displaced by another registration that MTurk does not back (the unit takes that agent back).
 * Either way the work can be reviewed like any other.
 */
export function adoptReconciled(
  context: TaskRunContext,
  report: { unitId: string; hitId: string; assignmentId: string | null; workerId: string | null; at: number },
): Step {
  if (report.assignmentId === null || report.workerId === null) {
    return {
      context: noteAnomaly(
        context,
        `unit ${report.unitId}: reconciled data without an assignment or worker id; review it by hand`,
      ),
      effects: [],
    };
  }
  const agentId = agentIdFor(report.assignmentId, report.workerId);
  const known = agentBinding(context, agentId);
  if (known !== undefined && (known.unitId !== report.unitId || known.hitId !== report.hitId)) {
    return {
      context: noteAnomaly(
        context,
        `agent ${agentId} belongs to unit ${known.unitId}; reconciled data of unit ${report.unitId} left to it`,
      ),
      effects: [],
    };
  }
  let tables = tablesOf(context);
  const record = tables.hit(report.hitId);
  if (known === undefined)
    tables = tables.putArrival(agentId, {
      unitId: report.unitId,
      hitId: report.hitId,
      assignmentId: report.assignmentId,
      at: report.at,
    });
  if (record !== undefined) tables = tables.putHit(report.hitId, { ...record, assignmentId: report.assignmentId });
  const next: TaskRunContext = { ...context, tables };
  return {
    context: next,
    effects: [
      {
        kind: 'toUnit',
        unitId: report.unitId,
        event: {
          type: 'unit.adoptAgent',
          agentId,
          assignmentId: report.assignmentId,
          workerId: report.workerId,
          existing: known !== undefined,
          at: report.at,
        },
      },
    ],
  };
}
