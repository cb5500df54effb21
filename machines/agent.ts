/**
 * The agent machine: one worker on one unit, through Mephisto's AgentState lifecycle, driven only
 * by events. Top-level states are exactly the AgentState values (`in task` and
 * `partner disconnect` keep their spaces).
 *
 * Review goes through pending substates (`completed.approving`, `completed.rejecting`,
 * `completed.softRejecting`, `*.bonusing`, and `rejected.approving` for an override) whose entry
 * action is the command the runtime performs. The agent moves only on a confirmed result
 * (`review.succeeded`, or `review.alreadyDone` which counts as success); `review.failed` brings it
 * back where it was with the reason in `lastReviewFailure`. A bonus asked for before the work is
 * submitted is queued and paid once the agent is `completed` (Mephisto #1081).
 *
 * End states are absorbing (no transition leaves them) but not XState `final`: a final actor
 * leaves the system registry, and late events for it must still find it. `returned` is the one
 * exception: a return the run inferred from another worker's registration is not MTurk's word (a
 * registration cannot be verified), so data the worker still stores is kept, and MTurk listing the
 * assignment submitted (`assignment.submitted`) completes the agent.
 *
 * Deliberate differences from Mephisto: a submission is never dropped, so `agent.submitted` (and
 * MTurk's `assignment.submitted`) also completes an agent that had disconnected or timed out
 * (Mephisto loses it, docs/mephisto-semantics.md#return-timeout-and-disconnect); a completed agent is
 * never expired (row L1 did that, docs/mephisto-semantics.md#status-rows), only MTurk listing
 * another assignment as the HIT's submission (`assignment.overruled`) takes it back to `returned`,
 * and a unit that ends without MTurk ever showing its assignment submitted (`assignment.notSubmitted`:
 * the worker stored data on the task server, then returned) makes it `expired`, the data kept;
 * approve on an approved agent makes no call (PR #445, lesson #21 of
 * docs/mephisto-semantics.md#known-bugs-and-lessons) and reject on it is refused.
 *
 * @module
 */
import { agentImplementation } from './agent-setup.js';
import { approveCommandOf, bonusCommandOf, rejectCommandOf, softRejectCommandOf } from './agent-commands.js';
import type { AgentContext, AgentEvent, AgentReport } from './agent-types.js';
import { AgentState } from './states.js';
import { AgentTag } from './tags.js';

type Reviewed = 'approved' | 'rejected' | 'soft_rejected';

/** Entry action of approved, rejected and soft_rejected: the agent's unit learns the confirmed outcome (R1-R3). */
const reportReviewed = (status: Reviewed) =>
  ({
    type: 'report',
    params: ({ context, event }: { context: AgentContext; event: AgentEvent }): AgentReport => ({
      type: 'agent.reviewed',
      agentId: context.agentId,
      unitId: context.unitId,
      status,
      at: event.at,
    }),
  }) as const;

/** What can happen to an agent while the worker is on the task (accepted, onboarding, waiting, in task, partner disconnect). */
const whileWorking = {
  'agent.submitted': { target: `#agent.${AgentState.completed}`, actions: 'recordData' },
  'assignment.submitted': { target: `#agent.${AgentState.completed}` },
  'agent.disconnected': { target: `#agent.${AgentState.disconnect}` },
  'agent.timedOut': { target: `#agent.${AgentState.timeout}` },
  'deadline.reached': { guard: 'deadlinePassed', target: `#agent.${AgentState.timeout}` },
  'agent.returned': { target: `#agent.${AgentState.returned}` },
  'agent.expired': { target: `#agent.${AgentState.expired}` },
  'agent.released': { target: `#agent.${AgentState.disconnect}` },
  'assignment.overruled': { target: `#agent.${AgentState.returned}` },
  'review.bonus': { guard: 'isNewBonus', actions: 'queueBonus' },
} as const;

/** A worker who left can still have submitted: the submission wins (MTurk will pay it). */
const lateSubmission = {
  'agent.submitted': { target: `#agent.${AgentState.completed}`, actions: 'recordData' },
  'assignment.submitted': { target: `#agent.${AgentState.completed}` },
  'assignment.overruled': { target: `#agent.${AgentState.returned}` },
} as const;

/** Results of the pending review command. */
const onResult = <T extends string>(success: T) =>
  ({
    'review.succeeded': { guard: 'isReviewResult', target: success, actions: 'finishReview' },
    'review.alreadyDone': { guard: 'isReviewResult', target: success, actions: 'finishReview' },
    'review.failed': { guard: 'isReviewResult', target: 'idle', actions: 'recordReviewFailure' },
    'review.bonus': { guard: 'isNewBonus', actions: 'queueBonus' },
  }) as const;

const approving = (overrideRejection: boolean) =>
  ({
    tags: [AgentTag.reviewPending],
    description: overrideRejection
      ? 'approveAssignment with OverrideRejection is pending; moves to approved only when MTurk confirms.'
      : 'approveAssignment is pending; moves to approved only when MTurk confirms (already approved counts).',
    entry: {
      type: 'approveAssignment',
      params: ({ context }: { context: AgentContext }) => approveCommandOf(context, overrideRejection),
    },
    on: onResult(`#agent.${AgentState.approved}` as const),
  }) as const;

const softRejecting = (overrideRejection: boolean) =>
  ({
    tags: [AgentTag.reviewPending],
    description: 'softRejectAssignment is pending (approved on MTurk, recorded as soft-rejected).',
    entry: {
      type: 'softRejectAssignment',
      params: ({ context }: { context: AgentContext }) => softRejectCommandOf(context, overrideRejection),
    },
    on: onResult(`#agent.${AgentState.softRejected}` as const),
  }) as const;

const bonusing = {
  tags: [AgentTag.reviewPending],
  description: 'sendBonus is pending for the oldest queued bonus; back to idle on the result.',
  entry: { type: 'sendBonus', params: ({ context }: { context: AgentContext }) => bonusCommandOf(context) },
  on: {
    'review.succeeded': { guard: 'isReviewResult', target: 'idle', actions: 'recordBonusPaid' },
    'review.alreadyDone': { guard: 'isReviewResult', target: 'idle', actions: 'recordBonusPaid' },
    'review.failed': { guard: 'isReviewResult', target: 'idle', actions: 'recordReviewFailure' },
    'review.bonus': { guard: 'isNewBonus', actions: 'queueBonus' },
  },
} as const;

const payQueuedBonus = { guard: 'hasQueuedBonus', target: 'bonusing', actions: 'takeQueuedBonus' } as const;
/** Before any review, a queued bonus waits for MTurk's word that the work is this agent's (issue 13 F1). */
const payConfirmedQueuedBonus = {
  guard: 'hasQueuedBonusOnConfirmedWork',
  target: 'bonusing',
  actions: 'takeQueuedBonus',
} as const;
const startBonus = { guard: 'isNewBonus', target: 'bonusing', actions: 'takeReview' } as const;
const lateData = { 'agent.submitted': { guard: 'dataMissing', actions: 'recordData' } } as const;

/**
 * The agent machine. Spawned by its unit as `agent:<agentId>` when the supervisor binds an arriving worker.
 *
 * @example
 * ```ts
 * const [s0] = initialTransition(agentMachine, { agentId: 'A1-W1', unitId: 'u1', runId: 'r1', workerId: 'W1', assignmentId: 'A1', hitId: 'H1', deadlineAt: 3_600_000 });
 * const [s1] = transition(agentMachine, s0, { type: 'agent.accepted', at: 0 }); // 'accepted'
 * ```
 */
export const agentMachine = agentImplementation.createMachine({
  id: 'agent',
  description: 'One worker on one unit (Mephisto MTurkAgent).',
  context: ({ input }) => ({
    agentId: input.agentId,
    unitId: input.unitId,
    runId: input.runId,
    workerId: input.workerId,
    assignmentId: input.assignmentId,
    hitId: input.hitId,
    deadlineAt: input.deadlineAt,
    dataStored: false,
    review: null,
    bonusQueue: [],
    paidBonuses: [],
    lastReviewFailure: null,
    submissionConfirmed: false,
  }),
  initial: AgentState.none,
  states: {
    [AgentState.none]: {
      tags: [AgentTag.working],
      description: 'Registered, not yet accepted by the run.',
      on: { 'agent.accepted': { target: AgentState.accepted } },
    },
    [AgentState.accepted]: {
      tags: [AgentTag.working, AgentTag.onTask],
      description: 'The run bound a unit to the worker.',
      on: {
        ...whileWorking,
        'agent.onboardingStarted': { target: AgentState.onboarding },
        'agent.waitingStarted': { target: AgentState.waiting },
        'agent.taskStarted': { target: AgentState.inTask },
      },
    },
    [AgentState.onboarding]: {
      tags: [AgentTag.working, AgentTag.onTask],
      description: 'The worker is doing the onboarding (qualification) step.',
      on: {
        ...whileWorking,
        'agent.waitingStarted': { target: AgentState.waiting },
        'agent.taskStarted': { target: AgentState.inTask },
      },
    },
    [AgentState.waiting]: {
      tags: [AgentTag.working, AgentTag.onTask],
      description: 'Waiting for partners (concurrent units).',
      on: {
        ...whileWorking,
        'agent.taskStarted': { target: AgentState.inTask },
        'agent.partnerDisconnected': { target: AgentState.partnerDisconnect },
      },
    },
    [AgentState.inTask]: {
      tags: [AgentTag.working, AgentTag.onTask],
      description: 'The worker is doing the task.',
      on: { ...whileWorking, 'agent.partnerDisconnected': { target: AgentState.partnerDisconnect } },
    },
    [AgentState.partnerDisconnect]: {
      tags: [AgentTag.working, AgentTag.onTask],
      description: 'A partner left; the worker may still submit.',
      on: whileWorking,
    },
    [AgentState.disconnect]: {
      tags: [AgentTag.left],
      description: 'The worker’s page went away (or the run released the unit). A later submission still completes it.',
      on: lateSubmission,
    },
    [AgentState.timeout]: {
      tags: [AgentTag.left],
      description: 'The assignment’s time ran out. A submission MTurk confirms still completes it.',
      on: lateSubmission,
    },
    [AgentState.completed]: {
      tags: [AgentTag.submitted],
      description:
        'The worker submitted (dataStored says whether the data is in the store). Reviewable, unless MTurk lists another assignment as the HIT’s submission.',
      initial: 'idle',
      states: {
        idle: {
          description:
            'Waiting for a review request; pays queued bonuses first, once MTurk named the assignment as the HIT’s submission.',
          tags: [AgentTag.needsReview],
          always: payConfirmedQueuedBonus,
          on: {
            'review.approve': { target: 'approving', actions: 'takeReview' },
            'review.reject': { target: 'rejecting', actions: 'takeReview' },
            'review.softReject': { target: 'softRejecting', actions: 'takeReview' },
            'review.bonus': startBonus,
          },
        },
        approving: approving(false),
        rejecting: {
          description: 'rejectAssignment is pending; moves to rejected only when MTurk confirms.',
          tags: [AgentTag.reviewPending],
          entry: {
            type: 'rejectAssignment',
            params: ({ context }: { context: AgentContext }) => rejectCommandOf(context),
          },
          on: onResult(`#agent.${AgentState.rejected}` as const),
        },
        softRejecting: softRejecting(false),
        bonusing,
      },
      // MTurk's list of assignments outranks the submission this agent's registration led to expect.
      on: {
        ...lateData,
        'assignment.overruled': { target: `#agent.${AgentState.returned}` },
        'assignment.notSubmitted': { target: `#agent.${AgentState.expired}` },
        'submission.confirmed': { actions: 'recordSubmissionConfirmed' },
      },
    },
    [AgentState.approved]: {
      tags: [AgentTag.submitted],
      description: 'Approved on MTurk. Approving again makes no call; bonuses can still be paid.',
      entry: reportReviewed('approved'),
      initial: 'idle',
      states: {
        idle: { description: 'Nothing pending.', always: payQueuedBonus, on: { 'review.bonus': startBonus } },
        bonusing,
      },
      on: lateData,
    },
    [AgentState.rejected]: {
      tags: [AgentTag.submitted],
      description: 'Rejected on MTurk. An approval (override) or a soft rejection can still follow.',
      entry: reportReviewed('rejected'),
      initial: 'idle',
      states: {
        idle: {
          description: 'Nothing pending.',
          always: payQueuedBonus,
          on: {
            'review.approve': { target: 'approving', actions: 'takeReview' },
            'review.softReject': { target: 'softRejecting', actions: 'takeReview' },
            'review.bonus': startBonus,
          },
        },
        approving: approving(true),
        softRejecting: softRejecting(true),
        bonusing,
      },
      on: lateData,
    },
    [AgentState.softRejected]: {
      tags: [AgentTag.submitted],
      description: 'Paid on MTurk, recorded as rejected. Bonuses can still be paid.',
      entry: reportReviewed('soft_rejected'),
      initial: 'idle',
      states: {
        idle: { description: 'Nothing pending.', always: payQueuedBonus, on: { 'review.bonus': startBonus } },
        bonusing,
      },
      on: lateData,
    },
    [AgentState.returned]: {
      description:
        'MTurk showed the assignment gone, or another registration on the HIT displaced it. Data stored later is kept; only MTurk listing the assignment submitted completes it.',
      on: { ...lateData, 'assignment.submitted': { target: `#agent.${AgentState.completed}` } },
    },
    [AgentState.expired]: {
      description:
        'The unit expired while the worker held it, or ended without MTurk ever showing the stored submission (kept for the record). Absorbing.',
    },
  },
});
