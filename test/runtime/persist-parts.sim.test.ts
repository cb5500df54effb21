// The supervisor is stored as its core plus one record per bucket of its large maps (and per unit
// group), written only when that bucket changed; a resume writes back nothing it just read.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { MACHINE_VERSIONS, joinSupervisorContext, type SupervisorPart } from '../../machines/persistence.js';
import { createWorld, type World } from '../support/sim-world.js';

const Parts = suite<{ world: World; runId: string }>('runtime persistence (supervisor parts)');

const LARGE_FIELDS = ['units', 'freeUnits', 'hits', 'arrivals', 'unitOrder'];

Parts.before.each(async (ctx) => {
  ctx.world = await createWorld({ seed: 11 });
  const { runId } = await ctx.world.runtime.launchRun(ctx.world.config({ units: 12 }));
  ctx.runId = runId;
  await ctx.world.drive(() => ctx.world.runtime.runInfo(runId).counts.launched === 12, { label: 'launch' });
});

Parts.after.each(async (ctx) => {
  await ctx.world.close();
  assert.equal(
    ctx.world.errors.map((e) => e.message),
    [],
  );
});

/** Records every `snapshots.put` and `snapshots.delete` of the current runtime's store by actor id. */
function spyWrites(world: World): string[] {
  const writes: string[] = [];
  const snapshots = world.runtime.store.snapshots;
  const put = snapshots.put.bind(snapshots);
  const remove = snapshots.delete.bind(snapshots);
  snapshots.put = (actorId, input) => {
    writes.push(actorId);
    put(actorId, input);
  };
  snapshots.delete = (actorId) => {
    writes.push(`-${actorId}`);
    return remove(actorId);
  };
  return writes;
}

const partIdsOf = (world: World, runId: string): string[] =>
  world.runtime.store.snapshots
    .ofRun(runId)
    .map((r) => r.actorId)
    .filter((id) => id.startsWith(`run:${runId}#`));

Parts(
  'when a run is persisted then the supervisor record holds none of the large fields, which are parts of their own',
  ({ world, runId }) => {
    const root = world.runtime.store.snapshots.get(`run:${runId}`)!;
    assert.is(root.machineVersion, MACHINE_VERSIONS.taskRun);
    const context = (root.snapshot.supervisor as { context: Record<string, unknown> }).context;
    assert.equal(
      LARGE_FIELDS.filter((f) => f in context),
      [],
    );
    assert.ok(typeof context.counts === 'object', 'the small fields stay in the core');
    const parts = partIdsOf(world, runId);
    assert.ok(parts.includes(`run:${runId}#unitOrder`));
    assert.not.ok(parts.includes(`run:${runId}#group:0`), 'units are passive: no unit groups are stored');
    assert.ok(
      parts.some((id) => id.startsWith(`run:${runId}#hits.b`)),
      JSON.stringify(parts),
    );
    assert.ok(parts.some((id) => id.startsWith(`run:${runId}#units.b`)));
  },
);

Parts(
  'when one worker arrives then only the buckets that changed are written, not the whole pool',
  async ({ world, runId }) => {
    const before = partIdsOf(world, runId).length;
    const writes = spyWrites(world);
    const worker = world.worker();
    await worker.accept(world.hitTypeId(runId));
    const registered = await worker.register();
    assert.is(registered.status, 200, JSON.stringify(registered.json));
    const partWrites = writes.filter((id) => id.startsWith(`run:${runId}#`));
    assert.ok(partWrites.length > 0, 'the arrival changed the pool');
    assert.ok(
      partWrites.length < before / 2,
      `${partWrites.length} of ${before} parts written: ${partWrites.join(', ')}`,
    );
    assert.not.ok(partWrites.includes(`run:${runId}#unitOrder`), 'the unit order did not change');
    assert.not.ok(partWrites.includes(`run:${runId}#group:0`), 'the unit group did not change');
    assert.ok(
      partWrites.some((id) => id.startsWith(`run:${runId}#arrivals.b`)),
      'the arrival is stored',
    );
  },
);

Parts(
  'when the process restarts then the run comes back whole: the arrival, the pool and the unit table',
  async ({ world, runId }) => {
    const worker = world.worker();
    await worker.accept(world.hitTypeId(runId));
    const first = await worker.register();
    assert.is(first.status, 200, JSON.stringify(first.json));
    const counts = world.runtime.runInfo(runId).counts;
    await world.restart();
    await world.runtime.resume();
    assert.equal(world.runtime.runInfo(runId).counts, counts);
    const again = await worker.register();
    assert.is(again.status, 200, JSON.stringify(again.json));
    assert.is(again.json.unitId, first.json.unitId, 'the same arrival, restored from its bucket');
    await worker.submit({ sentiment: 'positive', comment: 'after the restart' });
    await world.drive(() => world.runtime.runInfo(runId).counts.completed === 1, { label: 'completed' });
    assert.equal(world.runtime.store.agents.submission(worker.agentId!), {
      sentiment: 'positive',
      comment: 'after the restart',
    });
  },
);

Parts('when a run is resumed then no restored actor is written back unless it changed', async ({ world, runId }) => {
  await world.runtime.close();
  await world.adopt(await world.openRuntime());
  const stored = world.runtime.store.snapshots.ofRun(runId).length;
  const writes = spyWrites(world);
  await world.runtime.resume();
  await world.runtime.whenIdle();
  const unitsAndAgents = writes.filter((id) => id.startsWith('unit:') || id.startsWith('agent:'));
  assert.equal(unitsAndAgents, [], 'nothing of the units changed');
  assert.ok(writes.length < stored / 4, `${writes.length} writes for ${stored} stored records: ${writes.join(', ')}`);
});

Parts(
  'when a run saved by taskRun version 2 (one record) is resumed then it is restored and rewritten as parts',
  async ({ world, runId }) => {
    const counts = world.runtime.runInfo(runId).counts;
    await world.runtime.close();
    await world.adopt(await world.openRuntime());
    const { snapshots } = world.runtime.store;
    const root = snapshots.get(`run:${runId}`)!;
    const core = root.snapshot.supervisor as { context: Record<string, unknown> };
    const between: Record<string, unknown> = {};
    const parts: SupervisorPart[] = [];
    for (const record of snapshots.ofRun(runId)) {
      if (!record.actorId.startsWith(`run:${runId}#`)) continue;
      const key = record.actorId.slice(`run:${runId}#`.length);
      if (key.startsWith('group:')) between[key] = record.snapshot;
      else parts.push(record.snapshot as unknown as SupervisorPart);
      snapshots.delete(record.actorId);
    }
    const context = joinSupervisorContext(core.context, parts);
    snapshots.put(`run:${runId}`, {
      machine: 'taskRun',
      machineVersion: 2,
      snapshot: { supervisor: { ...core, context }, between },
    });
    await world.runtime.close();
    await world.adopt(await world.openRuntime());
    await world.runtime.resume();
    await world.runtime.whenIdle();
    assert.equal(world.runtime.runInfo(runId).counts, counts);
    assert.is(world.runtime.store.snapshots.get(`run:${runId}`)!.machineVersion, MACHINE_VERSIONS.taskRun);
    const rewritten = partIdsOf(world, runId);
    assert.ok(
      !rewritten.includes(`run:${runId}#group:0`) && rewritten.includes(`run:${runId}#unitOrder`),
      rewritten.join(', '),
    );
    const worker = world.worker();
    await worker.accept(world.hitTypeId(runId));
    assert.is((await worker.register()).status, 200, 'the restored pool takes a worker');
  },
);

Parts.run();
