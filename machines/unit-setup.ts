/**
 * The named actions and guards of the unit machine (`setup()`), kept apart from its states.
 *
 * Commands (`launchHIT`, `expireHIT`, `confirmHIT`, `reconcileSubmission`) and `report` do nothing
 * by default: the runtime provides the commands, the unit's group provides `report`. Every other
 * action is a named context update, so the JSON definition and the diagrams stay readable. The
 * row codes (H1, M4, R1...) are those of Mephisto's unit table, docs/mephisto-semantics.md#the-unit-table.
 *
 * @module
 */
import { assertEvent, sendParent, setup } from 'xstate';
import { agentMachine } from './agent.js';
import type { AgentEvent, AgentInput, AgentReport } from './agent-types.js';
import { DEFAULT_RETRY_POLICY, retryDelayMs } from './commands.js';
import type {
  CommandKind,
  ConfirmHITCommand,
  ExpireHITCommand,
  LaunchHITCommand,
  ReconcileSubmissionCommand,
} from './commands.js';
import { agentActorId } from './ids.js';
import {
  classifyObservation,
  confirmCommandOf,
  expireCommandOf,
  launchCommandOf,
  reconcileCommandOf,
} from './unit-commands.js';
import type { UnitContext, UnitEvent, UnitInput, UnitReport } from './unit-types.js';

type FailureEvent = Extract<
  UnitEvent,
  { type: 'launch.failed' | 'expire.failed' | 'reconcile.failed' | 'hit.lookupFailed' }
>;

const FAILURE_KIND: Record<FailureEvent['type'], CommandKind> = {
  'launch.failed': 'launchHIT',
  'expire.failed': 'expireHIT',
  'reconcile.failed': 'reconcileSubmission',
  'hit.lookupFailed': 'confirmHIT',
};

const policyOf = (context: UnitContext) => context.retry ?? DEFAULT_RETRY_POLICY;
const retryableOf = (event: FailureEvent): boolean => (event.type === 'hit.lookupFailed' ? true : event.retryable);
const underAttemptLimit = (context: UnitContext): boolean => context.failures + 1 < policyOf(context).maxAttempts;

/** The observation's "external" status, when it concerns `hitId` (any HIT when `hitId` is null: a launched unit answers for the pool). */
function observed(context: UnitContext, event: UnitEvent): ReturnType<typeof classifyObservation> {
  if (event.type !== 'hit.observed') return null;
  if (context.hitId !== null && event.hitId !== context.hitId) return null;
  return classifyObservation(event.status, event.available);
}

const isReconcileResult = (context: UnitContext, event: UnitEvent): boolean =>
  (event.type === 'reconcile.succeeded' || event.type === 'reconcile.failed') &&
  context.hitId !== null &&
  event.commandId === reconcileCommandOf(context).commandId;

/** MTurk names another submitted assignment than the bound one: the binding came from a registration MTurk does not back. */
const reconciledOther = (context: UnitContext, event: UnitEvent): boolean =>
  isReconcileResult(context, event) &&
  event.type === 'reconcile.succeeded' &&
  event.assignmentId !== undefined &&
  event.workerId !== undefined &&
  context.assignmentId !== null &&
  event.assignmentId !== context.assignmentId;

const ownHit = (context: UnitContext, event: UnitEvent): boolean =>
  'hitId' in event && context.hitId !== null && event.hitId === context.hitId;

/** The time of an event (child errors carry none). */
export const atOf = (event: UnitEvent): number => ('at' in event && typeof event.at === 'number' ? event.at : 0);

/** The agent machine as a unit's child: its review outcome goes to the unit (R1-R3). */
export const unitAgentMachine = agentMachine.provide({
  actions: { report: sendParent((_args, report: AgentReport) => report) },
});

export const unitSetup = setup({
  types: {
    context: {} as UnitContext,
    events: {} as UnitEvent,
    input: {} as UnitInput,
  },
  actors: { agent: unitAgentMachine },
  actions: {
    launchHIT: (_args, _command: LaunchHITCommand) => {},
    expireHIT: (_args, _command: ExpireHITCommand) => {},
    confirmHIT: (_args, _command: ConfirmHITCommand) => {},
    reconcileSubmission: (_args, _command: ReconcileSubmissionCommand) => {},
    report: (_args, _report: UnitReport) => {},
  },
  guards: {
    isLaunchResult: ({ context, event }) =>
      (event.type === 'launch.succeeded' || event.type === 'launch.failed') &&
      event.commandId === launchCommandOf(context).commandId,
    isExpireResult: ({ context, event }) =>
      (event.type === 'expire.succeeded' || event.type === 'expire.failed') &&
      context.hitId !== null &&
      event.commandId === expireCommandOf(context).commandId,
    isReconcileResult: ({ context, event }) => isReconcileResult(context, event),
    reconciledForAgent: ({ context, event }) =>
      isReconcileResult(context, event) && context.agentId !== null && !reconciledOther(context, event),
    /** MTurk shows another assignment submitted than the one the bound agent's registration displaced in: the unit is that worker's. */
    reconciledForOtherAssignment: ({ context, event }) => context.agentId !== null && reconciledOther(context, event),
    /** A failed command may be tried again: same command, retryable, attempts left. */
    canRetry: ({ context, event }) => {
      switch (event.type) {
        case 'launch.failed':
          return (
            event.commandId === launchCommandOf(context).commandId && event.retryable && underAttemptLimit(context)
          );
        case 'expire.failed':
          return (
            context.hitId !== null &&
            event.commandId === expireCommandOf(context).commandId &&
            event.retryable &&
            underAttemptLimit(context)
          );
        case 'reconcile.failed':
          return (
            context.hitId !== null &&
            event.commandId === reconcileCommandOf(context).commandId &&
            event.retryable &&
            underAttemptLimit(context)
          );
        case 'hit.lookupFailed':
          return ownHit(context, event) && underAttemptLimit(context);
        default:
          return false;
      }
    },
    retryDue: ({ context, event }) =>
      event.type === 'deadline.reached' && context.retryAt !== null && event.at >= context.retryAt,
    assignmentDeadlinePassed: ({ context, event }) =>
      event.type === 'deadline.reached' && context.deadlineAt !== null && event.at >= context.deadlineAt,
    poolHitGiven: ({ event }) => event.type === 'unit.expire' && event.hitId !== null,
    isOwnHit: ({ context, event }) => ownHit(context, event),
    /** H3: Reviewable/Reviewing with nothing available: the assignment was submitted. */
    hitSubmitted: ({ context, event }) => observed(context, event) === 'completed',
    /** H4: Reviewable/Reviewing with slots available: the HIT expired unfilled. */
    hitExpiredUnfilled: ({ context, event }) => observed(context, event) === 'expired',
    /**
     * H1 while working: maybe a return, maybe the flicker before Reviewable (PR #410). Also with the
     * data stored: a worker can store and then return the HIT (issue 13 F1), and the stored data of
     * a returned assignment must not complete the unit; confirmHIT tells the two apart.
     */
    returnSuspected: ({ context, event }) => observed(context, event) === 'launched',
    /**
     * H1 again, from an observation made after the one that raised the suspicion: the answer of the
     * confirmHIT the suspicion issued (even in the same millisecond), or a later sighting. The same
     * sighting delivered twice confirms nothing (PR #410: the flicker before Reviewable).
     */
    returnConfirmed: ({ context, event }) =>
      observed(context, event) === 'launched' &&
      event.type === 'hit.observed' &&
      context.returnSuspectedAt !== null &&
      (event.at > context.returnSuspectedAt ||
        (event.commandId !== undefined && event.commandId === confirmCommandOf(context, 'returnSuspected').commandId)),
    /** H2 while a return was suspected: the worker still holds it, it was the flicker. */
    stillHeld: ({ context, event }) => observed(context, event) === 'assigned',
    /** Past the assignment's deadline, Assignable or Unassignable means our worker's assignment is gone. */
    assignmentLapsed: ({ context, event }) => {
      const external = observed(context, event);
      return external === 'launched' || external === 'assigned';
    },
    /**
     * A registration on the bound HIT with another assignment: MTurk re-offered the HIT, so the bound
     * assignment ended (returned or lapsed). A registration MTurk confirmed proves it even when the
     * bound agent's data is stored (the worker stored, then returned: issue 13 F1); an unconfirmed
     * one never reaches here, and one not checked does not displace stored data.
     */
    bindingEnded: ({ context, event }) =>
      event.type === 'unit.bindAgent' &&
      context.hitId !== null &&
      event.hitId === context.hitId &&
      context.assignmentId !== null &&
      event.assignmentId !== context.assignmentId &&
      (!context.submitted || event.confirmed === true),
    dataMissing: ({ context }) => !context.submitted,
    /** MTurk's late confirmation (or a money call's refusal) is about the binding in place (not an older one). */
    isBoundAssignment: ({ context, event }) =>
      (event.type === 'unit.confirmBinding' ||
        event.type === 'unit.bindingGone' ||
        event.type === 'unit.submissionRefuted') &&
      context.assignmentId !== null &&
      event.assignmentId === context.assignmentId,
    hitNotExpired: ({ context }) => !context.hitExpired,
    hasNoAgent: ({ context }) => context.agentId === null,
    /** R1-R4: only the review of this unit's own agent counts (an earlier, released agent's does not). */
    isOwnAgentReview: ({ context, event }) =>
      event.type === 'agent.reviewed' && context.agentId !== null && event.agentId === context.agentId,
    reviewedApproved: ({ context, event }) =>
      event.type === 'agent.reviewed' && event.agentId === context.agentId && event.status === 'approved',
    reviewedSoftRejected: ({ context, event }) =>
      event.type === 'agent.reviewed' && event.agentId === context.agentId && event.status === 'soft_rejected',
    outcomeApproved: ({ context }) => context.reviewOutcome === 'approved',
    outcomeRejected: ({ context }) => context.reviewOutcome === 'rejected',
    outcomeSoftRejected: ({ context }) => context.reviewOutcome === 'soft_rejected',
  },
});

const u = unitSetup;

/** The unit machine's setup with its context updates and reports added (typed against the setup). */
export const unitImplementation = u.extend({
  actions: {
    startCommand: u.assign({ failures: 0, retryAt: null }),
    recordLaunch: u.assign(({ event }) => {
      assertEvent(event, 'launch.succeeded');
      return { launchedHitId: event.hitId, failures: 0, retryAt: null, lastFailure: null };
    }),
    scheduleRetry: u.assign(({ context, event }) => {
      assertEvent(event, ['launch.failed', 'expire.failed', 'reconcile.failed', 'hit.lookupFailed']);
      const failures = context.failures + 1;
      return {
        failures,
        retryAt: event.at + retryDelayMs(policyOf(context), failures),
        lastFailure: {
          kind: FAILURE_KIND[event.type],
          reason: event.reason,
          retryable: retryableOf(event),
          at: event.at,
        },
      };
    }),
    clearRetry: u.assign({ retryAt: null }),
    recordFailure: u.assign(({ event }) => {
      assertEvent(event, ['launch.failed', 'expire.failed', 'reconcile.failed', 'hit.lookupFailed']);
      return {
        failures: 0,
        retryAt: null,
        lastFailure: {
          kind: FAILURE_KIND[event.type],
          reason: event.reason,
          retryable: retryableOf(event),
          at: event.at,
        },
      };
    }),
    /** A definitive refusal means nothing was created: the next launch may use a new token. */
    recordLaunchGaveUp: u.assign(({ context, event }) => {
      assertEvent(event, 'launch.failed');
      return {
        launchAttempt: event.retryable ? context.launchAttempt : context.launchAttempt + 1,
        failures: 0,
        retryAt: null,
        lastFailure: { kind: 'launchHIT', reason: event.reason, retryable: event.retryable, at: event.at },
      };
    }),
    bindAgent: u.assign(({ context, event }) => {
      assertEvent(event, 'unit.bindAgent');
      return {
        hitId: event.hitId,
        assignmentId: event.assignmentId,
        agentId: event.agentId,
        workerId: event.workerId,
        deadlineAt: event.deadlineAt,
        bindings: context.bindings + 1,
        displacedAssignmentId: null,
        ...(event.confirmed === false ? { bindingUnconfirmed: true } : { bindingUnconfirmed: undefined }),
        submissionConfirmed: undefined,
        submitted: false,
        hitExpired: false,
        returnSuspectedAt: null,
        failures: 0,
        retryAt: null,
      };
    }),
    /** The new worker takes the bound HIT (and its expiry, if this unit expired it) from the assignment that ended. */
    displaceBinding: u.assign(({ context, event }) => {
      assertEvent(event, 'unit.bindAgent');
      return {
        assignmentId: event.assignmentId,
        agentId: event.agentId,
        workerId: event.workerId,
        deadlineAt: event.deadlineAt,
        bindings: context.bindings + 1,
        displacedAssignmentId: context.assignmentId,
        bindingUnconfirmed: undefined,
        submissionConfirmed: undefined,
        submitted: false,
        reviewOutcome: null,
        returnSuspectedAt: null,
        failures: 0,
        retryAt: null,
      };
    }),
    takePoolHit: u.assign(({ event }) => {
      assertEvent(event, ['unit.expire', 'hit.observed', 'hit.notFound']);
      return { hitId: event.hitId, failures: 0, retryAt: null };
    }),
    noteEmptyPool: u.assign({ note: 'the run pool had no HIT left to expire for this unit' }),
    suspectReturn: u.assign(({ context, event }) => {
      assertEvent(event, 'hit.observed');
      return { returnSuspectedAt: event.at, confirmations: context.confirmations + 1, failures: 0, retryAt: null };
    }),
    clearSuspicion: u.assign({ returnSuspectedAt: null, failures: 0, retryAt: null }),
    startConfirmation: u.assign(({ context }) => ({
      confirmations: context.confirmations + 1,
      failures: 0,
      retryAt: null,
    })),
    markHitExpired: u.assign({ hitExpired: true, failures: 0, retryAt: null }),
    recordExpireGaveUp: u.assign(({ event }) => {
      assertEvent(event, 'expire.failed');
      return {
        failures: 0,
        retryAt: null,
        lastFailure: { kind: 'expireHIT', reason: event.reason, retryable: event.retryable, at: event.at },
        note: `expiring the HIT failed: ${event.reason}`,
      };
    }),
    recordSubmitted: u.assign({ submitted: true }),
    confirmBinding: u.assign({ bindingUnconfirmed: undefined }),
    clearBinding: u.assign({
      bindingUnconfirmed: undefined,
      submissionConfirmed: undefined,
      reviewOutcome: null,
      hitId: null,
      assignmentId: null,
      agentId: null,
      workerId: null,
      deadlineAt: null,
      displacedAssignmentId: null,
      submitted: false,
      hitExpired: false,
      returnSuspectedAt: null,
      failures: 0,
      retryAt: null,
    }),
    recordReconciled: u.assign(({ context, event }) => {
      assertEvent(event, 'reconcile.succeeded');
      // Without an agent, remember whose submission it was: the supervisor may give the unit an agent for it.
      const found =
        context.agentId === null
          ? { assignmentId: event.assignmentId ?? context.assignmentId, workerId: event.workerId ?? context.workerId }
          : {};
      return {
        submitted: true,
        submissionConfirmed: true,
        displacedAssignmentId: null,
        failures: 0,
        retryAt: null,
        ...found,
      };
    }),
    /** MTurk's submitted assignment is not the bound one: the unit lets the bound agent go and holds the submission MTurk names. */
    takeReconciledAssignment: u.assign(({ event }) => {
      assertEvent(event, 'reconcile.succeeded');
      return {
        agentId: null,
        assignmentId: event.assignmentId ?? null,
        workerId: event.workerId ?? null,
        displacedAssignmentId: null,
        submitted: true,
        submissionConfirmed: true,
        reviewOutcome: null,
        failures: 0,
        retryAt: null,
      };
    }),
    /**
     * The supervisor bound a worker: spawn the agent as this unit's child and accept it. An adopted
     * agent that is already this unit's child (displaced earlier) is told MTurk's word instead.
     */
    spawnAgent: u.enqueueActions(({ enqueue, context, event }) => {
      assertEvent(event, ['unit.bindAgent', 'unit.adoptAgent']);
      const id = agentActorId(event.agentId);
      if (event.type === 'unit.adoptAgent' && event.existing) {
        enqueue.sendTo(id, { type: 'assignment.submitted', at: event.at });
        enqueue.sendTo(id, { type: 'agent.submitted', at: event.at });
        enqueue.sendTo(id, { type: 'submission.confirmed', at: event.at });
        return;
      }
      const input: AgentInput = {
        agentId: event.agentId,
        unitId: context.unitId,
        runId: context.runId,
        workerId: event.workerId,
        assignmentId: event.assignmentId,
        hitId: context.hitId ?? '',
        deadlineAt: event.type === 'unit.bindAgent' ? event.deadlineAt : event.at,
      };
      // Agent ids are unique in a run: the supervisor binds an arrival (and adopts an agent) only for an agent id it has never bound.
      enqueue.spawnChild('agent', { id, systemId: id, input });
      enqueue.sendTo(id, { type: 'agent.accepted', at: event.at });
      if (event.type === 'unit.adoptAgent') {
        // Adopted from MTurk's answer: MTurk named this assignment.
        enqueue.sendTo(id, { type: 'agent.submitted', at: event.at });
        enqueue.sendTo(id, { type: 'submission.confirmed', at: event.at });
      }
    }),
    adoptAgent: u.assign(({ event }) => {
      assertEvent(event, 'unit.adoptAgent');
      return { agentId: event.agentId, assignmentId: event.assignmentId, workerId: event.workerId };
    }),
    reportChildFailure: u.enqueueActions(({ enqueue, context, event }) => {
      assertEvent(event, 'xstate.error.actor.*');
      const message = event.error instanceof Error ? event.error.message : String(event.error);
      enqueue({
        type: 'report',
        params: { type: 'report.childFailed', unitId: context.unitId, actorId: event.actorId, message },
      });
    }),
    holdReviewOutcome: u.assign(({ event }) => {
      assertEvent(event, 'agent.reviewed');
      return { reviewOutcome: event.status };
    }),
    noteAbandoned: u.assign(({ event }) => {
      assertEvent(event, 'unit.abandon');
      return { note: `abandoned: ${event.reason}`, failures: 0, retryAt: null };
    }),
    reportHitCreated: u.enqueueActions(({ enqueue, context, event }) => {
      assertEvent(event, 'launch.succeeded');
      enqueue({
        type: 'report',
        params: { type: 'report.hitCreated', unitId: context.unitId, hitId: event.hitId, at: event.at },
      });
    }),
    reportHitReleased: u.enqueueActions(({ enqueue, context, event }) => {
      if (context.hitId !== null) {
        enqueue({
          type: 'report',
          params: {
            type: 'report.hitReleased',
            unitId: context.unitId,
            hitId: context.hitId,
            assignmentId: context.assignmentId,
            at: atOf(event),
          },
        });
      }
    }),
    reportBindingReplaced: u.enqueueActions(({ enqueue, context, event }) => {
      const { hitId, assignmentId, displacedAssignmentId, agentId } = context;
      if (hitId === null || assignmentId === null || displacedAssignmentId === null || agentId === null) return;
      enqueue({
        type: 'report',
        params: {
          type: 'report.bindingReplaced',
          unitId: context.unitId,
          hitId,
          assignmentId,
          displacedAssignmentId,
          agentId,
          at: atOf(event),
        },
      });
    }),
    reportLaunchFailed: u.enqueueActions(({ enqueue, context, event }) => {
      assertEvent(event, 'launch.failed');
      enqueue({
        type: 'report',
        params: {
          type: 'report.launchFailed',
          unitId: context.unitId,
          reason: event.reason,
          retryable: event.retryable,
          at: event.at,
        },
      });
    }),
    /** Reconciliation found data for a unit that had no agent: the supervisor gives it one. */
    reportReconciledWithoutAgent: u.enqueueActions(({ enqueue, context, event }) => {
      if (context.hitId !== null) {
        enqueue({
          type: 'report',
          params: {
            type: 'report.reconciledWithoutAgent',
            unitId: context.unitId,
            hitId: context.hitId,
            assignmentId: context.assignmentId,
            workerId: context.workerId,
            at: atOf(event),
          },
        });
      }
    }),
    /**
     * The bound assignment ended. An agent whose data is stored is `completed` and ignores a return:
     * it is overruled instead (back to `returned`, the data kept under it, never the unit's work).
     */
    tellAgentReturned: u.enqueueActions(({ enqueue, context, event }) => {
      if (context.agentId === null) return;
      enqueue.sendTo(agentActorId(context.agentId), {
        type: context.submitted ? 'assignment.overruled' : 'agent.returned',
        at: atOf(event),
      });
    }),
    /** MTurk's submitted assignment is another one: the bound agent's registration was not backed by MTurk. */
    tellAgentOverruled: u.enqueueActions(({ enqueue, context, event }) => {
      if (context.agentId !== null)
        enqueue.sendTo(agentActorId(context.agentId), { type: 'assignment.overruled', at: atOf(event) });
    }),
    /**
     * The unit expired under its agent. An agent whose data is stored is `completed`, which an
     * expiry does not end; but MTurk never showed its assignment submitted (the unit never
     * completed), so the data was never MTurk's submission: it is told so, and ends `expired` with
     * the data kept under it.
     */
    tellAgentExpired: u.enqueueActions(({ enqueue, context, event }) => {
      if (context.agentId !== null)
        enqueue.sendTo(agentActorId(context.agentId), {
          type: context.submitted ? 'assignment.notSubmitted' : 'agent.expired',
          at: atOf(event),
        });
    }),
    /** MTurk has no submission for the unit's HIT and the HIT is gone: whatever the agent stored, it ends `expired`. */
    tellAgentNotSubmitted: u.enqueueActions(({ enqueue, context, event }) => {
      if (context.agentId !== null)
        enqueue.sendTo(agentActorId(context.agentId), { type: 'assignment.notSubmitted', at: atOf(event) });
    }),
    /** A money call's refusal casts doubt on the stored submission: MTurk is asked again. */
    forgetSubmissionConfirmation: u.assign({ submissionConfirmed: undefined, failures: 0, retryAt: null }),
    tellAgentReleased: u.enqueueActions(({ enqueue, context, event }) => {
      if (context.agentId !== null)
        enqueue.sendTo(agentActorId(context.agentId), { type: 'agent.released', at: atOf(event) });
    }),
    /** MTurk says submitted: the agent is `completed` (with or without stored data). */
    tellAgentSubmitted: u.enqueueActions(({ enqueue, context, event }) => {
      const message: AgentEvent = context.submitted
        ? { type: 'agent.submitted', at: atOf(event) }
        : { type: 'assignment.submitted', at: atOf(event) };
      if (context.agentId !== null) enqueue.sendTo(agentActorId(context.agentId), message);
    }),
    /** MTurk named the bound agent's assignment: its data is stored (from MTurk's answer if need be) and confirmed. */
    tellAgentDataReconciled: u.enqueueActions(({ enqueue, context, event }) => {
      if (context.agentId === null) return;
      enqueue.sendTo(agentActorId(context.agentId), { type: 'agent.submitted', at: atOf(event) });
      enqueue.sendTo(agentActorId(context.agentId), { type: 'submission.confirmed', at: atOf(event) });
    }),
  },
});
