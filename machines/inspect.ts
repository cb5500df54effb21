/**
 * Pure readers of machine snapshots, for the runtime and the store. They accept a live snapshot
 * (`actor.getSnapshot()`) or a persisted one (`getPersistedSnapshot()`, after a JSON round trip):
 * only `value` and `context` are read.
 *
 * @module
 */
import type { StateValue } from 'xstate';
import { approveCommandOf, bonusCommandOf, rejectCommandOf, softRejectCommandOf } from './agent-commands.js';
import type { AgentContext, ReviewKind } from './agent-types.js';
import type { Command } from './commands.js';
import { AgentState, type AssignmentState } from './states.js';
import { setupCommandOf } from './task-run-setup.js';
import { tablesOf } from './task-run-tables.js';
import type { Arrival, HitRecord, TaskRunContext, UnitEntry } from './task-run-types.js';
import { confirmCommandOf, expireCommandOf, launchCommandOf, reconcileCommandOf } from './unit-commands.js';
import type { UnitGroupContext } from './unit-group.js';
import type { UnitContext } from './unit-types.js';
import { agentMachine } from './agent.js';
import { AgentTag, type UnitTag, statesTagged, tagsOfValue } from './tags.js';
import { unitMachine } from './unit.js';

/** The part of a snapshot these readers use. */
export interface SnapshotLike<TContext> {
  readonly value: StateValue;
  readonly context: TContext;
}

/** Which machine a snapshot belongs to. */
export type MachineName = 'unit' | 'agent' | 'taskRun' | 'unitGroup';

type AnySnapshotLike =
  | SnapshotLike<UnitContext>
  | SnapshotLike<AgentContext>
  | SnapshotLike<TaskRunContext>
  | SnapshotLike<UnitGroupContext>;

/** The top-level state key of a state value. */
function topState(value: StateValue): string {
  return typeof value === 'string' ? value : (Object.keys(value)[0] ?? '');
}

/** The child state key under the top-level state, if any. */
function subState(value: StateValue): string | undefined {
  if (typeof value === 'string') return undefined;
  const child = value[topState(value)];
  return typeof child === 'string' ? child : undefined;
}

/**
 * Which machine made `snapshot`, told by the fields only that machine's context has.
 *
 * @example
 * ```ts
 * machineOf(JSON.parse(stored)); // 'unit'
 * ```
 */
export function machineOf(snapshot: AnySnapshotLike): MachineName {
  const context = snapshot.context as object;
  if ('settings' in context) return 'taskRun';
  if ('bonusQueue' in context) return 'agent';
  if ('groupId' in context) return 'unitGroup';
  return 'unit';
}

/**
 * The AssignmentState of a unit: its top-level state.
 *
 * @example
 * ```ts
 * unitStatusOf(unitActor.getSnapshot()); // 'assigned' (also while assigned.returnTentative)
 * ```
 */
export function unitStatusOf(snapshot: SnapshotLike<UnitContext>): AssignmentState {
  return topState(snapshot.value) as AssignmentState;
}

/**
 * The AgentState of an agent: its top-level state. While a review is pending the agent keeps the
 * status it came from (`completed` while approving); {@link agentPendingReview} tells which.
 */
export function agentStatusOf(snapshot: SnapshotLike<AgentContext>): AgentState {
  return topState(snapshot.value) as AgentState;
}

const PENDING_REVIEW: Record<string, ReviewKind> = {
  approving: 'approve',
  rejecting: 'reject',
  softRejecting: 'softReject',
  bonusing: 'bonus',
};

/** The review whose command the agent waits on, or null. */
export function agentPendingReview(snapshot: SnapshotLike<AgentContext>): ReviewKind | null {
  return PENDING_REVIEW[subState(snapshot.value) ?? ''] ?? null;
}

function unitCommands(snapshot: SnapshotLike<UnitContext>): Command[] {
  const { context } = snapshot;
  if (context.retryAt !== null) return [];
  const at = `${topState(snapshot.value)}.${subState(snapshot.value) ?? ''}`;
  switch (at) {
    case 'created.launching':
      return [launchCommandOf(context)];
    case 'launched.expiring':
    case 'assigned.expiring':
      return [expireCommandOf(context)];
    case 'assigned.returnTentative':
      return [confirmCommandOf(context, 'returnSuspected')];
    case 'assigned.overdue':
      return [confirmCommandOf(context, 'deadlinePassed')];
    case 'completed.reconciling':
      return [reconcileCommandOf(context)];
    default:
      return [];
  }
}

function agentCommands(snapshot: SnapshotLike<AgentContext>): Command[] {
  const { context } = snapshot;
  const fromRejected = topState(snapshot.value) === AgentState.rejected;
  switch (subState(snapshot.value)) {
    case 'approving':
      return [approveCommandOf(context, fromRejected)];
    case 'rejecting':
      return [rejectCommandOf(context)];
    case 'softRejecting':
      return [softRejectCommandOf(context, fromRejected)];
    case 'bonusing':
      return [bonusCommandOf(context)];
    default:
      return [];
  }
}

/**
 * The command(s) a snapshot's actor waits on: the same objects (same `commandId`) its entry action
 * issued. After restoring an actor, issue these again: entry actions do not re-run on restore.
 * A unit waiting to retry (`retryAt` set) waits on its deadline instead, not on a command.
 *
 * @example
 * ```ts
 * for (const command of pendingCommands(restoredUnit.getSnapshot())) outbox.enqueue(command);
 * ```
 */
export function pendingCommands(snapshot: AnySnapshotLike): Command[] {
  switch (machineOf(snapshot)) {
    case 'unitGroup':
      return [];
    case 'taskRun':
      return topState(snapshot.value) === 'settingUp' ? [setupCommandOf(snapshot.context as TaskRunContext)] : [];
    case 'agent':
      return agentCommands(snapshot as SnapshotLike<AgentContext>);
    case 'unit':
      return unitCommands(snapshot as SnapshotLike<UnitContext>);
  }
}

/** A persisted snapshot with its children (as `getPersistedSnapshot()` returns it). */
interface PersistedTree {
  readonly value: StateValue;
  readonly context: TaskRunContext;
  readonly children?: Readonly<Record<string, { readonly snapshot: PersistedTree }>>;
}

/**
 * The pending commands of a persisted run (`run.getPersistedSnapshot()`, or the joined snapshot
 * the runtime restores from): the supervisor's and those of every actor below it.
 */
export function pendingCommandsOfRun(persisted: object): Command[] {
  const commands: Command[] = [];
  const walk = (node: PersistedTree): void => {
    commands.push(...pendingCommands(node));
    for (const child of Object.values(node.children ?? {})) walk(child.snapshot);
  };
  walk(persisted as PersistedTree);
  return commands;
}

const ON_TASK: readonly string[] = statesTagged(agentMachine, AgentTag.onTask);
const UNIT_RETRY_STATES: readonly string[] = [
  'created.launching',
  'launched.expiring',
  'assigned.returnTentative',
  'assigned.expiring',
  'assigned.overdue',
  'completed.reconciling',
];
const UNIT_ASSIGNMENT_DEADLINE_STATES: readonly string[] = ['assigned.working', 'assigned.returnTentative'];

/**
 * The earliest time (epoch ms) at which the actor wants `deadline.reached`, or undefined. Every
 * deadline returned is handled by the current state, so the runtime's timer wheel can send
 * `{ type: 'deadline.reached', at: clock.now() }` (through the supervisor with `unitId` /
 * `agentId`) once the clock passes it, and compute the next one from the new snapshot.
 */
export function nextDeadline(snapshot: AnySnapshotLike): number | undefined {
  const at = `${topState(snapshot.value)}.${subState(snapshot.value) ?? ''}`;
  const candidates: Array<number | null> = [];
  switch (machineOf(snapshot)) {
    case 'unitGroup':
      break;
    case 'taskRun': {
      const context = snapshot.context as TaskRunContext;
      if (['expiring', 'draining'].includes(topState(snapshot.value))) candidates.push(context.drainDeadlineAt);
      break;
    }
    case 'agent': {
      const context = snapshot.context as AgentContext;
      if (ON_TASK.includes(topState(snapshot.value))) candidates.push(context.deadlineAt);
      break;
    }
    case 'unit': {
      const context = snapshot.context as UnitContext;
      if (UNIT_RETRY_STATES.includes(at)) candidates.push(context.retryAt);
      if (UNIT_ASSIGNMENT_DEADLINE_STATES.includes(at)) candidates.push(context.deadlineAt);
      break;
    }
  }
  const times = candidates.filter((t): t is number => t !== null);
  return times.length === 0 ? undefined : Math.min(...times);
}

/** The outcome of a `worker.arrived` for `agentId`: `{ unitId, hitId, at }`, `{ refused, hitId, at }`, or undefined if none was seen. */
export function arrivalOf(snapshot: SnapshotLike<TaskRunContext>, agentId: string): Arrival | undefined {
  const { refusal } = snapshot.context;
  if (refusal != null && refusal.agentId === agentId) {
    const { agentId: _agent, ...refused } = refusal;
    return refused;
  }
  return tablesOf(snapshot.context).arrival(agentId);
}

/** A HIT of the run's pool, or undefined if it is not the run's. */
export function hitOf(snapshot: SnapshotLike<TaskRunContext>, hitId: string): HitRecord | undefined {
  return tablesOf(snapshot.context).hit(hitId);
}

/** Every HIT of the run's pool. */
export function hitsOf(snapshot: SnapshotLike<TaskRunContext>): Array<[hitId: string, record: HitRecord]> {
  return [...tablesOf(snapshot.context).hits()].map(([hitId, record]) => [hitId, record]);
}

/** The supervisor's view of a unit (its status as last reported, and what it asked of it). */
export function unitEntryOf(snapshot: SnapshotLike<TaskRunContext>, unitId: string): UnitEntry | undefined {
  return tablesOf(snapshot.context).unit(unitId);
}

/** The launched units an arriving worker can get now, in the run's order (the first is given first). */
export function freeUnitsOf(snapshot: SnapshotLike<TaskRunContext>): string[] {
  const tables = tablesOf(snapshot.context);
  return [...tables.units()].filter(([unitId]) => tables.isFree(unitId)).map(([unitId]) => unitId);
}

/** The run's units in its order (launch order). */
export function unitOrderOf(snapshot: SnapshotLike<TaskRunContext>): string[] {
  return [...tablesOf(snapshot.context).units()].map(([unitId]) => unitId);
}

/** Units by status, as the supervisor counts them. */
export function unitCountsOf(snapshot: SnapshotLike<TaskRunContext>): Readonly<Record<AssignmentState, number>> {
  return snapshot.context.counts;
}

/**
 * Whether a unit snapshot's state carries `tag`: the same answer as `snapshot.hasTag(tag)` on a
 * live actor, for any snapshot (a stored one too), read from the machine definition.
 *
 * @example
 * ```ts
 * unitHasTag(stored.snapshot, UnitTag.confirming); // true in assigned.returnTentative
 * ```
 */
export function unitHasTag(snapshot: { readonly value: StateValue }, tag: UnitTag): boolean {
  return tagsOfValue(unitMachine, snapshot.value).has(tag);
}

/** Whether an agent snapshot's state carries `tag` (see {@link unitHasTag}). */
export function agentHasTag(snapshot: { readonly value: StateValue }, tag: AgentTag): boolean {
  return tagsOfValue(agentMachine, snapshot.value).has(tag);
}

/** The unit statuses (top-level states) that carry `tag`, e.g. every settled status. */
export function unitStatusesTagged(tag: UnitTag): AssignmentState[] {
  return statesTagged(unitMachine, tag) as AssignmentState[];
}
