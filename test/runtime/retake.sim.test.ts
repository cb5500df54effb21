// A HIT taken again right after a return (or a lapse), before the status sync has seen it: the
// new worker's registration, which MTurk confirms, is the proof that the bound assignment ended,
// so the new worker gets the unit at once. A registration MTurk does not back is refused; one made
// while MTurk could not be asked binds only a free HIT, and MTurk's record decides whose
// submission the unit holds and who is paid.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createWorld, type SimWorker, type World } from '../support/sim-world.js';

const Retake = suite<{ world: World }>('runtime retake');

/** While true, the simulator drops every GetAssignment: MTurk cannot be asked about an arrival. */
let mturkUnreachable = false;

Retake.before.each(async (ctx) => {
  mturkUnreachable = false;
  ctx.world = await createWorld({
    seed: 29,
    sim: { onRequesterCall: (call) => (mturkUnreachable && call.operation === 'GetAssignment' ? 'drop' : undefined) },
    // One attempt per call: a dropped GetAssignment is "MTurk unreachable" at once, not after backoffs.
    runtime: { governor: { maxAttempts: 1 } },
  });
});

Retake.after.each(async (ctx) => {
  await ctx.world.close();
});

async function launched(world: World, units: number): Promise<string> {
  const { runId } = await world.runtime.launchRun(world.config({ units }));
  await world.drive(() => world.runtime.runInfo(runId).counts.launched === units, { label: 'launch' });
  return runId;
}

/** A worker who accepted a HIT of the run and registered with the task server. */
async function registered(world: World, runId: string): Promise<SimWorker> {
  const w = world.worker();
  await w.accept(world.hitTypeId(runId));
  const answer = await w.register();
  assert.is(answer.status, 200, JSON.stringify(answer.json));
  return w;
}

/**
 * A forger registered an invented assignment on the run's one (free) HIT while MTurk could not be
 * asked: bound unconfirmed (one arrival per HIT sees task data until confirmed). Then W1 accepts
 * that HIT on MTurk.
 */
async function boundUnconfirmed(
  world: World,
  forgedAssignmentId: string,
): Promise<{ runId: string; w1: SimWorker; unitId: string; forger: SimWorker }> {
  const runId = await launched(world, 1);
  const hitId = world.runtime.store.hits.ofRun(runId)[0]!.id;
  const forger = world.worker();
  forger.hitId = hitId;
  forger.assignmentId = forgedAssignmentId;
  mturkUnreachable = true;
  const answer = await forger.register();
  mturkUnreachable = false;
  assert.is(answer.status, 200, 'MTurk could not be asked: the free HIT is bound, unconfirmed');
  const w1 = world.worker();
  await w1.accept({ hitId });
  return { runId, w1, unitId: forger.unitId!, forger };
}

/** The assignments MTurk holds for the run's HITs, as [worker, status]. */
function assignmentsOnMTurk(world: World): Array<[string, string]> {
  return world.account().hits.flatMap((h) => h.assignments.map((a) => [a.workerId, a.status] as [string, string]));
}

for (const ending of ['returns the HIT', 'lets the assignment lapse'] as const) {
  Retake(
    `when W1 ${ending} and W2 takes the same HIT and registers before the next sync then W2 gets the unit at once and is paid on approve`,
    async ({ world }) => {
      const { runtime } = world;
      const runId = await launched(world, 1);
      const w1 = await registered(world, runId);
      const unitId = w1.unitId!;
      if (ending === 'returns the HIT') await w1.returnHIT();
      else await w1.abandon();

      const w2 = world.worker();
      await w2.accept({ hitId: w1.hitId! });
      const answer = await w2.register();
      assert.is(answer.status, 200, `W2 is not locked out: ${JSON.stringify(answer.json)}`);
      assert.is(w2.unitId, unitId, 'the same unit, free again the moment W1’s assignment ended');
      assert.is(runtime.agentStatus(w1.agentId!), 'returned');
      assert.is(runtime.agentStatus(w2.agentId!), 'in task');
      assert.is(runtime.unitStatus(unitId), 'assigned');
      assert.is(
        runtime.store.hits.get(w1.hitId!)?.assignmentId,
        w2.assignmentId,
        'the store’s HIT pool names the new assignment',
      );

      await w2.submit({ sentiment: 'positive', comment: 'second worker' });
      await world.drive(() => runtime.unitStatus(unitId) === 'completed', { label: 'completed' });
      assert.equal(runtime.store.agents.submission(w2.agentId!), { sentiment: 'positive', comment: 'second worker' });
      assert.is(runtime.store.agents.submission(w1.agentId!), undefined);
      const report = await world.drive(runtime.review(runId, { all: true }, { kind: 'approve' }));
      assert.equal(
        report!.items.map((i) => [i.workerId, i.outcome]),
        [[w2.workerId, 'done']],
      );
      await world.drive(() => runtime.unitStatus(unitId) === 'accepted', { label: 'accepted' });
      assert.equal(assignmentsOnMTurk(world), [
        [w1.workerId, ending === 'returns the HIT' ? 'Returned' : 'Abandoned'],
        [w2.workerId, 'Approved'],
      ]);
      assert.equal(
        world.errors.map((e) => e.message),
        [],
      );
    },
  );
}

Retake(
  'when the bound worker stored a submission and a made-up assignment registers on the HIT then MTurk’s word refuses it and nothing changes',
  async ({ world }) => {
    const { runtime } = world;
    const runId = await launched(world, 1);
    const w1 = await registered(world, runId);
    assert.is((await w1.submitToServer({ sentiment: 'neutral', comment: 'mine' })).status, 200);
    const forger = world.worker();
    forger.hitId = w1.hitId;
    forger.assignmentId = 'FORGEDASSIGNMENT000000000001';
    const refused = await forger.register();
    assert.is(refused.status, 403);
    assert.is(refused.json.error.code, 'HST_ERR_SERVER_ASSIGNMENT_MISMATCH');
    assert.is(runtime.agentStatus(w1.agentId!), 'completed');
    assert.is(runtime.store.hits.get(w1.hitId!)?.assignmentId, w1.assignmentId);
    assert.equal(
      world.errors.map((e) => e.message),
      [],
    );
  },
);

Retake(
  'when MTurk could not confirm a registration on a free HIT and W1 then takes that HIT then W1 displaces it, each keeps its own data, the unit is W1’s and nothing is paid to the forger',
  async ({ world }) => {
    const { runtime } = world;
    const { runId, w1, unitId, forger } = await boundUnconfirmed(world, 'FORGEDASSIGNMENT000000000001');
    assert.is((await forger.submitToServer({ sentiment: 'negative', comment: 'forged' })).status, 200);
    const answer = await w1.register();
    assert.is(answer.status, 200, 'the assignment MTurk holds outranks the unconfirmed binding, stored data or not');
    assert.is(w1.unitId, unitId);
    assert.is(answer.json.task !== null, true, 'W1 gets the task data');
    assert.is(runtime.agentStatus(forger.agentId!), 'returned');

    await w1.submit({ sentiment: 'positive', comment: 'the real work' });
    await world.drive(
      () => runtime.unitStatus(unitId) === 'completed' && runtime.agentStatus(w1.agentId!) === 'completed',
      { label: 'MTurk decides' },
    );
    assert.equal(runtime.store.agents.submission(w1.agentId!), { sentiment: 'positive', comment: 'the real work' });
    assert.equal(
      runtime.store.agents.submission(forger.agentId!),
      { sentiment: 'negative', comment: 'forged' },
      'each submission stays under its own assignment and worker',
    );
    assert.is(runtime.store.units.require(unitId).agentId, w1.agentId, 'the unit holds the submission MTurk names');
    assert.is(runtime.store.hits.get(w1.hitId!)?.assignmentId, w1.assignmentId);

    const moved: Array<string | null> = [];
    runtime.events.on('money.moved', (e) => moved.push(e.assignmentId));
    const approved = await world.drive(runtime.review(runId, { all: true }, { kind: 'approve' }));
    assert.equal(
      approved!.items.map((i) => [i.workerId, i.outcome]),
      [[w1.workerId, 'done']],
    );
    const bonus = await world.drive(
      runtime.review(runId, { agentId: forger.agentId! }, { kind: 'bonus', amountUsd: '1.00', reason: 'forged' }),
    );
    assert.equal(
      bonus!.items.map((i) => i.outcome),
      ['refused'],
      'no bonus on an assignment MTurk does not list',
    );
    await world.drive(() => runtime.unitStatus(unitId) === 'accepted', { label: 'accepted' });
    assert.equal(moved, [w1.assignmentId]);
    assert.equal(assignmentsOnMTurk(world), [[w1.workerId, 'Approved']]);
    assert.equal(
      world.errors.map((e) => e.message),
      [],
    );
  },
);

Retake(
  'when an unconfirmed binding stored data and W1 submits only on MTurk without registering then reconciliation overrules it and stores W1’s data once under W1',
  async ({ world }) => {
    const { runtime } = world;
    const { runId, w1, unitId, forger } = await boundUnconfirmed(world, 'FORGEDASSIGNMENT000000000002');
    assert.is((await forger.submitToServer({ sentiment: 'negative', comment: 'forged' })).status, 200);
    const drift: string[] = [];
    runtime.events.on('drift.found', (e) => drift.push(e.kind));
    await w1.submitToMTurk({ sentiment: 'neutral', comment: 'straight to MTurk' });
    const w1Agent = `${w1.assignmentId}-${w1.workerId}`;
    // W1 never registered: its agent exists only once reconciliation adopted it.
    await world.drive(
      () => runtime.store.agents.get(w1Agent) !== undefined && runtime.agentStatus(w1Agent) === 'completed',
      {
        label: 'reconciled',
      },
    );
    assert.equal(runtime.store.agents.submission(w1Agent), { sentiment: 'neutral', comment: 'straight to MTurk' });
    assert.equal(runtime.store.agents.submission(forger.agentId!), { sentiment: 'negative', comment: 'forged' });
    assert.is(runtime.agentStatus(forger.agentId!), 'returned', 'MTurk listed another assignment as the submission');
    assert.is(runtime.store.units.require(unitId).agentId, w1Agent);
    assert.ok(drift.includes('bindingOverruled'), `drift: ${drift.join(', ')}`);
    assert.equal(drift.filter((k) => k === 'submissionMissing').length, 1, 'stored once');
    const report = await world.drive(runtime.review(runId, { all: true }, { kind: 'approve' }));
    assert.equal(
      report!.items.map((i) => [i.workerId, i.outcome]),
      [[w1.workerId, 'done']],
    );
    await world.drive(() => runtime.unitStatus(unitId) === 'accepted', { label: 'accepted' });
    assert.equal(assignmentsOnMTurk(world), [[w1.workerId, 'Approved']]);
    assert.equal(
      world.errors.map((e) => e.message),
      [],
    );
  },
);

Retake.run();
