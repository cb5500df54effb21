import {
  ApproveAssignmentCommand,
  CreateAdditionalAssignmentsForHITCommand,
  CreateHITCommand,
  GetAccountBalanceCommand,
  ListBonusPaymentsCommand,
  paginateListBonusPayments,
  RejectAssignmentCommand,
  RequestError,
  SendBonusCommand,
  UpdateExpirationForHITCommand,
  type MTurkClient,
} from '@aws-sdk/client-mturk';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Simulator } from '../../src/simulator/index.js';
import { clientFor, hitInput, rejection, startSim } from './helpers.js';

const Money = suite<{ sim: Simulator; mturk: MTurkClient }>('simulator money', {} as never);

Money.before.each(async (ctx) => {
  ctx.sim = await startSim({ balanceUsd: 100 });
  ctx.mturk = clientFor(ctx.sim);
});
Money.after.each(async (ctx) => {
  ctx.mturk.destroy();
  await ctx.sim.close();
});

const balance = async (mturk: MTurkClient) => {
  const b = await mturk.send(new GetAccountBalanceCommand({}));
  return [b.AvailableBalance, b.OnHoldBalance];
};

async function submittedAssignment(sim: Simulator, mturk: MTurkClient, overrides: Record<string, unknown> = {}) {
  const { HIT } = await mturk.send(new CreateHITCommand(hitInput(overrides)));
  const a = await sim.workers.accept('AWORKERONE', { hitId: HIT!.HITId! });
  await sim.workers.submit(a.assignmentId, { x: '1' });
  return { hitId: HIT!.HITId!, assignmentId: a.assignmentId };
}

Money(
  'when a HIT is created then reward plus 20% fee per slot is held, and approval pays it',
  async ({ sim, mturk }) => {
    assert.equal(await balance(mturk), ['100.00', '0.00']);
    const { HIT } = await mturk.send(new CreateHITCommand(hitInput({ Reward: '1.00', MaxAssignments: 3 })));
    assert.equal(await balance(mturk), ['96.40', '3.60']);
    const a = await sim.workers.accept('AWORKERONE', { hitId: HIT!.HITId! });
    await sim.workers.submit(a.assignmentId, { x: '1' });
    await mturk.send(new ApproveAssignmentCommand({ AssignmentId: a.assignmentId }));
    assert.equal(await balance(mturk), ['96.40', '2.40']);
    const b = await sim.workers.accept('AWORKERTWO', { hitId: HIT!.HITId! });
    await sim.workers.submit(b.assignmentId, { x: '2' });
    await mturk.send(new RejectAssignmentCommand({ AssignmentId: b.assignmentId, RequesterFeedback: 'no' }));
    assert.equal(await balance(mturk), ['97.60', '1.20']);
    await mturk.send(new UpdateExpirationForHITCommand({ HITId: HIT!.HITId, ExpireAt: new Date(0) }));
    assert.equal(await balance(mturk), ['98.80', '0.00']);
    const view = sim.inspect().accounts.AKIDREQUESTERONE!;
    assert.is(view.balanceCents, 9880);
    assert.is(
      view.hits.reduce((n, h) => n + h.escrowCents, 0),
      view.onHoldCents,
    );
  },
);

Money('when a HIT has 10 or more assignments then the fee is 40%', async ({ mturk }) => {
  await mturk.send(new CreateHITCommand(hitInput({ Reward: '1.00', MaxAssignments: 10 })));
  assert.equal(await balance(mturk), ['86.00', '14.00']);
});

Money('when the balance cannot cover a HIT then CreateHIT fails and nothing is created', async ({ mturk }) => {
  const err = await rejection(mturk.send(new CreateHITCommand(hitInput({ Reward: '50.00', MaxAssignments: 2 }))));
  assert.instance(err, RequestError);
  assert.is(err.TurkErrorCode, 'AWS.MechanicalTurk.InsufficientFunds');
  assert.match(err.message, /insufficient funds/);
  assert.equal(await balance(mturk), ['100.00', '0.00']);
  const { HIT } = await mturk.send(new CreateHITCommand(hitInput({ Reward: '40.00', MaxAssignments: 2 })));
  const more = await rejection(
    mturk.send(new CreateAdditionalAssignmentsForHITCommand({ HITId: HIT!.HITId, NumberOfAdditionalAssignments: 1 })),
  );
  assert.is(more.TurkErrorCode, 'AWS.MechanicalTurk.InsufficientFunds');
});

Money(
  'when a bonus is sent then amount plus 20% is paid once per token, and listed by assignment and HIT',
  async ({ sim, mturk }) => {
    const { hitId, assignmentId } = await submittedAssignment(sim, mturk, { Reward: '1.00' });
    await mturk.send(new ApproveAssignmentCommand({ AssignmentId: assignmentId }));
    assert.equal(await balance(mturk), ['98.80', '0.00']);
    await mturk.send(
      new SendBonusCommand({
        WorkerId: 'AWORKERONE',
        AssignmentId: assignmentId,
        BonusAmount: '2.50',
        Reason: 'great work',
        UniqueRequestToken: 'bonus-1',
      }),
    );
    assert.equal(await balance(mturk), ['95.80', '0.00']);
    const dup = await rejection(
      mturk.send(
        new SendBonusCommand({
          WorkerId: 'AWORKERONE',
          AssignmentId: assignmentId,
          BonusAmount: '2.50',
          Reason: 'great work',
          UniqueRequestToken: 'bonus-1',
        }),
      ),
    );
    assert.instance(dup, RequestError);
    assert.is(dup.TurkErrorCode, 'AWS.MechanicalTurk.DuplicateRequest');
    assert.match(
      dup.message,
      /UniqueRequestToken 'bonus-1' was already processed .*\$2\.50 to AWORKERONE for assignment/,
    );
    assert.equal(await balance(mturk), ['95.80', '0.00']);
    await mturk.send(
      new SendBonusCommand({ WorkerId: 'AWORKERONE', AssignmentId: assignmentId, BonusAmount: '1', Reason: 'again' }),
    );
    const byAssignment = await mturk.send(new ListBonusPaymentsCommand({ AssignmentId: assignmentId }));
    assert.equal(
      byAssignment.BonusPayments!.map((b) => [b.BonusAmount, b.Reason, b.WorkerId]),
      [
        ['2.50', 'great work', 'AWORKERONE'],
        ['1', 'again', 'AWORKERONE'],
      ],
    );
    assert.ok(byAssignment.BonusPayments![0]!.GrantTime instanceof Date);
    const pages = [];
    for await (const p of paginateListBonusPayments({ client: mturk, pageSize: 1 }, { HITId: hitId }))
      pages.push(p.NumResults);
    // The last page with a result carries a NextToken too (as MTurk's did), so an empty page ends the listing.
    assert.equal(pages, [1, 1, 0]);
    await sim.advance(24 * 3600);
    await mturk.send(
      new SendBonusCommand({
        WorkerId: 'AWORKERONE',
        AssignmentId: assignmentId,
        BonusAmount: '0.10',
        Reason: 'token expired',
        UniqueRequestToken: 'bonus-1',
      }),
    );
    assert.is((await mturk.send(new ListBonusPaymentsCommand({ AssignmentId: assignmentId }))).NumResults, 3);
  },
);

Money('when a bonus is invalid then it is refused without paying', async ({ sim, mturk }) => {
  const { assignmentId } = await submittedAssignment(sim, mturk);
  const before = await balance(mturk);
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ WorkerId: 'AOTHERWORKER' }, /did not do assignment/],
    [{ BonusAmount: '1.234' }, /at 'bonusAmount'/],
    [{ BonusAmount: '0' }, /too low/],
    [{ BonusAmount: '500.00' }, /insufficient funds/],
    [{ WorkerId: 'bad id' }, /at 'workerId'.*pattern/],
    [{ Reason: undefined }, /Value null at 'reason'/],
    [{ AssignmentId: '3NOPENOPENOPENOPENOPENOPENOPEN' }, /does not exist/],
  ];
  for (const [overrides, message] of cases) {
    const input = {
      WorkerId: 'AWORKERONE',
      AssignmentId: assignmentId,
      BonusAmount: '1.00',
      Reason: 'r',
      ...overrides,
    };
    const err = await rejection(mturk.send(new SendBonusCommand(input as never)));
    assert.match(err.message, message);
  }
  const both = await rejection(mturk.send(new ListBonusPaymentsCommand({})));
  assert.match(both.message, /exactly one of HITId or AssignmentId/);
  assert.equal(await balance(mturk), before);
});

Money('when an override needs money the account lacks then the approval is refused', async ({ sim, mturk }) => {
  const { assignmentId } = await submittedAssignment(sim, mturk, { Reward: '40.00' });
  await mturk.send(new RejectAssignmentCommand({ AssignmentId: assignmentId, RequesterFeedback: 'no' }));
  await mturk.send(new CreateHITCommand(hitInput({ Reward: '40.00', MaxAssignments: 2 })));
  assert.equal(await balance(mturk), ['4.00', '96.00']);
  const err = await rejection(
    mturk.send(new ApproveAssignmentCommand({ AssignmentId: assignmentId, OverrideRejection: true })),
  );
  assert.is(err.TurkErrorCode, 'AWS.MechanicalTurk.InsufficientFunds');
  assert.is(sim.inspect().accounts.AKIDREQUESTERONE!.hits[0]!.assignments[0]!.status, 'Rejected');
});

Money.run();
