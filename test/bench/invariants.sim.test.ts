// The campaign's invariant checker (bench/chaos/invariants.ts) finds what it claims to: a finished
// run passes, and each promise broken behind the runtime's back (a second HIT for a unit, a second
// bonus, a unit left unfinished) is reported under its own invariant.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { checkInvariants } from '../../bench/chaos/invariants.js';
import { createWorld, type World } from '../support/sim-world.js';

const Invariants = suite<{ world: World | undefined }>('bench invariants', { world: undefined });

Invariants.after.each(async (ctx) => {
  await ctx.world?.close();
  ctx.world = undefined;
});

async function finishedRun(world: World): Promise<string> {
  const { runtime } = world;
  const runId = await world.submittedRun(2);
  await world.drive(runtime.review(runId, { all: true }, { kind: 'approve' }));
  for (const agent of runtime.store.agents.ofRun(runId))
    await world.drive(
      runtime.review(runId, { agentId: agent.id }, { kind: 'bonus', amountUsd: '0.05', reason: 'Thanks' }),
    );
  await world.drive(runtime.expireRun(runId), { label: 'done' });
  await world.drive(() => world.account().hits.every((h) => h.disposed), { label: 'disposed' });
  await runtime.whenIdle();
  return runId;
}

Invariants('when a run finished normally then no invariant is broken', async (ctx) => {
  const world = (ctx.world = await createWorld({ seed: 11 }));
  const runId = await finishedRun(world);
  assert.equal(checkInvariants(world.account(), world.runtime.store, runId), []);
});

Invariants('when a second bonus and a second HIT are made behind the runtime then both are reported', async (ctx) => {
  const world = (ctx.world = await createWorld({ seed: 12 }));
  const runId = await finishedRun(world);
  const gateway = world.runtime.gateway();
  const agent = world.runtime.store.agents.ofRun(runId)[0]!;
  const bonus = await world.drive(
    gateway.sendBonus({
      workerId: agent.workerId,
      assignmentId: agent.assignmentId,
      amountUsd: '0.05',
      reason: 'Again',
      runId,
      unitId: agent.unitId,
      key: 'second',
    }),
  );
  assert.is(bonus!.status, 'ok');
  const hitTypeId = world.hitTypeId(runId).hitTypeId;
  const hit = await world.drive(
    gateway.createHITWithHITType({
      hitTypeId,
      runId,
      unitId: agent.unitId,
      attempt: 7,
      question: { externalUrl: world.taskUrl, frameHeight: 0 },
    }),
  );
  assert.is(hit!.status, 'ok');
  const broken = checkInvariants(world.account(), world.runtime.store, runId)
    .map((v) => v.invariant)
    .sort();
  // The bonus paid behind the runtime's back also leaves the store's money short of the account's.
  assert.equal(broken, ['bonus-once', 'hit-once', 'money-equal', 'nothing-live']);
});

Invariants(
  'when a run is left in the middle then its unfinished units, live HITs and status are reported',
  async (ctx) => {
    const world = (ctx.world = await createWorld({ seed: 13 }));
    const { runtime } = world;
    const { runId } = await runtime.launchRun(world.config({ units: 2 }));
    await world.drive(() => runtime.runInfo(runId).counts.launched === 2, { label: 'launch' });
    await runtime.whenIdle();
    const broken = checkInvariants(world.account(), runtime.store, runId);
    assert.equal([...new Set(broken.map((v) => v.invariant))].sort(), ['nothing-live', 'run-done', 'units-terminal']);
    assert.is(broken.filter((v) => v.invariant === 'units-terminal').length, 2);
  },
);

Invariants.run();
