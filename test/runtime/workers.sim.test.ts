// Workers who do not simply finish: a return and a re-accept by another worker, a worker who walks
// away, a worker whose submission never reached the task server, a worker who never reached it
// at all, and MTurk's auto-approval.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { SUBMISSION_FIELD } from '../../src/mturk/answer-xml.js';
import { isRawAnswerSubmission, RAW_ANSWER_KEY } from '../../src/runtime/commands/hit-commands.js';
import { createWorld, type World } from '../support/sim-world.js';

const Workers = suite<{ world: World }>('runtime workers');

Workers.before.each(async (ctx) => {
  ctx.world = await createWorld({ seed: 11 });
});

Workers.after.each(async (ctx) => {
  await ctx.world.close();
});

async function launched(world: World, units: number, overrides = {}): Promise<string> {
  const { runId } = await world.runtime.launchRun(world.config({ units, ...overrides }));
  await world.drive(() => world.runtime.runInfo(runId).counts.launched === units, { label: 'launch' });
  return runId;
}

Workers(
  'when a worker returns the HIT then the unit goes back to the pool, another worker completes it, and the returned worker’s late data is kept apart',
  async ({ world }) => {
    const { runtime } = world;
    const runId = await launched(world, 1);
    const first = world.worker();
    await first.accept(world.hitTypeId(runId));
    assert.is((await first.register()).status, 200);
    const unitId = first.unitId!;
    assert.is(runtime.unitStatus(unitId), 'assigned');
    await first.returnHIT();
    await world.drive(() => runtime.unitStatus(unitId) === 'launched', { label: 'return seen' });
    assert.is(runtime.agentStatus(first.agentId!), 'returned');

    const second = world.worker();
    await second.accept({ hitId: first.hitId! });
    assert.is((await second.register()).status, 200);
    assert.is(second.unitId, unitId, 'the same unit, another agent');
    await second.submit({ sentiment: 'neutral', comment: 'second' });
    await world.drive(() => runtime.unitStatus(unitId) === 'completed', { label: 'completed' });
    assert.equal(runtime.store.agents.submission(second.agentId!), { sentiment: 'neutral', comment: 'second' });
    assert.is(runtime.store.agents.submission(first.agentId!), undefined);
    // A return may be inferred (another registration on the HIT), so a late submission is kept under
    // the returned worker's own agent; it changes neither the unit nor who MTurk pays.
    const late = await first.submitToServer({ sentiment: 'positive', comment: 'late' });
    assert.is(late.status, 200, 'a returned worker’s data is kept, not lost');
    assert.equal(runtime.store.agents.submission(first.agentId!), { sentiment: 'positive', comment: 'late' });
    assert.is(runtime.agentStatus(first.agentId!), 'returned');
    assert.is(runtime.unitStatus(unitId), 'completed');
    assert.equal(runtime.store.agents.submission(second.agentId!), { sentiment: 'neutral', comment: 'second' });
    assert.equal(
      world.errors.map((e) => e.message),
      [],
    );
  },
);

Workers(
  'when a worker walks away then the agent times out and the unit is free again after the assignment duration',
  async ({ world }) => {
    const { runtime } = world;
    const runId = await launched(world, 1, { assignmentDurationSec: 300 });
    const idle = world.worker();
    await idle.accept(world.hitTypeId(runId));
    await idle.register();
    const unitId = idle.unitId!;
    await world.drive(() => runtime.unitStatus(unitId) === 'launched', { label: 'lapse', maxMs: 3_600_000 });
    assert.is(runtime.agentStatus(idle.agentId!), 'timeout');
    const next = world.worker();
    await next.accept(world.hitTypeId(runId));
    assert.is((await next.register()).status, 200);
    assert.is(next.unitId, unitId);
    assert.equal(
      world.errors.map((e) => e.message),
      [],
    );
  },
);

Workers(
  'when the task server missed a submission then the data is recovered losslessly from MTurk',
  async ({ world }) => {
    const { runtime } = world;
    const runId = await launched(world, 1);
    const w = world.worker();
    await w.accept(world.hitTypeId(runId));
    await w.register();
    const data = { sentiment: 'negative', comment: 'cold soup', nested: { scores: [1, 2, 3], note: '<b>&' } };
    await w.submitToMTurk(data);
    const drift: string[] = [];
    runtime.events.on('drift.found', (e) => drift.push(e.kind));
    await world.drive(
      () => runtime.unitStatus(w.unitId!) === 'completed' && runtime.store.agents.submission(w.agentId!) !== undefined,
      { label: 'reconciled' },
    );
    assert.equal(runtime.store.agents.submission(w.agentId!), data);
    assert.is(runtime.agentStatus(w.agentId!), 'completed');
    assert.ok(drift.includes('submissionMissing'));
    const approved = await world.drive(runtime.review(runId, { unitId: w.unitId! }, { kind: 'approve' }));
    assert.equal(
      approved!.items.map((i) => i.outcome),
      ['done'],
    );
    assert.equal(
      world.errors.map((e) => e.message),
      [],
    );
  },
);

Workers(
  'when the task server missed a submission whose MTurk answer holds no JSON in the wrapper field then the raw answer fields are kept, flagged, and the run can end',
  async ({ world }) => {
    const { runtime } = world;
    const runId = await launched(world, 1);
    const w = world.worker();
    await w.accept(world.hitTypeId(runId));
    await w.register();
    await world.sim.workers.submit(w.assignmentId!, { [SUBMISSION_FIELD]: '{"sentiment": "neg', comment: 'cut short' });
    const drift: string[] = [];
    runtime.events.on('drift.found', (e) => drift.push(e.message));
    await world.drive(
      () => runtime.unitStatus(w.unitId!) === 'completed' && runtime.store.agents.submission(w.agentId!) !== undefined,
      { label: 'reconciled' },
    );
    const stored = runtime.store.agents.submission(w.agentId!);
    assert.ok(isRawAnswerSubmission(stored), 'flagged as not the wrapper’s data');
    assert.equal(stored[RAW_ANSWER_KEY].fields, { [SUBMISSION_FIELD]: '{"sentiment": "neg', comment: 'cut short' });
    assert.match(stored[RAW_ANSWER_KEY].reason, /not valid JSON/);
    assert.ok(
      drift.some((m) => m.includes(RAW_ANSWER_KEY)),
      'the drift report says where the raw answer is',
    );
    assert.is(runtime.agentStatus(w.agentId!), 'completed');
    const approved = await world.drive(runtime.review(runId, { unitId: w.unitId! }, { kind: 'approve' }));
    assert.equal(
      approved!.items.map((i) => i.outcome),
      ['done'],
    );
    await world.drive(() => runtime.unitStatus(w.unitId!) === 'accepted', { label: 'accepted' });
    assert.equal(
      world.errors.map((e) => e.message),
      [],
    );
  },
);

Workers(
  'when a worker submits on MTurk without ever reaching the task server then a unit adopts the submission',
  async ({ world }) => {
    const { runtime } = world;
    const runId = await launched(world, 2);
    const ghost = world.worker();
    await ghost.accept(world.hitTypeId(runId));
    await ghost.submitToMTurk({ sentiment: 'positive', comment: 'never registered' });
    await world.drive(() => runtime.runInfo(runId).counts.completed === 1, { label: 'adopted' });
    const agent = runtime.store.agents.ofRun(runId).find((a) => a.workerId === ghost.workerId);
    assert.ok(agent, 'an agent was made for the worker');
    assert.equal(runtime.store.agents.submission(agent.id), { sentiment: 'positive', comment: 'never registered' });
    await world.drive(() => runtime.agentStatus(agent.id) === 'completed', { label: 'agent completed' });
    const report = await world.drive(runtime.review(runId, { all: true }, { kind: 'approve' }));
    assert.equal(
      report!.items.map((i) => [i.workerId, i.outcome]),
      [[ghost.workerId, 'done']],
    );
    assert.is(runtime.runInfo(runId).counts.launched, 1, 'the other unit still waits for a worker');
    assert.equal(
      world.errors.map((e) => e.message),
      [],
    );
  },
);

Workers(
  'when MTurk auto-approves an assignment then it is recorded as approved without paying twice',
  async ({ world }) => {
    const { runtime } = world;
    const runId = await launched(world, 1, { autoApprovalDelaySec: 3600 });
    const w = world.worker();
    await w.accept(world.hitTypeId(runId));
    await w.register();
    await w.submit({ sentiment: 'positive', comment: '' });
    await world.drive(() => runtime.unitStatus(w.unitId!) === 'completed', { label: 'completed' });
    const moved: string[] = [];
    runtime.events.on('money.moved', (e) => moved.push(`${e.kind}:${e.outcome}`));
    await world.drive(() => runtime.unitStatus(w.unitId!) === 'accepted', {
      label: 'auto-approval',
      maxMs: 3 * 3_600_000,
      stepMs: 60_000,
    });
    assert.is(runtime.agentStatus(w.agentId!), 'approved');
    assert.equal(moved, ['approve:alreadyDone']);
    assert.is(runtime.store.agents.require(w.agentId!).review?.decision, 'approved');
    const assignments = world.account().hits.flatMap((h) => h.assignments);
    assert.equal(
      assignments.map((a) => a.status),
      ['Approved'],
    );
    assert.equal(
      world.errors.map((e) => e.message),
      [],
    );
  },
);

Workers.run();
