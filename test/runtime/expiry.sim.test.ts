// Ending a run: unassigned units expire at once, assigned units are waited for up to their
// assignment duration (draining), then finished HITs are disposed and nothing is left live.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createWorld, type World } from '../support/sim-world.js';

const Expiry = suite<{ world: World }>('runtime expiry');

Expiry.before.each(async (ctx) => {
  ctx.world = await createWorld({ seed: 23 });
});

Expiry.after.each(async (ctx) => {
  await ctx.world.close();
});

const live = (world: World) =>
  world.account().hits.filter((h) => h.status === 'Assignable' || h.status === 'Unassignable');

Expiry(
  'when a run expires with an assigned unit then it drains until the worker submits, and disposes every HIT',
  async ({ world }) => {
    const { runtime } = world;
    const { runId } = await runtime.launchRun(world.config({ units: 3, assignmentDurationSec: 900 }));
    await world.drive(() => runtime.runInfo(runId).counts.launched === 3, { label: 'launch' });
    const done = world.worker();
    await done.accept(world.hitTypeId(runId));
    await done.register();
    await done.submit({ sentiment: 'positive', comment: 'done early' });
    const busy = world.worker();
    await busy.accept(world.hitTypeId(runId));
    await busy.register();
    await world.drive(() => runtime.unitStatus(done.unitId!) === 'completed', { label: 'first completed' });

    const expiring = runtime.expireRun(runId);
    await world.drive(() => runtime.runInfo(runId).status === 'draining', { label: 'draining' });
    assert.is(runtime.runInfo(runId).counts.expired, 1, 'the unit nobody took expired');
    assert.equal(
      live(world).map((h) => h.hitId),
      [busy.hitId],
      'only the HIT a worker holds is still open',
    );
    const late = world.worker();
    await assert.not.throws(() => undefined);
    const refused = await late.accept(world.hitTypeId(runId)).then(
      () => null,
      (e: Error) => e,
    );
    assert.ok(refused, 'no new worker can take a HIT');

    await world.advance(120_000);
    await busy.submit({ sentiment: 'neutral', comment: 'finished while draining' });
    await world.drive(expiring, { label: 'done' });
    assert.is(runtime.runInfo(runId).status, 'done');
    assert.is(runtime.unitStatus(busy.unitId!), 'completed');
    assert.equal(runtime.store.agents.submission(busy.agentId!), {
      sentiment: 'neutral',
      comment: 'finished while draining',
    });
    await world.drive(runtime.review(runId, { all: true }, { kind: 'approve' }));
    await world.drive(() => world.account().hits.every((h) => h.disposed), { label: 'disposed' });
    assert.equal(live(world), []);
    assert.equal(
      world.errors.map((e) => e.message),
      [],
    );
  },
);

Expiry(
  'when a worker never finishes then the run stops waiting at the drain deadline and the unit ends expired',
  async ({ world }) => {
    const { runtime } = world;
    const { runId } = await runtime.launchRun(world.config({ units: 1, assignmentDurationSec: 600 }));
    await world.drive(() => runtime.runInfo(runId).counts.launched === 1, { label: 'launch' });
    const w = world.worker();
    await w.accept(world.hitTypeId(runId));
    await w.register();
    const progress: Array<{ disposed: number; kept: number }> = [];
    runtime.events.on('run.progress', (e) => {
      if (e.disposal !== undefined)
        progress.push({ disposed: e.disposal.disposed.length, kept: e.disposal.kept.length });
    });
    await world.drive(runtime.expireRun(runId), { label: 'done', maxMs: 3 * 3_600_000, stepMs: 30_000 });
    assert.is(runtime.unitStatus(w.unitId!), 'expired');
    await world.drive(() => progress.length > 0 && world.account().hits.every((h) => h.disposed), { label: 'swept' });
    assert.equal(progress.at(-1), { disposed: 1, kept: 0 });
    assert.equal(live(world), []);
    assert.equal(
      world.errors.map((e) => e.message),
      [],
    );
  },
);

Expiry(
  'when an unreviewed submission remains at the end then its HIT is kept (never live) and disposed once reviewed',
  async ({ world }) => {
    const { runtime } = world;
    const { runId } = await runtime.launchRun(world.config({ units: 1 }));
    await world.drive(() => runtime.runInfo(runId).counts.launched === 1, { label: 'launch' });
    const w = world.worker();
    await w.accept(world.hitTypeId(runId));
    await w.register();
    await w.submit({ sentiment: 'positive', comment: '' });
    await world.drive(() => runtime.unitStatus(w.unitId!) === 'completed', { label: 'completed' });
    const kept: string[] = [];
    runtime.events.on('run.progress', (e) => kept.push(...(e.disposal?.kept.map((k) => k.reason) ?? [])));
    await world.drive(runtime.expireRun(runId), { label: 'done' });
    await world.drive(() => kept.length > 0, { label: 'sweep report' });
    assert.match(kept[0]!, /awaiting review/);
    assert.equal(live(world), []);
    await world.drive(runtime.review(runId, { agentId: w.agentId! }, { kind: 'softReject', feedback: 'Off-topic' }));
    await world.drive(() => world.account().hits.every((h) => h.disposed), { label: 'disposed after review' });
    assert.is(runtime.unitStatus(w.unitId!), 'soft_rejected');
    assert.equal(
      world.errors.map((e) => e.message),
      [],
    );
  },
);

Expiry.run();
