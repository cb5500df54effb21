/**
 * What the store keeps of each actor, and how a run's persisted snapshot (a tree: supervisor →
 * groups → units → agents) is split into one record per actor and put back together.
 *
 * @module
 */
import { AGENT_ACTOR_PREFIX, UNIT_ACTOR_PREFIX } from './ids.js';
import { GROUP_ACTOR_PREFIX } from './unit-group.js';

/**
 * The version of each machine's snapshot format. Bump one when a change makes its old snapshots
 * restore wrongly (a state renamed or removed, a context field added or whose meaning changed); the store
 * keeps `{ machine, machineVersion, snapshot }`; {@link upgradeSnapshot} migrates an older one
 * (add its step to `UPGRADES`), anything else is refused.
 */
export const MACHINE_VERSIONS = Object.freeze({ unit: 3, agent: 2, unitGroup: 1, taskRun: 4 } as const);

type Upgrade = (snapshot: Record<string, unknown>) => Record<string, unknown>;

/** For each machine, how a snapshot of version `n` becomes one of version `n + 1`. */
const UPGRADES: { readonly [M in keyof typeof MACHINE_VERSIONS]?: Readonly<Record<number, Upgrade>> } = {
  // unit 3 remembers the assignment a displacing registration replaced; a unit saved before never had one.
  unit: {
    2: (snapshot) => ({
      ...snapshot,
      context: { ...(snapshot.context as Record<string, unknown>), displacedAssignmentId: null },
    }),
  },
  // taskRun 3 stores its large context fields apart ({@link splitSupervisorContext}); a version 2
  // snapshot still holds them in its context, which {@link joinSupervisorContext} keeps as they are.
  // taskRun 4 keeps its units passive: no unit groups are stored and units have no parent. Its
  // snapshot is unchanged; the bump makes a release that expects groups refuse such a run.
  taskRun: { 2: (snapshot) => snapshot, 3: (snapshot) => snapshot },
};

/**
 * Brings an actor's stored snapshot (without children) made by an older version of its machine up
 * to {@link MACHINE_VERSIONS}, one version at a time. Returns undefined when no way up exists (a
 * newer version, an unknown machine, a version too old): the caller refuses the snapshot.
 *
 * @example
 * ```ts
 * const current = upgradeSnapshot('unit', 2, stored.snapshot); // context gains displacedAssignmentId: null
 * ```
 */
export function upgradeSnapshot(
  machine: string,
  version: number,
  snapshot: Record<string, unknown>,
): Record<string, unknown> | undefined {
  if (!Object.hasOwn(MACHINE_VERSIONS, machine)) return undefined;
  const name = machine as keyof typeof MACHINE_VERSIONS;
  if (version > MACHINE_VERSIONS[name]) return undefined;
  let upgraded = snapshot;
  for (let v = version; v < MACHINE_VERSIONS[name]; v++) {
    const step = UPGRADES[name]?.[v];
    if (step === undefined) return undefined;
    upgraded = step(upgraded);
  }
  return upgraded;
}

/** What the store keeps for one actor. */
export interface StoredMachineSnapshot {
  readonly machine: keyof typeof MACHINE_VERSIONS;
  readonly machineVersion: number;
  /** The actor's persisted snapshot without `children` (see {@link splitTaskRunSnapshot}). */
  readonly snapshot: unknown;
}

/** The `src` (setup actor key in the parent) of an actor below the supervisor. */
export type ChildSrc = 'group' | 'unit' | 'agent';

/** A persisted child as XState expects it inside its parent's `children`. */
export interface PersistedChild {
  readonly snapshot: unknown;
  readonly src: ChildSrc;
  readonly systemId: string;
  readonly syncSnapshot: false;
}

/** One actor below the supervisor, stored on its own. */
export interface StoredActor {
  /** The actor id of its parent (`null` for a child of the supervisor). */
  readonly parentId: string | null;
  /** Its persisted snapshot without `children`. */
  readonly snapshot: Record<string, unknown>;
}

/** Which kind of actor an id names (`group:…`, `unit:…` or `agent:…`), or undefined. */
export function childSrcOf(actorId: string): ChildSrc | undefined {
  if (actorId.startsWith(GROUP_ACTOR_PREFIX)) return 'group';
  if (actorId.startsWith(UNIT_ACTOR_PREFIX)) return 'unit';
  if (actorId.startsWith(AGENT_ACTOR_PREFIX)) return 'agent';
  return undefined;
}

type PersistedTree = Record<string, unknown> & { children?: Record<string, { snapshot: PersistedTree }> };

/**
 * Splits a run's persisted snapshot (`run.getPersistedSnapshot()`) into the supervisor without
 * children and one record per actor below it (groups, units, agents), each without children and
 * with its parent's id, keyed by actor id (`group:3`, `unit:<id>`, `agent:<id>`), so each can be
 * stored and rewritten on its own.
 *
 * @example
 * ```ts
 * const { supervisor, actors } = splitTaskRunSnapshot(run.getPersistedSnapshot());
 * store.put('run', supervisor); for (const [id, a] of Object.entries(actors)) store.put(id, a);
 * ```
 */
export function splitTaskRunSnapshot(persisted: unknown): {
  supervisor: Record<string, unknown>;
  actors: Record<string, StoredActor>;
} {
  const actors: Record<string, StoredActor> = {};
  const walk = (node: PersistedTree, parentId: string | null): Record<string, unknown> => {
    const { children = {}, ...own } = node;
    for (const [id, child] of Object.entries(children)) actors[id] = { parentId, snapshot: walk(child.snapshot, id) };
    return own;
  };
  const supervisor = walk(persisted as PersistedTree, null);
  return { supervisor, actors };
}

/**
 * Puts a supervisor snapshot and its separately stored actors back together for
 * `createActor(taskRunMachine, { snapshot })`. Each child gets `systemId` equal to its id (so
 * `system.get` finds it after restore) and `syncSnapshot: false`. Pass parsed JSON (or a
 * `structuredClone`): XState mutates the snapshot it restores from.
 *
 * @throws Error when an actor id is not `group:…`, `unit:…` or `agent:…`, or names a parent that is missing.
 */
export function joinTaskRunSnapshot(
  supervisor: Record<string, unknown>,
  actors: Record<string, StoredActor>,
): Record<string, unknown> {
  const childrenOf = new Map<string | null, Array<[string, StoredActor]>>();
  for (const [id, actor] of Object.entries(actors)) {
    if (childSrcOf(id) === undefined)
      throw new Error(
        `joinTaskRunSnapshot: actor id "${id}" must start with "${GROUP_ACTOR_PREFIX}", "${UNIT_ACTOR_PREFIX}" or "${AGENT_ACTOR_PREFIX}"`,
      );
    if (actor.parentId !== null && !(actor.parentId in actors))
      throw new Error(
        `joinTaskRunSnapshot: actor "${id}" names parent "${actor.parentId}", which is not among the stored actors`,
      );
    const list = childrenOf.get(actor.parentId);
    if (list === undefined) childrenOf.set(actor.parentId, [[id, actor]]);
    else list.push([id, actor]);
  }
  const build = (own: Record<string, unknown>, id: string | null): Record<string, unknown> => {
    const children: Record<string, PersistedChild> = {};
    for (const [childId, child] of childrenOf.get(id) ?? []) {
      children[childId] = {
        snapshot: build(child.snapshot, childId),
        src: childSrcOf(childId)!,
        systemId: childId,
        syncSnapshot: false,
      };
    }
    return { ...own, children };
  };
  return build(supervisor, null);
}

/** Context fields of the supervisor kept as {@link Buckets}: stored one record per bucket. */
export const SUPERVISOR_BUCKET_FIELDS = ['units', 'freeUnits', 'hits', 'arrivals'] as const;
/** Large context fields of the supervisor stored whole in a record of their own. */
export const SUPERVISOR_WHOLE_FIELDS = ['unitOrder'] as const;

type BucketField = (typeof SUPERVISOR_BUCKET_FIELDS)[number];
type WholeField = (typeof SUPERVISOR_WHOLE_FIELDS)[number];

/**
 * One piece of the supervisor's context stored on its own: a bucket of one of its maps, or a
 * large field whole. Plain JSON.
 */
export type SupervisorPart =
  | { readonly field: BucketField; readonly bucket: string; readonly entries: Readonly<Record<string, unknown>> }
  | { readonly field: WholeField; readonly value: unknown };

/** The key a part is stored under, unique within a run: `hits.b0a`, `unitOrder`. */
export function supervisorPartKey(part: SupervisorPart): string {
  return 'bucket' in part ? `${part.field}.${part.bucket}` : part.field;
}

/** The result of {@link splitSupervisorContext}. */
export interface SplitSupervisorContext {
  /** The context without the fields stored apart. */
  readonly core: Record<string, unknown>;
  /** The parts whose object differs from the one in `previous` (all of them without `previous`). */
  readonly changed: readonly SupervisorPart[];
  /** Keys of parts in `previous` that are gone (a bucket removed). */
  readonly removed: readonly string[];
}

/**
 * Splits the supervisor's context into a small core and its large fields, one part per bucket of
 * each map and one per whole field, and tells which parts changed since `previous` (the context
 * last stored) by object identity: the maps are copy-on-write, so an unchanged bucket is the same
 * object. Storing only those makes a persist cost what changed, not the size of the run.
 *
 * @example
 * ```ts
 * const { core, changed } = splitSupervisorContext(snapshot.context, lastStored?.context);
 * ```
 */
export function splitSupervisorContext(
  context: Record<string, unknown>,
  previous?: Record<string, unknown>,
): SplitSupervisorContext {
  const core: Record<string, unknown> = { ...context };
  const changed: SupervisorPart[] = [];
  const removed: string[] = [];
  for (const field of SUPERVISOR_BUCKET_FIELDS) {
    delete core[field];
    const buckets = (context[field] ?? {}) as Record<string, Record<string, unknown>>;
    const before = previous?.[field] as Record<string, Record<string, unknown>> | undefined;
    if (before === buckets) continue;
    for (const [bucket, entries] of Object.entries(buckets)) {
      if (before?.[bucket] !== entries) changed.push({ field, bucket, entries });
    }
    for (const bucket of Object.keys(before ?? {}))
      if (!Object.hasOwn(buckets, bucket)) removed.push(`${field}.${bucket}`);
  }
  for (const field of SUPERVISOR_WHOLE_FIELDS) {
    delete core[field];
    if (previous === undefined || previous[field] !== context[field]) changed.push({ field, value: context[field] });
  }
  return { core, changed, removed };
}

/**
 * Puts a supervisor context back together from its core and its stored parts (see
 * {@link splitSupervisorContext}). A core saved before the split (taskRun version 2) still holds
 * its fields and has no parts: it comes back as it is.
 *
 * @throws Error when a part names a field that is not stored apart.
 */
export function joinSupervisorContext(
  core: Record<string, unknown>,
  parts: Iterable<SupervisorPart>,
): Record<string, unknown> {
  const context: Record<string, unknown> = { ...core };
  const maps = new Map<string, Record<string, unknown>>();
  for (const part of parts) {
    if ('bucket' in part && (SUPERVISOR_BUCKET_FIELDS as readonly string[]).includes(part.field)) {
      let map = maps.get(part.field);
      if (map === undefined)
        maps.set(part.field, (map = { ...(core[part.field] as Record<string, unknown> | undefined) }));
      map[part.bucket] = part.entries;
    } else if (!('bucket' in part) && (SUPERVISOR_WHOLE_FIELDS as readonly string[]).includes(part.field)) {
      context[part.field] = part.value;
    } else {
      throw new Error(
        `joinSupervisorContext: a stored part names field "${String((part as { field?: unknown }).field)}", which the supervisor does not store apart`,
      );
    }
  }
  for (const field of SUPERVISOR_BUCKET_FIELDS) context[field] = maps.get(field) ?? core[field] ?? {};
  return context;
}
