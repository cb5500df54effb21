/**
 * Stable ids of the actors a task run spawns, and the deterministic agent id.
 *
 * Every unit is spawned as `unit:<unitId>` (by its group) and every agent as `agent:<agentId>` (by
 * its unit), with the same string as XState `id` and `systemId`, so `system.get(unitActorId(id))`
 * finds them wherever they sit in the tree, and a restored run keeps the same ids.
 *
 * @module
 */

/** Prefix of a unit actor's id and systemId. */
export const UNIT_ACTOR_PREFIX = 'unit:';
/** Prefix of an agent actor's id and systemId. */
export const AGENT_ACTOR_PREFIX = 'agent:';

/**
 * The actor id (and systemId) of a unit.
 *
 * @example
 * ```ts
 * unitActorId('u-7'); // 'unit:u-7'
 * ```
 */
export function unitActorId(unitId: string): string {
  return `${UNIT_ACTOR_PREFIX}${unitId}`;
}

/** The actor id (and systemId) of an agent. */
export function agentActorId(agentId: string): string {
  return `${AGENT_ACTOR_PREFIX}${agentId}`;
}

/**
 * The agent id of one worker on one MTurk assignment. Deterministic, so a page reload (the same
 * assignment and worker arriving again) finds the agent it already has instead of making a second.
 * It is Mephisto's `agent_registration_id`.
 *
 * @example
 * ```ts
 * agentIdFor('3AS1EXAMPLE', 'A1WORKER'); // '3AS1EXAMPLE-A1WORKER'
 * ```
 */
export function agentIdFor(assignmentId: string, workerId: string): string {
  return `${assignmentId}-${workerId}`;
}
