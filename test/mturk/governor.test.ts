import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { VirtualClock } from '../../src/clock.js';
import { isHitstateError } from '../../src/errors.js';
import { RateGovernor, type GovernedCall, type Lane, type RetryClass } from '../../src/mturk/governor.js';

const Governor = suite('governor');
const turn = (): Promise<void> => new Promise((r) => setImmediate(r));
const call = (lane: Lane, retrySafe = true, operation = 'GetHIT'): GovernedCall => ({ operation, lane, retrySafe });
const classify = (err: unknown): RetryClass => (err as { kind: RetryClass }).kind;
const failing = (kind: RetryClass): Error & { kind: RetryClass } => Object.assign(new Error(kind), { kind });

/** Advances the clock in 1 ms steps until `done()` or `limitMs` passed. */
async function runUntil(clock: VirtualClock, done: () => boolean, limitMs = 60_000): Promise<void> {
  const end = clock.now() + limitMs;
  while (!done() && clock.now() < end) {
    const next = clock.nextDeadline();
    await clock.advanceTo(next === undefined ? clock.now() + 1 : Math.min(next, end));
    await turn();
  }
}

Governor('when calls exceed the burst then the rest start one per token interval on the clock', async () => {
  const clock = new VirtualClock(0);
  const g = new RateGovernor({ clock, ratePerSecond: 2, burst: 3 });
  const started: number[] = [];
  const all = Array.from({ length: 5 }, () => g.run(call('polling'), async () => started.push(clock.now()), classify));
  await turn();
  assert.equal(started, [0, 0, 0]);
  assert.is(g.stats().queued.polling, 2);
  await runUntil(clock, () => started.length === 5);
  await Promise.all(all);
  assert.equal(started, [0, 0, 0, 500, 1000]);
  assert.ok(g.isIdle());
});

Governor('when a call asks for one attempt then a throttle or fault fails it at once, without backoff', async () => {
  for (const kind of ['throttled', 'unavailable'] as const) {
    // A governor each: a throttle empties the bucket, which is the governor's own business.
    const clock = new VirtualClock(0);
    const g = new RateGovernor({ clock, ratePerSecond: 5, burst: 10 });
    let attempts = 0;
    const failure = await g
      .run(
        { ...call('lifecycle'), maxAttempts: 1 },
        async () => {
          attempts++;
          throw failing(kind);
        },
        classify,
      )
      .catch((err: unknown) => err);
    assert.is((failure as Error).message, kind);
    assert.is(attempts, 1, `${kind}: one attempt`);
    assert.is(clock.now(), 0, 'no time waited');
    assert.is(g.stats().retries, 0);
  }
});

Governor('when lanes wait for tokens then money goes before lifecycle before polling', async () => {
  const clock = new VirtualClock(0);
  const g = new RateGovernor({ clock, ratePerSecond: 1, burst: 1 });
  const order: string[] = [];
  const run = (lane: Lane, name: string) => g.run(call(lane), async () => order.push(name), classify);
  const work = [
    run('polling', 'first'),
    run('polling', 'p1'),
    run('polling', 'p2'),
    run('lifecycle', 'l1'),
    run('money', 'm1'),
    run('money', 'm2'),
  ];
  await turn();
  assert.equal(g.stats().queued, { money: 2, lifecycle: 1, polling: 2 });
  await runUntil(clock, () => order.length === 6);
  await Promise.all(work);
  assert.equal(order, ['first', 'm1', 'm2', 'l1', 'p1', 'p2']);
});

Governor('when an attempt is throttled then it is retried after a jittered backoff and counted', async () => {
  const clock = new VirtualClock(0);
  const g = new RateGovernor({ clock, ratePerSecond: 100, burst: 100, baseBackoffMs: 400, seed: 7 });
  const at: number[] = [];
  const work = g.run(
    call('money', false, 'SendBonus'),
    async () => {
      at.push(clock.now());
      if (at.length < 3) throw failing('throttled');
      return 'paid';
    },
    classify,
  );
  await runUntil(clock, () => at.length === 3);
  assert.is(await work, 'paid');
  const s = g.stats();
  assert.equal([s.attempts, s.retries, s.throttles, s.failures, s.calls.SendBonus], [3, 2, 2, 0, 1]);
  const first = at[1]! - at[0]!;
  assert.ok(first >= 200 && first <= 400, `first backoff ${first}`);
  assert.ok(s.totalRetryDelayMs >= at[2]! - at[0]! - 50, `${s.totalRetryDelayMs}`);
});

Governor(
  'when two governors share a seed then their backoff delays are identical, and differ with another seed',
  () => {
    const a = new RateGovernor({ seed: 42 });
    const b = new RateGovernor({ seed: 42 });
    const c = new RateGovernor({ seed: 43 });
    const seq = (g: RateGovernor) => [1, 2, 3, 4, 5, 6].map((n) => g.backoffMs(n));
    assert.equal(seq(a), seq(b));
    assert.not.equal(seq(a), seq(c));
    for (const [i, d] of seq(a).entries()) {
      const ceiling = Math.min(20_000, 500 * 2 ** i);
      assert.ok(d >= ceiling / 2 && d <= ceiling, `retry ${i + 1}: ${d}`);
    }
  },
);

Governor('when a service fault hits then only retry-safe calls are retried', async () => {
  const clock = new VirtualClock(0);
  const g = new RateGovernor({ clock, seed: 1 });
  let unsafe = 0;
  const err = await g
    .run(
      call('lifecycle', false, 'NotifyWorkers'),
      async () => {
        unsafe++;
        throw failing('unavailable');
      },
      classify,
    )
    .then(
      () => null,
      (e: unknown) => e,
    );
  assert.is((err as Error).message, 'unavailable');
  assert.is(unsafe, 1);
  let safe = 0;
  const work = g.run(
    call('polling', true),
    async () => {
      if (++safe < 2) throw failing('unavailable');
      return 'ok';
    },
    classify,
  );
  await runUntil(clock, () => safe === 2);
  assert.is(await work, 'ok');
  assert.equal([g.stats().faults, g.stats().retries, g.stats().failures], [2, 1, 1]);
});

Governor('when an error is fatal then it is never retried', async () => {
  const g = new RateGovernor({ clock: new VirtualClock(0) });
  let n = 0;
  const err = await g
    .run(
      call('money'),
      async () => {
        n++;
        throw failing('fatal');
      },
      classify,
    )
    .then(
      () => null,
      (e: unknown) => e,
    );
  assert.is((err as Error).message, 'fatal');
  assert.is(n, 1);
});

Governor('when throttling never stops then the call fails after maxAttempts with the last error', async () => {
  const clock = new VirtualClock(0);
  const g = new RateGovernor({ clock, maxAttempts: 4 });
  let n = 0;
  let settled: unknown = 'pending';
  g.run(
    call('polling'),
    async () => {
      n++;
      throw failing('throttled');
    },
    classify,
  ).then(
    () => (settled = 'resolved'),
    (e: unknown) => (settled = e),
  );
  await runUntil(clock, () => settled !== 'pending', 600_000);
  assert.is((settled as Error).message, 'throttled');
  assert.equal([n, g.stats().throttles, g.stats().failures], [4, 4, 1]);
  assert.ok(g.isIdle());
});

Governor('when MTurk throttles then the whole bucket slows down and recovers with successes', async () => {
  const clock = new VirtualClock(0);
  const g = new RateGovernor({ clock, ratePerSecond: 8, burst: 8 });
  let first = true;
  const work = g.run(
    call('polling'),
    async () => {
      if (first) {
        first = false;
        throw failing('throttled');
      }
    },
    classify,
  );
  await turn();
  assert.is(g.stats().effectiveRatePerSecond, 4);
  assert.is(g.stats().tokens, 0);
  await runUntil(clock, () => g.isIdle());
  await work;
  assert.ok(g.stats().effectiveRatePerSecond > 4);
  for (let i = 0; i < 20; i++) {
    const next = g.run(call('polling'), async () => undefined, classify);
    await runUntil(clock, () => g.isIdle());
    await next;
  }
  assert.is(g.stats().effectiveRatePerSecond, 8);
});

Governor('when work is pending then whenIdle resolves only after the last call settles', async () => {
  const clock = new VirtualClock(0);
  const g = new RateGovernor({ clock, ratePerSecond: 1, burst: 1 });
  let idle = false;
  const work = [g.run(call('polling'), async () => 1, classify), g.run(call('polling'), async () => 2, classify)];
  g.whenIdle().then(() => (idle = true));
  await turn();
  assert.not.ok(idle);
  assert.not.ok(g.isIdle());
  await runUntil(clock, () => idle);
  assert.equal(await Promise.all(work), [1, 2]);
  assert.ok(idle);
});

Governor(
  'when the governor is closed then queued calls fail with HST_ERR_MTURK_UNAVAILABLE and nothing more runs',
  async () => {
    const clock = new VirtualClock(0);
    const g = new RateGovernor({ clock, ratePerSecond: 1, burst: 1 });
    let ran = 0;
    const first = g.run(call('polling'), async () => ran++, classify);
    const queued = g
      .run(call('polling'), async () => ran++, classify)
      .then(
        () => null,
        (e: unknown) => e,
      );
    await first;
    g.close();
    assert.ok(isHitstateError(await queued, 'HST_ERR_MTURK_UNAVAILABLE'));
    assert.ok(
      isHitstateError(
        await g
          .run(call('money'), async () => ran++, classify)
          .then(
            () => null,
            (e: unknown) => e,
          ),
        'HST_ERR_MTURK_UNAVAILABLE',
      ),
    );
    assert.is(ran, 1);
    assert.is(clock.pendingTimers, 0);
    await g.whenIdle();
    assert.ok(g.isIdle());
  },
);

Governor('when options are not positive numbers then the governor refuses them', () => {
  for (const bad of [
    { ratePerSecond: 0 },
    { burst: -1 },
    { maxAttempts: Number.NaN },
    { baseBackoffMs: Number.POSITIVE_INFINITY },
  ]) {
    assert.throws(
      () => new RateGovernor(bad),
      (e: unknown) => isHitstateError(e, 'HST_ERR_CONFIG_INVALID'),
    );
  }
});

Governor.run();
