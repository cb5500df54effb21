/**
 * The commands the machines ask the runtime to perform, and how retries are timed.
 *
 * A machine never calls MTurk. A state that needs MTurk runs a named entry action (declared in
 * `setup()`, a no-op by default) whose params are one {@link Command}; the runtime provides the
 * action (`machine.provide`, or {@link withCommandHandler} in `provide.ts`), performs the command
 * through the gateway and sends the result back as an event carrying the same `commandId`.
 * After a restore, entry actions do not run again: `pendingCommands(snapshot)` rebuilds the very
 * same command objects, so "first time" and "after restore" share one code path.
 *
 * `commandId` is deterministic (same run, subject and inputs give the same id) and stable across
 * restores. Derive MTurk's `UniqueRequestToken` from it (hash it when longer than 64 characters)
 * for `CreateHITWithHITType` and `SendBonus`, so a re-issued command is never done twice.
 *
 * @module
 */

/** Every command kind; each is also the name of the machine action that issues it. */
export const CommandKind = {
  setUpResources: 'setUpResources',
  launchHIT: 'launchHIT',
  expireHIT: 'expireHIT',
  confirmHIT: 'confirmHIT',
  reconcileSubmission: 'reconcileSubmission',
  approveAssignment: 'approveAssignment',
  rejectAssignment: 'rejectAssignment',
  softRejectAssignment: 'softRejectAssignment',
  sendBonus: 'sendBonus',
} as const;
export type CommandKind = (typeof CommandKind)[keyof typeof CommandKind];

/**
 * Resolve the run's qualifications (find-or-create, by stored id) and create its HIT type.
 * Answer with `setup.succeeded { commandId, hitTypeId, at }` or `setup.failed { commandId, reason, at }`.
 */
export interface SetUpResourcesCommand {
  readonly kind: 'setUpResources';
  readonly commandId: string;
  readonly runId: string;
  /** 1 for the first setup, +1 for each `run.retrySetup`. */
  readonly attempt: number;
}

/**
 * Create the unit's HIT (`CreateHITWithHITType`, one assignment) under the run's HIT type.
 * Answer with `launch.succeeded { commandId, hitId, at }` (also when MTurk answers that a HIT with
 * this token already exists: pass that HIT's id) or `launch.failed { commandId, reason, retryable, at }`.
 */
export interface LaunchHITCommand {
  readonly kind: 'launchHIT';
  readonly commandId: string;
  readonly runId: string;
  readonly unitId: string;
  /**
   * Launch attempt, part of the idempotency token. It changes only after MTurk definitively
   * refused the previous attempt (`retryable: false`), so an ambiguous failure (a timeout) is
   * retried with the same token and cannot create a second HIT.
   */
  readonly attempt: number;
}

/**
 * Expire a HIT now (`UpdateExpirationForHIT` to a past time). A worker already holding its
 * assignment may still finish. Answer with `expire.succeeded` (also when the HIT is already
 * expired, Reviewable or gone) or `expire.failed { reason, retryable }`.
 */
export interface ExpireHITCommand {
  readonly kind: 'expireHIT';
  readonly commandId: string;
  readonly runId: string;
  readonly unitId: string;
  readonly hitId: string;
}

/**
 * Re-read a HIT to confirm an ambiguous observation (a possible return, or an assignment past
 * its deadline). Answer with a fresh observation: `hit.observed`, `hit.notFound` or
 * `hit.lookupFailed` for this `hitId` (observations carry no `commandId`).
 */
export interface ConfirmHITCommand {
  readonly kind: 'confirmHIT';
  readonly commandId: string;
  readonly runId: string;
  readonly unitId: string;
  readonly hitId: string;
  readonly assignmentId: string | null;
  /** Why the unit asks: `returnSuspected` (Assignable seen once) or `deadlinePassed`. */
  readonly reason: 'returnSuspected' | 'deadlinePassed';
}

/**
 * MTurk says the unit's assignment was submitted but the store has no data for it: fetch the
 * answer (`ListAssignmentsForHIT`, all pages), parse it and store it under the agent (or, for a
 * unit without an agent, under the unit). Answer with `reconcile.succeeded` or
 * `reconcile.failed { reason, retryable }`.
 */
export interface ReconcileSubmissionCommand {
  readonly kind: 'reconcileSubmission';
  readonly commandId: string;
  readonly runId: string;
  readonly unitId: string;
  readonly hitId: string;
  readonly assignmentId: string | null;
  readonly agentId: string | null;
  /** 1-based attempt number (bounded by the unit's retry policy). */
  readonly attempt: number;
}

/** Fields every review command carries. */
interface ReviewCommandBase {
  readonly commandId: string;
  readonly runId: string;
  readonly agentId: string;
  readonly unitId: string;
  readonly assignmentId: string;
  readonly workerId: string;
  /** The id of the request (`review.*` event) this command carries out, e.g. a money outbox id. */
  readonly requestId: string;
}

/**
 * `ApproveAssignment`. Answer with `review.succeeded`, `review.alreadyDone` (MTurk says it is
 * already approved, e.g. auto-approved: success) or `review.failed { reason, retryable }`.
 */
export interface ApproveAssignmentCommand extends ReviewCommandBase {
  readonly kind: 'approveAssignment';
  readonly feedback: string | null;
  /** True when approving a rejected assignment (MTurk allows it within 30 days). */
  readonly overrideRejection: boolean;
}

/** `RejectAssignment` (feedback is required by MTurk). Same answers as approve. */
export interface RejectAssignmentCommand extends ReviewCommandBase {
  readonly kind: 'rejectAssignment';
  readonly feedback: string;
}

/**
 * Soft rejection: `ApproveAssignment` on MTurk (the worker is paid), recorded as soft-rejected
 * here (Mephisto's semantics). Same answers as approve.
 */
export interface SoftRejectAssignmentCommand extends ReviewCommandBase {
  readonly kind: 'softRejectAssignment';
  readonly feedback: string | null;
  readonly overrideRejection: boolean;
}

/** `SendBonus` with a `UniqueRequestToken` derived from `commandId`. Same answers as approve. */
export interface SendBonusCommand extends ReviewCommandBase {
  readonly kind: 'sendBonus';
  /** Dollar amount as MTurk wants it, e.g. "0.50". */
  readonly amountUsd: string;
  readonly reason: string;
}

/** Every command of the unit machine. */
export type UnitCommand = LaunchHITCommand | ExpireHITCommand | ConfirmHITCommand | ReconcileSubmissionCommand;
/** Every command of the agent machine. */
export type AgentCommand =
  | ApproveAssignmentCommand
  | RejectAssignmentCommand
  | SoftRejectAssignmentCommand
  | SendBonusCommand;
/** Every command of the taskRun machine itself. */
export type TaskRunCommand = SetUpResourcesCommand;
/** Every command any machine issues. Switch on `kind`. */
export type Command = UnitCommand | AgentCommand | TaskRunCommand;

/**
 * When a unit retries a command that failed with `retryable: true`: after `baseDelayMs`, doubling
 * each time up to `maxDelayMs`, at most `maxAttempts` attempts in all. The gateway's governor
 * alone retries throttling and brief faults (seconds); a retryable failure reaches the machine
 * only after it gave up, so this layer covers outages of minutes. docs/mturk-gateway.md, "Retries:
 * one layer per kind of failure", lists which layer handles what.
 */
export interface RetryPolicy {
  /** @defaultValue 5 */
  readonly maxAttempts: number;
  /** @defaultValue 30000 */
  readonly baseDelayMs: number;
  /** @defaultValue 600000 */
  readonly maxDelayMs: number;
}

/** The retry policy a unit uses unless its input gives another. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = Object.freeze({
  maxAttempts: 5,
  baseDelayMs: 30_000,
  maxDelayMs: 600_000,
});

/** Delay before retry number `failures` (1 after the first failure). */
export function retryDelayMs(policy: RetryPolicy, failures: number): number {
  return Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, failures - 1));
}

/** Why a command failed, as kept in context for the runtime to report. */
export interface CommandFailure {
  readonly kind: CommandKind;
  readonly reason: string;
  readonly retryable: boolean;
  /** Epoch ms of the failure. */
  readonly at: number;
}
