/**
 * What the store keeps of each actor: the machine versions of stored snapshots and their
 * upgrades, and how a run's persisted snapshot (a tree: supervisor → groups → units → agents) is
 * split into one record per actor and put back together. Storage code, so it lives with the
 * runtime, not in the pure machines/.
 *
 * @module
 */
import {
  AGENT_ACTOR_PREFIX,
  GROUP_ACTOR_PREFIX,
  UNIT_ACTOR_PREFIX,
  type PoolTablesJSON,
} from '../../../machines/index.js';

/**
 * The version of each machine's snapshot format. Bump one when a change makes its old snapshots
 * restore wrongly (a state renamed or removed, a context field added or whose meaning changed); the store
 * keeps `{ machine, machineVersion, snapshot }`; {@link upgradeSnapshot} migrates an older one
 * (add its step to `UPGRADES`), anything else is refused.
 */
export const MACHINE_VERSIONS = Object.freeze({ unit: 3, agent: 2, unitGroup: 1, taskRun: 5 } as const);

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
  // taskRun 3 stored its large context fields apart, one record per bucket (a version 2 snapshot
  // holds them in its context); `readStoredRun` joins them back before upgrading.
  // taskRun 4 keeps its units passive: no unit groups are stored and units have no parent. Its
  // snapshot is unchanged; the bump makes a release that expects groups refuse such a run.
  // taskRun 5 keeps its units, pool HITs and arrivals in `tables` (machines/task-run-tables.ts)
  // instead of bucket maps and `unitOrder`.
  taskRun: { 2: (snapshot) => snapshot, 3: (snapshot) => snapshot, 4: (snapshot) => tablesFromBuckets(snapshot) },
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

/** A map of taskRun 4 and before: entries spread over buckets (`{ b00: { key: value }, … }`). */
type BucketMap<V> = Readonly<Record<string, Readonly<Record<string, V>>>>;

/** Every entry of a bucket map, bucket by bucket in name order (the order taskRun 4 read them in). */
function entriesOfBuckets<V>(map: BucketMap<V> | undefined): Array<[string, V]> {
  const out: Array<[string, V]> = [];
  for (const name of Object.keys(map ?? {}).sort())
    for (const [key, value] of Object.entries(map![name]!)) out.push([key, value]);
  return out;
}

/**
 * taskRun 4 → 5: the bucket maps (`units`, `freeUnits`, `hits`, `arrivals`), `freeUnitCount` and
 * `unitOrder` of the context become `tables` in its JSON form. Which units are free follows from
 * their entries, so `freeUnits` is dropped.
 */
function tablesFromBuckets(snapshot: Record<string, unknown>): Record<string, unknown> {
  const {
    units,
    freeUnits: _free,
    freeUnitCount: _count,
    hits,
    arrivals,
    unitOrder,
    ...rest
  } = snapshot.context as Record<string, unknown>;
  const entries = new Map(entriesOfBuckets(units as BucketMap<PoolTablesJSON['units'][number][1]>));
  const tables: PoolTablesJSON = {
    units: ((unitOrder ?? []) as string[]).map((unitId) => [unitId, entries.get(unitId) ?? { status: 'created' }]),
    hits: entriesOfBuckets(hits as BucketMap<PoolTablesJSON['hits'][number][1]>),
    arrivals: entriesOfBuckets(arrivals as BucketMap<PoolTablesJSON['arrivals'][number][1]>),
  };
  return { ...snapshot, context: { ...rest, tables } };
}

/** Context fields taskRun 3 and 4 stored one record per bucket (`run:<id>#<field>.<bucket>`). */
export const LEGACY_BUCKET_FIELDS = ['units', 'freeUnits', 'hits', 'arrivals'] as const;

/**
 * Puts a taskRun 3 or 4 supervisor context back together from its core and the records of its
 * bucket maps and unit order (`run:<id>#hits.b0a`, `run:<id>#unitOrder`), keyed by what follows
 * the `#`, ready for the upgrade to taskRun 5. A core that still holds its fields (taskRun 2)
 * comes back as it is.
 */
export function joinLegacyContext(
  core: Record<string, unknown>,
  parts: ReadonlyMap<string, Record<string, unknown>>,
): Record<string, unknown> {
  const context: Record<string, unknown> = { ...core };
  for (const field of LEGACY_BUCKET_FIELDS) {
    const map: Record<string, unknown> = { ...(core[field] as Record<string, unknown> | undefined) };
    for (const [key, part] of parts) if (key.startsWith(`${field}.`)) map[key.slice(field.length + 1)] = part.entries;
    context[field] = map;
  }
  const order = parts.get('unitOrder');
  if (order !== undefined) context.unitOrder = order.value;
  return context;
}
