// `hitstate/testing`: the virtual-time driver and the simulated HTTP worker, as a user would
// combine them to test a task server, plus the pinned list of the entry point's exports.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { VirtualClock } from '../../src/clock.js';
import { createRuntime, type Runtime } from '../../src/runtime/index.js';
import { createTaskServer } from '../../src/server/index.js';
import { createSimulator, type Simulator } from '../../src/simulator/index.js';
import { SimulatedWorker, SimulatedWorkerError, VirtualTimeDriver } from '../../src/testing/index.js';
import { labelExamplePage, serverPageOptions } from '../../src/cli/task-page.js';
import { tempDir } from './helpers.js';

const Exports = suite('hitstate/testing exports');

Exports('when the entry point is imported then its runtime exports are exactly the documented ones', async () => {
  const entry = await import('../../src/testing/index.js');
  assert.equal(Object.keys(entry).sort(), ['SimulatedWorker', 'SimulatedWorkerError', 'VirtualTimeDriver']);
});

Exports.run();

const Driver = suite('testing/virtual-time-driver');

Driver(
  'when driven then time jumps to each timer only once the system is idle, and tracked work holds it still',
  async () => {
    const clock = new VirtualClock(0);
    const driver = new VirtualTimeDriver({ clock, stepMs: 1000 });
    const seen: number[] = [];
    clock.setTimeout(() => seen.push(clock.now()), 2500);
    let release!: () => void;
    const held = driver.track(new Promise<void>((resolve) => (release = resolve)));
    const drive = driver.drive(() => seen.length === 1, { label: 'the timer' });
    await new Promise((resolve) => setImmediate(resolve));
    assert.is(clock.now(), 0, 'time does not move while tracked work is pending');
    release();
    await held;
    await drive;
    assert.equal(seen, [2500]);
    assert.is(clock.now(), 2500, 'steps go to the next timer, not past it');
  },
);

Driver(
  'when the condition is never reached then drive fails naming it after maxMs of virtual time, and an aborted signal stops it',
  async () => {
    const driver = new VirtualTimeDriver({ clock: new VirtualClock(0) });
    const err = await driver
      .drive(() => false, { label: 'never', maxMs: 5000 })
      .then(
        () => null,
        (e: Error) => e,
      );
    assert.match(err?.message ?? '', /drive \(never\): not reached after 5 s of virtual time/);
    const controller = new AbortController();
    controller.abort(new Error('stopped by the test'));
    const aborted = await driver
      .drive(() => false, { signal: controller.signal })
      .then(
        () => null,
        (e: Error) => e,
      );
    assert.match(aborted?.message ?? '', /stopped by the test/);
  },
);

Driver('when sleeping on the driver then the promise resolves once that much virtual time passed', async () => {
  const clock = new VirtualClock(1000);
  const driver = new VirtualTimeDriver({ clock });
  const woke = driver.sleep(60_000);
  await driver.drive(woke);
  assert.is(clock.now(), 61_000);
});

Driver.run();

interface WorldCtx {
  dir: ReturnType<typeof tempDir>;
  sim: Simulator;
  runtime: Runtime;
  server: Server;
  driver: VirtualTimeDriver;
  taskUrl: string;
}

const Worker = suite<WorldCtx>('testing/simulated-worker');

Worker.before.each(async (ctx) => {
  const clock = new VirtualClock(Date.UTC(2026, 2, 1));
  ctx.dir = tempDir();
  ctx.sim = await createSimulator({ clock, seed: 3 });
  ctx.runtime = await createRuntime({
    environment: { kind: 'custom', endpoint: ctx.sim.url },
    requester: { name: 'test', credentials: { kind: 'static', accessKeyId: 'AKIDTESTING', secretAccessKey: 'x' } },
    clock,
    storeDir: ctx.dir.path,
  });
  const tasks = createTaskServer(ctx.runtime.taskServerBackend(), {
    secret: 'testing-secret-0123456789abcdef0123',
    clock,
    ...serverPageOptions(labelExamplePage(), 'Label'),
  });
  ctx.server = createServer((req, res) => void tasks.handle(req, res));
  await new Promise<void>((resolve) => ctx.server.listen(0, '127.0.0.1', () => resolve()));
  ctx.taskUrl = `http://127.0.0.1:${(ctx.server.address() as AddressInfo).port}${tasks.taskPath}`;
  ctx.driver = new VirtualTimeDriver({ clock, whenIdle: () => ctx.runtime.whenIdle() });
});

Worker.after.each(async (ctx) => {
  await ctx.runtime.close();
  await new Promise<void>((resolve) => {
    ctx.server.close(() => resolve());
    ctx.server.closeAllConnections();
  });
  await ctx.sim.close();
  ctx.dir.remove();
});

async function launch(ctx: WorldCtx, extra: object = {}): Promise<{ runId: string; hitTypeId: string }> {
  const { runId } = await ctx.runtime.launchRun({
    title: 'Label',
    description: 'Label a sentence',
    reward: '0.30',
    assignmentDurationSec: 300,
    units: [{ text: 'Nice' }],
    taskUrl: ctx.taskUrl,
    ...extra,
  });
  await ctx.driver.drive(() => ctx.runtime.runInfo(runId).status === 'running', { label: 'launch' });
  return { runId, hitTypeId: ctx.runtime.runInfo(runId).hitTypeId! };
}

Worker(
  'when a worker accepts, opens the task and submits then the task server and MTurk both have the answer',
  async (ctx) => {
    const { runId, hitTypeId } = await launch(ctx);
    const worker = new SimulatedWorker({
      workerId: 'A1TESTINGWORKER',
      mturkUrl: ctx.sim.url,
      tracker: ctx.driver,
      sleep: (ms) => ctx.driver.sleep(ms),
    });
    const accepted = await worker.accept({ hitTypeId });
    assert.ok(accepted.accepted);
    const registration = await worker.openTask();
    assert.equal(registration.task, { text: 'Nice' });
    assert.is(registration.status, 'in task');
    assert.ok(worker.apiUrl!.endsWith('/hitstate/api'), 'the API base is read from the wrapper script tag');
    await ctx.driver.drive(worker.work(45_000));
    await worker.submit({ sentiment: 'positive', comment: 'nice' });
    await ctx.driver.drive(() => ctx.runtime.unitStatus(worker.unitId!) === 'completed', { label: 'completed' });
    assert.equal(ctx.runtime.store.agents.submission(worker.agentId!), { sentiment: 'positive', comment: 'nice' });
    const assignment = ctx.sim.inspect().accounts.AKIDTESTING!.hits[0]!.assignments[0]!;
    assert.is(assignment.status, 'Submitted');
    assert.match(JSON.stringify(assignment), /hitstate_submission/);
    assert.ok(runId.length > 0);
  },
);

Worker(
  'when MTurk refuses a worker then accept reports the refusal and its reason instead of throwing',
  async (ctx) => {
    const { hitTypeId } = await launch(ctx, { mturk: { minApprovalRate: 90 } });
    ctx.sim.workers.setSystemQualification('A1LOWRATE', '000000000000000000L0', 50);
    const worker = new SimulatedWorker({ workerId: 'A1LOWRATE', mturkUrl: ctx.sim.url, tracker: ctx.driver });
    const result = await worker.accept({ hitTypeId });
    assert.equal(result.accepted, false);
    if (!result.accepted) {
      assert.is(result.status, 403);
      assert.match(result.reason, /Worker_PercentAssignmentsApproved GreaterThanOrEqualTo 90/);
    }
  },
);

Worker(
  'when a worker returns the HIT then the unit goes back to the pool, the task server keeps a late submission apart, and MTurk refuses it',
  async (ctx) => {
    const { hitTypeId } = await launch(ctx);
    const worker = new SimulatedWorker({ workerId: 'A1RETURNER', mturkUrl: ctx.sim.url, tracker: ctx.driver });
    await worker.accept({ hitTypeId });
    const { unitId } = await worker.openTask();
    await worker.returnHIT();
    await ctx.driver.drive(() => ctx.runtime.unitStatus(unitId) === 'launched', { label: 'return seen' });
    // The task server keeps the data (the return might only be inferred); MTurk refuses the returned assignment.
    assert.equal(await worker.submitToTaskServer({ sentiment: 'neutral', comment: '' }), {
      agentId: worker.agentId,
      submitted: true,
    });
    assert.is(ctx.runtime.agentStatus(worker.agentId!), 'returned');
    const err = await worker.submitToMTurk({ sentiment: 'neutral', comment: '' }).then(
      () => null,
      (e: unknown) => e,
    );
    assert.instance(err, SimulatedWorkerError);
    assert.ok((err as SimulatedWorkerError).status >= 400, `MTurk refuses: ${String(err)}`);
  },
);

Worker.run();
