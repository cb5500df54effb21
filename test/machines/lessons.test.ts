// The lessons of docs/mephisto-semantics.md#known-bugs-and-lessons that are about states, each as a
// test that the bug
// cannot happen here: #2, #3, #7, #8, #9, #11, #12, #16, #18, #21.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { toDirectedGraph, type DirectedGraphNode } from 'xstate/graph';
import type { AgentEvent } from '../../machines/agent-types.js';
import { freeUnitsOf, hitOf, hitsOf } from '../../machines/inspect.js';
import { hitReleased, initialTaskRunContext } from '../../machines/task-run-logic.js';
import { unitMachine } from '../../machines/unit.js';
import type { UnitEvent } from '../../machines/unit-types.js';
import { RunHarness } from './run-harness.js';
import {
  AGENT,
  HIT,
  answer,
  assignedUnit,
  completedAgent,
  completedUnit,
  confirmSubmission,
  launchedUnit,
  observed,
  unitDrive,
  workingAgent,
} from './support.js';

let open: RunHarness[] = [];
const run = (...args: ConstructorParameters<typeof RunHarness>) => {
  const h = new RunHarness(...args);
  open.push(h);
  return h;
};

/** A run with two launched units (HIT-u1, HIT-u2) and worker W1 on HIT-u1 (unit u1). */
function runWithWorker(): RunHarness {
  const h = run({ runId: 'r1', unitIds: ['u1', 'u2'] }).setUp();
  h.launchAll();
  h.arrive('HIT-u1', 'A1', 'W1');
  h.send({ type: 'agent.taskStarted', agentId: 'A1-W1', at: h.now });
  return h;
}

/** Worker W1 returns HIT-u1 (two Assignable sightings); then W2 takes the same HIT. */
function returnAndRetake(h: RunHarness): void {
  h.send({ type: 'hit.observed', hitId: 'HIT-u1', status: 'Assignable', available: 1, at: h.now + 1 });
  h.send({ type: 'hit.observed', hitId: 'HIT-u1', status: 'Assignable', available: 1, at: h.now + 2 });
  h.arrive('HIT-u2', 'A0', 'W0');
  h.arrive('HIT-u1', 'A2', 'W2');
}

const Lessons = suite('machines: lessons (docs/mephisto-semantics.md#known-bugs-and-lessons)');
Lessons.after.each(() => {
  for (const h of open) h.stop();
  open = [];
});

Lessons(
  '#2 (PR #337): when a stale release names an older binding or another unit then the current pairing is left intact',
  () => {
    const h = runWithWorker();
    returnAndRetake(h);
    assert.equal(
      hitOf(h.snapshot, 'HIT-u1'),
      { unitId: 'u1', assignmentId: 'A2', createdBy: 'u1' },
      'u1 holds HIT-u1 again, under A2',
    );
    h.send({ type: 'report.hitReleased', unitId: 'u1', hitId: 'HIT-u1', assignmentId: 'A1', at: h.now });
    h.send({ type: 'report.hitReleased', unitId: 'u2', hitId: 'HIT-u1', assignmentId: 'A2', at: h.now });
    assert.equal(hitOf(h.snapshot, 'HIT-u1'), { unitId: 'u1', assignmentId: 'A2', createdBy: 'u1' });
    assert.equal(h.snapshot.context.anomalies.length, 2);
    const pure = hitReleased(initialTaskRunContext({ runId: 'r', unitIds: [] }), 'u1', 'HIT-x', 'A1');
    assert.equal(hitsOf({ value: 'running', context: pure }), [], 'an unknown HIT is not created by a release');
  },
);

Lessons(
  '#2: when a released agent’s late submission arrives then it reaches the agent but not the unit now bound to another worker',
  () => {
    const h = runWithWorker();
    returnAndRetake(h);
    h.send({ type: 'agent.submitted', agentId: 'A1-W1', at: h.now });
    assert.is(h.unit('u1').context.submitted, false, 'u1 now belongs to A2-W2');
    assert.is(h.unit('u1').context.agentId, 'A2-W2');
  },
);

Lessons(
  '#3 (PR #207): when a released HIT completes under another unit then only that unit is completed, not the old one',
  () => {
    const h = runWithWorker();
    returnAndRetake(h);
    const holder = hitOf(h.snapshot, 'HIT-u1')!.unitId!;
    h.send({ type: 'agent.submitted', agentId: 'A2-W2', at: h.now });
    h.send({ type: 'hit.observed', hitId: 'HIT-u1', status: 'Reviewable', available: 0, at: h.now });
    h.confirmSubmission(holder);
    assert.equal(h.unit(holder).value, { completed: 'awaitingReview' });
    const other = holder === 'u1' ? 'u2' : 'u1';
    assert.equal(h.unit(other).value, { assigned: 'working' }, 'the unit that held HIT-u1 before is unaffected');
    const d = assignedUnit()
      .send(observed(HIT, 'Assignable', 1, 1))
      .send(observed(HIT, 'Assignable', 1, 2));
    assert.equal(
      [d.snapshot.context.hitId, d.snapshot.context.bindings],
      [null, 1],
      'the release forgets the HIT; the generation counts bindings',
    );
  },
);

Lessons(
  '#3: when a released agent (who submitted late) is reviewed then the unit, now another worker’s, does not take that outcome',
  () => {
    const h = run({ runId: 'r1', unitIds: ['u1'] }).setUp();
    h.launchAll();
    h.arrive('HIT-u1', 'A1', 'W1');
    h.send({ type: 'agent.disconnected', agentId: 'A1-W1', at: h.now });
    h.send({ type: 'unit.releaseAgent', unitId: 'u1', reason: 'disconnected', at: h.now });
    h.send({ type: 'agent.submitted', agentId: 'A1-W1', at: h.now });
    assert.equal(h.agent('A1-W1')?.value, { completed: 'idle' }, 'the late submission is kept on the old agent');
    assert.is(h.unit('u1').context.submitted, false, 'and not credited to the released unit');
    h.arrive('HIT-u1', 'A2', 'W2');
    h.send({ type: 'agent.submitted', agentId: 'A2-W2', at: h.now });
    h.send({ type: 'hit.observed', hitId: 'HIT-u1', status: 'Reviewable', available: 0, at: h.now });
    h.confirmSubmission('u1');
    h.send({ type: 'review.reject', agentId: 'A1-W1', requestId: 'q1', feedback: 'left the task', at: h.now });
    const [reject] = h.take('rejectAssignment');
    h.send({ type: 'review.succeeded', agentId: 'A1-W1', commandId: reject!.commandId, at: h.now });
    assert.equal(h.agent('A1-W1')?.value, { rejected: 'idle' });
    assert.equal(
      h.unit('u1').value,
      { completed: 'awaitingReview' },
      'u1 waits for the review of A2-W2, its own agent',
    );
    const d = completedUnit().send({ type: 'agent.reviewed', agentId: 'someone-else', status: 'approved', at: 1 });
    assert.equal(d.value, { completed: 'awaitingReview' });
  },
);

Lessons(
  '#7 (PR #410): when Assignable flickers before Reviewable under a working agent then the return stays tentative and the agent is never returned',
  () => {
    const h = runWithWorker();
    h.send({ type: 'hit.observed', hitId: 'HIT-u1', status: 'Assignable', available: 1, at: h.now + 1 });
    assert.equal(h.unit('u1').value, { assigned: 'returnTentative' });
    assert.is(h.agent('A1-W1')?.value, 'in task');
    h.send({ type: 'hit.observed', hitId: 'HIT-u1', status: 'Reviewable', available: 0, at: h.now + 2 });
    assert.equal(h.unit('u1').value, { completed: 'reconciling' });
    assert.equal(h.agent('A1-W1')?.value, { completed: 'idle' });
  },
);

Lessons(
  '#7 (PR #410) and issue 13 F1: when Assignable shows after the data is stored then a return is only suspected; Reviewable next completes the unit on that data',
  () => {
    const d = assignedUnit()
      .send({ type: 'agent.submitted', at: 1 })
      .send(observed(HIT, 'Assignable', 1, 2));
    assert.equal(d.value, { assigned: 'returnTentative' });
    assert.equal(
      d.commands.map((c) => c.kind),
      ['confirmHIT'],
    );
    assert.equal(d.toldAgent, [], 'a suspicion tells the agent nothing');
    d.send(observed(HIT, 'Reviewable', 0, 3));
    assert.equal(d.value, { completed: 'reconciling' }, 'the stored data is the worker’s word: MTurk is asked');
    confirmSubmission(d);
    assert.equal(d.value, { completed: 'awaitingReview' });
  },
);

Lessons(
  'issue 13 F1: when the worker stored data and MTurk shows the HIT Assignable twice then the unit goes back to the pool and the agent is overruled, its data kept under it',
  () => {
    const d = assignedUnit()
      .send({ type: 'agent.submitted', at: 1 })
      .send(observed(HIT, 'Assignable', 1, 2))
      .send(observed(HIT, 'Assignable', 1, 3));
    assert.equal(d.value, { launched: 'available' });
    assert.equal(
      d.toldAgent.map((e) => e.type),
      ['assignment.overruled'],
      'a completed agent ignores agent.returned: it is overruled back to returned',
    );
    assert.equal(
      d.reports.map((r) => r.type),
      ['report.hitReleased', 'report.unitChanged'],
    );
  },
);

const tellsAgent = (actions: unknown[]): boolean =>
  actions.some((a) => {
    const name = typeof a === 'string' ? a : typeof a === 'object' && a !== null && 'type' in a ? String(a.type) : '';
    return name.startsWith('tellAgent');
  });

Lessons(
  '#8 (PR #382): when any transition leaves assigned then it tells the agent (checked over the whole machine)',
  () => {
    const exits: string[] = [];
    const walk = (node: DirectedGraphNode): void => {
      for (const edge of node.edges) {
        const from = edge.source.id;
        const to = edge.target.id;
        if (
          from.startsWith('unit.assigned') &&
          !to.startsWith('unit.assigned') &&
          edge.transition.target !== undefined
        ) {
          exits.push(`${from} --${edge.label.text}--> ${to}`);
          assert.ok(
            tellsAgent(edge.transition.actions as unknown[]),
            `${from} --${edge.label.text}--> ${to} does not tell the agent`,
          );
        }
      }
      node.children.forEach(walk);
    };
    walk(toDirectedGraph(unitMachine));
    assert.ok(exits.length >= 10, `expected every exit to be checked, found ${exits.length}`);
  },
);

Lessons('#8 (PR #382): when an assigned unit is expired after Ctrl-C then completed work is not marked expired', () => {
  const h = runWithWorker();
  h.send({ type: 'agent.submitted', agentId: 'A1-W1', at: h.now });
  h.send({ type: 'run.expire', at: h.now });
  const [expire] = h.take('expireHIT').filter((c) => c.kind === 'expireHIT' && c.unitId === 'u1');
  h.send({ type: 'expire.succeeded', unitId: 'u1', commandId: expire!.commandId, at: h.now });
  h.send({ type: 'hit.observed', hitId: 'HIT-u1', status: 'Reviewable', available: 0, at: h.now });
  h.confirmSubmission('u1');
  assert.equal(h.unit('u1').value, { completed: 'awaitingReview' });
  assert.equal(h.agent('A1-W1')?.value, { completed: 'idle' });
});

Lessons(
  '#9 (#431/PR #440): when a run with finished units expires then no HIT of a completed or reviewed unit is expired again',
  () => {
    const h = runWithWorker();
    h.send({ type: 'agent.submitted', agentId: 'A1-W1', at: h.now });
    h.send({ type: 'hit.observed', hitId: 'HIT-u1', status: 'Reviewable', available: 0, at: h.now });
    h.send({ type: 'run.expire', at: h.now });
    const expired = h.take('expireHIT').map((c) => (c.kind === 'expireHIT' ? c.hitId : ''));
    assert.not.ok(expired.includes('HIT-u1'));
    for (const d of [
      completedUnit(),
      completedUnit().send({ type: 'agent.reviewed', agentId: AGENT, status: 'approved', at: 1 }),
    ]) {
      assert.equal(d.send({ type: 'unit.expire', hitId: HIT, at: 2 }).commands, []);
    }
  },
);

Lessons(
  '#11 (PR #830): when a worker goes silent then the agent times out and the unit, past its deadline, is confirmed and released',
  () => {
    const h = runWithWorker();
    const deadline = h.unit('u1').context.deadlineAt!;
    h.send({ type: 'deadline.reached', agentId: 'A1-W1', at: deadline });
    h.send({ type: 'deadline.reached', unitId: 'u1', at: deadline });
    assert.is(h.agent('A1-W1')?.value, 'timeout');
    assert.equal(h.unit('u1').value, { assigned: 'overdue' });
    h.send({ type: 'hit.observed', hitId: 'HIT-u1', status: 'Assignable', available: 1, at: deadline + 1 });
    assert.equal(h.unit('u1').value, { launched: 'available' });
    assert.equal(hitOf(h.snapshot, 'HIT-u1'), { unitId: null, assignmentId: null, createdBy: 'u1' });
  },
);

Lessons(
  '#11: when past the deadline the HIT is held by a new assignment then the old one is gone and the unit is released',
  () => {
    const d = assignedUnit().send({ type: 'deadline.reached', at: Number.MAX_SAFE_INTEGER - 1 });
    d.send(observed(HIT, 'Unassignable', 0, Number.MAX_SAFE_INTEGER));
    assert.equal(d.value, { launched: 'available' });
    assert.equal(d.toldAgent, [{ type: 'agent.returned', at: Number.MAX_SAFE_INTEGER }]);
  },
);

Lessons(
  '#12 (PR #347/#902): when a waiting agent disconnects and the runtime releases the unit then unit and HIT are free for the next worker',
  () => {
    const h = run({ runId: 'r1', unitIds: ['u1'] }).setUp();
    h.launchAll();
    h.arrive('HIT-u1', 'A1', 'W1');
    h.send({ type: 'agent.waitingStarted', agentId: 'A1-W1', at: h.now });
    h.send({ type: 'agent.disconnected', agentId: 'A1-W1', at: h.now });
    h.send({ type: 'unit.releaseAgent', unitId: 'u1', reason: 'waiting agent disconnected', at: h.now });
    assert.is(h.agent('A1-W1')?.value, 'disconnect');
    assert.equal(freeUnitsOf(h.snapshot), ['u1']);
    assert.equal(
      h.arrive('HIT-u1', 'A1', 'W1'),
      { refused: 'agentReleased', hitId: 'HIT-u1', at: h.now, unitId: 'u1', assignmentId: 'A1' },
      'the released worker reloading is told to return the HIT, not bound again behind the run’s back',
    );
    assert.equal(
      h.arrive('HIT-u1', 'A5', 'W5'),
      { unitId: 'u1', hitId: 'HIT-u1', assignmentId: 'A5', at: h.now },
      'once MTurk re-offers the HIT, the next worker gets the unit',
    );
  },
);

Lessons(
  '#16: when GetHIT fails, answers an unknown status or names a missing HIT then nothing crashes; only notFound expires',
  () => {
    const failures: UnitEvent[] = [
      { type: 'hit.lookupFailed', hitId: HIT, reason: 'KeyError', at: 1 },
      observed(HIT, 'Weird', 0, 1),
    ];
    const states = [
      unitDrive(),
      launchedUnit(),
      assignedUnit(),
      assignedUnit().send(observed(HIT, 'Assignable', 1, 0)),
      completedUnit(),
    ];
    for (const d of states) {
      const before = d.value;
      for (const e of failures) assert.equal(d.send(e).value, before);
      assert.is(d.snapshot.status, 'active');
    }
    const h = run({ runId: 'r1', unitIds: ['u1'] }).setUp();
    h.send({ type: 'hit.lookupFailed', hitId: 'HIT-zzz', reason: 'Throttled', at: 1 });
    assert.is(h.snapshot.status, 'active');
    assert.is(assignedUnit().send({ type: 'hit.notFound', hitId: HIT, at: 1 }).value, 'expired');
  },
);

Lessons(
  '#18: when MTurk refuses a review then the agent keeps its status and the failure is data; reject needs feedback by type',
  () => {
    const d = completedAgent().send({ type: 'review.reject', requestId: 'q1', feedback: 'incomplete', at: 1 });
    answer(d, 'review.failed', { reason: 'RequesterFeedback too long', retryable: false });
    assert.equal(d.value, { completed: 'idle' });
    assert.equal(d.snapshot.context.lastReviewFailure?.reason, 'RequesterFeedback too long');
    // @ts-expect-error RejectAssignment without feedback is refused by MTurk (Mephisto BUG #23): the event requires it.
    const withoutFeedback: AgentEvent = { type: 'review.reject', requestId: 'q2', at: 1 };
    assert.ok(withoutFeedback);
  },
);

Lessons(
  '#21 (PR #445): when the assignment was auto-approved then approve succeeds (alreadyDone) and approving again calls nothing',
  () => {
    const d = completedAgent().send({ type: 'review.approve', requestId: 'q1', at: 1 });
    answer(d, 'review.alreadyDone');
    assert.equal(d.value, { approved: 'idle' });
    d.send({ type: 'review.approve', requestId: 'q2', at: 2 });
    assert.equal(d.actions, []);
    assert.equal(workingAgent().send({ type: 'agent.returned', at: 1 }).snapshot.context.agentId, AGENT);
  },
);

Lessons.run();
