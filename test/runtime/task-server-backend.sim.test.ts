// The runtime as the task server's backend, through the real task server: reloads find the same
// agent, a page that goes away is not a return, refusals map to the server's codes, a submission
// is stored once, and the preview shows the run's title.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createWorld, type World } from '../support/sim-world.js';

const Backend = suite<{ world: World; runId: string }>('runtime task-server backend');

Backend.before.each(async (ctx) => {
  ctx.world = await createWorld({ seed: 53, runtime: { disconnectGraceMs: 30_000 } });
  const { runId } = await ctx.world.runtime.launchRun(ctx.world.config({ units: 2 }));
  await ctx.world.drive(() => ctx.world.runtime.runInfo(runId).counts.launched === 2, { label: 'launch' });
  ctx.runId = runId;
});

Backend.after.each(async (ctx) => {
  await ctx.world.close();
});

Backend(
  'when the page reloads, even after its disconnect beacon, then the same agent comes back and stays in task',
  async ({ world, runId }) => {
    const w = world.worker();
    await w.accept(world.hitTypeId(runId));
    const first = await w.register();
    assert.is(first.status, 200);
    const index = world.runtime.store.units.require(first.json.unitId).index;
    assert.equal(first.json.task, (world.config({ units: 2 }).units as unknown[])[index], "the unit's own task data");
    await w.disconnect();
    await world.advance(10_000);
    const again = await w.register();
    assert.is(again.json.agentId, first.json.agentId);
    assert.is(again.json.unitId, first.json.unitId);
    await world.advance(60_000);
    assert.is(world.runtime.agentStatus(w.agentId!), 'in task', 'the reload came back within the grace period');
  },
);

Backend(
  'when the page stays away past the grace period then the agent is disconnected, and a later submission still counts',
  async ({ world, runId }) => {
    const w = world.worker();
    await w.accept(world.hitTypeId(runId));
    await w.register();
    await w.disconnect();
    await world.advance(40_000);
    assert.is(world.runtime.agentStatus(w.agentId!), 'disconnect');
    assert.is(world.runtime.unitStatus(w.unitId!), 'assigned', 'the worker still holds the assignment on MTurk');
    await w.register();
    await w.submit({ sentiment: 'positive', comment: 'came back' });
    await world.drive(() => world.runtime.unitStatus(w.unitId!) === 'completed', { label: 'completed' });
    assert.is(world.runtime.agentStatus(w.agentId!), 'completed');
  },
);

Backend('when arrivals do not fit then the server answers the matching refusal codes', async ({ world, runId }) => {
  const a = world.worker();
  await a.accept(world.hitTypeId(runId));
  await a.register();
  const thief = world.worker();
  thief.hitId = a.hitId;
  thief.assignmentId = a.assignmentId;
  const stolen = await thief.register();
  assert.is(stolen.status, 403);
  assert.is(stolen.json.error.code, 'HST_ERR_SERVER_ASSIGNMENT_MISMATCH');
  const stranger = world.worker();
  stranger.hitId = 'HITOFNORUN0000000000000000001';
  stranger.assignmentId = 'ASSIGNMENTOFNOBODY00000000001';
  assert.is((await stranger.register()).status, 403);
  const late = world.worker();
  await late.accept(world.hitTypeId(runId));
  await world.drive(world.runtime.expireRun(runId, { wait: false }));
  const refused = await late.register();
  assert.is(refused.status, 409);
  assert.is(refused.json.error.code, 'HST_ERR_NO_UNIT_AVAILABLE');
});

Backend(
  'when a worker submits twice then the first submission is kept and the second refused',
  async ({ world, runId }) => {
    const w = world.worker();
    await w.accept(world.hitTypeId(runId));
    await w.register();
    assert.is((await w.submitToServer({ sentiment: 'positive', comment: 'first' })).status, 200);
    const second = await w.submitToServer({ sentiment: 'negative', comment: 'second' });
    assert.is(second.status, 409);
    assert.is(second.json.error.code, 'HST_ERR_SERVER_ALREADY_SUBMITTED');
    assert.equal(world.runtime.store.agents.submission(w.agentId!), { sentiment: 'positive', comment: 'first' });
    const beat = await w.heartbeat();
    assert.equal(beat.json, { agentId: w.agentId, status: 'completed', submitted: true });
    const reload = await w.register();
    assert.equal(
      reload.json.submission,
      { sentiment: 'positive', comment: 'first' },
      'a reload gets the stored submission to finish the MTurk post',
    );
  },
);

Backend("when the preview asks about a HIT then it shows the run's title and description", async ({ world, runId }) => {
  const hitId = world.runtime.store.hits.ofRun(runId)[0]!.id;
  const preview = await world.runtime.taskServerBackend().preview(hitId);
  assert.equal(preview, {
    title: 'Label the sentiment of a sentence',
    description: 'Read one sentence and pick its sentiment.',
  });
  const unknown = await world.runtime.taskServerBackend().preview(undefined);
  assert.is(unknown.title, 'A hitstate task');
});

Backend.run();
