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
  return { status: HIT!.HITStatus, pending: HIT!.NumberOfAssignmentsPending, available: HIT!.NumberOfAssignmentsAvailable, completed: HIT!.NumberOfAssignmentsCompleted };
}

Lifecycle('when a worker accepts then the HIT counts it pending and the assignment stays invisible until submitted', async ({ sim, mturk }) => {
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
  assert.equal(listed.Assignments!.map((x) => [x.AssignmentId, x.AssignmentStatus, x.WorkerId]), [[a.assignmentId, 'Submitted', 'AWORKERONE']]);
  assert.is(listed.NextToken, undefined);
  assert.equal(await counters(mturk, hitId), { status: 'Unassignable', pending: 1, available: 0, completed: 0 });
});

Lifecycle('when every slot is submitted then the HIT is Reviewable, and approval and rejection complete it', async ({ sim, mturk }) => {
  const { HITTypeId } = await mturk.send(new CreateHITTypeCommand(typeInput()));
  const { HIT } = await mturk.send(new CreateHITWithHITTypeCommand({ HITTypeId, LifetimeInSeconds: 3600, MaxAssignments: 2, Question: hitInput().Question }));
  const hitId = HIT!.HITId!;
  const one = await sim.workers.accept('AWORKERONE', { hitTypeId: HITTypeId! });
  const two = await sim.workers.accept('AWORKERTWO', { hitTypeId: HITTypeId! });
  assert.is(one.hitId, hitId);
  await sim.workers.submit(one.assignmentId, { label: 'cat' });
  await sim.workers.submit(two.assignmentId, { label: 'dog' });
  assert.equal(await counters(mturk, hitId), { status: 'Reviewable', pending: 0, available: 0, completed: 0 });
  const reviewable = await mturk.send(new ListReviewableHITsCommand({ HITTypeId }));
  assert.equal(reviewable.HITs!.map((h) => h.HITId), [hitId]);
  await mturk.send(new ApproveAssignmentCommand({ AssignmentId: one.assignmentId, RequesterFeedback: 'thanks' }));
  await mturk.send(new RejectAssignmentCommand({ AssignmentId: two.assignmentId, RequesterFeedback: 'wrong label' }));
  assert.equal(await counters(mturk, hitId), { status: 'Reviewable', pending: 0, available: 0, completed: 2 });
  const got = await mturk.send(new GetAssignmentCommand({ AssignmentId: two.assignmentId }));
  assert.is(got.Assignment!.AssignmentStatus, 'Rejected');
  assert.is(got.Assignment!.RequesterFeedback, 'wrong label');
  assert.ok(got.Assignment!.RejectionTime instanceof Date);
  await mturk.send(new DeleteHITCommand({ HITId: hitId }));
  assert.is((await counters(mturk, hitId)).status, 'Disposed');
});

Lifecycle('when a HIT expires with an accepted assignment then it stays Unassignable until the worker submits', async ({ sim, mturk }) => {
  const { HIT } = await mturk.send(new CreateHITCommand(hitInput({ MaxAssignments: 3 })));
  const hitId = HIT!.HITId!;
  const a = await sim.workers.accept('AWORKERONE', { hitId });
  await mturk.send(new UpdateExpirationForHITCommand({ HITId: hitId, ExpireAt: new Date(0) }));
  assert.equal(await counters(mturk, hitId), { status: 'Unassignable', pending: 1, available: 2, completed: 0 });
  const err = await rejection(mturk.send(new DeleteHITCommand({ HITId: hitId })));
  assert.match(String(err.message), /currently in the state 'Unassignable'\.  This operation can be called with a status of: Reviewing, Reviewable \(\d+\)/);
  await sim.workers.submit(a.assignmentId, { label: 'cat' });
  assert.equal(await counters(mturk, hitId), { status: 'Reviewable', pending: 0, available: 2, completed: 0 });
});

Lifecycle.run();
