/**
 * The runtime's event bus: a typed `eventemitter3` emitter whose listeners can never hurt the
 * runtime. Facts are past-tense dotted names (`unit.statusChanged`, `money.moved`); a listener
 * that throws (or returns a rejected promise) is reported to `onListenerError` and the other
 * listeners still run, so nothing a listener does reaches an actor.
 *
 * @module
 */
import { EventEmitter } from 'eventemitter3';
import type { AgentState, AssignmentState, Command } from '../../../machines/index.js';
import type { MTurkCallEvent } from '../../mturk/audit.js';
import type { TaskRunStatus } from '../../store/types.js';

/** A unit's status changed. */
export interface UnitStatusChangedEvent {
  readonly runId: string;
  readonly unitId: string;
  readonly status: AssignmentState;
  /** The status before, or null for a unit seen for the first time in this process. */
  readonly previous: AssignmentState | null;
  readonly at: number;
}

/** An agent's status changed. */
export interface AgentStatusChangedEvent {
  readonly runId: string;
  readonly agentId: string;
  readonly unitId: string;
  readonly workerId: string;
  readonly status: AgentState;
  readonly previous: AgentState | null;
  readonly at: number;
}

/** What a money movement was. `createHIT` puts the reward (plus fee) on hold on MTurk. */
export type MoneyKind = 'createHIT' | 'approve' | 'reject' | 'softReject' | 'bonus' | 'compensation';

/** MTurk confirmed a call that moves money (or puts it on hold). Emitted once per confirmation. */
export interface MoneyMovedEvent {
  readonly runId: string;
  readonly kind: MoneyKind;
  /** The money-outbox token of the intent. */
  readonly token: string;
  /** `alreadyDone`: MTurk said it was done before (a replay after a crash, or auto-approval). */
  readonly outcome: 'ok' | 'alreadyDone';
  /** True when the intent had been sent before (a replay). */
  readonly replayed: boolean;
  readonly unitId: string | null;
  readonly agentId: string | null;
  readonly workerId: string | null;
  readonly assignmentId: string | null;
  readonly hitId: string | null;
  readonly amountUsd: string | null;
  readonly at: number;
}

/** A difference between the store and MTurk, found on resume or by a drift check. */
export interface DriftFoundEvent {
  readonly runId: string;
  readonly kind: DriftKind;
  readonly message: string;
  readonly hitId?: string;
  readonly unitId?: string;
  readonly assignmentId?: string;
  readonly workerId?: string;
  /** What hitstate did about it. */
  readonly action: 'adopted' | 'reported' | 'replayed';
}

/** Kinds of drift the runtime recognises. */
export const DriftKind = {
  /** A HIT of the run exists on MTurk but not in the store (created just before a crash). */
  hitMissingInStore: 'hitMissingInStore',
  /** A HIT in the store no longer exists on MTurk. */
  hitMissingOnMTurk: 'hitMissingOnMTurk',
  /** MTurk shows a HIT in another status than the store last recorded. */
  hitStatusDiffers: 'hitStatusDiffers',
  /** An assignment was submitted on MTurk and its data is not in the store. */
  submissionMissing: 'submissionMissing',
  /**
   * MTurk shows another assignment submitted on a HIT than the one a registration bound by
   * displacing it (a forged registration, or the displaced worker finished after all): the unit
   * was given the submission MTurk names.
   */
  bindingOverruled: 'bindingOverruled',
  /** MTurk shows an assignment approved or rejected that the store has not reviewed. */
  reviewDiffers: 'reviewDiffers',
  /** A bonus was paid on MTurk that no intent of the store accounts for, or an intent is unconfirmed. */
  bonusDiffers: 'bonusDiffers',
  /** A money intent was not confirmed when the process stopped. */
  intentUnconfirmed: 'intentUnconfirmed',
  /**
   * A HIT of the run was disposed, or expired before its lifetime, on MTurk while the run was
   * running, by someone else (a cleanup from another store, a person on the requester site): its
   * unit follows (expired).
   */
  hitChangedOutside: 'hitChangedOutside',
} as const;
export type DriftKind = (typeof DriftKind)[keyof typeof DriftKind];

/** Units of a run by status, with what the run is doing. */
export interface RunProgressEvent {
  readonly runId: string;
  readonly status: TaskRunStatus;
  readonly counts: Readonly<Record<AssignmentState, number>>;
  readonly at: number;
  /** At `done`: the HITs disposed and those left on MTurk (awaiting review) with why. */
  readonly disposal?: DisposalReport;
}

/** What became of a run's HITs at the end. */
export interface DisposalReport {
  readonly disposed: readonly string[];
  /** HITs left on MTurk (never live: Reviewable, kept for a review or an override). */
  readonly kept: readonly { readonly hitId: string; readonly reason: string }[];
}

/** The run's supervisor moved to another state. */
export interface RunStatusChangedEvent {
  readonly runId: string;
  readonly status: TaskRunStatus;
  readonly previous: TaskRunStatus | null;
  readonly at: number;
}

/** A command failed (after the gateway's and the runtime's retries); the actor got the failure. */
export interface CommandFailedEvent {
  readonly runId: string;
  readonly command: Command;
  readonly reason: string;
  readonly retryable: boolean;
  readonly at: number;
}

/** An MTurk call from the audit trail, with the run it belongs to when known. */
export type RuntimeMTurkCallEvent = MTurkCallEvent & { readonly runId: string | null };

/** Every event of `runtime.events`, by name. */
export interface RuntimeEvents {
  'unit.statusChanged': [event: UnitStatusChangedEvent];
  'agent.statusChanged': [event: AgentStatusChangedEvent];
  'mturk.call': [event: RuntimeMTurkCallEvent];
  'money.moved': [event: MoneyMovedEvent];
  'drift.found': [event: DriftFoundEvent];
  'run.progress': [event: RunProgressEvent];
  'run.statusChanged': [event: RunStatusChangedEvent];
  'command.failed': [event: CommandFailedEvent];
  /** `close()` started: no new work is taken. */
  closing: [];
  /** `close()` finished: timers stopped, calls finished, store flushed and closed. */
  closed: [];
  /** Something went wrong that no caller awaits (a store write, a projection); the runtime carries on. */
  error: [error: Error];
}

/**
 * The runtime's emitter. `emit` calls every listener in its own `try`, so one failing listener
 * never stops the others nor reaches the code that emitted.
 */
export class RuntimeEventBus extends EventEmitter<RuntimeEvents> {
  readonly #onListenerError: (error: unknown, event: string) => void;

  constructor(onListenerError: (error: unknown, event: string) => void) {
    super();
    this.#onListenerError = onListenerError;
  }

  override emit<E extends keyof RuntimeEvents>(event: E, ...args: RuntimeEvents[E]): boolean {
    const listeners = this.listeners(event) as Array<(...a: unknown[]) => unknown>;
    for (const listener of listeners) {
      try {
        const result = listener.apply(this, args);
        if (result instanceof Promise) result.catch((err: unknown) => this.#onListenerError(err, event));
      } catch (err) {
        this.#onListenerError(err, event);
      }
    }
    return listeners.length > 0;
  }
}

/** The default for listener errors: a process warning naming the event. */
export function warnListenerError(error: unknown, event: string): void {
  const message = error instanceof Error ? error.message : String(error);
  process.emitWarning(`a runtime '${event}' listener threw: ${message}; the runtime carried on`, {
    code: 'HSTWRN_RUNTIME_LISTENER',
  });
}
