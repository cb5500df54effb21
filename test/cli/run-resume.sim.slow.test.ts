// `hitstate run` and `hitstate resume` in child processes against a simulator running in this
// process on the real clock, with simulated workers acting over HTTP: Ctrl-C detaches (the run keeps
// its HITs), `resume` continues it, `stop` ends it cleanly, and `review` approves the work.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { openStore } from '../../src/store/index.js';
import type { Simulator } from '../../src/simulator/index.js';
import { SimulatedWorker } from '../../src/testing/index.js';
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

const Run = suite<Ctx>('cli/run and resume');
useSimCli(Run, 11, sentimentTask(['I loved it', 'Meh', 'Awful']));

function start(ctx: Ctx, args: string[]): CliChild {
  const child = startCli(args, { cwd: ctx.dir.path, env: childEnv() });
  ctx.children.push(child);
  return child;
}

const account = (sim: Simulator) => sim.inspect().accounts.AKIDLOCAL!;
const worker = (sim: Simulator): SimulatedWorker =>
  new SimulatedWorker({ workerId: sim.workers.create(), mturkUrl: sim.url });

Run(
  'when the run is detached with Ctrl-C then it stays on MTurk, and resume and stop finish it where it was',
  async (ctx) => {
    const { sim } = ctx;
    const run = start(ctx, ['run', 'task.json', '--env', sim.url, '--port', '0', '--poll-ms', '200', '--run-id', 'r1']);
    const hitTypeId = (await run.waitFor(/HIT type (\w+) created/))[1]!;
    const port = (await run.waitFor(/task page: http:\/\/127\.0\.0\.1:(\d+)\/hitstate\/task/))[1]!;
    await run.waitFor(/running .* launched 3/);

    const first = worker(sim);
    assert.ok((await first.accept({ hitTypeId })).accepted);
    await first.openTask();
    await first.submit({ sentiment: 'positive', comment: 'first' });
    const second = worker(sim);
    assert.ok((await second.accept({ hitTypeId })).accepted);
    const registration = await second.openTask();
    await run.waitFor(new RegExp(`worker ${first.workerId} submitted u\\d`));
    await run.waitFor(new RegExp(`worker ${second.workerId} started ${registration.unitId.split('.').pop()}`));

    run.child.kill('SIGINT');
    assert.is(await run.exited, 130);
    assert.match(
      run.stdout(),
      /Detached from run r1 \(\w+; \d launched, \d assigned, \d completed\)[\s\S]*hitstate resume r1[\s\S]*hitstate stop r1/,
      run.stdout(),
    );
    const held = account(sim).hits.find((h) => h.hitId === second.hitId)!;
    assert.is(held.status, 'Unassignable', 'the worker still holds the HIT');
    assert.is(account(sim).hits.filter((h) => h.status === 'Assignable').length, 1, 'nothing was expired');

    const resume = start(ctx, ['resume', 'r1', '--poll-ms', '200']);
    await resume.waitFor(/hitstate resume: run r1 on http:\/\/127\.0\.0\.1:\d+, restored from its saved actors/);
    assert.match(
      (await resume.waitFor(/task page: serving on (\S+)/))[1]!,
      new RegExp(`:${port}$`),
      'the task server is back on the port the HITs point at',
    );
    await second.submit({ sentiment: 'neutral', comment: 'second, after the restart' });
    await resume.waitFor(new RegExp(`worker ${second.workerId} submitted`));
    resume.child.kill('SIGINT');
    assert.is(await resume.exited, 130, `${resume.stdout()}\n${resume.stderr()}`);
    const stop = await runCli(['stop', 'r1', '--poll-ms', '200'], { cwd: ctx.dir.path, env: childEnv() });
    assert.is(stop.code, 0, `${stop.stdout}\n${stop.stderr}`);
    assert.match(stop.stdout, /Run r1 is done\./);
    assert.match(stop.stdout, /completed +2\n +expired +1/);
    assert.match(stop.stdout, /hitstate review r1 --all --approve --dry-run/);

    const store = await openStore({
      dir: join(ctx.dir.path, '.hitstate'),
      environment: { kind: 'custom', endpoint: sim.url },
    });
    try {
      assert.is(store.runs.require('r1').status, 'done');
      const data = store.agents
        .ofRun('r1')
        .filter((a) => a.submittedAt !== null)
        .map((a) => store.agents.submission(a.id));
      assert.equal(data.map((d) => (d as { comment: string }).comment).sort(), ['first', 'second, after the restart']);
    } finally {
      await store.close();
    }

    const dry = await runCli(['review', 'r1', '--all', '--approve', '--dry-run'], {
      cwd: ctx.dir.path,
      env: childEnv(),
    });
    assert.is(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /dry run: nothing changed[\s\S]*would do[\s\S]*would do/);
    assert.ok(
      account(sim).hits.every((h) =>
        h.assignments.every((a) => a.status === 'Submitted' || a.status === 'Returned' || a.status === 'Abandoned'),
      ),
      'a dry run approves nothing',
    );

    const unconfirmed = await runCli(['review', 'r1', '--all', '--approve'], { cwd: ctx.dir.path, env: childEnv() });
    assert.is(unconfirmed.code, 1, 'no terminal to ask and no --yes');
    assert.match(
      unconfirmed.stdout,
      /approve for 2 agents of run r1: \$0\.96 \(fees included\); the run has no budget/,
    );
    const approve = await runCli(['review', 'r1', '--all', '--approve', '--yes'], {
      cwd: ctx.dir.path,
      env: childEnv(),
    });
    assert.is(approve.code, 0, approve.stderr);
    assert.match(approve.stdout, /approve, 2 agents of run r1/);
    const approved = account(sim)
      .hits.flatMap((h) => h.assignments)
      .filter((a) => a.status === 'Approved');
    assert.is(approved.length, 2);
    assert.ok(
      account(sim).hits.every((h) => h.disposed),
      'reviewed HITs of a finished run are disposed',
    );

    const again = await runCli(['review', 'r1', '--unit', 'u0', '--reject', '--feedback', 'Too late'], {
      cwd: ctx.dir.path,
      env: childEnv(),
    });
    assert.is(again.code, 1, 'rejecting approved work is refused');
    assert.match(again.stdout, /refused/);
  },
);

Run('when the run is detached and then stopped then its HITs are expired and it ends', async (ctx) => {
  const { sim } = ctx;
  const run = start(ctx, ['run', 'task.json', '--env', sim.url, '--port', '0', '--poll-ms', '200', '--run-id', 'r2']);
  await run.waitFor(/running .* launched 3/);
  await until(() => account(sim).hits.length === 3, 'three HITs on MTurk');
  await until(async () => {
    const busy = await runCli(['status', '--json'], { cwd: ctx.dir.path, env: childEnv() });
    const [store] = JSON.parse(busy.stdout) as {
      busy: string | null;
      runs: { runId: string; counts: { launched: number } }[];
    }[];
    assert.match(
      store!.busy ?? '',
      new RegExp(`held by process ${run.child.pid}`),
      'a store held by the run is read from its files',
    );
    return store!.runs[0]?.runId === 'r2' && store!.runs[0].counts.launched === 3;
  }, 'status reads the busy store');
  run.child.kill('SIGINT');
  assert.is(await run.exited, 130, run.stderr());
  assert.is(account(sim).hits.filter((h) => h.status === 'Assignable').length, 3, 'detaching expires nothing');
  const stop = await runCli(['stop', 'r2', '--poll-ms', '200'], { cwd: ctx.dir.path, env: childEnv() });
  assert.is(stop.code, 0, `${stop.stdout}\n${stop.stderr}`);
  assert.match(stop.stdout, /Run r2 is done\.[\s\S]*expired +3/);
  assert.ok(
    account(sim).hits.every((h) => h.status !== 'Assignable' && h.status !== 'Unassignable'),
    'nothing is left live',
  );
  assert.ok(
    account(sim).hits.every((h) => h.disposed),
    JSON.stringify(account(sim).hits.map((h) => [h.status, h.disposed])) + stop.stdout,
  );
  assert.is(account(sim).onHoldCents, 0);

  const resumed = await runCli(['resume', 'r2'], { cwd: ctx.dir.path, env: childEnv() });
  assert.is(resumed.code, 1);
  assert.match(resumed.stderr, /run r2 is done; there is nothing to resume/);
  assert.match(resumed.stderr, /\[HST_ERR_RUN_STATE\]/);
});

Run(
  'when the run is detached and then expired then the task page is served while the last worker finishes, and the run ends',
  async (ctx) => {
    const { sim } = ctx;
    const run = start(ctx, [
      'run',
      'task.json',
      '--env',
      sim.url,
      '--port',
      '0',
      '--poll-ms',
      '200',
      '--run-id',
      'r3',
      '--quiet',
    ]);
    await run.waitFor(/running .* launched 3/);
    const hitTypeId = account(sim).hitTypes[0]!.hitTypeId;
    const late = worker(sim);
    assert.ok((await late.accept({ hitTypeId })).accepted);
    await late.openTask();
    run.child.kill('SIGINT');
    assert.is(await run.exited, 130);
    assert.not.match(run.stdout(), /started u/, '--quiet prints no event lines');

    const expire = start(ctx, ['expire', 'r3', '--poll-ms', '200']);
    await expire.waitFor(/hitstate expire: run r3/);
    await expire.waitFor(/draining/);
    await late.submit({ sentiment: 'negative', comment: 'during the drain' });
    assert.is(await expire.exited, 0, `${expire.stdout()}\n${expire.stderr()}`);
    assert.match(expire.stdout(), /Run r3 is done\.[\s\S]*completed +1\n +expired +2/);
    const again = await runCli(['expire', 'r3'], { cwd: ctx.dir.path, env: childEnv() });
    assert.is(again.code, 0);
    assert.match(again.stdout, /run r3 is already done; nothing to expire/);
  },
);

Run(
  "when the run process is killed outright then resume takes over its store and the worker's submission still lands",
  async (ctx) => {
    const { sim } = ctx;
    const run = start(ctx, ['run', 'task.json', '--env', sim.url, '--port', '0', '--poll-ms', '200', '--run-id', 'r5']);
    const hitTypeId = (await run.waitFor(/HIT type (\w+) created/))[1]!;
    const survivor = worker(sim);
    assert.ok((await survivor.accept({ hitTypeId })).accepted);
    await survivor.openTask();
    await run.waitFor(new RegExp(`worker ${survivor.workerId} started`));
    run.child.kill('SIGKILL');
    assert.is(await run.exited, 'SIGKILL');

    const resume = start(ctx, ['resume', 'r5', '--poll-ms', '200']);
    await resume.waitFor(/restored from its saved actors/);
    await resume.waitFor(/running|draining/);
    await survivor.submit({ sentiment: 'positive', comment: 'after the kill' });
    await resume.waitFor(new RegExp(`worker ${survivor.workerId} submitted`));
    resume.child.kill('SIGINT');
    assert.is(await resume.exited, 130, resume.stderr());
    assert.match(resume.stdout(), /Detached from run r5 \(running; 2 launched/);
    const store = await openStore({
      dir: join(ctx.dir.path, '.hitstate'),
      environment: { kind: 'custom', endpoint: sim.url },
    });
    try {
      const submitted = store.agents.ofRun('r5').filter((a) => a.submittedAt !== null);
      assert.equal(
        submitted.map((a) => (store.agents.submission(a.id) as { comment: string }).comment),
        ['after the kill'],
      );
    } finally {
      await store.close();
    }
  },
);

Run(
  "when hitstate sim runs in its own process then run serves the config's own page against its URL, and status reads the result",
  async (ctx) => {
    const dir = join(ctx.dir.path, 'mytask');
    mkdirSync(join(dir, 'assets'), { recursive: true });
    writeFileSync(
      join(dir, 'task.html'),
      '<!doctype html><html><head><title>Mine</title></head><body><p>My own task page</p><script src="assets/task.js"></script></body></html>',
    );
    writeFileSync(
      join(dir, 'preview.html'),
      '<!doctype html><html><head><title>Preview</title></head><body><p>My own preview</p></body></html>',
    );
    writeFileSync(join(dir, 'assets', 'task.js'), 'window.hitstate.getTask();');
    const config = JSON.parse(readFileSync(join(ctx.dir.path, 'task.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(
      join(dir, 'task.json'),
      JSON.stringify({ ...config, page: { taskPage: 'task.html', previewPage: 'preview.html', assetsDir: 'assets' } }),
    );

    const simChild = start(ctx, ['sim', '--port', '0', '--seed', '5']);
    const url = (await simChild.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/))[1]!;
    const run = start(ctx, [
      'run',
      'mytask/task.json',
      '--env',
      url,
      '--port',
      '0',
      '--poll-ms',
      '200',
      '--run-id',
      'r4',
    ]);
    const taskUrl = (await run.waitFor(/task page: (\S+)/))[1]!;
    const hitTypeId = (await run.waitFor(/HIT type (\w+) created/))[1]!;
    await run.waitFor(/running .* launched 3/);
    const preview = await fetch(`${taskUrl}?assignmentId=ASSIGNMENT_ID_NOT_AVAILABLE`);
    assert.match(await preview.text(), /My own preview/);
    const asset = await fetch(new URL('assets/task.js', taskUrl));
    assert.is(await asset.text(), 'window.hitstate.getTask();');
    const one = new SimulatedWorker({ workerId: 'A1SIMCHILD', mturkUrl: url });
    assert.ok((await one.accept({ hitTypeId })).accepted);
    await one.openTask();
    await one.submit({ sentiment: 'positive', comment: 'via the sim process' });
    await run.waitFor(/worker A1SIMCHILD submitted u\d/);
    run.child.kill('SIGINT');
    assert.is(await run.exited, 130);
    const stop = await runCli(['stop', 'r4', '--poll-ms', '200'], { cwd: ctx.dir.path, env: childEnv() });
    assert.is(stop.code, 0, `${stop.stdout}\n${stop.stderr}`);
    const status = await runCli(['status', 'r4', '--json'], { cwd: ctx.dir.path, env: childEnv() });
    const parsed = JSON.parse(status.stdout) as {
      status: string;
      counts: Record<string, number>;
      budget: { budgetCents: number | null; heldCents: number };
    };
    assert.is(parsed.status, 'done');
    assert.equal([parsed.counts.completed, parsed.counts.expired], [1, 2]);
    assert.equal(
      [parsed.budget.budgetCents, parsed.budget.heldCents],
      [null, 48],
      'the submitted unit is held until reviewed',
    );
    simChild.child.kill('SIGINT');
    assert.is(await simChild.exited, 0);
    assert.match(simChild.stdout(), /hitstate sim stopped/);
  },
);

Run.run();
