/**
 * Input, context, events and reports of the unit machine. Row codes (R1-R3...) name rows of
 * docs/mephisto-semantics.md#the-unit-table.
 *
 * @module
 */
import type { ErrorActorEvent } from 'xstate';
import type { CommandFailure, RetryPolicy } from './commands.js';
import type { AssignmentState, HITStatus } from './states.js';

/** What a unit actor is created with. */
export interface UnitInput {
  readonly unitId: string;
  readonly runId: string;
  /** Overrides {@link DEFAULT_RETRY_POLICY} for this unit's commands. */
  readonly retry?: RetryPolicy;
}

/** The review outcome of a unit's agent, as the unit learns it. */
export type ReviewedStatus = 'approved' | 'rejected' | 'soft_rejected';

/**
 * A unit's memory. Small on purpose (10,000 units live in one process): submitted data lives in
 * the store, the unit keeps the `submitted` flag.
 */
export interface UnitContext {
  readonly unitId: string;
  readonly runId: string;
  /** The HIT bound to this unit: while assigned or completed, or the pool HIT its expiry consumed. */
  readonly hitId: string | null;
  /** The MTurk assignment of the bound HIT (null before a worker arrives). */
  readonly assignmentId: string | null;
  /** The bound agent: spawned by this unit as its child `agent:<agentId>` (released agents stay children). */
  readonly agentId: string | null;
  readonly workerId: string | null;
  /** 1-based launch attempt, the idempotency input of `launchHIT`. */
  readonly launchAttempt: number;
  /** The HIT this unit's launch created (it went into the run's pool, unbound). */
  readonly launchedHitId: string | null;
  /** Epoch ms when the bound assignment's duration runs out (while assigned). */
  readonly deadlineAt: number | null;
  /** The bound HIT was expired by this unit (the worker may still finish). */
  readonly hitExpired: boolean;
  /** The agent's submitted data is in the store. */
  readonly submitted: boolean;
  /** Epoch ms of the Assignable observation that made a return tentative. */
  readonly returnSuspectedAt: number | null;
  /** Sequence number of `confirmHIT` commands (part of their id). */
  readonly confirmations: number;
  /** Failed attempts of the command now pending (reset when a new command starts). */
  readonly failures: number;
  /** Epoch ms at which the pending command is retried, or null while it is in flight. */
  readonly retryAt: number | null;
  /** The last command failure, kept for the runtime to report. */
  readonly lastFailure: CommandFailure | null;
  /** A review outcome of the bound agent that came before the unit could take it (still assigned, or reconciling); applied after. */
  readonly reviewOutcome: ReviewedStatus | null;
  /** How many times an agent was bound to this unit (a generation counter: stale facts about an older binding are ignored). */
  readonly bindings: number;
  /**
   * The assignment the current binding displaced: another worker registered on the bound HIT and
   * that registration ended the bound assignment (MTurk re-offers a one-assignment HIT only after a
   * return or a lapse). Null when the binding took a free HIT. MTurk cannot tell which HIT an
   * assignment in progress is on, so while this is set the unit asks MTurk whose submission it is
   * before taking any for review.
   */
  readonly displacedAssignmentId: string | null;
  /**
   * True when the binding was made while MTurk could not be asked about the assignment: like a
   * displacement, the unit asks MTurk whose submission it is before taking any for review.
   */
  readonly bindingUnconfirmed?: boolean;
  /**
   * True once MTurk named the bound assignment as the HIT's submission (`reconcileSubmission` read
   * it). Data stored on the task server is only the worker's word: a worker can store and then
   * return the HIT, and another worker can accept it and submit on MTurk within one poll period
   * (issue 13 F1). Until this is set, a completed unit asks MTurk (one call) before taking any
   * submission for review; once set, it never asks again for this binding.
   */
  readonly submissionConfirmed?: boolean;
  /** Why the unit ended `expired` without MTurk saying so (abandoned at the drain deadline, HIT expiry failed...). */
  readonly note: string | null;
  readonly retry?: RetryPolicy;
}

/** Everything a unit reacts to. Facts are past tense; requests are imperative. */
export type UnitEvent =
  /** Request: create this unit's HIT. */
  | { readonly type: 'unit.launch'; readonly at: number }
  | { readonly type: 'launch.succeeded'; readonly commandId: string; readonly hitId: string; readonly at: number }
  | {
      readonly type: 'launch.failed';
      readonly commandId: string;
      readonly reason: string;
      readonly retryable: boolean;
      readonly at: number;
    }
  /**
   * Request (from the supervisor): a worker arrived on `hitId`; bind HIT and assignment, spawn the
   * agent. Sent to an assigned unit holding `hitId` under another assignment, it is the evidence
   * that the bound assignment ended: the bound agent is released as returned and the new worker
   * bound, unless the bound agent's data is stored (then it is ignored).
   */
  | {
      readonly type: 'unit.bindAgent';
      readonly hitId: string;
      readonly assignmentId: string;
      readonly agentId: string;
      readonly workerId: string;
      /** MTurk's word on the assignment (see `worker.arrived.confirmed`). */
      readonly confirmed?: boolean;
      /** Epoch ms when the assignment's duration runs out. */
      readonly deadlineAt: number;
      readonly at: number;
    }
  /** Request: give the unit back to the pool (the agent left and did no work). Refused once data is stored. */
  | { readonly type: 'unit.releaseAgent'; readonly reason: string; readonly at: number }
  /** Request: expire. `hitId` is the pool HIT a launched unit expires (null when the pool is empty); ignored otherwise. */
  | { readonly type: 'unit.expire'; readonly hitId: string | null; readonly at: number }
  | { readonly type: 'expire.succeeded'; readonly commandId: string; readonly at: number }
  | {
      readonly type: 'expire.failed';
      readonly commandId: string;
      readonly reason: string;
      readonly retryable: boolean;
      readonly at: number;
    }
  /** Request: stop waiting (the run's drain deadline passed); the unit ends `expired`. */
  | { readonly type: 'unit.abandon'; readonly reason: string; readonly at: number }
  /**
   * Fact: MTurk reported the HIT (`NumberOfAssignmentsAvailable` as `available`). `commandId` names
   * the `confirmHIT` this observation answers (a GetHIT made after that command was issued); the
   * status sync's observations have none.
   */
  | {
      readonly type: 'hit.observed';
      readonly hitId: string;
      readonly status: HITStatus;
      readonly available: number;
      readonly commandId?: string;
      readonly at: number;
    }
  /** Fact: MTurk says the HIT does not exist. */
  | { readonly type: 'hit.notFound'; readonly hitId: string; readonly at: number }
  /** Fact: reading the HIT failed (throttled, network...). Never a crash: the unit stays. */
  | { readonly type: 'hit.lookupFailed'; readonly hitId: string; readonly reason: string; readonly at: number }
  | {
      readonly type: 'reconcile.succeeded';
      readonly commandId: string;
      /** The assignment and worker found on MTurk (needed when the unit had no agent). */
      readonly assignmentId?: string;
      readonly workerId?: string;
      readonly at: number;
    }
  | {
      readonly type: 'reconcile.failed';
      readonly commandId: string;
      readonly reason: string;
      readonly retryable: boolean;
      readonly at: number;
    }
  /** Request: try reconciling again after the unit gave up. */
  | { readonly type: 'unit.retryReconcile'; readonly at: number }
  /**
   * Fact (from the runtime): MTurk now confirms the bound assignment of a binding made while it
   * could not be asked; the unit no longer needs MTurk's word on whose submission it holds.
   */
  | { readonly type: 'unit.confirmBinding'; readonly assignmentId: string; readonly at: number }
  /**
   * Fact (from the runtime): MTurk does not hold the bound assignment of a binding made while it
   * could not be asked (made up, or returned since): the binding ended, as after a confirmed return.
   */
  | { readonly type: 'unit.bindingGone'; readonly assignmentId: string; readonly at: number }
  /**
   * Fact (from the runtime): MTurk refused a money call (approve, reject, bonus) on `assignmentId`
   * as not existing or not submitted. When it is the bound assignment of a unit awaiting review,
   * the unit asks MTurk again whose submission it holds (`completed.reconciling`), so the work
   * MTurk names is the one reviewed next, never a silent failure repeated on every review.
   */
  | {
      readonly type: 'unit.submissionRefuted';
      readonly assignmentId: string;
      readonly reason: string;
      readonly at: number;
    }
  /** Fact: the agent's submitted data is now in the store. */
  | { readonly type: 'agent.submitted'; readonly at: number }
  /** Fact (from a child agent): MTurk confirmed the review of agent `agentId` (R1-R3). Ignored unless it is the bound agent. */
  | {
      readonly type: 'agent.reviewed';
      readonly agentId: string;
      readonly unitId?: string;
      readonly status: ReviewedStatus;
      readonly at: number;
    }
  /**
   * Request (from the supervisor): give a completed unit without agent one, for the worker whose
   * submission was reconciled. `existing` is true when that agent is already this unit's child (its
   * worker registered here and was displaced): it is told MTurk's word instead of being spawned.
   */
  | {
      readonly type: 'unit.adoptAgent';
      readonly agentId: string;
      readonly assignmentId: string;
      readonly workerId: string;
      readonly existing: boolean;
      readonly at: number;
    }
  /** A child agent failed (an action the runtime provided threw). */
  | ErrorActorEvent<unknown, string>
  /** Fact: the runtime's clock passed `nextDeadline(snapshot)`. */
  | { readonly type: 'deadline.reached'; readonly at: number };

/** What a unit tells the run (through the `report` action, relayed by its group; a no-op when it runs alone). */
export type UnitReport =
  /** The unit's status changed. */
  | {
      readonly type: 'report.unitChanged';
      readonly unitId: string;
      readonly status: AssignmentState;
      readonly at: number;
    }
  /** The unit's launch created `hitId`: it joins the pool, unbound. */
  | { readonly type: 'report.hitCreated'; readonly unitId: string; readonly hitId: string; readonly at: number }
  /** The unit gave `hitId` back to the pool (the worker returned it, or the agent was released); `assignmentId` names the binding released. */
  | {
      readonly type: 'report.hitReleased';
      readonly unitId: string;
      readonly hitId: string;
      readonly assignmentId: string | null;
      readonly at: number;
    }
  /** The unit gave up launching (definitive refusal or retries exhausted): the supervisor stops launching. */
  | {
      readonly type: 'report.launchFailed';
      readonly unitId: string;
      readonly reason: string;
      readonly retryable: boolean;
      readonly at: number;
    }
  /** One of the unit's agents failed; the supervisor records it. */
  | { readonly type: 'report.childFailed'; readonly unitId: string; readonly actorId: string; readonly message: string }
  /**
   * A registration on the unit's HIT with another assignment ended the bound one: the unit now holds
   * `hitId` under `assignmentId` with agent `agentId`, and released the agent of `displacedAssignmentId`.
   */
  | {
      readonly type: 'report.bindingReplaced';
      readonly unitId: string;
      readonly hitId: string;
      readonly assignmentId: string;
      readonly displacedAssignmentId: string;
      readonly agentId: string;
      readonly at: number;
    }
  /**
   * Reconciliation found an assignment for a unit that had no agent, or MTurk shows another
   * assignment submitted than the one a displacing registration bound (the unit let that agent go):
   * the supervisor may give it the agent of the worker MTurk names (`unit.adoptAgent`).
   */
  | {
      readonly type: 'report.reconciledWithoutAgent';
      readonly unitId: string;
      readonly hitId: string;
      readonly assignmentId: string | null;
      readonly workerId: string | null;
      readonly at: number;
    };

/** The unit's status, for typed helpers. */
export type UnitStatus = AssignmentState;
