/**
 * Records as the wire protocol shows them: the HIT, Assignment, QualificationType, Qualification
 * and BonusPayment structures of the 2017 model, timestamps in epoch seconds, members that have
 * no value left out (the SDK leaves them undefined).
 *
 * @module
 */
import type { Engine } from './engine.js';
import type {
  AssignmentRecord,
  BonusRecord,
  HitRecord,
  QualificationGrantRecord,
  QualificationTypeRecord,
} from './model.js';
import { hitGroupIdOf } from './ids.js';
import { toEpochSeconds } from './protocol.js';

/** The HIT structure. `HITGroupId` is an id of its own, distinct from `HITTypeId`, as on MTurk. */
export function hitView(engine: Engine, hit: HitRecord): Record<string, unknown> {
  const type = engine.type(hit);
  return {
    HITId: hit.hitId,
    HITTypeId: hit.hitTypeId,
    HITGroupId: hitGroupIdOf(hit.hitTypeId),
    CreationTime: toEpochSeconds(hit.creationMs),
    Title: type.title,
    Description: type.description,
    Question: hit.question,
    ...(type.keywords !== undefined ? { Keywords: type.keywords } : {}),
    HITStatus: hit.status,
    MaxAssignments: hit.maxAssignments,
    Reward: type.reward,
    AutoApprovalDelayInSeconds: type.autoApprovalDelaySec,
    Expiration: toEpochSeconds(hit.expirationMs),
    AssignmentDurationInSeconds: type.assignmentDurationSec,
    ...(hit.requesterAnnotation !== undefined ? { RequesterAnnotation: hit.requesterAnnotation } : {}),
    QualificationRequirements: type.qualificationRequirements,
    HITReviewStatus: 'NotReviewed',
    NumberOfAssignmentsPending: hit.pending,
    NumberOfAssignmentsAvailable: Math.max(0, engine.available(hit)),
    NumberOfAssignmentsCompleted: hit.approved + hit.rejected,
  };
}

/**
 * The Assignment structure (only ever shown once submitted). A Submitted, Approved or Rejected
 * assignment has no `Deadline`: real MTurk answers left it out once the work was submitted.
 */
export function assignmentView(a: AssignmentRecord): Record<string, unknown> {
  const out: Record<string, unknown> = {
    AssignmentId: a.assignmentId,
    WorkerId: a.workerId,
    HITId: a.hitId,
    AssignmentStatus: a.status,
  };
  const times: [string, number | undefined][] = [
    ['AutoApprovalTime', a.status === 'Submitted' ? a.autoApprovalMs : undefined],
    ['AcceptTime', a.acceptMs],
    ['SubmitTime', a.submitMs],
    ['ApprovalTime', a.approvalMs],
    ['RejectionTime', a.rejectionMs],
  ];
  for (const [name, ms] of times) if (ms !== undefined) out[name] = toEpochSeconds(ms);
  if (a.answer !== undefined) out.Answer = a.answer;
  if (a.requesterFeedback !== undefined) out.RequesterFeedback = a.requesterFeedback;
  return out;
}

export function qualificationTypeView(q: QualificationTypeRecord, isSystem: boolean): Record<string, unknown> {
  return {
    QualificationTypeId: q.qualificationTypeId,
    CreationTime: toEpochSeconds(q.creationMs),
    Name: q.name,
    Description: q.description,
    ...(q.keywords !== undefined ? { Keywords: q.keywords } : {}),
    QualificationTypeStatus: q.status,
    ...(q.test !== undefined ? { Test: q.test } : {}),
    ...(q.testDurationSec !== undefined ? { TestDurationInSeconds: q.testDurationSec } : {}),
    ...(q.answerKey !== undefined ? { AnswerKey: q.answerKey } : {}),
    ...(q.retryDelaySec !== undefined ? { RetryDelayInSeconds: q.retryDelaySec } : {}),
    IsRequestable: !isSystem,
    AutoGranted: q.autoGranted,
    ...(q.autoGranted ? { AutoGrantedValue: q.autoGrantedValue ?? 1 } : {}),
  };
}

export function qualificationView(g: QualificationGrantRecord): Record<string, unknown> {
  return {
    QualificationTypeId: g.qualificationTypeId,
    WorkerId: g.workerId,
    GrantTime: toEpochSeconds(g.grantMs),
    ...(g.localeValue ? { LocaleValue: g.localeValue } : { IntegerValue: g.integerValue ?? 1 }),
    Status: g.status,
  };
}

export function bonusView(b: BonusRecord): Record<string, unknown> {
  return {
    WorkerId: b.workerId,
    BonusAmount: b.amount,
    AssignmentId: b.assignmentId,
    Reason: b.reason,
    GrantTime: toEpochSeconds(b.grantMs),
  };
}
