// A whole task run against the simulator on a virtual clock: launch, a worker arrives, submits,
// the status sync sees the submission, the work is approved and bonused, the run expires and its
// HITs are disposed.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createWorld, type World } from '../support/sim-world.js';

const Lifecycle = suite<{ world: World }>('runtime lifecycle');

Lifecycle.before.each(async (ctx) => {
  ctx.world = await createWorld({ seed: 7 });
});

Lifecycle.after.each(async (ctx) => {
  await ctx.world.close();
  assert.equal(
    ctx.world.errors.map((e) => e.message),
    [],
  );
});

Lifecycle(
  'when a run completes normally then every unit is accepted, money moved once and nothing is left live',
  async ({ world }) => {
    const { runtime } = world;
    const moved: string[] = [];
    runtime.events.on('money.moved', (e) => moved.push(`${e.kind}:${e.outcome}`));
    const { runId } = await runtime.launchRun(world.config({ units: 2 }));
    await world.drive(() => runtime.runInfo(runId).counts.launched === 2, { label: 'launch' });
    assert.is(runtime.runInfo(runId).status, 'running');
    const account = world.account();
    assert.is(account.hits.length, 2, 'one HIT per unit');

    const workers = [world.worker(), world.worker()];
    for (const [i, w] of workers.entries()) {
      await w.accept(world.hitTypeId(runId));
      const registered = await w.register();
      assert.is(registered.status, 200, JSON.stringify(registered.json));
      assert.is(registered.json.status, 'in task');
      await w.submit({ sentiment: 'positive', comment: `worker ${i}` });
    }
    await world.drive(() => runtime.runInfo(runId).counts.completed === 2, { label: 'completed' });

    const store = runtime.store;
    for (const w of workers)
      assert.equal(store.agents.submission(w.agentId!), {
        sentiment: 'positive',
        comment: `worker ${workers.indexOf(w)}`,
      });

    const approved = await world.drive(runtime.review(runId, { all: true }, { kind: 'approve' }));
    assert.equal(
      approved!.items.map((i) => i.outcome),
      ['done', 'done'],
    );
    const bonus = await world.drive(
      runtime.review(
        runId,
        { agentId: workers[0]!.agentId! },
        { kind: 'bonus', amountUsd: '0.25', reason: 'Great work' },
      ),
    );
    assert.equal(
      bonus!.items.map((i) => i.outcome),
      ['done'],
    );
    const again = await world.drive(
      runtime.review(
        runId,
        { agentId: workers[0]!.agentId! },
        { kind: 'bonus', amountUsd: '0.25', reason: 'Great work' },
      ),
    );
    assert.equal(
      again!.items.map((i) => i.outcome),
      ['alreadyDone'],
      'the same bonus is never paid twice',
    );
    assert.is(runtime.runInfo(runId).counts.accepted, 2);

    await world.drive(runtime.expireRun(runId), { label: 'expire' });
    await world.drive(() => world.account().hits.every((h) => h.disposed), { label: 'disposal' });
    const final = world.account();
    assert.is(final.bonusPayments.length, 1);
    assert.ok(final.hits.every((h) => h.assignments.every((a) => a.status === 'Approved')));
    assert.equal(moved.sort(), ['approve:ok', 'approve:ok', 'bonus:ok', 'createHIT:ok', 'createHIT:ok']);
    assert.is(store.runs.require(runId).status, 'done');
  },
);

Lifecycle.run();
