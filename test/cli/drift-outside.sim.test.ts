// A HIT of a running run expired (or disposed) on MTurk by someone else is reported as drift,
// naming the HIT and what happened, and its unit follows: expired (issue 19, part 2). Runtime
// and simulator on one virtual clock; the outside change is made through a second gateway on the
// same account, as another store's cleanup or a person on the requester site would.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { VirtualClock } from '../../src/clock.js';
import { MTurkGateway } from '../../src/mturk/index.js';
import { createRuntime, type DriftFoundEvent, type Runtime } from '../../src/runtime/index.js';
import { createSimulator, type Simulator } from '../../src/simulator/index.js';
import { VirtualTimeDriver } from '../../src/testing/index.js';
import { tempDir } from './helpers.js';

interface Ctx {
  dir: ReturnType<typeof tempDir>;
  sim: Simulator;
  runtime: Runtime;
  driver: VirtualTimeDriver;
  outsider: MTurkGateway;
  drift: DriftFoundEvent[];
}

const Outside = suite<Ctx>('runtime/drift of HITs changed outside the run');
const CREDENTIALS = { kind: 'static', accessKeyId: 'AKIDOUTSIDE', secretAccessKey: 'x' } as const;

Outside.before.each(async (ctx) => {
  const clock = new VirtualClock(Date.UTC(2026, 2, 1));
  ctx.dir = tempDir();
  ctx.sim = await createSimulator({ clock, seed: 5 });
  ctx.runtime = await createRuntime({
    environment: { kind: 'custom', endpoint: ctx.sim.url },
    requester: { name: 'test', credentials: CREDENTIALS },
    clock,
    storeDir: ctx.dir.path,
  });
  ctx.driver = new VirtualTimeDriver({ clock, whenIdle: () => ctx.runtime.whenIdle() });
  ctx.outsider = new MTurkGateway({
    name: 'outsider',
    environment: 'custom',
    endpoint: ctx.sim.url,
    credentials: CREDENTIALS,
  });
  ctx.drift = [];
  ctx.runtime.events.on('drift.found', (e) => void ctx.drift.push(e));
});

Outside.after.each(async (ctx) => {
  ctx.outsider.close();
  await ctx.runtime.close();
  await ctx.sim.close();
  ctx.dir.remove();
});

async function launch(ctx: Ctx): Promise<{ runId: string; hitIds: string[] }> {
  const { runId } = await ctx.runtime.launchRun({
    title: 'Label',
    description: 'Label a sentence',
    reward: '0.10',
    assignmentDurationSec: 300,
    lifetimeSec: 86_400,
    units: [{ text: 'a' }, { text: 'b' }],
    taskUrl: 'http://127.0.0.1:9/hitstate/task',
  });
  await ctx.driver.drive(() => ctx.runtime.runInfo(runId).status === 'running', { label: 'launch' });
  await ctx.driver.drive(() => ctx.runtime.store.hits.ofRun(runId).length === 2, { label: 'HITs created' });
  return { runId, hitIds: ctx.runtime.store.hits.ofRun(runId).map((h) => h.id) };
}

const units = (ctx: Ctx, runId: string) => ctx.runtime.store.units.ofRun(runId).map((u) => u.status);

Outside('when a HIT is expired early by someone else then drift names it and a unit expires', async (ctx) => {
  const { runId, hitIds } = await launch(ctx);
  const outcome = await ctx.outsider.expireHIT(hitIds[0]!);
  assert.is(outcome.status, 'ok');
  await ctx.driver.drive(() => units(ctx, runId).includes('expired'), { label: 'a unit expired', maxMs: 3_600_000 });
  const found = ctx.drift.filter((d) => d.kind === 'hitChangedOutside');
  assert.is(found.length, 1, JSON.stringify(ctx.drift));
  assert.is(found[0]!.hitId, hitIds[0]);
  assert.match(found[0]!.message, /was expired on MTurk at .* before its lifetime ended .* not by this run/);
  assert.equal(units(ctx, runId).sort(), ['expired', 'launched']);
});

Outside('when a HIT is expired and disposed by someone else then drift names it and a unit expires', async (ctx) => {
  const { runId, hitIds } = await launch(ctx);
  const outcome = await ctx.outsider.expireAndDisposeHIT(hitIds[1]!);
  assert.is(outcome.status, 'ok');
  await ctx.driver.drive(() => units(ctx, runId).includes('expired'), { label: 'a unit expired', maxMs: 3_600_000 });
  const found = ctx.drift.filter((d) => d.kind === 'hitChangedOutside' && d.hitId === hitIds[1]);
  assert.ok(found.length >= 1, JSON.stringify(ctx.drift));
  assert.match(found.at(-1)!.message, /was (disposed|expired) on MTurk/);
  assert.equal(units(ctx, runId).sort(), ['expired', 'launched']);
  assert.is(ctx.runtime.runInfo(runId).status, 'running', 'the run goes on with its other unit');
});

Outside.run();
