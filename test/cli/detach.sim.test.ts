import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { childEnv, runCli, type SimCliContext, sentimentTask, startCli, until, useSimCli } from './helpers.js';

interface Ctx extends SimCliContext {
  pids: number[];
}

const Detach = suite<Ctx>('cli/run --detach, attach and stop');
useSimCli(Detach, 7, sentimentTask(['I loved it', 'Meh'], { budget: '2.00' }));
Detach.before.each((ctx) => {
  ctx.pids = [];
});

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

Detach.after.each((ctx) => {
  for (const pid of ctx.pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
});

Detach('when a run is detached then attach follows it and stop has it let go and ends it', async (ctx) => {
  const { sim } = ctx;
  const started = await runCli(
    ['run', 'task.json', '--env', sim.url, '--port', '0', '--poll-ms', '200', '--run-id', 'd1', '--detach'],
    { cwd: ctx.dir.path, env: childEnv() },
  );
  assert.is(started.code, 0, `${started.stdout}\n${started.stderr}`);
  const pid = Number(/hosted in the background by process (\d+)/.exec(started.stdout)?.[1]);
  ctx.pids.push(pid);
  assert.ok(alive(pid), 'the background process hosts the run');
  assert.match(started.stdout, /logs\/d1\.log/);
  assert.match(started.stdout, /hitstate attach d1/);
  await until(() => (sim.inspect().accounts.AKIDLOCAL?.hits.length ?? 0) === 2, 'two HITs');

  const attach = startCli(['attach', 'd1'], { cwd: ctx.dir.path, env: childEnv() });
  ctx.children.push(attach);
  await attach.waitFor(/following run d1, hosted by process \d+/);
  attach.child.kill('SIGINT');
  assert.is(await attach.exited, 0, attach.stderr());
  assert.match(attach.stdout(), /stopped following; run d1 goes on in process/);
  assert.ok(alive(pid), 'attach stopping leaves the run hosted');

  const stop = await runCli(['stop', 'd1', '--poll-ms', '200'], { cwd: ctx.dir.path, env: childEnv() });
  assert.is(stop.code, 0, `${stop.stdout}\n${stop.stderr}`);
  assert.match(stop.stdout, new RegExp(`asking process ${pid}, which hosts run d1 in the background, to let go of it`));
  assert.match(stop.stdout, /Run d1 is done\.[\s\S]*expired +2/);
  assert.not.ok(alive(pid), 'the background process ended');
  const status = await runCli(['status', 'd1', '--json'], { cwd: ctx.dir.path, env: childEnv() });
  assert.is((JSON.parse(status.stdout) as { status: string }).status, 'done');
});

Detach.run();
