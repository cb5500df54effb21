// Writes the dashboard's screenshots under docs/dashboard/ (runs, a run mid-way with its live
// chart, a unit, the review page with the task's review template, a bulk approval at its
// confirmation, the run's workers, one worker) from headless Chromium over a run on the simulator with
// simulated workers. Run by hand when the pages change: `npx tsx test/dashboard/screenshots.ts`.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createDashboard } from '../../src/dashboard/dashboard.js';
import { runtimeSource } from '../../src/dashboard/source.js';
import { MTurkWorker } from '../../src/runtime/provider/worker.js';
import { launchChromium } from '../support/browser.js';
import { withBudget } from './budget-source.js';
import { createWorld, type SimWorker } from '../support/sim-world.js';

const out = fileURLToPath(new URL('../../docs/dashboard/', import.meta.url));
const world = await createWorld({ seed: 3 });
const { runtime } = world;
// An earlier, finished run, so the runs page shows more than one state.
const earlier = await runtime.launchRun(world.config({ units: 3, title: 'Pilot: three sentences' }));
await world.drive(() => runtime.runInfo(earlier.runId).counts.launched === 3, { label: 'pilot launch' });
const pilot = world.worker();
await pilot.accept(world.hitTypeId(earlier.runId));
await pilot.register();
await pilot.submit({ sentiment: 'positive', comment: 'pilot' });
await world.drive(() => runtime.unitStatus(pilot.unitId!) === 'completed', { label: 'pilot submitted' });
await world.drive(runtime.review(earlier.runId, { agentId: pilot.agentId! }, { kind: 'approve' }), {
  label: 'pilot approve',
});
await world.drive(runtime.expireRun(earlier.runId), { label: 'pilot expire' });
const { runId } = await runtime.launchRun(
  world.config({
    units: 24,
    title: 'Label the sentiment of a sentence',
    description: 'Pick positive, neutral or negative',
  }),
);
await world.drive(() => runtime.runInfo(runId).counts.launched === 24, { label: 'launch' });
const comments = ['Clearly upbeat', '', 'Sarcastic, I think', 'Mixed feelings', 'Angry about the delay', 'fine'];
const sentiments = ['positive', 'neutral', 'negative'] as const;
const done: SimWorker[] = [];
for (let i = 0; i < 14; i++) {
  const w = world.worker();
  await w.accept(world.hitTypeId(runId));
  await w.register();
  if (i % 7 === 6) {
    await w.returnHIT();
    // The next worker may get the same HIT: the runtime must have seen the return first.
    await world.drive(() => runtime.unitStatus(w.unitId!) === 'launched', { label: 'returned' });
    continue;
  }
  if (i >= 11) continue; // still working
  await w.submit({ sentiment: sentiments[i % 3], comment: comments[i % comments.length] });
  done.push(w);
}
await world.drive(() => done.every((w) => runtime.unitStatus(w.unitId!) === 'completed'), { label: 'submitted' });
for (const w of done.slice(0, 5))
  await world.drive(runtime.review(runId, { agentId: w.agentId! }, { kind: 'approve' }), { label: 'approve' });
await world.drive(
  runtime.review(
    runId,
    { agentId: done[5]!.agentId! },
    { kind: 'reject', feedback: 'The label contradicts the sentence.' },
  ),
  {
    label: 'reject',
  },
);
await world.drive(
  runtime.review(
    runId,
    { agentId: done[0]!.agentId! },
    { kind: 'bonus', amountUsd: '0.25', reason: 'Careful comments' },
  ),
  { label: 'bonus' },
);
await world.advance(95_000);

// One worker blocked and one qualified, for the workers pages.
await world.drive(
  new MTurkWorker(runtime, done[5]!.workerId).block('Labels contradict the sentences', {
    requester: runtime.options.requester.name,
  }),
  {
    label: 'block',
  },
);
await world.drive(new MTurkWorker(runtime, done[0]!.workerId).grantQualification('trusted-labeller', { value: 2 }), {
  label: 'qualify',
});

// The run's budget ($20) and a review template, as a task would give them.
const TEMPLATE = `<style>body{font:15px system-ui,sans-serif;margin:10px} .s{display:inline-block;padding:4px 12px;border-radius:12px;background:#e4d9ff;font-weight:600} blockquote{margin:8px 0;padding:6px 12px;border-left:4px solid #c8ccd6;color:#333}</style>
<p>Sentiment chosen: <span class="s">{{submission.sentiment}}</span></p>
<blockquote>{{submission.comment}}</blockquote>
<p style="color:#667085">unit {{unit.index}} · worker {{worker}}</p>`;
const dashboard = createDashboard(
  withBudget(runtimeSource(runtime), runId, '20.00'),
  { reviewTemplates: { [runId]: TEMPLATE } },
  true,
);
const server = createServer((req, res) => void dashboard.handle(req, res));
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/dashboard`;
const browser = await launchChromium();
const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 });
const shot = async (path: string, name: string): Promise<void> => {
  await page.goto(base + path);
  await page.locator('#live-status', { hasText: 'live' }).waitFor();
  await page.screenshot({ path: `${out}${name}.png`, fullPage: false });
  console.log(`wrote docs/dashboard/${name}.png`);
};
await shot('/', 'runs');
// A few live events in the feed before the run page's picture.
await page.goto(`${base}/runs/${runId}`);
const late = world.worker();
await late.accept(world.hitTypeId(runId));
await late.register();
await late.submit({ sentiment: 'positive', comment: 'Short and sweet' });
await world.drive(() => runtime.unitStatus(late.unitId!) === 'completed', { label: 'late submission' });
await world.advance(1000);
await page.locator('#feed li').first().waitFor();
await page.screenshot({ path: `${out}run.png`, fullPage: true });
console.log('wrote docs/dashboard/run.png');
await shot(`/units/${done[0]!.unitId}`, 'unit');
await page.goto(`${base}/runs/${runId}/review`);
await page.keyboard.press('a');
await page.locator('#confirm:not([hidden])').waitFor();
await page.frameLocator('.review-item.current iframe.review-view').locator('.s').waitFor();
await page.screenshot({ path: `${out}review.png` });
console.log('wrote docs/dashboard/review.png');
// A bulk approval of the submitted units, at its confirmation.
await page.goto(`${base}/runs/${runId}?state=completed`);
await page.selectOption('.bulk-form select[name="kind"]', 'approve');
await page.locator('.bulk-form button[type="submit"]').click();
await page.locator('#act-confirm:not([hidden])').waitFor();
await page.locator('.bulk').scrollIntoViewIfNeeded();
await page.screenshot({ path: `${out}bulk.png` });
console.log('wrote docs/dashboard/bulk.png');
await page.goto(`${base}/runs/${runId}/workers`);
await page.screenshot({ path: `${out}workers.png` });
console.log('wrote docs/dashboard/workers.png');
await page.goto(`${base}/workers/${done[0]!.workerId}`);
await page.fill('form[data-action="block"] input[name="reason"]', 'Random answers');
await page.locator('form[data-action="block"] button').click();
await page.locator('#act-confirm:not([hidden])').waitFor();
await page.screenshot({ path: `${out}worker.png`, fullPage: true });
console.log('wrote docs/dashboard/worker.png');
await browser.close();
await dashboard.close();
server.closeAllConnections();
server.close();
await world.close();
