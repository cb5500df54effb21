/**
 * Input, settings, context and events of the taskRun supervisor.
 *
 * @module
 */
import type { DoneActorEvent, ErrorActorEvent } from 'xstate';
import type { AgentEvent } from './agent-types.js';
import type { RetryPolicy } from './commands.js';
import type { AssignmentState } from './states.js';
import type { PoolTables } from './task-run-tables.js';
import type { UnitEvent, UnitReport } from './unit-types.js';

/** How a run behaves. Durations carry their unit in the name. */
export interface TaskRunSettings {
  /** Most units launched or assigned at once; 0 means no limit. @defaultValue 0 */
  readonly maxConcurrentUnits: number;
  /** The HIT type's AssignmentDurationInSeconds: how long a worker may hold a unit. @defaultValue 1800 */
  readonly assignmentDurationSec: number;
  /** Extra time after the last possible assignment deadline before the run stops waiting (draining). @defaultValue 300 */
  readonly drainGraceSec: number;
}

/** The settings a run uses for what its input leaves out. */
export const DEFAULT_TASK_RUN_SETTINGS: TaskRunSettings = Object.freeze({
  maxConcurrentUnits: 0,
  assignmentDurationSec: 1800,
  drainGraceSec: 300,
});

/** What a taskRun actor is created with. */
export interface TaskRunInput {
  readonly runId: string;
  /** The run's units, in launch order. More can come with `run.addUnits`. */
  readonly unitIds: readonly string[];
  readonly settings?: Partial<TaskRunSettings>;
  /** Retry policy of the units' commands (default {@link DEFAULT_RETRY_POLICY}). */
  readonly retry?: RetryPolicy;
  /**
   * The tables the supervisor keeps its units, pool HITs and arrivals in, empty (default: a new
   * `MapPoolTables`). The runtime passes its own, which stores only the rows that changed.
   */
  readonly tables?: PoolTables;
}

/**
 * The supervisor's view of one unit. `pending` marks what it asked of the unit before seeing the
 * outcome: `launch` (a `unit.launch` in flight), `poolHit` (the unit consumes a pool HIT: it is
 * expiring it, or answering for it, so no worker may be bound to it).
 */
export interface UnitEntry {
  readonly status: AssignmentState;
  readonly pending?: 'launch' | 'poolHit';
}

/** One HIT of the run's pool, bound to a unit only when a worker arrives (docs/mephisto-semantics.md#the-hit-pool). */
export interface HitRecord {
  /** The unit the HIT is bound to, or null while it waits in the pool. */
  readonly unitId: string | null;
  /** The MTurk assignment bound with it (null when unbound, or consumed by an expiry). */
  readonly assignmentId: string | null;
  /** The unit whose launch created it. */
  readonly createdBy: string;
}

/** Why an arriving worker was turned away. */
export const RefusalReason = {
  /** The run is not taking workers now (setting up, expiring, draining, done or failed). */
  runNotAccepting: 'runNotAccepting',
  /** The HIT is not one of this run's. */
  unknownHIT: 'unknownHIT',
  /** The HIT is bound to another assignment (or is being expired). */
  hitTaken: 'hitTaken',
  /** Every launched unit is taken. */
  noFreeUnit: 'noFreeUnit',
  /** The worker arrives again, but the run released the unit this assignment had: the worker should return the HIT. */
  agentReleased: 'agentReleased',
  /**
   * MTurk could not be asked whether the worker holds the assignment, and the HIT is bound to
   * another one: an unconfirmed arrival never displaces a binding (the worker may retry).
   */
  unconfirmed: 'unconfirmed',
} as const;
export type RefusalReason = (typeof RefusalReason)[keyof typeof RefusalReason];

/**
 * The outcome of the latest `worker.arrived` of an agent, readable from the snapshot right after
 * sending it. A refusal after a release keeps the unit and assignment the agent had.
 */
export type Arrival =
  | { readonly unitId: string; readonly hitId: string; readonly assignmentId: string; readonly at: number }
  | {
      readonly refused: RefusalReason;
      readonly hitId: string;
      readonly at: number;
      readonly unitId?: string;
      readonly assignmentId?: string;
    };

/** A refused arrival: kept only until the next arrival (refusals leave nothing in the run's tables). */
export type RefusedArrival = Extract<Arrival, { refused: RefusalReason }> & { readonly agentId: string };

/** The supervisor's memory. Its tables grow with the run: read them with `tablesOf` or the helpers of `inspect.ts`. */
export interface TaskRunContext {
  readonly runId: string;
  readonly settings: TaskRunSettings;
  readonly retry?: RetryPolicy;
  readonly hitTypeId: string | null;
  /** 1-based setup attempt (part of the setUpResources command id). */
  readonly setupAttempt: number;
  /** Why setup failed (state `failed`). */
  readonly failure: { readonly reason: string; readonly at: number } | null;
  /** How many unit groups exist (`group:0` … `group:<n-1>`); the next units go to the last one or new ones. */
  readonly groupsSpawned: number;
  /** Index in the run's unit order of the next unit to consider launching. */
  readonly launchCursor: number;
  /** Units by status. */
  readonly counts: Readonly<Record<AssignmentState, number>>;
  /** `unit.launch` requests whose outcome is not known yet. */
  readonly launchesInFlight: number;
  /**
   * The units in the run's order with the supervisor's view of each, the HIT pool and the bound
   * arrivals (see `task-run-tables.ts`). Not plain data: read it with `tablesOf(context)`.
   */
  readonly tables: PoolTables;
  /**
   * The latest arrival's refusal, if it was refused (absent or null otherwise). One field, not a
   * table entry per refused agent: made-up registrations must not grow the run's state.
   */
  readonly refusal?: RefusedArrival | null;
  /** Launching stopped because a unit's launch failed for good; `run.resumeLaunching` clears it. */
  readonly launchHalt: { readonly unitId: string; readonly reason: string; readonly at: number } | null;
  /** Epoch ms of `run.expire`. */
  readonly expiredAt: number | null;
  /** Epoch ms after which the run stops waiting for assigned units (set by `run.expire`). */
  readonly drainDeadlineAt: number | null;
  /** The last 20 things that should not happen but were handled (unknown HIT, child error...). */
  readonly anomalies: readonly string[];
}

/** Unit events the runtime may address to a unit through the supervisor (`unitId` picks the unit). */
export type UnitAddressedEvent = Extract<
  UnitEvent,
  {
    type:
      | 'launch.succeeded'
      | 'launch.failed'
      | 'expire.succeeded'
      | 'expire.failed'
      | 'reconcile.succeeded'
      | 'reconcile.failed'
      | 'unit.releaseAgent'
      | 'unit.retryReconcile'
      | 'unit.confirmBinding'
      | 'unit.bindingGone'
      | 'unit.submissionRefuted';
  }
> & { readonly unitId: string };

/** Agent events the runtime may address to an agent through the supervisor (`agentId` picks the agent). */
export type AgentAddressedEvent = Exclude<
  AgentEvent,
  {
    type:
      | 'agent.accepted'
      | 'agent.returned'
      | 'agent.expired'
      | 'agent.released'
      | 'assignment.submitted'
      | 'assignment.overruled'
      | 'assignment.notSubmitted'
      | 'submission.confirmed'
      | 'deadline.reached'
      | 'agent.reviewed';
  }
> & { readonly agentId: string };

/** HIT observations, routed by the supervisor to the unit bound to the HIT (or one answering for the pool). */
export type HitObservationEvent = Extract<UnitEvent, { type: 'hit.observed' | 'hit.notFound' | 'hit.lookupFailed' }>;

/** The supervisor's own events. */
export type TaskRunOwnEvent =
  | { readonly type: 'setup.succeeded'; readonly commandId: string; readonly hitTypeId: string; readonly at: number }
  | { readonly type: 'setup.failed'; readonly commandId: string; readonly reason: string; readonly at: number }
  /** Request: try setup again after it failed. */
  | { readonly type: 'run.retrySetup'; readonly at: number }
  /** Request: add units to the run (an assignment generator produced more work). */
  | { readonly type: 'run.addUnits'; readonly unitIds: readonly string[]; readonly at: number }
  /** Request: resume launching after a launch failure halted it. */
  | { readonly type: 'run.resumeLaunching'; readonly at: number }
  /** Request: stop the run: expire what is not assigned, drain what is. */
  | { readonly type: 'run.expire'; readonly at: number }
  /** Fact: a worker opened the task (from the task server). */
  | {
      readonly type: 'worker.arrived';
      readonly hitId: string;
      readonly assignmentId: string;
      readonly workerId: string;
      /**
       * What MTurk said about the assignment before the arrival was sent: `true`, MTurk shows it
       * held (in progress, or submitted by this worker on this HIT), so it takes the HIT from any
       * other binding, even one whose data is stored (MTurk holds one assignment per slot);
       * `false`, MTurk could not be asked, so it binds only a free HIT and never displaces.
       * Absent: not asked; it displaces a binding whose data is not stored.
       */
      readonly confirmed?: boolean;
      readonly at: number;
    }
  /**
   * Fact: the clock passed a deadline: a unit's (with `unitId`), an agent's (with `agentId`) or,
   * with neither, the supervisor's own (the drain deadline). See `nextDeadline()`.
   */
  | { readonly type: 'deadline.reached'; readonly at: number; readonly unitId?: string; readonly agentId?: string };

/** Everything the supervisor receives: its own events, events it routes, its children's reports and lifecycle events. */
export type TaskRunEvent =
  | TaskRunOwnEvent
  | HitObservationEvent
  | UnitAddressedEvent
  | AgentAddressedEvent
  | UnitReport
  | ErrorActorEvent<unknown, string>
  | DoneActorEvent<unknown, string>;
