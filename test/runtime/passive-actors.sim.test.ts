// Units and agents are actors only while they have work (src/runtime/supervisor/cells.ts): a
// unit with nothing pending is its stored snapshot, an event for it materializes it, runs it,
// stores it and lets it go, and a resume materializes none of them unless a command or a
// deadline due soon waits.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { UnitTag, unitHasTag, unitStatusOf } from '../../machines/index.js';
import type { RunHost } from '../../src/runtime/supervisor/supervisor.js';
import { createWorld, type World } from '../support/sim-world.js';

const Passive = suite<{ world: World; runId: string }>('passive actors');

Passive.before.each(async (ctx) => {
  ctx.world = await createWorld({ seed: 23 });
  const { runId } = await ctx.world.runtime.launchRun(ctx.world.config({ units: 8 }));
  ctx.runId = runId;
  await ctx.world.drive(() => ctx.world.runtime.runInfo(runId).counts.launched === 8, { label: 'launch' });
  await ctx.world.runtime.whenIdle();
});

Passive.after.each(async (ctx) => {
  await ctx.world.close();
  assert.equal(
    ctx.world.errors.map((e) => e.message),
    [],
  );
});

const hostOf = (world: World, runId: string): RunHost => {
  const run = world.runtime.loaded(runId);
  if (run === undefined) throw new Error(`run ${runId} is not loaded`);
  return run;
};

Passive('when every unit is launched and waits for a worker then none is an actor', ({ world, runId }) => {
  const run = hostOf(world, runId);
  assert.is(run.cells.liveCount, 0, 'launched units wait passively');
  const units = world.runtime.store.units.ofRun(runId);
  assert.is(units.length, 8);
  for (const record of units) {
    const view = run.unit(record.id);
    assert.ok(view !== undefined, `unit ${record.id} reads from its stored snapshot`);
    assert.is(unitStatusOf(view), 'launched');
    assert.is(record.status, 'launched');
  }
});

Passive(
  'when a worker arrives and submits then the passive unit and its agent are materialized, stored and let go',
  async ({ world, runId }) => {
    const run = hostOf(world, runId);
    const worker = world.worker();
    await worker.accept(world.hitTypeId(runId));
    const registered = await worker.register();
    assert.is(registered.status, 200, JSON.stringify(registered.json));
    await world.runtime.whenIdle();
    const unitId = registered.json.unitId as string;
    // Its agent's deadline is the assignment's duration away (an hour): nothing keeps it in memory.
    assert.is(run.cells.liveCount, 0);
    assert.is(unitStatusOf(run.unit(unitId)!), 'assigned');
    assert.is(run.agent(worker.agentId!)?.context.workerId, worker.workerId);
    assert.equal(run.cells.agentsOf(unitId), [worker.agentId]);
    await worker.submit({ sentiment: 'positive', comment: 'passive' });
    await world.drive(() => world.runtime.runInfo(runId).counts.completed === 1, { label: 'completed' });
    await world.runtime.whenIdle();
    assert.is(run.cells.liveCount, 0);
    const stored = world.runtime.store.snapshots.get(`unit:${unitId}`)!;
    assert.is(unitStatusOf(stored.snapshot.snapshot as never), 'completed', 'the store holds the new state');
    assert.ok(unitHasTag(run.unit(unitId)!, UnitTag.settled));
  },
);

Passive(
  'when the status sync brings news that changes nothing then no unit is materialized nor written',
  async ({ world, runId }) => {
    const run = hostOf(world, runId);
    const worker = world.worker();
    await worker.accept(world.hitTypeId(runId));
    const registered = await worker.register();
    assert.is(registered.status, 200);
    const hit = world.runtime.store.hits.ofUnit(registered.json.unitId as string);
    assert.ok(hit !== undefined);
    await world.drive(world.runtime.syncNow(runId));
    await world.runtime.whenIdle();
    const writes: string[] = [];
    const { snapshots } = world.runtime.store;
    const put = snapshots.put.bind(snapshots);
    snapshots.put = (actorId, input) => {
      writes.push(actorId);
      put(actorId, input);
    };
    let materialized = 0;
    const drain = run.cells.drain.bind(run.cells);
    run.cells.drain = () => {
      drain();
      materialized = Math.max(materialized, run.cells.liveCount);
    };
    let delivered = 0;
    const accept = run.cells.accept.bind(run.cells);
    run.cells.accept = (effects) => {
      delivered += effects.filter((e) => e.kind === 'toUnit').length;
      accept(effects);
    };
    // News of a bound HIT goes to its unit directly (the supervisor's routing would change nothing).
    const sendToUnit = run.cells.sendToUnit.bind(run.cells);
    run.cells.sendToUnit = (unitId, event) => {
      delivered++;
      return sendToUnit(unitId, event);
    };
    // The worker is on it: MTurk shows the HIT Unassignable, which changes nothing (row H2 of docs/mephisto-semantics.md#the-unit-table).
    const at = world.runtime.options.clock.now();
    for (let k = 0; k < 3; k++)
      run.send({ type: 'hit.observed', hitId: hit.id, status: 'Unassignable', available: 0, at });
    await world.runtime.whenIdle();
    assert.is(delivered, 3, 'each sighting was routed to the unit');
    assert.equal(
      writes.filter((id) => id.startsWith('unit:') || id.startsWith('agent:')),
      [],
    );
    assert.is(materialized, 0);
  },
);

Passive('when a run is resumed then no unit becomes an actor until an event reaches it', async ({ world, runId }) => {
  const worker = world.worker();
  await worker.accept(world.hitTypeId(runId));
  const registered = await worker.register();
  assert.is(registered.status, 200, JSON.stringify(registered.json));
  const counts = world.runtime.runInfo(runId).counts;
  await world.restart();
  await world.runtime.resume();
  await world.runtime.whenIdle();
  const run = hostOf(world, runId);
  assert.is(run.cells.liveCount, 0, 'nothing waits on a command: every unit stays passive');
  assert.equal(world.runtime.runInfo(runId).counts, counts);
  assert.is(world.runtime.agentStatus(worker.agentId!), 'in task');
  await worker.submit({ sentiment: 'negative', comment: 'after the resume' });
  await world.drive(() => world.runtime.runInfo(runId).counts.completed === 1, { label: 'completed' });
  await world.runtime.whenIdle();
  assert.is(run.cells.liveCount, 0);
  assert.is(world.runtime.agentStatus(worker.agentId!), 'completed');
});

Passive('when a unit waits on a command then it stays an actor until the result arrives', async ({ world, runId }) => {
  const run = hostOf(world, runId);
  // Expiring the run sends each launched unit expireHIT: while it is pending the unit stays live.
  const live: number[] = [];
  const drain = run.cells.drain.bind(run.cells);
  run.cells.drain = () => {
    drain();
    live.push(run.cells.liveCount);
  };
  await world.drive(world.runtime.expireRun(runId), { label: 'expire' });
  await world.runtime.whenIdle();
  assert.ok(Math.max(...live) > 0, `units waiting on expireHIT were live: ${live.join(', ')}`);
  assert.is(run.cells.liveCount, 0, 'every result arrived: all passive again');
  for (const unit of world.runtime.store.units.ofRun(runId)) assert.is(unit.status, 'expired');
});

/** Records the actor ids whose stored snapshot is read (parsed) through the store. */
function spyReads(world: World): string[] {
  const reads: string[] = [];
  const snapshots = world.runtime.store.snapshots;
  const get = snapshots.get.bind(snapshots);
  snapshots.get = (actorId) => {
    reads.push(actorId);
    return get(actorId);
  };
  return reads;
}

Passive(
  'when a run is resumed then it reads the index and parses no passive unit or agent snapshot',
  async ({ world, runId }) => {
    const worker = world.worker();
    await worker.accept(world.hitTypeId(runId));
    assert.is((await worker.register()).status, 200);
    await world.runtime.whenIdle();
    await world.restart();
    const reads = spyReads(world);
    const [resumed] = await world.runtime.resume();
    assert.ok(resumed?.restored);
    assert.equal(
      reads.filter((id) => id.startsWith('unit:') || id.startsWith('agent:')),
      [],
      'only the supervisor and its parts are parsed',
    );
    const run = hostOf(world, runId);
    const unitId = world.runtime.store.agents.get(worker.agentId!)!.unitId;
    const entry = run.cells.unitIndex(unitId);
    assert.is(entry?.status, 'assigned');
    assert.is(entry?.agentId, worker.agentId);
    assert.is(world.runtime.agentStatus(worker.agentId!), 'in task');
    await resumed.drift;
    await world.runtime.whenIdle();
  },
);

Passive(
  'when a store written before the index is resumed then each record gets its entry once and nothing else changes',
  async ({ world, runId }) => {
    const worker = world.worker();
    await worker.accept(world.hitTypeId(runId));
    assert.is((await worker.register()).status, 200);
    await world.runtime.whenIdle();
    await world.restart();
    // Today's records: `{ parentId, snapshot }` without the index entry.
    const { store } = world.runtime;
    const ids = store.snapshots
      .ofRun(runId)
      .map((r) => r.actorId)
      .filter((id) => id.startsWith('unit:') || id.startsWith('agent:'));
    assert.is(ids.length, 9, 'eight units and one agent');
    for (const id of ids) {
      const record = store.snapshots.get(id)!;
      const { index: _index, ...old } = record.snapshot as Record<string, unknown>;
      store.snapshots.put(id, { machine: record.machine, machineVersion: record.machineVersion, snapshot: old });
      assert.is(store.snapshots.indexEntry(id), undefined);
    }
    await store.flush();
    const counts = world.runtime.runInfo(runId).counts;
    await world.runtime.resume();
    await world.runtime.whenIdle();
    for (const id of ids) assert.ok(store.snapshots.indexEntry(id) !== undefined, `${id} has its index entry`);
    assert.equal(world.runtime.runInfo(runId).counts, counts);
    await world.restart();
    const reads = spyReads(world);
    await world.runtime.resume();
    assert.equal(
      reads.filter((id) => id.startsWith('unit:') || id.startsWith('agent:')),
      [],
      'built once: the next resume reads the index only',
    );
    await world.runtime.whenIdle();
    assert.is(world.runtime.agentStatus(worker.agentId!), 'in task');
  },
);

Passive.run();
