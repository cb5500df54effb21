// The status sync reads its listing as a stream (issue 17): each page is compared as it arrives
// and its news reaches the units before the next page is asked for; unchanged HITs send nothing;
// a change of counters alone is news; a HIT missing from the listing is looked up only once the
// whole listing was read, and never after a listing cut short. The simulator's requester-call
// hook shows what the runtime already knew when each page was asked for. Outside changes are
// made through a second gateway on the same account, as a person on the requester site would.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { MTurkGateway } from '../../src/mturk/index.js';
import type { RequesterCallDecision, RequesterCallInfo } from '../../src/simulator/index.js';
import type { DriftFoundEvent } from '../../src/runtime/core/events.js';
import { createWorld, TEST_ACCESS_KEY, type World } from '../support/sim-world.js';

interface Ctx {
  world: World;
  outsider: MTurkGateway;
  /** Decides each requester call the simulator receives (set by a test). */
  hook: (call: RequesterCallInfo) => RequesterCallDecision;
  drift: DriftFoundEvent[];
}

const Stream = suite<Ctx>('runtime status sync, streamed');

Stream.before.each(async (ctx) => {
  ctx.hook = () => undefined;
  ctx.world = await createWorld({
    seed: 43,
    runtime: { governor: { ratePerSecond: 50, burst: 100 } },
    sim: { onRequesterCall: (call) => ctx.hook(call) },
  });
  ctx.outsider = new MTurkGateway({
    name: 'outsider',
    environment: 'custom',
    endpoint: ctx.world.sim.url,
    credentials: { kind: 'static', accessKeyId: TEST_ACCESS_KEY, secretAccessKey: 'world-secret' },
  });
  ctx.drift = [];
  ctx.world.runtime.events.on('drift.found', (e) => void ctx.drift.push(e));
});

Stream.after.each(async (ctx) => {
  ctx.outsider.close();
  await ctx.world.close();
});

async function launched(world: World, units: number): Promise<string> {
  const { runtime } = world;
  const { runId } = await runtime.launchRun(world.config({ units }));
  await world.drive(() => runtime.runInfo(runId).counts.launched === units, { label: 'launch', maxMs: 3_600_000 });
  return runId;
}

/** The run's HIT ids page by page, in the order the listing gives them. */
async function pagesOf(world: World, runId: string): Promise<string[][]> {
  const pages: string[][] = [];
  const source = world.runtime.gateway().paginateHITsForHITType(world.hitTypeId(runId));
  const read = (async () => {
    for await (const page of source) pages.push(page.map((h) => h.hitId));
  })();
  await world.drive(read);
  return pages;
}

/** Units expired so far (a pool HIT gone or expired takes one launched unit with it). */
const expired = (world: World, runId: string): number => world.runtime.runInfo(runId).counts.expired;

/**
 * A worker holds the HIT `hitId`: with a unit assigned (whose worker may return the HIT) every
 * cycle reads the full listing (ListHITs).
 */
async function assign(world: World, hitId: string): Promise<void> {
  const w = world.worker();
  await w.accept({ hitId });
  await w.register();
  await world.drive(() => world.runtime.unitStatus(w.unitId!) === 'assigned', { label: 'assigned' });
}

Stream(
  'when a HIT on the first page changes then its unit hears of it before the next pages are asked for',
  async (ctx) => {
    const { world } = ctx;
    const { runtime } = world;
    const runId = await launched(world, 201);
    const pages = await pagesOf(world, runId);
    assert.is(pages.length, 3, `pages of ${pages.map((p) => p.length)}`);
    await assign(world, pages[1]![0]!);
    await world.drive(runtime.syncNow(runId));
    const first = pages[0]![0]!;
    const last = pages[2]!.at(-1)!;
    // Pool HITs (no unit is bound to a HIT before a worker arrives) expired early by someone else (the outsider's governor runs on the system clock): the observation alone expires the unit.
    for (const hitId of [first, last]) assert.is((await ctx.outsider.expireHIT(hitId)).status, 'ok');

    const seen: { nextToken: boolean; expired: number; drift: string[] }[] = [];
    ctx.hook = (call) => {
      if (call.operation === 'ListHITs')
        seen.push({
          nextToken: call.input.NextToken !== undefined,
          expired: expired(world, runId),
          drift: ctx.drift.map((d) => d.hitId ?? ''),
        });
      return undefined;
    };
    const report = await world.drive(runtime.syncNow(runId));
    assert.is(report!.listing, 'full');
    assert.is(report!.pages, 3);
    assert.is(seen.length, 3, JSON.stringify(seen));
    assert.equal(
      seen.map((s) => s.nextToken),
      [false, true, true],
    );
    assert.equal(seen[0], { nextToken: false, expired: 0, drift: [] });
    for (const later of seen.slice(1))
      assert.equal(
        later,
        { nextToken: true, expired: 1, drift: [first] },
        'page 1 was handled before page 2 and page 3 were asked for, page 3 not before it was read',
      );
    assert.is(expired(world, runId), 2);
    assert.equal(
      ctx.drift.map((d) => [d.kind, d.hitId]),
      [
        ['hitChangedOutside', first],
        ['hitChangedOutside', last],
      ],
    );
    assert.equal(
      world.errors.map((e) => e.message),
      [],
    );
  },
);

Stream(
  'when nothing changed then a cycle sends nothing, and when only a HIT’s counters change then only that HIT is news',
  async (ctx) => {
    const { world } = ctx;
    const { runtime } = world;
    const runId = await launched(world, 150);
    const w = world.worker();
    await w.accept(world.hitTypeId(runId));
    await w.register();
    await w.submit({ sentiment: 'positive', comment: 'done' });
    await world.drive(() => runtime.unitStatus(w.unitId!) === 'completed', { label: 'completed' });
    await world.drive(runtime.syncNow(runId));
    const quiet = await world.drive(runtime.syncNow(runId));
    assert.ok(quiet!.pages >= 1);
    assert.is(quiet!.observed, 0, 'no HIT changed since the last cycle');
    assert.is(quiet!.perHitCalls, 0);

    // Approved on MTurk by someone else: the HIT stays Reviewable, only its completed count moves.
    const approved = await ctx.outsider.approveAssignment({ assignmentId: w.assignmentId! });
    assert.is(approved.status, 'ok');
    const hit = world.account().hits.find((h) => h.hitId === w.hitId)!;
    assert.is(hit.status, 'Reviewable');
    world.sim.resetStats();
    const busy = await world.drive(runtime.syncNow(runId));
    assert.is(busy!.observed, 1, 'exactly the HIT whose counters changed');
    assert.is(busy!.perHitCalls, 1, 'its decided assignment is read once');
    const calls = world.sim.stats().calls;
    assert.is((calls.ListHITs ?? 0) + (calls.ListReviewableHITs ?? 0), busy!.pages, JSON.stringify(calls));
    assert.ok((calls.GetAssignment ?? 0) >= 1, JSON.stringify(calls));
    assert.is(calls.GetHIT, undefined, JSON.stringify(calls));
    await world.drive(() => runtime.agentStatus(w.agentId!) === 'approved', { label: 'approval adopted' });
    assert.equal(
      ctx.drift.map((d) => d.kind),
      ['reviewDiffers'],
    );
    const after = await world.drive(runtime.syncNow(runId));
    assert.is(after!.observed, 0, 'the approval is not news twice');
    assert.equal(
      world.errors.map((e) => e.message),
      [],
    );
  },
);

Stream(
  'when a HIT is disposed by someone else then it is looked up only after the whole listing, and only it',
  async (ctx) => {
    const { world } = ctx;
    const { runtime } = world;
    const runId = await launched(world, 201);
    const pages = await pagesOf(world, runId);
    await assign(world, pages[1]![0]!);
    const gone = pages[0]![1]!;
    await world.drive(runtime.syncNow(runId));
    const disposed = await ctx.outsider.expireAndDisposeHIT(gone);
    assert.is(disposed.status, 'ok');
    const order: string[] = [];
    ctx.hook = (call) => {
      order.push(call.operation === 'GetHIT' ? `GetHIT ${String(call.input.HITId)}` : call.operation);
      return undefined;
    };
    const report = await world.drive(runtime.syncNow(runId));
    assert.is(report!.listing, 'full');
    assert.is(order.filter((o) => o === 'ListHITs').length, 3, order.join(', '));
    assert.equal(
      order.filter((o) => o.startsWith('GetHIT')),
      [`GetHIT ${gone}`],
    );
    assert.ok(order.indexOf(`GetHIT ${gone}`) > order.lastIndexOf('ListHITs'), `after the listing: ${order}`);
    assert.is(report!.perHitCalls, 1);
    assert.is(expired(world, runId), 1, 'the pool lost a HIT: a launched unit expires');
    assert.equal(
      ctx.drift.map((d) => [d.kind, d.hitId]),
      [['hitChangedOutside', gone]],
    );
    order.length = 0;
    const next = await world.drive(runtime.syncNow(runId));
    assert.is(next!.observed, 0);
    assert.equal(
      order.filter((o) => o.startsWith('GetHIT')),
      [],
      'a HIT found gone is not looked up again',
    );
    assert.equal(
      world.errors.map((e) => e.message),
      [],
    );
  },
);

Stream(
  'when the listing fails after its first page then that page’s news is delivered and no HIT is taken as missing',
  async (ctx) => {
    const { world } = ctx;
    const { runtime } = world;
    const runId = await launched(world, 201);
    const pages = await pagesOf(world, runId);
    await assign(world, pages[1]![0]!);
    const first = pages[0]![0]!;
    await world.drive(runtime.syncNow(runId));
    assert.is((await ctx.outsider.expireHIT(first)).status, 'ok');
    const calls: string[] = [];
    // Every request for a later page loses its connection, retries included.
    ctx.hook = (call) => {
      calls.push(call.operation);
      return call.operation === 'ListHITs' && call.input.NextToken !== undefined ? 'drop' : undefined;
    };
    const report = await world.drive(runtime.syncNow(runId), { maxMs: 3_600_000 });
    assert.is(report!.listing, 'full');
    assert.ok(report!.failure !== undefined, 'the cycle reports the failed listing');
    assert.is(report!.pages, 1);
    assert.is(report!.observed, 1);
    assert.is(report!.perHitCalls, 0);
    assert.is(expired(world, runId), 1, 'the first page was handled');
    assert.not.ok(calls.includes('GetHIT'), `no HIT of the unread pages was looked up: ${calls}`);
    assert.equal(
      ctx.drift.map((d) => [d.kind, d.hitId]),
      [['hitChangedOutside', first]],
    );
    ctx.hook = () => undefined;
    const healed = await world.drive(runtime.syncNow(runId));
    assert.is(healed!.failure, undefined);
    assert.is(healed!.observed, 0, 'the HITs of the unread pages had not changed');
  },
);

Stream.run();
