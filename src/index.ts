/**
 * hitstate: crash-proof Amazon Mechanical Turk task runs as XState actors, with its own
 * MTurk-compatible server.
 *
 * The package entry re-exports the public API of every part: the runtime (`createRuntime`, the
 * provider classes, events, reviews), the MTurk gateway, the store, the task server, the task-run
 * config, errors and clocks. The machines and the simulator, which have their own entry points
 * (`hitstate/machines`, `hitstate/simulator`), are here as the namespaces `machines` and
 * `simulator`, with their most used names also at the top level.
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
export * from './runtime/index.js';
export * from './runtime/provider/index.js';
export * from './mturk/index.js';
export {
  openStore,
  restoreBackup,
  environmentSlug,
  normalizeEnvironment,
  sameEnvironment,
  nodeFileSystem,
  SCHEMA_VERSION,
  MIGRATIONS,
  IntentKind,
  IntentState,
  ReviewDecision,
  TaskRunStatus,
  INTENT_KINDS,
  TASK_RUN_STATUSES,
} from './store/index.js';
export type {
  OpenReport,
  Store,
  StoreEvents,
  StoreOptions,
  StoreStats,
  WriteReport,
  RestoreBackupOptions,
  RestoredBackup,
  StoreEnvironment,
  StoreFileSystem,
  Migration,
  MigrationInput,
  LockInfo,
  FileStats,
  ExportedAgent,
  ExportedUnit,
  RunExport,
  JsonObject,
  JsonValue,
  ReadonlyJson,
  ReadonlyJsonObject,
  AgentRecord,
  AgentReview,
  AuditEntry,
  AuditInput,
  /** The store's credential source (never static keys); the gateway's is `CredentialSource`. */
  CredentialSource as StoredCredentialSource,
  HitRecord as StoredHitRecord,
  IntentInput,
  IntentRecord,
  QualificationMapping,
  RequesterRecord,
  SnapshotRecord,
  TaskRunRecord,
  UnitRecord,
  WorkerBlock,
  WorkerRecord,
  AgentInput as StoredAgentInput,
  AgentsCollection,
  ReviewInput,
  AuditFilter,
  AuditTrail,
  BindInput,
  HitInput,
  HitPool,
  OutboxCollection,
  QualificationInput,
  QualificationsCollection,
  RequesterInput,
  RequestersCollection,
  RunsCollection,
  TaskRunInput as StoredTaskRunInput,
  SnapshotInput,
  SnapshotsCollection,
  UnitInput as StoredUnitInput,
  UnitsCollection,
  WorkersCollection,
} from './store/index.js';
export {
  PREVIEW_ASSIGNMENT_ID,
  SafeHtml,
  escapeHtml,
  html,
  RouteName,
  createTaskServer,
  signAgentToken,
  verifyAgentToken,
  WRAPPER_SOURCE,
} from './server/index.js';
export type {
  AgentRegistration,
  AgentView,
  PreviewInfo,
  TaskServerBackend,
  WorkerArrival,
  ErrorBody,
  PageSource,
  PreviewPageContext,
  ServerErrorContext,
  TaskPageContext,
  TaskServerOptions,
  NextFunction,
  TaskServer,
  TaskServerRoute,
  AgentTokenClaims,
} from './server/index.js';
export * from './config/task-run.js';
export * from './errors.js';
export * from './clock.js';
export {
  AssignmentState,
  AgentState,
  HITStatus,
  UnitStateGroups,
  AgentStateGroups,
  UNIT_STATES,
  AGENT_STATES,
} from '../machines/states.js';
export * as machines from '../machines/index.js';
export {
  createSimulator,
  type Simulator,
  type SimulatorOptions,
  type SimulatedWorkers,
  type SimulatorStats,
} from './simulator/index.js';
export * as simulator from './simulator/index.js';
