// Issue 19 part 4: `hitstate add-units` and `hitstate relaunch` in child processes, SIGKILLed by the
// simulator's onRequesterCall hook right after the first CreateHITWithHITType of the new units
// reached MTurk (its answer lost), then run again: the units are added once, each new unit gets
// exactly one HIT, and the money stays within the run's budget.
//
// The run is set up in-process on the world's virtual clock (2 units, both expired without work by
// a stop), then the world's runtime is closed and the CLI takes over the store.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { budgetOf } from '../../src/runtime/money/budget.js';
import type { RequesterCallDecision, RequesterCallInfo } from '../../src/simulator/index.js';
import { openStore } from '../../src/store/index.js';
import { createWorld, TEST_ACCESS_KEY, type World } from '../support/sim-world.js';
import { childEnv, runCli, startCli, type CliChild } from './helpers.js';

const RUN = 'r1';

interface Ctx {
  world: World;
  kill: { operation: string; child: CliChild | undefined } | undefined;
}

const Kill = suite<Ctx>('cli/add-units and relaunch killed and run again');

Kill.before.each(async (ctx) => {
  ctx.kill = undefined;
  const hook = (call: RequesterCallInfo): RequesterCallDecision => {
    const plan = ctx.kill;
    if (plan === undefined || plan.operation !== call.operation) return undefined;
    plan.child?.child.kill('SIGKILL');
    ctx.kill = undefined;
    return 'dropAfter';
  };
  ctx.world = await createWorld({ seed: 31, sim: { onRequesterCall: hook } });
  const { world } = ctx;
  await world.runtime.launchRun(world.config({ units: 2, budget: '3.00' }), { runId: RUN });
  await world.drive(() => world.runtime.runInfo(RUN).counts.launched === 2, { label: 'launch' });
  await world.drive(world.runtime.expireRun(RUN), { label: 'stop' });
  assert.is(world.runtime.runInfo(RUN).counts.expired, 2);
  await world.runtime.close();
});

Kill.after.each(async (ctx) => {
  if (ctx.kill?.child !== undefined && ctx.kill.child.child.exitCode === null) ctx.kill.child.child.kill('SIGKILL');
  await ctx.world.close();
});

// childEnv() drops AWS keys (loopback then means the local account): the test requester's are set after.
const env = (): NodeJS.ProcessEnv => ({
  ...childEnv(),
  AWS_ACCESS_KEY_ID: TEST_ACCESS_KEY,
  AWS_SECRET_ACCESS_KEY: 'world-secret',
});
const args = (ctx: Ctx, more: readonly string[]): string[] => [
  ...more,
  '--env',
  ctx.world.sim.url,
  '--store',
  ctx.world.storeDir,
  '--port',
  '0',
  '--poll-ms',
  '200',
];

async function killed(ctx: Ctx, command: readonly string[]): Promise<void> {
  ctx.kill = { operation: 'CreateHITWithHITType', child: undefined };
  const child = startCli(args(ctx, command), { cwd: ctx.world.storeDir, env: env() });
  ctx.kill.child = child;
  assert.is(await child.exited, 'SIGKILL', `killed at its first CreateHIT:\n${child.stdout()}\n${child.stderr()}`);
}

async function stored(ctx: Ctx) {
  const store = await openStore({
    dir: ctx.world.storeDir,
    environment: { kind: 'custom', endpoint: ctx.world.sim.url },
  });
  try {
    return {
      units: store.units.ofRun(RUN).length,
      createIntents: store.outbox.ofRun(RUN).filter((i) => i.kind === 'createHIT').length,
      ledger: budgetOf(store, RUN),
    };
  } finally {
    await store.close();
  }
}

Kill('when add-units is killed after its first HIT reached MTurk then a re-run adds nothing twice', async (ctx) => {
  const file = join(ctx.world.storeDir, 'more.json');
  writeFileSync(file, JSON.stringify([{ text: 'Added one.' }, { text: 'Added two.' }]));
  const hitsBefore = ctx.world.account().hits.length;
  await killed(ctx, ['add-units', RUN, file]);
  assert.is(ctx.world.account().hits.length, hitsBefore + 1, 'the killed call created its HIT');
  const again = await runCli(args(ctx, ['add-units', RUN, file]), { cwd: ctx.world.storeDir, env: env() });
  assert.is(again.code, 0, `${again.stdout}\n${again.stderr}`);
  assert.match(again.stdout, /these units were added before \(u2, u3\); nothing added twice/);
  assert.match(again.stdout, /money: confirmed \d+, still open 0/);
  const after = await stored(ctx);
  assert.is(after.units, 4, 'two units added, once');
  assert.is(ctx.world.account().hits.length, hitsBefore + 2, 'one HIT per new unit, none twice');
  assert.is(after.createIntents, 4);
  assert.is(after.ledger.heldCents, 120, 'the two new units are held');
  assert.ok(after.ledger.leftCents! >= 0);
});

Kill(
  'when relaunch is killed after its first HIT reached MTurk then a re-run relaunches nothing twice',
  async (ctx) => {
    const hitsBefore = ctx.world.account().hits.length;
    await killed(ctx, ['relaunch', RUN]);
    const again = await runCli(args(ctx, ['relaunch', RUN]), { cwd: ctx.world.storeDir, env: env() });
    assert.is(again.code, 0, `${again.stdout}\n${again.stderr}`);
    assert.match(again.stdout, /nothing to relaunch/);
    const after = await stored(ctx);
    assert.is(after.units, 4);
    assert.is(ctx.world.account().hits.length, hitsBefore + 2, 'each expired unit relaunched once');
    assert.is(after.ledger.heldCents, 120);
  },
);

Kill.run();
