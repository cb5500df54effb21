import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { isHitstateError } from '../../src/errors.js';
import { recoverSubmission, SUBMISSION_FIELD } from '../../src/mturk/answer-xml.js';
import type { MTurkGateway } from '../../src/mturk/gateway.js';
import { bonusToken } from '../../src/mturk/tokens.js';
import { simWorld, TASK_URL, value, type SimWorld } from './sim-helpers.js';

const Assignments = suite<{ w: SimWorld }>('gateway assignments and money (simulator)', {
  w: undefined as unknown as SimWorld,
});

Assignments.before(async (ctx) => {
  ctx.w = await simWorld();
});
Assignments.after(async (ctx) => {
  await ctx.w.close();
});

const worker = (i: number): string => `A1W${String(i).padStart(10, '0')}`;
let workers = 0;

async function launch(w: SimWorld, gw: MTurkGateway, runId: string, maxAssignments = 1): Promise<string> {
  const type = value(
    await w.run(
      gw.createHITType({
        title: `Task ${runId}`,
        description: 'Do it',
        rewardUsd: '0.50',
        assignmentDurationSec: 1800,
      }),
    ),
  );
  return value(
    await w.run(
      gw.createHITWithHITType({
        hitTypeId: type.hitTypeId,
        runId,
        unitId: 'u1',
        maxAssignments,
        question: { externalUrl: TASK_URL },
      }),
    ),
  ).hit.hitId;
}

async function submitted(
  w: SimWorld,
  gw: MTurkGateway,
  runId: string,
  data: unknown = { ok: true },
): Promise<{ hitId: string; assignmentId: string; workerId: string }> {
  const hitId = await launch(w, gw, runId);
  const workerId = worker(++workers);
  const { assignmentId } = await w.sim.workers.accept(workerId, { hitId });
  await w.sim.workers.submit(assignmentId, { [SUBMISSION_FIELD]: JSON.stringify(data) });
  return { hitId, assignmentId, workerId };
}

const assignmentStatus = (w: SimWorld, account: string, assignmentId: string): string | undefined =>
  w.sim
    .inspect()
    .accounts[account]!.hits.flatMap((h) => h.assignments)
    .find((a) => a.assignmentId === assignmentId)?.status;

Assignments(
  'when a worker submits then the assignment is listed, readable, and its JSON submission recovers exactly',
  async ({ w }) => {
    const gw = w.gateway('asg1');
    const data = { zip: '007', nested: { list: [1, 'two', null], text: 'a <b> & "c" é' } };
    const { hitId, assignmentId, workerId } = await submitted(w, gw, 'r1', data);
    const listed = value(await w.run(gw.listAssignmentsForHIT({ hitId })));
    assert.equal(
      listed.map((a) => [a.assignmentId, a.workerId, a.assignmentStatus]),
      [[assignmentId, workerId, 'Submitted']],
    );
    const read = value(await w.run(gw.getAssignment(assignmentId)));
    assert.is(read.hit?.hitId, hitId);
    assert.ok(
      read.assignment.submitTimeMs !== undefined && read.assignment.autoApprovalTimeMs! > read.assignment.submitTimeMs,
    );
    assert.equal(recoverSubmission(read.assignment.answerXml!), { source: 'json', data });
  },
);

Assignments(
  'when an assignment is approved twice then the second approval is alreadyDone and nothing else changes',
  async ({ w }) => {
    const gw = w.gateway('asg2');
    const { assignmentId } = await submitted(w, gw, 'r2');
    assert.equal(await w.run(gw.approveAssignment({ assignmentId, requesterFeedback: 'Thanks' })), {
      status: 'ok',
      value: { assignmentId },
    });
    const again = await w.run(gw.approveAssignment({ assignmentId }));
    assert.equal(
      [again.status, (again as { assignmentStatus?: string }).assignmentStatus],
      ['alreadyDone', 'Approved'],
    );
    assert.is(assignmentStatus(w, 'AKIDASG2', assignmentId), 'Approved');
  },
);

Assignments(
  'when an assignment is rejected then a repeat is alreadyDone, approval needs override, and override approves it',
  async ({ w }) => {
    const gw = w.gateway('asg3');
    const { assignmentId } = await submitted(w, gw, 'r3');
    value(await w.run(gw.rejectAssignment({ assignmentId, requesterFeedback: 'The answers were random.' })));
    const again = await w.run(gw.rejectAssignment({ assignmentId, requesterFeedback: 'Random.' }));
    assert.equal(
      [again.status, (again as { assignmentStatus?: string }).assignmentStatus],
      ['alreadyDone', 'Rejected'],
    );
    const plain = await w.run(gw.approveAssignment({ assignmentId }));
    assert.equal([plain.status, (plain as { assignmentStatus?: string }).assignmentStatus], ['invalid', 'Rejected']);
    value(await w.run(gw.approveAssignment({ assignmentId, overrideRejection: true })));
    assert.is(assignmentStatus(w, 'AKIDASG3', assignmentId), 'Approved');
  },
);

Assignments(
  'when MTurk auto-approved the assignment then approve is alreadyDone and reject is refused as already approved',
  async ({ w }) => {
    const gw = w.gateway('asg4');
    const { assignmentId } = await submitted(w, gw, 'r4');
    await w.sim.advance(7 * 86_400 + 1);
    assert.is(assignmentStatus(w, 'AKIDASG4', assignmentId), 'Approved');
    const reject = await w.run(gw.rejectAssignment({ assignmentId, requesterFeedback: 'Too late.' }));
    assert.equal(
      [
        reject.status,
        (reject as { assignmentStatus?: string }).assignmentStatus,
        (reject as { retryable?: boolean }).retryable,
      ],
      ['invalid', 'Approved', false],
    );
    assert.is((await w.run(gw.approveAssignment({ assignmentId }))).status, 'alreadyDone');
  },
);

Assignments('when work is soft-rejected then MTurk approves it and the caller records soft_rejected', async ({ w }) => {
  const gw = w.gateway('asg5');
  const { assignmentId } = await submitted(w, gw, 'r5');
  assert.equal(await w.run(gw.softRejectAssignment({ assignmentId, requesterFeedback: 'Paid, but not used.' })), {
    status: 'ok',
    value: { assignmentId, recordedAs: 'soft_rejected' },
  });
  assert.is(assignmentStatus(w, 'AKIDASG5', assignmentId), 'Approved');
});

Assignments('when a rejection lacks feedback then nothing reaches the simulator', async ({ w }) => {
  const gw = w.gateway('asg6');
  const { assignmentId } = await submitted(w, gw, 'r6');
  w.sim.resetStats();
  const err = await gw.rejectAssignment({ assignmentId, requesterFeedback: '' }).then(
    () => null,
    (e: unknown) => e,
  );
  assert.ok(isHitstateError(err, 'HST_ERR_MTURK_FEEDBACK_REQUIRED'));
  assert.equal(w.sim.stats().calls, {});
  assert.is(assignmentStatus(w, 'AKIDASG6', assignmentId), 'Submitted');
});

Assignments(
  'when a bonus is sent again with its token then the worker is paid once; another key pays again',
  async ({ w }) => {
    const gw = w.gateway('asg7');
    const { hitId, assignmentId, workerId } = await submitted(w, gw, 'r7');
    const input = { workerId, assignmentId, amountUsd: '1.25', reason: 'Great work', runId: 'r7', unitId: 'u1' };
    const before = w.sim.inspect().accounts.AKIDASG7!.balanceCents;
    assert.equal(value(await w.run(gw.sendBonus(input))), {
      token: bonusToken('r7', 'u1', workerId, 'bonus'),
      amountUsd: '1.25',
    });
    assert.is((await w.run(gw.sendBonus(input))).status, 'alreadyDone');
    assert.is(w.sim.inspect().accounts.AKIDASG7!.bonusPayments.length, 1);
    assert.is(before - w.sim.inspect().accounts.AKIDASG7!.balanceCents, 125 + 25);
    value(await w.run(gw.sendBonus({ ...input, key: 'streak', amountUsd: 0.3 })));
    const byAssignment = value(await w.run(gw.listBonusPayments({ assignmentId })));
    assert.equal([byAssignment.payments.length, byAssignment.totalCents], [2, 155]);
    assert.is(value(await w.run(gw.listBonusPayments({ hitId }))).totalCents, 155);
  },
);

Assignments(
  'when a bonus targets unsubmitted or unknown work then the outcome is invalid or notFound',
  async ({ w }) => {
    const gw = w.gateway('asg8');
    const hitId = await launch(w, gw, 'r8');
    const { assignmentId } = await w.sim.workers.accept(worker(8), { hitId });
    const early = await w.run(
      gw.sendBonus({
        workerId: worker(8),
        assignmentId,
        amountUsd: '1.00',
        reason: 'early',
        runId: 'r8',
        unitId: 'u1',
      }),
    );
    assert.is(early.status, 'invalid');
    const unknown = await w.run(
      gw.sendBonus({
        workerId: worker(8),
        assignmentId: '3NOSUCHASSIGNMENT0000000000000',
        amountUsd: '1.00',
        reason: 'x',
        runId: 'r8',
        unitId: 'u1',
      }),
    );
    assert.is(unknown.status, 'notFound');
    const missing = await w.run(gw.approveAssignment({ assignmentId: '3NOSUCHASSIGNMENT0000000000000' }));
    assert.is(missing.status, 'notFound');
  },
);

Assignments('when a HIT has more than 100 submissions and bonuses then every page is read', async ({ w }) => {
  const gw = w.gateway('asg9', 'custom', { governor: { ratePerSecond: 50, burst: 50 } });
  const hitId = await launch(w, gw, 'r9', 130);
  const ids: string[] = [];
  for (let i = 0; i < 130; i++) {
    const { assignmentId } = await w.sim.workers.accept(worker(900 + i), { hitId });
    await w.sim.workers.submit(assignmentId, { answer: String(i) });
    ids.push(assignmentId);
  }
  w.sim.resetStats();
  const all = value(await w.run(gw.listAssignmentsForHIT({ hitId, statuses: ['Submitted'] })));
  assert.is(all.length, 130);
  assert.equal(new Set(all.map((a) => a.assignmentId)), new Set(ids));
  assert.is(w.sim.stats().calls.ListAssignmentsForHIT, 2);
  const bonuses = await w.run(
    Promise.all(
      Array.from({ length: 105 }, (_, k) =>
        gw.sendBonus({
          workerId: worker(900),
          assignmentId: ids[0]!,
          amountUsd: '0.01',
          reason: 'tick',
          runId: 'r9',
          unitId: 'u1',
          key: `tick-${k}`,
        }),
      ),
    ),
  );
  assert.ok(bonuses.every((b) => b.status === 'ok'));
  const paid = value(await w.run(gw.listBonusPayments({ assignmentId: ids[0]! })));
  assert.equal([paid.payments.length, paid.totalCents], [105, 105]);
});

Assignments('when the account cannot pay then the outcome is insufficientFunds and nothing is paid', async () => {
  const poor = await simWorld({ balanceUsd: 2 });
  try {
    const gw = poor.gateway('poor');
    const { assignmentId, workerId } = await submitted(poor, gw, 'r10');
    const r = await poor.run(
      gw.sendBonus({ workerId, assignmentId, amountUsd: '5.00', reason: 'big', runId: 'r10', unitId: 'u1' }),
    );
    assert.equal([r.status, (r as { code?: string }).code], ['insufficientFunds', 'HST_ERR_MTURK_INSUFFICIENT_FUNDS']);
    assert.is(poor.sim.inspect().accounts.AKIDPOOR!.bonusPayments.length, 0);
  } finally {
    await poor.close();
  }
});

Assignments.run();
