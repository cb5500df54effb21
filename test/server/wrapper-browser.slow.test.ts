// The wrapper and the label task in real headless Chromium, against the task server and a
// stand-in for MTurk's externalSubmit that records what the browser posts.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { labelTask } from '../../examples/label-task/index.js';
import { VirtualClock } from '../../src/clock.js';
import { HitstateError } from '../../src/errors.js';
import { createTaskServer } from '../../src/server/task-server.js';
import { launchChromium } from '../support/browser.js';
import { ARRIVAL, HITS, RUN, SECRET, guard, start, type Running } from './harness.js';
import { MemoryBackend } from './memory-backend.js';

interface Posted {
  readonly path: string;
  readonly fields: Record<string, string>;
}

interface Ctx {
  browser: Browser;
  context: BrowserContext;
  page: Page;
  backend: MemoryBackend;
  running: Running;
  mturk: Server;
  mturkOrigin: string;
  posted: Posted[];
  errors: unknown[];
  clock: VirtualClock;
  postedWaiters: (() => void)[];
}

const WrapperBrowser = suite<Ctx>('wrapper in chromium', {} as Ctx);

WrapperBrowser.before(async (ctx) => {
  ctx.browser = await launchChromium();
  ctx.posted = [];
  ctx.postedWaiters = [];
  ctx.mturk = createServer((req, res) => {
    if (req.method !== 'POST' || req.url !== '/mturk/externalSubmit') {
      res.writeHead(404).end();
      return;
    }
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      ctx.posted.push({ path: req.url ?? '', fields: Object.fromEntries(new URLSearchParams(body)) });
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end('<p id="mturk-done">Submitted to MTurk</p>');
      for (const wake of ctx.postedWaiters.splice(0)) wake();
    });
  });
  await new Promise<void>((resolve) => ctx.mturk.listen(0, '127.0.0.1', resolve));
  ctx.mturkOrigin = `http://127.0.0.1:${(ctx.mturk.address() as AddressInfo).port}`;
});

WrapperBrowser.after(async (ctx) => {
  await ctx.browser?.close();
  ctx.mturk?.closeAllConnections();
  await new Promise((resolve) => ctx.mturk?.close(resolve));
});

WrapperBrowser.before.each(async (ctx) => {
  ctx.posted.length = 0;
  ctx.backend = new MemoryBackend([
    {
      runId: RUN,
      hitIds: [...HITS],
      units: [{ unitId: 'unit-1', task: { text: 'The soup was cold <img src=x onerror="window.pwned=1">' } }],
      preview: { title: 'Label a sentence', description: 'Label it.', data: { text: 'An example sentence.' } },
    },
  ]);
  ctx.errors = [];
  ctx.clock = new VirtualClock();
  const tasks = createTaskServer(ctx.backend, {
    secret: SECRET,
    ...labelTask.serverOptions,
    clock: ctx.clock,
    tokenTtlSec: 60,
    heartbeatIntervalSec: 1,
    // The fake MTurk of this test is the run's endpoint: the wrapper may post there.
    submitOrigins: [ctx.mturkOrigin],
    onError: (err) => ctx.errors.push(err),
  });
  ctx.running = await start('node:http', tasks);
  ctx.context = await guard(ctx.browser.newContext(), 'a browser context');
  ctx.page = await guard(ctx.context.newPage(), 'a page');
});

WrapperBrowser.after.each(async (ctx) => {
  await ctx.context.close();
  await ctx.running.close();
});

function taskUrl(ctx: Ctx, params: Record<string, string>): string {
  return `${ctx.running.origin}/hitstate/task?${new URLSearchParams(params)}`;
}

function nextPost(ctx: Ctx): Promise<void> {
  return guard(new Promise((resolve) => ctx.postedWaiters.push(resolve)), 'the post to MTurk');
}

async function label(page: Page, sentiment: string, comment: string): Promise<void> {
  await page.locator('#label-form input[name="sentiment"]:not([disabled])').first().waitFor();
  await page.check(`input[name="sentiment"][value="${sentiment}"]`);
  await page.fill('#comment', comment);
  await page.click('#submit-button');
}

WrapperBrowser(
  'when a worker labels and submits then the server stores it first and MTurk gets the same JSON in one field',
  async (ctx) => {
    await ctx.page.goto(taskUrl(ctx, { ...ARRIVAL, turkSubmitTo: ctx.mturkOrigin }));
    await ctx.page.waitForFunction(() => document.getElementById('sentence')?.textContent?.startsWith('The soup'));
    assert.is(await ctx.page.textContent('#sentence'), 'The soup was cold <img src=x onerror="window.pwned=1">');
    assert.is(await ctx.page.evaluate(() => document.querySelectorAll('img').length), 0, 'task text is shown as text');
    const posted = nextPost(ctx);
    await label(ctx.page, 'negative', 'Cold soup & "stale" bread — ünïcode ✓');
    await posted;
    const expected = { sentiment: 'negative', comment: 'Cold soup & "stale" bread — ünïcode ✓' };
    assert.equal(ctx.backend.disk.get('agent-1'), expected);
    assert.is(ctx.posted.length, 1);
    assert.is(ctx.posted[0]!.path, '/mturk/externalSubmit');
    assert.equal(Object.keys(ctx.posted[0]!.fields).sort(), ['assignmentId', 'hitstate_submission']);
    assert.is(ctx.posted[0]!.fields.assignmentId, ARRIVAL.assignmentId);
    assert.equal(JSON.parse(ctx.posted[0]!.fields.hitstate_submission!), expected);
    assert.ok(ctx.backend.log.indexOf('written agent-1') >= 0);
    await ctx.page.waitForSelector('#mturk-done');
    assert.is(ctx.backend.agents.get('agent-1')?.disconnects, 0, 'no disconnect beacon after a finished submit');
  },
);

WrapperBrowser(
  'S4: when the page is opened with a turkSubmitTo that is not MTurk nor the run’s endpoint then the work is stored, nothing is posted there, the worker is told and the server logs it',
  async (ctx) => {
    // A second server standing in for someone else's: it must never receive the worker's data.
    const foreign: string[] = [];
    const other = createServer((req, res) => {
      foreign.push(`${req.method} ${req.url}`);
      res.end('got it');
    });
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    const otherOrigin = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
    try {
      const response = await ctx.page.goto(taskUrl(ctx, { ...ARRIVAL, turkSubmitTo: otherOrigin }));
      const csp = response!.headers()['content-security-policy'] ?? '';
      assert.match(
        csp,
        new RegExp(`form-action https://www.mturk.com https://workersandbox.mturk.com ${ctx.mturkOrigin}$`),
      );
      await ctx.page.waitForFunction(() => document.getElementById('sentence')?.textContent?.startsWith('The soup'));
      await label(ctx.page, 'positive', 'mine');
      await ctx.page.waitForFunction(() =>
        /not Mechanical Turk/.test(document.getElementById('hitstate-status')?.textContent ?? ''),
      );
      assert.equal(ctx.backend.disk.get('agent-1'), { sentiment: 'positive', comment: 'mine' }, 'stored first');
      assert.equal(foreign, [], 'nothing went to the foreign server');
      assert.is(ctx.posted.length, 0);
      assert.is(new URL(ctx.page.url()).origin, new URL(ctx.running.origin).origin, 'the page stayed');
      assert.ok(
        ctx.errors.some((e) => /turkSubmitTo .* not MTurk's nor the run's endpoint/.test(String((e as Error).message))),
        'the server logged the refused target',
      );
    } finally {
      other.closeAllConnections();
      await new Promise((resolve) => other.close(resolve));
    }
  },
);

WrapperBrowser(
  'when MTurk cannot confirm the assignment yet (503 + Retry-After) then the wrapper keeps the HIT, waits and registers again',
  async (ctx) => {
    const working = ctx.backend.registerAgent.bind(ctx.backend);
    let calls = 0;
    ctx.backend.registerAgent = async (arrival) => {
      calls++;
      // The page's own registration passes; the wrapper's first one is told to retry in 1 s.
      if (calls === 2) {
        throw new HitstateError('HST_ERR_SERVER_ASSIGNMENT_UNCONFIRMED', 'MTurk unreachable', { retryAfterSec: 1 });
      }
      return working(arrival);
    };
    await ctx.page.goto(taskUrl(ctx, { ...ARRIVAL, turkSubmitTo: ctx.mturkOrigin }));
    await ctx.page.waitForFunction(() => document.getElementById('sentence')?.textContent?.startsWith('The soup'));
    assert.is(calls, 3, 'page, refused wrapper registration, retried wrapper registration');
    assert.not.match((await ctx.page.textContent('body')) ?? '', /return/i, 'never told to return the HIT');
  },
);

WrapperBrowser(
  'when storing the submission fails then the worker is told, MTurk gets nothing, and a retry succeeds',
  async (ctx) => {
    const working = ctx.backend.submit.bind(ctx.backend);
    ctx.backend.submit = async () => {
      throw new HitstateError('HST_ERR_RUNTIME_CLOSED', 'runtime closed');
    };
    await ctx.page.goto(taskUrl(ctx, { ...ARRIVAL, turkSubmitTo: ctx.mturkOrigin }));
    await label(ctx.page, 'positive', 'first try');
    await ctx.page.waitForSelector('#hitstate-status.hitstate-status-error');
    assert.match(
      (await ctx.page.textContent('#hitstate-status'))!,
      /could not be saved.*Nothing was sent to Mechanical Turk/,
    );
    assert.match((await ctx.page.textContent('#form-error'))!, /not saved/);
    assert.is(ctx.posted.length, 0);
    assert.is(ctx.backend.disk.size, 0);
    assert.is(ctx.errors.length, 1, 'a 503 from the backend reaches onError');
    ctx.backend.submit = working;
    const posted = nextPost(ctx);
    await ctx.page.click('#submit-button');
    await posted;
    assert.equal(ctx.backend.disk.get('agent-1'), { sentiment: 'positive', comment: 'first try' });
    assert.equal(JSON.parse(ctx.posted[0]!.fields.hitstate_submission!), {
      sentiment: 'positive',
      comment: 'first try',
    });
    await ctx.page.waitForSelector('#mturk-done');
  },
);

WrapperBrowser(
  'when the page is a preview then it shows the example, the form stays disabled and nothing registers',
  async (ctx) => {
    await ctx.page.goto(
      taskUrl(ctx, { assignmentId: 'ASSIGNMENT_ID_NOT_AVAILABLE', hitId: 'HIT0001', turkSubmitTo: ctx.mturkOrigin }),
    );
    await ctx.page.waitForSelector('#preview-note:not([hidden])');
    assert.is(await ctx.page.textContent('#sentence'), 'An example sentence.');
    assert.ok(await ctx.page.isDisabled('#submit-button'));
    assert.is(
      await ctx.page.evaluate(() => (window as unknown as { hitstate: { isPreview: boolean } }).hitstate.isPreview),
      true,
    );
    const refused = await ctx.page.evaluate(() =>
      (window as unknown as { hitstate: { submit(d: unknown): Promise<void> } }).hitstate.submit({ x: 1 }).then(
        () => 'sent',
        (e: Error) => e.message,
      ),
    );
    assert.match(refused, /preview/);
    assert.not.ok(ctx.backend.calls.some((c) => c.method === 'registerAgent'));
    assert.is(ctx.posted.length, 0);
  },
);

WrapperBrowser(
  'when the page reloads after the data was stored but before MTurk got it then the stored data is posted',
  async (ctx) => {
    const reg = await ctx.backend.registerAgent(ARRIVAL);
    await ctx.backend.submit(reg.agentId, { sentiment: 'neutral', comment: 'stored before the reload' });
    const posted = nextPost(ctx);
    await ctx.page.goto(taskUrl(ctx, { ...ARRIVAL, turkSubmitTo: ctx.mturkOrigin }));
    await posted;
    assert.equal(JSON.parse(ctx.posted[0]!.fields.hitstate_submission!), {
      sentiment: 'neutral',
      comment: 'stored before the reload',
    });
    assert.is(ctx.posted[0]!.fields.assignmentId, ARRIVAL.assignmentId);
    // Closing a browser context in the middle of a navigation can hang Chromium: let it land.
    await ctx.page.waitForSelector('#mturk-done');
  },
);

WrapperBrowser('when the worker leaves the page then the pagehide beacon disconnects the agent', async (ctx) => {
  await ctx.page.goto(taskUrl(ctx, { ...ARRIVAL, turkSubmitTo: ctx.mturkOrigin }));
  await ctx.page.locator('#submit-button:not([disabled])').waitFor();
  await ctx.page.goto('about:blank');
  await guard(
    ctx.backend.waitFor(() => ctx.backend.agents.get('agent-1')?.status === 'disconnect'),
    'the disconnect beacon',
  );
  assert.is(ctx.backend.agents.get('agent-1')?.disconnects, 1);
});

WrapperBrowser(
  'when the page stays open then heartbeats flow, and an expired token is renewed by registering again',
  async (ctx) => {
    await ctx.page.goto(taskUrl(ctx, { ...ARRIVAL, turkSubmitTo: ctx.mturkOrigin }));
    await ctx.page.evaluate(() => {
      const w = window as unknown as {
        hitstate: { onStatus(fn: (s: { phase: string }) => void): void };
        phases: string[];
      };
      w.phases = [];
      w.hitstate.onStatus((s) => w.phases.push(s.phase));
    });
    await guard(
      ctx.backend.waitFor(() => (ctx.backend.agents.get('agent-1')?.heartbeats ?? 0) >= 1),
      'a heartbeat',
    );
    const registrations = ctx.backend.calls.filter((c) => c.method === 'registerAgent').length;
    await ctx.clock.advance(61_000);
    const registered = () => ctx.backend.calls.filter((c) => c.method === 'registerAgent').length;
    await guard(
      ctx.backend.waitFor(() => registered() > registrations),
      'a registration renewing the token',
    );
    const beats = ctx.backend.agents.get('agent-1')!.heartbeats;
    await guard(
      ctx.backend.waitFor(() => ctx.backend.agents.get('agent-1')!.heartbeats > beats),
      'a heartbeat with the renewed token',
    );
    assert.is(registered(), registrations + 1, 'one registration renewed the token');
    assert.equal(await ctx.page.evaluate(() => (window as unknown as { phases: string[] }).phases), ['ready']);
    const posted = nextPost(ctx);
    await label(ctx.page, 'neutral', 'after renewal');
    await posted;
    assert.equal(ctx.backend.disk.get('agent-1'), { sentiment: 'neutral', comment: 'after renewal' });
    await ctx.page.waitForSelector('#mturk-done');
  },
);

WrapperBrowser.run();
