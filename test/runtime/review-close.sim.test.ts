// Issue 13, F3's root cause in one process: a runtime closed while review calls still wait in the
// rate governor must not record them as "nothing was sent" (failed): their intents stay open, the
// agents still wait on them, and the next runtime on the store confirms them (reading MTurk back
// for those that may have been sent) instead of leaving them failed. settleMoney() before close
// waits for them all.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { moneyOfRun } from '../../src/runtime/money/spent.js';
import { createWorld, type World } from '../support/sim-world.js';

const UNITS = 5;
const Close = suite<{ world: World | undefined }>('runtime review and close', { world: undefined });

Close.after.each(async (ctx) => {
  await ctx.world?.close();
  ctx.world = undefined;
});

/** A world whose governor lets one call out per second, with UNITS submitted units awaiting review. */
async function submittedRun(seed: number): Promise<{ world: World; runId: string; balance: number }> {
  const world = await createWorld({ seed, runtime: { governor: { ratePerSecond: 1, burst: 1 } } });
  const runId = await world.submittedRun(UNITS);
  await world.advance(30_000);
  return { world, runId, balance: world.account().balanceCents };
}

Close('when the runtime closes while approvals wait in the governor then none is marked failed', async (ctx) => {
  const { world, runId, balance } = await submittedRun(21);
  ctx.world = world;
  const report = await world.runtime.review(runId, { all: true }, { kind: 'approve' }, { wait: false });
  assert.is(report.items.length, UNITS);
  await world.runtime.whenIdle();
  await world.runtime.close();
  // The next process opens the store: what did the closed one leave behind?
  const next = await world.openRuntime();
  await world.adopt(next);
  const intents = next.store.outbox.ofRun(runId).filter((i) => i.kind === 'approve');
  assert.is(intents.length, UNITS);
  const failed = intents.filter((i) => i.state === 'failed');
  assert.equal(
    failed.map((i) => i.failure?.reason),
    [],
    'no approval cut short by closing is recorded as failed ("nothing was sent")',
  );
  const open = intents.filter((i) => i.state !== 'confirmed');
  assert.ok(open.length > 0, 'some approvals were still waiting in the governor when the runtime closed');

  // A review of the same agents joins the re-issued approvals and confirms them.
  const again = await world.drive(next.review(runId, { all: true }, { kind: 'approve' }));
  assert.ok(
    again!.items.every((i) => i.outcome === 'done' || i.outcome === 'alreadyDone'),
    JSON.stringify(again!.items),
  );
  const settled = await world.drive(next.settleMoney(runId));
  assert.equal([settled!.stillOpen, settled!.failed], [0, 0]);
  assert.ok(
    world
      .account()
      .hits.flatMap((h) => h.assignments)
      .every((a) => a.status === 'Approved'),
  );
  assert.is(moneyOfRun(next.store, runId).totalCents, balance - world.account().balanceCents);
});

Close('when settleMoney runs before close then every approval is confirmed and none is left open', async (ctx) => {
  const { world, runId, balance } = await submittedRun(22);
  ctx.world = world;
  await world.runtime.review(runId, { all: true }, { kind: 'approve' }, { wait: false });
  const settled = await world.drive(world.runtime.settleMoney(runId));
  // This runtime also launched the run: its HITs' intents count among those it confirmed.
  assert.equal(settled, { runId, confirmed: 2 * UNITS, failed: 0, stillOpen: 0 });
  assert.is(moneyOfRun(world.runtime.store, runId).totalCents, balance - world.account().balanceCents);
});

Close.run();
