/**
 * Qualification requests: the owner of a type lists the requests simulated workers made
 * (`POST /_sim/workers/{id}/qualification-requests`, `sim.workers.requestQualification`) and
 * accepts or rejects them.
 *
 * @module
 */
import type { QualificationRequestRecord } from '../model.js';
import { TurkErrorCode, toEpochSeconds } from '../protocol.js';
import { pageResponse, pageStart, takePage } from '../pagination.js';
import { LIMITS } from '../validation.js';
import { ownQualificationType, type OperationContext, type OperationHandler } from './context.js';

function requestView(r: QualificationRequestRecord): Record<string, unknown> {
  return {
    QualificationRequestId: r.qualificationRequestId,
    QualificationTypeId: r.qualificationTypeId,
    WorkerId: r.workerId,
    ...(r.test !== undefined ? { Test: r.test } : {}),
    ...(r.answer !== undefined ? { Answer: r.answer } : {}),
    SubmitTime: toEpochSeconds(r.submitMs),
  };
}

/** The caller's pending request named by `QualificationRequestId`. */
function pendingRequest(ctx: OperationContext): QualificationRequestRecord {
  const id = ctx.input.entityId('QualificationRequestId');
  const r = ctx.engine.state.qualificationRequests.get(id);
  if (!r || r.account !== ctx.account.accessKeyId)
    throw ctx.input.fail(`QualificationRequest ${id} does not exist.`, TurkErrorCode.QualificationDoesNotExist);
  if (r.status !== 'Pending')
    throw ctx.input.fail(
      `QualificationRequest ${id} is ${r.status}. This operation can be called with a status of: Submitted`,
      TurkErrorCode.InvalidQualificationState,
    );
  return r;
}

const ListQualificationRequests: OperationHandler = (ctx) => {
  const typeId = ctx.input.has('QualificationTypeId') ? ownQualificationType(ctx).qualificationTypeId : undefined;
  const limit = ctx.input.maxResults();
  const scope = `ListQualificationRequests/${typeId ?? '*'}`;
  const after = pageStart(ctx.input, scope);
  const index = ctx.engine.state.pendingQualificationRequests(ctx.account.accessKeyId, typeId);
  return pageResponse('QualificationRequests', takePage(index.entriesAfter(after), limit, scope, requestView));
};

const AcceptQualificationRequest: OperationHandler = (ctx) => {
  const r = pendingRequest(ctx);
  const value = ctx.input.optionalInt('IntegerValue') ?? 1;
  const { state } = ctx.engine;
  const existing = state.grant(r.qualificationTypeId, r.workerId);
  state.putGrant({
    qualificationTypeId: r.qualificationTypeId,
    workerId: r.workerId,
    seq: existing?.seq ?? state.nextSeq(),
    status: 'Granted',
    grantMs: ctx.nowMs,
    integerValue: value,
  });
  r.status = 'Granted';
  r.decidedMs = ctx.nowMs;
  state.putQualificationRequest(r);
  ctx.engine.changed();
  return {};
};

const RejectQualificationRequest: OperationHandler = (ctx) => {
  const r = pendingRequest(ctx);
  const reason = ctx.input.optionalString('Reason', { max: LIMITS.reasonChars });
  r.status = 'Rejected';
  r.decidedMs = ctx.nowMs;
  if (reason !== undefined) r.reason = reason;
  ctx.engine.state.putQualificationRequest(r);
  ctx.engine.changed();
  return {};
};

export const qualificationRequestOperations: Record<string, OperationHandler> = {
  ListQualificationRequests,
  AcceptQualificationRequest,
  RejectQualificationRequest,
};
