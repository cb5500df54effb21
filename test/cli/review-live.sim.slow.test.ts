// Issue 16, part 5: `hitstate review` of a run that `hitstate run` is running in another process.
// The review is not refused for the store's lock: it goes to the running process through the
// store, which executes it through its money outbox; the command prints that process's answer.
// `status` and `export` read the live run read-only at the same time.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { SimulatedWorker } from '../../src/testing/index.js';
import { childEnv, runCli, type SimCliContext, sentimentTask, startCli, until, useSimCli } from './helpers.js';

const Live = suite<SimCliContext>('cli/review while the run is live in another process');
useSimCli(Live, 17, sentimentTask(['I loved it', 'Meh', 'Awful']));

Live('when a run is live in another process then review goes to it, and status and export read it', async (ctx) => {
  const { sim } = ctx;
  const run = startCli(['run', 'task.json', '--env', sim.url, '--port', '0', '--poll-ms', '200', '--run-id', 'l1'], {
    cwd: ctx.dir.path,
    env: childEnv(),
  });
  ctx.children.push(run);
  const hitTypeId = (await run.waitFor(/HIT type (\w+) created/))[1]!;
  // Two of three units get work, so the run stays live while it is reviewed.
  await run.waitFor(/running .* launched 3/);
  const workers: SimulatedWorker[] = [];
  for (const text of ['first', 'second']) {
    const w = new SimulatedWorker({ workerId: sim.workers.create(), mturkUrl: sim.url });
    workers.push(w);
    assert.ok((await w.accept({ hitTypeId })).accepted);
    await w.openTask();
    await w.submit({ sentiment: 'positive', comment: text });
  }
  for (const w of workers) await run.waitFor(new RegExp(`worker ${w.workerId} submitted`));

  const status = await runCli(['status', 'l1', '--json'], { cwd: ctx.dir.path, env: childEnv() });
  assert.is(status.code, 0, `${status.stdout}\n${status.stderr}`);
  const exported = await runCli(['export', 'l1', '--format', 'json'], { cwd: ctx.dir.path, env: childEnv() });
  assert.is(exported.code, 0, `${exported.stdout}\n${exported.stderr}`);

  const approvals = () =>
    sim
      .inspect()
      .accounts.AKIDLOCAL!.hits.flatMap((h) => h.assignments)
      .filter((a) => a.status === 'Approved').length;
  // The units wait for MTurk's word on whose submission they hold before they can be reviewed:
  // wait until the server has answered the run's ListAssignmentsForHIT of both (read in this
  // process, no child started per look), then review. The run process may still be applying the
  // last answer, so a review that finds nothing yet is asked again once the next answer is in.
  const listings = () => sim.stats().calls.ListAssignmentsForHIT ?? 0;
  await until(() => listings() >= 2, 'MTurk asked whose submission each unit holds');
  let review = await runCli(['review', 'l1', '--all', '--approve', '--yes'], { cwd: ctx.dir.path, env: childEnv() });
  for (let i = 0; i < 5 && review.code === 0 && /nothing to approve/.test(review.stdout); i++) {
    const seen = listings();
    await until(() => listings() > seen, 'another ListAssignmentsForHIT of the run', 10_000).catch(() => undefined);
    review = await runCli(['review', 'l1', '--all', '--approve', '--yes'], { cwd: ctx.dir.path, env: childEnv() });
  }
  assert.is(review.code, 0, `${review.stdout}\n${review.stderr}`);
  assert.match(review.stderr, /run l1 is running in another process \(pid \d+/);
  assert.match(review.stdout, /approve, 2 agents of run l1/);
  assert.match(review.stdout, /done 2/);
  await until(() => approvals() === 2, 'both assignments approved on MTurk');

  // Again: nothing is approved twice.
  const again = await runCli(['review', 'l1', '--all', '--approve', '--yes'], { cwd: ctx.dir.path, env: childEnv() });
  assert.is(again.code, 0, `${again.stdout}\n${again.stderr}`);
  assert.is(approvals(), 2);
  assert.ok(run.child.exitCode === null, 'the run process kept running');
});

Live.run();
