// End to end in real headless Chromium (Debian's, through playwright-core) on `hitstate serve`:
// a worker signs up with an invitation, finds the HIT in the list, accepts, does the label task
// served by the runtime's task server inside the iframe, and submits; the runtime (configured with
// the keys `requester add` printed, signing with SigV4) sees the submission and approves it; the
// worker's dashboard shows the approval. Screenshots of the HIT list, the task and the earnings
// are written to docs/serve/ (shown in docs/serve.md) with HITSTATE_SCREENSHOTS=1, else to the
// test's temp folder.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { labelTask } from '../../examples/label-task/index.js';
import { VirtualClock } from '../../src/clock.js';
import { createRuntime, type Runtime } from '../../src/runtime/core/runtime.js';
import { createTaskServer } from '../../src/server/task-server.js';
import { addRequester, createServe, openDatabase, type ServeServer } from '../../src/simulator/serve/index.js';
import { createInvites } from '../../src/simulator/serve/worker-accounts.js';
import { VirtualTimeDriver } from '../../src/testing/index.js';
import { launchChromium } from '../support/browser.js';
import { labelTaskConfig } from '../support/sim-world.js';

// The committed screenshots are refreshed only on request (they differ on every run: ids, times).
const SHOTS =
  process.env.HITSTATE_SCREENSHOTS === '1' ? fileURLToPath(new URL('../../docs/serve/', import.meta.url)) : '';

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

interface Ctx {
  browser: Browser;
  dir: string;
  server: ServeServer;
  runtime: Runtime;
  tasks: Server;
  driver: VirtualTimeDriver;
  taskUrl: string;
  invite: string;
}

const E2E = suite<Ctx>('serve in chromium', {} as Ctx);

E2E.before(async (ctx) => {
  ctx.browser = await launchChromium();
  ctx.dir = mkdtempSync(join(tmpdir(), 'hitstate-serve-e2e-'));
  const dbFile = join(ctx.dir, 'crowd.db');
  const db = openDatabase(dbFile);
  const keys = addRequester(db, 'lab', 100);
  ctx.invite = createInvites(db, { count: 1 })[0]!;
  db.close();
  const clock = new VirtualClock(Date.now());
  const port = await freePort();
  const publicUrl = `http://127.0.0.1:${port}`;
  ctx.server = await createServe({ db: dbFile, publicUrl, port, clock, log: () => {} });
  ctx.runtime = await createRuntime({
    environment: { kind: 'custom', endpoint: ctx.server.url },
    requester: {
      name: 'lab',
      credentials: { kind: 'static', accessKeyId: keys.accessKeyId, secretAccessKey: keys.secretAccessKey },
    },
    clock,
    storeDir: join(ctx.dir, 'store'),
    pollIntervalMs: { activeMs: 10_000, idleMs: 60_000 },
  });
  ctx.driver = new VirtualTimeDriver({ clock, whenIdle: () => ctx.runtime.whenIdle() });
  const tasks = createTaskServer(ctx.runtime.taskServerBackend(), {
    secret: 'hitstate-test-secret-0123456789abcdef',
    clock,
    ...labelTask.serverOptions,
  });
  ctx.tasks = createServer((req, res) => void ctx.driver.track(tasks.handle(req, res)));
  await new Promise<void>((r) => ctx.tasks.listen(0, '127.0.0.1', () => r()));
  ctx.taskUrl = `http://127.0.0.1:${(ctx.tasks.address() as AddressInfo).port}${tasks.taskPath}`;
});

E2E.after(async (ctx) => {
  await ctx.browser?.close();
  await ctx.runtime?.close();
  await new Promise<void>((r) => (ctx.tasks ? ctx.tasks.close(() => r()) : r()));
  await ctx.server?.close();
  if (ctx.dir) rmSync(ctx.dir, { recursive: true, force: true });
});

E2E('invite, sign up, find, accept, work, submit; the runtime approves; the dashboard shows it', async (ctx) => {
  const { runtime, driver, server } = ctx;
  const shots = SHOTS || ctx.dir;
  const { runId } = await runtime.launchRun(labelTaskConfig(ctx.taskUrl, { units: 1 }));
  await driver.drive(() => runtime.runInfo(runId).counts.launched === 1, { label: 'launch' });

  const context = await ctx.browser.newContext({ viewport: { width: 1100, height: 800 } });
  const page = await context.newPage();
  await page.goto(`${server.publicUrl}/signup?invite=${ctx.invite}&PROLIFIC_PID=5f00aa11`);
  await page.getByLabel('Username').fill('ana');
  await page.getByLabel('Password (10 characters or more)').fill('correct horse battery');
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.waitForURL(/\/work$/);
  await page.getByRole('link', { name: 'Label the sentiment of a sentence' }).waitFor();
  await page.screenshot({ path: join(shots, 'hit-list.png') });

  await page.getByRole('link', { name: 'Label the sentiment of a sentence' }).click();
  await page.getByRole('button', { name: 'Accept and work' }).click();
  await page.waitForURL(/\/task\?assignment=/);
  const frame = page.frameLocator('iframe[title="Task"]');
  await frame.locator('#submit-button:not([disabled])').waitFor();
  await frame.locator('input[name="sentiment"][value="positive"]').check();
  await frame.locator('#comment').fill('Clear and friendly.');
  await page.screenshot({ path: join(shots, 'task.png'), fullPage: true });
  await frame.locator('#submit-button').click();
  await frame.getByText('your work was submitted').waitFor();

  const agent = runtime.store.agents.ofRun(runId)[0]!;
  await driver.drive(() => runtime.unitStatus(agent.unitId) === 'completed', { label: 'unit completed' });
  const stored = (await runtime.store.exportRun(runId)).agents.find((a) => a.id === agent.id)!;
  assert.equal(stored.submission, { sentiment: 'positive', comment: 'Clear and friendly.' });
  const report = await driver.drive(runtime.review(runId, { all: true }, { kind: 'approve', feedback: 'Thank you!' }));
  assert.ok(report);
  assert.is(server.engine.state.assignments.get(agent.assignmentId!)!.status, 'Approved');

  await page.goto(`${server.publicUrl}/dashboard`);
  await page.getByText('Owed to you').waitFor();
  const text = (await page.locator('main').textContent()) ?? '';
  assert.match(text, /Approved\s*\$0\.50/);
  assert.match(text, /Thank you!/);
  await page.screenshot({ path: join(shots, 'earnings.png'), fullPage: true });
  await context.close();
});

E2E.run();
