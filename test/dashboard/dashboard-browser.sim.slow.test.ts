// The dashboard in real headless Chromium over a real runtime on the simulator (one VirtualClock
// for both; test/support/sim-world.ts): a run watched live while simulated workers accept, return
// and submit (counts on the chart and the unit table change without a reload), a unit's history
// with its MTurk calls, a keyboard review confirmed on the simulator exactly once even when the
// key is pressed twice, the token and CSRF refusals, and a hostile submission shown as text.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createDashboard, type Dashboard } from '../../src/dashboard/dashboard.js';
import { runtimeSource } from '../../src/dashboard/source.js';
import { launchChromium } from '../support/browser.js';
import { createWorld, TEST_ACCESS_KEY, type SimWorker, type World } from '../support/sim-world.js';

interface Ctx {
  browser: Browser;
  world: World;
  context: BrowserContext;
  page: Page;
  dashboard: Dashboard;
  server: Server;
  base: string;
  runId: string;
}

const TOKEN = 'browser-test-token-0123456789abcdef';
const Live = suite<Ctx>('dashboard in chromium', {} as Ctx);

async function listen(dashboard: Dashboard): Promise<{ server: Server; base: string }> {
  const server = createServer((req, res) => void dashboard.handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}/dashboard` };
}

Live.before(async (ctx) => {
  ctx.browser = await launchChromium();
});
Live.after(async (ctx) => {
  await ctx.browser?.close();
});

Live.before.each(async (ctx) => {
  ctx.world = await createWorld({ seed: 5 });
  const { runtime } = ctx.world;
  const { runId } = await runtime.launchRun(ctx.world.config({ units: 4 }));
  await ctx.world.drive(() => runtime.runInfo(runId).counts.launched === 4, { label: 'launch' });
  ctx.runId = runId;
  ctx.dashboard = runtime.dashboard();
  Object.assign(ctx, await listen(ctx.dashboard));
  ctx.context = await ctx.browser.newContext();
  ctx.page = await ctx.context.newPage();
});

Live.after.each(async (ctx) => {
  await ctx.context?.close();
  await ctx.dashboard?.close();
  ctx.server?.closeAllConnections();
  await new Promise((resolve) => ctx.server?.close(resolve));
  await ctx.world?.close();
});

/** The number on a state's node of the chart. */
const chartCount = (page: Page, state: string): Promise<string | null> =>
  page.locator(`[data-count="${state}"]`).textContent();

/** Lets one batch of the live feed out (its interval is 1 s of the shared virtual clock). */
async function tick(world: World): Promise<void> {
  await world.advance(1000);
}

async function waitCount(page: Page, world: World, state: string, value: number): Promise<void> {
  await tick(world);
  await page.waitForFunction(([s, v]) => document.querySelector(`[data-count="${s}"]`)?.textContent === String(v), [
    state,
    value,
  ] as const);
}

async function submitted(world: World, runId: string, data: unknown): Promise<SimWorker> {
  const worker = world.worker();
  await worker.accept(world.hitTypeId(runId));
  await worker.register();
  await worker.submit(data);
  await world.drive(() => world.runtime.unitStatus(worker.unitId!) === 'completed', { label: 'submitted' });
  return worker;
}

Live(
  'when workers accept, return and submit then the chart and the unit table follow without a reload',
  async (ctx) => {
    const { page, world, runId } = ctx;
    await page.goto(`${ctx.base}/runs/${runId}`);
    assert.is(await chartCount(page, 'launched'), '4');
    await page.evaluate(() => {
      (window as unknown as { stayed: boolean }).stayed = true;
    });
    await page.locator('#live-status', { hasText: 'live' }).waitFor();

    const first = world.worker();
    await first.accept(world.hitTypeId(runId));
    await first.register();
    await world.drive(() => world.runtime.unitStatus(first.unitId!) === 'assigned', { label: 'assigned' });
    await waitCount(page, world, 'assigned', 1);
    assert.is(await chartCount(page, 'launched'), '3');
    await page.locator(`tr[data-unit="${first.unitId}"][data-status="assigned"]`).waitFor();
    assert.is(await page.locator(`tr[data-unit="${first.unitId}"] td:nth-child(3)`).textContent(), first.workerId);

    await first.returnHIT();
    await world.drive(() => world.runtime.unitStatus(first.unitId!) === 'launched', { label: 'returned' });
    await waitCount(page, world, 'assigned', 0);
    assert.is(await chartCount(page, 'launched'), '4');
    await page.locator(`tr[data-unit="${first.unitId}"][data-status="launched"]`).waitFor();

    const second = await submitted(world, runId, { sentiment: 'neutral', comment: 'fine' });
    await waitCount(page, world, 'completed', 1);
    await page.locator(`tr[data-unit="${second.unitId}"][data-status="completed"]`).waitFor();
    assert.match(
      (await page.locator(`tr[data-unit="${second.unitId}"] td.preview`).textContent()) ?? '',
      /neutral/,
      'the table previews the submission',
    );
    assert.ok((await page.locator('#feed li').count()) > 0, 'the live feed lists events');
    assert.ok(await page.evaluate(() => (window as unknown as { stayed?: boolean }).stayed === true), 'never reloaded');
    // The arrows carry the units that took them in the last hour.
    const flow = (key: string) => page.locator(`[data-flow="${key}"]`).textContent();
    assert.is(await flow('launched>assigned'), '2');
    assert.is(await flow('assigned>launched'), '1');
    assert.is(await flow('assigned>completed'), '1');
    assert.is(await flow('completed>accepted'), '');

    // Clicking a state filters the table to it.
    await page.locator('a.state-link[data-state="completed"]').click();
    await page.waitForURL(/state=completed/);
    assert.is(await page.locator('#unit-table tbody tr[data-unit]').count(), 1);
  },
);

Live("when a unit's page is opened then its history lists its MTurk calls and state changes", async (ctx) => {
  const { world, runId } = ctx;
  const worker = await submitted(world, runId, { sentiment: 'positive', comment: '' });
  await world.drive(world.runtime.review(runId, { agentId: worker.agentId! }, { kind: 'approve' }), {
    label: 'approve',
  });
  await ctx.page.goto(`${ctx.base}/units/${worker.unitId}`);
  const calls = await ctx.page.locator('table.history tr.call td.op').allTextContents();
  assert.ok(calls.includes('CreateHITWithHITType'), `the HIT's creation is in the history: ${calls.join(', ')}`);
  assert.ok(calls.includes('ApproveAssignment'), `the approval is in the history: ${calls.join(', ')}`);
  const changes = (await ctx.page.locator('table.history tr.event').allTextContents()).join('\n');
  assert.match(changes, /unit launched → assigned/);
  assert.match(changes, /unit completed → accepted/);
  assert.is(await ctx.page.locator('#unit-status').textContent(), 'accepted');
  assert.match((await ctx.page.locator('.agent .submission').textContent()) ?? '', /positive/);
});

Live(
  'when a review is approved with the keyboard, pressed twice, then MTurk approves exactly once and the page says so',
  async (ctx) => {
    const { page, world, runId } = ctx;
    const worker = await submitted(world, runId, { sentiment: 'negative', comment: 'ok' });
    await page.goto(`${ctx.base}/runs/${runId}/review`);
    await page.keyboard.press('a');
    await page.locator('#confirm:not([hidden])').waitFor();
    assert.match((await page.locator('#confirm-text').textContent()) ?? '', /Approve: pay worker .* the reward of \$/);
    await page.keyboard.press('Enter');
    await page.keyboard.press('Enter');
    await page.keyboard.press('a');
    await page.keyboard.press('Enter');
    await world.drive(() => world.runtime.agentStatus(worker.agentId!) === 'approved', { label: 'approved' });
    await page.locator('.review-item .result.confirmed').waitFor();
    assert.match(
      (await page.locator('.review-item .result.confirmed').textContent()) ?? '',
      /approval confirmed by MTurk/,
    );

    // The same action sent again (a retried request, another key) changes nothing on MTurk.
    const again = await page.evaluate(
      async ([endpoint, agentId]) => {
        const csrf = document.querySelector('meta[name="hitstate-csrf"]')!.getAttribute('content')!;
        const answers: { confirmed: boolean }[] = [];
        for (const key of ['same-key', 'same-key', 'another-key']) {
          const response = await fetch(endpoint, {
            method: 'POST',
            headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
            body: JSON.stringify({ agentId, kind: 'approve', key }),
          });
          answers.push(await response.json());
        }
        return answers;
      },
      [`${ctx.base}/runs/${runId}/review`, worker.agentId!] as const,
    );
    for (const answer of again) assert.is(answer.confirmed, true, JSON.stringify(answer));

    const stats = (await (await fetch(`${world.sim.url}/_sim/stats`)).json()) as { calls: Record<string, number> };
    assert.is(stats.calls.ApproveAssignment, 1, 'MTurk approved once');
    const assignment = world.sim
      .inspect()
      .accounts[TEST_ACCESS_KEY]!.hits.flatMap((h) => h.assignments)
      .find((a) => a.assignmentId === worker.assignmentId);
    assert.is(assignment?.status, 'Approved');
  },
);

Live(
  'when the dashboard has a token then the browser is refused without it, kept by cookie, and refused without CSRF',
  async (ctx) => {
    const guarded = createDashboard(runtimeSource(ctx.world.runtime), { token: TOKEN }, true);
    const { server, base } = await listen(guarded);
    try {
      const refused = await ctx.page.goto(`${base}/`);
      assert.is(refused?.status(), 401);
      assert.match((await ctx.page.locator('h1').textContent()) ?? '', /Unauthorized/);
      const wrong = await ctx.page.goto(`${base}/?token=wrong-token-wrong-token`);
      assert.is(wrong?.status(), 401);
      const admitted = await ctx.page.goto(`${base}/runs/${ctx.runId}?token=${TOKEN}`);
      assert.is(admitted?.status(), 200);
      assert.not.match(ctx.page.url(), /token=/, 'the token left the address bar');
      assert.is(await ctx.page.evaluate(() => document.cookie), '', 'the cookie is HttpOnly');
      assert.is((await ctx.page.goto(`${base}/`))?.status(), 200, 'the cookie admits later pages');
      const status = await ctx.page.evaluate(
        (url) =>
          fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' }).then(
            (r) => r.status,
          ),
        `${base}/runs/${ctx.runId}/review`,
      );
      assert.is(status, 403, 'a POST without the CSRF token is refused');
    } finally {
      await guarded.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  },
);

Live('when a submission holds script and markup then the pages show it as text and nothing runs', async (ctx) => {
  const hostile = {
    sentiment: 'positive',
    comment: '<img src=x onerror="window.pwned=1"><script>window.pwned=2</script>',
  };
  const worker = await submitted(ctx.world, ctx.runId, hostile);
  const dialogs: string[] = [];
  ctx.page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  for (const path of [`/units/${worker.unitId}`, `/runs/${ctx.runId}`, `/runs/${ctx.runId}/review`]) {
    await ctx.page.goto(ctx.base + path);
    assert.is(
      await ctx.page.evaluate(() => (window as unknown as { pwned?: number }).pwned),
      undefined,
      `${path}: nothing ran`,
    );
    assert.is(await ctx.page.locator('main img, main script').count(), 0, `${path}: no element was injected`);
    assert.match(
      (await ctx.page.locator('main').textContent()) ?? '',
      /<img src=x onerror=/,
      `${path}: the markup shows as text`,
    );
  }
  assert.equal(dialogs, []);
});

Live.run();
