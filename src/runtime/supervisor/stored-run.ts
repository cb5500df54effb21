/**
 * Reading a run's stored actors back: the persistence side of a resume, apart from the host that
 * runs the actors (`supervisor.ts`).
 *
 * @module
 */
import { MACHINE_VERSIONS, joinTaskRunSnapshot, upgradeSnapshot, type StoredActor } from '../../../machines/index.js';
import { childSrcOf, joinSupervisorContext, type SupervisorPart } from '../../../machines/persistence.js';
import { HitstateError } from '../../errors.js';
import type { RuntimeServices } from '../core/services.js';
import type { StoredBetween, StoredRunTree } from './persistence.js';

/** A run read back from the store, ready for `createActor`. */
export interface StoredRun {
  /** The whole persisted snapshot (supervisor, groups, units, agents). */
  readonly snapshot: Record<string, unknown>;
  /** Actors whose stored snapshot is not what this release writes (an older machine version): written back after the restore. */
  readonly stale: ReadonlySet<string>;
}

/**
 * Reads a run's stored actors back into one persisted snapshot for `createActor`, checking each
 * machine version: a snapshot of an older version is upgraded (`upgradeSnapshot`), one that cannot
 * be is refused. Actors whose parent is missing (a crash between two shard writes) are left out
 * and reported. The supervisor's context is put back together from its parts (`run:<runId>#…`).
 *
 * @throws HitstateError `HST_ERR_RUN_STATE` when a snapshot was made by a version of its machine this release cannot read.
 */
export function readStoredRun(services: RuntimeServices, runId: string): StoredRun | undefined {
  const rootId = `run:${runId}`;
  const records = services.store.snapshots.ofRun(runId);
  const root = records.find((r) => r.actorId === rootId);
  if (root === undefined) return undefined;
  const stale = new Set<string>();
  const current = (
    machine: string,
    version: number,
    actorId: string,
    snapshot: Record<string, unknown>,
  ): Record<string, unknown> => {
    const upgraded = upgradeSnapshot(machine, version, snapshot);
    if (upgraded === undefined) {
      const expected = (MACHINE_VERSIONS as Record<string, number>)[machine];
      throw new HitstateError(
        'HST_ERR_RUN_STATE',
        `run ${runId} cannot be resumed: actor ${actorId} was saved by version ${version} of the ${machine} machine and this hitstate has version ${expected ?? 'none'} and no upgrade from it; finish the run with the hitstate release that started it`,
        { runId },
      );
    }
    if (version !== (MACHINE_VERSIONS as Record<string, number>)[machine]) stale.add(actorId);
    return upgraded;
  };
  const tree = root.snapshot as unknown as StoredRunTree;
  const actors: Record<string, StoredActor> = {};
  // Groups kept inside the supervisor's record (taskRun version 2) are written back as parts of their own.
  for (const [id, between] of Object.entries(tree.between ?? {})) {
    actors[id] = {
      parentId: between.parentId,
      snapshot: current(between.machine, between.machineVersion, id, between.snapshot),
    };
    stale.add(id);
  }
  const parts: SupervisorPart[] = [];
  for (const record of records) {
    if (record.actorId === rootId) continue;
    if (record.actorId.startsWith(`${rootId}#`)) {
      const key = record.actorId.slice(rootId.length + 1);
      if (childSrcOf(key) === 'group') {
        const between = record.snapshot as unknown as StoredBetween;
        actors[key] = {
          parentId: between.parentId,
          snapshot: current(between.machine, between.machineVersion, key, between.snapshot),
        };
      } else parts.push(record.snapshot as unknown as SupervisorPart);
      continue;
    }
    const stored = record.snapshot as unknown as StoredActor;
    actors[record.actorId] = {
      parentId: stored.parentId,
      snapshot: current(record.machine, record.machineVersion, record.actorId, stored.snapshot),
    };
  }
  const own = current(root.machine, root.machineVersion, rootId, tree.supervisor);
  const supervisor = { ...own, context: joinSupervisorContext(own.context as Record<string, unknown>, parts) };
  // An actor is kept only if its whole chain of parents is (each actor's answer is remembered).
  const known = new Map<string, boolean>();
  const kept = (id: string, seen = new Set<string>()): boolean => {
    const answer = known.get(id);
    if (answer !== undefined) return answer;
    const actor = actors[id];
    let keep: boolean;
    if (actor === undefined || seen.has(id)) keep = false;
    else if (actor.parentId === null) keep = true;
    else {
      seen.add(id);
      keep = kept(actor.parentId, seen);
    }
    known.set(id, keep);
    return keep;
  };
  for (const id of Object.keys(actors)) {
    if (!kept(id)) {
      services.reportError(
        new HitstateError(
          'HST_ERR_RUN_STATE',
          `run ${runId}: the stored actor ${id} names parent ${actors[id]!.parentId}, which was not saved; it is left out of the restored run`,
          { runId },
        ),
      );
      delete actors[id];
    }
  }
  return { snapshot: joinTaskRunSnapshot(supervisor, actors), stale };
}
