/**
 * hitstate's runtime: task runs as supervised XState actors over the MTurk gateway and the
 * store, crash-proof (every actor saved, money through an outbox, resume after any kill), with
 * batched status sync, the task server's backend, reviews, and the Mephisto-shaped provider API.
 * See docs/runtime.md.
 *
 * @module
 */
export { createRuntime, Runtime, type ExpireRunOptions, type ResumedRun } from './core/runtime.js';
export type { TaskRunInfo } from './core/run-info.js';
export {
  RUNTIME_DEFAULTS,
  type PollIntervals,
  type RuntimeOptions,
  type RuntimeRequester,
  type ResolvedRuntimeOptions,
} from './core/options.js';
export { unitIdOf, type LaunchRunOptions } from './core/run-loader.js';
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
} from './core/events.js';
export {
  ReviewOutcome,
  type ReviewAction,
  type ReviewItem,
  type ReviewOptions,
  type ReviewReport,
  type ReviewTarget,
} from './money/review.js';
export type { MoneySettlement } from './money/outbox.js';
export type { DriftReport } from './sync/drift.js';
export type { ResumeRepairs } from './supervisor/resume.js';
export { AUTO_APPROVAL_REQUEST, PER_HIT_BUDGET, type SyncReport } from './sync/status-sync.js';
export { RuntimeTaskServerBackend } from './arrivals/task-server-backend.js';
export { RAW_ANSWER_KEY, isRawAnswerSubmission } from './commands/hit-commands.js';
export { TOKEN_MEMORY_SAFE_MS, intentToken } from './money/outbox.js';
export {
  budgetOf,
  describeLedger,
  withFee,
  type BudgetLedger,
  type BudgetRequest,
} from './money/budget.js';
export { unitsToRelaunch, type AddedUnits, type AddedUnitsEntry } from './core/continue-run.js';
export { cleanupRun, type CleanupReport } from './sync/cleanup.js';
export type { RunResources } from './core/resources.js';
