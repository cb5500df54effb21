// The crash test: a child process running a task run is killed with SIGKILL at MTurk calls chosen
// by a seed (before or after the call takes effect) and restarted with `resume` until the run is
// done; then the store is checked against the simulator (test/support/crash-harness.ts). A few
// seeds here; the benchmarks run many more through the same harness.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { runCrashScenario } from '../support/crash-harness.js';

const Crash = suite('runtime crash-proofing');

const SEEDS = [1, 2, 3, 4];

for (const seed of SEEDS) {
  Crash(
    `when the process is killed at seeded MTurk calls (seed ${seed}) then the run completes with every submission once, no HIT or bonus twice and nothing live`,
    async () => {
      const report = await runCrashScenario({ seed, kills: 3 });
      assert.ok(report.kills.length > 0, `seed ${seed} killed the child at least once (calls: ${report.calls})`);
      assert.equal(report.problems, [], `kills: ${JSON.stringify(report.kills)}`);
    },
  );
}

Crash(
  "when the process stays down past MTurk's 24-hour token memory then old intents are checked on MTurk and nothing is created or paid twice",
  async () => {
    const downtimeMs = 25 * 3_600_000;
    const report = await runCrashScenario({
      seed: 77,
      kills: 0,
      targets: [
        { operation: 'CreateHITWithHITType', occurrence: 2, mode: 'dropAfter', downtimeMs },
        { operation: 'SendBonus', occurrence: 1, mode: 'dropAfter', downtimeMs },
      ],
    });
    assert.equal(
      report.kills.map((k) => k.operation),
      ['CreateHITWithHITType', 'SendBonus'],
    );
    assert.equal(report.problems, []);
  },
);

Crash.run();
