// The virtual-time driver's step size per call: the test world's drive(until, { stepMs }) and
// advance(ms, stepMs) rely on it.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { VirtualClock } from '../../src/clock.js';
import { VirtualTimeDriver } from '../../src/testing/index.js';

const Steps = suite('testing/virtual-time-driver steps');

Steps('when a drive call gives its own stepMs then time moves by that much while no timer is due', async () => {
  const clock = new VirtualClock(0);
  const driver = new VirtualTimeDriver({ clock, stepMs: 1000 });
  const seen: number[] = [];
  await driver.drive(
    () => {
      seen.push(clock.now());
      return clock.now() >= 3000;
    },
    { stepMs: 1500 },
  );
  assert.equal(seen, [0, 1500, 3000]);
  seen.length = 0;
  await driver.drive(() => {
    seen.push(clock.now());
    return clock.now() >= 5000;
  });
  assert.equal(seen, [3000, 4000, 5000], "the next call steps by the driver's own stepMs again");
});

Steps('when a timer is due before the step ends then the step stops at the timer', async () => {
  const clock = new VirtualClock(0);
  const driver = new VirtualTimeDriver({ clock });
  const fired: number[] = [];
  clock.setTimeout(() => fired.push(clock.now()), 700);
  await driver.advance(2000, { stepMs: 1000 });
  assert.equal(fired, [700]);
  assert.is(clock.now(), 2000);
});

Steps('when advancing with a step then it lands exactly on the end', async () => {
  const clock = new VirtualClock(10_000);
  const driver = new VirtualTimeDriver({ clock });
  const seen: number[] = [];
  const timer = (at: number): void => void clock.setTimeout(() => seen.push(clock.now()), at);
  timer(25_000);
  await driver.advance(60_000, { stepMs: 30_000 });
  assert.equal(seen, [35_000]);
  assert.is(clock.now(), 70_000);
});

Steps('when stepMs is not above 0 then drive refuses it', async () => {
  const driver = new VirtualTimeDriver({ clock: new VirtualClock(0) });
  const err = await driver
    .drive(() => true, { stepMs: 0 })
    .then(
      () => null,
      (e: unknown) => e,
    );
  assert.instance(err, RangeError);
  assert.match((err as Error).message, /stepMs must be above 0, got 0/);
});

Steps.run();
