/**
 * What the store keeps of each actor, and how a supervisor snapshot is split into separately
 * stored children and put back together.
 *
 * @module
 */
import { AGENT_ACTOR_PREFIX, UNIT_ACTOR_PREFIX } from './ids.js';

/**
 * The version of each machine's snapshot format. Bump one when a change makes its old snapshots
 * restore wrongly (a state renamed or removed, a context field whose meaning changed); the store
 * keeps `{ machine, machineVersion, snapshot }` and refuses or migrates a mismatch.
 */
export const MACHINE_VERSIONS = Object.freeze({ unit: 1, agent: 1, taskRun: 1 } as const);

/** What the store keeps for one actor. */
export interface StoredMachineSnapshot {
  readonly machine: keyof typeof MACHINE_VERSIONS;
  readonly machineVersion: number;
  /** `actor.getPersistedSnapshot()` (for the supervisor: without `children`). */
  readonly snapshot: unknown;
}

/** The `src` (setup actor key) of a supervisor's child: `unit` or `agent`. */
export type ChildSrc = 'unit' | 'agent';

/** A persisted child as XState expects it inside its parent's `children`. */
export interface PersistedChild {
  readonly snapshot: unknown;
  readonly src: ChildSrc;
  readonly systemId: string;
  readonly syncSnapshot: false;
}

/** Which kind of child an actor id names (`unit:…` or `agent:…`), or undefined. */
export function childSrcOf(actorId: string): ChildSrc | undefined {
  if (actorId.startsWith(UNIT_ACTOR_PREFIX)) return 'unit';
  if (actorId.startsWith(AGENT_ACTOR_PREFIX)) return 'agent';
  return undefined;
}

/**
 * Splits a persisted supervisor snapshot into the supervisor without children and one persisted
 * snapshot per child, keyed by actor id (`unit:<id>`, `agent:<id>`), so each can be stored apart.
 *
 * @example
 * ```ts
 * const { supervisor, children } = splitTaskRunSnapshot(run.getPersistedSnapshot());
 * ```
 */
export function splitTaskRunSnapshot(persisted: unknown): { supervisor: Record<string, unknown>; children: Record<string, unknown> } {
  const { children = {}, ...supervisor } = persisted as { children?: Record<string, { snapshot: unknown }> } & Record<string, unknown>;
  return { supervisor, children: Object.fromEntries(Object.entries(children).map(([id, child]) => [id, child.snapshot])) };
}

/**
 * Puts a supervisor snapshot and its separately stored children back together for
 * `createActor(taskRunMachine, { snapshot })`. Each child gets `systemId` equal to its id (so
 * `system.get` finds it after restore) and `syncSnapshot: false`. Pass parsed JSON (or a
 * `structuredClone`): XState mutates the snapshot it restores from.
 *
 * @throws Error when a child id is neither `unit:…` nor `agent:…`.
 */
export function joinTaskRunSnapshot(supervisor: Record<string, unknown>, children: Record<string, unknown>): Record<string, unknown> {
  const joined: Record<string, PersistedChild> = {};
  for (const [id, snapshot] of Object.entries(children)) {
    const src = childSrcOf(id);
    if (src === undefined) throw new Error(`joinTaskRunSnapshot: child id "${id}" must start with "${UNIT_ACTOR_PREFIX}" or "${AGENT_ACTOR_PREFIX}"`);
    joined[id] = { snapshot, src, systemId: id, syncSnapshot: false };
  }
  return { ...supervisor, children: joined };
}
