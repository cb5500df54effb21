// The bench's watchdog (bench/support/child.ts): a benchmark child that stalls is stopped and
// reported with what it was doing, the simulator it started is stopped with it, and a child past
// its deadline is stopped even while it prints. Real child processes; the bounds are the
// watchdog's own (seconds), not timing assertions about the code under test.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { BenchStalled, runInChild } from '../../bench/support/child.js';
import type { WatchdogProbeArgs } from '../../bench/support/watchdog-probe.js';

const Watchdog = suite('bench watchdog');

async function stalledBy(args: WatchdogProbeArgs, options: { stallMs: number; deadlineMs?: number }) {
  let announced = '';
  const err = await runInChild<WatchdogProbeArgs, unknown>('support/watchdog-probe', args, options).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof BenchStalled)) throw new Error(`expected a BenchStalled, got ${String(err)}`);
  const m = /MTurk calls on (http:\/\/\S+?)[,;]/.exec(err.doing);
  if (m !== null) announced = m[1]!;
  return { err, announced };
}

Watchdog('a silent child is stopped with what it waited on, and its simulator with it', async () => {
  const { err, announced } = await stalledBy({ mode: 'simulator' }, { stallMs: 3000 });
  assert.match(err.reason, /no output, no MTurk call and no CPU used for \d+ s/);
  assert.match(err.doing, /last progress: .*simulator started; now waiting on nothing/);
  // The child answered the watchdog's question before it was killed.
  assert.match(err.doing, /waiting with .*Timeout/);
  assert.ok(announced !== '', `the simulator was not watched: ${err.doing}`);
  const reached = await fetch(`${announced}/_sim/stats`).then(
    () => true,
    () => false,
  );
  assert.is(reached, false, 'the simulator outlived the stalled child');
});

Watchdog('a child past its deadline is stopped even while it prints', async () => {
  const { err } = await stalledBy({ mode: 'busy', ms: 60_000 }, { stallMs: 60_000, deadlineMs: 4000 });
  assert.match(err.reason, /past its 4 s deadline/);
  assert.match(err.doing, /last progress: /);
});

Watchdog.run();
