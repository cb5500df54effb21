// A seeded random walk over requester and worker actions; after every step the state must be
// consistent: counters match assignments, held money matches open slots, statuses follow the
// rules, and the list operations agree with the records.
import {
  ApproveAssignmentCommand,
  CreateAdditionalAssignmentsForHITCommand,
  CreateHITCommand,
  DeleteHITCommand,
  ListHITsCommand,
  ListReviewableHITsCommand,
  RejectAssignmentCommand,
  UpdateExpirationForHITCommand,
  type MTurkClient,
} from '@aws-sdk/client-mturk';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { assignmentCostCents } from '../../src/simulator/money.js';
import { Prng } from '../../src/random.js';
import type { AccountView, Simulator } from '../../src/simulator/index.js';
import { clientFor, hitInput, startSim } from './helpers.js';

const Invariants = suite('simulator invariants');

const WORKERS = ['AWALKER1', 'AWALKER2', 'AWALKER3', 'AWALKER4'];

function check(view: AccountView, step: string): void {
  let held = 0;
  for (const hit of view.hits) {
    const count = (s: string) => hit.assignments.filter((a) => a.status === s).length;
    const where = `${step}: HIT ${hit.hitId}`;
    assert.is(hit.pending, count('Accepted'), `${where} pending`);
    assert.is(hit.submitted, count('Submitted'), `${where} submitted`);
    assert.is(hit.approved, count('Approved'), `${where} approved`);
    assert.is(hit.rejected, count('Rejected'), `${where} rejected`);
    const available = hit.maxAssignments - hit.pending - hit.submitted - hit.approved - hit.rejected;
    assert.ok(available >= 0, `${where} available ${available}`);
    const expected = hit.disposed
      ? 'Disposed'
      : hit.expired || available === 0
        ? hit.pending > 0
          ? 'Unassignable'
          : ['Reviewable', 'Reviewing']
        : 'Assignable';
    if (Array.isArray(expected)) assert.ok(expected.includes(hit.status), `${where} status ${hit.status}`);
    else assert.is(hit.status, expected, `${where} status`);
    const reward = view.hitTypes.find((t) => t.hitTypeId === hit.hitTypeId)!.rewardCents;
    const open = hit.pending + hit.submitted + (hit.expired || hit.disposed ? 0 : available);
    assert.is(hit.escrowCents, open * assignmentCostCents(reward, hit.maxAssignments), `${where} escrow`);
    held += hit.escrowCents;
    const holders = hit.assignments
      .filter((a) => a.status !== 'Returned' && a.status !== 'Abandoned')
      .map((a) => a.workerId);
    assert.is(new Set(holders).size, holders.length, `${where} one assignment per worker`);
  }
  assert.is(view.onHoldCents, held, `${step}: on hold`);
  assert.ok(view.balanceCents - view.onHoldCents >= 0, `${step}: available balance`);
}

async function listAll(mturk: MTurkClient, reviewable: boolean): Promise<string[]> {
  const ids: string[] = [];
  let token: string | undefined;
  do {
    const page = reviewable
      ? await mturk.send(new ListReviewableHITsCommand({ MaxResults: 7, NextToken: token }))
      : await mturk.send(new ListHITsCommand({ MaxResults: 7, NextToken: token }));
    ids.push(...page.HITs!.map((h) => h.HITId!));
    token = page.NextToken;
  } while (token);
  return ids;
}

async function walk(sim: Simulator, mturk: MTurkClient, seed: number, steps: number): Promise<Record<string, number>> {
  const rnd = new Prng(seed);
  const pick = <T>(xs: readonly T[]): T | undefined => (xs.length ? xs[rnd.int(xs.length)] : undefined);
  const done: Record<string, number> = {};
  const ignore = (err: unknown): void => {
    const code = (err as { code?: string; name?: string }).code ?? (err as { name?: string }).name;
    assert.ok(code === 'RequestError' || String(code).startsWith('HST_ERR_SIM_'), `unexpected failure ${String(err)}`);
  };
  for (let i = 0; i < steps; i++) {
    const view = sim.inspect().accounts.AKIDREQUESTERONE;
    const hits = view?.hits ?? [];
    const assignments = hits.flatMap((h) => h.assignments);
    const action = pick([
      'create',
      'accept',
      'accept',
      'submit',
      'submit',
      'return',
      'abandon',
      'advance',
      'approve',
      'reject',
      'expire',
      'extend',
      'more',
      'delete',
    ])!;
    const hit = pick(hits.filter((h) => !h.disposed));
    try {
      if (action === 'create')
        await mturk.send(
          new CreateHITCommand(
            hitInput({
              MaxAssignments: 1 + rnd.int(3),
              LifetimeInSeconds: 60 + rnd.int(600),
              AssignmentDurationInSeconds: 30 + rnd.int(300),
              AutoApprovalDelayInSeconds: rnd.int(900),
            }),
          ),
        );
      else if (action === 'accept' && hit)
        await sim.workers.accept(pick(WORKERS)!, rnd.int(2) ? { hitId: hit.hitId } : { hitTypeId: hit.hitTypeId });
      else if (action === 'submit') {
        const a = pick(assignments.filter((x) => x.status === 'Accepted'));
        if (a) await sim.workers.submit(a.assignmentId, { step: String(i) });
      } else if (action === 'return' || action === 'abandon') {
        const a = pick(assignments.filter((x) => x.status === 'Accepted'));
        if (a)
          await (action === 'return'
            ? sim.workers.returnAssignment(a.assignmentId)
            : sim.workers.abandon(a.assignmentId));
      } else if (action === 'advance') await sim.advance(rnd.int(400));
      else if (action === 'approve' || action === 'reject') {
        const a = pick(
          assignments.filter((x) => x.status === 'Submitted' || (action === 'approve' && x.status === 'Rejected')),
        );
        if (a && action === 'approve')
          await mturk.send(
            new ApproveAssignmentCommand({ AssignmentId: a.assignmentId, OverrideRejection: a.status === 'Rejected' }),
          );
        if (a && action === 'reject')
          await mturk.send(new RejectAssignmentCommand({ AssignmentId: a.assignmentId, RequesterFeedback: 'no' }));
      } else if (action === 'expire' && hit)
        await mturk.send(new UpdateExpirationForHITCommand({ HITId: hit.hitId, ExpireAt: new Date(0) }));
      else if (action === 'extend' && hit)
        await mturk.send(
          new UpdateExpirationForHITCommand({
            HITId: hit.hitId,
            ExpireAt: new Date(Math.max(sim.clock.now(), hit.expirationMs) + 300_000),
          }),
        );
      else if (action === 'more' && hit)
        await mturk.send(
          new CreateAdditionalAssignmentsForHITCommand({ HITId: hit.hitId, NumberOfAdditionalAssignments: 1 }),
        );
      else if (action === 'delete' && hit) await mturk.send(new DeleteHITCommand({ HITId: hit.hitId }));
      done[action] = (done[action] ?? 0) + 1;
    } catch (err) {
      ignore(err);
    }
    const after = sim.inspect().accounts.AKIDREQUESTERONE;
    if (!after) continue;
    check(after, `step ${i} (${action})`);
    if (i % 10 === 0) {
      assert.equal(
        await listAll(mturk, false),
        after.hits.filter((h) => !h.disposed).map((h) => h.hitId),
        `step ${i}: ListHITs`,
      );
      const reviewable = after.hits
        .filter((h) => h.status === 'Reviewable')
        .sort((x, y) => x.reviewSeq - y.reviewSeq)
        .map((h) => h.hitId);
      assert.equal(await listAll(mturk, true), reviewable, `step ${i}: ListReviewableHITs`);
    }
  }
  return done;
}

Invariants(
  'when random requester and worker actions interleave with time then every invariant holds after each step',
  async () => {
    for (const seed of [1, 2, 3]) {
      const sim = await startSim({ seed });
      const mturk = clientFor(sim);
      try {
        const done = await walk(sim, mturk, seed, 250);
        for (const action of ['create', 'accept', 'submit', 'approve', 'reject', 'expire', 'delete', 'advance'])
          assert.ok((done[action] ?? 0) > 0, `seed ${seed} never did ${action}: ${JSON.stringify(done)}`);
      } finally {
        mturk.destroy();
        await sim.close();
      }
    }
  },
);

Invariants.run();
