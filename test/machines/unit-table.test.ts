// Every row of Mephisto's MTurkUnit tables (docs/mephisto-semantics.md#the-unit-table) as a test of the unit
// machine: the get_status() rows (C1, T1, R1-R4, L1, L2, H1-H6), the merge rules (M1-M6) and the
// transitions caused by actions, with hitstate's fixes where Mephisto has a bug.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { UnitEvent } from '../../machines/unit-types.js';
import {
  AGENT,
  ASSIGNMENT,
  HIT,
  OTHER_HIT,
  assignedUnit,
  completedUnit,
  confirmSubmission,
  launchedUnit,
  observed,
  unitDrive,
} from './support.js';

const Rows = suite('unit machine: status rows (docs/mephisto-semantics.md#status-rows)');

Rows('C1: when a created unit gets an observation or a lookup result then it stays created and calls nothing', () => {
  const d = unitDrive();
  for (const e of [
    observed(HIT, 'Reviewable', 0, d.now),
    { type: 'hit.notFound', hitId: HIT, at: d.now } as UnitEvent,
    observed(HIT, 'Assignable', 1, d.now),
  ]) {
    d.send(e);
    assert.equal(d.value, { created: 'idle' });
    assert.equal(d.actions, []);
  }
});

Rows(
  'T1: when a unit is accepted, expired or soft_rejected then no event changes it and none makes an MTurk call (absorbing, its agent kept alive)',
  () => {
    const accepted = completedUnit().send({ type: 'agent.reviewed', agentId: AGENT, status: 'approved', at: 1 });
    const softRejected = completedUnit().send({
      type: 'agent.reviewed',
      agentId: AGENT,
      status: 'soft_rejected',
      at: 1,
    });
    const expired = assignedUnit().send({ type: 'hit.notFound', hitId: HIT, at: 1 });
    const events: UnitEvent[] = [
      observed(HIT, 'Assignable', 1, 2),
      observed(HIT, 'Reviewable', 0, 2),
      { type: 'hit.notFound', hitId: HIT, at: 2 },
      { type: 'unit.expire', hitId: HIT, at: 2 },
      { type: 'unit.launch', at: 2 },
      { type: 'unit.releaseAgent', reason: 'x', at: 2 },
      { type: 'unit.abandon', reason: 'x', at: 2 },
      { type: 'agent.reviewed', agentId: AGENT, status: 'rejected', at: 2 },
      { type: 'deadline.reached', at: Number.MAX_SAFE_INTEGER },
    ];
    for (const [d, status] of [
      [accepted, 'accepted'],
      [softRejected, 'soft_rejected'],
      [expired, 'expired'],
    ] as const) {
      assert.is(d.value, status);
      assert.is(
        d.snapshot.status,
        'active',
        'not XState-final: a final unit would stop its agent, which may still get a bonus',
      );
      for (const e of events) {
        d.send(e);
        assert.is(d.value, status, `${status} changed on ${e.type}`);
        assert.equal(d.commands, [], `${status} issued a command on ${e.type}`);
      }
    }
  },
);

Rows('R1: when a completed or rejected unit learns its agent was approved then it is accepted', () => {
  const fromCompleted = completedUnit().send({ type: 'agent.reviewed', agentId: AGENT, status: 'approved', at: 1 });
  assert.is(fromCompleted.value, 'accepted');
  const fromRejected = completedUnit()
    .send({ type: 'agent.reviewed', agentId: AGENT, status: 'rejected', at: 1 })
    .send({ type: 'agent.reviewed', agentId: AGENT, status: 'approved', at: 2 });
  assert.is(fromRejected.value, 'accepted');
  assert.equal(fromRejected.reports, [{ type: 'report.unitChanged', unitId: 'u1', status: 'accepted', at: 2 }]);
});

Rows(
  'R2: when a completed unit learns its agent was rejected then it is rejected, and a second rejection changes nothing',
  () => {
    const d = completedUnit().send({ type: 'agent.reviewed', agentId: AGENT, status: 'rejected', at: 1 });
    assert.is(d.value, 'rejected');
    d.send({ type: 'agent.reviewed', agentId: AGENT, status: 'rejected', at: 2 });
    assert.is(d.value, 'rejected');
    assert.equal(d.actions, []);
  },
);

Rows('R3: when a completed or rejected unit learns its agent was soft-rejected then it is soft_rejected', () => {
  assert.is(
    completedUnit().send({ type: 'agent.reviewed', agentId: AGENT, status: 'soft_rejected', at: 1 }).value,
    'soft_rejected',
  );
  const fromRejected = completedUnit()
    .send({ type: 'agent.reviewed', agentId: AGENT, status: 'rejected', at: 1 })
    .send({ type: 'agent.reviewed', agentId: AGENT, status: 'soft_rejected', at: 2 });
  assert.is(fromRejected.value, 'soft_rejected');
});

Rows('R4: when a completed unit has no agent then a review outcome leaves it unchanged', () => {
  const d = launchedUnit().send(observed(HIT, 'Reviewable', 0, 1));
  assert.equal(d.value, { completed: 'reconciling' });
  assert.is(d.snapshot.context.agentId, null);
  d.send({
    type: 'reconcile.failed',
    commandId: d.commands[0]!.commandId,
    reason: 'no answer',
    retryable: false,
    at: 2,
  });
  d.send({ type: 'agent.reviewed', agentId: AGENT, status: 'approved', at: 3 });
  assert.equal(d.value, { completed: 'reconcileFailed' });
  assert.is(d.snapshot.context.reviewOutcome, null);
});

Rows(
  'L1: when an assigned unit gets news of a HIT it does not hold then it ignores it and its agent is not expired',
  () => {
    const d = assignedUnit();
    for (const e of [
      observed(OTHER_HIT, 'Reviewable', 1, 1),
      { type: 'hit.notFound', hitId: OTHER_HIT, at: 1 } as UnitEvent,
      observed(OTHER_HIT, 'Assignable', 1, 1),
    ]) {
      d.send(e);
      assert.equal(d.value, { assigned: 'working' });
      assert.equal(d.actions, []);
    }
    assert.is(d.snapshot.context.hitId, HIT);
    assert.is(d.snapshot.context.agentId, AGENT);
  },
);

Rows(
  'L2: when MTurk says the HIT does not exist then a launched or assigned unit is expired and an assigned one tells its agent',
  () => {
    const launched = launchedUnit().send({ type: 'hit.notFound', hitId: HIT, at: 1 });
    assert.is(launched.value, 'expired');
    assert.is(launched.snapshot.context.hitId, HIT, 'the vanished pool HIT is consumed by the unit');
    const assigned = assignedUnit().send({ type: 'hit.notFound', hitId: HIT, at: 2 });
    assert.is(assigned.value, 'expired');
    assert.equal(assigned.toldAgent, [{ type: 'agent.expired', at: 2 }]);
  },
);

Rows('L2: when reading the HIT fails (transient) then the unit stays where it is and nothing throws', () => {
  for (const d of [launchedUnit(), assignedUnit()]) {
    const before = d.value;
    d.send({ type: 'hit.lookupFailed', hitId: HIT, reason: 'ThrottlingException', at: 1 });
    assert.equal(d.value, before);
    assert.is(d.snapshot.status, 'active');
  }
});

Rows(
  'H1: when the HIT is Assignable then a launched unit stays launched (M6) and an assigned one suspects a return (M1)',
  () => {
    const launched = launchedUnit().send(observed(HIT, 'Assignable', 1, 1));
    assert.equal(launched.value, { launched: 'available' });
    const assigned = assignedUnit().send(observed(HIT, 'Assignable', 1, 1));
    assert.equal(assigned.value, { assigned: 'returnTentative' });
  },
);

Rows(
  'H2: when the HIT is Unassignable then a launched unit waits for the worker (M3) and an assigned one keeps working',
  () => {
    const launched = launchedUnit().send(observed(HIT, 'Unassignable', 0, 1));
    assert.equal(launched.value, { launched: 'available' });
    const assigned = assignedUnit().send(observed(HIT, 'Unassignable', 0, 1));
    assert.equal(assigned.value, { assigned: 'working' });
    assert.equal(assigned.actions, []);
  },
);

Rows('H3: when the HIT is Reviewable or Reviewing with no assignment available then the unit is completed', () => {
  for (const status of ['Reviewable', 'Reviewing']) {
    // Stored data is the worker's word: MTurk is asked whose submission it is (issue 13 F1).
    assert.equal(
      assignedUnit()
        .send({ type: 'agent.submitted', at: 1 })
        .send(observed(HIT, status, 0, 2)).value,
      { completed: 'reconciling' },
    );
    assert.equal(launchedUnit().send(observed(HIT, status, 0, 2)).value, { completed: 'reconciling' });
  }
});

Rows('H4: when the HIT is Reviewable or Reviewing with assignments available then the unit is expired', () => {
  for (const status of ['Reviewable', 'Reviewing']) {
    assert.is(assignedUnit().send(observed(HIT, status, 1, 1)).value, 'expired');
    assert.is(launchedUnit().send(observed(HIT, status, 1, 1)).value, 'expired');
  }
});

Rows('H5: when the HIT is Disposed then the observation carries no information and nothing changes', () => {
  assert.equal(launchedUnit().send(observed(HIT, 'Disposed', 0, 1)).value, { launched: 'available' });
  const assigned = assignedUnit().send(observed(HIT, 'Disposed', 0, 1));
  assert.equal(assigned.value, { assigned: 'working' });
  assert.equal(assigned.actions, []);
});

Rows('H6: when MTurk reports a status it never had before then the unit ignores it instead of throwing', () => {
  for (const d of [launchedUnit(), assignedUnit()]) {
    const before = d.value;
    d.send(observed(HIT, 'Suspended', 0, 1));
    assert.equal(d.value, before);
    assert.is(d.snapshot.status, 'active');
  }
});

const Merge = suite('unit machine: merge rules (docs/mephisto-semantics.md#merge-rules)');

Merge(
  'M1: when an assigned unit sees Assignable twice then the return is confirmed: HIT back to the pool, agent returned, unit launched',
  () => {
    const d = assignedUnit().send(observed(HIT, 'Assignable', 1, 10));
    assert.equal(d.value, { assigned: 'returnTentative' });
    assert.equal(
      d.commands.map((c) => c.kind),
      ['confirmHIT'],
    );
    assert.equal(d.toldAgent, [], 'the first sighting does not touch the agent');
    d.send(observed(HIT, 'Assignable', 1, 20));
    assert.equal(d.value, { launched: 'available' });
    assert.equal(d.toldAgent, [{ type: 'agent.returned', at: 20 }]);
    assert.ok(d.reports.some((r) => r.type === 'report.hitReleased' && r.hitId === HIT));
    assert.equal(
      [d.snapshot.context.hitId, d.snapshot.context.agentId, d.snapshot.context.assignmentId],
      [null, null, null],
    );
  },
);

Merge(
  'M1: when the Assignable sighting is followed by Unassignable then it was a flicker and the unit keeps working',
  () => {
    const d = assignedUnit()
      .send(observed(HIT, 'Assignable', 1, 10))
      .send(observed(HIT, 'Unassignable', 0, 20));
    assert.equal(d.value, { assigned: 'working' });
    assert.is(d.snapshot.context.returnSuspectedAt, null);
  },
);

Merge('M1: when the same Assignable observation is delivered twice then the return is not confirmed by it', () => {
  const d = assignedUnit()
    .send(observed(HIT, 'Assignable', 1, 10))
    .send(observed(HIT, 'Assignable', 1, 10));
  assert.equal(d.value, { assigned: 'returnTentative' });
});

Merge(
  'M1: when the confirmHIT the suspicion issued answers Assignable in the same millisecond then the return is confirmed at once (one poll period)',
  () => {
    const d = assignedUnit().send(observed(HIT, 'Assignable', 1, 10));
    const [confirm] = d.commands;
    assert.is(confirm?.kind, 'confirmHIT');
    d.send({ ...observed(HIT, 'Assignable', 1, 10), commandId: confirm!.commandId } as UnitEvent);
    assert.equal(d.value, { launched: 'available' });
    assert.equal(d.toldAgent, [{ type: 'agent.returned', at: 10 }]);
  },
);

Merge(
  'M1: when a confirmHIT answer of an earlier suspicion arrives in the same millisecond then it does not confirm the new suspicion',
  () => {
    const d = assignedUnit().send(observed(HIT, 'Assignable', 1, 10));
    const [first] = d.commands;
    d.send(observed(HIT, 'Unassignable', 0, 11)).send(observed(HIT, 'Assignable', 1, 12));
    assert.equal(d.value, { assigned: 'returnTentative' });
    assert.is.not(d.commands[0]?.commandId, first!.commandId, 'each suspicion issues its own confirmHIT');
    d.send({ ...observed(HIT, 'Assignable', 1, 12), commandId: first!.commandId } as UnitEvent);
    assert.equal(d.value, { assigned: 'returnTentative' });
    assert.equal(d.toldAgent, []);
  },
);

Merge(
  'M1 (PR #410): when the confirmHIT answers Reviewable after an Assignable flicker then the unit is completed, never returned',
  () => {
    const d = assignedUnit().send(observed(HIT, 'Assignable', 1, 10));
    const [confirm] = d.commands;
    d.send({ ...observed(HIT, 'Reviewable', 0, 10), commandId: confirm!.commandId } as UnitEvent);
    assert.equal(d.value, { completed: 'reconciling' });
    assert.not.ok(d.toldAgent.some((e) => e.type === 'agent.returned'));
  },
);

Merge(
  'M2: when an assigned unit sees its HIT expired with the slot free then it is expired and its agent is told it returned',
  () => {
    const d = assignedUnit().send(observed(HIT, 'Reviewable', 1, 5));
    assert.is(d.value, 'expired');
    assert.equal(d.toldAgent, [{ type: 'agent.returned', at: 5 }]);
  },
);

Merge(
  'M3: when a launched unit sees its HIT Unassignable then it stays launched until the worker arrives (no assigned unit without an agent)',
  () => {
    const d = launchedUnit().send(observed(HIT, 'Unassignable', 0, 1));
    assert.equal(d.value, { launched: 'available' });
    d.send({
      type: 'unit.bindAgent',
      hitId: HIT,
      assignmentId: ASSIGNMENT,
      agentId: AGENT,
      workerId: 'W',
      deadlineAt: 99,
      at: 2,
    });
    assert.equal(d.value, { assigned: 'working' });
  },
);

Merge(
  'M4: when MTurk shows an assigned unit submitted and the data is stored then the agent is told, MTurk is asked once whose submission it is, and the unit awaits review',
  () => {
    const d = assignedUnit()
      .send({ type: 'agent.submitted', at: 1 })
      .send(observed(HIT, 'Reviewable', 0, 2));
    assert.equal(d.value, { completed: 'reconciling' });
    assert.equal(
      d.commands.map((c) => c.kind),
      ['reconcileSubmission'],
    );
    assert.equal(d.toldAgent, [{ type: 'agent.submitted', at: 2 }]);
    confirmSubmission(d);
    assert.equal(d.value, { completed: 'awaitingReview' });
    assert.is(d.snapshot.context.submissionConfirmed, true);
    d.send(observed(HIT, 'Reviewable', 0, 3));
    assert.equal(d.commands, [], 'MTurk’s word is kept: no second call');
  },
);

Merge(
  'M4: when MTurk shows an assigned unit submitted but the data is missing then it reconciles (PR #442) and the agent is completed without data',
  () => {
    const d = assignedUnit().send(observed(HIT, 'Reviewable', 0, 2));
    assert.equal(d.value, { completed: 'reconciling' });
    assert.equal(d.commands, [
      {
        kind: 'reconcileSubmission',
        commandId: 'r1/u1/reconcileSubmission/HIT1',
        runId: 'r1',
        unitId: 'u1',
        hitId: HIT,
        assignmentId: ASSIGNMENT,
        agentId: AGENT,
        attempt: 1,
      },
    ]);
    assert.equal(d.toldAgent, [{ type: 'assignment.submitted', at: 2 }]);
  },
);

Merge(
  'M4: when a completed unit is polled again then it does not reconcile again (Mephisto re-runs the hook on every poll)',
  () => {
    const d = completedUnit().send(observed(HIT, 'Reviewable', 0, 3));
    assert.equal(d.value, { completed: 'awaitingReview' });
    assert.equal(d.actions, []);
  },
);

Merge(
  'M5: when a launched unit answers for a pool HIT that expired unfilled then it is expired and consumes that HIT',
  () => {
    const d = launchedUnit().send(observed(OTHER_HIT, 'Reviewable', 1, 1));
    assert.is(d.value, 'expired');
    assert.is(d.snapshot.context.hitId, OTHER_HIT);
  },
);

Merge(
  'M6: when the observation agrees with the unit (launched/Assignable, assigned/Unassignable) then nothing happens',
  () => {
    const launched = launchedUnit().send(observed(HIT, 'Assignable', 1, 1));
    assert.equal([launched.value, launched.actions], [{ launched: 'available' }, []]);
    const assigned = assignedUnit().send(observed(HIT, 'Unassignable', 0, 1));
    assert.equal([assigned.value, assigned.actions], [{ assigned: 'working' }, []]);
  },
);

const Actions = suite(
  'unit machine: transitions caused by actions (docs/mephisto-semantics.md#transitions-caused-by-actions)',
);

Actions('when a unit is created then it is created and idle with launch attempt 1', () => {
  const d = unitDrive();
  assert.equal(d.value, { created: 'idle' });
  assert.is(d.snapshot.context.launchAttempt, 1);
});

Actions(
  'when a created unit is launched then it issues launchHIT and, on success, is launched with its HIT in the pool unbound',
  () => {
    const d = unitDrive().send({ type: 'unit.launch', at: 1 });
    assert.equal(d.commands, [
      { kind: 'launchHIT', commandId: 'r1/u1/launchHIT/1', runId: 'r1', unitId: 'u1', attempt: 1 },
    ]);
    d.send({ type: 'launch.succeeded', commandId: 'r1/u1/launchHIT/1', hitId: HIT, at: 2 });
    assert.equal(d.value, { launched: 'available' });
    assert.equal(d.reports, [
      { type: 'report.hitCreated', unitId: 'u1', hitId: HIT, at: 2 },
      { type: 'report.unitChanged', unitId: 'u1', status: 'launched', at: 2 },
    ]);
    assert.is(d.snapshot.context.hitId, null, 'a launched unit holds no HIT (docs/mephisto-semantics.md#the-hit-pool)');
    assert.is(d.snapshot.context.launchedHitId, HIT);
  },
);

Actions(
  'when a launched unit gets a worker then it is assigned with HIT, assignment and agent bound, and spawns the agent as its child',
  () => {
    const d = assignedUnit();
    assert.equal(d.value, { assigned: 'working' });
    assert.ok(d.snapshot.children[`agent:${AGENT}`]);
    assert.equal(d.toldAgent, [{ type: 'agent.accepted', at: d.now }]);
    assert.equal(
      [
        d.snapshot.context.hitId,
        d.snapshot.context.assignmentId,
        d.snapshot.context.agentId,
        d.snapshot.context.bindings,
      ],
      [HIT, ASSIGNMENT, AGENT, 1],
    );
  },
);

Actions(
  'when an assigned unit is released (clearAssignedAgent) then it is launched again, the HIT back in the pool, the agent told',
  () => {
    const d = assignedUnit().send({ type: 'unit.releaseAgent', reason: 'agent disconnected while waiting', at: 5 });
    assert.equal(d.value, { launched: 'available' });
    assert.equal(d.toldAgent, [{ type: 'agent.released', at: 5 }]);
    assert.ok(d.reports.some((r) => r.type === 'report.hitReleased' && r.hitId === HIT));
  },
);

Actions(
  'when a completed unit (or an assigned one with stored data) is released then the release is refused: the data is not lost',
  () => {
    const completed = completedUnit().send({ type: 'unit.releaseAgent', reason: 'x', at: 5 });
    assert.equal(completed.value, { completed: 'awaitingReview' });
    const submitted = assignedUnit()
      .send({ type: 'agent.submitted', at: 1 })
      .send({ type: 'unit.releaseAgent', reason: 'x', at: 5 });
    assert.equal(submitted.value, { assigned: 'working' });
    assert.equal(submitted.actions, []);
  },
);

Actions(
  'when an assigned unit is expired then it expires its bound HIT and stays assigned for the worker to finish',
  () => {
    const d = assignedUnit().send({ type: 'unit.expire', hitId: null, at: 5 });
    assert.equal(d.value, { assigned: 'expiring' });
    assert.equal(d.commands, [
      { kind: 'expireHIT', commandId: 'r1/u1/expireHIT/HIT1', runId: 'r1', unitId: 'u1', hitId: HIT },
    ]);
    d.send({ type: 'expire.succeeded', commandId: 'r1/u1/expireHIT/HIT1', at: 6 });
    assert.equal(d.value, { assigned: 'working' });
    assert.is(d.snapshot.context.hitExpired, true);
    d.send({ type: 'unit.expire', hitId: null, at: 7 });
    assert.equal(d.actions, [], 'the HIT is not expired twice');
  },
);

Actions(
  'when a launched unit is expired with a pool HIT then it expires that HIT and ends expired; with none it just expires',
  () => {
    const d = launchedUnit().send({ type: 'unit.expire', hitId: OTHER_HIT, at: 5 });
    assert.equal(d.value, { launched: 'expiring' });
    assert.equal(
      d.commands.map((c) => c.kind),
      ['expireHIT'],
    );
    d.send({ type: 'expire.succeeded', commandId: d.commands[0]!.commandId, at: 6 });
    assert.is(d.value, 'expired');
    const empty = launchedUnit().send({ type: 'unit.expire', hitId: null, at: 5 });
    assert.is(empty.value, 'expired');
    assert.equal(empty.commands, []);
  },
);

Actions('when a created unit is expired then it is expired without any MTurk call', () => {
  const d = unitDrive().send({ type: 'unit.expire', hitId: null, at: 1 });
  assert.is(d.value, 'expired');
  assert.equal(d.commands, []);
});

Actions(
  'when a completed, accepted, rejected or soft_rejected unit is expired then nothing happens and no HIT is expired again (PR #440)',
  () => {
    const units = [
      completedUnit(),
      completedUnit().send({ type: 'agent.reviewed', agentId: AGENT, status: 'approved', at: 1 }),
      completedUnit().send({ type: 'agent.reviewed', agentId: AGENT, status: 'rejected', at: 1 }),
      completedUnit().send({ type: 'agent.reviewed', agentId: AGENT, status: 'soft_rejected', at: 1 }),
    ];
    for (const d of units) {
      const before = d.value;
      d.send({ type: 'unit.expire', hitId: HIT, at: 2 });
      assert.equal(d.value, before);
      assert.equal(d.commands, []);
    }
  },
);

Actions(
  'when a launch fails for good then the unit is created again, says why, and its next launch uses a new token',
  () => {
    const d = unitDrive().send({ type: 'unit.launch', at: 1 });
    d.send({
      type: 'launch.failed',
      commandId: 'r1/u1/launchHIT/1',
      reason: 'InsufficientFunds',
      retryable: false,
      at: 2,
    });
    assert.equal(d.value, { created: 'idle' });
    assert.equal(d.snapshot.context.lastFailure, {
      kind: 'launchHIT',
      reason: 'InsufficientFunds',
      retryable: false,
      at: 2,
    });
    assert.equal(d.reports, [
      { type: 'report.launchFailed', unitId: 'u1', reason: 'InsufficientFunds', retryable: false, at: 2 },
    ]);
    d.send({ type: 'unit.launch', at: 3 });
    assert.equal(
      d.commands.map((c) => c.commandId),
      ['r1/u1/launchHIT/2'],
    );
  },
);

Actions(
  'when a launch fails retryably then it is retried at retryAt with the same token, and gives up after the policy’s attempts',
  () => {
    const d = unitDrive({
      unitId: 'u1',
      runId: 'r1',
      retry: { maxAttempts: 3, baseDelayMs: 1000, maxDelayMs: 10_000 },
    }).send({ type: 'unit.launch', at: 0 });
    d.send({ type: 'launch.failed', commandId: 'r1/u1/launchHIT/1', reason: 'timeout', retryable: true, at: 10 });
    assert.is(d.snapshot.context.retryAt, 1010);
    d.send({ type: 'deadline.reached', at: 1009 });
    assert.equal(d.commands, [], 'not before retryAt');
    d.send({ type: 'deadline.reached', at: 1010 });
    assert.equal(
      d.commands.map((c) => c.commandId),
      ['r1/u1/launchHIT/1'],
    );
    d.send({ type: 'launch.failed', commandId: 'r1/u1/launchHIT/1', reason: 'timeout', retryable: true, at: 1020 });
    assert.is(d.snapshot.context.retryAt, 3020, 'the delay doubles');
    d.send({ type: 'deadline.reached', at: 3020 }).send({
      type: 'launch.failed',
      commandId: 'r1/u1/launchHIT/1',
      reason: 'timeout',
      retryable: true,
      at: 3030,
    });
    assert.equal(d.value, { created: 'idle' });
    assert.is(d.snapshot.context.launchAttempt, 1, 'an ambiguous failure keeps the token: the HIT may exist');
  },
);

Actions('when a result answers another command than the pending one then it is ignored', () => {
  const d = unitDrive().send({ type: 'unit.launch', at: 1 });
  d.send({ type: 'launch.succeeded', commandId: 'r1/u1/launchHIT/7', hitId: HIT, at: 2 });
  assert.equal(d.value, { created: 'launching' });
});

const Reconcile = suite('unit machine: completed.reconciling');

Reconcile('when reconciliation succeeds then the unit awaits review and the agent is told its data is stored', () => {
  const d = assignedUnit().send(observed(HIT, 'Reviewable', 0, 2));
  d.send({ type: 'reconcile.succeeded', commandId: d.commands[0]!.commandId, at: 3 });
  assert.equal(d.value, { completed: 'awaitingReview' });
  assert.is(d.snapshot.context.submitted, true);
  assert.equal(d.toldAgent, [
    { type: 'agent.submitted', at: 3 },
    { type: 'submission.confirmed', at: 3 },
  ]);
});

Reconcile(
  'when reconciliation keeps failing then it retries at retryAt a bounded number of times and ends in reconcileFailed',
  () => {
    const d = assignedUnit().send(observed(HIT, 'Reviewable', 0, 0));
    const id = d.commands[0]!.commandId;
    let at = 0;
    for (let attempt = 1; attempt < 5; attempt++) {
      d.send({ type: 'reconcile.failed', commandId: id, reason: 'no assignment listed yet', retryable: true, at });
      assert.equal(d.value, { completed: 'reconciling' });
      at = d.snapshot.context.retryAt!;
      d.send({ type: 'deadline.reached', at });
      assert.equal(
        d.commands.map((c) => c.kind === 'reconcileSubmission' && c.attempt),
        [attempt + 1],
      );
    }
    d.send({
      type: 'reconcile.failed',
      commandId: id,
      reason: 'no assignment listed yet',
      retryable: true,
      at: at + 1,
    });
    assert.equal(d.value, { completed: 'reconcileFailed' });
    assert.equal(d.snapshot.context.lastFailure?.kind, 'reconcileSubmission');
    d.send({ type: 'unit.retryReconcile', at: at + 2 });
    assert.equal(d.value, { completed: 'reconciling' });
    assert.equal(
      d.commands.map((c) => c.kind === 'reconcileSubmission' && c.attempt),
      [1],
    );
  },
);

Reconcile(
  'when the task server’s submit arrives late during reconciliation then it is recorded and MTurk’s answer still decides',
  () => {
    const d = assignedUnit()
      .send(observed(HIT, 'Reviewable', 0, 2))
      .send({ type: 'agent.submitted', at: 3 });
    assert.equal(d.value, { completed: 'reconciling' });
    assert.is(d.snapshot.context.submitted, true);
    confirmSubmission(d);
    assert.equal(d.value, { completed: 'awaitingReview' });
  },
);

Reconcile(
  'issue 13 F1: when MTurk names another assignment than the one whose data the task server stored then the agent is overruled and the unit holds MTurk’s',
  () => {
    const d = assignedUnit()
      .send({ type: 'agent.submitted', at: 1 })
      .send(observed(HIT, 'Reviewable', 0, 2));
    confirmSubmission(d, 'A9', 'W9');
    assert.equal(d.value, { completed: 'awaitingReview' });
    assert.equal(
      [d.snapshot.context.agentId, d.snapshot.context.assignmentId, d.snapshot.context.workerId],
      [null, 'A9', 'W9'],
    );
    assert.equal(d.toldAgent.at(-1), { type: 'assignment.overruled', at: d.now });
    assert.equal(
      d.reports.map((r) => r.type).at(-1),
      'report.reconciledWithoutAgent',
      'the supervisor may adopt the agent of the worker MTurk names',
    );
  },
);

Reconcile(
  'issue 13 F1: when a money call on the bound assignment is refused as not existing then the unit asks MTurk again; the HIT gone, it expires and the agent ends expired',
  () => {
    const d = completedUnit();
    d.send({ type: 'unit.submissionRefuted', assignmentId: 'OTHER', reason: 'does not exist', at: 5 });
    assert.equal(d.value, { completed: 'awaitingReview' }, 'only the bound assignment counts');
    d.send({ type: 'unit.submissionRefuted', assignmentId: ASSIGNMENT, reason: 'does not exist', at: 5 });
    assert.equal(d.value, { completed: 'reconciling' });
    d.send({ type: 'hit.notFound', hitId: HIT, at: 6 });
    assert.is(d.value, 'expired');
    assert.equal(d.toldAgent.at(-1), { type: 'assignment.notSubmitted', at: 6 });
  },
);

Reconcile(
  'issue 13 F1: when an assigned unit whose agent stored data expires (HIT gone, or abandoned) then the agent is told MTurk never had that submission',
  () => {
    const gone = assignedUnit()
      .send({ type: 'agent.submitted', at: 1 })
      .send({ type: 'hit.notFound', hitId: HIT, at: 2 });
    assert.is(gone.value, 'expired');
    assert.equal(gone.toldAgent.at(-1), { type: 'assignment.notSubmitted', at: 2 });
    const abandoned = assignedUnit().send({ type: 'unit.abandon', reason: 'drain deadline', at: 2 });
    assert.equal(abandoned.toldAgent.at(-1), { type: 'agent.expired', at: 2 });
  },
);

Reconcile('when a review outcome arrives while reconciling then it waits until the data question is settled', () => {
  const d = assignedUnit().send(observed(HIT, 'Reviewable', 0, 2));
  const id = d.commands[0]!.commandId;
  d.send({ type: 'agent.reviewed', agentId: AGENT, status: 'approved', at: 3 });
  assert.equal(d.value, { completed: 'reconciling' });
  d.send({ type: 'reconcile.succeeded', commandId: id, at: 4 });
  assert.is(d.value, 'accepted');
});

Reconcile(
  'when a unit without agent reconciles an assignment then it remembers the worker and, asked to adopt, spawns that worker’s agent',
  () => {
    const d = launchedUnit().send(observed(HIT, 'Reviewable', 0, 1));
    d.send({
      type: 'reconcile.succeeded',
      commandId: d.commands[0]!.commandId,
      assignmentId: 'A9',
      workerId: 'W9',
      at: 2,
    });
    assert.equal(d.value, { completed: 'awaitingReview' });
    assert.equal(
      [d.snapshot.context.agentId, d.snapshot.context.assignmentId, d.snapshot.context.workerId],
      [null, 'A9', 'W9'],
    );
    assert.equal(d.reports, [
      { type: 'report.reconciledWithoutAgent', unitId: 'u1', hitId: HIT, assignmentId: 'A9', workerId: 'W9', at: 2 },
    ]);
    d.send({ type: 'unit.adoptAgent', agentId: 'A9-W9', assignmentId: 'A9', workerId: 'W9', existing: false, at: 3 });
    assert.is(d.snapshot.context.agentId, 'A9-W9');
    assert.ok(d.snapshot.children['agent:A9-W9'], 'the agent is the unit’s child');
    assert.equal(d.toldAgent, [
      { type: 'agent.accepted', at: 3 },
      { type: 'agent.submitted', at: 3 },
      { type: 'submission.confirmed', at: 3 },
    ]);
    d.send({ type: 'unit.adoptAgent', agentId: 'A8-W8', assignmentId: 'A8', workerId: 'W8', existing: false, at: 4 });
    assert.is(d.snapshot.context.agentId, 'A9-W9', 'a unit adopts one agent only');
  },
);

Reconcile(
  'when the agent is approved before MTurk shows the HIT Reviewable then the unit is accepted as soon as it completes',
  () => {
    const d = assignedUnit()
      .send({ type: 'agent.submitted', at: 1 })
      .send({ type: 'agent.reviewed', agentId: AGENT, status: 'approved', at: 2 });
    assert.equal(d.value, { assigned: 'working' });
    d.send(observed(HIT, 'Reviewable', 0, 3));
    assert.equal(d.value, { completed: 'reconciling' });
    confirmSubmission(d);
    assert.is(d.value, 'accepted');
  },
);

Rows.run();
Merge.run();
Actions.run();
Reconcile.run();
