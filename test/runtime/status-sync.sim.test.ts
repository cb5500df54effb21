// The batched status sync: pages of 100 over the run's HITs, observations only on change, per-HIT
// calls bounded, the reviewable listing when returns can no longer happen, the adaptive interval,
// and the run's limit of concurrent units.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createWorld, type World } from '../support/sim-world.js';

const Sync = suite<{ world: World }>('runtime status sync');

Sync.before.each(async (ctx) => {
  ctx.world = await createWorld({ seed: 41, runtime: { governor: { ratePerSecond: 50, burst: 100 } } });
});

Sync.after.each(async (ctx) => {
  await ctx.world.close();
});

/** The cycle's own calls: each completed unit's one ListAssignmentsForHIT (whose submission it is) is the unit's, not the cycle's. */
const requesterCalls = (world: World): number =>
  Object.entries(world.sim.stats().calls)
    .filter(([operation]) => operation !== 'ListAssignmentsForHIT')
    .reduce((a, [, n]) => a + n, 0);

Sync(
  'when 250 units are live then a cycle costs ceil(250 / 100) list pages plus at most 2 per-HIT calls, and sends only changes',
  async ({ world }) => {
    const { runtime } = world;
    const { runId } = await runtime.launchRun(world.config({ units: 250 }));
    await world.drive(() => runtime.runInfo(runId).counts.launched === 250, { label: 'launch', maxMs: 3_600_000 });
    const workers = [];
    for (let i = 0; i < 20; i++) {
      const w = world.worker();
      await w.accept(world.hitTypeId(runId));
      await w.register();
      workers.push(w);
    }
    for (const w of workers.slice(0, 5)) await w.submit({ sentiment: 'positive', comment: '' });
    await world.drive(() => runtime.runInfo(runId).counts.completed === 5, { label: 'completed' });
    world.sim.resetStats();
    const quiet = await world.drive(runtime.syncNow(runId));
    assert.is(quiet!.listing, 'full');
    assert.is(quiet!.pages, 3);
    assert.is(quiet!.observed, 0, 'nothing changed since the last cycle');
    assert.ok(requesterCalls(world) <= Math.ceil(250 / 100) + 2, `calls: ${JSON.stringify(world.sim.stats().calls)}`);

    for (const w of workers.slice(5, 10)) await w.submit({ sentiment: 'neutral', comment: '' });
    world.sim.resetStats();
    const busy = await world.drive(runtime.syncNow(runId));
    assert.is(busy!.observed, 5, 'exactly the five HITs that changed');
    assert.ok(requesterCalls(world) <= Math.ceil(250 / 100) + 2, `calls: ${JSON.stringify(world.sim.stats().calls)}`);
    assert.is(world.sim.stats().calls.ListAssignmentsForHIT, 5, 'one call per completed unit');
    assert.equal(
      world.errors.map((e) => e.message),
      [],
    );
  },
);

Sync('when every assigned unit has its HIT expired then the sync lists only reviewable HITs', async ({ world }) => {
  const { runtime } = world;
  const { runId } = await runtime.launchRun(world.config({ units: 3 }));
  await world.drive(() => runtime.runInfo(runId).counts.launched === 3, { label: 'launch' });
  const w = world.worker();
  await w.accept(world.hitTypeId(runId));
  await w.register();
  await world.drive(runtime.expireRun(runId, { wait: false }));
  await world.drive(() => runtime.runInfo(runId).status === 'draining', { label: 'draining' });
  await world.drive(runtime.syncNow(runId));
  world.sim.resetStats();
  const report = await world.drive(runtime.syncNow(runId));
  assert.is(report!.listing, 'reviewable');
  assert.equal(Object.keys(world.sim.stats().calls), ['ListReviewableHITs']);
  await w.submit({ sentiment: 'positive', comment: 'after expiry' });
  await world.drive(() => runtime.unitStatus(w.unitId!) === 'completed', {
    label: 'seen through the reviewable listing',
  });
});

Sync(
  'when units are assigned then polls come at the active interval, and at the idle interval otherwise',
  async ({ world }) => {
    const { runtime } = world;
    const { runId } = await runtime.launchRun(world.config({ units: 1 }));
    await world.drive(() => runtime.runInfo(runId).counts.launched === 1, { label: 'launch' });
    const cycleTimes: number[] = [];
    const listCalls = () => (world.sim.stats().calls.ListHITs ?? 0) + (world.sim.stats().calls.ListReviewableHITs ?? 0);
    let seen = listCalls();
    const watch = async (ms: number) => {
      const end = world.clock.now() + ms;
      await world.drive(
        () => {
          if (listCalls() !== seen) {
            seen = listCalls();
            cycleTimes.push(world.clock.now());
          }
          return world.clock.now() >= end;
        },
        { maxMs: ms + 1 },
      );
    };
    await watch(180_000);
    const idleGaps = cycleTimes.slice(1).map((t, i) => t - cycleTimes[i]!);
    assert.ok(idleGaps.length >= 1 && idleGaps.every((g) => g >= 60_000), `idle gaps ${idleGaps}`);
    const w = world.worker();
    await w.accept(world.hitTypeId(runId));
    await w.register();
    cycleTimes.length = 0;
    await watch(60_000);
    const activeGaps = cycleTimes.slice(1).map((t, i) => t - cycleTimes[i]!);
    assert.ok(activeGaps.length >= 3 && activeGaps.every((g) => g <= 10_000), `active gaps ${activeGaps}`);
  },
);

Sync(
  'when the run allows 2 concurrent units then never more than 2 are launched or assigned, and the rest follow as units finish',
  async ({ world }) => {
    const { runtime } = world;
    let most = 0;
    runtime.events.on('run.progress', (e) => {
      most = Math.max(most, e.counts.launched + e.counts.assigned);
    });
    const { runId } = await runtime.launchRun(world.config({ units: 5, maxConcurrentUnits: 2 }));
    await world.drive(() => runtime.runInfo(runId).counts.launched === 2, { label: 'first two' });
    for (let done = 0; done < 5; done++) {
      await world.drive(() => runtime.runInfo(runId).counts.launched >= 1, { label: `unit ${done} launched` });
      const w = world.worker();
      await w.accept(world.hitTypeId(runId));
      await w.register();
      await w.submit({ sentiment: 'positive', comment: `${done}` });
      await world.drive(() => runtime.runInfo(runId).counts.completed === done + 1, {
        label: `unit ${done} completed`,
      });
    }
    assert.is(most, 2);
    assert.is(world.account().hits.length, 5);
    assert.equal(
      world.errors.map((e) => e.message),
      [],
    );
  },
);

Sync.run();
