/**
 * Reading a run's supervisor back: the persistence side of a resume, apart from the host that
 * runs it (`supervisor.ts`). Only the supervisor is read here; units and agents stay in the store
 * and are read one record at a time by the passive cells (`cells.ts`).
 *
 * @module
 */
import { MACHINE_VERSIONS, upgradeSnapshot } from '../../../machines/index.js';
import { BUCKET_NAMES } from '../../../machines/buckets.js';
import {
  SUPERVISOR_BUCKET_FIELDS,
  SUPERVISOR_WHOLE_FIELDS,
  joinSupervisorContext,
  type SupervisorPart,
} from '../../../machines/persistence.js';
import { HitstateError } from '../../errors.js';
import type { RuntimeServices } from '../core/services.js';
import type { StoredRunTree } from './persistence.js';

/** A run's supervisor read back from the store, ready for `createActor`. */
export interface StoredRun {
  /** The supervisor's persisted snapshot, its context whole again, without children. */
  readonly snapshot: Record<string, unknown>;
  /** Actors whose stored snapshot is not what this release writes (an older machine version): written back after the restore. */
  readonly stale: ReadonlySet<string>;
  /** Records of unit groups an older release stored (`run:<id>#group:<n>`): no longer used, deleted after the restore. */
  readonly obsolete: readonly string[];
}

/**
 * Reads a run's supervisor back: its core record and the parts of its context stored apart
 * (`run:<runId>#<field>.<bucket>`, `run:<runId>#unitOrder`), checking its machine version (an
 * older one is upgraded with `upgradeSnapshot`, one that cannot be is refused).
 *
 * @throws HitstateError `HST_ERR_RUN_STATE` when the snapshot was made by a version of its machine this release cannot read.
 */
export function readStoredRun(services: RuntimeServices, runId: string): StoredRun | undefined {
  const { snapshots } = services.store;
  const rootId = `run:${runId}`;
  const root = snapshots.get(rootId);
  if (root === undefined) return undefined;
  const tree = root.snapshot as unknown as StoredRunTree;
  const own = upgradeSnapshot(root.machine, root.machineVersion, tree.supervisor);
  if (own === undefined)
    throw new HitstateError(
      'HST_ERR_RUN_STATE',
      `run ${runId} cannot be resumed: actor ${rootId} was saved by version ${root.machineVersion} of the ${root.machine} machine and this hitstate has version ${MACHINE_VERSIONS.taskRun} and no upgrade from it; finish the run with the hitstate release that started it`,
      { runId },
    );
  const stale = new Set<string>();
  if (root.machineVersion !== MACHINE_VERSIONS.taskRun) stale.add(rootId);
  const parts: SupervisorPart[] = [];
  for (const field of SUPERVISOR_BUCKET_FIELDS)
    for (const bucket of BUCKET_NAMES) {
      const part = snapshots.get(`${rootId}#${field}.${bucket}`);
      if (part !== undefined) parts.push(part.snapshot as unknown as SupervisorPart);
    }
  for (const field of SUPERVISOR_WHOLE_FIELDS) {
    const part = snapshots.get(`${rootId}#${field}`);
    if (part !== undefined) parts.push(part.snapshot as unknown as SupervisorPart);
  }
  const context = joinSupervisorContext(own.context as Record<string, unknown>, parts);
  const obsolete: string[] = [];
  const groups = typeof context.groupsSpawned === 'number' ? context.groupsSpawned : 0;
  for (let g = 0; g < groups; g++)
    if (snapshots.get(`${rootId}#group:${g}`) !== undefined) obsolete.push(`${rootId}#group:${g}`);
  // Groups were the supervisor's only children; the units and agents are read by the cells.
  return { snapshot: { ...own, context, children: {} }, stale, obsolete };
}
