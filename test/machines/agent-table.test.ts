// Every row of Mephisto's "Agent transitions that involve the MTurk provider" table
// (docs/mephisto-semantics.md#agent-transitions) as a test of the agent machine, plus its review protocol: pending
// states that move only on a confirmed result, failures that leave the agent where it was, and
// bonuses queued until the work is submitted.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { agentMachine } from '../../machines/agent.js';
import type { AgentEvent } from '../../machines/agent-types.js';
import { AgentStateGroups } from '../../machines/states.js';
import { AGENT_INPUT, type Drive, acceptedAgent, agentDrive, answer, completedAgent, workingAgent } from './support.js';

const T0 = Date.UTC(2026, 0, 1);

/** An agent driven into each working ("task-ish") state. */
const workingStates = (): Array<[string, Drive<typeof agentMachine>]> => [
  ['accepted', acceptedAgent()],
  ['onboarding', acceptedAgent().send({ type: 'agent.onboardingStarted', at: T0 })],
  ['waiting', acceptedAgent().send({ type: 'agent.waitingStarted', at: T0 })],
  ['in task', workingAgent()],
  ['partner disconnect', workingAgent().send({ type: 'agent.partnerDisconnected', at: T0 })],
];

const Rows = suite('agent machine: agent transitions (docs/mephisto-semantics.md#agent-transitions)');

Rows('registration: when a worker is registered then the agent goes none → accepted', () => {
  const d = agentDrive();
  assert.is(d.value, 'none');
  d.send({ type: 'agent.accepted', at: T0 });
  assert.is(d.value, 'accepted');
});

Rows('accepted → in task: when the task starts then the agent is in task', () => {
  assert.is(workingAgent().value, 'in task');
});

Rows(
  'accepted → waiting → in task: when partners are awaited then the agent waits, and is in task once they are all there',
  () => {
    const d = acceptedAgent().send({ type: 'agent.waitingStarted', at: T0 });
    assert.is(d.value, 'waiting');
    d.send({ type: 'agent.taskStarted', at: T0 });
    assert.is(d.value, 'in task');
  },
);

Rows(
  'return (M1/M2): when MTurk confirms a return then an accepted, onboarding, waiting, in task or partner disconnect agent is returned',
  () => {
    for (const [from, d] of workingStates()) {
      d.send({ type: 'agent.returned', at: T0 });
      assert.is(d.value, 'returned', from);
      assert.equal(
        d.send({ type: 'agent.submitted', at: T0 }).value,
        'returned',
        'absorbing: a returned assignment cannot be submitted',
      );
    }
  },
);

Rows('return (PR #410): when a return is reported for a completed agent then it stays completed', () => {
  const d = completedAgent().send({ type: 'agent.returned', at: T0 });
  assert.equal(d.value, { completed: 'idle' });
});

Rows(
  'L1 expired: when the unit expires under a working agent then the agent is expired; a completed one is not (Mephisto expires it)',
  () => {
    for (const [from, d] of workingStates())
      assert.is(d.send({ type: 'agent.expired', at: T0 }).value, 'expired', from);
    assert.equal(completedAgent().send({ type: 'agent.expired', at: T0 }).value, { completed: 'idle' });
  },
);

Rows('submit: when an in-task agent submits then it is completed with its data stored', () => {
  const d = completedAgent();
  assert.equal(d.value, { completed: 'idle' });
  assert.is(d.snapshot.context.dataStored, true);
});

Rows(
  'M4 reconcile: when MTurk shows the assignment submitted without our data then the agent is completed, and the data arrives later',
  () => {
    const d = workingAgent().send({ type: 'assignment.submitted', at: T0 });
    assert.equal(d.value, { completed: 'idle' });
    assert.is(d.snapshot.context.dataStored, false);
    d.send({ type: 'agent.submitted', at: T0 + 1 });
    assert.is(d.snapshot.context.dataStored, true);
  },
);

Rows('runner exit: when the worker disconnects or times out then the agent is disconnect or timeout', () => {
  assert.is(workingAgent().send({ type: 'agent.disconnected', at: T0 }).value, 'disconnect');
  assert.is(workingAgent().send({ type: 'agent.timedOut', at: T0 }).value, 'timeout');
  assert.is(workingAgent().send({ type: 'agent.released', at: T0 }).value, 'disconnect');
});

Rows(
  'late submission (a known Mephisto risk): when a disconnected or timed-out worker’s submission arrives then the agent is completed, not lost',
  () => {
    assert.equal(
      workingAgent()
        .send({ type: 'agent.disconnected', at: T0 })
        .send({ type: 'agent.submitted', at: T0 + 1 }).value,
      { completed: 'idle' },
    );
    assert.equal(
      workingAgent()
        .send({ type: 'agent.timedOut', at: T0 })
        .send({ type: 'assignment.submitted', at: T0 + 1 }).value,
      { completed: 'idle' },
    );
  },
);

Rows(
  'approveWork: when a completed agent is approved then approveAssignment is pending and it is approved only on success',
  () => {
    const d = completedAgent().send({ type: 'review.approve', requestId: 'q1', feedback: 'thanks', at: T0 });
    assert.equal(d.value, { completed: 'approving' });
    assert.equal(d.commands, [
      {
        kind: 'approveAssignment',
        commandId: 'r1/ASG1-WKR1/approveAssignment/q1',
        runId: 'r1',
        agentId: 'ASG1-WKR1',
        unitId: 'u1',
        assignmentId: 'ASG1',
        workerId: 'WKR1',
        requestId: 'q1',
        feedback: 'thanks',
        overrideRejection: false,
      },
    ]);
    answer(d, 'review.succeeded');
    assert.equal(d.value, { approved: 'idle' });
    assert.equal(
      d.actions.filter((a) => a.type === 'report').map((a) => a.params),
      [{ type: 'agent.reviewed', agentId: 'ASG1-WKR1', unitId: 'u1', status: 'approved', at: d.now }],
      'the unit (its parent) learns the confirmed outcome',
    );
  },
);

Rows('approveWork from rejected: when a rejected agent is approved then the command overrides the rejection', () => {
  const d = completedAgent().send({ type: 'review.reject', requestId: 'q1', feedback: 'wrong', at: T0 });
  answer(d, 'review.succeeded');
  assert.equal(d.value, { rejected: 'idle' });
  d.send({ type: 'review.approve', requestId: 'q2', at: T0 });
  assert.equal(d.value, { rejected: 'approving' });
  assert.is(d.commands[0]?.kind === 'approveAssignment' && d.commands[0].overrideRejection, true);
  answer(d, 'review.succeeded');
  assert.equal(d.value, { approved: 'idle' });
});

Rows(
  'approveWork from soft_rejected: when a soft-rejected agent is approved then it is refused (soft_rejected is immutable and its unit final)',
  () => {
    const d = completedAgent().send({ type: 'review.softReject', requestId: 'q1', at: T0 });
    answer(d, 'review.succeeded');
    assert.equal(d.value, { soft_rejected: 'idle' });
    d.send({ type: 'review.approve', requestId: 'q2', at: T0 });
    assert.equal(d.value, { soft_rejected: 'idle' });
    assert.equal(d.commands, []);
  },
);

Rows(
  'rejectWork: when a completed agent is rejected then rejectAssignment carries the required feedback and it is rejected on success',
  () => {
    const d = completedAgent().send({ type: 'review.reject', requestId: 'q1', feedback: 'empty answers', at: T0 });
    assert.equal(d.value, { completed: 'rejecting' });
    assert.is(d.commands[0]?.kind === 'rejectAssignment' && d.commands[0].feedback, 'empty answers');
    answer(d, 'review.succeeded');
    assert.equal(d.value, { rejected: 'idle' });
  },
);

Rows('rejectWork on approved: when an approved agent is rejected then it stays approved and nothing is called', () => {
  const d = completedAgent().send({ type: 'review.approve', requestId: 'q1', at: T0 });
  answer(d, 'review.succeeded');
  d.send({ type: 'review.reject', requestId: 'q2', feedback: 'x', at: T0 });
  assert.equal(d.value, { approved: 'idle' });
  assert.equal(d.commands, []);
});

Rows(
  'softRejectWork: when a completed or rejected agent is soft-rejected then it is soft_rejected on success (approved on MTurk)',
  () => {
    const d = completedAgent().send({ type: 'review.softReject', requestId: 'q1', feedback: 'low effort', at: T0 });
    assert.equal(d.value, { completed: 'softRejecting' });
    answer(d, 'review.succeeded');
    assert.equal(d.value, { soft_rejected: 'idle' });
    const fromRejected = completedAgent().send({ type: 'review.reject', requestId: 'q1', feedback: 'x', at: T0 });
    answer(fromRejected, 'review.succeeded').send({ type: 'review.softReject', requestId: 'q2', at: T0 });
    assert.is(
      fromRejected.commands[0]?.kind === 'softRejectAssignment' && fromRejected.commands[0].overrideRejection,
      true,
    );
    answer(fromRejected, 'review.succeeded');
    assert.equal(fromRejected.value, { soft_rejected: 'idle' });
  },
);

Rows('approveWork on approved (PR #445): when an approved agent is approved again then no call is made', () => {
  const d = completedAgent().send({ type: 'review.approve', requestId: 'q1', at: T0 });
  answer(d, 'review.succeeded').send({ type: 'review.approve', requestId: 'q2', at: T0 });
  assert.equal(d.value, { approved: 'idle' });
  assert.equal(d.actions, []);
});

const Review = suite('agent machine: review protocol');

Review('when MTurk answers that the assignment is already approved then the approval counts as done', () => {
  const d = completedAgent().send({ type: 'review.approve', requestId: 'q1', at: T0 });
  answer(d, 'review.alreadyDone');
  assert.equal(d.value, { approved: 'idle' });
});

Review(
  'when a review fails then the agent stays where it was, with the reason, and the request can be sent again',
  () => {
    const d = completedAgent().send({ type: 'review.approve', requestId: 'q1', at: T0 });
    answer(d, 'review.failed', { reason: 'This operation can be called with a status of: Submitted', retryable: true });
    assert.equal(d.value, { completed: 'idle' });
    assert.equal(d.snapshot.context.lastReviewFailure, {
      kind: 'approve',
      requestId: 'q1',
      reason: 'This operation can be called with a status of: Submitted',
      retryable: true,
      at: d.now,
    });
    d.send({ type: 'review.approve', requestId: 'q1', at: T0 });
    assert.equal(
      d.commands.map((c) => c.commandId),
      ['r1/ASG1-WKR1/approveAssignment/q1'],
      'same request, same command id, same token',
    );
  },
);

Review('when a result names another command then the pending review does not move', () => {
  const d = completedAgent().send({ type: 'review.approve', requestId: 'q1', at: T0 });
  d.send({ type: 'review.succeeded', commandId: 'r1/ASG1-WKR1/approveAssignment/other', at: T0 });
  assert.equal(d.value, { completed: 'approving' });
});

Review('when a review is asked of a working agent then it is not accepted (nothing submitted to review)', () => {
  for (const e of [
    { type: 'review.approve', requestId: 'q', at: T0 },
    { type: 'review.reject', requestId: 'q', feedback: 'f', at: T0 },
    { type: 'review.softReject', requestId: 'q', at: T0 },
  ] as AgentEvent[]) {
    const d = workingAgent().send(e);
    assert.is(d.value, 'in task');
    assert.equal(d.commands, []);
  }
});

const Bonus = suite('agent machine: bonuses');

Bonus(
  '#1081 and issue 13 F1: when a bonus is asked before the work is submitted then it is queued and paid once the agent is completed and MTurk named its assignment',
  () => {
    const d = workingAgent().send({
      type: 'review.bonus',
      requestId: 'b1',
      amountUsd: '0.50',
      reason: 'great work',
      at: T0,
    });
    assert.is(d.value, 'in task');
    assert.equal(d.commands, []);
    assert.is(d.snapshot.context.bonusQueue.length, 1);
    d.send({ type: 'agent.submitted', at: T0 + 1 });
    assert.equal(d.value, { completed: 'idle' }, 'stored data is only the worker’s word');
    assert.equal(d.commands, []);
    d.send({ type: 'submission.confirmed', at: T0 + 1 });
    assert.equal(d.value, { completed: 'bonusing' });
    assert.equal(d.commands, [
      {
        kind: 'sendBonus',
        commandId: 'r1/ASG1-WKR1/sendBonus/b1',
        runId: 'r1',
        agentId: 'ASG1-WKR1',
        unitId: 'u1',
        assignmentId: 'ASG1',
        workerId: 'WKR1',
        requestId: 'b1',
        amountUsd: '0.50',
        reason: 'great work',
      },
    ]);
    answer(d, 'review.succeeded');
    assert.equal(d.value, { completed: 'idle' });
    assert.equal(d.snapshot.context.paidBonuses, ['b1']);
  },
);

Bonus('when the same bonus request is sent again (after a crash or a double click) then it is never paid twice', () => {
  const d = completedAgent().send({ type: 'review.bonus', requestId: 'b1', amountUsd: '1.00', reason: 'r', at: T0 });
  d.send({ type: 'review.bonus', requestId: 'b1', amountUsd: '1.00', reason: 'r', at: T0 });
  assert.is(d.snapshot.context.bonusQueue.length, 0);
  answer(d, 'review.succeeded');
  d.send({ type: 'review.bonus', requestId: 'b1', amountUsd: '1.00', reason: 'r', at: T0 });
  assert.equal(d.value, { completed: 'idle' });
  assert.equal(d.commands, []);
});

Bonus(
  'when several bonuses and an approval are asked then they are done one at a time, each after a confirmed result',
  () => {
    const d = completedAgent().send({ type: 'review.approve', requestId: 'q1', at: T0 });
    d.send({ type: 'review.bonus', requestId: 'b1', amountUsd: '0.10', reason: 'a', at: T0 });
    d.send({ type: 'review.bonus', requestId: 'b2', amountUsd: '0.20', reason: 'b', at: T0 });
    assert.equal(d.value, { completed: 'approving' });
    answer(d, 'review.succeeded');
    assert.equal(d.value, { approved: 'bonusing' });
    answer(d, 'review.failed', { reason: 'insufficient funds' });
    assert.equal(d.value, { approved: 'bonusing' }, 'the next queued bonus starts');
    assert.equal(d.snapshot.context.lastReviewFailure?.requestId, 'b1');
    answer(d, 'review.succeeded');
    assert.equal(d.value, { approved: 'idle' });
    assert.equal(d.snapshot.context.paidBonuses, ['b2']);
  },
);

Bonus('when an agent ends returned with a bonus queued then the bonus is not paid and stays visible', () => {
  const d = workingAgent()
    .send({ type: 'review.bonus', requestId: 'b1', amountUsd: '0.10', reason: 'a', at: T0 })
    .send({ type: 'agent.returned', at: T0 });
  assert.is(d.value, 'returned');
  assert.equal(
    d.snapshot.context.bonusQueue.map((b) => b.requestId),
    ['b1'],
  );
});

const Groups = suite('agent machine: Mephisto groupings');

Groups('when the agent is in a state of complete() then no task-server event moves it back to work', () => {
  const finals = AgentStateGroups.complete;
  assert.ok(finals.includes('returned') && finals.includes('approved'));
  const events: AgentEvent[] = [
    { type: 'agent.taskStarted', at: T0 },
    { type: 'agent.waitingStarted', at: T0 },
    { type: 'agent.onboardingStarted', at: T0 },
    { type: 'agent.accepted', at: T0 },
  ];
  const ends = [
    completedAgent(),
    workingAgent().send({ type: 'agent.disconnected', at: T0 }),
    workingAgent().send({ type: 'agent.returned', at: T0 }),
  ];
  for (const d of ends) {
    const before = d.value;
    for (const e of events) assert.equal(d.send(e).value, before);
  }
});

Groups('when the assignment deadline passes then a working agent times out (PR #830), and not before', () => {
  const d = workingAgent();
  d.send({ type: 'deadline.reached', at: AGENT_INPUT.deadlineAt - 1 });
  assert.is(d.value, 'in task');
  d.send({ type: 'deadline.reached', at: AGENT_INPUT.deadlineAt });
  assert.is(d.value, 'timeout');
});

Rows.run();
Review.run();
Bonus.run();
Groups.run();
