import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { VirtualClock, systemClock } from '../../src/clock.js';

const Clock = suite('clock');

Clock('when advanced past several deadlines then timers fire in deadline order at their own time', async () => {
  const clock = new VirtualClock(1_000);
  const fired: [string, number][] = [];
  clock.setTimeout(() => fired.push(['b', clock.now()]), 200);
  clock.setTimeout(() => fired.push(['a', clock.now()]), 100);
  clock.setTimeout(() => fired.push(['c', clock.now()]), 200);
  await clock.advance(500);
  assert.equal(fired, [
    ['a', 1_100],
    ['b', 1_200],
    ['c', 1_200],
  ]);
  assert.is(clock.now(), 1_500);
});

Clock('when a repeating timer re-arms itself then one big advance fires it every period', async () => {
  const clock = new VirtualClock(0);
  let ticks = 0;
  const tick = (): void => {
    ticks++;
    clock.setTimeout(tick, 1_000);
  };
  clock.setTimeout(tick, 1_000);
  await clock.advance(5_000);
  assert.is(ticks, 5);
});

Clock('when a timer is cleared then it never fires', async () => {
  const clock = new VirtualClock(0);
  let fired = false;
  const h = clock.setTimeout(() => (fired = true), 10);
  clock.clearTimeout(h);
  await clock.advance(100);
  assert.not.ok(fired);
  assert.is(clock.pendingTimers, 0);
});

Clock('when a timer starts async work then that work progresses before the next timer fires', async () => {
  const clock = new VirtualClock(0);
  const log: string[] = [];
  clock.setTimeout(() => void Promise.resolve().then(() => log.push('first settled')), 10);
  clock.setTimeout(() => log.push('second fired'), 20);
  await clock.advance(30);
  assert.equal(log, ['first settled', 'second fired']);
});

Clock('when asked to go back in time then it refuses', async () => {
  const clock = new VirtualClock(100);
  let err: unknown;
  await clock.advanceTo(50).catch((e: unknown) => (err = e));
  assert.instance(err, RangeError);
  assert.is(clock.nextDeadline(), undefined);
});

Clock('when the system clock is used then its timers do not keep the process alive', () => {
  const h = systemClock.setTimeout(() => undefined, 60_000) as NodeJS.Timeout;
  assert.is(h.hasRef(), false);
  systemClock.clearTimeout(h);
  assert.ok(Math.abs(systemClock.now() - Date.now()) < 1_000);
});

Clock.run();
