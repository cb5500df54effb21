/**
 * The unit machine: one unit of work through Mephisto's AssignmentState lifecycle, driven only by
 * events (no timers, no invoked promises). Top-level states are exactly the AssignmentState values;
 * pending, tentative and reconciling situations are substates.
 *
 * Mephisto's `MTurkUnit.get_status()` table (docs/mephisto-semantics.md#the-unit-table) maps onto
 * it as: H1-H6 classify a
 * `hit.observed` event, M1-M6 are the transitions it triggers, L2 is `hit.notFound`, R1-R4 are
 * `agent.reviewed`, with these fixes: a return is two-phase (`assigned.returnTentative`), a
 * submission without data is the explicit `completed.reconciling` state with bounded retries, a
 * failed read never crashes, every exit from `assigned` tells the agent, and terminal states make
 * no MTurk calls. And where Mephisto loses the race of its L1 note (a HIT re-offered and taken
 * before the next poll), a registration with another assignment on the bound HIT is the evidence
 * that the bound assignment ended: the new worker takes the unit at once, and MTurk's list of
 * assignments later decides whose submission it holds (a registration cannot be verified).
 *
 * The unit owns its agents: binding a worker spawns `agent:<agentId>` as the unit's child, and the
 * agent reports its confirmed review back to the unit. Terminal states (`accepted`,
 * `soft_rejected`, `expired`) are absorbing but not XState `final`: a final parent would stop its
 * agent, and an approved agent must stay reachable for a bonus.
 *
 * @module
 */
import { DEFAULT_RETRY_POLICY } from './commands.js';
import { AssignmentState } from './states.js';
import { UnitTag } from './tags.js';
import { confirmCommandOf, expireCommandOf, launchCommandOf, reconcileCommandOf } from './unit-commands.js';
import { atOf, unitImplementation } from './unit-setup.js';
import type { UnitContext, UnitEvent, UnitReport } from './unit-types.js';

/** Entry action of each top-level state but `created`: tell the supervisor the new status. */
const reportStatus = (status: AssignmentState) =>
  ({
    type: 'report',
    params: ({ context, event }: { context: UnitContext; event: UnitEvent }): UnitReport => ({
      type: 'report.unitChanged',
      unitId: context.unitId,
      status,
      at: atOf(event),
    }),
  }) as const;

const retryCommand = (target: string) => [{ guard: 'retryDue', target, reenter: true, actions: 'clearRetry' }] as const;

/** Leaving `assigned` because MTurk shows the assignment submitted (M4). */
const toCompleted = {
  guard: 'hitSubmitted',
  target: `#unit.${AssignmentState.completed}`,
  actions: 'tellAgentSubmitted',
} as const;
/** Leaving `assigned` because the HIT expired with the slot free again (M2): the worker returned. */
const toExpiredReturned = {
  guard: 'hitExpiredUnfilled',
  target: `#unit.${AssignmentState.expired}`,
  actions: 'tellAgentReturned',
} as const;
/** Leaving `assigned` because the worker's assignment is gone: the HIT goes back to the pool. */
const toPoolReturned = {
  target: `#unit.${AssignmentState.launched}`,
  actions: ['reportHitReleased', 'tellAgentReturned', 'clearBinding'],
} as const;
/**
 * Another worker registered on the bound HIT: MTurk re-offered it, so the bound assignment ended.
 * The arrival is the confirming evidence of a return (whether or not an Assignable sighting came
 * first): the bound agent is returned and the new worker takes the unit at once, a new binding.
 */
const toDisplaced = {
  guard: 'bindingEnded',
  target: `#unit.${AssignmentState.assigned}`,
  reenter: true,
  actions: ['tellAgentReturned', 'displaceBinding', 'spawnAgent', 'reportBindingReplaced'],
} as const;

/**
 * The unit machine. Run it under the taskRun supervisor (its group provides `report`), or alone with
 * the commands provided.
 *
 * @example
 * ```ts
 * const [s0] = initialTransition(unitMachine, { unitId: 'u1', runId: 'r1' });
 * const [s1, actions] = transition(unitMachine, s0, { type: 'unit.launch', at: 0 });
 * // s1.value = { created: 'launching' }; actions include { type: 'launchHIT', params: { kind: 'launchHIT', ... } }
 * ```
 */
export const unitMachine = unitImplementation.createMachine({
  id: 'unit',
  description: 'One unit of work: a HIT slot done by one worker (Mephisto MTurkUnit).',
  context: ({ input }) => ({
    unitId: input.unitId,
    runId: input.runId,
    hitId: null,
    assignmentId: null,
    agentId: null,
    workerId: null,
    launchAttempt: 1,
    launchedHitId: null,
    deadlineAt: null,
    hitExpired: false,
    submitted: false,
    returnSuspectedAt: null,
    confirmations: 0,
    failures: 0,
    retryAt: null,
    lastFailure: null,
    reviewOutcome: null,
    bindings: 0,
    displacedAssignmentId: null,
    note: null,
    ...(input.retry !== undefined && input.retry !== DEFAULT_RETRY_POLICY ? { retry: input.retry } : {}),
  }),
  // An agent child that fails must not take the unit down with it (docs/stack-notes.md#child-errors-and-the-parent).
  on: { 'xstate.error.actor.*': { actions: 'reportChildFailure' } },
  initial: AssignmentState.created,
  states: {
    [AssignmentState.created]: {
      description: 'Not on MTurk yet (C1: observations are ignored, there is no HIT).',
      initial: 'idle',
      states: {
        idle: {
          description: 'Waiting to be launched. After a launch that gave up, lastFailure says why.',
          on: {
            'unit.launch': { target: 'launching', actions: 'startCommand' },
            'unit.expire': { target: `#unit.${AssignmentState.expired}` },
          },
        },
        launching: {
          description:
            'launchHIT is pending (CreateHITWithHITType). A retryable failure is retried at retryAt with the same token.',
          tags: [UnitTag.launching],
          entry: { type: 'launchHIT', params: ({ context }) => launchCommandOf(context) },
          on: {
            'launch.succeeded': {
              guard: 'isLaunchResult',
              target: `#unit.${AssignmentState.launched}`,
              actions: ['recordLaunch', 'reportHitCreated'],
            },
            'launch.failed': [
              { guard: 'canRetry', actions: 'scheduleRetry' },
              { guard: 'isLaunchResult', target: 'idle', actions: ['recordLaunchGaveUp', 'reportLaunchFailed'] },
            ],
            'deadline.reached': retryCommand('launching'),
          },
        },
      },
      on: {
        'unit.abandon': { target: `#unit.${AssignmentState.expired}`, actions: 'noteAbandoned' },
      },
    },

    [AssignmentState.launched]: {
      description:
        'On MTurk: its HIT is in the run pool, unbound until a worker arrives (a launched unit holds no HIT).',
      entry: reportStatus(AssignmentState.launched),
      initial: 'available',
      states: {
        available: {
          description: 'Waiting for a worker. Answers for unbound pool HITs: H1, H2 (M3) and H5 change nothing.',
          on: {
            'unit.bindAgent': { target: `#unit.${AssignmentState.assigned}`, actions: ['bindAgent', 'spawnAgent'] },
            'unit.expire': [
              { guard: 'poolHitGiven', target: 'expiring', actions: 'takePoolHit' },
              { target: `#unit.${AssignmentState.expired}`, actions: 'noteEmptyPool' },
            ],
            'hit.observed': [
              { guard: 'hitSubmitted', target: `#unit.${AssignmentState.completed}`, actions: 'takePoolHit' },
              { guard: 'hitExpiredUnfilled', target: `#unit.${AssignmentState.expired}`, actions: 'takePoolHit' },
            ],
            'hit.notFound': { target: `#unit.${AssignmentState.expired}`, actions: 'takePoolHit' },
          },
        },
        expiring: {
          description: 'expireHIT is pending on the pool HIT this unit consumes.',
          entry: { type: 'expireHIT', params: ({ context }) => expireCommandOf(context) },
          on: {
            'expire.succeeded': { guard: 'isExpireResult', target: `#unit.${AssignmentState.expired}` },
            'expire.failed': [
              { guard: 'canRetry', actions: 'scheduleRetry' },
              { guard: 'isExpireResult', target: `#unit.${AssignmentState.expired}`, actions: 'recordExpireGaveUp' },
            ],
            'deadline.reached': retryCommand('expiring'),
            'hit.observed': [
              { guard: 'hitSubmitted', target: `#unit.${AssignmentState.completed}` },
              { guard: 'hitExpiredUnfilled', target: `#unit.${AssignmentState.expired}` },
            ],
            'hit.notFound': { guard: 'isOwnHit', target: `#unit.${AssignmentState.expired}` },
          },
        },
      },
      on: {
        'unit.abandon': { target: `#unit.${AssignmentState.expired}`, actions: 'noteAbandoned' },
      },
    },

    [AssignmentState.assigned]: {
      description: 'A worker holds the bound HIT’s assignment; the agent is bound. Every exit tells the agent.',
      entry: reportStatus(AssignmentState.assigned),
      initial: 'working',
      states: {
        working: {
          description:
            'The worker is on it. Unassignable (H2) and Disposed (H5) change nothing; Assignable raises a suspected return (also after a stored submission: a worker can store, then return); a registration with another assignment takes the HIT over.',
          on: {
            'hit.observed': [
              toCompleted,
              toExpiredReturned,
              { guard: 'returnSuspected', target: 'returnTentative', actions: 'suspectReturn' },
            ],
            'unit.bindAgent': toDisplaced,
            'deadline.reached': { guard: 'assignmentDeadlinePassed', target: 'overdue', actions: 'startConfirmation' },
            'unit.expire': { guard: 'hitNotExpired', target: 'expiring', actions: 'startCommand' },
          },
        },
        returnTentative: {
          description:
            'M1, first phase: Assignable seen once. confirmHIT is pending; Assignable again (its answer, or a later sighting) or a registration with another assignment confirms the return; Unassignable, or data stored now, cancels it.',
          tags: [UnitTag.confirming],
          entry: { type: 'confirmHIT', params: ({ context }) => confirmCommandOf(context, 'returnSuspected') },
          on: {
            'hit.observed': [
              toCompleted,
              toExpiredReturned,
              { guard: 'returnConfirmed', ...toPoolReturned },
              { guard: 'stillHeld', target: 'working', actions: 'clearSuspicion' },
            ],
            'agent.submitted': { target: 'working', actions: ['recordSubmitted', 'clearSuspicion'] },
            'unit.bindAgent': toDisplaced,
            'hit.lookupFailed': { guard: 'canRetry', actions: 'scheduleRetry' },
            'deadline.reached': [
              ...retryCommand('returnTentative'),
              { guard: 'assignmentDeadlinePassed', target: 'overdue', actions: 'startConfirmation' },
            ],
            'unit.expire': { guard: 'hitNotExpired', target: 'expiring', actions: 'startCommand' },
          },
        },
        expiring: {
          description: 'expireHIT is pending on the bound HIT (the run is expiring); the worker may still finish.',
          entry: { type: 'expireHIT', params: ({ context }) => expireCommandOf(context) },
          on: {
            'expire.succeeded': { guard: 'isExpireResult', target: 'working', actions: 'markHitExpired' },
            'expire.failed': [
              { guard: 'canRetry', actions: 'scheduleRetry' },
              { guard: 'isExpireResult', target: 'working', actions: 'recordFailure' },
            ],
            'deadline.reached': retryCommand('expiring'),
            'hit.observed': [toCompleted, toExpiredReturned],
          },
        },
        overdue: {
          description:
            'The assignment’s duration ran out. confirmHIT is pending: submitted, expired, gone back to the pool, or taken by a new registration.',
          tags: [UnitTag.confirming],
          entry: { type: 'confirmHIT', params: ({ context }) => confirmCommandOf(context, 'deadlinePassed') },
          on: {
            'hit.observed': [toCompleted, toExpiredReturned, { guard: 'assignmentLapsed', ...toPoolReturned }],
            'unit.bindAgent': toDisplaced,
            'hit.lookupFailed': { guard: 'canRetry', actions: 'scheduleRetry' },
            'deadline.reached': retryCommand('overdue'),
            'unit.expire': { guard: 'hitNotExpired', target: 'expiring', actions: 'startCommand' },
          },
        },
      },
      on: {
        'agent.submitted': { actions: 'recordSubmitted' },
        'agent.reviewed': { guard: 'isOwnAgentReview', actions: 'holdReviewOutcome' },
        'unit.confirmBinding': { guard: 'isBoundAssignment', actions: 'confirmBinding' },
        'unit.bindingGone': { guard: 'isBoundAssignment', ...toPoolReturned },
        'hit.notFound': { guard: 'isOwnHit', target: `#unit.${AssignmentState.expired}`, actions: 'tellAgentExpired' },
        'unit.releaseAgent': {
          guard: 'dataMissing',
          target: `#unit.${AssignmentState.launched}`,
          actions: ['reportHitReleased', 'tellAgentReleased', 'clearBinding'],
        },
        'unit.abandon': { target: `#unit.${AssignmentState.expired}`, actions: ['tellAgentExpired', 'noteAbandoned'] },
      },
    },

    [AssignmentState.completed]: {
      tags: [UnitTag.settled],
      description:
        'MTurk shows the HIT’s assignment submitted (M4). MTurk is asked whose it is (one call per completed unit: data stored on the task server is only the worker’s word, issue 13 F1), then the unit waits for the agent’s review; a release is refused.',
      entry: [reportStatus(AssignmentState.completed), 'startCommand'],
      initial: 'reconciling',
      states: {
        awaitingReview: {
          tags: [UnitTag.holdsSubmission],
          description:
            'Submitted, data stored, MTurk named the assignment. R1-R3 follow the agent’s confirmed review. A money call MTurk refused as "does not exist" or not submitted sends the unit back to MTurk’s word.',
          on: {
            'unit.adoptAgent': { guard: 'hasNoAgent', actions: ['adoptAgent', 'spawnAgent'] },
            'unit.submissionRefuted': {
              guard: 'isBoundAssignment',
              target: 'reconciling',
              actions: 'forgetSubmissionConfirmation',
            },
          },
          always: [
            { guard: 'outcomeApproved', target: `#unit.${AssignmentState.accepted}` },
            { guard: 'outcomeRejected', target: `#unit.${AssignmentState.rejected}` },
            { guard: 'outcomeSoftRejected', target: `#unit.${AssignmentState.softRejected}` },
          ],
        },
        reconciling: {
          description:
            'reconcileSubmission is pending (bounded retries at retryAt): MTurk’s submitted assignment decides whose submission the unit holds (the bound one, or another adopted while the bound agent is overruled). A review waits until it ends. MTurk saying the HIT is gone ends the unit expired.',
          entry: { type: 'reconcileSubmission', params: ({ context }) => reconcileCommandOf(context) },
          on: {
            'reconcile.succeeded': [
              {
                guard: 'reconciledForOtherAssignment',
                target: 'awaitingReview',
                actions: ['tellAgentOverruled', 'takeReconciledAssignment', 'reportReconciledWithoutAgent'],
              },
              {
                guard: 'reconciledForAgent',
                target: 'awaitingReview',
                actions: ['recordReconciled', 'tellAgentDataReconciled'],
              },
              {
                guard: 'isReconcileResult',
                target: 'awaitingReview',
                actions: ['recordReconciled', 'reportReconciledWithoutAgent'],
              },
            ],
            'reconcile.failed': [
              { guard: 'canRetry', actions: 'scheduleRetry' },
              { guard: 'isReconcileResult', target: 'reconcileFailed', actions: 'recordFailure' },
            ],
            'hit.notFound': {
              guard: 'isOwnHit',
              target: `#unit.${AssignmentState.expired}`,
              actions: 'tellAgentNotSubmitted',
            },
            // Data reaching the task server now is still only the worker's word: MTurk's answer decides.
            'agent.submitted': { guard: 'dataMissing', actions: 'recordSubmitted' },
            'deadline.reached': retryCommand('reconciling'),
          },
        },
        reconcileFailed: {
          description: 'Gave up reconciling: the runtime reports the missing data. unit.retryReconcile tries again.',
          tags: [UnitTag.reconcileFailed],
          on: {
            'unit.retryReconcile': { target: 'reconciling', actions: 'startCommand' },
            'agent.submitted': {
              guard: 'dataMissing',
              target: 'reconciling',
              actions: ['recordSubmitted', 'startCommand'],
            },
          },
          always: [
            { guard: 'outcomeApproved', target: `#unit.${AssignmentState.accepted}` },
            { guard: 'outcomeRejected', target: `#unit.${AssignmentState.rejected}` },
            { guard: 'outcomeSoftRejected', target: `#unit.${AssignmentState.softRejected}` },
          ],
        },
      },
      on: {
        'agent.reviewed': { guard: 'isOwnAgentReview', actions: 'holdReviewOutcome' },
      },
    },

    [AssignmentState.accepted]: {
      tags: [UnitTag.settled, UnitTag.final, UnitTag.ignoresHit, UnitTag.holdsSubmission],
      description: 'Approved on MTurk (R1). Terminal: no MTurk call, no change.',
      entry: reportStatus(AssignmentState.accepted),
    },
    [AssignmentState.rejected]: {
      tags: [UnitTag.settled, UnitTag.ignoresHit, UnitTag.holdsSubmission],
      description: 'Rejected on MTurk (R2). Not terminal: an approval overriding the rejection makes it accepted.',
      entry: reportStatus(AssignmentState.rejected),
      on: {
        'agent.reviewed': [
          { guard: 'reviewedApproved', target: AssignmentState.accepted },
          { guard: 'reviewedSoftRejected', target: AssignmentState.softRejected },
        ],
      },
    },
    [AssignmentState.softRejected]: {
      tags: [UnitTag.settled, UnitTag.final, UnitTag.ignoresHit, UnitTag.holdsSubmission],
      description: 'Paid on MTurk, recorded as rejected (R3). Terminal.',
      entry: reportStatus(AssignmentState.softRejected),
    },
    [AssignmentState.expired]: {
      tags: [UnitTag.settled, UnitTag.final, UnitTag.ignoresHit],
      description: 'No worker will finish it (M2, M5, L2, or the run stopped waiting). Terminal: no MTurk call.',
      entry: reportStatus(AssignmentState.expired),
    },
  },
});
