/**
 * hitstate: crash-proof Amazon Mechanical Turk task runs as XState actors, with its own
 * MTurk-compatible server.
 *
 * The package entry exports what a user of hitstate needs: the runtime (`createRuntime`, runs,
 * reviews, events), the task server, the task-run config, errors, clocks, the state names events
 * carry, and the Mephisto-shaped provider facade. The parts have their own entry points for the
 * rest: `hitstate/mturk` (the gateway), `hitstate/store`, `hitstate/machines`,
 * `hitstate/simulator`, `hitstate/server` (adapters in `hitstate/server/express` and `/fastify`)
 * and `hitstate/testing`. `test/runtime/package-entry.test.ts` pins every entry's names, so a
 * change to the public API is deliberate.
 *
 * @example
 * ```ts
 * import { createRuntime, createTaskServer } from 'hitstate';
 * const runtime = await createRuntime({ environment: { kind: 'sandbox' }, requester: { name: 'lab', credentials: { kind: 'profile', profile: 'lab' } } });
 * const tasks = createTaskServer(runtime.taskServerBackend(), { secret, taskPage: '<p>…</p>' });
 * ```
 *
 * @module
 */
// The runtime.
export {
  createRuntime,
  Runtime,
  RUNTIME_DEFAULTS,
  DriftKind,
  ReviewOutcome,
  unitIdOf,
  type ExpireRunOptions,
  type ResumedRun,
  type TaskRunInfo,
  type PollIntervals,
  type RuntimeOptions,
  type RuntimeRequester,
  type ResolvedRuntimeOptions,
  type LaunchRunOptions,
  type RuntimeEventBus,
  type AgentStatusChangedEvent,
  type CommandFailedEvent,
  type DisposalReport,
  type DriftFoundEvent,
  type MoneyKind,
  type MoneyMovedEvent,
  type RunProgressEvent,
  type RunStatusChangedEvent,
  type RuntimeEvents,
  type RuntimeMTurkCallEvent,
  type UnitStatusChangedEvent,
  type ReviewAction,
  type ReviewItem,
  type ReviewOptions,
  type ReviewReport,
  type ReviewTarget,
  type DriftReport,
  type ResumeRepairs,
  type SyncReport,
  type CleanupReport,
} from './runtime/index.js';
// The provider facade (Mephisto's provider API over the runtime).
export * from './runtime/provider/index.js';
// The task server.
export {
  PREVIEW_ASSIGNMENT_ID,
  SafeHtml,
  escapeHtml,
  html,
  RouteName,
  createTaskServer,
  type AgentRegistration,
  type AgentView,
  type PreviewInfo,
  type TaskServerBackend,
  type WorkerArrival,
  type ErrorBody,
  type PageSource,
  type PreviewPageContext,
  type ServerErrorContext,
  type TaskPageContext,
  type TaskServerOptions,
  type NextFunction,
  type TaskServer,
  type TaskServerRoute,
} from './server/index.js';
// The task-run config, and the qualification names it is written with.
export {
  resolveTaskRunConfig,
  TASK_RUN_DEFAULTS,
  TASK_RUN_LIMITS,
  type MTurkRequirementsConfig,
  type QualificationConfig,
  type ResolvedTaskRunConfig,
  type TaskPageConfig,
  type TaskRunConfig,
} from './config/task-run.js';
export {
  ActionsGuarded,
  Comparator,
  DEFAULT_ALLOWED_LOCALES,
  SystemQualification,
  type Locale,
} from './mturk/qualifications.js';
export type { CredentialSource, Environment } from './mturk/environment.js';
export type { StoreEnvironment } from './store/environment.js';
// Errors and clocks.
export * from './errors.js';
export * from './clock.js';
// The state names that events and statuses carry.
export {
  AssignmentState,
  AgentState,
  HITStatus,
  UnitStateGroups,
  AgentStateGroups,
  UNIT_STATES,
  AGENT_STATES,
} from '../machines/states.js';
