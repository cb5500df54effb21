// The dashboard's confirmed actions in real headless Chromium over a real runtime on the
// simulator (one VirtualClock for both; test/support/sim-world.ts): a bulk approval of the units
// a chart filter matches, previewed with its total and the remaining budget, confirmed with Enter
// pressed twice, approved once each on the simulator; a bulk bonus above the budget refused with
// the reason; a worker blocked and qualified from the worker page, confirmed by MTurk; and a
// review template showing a hostile submission as text in a sandboxed frame where nothing runs.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createDashboard, type Dashboard } from '../../src/dashboard/dashboard.js';
import { runtimeSource } from '../../src/dashboard/source.js';
import { launchChromium } from '../support/browser.js';
import { createWorld, TEST_ACCESS_KEY, type SimWorker, type World } from '../support/sim-world.js';
import { launchWithBudget, submitted, withBudget } from './budget-source.js';

interface Ctx {
  browser: Browser;
  world: World;
  context: BrowserContext;
  page: Page;
  dashboard: Dashboard;
  server: Server;
  base: string;
  runId: string;
  workers: SimWorker[];
}

const HOSTILE = '<img src=x onerror="window.pwned=1"><script>window.pwned=2</script>';
const TEMPLATE =
  '<h3 class="sentiment">{{submission.sentiment}}</h3><p class="comment" title={{submission.comment}}>{{submission.comment}}</p>';
const Actions = suite<Ctx>('dashboard actions in chromium', {} as Ctx);

Actions.before(async (ctx) => {
  ctx.browser = await launchChromium();
});
Actions.after(async (ctx) => {
  await ctx.browser?.close();
});

Actions.before.each(async (ctx) => {
  ctx.world = await createWorld({ seed: 31 });
  const { runtime } = ctx.world;
  // $4.00 for four $0.50 units: $2.40 held with the fee, $1.60 left for bonuses.
  const { runId, budgetInConfig } = await launchWithBudget(ctx.world, '4.00');
  await ctx.world.drive(() => runtime.runInfo(runId).counts.launched === 4, { label: 'launch' });
  ctx.runId = runId;
  ctx.workers = [
    await submitted(ctx.world, runId, { sentiment: 'positive', comment: HOSTILE }),
    await submitted(ctx.world, runId, { sentiment: 'neutral', comment: 'fine' }),
  ];
  const source = runtimeSource(runtime);
  ctx.dashboard = createDashboard(
    budgetInConfig ? source : withBudget(source, runId, '4.00'),
    { reviewTemplates: { [runId]: TEMPLATE } },
    true,
  );
  const server = createServer((req, res) => void ctx.dashboard.handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  ctx.server = server;
  ctx.base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/dashboard`;
  ctx.context = await ctx.browser.newContext();
  ctx.page = await ctx.context.newPage();
});

Actions.after.each(async (ctx) => {
  await ctx.context?.close();
  await ctx.dashboard?.close();
  ctx.server?.closeAllConnections();
  await new Promise((resolve) => ctx.server?.close(resolve));
  await ctx.world?.close();
});

/** Waits for a result line of the page to settle on confirmed or refused, driving the runtime meanwhile. */
async function settled(world: World, page: Page, selector: string): Promise<string> {
  const done = page.locator(`${selector}.confirmed, ${selector}.refused`).first().waitFor();
  await world.drive(done, { label: selector });
  return (await page.locator(selector).first().textContent()) ?? '';
}

Actions(
  'when the filtered units are approved in bulk with Enter pressed twice then MTurk approves each once',
  async (ctx) => {
    const { page, world, runId } = ctx;
    await page.goto(`${ctx.base}/runs/${runId}`);
    await page.locator('a.state-link[data-state="completed"]').click();
    await page.waitForURL(/state=completed/);
    assert.is(await page.locator('#unit-table tbody tr[data-unit]').count(), 2);
    await page.selectOption('.bulk-form select[name="kind"]', 'approve');
    await page.locator('.bulk-form button[type="submit"]').click();
    await page.locator('#act-confirm:not([hidden])').waitFor();
    const text = (await page.locator('#act-confirm-text').textContent()) ?? '';
    assert.match(text, /Approve 2 units matching state completed\? Total \$1\.20/);
    assert.match(text, /remaining budget \$1\.60 of \$4\.00/);
    assert.is(world.sim.stats().calls.ApproveAssignment ?? 0, 0, 'the preview sent nothing');
    await page.keyboard.press('Enter');
    await page.keyboard.press('Enter');
    const result = await settled(world, page, '.bulk-form .result');
    assert.match(result, /approved 2 of 2, confirmed by MTurk/);
    assert.is(world.sim.stats().calls.ApproveAssignment, 2, 'one approval per unit');
    const statuses = world.sim
      .inspect()
      .accounts[TEST_ACCESS_KEY]!.hits.flatMap((h) => h.assignments)
      .filter((a) => ctx.workers.some((w) => w.assignmentId === a.assignmentId))
      .map((a) => a.status);
    assert.equal(statuses, ['Approved', 'Approved']);
  },
);

Actions(
  'when a bulk bonus costs more than the remaining budget then the page refuses it with the reason',
  async (ctx) => {
    const { page, world, runId } = ctx;
    await page.goto(`${ctx.base}/runs/${runId}`);
    assert.is(await page.locator('#budget-remaining').textContent(), '$1.60');
    await page.selectOption('.bulk-form select[name="kind"]', 'bonus');
    await page.fill('.bulk-form input[name="amountUsd"]', '1.00');
    await page.fill('.bulk-form input[name="reason"]', 'Careful work');
    await page.locator('.bulk-form button[type="submit"]').click();
    await page.locator('.bulk-form .result.refused').waitFor();
    assert.match(
      (await page.locator('.bulk-form .result').textContent()) ?? '',
      /\$2\.40 is above the run's remaining budget of \$1\.60/,
    );
    assert.ok(await page.locator('#act-confirm').isHidden(), 'no confirmation was offered');
    assert.is(world.sim.stats().calls.SendBonus ?? 0, 0);
  },
);

Actions('when a worker is blocked and qualified from the worker page then each is confirmed by MTurk', async (ctx) => {
  const { page, world, runId } = ctx;
  const worker = ctx.workers[1]!;
  await page.goto(`${ctx.base}/runs/${runId}/workers`);
  const row = page.locator(`tr[data-worker="${worker.workerId}"]`);
  assert.is(await row.locator('td:nth-child(2)').textContent(), '1', 'one unit');
  await row.locator('a').click();
  await page.waitForURL(new RegExp(`/workers/${worker.workerId}$`));

  await page.fill('form[data-action="block"] input[name="reason"]', 'copied answers');
  await page.locator('form[data-action="block"] button').click();
  await page.locator('#act-confirm:not([hidden])').waitFor();
  assert.match(
    (await page.locator('#act-confirm-text').textContent()) ?? '',
    new RegExp(`Block worker ${worker.workerId} from every HIT of requester .*copied answers`),
  );
  await page.keyboard.press('Enter');
  assert.match(await settled(world, page, 'form[data-action="block"] .result'), /confirmed by MTurk/);
  assert.is(world.sim.stats().calls.CreateWorkerBlock, 1);

  await page.fill('form[data-action="qualify"] input[name="qualification"]', 'trusted-labeller');
  await page.fill('form[data-action="qualify"] input[name="value"]', '2');
  await page.locator('form[data-action="qualify"] button').click();
  await page.locator('#act-confirm:not([hidden])').waitFor();
  assert.match((await page.locator('#act-confirm-text').textContent()) ?? '', /“trusted-labeller” with value 2/);
  await page.keyboard.press('Enter');
  assert.match(await settled(world, page, 'form[data-action="qualify"] .result'), /confirmed by MTurk/);
  assert.is(world.sim.stats().calls.AssociateQualificationWithWorker, 1);

  await page.reload();
  assert.match((await page.locator('#blocks').textContent()) ?? '', /copied answers/);
  assert.match((await page.locator('#qualifications').textContent()) ?? '', /granted\s*trusted-labeller/);
  await page.goto(`${ctx.base}/workers`);
  assert.match((await page.locator(`tr[data-worker="${worker.workerId}"] td.blocked`).textContent()) ?? '', /blocked/);
});

Actions(
  'when a run has a review template then the submission shows through it as text and nothing runs',
  async (ctx) => {
    const { page, runId } = ctx;
    const worker = ctx.workers[0]!;
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    for (const path of [`/units/${worker.unitId}`, `/runs/${runId}/review`]) {
      await page.goto(ctx.base + path);
      const frame = page.frameLocator('iframe.review-view').first();
      await frame.locator('h3.sentiment').waitFor();
      assert.is(await frame.locator('h3.sentiment').textContent(), 'positive', path);
      assert.is(await frame.locator('p.comment').textContent(), HOSTILE, `${path}: the markup shows as text`);
      assert.is(await frame.locator('p.comment').getAttribute('title'), HOSTILE, `${path}: one attribute, whole`);
      assert.is(await frame.locator('img, script').count(), 0, `${path}: nothing was injected`);
      assert.is(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned), undefined);
      assert.match(
        (await page.locator('iframe.review-view').first().getAttribute('sandbox')) ?? 'missing',
        /^$/,
        'the frame is sandboxed without exceptions',
      );
    }
    assert.equal(dialogs, []);
  },
);

Actions.run();
