/**
 * Pure functions of an agent's context: the review command it is waiting on, shared by its entry
 * actions and by `pendingCommands()`.
 *
 * @module
 */
import type {
  AgentCommand,
  ApproveAssignmentCommand,
  RejectAssignmentCommand,
  SendBonusCommand,
  SoftRejectAssignmentCommand,
} from './commands.js';
import type { AgentContext, ReviewKind, ReviewRequest } from './agent-types.js';

const COMMAND_OF_REVIEW = {
  approve: 'approveAssignment',
  reject: 'rejectAssignment',
  softReject: 'softRejectAssignment',
  bonus: 'sendBonus',
} as const satisfies Record<ReviewKind, AgentCommand['kind']>;

/** The id of the command that carries out `request` for this agent (deterministic, from its requestId). */
export function reviewCommandId(context: AgentContext, request: ReviewRequest): string {
  return `${context.runId}/${context.agentId}/${COMMAND_OF_REVIEW[request.kind]}/${request.requestId}`;
}

function pendingRequest(context: AgentContext): ReviewRequest {
  if (context.review === null) {
    throw new Error(
      `agent ${context.agentId}: a review state was entered without a review request (a machine invariant was broken; report this as a bug)`,
    );
  }
  return context.review;
}

function baseOf(context: AgentContext, request: ReviewRequest) {
  return {
    commandId: reviewCommandId(context, request),
    runId: context.runId,
    agentId: context.agentId,
    unitId: context.unitId,
    assignmentId: context.assignmentId,
    workerId: context.workerId,
    requestId: request.requestId,
  };
}

/** The `approveAssignment` command of `completed.approving` (or `rejected.approving`, with `overrideRejection`). */
export function approveCommandOf(context: AgentContext, overrideRejection: boolean): ApproveAssignmentCommand {
  const request = pendingRequest(context);
  return { kind: 'approveAssignment', ...baseOf(context, request), feedback: request.feedback, overrideRejection };
}

/** The `rejectAssignment` command of `completed.rejecting`. */
export function rejectCommandOf(context: AgentContext): RejectAssignmentCommand {
  const request = pendingRequest(context);
  return { kind: 'rejectAssignment', ...baseOf(context, request), feedback: request.feedback ?? '' };
}

/** The `softRejectAssignment` command of `completed.softRejecting` (or `rejected.softRejecting`, with `overrideRejection`). */
export function softRejectCommandOf(context: AgentContext, overrideRejection: boolean): SoftRejectAssignmentCommand {
  const request = pendingRequest(context);
  return { kind: 'softRejectAssignment', ...baseOf(context, request), feedback: request.feedback, overrideRejection };
}

/** The `sendBonus` command of a `*.bonusing` state. */
export function bonusCommandOf(context: AgentContext): SendBonusCommand {
  const request = pendingRequest(context);
  return {
    kind: 'sendBonus',
    ...baseOf(context, request),
    amountUsd: request.amountUsd ?? '0.00',
    reason: request.feedback ?? '',
  };
}
