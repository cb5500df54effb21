/**
 * Qualification type and qualification operations. Only a type's owner may change it, grant or
 * revoke it, read a worker's score or list its workers; anyone may read and list active types.
 *
 * @module
 */
import type { QualificationGrantRecord, QualificationTypeRecord } from '../model.js';
import { mergeAfter } from '../ordered-index.js';
import { TurkErrorCode } from '../protocol.js';
import { parseQuestion } from '../question.js';
import { pageResponse, pageStart, takePage } from '../pagination.js';
import { SYSTEM_QUALIFICATION_TYPES } from '../qualifications.js';
import { LIMITS, type Input } from '../validation.js';
import { qualificationTypeView, qualificationView } from '../views.js';
import { anyQualificationType, ownQualificationType, type OperationContext, type OperationHandler } from './context.js';

const isSystem = (id: string): boolean => id in SYSTEM_QUALIFICATION_TYPES;

/** Reads the members CreateQualificationType and UpdateQualificationType share into `q`, then checks the combination. */
function readTestSettings(input: Input, q: Partial<QualificationTypeRecord>): void {
  const test = input.optionalString('Test', { min: 1, maxBytes: LIMITS.questionBytes });
  if (test !== undefined) {
    let kind: string;
    try {
      kind = parseQuestion(test).kind;
    } catch (err) {
      throw input.fail(`Test: ${err instanceof Error ? err.message : String(err)}`, TurkErrorCode.XmlParseError);
    }
    if (kind !== 'QuestionForm')
      throw input.fail(`Test must be a QuestionForm document, got ${kind}.`, TurkErrorCode.XmlParseError);
    q.test = test;
  }
  const answerKey = input.optionalString('AnswerKey', { min: 1, maxBytes: LIMITS.questionBytes });
  if (answerKey !== undefined) q.answerKey = answerKey;
  const testDuration = input.optionalInt('TestDurationInSeconds', { min: 1, max: LIMITS.maxDurationSec });
  if (testDuration !== undefined) q.testDurationSec = testDuration;
  const retryDelay = input.optionalInt('RetryDelayInSeconds', { min: 0 });
  if (retryDelay !== undefined) q.retryDelaySec = retryDelay;
  const autoGranted = input.optionalBool('AutoGranted');
  if (autoGranted !== undefined) q.autoGranted = autoGranted;
  const autoGrantedValue = input.optionalInt('AutoGrantedValue');
  if (autoGrantedValue !== undefined) q.autoGrantedValue = autoGrantedValue;
  if (q.test !== undefined && q.testDurationSec === undefined)
    throw input.fail('A Test needs TestDurationInSeconds.', TurkErrorCode.MissingParameters);
  if (q.test !== undefined && q.autoGranted)
    throw input.fail(
      'A qualification type cannot have both a Test and AutoGranted=true.',
      TurkErrorCode.InvalidParameterValue,
    );
  if (q.answerKey !== undefined && q.test === undefined)
    throw input.fail('An AnswerKey needs a Test.', TurkErrorCode.InvalidParameterValue);
}

const typeResponse = (q: QualificationTypeRecord): Record<string, unknown> => ({
  QualificationType: qualificationTypeView(q, false),
});

const CreateQualificationType: OperationHandler = (ctx) => {
  const { input, engine, account } = ctx;
  const name = input.string('Name', { min: 1, max: LIMITS.titleChars });
  const description = input.string('Description', { min: 1, max: LIMITS.descriptionChars });
  const keywords = input.optionalString('Keywords', { max: LIMITS.keywordsChars });
  const status = input.oneOf('QualificationTypeStatus', ['Active', 'Inactive'] as const);
  if (status === undefined) throw input.missing('QualificationTypeStatus');
  const q: Partial<QualificationTypeRecord> = { autoGranted: false };
  readTestSettings(input, q);
  if (engine.state.qualificationTypeByName(account.accessKeyId, name)) {
    throw input.fail(
      "You have already created a QualificationType with this name. A QualificationType's name must be unique among all of the QualificationTypes created by the same user.",
      TurkErrorCode.QualificationTypeAlreadyExists,
    );
  }
  const record: QualificationTypeRecord = {
    ...q,
    qualificationTypeId: engine.ids.entityId(),
    account: account.accessKeyId,
    seq: engine.state.nextSeq(),
    creationMs: ctx.nowMs,
    name,
    description,
    ...(keywords !== undefined ? { keywords } : {}),
    status,
    autoGranted: q.autoGranted ?? false,
    deleted: false,
  };
  engine.state.addQualificationType(record);
  engine.changed();
  return typeResponse(record);
};

const GetQualificationType: OperationHandler = (ctx) => {
  const id = ctx.input.entityId('QualificationTypeId');
  const { type, system } = anyQualificationType(ctx, id);
  return { QualificationType: qualificationTypeView(type, system) };
};

const ListQualificationTypes: OperationHandler = (ctx) => {
  const { input, engine, account } = ctx;
  const requestable = input.bool('MustBeRequestable');
  const owned = input.optionalBool('MustBeOwnedByCaller') ?? false;
  const query = input.optionalString('Query', { max: 1000 })?.toLowerCase();
  const limit = input.maxResults();
  const scope = `ListQualificationTypes/${requestable}/${owned}/${query ?? ''}`;
  const after = pageStart(input, scope);
  const index = owned ? engine.state.qualificationTypesOf(account.accessKeyId) : engine.state.allQualificationTypes();
  const accept = (q: QualificationTypeRecord): boolean => {
    const system = isSystem(q.qualificationTypeId);
    if (requestable && system) return false;
    if (!system && q.account !== account.accessKeyId && (q.status !== 'Active' || engine.privateQualificationTypes))
      return false;
    if (query === undefined) return true;
    return [q.name, q.description, q.keywords ?? ''].some((s) => s.toLowerCase().includes(query));
  };
  const page = takePage(
    index.entriesAfter(after),
    limit,
    scope,
    (q) => qualificationTypeView(q, isSystem(q.qualificationTypeId)),
    accept,
  );
  return pageResponse('QualificationTypes', page);
};

const UpdateQualificationType: OperationHandler = (ctx) => {
  const { input, engine } = ctx;
  const q = ownQualificationType(ctx);
  const next: QualificationTypeRecord = { ...q };
  const description = input.optionalString('Description', { min: 1, max: LIMITS.descriptionChars });
  if (description !== undefined) next.description = description;
  const status = input.oneOf('QualificationTypeStatus', ['Active', 'Inactive'] as const);
  if (status !== undefined) next.status = status;
  readTestSettings(input, next);
  Object.assign(q, next);
  engine.changed();
  return typeResponse(q);
};

const DeleteQualificationType: OperationHandler = (ctx) => {
  const q = ownQualificationType(ctx);
  const { state } = ctx.engine;
  state.removeQualificationType(q);
  // Deleting a type rejects its pending requests, as on MTurk.
  for (const r of [...state.pendingQualificationRequests(ctx.account.accessKeyId, q.qualificationTypeId).values()]) {
    r.status = 'Rejected';
    r.decidedMs = ctx.nowMs;
    r.reason = 'The qualification type was deleted.';
    state.putQualificationRequest(r);
  }
  ctx.engine.changed();
  return {};
};

const AssociateQualificationWithWorker: OperationHandler = (ctx) => {
  const { input, engine } = ctx;
  const q = ownQualificationType(ctx);
  const workerId = input.workerId('WorkerId');
  const value = input.optionalInt('IntegerValue') ?? 1;
  input.optionalBool('SendNotification');
  const existing = engine.state.grant(q.qualificationTypeId, workerId);
  engine.state.putGrant({
    qualificationTypeId: q.qualificationTypeId,
    workerId,
    seq: existing?.seq ?? engine.state.nextSeq(),
    status: 'Granted',
    grantMs: ctx.nowMs,
    integerValue: value,
  });
  engine.worker(workerId);
  engine.changed();
  return {};
};

function grantOf(ctx: OperationContext, q: QualificationTypeRecord, workerId: string): QualificationGrantRecord {
  const g = ctx.engine.state.grant(q.qualificationTypeId, workerId);
  if (!g)
    throw ctx.input.fail(
      `You requested a Qualification that does not exist: worker ${workerId} has never held QualificationType ${q.qualificationTypeId}.`,
      TurkErrorCode.QualificationDoesNotExist,
    );
  if (g.status !== 'Granted')
    throw ctx.input.fail(
      `The Qualification of worker ${workerId} is ${g.status}. This operation can be called with a status of: Granted`,
      TurkErrorCode.InvalidQualificationState,
    );
  return g;
}

const DisassociateQualificationFromWorker: OperationHandler = (ctx) => {
  const q = ownQualificationType(ctx);
  const workerId = ctx.input.workerId('WorkerId');
  const reason = ctx.input.optionalString('Reason', { max: LIMITS.reasonChars });
  const g = grantOf(ctx, q, workerId);
  ctx.engine.state.putGrant({ ...g, status: 'Revoked', ...(reason !== undefined ? { reason } : {}) });
  ctx.engine.changed();
  return {};
};

const GetQualificationScore: OperationHandler = (ctx) => {
  const q = ownQualificationType(ctx);
  const workerId = ctx.input.workerId('WorkerId');
  return { Qualification: qualificationView(grantOf(ctx, q, workerId)) };
};

const ListWorkersWithQualificationType: OperationHandler = (ctx) => {
  const { input, engine } = ctx;
  const q = ownQualificationType(ctx);
  const status = input.oneOf('Status', ['Granted', 'Revoked'] as const);
  const limit = input.maxResults();
  const scope = `ListWorkersWithQualificationType/${q.qualificationTypeId}/${status ?? '*'}`;
  const after = pageStart(input, scope);
  const statuses = status === undefined ? (['Granted', 'Revoked'] as const) : [status];
  const indexes = statuses.map((s) => engine.state.grantsOf(q.qualificationTypeId, s));
  return pageResponse('Qualifications', takePage(mergeAfter(indexes, after), limit, scope, qualificationView));
};

export const qualificationOperations: Record<string, OperationHandler> = {
  CreateQualificationType,
  GetQualificationType,
  ListQualificationTypes,
  UpdateQualificationType,
  DeleteQualificationType,
  AssociateQualificationWithWorker,
  DisassociateQualificationFromWorker,
  GetQualificationScore,
  ListWorkersWithQualificationType,
};
