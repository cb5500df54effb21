/**
 * Plain, JSON-friendly views of MTurk's records: camelCase, times as epoch milliseconds, money as
 * dollar strings and integer cents. The store and the machines keep these, never SDK objects.
 *
 * @module
 */
import type { Assignment, BonusPayment, HIT, QualificationType } from '@aws-sdk/client-mturk';
import type { HITStatus } from '../../machines/states.js';
import { parseRequesterAnnotation, type HitAnnotation } from './annotation.js';
import { toCents } from './money.js';

/** An assignment's status on MTurk (accepted-but-unsubmitted assignments are invisible to the API). */
export type AssignmentStatus = 'Submitted' | 'Approved' | 'Rejected';

/** A HIT as hitstate sees it. */
export interface HITInfo {
  readonly hitId: string;
  readonly hitTypeId: string;
  readonly hitGroupId?: string;
  readonly hitStatus: HITStatus;
  readonly title?: string;
  readonly rewardUsd?: string;
  readonly maxAssignments: number;
  readonly assignmentsAvailable: number;
  readonly assignmentsPending: number;
  /** Approved or rejected assignments (submitted-but-undecided ones are not counted by MTurk). */
  readonly assignmentsCompleted: number;
  readonly createdAtMs?: number;
  readonly expiresAtMs?: number;
  readonly assignmentDurationSec?: number;
  readonly autoApprovalDelaySec?: number;
  readonly requesterAnnotation?: string;
  /** The parsed annotation, or null for a HIT hitstate did not create. */
  readonly annotation: HitAnnotation | null;
}

/** What the status sync compares of a HIT from one listing to the next: its status and counters. */
export interface HITCounters {
  readonly hitStatus: HITStatus;
  readonly assignmentsAvailable: number;
  readonly assignmentsPending: number;
  readonly assignmentsCompleted: number;
}

/**
 * A HIT of a listing page (`paginateHITsForHITType`, `paginateReviewableHITs`): what a status
 * sync compares, read at once, and the whole {@link HITInfo} only on demand, so a listing of
 * 10,000 unchanged HITs builds 10,000 small records and no more (`src/mturk/listing-decoder.ts`).
 */
export interface ListedHIT extends HITCounters {
  readonly hitId: string;
  readonly hitTypeId: string;
  /** When the HIT expires (epoch ms). */
  readonly expiresAtMs: number | undefined;
  /** The HIT as {@link toHITInfo} gives it; built on the first call. */
  info(): HITInfo;
}

/** An assignment as hitstate sees it. */
export interface AssignmentInfo {
  readonly assignmentId: string;
  readonly workerId: string;
  readonly hitId: string;
  readonly assignmentStatus: AssignmentStatus;
  readonly acceptTimeMs?: number;
  readonly submitTimeMs?: number;
  readonly autoApprovalTimeMs?: number;
  readonly approvalTimeMs?: number;
  readonly rejectionTimeMs?: number;
  /** MTurk leaves it out of submitted, approved and rejected assignments (the only ones it lists). */
  readonly deadlineMs?: number;
  /** QuestionFormAnswers XML; read it with `parseAnswers` or `recoverSubmission`. */
  readonly answerXml?: string;
  readonly requesterFeedback?: string;
}

/** A bonus paid on MTurk. */
export interface BonusPaymentInfo {
  readonly workerId: string;
  readonly assignmentId: string;
  readonly amountUsd: string;
  readonly amountCents: number;
  readonly reason?: string;
  readonly grantTimeMs?: number;
}

/** A qualification type, with whether this requester owns it. */
export interface QualificationTypeInfo {
  readonly qualificationTypeId: string;
  readonly name: string;
  readonly description?: string;
  readonly status?: string;
  readonly ownedByCaller: boolean;
  readonly createdAtMs?: number;
}

function ms(date: Date | undefined): number | undefined {
  return date instanceof Date ? date.getTime() : undefined;
}

/** `record` without its undefined fields (as the SDK's records omit absent members), so equal records compare equal. */
export function defined<T extends Record<string, unknown>>(record: T): T {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined)) as T;
}

/** Converts the SDK's HIT. */
export function toHITInfo(hit: HIT): HITInfo {
  return defined({
    hitId: hit.HITId ?? '',
    hitTypeId: hit.HITTypeId ?? '',
    hitGroupId: hit.HITGroupId,
    hitStatus: (hit.HITStatus ?? 'Assignable') as HITStatus,
    title: hit.Title,
    rewardUsd: hit.Reward,
    maxAssignments: hit.MaxAssignments ?? 1,
    assignmentsAvailable: hit.NumberOfAssignmentsAvailable ?? 0,
    assignmentsPending: hit.NumberOfAssignmentsPending ?? 0,
    assignmentsCompleted: hit.NumberOfAssignmentsCompleted ?? 0,
    createdAtMs: ms(hit.CreationTime),
    expiresAtMs: ms(hit.Expiration),
    assignmentDurationSec: hit.AssignmentDurationInSeconds,
    autoApprovalDelaySec: hit.AutoApprovalDelayInSeconds,
    requesterAnnotation: hit.RequesterAnnotation,
    annotation: parseRequesterAnnotation(hit.RequesterAnnotation),
  });
}

/** Converts the SDK's Assignment. */
export function toAssignmentInfo(a: Assignment): AssignmentInfo {
  return defined({
    assignmentId: a.AssignmentId ?? '',
    workerId: a.WorkerId ?? '',
    hitId: a.HITId ?? '',
    assignmentStatus: (a.AssignmentStatus ?? 'Submitted') as AssignmentStatus,
    acceptTimeMs: ms(a.AcceptTime),
    submitTimeMs: ms(a.SubmitTime),
    autoApprovalTimeMs: ms(a.AutoApprovalTime),
    approvalTimeMs: ms(a.ApprovalTime),
    rejectionTimeMs: ms(a.RejectionTime),
    deadlineMs: ms(a.Deadline),
    answerXml: a.Answer,
    requesterFeedback: a.RequesterFeedback,
  });
}

/** Converts the SDK's BonusPayment. */
export function toBonusPaymentInfo(b: BonusPayment): BonusPaymentInfo {
  const amountUsd = b.BonusAmount ?? '0';
  return defined({
    workerId: b.WorkerId ?? '',
    assignmentId: b.AssignmentId ?? '',
    amountUsd,
    amountCents: toCents(amountUsd, 'BonusAmount'),
    reason: b.Reason,
    grantTimeMs: ms(b.GrantTime),
  });
}

/** Converts the SDK's QualificationType. */
export function toQualificationTypeInfo(q: QualificationType, ownedByCaller: boolean): QualificationTypeInfo {
  return defined({
    qualificationTypeId: q.QualificationTypeId ?? '',
    name: q.Name ?? '',
    description: q.Description,
    status: q.QualificationTypeStatus,
    ownedByCaller,
    createdAtMs: ms(q.CreationTime),
  });
}
