// Malformed, forged and oversized input to the `hitstate` command while a run is live: commands
// that would write the live run's store must be refused (the running process holds its lock),
// bad arguments and config files must fail with their documented exit code and an error code,
// never with a stack trace, and nothing may reach MTurk.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { World } from '../../test/support/sim-world.js';
import type { BadInputOutcome } from './bad-input-server.js';

const CLI = fileURLToPath(new URL('../../src/cli/hitstate.mjs', import.meta.url));

interface CliAnswer {
  readonly code: number | null;
  readonly out: string;
  readonly err: string;
}

function hitstate(args: readonly string[], storeDir: string): Promise<CliAnswer> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        HITSTATE_STORE_DIR: storeDir,
        NO_COLOR: '1',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    // A command that hangs on bad input is a failure of its own; it is stopped and reported.
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
}

const summary = (a: CliAnswer): string => {
  const codeOf = /\[(HST_ERR_[A-Z_]+)\]/.exec(a.err)?.[1] ?? /(HST_ERR_[A-Z_]+)/.exec(a.err)?.[1];
  return `exit ${a.code ?? 'killed'}${codeOf === undefined ? '' : ` ${codeOf}`}${/unexpected error/i.test(a.err) ? ' (unexpected error)' : ''}`;
};

const clean = (a: CliAnswer): boolean => !/unexpected error|\n\s+at .+:\d+:\d+/.test(a.err);

/** Runs the CLI cases against the live world; returns their outcomes. */
export async function cliCases(world: World, runId: string): Promise<BadInputOutcome[]> {
  const out: BadInputOutcome[] = [];
  const store = world.storeDir;
  const scratch = mkdtempSync(join(tmpdir(), 'hitstate-'));
  const callsNow = (): number => Object.values(world.sim.stats().calls).reduce((a, b) => a + b, 0);
  const add = (name: string, expected: string, answer: CliAnswer, ok: boolean): void => {
    out.push({ target: 'CLI', name, expected, got: summary(answer), ok: ok && clean(answer) });
  };
  // Runs are owned one at a time (a lease per run): a command that would write a live run is refused.
  const refusedOwned = (a: CliAnswer): boolean => a.code === 1 && a.err.includes('HST_ERR_RUN_OWNED');
  try {
    const status = await hitstate(['status', runId, '--json'], store);
    add('status RUN while `run` holds the store', 'exit 0, read-only, marked busy', status, status.code === 0);
    // The review is sent to the running process through the store; this world's clock stands still
    // while the CLI cases run, so that process cannot answer: the command says so and sends nothing.
    const review = await hitstate(['review', runId, '--all', '--approve', '--wait-seconds', '3'], store);
    add(
      'review RUN --all --approve while the run is live (its process does not answer in time)',
      'exit 1 HST_ERR_RUN_STATE, the preview stays posted',
      review,
      review.code === 1 && review.err.includes('HST_ERR_RUN_STATE'),
    );
    const resume = await hitstate(['resume', runId, '--port', '0'], store);
    add(
      'resume RUN while the run is live (a second supervisor)',
      'exit 1 HST_ERR_RUN_OWNED',
      resume,
      refusedOwned(resume),
    );
    const expire = await hitstate(['expire', runId, '--port', '0'], store);
    add('expire RUN while the run is live', 'exit 1 HST_ERR_RUN_OWNED', expire, refusedOwned(expire));
    const traversal = await hitstate(['status', '../../etc/passwd'], store);
    add(
      'status ../../etc/passwd (forged run id)',
      'exit 1 or 2, an error code',
      traversal,
      traversal.code === 1 || traversal.code === 2,
    );
    const negative = await hitstate(['review', runId, '--all', '--bonus', '-1', '--reason', 'x'], store);
    add('review --bonus -1', 'exit 1 or 2, nothing paid', negative, negative.code === 1 || negative.code === 2);
    const huge = await hitstate(['review', runId, '--all', '--bonus', '100000000', '--reason', 'x'], store);
    add('review --bonus 100000000', 'exit 1 or 2, nothing paid', huge, huge.code === 1 || huge.code === 2);
    const typo = await hitstate(['stauts'], store);
    add(
      'unknown command "stauts"',
      'exit 2 HST_ERR_CLI_USAGE, "status" suggested',
      typo,
      typo.code === 2 && /status/.test(typo.err + typo.out),
    );
    const env = await hitstate(['status', '--env', 'javascript:alert(1)'], store);
    add('--env javascript:alert(1)', 'exit 1 or 2', env, env.code === 1 || env.code === 2);

    const before = callsNow();
    const config = (name: string, text: string): string => {
      const path = join(scratch, name);
      writeFileSync(path, text);
      return path;
    };
    const valid = { title: 'T', description: 'D', reward: '0.10', units: 2 };
    const run = (path: string) =>
      hitstate(['run', path, '--env', world.sim.url, '--port', '0', '--store', join(scratch, 'store')], store);
    const malformed = await run(config('malformed.json', '{"title": "T", "units": 2,'));
    add(
      'run: config file is not JSON',
      'exit 1 HST_ERR_CONFIG_INVALID',
      malformed,
      malformed.code === 1 && malformed.err.includes('HST_ERR_CONFIG_INVALID'),
    );
    const tooMany = await run(config('units.json', JSON.stringify({ ...valid, units: 100_001 })));
    add(
      'run: 100,001 units',
      'exit 1 HST_ERR_CONFIG_INVALID',
      tooMany,
      tooMany.code === 1 && tooMany.err.includes('HST_ERR_CONFIG_INVALID'),
    );
    const proto = await run(
      config(
        'proto.json',
        `{"title":"T","description":"D","reward":"0.10","units":2,"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}`,
      ),
    );
    add(
      'run: "__proto__" and "constructor" keys in the config',
      'exit 1 HST_ERR_CONFIG_INVALID (unknown fields)',
      proto,
      proto.code === 1 && proto.err.includes('HST_ERR_CONFIG_INVALID'),
    );
    const bad = await run(
      config(
        'bad.json',
        JSON.stringify({
          title: 'T'.repeat(200),
          description: '',
          reward: '-5',
          units: -3,
          assignmentDurationSec: 1e12,
        }),
      ),
    );
    add(
      'run: every field out of range',
      'exit 1 HST_ERR_CONFIG_INVALID naming each field',
      bad,
      bad.code === 1 && bad.err.includes('HST_ERR_CONFIG_INVALID') && /title/.test(bad.err) && /reward/.test(bad.err),
    );
    const big = await run(
      config(
        'big.json',
        JSON.stringify({
          ...valid,
          units: Array.from({ length: 100_000 }, (_, i) => ({ text: `${'z'.repeat(200)}${i}` })),
          padding: 'p'.repeat(1_000_000),
        }),
      ),
    );
    add(
      'run: a 21 MB config with an unknown field',
      'exit 1 HST_ERR_CONFIG_INVALID',
      big,
      big.code === 1 && big.err.includes('HST_ERR_CONFIG_INVALID'),
    );
    const after = callsNow();
    out.push({
      target: 'CLI',
      name: 'no MTurk call made by any refused `run`',
      expected: '0 calls',
      got: `${after - before} calls`,
      ok: after === before,
    });
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return out;
}
