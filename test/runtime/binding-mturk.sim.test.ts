// Issue 13, F1, S1 and S2: binding follows MTurk, not the first caller. Each test replays a timeline
// of the issue on the simulator (virtual clock) through the task server and the real SDK.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  ApproveAssignmentCommand,
  DeleteHITCommand,
  MTurkClient,
  UpdateExpirationForHITCommand,
} from '@aws-sdk/client-mturk';
import { moneyOfRun } from '../../src/runtime/money/spent.js';
import { createWorld, TEST_ACCESS_KEY, type SimWorker, type World } from '../support/sim-world.js';

const Binding = suite<{ world: World; runId: string; hitId: string }>('runtime binding follows MTurk');

Binding.before.each(async (ctx) => {
  ctx.world = await createWorld({ seed: 13 });
  const { runId } = await ctx.world.runtime.launchRun(ctx.world.config({ units: 1 }));
  await ctx.world.drive(() => ctx.world.runtime.runInfo(runId).counts.launched === 1, { label: 'launch' });
  ctx.runId = runId;
  ctx.hitId = ctx.world.runtime.store.hits.ofRun(runId)[0]!.id;
});

Binding.after.each(async (ctx) => {
  await ctx.world.close();
});

/** A worker who accepted the run's HIT on MTurk and registered on the task server. */
async function registered(world: World, hitId: string): Promise<SimWorker> {
  const w = world.worker();
  await w.accept({ hitId });
  const answer = await w.register();
  assert.is(answer.status, 200, JSON.stringify(answer.json));
  return w;
}

/** The assignments MTurk holds for the run's HITs, as [worker, status]. */
function onMTurk(world: World): Array<[string, string]> {
  return world.account().hits.flatMap((h) => h.assignments.map((a) => [a.workerId, a.status] as [string, string]));
}

/** What MTurk moved for approvals, in cents, against what the runtime recorded as moved. */
function moneyMoved(world: World): string[] {
  const moved: string[] = [];
  world.runtime.events.on('money.moved', (e) => moved.push(e.assignmentId ?? 'none'));
  return moved;
}

/** The sync sees the HIT Assignable twice (a confirmed return). */
async function syncSeesReturn(world: World, runId: string, unitId: string): Promise<void> {
  await world.drive(() => world.runtime.unitStatus(unitId) === 'launched', {
    label: 'return confirmed',
    maxMs: 120_000,
  });
  assert.is(world.runtime.runInfo(runId).counts.launched, 1);
}

/** `review --all --approve`, driven to its end: each item as [worker, outcome]. */
async function approveAll(world: World, runId: string): Promise<[string, string][]> {
  const report = await world.drive(world.runtime.review(runId, { all: true }, { kind: 'approve' }));
  return report!.items.map((i) => [i.workerId, i.outcome]);
}

function assertNoErrors(world: World): void {
  assert.equal(
    world.errors.map((e) => e.message),
    [],
  );
}

Binding(
  'F1: when A stores data and returns the HIT and B accepts it and registers then B gets 200 and the unit, A’s data stays under A, and the unit ends on B’s data',
  async ({ world, runId, hitId }) => {
    const { runtime } = world;
    const a = await registered(world, hitId);
    const unitId = a.unitId!;
    assert.is((await a.submitToServer({ sentiment: 'negative', comment: 'A, then returned' })).status, 200);
    await a.returnHIT();

    const b = world.worker();
    await b.accept({ hitId });
    const answer = await b.register();
    assert.is(answer.status, 200, `B is not locked out: ${JSON.stringify(answer.json)}`);
    assert.is(b.unitId, unitId);
    assert.ok(answer.json.task !== null, 'B gets the task data');
    assert.is(runtime.agentStatus(a.agentId!), 'returned', 'A’s stored data never completes the unit');
    assert.equal(runtime.store.agents.submission(a.agentId!), { sentiment: 'negative', comment: 'A, then returned' });

    const moved = moneyMoved(world);
    await b.submit({ sentiment: 'positive', comment: 'B' });
    await world.drive(() => runtime.unitStatus(unitId) === 'completed', { label: 'completed' });
    assert.is(runtime.store.units.require(unitId).agentId, b.agentId, 'the unit holds B’s work');
    assert.equal(
      await approveAll(world, runId),
      [[b.workerId, 'done']],
      'review --all --approve does not touch A’s assignment',
    );
    await world.drive(() => runtime.unitStatus(unitId) === 'accepted', { label: 'accepted' });
    assert.equal(moved, [b.assignmentId]);
    assert.equal(onMTurk(world), [
      [a.workerId, 'Returned'],
      [b.workerId, 'Approved'],
    ]);
    const exported = await runtime.store.exportRun(runId);
    assert.equal(exported.agents.map((x) => x.id).sort(), [a.agentId!, b.agentId!].sort(), 'the export has B’s agent');
    assertNoErrors(world);
  },
);

Binding(
  'F1: when A stores data and returns, B registers and then submits straight to MTurk then the unit ends on B’s data as MTurk has it',
  async ({ world, runId, hitId }) => {
    const { runtime } = world;
    const a = await registered(world, hitId);
    const unitId = a.unitId!;
    assert.is((await a.submitToServer({ sentiment: 'negative', comment: 'A' })).status, 200);
    await a.returnHIT();
    const b = await registered(world, hitId);
    await b.submitToMTurk({ sentiment: 'neutral', comment: 'B on MTurk only' });
    await world.drive(
      () => runtime.unitStatus(unitId) === 'completed' && runtime.agentStatus(b.agentId!) === 'completed',
      {
        label: 'reconciled',
      },
    );
    assert.equal(runtime.store.agents.submission(b.agentId!), { sentiment: 'neutral', comment: 'B on MTurk only' });
    assert.is(runtime.agentStatus(a.agentId!), 'returned');
    assert.equal(await approveAll(world, runId), [[b.workerId, 'done']]);
    assertNoErrors(world);
  },
);

Binding(
  'F1: when A stores data and returns and the sync sees it then the unit goes back to the pool, A is returned (not completed), and a never-registered B’s MTurk submission gets an agent of its own',
  async ({ world, runId, hitId }) => {
    const { runtime } = world;
    const a = await registered(world, hitId);
    const unitId = a.unitId!;
    assert.is((await a.submitToServer({ sentiment: 'negative', comment: 'A' })).status, 200);
    assert.is(runtime.agentStatus(a.agentId!), 'completed');
    await a.returnHIT();
    await syncSeesReturn(world, runId, unitId);
    assert.is(runtime.agentStatus(a.agentId!), 'returned', 'review --all will not pick A');
    assert.equal(
      runtime.store.agents.submission(a.agentId!),
      { sentiment: 'negative', comment: 'A' },
      'kept for the record',
    );

    const b = world.worker();
    await b.accept({ hitId });
    await b.submitToMTurk({ sentiment: 'positive', comment: 'B never registered' });
    const bAgent = `${b.assignmentId}-${b.workerId}`;
    await world.drive(
      () => runtime.store.agents.get(bAgent) !== undefined && runtime.agentStatus(bAgent) === 'completed',
      { label: 'B reconciled' },
    );
    assert.is(runtime.store.units.require(unitId).agentId, bAgent);
    assert.equal(runtime.store.agents.submission(bAgent), { sentiment: 'positive', comment: 'B never registered' });
    const moved = moneyMoved(world);
    assert.equal(await approveAll(world, runId), [[b.workerId, 'done']]);
    assert.equal(moved, [b.assignmentId]);
    assertNoErrors(world);
  },
);

Binding(
  'F1 (smaller form): when A stores data, returns, and nobody takes the HIT then the run ends with A returned and review --all has nothing to fail on',
  async ({ world, runId, hitId }) => {
    const { runtime } = world;
    const a = await registered(world, hitId);
    assert.is((await a.submitToServer({ sentiment: 'negative', comment: 'A' })).status, 200);
    await a.returnHIT();
    await syncSeesReturn(world, runId, a.unitId!);
    await world.drive(runtime.expireRun(runId));
    assert.is(runtime.unitStatus(a.unitId!), 'expired');
    assert.is(runtime.agentStatus(a.agentId!), 'returned');
    assert.equal(await approveAll(world, runId), []);
    assertNoErrors(world);
  },
);

Binding(
  'F1 (the gap): when A stores data and returns and B accepts and submits on MTurk within one poll period without loading the task page then the unit ends on B’s submission, A is returned and review --all --approve pays B only',
  async ({ world, runId, hitId }) => {
    const { runtime } = world;
    const a = await registered(world, hitId);
    const unitId = a.unitId!;
    assert.is((await a.submitToServer({ sentiment: 'negative', comment: 'A, then returned' })).status, 200);
    // No drive between these: the sync never sees the HIT Assignable, only Reviewable.
    await a.returnHIT();
    const b = world.worker();
    await b.accept({ hitId });
    await b.submitToMTurk({ sentiment: 'positive', comment: 'B, MTurk only' });
    const bAgent = `${b.assignmentId}-${b.workerId}`;
    await world.drive(
      () =>
        runtime.unitStatus(unitId) === 'completed' &&
        runtime.store.agents.get(bAgent) !== undefined &&
        runtime.agentStatus(bAgent) === 'completed',
      { label: 'MTurk’s submission reconciled' },
    );
    assert.is(runtime.store.units.require(unitId).agentId, bAgent, 'the unit holds the submission MTurk names');
    assert.is(runtime.agentStatus(a.agentId!), 'returned', 'A’s stored data never completes the unit');
    assert.equal(
      runtime.store.agents.submission(a.agentId!),
      { sentiment: 'negative', comment: 'A, then returned' },
      'kept under A for the record',
    );
    assert.equal(runtime.store.agents.submission(bAgent), { sentiment: 'positive', comment: 'B, MTurk only' });

    const moved = moneyMoved(world);
    assert.equal(
      await approveAll(world, runId),
      [[b.workerId, 'done']],
      'review --all --approve never names A’s assignment',
    );
    await world.drive(() => runtime.unitStatus(unitId) === 'accepted', { label: 'accepted' });
    assert.equal(moved, [b.assignmentId]);
    assert.equal(onMTurk(world), [
      [a.workerId, 'Returned'],
      [b.workerId, 'Approved'],
    ]);
    assert.is(moneyOfRun(runtime.store, runId).approved.count, 1, 'status counts the one approval MTurk made');
    const exported = await runtime.store.exportRun(runId);
    assert.equal(exported.agents.map((x) => x.id).sort(), [a.agentId!, bAgent].sort(), 'the export has B’s agent');
    assertNoErrors(world);
  },
);

Binding(
  'F1: when a bonus was queued for A before A stored data and returned the HIT then nothing is paid on A’s assignment, and B’s work is the unit’s',
  async ({ world, runId, hitId }) => {
    const { runtime } = world;
    const a = await registered(world, hitId);
    const unitId = a.unitId!;
    const asked = await world.drive(
      runtime.review(runId, { agentId: a.agentId! }, { kind: 'bonus', amountUsd: '0.50', reason: 'early' }),
    );
    assert.equal(
      asked!.items.map((i) => i.outcome),
      ['queued'],
    );
    world.sim.resetStats();
    assert.is((await a.submitToServer({ sentiment: 'negative', comment: 'A' })).status, 200);
    await runtime.whenIdle();
    assert.is(world.sim.stats().calls.SendBonus, undefined, 'stored data alone pays no queued bonus');
    const direct = await world.drive(runtime.review(runId, { agentId: a.agentId! }, { kind: 'approve' }));
    assert.equal(
      direct!.items.map((i) => [i.outcome, i.code]),
      [['refused', 'HST_ERR_REVIEW_STATE']],
      'work MTurk has not confirmed is not reviewed',
    );
    assert.match(direct!.items[0]!.reason ?? '', /MTurk has not confirmed/);
    await a.returnHIT();
    const b = world.worker();
    await b.accept({ hitId });
    await b.submitToMTurk({ sentiment: 'positive', comment: 'B' });
    const bAgent = `${b.assignmentId}-${b.workerId}`;
    await world.drive(
      () => runtime.store.agents.get(bAgent) !== undefined && runtime.agentStatus(bAgent) === 'completed',
      { label: 'reconciled' },
    );
    await runtime.whenIdle();
    assert.is(runtime.store.units.require(unitId).agentId, bAgent);
    assert.is(runtime.agentStatus(a.agentId!), 'returned');
    assert.is(world.sim.stats().calls.SendBonus, undefined, 'no bonus call on A’s returned assignment');
    assert.equal(world.account().bonusPayments, []);
    assertNoErrors(world);
  },
);

Binding(
  'F1: when a completed unit’s stored submission is A’s and MTurk lists A’s assignment submitted then one call confirms it and review approves A',
  async ({ world, runId, hitId }) => {
    const { runtime } = world;
    const a = await registered(world, hitId);
    const unitId = a.unitId!;
    await a.submit({ sentiment: 'neutral', comment: 'A, honest' });
    world.sim.resetStats();
    await world.drive(() => runtime.unitStatus(unitId) === 'completed', { label: 'completed' });
    await runtime.whenIdle();
    assert.is(world.sim.stats().calls.ListAssignmentsForHIT, 1, 'one call per completed unit');
    assert.is(runtime.store.units.require(unitId).agentId, a.agentId);
    assert.equal(await approveAll(world, runId), [[a.workerId, 'done']]);
    assertNoErrors(world);
  },
);

Binding(
  'F1: when MTurk refuses a money call on the unit’s assignment for its state then the review line says so and the unit asks MTurk again, once',
  async ({ world, runId, hitId }) => {
    const { runtime } = world;
    const a = await registered(world, hitId);
    const unitId = a.unitId!;
    await a.submit({ sentiment: 'neutral', comment: 'A' });
    await world.drive(() => runtime.unitStatus(unitId) === 'completed', { label: 'completed' });
    await runtime.whenIdle();
    // Someone approves the assignment outside hitstate; a rejection is then refused for its state.
    const outsider = new MTurkClient({
      endpoint: world.sim.url,
      region: 'us-east-1',
      credentials: { accessKeyId: TEST_ACCESS_KEY, secretAccessKey: 'outsider' },
      maxAttempts: 1,
    });
    try {
      await outsider.send(new ApproveAssignmentCommand({ AssignmentId: a.assignmentId! }));
    } finally {
      outsider.destroy();
    }
    world.sim.resetStats();
    const report = await world.drive(
      runtime.review(runId, { agentId: a.agentId! }, { kind: 'reject', feedback: 'Wrong label' }),
    );
    assert.equal(
      report!.items.map((i) => i.outcome),
      ['failed'],
    );
    assert.match(report!.items[0]!.reason ?? '', /status of.*asks MTurk again whose submission it holds/);
    await runtime.whenIdle();
    assert.is(world.sim.stats().calls.ListAssignmentsForHIT, 1, 'one call: MTurk still names A');
    assert.is(runtime.store.units.require(unitId).agentId, a.agentId);
    assert.is(runtime.agentStatus(a.agentId!), 'completed');
    const again = await world.drive(runtime.review(runId, { all: true }, { kind: 'approve' }));
    assert.equal(
      again!.items.map((i) => [i.workerId, i.outcome]),
      [[a.workerId, 'alreadyDone']],
    );
  },
);

Binding(
  'F1 (smaller form): when A stores data and returns and the HIT is then deleted on MTurk outside hitstate then the unit expires, A ends expired with its data kept, and review --all has nothing to fail on',
  async ({ world, runId, hitId }) => {
    const { runtime } = world;
    const a = await registered(world, hitId);
    const unitId = a.unitId!;
    assert.is((await a.submitToServer({ sentiment: 'negative', comment: 'A' })).status, 200);
    await a.returnHIT();
    const outsider = new MTurkClient({
      endpoint: world.sim.url,
      region: 'us-east-1',
      credentials: { accessKeyId: TEST_ACCESS_KEY, secretAccessKey: 'outsider' },
      maxAttempts: 1,
    });
    try {
      await outsider.send(new UpdateExpirationForHITCommand({ HITId: hitId, ExpireAt: new Date(0) }));
      await outsider.send(new DeleteHITCommand({ HITId: hitId }));
    } finally {
      outsider.destroy();
    }
    await world.drive(() => runtime.unitStatus(unitId) === 'expired', { label: 'expired', maxMs: 600_000 });
    assert.is(runtime.agentStatus(a.agentId!), 'expired', 'MTurk never had A’s submission');
    assert.equal(runtime.store.agents.submission(a.agentId!), { sentiment: 'negative', comment: 'A' });
    assert.equal(await approveAll(world, runId), []);
    assertNoErrors(world);
  },
);

Binding(
  'S1: when someone registers a made-up assignment on a free HIT (JSON or text/plain) then it is refused with no task data and no state; the worker who then accepts that HIT gets the unit and the task',
  async ({ world, runId, hitId }) => {
    const { runtime } = world;
    const agentsBefore = runtime.store.agents.ofRun(runId).length;
    const snapshotBefore = JSON.stringify(runtime.store.snapshots.ofRun(runId));
    for (const contentType of ['application/json', 'text/plain']) {
      const forged = await fetch(`${world.apiUrl}/agents`, {
        method: 'POST',
        headers: { 'Content-Type': contentType },
        body: JSON.stringify({ hitId, assignmentId: 'EVILLINK1', workerId: 'AVICTIM9' }),
      });
      const body = (await forged.json()) as { error?: { code: string }; task?: unknown; token?: unknown };
      assert.is(forged.status, 403, contentType);
      assert.is(body.error?.code, 'HST_ERR_SERVER_ASSIGNMENT_MISMATCH');
      assert.is(body.task, undefined, 'no task data');
      assert.is(body.token, undefined, 'no token to submit with');
    }
    await runtime.whenIdle();
    assert.is(runtime.store.agents.ofRun(runId).length, agentsBefore, 'no agent');
    assert.is(JSON.stringify(runtime.store.snapshots.ofRun(runId)), snapshotBefore, 'no state left behind');

    world.sim.resetStats();
    const w = await registered(world, hitId);
    assert.is(w.registration!.task !== null, true);
    assert.is(world.sim.stats().calls.GetAssignment, 1, 'an honest arrival costs one MTurk call');
    const reload = await w.register();
    assert.is(reload.status, 200);
    assert.is(world.sim.stats().calls.GetAssignment, 1, 'a reload costs none');
    assert.is((await w.submitToServer({ sentiment: 'positive', comment: 'real' })).status, 200);
    assertNoErrors(world);
  },
);

Binding(
  'S2: when a made-up assignment registers on the HIT a real worker holds then it is refused, and the real worker’s reload and task page still work and never say to return the HIT',
  async ({ world, hitId }) => {
    const { runtime } = world;
    const w = await registered(world, hitId);
    const forged = world.worker('AVICTIM9');
    forged.hitId = hitId;
    forged.assignmentId = 'EVILLINK2';
    assert.is((await forged.register()).status, 403);
    const page = await fetch(
      `${world.taskUrl}?hitId=${hitId}&assignmentId=EVILLINK2&workerId=AVICTIM9&turkSubmitTo=${encodeURIComponent(world.sim.url)}`,
      { headers: { Accept: 'text/html' } },
    );
    assert.is(page.status, 403);
    assert.not.match(await page.text(), /return it/);

    const reload = await w.register();
    assert.is(reload.status, 200);
    assert.is(reload.json.agentId, w.agentId, 'the same agent');
    assert.ok(reload.json.task !== null);
    const own = await fetch(
      `${world.taskUrl}?hitId=${hitId}&assignmentId=${w.assignmentId}&workerId=${w.workerId}&turkSubmitTo=${encodeURIComponent(world.sim.url)}`,
      { headers: { Accept: 'text/html' } },
    );
    assert.is(own.status, 200);
    assert.is(runtime.agentStatus(w.agentId!), 'in task');
    assertNoErrors(world);
  },
);

Binding(
  'S3: when made-up and over-long registrations flood the task server then they are refused (400, 403 or 429); once MTurk cannot be asked at once, one binds the free HIT unconfirmed and is released when MTurk is asked',
  async ({ world, runId, hitId }) => {
    const { runtime } = world;
    await world.advance(5_000); // the rate governor refilled after the launch
    const statuses: number[] = [];
    for (let i = 0; i < 60; i++) {
      const long = i % 2 === 0;
      const res = await fetch(`${world.apiUrl}/agents`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({
          hitId,
          assignmentId: long ? `A${'x'.repeat(100)}${i}` : `MADEUP${i}`,
          workerId: long ? `W${'y'.repeat(100)}${i}` : `WORKER${i}`,
        }),
      });
      statuses.push(res.status);
      if (res.status === 429 || res.status === 503) assert.ok(Number(res.headers.get('retry-after')) >= 1);
    }
    const count = (status: number) => statuses.filter((s) => s === status).length;
    assert.is(count(400), 30, 'every over-long id is refused at the route, before any limit or MTurk call');
    assert.ok(count(403) >= 1, 'made-up assignments MTurk was asked about are refused');
    assert.ok(count(200) <= 1, 'at most one arrival per HIT is bound before MTurk confirms it');
    assert.ok(count(429) > 0, 'the per-HIT and per-address limits cut the flood');
    assert.is(count(200) + count(400) + count(403) + count(429) + count(503), 60);
    // MTurk asked in the background: a made-up assignment's binding is released, the HIT free again.
    await world.drive(() => runtime.unitStatus(runtime.store.units.ofRun(runId)[0]!.id) === 'launched', {
      label: 'released',
    });
    assert.ok(runtime.store.agents.ofRun(runId).length <= 1, 'no agent beyond the one released binding');
    assert.equal(world.serverErrors, []);
    assertNoErrors(world);
  },
);

Binding.run();
