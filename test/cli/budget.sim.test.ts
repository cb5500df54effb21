// Issue 19 parts 3 and 4 at the command line, in-process through main() with a captured CliIO
// (its ask() plays the person at the terminal) against a simulator and a store a world prepared:
// the run budget and its refusals, review's confirmations, the bonus limit, --yes-live=AMOUNT and
// HITSTATE_YES_LIVE scoping, `budget`, `status`, and relaunch / add-units within budget.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { EXIT } from '../../src/cli/command.js';
import { confirmLive, liveAmountOf } from '../../src/cli/confirm.js';
import { main } from '../../src/cli/main.js';
import { LOCAL_CREDENTIALS } from '../../src/cli/target.js';
import { isHitstateError } from '../../src/errors.js';
import { SUBMISSION_FIELD } from '../../src/server/wrapper-source.js';
import { openStore } from '../../src/store/index.js';
import { createWorld, type World } from '../support/sim-world.js';
import { captureIO, until, type CapturedIO } from './helpers.js';

const RUN = 'r1';

interface Ctx {
  world: World;
}

const Cli = suite<Ctx>('cli/budget, confirmations, relaunch and add-units');

/**
 * A run of 3 units at $0.50 (each $0.60 with the fee) with a $3.00 budget: one unit submitted by
 * worker `workerId`, then the run stopped (2 units expired without work). The world's runtime is
 * closed so the commands take the store; it acts as the `local` requester, the CLI's loopback account.
 */
async function prepared(ctx: Ctx): Promise<{ workerId: string }> {
  const world = await createWorld({
    seed: 23,
    runtime: { requester: { name: 'local', credentials: LOCAL_CREDENTIALS } },
  });
  ctx.world = world;
  await world.runtime.launchRun(world.config({ units: 3, budget: '3.00' }), { runId: RUN });
  await world.drive(() => world.runtime.runInfo(RUN).counts.launched === 3, { label: 'launch' });
  const workerId = world.sim.workers.create();
  const accepted = await world.sim.workers.accept(workerId, world.hitTypeId(RUN));
  await world.sim.workers.submit(accepted.assignmentId, {
    [SUBMISSION_FIELD]: JSON.stringify({ sentiment: 'positive', comment: 'careful' }),
  });
  await world.drive(() => world.runtime.runInfo(RUN).counts.completed === 1, { label: 'submitted' });
  await world.drive(world.runtime.expireRun(RUN), { label: 'stop' });
  await world.runtime.close();
  return { workerId };
}

Cli.after.each(async (ctx) => {
  await ctx.world?.close();
});

const account = (ctx: Ctx) => ctx.world.sim.inspect().accounts[LOCAL_CREDENTIALS.accessKeyId]!;
const where = (ctx: Ctx): string[] => ['--env', ctx.world.sim.url, '--store', ctx.world.storeDir];

async function cli(ctx: Ctx, args: string[], io: CapturedIO = captureIO({ cwd: ctx.world.storeDir })) {
  const code = await main([...args, ...where(ctx)], io);
  return { code, out: io.stdout(), err: io.stderr(), io };
}

Cli(
  'when run is given a budget its units do not fit then it is refused with the amounts and nothing is created',
  async (ctx) => {
    ctx.world = await createWorld({ seed: 23 });
    const file = join(ctx.world.storeDir, 'task.json');
    writeFileSync(
      file,
      JSON.stringify({ title: 'Label', description: 'Label sentences', reward: '0.50', units: 10, budget: '20.00' }),
    );
    const r = await cli(ctx, ['run', file, '--budget', '5.00', '--port', '0']);
    assert.is(r.code, EXIT.failure, r.err);
    assert.match(
      r.err,
      /the 10 units of this run need up to \$6\.00 \(rewards and fees\), above its budget of \$5\.00/,
    );
    assert.match(r.err, /spent \$0\.00, held \$0\.00/);
    assert.match(r.err, /--budget 6\.00/);
    assert.match(r.err, /\[HST_ERR_BUDGET_EXCEEDED\]/);
    assert.is(ctx.world.sim.inspect().accounts[LOCAL_CREDENTIALS.accessKeyId], undefined, 'no MTurk call');
    const bad = await cli(ctx, ['run', file, '--budget', 'lots', '--port', '0']);
    assert.is(bad.code, EXIT.usage);
    assert.match(bad.err, /--budget must be a dollar amount above zero like 25\.00/);
  },
);

Cli('when a review pays then it shows the total and the budget left and asks through CliIO.ask()', async (ctx) => {
  await prepared(ctx);
  const none = await cli(ctx, ['review', RUN, '--all', '--approve']);
  assert.is(none.code, EXIT.failure);
  assert.match(
    none.out,
    /approve for 1 agent of run r1: \$0\.60 \(fees included\); budget \$3\.00: spent \$0\.00, held \$0\.60, left after this review \$2\.40/,
  );
  assert.match(none.err, /there is no terminal to ask: run again with --yes/);
  assert.match(none.err, /\[HST_ERR_CLI_NOT_CONFIRMED\]/);

  const no = await cli(ctx, ['review', RUN, '--all', '--approve'], captureIO({ answers: ['no'] }));
  assert.is(no.code, EXIT.failure);
  assert.equal(no.io.asked, ['Go on? Type yes to go on: ']);
  assert.match(no.err, /not confirmed \(the answer was not yes\); nothing was sent/);
  assert.ok(
    account(ctx).hits.every((h) => h.assignments.every((a) => a.status !== 'Approved')),
    'nothing approved',
  );

  const yes = await cli(ctx, ['review', RUN, '--all', '--approve'], captureIO({ answers: ['yes'] }));
  assert.is(yes.code, EXIT.ok, yes.err);
  assert.match(yes.out, /approve, 1 agent of run r1/);
  assert.is(
    account(ctx)
      .hits.flatMap((h) => h.assignments)
      .filter((a) => a.status === 'Approved').length,
    1,
  );

  const status = await cli(ctx, ['status', RUN]);
  assert.match(status.out, /money +budget \$3\.00 · spent \$0\.60 · held \$0\.00 · left \$2\.40/);
});

Cli('when a bonus is above the limit or the budget then it is refused before anything is paid', async (ctx) => {
  const { workerId } = await prepared(ctx);
  const bonus = (amount: string, ...more: string[]) => [
    'review',
    RUN,
    '--worker',
    workerId,
    '--bonus',
    amount,
    '--reason',
    'typo?',
    '--yes',
    ...more,
  ];
  // The default limit: the greater of 5 × $0.50 and $5.00.
  const large = await cli(ctx, bonus('500'));
  assert.is(large.code, EXIT.failure);
  assert.match(large.err, /a bonus of \$500\.00 per agent is above run r1's bonus limit of \$5\.00/);
  assert.match(large.err, /--allow-large-bonus/);
  const limited = await cli(ctx, bonus('1.00', '--max-bonus', '0.50'));
  assert.match(limited.err, /above run r1's bonus limit of \$0\.50/);
  // Allowed, but the budget has $2.40 left: $5.00 + $1.00 fee is refused with the amounts.
  const over = await cli(ctx, bonus('5.00', '--allow-large-bonus'));
  assert.is(over.code, EXIT.failure);
  assert.match(
    over.err,
    /a bonus of \$5\.00 to 1 agent needs \$6\.00 \(fees included\) and run r1 has \$2\.40 left of its budget \$3\.00 \(spent \$0\.00, held \$0\.60\)/,
  );
  assert.match(over.err, /hitstate budget r1 6\.60/);
  assert.match(over.err, /\[HST_ERR_BUDGET_EXCEEDED\]/);
  assert.equal(account(ctx).bonusPayments, [], 'nothing paid');
  const fits = await cli(ctx, bonus('1.00'));
  assert.is(fits.code, EXIT.ok, fits.err);
  assert.is(account(ctx).bonusPayments.length, 1);
});

Cli('when the budget command sets a budget then below spent and held is refused and above is recorded', async (ctx) => {
  await prepared(ctx);
  const show = await cli(ctx, ['budget', RUN]);
  assert.is(show.code, EXIT.ok);
  assert.match(show.out, /run r1: budget \$3\.00 · spent \$0\.00 · held \$0\.60 · left \$2\.40/);
  const low = await cli(ctx, ['budget', RUN, '0.50']);
  assert.is(low.code, EXIT.failure);
  assert.match(
    low.err,
    /a budget of \$0\.50 is below what run r1 has already spent \(\$0\.00\) and holds for work out there \(\$0\.60\); give at least \$0\.60/,
  );
  const bad = await cli(ctx, ['budget', RUN, 'ten']);
  assert.match(bad.err, /a budget must be a dollar amount above zero like 25\.00/);
  const missing = await cli(ctx, ['budget', 'nope', '4.00']);
  assert.match(missing.err, /HST_ERR_RUN_NOT_FOUND/);
  const raised = await cli(ctx, ['budget', RUN, '4.00']);
  assert.is(raised.code, EXIT.ok, raised.err);
  assert.match(raised.out, /run r1: budget \$4\.00 · spent \$0\.00 · held \$0\.60 · left \$3\.40/);
  const store = await openStore({
    dir: ctx.world.storeDir,
    environment: { kind: 'custom', endpoint: ctx.world.sim.url },
  });
  try {
    assert.is(store.runs.require(RUN).config.budget, '4.00');
  } finally {
    await store.close();
  }
});

Cli('when --yes-live names an amount then it confirms up to it, and HITSTATE_YES_LIVE only for its run', async () => {
  const live = { kind: 'live' } as const;
  const io = captureIO();
  const refused = async (work: Promise<void>): Promise<string> => {
    try {
      await work;
    } catch (err) {
      if (isHitstateError(err)) return `${err.code}: ${err.message}`;
      throw err;
    }
    return 'confirmed';
  };
  const request = { totalCents: 1200, what: 'This run', runId: 'pilot' };
  assert.is(await refused(confirmLive(io, live, { 'yes-live': '12.00' }, request)), 'confirmed');
  assert.is(await refused(confirmLive(io, live, { 'yes-live': '50' }, request)), 'confirmed');
  assert.match(
    await refused(confirmLive(io, live, { 'yes-live': '11.99' }, request)),
    /HST_ERR_CLI_LIVE_NOT_CONFIRMED: This run would spend up to \$12\.00 .* more than the \$11\.99 --yes-live .* --yes-live=12\.00/,
  );
  // The variable scoped to a run confirms for that run only; another run is asked (no terminal: refused).
  assert.is(await refused(confirmLive(io, live, { 'yes-live': 'pilot:12.00' }, request)), 'confirmed');
  assert.match(
    await refused(confirmLive(io, live, { 'yes-live': 'other:12.00' }, request)),
    /HST_ERR_CLI_LIVE_NOT_CONFIRMED: This run would spend up to \$12\.00 of real money on live MTurk\. Check it, then run again with --yes-live=12\.00/,
  );
  assert.match(
    await refused(confirmLive(io, live, { 'yes-live': 'yes' }, request)),
    /HST_ERR_CLI_USAGE: .*like --yes-live=12\.00/,
  );
  assert.is(
    liveAmountOf({ 'yes-live': '1' }, 'pilot'),
    100,
    'the old HITSTATE_YES_LIVE=1 now confirms $1.00, not everything',
  );
  // On a terminal, typing the amount confirms; anything else does not.
  const typed = captureIO({ answers: ['12.00', 'yes'] });
  assert.is(await refused(confirmLive(typed, live, {}, request)), 'confirmed');
  assert.match(typed.asked[0]!, /This run spends up to \$12\.00 of real money on live MTurk\. Type 12\.00 to go on/);
  assert.match(await refused(confirmLive(typed, live, {}, request)), /the answer was not that amount/);
  assert.is(await refused(confirmLive(io, { kind: 'sandbox' }, {}, request)), 'confirmed', 'sandbox needs nothing');

  // The command itself: a $6.00 live run with --yes-live=5.00 (or the variable) is refused, exit 3, nothing created.
  const dir = (await import('./helpers.js')).tempDir();
  try {
    const file = join(dir.path, 'task.json');
    writeFileSync(file, JSON.stringify({ title: 'Label', description: 'Label sentences', reward: '0.50', units: 10 }));
    const base = ['run', file, '--env', 'live', '--public-url', 'https://tasks.example.org', '--store', dir.path];
    const flag = captureIO({ cwd: dir.path });
    assert.is(await main([...base, '--yes-live=5.00'], flag), EXIT.liveNotConfirmed);
    assert.match(flag.stderr(), /more than the \$5\.00 --yes-live .* --yes-live=6\.00/);
    const variable = captureIO({ cwd: dir.path, env: { HITSTATE_YES_LIVE: 'another-run:100.00' } });
    assert.is(await main([...base, '--run-id', 'pilot'], variable), EXIT.liveNotConfirmed);
    const bare = captureIO({ cwd: dir.path });
    assert.is(await main([...base, '--yes-live'], bare), EXIT.usage, 'a bare --yes-live confirms nothing');
  } finally {
    dir.remove();
  }
});

Cli('when relaunch and add-units continue a stopped run then new HITs come within budget, never twice', async (ctx) => {
  await prepared(ctx);
  const hitsBefore = account(ctx).hits.length;
  const relaunchIO = captureIO({ cwd: ctx.world.storeDir });
  const relaunching = main(['relaunch', RUN, '--port', '0', '--poll-ms', '200', ...where(ctx)], relaunchIO);
  await until(() => /running/.test(relaunchIO.stdout()) || relaunchIO.stderr() !== '', 'relaunched and running');
  assert.match(relaunchIO.stdout(), /relaunched 2 units \(u3, u4\), up to \$1\.20 with fees/);
  assert.match(
    relaunchIO.stdout(),
    /money: budget \$3\.00 · spent \$0\.00 · held \$(0\.60|1\.80) · (to launch \$1\.20 · )?left \$1\.20/,
  );
  await until(() => account(ctx).hits.length === hitsBefore + 2, 'two new HITs');
  relaunchIO.interrupt.abort();
  assert.is(await relaunching, EXIT.interrupted, relaunchIO.stderr());
  assert.match(relaunchIO.stdout(), /Detached from run r1 \(running; 2 launched/);
  assert.match(relaunchIO.stdout(), /hitstate stop r1 +end it/);

  const again = await cli(ctx, ['relaunch', RUN, '--port', '0']);
  assert.match(again.out, /nothing to relaunch/);
  assert.is(account(ctx).hits.length, hitsBefore + 2, 'nothing relaunched twice');

  const file = join(ctx.world.storeDir, 'more.json');
  writeFileSync(file, JSON.stringify([{ text: 'One more.' }, { text: 'Two more.' }, { text: 'Three more.' }]));
  const over = await cli(ctx, ['add-units', RUN, file, '--port', '0']);
  assert.is(over.code, EXIT.failure);
  assert.match(
    over.err,
    /adding 3 units \(3 × \$0\.60 reward and fee\) needs \$1\.80 .* has \$1\.20 left of its budget \$3\.00/,
  );
  assert.match(over.err, /hitstate budget r1 3\.60/);
  assert.is((await cli(ctx, ['budget', RUN, '4.80'])).code, EXIT.ok);

  const addIO = captureIO({ cwd: ctx.world.storeDir });
  const adding = main(['add-units', RUN, '--units', file, '--port', '0', '--poll-ms', '200', ...where(ctx)], addIO);
  await until(() => /added 3 units/.test(addIO.stdout()) || addIO.stderr() !== '', 'units added');
  assert.match(addIO.stdout(), /added 3 units \(u5, u6, u7\), up to \$1\.80 with fees/);
  await until(() => account(ctx).hits.length === hitsBefore + 5, 'three more HITs');
  addIO.interrupt.abort();
  assert.is(await adding, EXIT.interrupted, addIO.stderr());

  const twice = await cli(ctx, ['add-units', RUN, file, '--port', '0']);
  assert.match(twice.out, /these units were added before \(u5, u6, u7\); nothing added twice/);
  assert.is(twice.code, EXIT.ok);
  assert.is(account(ctx).hits.length, hitsBefore + 5);
  const store = await openStore({
    dir: ctx.world.storeDir,
    environment: { kind: 'custom', endpoint: ctx.world.sim.url },
  });
  try {
    assert.is(store.units.ofRun(RUN).length, 8);
    assert.equal((store.runs.require(RUN).config.units as unknown[]).slice(5), [
      { text: 'One more.' },
      { text: 'Two more.' },
      { text: 'Three more.' },
    ]);
  } finally {
    await store.close();
  }

  const missing = await cli(ctx, ['add-units', RUN, join(ctx.world.storeDir, 'nope.json'), '--port', '0']);
  assert.is(missing.code, EXIT.failure);
  assert.match(missing.err, /cannot read the units file .*nope\.json: ENOENT; check the path/);
  const noFile = await cli(ctx, ['add-units', RUN]);
  assert.is(noFile.code, EXIT.usage);
});

Cli.run();
