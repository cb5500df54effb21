import { XMLParser } from 'fast-xml-parser';
import type { Browser, BrowserContext, FrameLocator, Page } from 'playwright-core';
import { suite } from 'uvu';
import { openStore } from '../../src/store/index.js';
import * as assert from 'uvu/assert';
import { labelTask } from '../../examples/label-task/index.js';
import { launchChromium } from '../support/browser.js';
import { createWorld, type World } from '../support/sim-world.js';
import { guard } from './harness.js';

interface Ctx {
  browser: Browser;
  world: World;
  context: BrowserContext;
  page: Page;
}

const Flow = suite<Ctx>('task flow on the runtime in chromium', {} as Ctx);

Flow.before(async (ctx) => {
  ctx.browser = await launchChromium();
});

Flow.after(async (ctx) => {
  await ctx.browser?.close();
});

Flow.before.each(async (ctx) => {
  ctx.world = await createWorld({ seed: 7 });
  ctx.context = await guard(ctx.browser.newContext(), 'a browser context');
  ctx.page = await guard(ctx.context.newPage(), 'a page');
});

Flow.after.each(async (ctx) => {
  await ctx.context?.close();
  await ctx.world?.close();
});

/** Launches a label run of `units` units and drives virtual time until its HITs are up. */
async function launch(world: World, units: number): Promise<{ runId: string; hitTypeId: string }> {
  const { runId } = await world.runtime.launchRun(world.config({ units }));
  await world.drive(() => world.runtime.runInfo(runId).counts.launched === units, { label: 'launch' });
  return { runId, hitTypeId: world.hitTypeId(runId).hitTypeId };
}

function previewUrl(world: World, hitTypeId: string, workerId: string): string {
  return `${world.sim.url}/mturk/preview?${new URLSearchParams({ groupId: hitTypeId, workerId })}`;
}

/** Accepts on the preview page the browser is on, then waits for the task form in MTurk's frame. */
async function accept(page: Page): Promise<FrameLocator> {
  await page.click('form[action="/mturk/accept"] button');
  await page.waitForURL(/\/mturk\/task\?/);
  const frame = page.frameLocator('iframe#task');
  await frame.locator('#submit-button:not([disabled])').waitFor();
  return frame;
}

function answerFields(xml: string): Record<string, string> {
  const parsed = new XMLParser({
    parseTagValue: false,
    // MTurk's answers are ASCII: every other character is a numeric character reference.
    htmlEntities: true,
    removeNSPrefix: true,
    isArray: (name) => name === 'Answer',
  }).parse(xml);
  const answers = (parsed.QuestionFormAnswers?.Answer ?? []) as { QuestionIdentifier: string; FreeText: string }[];
  return Object.fromEntries(answers.map((a) => [a.QuestionIdentifier, a.FreeText]));
}

/**
 * The agent's submission as the store's durable files hold it (not the store's memory): a
 * read-only open reads the journal and checkpoints, as another process would.
 */
async function submissionOnDisk(storeDir: string, endpoint: string, agentId: string): Promise<unknown> {
  const look = await openStore({ dir: storeDir, environment: { kind: 'custom', endpoint }, readOnly: true });
  try {
    return look.agents.submission(agentId);
  } finally {
    await look.close();
  }
}

Flow(
  "when a worker accepts, labels and submits in the MTurk frame then the store, MTurk's answer and the unit agree",
  async ({ world, page }) => {
    const { runId, hitTypeId } = await launch(world, 2);
    const { runtime } = world;
    const workerId = world.sim.workers.create();
    const onDiskWhenPosted: unknown[] = [];
    await page.route('**/mturk/externalSubmit', async (route) => {
      const [agent] = runtime.store.agents.ofRun(runId);
      onDiskWhenPosted.push(
        agent === undefined ? undefined : await submissionOnDisk(world.storeDir, world.sim.url, agent.id),
      );
      await route.continue();
    });
    await page.goto(previewUrl(world, hitTypeId, workerId));
    const frame = await accept(page);

    const agents = runtime.store.agents.ofRun(runId);
    assert.is(agents.length, 1, 'accepting registered one agent');
    const agent = agents[0]!;
    assert.is(agent.workerId, workerId);
    assert.is(runtime.agentStatus(agent.id), 'in task');
    assert.is(runtime.unitStatus(agent.unitId), 'assigned');
    const unit = runtime.store.units.require(agent.unitId);
    assert.is(
      await frame.locator('#sentence').textContent(),
      labelTask.units(2)[unit.index]!.text,
      "the page shows the unit's own sentence",
    );

    const expected = { sentiment: 'negative', comment: 'Late trains <b>again</b> & "no" explanation, ünïcode ✓' };
    await frame.locator('input[name="sentiment"][value="negative"]').check();
    await frame.locator('#comment').fill(expected.comment);
    await frame.locator('#submit-button').click();
    await frame.getByText('HIT submitted').waitFor();

    assert.equal(
      onDiskWhenPosted,
      [expected],
      "the data was in the store's files before the browser posted it to MTurk",
    );
    const exported = await runtime.store.exportRun(runId);
    const stored = exported.agents.find((a) => a.id === agent.id)!;
    assert.equal(stored.submission, expected, 'the store has the submission');
    const hit = world.account().hits.find((h) => h.hitId === agent.hitId)!;
    assert.equal(
      hit.assignments.map((a) => [a.assignmentId, a.workerId, a.status]),
      [[agent.assignmentId, workerId, 'Submitted']],
    );
    const fields = answerFields(hit.assignments[0]!.answer!);
    assert.equal(Object.keys(fields), ['hitstate_submission'], 'one answer field');
    assert.equal(JSON.parse(fields.hitstate_submission!), stored.submission, 'MTurk holds exactly the stored JSON');

    await world.drive(() => runtime.unitStatus(agent.unitId) === 'completed', { label: 'unit completed' });
    assert.is(runtime.agentStatus(agent.id), 'completed');
    assert.equal(runtime.runInfo(runId).counts.completed, 1);
    assert.equal(runtime.runInfo(runId).counts.launched, 1, 'the other unit still waits for a worker');
    assert.equal(world.errors, []);
    assert.equal(world.serverErrors, []);
  },
);

Flow(
  'when a worker previews then returns an accepted HIT then the preview registers nothing and the unit goes back to another worker',
  async ({ world, context, page }) => {
    const { runId, hitTypeId } = await launch(world, 1);
    const { runtime } = world;
    const [unit] = runtime.store.units.ofRun(runId);
    const workerId = world.sim.workers.create();
    await page.goto(previewUrl(world, hitTypeId, workerId));
    const preview = page.frameLocator('iframe#task');
    await preview.locator('#preview-note:not([hidden])').waitFor();
    assert.ok(await preview.locator('#submit-button').isDisabled(), 'the form stays disabled in a preview');
    assert.ok(
      world.served.some((r) => r.method === 'GET' && r.url.includes('/api/preview?')),
      'the wrapper asked for the preview',
    );
    assert.not.ok(
      world.served.some((r) => r.method === 'POST' && r.url.endsWith('/api/agents')),
      'a preview registers nothing',
    );
    assert.is(runtime.store.agents.ofRun(runId).length, 0);

    await accept(page);
    const [agent] = runtime.store.agents.ofRun(runId);
    assert.is(agent?.unitId, unit!.id);
    assert.is(runtime.agentStatus(agent!.id), 'in task');

    await page.click('form[action="/mturk/return"] button');
    await page.waitForURL(/\/mturk\/preview\?/);
    await guard(
      world.whenServed(
        (r) => r.method === 'POST' && r.url.endsWith(`/api/agents/${encodeURIComponent(agent!.id)}/disconnect`),
      ),
      'the disconnect beacon',
    );
    await page.frameLocator('iframe#task').locator('#preview-note:not([hidden])').waitFor();
    const hit = world.account().hits.find((h) => h.hitId === agent!.hitId)!;
    assert.equal(
      hit.assignments.map((a) => [a.workerId, a.status, a.answer]),
      [[workerId, 'Returned', undefined]],
    );
    assert.is(hit.status, 'Assignable');

    await world.drive(
      () => runtime.unitStatus(unit!.id) === 'launched' && runtime.agentStatus(agent!.id) === 'returned',
      { label: 'return seen' },
    );
    assert.is(runtime.store.agents.submission(agent!.id), undefined, 'nothing was submitted');

    const next = await guard(context.newPage(), 'a second page');
    const nextWorkerId = world.sim.workers.create();
    await next.goto(previewUrl(world, hitTypeId, nextWorkerId));
    const frame = await accept(next);
    const taker = runtime.store.agents.ofRun(runId).find((a) => a.workerId === nextWorkerId);
    assert.is(taker?.unitId, unit!.id, 'another worker takes the returned unit');
    assert.is(runtime.unitStatus(unit!.id), 'assigned');
    assert.is(await frame.locator('#sentence').textContent(), labelTask.units(1)[0]!.text);
    assert.equal(world.errors, []);
    assert.equal(world.serverErrors, []);
  },
);

Flow.run();
