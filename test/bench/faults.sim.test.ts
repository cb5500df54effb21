// The fault campaign's CI version: two seeds of `npm run chaos` (bench/chaos/scenario.ts) on a
// server that faults 10% of calls (half with nothing done, half done and their answer dropped)
// and throttles at 1 call/s; the run must end with every invariant held.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { runScenario } from '../../bench/chaos/scenario.js';

const Faults = suite('bench fault campaign');

for (const seed of [1, 3]) {
  Faults(
    `when seed ${seed} runs on a faulty, throttled server then the run finishes with every invariant held`,
    async () => {
      const report = await runScenario({
        seed,
        units: 8,
        sim: { faultRate: 0.1, throttle: { ratePerSecond: 1, burst: 2 } },
      });
      assert.ok(
        report.faults > 0 && report.dropped > 0,
        `faults were injected: ${report.faults} ServiceFaults, ${report.dropped} dropped`,
      );
      assert.ok(report.throttled > 0, 'calls were throttled');
      assert.equal(report.problems, []);
      assert.equal(report.violations, []);
      assert.equal(report.runtimeErrors, []);
    },
  );
}

Faults.run();
