/**
 * hitstate's runtime: task runs as supervised XState actors over the MTurk gateway and the
 * store, crash-proof (every actor saved, money through an outbox, resume after any kill), with
 * batched status sync, the task server's backend, reviews, and the Mephisto-shaped provider API.
 * See docs/runtime.md.
 *
 * @module
 */
export { createRuntime, Runtime, type ExpireRunOptions, type ResumedRun } from './runtime.js';
export type { TaskRunInfo } from './run-info.js';
export {
  RUNTIME_DEFAULTS,
  type PollIntervals,
  type RuntimeOptions,
  type RuntimeRequester,
  type ResolvedRuntimeOptions,
} from './options.js';
export { unitIdOf, type LaunchRunOptions } from './run-loader.js';
export {
  DriftKind,
  RuntimeEventBus,
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
} from './events.js';
export {
  ReviewOutcome,
  type ReviewAction,
  type ReviewItem,
  type ReviewOptions,
  type ReviewReport,
  type ReviewTarget,
} from './review.js';
export type { MoneySettlement } from './outbox.js';
export type { DriftReport } from './drift.js';
export type { ResumeRepairs } from './resume.js';
export { AUTO_APPROVAL_REQUEST, PER_HIT_BUDGET, type SyncReport } from './status-sync.js';
export { RuntimeTaskServerBackend } from './task-server-backend.js';
export { RAW_ANSWER_KEY, isRawAnswerSubmission } from './hit-commands.js';
export { TOKEN_MEMORY_SAFE_MS, intentToken } from './outbox.js';
export { cleanupRun, type CleanupReport } from './cleanup.js';
export type { RunResources } from './resources.js';
