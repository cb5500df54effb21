// End to end in real headless Chromium: a worker previews and accepts a HIT on `hitstate sim`'s
// worker pages, the task server's page loads in MTurk's iframe, the label form is filled and
// submitted; the data is stored first and MTurk gets the same JSON in one answer field. Then a
// preview that registers nothing, and a return.
import {
  CreateHITTypeCommand,
  CreateHITWithHITTypeCommand,
  GetHITCommand,
  ListAssignmentsForHITCommand,
  MTurkClient,
} from '@aws-sdk/client-mturk';
import { XMLParser } from 'fast-xml-parser';
import type { Browser, BrowserContext, FrameLocator, Page } from 'playwright-core';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { labelTask } from '../../examples/label-task/index.js';
import { createTaskServer } from '../../src/server/task-server.js';
import { createSimulator, type Simulator } from '../../src/simulator/index.js';
import { launchChromium } from '../support/browser.js';
import { RUN, SECRET, guard, start, type Running } from './harness.js';
import { MemoryBackend } from './memory-backend.js';

interface Ctx {
  browser: Browser;
  sim: Simulator;
  mturk: MTurkClient;
  backend: MemoryBackend;
  running: Running;
  context: BrowserContext;
  page: Page;
  hitTypeId: string;
  hitId: string;
  workerId: string;
}

const Flow = suite<Ctx>('task server on the simulator', {} as Ctx);

Flow.before(async (ctx) => {
  ctx.browser = await launchChromium();
});

Flow.after(async (ctx) => {
  await ctx.browser?.close();
});

Flow.before.each(async (ctx) => {
  ctx.sim = await createSimulator({ clock: 'virtual', seed: 7 });
  ctx.mturk = new MTurkClient({
    endpoint: ctx.sim.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDHITSTATETEST', secretAccessKey: 'hitstate-test-secret' },
  });
  ctx.backend = new MemoryBackend([
    {
      runId: RUN,
      hitIds: [],
      units: labelTask.units(2).map((task, i) => ({ unitId: `unit-${i + 1}`, task })),
      preview: { title: 'Label a sentence', description: 'Say how a sentence feels.', data: { text: 'An example sentence.' } },
    },
  ]);
  ctx.running = await start('node:http', createTaskServer(ctx.backend, { secret: SECRET, ...labelTask.serverOptions }));
  const { HITTypeId } = await ctx.mturk.send(
    new CreateHITTypeCommand({
      Title: 'Label the sentiment of a sentence',
      Description: 'Read one sentence and say whether it is positive, neutral or negative.',
      Reward: '0.10',
      AssignmentDurationInSeconds: 600,
      AutoApprovalDelayInSeconds: 86_400,
    }),
  );
  const question =
    '<ExternalQuestion xmlns="http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/2006-07-14/ExternalQuestion.xsd">' +
    `<ExternalURL>${ctx.running.origin}/hitstate/task</ExternalURL><FrameHeight>600</FrameHeight></ExternalQuestion>`;
  const { HIT } = await ctx.mturk.send(
    new CreateHITWithHITTypeCommand({ HITTypeId, MaxAssignments: 1, LifetimeInSeconds: 3600, Question: question }),
  );
  ctx.hitTypeId = HITTypeId!;
  ctx.hitId = HIT!.HITId!;
  ctx.backend.addHit(RUN, ctx.hitId);
  ctx.workerId = ctx.sim.workers.create();
  ctx.context = await guard(ctx.browser.newContext(), 'a browser context');
  ctx.page = await guard(ctx.context.newPage(), 'a page');
});

Flow.after.each(async (ctx) => {
  await ctx.context?.close();
  ctx.mturk?.destroy();
  await ctx.running?.close();
  await ctx.sim?.close();
});

function previewUrl(ctx: Ctx): string {
  return `${ctx.sim.url}/mturk/preview?groupId=${encodeURIComponent(ctx.hitTypeId)}&workerId=${encodeURIComponent(ctx.workerId)}`;
}

function answerFields(xml: string): Record<string, string> {
  const parsed = new XMLParser({ parseTagValue: false, removeNSPrefix: true, isArray: (name) => name === 'Answer' }).parse(xml);
  const answers = (parsed.QuestionFormAnswers?.Answer ?? []) as { QuestionIdentifier: string; FreeText: string }[];
  return Object.fromEntries(answers.map((a) => [a.QuestionIdentifier, a.FreeText]));
}

async function acceptHit(ctx: Ctx): Promise<FrameLocator> {
  await ctx.page.goto(previewUrl(ctx));
  await ctx.page.click('form[action="/mturk/accept"] button');
  await ctx.page.waitForURL(/\/mturk\/task\?/);
  const frame = ctx.page.frameLocator('iframe#task');
  await frame.locator('#submit-button:not([disabled])').waitFor();
  return frame;
}

Flow('when a worker accepts, labels and submits in the MTurk frame then store, MTurk answer and unit agree', async (ctx) => {
  const frame = await acceptHit(ctx);
  assert.is(await frame.locator('#sentence').textContent(), labelTask.units(1)[0]!.text);
  const agent = ctx.backend.agents.get('agent-1')!;
  assert.equal({ hitId: agent.hitId, workerId: agent.workerId, unitId: agent.unitId }, { hitId: ctx.hitId, workerId: ctx.workerId, unitId: 'unit-1' });

  await frame.locator('input[name="sentiment"][value="negative"]').check();
  await frame.locator('#comment').fill('Late trains <b>again</b> & "no" explanation, ünïcode ✓');
  await frame.locator('#submit-button').click();
  await frame.getByText('HIT submitted').waitFor();

  const expected = { sentiment: 'negative', comment: 'Late trains <b>again</b> & "no" explanation, ünïcode ✓' };
  assert.equal(ctx.backend.disk.get('agent-1'), expected, 'the task server stored the submission');
  assert.ok(ctx.backend.log.indexOf('written agent-1') >= 0);
  const { Assignments } = await ctx.mturk.send(new ListAssignmentsForHITCommand({ HITId: ctx.hitId }));
  assert.is(Assignments?.length, 1);
  const assignment = Assignments![0]!;
  assert.is(assignment.AssignmentStatus, 'Submitted');
  assert.is(assignment.AssignmentId, agent.assignmentId);
  assert.is(assignment.WorkerId, ctx.workerId);
  const fields = answerFields(assignment.Answer!);
  assert.equal(Object.keys(fields), ['hitstate_submission'], 'one answer field');
  assert.equal(JSON.parse(fields.hitstate_submission!), expected, 'MTurk holds exactly the stored JSON');
  assert.is(ctx.backend.units.get('unit-1')?.status, 'completed');
  assert.is(ctx.backend.agents.get('agent-1')?.status, 'completed');
});

Flow('when a worker previews then returns an accepted HIT then nothing is registered in preview and nothing is submitted', async (ctx) => {
  await ctx.page.goto(previewUrl(ctx));
  const preview = ctx.page.frameLocator('iframe#task');
  await preview.locator('#preview-note:not([hidden])').waitFor();
  assert.is(await preview.locator('#sentence').textContent(), 'An example sentence.');
  assert.ok(await preview.locator('#submit-button').isDisabled());
  assert.not.ok(ctx.backend.calls.some((c) => c.method === 'registerAgent'), 'a preview registers nothing');
  assert.is(ctx.backend.agents.size, 0);

  await ctx.page.click('form[action="/mturk/accept"] button');
  await ctx.page.waitForURL(/\/mturk\/task\?/);
  await ctx.page.frameLocator('iframe#task').locator('#submit-button:not([disabled])').waitFor();
  const agent = ctx.backend.agents.get('agent-1')!;
  assert.is(agent.status, 'in task');

  await ctx.page.click('form[action="/mturk/return"] button');
  await ctx.page.waitForURL(/\/mturk\/preview\?/);
  await guard(ctx.backend.waitFor(() => agent.status === 'disconnect'), 'the disconnect beacon');
  const account = Object.values(ctx.sim.inspect().accounts)[0]!;
  const assignments = account.hits.find((h) => h.hitId === ctx.hitId)!.assignments;
  assert.equal(assignments.map((a) => a.status), ['Returned']);
  assert.is(assignments[0]!.answer, undefined);
  const { HIT } = await ctx.mturk.send(new GetHITCommand({ HITId: ctx.hitId }));
  assert.is(HIT?.HITStatus, 'Assignable');
  assert.is(ctx.backend.disk.size, 0);
  assert.is(ctx.backend.calls.filter((c) => c.method === 'submit').length, 0);

  // Back on the preview page after the return: the frame is a preview again and registers nothing new.
  await ctx.page.frameLocator('iframe#task').locator('#preview-note:not([hidden])').waitFor();
  assert.is(ctx.backend.agents.size, 1);
});

Flow.run();
