// Pins the public API of src/mturk/index.ts (STYLE rule 12): any change shows up in review.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as mturk from '../../src/mturk/index.js';

const Api = suite('mturk index');

Api('when the gateway module is imported then it exports exactly the documented API', () => {
  assert.equal(Object.keys(mturk).sort(), [
    'ActionsGuarded',
    'AuditEmitter',
    'COMPENSATION_QUESTION_ID',
    'Comparator',
    'DEFAULT_ALLOWED_LOCALES',
    'DEFAULT_AUTO_APPROVAL_DELAY_SEC',
    'DEFAULT_HIT_LIFETIME_SEC',
    'Environment',
    'ErrorKind',
    'GatewayRegistry',
    'LARGE_HIT_ASSIGNMENTS',
    'Lane',
    'MAX_ANNOTATION_LENGTH',
    'MAX_TOKEN_LENGTH',
    'MAX_XML_BYTES',
    'MTURK_ENDPOINTS',
    'MTURK_FEE_PERCENT',
    'MTURK_LARGE_HIT_FEE_PERCENT',
    'MTURK_REGION',
    'MTurkGateway',
    'OPERATION_POLICIES',
    'OutcomeStatus',
    'QUESTION_NAMESPACES',
    'RESERVED_FIELDS',
    'RateGovernor',
    'SUBMISSION_FIELD',
    'SystemQualification',
    'TokenPurpose',
    'WORKER_SITES',
    'assertProfileExists',
    'assertValidToken',
    'bonusToken',
    'buildCompensationQuestionForm',
    'buildExternalQuestion',
    'buildHTMLQuestion',
    'buildRequesterAnnotation',
    'classifyError',
    'closeAllGateways',
    'compensationQualificationName',
    'compensationToken',
    'estimateCost',
    'externalSubmitUrl',
    'feeCents',
    'feePercentFor',
    'formatUsd',
    'getGateway',
    'hitToken',
    'isAlreadyDone',
    'isDone',
    'isHitstateToken',
    'listProfiles',
    'mapSdkError',
    'mastersQualificationId',
    'ok',
    'orThrow',
    'parseAnswers',
    'parseRequesterAnnotation',
    'policyOf',
    'previewUrl',
    'pseudonymizeWorkerId',
    'recoverSubmission',
    'redactArguments',
    'requestToken',
    'resolveEndpoint',
    'resolveWorkerSite',
    'sharedFilePaths',
    'toCents',
    'toQualificationRequirements',
  ]);
});

Api('when the submission field name is read then it is the one the task wrapper posts', () => {
  assert.is(mturk.SUBMISSION_FIELD, 'hitstate_submission');
});

Api('when every operation of the gateway is listed then each has an SDK-style camelCase method', () => {
  const methods = Object.getOwnPropertyNames(mturk.MTurkGateway.prototype)
    .filter((m) => m !== 'constructor')
    .sort();
  assert.equal(methods, [
    'approveAssignment',
    'associateQualificationWithWorker',
    'blockWorker',
    'createCompensationHIT',
    'createHITType',
    'createHITWithHITType',
    'deleteHIT',
    'deleteQualificationType',
    'disassociateQualificationFromWorker',
    'expireAndDisposeHIT',
    'expireHIT',
    'findOrCreateQualificationType',
    'findQualificationType',
    'getAccountBalance',
    'getAssignment',
    'getHIT',
    'isWorkerBlocked',
    'listAssignmentsForHIT',
    'listBonusPayments',
    'listHITs',
    'listHITsForHITType',
    'listReviewableHITs',
    'notifyWorkers',
    'paginateAssignmentsForHIT',
    'paginateHITsForHITType',
    'paginateReviewableHITs',
    'rejectAssignment',
    'sendBonus',
    'softRejectAssignment',
    'unblockWorker',
  ]);
});

Api.run();
