// Issue 13, F2 and F3: `hitstate review` in child processes, SIGKILLed by the simulator's
// onRequesterCall hook right after the k-th ApproveAssignment (or the SendBonus) reached MTurk,
// then run again. The re-run finishes the job: every submitted assignment approved exactly once,
// the bonus recorded once, the money line printed, `status` money equal to the account's change
// to the cent, and the HITs of the finished run disposed by the review that finished them.
//
// The run is set up in-process on the world's virtual clock (workers submit on MTurk only; the
// runtime adopts their work), then the world's runtime is closed and the CLI takes over the store.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { moneyOfRun } from '../../src/runtime/money/spent.js';
import { SUBMISSION_FIELD } from '../../src/server/wrapper-source.js';
import type { RequesterCallDecision, RequesterCallInfo } from '../../src/simulator/index.js';
import { openStore } from '../../src/store/index.js';
import { createWorld, TEST_ACCESS_KEY, type World } from '../support/sim-world.js';
import { childEnv, runCli, startCli, type CliChild } from './helpers.js';

const UNITS = 14;
const RUN = 'r1';

interface Ctx {
  world: World;
  /** What the hook does with the next calls: kill `child` at the `occurrence`-th call of `operation`. */
  kill: { operation: string; occurrence: number; child: CliChild | undefined } | undefined;
  calls: Map<string, string[]>;
  balanceBefore: number;
}

const Review = suite<Ctx>('cli/review killed and run again');

Review.before.each(async (ctx) => {
  ctx.kill = undefined;
  ctx.calls = new Map();
  const hook = (call: RequesterCallInfo): RequesterCallDecision => {
    const list = ctx.calls.get(call.operation) ?? [];
    list.push(String(call.input.AssignmentId ?? call.input.HITId ?? ''));
    ctx.calls.set(call.operation, list);
    const plan = ctx.kill;
    if (plan === undefined || plan.operation !== call.operation || list.length !== plan.occurrence) return undefined;
    plan.child?.child.kill('SIGKILL');
    ctx.kill = undefined;
    return 'dropAfter';
  };
  ctx.world = await createWorld({ seed: 13, sim: { onRequesterCall: hook } });
  const { world } = ctx;
  await world.runtime.launchRun(world.config({ units: UNITS }), { runId: RUN });
  await world.drive(() => world.runtime.runInfo(RUN).counts.launched === UNITS, { label: 'launch' });
  const target = world.hitTypeId(RUN);
  for (let i = 0; i < UNITS; i++) {
    const workerId = world.sim.workers.create();
    const accepted = await world.sim.workers.accept(workerId, target);
    const data = { sentiment: 'positive', comment: `unit ${i} ]]> 🙂`, nested: { i } };
    await world.sim.workers.submit(accepted.assignmentId, { [SUBMISSION_FIELD]: JSON.stringify(data) });
  }
  await world.drive(() => world.runtime.runInfo(RUN).counts.completed === UNITS, { label: 'completed' });
  await world.drive(world.runtime.expireRun(RUN), { label: 'expire' });
  assert.is(world.runtime.runInfo(RUN).status, 'done');
  await world.runtime.close();
  ctx.balanceBefore = world.account().balanceCents;
  ctx.calls.clear();
});

Review.after.each(async (ctx) => {
  if (ctx.kill?.child !== undefined && ctx.kill.child.child.exitCode === null) ctx.kill.child.child.kill('SIGKILL');
  await ctx.world.close();
});

/** `hitstate review r1 ...args` against the world's simulator and store, as the test requester. */
function reviewArgs(ctx: Ctx, args: readonly string[]): string[] {
  return ['review', RUN, ...args, '--yes', '--env', ctx.world.sim.url, '--store', ctx.world.storeDir];
}
// childEnv() drops AWS keys (loopback then means the local account): the test requester's are set after.
const env = (): NodeJS.ProcessEnv => ({
  ...childEnv(),
  AWS_ACCESS_KEY_ID: TEST_ACCESS_KEY,
  AWS_SECRET_ACCESS_KEY: 'world-secret',
});

/** Runs a review that the hook kills at the `occurrence`-th `operation`; resolves once it is dead. */
async function killedReview(ctx: Ctx, args: readonly string[], operation: string, occurrence: number) {
  ctx.kill = { operation, occurrence, child: undefined };
  const child = startCli(reviewArgs(ctx, args), { cwd: ctx.world.storeDir, env: env() });
  ctx.kill.child = child;
  const code = await child.exited;
  assert.is(
    code,
    'SIGKILL',
    `the review was killed at ${operation} #${occurrence}:\n${child.stdout()}\n${child.stderr()}`,
  );
}

/** The store's money line for the run and the simulator account's change, in cents. */
async function moneyCheck(ctx: Ctx): Promise<{ status: number; account: number; open: number; approved: number }> {
  const store = await openStore({
    environment: { kind: 'custom', endpoint: ctx.world.sim.url },
    dir: ctx.world.storeDir,
  });
  try {
    return {
      status: moneyOfRun(store, RUN).totalCents,
      account: ctx.balanceBefore - ctx.world.account().balanceCents,
      open: store.outbox.unconfirmedIntents(RUN).length,
      approved: store.outbox.ofRun(RUN).filter((i) => i.kind === 'approve' && i.state === 'confirmed').length,
    };
  } finally {
    await store.close();
  }
}

const assignments = (ctx: Ctx) =>
  ctx.world
    .account()
    .hits.flatMap((h) => h.assignments)
    .filter((a) => a.status !== 'Returned' && a.status !== 'Abandoned' && a.status !== 'Accepted');

Review(
  'when review --all --approve is killed after the 3rd approval then a re-run approves the rest exactly once',
  async (ctx) => {
    await killedReview(ctx, ['--all', '--approve'], 'ApproveAssignment', 3);
    const approvedAtKill = assignments(ctx).filter((a) => a.status === 'Approved').length;
    assert.ok(approvedAtKill >= 3 && approvedAtKill < UNITS, `approved when killed: ${approvedAtKill}`);

    const recordedApproved = (await moneyCheck(ctx)).approved;
    const again = await runCli(reviewArgs(ctx, ['--all', '--approve']), { cwd: ctx.world.storeDir, env: env() });
    assert.is(again.code, 0, `${again.stdout}\n${again.stderr}`);
    // Every approval the killed run had not confirmed is confirmed now; the agents it left mid-approval are reported.
    const left = UNITS - recordedApproved;
    const reported = Number(/approve, (\d+) agents? of run r1/.exec(again.stdout)?.[1] ?? 0);
    assert.ok(
      reported >= left && reported <= UNITS,
      `the re-run reports the agents the killed run left:\n${again.stdout}`,
    );
    assert.not.match(again.stdout, /refused|failed/);
    assert.match(
      again.stdout,
      new RegExp(`money: confirmed ${left}, still open 0 \\(they run on the next command or resume\\)`),
    );
    const all = assignments(ctx);
    assert.is(all.length, UNITS);
    assert.equal(
      all.filter((a) => a.status !== 'Approved').map((a) => `${a.assignmentId} ${a.status}`),
      [],
      'every submitted assignment is approved',
    );
    const approvals = ctx.calls.get('ApproveAssignment') ?? [];
    assert.is(new Set(approvals).size, approvals.length, `no assignment approved twice: ${approvals.join(' ')}`);
    assert.is(approvals.length, UNITS);

    const money = await moneyCheck(ctx);
    assert.is(money.open, 0, 'no money intent left open');
    assert.is(money.status, money.account, 'status money equals the account change to the cent');
    const live = ctx.world.account().hits.filter((h) => !h.disposed);
    assert.equal(
      live.map((h) => `${h.hitId} ${h.status}`),
      [],
      'the review that approved the last units disposed the HITs of the finished run',
    );

    const third = await runCli(reviewArgs(ctx, ['--all', '--approve']), { cwd: ctx.world.storeDir, env: env() });
    assert.is(third.code, 0, third.stdout);
    assert.match(third.stdout, /nothing to approve in run r1/);
    assert.match(third.stdout, /money: confirmed 0, still open 0/);
  },
);

Review('when a bonus review is killed after SendBonus reached MTurk then a re-run records it once', async (ctx) => {
  const approve = await runCli(reviewArgs(ctx, ['--all', '--approve']), { cwd: ctx.world.storeDir, env: env() });
  assert.is(approve.code, 0, approve.stdout);
  const workerId = assignments(ctx)[4]!.workerId;
  const bonus = ['--worker', workerId, '--bonus', '0.10', '--reason', 'Careful work, thank you'];
  await killedReview(ctx, bonus, 'SendBonus', 1);
  assert.is(ctx.world.account().bonusPayments.length, 1, 'MTurk paid the bonus before the kill');

  const again = await runCli(reviewArgs(ctx, [...bonus, '--json']), { cwd: ctx.world.storeDir, env: env() });
  assert.is(again.code, 0, `${again.stdout}\n${again.stderr}`);
  const report = JSON.parse(again.stdout) as {
    items: Array<{ outcome: string }>;
    money: { confirmed: number; stillOpen: number };
  };
  assert.equal(
    report.items.map((i) => i.outcome),
    ['alreadyDone'],
    'the re-run confirms the payment, not "queued"',
  );
  assert.equal([report.money.confirmed, report.money.stillOpen], [1, 0]);
  assert.is(ctx.world.account().bonusPayments.length, 1, 'paid once');

  const repeat = await runCli(reviewArgs(ctx, bonus), { cwd: ctx.world.storeDir, env: env() });
  assert.is(repeat.code, 0, repeat.stdout);
  assert.match(repeat.stdout, /already done 1/, 'the agent left approved.bonusing: the bonus counts as paid');
  assert.is(ctx.world.account().bonusPayments.length, 1);
  const money = await moneyCheck(ctx);
  assert.is(money.open, 0);
  assert.is(money.status, money.account, 'status money equals the account change to the cent');
});

Review.run();
