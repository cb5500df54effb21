/**
 * Mephisto's status vocabulary, declared once and shared by the machines, the store and the
 * runtime: AssignmentState (the status of a unit) and AgentState (the status of an agent), with
 * Mephisto's groupings as immutable data.
 *
 * @module
 */

/** Status of a unit, as in Mephisto's AssignmentState (`mixed` is only for assignments, never units). */
export const AssignmentState = {
  created: 'created',
  launched: 'launched',
  assigned: 'assigned',
  completed: 'completed',
  accepted: 'accepted',
  rejected: 'rejected',
  softRejected: 'soft_rejected',
  expired: 'expired',
} as const;
export type AssignmentState = (typeof AssignmentState)[keyof typeof AssignmentState];

/** Every status a unit can hold, in lifecycle order. */
export const UNIT_STATES: readonly AssignmentState[] = Object.freeze(Object.values(AssignmentState));

/** Mephisto's AssignmentState groupings (`valid_unit`, `incomplete`, `payable`, ...). */
export const UnitStateGroups = Object.freeze({
  /** The run is not done while a unit holds one of these. */
  incomplete: Object.freeze(['created', 'launched', 'assigned'] as const),
  /** Launched and not reviewed or expired yet: its reward (and fee) is held against the run's budget. */
  rewardHeld: Object.freeze(['launched', 'assigned', 'completed'] as const),
  /** Counted as spent budget. */
  payable: Object.freeze(['launched', 'assigned', 'completed', 'accepted', 'soft_rejected'] as const),
  /** Terminal for a unit: nothing changes it any more (`rejected` is not: an override can approve it). */
  finalUnit: Object.freeze(['accepted', 'expired', 'soft_rejected'] as const),
  /** Completed by someone (used for per-worker limits). */
  completed: Object.freeze(['completed', 'accepted', 'rejected', 'soft_rejected'] as const),
  /** Terminal with respect to agent changes. */
  finalAgent: Object.freeze(['completed', 'accepted', 'rejected', 'soft_rejected', 'expired'] as const),
  /** Reviewed. */
  reviewed: Object.freeze(['accepted', 'rejected', 'soft_rejected'] as const),
});

/** Status of an agent (one worker on one unit), as in Mephisto's AgentState. Note the spaces. */
export const AgentState = {
  none: 'none',
  accepted: 'accepted',
  onboarding: 'onboarding',
  waiting: 'waiting',
  inTask: 'in task',
  completed: 'completed',
  disconnect: 'disconnect',
  timeout: 'timeout',
  partnerDisconnect: 'partner disconnect',
  expired: 'expired',
  returned: 'returned',
  approved: 'approved',
  softRejected: 'soft_rejected',
  rejected: 'rejected',
} as const;
export type AgentState = (typeof AgentState)[keyof typeof AgentState];

/** Every status an agent can hold. */
export const AGENT_STATES: readonly AgentState[] = Object.freeze(Object.values(AgentState));

/** Mephisto's AgentState groupings. */
export const AgentStateGroups = Object.freeze({
  /** Final: will not be updated by the worker pool. */
  complete: Object.freeze([
    'completed',
    'disconnect',
    'timeout',
    'expired',
    'returned',
    'soft_rejected',
    'approved',
    'rejected',
  ] as const),
  /** Cannot change under normal operation (note: not `completed`, not `rejected`). */
  immutable: Object.freeze(['disconnect', 'timeout', 'expired', 'returned', 'soft_rejected', 'approved'] as const),
});

/**
 * The taskRun supervisor's top-level states, in lifecycle order: the status of a run once its
 * supervisor started (the store adds `created` for before that).
 */
export const TaskRunState = {
  settingUp: 'settingUp',
  launching: 'launching',
  running: 'running',
  expiring: 'expiring',
  draining: 'draining',
  done: 'done',
  failed: 'failed',
} as const;
export type TaskRunState = (typeof TaskRunState)[keyof typeof TaskRunState];

/** MTurk's HITStatus values, as the unit machine observes them. */
export const HITStatus = {
  Assignable: 'Assignable',
  Unassignable: 'Unassignable',
  Reviewable: 'Reviewable',
  Reviewing: 'Reviewing',
  Disposed: 'Disposed',
} as const;
export type HITStatus = (typeof HITStatus)[keyof typeof HITStatus];
