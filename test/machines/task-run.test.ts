// The taskRun supervisor as an actor: setup, launching under the concurrency limit, the HIT pool
// and worker binding, routing, review, expiry and draining, and its refusal to ever error.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { freeUnitsOf, hitOf, hitsOf, unitEntryOf } from '../../machines/inspect.js';
import { tablesOf } from '../../machines/task-run-tables.js';
import { AssignmentState } from '../../machines/states.js';
import { RunHarness } from './run-harness.js';

const units = (n: number) => Array.from({ length: n }, (_, i) => `u${i + 1}`);
let open: RunHarness[] = [];
const run = (...args: ConstructorParameters<typeof RunHarness>) => {
  const h = new RunHarness(...args);
  open.push(h);
  return h;
};
const afterEach = () => {
  for (const h of open) h.stop();
  open = [];
};

const Setup = suite('taskRun: setup and launching');
Setup.after.each(afterEach);

Setup('when a run starts then it asks for its resources and spawns no unit until they exist', () => {
  const h = run({ runId: 'r1', unitIds: units(3) });
  assert.is(h.value, 'settingUp');
  assert.equal(h.take(), [{ kind: 'setUpResources', commandId: 'r1/setUpResources/1', runId: 'r1', attempt: 1 }]);
  assert.equal(h.childIds(), []);
  assert.equal(h.snapshot.context.counts.created, 3);
});

Setup(
  'when setup succeeds then every unit is spawned as unit:<id> (in groups of 100) and at most maxConcurrentUnits are launched',
  () => {
    const h = run({ runId: 'r1', unitIds: units(205), settings: { maxConcurrentUnits: 2 } }).setUp();
    assert.is(h.snapshot.context.hitTypeId, 'HT1');
    assert.equal(Object.keys(h.snapshot.children), ['group:0', 'group:1', 'group:2']);
    assert.is(h.childIds().filter((id) => id.startsWith('unit:')).length, 205);
    assert.is(h.actor.system.get('unit:u153')?.id, 'unit:u153', 'systemId equals the id, wherever the unit sits');
    assert.equal(
      h.take('launchHIT').map((c) => c.commandId),
      ['r1/u1/launchHIT/1', 'r1/u2/launchHIT/1'],
    );
    assert.is(h.value, 'launching');
  },
);

Setup(
  'when setup fails then the run is failed with the reason, and run.retrySetup asks again with a new attempt',
  () => {
    const h = run({ runId: 'r1', unitIds: units(1) });
    const [command] = h.take();
    h.send({ type: 'setup.failed', commandId: command!.commandId, reason: 'QualificationType not owned', at: h.now });
    assert.is(h.value, 'failed');
    assert.equal(h.snapshot.context.failure, { reason: 'QualificationType not owned', at: h.now });
    h.send({ type: 'run.retrySetup', at: h.now });
    assert.is(h.value, 'settingUp');
    assert.equal(
      h.take().map((c) => c.commandId),
      ['r1/setUpResources/2'],
    );
    h.send({ type: 'setup.succeeded', commandId: command!.commandId, hitTypeId: 'HT-old', at: h.now });
    assert.is(h.value, 'settingUp', 'a result for the first attempt is ignored');
  },
);

Setup(
  'when units finish then more are launched, keeping launched + assigned at the limit, and the run is running once all are launched',
  () => {
    const h = run({ runId: 'r1', unitIds: units(3), settings: { maxConcurrentUnits: 2 } }).setUp();
    h.launchAll();
    assert.equal(h.take(), []);
    assert.equal(h.arrive('HIT-u1', 'A1', 'W1'), { unitId: 'u1', hitId: 'HIT-u1', assignmentId: 'A1', at: h.now });
    h.send({ type: 'agent.submitted', agentId: 'A1-W1', at: h.now });
    h.send({ type: 'hit.observed', hitId: 'HIT-u1', status: 'Reviewable', available: 0, at: h.now });
    assert.equal(
      h.outbox.map((c) => c.commandId),
      ['r1/u1/reconcileSubmission/HIT-u1', 'r1/u3/launchHIT/1'],
      'u1 asks MTurk whose submission it holds; u3 is launched',
    );
    h.confirmSubmission('u1');
    assert.is(h.value, 'launching', 'u3 is not launched yet');
    h.launchAll();
    assert.is(h.value, 'running');
    assert.equal(h.snapshot.context.counts, {
      created: 0,
      launched: 2,
      assigned: 0,
      completed: 1,
      accepted: 0,
      rejected: 0,
      soft_rejected: 0,
      expired: 0,
    });
  },
);

Setup('when a launch fails for good then launching halts (not burning every unit) until run.resumeLaunching', () => {
  const h = run({ runId: 'r1', unitIds: units(4), settings: { maxConcurrentUnits: 2 } }).setUp();
  const [first, second] = h.take('launchHIT');
  h.send({
    type: 'launch.failed',
    unitId: 'u1',
    commandId: first!.commandId,
    reason: 'InsufficientFunds',
    retryable: false,
    at: h.now,
  });
  h.send({ type: 'launch.succeeded', unitId: 'u2', commandId: second!.commandId, hitId: 'HIT-u2', at: h.now });
  assert.equal(h.snapshot.context.launchHalt, { unitId: 'u1', reason: 'InsufficientFunds', at: h.now });
  assert.equal(h.take(), [], 'no new launch while halted');
  assert.is(h.value, 'launching');
  h.send({ type: 'run.resumeLaunching', at: h.now });
  assert.equal(
    h.take('launchHIT').map((c) => c.commandId),
    ['r1/u1/launchHIT/2'],
    'one slot is free; the failed unit goes first, with a new token',
  );
});

Setup(
  'when units are added to a running run then they join the last group (or new ones) and are launched at once',
  () => {
    const h = run({ runId: 'r1', unitIds: units(99) }).setUp();
    h.launchAll();
    assert.is(h.value, 'running');
    h.send({ type: 'run.addUnits', unitIds: ['u1', 'x1', 'x2'], at: h.now });
    assert.equal(Object.keys(h.snapshot.children), ['group:0', 'group:1']);
    assert.is(h.actor.system.get('unit:x1')?._parent?.id, 'group:0', 'the last group had room for one');
    assert.is(h.actor.system.get('unit:x2')?._parent?.id, 'group:1');
    assert.equal(
      h.take('launchHIT').map((c) => c.commandId),
      ['r1/x1/launchHIT/1', 'r1/x2/launchHIT/1'],
    );
    assert.equal(h.snapshot.context.anomalies, [], 'the duplicate u1 is skipped quietly');
  },
);

const Pool = suite('taskRun: HIT pool and arriving workers');
Pool.after.each(afterEach);

Pool(
  'when a worker arrives on a HIT then it is bound to the unit whose launch created it, and the agent is spawned and accepted',
  () => {
    const h = run({ runId: 'r1', unitIds: units(2) }).setUp();
    h.launchAll();
    assert.equal(h.arrive('HIT-u2', 'A1', 'W1'), { unitId: 'u2', hitId: 'HIT-u2', assignmentId: 'A1', at: h.now });
    assert.equal(hitOf(h.snapshot, 'HIT-u2'), { unitId: 'u2', assignmentId: 'A1', createdBy: 'u2' });
    assert.is(h.agent('A1-W1')?.value, 'accepted');
    assert.is(h.actor.system.get('agent:A1-W1')?.id, 'agent:A1-W1');
    assert.equal(h.unit('u2').value, { assigned: 'working' });
    assert.is(h.unit('u2').context.deadlineAt, h.now + 1800 * 1000);
  },
);

Pool(
  'when the HIT’s own unit is taken then the worker gets another free launched unit (HITs and units are decoupled)',
  () => {
    const h = run({ runId: 'r1', unitIds: units(2) }).setUp();
    h.launchAll();
    h.arrive('HIT-u1', 'A1', 'W1');
    h.send({ type: 'agent.taskStarted', agentId: 'A1-W1', at: h.now });
    h.send({ type: 'hit.observed', hitId: 'HIT-u1', status: 'Assignable', available: 1, at: h.now + 1 });
    h.send({ type: 'hit.observed', hitId: 'HIT-u1', status: 'Assignable', available: 1, at: h.now + 2 });
    assert.is(h.agent('A1-W1')?.value, 'returned');
    h.arrive('HIT-u2', 'A2', 'W2');
    assert.equal(h.unit('u1').value, { launched: 'available' });
    assert.equal(
      h.arrive('HIT-u1', 'A3', 'W3'),
      { unitId: 'u1', hitId: 'HIT-u1', assignmentId: 'A3', at: h.now },
      'the returned HIT goes back to the pool and is reusable',
    );
  },
);

Pool('when the same worker arrives again (page reload) then nothing changes and nothing is spawned twice', () => {
  const h = run({ runId: 'r1', unitIds: units(2) }).setUp();
  h.launchAll();
  const first = h.arrive('HIT-u1', 'A1', 'W1');
  const children = h.childIds();
  assert.equal(h.arrive('HIT-u1', 'A1', 'W1'), first);
  assert.equal(h.childIds(), children);
  assert.equal(h.snapshot.context.anomalies, []);
  assert.is(h.errors.length, 0);
});

Pool(
  'when a worker arrives on an unknown HIT, on a HIT whose worker stored a submission, or with no unit free then it is refused, not a crash',
  () => {
    const h = run({ runId: 'r1', unitIds: units(1) }).setUp();
    h.launchAll();
    assert.equal(h.arrive('HIT-nope', 'A0', 'W0'), { refused: 'unknownHIT', hitId: 'HIT-nope', at: h.now });
    h.arrive('HIT-u1', 'A1', 'W1');
    h.send({ type: 'agent.submitted', agentId: 'A1-W1', at: h.now });
    assert.equal(h.arrive('HIT-u1', 'A2', 'W2'), { refused: 'hitTaken', hitId: 'HIT-u1', at: h.now });
    assert.is(h.agent('A2-W2'), undefined);
    assert.is(h.snapshot.status, 'active');
  },
);

Pool(
  'when MTurk confirms a new assignment on a HIT whose worker stored a submission then it takes the unit and the stored agent is overruled, its data kept (issue 13 F1)',
  () => {
    const h = run({ runId: 'r1', unitIds: units(1) }).setUp();
    h.launchAll();
    h.arrive('HIT-u1', 'A1', 'W1', true);
    h.send({ type: 'agent.submitted', agentId: 'A1-W1', at: h.now });
    assert.equal(h.arrive('HIT-u1', 'A2', 'W2', true), {
      unitId: 'u1',
      hitId: 'HIT-u1',
      assignmentId: 'A2',
      at: h.now,
    });
    assert.is(h.agent('A1-W1')?.value, 'returned');
    assert.is(h.agent('A1-W1')?.context.dataStored, true, 'the displaced worker’s data stays under its agent');
    assert.is(h.agent('A2-W2')?.value, 'accepted');
    assert.is(hitOf(h.snapshot, 'HIT-u1')?.assignmentId, 'A2');
    assert.equal(h.unit('u1').context.displacedAssignmentId, 'A1', 'MTurk’s submission decides at completion');
  },
);

Pool(
  'when MTurk could not confirm an arrival then it binds a free HIT but never displaces a binding, and the refusal leaves no table entry',
  () => {
    const h = run({ runId: 'r1', unitIds: units(2) }).setUp();
    h.launchAll();
    assert.ok(
      !('refused' in h.arrive('HIT-u1', 'A1', 'W1', false)!),
      'a free HIT is bound: one per HIT until confirmed',
    );
    assert.is(h.unit('u1').context.bindingUnconfirmed, true);
    h.send({ type: 'unit.confirmBinding', unitId: 'u1', assignmentId: 'A0', at: h.now });
    assert.is(h.unit('u1').context.bindingUnconfirmed, true, 'a confirmation of another assignment changes nothing');
    assert.equal(h.arrive('HIT-u1', 'A2', 'W2', false), { refused: 'unconfirmed', hitId: 'HIT-u1', at: h.now });
    assert.is(h.agent('A2-W2'), undefined);
    assert.is([...tablesOf(h.snapshot.context).arrivals()].length, 1, 'only the binding is in the table');
    assert.equal(h.snapshot.context.refusal?.agentId, 'A2-W2');
    // The next arrival clears the refusal: refused arrivals leave nothing behind.
    h.arrive('HIT-u1', 'A1', 'W1');
    assert.is(h.snapshot.context.refusal, null);
    assert.is(h.arrive('HIT-nope', 'A9', 'W9', true)?.hitId, 'HIT-nope');
    assert.is([...tablesOf(h.snapshot.context).arrivals()].length, 1);
    // The assignment MTurk holds outranks the unconfirmed binding.
    assert.is(h.arrive('HIT-u1', 'A3', 'W3', true)?.unitId, 'u1');
    assert.is(h.agent('A1-W1')?.value, 'returned');
    assert.is(h.unit('u1').context.bindingUnconfirmed, undefined);
    h.arrive('HIT-u2', 'A4', 'W4', false);
    h.send({ type: 'unit.confirmBinding', unitId: 'u2', assignmentId: 'A4', at: h.now });
    assert.is(h.unit('u2').context.bindingUnconfirmed, undefined, 'MTurk’s late word confirms the binding');
    h.send({ type: 'unit.bindingGone', unitId: 'u2', assignmentId: 'A4', at: h.now });
    assert.is(h.agent('A4-W4')?.value, 'returned', 'MTurk no longer holds it: the binding ended');
    assert.is(unitEntryOf(h.snapshot, 'u2')?.status, AssignmentState.launched);
  },
);

Pool('when more HITs than free units exist then an arrival without a free unit is refused noFreeUnit', () => {
  const h = run({ runId: 'r1', unitIds: units(2) }).setUp();
  h.launchAll();
  h.arrive('HIT-u1', 'A1', 'W1');
  h.send({ type: 'unit.releaseAgent', unitId: 'u1', reason: 'test', at: h.now });
  h.arrive('HIT-u2', 'A2', 'W2');
  h.arrive('HIT-u1', 'A3', 'W3');
  assert.equal(freeUnitsOf(h.snapshot), []);
  h.send({ type: 'run.addUnits', unitIds: [], at: h.now });
  assert.equal(h.arrive('HIT-nope', 'A4', 'W4'), { refused: 'unknownHIT', hitId: 'HIT-nope', at: h.now });
});

Pool('when the run is setting up or expiring then an arriving worker is refused runNotAccepting', () => {
  const h = run({ runId: 'r1', unitIds: units(1) });
  assert.equal(h.arrive('HIT-u1', 'A1', 'W1'), { refused: 'runNotAccepting', hitId: 'HIT-u1', at: h.now });
  h.setUp();
  h.launchAll();
  h.send({ type: 'run.expire', at: h.now });
  assert.equal(h.arrive('HIT-u1', 'A2', 'W2'), { refused: 'runNotAccepting', hitId: 'HIT-u1', at: h.now });
});

Pool(
  'when an unbound pool HIT expires unfilled then a free launched unit consumes it and expires; an Assignable pool HIT changes nothing',
  () => {
    const h = run({ runId: 'r1', unitIds: units(2) }).setUp();
    h.launchAll();
    h.send({ type: 'hit.observed', hitId: 'HIT-u2', status: 'Assignable', available: 1, at: h.now });
    assert.equal(h.snapshot.context.counts.launched, 2);
    h.send({ type: 'hit.observed', hitId: 'HIT-u2', status: 'Reviewable', available: 1, at: h.now });
    assert.is(h.unit('u2').value, 'expired');
    assert.equal(hitOf(h.snapshot, 'HIT-u2'), { unitId: 'u2', assignmentId: null, createdBy: 'u2' });
    assert.equal(freeUnitsOf(h.snapshot), ['u1']);
  },
);

Pool(
  'when an unbound pool HIT was submitted by a worker who never arrived then a unit reconciles it and the worker gets an agent to review',
  () => {
    const h = run({ runId: 'r1', unitIds: units(1) }).setUp();
    h.launchAll();
    h.send({ type: 'hit.observed', hitId: 'HIT-u1', status: 'Reviewable', available: 0, at: h.now });
    const [reconcile] = h.take('reconcileSubmission');
    assert.ok(reconcile);
    h.send({
      type: 'reconcile.succeeded',
      unitId: 'u1',
      commandId: reconcile.commandId,
      assignmentId: 'A7',
      workerId: 'W7',
      at: h.now,
    });
    assert.equal(h.unit('u1').value, { completed: 'awaitingReview' });
    assert.equal(h.agent('A7-W7')?.value, { completed: 'idle' });
    h.send({ type: 'review.approve', agentId: 'A7-W7', requestId: 'q1', at: h.now });
    const [approve] = h.take('approveAssignment');
    h.send({ type: 'review.succeeded', agentId: 'A7-W7', commandId: approve!.commandId, at: h.now });
    assert.is(h.unit('u1').value, 'accepted');
  },
);

Pool(
  'when news arrives for a HIT the run does not have or an agent it does not have then it is recorded as an anomaly and dropped',
  () => {
    const h = run({ runId: 'r1', unitIds: units(1) }).setUp();
    h.send({ type: 'hit.observed', hitId: 'HIT-x', status: 'Reviewable', available: 0, at: h.now });
    h.send({ type: 'agent.submitted', agentId: 'ghost', at: h.now });
    assert.equal(h.snapshot.context.anomalies, [
      'hit.observed for HIT HIT-x, which is not in this run',
      'agent.submitted for unknown agent ghost; dropped',
    ]);
    assert.is(h.snapshot.status, 'active');
  },
);

const Review = suite('taskRun: routing and review');
Review.after.each(afterEach);

Review(
  'when a worker submits and MTurk confirms then the agent and the unit are completed; an approval confirmed by MTurk makes the unit accepted',
  () => {
    const h = run({ runId: 'r1', unitIds: units(1) }).setUp();
    h.launchAll();
    h.arrive('HIT-u1', 'A1', 'W1');
    h.send({ type: 'agent.taskStarted', agentId: 'A1-W1', at: h.now });
    h.send({ type: 'agent.submitted', agentId: 'A1-W1', at: h.now });
    assert.is(h.unit('u1').context.submitted, true, 'the unit learns its data is stored');
    h.send({ type: 'hit.observed', hitId: 'HIT-u1', status: 'Reviewable', available: 0, at: h.now });
    assert.equal(h.unit('u1').value, { completed: 'reconciling' }, 'the stored data is the worker’s word');
    h.confirmSubmission('u1');
    assert.equal(h.unit('u1').value, { completed: 'awaitingReview' });
    h.send({ type: 'review.approve', agentId: 'A1-W1', requestId: 'q1', at: h.now });
    assert.equal(h.agent('A1-W1')?.value, { completed: 'approving' });
    assert.equal(h.unit('u1').value, { completed: 'awaitingReview' }, 'not before MTurk confirms');
    const [approve] = h.take('approveAssignment');
    h.send({ type: 'review.succeeded', agentId: 'A1-W1', commandId: approve!.commandId, at: h.now });
    assert.is(h.unit('u1').value, 'accepted');
    assert.equal(unitEntryOf(h.snapshot, 'u1'), { status: AssignmentState.accepted });
  },
);

Review('when deadlines are reached then each goes to the unit or agent it names', () => {
  const h = run({ runId: 'r1', unitIds: units(1) }).setUp();
  h.launchAll();
  h.arrive('HIT-u1', 'A1', 'W1');
  const deadline = h.unit('u1').context.deadlineAt!;
  h.send({ type: 'deadline.reached', agentId: 'A1-W1', at: deadline });
  assert.is(h.agent('A1-W1')?.value, 'timeout');
  h.send({ type: 'deadline.reached', unitId: 'u1', at: deadline });
  assert.equal(h.unit('u1').value, { assigned: 'overdue' });
  assert.equal(
    h.take('confirmHIT').map((c) => c.kind === 'confirmHIT' && c.reason),
    ['deadlinePassed'],
  );
});

Review('when a command handler throws then the child errors, the supervisor records it and keeps running', () => {
  const h = run(
    { runId: 'r1', unitIds: units(2) },
    {
      handler: (command) => {
        if (command.kind === 'launchHIT' && command.unitId === 'u1') throw new Error('outbox full');
      },
    },
  );
  h.send({ type: 'setup.succeeded', commandId: 'r1/setUpResources/1', hitTypeId: 'HT', at: h.now });
  assert.is(h.snapshot.status, 'active');
  assert.equal(h.snapshot.context.anomalies, ['unit:u1 failed: outbox full']);
  assert.is(h.errors.length, 0);
});

const End = suite('taskRun: expiring, draining, done');
End.after.each(afterEach);

End(
  'when the run expires then created units expire, launched ones expire a pool HIT, assigned ones expire their HIT and are drained',
  () => {
    const h = run({
      runId: 'r1',
      unitIds: units(4),
      settings: { maxConcurrentUnits: 3, assignmentDurationSec: 600, drainGraceSec: 60 },
    }).setUp();
    h.launchAll();
    h.arrive('HIT-u1', 'A1', 'W1');
    h.send({ type: 'run.expire', at: h.now });
    assert.is(h.value, 'expiring');
    assert.is(h.unit('u4').value, 'expired', 'never launched: no MTurk call');
    const expires = h.take('expireHIT');
    assert.equal(
      expires.map((c) => c.kind === 'expireHIT' && [c.unitId, c.hitId]),
      [
        ['u1', 'HIT-u1'],
        ['u2', 'HIT-u2'],
        ['u3', 'HIT-u3'],
      ],
    );
    for (const c of expires)
      h.send({
        type: 'expire.succeeded',
        unitId: c.kind === 'expireHIT' ? c.unitId : '',
        commandId: c.commandId,
        at: h.now,
      });
    assert.is(h.value, 'draining');
    assert.equal(h.unit('u1').value, { assigned: 'working' });
    assert.is(h.snapshot.context.drainDeadlineAt, h.now + 660_000);
    h.send({ type: 'agent.submitted', agentId: 'A1-W1', at: h.now });
    h.send({ type: 'hit.observed', hitId: 'HIT-u1', status: 'Reviewable', available: 0, at: h.now });
    assert.is(h.value, 'done');
    assert.equal(h.snapshot.context.counts, {
      created: 0,
      launched: 0,
      assigned: 0,
      completed: 1,
      accepted: 0,
      rejected: 0,
      soft_rejected: 0,
      expired: 3,
    });
    assert.equal(
      hitsOf(h.snapshot).filter(([, r]) => r.unitId === null),
      [],
      'every HIT is accounted for by a unit',
    );
  },
);

End(
  'when the drain deadline passes with a unit still assigned then it is abandoned: expired, its agent told, the run done',
  async () => {
    const h = run({
      runId: 'r1',
      unitIds: units(1),
      settings: { assignmentDurationSec: 600, drainGraceSec: 60 },
    }).setUp();
    h.launchAll();
    h.arrive('HIT-u1', 'A1', 'W1');
    h.send({ type: 'agent.taskStarted', agentId: 'A1-W1', at: h.now });
    h.send({ type: 'run.expire', at: h.now });
    h.take();
    await h.wait(659_999);
    h.send({ type: 'deadline.reached', at: h.now });
    assert.is(h.value, 'draining');
    await h.wait(1);
    h.send({ type: 'deadline.reached', at: h.now });
    assert.is(h.value, 'done');
    assert.is(h.unit('u1').value, 'expired');
    assert.is(h.unit('u1').context.note, 'abandoned: the run stopped waiting at its drain deadline');
    assert.is(h.agent('A1-W1')?.value, 'expired');
  },
);

End(
  'when a launch is in flight as the run expires then the unit is expired with its new HIT once the launch succeeds',
  () => {
    const h = run({ runId: 'r1', unitIds: units(1) }).setUp();
    const [launch] = h.take('launchHIT');
    h.send({ type: 'run.expire', at: h.now });
    assert.is(h.value, 'expiring');
    h.send({ type: 'launch.succeeded', unitId: 'u1', commandId: launch!.commandId, hitId: 'HIT-late', at: h.now });
    assert.equal(
      h.take('expireHIT').map((c) => c.kind === 'expireHIT' && c.hitId),
      ['HIT-late'],
    );
  },
);

End('when a unit is released back to the pool while the run drains then it is expired at once', () => {
  const h = run({ runId: 'r1', unitIds: units(1) }).setUp();
  h.launchAll();
  h.arrive('HIT-u1', 'A1', 'W1');
  h.send({ type: 'run.expire', at: h.now });
  const [expire] = h.take('expireHIT');
  h.send({ type: 'expire.succeeded', unitId: 'u1', commandId: expire!.commandId, at: h.now });
  h.send({ type: 'unit.releaseAgent', unitId: 'u1', reason: 'agent left', at: h.now });
  assert.equal(h.unit('u1').value, { launched: 'expiring' });
  const [again] = h.take('expireHIT');
  h.send({ type: 'expire.succeeded', unitId: 'u1', commandId: again!.commandId, at: h.now });
  assert.is(h.value, 'done');
});

End('when the run is done then review requests are still routed', () => {
  const h = run({ runId: 'r1', unitIds: units(1) }).setUp();
  h.launchAll();
  h.arrive('HIT-u1', 'A1', 'W1');
  h.send({ type: 'agent.submitted', agentId: 'A1-W1', at: h.now });
  h.send({ type: 'hit.observed', hitId: 'HIT-u1', status: 'Reviewable', available: 0, at: h.now });
  h.send({ type: 'run.expire', at: h.now });
  assert.is(h.value, 'done');
  h.send({ type: 'review.reject', agentId: 'A1-W1', requestId: 'q1', feedback: 'no', at: h.now });
  assert.equal(h.take('rejectAssignment').length, 1);
});

Setup.run();
Pool.run();
Review.run();
End.run();
