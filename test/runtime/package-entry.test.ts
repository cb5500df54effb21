// Every entry point of the package pins the names it exports, so a change to the public API shows
// up in review as a change of these lists. The root entry (`hitstate`) is the user-facing API
// only; internals stay reachable through their subpath (`hitstate/mturk`, …) or not at all.
import { readFileSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as entry from '../../src/index.js';

const Entry = suite('package entry');
const root = new URL('../../', import.meta.url);

/** The names each entry point of package.json `exports` gives (values; types are erased). */
const PINNED: Record<string, readonly string[]> = {
  '.': [
    'AGENT_STATES',
    'ActionsGuarded',
    'AgentState',
    'AgentStateGroups',
    'AssignmentState',
    'Comparator',
    'DEFAULT_ALLOWED_LOCALES',
    'DriftKind',
    'ERROR_CODES',
    'EndpointMTurkProvider',
    'HITStatus',
    'HitstateError',
    'MTurkAgent',
    'MTurkProvider',
    'MTurkRequester',
    'MTurkUnit',
    'MTurkWorker',
    'PREVIEW_ASSIGNMENT_ID',
    'RUNTIME_DEFAULTS',
    'ReviewOutcome',
    'RouteName',
    'Runtime',
    'SafeHtml',
    'SandboxMTurkProvider',
    'SystemQualification',
    'TASK_RUN_DEFAULTS',
    'TASK_RUN_LIMITS',
    'UNIT_STATES',
    'UnitStateGroups',
    'VirtualClock',
    'createRuntime',
    'createTaskServer',
    'escapeHtml',
    'html',
    'isHitstateError',
    'resolveTaskRunConfig',
    'systemClock',
    'unitIdOf',
  ],
  './machines': [
    'AGENT_ACTOR_PREFIX',
    'AGENT_STATES',
    'AGENT_TAGS',
    'AgentState',
    'AgentStateGroups',
    'AgentTag',
    'AssignmentState',
    'CommandKind',
    'DEFAULT_RETRY_POLICY',
    'DEFAULT_TASK_RUN_SETTINGS',
    'GROUP_ACTOR_PREFIX',
    'HITStatus',
    'MACHINES',
    'MapPoolTables',
    'RefusalReason',
    'TaskRunState',
    'UNIT_ACTOR_PREFIX',
    'UNIT_GROUP_SIZE',
    'UNIT_STATES',
    'UNIT_TAGS',
    'UnitStateGroups',
    'UnitTag',
    'agentActorId',
    'agentHasTag',
    'agentIdFor',
    'agentMachine',
    'agentPendingReview',
    'agentStatusOf',
    'arrivalOf',
    'classifyObservation',
    'freeUnitsOf',
    'groupActorIdOf',
    'groupedUnitMachine',
    'hitOf',
    'hitsOf',
    'machineOf',
    'machineStates',
    'machineTransitions',
    'nextDeadline',
    'pendingCommands',
    'pendingCommandsOfRun',
    'retryDelayMs',
    'setupCommandOf',
    'supervisedGroupMachine',
    'tablesOf',
    'taskRunMachine',
    'toJSONDefinition',
    'toMermaid',
    'toStateTable',
    'unitActorId',
    'unitAgentMachine',
    'unitCountsOf',
    'unitEntryOf',
    'unitGroupMachine',
    'unitHasTag',
    'unitMachine',
    'unitOrderOf',
    'unitStatusOf',
    'unitStatusesTagged',
    'withCommandHandler',
  ],
  './simulator': ['createSimulator'],
  './testing': ['SimulatedWorker', 'SimulatedWorkerError', 'VirtualTimeDriver'],
  './mturk': [
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
  ],
  './store': [
    'INTENT_KINDS',
    'IntentKind',
    'IntentState',
    'MIGRATIONS',
    'ReviewDecision',
    'SCHEMA_VERSION',
    'TASK_RUN_STATUSES',
    'TaskRunStatus',
    'checkStoreDir',
    'damagedStoreError',
    'environmentOfDir',
    'environmentSlug',
    'looksLikeStore',
    'nodeFileSystem',
    'normalizeEnvironment',
    'openStore',
    'repairStore',
    'restoreBackup',
    'sameEnvironment',
  ],
  './server': [
    'DEFAULT_REGISTRATION_LIMITS',
    'DEFAULT_SERVER_LIMITS',
    'MTURK_SUBMIT_ORIGINS',
    'PREVIEW_ASSIGNMENT_ID',
    'RouteName',
    'SUBMISSION_FIELD',
    'SafeHtml',
    'WRAPPER_SOURCE',
    'createTaskServer',
    'escapeHtml',
    'html',
    'signAgentToken',
    'verifyAgentToken',
  ],
  './server/express': ['toExpress'],
  './server/fastify': ['toFastify'],
  './dashboard': [
    'DASHBOARD_CSP',
    'createDashboard',
    'dashboardToExpress',
    'dashboardToFastify',
    'runtimeSource',
    'storeSource',
  ],
};

/** The TypeScript source of a package.json export target: `./dist/src/x.js` is `src/x.ts`. */
function sourceOf(target: string): URL {
  return new URL(target.replace(/^\.\/dist\//, '').replace(/\.js$/, '.ts'), root);
}

const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as {
  exports: Record<string, string | { types: string; default: string }>;
};
const entries = Object.entries(pkg.exports).filter(([name]) => name !== './package.json');

Entry('when package.json lists its entry points then each one has a pinned list here', () => {
  assert.equal(entries.map(([name]) => name).sort(), Object.keys(PINNED).sort());
});

for (const [name, target] of entries) {
  Entry(`when ${name} is imported then it exports exactly its pinned names`, async () => {
    assert.ok(typeof target === 'object', `${name} must give types and default`);
    const mod = (await import(sourceOf(target.default).href)) as Record<string, unknown>;
    assert.equal(Object.keys(mod).sort(), [...(PINNED[name] ?? [])].sort());
  });
}

Entry('when the root entry is imported then internals are not in it', () => {
  for (const internal of [
    'hitToken',
    'feeCents',
    'mapSdkError',
    'RateGovernor',
    'closeAllGateways',
    'PER_HIT_BUDGET',
    'machines',
    'simulator',
    'createSimulator',
    'openStore',
  ])
    assert.not.ok(internal in entry, `${internal} is internal: reach it through its subpath`);
});

Entry('when a runtime is made then the root entry has what the README embedding example uses', () => {
  assert.type(entry.createRuntime, 'function');
  assert.type(entry.createTaskServer, 'function');
  assert.type(entry.Runtime.prototype.taskServerBackend, 'function');
  assert.type(entry.Runtime.prototype.launchRun, 'function');
});

Entry.run();
