/**
 * Reading a run's supervisor back: the persistence side of a resume, apart from the host that
 * runs it (`supervisor.ts`). Only the supervisor is read here: its core record and the rows of
 * its tables (`run:<id>#unit:<unitId>`, `#hit:<hitId>`, `#arrival:<agentId>`); units and agents
 * stay in the store and are read one record at a time by the passive cells (`cells.ts`).
 *
 * A run stored by taskRun 3 or 4 kept its tables as bucket maps, one record per bucket
 * (`run:<id>#hits.b0a`, `#unitOrder`): they are joined, upgraded to tables, and every row is
 * marked changed, so the first persist stores the rows; the bucket records are then deleted.
 *
 * @module
 */
import type { SnapshotRecord } from '../../store/types.js';
import { HitstateError } from '../../errors.js';
import type { RuntimeServices } from '../core/services.js';
import type { StoredRunTree } from './persistence.js';
import { RuntimePoolTables, parseRowKey, type StoredRow } from './pool-tables.js';
import { MACHINE_VERSIONS, joinLegacyContext, upgradeSnapshot } from './snapshot-layout.js';
import { SYNC_MACHINE } from '../sync/status-sync.js';

/** A supervisor's persisted snapshot as read from the store (plain JSON; a supervisor never stops, so it is active). */
export interface PersistedSupervisor {
  readonly status: 'active';
  readonly output: undefined;
  readonly error: undefined;
  readonly context: Record<string, unknown>;
  readonly [field: string]: unknown;
}

/** A run's supervisor read back from the store, ready for `createActor`. */
export interface StoredRun {
  /** The supervisor's persisted snapshot without children or tables: its tables are {@link StoredRun.tables}. */
  readonly snapshot: PersistedSupervisor;
  /** The supervisor's tables, read from their rows (or migrated from buckets, every row marked changed). */
  readonly tables: RuntimePoolTables;
  /** Actors whose stored snapshot is not what this release writes (an older machine version): written back after the restore. */
  readonly stale: ReadonlySet<string>;
  /** Records an older release stored that this one does not (unit groups, bucket maps): deleted after the restore. */
  readonly obsolete: readonly string[];
}

/**
 * Reads a run's supervisor back: its core record and its table rows, checking its machine version
 * (an older one is upgraded with `upgradeSnapshot`, one that cannot be is refused).
 *
 * @throws HitstateError `HST_ERR_RUN_STATE` when the snapshot was made by a version of its machine this release cannot read.
 */
export function readStoredRun(services: RuntimeServices, runId: string): StoredRun | undefined {
  const { snapshots } = services.store;
  const rootId = `run:${runId}`;
  const root = snapshots.get(rootId);
  if (root === undefined) return undefined;
  const refuse = (record: SnapshotRecord) =>
    new HitstateError(
      'HST_ERR_RUN_STATE',
      `run ${runId} cannot be resumed: actor ${record.actorId} was saved by version ${record.machineVersion} of the ${record.machine} machine and this hitstate has version ${MACHINE_VERSIONS.taskRun} and no upgrade from it; finish the run with the hitstate release that started it`,
      { runId },
    );
  const tree = root.snapshot as unknown as StoredRunTree;
  const rows: StoredRow[] = [];
  const legacy = new Map<string, Record<string, unknown>>();
  const obsolete: string[] = [];
  for (const record of snapshots.partsOf(runId)) {
    // The status sync's own records (its last-sent tracks) live beside the supervisor's: not ours.
    if (record.machine === SYNC_MACHINE) continue;
    const key = record.actorId.slice(rootId.length + 1);
    const row = parseRowKey(key);
    if (row !== undefined) {
      if (record.machineVersion > MACHINE_VERSIONS.taskRun) throw refuse(record);
      rows.push({ ...row, row: record.snapshot } as StoredRow);
      continue;
    }
    // Anything else is an older release's: bucket maps and the unit order to migrate, unit groups to drop.
    if (!key.startsWith('group:')) legacy.set(key, record.snapshot);
    obsolete.push(record.actorId);
  }
  const stale = new Set<string>();
  const version = root.machineVersion;
  if (version < 5 && rows.length > 0)
    throw new HitstateError(
      'HST_ERR_RUN_STATE',
      `run ${runId} cannot be resumed: its supervisor record is of taskRun version ${version} but the store also holds table rows of version 5 or later; the store was written by two releases at once. Restore it from a backup.`,
      { runId },
    );
  const core = tree.supervisor;
  const upgraded = upgradeSnapshot(
    root.machine,
    version,
    version < 5 ? { ...core, context: joinLegacyContext(core.context as Record<string, unknown>, legacy) } : core,
  );
  if (upgraded === undefined) throw refuse(root);
  if (version !== MACHINE_VERSIONS.taskRun) stale.add(rootId);
  const { tables: json, ...context } = upgraded.context as Record<string, unknown>;
  let tables: RuntimePoolTables;
  try {
    tables =
      version < 5
        ? RuntimePoolTables.fromJSON(json as Parameters<typeof RuntimePoolTables.fromJSON>[0])
        : RuntimePoolTables.fromRows(rows);
  } catch (err) {
    throw new HitstateError(
      'HST_ERR_RUN_STATE',
      `run ${runId} cannot be resumed: its supervisor's tables are damaged (${err instanceof Error ? err.message : String(err)}). Restore the store from a backup.`,
      { runId, cause: err },
    );
  }
  // Groups were the supervisor's only children; the units and agents are read by the cells.
  // The store holds what `getPersistedSnapshot` gave: a snapshot, as JSON.
  const snapshot = { ...upgraded, context, children: {} } as unknown as PersistedSupervisor;
  return { snapshot, tables, stale, obsolete };
}
