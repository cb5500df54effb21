// `hitstate cleanup` in a child process against a simulator in this process: the account holds
// hitstate HITs of a finished run, of a run in progress and of a run the store never heard of
// (an annotation without a store id: maybe another store's), plus foreign HITs; cleanup must
// clean exactly this store's orphans, after saving their data, and list the others.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateHITWithHITTypeCommand, MTurkClient } from '@aws-sdk/client-mturk';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { buildExternalQuestion, type MTurkGateway } from '../../src/mturk/index.js';
import { openStore } from '../../src/store/index.js';
import { createSimulator, type Simulator } from '../../src/simulator/index.js';
import { LOCAL_CREDENTIALS } from '../../src/cli/target.js';
import { childEnv, labelHitType, localGateway, runCli, tempDir } from './helpers.js';

interface Ctx {
  dir: ReturnType<typeof tempDir>;
  sim: Simulator;
  gateway: MTurkGateway;
  client: MTurkClient;
  hits: Record<'finished0' | 'finished1' | 'live' | 'ghost' | 'foreign' | 'otherTool', string>;
}

const Cleanup = suite<Ctx>('cli/cleanup');

Cleanup.before.each(async (ctx) => {
  ctx.dir = tempDir();
  ctx.sim = await createSimulator({ seed: 21 });
  const store = await openStore({
    dir: join(ctx.dir.path, '.hitstate'),
    environment: { kind: 'custom', endpoint: ctx.sim.url },
  });
  store.requesters.put({ name: 'local', credentialSource: { kind: 'defaultChain' } });
  store.runs.create({ runId: 'finished', requesterName: 'local', config: { title: 'Finished run' }, status: 'done' });
  store.runs.create({ runId: 'live', requesterName: 'local', config: { title: 'Run in progress' }, status: 'running' });
  await store.close();

  ctx.gateway = localGateway(ctx.sim.url);
  const hitTypeId = await labelHitType(ctx.gateway, '0.20');
  const question = { externalUrl: 'http://127.0.0.1:9/hitstate/task' };
  const create = async (runId: string, unitId: string): Promise<string> => {
    const created = await ctx.gateway.createHITWithHITType({
      hitTypeId,
      runId,
      unitId,
      question,
      lifetimeSec: 3600,
    });
    if (created.status !== 'ok') throw new Error(created.message);
    return created.value.hit.hitId;
  };
  ctx.client = new MTurkClient({
    endpoint: ctx.sim.url,
    region: 'us-east-1',
    credentials: { accessKeyId: LOCAL_CREDENTIALS.accessKeyId, secretAccessKey: LOCAL_CREDENTIALS.secretAccessKey },
  });
  const foreign = async (annotation?: string): Promise<string> => {
    const out = await ctx.client.send(
      new CreateHITWithHITTypeCommand({
        HITTypeId: hitTypeId,
        LifetimeInSeconds: 3600,
        Question: buildExternalQuestion(question.externalUrl, 0, { allowHttp: true }),
        ...(annotation === undefined ? {} : { RequesterAnnotation: annotation }),
      }),
    );
    return out.HIT!.HITId!;
  };
  ctx.hits = {
    finished0: await create('finished', 'finished.u0'),
    finished1: await create('finished', 'finished.u1'),
    live: await create('live', 'live.u0'),
    ghost: await create('ghost-run', 'ghost-run.u0'),
    foreign: await foreign(),
    otherTool: await foreign('batch-7 from another tool'),
  };
  // A worker submitted the finished run's second HIT, and nobody reviewed it.
  const { assignmentId } = await ctx.sim.workers.accept('A1CLEANUPWORKER', { hitId: ctx.hits.finished1 });
  await ctx.sim.workers.submit(assignmentId, {
    hitstate_submission: JSON.stringify({ sentiment: 'negative', comment: 'kept safe' }),
  });
});

Cleanup.after.each(async (ctx) => {
  ctx.gateway.close();
  ctx.client.destroy();
  await ctx.sim.close();
  ctx.dir.remove();
});

const statusOf = (ctx: Ctx): Record<string, string> =>
  Object.fromEntries(
    ctx.sim
      .inspect()
      .accounts[LOCAL_CREDENTIALS.accessKeyId]!.hits.map((h) => [h.hitId, h.disposed ? 'Disposed' : h.status]),
  );

Cleanup(
  'when cleanup runs with --dry-run then it lists exactly the HITs of finished and unknown runs, and changes nothing',
  async (ctx) => {
    const before = statusOf(ctx);
    const json = await runCli(['cleanup', '--env', ctx.sim.url, '--dry-run', '--json'], {
      cwd: ctx.dir.path,
      env: childEnv(),
    });
    assert.is(json.code, 0, json.stderr);
    const report = JSON.parse(json.stdout) as {
      orphans: { hitId: string; runId: string; why: string }[];
      otherStores: { hitId: string; runId: string; storeId: string | null; why: string }[];
      inProgress: number;
      foreign: number;
    };
    assert.equal(report.orphans.map((o) => o.hitId).sort(), [ctx.hits.finished0, ctx.hits.finished1].sort());
    assert.equal(Object.fromEntries(report.orphans.map((o) => [o.runId, o.why])), { finished: 'run done' });
    // An annotation without a store id naming a run this store does not know may be another store's live run.
    assert.equal(
      report.otherStores.map((o) => [o.hitId, o.runId, o.storeId, o.why]),
      [[ctx.hits.ghost, 'ghost-run', null, 'no store id (older hitstate) and a run unknown to this store']],
    );
    assert.is(report.inProgress, 1);
    assert.is(report.foreign, 2);
    const wide = await runCli(['cleanup', '--env', ctx.sim.url, '--dry-run', '--json', '--other-stores', '--foreign'], {
      cwd: ctx.dir.path,
      env: childEnv(),
    });
    assert.equal(
      (JSON.parse(wide.stdout) as { orphans: { hitId: string }[] }).orphans.map((o) => o.hitId).sort(),
      [ctx.hits.finished0, ctx.hits.finished1, ctx.hits.ghost, ctx.hits.foreign, ctx.hits.otherTool].sort(),
      '--other-stores and --foreign widen the cleanup',
    );

    const text = await runCli(['cleanup', '--env', ctx.sim.url, '--dry-run'], { cwd: ctx.dir.path, env: childEnv() });
    assert.is(text.code, 0, text.stderr);
    assert.match(
      text.stdout,
      /dry run: nothing changed.*2 HITs to clean up; left alone: 1 of runs in progress, 1 of other hitstate stores \(--other-stores\), 2 without hitstate's annotation \(--foreign\)/,
    );
    for (const id of [ctx.hits.finished0, ctx.hits.finished1]) assert.match(text.stdout, new RegExp(id));
    assert.match(
      text.stdout,
      new RegExp(`not touched[\\s\\S]*${ctx.hits.ghost} +\\(none: older hitstate\\) +ghost-run`),
    );
    for (const id of [ctx.hits.live, ctx.hits.foreign, ctx.hits.otherTool])
      assert.not.match(text.stdout, new RegExp(id));
    assert.equal(statusOf(ctx), before, 'a dry run changes nothing');
  },
);

Cleanup(
  'when cleanup runs then it saves the submitted data, disposes the orphans, keeps work awaiting review, and leaves the rest alone',
  async (ctx) => {
    const result = await runCli(['cleanup', '--env', ctx.sim.url], { cwd: ctx.dir.path, env: childEnv() });
    assert.is(result.code, 0, `${result.stdout}\n${result.stderr}`);
    const after = statusOf(ctx);
    assert.is(after[ctx.hits.finished0], 'Disposed');
    assert.is(after[ctx.hits.ghost], 'Assignable', "a HIT that may be another store's is left alone");
    assert.is(after[ctx.hits.finished1], 'Reviewable', 'submitted work awaiting review is expired, not disposed');
    assert.is(after[ctx.hits.live], 'Assignable');
    assert.is(after[ctx.hits.foreign], 'Assignable');
    assert.is(after[ctx.hits.otherTool], 'Assignable');
    assert.match(result.stdout, /expired, kept:/);
    const file = /saved to (\S+\.json)/.exec(result.stdout)![1]!;
    const saved = JSON.parse(readFileSync(file, 'utf8')) as {
      format: string;
      hits: { hitId: string; assignments: { workerId: string; submission: unknown }[] }[];
      outcomes: { hitId: string; outcome: string }[];
    };
    assert.is(saved.format, 'hitstate-cleanup');
    const withWork = saved.hits.find((h) => h.hitId === ctx.hits.finished1)!;
    assert.equal(
      withWork.assignments.map((a) => [a.workerId, a.submission]),
      [['A1CLEANUPWORKER', { source: 'json', data: { sentiment: 'negative', comment: 'kept safe' } }]],
    );
    assert.is(saved.outcomes.length, 2);

    const again = await runCli(['cleanup', '--env', ctx.sim.url, '--dry-run', '--json'], {
      cwd: ctx.dir.path,
      env: childEnv(),
    });
    assert.equal(
      (JSON.parse(again.stdout) as { orphans: { hitId: string }[] }).orphans.map((o) => o.hitId),
      [ctx.hits.finished1],
      'only the HIT awaiting review is left',
    );
  },
);

Cleanup.run();
