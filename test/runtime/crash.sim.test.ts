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
  Crash(`when the process is killed at seeded MTurk calls (seed ${seed}) then the run completes with every submission once, no HIT or bonus twice and nothing live`, async () => {
    const report = await runCrashScenario({ seed, kills: 3 });
    assert.ok(report.kills.length > 0, `seed ${seed} killed the child at least once (calls: ${report.calls})`);
    assert.equal(report.problems, [], `kills: ${JSON.stringify(report.kills)}`);
  });
}

Crash.run();
