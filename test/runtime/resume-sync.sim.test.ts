// The first status-sync cycle after a resume compares the listing with what the previous process
// last sent (its persisted tracks, `run:<runId>#sync.<n>`), so only real changes are news: an
// unchanged HIT sends nothing, a HIT returned while the process was down sends its observation.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { TaskRunEvent } from '../../machines/index.js';
import { SYNC_RECORDS, syncRecordOf } from '../../src/runtime/sync/status-sync.js';
import { createWorld, type World } from '../support/sim-world.js';

const ResumeSync = suite<{ world: World }>('status sync after a resume');

ResumeSync.before.each(async (ctx) => {
  ctx.world = await createWorld({ seed: 31 });
});

ResumeSync.after.each(async (ctx) => {
  await ctx.world.close();
  assert.equal(
    ctx.world.errors.map((e) => e.message),
    [],
  );
});

/** The observations the run's supervisor is sent from now on. */
function observations(world: World, runId: string): string[] {
  const seen: string[] = [];
  const run = world.runtime.loaded(runId)!;
  const send = run.send.bind(run);
  run.send = (event: TaskRunEvent) => {
    if (event.type === 'hit.observed') seen.push(`${event.hitId} ${event.status}`);
    send(event);
  };
  return seen;
}

ResumeSync('when a resumed run is synced then only HITs that changed while it was down are news', async ({ world }) => {
  const { runtime } = world;
  const { runId } = await runtime.launchRun(world.config({ units: 6 }));
  await world.drive(() => runtime.runInfo(runId).counts.launched === 6, { label: 'launch' });
  const workers = [world.worker(), world.worker()];
  for (const w of workers) {
    await w.accept(world.hitTypeId(runId));
    assert.is((await w.register()).status, 200);
  }
  await world.drive(runtime.syncNow(runId));
  await runtime.whenIdle();
  assert.equal(observations(world, runId), [], 'a hook on the live run sees nothing yet');
  const stored = runtime.store.snapshots
    .ofRun(runId)
    .filter((r) => r.actorId.startsWith(`run:${runId}#sync.`))
    .map((r) => r.actorId);
  const expected = new Set(runtime.store.hits.ofRun(runId).map((h) => `run:${runId}#sync.${syncRecordOf(h.id)}`));
  assert.equal(new Set(stored), expected, 'one record per sync record holding a HIT of the run');
  assert.ok(stored.length <= SYNC_RECORDS);

  // While the process is down, the first worker returns the HIT.
  await world.restart();
  await workers[0]!.returnHIT();
  const [resumed] = await world.runtime.resume();
  const seen = observations(world, runId);
  await world.drive(resumed!.drift);
  const report = await world.drive(world.runtime.syncNow(runId));
  await world.runtime.whenIdle();
  assert.is(report?.failure, undefined);
  const returned = world.runtime.store.agents.get(workers[0]!.agentId!)!.hitId;
  // A unit that suspects a return is sent the sighting again until its confirmHIT answers: the same news.
  assert.equal(new Set(seen), new Set([`${returned} Assignable`]), 'the return is the only news');
  assert.is(world.runtime.agentStatus(workers[0]!.agentId!), 'returned');
  assert.is(world.runtime.agentStatus(workers[1]!.agentId!), 'in task');
});

ResumeSync.run();
