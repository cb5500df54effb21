// One retry layer per kind of failure (docs/mturk-gateway.md, "Retries: one layer per kind of
// failure"): the SDK client makes one HTTP attempt, the governor retries throttling always and
// faults only for retry-safe operations, and gives up after its maxAttempts with a retryable
// outcome. Counted on the server side (the simulator's /_sim/stats), so an SDK retry hidden under
// the governor would show.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { systemClock } from '../../src/clock.js';
import { MTurkGateway } from '../../src/mturk/gateway.js';
import type { SimulatorStats } from '../../src/simulator/index.js';
import { simWorld } from './sim-helpers.js';

const Retries = suite('one retry layer per kind of failure');

async function serverStats(url: string): Promise<SimulatorStats> {
  const res = await fetch(`${url}/_sim/stats`);
  assert.is(res.status, 200);
  return (await res.json()) as SimulatorStats;
}

const total = (s: SimulatorStats): number => Object.values(s.calls).reduce((a, b) => a + b, 0);

Retries(
  'when a gateway is made for a live run (system clock) then its SDK client makes one attempt, as in tests',
  async () => {
    const spec = {
      name: 'live-shape',
      environment: 'custom' as const,
      endpoint: 'http://127.0.0.1:9',
      credentials: { kind: 'static' as const, accessKeyId: 'AKIDLIVESHAPE', secretAccessKey: 'x' },
    };
    const live = new MTurkGateway(spec, { clock: systemClock });
    const w = await simWorld();
    try {
      const simulated = w.gateway('simulated');
      for (const gw of [live, simulated]) {
        assert.is(await gw.client.config.maxAttempts(), 1);
        const strategy = await gw.client.config.retryStrategy();
        assert.is('mode' in strategy ? strategy.mode : undefined, 'standard', 'not the adaptive strategy');
      }
    } finally {
      live.close();
      await w.close();
    }
  },
);

Retries(
  'when every call faults then a retry-safe read is tried maxAttempts times and then reported retryable',
  async () => {
    const w = await simWorld({ faultRate: 1, seed: 4 });
    try {
      const gw = w.gateway('faulty', 'custom', { governor: { ratePerSecond: 50, burst: 50, seed: 2 } });
      const outcome = await w.run(gw.getAccountBalance());
      assert.is(outcome.status, 'unavailable');
      assert.is(outcome.status !== 'ok' && outcome.retryable, true);
      const server = await serverStats(w.sim.url);
      assert.is(server.calls.GetAccountBalance, 6, 'the governor default maxAttempts, and nothing more');
      assert.is(server.faults + server.dropped, 6);
      const mine = gw.stats();
      assert.is(mine.attempts, 6);
      assert.is(mine.http.attempts, 6, 'one HTTP request per governor attempt: the SDK does not retry');
      assert.is(mine.failures, 1);
    } finally {
      await w.close();
    }
  },
);

Retries('when every call faults then a call that is not retry-safe (NotifyWorkers) is sent once', async () => {
  const w = await simWorld({ faultRate: 1, seed: 4 });
  try {
    const gw = w.gateway('mailer', 'custom', { governor: { ratePerSecond: 50, burst: 50 } });
    const outcome = await w.run(gw.notifyWorkers({ subject: 'Hello', messageText: 'Thanks', workerIds: ['A1WORKER'] }));
    // NotifyWorkers reports per-worker failures inside an ok outcome; a fault fails the batch.
    const failed =
      outcome.status !== 'ok' || ('failures' in outcome.value && (outcome.value.failures as unknown[]).length > 0);
    assert.ok(failed, `expected the faulted mail-out to be reported, got ${JSON.stringify(outcome)}`);
    const server = await serverStats(w.sim.url);
    assert.is(server.calls.NotifyWorkers, 1, 'a repeat could mail the workers twice');
    assert.is(gw.stats().http.attempts, 1);
  } finally {
    await w.close();
  }
});

Retries('when the server throttles then the governor alone retries and every call completes', async () => {
  const w = await simWorld({ throttle: { ratePerSecond: 2, burst: 2 } });
  try {
    const gw = w.gateway('busy', 'custom', { governor: { ratePerSecond: 20, burst: 20, seed: 7 } });
    const outcomes = await w.run(Promise.all(Array.from({ length: 8 }, () => gw.getAccountBalance())));
    assert.equal(
      outcomes.map((o) => o.status),
      Array(8).fill('ok'),
    );
    const server = await serverStats(w.sim.url);
    const mine = gw.stats();
    assert.ok(server.throttled > 0, 'the scenario must throttle');
    assert.is(mine.throttles, server.throttled);
    assert.is(total(server), mine.attempts, 'every governor attempt reached the server once');
    assert.is(mine.http.attempts, mine.attempts, 'no SDK retry under the governor');
  } finally {
    await w.close();
  }
});

Retries(
  'when throttling outlasts the governor then it gives up after maxAttempts with a retryable outcome',
  async () => {
    const w = await simWorld({ throttle: { ratePerSecond: 0.001, burst: 1 } });
    try {
      const gw = w.gateway('starved', 'custom', { governor: { ratePerSecond: 50, burst: 50, seed: 9 } });
      assert.is((await w.run(gw.getAccountBalance())).status, 'ok', 'the burst lets one call through');
      const outcome = await w.run(gw.getAccountBalance());
      assert.is(outcome.status, 'throttled');
      assert.is(outcome.status !== 'ok' && outcome.retryable, true, 'the command layer may try again later');
      const server = await serverStats(w.sim.url);
      assert.is(server.calls.GetAccountBalance, 1 + 6);
      assert.is(server.throttled, 6);
      assert.is(gw.stats().http.attempts, 7);
    } finally {
      await w.close();
    }
  },
);

Retries.run();
