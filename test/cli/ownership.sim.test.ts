// Finding 2 of issue 19, reproduced: two stores on one simulated account. A live run of store A
// must survive `hitstate cleanup` from store B (its HITs listed with A's store id, never
// touched); when B forces it with --other-stores, A's run reports the disposal as drift and its
// units follow (expired) instead of showing "launched" for ever.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseRequesterAnnotation } from '../../src/mturk/index.js';
import { createSimulator, type Simulator } from '../../src/simulator/index.js';
import { openStore } from '../../src/store/index.js';
import { childEnv, runCli, startCli, tempDir, type CliChild } from './helpers.js';

interface Ctx {
  dir: ReturnType<typeof tempDir>;
  sim: Simulator;
  children: CliChild[];
}

const Ownership = suite<Ctx>('cli/cleanup ownership across stores');

Ownership.before.each(async (ctx) => {
  ctx.dir = tempDir();
  ctx.sim = await createSimulator({ seed: 29 });
  ctx.children = [];
});

Ownership.after.each(async (ctx) => {
  for (const c of ctx.children) if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGKILL');
  await Promise.all(ctx.children.map((c) => c.exited));
  await ctx.sim.close();
  ctx.dir.remove();
});

Ownership(
  "when cleanup runs from another store then a live run's HITs are listed with their store and untouched; forced, the run reports drift and its units expire",
  async (ctx) => {
    const { sim } = ctx;
    const cwd = ctx.dir.path;
    writeFileSync(
      join(cwd, 'task.json'),
      JSON.stringify({
        title: 'Label the sentiment of a sentence',
        description: 'Read one sentence and pick its sentiment.',
        reward: '0.10',
        assignmentDurationSec: 120,
        lifetimeSec: 3600,
        units: [{ text: 'a' }, { text: 'b' }, { text: 'c' }],
      }),
    );
    const run = startCli(
      ['run', 'task.json', '--env', sim.url, '--store', 'A', '--port', '0', '--poll-ms', '100', '--run-id', 'live1'],
      { cwd, env: childEnv() },
    );
    ctx.children.push(run);
    await run.waitFor(/running .* launched 3/);
    // Read through the store (its journal), as another process would: store.json is only a checkpoint.
    const look = await openStore({
      dir: join(cwd, 'A'),
      environment: { kind: 'custom', endpoint: sim.url },
      readOnly: true,
    });
    const storeA = look.storeId!;
    await look.close();
    assert.match(storeA, /^st-[0-9a-f]{12}$/, 'store A has its id');
    const hits = () => sim.inspect().accounts.AKIDLOCAL!.hits;
    assert.is(hits().length, 3);
    for (const h of hits())
      assert.equal(
        parseRequesterAnnotation(h.requesterAnnotation)?.storeId,
        storeA,
        "every HIT's annotation names store A",
      );

    const dry = await runCli(['cleanup', '--env', sim.url, '--store', 'B', '--dry-run', '--json'], {
      cwd,
      env: childEnv(),
    });
    assert.is(dry.code, 0, dry.stderr);
    const report = JSON.parse(dry.stdout) as {
      orphans: unknown[];
      otherStores: { hitId: string; storeId: string; runId: string; why: string }[];
    };
    assert.equal(report.orphans, []);
    assert.equal(
      report.otherStores.map((o) => [o.storeId, o.runId, o.why]),
      Array.from({ length: 3 }, () => [storeA, 'live1', `another hitstate store (${storeA})`]),
    );

    const cleanup = await runCli(['cleanup', '--env', sim.url, '--store', 'B'], { cwd, env: childEnv() });
    assert.is(cleanup.code, 0, cleanup.stderr);
    assert.match(cleanup.stdout, /0 HITs to clean up; left alone: 0 of runs in progress, 3 of other hitstate stores/);
    assert.match(cleanup.stdout, new RegExp(`not touched[\\s\\S]*${storeA} +live1 +Assignable`));
    assert.ok(
      hits().every((h) => h.status === 'Assignable' && !h.disposed),
      "nothing of the live run's HITs was touched",
    );

    const forced = await runCli(['cleanup', '--env', sim.url, '--store', 'B', '--other-stores'], {
      cwd,
      env: childEnv(),
    });
    assert.is(forced.code, 0, forced.stderr);
    assert.ok(
      hits().every((h) => h.disposed),
      'forced, the HITs are disposed',
    );
    // The live run notices: each HIT is reported as drift and its unit expires.
    for (const h of hits())
      await run.waitFor(new RegExp(`drift \\(adopted\\): HIT ${h.hitId} was (disposed|expired) on MTurk`), 30_000);
    await run.waitFor(/expired 3|3 expired/, 30_000);
    assert.not.match(run.stdout(), /launched 3\s*$/);
  },
);

Ownership.run();
