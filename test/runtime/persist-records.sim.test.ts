// The store's records follow the actors: a unit's record names its agent and worker as soon as the
// worker arrives (the agent's record is created in the same persist, after the unit's).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createWorld, type World } from '../support/sim-world.js';

const Records = suite<{ world: World; runId: string }>('runtime persistence (store records)');

Records.before.each(async (ctx) => {
  ctx.world = await createWorld({ seed: 12 });
  const { runId } = await ctx.world.runtime.launchRun(ctx.world.config({ units: 3 }));
  ctx.runId = runId;
  await ctx.world.drive(() => ctx.world.runtime.runInfo(runId).counts.launched === 3, { label: 'launch' });
});

Records.after.each(async (ctx) => {
  await ctx.world.close();
  assert.equal(
    ctx.world.errors.map((e) => e.message),
    [],
  );
});

Records(
  'when a worker arrives then the unit record names its agent and worker at once, and a restart leaves the unit records unwritten',
  async ({ world, runId }) => {
    const worker = world.worker();
    await worker.accept(world.hitTypeId(runId));
    const registered = await worker.register();
    assert.is(registered.status, 200, JSON.stringify(registered.json));
    const store = world.runtime.store;
    const agent = store.agents.get(worker.agentId!)!;
    const unit = store.units.get(agent.unitId)!;
    assert.equal([unit.agentId, unit.workerId], [agent.id, agent.workerId]);
    await store.flush();
    await world.restart();
    await world.runtime.resume();
    await world.runtime.whenIdle();
    const after = world.runtime.store;
    const unitWrites = (): number =>
      Object.entries(after.stats().files)
        .filter(([file]) => file.includes('/units-'))
        .reduce((n, [, s]) => n + s.writes, 0);
    await after.flush();
    assert.is(unitWrites(), 0, 'the resume found every unit record as its actor says');
    assert.equal(after.units.get(agent.unitId)!.agentId, agent.id);
  },
);

Records.run();
