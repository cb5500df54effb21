/**
 * hitstate's state machines (`hitstate/machines`): the unit, agent and taskRun XState v5
 * machines, their event, context, input and snapshot types, the commands they ask the runtime to
 * perform, and pure helpers over their snapshots. Nothing here performs I/O; the protocol is
 * described in docs/machines.md.
 *
 * @module
 */
import type { SnapshotFrom } from 'xstate';
import type { agentMachine } from './agent.js';
import type { taskRunMachine } from './task-run.js';
import type { unitMachine } from './unit.js';

export { unitMachine } from './unit.js';
export { agentMachine } from './agent.js';
export { taskRunMachine } from './task-run.js';
export { setupCommandOf, supervisedGroupMachine } from './task-run-setup.js';
export {
  GROUP_ACTOR_PREFIX,
  UNIT_GROUP_SIZE,
  groupActorIdOf,
  groupedUnitMachine,
  unitGroupMachine,
  type UnitGroupContext,
  type UnitGroupEvent,
  type UnitGroupInput,
} from './unit-group.js';
export { unitAgentMachine } from './unit-setup.js';
export { withCommandHandler, type CommandHandler } from './provide.js';

export type { UnitContext, UnitEvent, UnitInput, UnitReport, UnitStatus, ReviewedStatus } from './unit-types.js';
export type {
  AgentContext,
  AgentEvent,
  AgentInput,
  AgentReport,
  AgentStatus,
  ReviewFailure,
  ReviewKind,
  ReviewRequest,
} from './agent-types.js';
export {
  DEFAULT_TASK_RUN_SETTINGS,
  RefusalReason,
  type AgentAddressedEvent,
  type Arrival,
  type HitObservationEvent,
  type HitRecord,
  type TaskRunContext,
  type TaskRunEvent,
  type TaskRunInput,
  type TaskRunOwnEvent,
  type TaskRunSettings,
  type UnitAddressedEvent,
  type UnitEntry,
} from './task-run-types.js';
export {
  CommandKind,
  DEFAULT_RETRY_POLICY,
  retryDelayMs,
  type AgentCommand,
  type ApproveAssignmentCommand,
  type Command,
  type CommandFailure,
  type ConfirmHITCommand,
  type ExpireHITCommand,
  type LaunchHITCommand,
  type ReconcileSubmissionCommand,
  type RejectAssignmentCommand,
  type RetryPolicy,
  type SendBonusCommand,
  type SetUpResourcesCommand,
  type SoftRejectAssignmentCommand,
  type TaskRunCommand,
  type UnitCommand,
} from './commands.js';
export { classifyObservation } from './unit-commands.js';
export { AGENT_ACTOR_PREFIX, UNIT_ACTOR_PREFIX, agentActorId, agentIdFor, unitActorId } from './ids.js';
export { AGENT_TAGS, AgentTag, UNIT_TAGS, UnitTag } from './tags.js';
export {
  agentHasTag,
  agentPendingReview,
  agentStatusOf,
  arrivalOf,
  freeUnitsOf,
  hitOf,
  hitsOf,
  machineOf,
  nextDeadline,
  pendingCommands,
  pendingCommandsOfRun,
  unitCountsOf,
  unitEntryOf,
  unitHasTag,
  unitOrderOf,
  unitStatusOf,
  unitStatusesTagged,
  type MachineName,
  type SnapshotLike,
} from './inspect.js';
export { MapPoolTables, tablesOf, type PoolTables, type PoolTablesJSON } from './task-run-tables.js';
export {
  machineStates,
  machineTransitions,
  toJSONDefinition,
  toMermaid,
  toStateTable,
  type MachineStateNode,
  type MachineTransition,
} from './export.js';
export * from './states.js';

/** A live snapshot of a unit actor. */
export type UnitSnapshot = SnapshotFrom<typeof unitMachine>;
/** A live snapshot of an agent actor. */
export type AgentSnapshot = SnapshotFrom<typeof agentMachine>;
/** A live snapshot of a taskRun actor. */
export type TaskRunSnapshot = SnapshotFrom<typeof taskRunMachine>;

/** The three machines by name (for the viz command, the store and tests). */
export { MACHINES } from './registry.js';
