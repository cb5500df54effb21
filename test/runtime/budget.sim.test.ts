// Issue 19 part 3 and 4 in the runtime: a run's budget (spent, held, to launch, left) refuses
// launches, bonuses and added units beyond it before any intent is recorded; relaunch and
// addUnits continue a run with new HITs, within budget, and never add the same units twice.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { isHitstateError } from '../../src/errors.js';
import { budgetOf, intentShortfall } from '../../src/runtime/money/budget.js';
import { SUBMISSION_FIELD } from '../../src/server/wrapper-source.js';
import { createWorld, type World } from '../support/sim-world.js';

const Budget = suite<{ world: World }>('runtime budget');

Budget.before.each(async (ctx) => {
  ctx.world = await createWorld({ seed: 19 });
});
Budget.after.each(async (ctx) => {
  await ctx.world.close();
});

async function refusal(work: Promise<unknown>): Promise<Error & { code: string; details: Record<string, unknown> }> {
  try {
    await work;
  } catch (err) {
    if (isHitstateError(err, 'HST_ERR_BUDGET_EXCEEDED')) return err as never;
    throw err;
  }
  throw new Error('expected HST_ERR_BUDGET_EXCEEDED');
}

async function submitOne(world: World, runId: string, i: number): Promise<void> {
  const workerId = world.sim.workers.create();
  const accepted = await world.sim.workers.accept(workerId, world.hitTypeId(runId));
  await world.sim.workers.submit(accepted.assignmentId, {
    [SUBMISSION_FIELD]: JSON.stringify({ sentiment: 'positive', comment: `unit ${i}` }),
  });
  await world.drive(() => world.runtime.runInfo(runId).counts.completed >= i + 1, { label: `submitted ${i}` });
}

Budget(
  'when a run costs more than its budget then launchRun refuses with the amounts and creates nothing',
  async ({ world }) => {
    const err = await refusal(world.runtime.launchRun(world.config({ units: 2, budget: '1.00' }), { runId: 'b1' }));
    // 2 units × ($0.50 + $0.10 fee) = $1.20 against $1.00.
    assert.match(err.message, /launching 2 units/);
    assert.match(err.message, /needs \$1\.20/);
    assert.match(err.message, /budget \$1\.00 \(spent \$0\.00, held \$0\.00\)/);
    assert.match(err.message, /hitstate budget b1 1\.20/);
    assert.is(world.runtime.store.runs.get('b1'), undefined);
    assert.is(world.sim.inspect().accounts.AKIDWORLD, undefined, 'no MTurk call was made');
  },
);

Budget('when a bonus does not fit what is left then it is refused before an intent is recorded', async ({ world }) => {
  const { runtime } = world;
  await runtime.launchRun(world.config({ units: 2, budget: '1.50' }), { runId: 'b2' });
  await world.drive(() => runtime.runInfo('b2').counts.launched === 2, { label: 'launch' });
  let ledger = runtime.budget('b2');
  assert.equal([ledger.spentCents, ledger.heldCents, ledger.toLaunchCents, ledger.leftCents], [0, 120, 0, 30]);
  await submitOne(world, 'b2', 0);
  const approved = await runtime.review('b2', { all: true }, { kind: 'approve' });
  assert.equal(
    approved.items.map((i) => i.outcome),
    ['done'],
  );
  ledger = runtime.budget('b2');
  assert.equal([ledger.spentCents, ledger.heldCents, ledger.leftCents], [60, 60, 30]);
  const workerId = approved.items[0]!.workerId;
  const before = runtime.store.outbox.ofRun('b2').length;
  const err = await refusal(runtime.review('b2', { workerId }, { kind: 'bonus', amountUsd: '0.50', reason: 'great' }));
  assert.match(err.message, /a bonus of \$0\.50 to 1 agent needs \$0\.60/);
  assert.match(err.message, /has \$0\.30 left of its budget \$1\.50 \(spent \$0\.60, held \$0\.60\)/);
  assert.is(runtime.store.outbox.ofRun('b2').length, before, 'no intent recorded');
  const paid = await runtime.review('b2', { workerId }, { kind: 'bonus', amountUsd: '0.25', reason: 'great' });
  assert.equal(
    paid.items.map((i) => i.outcome),
    ['done'],
  );
  ledger = runtime.budget('b2');
  assert.equal([ledger.spentCents, ledger.heldCents, ledger.leftCents], [90, 60, 0]);
  // The outbox's own check refuses the same call made past the review's check.
  const refusedHere = intentShortfall(runtime.store, {
    kind: 'bonus',
    runId: 'b2',
    token: 'never-recorded',
    amountUsd: '0.01',
    workerId,
    args: {},
  });
  assert.match(String(refusedHere), /a bonus of \$0\.01 to worker/);
});

Budget(
  'when the budget is set below spent and held then it is refused; above, it is recorded in the store',
  async ({ world }) => {
    const { runtime } = world;
    await runtime.launchRun(world.config({ units: 2 }), { runId: 'b3' });
    await world.drive(() => runtime.runInfo('b3').counts.launched === 2, { label: 'launch' });
    assert.is(runtime.budget('b3').budgetCents, null);
    const err = await refusal(runtime.setBudget('b3', '1.00'));
    assert.match(
      err.message,
      /below what run b3 has already spent \(\$0\.00\) and holds .* \(\$1\.20\); give at least \$1\.20/,
    );
    const bad = await runtime.setBudget('b3', '-1').then(
      () => 'accepted',
      (e: Error) => e.message,
    );
    assert.match(bad, /a budget must be a dollar amount above zero/);
    const ledger = await runtime.setBudget('b3', '2.00');
    assert.is(ledger.leftCents, 80);
    assert.is(runtime.store.runs.require('b3').config.budget, '2.00');
  },
);

Budget('when units expired without work then relaunch gives them new HITs once, within budget', async ({ world }) => {
  const { runtime } = world;
  await runtime.launchRun(world.config({ units: 3, budget: '1.80' }), { runId: 'b4' });
  await world.drive(() => runtime.runInfo('b4').counts.launched === 3, { label: 'launch' });
  await submitOne(world, 'b4', 0);
  await world.drive(runtime.expireRun('b4'), { label: 'stop' });
  assert.is(runtime.runInfo('b4').status, 'done');
  assert.is(runtime.runInfo('b4').counts.expired, 2);
  // Expired units hold nothing: the completed one still holds its reward.
  assert.equal([runtime.budget('b4').heldCents, runtime.budget('b4').leftCents], [60, 120]);
  const hitsBefore = world.account().hits.length;
  const added = await runtime.relaunch('b4');
  assert.equal(added.unitIds, ['b4.u3', 'b4.u4']);
  await world.drive(() => runtime.runInfo('b4').counts.launched === 2, { label: 'relaunched' });
  assert.is(world.account().hits.length, hitsBefore + 2, 'two new HITs');
  const config = runtime.store.runs.require('b4').config as { units: unknown[] };
  assert.equal(config.units[3], config.units[1], "the new unit has the expired unit's input");
  const again = await runtime.relaunch('b4');
  assert.equal(again.unitIds, []);
  assert.is(world.account().hits.length, hitsBefore + 2, 'nothing relaunched twice');
  // Full: 1 held + 2 relaunched = $1.80. One more unit is refused.
  const err = await refusal(runtime.addUnits('b4', [{ text: 'one more' }]));
  assert.match(err.message, /adding 1 unit .* needs \$0\.60 .* has \$0\.00 left/);
});

Budget('when the same units are added twice then they are added once', async ({ world }) => {
  const { runtime } = world;
  await runtime.launchRun(world.config({ units: 1 }), { runId: 'b5' });
  await world.drive(() => runtime.runInfo('b5').counts.launched === 1, { label: 'launch' });
  const items = [{ text: 'Added one.' }, { text: 'Added two.' }];
  const first = await runtime.addUnits('b5', items);
  assert.equal(first.unitIds, ['b5.u1', 'b5.u2']);
  await world.drive(() => runtime.runInfo('b5').counts.launched === 3, { label: 'added' });
  const second = await runtime.addUnits('b5', items);
  assert.ok(second.alreadyAdded);
  assert.equal(second.unitIds, ['b5.u1', 'b5.u2']);
  assert.is(runtime.store.units.ofRun('b5').length, 3);
  assert.is(budgetOf(runtime.store, 'b5').heldCents, 180);
});

Budget(
  'when the budget is lowered below the units to launch then their launch is refused and halts until raised',
  async ({ world }) => {
    const { runtime } = world;
    await runtime.launchRun(world.config({ units: 3, budget: '1.80', maxConcurrentUnits: 1 }), { runId: 'b6' });
    await world.drive(() => runtime.runInfo('b6').counts.launched === 1, { label: 'first launch' });
    assert.equal([runtime.budget('b6').heldCents, runtime.budget('b6').toLaunchCents], [60, 120]);
    // Above spent + held, below what the two units still to launch need: taken, and launching halts.
    await runtime.setBudget('b6', '0.60');
    const intents = runtime.store.outbox.ofRun('b6').filter((i) => i.kind === 'createHIT').length;
    await submitOne(world, 'b6', 0);
    await world.drive(() => runtime.runInfo('b6').problem !== null, { label: 'launching halted' });
    assert.match(
      String(runtime.runInfo('b6').problem),
      /launching unit b6\.u1 needs \$0\.60 .*hitstate budget b6 1\.20.*\[HST_ERR_BUDGET_EXCEEDED\]/,
    );
    assert.is(
      runtime.store.outbox.ofRun('b6').filter((i) => i.kind === 'createHIT').length,
      intents,
      'the refused launch left no intent',
    );
    assert.is(world.account().hits.length, 1);
    await runtime.setBudget('b6', '1.80');
    await runtime.resumeLaunching('b6');
    await world.drive(() => runtime.runInfo('b6').counts.launched === 1 && world.account().hits.length === 2, {
      label: 'launching again',
    });
    assert.is(runtime.runInfo('b6').problem, null);
  },
);

Budget.run();
