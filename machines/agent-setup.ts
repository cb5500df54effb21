/**
 * The named actions and guards of the agent machine (`setup()`), kept apart from its states.
 *
 * The four review commands and `report` do nothing by default: the runtime provides the commands,
 * the agent's unit provides `report`.
 *
 * @module
 */
import { assertEvent, setup } from 'xstate';
import { reviewCommandId } from './agent-commands.js';
import type { AgentContext, AgentEvent, AgentInput, AgentReport, ReviewRequest } from './agent-types.js';
import type {
  ApproveAssignmentCommand,
  RejectAssignmentCommand,
  SendBonusCommand,
  SoftRejectAssignmentCommand,
} from './commands.js';

type ReviewRequestEvent = Extract<
  AgentEvent,
  { type: 'review.approve' | 'review.reject' | 'review.softReject' | 'review.bonus' }
>;

function requestOf(event: ReviewRequestEvent): ReviewRequest {
  switch (event.type) {
    case 'review.approve':
      return { kind: 'approve', requestId: event.requestId, feedback: event.feedback ?? null, amountUsd: null };
    case 'review.reject':
      return { kind: 'reject', requestId: event.requestId, feedback: event.feedback, amountUsd: null };
    case 'review.softReject':
      return { kind: 'softReject', requestId: event.requestId, feedback: event.feedback ?? null, amountUsd: null };
    case 'review.bonus':
      return { kind: 'bonus', requestId: event.requestId, feedback: event.reason, amountUsd: event.amountUsd };
  }
}

const REVIEW_REQUESTS = ['review.approve', 'review.reject', 'review.softReject', 'review.bonus'] as const;

export const agentSetup = setup({
  types: {
    context: {} as AgentContext,
    events: {} as AgentEvent,
    input: {} as AgentInput,
  },
  actions: {
    approveAssignment: (_args, _command: ApproveAssignmentCommand) => {},
    rejectAssignment: (_args, _command: RejectAssignmentCommand) => {},
    softRejectAssignment: (_args, _command: SoftRejectAssignmentCommand) => {},
    sendBonus: (_args, _command: SendBonusCommand) => {},
    report: (_args, _report: AgentReport) => {},
  },
  guards: {
    /** The result answers the review command now pending (a stale or foreign result is ignored). */
    isReviewResult: ({ context, event }) =>
      (event.type === 'review.succeeded' || event.type === 'review.alreadyDone' || event.type === 'review.failed') &&
      context.review !== null &&
      event.commandId === reviewCommandId(context, context.review),
    deadlinePassed: ({ context, event }) => event.type === 'deadline.reached' && event.at >= context.deadlineAt,
    /** A bonus request not seen before (paid, pending or queued requests are not paid twice). */
    isNewBonus: ({ context, event }) =>
      event.type === 'review.bonus' &&
      context.review?.requestId !== event.requestId &&
      !context.paidBonuses.includes(event.requestId) &&
      !context.bonusQueue.some((b) => b.requestId === event.requestId),
    hasQueuedBonus: ({ context }) => context.bonusQueue.length > 0,
    /** A queued bonus, and MTurk named the agent's assignment as the HIT's submission (absent: an agent stored before the rule). */
    hasQueuedBonusOnConfirmedWork: ({ context }) =>
      context.bonusQueue.length > 0 && context.submissionConfirmed !== false,
    dataMissing: ({ context }) => !context.dataStored,
  },
});

const a = agentSetup;

/** The agent machine's setup with its context updates and reports added. */
export const agentImplementation = a.extend({
  actions: {
    recordData: a.assign({ dataStored: true }),
    recordSubmissionConfirmed: a.assign({ submissionConfirmed: true }),
    takeReview: a.assign(({ event }) => {
      assertEvent(event, REVIEW_REQUESTS);
      return { review: requestOf(event) };
    }),
    queueBonus: a.assign(({ context, event }) => {
      assertEvent(event, 'review.bonus');
      return { bonusQueue: [...context.bonusQueue, requestOf(event)] };
    }),
    takeQueuedBonus: a.assign(({ context }) => ({
      review: context.bonusQueue[0] ?? null,
      bonusQueue: context.bonusQueue.slice(1),
    })),
    finishReview: a.assign({ review: null, lastReviewFailure: null }),
    recordBonusPaid: a.assign(({ context }) => ({
      paidBonuses: context.review === null ? context.paidBonuses : [...context.paidBonuses, context.review.requestId],
      review: null,
      lastReviewFailure: null,
    })),
    recordReviewFailure: a.assign(({ context, event }) => {
      assertEvent(event, 'review.failed');
      const review = context.review;
      return {
        review: null,
        lastReviewFailure:
          review === null
            ? null
            : {
                kind: review.kind,
                requestId: review.requestId,
                reason: event.reason,
                retryable: event.retryable,
                at: event.at,
              },
      };
    }),
  },
});
