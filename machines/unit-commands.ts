/**
 * Pure functions of a unit's context: the commands it issues (shared by its entry actions and by
 * `pendingCommands()`), and the reading of a HIT observation (Mephisto's table, rows H1-H6 of
 * docs/mephisto-semantics.md#hit-rows).
 *
 * @module
 */
import type { ConfirmHITCommand, ExpireHITCommand, LaunchHITCommand, ReconcileSubmissionCommand } from './commands.js';
import { HITStatus } from './states.js';
import type { UnitContext } from './unit-types.js';

function boundHit(context: UnitContext, command: string): string {
  if (context.hitId === null) {
    throw new Error(
      `unit ${context.unitId}: ${command} needs a bound HIT, but the unit has none (a machine invariant was broken; report this as a bug)`,
    );
  }
  return context.hitId;
}

/** The `launchHIT` command of a unit in `created.launching`. */
export function launchCommandOf(context: UnitContext): LaunchHITCommand {
  return {
    kind: 'launchHIT',
    commandId: `${context.runId}/${context.unitId}/launchHIT/${context.launchAttempt}`,
    runId: context.runId,
    unitId: context.unitId,
    attempt: context.launchAttempt,
  };
}

/** The `expireHIT` command of a unit in `launched.expiring` or `assigned.expiring`. */
export function expireCommandOf(context: UnitContext): ExpireHITCommand {
  const hitId = boundHit(context, 'expireHIT');
  return {
    kind: 'expireHIT',
    commandId: `${context.runId}/${context.unitId}/expireHIT/${hitId}`,
    runId: context.runId,
    unitId: context.unitId,
    hitId,
  };
}

/** The `confirmHIT` command of a unit in `assigned.returnTentative` or `assigned.overdue`. */
export function confirmCommandOf(context: UnitContext, reason: ConfirmHITCommand['reason']): ConfirmHITCommand {
  const hitId = boundHit(context, 'confirmHIT');
  return {
    kind: 'confirmHIT',
    commandId: `${context.runId}/${context.unitId}/confirmHIT/${context.confirmations}`,
    runId: context.runId,
    unitId: context.unitId,
    hitId,
    assignmentId: context.assignmentId,
    reason,
  };
}

/** The `reconcileSubmission` command of a unit in `completed.reconciling`. */
export function reconcileCommandOf(context: UnitContext): ReconcileSubmissionCommand {
  const hitId = boundHit(context, 'reconcileSubmission');
  return {
    kind: 'reconcileSubmission',
    commandId: `${context.runId}/${context.unitId}/reconcileSubmission/${hitId}`,
    runId: context.runId,
    unitId: context.unitId,
    hitId,
    assignmentId: context.assignmentId,
    agentId: context.agentId,
    attempt: context.failures + 1,
  };
}

/**
 * What a HIT observation says about the unit, as Mephisto reads it (its "external" status,
 * docs/mephisto-semantics.md#hit-rows):
 * H1 Assignable → `launched`; H2 Unassignable → `assigned`; H3 Reviewable/Reviewing with no
 * assignment available → `completed`; H4 Reviewable/Reviewing with assignments available →
 * `expired`; H5 Disposed → `null` (no information); H6 anything else → `null` as well, where
 * Mephisto throws: an unknown status must never crash a run.
 *
 * @example
 * ```ts
 * classifyObservation('Reviewable', 0); // 'completed'
 * ```
 */
export function classifyObservation(
  status: string,
  available: number,
): 'launched' | 'assigned' | 'completed' | 'expired' | null {
  switch (status) {
    case HITStatus.Assignable:
      return 'launched';
    case HITStatus.Unassignable:
      return 'assigned';
    case HITStatus.Reviewable:
    case HITStatus.Reviewing:
      return available === 0 ? 'completed' : 'expired';
    default:
      return null;
  }
}
