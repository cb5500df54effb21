// The CLI on a PostgreSQL store (a real server, test/support/postgres.ts), in child processes
// against a simulator in this process: `run --store postgres://…`, `status` and `export` while the
// run is live in another process, the run's process killed (SIGKILL) and `resume` taking over
// (the dead owner's lease is taken over), another process refused the live run, `review` of the live run through its owner,
// HITSTATE_DATABASE_URL instead of --store,
// and the URL's password never printed.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Simulator } from '../../src/simulator/index.js';
import { SimulatedWorker } from '../../src/testing/index.js';
import { withPostgresServer } from '../support/postgres.js';
import {
  childEnv,
  type CliChild,
  runCli,
  type SimCliContext,
  sentimentTask,
  startCli,
  until,
  useSimCli,
} from './helpers.js';

type Ctx = SimCliContext;

await withPostgresServer('the CLI on a PostgreSQL store', (server) => {
  const url = `${server.url}?schema=cli_test`;
  const Pg = suite<Ctx>('cli on a PostgreSQL store');
  useSimCli(Pg, 13, sentimentTask(['I loved it', 'Meh', 'Awful']));

  const account = (sim: Simulator) => sim.inspect().accounts.AKIDLOCAL!;
  const worker = (sim: Simulator): SimulatedWorker =>
    new SimulatedWorker({ workerId: sim.workers.create(), mturkUrl: sim.url });
  /** Every byte a command printed, to check the password never shows. */
  const printed: string[] = [];
  const start = (ctx: Ctx, args: string[], env = childEnv()): CliChild => {
    const child = startCli(args, { cwd: ctx.dir.path, env });
    ctx.children.push(child);
    return child;
  };
  const cli = async (ctx: Ctx, args: string[], env = childEnv()) => {
    const result = await runCli(args, { cwd: ctx.dir.path, env });
    printed.push(result.stdout, result.stderr);
    return result;
  };

  Pg(
    'when a run lives in PostgreSQL then status and export read it live, resume takes it over after a kill, and review approves it',
    async (ctx) => {
      const { sim } = ctx;
      const run = start(ctx, [
        'run',
        'task.json',
        '--env',
        sim.url,
        '--store',
        url,
        '--port',
        '0',
        '--poll-ms',
        '200',
        '--run-id',
        'p1',
      ]);
      const hitTypeId = (await run.waitFor(/HIT type (\w+) created/))[1]!;
      await run.waitFor(/running .* launched 3/);
      assert.match(run.stdout(), /store: postgres:\/\/hitstate:\*\*\*@127\.0\.0\.1/);

      const first = worker(sim);
      assert.ok((await first.accept({ hitTypeId })).accepted);
      await first.openTask();
      await first.submit({ sentiment: 'positive', comment: 'first' });
      await run.waitFor(new RegExp(`worker ${first.workerId} submitted u\\d`));

      // Another process reads the live run from the database: no lock needed.
      const status = await cli(ctx, ['status', '--store', url, '--json']);
      assert.is(status.code, 0, status.stderr);
      const report = JSON.parse(status.stdout) as { store: string; busy: string | null; runs: { runId: string }[] }[];
      assert.equal(
        report.flatMap((r) => r.runs.map((x) => x.runId)),
        ['p1'],
      );
      assert.match(report[0]!.store, /\*\*\*/);
      const exported = await cli(ctx, ['export', 'p1', '--store', url]);
      assert.is(exported.code, 0, exported.stderr);
      const file = join(ctx.dir.path, '.hitstate', 'exports', 'p1.json');
      assert.ok(existsSync(file), `${exported.stdout}\n${exported.stderr}`);
      const data = JSON.parse(readFileSync(file, 'utf8')) as { units: unknown[]; run: { id: string } };
      assert.is(data.run.id, 'p1');
      assert.is(data.units.length, 3);
      // Another writer of the environment opens it, but not the run another process owns.
      const second = await cli(ctx, ['resume', 'p1', '--store', url, '--port', '0']);
      assert.is.not(second.code, 0, 'a second owner of the run is refused');
      assert.match(second.stderr, /HST_ERR_RUN_OWNED/);
      assert.match(second.stderr, /pid \d+/);

      // The run's process dies without a word: its lease is left to expire, or taken over as its pid is gone.
      run.child.kill('SIGKILL');
      await run.exited;
      printed.push(run.stdout(), run.stderr());
      const resume = start(ctx, ['resume', 'p1', '--store', url, '--poll-ms', '200']);
      await resume.waitFor(/hitstate resume: run p1 on http:\/\/127\.0\.0\.1:\d+, restored from its saved actors/);
      const late = worker(sim);
      assert.ok((await late.accept({ hitTypeId })).accepted);
      await late.openTask();
      await late.submit({ sentiment: 'neutral', comment: 'after the kill' });
      await resume.waitFor(new RegExp(`worker ${late.workerId} submitted`));
      // Reviewed from another process while the run is live: the review goes to its owner through the database.
      const approvals = () =>
        account(sim)
          .hits.flatMap((h) => h.assignments)
          .filter((a) => a.status === 'Approved').length;
      let review = await cli(ctx, ['review', 'p1', '--all', '--approve', '--yes', '--store', url]);
      for (let i = 0; i < 20 && review.code === 0 && /nothing to approve/.test(review.stdout); i++) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        review = await cli(ctx, ['review', 'p1', '--all', '--approve', '--yes', '--store', url]);
      }
      assert.is(review.code, 0, `${review.stdout}\n${review.stderr}`);
      assert.match(review.stderr, /run p1 is running in another process \(pid \d+/);
      assert.match(review.stdout, /approve, 2 agents of run p1/);
      await until(() => approvals() === 2, 'both assignments approved on MTurk');
      resume.child.kill('SIGINT');
      assert.is(await resume.exited, 130, `${resume.stdout()}\n${resume.stderr()}`);
      printed.push(resume.stdout(), resume.stderr());
      assert.is(account(sim).hits.length, 3, 'no HIT created twice across the kill');

      const stop = await cli(ctx, ['stop', 'p1', '--store', url, '--poll-ms', '200']);
      assert.is(stop.code, 0, `${stop.stdout}\n${stop.stderr}`);
      // Again, with nobody holding the store: nothing is approved twice.
      const again = await cli(ctx, ['review', 'p1', '--all', '--approve', '--yes', '--store', url]);
      assert.is(again.code, 0, again.stderr);
      assert.is(approvals(), 2);

      // HITSTATE_DATABASE_URL chooses the database when --store is not given.
      const viaEnv = await cli(ctx, ['status', 'p1'], childEnv({ HITSTATE_DATABASE_URL: url }));
      assert.is(viaEnv.code, 0, viaEnv.stderr);
      assert.match(viaEnv.stdout, /p1/);
      assert.match(viaEnv.stdout, /accepted/);
      const bad = await cli(ctx, ['status', '--store', 'mysql://u:pw@h/db']);
      assert.is(bad.code, 2, bad.stderr);
      assert.match(bad.stderr, /--store must be a directory or a PostgreSQL URL/);

      for (const text of printed) assert.not.ok(text.includes(server.password), `the password was printed:\n${text}`);
    },
  );

  Pg.run();
});
