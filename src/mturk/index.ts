/**
 * hitstate's MTurk gateway: the layer through which every part of hitstate talks to MTurk (AWS
 * live, AWS sandbox, or hitstate's own MTurk-compatible server). See `docs/mturk-gateway.md`.
 *
 * @module
 */
export { MTurkGateway } from './gateway.js';
export { GatewayRegistry, getGateway, closeAllGateways } from './registry.js';
export type { GatewayOptions, CallOptions, GatewayStats } from './gateway-core.js';
export {
  OutcomeStatus,
  ok,
  orThrow,
  isDone,
  isAlreadyDone,
  classifyError,
  mapSdkError,
  ErrorKind,
  type MTurkOutcome,
  type MTurkFailure,
  type MTurkAlreadyDone,
  type MTurkNotFound,
  type MTurkInvalid,
  type MTurkThrottled,
  type MTurkUnavailable,
  type MTurkInsufficientFunds,
  type FailureContext,
} from './outcome.js';
export {
  Environment,
  MTURK_ENDPOINTS,
  WORKER_SITES,
  MTURK_REGION,
  resolveEndpoint,
  resolveWorkerSite,
  previewUrl,
  externalSubmitUrl,
  type RequesterSpec,
  type CredentialSource,
} from './environment.js';
export { listProfiles, assertProfileExists, sharedFilePaths } from './credentials.js';
export {
  RateGovernor,
  Lane,
  type GovernorOptions,
  type GovernorStats,
  type GovernedCall,
  type RetryClass,
} from './governor.js';
export { OPERATION_POLICIES, policyOf, type OperationPolicy } from './operations.js';
export {
  AuditEmitter,
  pseudonymizeWorkerId,
  redactArguments,
  type MTurkCallEvent,
  type GatewayEvents,
} from './audit.js';
export {
  hitToken,
  bonusToken,
  compensationToken,
  requestToken,
  isHitstateToken,
  assertValidToken,
  TokenPurpose,
  MAX_TOKEN_LENGTH,
} from './tokens.js';
export {
  buildRequesterAnnotation,
  parseRequesterAnnotation,
  MAX_ANNOTATION_LENGTH,
  type HitAnnotation,
} from './annotation.js';
export {
  estimateCost,
  toCents,
  formatUsd,
  feeCents,
  feePercentFor,
  MTURK_FEE_PERCENT,
  MTURK_LARGE_HIT_FEE_PERCENT,
  LARGE_HIT_ASSIGNMENTS,
  type EstimateCostInput,
  type CostEstimate,
} from './money.js';
export {
  Comparator,
  ActionsGuarded,
  SystemQualification,
  DEFAULT_ALLOWED_LOCALES,
  mastersQualificationId,
  toQualificationRequirements,
  type Locale,
  type LocalQualificationRequirement,
  type RequirementOptions,
} from './qualifications.js';
export {
  buildExternalQuestion,
  buildHTMLQuestion,
  buildCompensationQuestionForm,
  QUESTION_NAMESPACES,
  MAX_XML_BYTES,
  COMPENSATION_QUESTION_ID,
  type ExternalQuestionOptions,
} from './question-xml.js';
export {
  parseAnswers,
  recoverSubmission,
  SUBMISSION_FIELD,
  RESERVED_FIELDS,
  type AnswerValue,
  type ParsedAnswers,
  type RecoveredSubmission,
} from './answer-xml.js';
export type {
  HITInfo,
  HITCounters,
  ListedHIT,
  AssignmentInfo,
  AssignmentStatus,
  BonusPaymentInfo,
  QualificationTypeInfo,
} from './records.js';
export {
  DEFAULT_AUTO_APPROVAL_DELAY_SEC,
  DEFAULT_HIT_LIFETIME_SEC,
  type CreateHITTypeInput,
  type CreateHITTypeResult,
  type CreateHITWithHITTypeInput,
  type CreateHITWithHITTypeResult,
  type HITQuestion,
  type HITRef,
  type ExpireAndDisposeResult,
  type ListHITsForHITTypeInput,
  type ListReviewableHITsInput,
} from './ops-hits.js';
export type {
  ListAssignmentsForHITInput,
  GetAssignmentResult,
  ApproveAssignmentInput,
  RejectAssignmentInput,
  SoftRejectAssignmentInput,
  SoftRejectAssignmentResult,
  AssignmentRef,
  SendBonusInput,
  SendBonusResult,
  ListBonusPaymentsInput,
  ListBonusPaymentsResult,
} from './ops-assignments.js';
export type {
  WorkerRef,
  BlockWorkerInput,
  UnblockWorkerInput,
  IsWorkerBlockedResult,
  AssociateQualificationInput,
  DisassociateQualificationInput,
  AccountBalance,
  NotifyWorkersInput,
  NotifyWorkersResult,
  NotifyWorkersFailure,
} from './ops-workers.js';
export {
  compensationQualificationName,
  type FindQualificationTypeInput,
  type FindOrCreateQualificationTypeInput,
  type FindOrCreateQualificationTypeResult,
  type QualificationTypeRef,
} from './ops-qualifications.js';
export type { CreateCompensationHITInput, CreateCompensationHITResult } from './ops-compensation.js';
