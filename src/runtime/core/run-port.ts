/**
 * What the parts of a run (command executor, status sync, task-server backend, reviews) need from
 * the run that hosts them. `RunHost` (`supervisor.ts`) implements it.
 *
 * @module
 */
import type { StateValue } from 'xstate';
import type { AgentContext, HITStatus, TaskRunContext, TaskRunEvent, UnitContext } from '../../../machines/index.js';
import type { ResolvedTaskRunConfig } from '../../config/task-run.js';
import type { MTurkGateway } from '../../mturk/gateway.js';
import type { TaskRunStatus } from '../../store/types.js';
import type { RuntimeServices } from './services.js';
import type { UnitIndexEntry } from '../supervisor/cells.js';

/** A live actor's snapshot as the runtime reads it. */
export interface ActorView<C> {
  readonly value: StateValue;
  readonly context: C;
  readonly status: string;
}

/** One run as its parts see it. */
export interface RunPort {
  readonly runId: string;
  readonly requesterName: string;
  readonly config: ResolvedTaskRunConfig;
  readonly gateway: MTurkGateway;
  readonly services: RuntimeServices;
  /** Sends an event to the supervisor (it routes it). Dropped once the run is closed. */
  send(event: TaskRunEvent): void;
  /** Puts every changed actor into the store now. */
  persistNow(): void;
  /** The supervisor's state name. */
  status(): TaskRunStatus;
  supervisor(): ActorView<TaskRunContext>;
  unit(unitId: string): ActorView<UnitContext> | undefined;
  /** A unit's index entry (state, tags, deadlines), read without parsing a passive unit's snapshot. */
  unitIndex(unitId: string): UnitIndexEntry | undefined;
  agent(agentId: string): ActorView<AgentContext> | undefined;
  /** The ExternalQuestion URL of the run's HITs. */
  taskUrl(): string;
  /** Tells the status sync what a per-HIT call just saw, so it does not send it again. */
  noteObservation(hitId: string, status: HITStatus, available: number, completed: number): void;
  /** Called after each status-sync cycle (disposal retries what MTurk refused before). */
  afterSync(): void;
}
