// Issue 16, part 5: a process that does not own a run posts a review to the store; the runtime
// hosting the run executes it through its own review path (money outbox) and answers it, and the
// poster reads the answer. The poster is a second backend on the same store directory, as
// `hitstate review` in another process is.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { type RunRequestResult, postReviewRequest, waitForRequest } from '../../src/runtime/requests/run-requests.js';
import type { StoreBackend } from '../../src/store/backend.js';
import { nodeFileSystem } from '../../src/store/file-system.js';
import { LowdbBackend } from '../../src/store/lowdb/backend.js';
import { createWorld, type World } from '../support/sim-world.js';

const UNITS = 3;
const Requests = suite<{ world: World | undefined; other: StoreBackend | undefined }>('run requests', {
  world: undefined,
  other: undefined,
});

Requests.after.each(async (ctx) => {
  await ctx.other?.close();
  await ctx.world?.close();
  ctx.world = undefined;
  ctx.other = undefined;
});

async function submittedRun(seed: number): Promise<{ world: World; runId: string; other: StoreBackend }> {
  const world = await createWorld({ seed });
  const runId = await world.submittedRun(UNITS);
  await world.advance(30_000);
  const other = new LowdbBackend({
    root: world.runtime.store.dir,
    environment: world.runtime.store.environment,
    fs: nodeFileSystem,
    now: () => world.clock.now(),
  });
  return { world, runId, other };
}

const answer = (world: World, other: StoreBackend, runId: string, id: string) =>
  world.drive(waitForRequest(other, runId, id, { clock: world.clock, pollMs: 1000 }), { label: 'answer' });

Requests('when another process posts a review then the run’s runtime executes it once and answers', async (ctx) => {
  const { world, runId, other } = await submittedRun(31);
  Object.assign(ctx, { world, other });
  const dry = await postReviewRequest(other, world.clock, runId, {
    target: { all: true },
    action: { kind: 'approve' },
    dryRun: true,
  });
  const preview = (await answer(world, other, runId, dry)) as RunRequestResult;
  assert.ok(preview.ok, JSON.stringify(preview));
  if (!preview.ok) return;
  assert.equal(
    preview.report.items.map((i) => i.outcome),
    ['wouldDo', 'wouldDo', 'wouldDo'],
  );
  assert.ok(
    world
      .account()
      .hits.flatMap((h) => h.assignments)
      .every((a) => a.status === 'Submitted'),
    'a dry run changes nothing',
  );

  const id = await postReviewRequest(other, world.clock, runId, { target: { all: true }, action: { kind: 'approve' } });
  const result = (await answer(world, other, runId, id)) as RunRequestResult;
  assert.ok(result.ok, JSON.stringify(result));
  if (!result.ok) return;
  assert.equal(
    result.report.items.map((i) => i.outcome),
    ['done', 'done', 'done'],
  );
  assert.ok(
    world
      .account()
      .hits.flatMap((h) => h.assignments)
      .every((a) => a.status === 'Approved'),
  );
  // Posting the same request again changes nothing: it is answered already.
  await postReviewRequest(other, world.clock, runId, { target: { all: true }, action: { kind: 'approve' } }, id);
  assert.equal(await other.pendingRequests(runId), []);
  assert.equal((await answer(world, other, runId, id)) as RunRequestResult, result);
});

Requests('when a request cannot be executed then it is answered with why, never dropped', async (ctx) => {
  const { world, runId, other } = await submittedRun(32);
  Object.assign(ctx, { world, other });
  await other.postRequest({
    id: 'bad-1',
    runId,
    kind: 'review',
    body: JSON.stringify({ target: { all: true }, action: { kind: 'pay-everyone' } }),
    postedAt: world.clock.now(),
  });
  const bad = (await answer(world, other, runId, 'bad-1')) as RunRequestResult;
  assert.equal(bad.ok, false);
  if (bad.ok) return;
  assert.is(bad.error.code, 'HST_ERR_CONFIG_INVALID');
  assert.match(bad.error.message, /action\.kind/);

  await other.postRequest({ id: 'odd-1', runId, kind: 'launch-more', body: '{}', postedAt: world.clock.now() });
  const odd = (await answer(world, other, runId, 'odd-1')) as RunRequestResult;
  assert.equal(odd.ok, false);
  if (odd.ok) return;
  assert.match(odd.error.message, /launch-more/);
  assert.ok(
    world
      .account()
      .hits.flatMap((h) => h.assignments)
      .every((a) => a.status === 'Submitted'),
    'nothing was paid',
  );
});

Requests('when nobody answers in time then the poster is told the request stays posted', async (ctx) => {
  const { world, runId, other } = await submittedRun(33);
  Object.assign(ctx, { world, other });
  await world.runtime.close();
  const id = await postReviewRequest(other, world.clock, runId, { target: { all: true }, action: { kind: 'approve' } });
  const waiting = waitForRequest(other, runId, id, { clock: world.clock, pollMs: 1000, timeoutMs: 5000 });
  try {
    await world.drive(waiting, { label: 'timeout' });
    assert.unreachable('the wait should time out');
  } catch (error) {
    assert.match(String(error), /stays posted/);
  }
  assert.is((await other.pendingRequests(runId)).length, 1);
});

Requests.run();
