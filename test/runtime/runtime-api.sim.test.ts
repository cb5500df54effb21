// The runtime's own contract: a config that fails creates nothing, ids and task URLs are checked,
// every MTurk call of a run lands in the run's audit trail, close() leaves no timer behind and
// refuses work afterwards.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { VirtualClock } from '../../src/clock.js';
import { createRuntime } from '../../src/runtime/core/runtime.js';
import { createSimulator } from '../../src/simulator/index.js';
import { createWorld, type World } from '../support/sim-world.js';

const Api = suite<{ world: World }>('runtime api');

Api.before.each(async (ctx) => {
  ctx.world = await createWorld({ seed: 71 });
});

Api.after.each(async (ctx) => {
  await ctx.world.close();
});

Api('when a config is invalid then every problem is reported and nothing is created', async ({ world }) => {
  const { runtime } = world;
  const err = await runtime.launchRun({ title: '', description: 'd', reward: '1', units: 0 } as never).then(
    () => null,
    (e: { code?: string; details?: { problems?: unknown[] } }) => e,
  );
  assert.is(err?.code, 'HST_ERR_CONFIG_INVALID');
  assert.ok((err?.details?.problems?.length ?? 0) >= 2);
  assert.equal(runtime.listRuns(), []);
  const noUrl = await runtime.launchRun({ ...world.config({ units: 1 }), taskUrl: undefined }).then(
    () => null,
    (e: { code?: string; details?: { field?: string } }) => e,
  );
  assert.is(noUrl?.details?.field, 'taskUrl');
  assert.equal(runtime.listRuns(), []);
  assert.is(world.sim.stats().calls.CreateHITType ?? 0, 0, 'no MTurk call either');
});

Api('when a run id is taken then launching again with it is refused', async ({ world }) => {
  const { runtime } = world;
  await runtime.launchRun(world.config({ units: 1 }), { runId: 'pilot-1' });
  const err = await runtime.launchRun(world.config({ units: 1 }), { runId: 'pilot-1' }).then(
    () => null,
    (e: { code?: string }) => e,
  );
  assert.is(err?.code, 'HST_ERR_STORE_DUPLICATE');
  assert.equal(
    runtime.listRuns().map((r) => r.runId),
    ['pilot-1'],
  );
});

Api(
  "when a run calls MTurk then each call is a mturk.call event and an entry of the run's audit trail",
  async ({ world }) => {
    const { runtime } = world;
    const calls: Array<string | null> = [];
    runtime.events.on('mturk.call', (e) => calls.push(`${e.operation}:${e.runId}`));
    const { runId } = await runtime.launchRun(world.config({ units: 2 }));
    await world.drive(() => runtime.runInfo(runId).counts.launched === 2, { label: 'launch' });
    assert.equal(
      calls.filter((c) => c!.startsWith('CreateHITWithHITType')),
      [`CreateHITWithHITType:${runId}`, `CreateHITWithHITType:${runId}`],
    );
    const w = world.worker();
    await w.accept(world.hitTypeId(runId));
    await w.register();
    await w.submit({ sentiment: 'positive', comment: '' });
    await world.drive(() => runtime.unitStatus(w.unitId!) === 'completed', { label: 'completed' });
    await world.drive(runtime.review(runId, { agentId: w.agentId! }, { kind: 'approve' }));
    assert.equal(
      calls.filter((c) => c!.startsWith('ApproveAssignment')),
      [`ApproveAssignment:${runId}`],
      "an approval is the run's too",
    );
    await runtime.store.flush();
    const entries = [];
    for await (const entry of runtime.store.audit.entries({ runId })) entries.push(entry.operation);
    assert.equal(entries.filter((o) => o === 'CreateHITWithHITType').length, 2);
    assert.equal(entries.filter((o) => o === 'ApproveAssignment').length, 1);
  },
);

Api('when the runtime closes then no timer of it is left, `closed` is emitted and new work is refused', async () => {
  const simClock = new VirtualClock();
  const sim = await createSimulator({ clock: simClock, seed: 2 });
  const clock = new VirtualClock();
  const storeDir = mkdtempSync(join(tmpdir(), 'hitstate-'));
  try {
    const runtime = await createRuntime({
      environment: { kind: 'custom', endpoint: sim.url },
      requester: { name: 'solo', credentials: { kind: 'static', accessKeyId: 'AKIDSOLO', secretAccessKey: 'x' } },
      clock,
      storeDir,
    });
    const { runId } = await runtime.launchRun({
      title: 't',
      description: 'd',
      reward: '0.10',
      units: 2,
      taskUrl: 'http://127.0.0.1:9/task',
    });
    for (let i = 0; i < 50 && runtime.runInfo(runId).counts.launched < 2; i++) {
      await runtime.whenIdle();
      await clock.advance(1_000);
    }
    assert.is(runtime.runInfo(runId).counts.launched, 2);
    assert.ok(clock.pendingTimers > 0, 'the poller waits on the clock');
    const heard: string[] = [];
    runtime.events.on('closing', () => void heard.push('closing'));
    runtime.events.on('closed', () => void heard.push('closed'));
    await runtime.close();
    assert.equal(heard, ['closing', 'closed']);
    assert.is(clock.pendingTimers, 0, 'no timer is left on the runtime clock');
    const refused = await runtime
      .launchRun({ title: 't', description: 'd', reward: '0.10', units: 1, taskUrl: 'http://127.0.0.1:9/task' })
      .then(
        () => null,
        (e: { code?: string }) => e,
      );
    assert.is(refused?.code, 'HST_ERR_RUNTIME_CLOSED');
    await runtime.close();
  } finally {
    await sim.close();
    rmSync(storeDir, { recursive: true, force: true });
  }
});

Api('when a live runtime is given an http task URL then the launch is refused before anything is created', async () => {
  const storeDir = mkdtempSync(join(tmpdir(), 'hitstate-'));
  try {
    const runtime = await createRuntime({
      environment: { kind: 'live' },
      requester: { name: 'lab', credentials: { kind: 'static', accessKeyId: 'AKIDLIVE', secretAccessKey: 'x' } },
      storeDir,
      clock: new VirtualClock(),
    });
    const err = await runtime
      .launchRun({ title: 't', description: 'd', reward: '0.10', units: 1, taskUrl: 'http://127.0.0.1:9/task' })
      .then(
        () => null,
        (e: { code?: string; details?: { field?: string } }) => e,
      );
    assert.is(err?.code, 'HST_ERR_CONFIG_INVALID');
    assert.is(err?.details?.field, 'taskUrl');
    assert.equal(runtime.listRuns(), []);
    await runtime.close();
  } finally {
    rmSync(storeDir, { recursive: true, force: true });
  }
});

Api.run();
