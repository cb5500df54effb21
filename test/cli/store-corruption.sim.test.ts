// Finding 1 of issue 19, reproduced in child processes on a real store: a run is live (its
// process killed, its HITs on the simulator), then store.json is truncated. Every command that
// opens the store must fail loudly naming the file, the backup and what that backup would lose;
// `store check` must name the damaged file; `store restore` must keep the live run.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { environmentSlug, openStore } from '../../src/store/index.js';
import { createSimulator, type Simulator } from '../../src/simulator/index.js';
import { childEnv, runCli, startCli, tempDir, until } from './helpers.js';

interface Ctx {
  dir: ReturnType<typeof tempDir>;
  sim: Simulator;
}

const Corrupt = suite<Ctx>('cli/store corruption');

Corrupt.before.each(async (ctx) => {
  ctx.dir = tempDir();
  ctx.sim = await createSimulator({ seed: 19 });
});

Corrupt.after.each(async (ctx) => {
  await ctx.sim.close();
  ctx.dir.remove();
});

Corrupt(
  'when store.json is truncated under a live run then every command is loud, check names it, and restore keeps the run',
  async (ctx) => {
    const { sim } = ctx;
    const cwd = ctx.dir.path;
    const storeDir = join(cwd, '.hitstate');
    const environment = { kind: 'custom' as const, endpoint: sim.url };
    // An earlier, finished run: closing the store leaves a good store.json.bak.1 without r1.
    const seed = await openStore({ dir: storeDir, environment });
    seed.requesters.put({ name: 'local', credentialSource: { kind: 'defaultChain' } });
    seed.runs.create({ runId: 'old', requesterName: 'local', config: { title: 'Old run' }, status: 'done' });
    await seed.close();

    writeFileSync(
      join(cwd, 'task.json'),
      JSON.stringify({
        title: 'Label the sentiment of a sentence',
        description: 'Read one sentence and pick its sentiment.',
        reward: '0.40',
        assignmentDurationSec: 120,
        lifetimeSec: 3600,
        units: [{ text: 'I loved it' }, { text: 'Meh' }, { text: 'Awful' }],
      }),
    );
    const run = startCli(['run', 'task.json', '--env', sim.url, '--port', '0', '--poll-ms', '200', '--run-id', 'r1'], {
      cwd,
      env: childEnv(),
    });
    try {
      await run.waitFor(/running .* launched 3/);
      const root = join(storeDir, environmentSlug(environment));
      const storeJson = join(root, 'store.json');
      await until(
        () =>
          readFileSync(storeJson, 'utf8').includes('"launched"') ||
          readFileSync(storeJson, 'utf8').includes('"running"'),
        'the run recorded as running',
      );
    } finally {
      run.child.kill('SIGKILL');
      await run.exited;
    }
    const root = join(storeDir, environmentSlug(environment));
    const storeJson = join(root, 'store.json');
    assert.ok(existsSync(join(root, 'runs', 'r1', 'run.json')), "the run's record has its copy in its folder");
    const live = sim.inspect().accounts.AKIDLOCAL!.hits.filter((h) => h.status === 'Assignable').length;
    assert.is(live, 3, 'the run is live on MTurk');
    const whole = readFileSync(storeJson);
    writeFileSync(storeJson, whole.subarray(0, Math.floor(whole.length / 2)));

    const cli = (args: string[]) => runCli(args, { cwd, env: childEnv() });
    const loud = (what: string, r: { code: number | string; stdout: string; stderr: string }): void => {
      const text = `${r.stdout}\n${r.stderr}`;
      assert.is.not(r.code, 0, `${what} exits non-zero:\n${text}`);
      assert.match(r.stderr, /HST_ERR_STORE_CORRUPT/, `${what} names the code:\n${text}`);
      assert.match(r.stderr, storeJson, `${what} names the file`);
      assert.match(r.stderr, `${storeJson}.bak.1`, `${what} names the newest good backup`);
      assert.match(r.stderr, /it would lose run r1 \(3 units, running\)/, `${what} names what the backup would lose`);
      assert.match(r.stderr, /hitstate store restore/, `${what} names the fix`);
      assert.not.match(text, /there is no run|has no run/, `${what} never says there is no run`);
    };
    const status = await cli(['status']);
    loud('status', status);
    assert.match(
      status.stdout,
      new RegExp(`${sim.url.replace(/[.]/g, '\\.')}\\n\\s+damaged`),
      'status lists the environment',
    );
    const statusJson = await cli(['status', '--json']);
    assert.is(statusJson.code, 1);
    assert.is(
      (JSON.parse(statusJson.stdout) as { corrupt?: { code: string } }[])[0]!.corrupt!.code,
      'HST_ERR_STORE_CORRUPT',
    );
    loud('status r1', await cli(['status', 'r1']));
    loud('resume', await cli(['resume', 'r1', '--poll-ms', '200']));
    loud('review', await cli(['review', 'r1', '--all', '--approve', '--dry-run']));
    loud('export', await cli(['export', 'r1']));
    loud('run', await cli(['run', 'task.json', '--env', sim.url, '--port', '0', '--run-id', 'r2']));

    const check = await cli(['store', 'check']);
    assert.is(check.code, 1, check.stdout);
    assert.match(check.stdout, /store\.json +DAMAGED/);
    // A live run's records are in its journal until a checkpoint folds them into its files.
    assert.match(check.stdout, /runs\/r1\/journal\.jsonl +ok/);
    assert.match(check.stdout, /it would lose run r1 \(3 units, running\)/);

    const restore = await cli(['store', 'restore']);
    assert.is(restore.code, 0, `${restore.stdout}\n${restore.stderr}`);
    const saved = /saved to (\S+)/.exec(restore.stdout)![1]!;
    assert.ok(
      readFileSync(join(saved, 'store.json')).equals(whole.subarray(0, Math.floor(whole.length / 2))),
      'the saved copy holds the damaged file as it was',
    );
    assert.match(restore.stdout, /kept run\(s\) the backup lacked: r1/);
    assert.match(restore.stdout, /opens again with 2 run\(s\): old \(done\), r1 \(running\)/);
    assert.ok(
      readdirSync(root).some((n) => n.startsWith('store.json.damaged-')),
      'the damaged file is kept next to it',
    );

    const after = await cli(['status', 'r1']);
    assert.is(after.code, 0, after.stderr);
    assert.match(after.stdout, /units +3 at \$0\.40: .*launched/);
    assert.is((await cli(['store', 'check'])).code, 0);
  },
);

Corrupt('when a run shard is damaged then status reports it with its environment and exits 1', async (ctx) => {
  const cwd = ctx.dir.path;
  const storeDir = join(cwd, '.hitstate');
  const environment = { kind: 'custom' as const, endpoint: ctx.sim.url };
  const store = await openStore({ dir: storeDir, environment });
  store.requesters.put({ name: 'local', credentialSource: { kind: 'defaultChain' } });
  store.runs.create({ runId: 'p1', requesterName: 'local', config: { title: 'P', units: 2 } });
  store.units.create({ runId: 'p1', unitId: 'p1.u0', index: 0, payAmountUsd: '0.10' });
  await store.close();
  const shard = join(storeDir, environmentSlug(environment), 'runs', 'p1', 'units-000.json');
  writeFileSync(shard, '{"format":"hitstate-store","kind":"uni');
  const status = await runCli(['status'], { cwd, env: childEnv() });
  assert.is(status.code, 1, status.stdout);
  assert.match(status.stdout, /damaged/);
  assert.match(status.stderr, /HST_ERR_STORE_CORRUPT/);
  assert.match(status.stderr, shard);
  const check = await runCli(['store', 'check', '--json'], { cwd, env: childEnv() });
  assert.is(check.code, 1);
  const files = (JSON.parse(check.stdout) as { files: { file: string; ok: boolean }[] }[])[0]!.files;
  assert.equal(
    files.filter((f) => !f.ok).map((f) => f.file),
    ['runs/p1/units-000.json'],
  );
});

Corrupt.run();
