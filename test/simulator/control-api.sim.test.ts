import { CreateHITCommand, CreateWorkerBlockCommand, GetHITCommand, type MTurkClient } from '@aws-sdk/client-mturk';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { VirtualClock } from '../../src/clock.js';
import { createSimulator, type Simulator } from '../../src/simulator/index.js';
import { clientFor, getJson, hitInput, postJson, rejection, startSim } from './helpers.js';

const Control = suite<{ sim: Simulator; mturk: MTurkClient }>('simulator control API', {} as never);

Control.before.each(async (ctx) => {
  ctx.sim = await startSim();
  ctx.mturk = clientFor(ctx.sim);
});
Control.after.each(async (ctx) => {
  ctx.mturk.destroy();
  await ctx.sim.close();
});

Control(
  'when workers act through the control API then accept, submit, return and abandon follow MTurk rules',
  async ({ sim, mturk }) => {
    const { HIT } = await mturk.send(new CreateHITCommand(hitInput({ MaxAssignments: 3 })));
    const hitId = HIT!.HITId!;
    const created = await postJson(`${sim.url}/_sim/workers`);
    assert.is(created.status, 200);
    assert.match(created.json.workerId, /^A[A-Z0-9]{13}$/);
    const one = await postJson(`${sim.url}/_sim/workers/${created.json.workerId}/accept`, { hitId });
    assert.equal(Object.keys(one.json).sort(), ['assignmentId', 'hitId']);
    assert.is(one.json.hitId, hitId);
    const two = await postJson(`${sim.url}/_sim/workers/AWORKERTWO/accept`, { hitTypeId: HIT!.HITTypeId });
    const three = await postJson(`${sim.url}/_sim/workers/AWORKERTHREE/accept`, { hitId });
    const submitted = await postJson(`${sim.url}/_sim/assignments/${one.json.assignmentId}/submit`, {
      fields: { label: 'cat', tags: ['a', 'b'] },
    });
    assert.equal(submitted.json, { assignmentId: one.json.assignmentId, hitId, status: 'Submitted' });
    assert.is((await postJson(`${sim.url}/_sim/assignments/${two.json.assignmentId}/return`)).json.status, 'Returned');
    assert.is(
      (await postJson(`${sim.url}/_sim/assignments/${three.json.assignmentId}/abandon`)).json.status,
      'Abandoned',
    );
    const again = await postJson(`${sim.url}/_sim/assignments/${three.json.assignmentId}/abandon`);
    assert.is(again.status, 409);
    assert.is(again.json.error.code, 'HST_ERR_SIM_ASSIGNMENT_STATE');
    const hit = (await mturk.send(new GetHITCommand({ HITId: hitId }))).HIT!;
    assert.equal(
      [hit.NumberOfAssignmentsPending, hit.NumberOfAssignmentsAvailable, hit.HITStatus],
      [0, 2, 'Assignable'],
    );
    const answer = sim.inspect().accounts.AKIDREQUESTERONE!.hits[0]!.assignments[0]!.answer!;
    assert.is((answer.match(/<QuestionIdentifier>tags<\/QuestionIdentifier>/g) ?? []).length, 2);
  },
);

Control('when an accept is refused then the answer is a 4xx JSON error with the reason', async ({ sim, mturk }) => {
  const { HIT } = await mturk.send(
    new CreateHITCommand(
      hitInput({
        QualificationRequirements: [
          { QualificationTypeId: '00000000000000000071', Comparator: 'EqualTo', LocaleValues: [{ Country: 'DE' }] },
        ],
      }),
    ),
  );
  const hitId = HIT!.HITId!;
  const unqualified = await postJson(`${sim.url}/_sim/workers/AWORKERONE/accept`, { hitId });
  assert.is(unqualified.status, 403);
  assert.is(unqualified.json.error.code, 'HST_ERR_SIM_WORKER_NOT_ALLOWED');
  assert.match(unqualified.json.error.message, /Worker_Locale EqualTo DE/);
  const located = await postJson(`${sim.url}/_sim/workers/AWORKERONE`, {
    locale: { Country: 'DE', Subdivision: 'BE' },
  });
  assert.equal(located.json.locale, { Country: 'DE', Subdivision: 'BE' });
  assert.is((await postJson(`${sim.url}/_sim/workers/AWORKERONE/accept`, { hitId })).status, 200);
  sim.workers.setLocale('AWORKERTWO', { Country: 'DE' });
  const full = await postJson(`${sim.url}/_sim/workers/AWORKERTWO/accept`, { hitId });
  assert.is(full.status, 409);
  assert.is(full.json.error.code, 'HST_ERR_SIM_HIT_UNAVAILABLE');
  await mturk.send(new CreateWorkerBlockCommand({ WorkerId: 'AWORKERTWO', Reason: 'r' }));
  assert.is((await postJson(`${sim.url}/_sim/workers/AWORKERTWO/accept`, { hitId })).status, 403);
  const unknown = await postJson(`${sim.url}/_sim/workers/AWORKERTWO/accept`, {
    hitId: '3NOTHERENOTHERENOTHERENOTHERE1',
  });
  assert.is(unknown.status, 404);
  assert.is(unknown.json.error.code, 'HST_ERR_SIM_NOT_FOUND');
  const noTarget = await postJson(`${sim.url}/_sim/workers/AWORKERTWO/accept`, {});
  assert.is(noTarget.status, 400);
  const badWorker = await postJson(`${sim.url}/_sim/workers/worker-1/accept`, { hitId });
  assert.is(badWorker.status, 400);
  assert.is(badWorker.json.error.field, 'workerId');
  const badLocale = await postJson(`${sim.url}/_sim/workers/AWORKERONE`, { locale: { Country: 'Germany' } });
  assert.is(badLocale.status, 400);
  const res = await fetch(`${sim.url}/_sim/workers/AWORKERONE/accept`, { method: 'POST', body: '{"hitId":' });
  assert.is(res.status, 400);
  assert.match((await res.json()).error.message, /not valid JSON/);
  const route = await getJson(`${sim.url}/_sim/nothing`);
  assert.is(route.status, 404);
});

Control(
  'when the clock is advanced through the API then timers fire and the clock reports the new time',
  async ({ sim, mturk }) => {
    const { HIT } = await mturk.send(new CreateHITCommand(hitInput({ LifetimeInSeconds: 120 })));
    const start = (await getJson(`${sim.url}/_sim/clock`)).json;
    assert.equal([start.virtual, start.nowMs], [true, sim.clock.now()]);
    const moved = await postJson(`${sim.url}/_sim/clock/advance`, { seconds: 120 });
    assert.is(moved.json.nowMs, start.nowMs + 120_000);
    assert.is((await mturk.send(new GetHITCommand({ HITId: HIT!.HITId }))).HIT!.HITStatus, 'Reviewable');
    const negative = await postJson(`${sim.url}/_sim/clock/advance`, { seconds: -1 });
    assert.is(negative.status, 400);
  },
);

Control(
  'when stats and state are read through the API then they match the in-process views',
  async ({ sim, mturk }) => {
    await mturk.send(new CreateHITCommand(hitInput()));
    const stats = await getJson(`${sim.url}/_sim/stats`);
    assert.equal(stats.json, { calls: { CreateHIT: 1 }, throttled: 0, faults: 0, dropped: 0 });
    assert.equal(stats.json, sim.stats());
    const state = await getJson(`${sim.url}/_sim/state`);
    assert.equal(state.json, sim.inspect());
    assert.is(state.json.accounts.AKIDREQUESTERONE.hits.length, 1);
    const reset = await postJson(`${sim.url}/_sim/stats/reset`);
    assert.equal(reset.json, { calls: {}, throttled: 0, faults: 0, dropped: 0 });
    assert.equal(sim.stats().calls, {});
  },
);

Control('when the simulator runs on real time then advancing is refused', async () => {
  const sim = await createSimulator({ seed: 1 });
  try {
    const err = await rejection(sim.advance(10));
    assert.is(err.code, 'HST_ERR_SIM_OPTIONS_INVALID');
    const res = await postJson(`${sim.url}/_sim/clock/advance`, { seconds: 1 });
    assert.is(res.status, 409);
    assert.is((await getJson(`${sim.url}/_sim/clock`)).json.virtual, false);
  } finally {
    await sim.close();
  }
});

Control(
  'when a VirtualClock is shared with the caller then advancing it directly fires the simulator timers',
  async () => {
    const clock = new VirtualClock(Date.UTC(2026, 5, 1));
    const sim = await createSimulator({ clock, seed: 2 });
    const mturk = clientFor(sim);
    try {
      assert.is(sim.clock, clock);
      const { HIT } = await mturk.send(new CreateHITCommand(hitInput({ LifetimeInSeconds: 60 })));
      assert.is(HIT!.CreationTime!.getTime(), Date.UTC(2026, 5, 1));
      await clock.advance(60_000);
      assert.is(sim.inspect().accounts.AKIDREQUESTERONE!.hits[0]!.status, 'Reviewable');
    } finally {
      mturk.destroy();
      await sim.close();
    }
  },
);

Control('when options are invalid then createSimulator names the option', async () => {
  const cases: [Record<string, unknown>, string][] = [
    [{ port: 70000 }, 'port'],
    [{ clock: 'fast' }, 'clock'],
    [{ throttle: { ratePerSecond: 0, burst: 1 } }, 'throttle.ratePerSecond'],
    [{ throttle: { ratePerSecond: 1, burst: 0.5 } }, 'throttle.burst'],
    [{ faultRate: 2 }, 'faultRate'],
    [{ balanceUsd: -1 }, 'balanceUsd'],
    [{ maxBodyBytes: 10 }, 'maxBodyBytes'],
    [{ stateFile: '/no/such/dir/state.json' }, 'stateFile'],
  ];
  for (const [options, field] of cases) {
    const err = await rejection(createSimulator(options as never));
    assert.is(err.code, 'HST_ERR_SIM_OPTIONS_INVALID');
    assert.is((err.details as { field?: string }).field, field);
  }
  const first = await createSimulator({ seed: 1 });
  try {
    const port = Number(new URL(first.url).port);
    const busy = await rejection(createSimulator({ port }));
    assert.is(busy.code, 'HST_ERR_SIM_OPTIONS_INVALID');
    assert.match(busy.message, /EADDRINUSE/);
  } finally {
    await first.close();
  }
});

Control.run();
