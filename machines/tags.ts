/**
 * The state groups the runtime asks about, declared once as XState tags on the unit and agent
 * machines' states. The runtime asks `snapshot.hasTag(tag)` of a live actor, or
 * {@link unitHasTag} / {@link agentHasTag} of any snapshot (a stored one included: they read the
 * tags from the machine definition, so a passive actor needs no actor to answer), and never
 * compares substate names itself.
 *
 * @module
 */
import type { AnyStateMachine, AnyStateNode, StateValue } from 'xstate';

/** Tags of the unit machine's states. */
export const UnitTag = {
  /** `created.launching`: launchHIT is pending (or waiting to retry). */
  launching: 'launching',
  /** `assigned.returnTentative`, `assigned.overdue`: confirmHIT asks MTurk whether the worker still holds the HIT. */
  confirming: 'confirming',
  /** `completed.reconcileFailed`: reconciling the submission gave up; `unit.retryReconcile` tries again. */
  reconcileFailed: 'reconcileFailed',
  /** Top-level states that are not incomplete (completed, accepted, rejected, soft_rejected, expired). */
  settled: 'settled',
  /** Final for a unit (accepted, soft_rejected, expired): nothing changes it any more, its HIT can be disposed. */
  final: 'final',
  /** MTurk's news about the unit's HIT changes nothing any more (accepted, rejected, soft_rejected, expired). */
  ignoresHit: 'ignoresHit',
  /**
   * The unit holds the submission MTurk names for its HIT (`completed.awaitingReview`, accepted,
   * rejected, soft_rejected): its agent's work may be paid. Stored data alone is only the worker's word.
   */
  holdsSubmission: 'holdsSubmission',
} as const;
export type UnitTag = (typeof UnitTag)[keyof typeof UnitTag];

/** Tags of the agent machine's states. */
export const AgentTag = {
  /** Nothing submitted and the worker has not left (none, accepted, onboarding, waiting, in task, partner disconnect): a review waits. */
  working: 'working',
  /** On the task (accepted, onboarding, waiting, in task, partner disconnect): the assignment's deadline runs. */
  onTask: 'onTask',
  /** Left without submitting (disconnect, timeout): a late submission still completes the agent. */
  left: 'left',
  /** The worker submitted (completed, approved, rejected, soft_rejected). */
  submitted: 'submitted',
  /** `completed.idle`: submitted and waiting for a review. */
  needsReview: 'needsReview',
  /** A review or bonus command is pending (`approving`, `rejecting`, `softRejecting`, `bonusing`). */
  reviewPending: 'reviewPending',
} as const;
export type AgentTag = (typeof AgentTag)[keyof typeof AgentTag];

/** Every tag, for tests that check each is used by a state. */
export const UNIT_TAGS: readonly UnitTag[] = Object.freeze(Object.values(UnitTag));
export const AGENT_TAGS: readonly AgentTag[] = Object.freeze(Object.values(AgentTag));

/** The tags of the active state nodes of `value` in `machine` (what `snapshot.tags` holds for a live one). */
export function tagsOfValue(machine: AnyStateMachine, value: StateValue): Set<string> {
  const tags = new Set<string>();
  const walk = (node: AnyStateNode, v: StateValue): void => {
    for (const tag of node.tags) tags.add(tag);
    if (typeof v === 'string') {
      const child = node.states[v];
      if (child !== undefined) for (const tag of child.tags) tags.add(tag);
      return;
    }
    for (const [key, sub] of Object.entries(v)) {
      const child = node.states[key];
      if (child !== undefined && sub !== undefined) walk(child, sub);
    }
  };
  walk(machine.root, value);
  return tags;
}

/** Top-level state names of `machine` whose node carries `tag` (for counts kept by status). */
export function statesTagged(machine: AnyStateMachine, tag: string): string[] {
  const root = machine.root;
  return Object.entries(root.states)
    .filter(([, node]) => node.tags.includes(tag))
    .map(([name]) => name);
}
