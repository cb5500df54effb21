// The scenario of issue 16's two runs of one store in two processes, on whichever store the
// children's environment names (lowdb: two-runs.sim.slow.test.ts; PostgreSQL:
// postgres-two-runs.sim.slow.test.ts). Two `hitstate run` of two runs of one store go at once;
// while both are live, `status`, `status RUN`, `export RUN` and `review RUN` work from a third
// process (the review executed by the run's owner through a request); a worker of one run who
// reaches the other run's task server (two processes behind one load balancer) is routed to the
// run's owner through the store; after a SIGKILL of one owner, two processes race to resume it and
// exactly one wins, with no lock file to delete.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Test } from 'uvu';
import * as assert from 'uvu/assert';
import { SimulatedWorker } from '../../src/testing/index.js';
import { type CliChild, runCli, type SimCliContext, sentimentTask, startCli, until, useSimCli } from './helpers.js';

export interface TwoRunsOptions {
  /** The children's environment (it names the store when it is not the directory default). */
  readonly env: () => NodeJS.ProcessEnv;
  /** More checks of the final `status --json` output. */
  readonly checkFinal?: (stdout: string) => void;
}

/** Adds the two-runs scenario to `Two` (a suite of its own; the caller runs it). */
export function twoRunsScenario(Two: Test<SimCliContext>, title: string, options: TwoRunsOptions): void {
  // Run a1 has three units: two get work, so it stays live until it is killed.
  useSimCli(Two, 23, sentimentTask(['I loved it', 'Meh', 'So-so']));
  const start = (ctx: SimCliContext, args: string[]): CliChild => {
    const child = startCli(args, { cwd: ctx.dir.path, env: options.env() });
    ctx.children.push(child);
    return child;
  };
  const cli = (ctx: SimCliContext, args: string[]) => runCli(args, { cwd: ctx.dir.path, env: options.env() });

  Two(title, async (ctx) => {
    const { sim } = ctx;
    // Run b1 has one unit and another reward (so another HIT type): it finishes by itself.
    writeFileSync(join(ctx.dir.path, 'task-b.json'), sentimentTask(['Awful'], { reward: '0.30' }));
    const a = start(ctx, ['run', 'task.json', '--env', sim.url, '--port', '0', '--poll-ms', '200', '--run-id', 'a1']);
    const typeA = (await a.waitFor(/HIT type (\w+) created/))[1]!;
    const originA = (await a.waitFor(/task page: (http:\/\/127\.0\.0\.1:\d+)\/hitstate\/task/))[1]!;
    await a.waitFor(/running .* launched 3/);
    const b = start(ctx, ['run', 'task-b.json', '--env', sim.url, '--port', '0', '--poll-ms', '200', '--run-id', 'b1']);
    const typeB = (await b.waitFor(/HIT type (\w+) created/))[1]!;
    const originB = (await b.waitFor(/task page: (http:\/\/127\.0\.0\.1:\d+)\/hitstate\/task/))[1]!;
    await b.waitFor(/running .* launched 1/);
    assert.is.not(typeA, typeB);
    assert.ok(a.child.exitCode === null, 'the first run kept running while the second started on its store');

    const worker = (): SimulatedWorker => new SimulatedWorker({ workerId: sim.workers.create(), mturkUrl: sim.url });
    const first = worker();
    assert.ok((await first.accept({ hitTypeId: typeA })).accepted);
    await first.openTask();
    await first.submit({ sentiment: 'positive', comment: 'run a1' });
    await a.waitFor(new RegExp(`worker ${first.workerId} submitted`));
    const second = worker();
    assert.ok((await second.accept({ hitTypeId: typeB })).accepted);
    await second.openTask();
    await b.waitFor(new RegExp(`worker ${second.workerId} started`));

    // A worker of a1 reaches b1's task server: the arrival and the submission go to a1's owner.
    const routed = worker();
    assert.ok((await routed.accept({ hitTypeId: typeA })).accepted);
    assert.ok(routed.frameUrl!.startsWith(originA));
    routed.frameUrl = routed.frameUrl!.replace(originA, originB);
    const registration = await routed.openTask();
    assert.match(registration.unitId, /^a1\./, 'registered by the owner of a1');
    await a.waitFor(new RegExp(`worker ${routed.workerId} started`));
    await routed.submit({ sentiment: 'neutral', comment: 'through the other task server' });
    await a.waitFor(new RegExp(`worker ${routed.workerId} submitted`));
    assert.not.match(b.stdout(), new RegExp(routed.workerId), 'b1 hosted nothing of it');

    // A third process, while both are live.
    const status = await cli(ctx, ['status']);
    assert.is(status.code, 0, `${status.stdout}\n${status.stderr}`);
    assert.match(status.stdout, /a1/);
    assert.match(status.stdout, /b1/);
    const statusA = await cli(ctx, ['status', 'a1', '--json']);
    assert.is(statusA.code, 0, `${statusA.stdout}\n${statusA.stderr}`);
    const exportB = await cli(ctx, ['export', 'b1', '--json']);
    assert.is(exportB.code, 0, `${exportB.stdout}\n${exportB.stderr}`);
    assert.match(exportB.stdout, /"b1"/);
    const approvals = () =>
      sim
        .inspect()
        .accounts.AKIDLOCAL!.hits.flatMap((h) => h.assignments)
        .filter((x) => x.status === 'Approved').length;
    // The units wait for MTurk's word on whose submission they hold before they can be reviewed:
    // review again until both are approved, every time through a1's owner.
    for (let i = 0; i < 40 && approvals() < 2; i++) {
      const review = await cli(ctx, ['review', 'a1', '--all', '--approve', '--yes']);
      const said = `${review.stdout}\n${review.stderr}`;
      assert.is(review.code, 0, said);
      assert.match(review.stderr, /run a1 is running in another process \(pid \d+/, said);
      if (approvals() < 2) await new Promise((resolve) => setTimeout(resolve, 250));
    }
    await until(() => approvals() === 2, 'both assignments approved on MTurk, by the owner of a1');

    // b1 finishes by itself while a1 is live.
    await second.submit({ sentiment: 'negative', comment: 'run b1' });
    assert.is(await b.exited, 0, `${b.stdout()}\n${b.stderr()}`);
    assert.ok(a.child.exitCode === null, 'a1 kept running while b1 finished');

    // The owner of a1 dies; two processes race to take a1 over: exactly one wins.
    a.child.kill('SIGKILL');
    await a.exited;
    const racers = [0, 1].map(() => start(ctx, ['resume', 'a1', '--port', '0', '--poll-ms', '200']));
    const outcome = (r: CliChild) =>
      Promise.race([
        r.waitFor(/hitstate resume: run a1 on/, 90_000).then(() => 'won' as const),
        r.exited.then(() => 'lost' as const),
      ]);
    const outcomes = await Promise.all(racers.map(outcome));
    assert.equal(
      [...outcomes].sort(),
      ['lost', 'won'],
      racers.map((r) => `${r.stdout()}\n${r.stderr()}`).join('\n---\n'),
    );
    const winner = racers[outcomes.indexOf('won')]!;
    const loser = racers[outcomes.indexOf('lost')]!;
    assert.is.not(await loser.exited, 0);
    assert.match(loser.stderr(), /HST_ERR_RUN_OWNED/, loser.stderr());
    assert.match(loser.stderr(), /pid \d+/);
    await winner.waitFor(/running|draining/);

    // The winner detaches (Ctrl-C); a1 is stopped to its end from yet another process.
    winner.child.kill('SIGINT');
    assert.is(await winner.exited, 130, `${winner.stdout()}\n${winner.stderr()}`);
    const stop = await cli(ctx, ['stop', 'a1', '--poll-ms', '200']);
    assert.is(stop.code, 0, `${stop.stdout}\n${stop.stderr}`);
    assert.match(stop.stdout, /Run a1 is done\./);
    const final = await cli(ctx, ['status', '--json']);
    assert.is(final.code, 0, final.stderr);
    const envs = JSON.parse(final.stdout) as { runs: { runId: string; status: string }[] }[];
    const statuses = Object.fromEntries(envs.flatMap((e) => e.runs).map((r) => [r.runId, r.status]));
    assert.equal(statuses, { a1: 'done', b1: 'done' }, final.stdout);
    options.checkFinal?.(final.stdout);
  });
}
