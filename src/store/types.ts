/**
 * The records the datastore keeps, as callers see them. Every record handed out is frozen: to
 * change one, call the collection's method, which replaces it and schedules the write.
 *
 * Times are epoch milliseconds from the store's clock; money is a dollar string like `"0.50"`.
 *
 * @module
 */
import { TaskRunState, type AgentState, type AssignmentState, type HITStatus } from '../../machines/states.js';
import type { JsonObject, ReadonlyJson, ReadonlyJsonObject } from './json.js';

/**
 * Where a requester's AWS credentials come from: the gateway's `CredentialSource` minus the
 * `static` kind, since the store never holds a secret.
 */
export type CredentialSource =
  /** The AWS SDK's default chain: environment variables, shared files, SSO, container or instance roles. */
  | { readonly kind: 'defaultChain' }
  /** A named profile of `~/.aws/credentials` / `~/.aws/config`. */
  | { readonly kind: 'profile'; readonly profile: string };

/** A named MTurk requester account of this store's environment. */
export interface RequesterRecord {
  readonly name: string;
  readonly credentialSource: CredentialSource;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/**
 * Status of a task run: `created` until the supervisor starts, then the supervisor's state names
 * (machines/task-run.ts). Only `done` is finished; `failed` (setup failed) can be retried.
 */
export const TaskRunStatus = { created: 'created', ...TaskRunState } as const;
export type TaskRunStatus = (typeof TaskRunStatus)[keyof typeof TaskRunStatus];
/** Every run status. */
export const TASK_RUN_STATUSES: readonly TaskRunStatus[] = Object.freeze(Object.values(TaskRunStatus));

/** One launch of a task: its configuration, its HIT type and its status. */
export interface TaskRunRecord {
  readonly id: string;
  readonly requesterName: string;
  readonly status: TaskRunStatus;
  /** The task configuration as given at creation (title, reward, durations, qualifications...). */
  readonly config: ReadonlyJsonObject;
  /** Set once `CreateHITType` answered. */
  readonly hitTypeId: string | null;
  /** Height of the ExternalQuestion frame in pixels; 0 means the whole window. */
  readonly frameHeight: number;
  readonly createdAt: number;
  readonly updatedAt: number;
  /** When the run reached `done`. */
  readonly finishedAt: number | null;
}

/**
 * One HIT of a run's HIT pool. A HIT is created unbound (`unitId` null) and bound to a unit only
 * when a worker arrives; after a return it goes back to the pool and may serve another unit.
 */
export interface HitRecord {
  readonly id: string;
  readonly runId: string;
  readonly unitId: string | null;
  /** The MTurk AssignmentId of the worker currently holding the HIT through `unitId`. */
  readonly assignmentId: string | null;
  /** The worker-facing URL of the HIT. */
  readonly link: string;
  readonly assignmentDurationSec: number;
  readonly createdAt: number;
  readonly expiresAt: number;
  /** The last HITStatus observed on MTurk, and when. */
  readonly status: HITStatus | null;
  readonly observedAt: number | null;
  /** Counts binds and unbinds, so an event about an older binding can be recognised as stale. */
  readonly generation: number;
}

/** The smallest piece of work of a run; its status is a Mephisto AssignmentState. */
export interface UnitRecord {
  readonly id: string;
  readonly runId: string;
  /** Mephisto's unit_index: 0 and up for normal units, negative for screening (-1), gold (-2), compensation (-3). */
  readonly index: number;
  readonly status: AssignmentState;
  readonly payAmountUsd: string;
  /** The agent (and its worker) currently working on the unit. */
  readonly agentId: string | null;
  readonly workerId: string | null;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** Outcome of a review, once MTurk confirmed it. */
export const ReviewDecision = { approved: 'approved', rejected: 'rejected', softRejected: 'soft_rejected' } as const;
export type ReviewDecision = (typeof ReviewDecision)[keyof typeof ReviewDecision];

export interface AgentReview {
  readonly decision: ReviewDecision;
  readonly feedback: string | null;
  readonly reviewedAt: number;
}

/** One worker on one unit. Submitted data is kept apart (see `AgentsCollection.submission`). */
export interface AgentRecord {
  readonly id: string;
  readonly runId: string;
  readonly unitId: string;
  readonly workerId: string;
  readonly assignmentId: string;
  readonly hitId: string;
  readonly status: AgentState;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly submittedAt: number | null;
  readonly review: AgentReview | null;
}

/** A block of a worker by one requester. */
export interface WorkerBlock {
  readonly reason: string;
  readonly blockedAt: number;
}

/** An MTurk worker seen in this environment, with the requesters that block them. */
export interface WorkerRecord {
  readonly id: string;
  readonly firstSeenAt: number;
  readonly blocks: { readonly [requesterName: string]: WorkerBlock };
}

/** A local qualification name resolved to the MTurk QualificationTypeId a requester owns. */
export interface QualificationMapping {
  readonly requesterName: string;
  readonly name: string;
  readonly qualificationTypeId: string;
  /** The name on MTurk, which may carry a suffix when the plain name was taken. */
  readonly mturkName: string;
  readonly createdAt: number;
}

/** What a money intent asks MTurk to do. */
export const IntentKind = {
  createHIT: 'createHIT',
  createAdditionalAssignments: 'createAdditionalAssignments',
  approve: 'approve',
  reject: 'reject',
  softReject: 'softReject',
  bonus: 'bonus',
  block: 'block',
  unblock: 'unblock',
  expire: 'expire',
  grantQualification: 'grantQualification',
  revokeQualification: 'revokeQualification',
} as const;
export type IntentKind = (typeof IntentKind)[keyof typeof IntentKind];
export const INTENT_KINDS: readonly IntentKind[] = Object.freeze(Object.values(IntentKind));

/** pending (on disk, maybe not sent) → sent (maybe done on MTurk) → confirmed | failed. */
export const IntentState = { pending: 'pending', sent: 'sent', confirmed: 'confirmed', failed: 'failed' } as const;
export type IntentState = (typeof IntentState)[keyof typeof IntentState];

/** An entry of the money outbox: an MTurk call with side effects, written down before it is made. */
export interface IntentRecord {
  readonly token: string;
  readonly kind: IntentKind;
  readonly state: IntentState;
  readonly runId: string;
  readonly unitId: string | null;
  readonly agentId: string | null;
  readonly workerId: string | null;
  readonly assignmentId: string | null;
  readonly hitId: string | null;
  readonly amountUsd: string | null;
  /** The request as the gateway will send it (minus credentials). */
  readonly args: ReadonlyJsonObject;
  /** How many times `markSent` was called: more than one means the call was replayed. */
  readonly attempts: number;
  readonly createdAt: number;
  readonly sentAt: number | null;
  readonly settledAt: number | null;
  readonly result: ReadonlyJson | null;
  readonly failure: { readonly reason: string; readonly retryable: boolean } | null;
}

/** What `OutboxCollection.recordIntent` takes. */
export interface IntentInput {
  readonly kind: IntentKind;
  readonly runId: string;
  readonly token: string;
  readonly unitId?: string;
  readonly agentId?: string;
  readonly workerId?: string;
  readonly assignmentId?: string;
  readonly hitId?: string;
  /** Required for `bonus`. */
  readonly amountUsd?: string;
  readonly args: object;
}

/** An actor's persisted XState snapshot, with the machine that made it. */
export interface SnapshotRecord {
  /** `run:<runId>`, `unit:<unitId>` or `agent:<agentId>`. */
  readonly actorId: string;
  readonly runId: string;
  readonly machine: string;
  readonly machineVersion: number;
  /** A fresh copy on every read: XState's restore may change it freely. */
  readonly snapshot: JsonObject;
  readonly updatedAt: number;
}

/** One MTurk call as the audit trail keeps it. */
export interface AuditEntry {
  readonly at: number;
  readonly operation: string;
  /** `ok`, `notFound`, `throttled`, `invalid`, `unavailable`... as the gateway classifies it. */
  readonly outcome: string;
  readonly runId: string | null;
  readonly requesterName: string | null;
  readonly requestId: string | null;
  readonly token: string | null;
  readonly attempts: number | null;
  readonly durationMs: number | null;
  readonly details: ReadonlyJsonObject | null;
}

/** What `AuditTrail.append` takes; `at` defaults to the store's clock. */
export interface AuditInput {
  readonly operation: string;
  readonly outcome: string;
  readonly at?: number;
  readonly runId?: string;
  readonly requesterName?: string;
  readonly requestId?: string;
  readonly token?: string;
  readonly attempts?: number;
  readonly durationMs?: number;
  readonly details?: object;
}
