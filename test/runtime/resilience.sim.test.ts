// A run on a throttled, faulty MTurk (calls refused, calls done but their answer lost) still
// creates one HIT per unit, pays each bonus once, and ends with nothing live; and a runtime closed
// in the middle of a run resumes it in a new runtime.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseRequesterAnnotation } from '../../src/mturk/annotation.js';
import { createWorld, type World } from '../support/sim-world.js';

const Resilience = suite<{ world: World | undefined }>('runtime resilience');

Resilience.after.each(async (ctx) => {
  await ctx.world?.close();
  ctx.world = undefined;
});

async function completeRun(world: World, units: number): Promise<string> {
  const { runtime } = world;
  const runId = await world.submittedRun(units, { maxMs: 6 * 3_600_000 });
  const approved = await world.drive(runtime.review(runId, { all: true }, { kind: 'approve' }), {
    maxMs: 6 * 3_600_000,
  });
  assert.ok(
    approved!.items.every((i) => i.outcome === 'done' || i.outcome === 'alreadyDone'),
    JSON.stringify(approved!.items),
  );
  for (const agent of runtime.store.agents.ofRun(runId)) {
    const bonus = await world.drive(
      runtime.review(runId, { agentId: agent.id }, { kind: 'bonus', amountUsd: '0.10', reason: 'Thanks' }),
      { maxMs: 6 * 3_600_000 },
    );
    assert.ok(['done', 'alreadyDone'].includes(bonus!.items[0]!.outcome), JSON.stringify(bonus!.items));
  }
  await world.drive(runtime.expireRun(runId), { label: 'done', maxMs: 6 * 3_600_000 });
  await world.drive(() => world.account().hits.every((h) => h.disposed), { label: 'disposed', maxMs: 6 * 3_600_000 });
  return runId;
}

function checkOnce(world: World, runId: string, units: number): void {
  const account = world.account();
  const perUnit = new Map<string, number>();
  for (const hit of account.hits) {
    const unit = parseRequesterAnnotation(hit.requesterAnnotation)?.unitId ?? '?';
    perUnit.set(unit, (perUnit.get(unit) ?? 0) + 1);
  }
  assert.is(perUnit.size, units);
  assert.ok(
    [...perUnit.values()].every((n) => n === 1),
    `one HIT per unit: ${JSON.stringify([...perUnit])}`,
  );
  const bonuses = new Map<string, number>();
  for (const b of account.bonusPayments) bonuses.set(b.assignmentId, (bonuses.get(b.assignmentId) ?? 0) + 1);
  assert.is(bonuses.size, units);
  assert.ok(
    [...bonuses.values()].every((n) => n === 1),
    'one bonus per assignment',
  );
  assert.ok(account.hits.every((h) => h.assignments.every((a) => a.status === 'Approved')));
  assert.is(world.runtime.store.outbox.unconfirmedIntents(runId).length, 0, 'every intent settled');
}

Resilience('when MTurk throttles hard then every call still gets through, in order of priority', async (ctx) => {
  const world = (ctx.world = await createWorld({ seed: 3, sim: { throttle: { ratePerSecond: 1, burst: 2 } } }));
  const runId = await completeRun(world, 6);
  checkOnce(world, runId, 6);
  assert.ok(world.sim.stats().throttled > 0, 'the simulator did throttle');
  assert.equal(
    world.errors.map((e) => e.message),
    [],
  );
});

Resilience('when MTurk faults and drops answers of calls it did then nothing is created or paid twice', async (ctx) => {
  const world = (ctx.world = await createWorld({ seed: 5, sim: { faultRate: 0.25 } }));
  const runId = await completeRun(world, 6);
  checkOnce(world, runId, 6);
  const stats = world.sim.stats();
  assert.ok(stats.faults > 0 && stats.dropped > 0, `faults ${stats.faults}, dropped ${stats.dropped}`);
  assert.equal(
    world.errors.map((e) => e.message),
    [],
  );
});

Resilience('when the runtime closes mid-run then a new runtime resumes the run where it was', async (ctx) => {
  const world = (ctx.world = await createWorld({ seed: 9 }));
  let runtime = world.runtime;
  const { runId } = await runtime.launchRun(world.config({ units: 2 }));
  await world.drive(() => runtime.runInfo(runId).counts.launched === 2, { label: 'launch' });
  const a = world.worker();
  await a.accept(world.hitTypeId(runId));
  await a.register();
  await a.submit({ sentiment: 'negative', comment: 'before restart' });
  const b = world.worker();
  await b.accept(world.hitTypeId(runId));
  await b.register();
  runtime = await world.restart();
  assert.is(runtime.runInfo(runId).loaded, false);
  const [resumed] = await runtime.resume();
  assert.is(resumed!.runId, runId);
  assert.ok(resumed!.restored);
  const drift = await world.drive(resumed!.drift);
  assert.ok(drift, 'the drift check ran');
  assert.is(runtime.unitStatus(b.unitId!), 'assigned', 'the worker still holds the unit after the restart');
  const again = await b.register();
  assert.is(again.status, 200, 'a reload after the restart finds the same agent');
  assert.is(again.json.agentId, b.agentId);
  await b.submit({ sentiment: 'positive', comment: 'after restart' });
  await world.drive(() => runtime.runInfo(runId).counts.completed === 2, { label: 'completed' });
  assert.equal(runtime.store.agents.submission(a.agentId!), { sentiment: 'negative', comment: 'before restart' });
  assert.equal(runtime.store.agents.submission(b.agentId!), { sentiment: 'positive', comment: 'after restart' });
  assert.is(world.account().hits.length, 2, 'no HIT was created again');
  assert.equal(
    world.errors.map((e) => e.message),
    [],
  );
});

Resilience.run();
