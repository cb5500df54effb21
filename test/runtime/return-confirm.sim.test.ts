// A worker's return is detected within one poll period: the cycle that sees the HIT Assignable
// again raises the suspicion, and the answer of the confirmHIT (GetHIT) it issues confirms it, even
// in the same millisecond on a virtual clock. When that GetHIT cannot be made, the next cycle's
// unchanged sighting confirms it instead.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { RequesterCallDecision } from '../../src/simulator/index.js';
import { createWorld, type World } from '../support/sim-world.js';

interface Ctx {
  world: World;
  dropGetHIT: boolean;
  getHITCalls: number;
}

const Return = suite<Ctx>('runtime return confirmation');

Return.before.each(async (ctx) => {
  ctx.dropGetHIT = false;
  ctx.getHITCalls = 0;
  ctx.world = await createWorld({
    seed: 23,
    sim: {
      onRequesterCall: (call): RequesterCallDecision => {
        if (call.operation !== 'GetHIT') return undefined;
        ctx.getHITCalls++;
        return ctx.dropGetHIT ? 'drop' : undefined;
      },
    },
  });
});

Return.after.each(async (ctx) => {
  await ctx.world.close();
});

async function assignedWorker(world: World) {
  const { runtime } = world;
  const { runId } = await runtime.launchRun(world.config({ units: 1 }));
  await world.drive(() => runtime.runInfo(runId).counts.launched === 1, { label: 'launch' });
  const w = world.worker();
  await w.accept(world.hitTypeId(runId));
  assert.is((await w.register()).status, 200);
  assert.is(runtime.unitStatus(w.unitId!), 'assigned');
  // Let the sync see the HIT taken, so the return is the only news.
  await world.drive(runtime.syncNow(runId));
  return { runId, w };
}

Return(
  'when a worker returns the HIT then one sync cycle and its confirmHIT put the unit back in the pool',
  async (ctx) => {
    const { world } = ctx;
    const { runtime } = world;
    const { runId, w } = await assignedWorker(world);
    await w.returnHIT();
    const before = ctx.getHITCalls;
    const report = await world.drive(runtime.syncNow(runId));
    assert.is(report!.observed, 1);
    await world.drive(() => runtime.unitStatus(w.unitId!) === 'launched', { label: 'return confirmed', maxMs: 1 });
    assert.is(ctx.getHITCalls - before, 1, 'one GetHIT, the confirmHIT');
    assert.is(runtime.agentStatus(w.agentId!), 'returned');
    assert.equal(
      world.errors.map((e) => e.message),
      [],
    );
  },
);

Return(
  'when the confirmHIT cannot reach MTurk then the next cycle’s unchanged Assignable sighting confirms the return',
  async (ctx) => {
    const { world } = ctx;
    const { runtime } = world;
    const { runId, w } = await assignedWorker(world);
    await w.returnHIT();
    ctx.dropGetHIT = true;
    await world.drive(runtime.syncNow(runId));
    assert.ok(ctx.getHITCalls > 0, 'the confirmHIT was tried');
    assert.is(runtime.unitStatus(w.unitId!), 'assigned', 'without a confirmation the return stays tentative');
    await world.advance(1_000);
    const second = await world.drive(runtime.syncNow(runId));
    assert.is(second!.observed, 1, 'the unchanged sighting is sent again to the waiting unit');
    await world.drive(() => runtime.unitStatus(w.unitId!) === 'launched', { label: 'return confirmed', maxMs: 1 });
    assert.is(runtime.agentStatus(w.agentId!), 'returned');
    const quiet = await world.drive(runtime.syncNow(runId));
    assert.is(quiet!.observed, 0, 'once the unit is back in the pool nothing is sent again');
  },
);

Return.run();
