/**
 * Assignment operations: reading, listing (submitted work only), approving (with
 * OverrideRejection) and rejecting.
 *
 * @module
 */
import { OVERRIDE_WINDOW_MS } from '../engine.js';
import { VISIBLE_ASSIGNMENT_STATUSES, type VisibleAssignmentStatus } from '../model.js';
import { mergeAfter } from '../ordered-index.js';
import { TurkErrorCode } from '../protocol.js';
import { pageResponse, pageStart, takePage } from '../pagination.js';
import { LIMITS } from '../validation.js';
import { assignmentView, hitView } from '../views.js';
import { ownAssignment, ownHit, type OperationContext, type OperationHandler } from './context.js';

function statusError(ctx: OperationContext, allowed: string): Error {
  return ctx.input.fail(
    `This operation can be called with a status of: ${allowed}`,
    TurkErrorCode.InvalidAssignmentState,
  );
}

const GetAssignment: OperationHandler = (ctx) => {
  const a = ownAssignment(ctx);
  if (a.status === 'Accepted') throw statusError(ctx, 'Submitted, Approved, Rejected');
  return { Assignment: assignmentView(a), HIT: hitView(ctx.engine, ctx.engine.state.hits.get(a.hitId)!) };
};

const ListAssignmentsForHIT: OperationHandler = (ctx) => {
  const hit = ownHit(ctx);
  const { input } = ctx;
  const raw = input.optionalArray('AssignmentStatuses');
  const statuses =
    raw === undefined || raw.length === 0
      ? [...VISIBLE_ASSIGNMENT_STATUSES]
      : [
          ...new Set(
            raw.map(
              (s, i) =>
                input.oneOf('AssignmentStatuses', VISIBLE_ASSIGNMENT_STATUSES, s, `AssignmentStatuses.${i + 1}`)!,
            ),
          ),
        ].sort();
  const limit = input.maxResults();
  const scope = `ListAssignmentsForHIT/${hit.hitId}/${statuses.join(',')}`;
  const after = pageStart(input, scope);
  const indexes = statuses.map((s: VisibleAssignmentStatus) => ctx.engine.state.assignmentsOf(hit.hitId, s));
  return pageResponse('Assignments', takePage(mergeAfter(indexes, after), limit, scope, assignmentView));
};

const ApproveAssignment: OperationHandler = (ctx) => {
  const a = ownAssignment(ctx);
  const feedback = ctx.input.optionalString('RequesterFeedback', { max: LIMITS.feedbackChars });
  const override = ctx.input.optionalBool('OverrideRejection') ?? false;
  if (a.status === 'Rejected' && override) {
    const hit = ctx.engine.state.hits.get(a.hitId)!;
    if (hit.disposed)
      throw ctx.input.fail(
        `Assignment ${a.assignmentId} belongs to HIT ${hit.hitId}, which was deleted; its rejection can no longer be overridden.`,
        TurkErrorCode.InvalidAssignmentState,
      );
    if (ctx.nowMs - (a.submitMs ?? 0) > OVERRIDE_WINDOW_MS) {
      throw ctx.input.fail(
        `Assignment ${a.assignmentId} was submitted more than 30 days ago; its rejection can no longer be overridden.`,
        TurkErrorCode.InvalidAssignmentState,
      );
    }
  } else if (a.status !== 'Submitted') {
    throw statusError(ctx, override ? 'Submitted, Rejected' : 'Submitted');
  }
  ctx.engine.approve(a, ctx.nowMs, feedback);
  return {};
};

const RejectAssignment: OperationHandler = (ctx) => {
  const a = ownAssignment(ctx);
  // Required by the model, but may be empty: psiTurk's `worker reject` sends "" and MTurk accepted it.
  const feedback = ctx.input.string('RequesterFeedback', { max: LIMITS.feedbackChars });
  if (a.status !== 'Submitted') throw statusError(ctx, 'Submitted');
  ctx.engine.reject(a, ctx.nowMs, feedback);
  return {};
};

export const assignmentOperations: Record<string, OperationHandler> = {
  GetAssignment,
  ListAssignmentsForHIT,
  ApproveAssignment,
  RejectAssignment,
};
