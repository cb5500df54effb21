/**
 * The records the simulator keeps: plain JSON data, so the whole state can be written to the
 * `--state` file and read back, and shown by `inspect()` / `GET /_sim/state` as it is.
 *
 * Times are epoch milliseconds here; the wire protocol turns them into epoch seconds.
 *
 * @module
 */

import type { HITStatus } from '@aws-sdk/client-mturk';

/** MTurk's HITStatus values: the SDK's own declaration (a type only, so no SDK code is loaded). */
export type HitStatus = HITStatus;

/**
 * Status of an assignment in the simulator. MTurk's API only shows Submitted, Approved and
 * Rejected; the others exist here so tests can see accepted, returned and abandoned work.
 */
export const AssignmentStatus = {
  Accepted: 'Accepted',
  Submitted: 'Submitted',
  Approved: 'Approved',
  Rejected: 'Rejected',
  Returned: 'Returned',
  Abandoned: 'Abandoned',
} as const;
export type AssignmentStatus = (typeof AssignmentStatus)[keyof typeof AssignmentStatus];

/** The statuses ListAssignmentsForHIT can filter on. */
export const VISIBLE_ASSIGNMENT_STATUSES = ['Submitted', 'Approved', 'Rejected'] as const;
export type VisibleAssignmentStatus = (typeof VISIBLE_ASSIGNMENT_STATUSES)[number];

/** A worker's locale, as in the Worker_Locale qualification. */
export interface Locale {
  Country: string;
  Subdivision?: string;
}

/** A QualificationRequirement exactly as the requester sent it (already validated). */
export interface QualificationRequirement {
  QualificationTypeId: string;
  Comparator: string;
  IntegerValues?: number[];
  LocaleValues?: Locale[];
  RequiredToPreview?: boolean;
  ActionsGuarded?: string;
}

/** A NotificationSpecification as the requester sent it (already validated). */
export interface NotificationSpecification {
  Destination: string;
  Transport: string;
  Version: string;
  EventTypes: string[];
}

/** One requester account, keyed by the AWS access key id the requests are signed with. */
export interface AccountRecord {
  accessKeyId: string;
  /** The requester's customer id, as it appears in notifications. */
  customerId: string;
  /** Money on the account: the starting balance minus everything paid (rewards, bonuses, fees). */
  balanceCents: number;
  /** The part of the balance reserved for HIT slots that may still be paid. */
  onHoldCents: number;
}

export interface HitTypeRecord {
  hitTypeId: string;
  account: string;
  seq: number;
  creationMs: number;
  title: string;
  description: string;
  keywords?: string;
  reward: string;
  rewardCents: number;
  assignmentDurationSec: number;
  autoApprovalDelaySec: number;
  qualificationRequirements: QualificationRequirement[];
  notification?: NotificationSpecification;
  notificationActive: boolean;
}

export interface HitRecord {
  hitId: string;
  account: string;
  hitTypeId: string;
  seq: number;
  creationMs: number;
  expirationMs: number;
  /** The lifetime has passed (or the requester expired the HIT); no new accepts. */
  expired: boolean;
  question: string;
  requesterAnnotation?: string;
  maxAssignments: number;
  /** Accepted and not yet submitted, returned or abandoned. */
  pending: number;
  submitted: number;
  approved: number;
  rejected: number;
  /** Set by UpdateHITReviewStatus, cleared by Revert or an extension. */
  reviewing: boolean;
  disposed: boolean;
  status: HitStatus;
  /** Sequence number taken when the HIT last became Reviewable or Reviewing (orders ListReviewableHITs). */
  reviewSeq: number;
  /** Money held back for this HIT's slots that may still be paid. */
  escrowCents: number;
}

export interface AssignmentRecord {
  assignmentId: string;
  hitId: string;
  workerId: string;
  account: string;
  seq: number;
  status: AssignmentStatus;
  acceptMs: number;
  deadlineMs: number;
  /** Sequence number taken at submission (orders ListAssignmentsForHIT). */
  submitSeq?: number;
  submitMs?: number;
  autoApprovalMs?: number;
  approvalMs?: number;
  rejectionMs?: number;
  /** When the assignment was returned or abandoned. */
  endMs?: number;
  answer?: string;
  requesterFeedback?: string;
}

export interface QualificationTypeRecord {
  qualificationTypeId: string;
  account: string;
  seq: number;
  creationMs: number;
  name: string;
  description: string;
  keywords?: string;
  status: 'Active' | 'Inactive';
  test?: string;
  answerKey?: string;
  testDurationSec?: number;
  retryDelaySec?: number;
  autoGranted: boolean;
  autoGrantedValue?: number;
  deleted: boolean;
}

export interface QualificationGrantRecord {
  qualificationTypeId: string;
  workerId: string;
  seq: number;
  status: 'Granted' | 'Revoked';
  grantMs: number;
  integerValue?: number;
  localeValue?: Locale;
  /** The reason given when it was revoked. */
  reason?: string;
}

/** A worker's request for a qualification (types that are neither auto-granted nor decided yet). */
export interface QualificationRequestRecord {
  qualificationRequestId: string;
  qualificationTypeId: string;
  workerId: string;
  /** The account owning the qualification type (who decides). */
  account: string;
  seq: number;
  submitMs: number;
  status: 'Pending' | 'Granted' | 'Rejected';
  /** The type's Test at request time, and the worker's QuestionFormAnswers, when the type has a test. */
  test?: string;
  answer?: string;
  /** When the request was decided. */
  decidedMs?: number;
  reason?: string;
}

export interface BonusRecord {
  account: string;
  seq: number;
  workerId: string;
  assignmentId: string;
  hitId: string;
  amount: string;
  amountCents: number;
  feeCents: number;
  reason: string;
  grantMs: number;
  uniqueRequestToken?: string;
}

export interface WorkerBlockRecord {
  account: string;
  workerId: string;
  reason: string;
  seq: number;
}

/** A message sent to a worker with NotifyWorkers. */
export interface WorkerMessage {
  account: string;
  subject: string;
  text: string;
  atMs: number;
}

/** A simulated worker. Created on first use with locale US. */
export interface WorkerRecord {
  workerId: string;
  locale: Locale;
  /** Values of system qualifications (Masters, Adult, ...) set through the control API. */
  systemQualifications: Record<string, number>;
  approved: number;
  rejected: number;
  /** Assignments submitted, approved or rejected (the NumberHITsApproved base). */
  decided: number;
  messages: WorkerMessage[];
}

/** What a UniqueRequestToken was used for. */
export type TokenKind = 'hit' | 'bonus' | 'assignments';

export interface TokenRecord {
  account: string;
  kind: TokenKind;
  token: string;
  /** The HIT id created, or the bonus / extension description. */
  ref: string;
  atMs: number;
}

/** One notification event, recorded whether or not a destination is configured. */
export interface NotificationRecord {
  seq: number;
  account: string;
  EventDocId: string;
  EventType: string;
  /** ISO time, as in real notification messages. */
  EventTimestamp: string;
  HITTypeId?: string;
  HITId?: string;
  AssignmentId?: string;
  /** Where MTurk would have delivered it (an active specification listing the event type), or null. */
  destination: { Transport: string; Destination: string; Version: string } | null;
  /** Sent by SendTestEventNotification. */
  test: boolean;
}

/** A requester account as `inspect()` shows it. */
export interface AccountView {
  accessKeyId: string;
  customerId: string;
  availableBalance: string;
  onHoldBalance: string;
  balanceCents: number;
  onHoldCents: number;
  hitTypes: HitTypeRecord[];
  hits: (HitRecord & { assignments: AssignmentRecord[] })[];
  bonusPayments: BonusRecord[];
  workerBlocks: WorkerBlockRecord[];
  qualificationTypes: QualificationTypeRecord[];
  /** Grants of this account's qualification types. */
  qualifications: QualificationGrantRecord[];
  /** Requests for this account's qualification types, decided or not. */
  qualificationRequests: QualificationRequestRecord[];
}

/** The whole simulator state, read-only, as `inspect()` and `GET /_sim/state` return it. */
export interface SimulatorStateView {
  nowMs: number;
  accounts: Record<string, AccountView>;
  workers: Record<string, WorkerRecord>;
  notificationCount: number;
}
