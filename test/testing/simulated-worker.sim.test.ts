// SimulatedWorker against the real task server and runtime (the test world): the wrapper's API
// calls without loading the page, what they answer, and how refusals arrive. And the world's
// driver holding time still while the task server answers a request.
import { request } from 'node:http';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { labelTask } from '../../examples/label-task/index.js';
import { SimulatedWorker, SimulatedWorkerError } from '../../src/testing/index.js';
import { createWorld, type World } from '../support/sim-world.js';

interface Ctx {
  world: World;
  runId: string;
}

const Api = suite<Ctx>('testing/simulated-worker on the task server API');

Api.before.each(async (ctx) => {
  ctx.world = await createWorld({ seed: 5 });
  ctx.runId = (await ctx.world.runtime.launchRun(ctx.world.config({ units: 2 }))).runId;
  await ctx.world.drive(() => ctx.world.runtime.runInfo(ctx.runId).counts.launched === 2, { label: 'launch' });
});

Api.after.each(async (ctx) => {
  await ctx.world.close();
});

/** A worker who accepted a HIT of the run on MTurk and talks to the task server's API directly. */
async function accepted(world: World, runId: string): Promise<SimulatedWorker> {
  const worker = new SimulatedWorker({
    workerId: world.sim.workers.create(),
    mturkUrl: world.sim.url,
    tracker: world.driver,
  });
  const held = await world.sim.workers.accept(worker.workerId, world.hitTypeId(runId));
  worker.assignmentId = held.assignmentId;
  worker.hitId = held.hitId;
  worker.apiUrl = world.apiUrl;
  return worker;
}

async function refusal(call: Promise<unknown>): Promise<SimulatedWorkerError> {
  const err = await call.then(
    () => null,
    (e: unknown) => e,
  );
  assert.instance(err, SimulatedWorkerError);
  return err as SimulatedWorkerError;
}

Api(
  'when the API base is set without loading the page then register, heartbeat, submit and leavePage answer as the task server does',
  async ({ world, runId }) => {
    const worker = await accepted(world, runId);
    const first = await worker.register();
    assert.is(first.status, 'in task');
    assert.is(first.submitted, false);
    assert.is(first.heartbeatIntervalSec, 20);
    assert.ok(
      Date.parse(first.tokenExpiresAt) > world.clock.now(),
      'the token expires in the future of the virtual clock',
    );
    assert.equal(first.task, labelTask.units(2)[world.runtime.store.units.require(first.unitId).index]);
    assert.is((await worker.register()).agentId, first.agentId, 'the same arrival gets the same agent');
    assert.equal(await worker.heartbeat(), { agentId: first.agentId, status: 'in task', submitted: false });
    const data = { sentiment: 'positive', comment: 'fine' };
    assert.equal(await worker.submitToTaskServer(data), { agentId: first.agentId, submitted: true });
    assert.equal(world.runtime.store.agents.submission(first.agentId), data);
    const reload = await worker.register();
    assert.equal([reload.submitted, reload.submission], [true, data], 'a reload gets the stored submission');
    assert.equal(await worker.leavePage(), { agentId: first.agentId, disconnected: true });
    assert.ok(world.served.some((r) => r.method === 'POST' && r.url.endsWith('/disconnect') && r.status === 200));
  },
);

Api(
  "when the task server refuses then the error carries the status, the code and the server's error object",
  async ({ world, runId }) => {
    const owner = await accepted(world, runId);
    await owner.register();
    const thief = new SimulatedWorker({ workerId: world.sim.workers.create(), mturkUrl: world.sim.url });
    thief.assignmentId = owner.assignmentId;
    thief.hitId = owner.hitId;
    thief.apiUrl = world.apiUrl;
    const stolen = await refusal(thief.register());
    assert.is(stolen.status, 403);
    assert.is(stolen.code, 'HST_ERR_SERVER_ASSIGNMENT_MISMATCH');
    assert.is(stolen.refusal?.code, 'HST_ERR_SERVER_ASSIGNMENT_MISMATCH');
    assert.ok((stolen.refusal?.message ?? '').length > 0);
    assert.match(stolen.message, /refused \/agents \(403 HST_ERR_SERVER_ASSIGNMENT_MISMATCH\)/);
    assert.is(thief.registration, undefined, 'a refused registration is not kept');

    const nameless = new SimulatedWorker({ workerId: world.sim.workers.create(), mturkUrl: world.sim.url });
    nameless.assignmentId = owner.assignmentId;
    nameless.apiUrl = world.apiUrl;
    const bad = await refusal(nameless.register());
    assert.equal([bad.status, bad.code, bad.refusal?.field], [400, 'HST_ERR_SERVER_BAD_REQUEST', 'hitId']);

    await owner.submitToTaskServer({ sentiment: 'neutral', comment: 'first' });
    const second = await refusal(owner.submitToTaskServer({ sentiment: 'negative', comment: 'second' }));
    assert.equal([second.status, second.code], [409, 'HST_ERR_SERVER_ALREADY_SUBMITTED']);
    assert.equal(world.runtime.store.agents.submission(owner.agentId!), { sentiment: 'neutral', comment: 'first' });
  },
);

Api(
  'when nothing was accepted or opened then the worker says what to do first instead of calling',
  async ({ world }) => {
    const worker = new SimulatedWorker({ workerId: world.sim.workers.create(), mturkUrl: world.sim.url });
    const err = await refusal(worker.submitToTaskServer({}));
    assert.is(err.status, 0);
    assert.match(err.message, /submitToTaskServer: open the task first/);
    assert.equal(world.served, []);
  },
);

Api.run();

const Driver = suite<Ctx>('test world driver');

Driver.before.each(async (ctx) => {
  ctx.world = await createWorld({ seed: 6 });
});

Driver.after.each(async (ctx) => {
  await ctx.world.close();
});

/** Lets pending I/O run one turn of the event loop. */
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

Driver(
  'when a request to the task server is in flight then time does not move until it is answered',
  async ({ world }) => {
    const body = JSON.stringify({ hitId: 'HITX', assignmentId: 'ASSIGNMENTX', workerId: 'AWORKERX' });
    let status = 0;
    const req = request(
      `${world.apiUrl}/agents`,
      { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        status = res.statusCode ?? 0;
        res.resume();
      },
    );
    const closed = new Promise<void>((resolve, reject) => {
      req.on('close', resolve);
      req.on('error', reject);
    });
    req.write(body.slice(0, 10));
    for (let i = 0; world.driver.busy === 0; i++) {
      if (i > 10_000) throw new Error('the task server never started on the request');
      await turn();
    }
    const start = world.clock.now();
    const advancing = world.advance(5000);
    for (let i = 0; i < 50; i++) await turn();
    assert.is(world.clock.now(), start, 'time stands still while the body is still coming');
    req.end(body.slice(10));
    await advancing;
    await closed;
    assert.is(world.clock.now(), start + 5000, 'then the advance runs its course');
    assert.is(status, 403, 'the arrival of no run is refused once its body is complete');
    assert.equal(
      world.served.map((r) => [r.method, r.url, r.status]),
      [['POST', '/hitstate/api/agents', 403]],
    );
  },
);

Driver.run();
