import {
  ApproveAssignmentCommand,
  CreateHITCommand,
  CreateHITTypeCommand,
  CreateHITWithHITTypeCommand,
  DeleteHITCommand,
  GetAssignmentCommand,
  GetHITCommand,
  ListAssignmentsForHITCommand,
  ListReviewableHITsCommand,
  RejectAssignmentCommand,
  RequestError,
  UpdateExpirationForHITCommand,
  paginateListAssignmentsForHIT,
  type MTurkClient,
} from '@aws-sdk/client-mturk';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Simulator } from '../../src/simulator/index.js';
import { clientFor, hitInput, rejection, startSim, typeInput } from './helpers.js';

const Lifecycle = suite<{ sim: Simulator; mturk: MTurkClient }>('simulator lifecycle', {} as never);

Lifecycle.before.each(async (ctx) => {
  ctx.sim = await startSim();
  ctx.mturk = clientFor(ctx.sim);
});
Lifecycle.after.each(async (ctx) => {
  ctx.mturk.destroy();
  await ctx.sim.close();
});

async function counters(mturk: MTurkClient, hitId: string) {
  const { HIT } = await mturk.send(new GetHITCommand({ HITId: hitId }));
  return {
    status: HIT!.HITStatus,
    pending: HIT!.NumberOfAssignmentsPending,
    available: HIT!.NumberOfAssignmentsAvailable,
    completed: HIT!.NumberOfAssignmentsCompleted,
  };
}

Lifecycle(
  'when a worker accepts then the HIT counts it pending and the assignment stays invisible until submitted',
  async ({ sim, mturk }) => {
    const { HIT } = await mturk.send(new CreateHITCommand(hitInput({ MaxAssignments: 2 })));
    const hitId = HIT!.HITId!;
    assert.equal(await counters(mturk, hitId), { status: 'Assignable', pending: 0, available: 2, completed: 0 });
    const a = await sim.workers.accept('AWORKERONE', { hitId });
    assert.equal(await counters(mturk, hitId), { status: 'Assignable', pending: 1, available: 1, completed: 0 });
    assert.equal((await mturk.send(new ListAssignmentsForHITCommand({ HITId: hitId }))).Assignments, []);
    const err = await rejection(mturk.send(new GetAssignmentCommand({ AssignmentId: a.assignmentId })));
    assert.instance(err, RequestError);
    await sim.workers.accept('AWORKERTWO', { hitId });
    assert.equal(await counters(mturk, hitId), { status: 'Unassignable', pending: 2, available: 0, completed: 0 });
    await sim.workers.submit(a.assignmentId, { label: 'cat' });
    const listed = await mturk.send(new ListAssignmentsForHITCommand({ HITId: hitId }));
    assert.equal(
      listed.Assignments!.map((x) => [x.AssignmentId, x.AssignmentStatus, x.WorkerId]),
      [[a.assignmentId, 'Submitted', 'AWORKERONE']],
    );
    assert.ok(listed.NextToken, 'a page with results carries a NextToken, the last one too');
    const after = await mturk.send(new ListAssignmentsForHITCommand({ HITId: hitId, NextToken: listed.NextToken }));
    assert.equal([after.NumResults, after.Assignments, after.NextToken], [0, [], undefined]);
    assert.equal(await counters(mturk, hitId), { status: 'Unassignable', pending: 1, available: 0, completed: 0 });
  },
);

Lifecycle(
  'when every slot is submitted then the HIT is Reviewable, and approval and rejection complete it',
  async ({ sim, mturk }) => {
    const { HITTypeId } = await mturk.send(new CreateHITTypeCommand(typeInput()));
    const { HIT } = await mturk.send(
      new CreateHITWithHITTypeCommand({
        HITTypeId,
        LifetimeInSeconds: 3600,
        MaxAssignments: 2,
        Question: hitInput().Question,
      }),
    );
    const hitId = HIT!.HITId!;
    const one = await sim.workers.accept('AWORKERONE', { hitTypeId: HITTypeId! });
    const two = await sim.workers.accept('AWORKERTWO', { hitTypeId: HITTypeId! });
    assert.is(one.hitId, hitId);
    await sim.workers.submit(one.assignmentId, { label: 'cat' });
    await sim.workers.submit(two.assignmentId, { label: 'dog' });
    assert.equal(await counters(mturk, hitId), { status: 'Reviewable', pending: 0, available: 0, completed: 0 });
    const reviewable = await mturk.send(new ListReviewableHITsCommand({ HITTypeId }));
    assert.equal(
      reviewable.HITs!.map((h) => h.HITId),
      [hitId],
    );
    await mturk.send(new ApproveAssignmentCommand({ AssignmentId: one.assignmentId, RequesterFeedback: 'thanks' }));
    await mturk.send(new RejectAssignmentCommand({ AssignmentId: two.assignmentId, RequesterFeedback: 'wrong label' }));
    assert.equal(await counters(mturk, hitId), { status: 'Reviewable', pending: 0, available: 0, completed: 2 });
    const got = await mturk.send(new GetAssignmentCommand({ AssignmentId: two.assignmentId }));
    assert.is(got.Assignment!.AssignmentStatus, 'Rejected');
    assert.is(got.Assignment!.RequesterFeedback, 'wrong label');
    assert.ok(got.Assignment!.RejectionTime instanceof Date);
    await mturk.send(new DeleteHITCommand({ HITId: hitId }));
    assert.is((await counters(mturk, hitId)).status, 'Disposed');
  },
);

Lifecycle(
  'when a HIT expires with an accepted assignment then it stays Unassignable until the worker submits',
  async ({ sim, mturk }) => {
    const { HIT } = await mturk.send(new CreateHITCommand(hitInput({ MaxAssignments: 3 })));
    const hitId = HIT!.HITId!;
    const a = await sim.workers.accept('AWORKERONE', { hitId });
    await mturk.send(new UpdateExpirationForHITCommand({ HITId: hitId, ExpireAt: new Date(0) }));
    assert.equal(await counters(mturk, hitId), { status: 'Unassignable', pending: 1, available: 2, completed: 0 });
    const err = await rejection(mturk.send(new DeleteHITCommand({ HITId: hitId })));
    assert.match(
      String(err.message),
      /currently in the state 'Unassignable'\. {2}This operation can be called with a status of: Reviewing, Reviewable \(\d+\)/,
    );
    await sim.workers.submit(a.assignmentId, { label: 'cat' });
    assert.equal(await counters(mturk, hitId), { status: 'Reviewable', pending: 0, available: 2, completed: 0 });
  },
);

Lifecycle('when a worker returns then the slot comes back, and after expiry it does not', async ({ sim, mturk }) => {
  const { HIT } = await mturk.send(new CreateHITCommand(hitInput({ MaxAssignments: 1 })));
  const hitId = HIT!.HITId!;
  const a = await sim.workers.accept('AWORKERONE', { hitId });
  assert.is((await counters(mturk, hitId)).status, 'Unassignable');
  await sim.workers.returnAssignment(a.assignmentId);
  assert.equal(await counters(mturk, hitId), { status: 'Assignable', pending: 0, available: 1, completed: 0 });
  const again = await sim.workers.accept('AWORKERONE', { hitId });
  assert.is.not(again.assignmentId, a.assignmentId);
  await mturk.send(new UpdateExpirationForHITCommand({ HITId: hitId, ExpireAt: new Date(0) }));
  await sim.workers.returnAssignment(again.assignmentId);
  assert.equal(await counters(mturk, hitId), { status: 'Reviewable', pending: 0, available: 1, completed: 0 });
  const late = await rejection(sim.workers.accept('AWORKERTWO', { hitId }));
  assert.is(late.code, 'HST_ERR_SIM_HIT_UNAVAILABLE');
  const gone = await rejection(mturk.send(new GetAssignmentCommand({ AssignmentId: a.assignmentId })));
  assert.match(gone.message, /does not exist/);
  const statuses = sim.inspect().accounts.AKIDREQUESTERONE!.hits[0]!.assignments.map((x) => x.status);
  assert.equal(statuses, ['Returned', 'Returned']);
});

Lifecycle(
  'when the assignment duration passes without a submission then the assignment is abandoned and the slot freed',
  async ({ sim, mturk }) => {
    const { HIT } = await mturk.send(
      new CreateHITCommand(hitInput({ AssignmentDurationInSeconds: 300, LifetimeInSeconds: 3600 })),
    );
    const hitId = HIT!.HITId!;
    const a = await sim.workers.accept('AWORKERONE', { hitId });
    await sim.advance(299);
    assert.is((await counters(mturk, hitId)).pending, 1);
    await sim.advance(1);
    assert.equal(await counters(mturk, hitId), { status: 'Assignable', pending: 0, available: 1, completed: 0 });
    const late = await rejection(sim.workers.submit(a.assignmentId, { x: '1' }));
    assert.is(late.code, 'HST_ERR_SIM_ASSIGNMENT_STATE');
    assert.match(late.message, /it is Abandoned/);
  },
);

Lifecycle('when a worker tries a second assignment of the same HIT then it is refused', async ({ sim, mturk }) => {
  const { HIT } = await mturk.send(new CreateHITCommand(hitInput({ MaxAssignments: 3 })));
  const a = await sim.workers.accept('AWORKERONE', { hitId: HIT!.HITId! });
  const twice = await rejection(sim.workers.accept('AWORKERONE', { hitId: HIT!.HITId! }));
  assert.is(twice.code, 'HST_ERR_SIM_HIT_UNAVAILABLE');
  assert.match(twice.message, /already holds an assignment/);
  await sim.workers.submit(a.assignmentId, { x: '1' });
  const afterSubmit = await rejection(sim.workers.accept('AWORKERONE', { hitTypeId: HIT!.HITTypeId! }));
  assert.is(afterSubmit.code, 'HST_ERR_SIM_HIT_UNAVAILABLE');
});

Lifecycle(
  'when the auto-approval delay passes then a submitted assignment is approved and paid',
  async ({ sim, mturk }) => {
    const { HIT } = await mturk.send(new CreateHITCommand(hitInput({ AutoApprovalDelayInSeconds: 3600 })));
    const a = await sim.workers.accept('AWORKERONE', { hitId: HIT!.HITId! });
    await sim.workers.submit(a.assignmentId, { x: '1' });
    const submitted = (await mturk.send(new GetAssignmentCommand({ AssignmentId: a.assignmentId }))).Assignment!;
    assert.is(submitted.AutoApprovalTime!.getTime(), submitted.SubmitTime!.getTime() + 3600_000);
    await sim.advance(3599);
    assert.is(
      (await mturk.send(new GetAssignmentCommand({ AssignmentId: a.assignmentId }))).Assignment!.AssignmentStatus,
      'Submitted',
    );
    await sim.advance(1);
    const approved = (await mturk.send(new GetAssignmentCommand({ AssignmentId: a.assignmentId }))).Assignment!;
    assert.is(approved.AssignmentStatus, 'Approved');
    assert.is(approved.ApprovalTime!.getTime(), submitted.AutoApprovalTime!.getTime());
    assert.is(approved.AutoApprovalTime, undefined);
    assert.equal(await counters(mturk, HIT!.HITId!), { status: 'Reviewable', pending: 0, available: 0, completed: 1 });
    const reject = await rejection(
      mturk.send(new RejectAssignmentCommand({ AssignmentId: a.assignmentId, RequesterFeedback: 'late' })),
    );
    assert.match(reject.message, /^This operation can be called with a status of: Submitted \(\d+\)$/);
    assert.is(reject.TurkErrorCode, 'AWS.MechanicalTurk.InvalidAssignmentState');
  },
);

Lifecycle('when AutoApprovalDelayInSeconds is 0 then the submission is approved at once', async ({ sim, mturk }) => {
  const { HIT } = await mturk.send(new CreateHITCommand(hitInput({ AutoApprovalDelayInSeconds: 0 })));
  const a = await sim.workers.accept('AWORKERONE', { hitId: HIT!.HITId! });
  await sim.workers.submit(a.assignmentId, { x: '1' });
  assert.is(
    (await mturk.send(new GetAssignmentCommand({ AssignmentId: a.assignmentId }))).Assignment!.AssignmentStatus,
    'Approved',
  );
});

Lifecycle(
  'when a rejection is overridden then the assignment becomes Approved, only with OverrideRejection and within 30 days',
  async ({ sim, mturk }) => {
    const { HIT } = await mturk.send(new CreateHITCommand(hitInput({ MaxAssignments: 2 })));
    const hitId = HIT!.HITId!;
    const a = await sim.workers.accept('AWORKERONE', { hitId });
    const b = await sim.workers.accept('AWORKERTWO', { hitId });
    await sim.workers.submit(a.assignmentId, { x: '1' });
    await sim.workers.submit(b.assignmentId, { x: '2' });
    const noFeedback = await rejection(
      mturk.send(new RejectAssignmentCommand({ AssignmentId: a.assignmentId } as never)),
    );
    assert.match(noFeedback.message, /Value null at 'requesterFeedback'/);
    await mturk.send(new RejectAssignmentCommand({ AssignmentId: a.assignmentId, RequesterFeedback: 'no' }));
    await mturk.send(new RejectAssignmentCommand({ AssignmentId: b.assignmentId, RequesterFeedback: 'no' }));
    const plain = await rejection(mturk.send(new ApproveAssignmentCommand({ AssignmentId: a.assignmentId })));
    assert.match(plain.message, /status of: Submitted \(/);
    await mturk.send(
      new ApproveAssignmentCommand({
        AssignmentId: a.assignmentId,
        OverrideRejection: true,
        RequesterFeedback: 'sorry',
      }),
    );
    const overridden = (await mturk.send(new GetAssignmentCommand({ AssignmentId: a.assignmentId }))).Assignment!;
    assert.equal(
      [overridden.AssignmentStatus, overridden.RequesterFeedback, overridden.RejectionTime],
      ['Approved', 'sorry', undefined],
    );
    assert.equal(await counters(mturk, hitId), { status: 'Reviewable', pending: 0, available: 0, completed: 2 });
    await sim.advance(31 * 86_400);
    const tooLate = await rejection(
      mturk.send(new ApproveAssignmentCommand({ AssignmentId: b.assignmentId, OverrideRejection: true })),
    );
    assert.match(tooLate.message, /more than 30 days ago/);
    const filtered = await mturk.send(
      new ListAssignmentsForHITCommand({ HITId: hitId, AssignmentStatuses: ['Rejected'] }),
    );
    assert.equal(
      filtered.Assignments!.map((x) => x.AssignmentId),
      [b.assignmentId],
    );
  },
);

Lifecycle(
  'when assignments of many workers are listed then the paginator returns them in submission order, filtered by status',
  async ({ sim, mturk }) => {
    const { HIT } = await mturk.send(new CreateHITCommand(hitInput({ MaxAssignments: 150 })));
    const hitId = HIT!.HITId!;
    const order: string[] = [];
    for (let i = 0; i < 150; i++) {
      const a = await sim.workers.accept(`AWORKER${String(i).padStart(4, '0')}`, { hitId });
      order.push(a.assignmentId);
    }
    for (const id of [...order].reverse()) await sim.workers.submit(id, { n: id });
    for (const id of order.slice(0, 40)) await mturk.send(new ApproveAssignmentCommand({ AssignmentId: id }));
    const all: string[] = [];
    for await (const page of paginateListAssignmentsForHIT({ client: mturk, pageSize: 100 }, { HITId: hitId }))
      all.push(...page.Assignments!.map((x) => x.AssignmentId!));
    assert.equal(all, [...order].reverse());
    const submitted: string[] = [];
    for await (const page of paginateListAssignmentsForHIT(
      { client: mturk, pageSize: 100 },
      { HITId: hitId, AssignmentStatuses: ['Submitted'] },
    ))
      submitted.push(...page.Assignments!.map((x) => x.AssignmentId!));
    assert.equal(submitted, [...order.slice(40)].reverse());
    assert.is((await counters(mturk, hitId)).completed, 40);
  },
);

Lifecycle.run();
