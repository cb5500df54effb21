// Python's boto3 against the simulator (issue 14): test/simulator/boto3_check.py runs MTurk-era
// client code (Mephisto's get_outstanding_hits, a `while 'NextToken' in result` loop, psiTurk's
// empty-feedback reject, ElementTree on the Answer, a data-collection script's requirements)
// signed by botocore, against a fresh simulator on loopback. Without python3-boto3 the check is
// reported as skipped, with the reason and the fix, and counted by test/run.mjs (`Skipped:`).
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startSim } from './helpers.js';

const SCRIPT = fileURLToPath(new URL('./boto3_check.py', import.meta.url));
const Boto3 = suite('simulator boto3 check');

/** Why boto3 cannot run here, or undefined when it can. */
function boto3Missing(): string | undefined {
  const probe = spawnSync('python3', ['-c', 'import boto3'], { encoding: 'utf8' });
  if (probe.error) return `python3 is not installed (${probe.error.message})`;
  if (probe.status !== 0)
    return `python3-boto3 is not installed (python3 -c "import boto3" failed: ${probe.stderr.trim().split('\n').pop()})`;
  return undefined;
}

/** Runs the script without blocking the event loop (the simulator answers from this process). */
function runScript(endpoint: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env, NO_PROXY: '127.0.0.1,localhost', PYTHONIOENCODING: 'utf-8' };
    for (const name of ['HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy']) delete env[name];
    const child = spawn('python3', [SCRIPT, endpoint], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

Boto3('when the check script is read then it only talks to the loopback endpoint it is given', () => {
  const source = readFileSync(SCRIPT, 'utf8');
  assert.not.match(source, /amazonaws\.com\/?['"]/, 'no AWS endpoint URL');
  assert.match(source, /endpoint_url=endpoint/);
  assert.match(source, /region_name="us-east-1"/);
  assert.match(source, /startswith\("http:\/\/127\.0\.0\.1:"\)/, 'refuses anything but loopback');
});

const missing = boto3Missing();
if (missing !== undefined) {
  console.log(`SKIPPED: ${missing}; install it with \`apt-get install -y python3-boto3\` to run the boto3 check.`);
  Boto3.skip('when boto3 runs MTurk-era client code then every check passes', () => undefined);
} else {
  Boto3('when boto3 runs MTurk-era client code then every check passes', async () => {
    const sim = await startSim();
    try {
      const { code, output } = await runScript(sim.url);
      assert.is(code, 0, output);
      assert.match(output, /boto3 check: \d+ checks passed/, output);
      // The calls really reached this simulator, signed by botocore.
      assert.ok((sim.stats().calls.ListHITs ?? 0) >= 6, JSON.stringify(sim.stats().calls));
      assert.is(sim.stats().calls.SendBonus, 1);
    } finally {
      await sim.close();
    }
  });
}

Boto3.run();
