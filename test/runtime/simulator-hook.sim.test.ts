// The simulator's in-process `onRequesterCall` hook that the crash test kills its child with:
// `drop` loses the call without doing it, `dropAfter` does it and loses the answer.
import { CreateHITTypeCommand, GetAccountBalanceCommand, MTurkClient } from '@aws-sdk/client-mturk';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { VirtualClock } from '../../src/clock.js';
import {
  createSimulator,
  type RequesterCallDecision,
  type RequesterCallInfo,
  type Simulator,
} from '../../src/simulator/index.js';

const Hook = suite<{
  sim: Simulator;
  client: MTurkClient;
  calls: RequesterCallInfo[];
  decide: () => RequesterCallDecision;
}>('simulator onRequesterCall');

Hook.before.each(async (ctx) => {
  ctx.calls = [];
  ctx.decide = () => undefined;
  ctx.sim = await createSimulator({
    clock: new VirtualClock(),
    seed: 1,
    onRequesterCall: (call) => {
      ctx.calls.push(call);
      return ctx.decide();
    },
  });
  ctx.client = new MTurkClient({
    endpoint: ctx.sim.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDHOOK', secretAccessKey: 'x' },
    maxAttempts: 1,
  });
});

Hook.after.each(async (ctx) => {
  ctx.client.destroy();
  await ctx.sim.close();
});

const typeInput = { Title: 't', Description: 'd', Reward: '0.10', AssignmentDurationInSeconds: 60 };

Hook('when the hook lets a call through then it sees the operation, account and input', async ({ client, calls }) => {
  await client.send(new GetAccountBalanceCommand({}));
  assert.equal(
    calls.map((c) => [c.operation, c.accessKeyId]),
    [['GetAccountBalance', 'AKIDHOOK']],
  );
});

Hook('when the hook drops a call then the client gets no answer and nothing was done', async (ctx) => {
  ctx.decide = () => 'drop';
  const err = await ctx.client.send(new CreateHITTypeCommand(typeInput)).then(
    () => null,
    (e: Error) => e,
  );
  assert.ok(err, 'the call failed');
  assert.is(ctx.sim.inspect().accounts.AKIDHOOK?.hitTypes.length ?? 0, 0);
});

Hook('when the hook drops after the call then the call was done but its answer is lost', async (ctx) => {
  ctx.decide = () => 'dropAfter';
  const err = await ctx.client.send(new CreateHITTypeCommand(typeInput)).then(
    () => null,
    (e: Error) => e,
  );
  assert.ok(err, 'the call failed');
  assert.is(ctx.sim.inspect().accounts.AKIDHOOK?.hitTypes.length, 1);
});

Hook('when the hook is not a function then createSimulator refuses it', async () => {
  const err = await createSimulator({ onRequesterCall: 'nope' as never }).then(
    () => null,
    (e: { code?: string }) => e,
  );
  assert.is(err?.code, 'HST_ERR_SIM_OPTIONS_INVALID');
});

Hook.run();
