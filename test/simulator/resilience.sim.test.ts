import {
  CreateHITCommand,
  GetAccountBalanceCommand,
  MTurkServiceException,
  RequestError,
  ServiceFault,
  type MTurkClient,
} from '@aws-sdk/client-mturk';
import { ConfiguredRetryStrategy } from '@smithy/util-retry';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Simulator } from '../../src/simulator/index.js';
import { clientFor, hitInput, rejection, startSim } from './helpers.js';

const Throttling = suite('simulator throttling');

/** A client whose retries do not sleep; each retry first moves the simulator's virtual clock. */
function retryingClient(
  sim: Simulator,
  advanceSecondsPerRetry: number,
): { client: MTurkClient; attempts: () => number } {
  const client = clientFor(sim, 'AKIDREQUESTERONE', {
    maxAttempts: 3,
    retryStrategy: new ConfiguredRetryStrategy(3, 0),
  });
  let attempts = 0;
  client.middlewareStack.add(
    (next) => async (args) => {
      attempts++;
      const header = (args.request as { headers: Record<string, string> }).headers['amz-sdk-request'] ?? '';
      const attempt = Number(/attempt=(\d+)/.exec(header)?.[1] ?? 1);
      if (attempt > 1 && advanceSecondsPerRetry > 0) await sim.advance(advanceSecondsPerRetry);
      return next(args);
    },
    { step: 'deserialize', name: 'advanceClockOnRetry' },
  );
  return { client, attempts: () => attempts };
}

Throttling(
  'when a requester exceeds its burst then ThrottlingException comes back and another account is unaffected',
  async () => {
    const sim = await startSim({ throttle: { ratePerSecond: 1, burst: 2 } });
    const mturk = clientFor(sim);
    const other = clientFor(sim, 'AKIDOTHERREQUESTER');
    try {
      await mturk.send(new GetAccountBalanceCommand({}));
      await mturk.send(new GetAccountBalanceCommand({}));
      const err = await rejection(mturk.send(new GetAccountBalanceCommand({})));
      assert.is(err.name, 'ThrottlingException');
      assert.is(err.message, 'Rate exceeded');
      assert.instance(err, MTurkServiceException);
      assert.not.instance(err, RequestError);
      assert.is((err as unknown as MTurkServiceException).$metadata.httpStatusCode, 400);
      assert.ok(await other.send(new GetAccountBalanceCommand({})));
      await sim.advance(1);
      assert.ok(await mturk.send(new GetAccountBalanceCommand({})));
      assert.equal(sim.stats(), { calls: { GetAccountBalance: 5 }, throttled: 1, faults: 0, dropped: 0 });
    } finally {
      mturk.destroy();
      other.destroy();
      await sim.close();
    }
  },
);

Throttling('when the SDK retries a throttled call and the bucket refills then the call succeeds', async () => {
  const sim = await startSim({ throttle: { ratePerSecond: 1, burst: 1 } });
  const { client, attempts } = retryingClient(sim, 1);
  try {
    await client.send(new GetAccountBalanceCommand({}));
    const before = attempts();
    const out = await client.send(new GetAccountBalanceCommand({}));
    assert.is(out.AvailableBalance, '10000.00');
    assert.is(attempts() - before, 2);
    assert.is(out.$metadata.attempts, 2);
    assert.is(sim.stats().throttled, 1);
    assert.is(sim.stats().calls.GetAccountBalance, 3);
  } finally {
    client.destroy();
    await sim.close();
  }
});

Throttling('when virtual time stands still then the SDK exhausts its retries on ThrottlingException', async () => {
  const sim = await startSim({ throttle: { ratePerSecond: 1, burst: 1 } });
  const { client } = retryingClient(sim, 0);
  try {
    await client.send(new GetAccountBalanceCommand({}));
    const err = await rejection(client.send(new GetAccountBalanceCommand({})));
    assert.is(err.name, 'ThrottlingException');
    assert.is((err as unknown as MTurkServiceException).$metadata.attempts, 3);
    assert.is(sim.stats().throttled, 3);
  } finally {
    client.destroy();
    await sim.close();
  }
});

const Faults = suite('simulator fault injection');

async function outcomes(seed: number, n: number): Promise<{ kinds: string[]; stats: ReturnType<Simulator['stats']> }> {
  const sim = await startSim({ seed, faultRate: 0.5 });
  const mturk = clientFor(sim);
  try {
    const kinds: string[] = [];
    for (let i = 0; i < n; i++) {
      kinds.push(
        await mturk.send(new GetAccountBalanceCommand({})).then(
          () => 'ok',
          (e: Error) => (e instanceof ServiceFault ? 'fault' : 'drop'),
        ),
      );
    }
    return { kinds, stats: sim.stats() };
  } finally {
    mturk.destroy();
    await sim.close();
  }
}

Faults('when the same seed serves the same calls then the same calls fail the same way', async () => {
  const a = await outcomes(11, 40);
  const b = await outcomes(11, 40);
  const c = await outcomes(12, 40);
  assert.equal(a.kinds, b.kinds);
  assert.not.equal(a.kinds, c.kinds);
  for (const kind of ['ok', 'fault', 'drop']) assert.ok(a.kinds.includes(kind), `${kind} in ${a.kinds.join(',')}`);
  assert.is(a.stats.faults, a.kinds.filter((k) => k === 'fault').length);
  assert.is(a.stats.dropped, a.kinds.filter((k) => k === 'drop').length);
  assert.is(a.stats.calls.GetAccountBalance, 40);
});

Faults('when a ServiceFault is injected then the SDK raises ServiceFault and retries it', async () => {
  const sim = await startSim({ seed: 3, faultRate: 1 });
  const mturk = clientFor(sim);
  const retrying = clientFor(sim, 'AKIDREQUESTERONE', {
    maxAttempts: 3,
    retryStrategy: new ConfiguredRetryStrategy(3, 0),
  });
  try {
    let fault: (Error & { $fault?: string; $metadata?: { httpStatusCode?: number } }) | undefined;
    for (let i = 0; i < 20 && !fault; i++) {
      const err = await rejection(mturk.send(new GetAccountBalanceCommand({})));
      if (err instanceof ServiceFault) fault = err;
    }
    assert.ok(fault, 'a ServiceFault within 20 calls');
    assert.is(fault!.$fault, 'server');
    assert.is(fault!.$metadata!.httpStatusCode, 500);
    assert.match(fault!.message, /temporarily unable to process your request/);
    sim.resetStats();
    await rejection(retrying.send(new GetAccountBalanceCommand({})));
    assert.is(sim.stats().calls.GetAccountBalance, 3);
  } finally {
    mturk.destroy();
    retrying.destroy();
    await sim.close();
  }
});

Faults(
  'when connections are dropped after CreateHIT ran then repeating it with the same token never creates a second HIT',
  async () => {
    const sim = await startSim({ seed: 5, faultRate: 1 });
    const mturk = clientFor(sim);
    try {
      for (let i = 0; i < 12; i++)
        await rejection(mturk.send(new CreateHITCommand(hitInput({ UniqueRequestToken: 'unit-7' }))));
      const stats = sim.stats();
      assert.ok(stats.dropped >= 2, JSON.stringify(stats));
      assert.ok(stats.faults >= 1, JSON.stringify(stats));
      assert.is(stats.faults + stats.dropped, 12);
      assert.is(sim.inspect().accounts.AKIDREQUESTERONE!.hits.length, 1);
    } finally {
      mturk.destroy();
      await sim.close();
    }
  },
);

Throttling.run();
Faults.run();
