/**
 * The registry of requester operations, by the name in `x-amz-target`.
 *
 * @module
 */
import { accountOperations } from './account.js';
import { assignmentOperations } from './assignments.js';
import type { OperationHandler } from './context.js';
import { hitOperations } from './hits.js';
import { qualificationRequestOperations } from './qualification-requests.js';
import { qualificationOperations } from './qualifications.js';
import { workerOperations } from './workers.js';

export type { OperationContext, OperationHandler } from './context.js';

/** Every operation of the 2017-01-17 API, implemented or not. */
export const MODEL_OPERATIONS = [
  'AcceptQualificationRequest',
  'ApproveAssignment',
  'AssociateQualificationWithWorker',
  'CreateAdditionalAssignmentsForHIT',
  'CreateHIT',
  'CreateHITType',
  'CreateHITWithHITType',
  'CreateQualificationType',
  'CreateWorkerBlock',
  'DeleteHIT',
  'DeleteQualificationType',
  'DeleteWorkerBlock',
  'DisassociateQualificationFromWorker',
  'GetAccountBalance',
  'GetAssignment',
  'GetFileUploadURL',
  'GetHIT',
  'GetQualificationScore',
  'GetQualificationType',
  'ListAssignmentsForHIT',
  'ListBonusPayments',
  'ListHITs',
  'ListHITsForQualificationType',
  'ListQualificationRequests',
  'ListQualificationTypes',
  'ListReviewPolicyResultsForHIT',
  'ListReviewableHITs',
  'ListWorkerBlocks',
  'ListWorkersWithQualificationType',
  'NotifyWorkers',
  'RejectAssignment',
  'RejectQualificationRequest',
  'SendBonus',
  'SendTestEventNotification',
  'UpdateExpirationForHIT',
  'UpdateHITReviewStatus',
  'UpdateHITTypeOfHIT',
  'UpdateNotificationSettings',
  'UpdateQualificationType',
] as const;

/** The operations the simulator implements. */
export const OPERATIONS: Readonly<Record<string, OperationHandler>> = Object.freeze({
  ...hitOperations,
  ...assignmentOperations,
  ...workerOperations,
  ...qualificationOperations,
  ...qualificationRequestOperations,
  ...accountOperations,
});
