/**
 * Input, context, events and reports of the agent machine (one worker on one unit).
 *
 * @module
 */
import type { AgentState } from './states.js';

/** What an agent actor is created with (by its unit, when the supervisor binds an arriving worker). */
export interface AgentInput {
  readonly agentId: string;
  readonly unitId: string;
  readonly runId: string;
  readonly workerId: string;
  readonly assignmentId: string;
  readonly hitId: string;
  /** Epoch ms when the assignment's duration runs out; past it a working agent times out. */
  readonly deadlineAt: number;
}

/** The four review operations. */
export type ReviewKind = 'approve' | 'reject' | 'softReject' | 'bonus';

/** A review request as the agent keeps it while it is performed or queued. */
export interface ReviewRequest {
  readonly kind: ReviewKind;
  /** The caller's id for this request (e.g. its money-outbox id); makes re-sending it harmless. */
  readonly requestId: string;
  /** Worker-facing text: RequesterFeedback for approve/reject, Reason for a bonus. */
  readonly feedback: string | null;
  /** Dollar amount for a bonus, e.g. "0.50"; null otherwise. */
  readonly amountUsd: string | null;
}

/** A review that failed, with MTurk's reason. The agent stays where it was. */
export interface ReviewFailure {
  readonly kind: ReviewKind;
  readonly requestId: string;
  readonly reason: string;
  readonly retryable: boolean;
  readonly at: number;
}

/** An agent's memory. Submitted data lives in the store; the agent keeps `dataStored`. */
export interface AgentContext {
  readonly agentId: string;
  readonly unitId: string;
  readonly runId: string;
  readonly workerId: string;
  readonly assignmentId: string;
  readonly hitId: string;
  readonly deadlineAt: number;
  /** The worker's data is in the store (false while MTurk says submitted but the data is being reconciled). */
  readonly dataStored: boolean;
  /** The review being performed (its command is pending), or null. */
  readonly review: ReviewRequest | null;
  /** Bonuses asked for before they could be paid (Mephisto #1081), paid one by one once possible. */
  readonly bonusQueue: readonly ReviewRequest[];
  /** Request ids of bonuses MTurk confirmed; a bonus with one of these ids is never paid again. */
  readonly paidBonuses: readonly string[];
  readonly lastReviewFailure: ReviewFailure | null;
  /**
   * False from the agent's creation until its unit says MTurk named the agent's assignment as the
   * HIT's submission (`submission.confirmed`): data stored on the task server is only the worker's
   * word (issue 13 F1), so a bonus queued before then is paid only after. Absent in agents stored
   * before this field existed (taken as confirmed: their units completed on the old rule).
   */
  readonly submissionConfirmed?: boolean;
}

/** Everything an agent reacts to. Facts are past tense; requests are imperative. */
export type AgentEvent =
  /** Fact: the run accepted the worker and bound a unit (sent by the unit right after spawning the agent). */
  | { readonly type: 'agent.accepted'; readonly at: number }
  | { readonly type: 'agent.onboardingStarted'; readonly at: number }
  /** Fact: the agent waits for partners (concurrent units). */
  | { readonly type: 'agent.waitingStarted'; readonly at: number }
  | { readonly type: 'agent.taskStarted'; readonly at: number }
  /** Fact: the worker's data is stored (task server submit, or reconciliation). */
  | { readonly type: 'agent.submitted'; readonly at: number }
  /** Fact: MTurk shows the assignment submitted; the data is not (yet) in the store. */
  | { readonly type: 'assignment.submitted'; readonly at: number }
  | { readonly type: 'agent.disconnected'; readonly at: number }
  /** Fact: the task server gave up waiting for the worker (live tasks). */
  | { readonly type: 'agent.timedOut'; readonly at: number }
  | { readonly type: 'agent.partnerDisconnected'; readonly at: number }
  /** Fact: MTurk confirms the worker returned or abandoned the assignment. */
  | { readonly type: 'agent.returned'; readonly at: number }
  /** Fact: the unit expired while the agent held it (HIT gone, or the run stopped waiting). */
  | { readonly type: 'agent.expired'; readonly at: number }
  /** Fact: the run released the agent's unit back to the pool. */
  | { readonly type: 'agent.released'; readonly at: number }
  /**
   * Fact: MTurk lists another assignment as the submission of this agent's HIT, so this agent's
   * assignment never held it (its registration was forged, or displaced a worker who finished after all).
   */
  | { readonly type: 'assignment.overruled'; readonly at: number }
  /**
   * Fact (from the unit): the unit ended without MTurk ever showing this agent's assignment
   * submitted (the worker stored data on the task server, then returned or let it lapse, and the
   * HIT is gone or the run stopped waiting): the stored data is kept under the agent for the
   * record, never reviewed or paid.
   */
  | { readonly type: 'assignment.notSubmitted'; readonly at: number }
  /** Fact (from the unit): MTurk named this agent's assignment as the HIT's submission; queued bonuses may be paid. */
  | { readonly type: 'submission.confirmed'; readonly at: number }
  | { readonly type: 'deadline.reached'; readonly at: number }
  /** Request: approve (from `completed`, or from `rejected` as an override). */
  | { readonly type: 'review.approve'; readonly requestId: string; readonly feedback?: string; readonly at: number }
  /** Request: reject (from `completed`); MTurk requires feedback. */
  | { readonly type: 'review.reject'; readonly requestId: string; readonly feedback: string; readonly at: number }
  /** Request: soft-reject (paid on MTurk, recorded as rejected here). */
  | { readonly type: 'review.softReject'; readonly requestId: string; readonly feedback?: string; readonly at: number }
  /** Request: pay a bonus; queued until the work is submitted. */
  | {
      readonly type: 'review.bonus';
      readonly requestId: string;
      readonly amountUsd: string;
      readonly reason: string;
      readonly at: number;
    }
  | { readonly type: 'review.succeeded'; readonly commandId: string; readonly at: number }
  /** MTurk says it is already done (e.g. auto-approved): treated as success. */
  | { readonly type: 'review.alreadyDone'; readonly commandId: string; readonly at: number }
  | {
      readonly type: 'review.failed';
      readonly commandId: string;
      readonly reason: string;
      readonly retryable: boolean;
      readonly at: number;
    };

/** What an agent tells its unit, its parent (through the `report` action; a no-op when it runs alone). */
export type AgentReport = {
  readonly type: 'agent.reviewed';
  readonly agentId: string;
  readonly unitId: string;
  readonly status: 'approved' | 'rejected' | 'soft_rejected';
  readonly at: number;
};

/** The agent's status, for typed helpers. */
export type AgentStatus = AgentState;
