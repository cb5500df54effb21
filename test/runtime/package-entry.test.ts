// The package entry (`hitstate`) pins its runtime exports: a change to the public API shows up in
// review as a change of this list (h3's package test, STYLE rule 12).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as entry from '../../src/index.js';

const Entry = suite('package entry');

const EXPORTS = [
  'AGENT_STATES', 'AUTO_APPROVAL_REQUEST', 'ActionsGuarded', 'AgentState', 'AgentStateGroups', 'AssignmentState',
  'AuditEmitter', 'COMPENSATION_QUESTION_ID', 'Comparator', 'DEFAULT_ALLOWED_LOCALES',
  'DEFAULT_AUTO_APPROVAL_DELAY_SEC', 'DEFAULT_HIT_LIFETIME_SEC', 'DriftKind', 'ERROR_CODES', 'EndpointMTurkProvider',
  'Environment', 'ErrorKind', 'GatewayRegistry', 'HITStatus', 'HitstateError', 'INTENT_KINDS', 'IntentKind',
  'IntentState', 'RAW_ANSWER_KEY', 'isRawAnswerSubmission', 'LARGE_HIT_ASSIGNMENTS', 'Lane', 'MAX_ANNOTATION_LENGTH', 'MAX_TOKEN_LENGTH', 'MAX_XML_BYTES',
  'MIGRATIONS', 'MTURK_ENDPOINTS', 'MTURK_FEE_PERCENT', 'MTURK_LARGE_HIT_FEE_PERCENT', 'MTURK_REGION', 'MTurkAgent',
  'MTurkGateway', 'MTurkProvider', 'MTurkRequester', 'MTurkUnit', 'MTurkWorker', 'OPERATION_POLICIES', 'OutcomeStatus',
  'PER_HIT_BUDGET', 'PREVIEW_ASSIGNMENT_ID', 'QUESTION_NAMESPACES', 'RESERVED_FIELDS', 'RUNTIME_DEFAULTS',
  'RateGovernor', 'ReviewDecision', 'ReviewOutcome', 'RouteName', 'Runtime', 'RuntimeEventBus',
  'RuntimeTaskServerBackend', 'SCHEMA_VERSION', 'SUBMISSION_FIELD', 'SafeHtml', 'SandboxMTurkProvider',
  'SystemQualification', 'TASK_RUN_DEFAULTS', 'TASK_RUN_LIMITS', 'TASK_RUN_STATUSES', 'TOKEN_MEMORY_SAFE_MS',
  'TaskRunStatus', 'TokenPurpose', 'UNIT_STATES', 'UnitStateGroups', 'VirtualClock', 'WORKER_SITES', 'WRAPPER_SOURCE',
  'assertProfileExists', 'assertValidToken', 'bonusToken', 'buildCompensationQuestionForm', 'buildExternalQuestion',
  'buildHTMLQuestion', 'buildRequesterAnnotation', 'classifyError', 'cleanupRun', 'closeAllGateways',
  'compensationQualificationName', 'compensationToken', 'createRuntime', 'createSimulator', 'createTaskServer',
  'environmentSlug', 'escapeHtml', 'estimateCost', 'externalSubmitUrl', 'feeCents', 'feePercentFor', 'formatUsd',
  'getGateway', 'hitToken', 'html', 'intentToken', 'isAlreadyDone', 'isDone', 'isHitstateError', 'isHitstateToken',
  'listProfiles', 'machines', 'mapSdkError', 'mastersQualificationId', 'nodeFileSystem', 'normalizeEnvironment', 'ok',
  'openStore', 'orThrow', 'parseAnswers', 'parseRequesterAnnotation', 'policyOf', 'previewUrl', 'pseudonymizeWorkerId',
  'recoverSubmission', 'redactArguments', 'requestToken', 'resolveEndpoint', 'resolveTaskRunConfig',
  'resolveWorkerSite', 'restoreBackup', 'sameEnvironment', 'sharedFilePaths', 'signAgentToken', 'simulator',
  'systemClock', 'toCents', 'toQualificationRequirements', 'unitIdOf', 'verifyAgentToken',
];

Entry('when the entry is imported then it exports exactly the pinned names', () => {
  assert.equal(Object.keys(entry).sort(), [...EXPORTS].sort());
});

Entry('when the machines and the simulator are reached through the entry then their own entry points are there', () => {
  assert.type(entry.machines.taskRunMachine, 'object');
  assert.type(entry.machines.withCommandHandler, 'function');
  assert.is(entry.simulator.createSimulator, entry.createSimulator);
  assert.is(entry.AssignmentState, entry.machines.AssignmentState);
});

Entry('when the task-server backend is taken from a runtime then it is the runtime class the entry exports', () => {
  assert.type(entry.createRuntime, 'function');
  assert.type(entry.Runtime.prototype.taskServerBackend, 'function');
  assert.type(entry.RuntimeTaskServerBackend.prototype.registerAgent, 'function');
});

Entry.run();
