// The dashboard's handler over a real runtime on the simulator (test/support/sim-world.ts), with
// plain HTTP requests: routes and headers, escaping of a hostile submission, the live feed batched
// on the virtual clock, and the token, cookie and CSRF refusals.
import { request, createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createDashboard, type Dashboard } from '../../src/dashboard/dashboard.js';
import { runtimeSource } from '../../src/dashboard/source.js';
import { createWorld, type World } from '../support/sim-world.js';

interface Ctx {
  world: World;
  runId: string;
  unitId: string;
  dashboard: Dashboard;
  server: Server;
  base: string;
}

const HOSTILE = { sentiment: 'positive', comment: '<script>alert("x")</script><img src=x onerror=alert(1)>' };
const TOKEN = 'dashboard-test-token-0123456789';

const Handler = suite<Ctx>('dashboard handler on the runtime', {} as Ctx);

async function listen(dashboard: Dashboard): Promise<{ server: Server; base: string }> {
  const server = createServer((req, res) => void dashboard.handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

interface Answer {
  status: number;
  headers: IncomingMessage['headers'];
  body: string;
}

function fetchText(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: init.method ?? 'GET', headers: init.headers ?? {} }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

Handler.before.each(async (ctx) => {
  ctx.world = await createWorld({ seed: 11 });
  const { runtime } = ctx.world;
  const { runId } = await runtime.launchRun(ctx.world.config({ units: 3 }));
  await ctx.world.drive(() => runtime.runInfo(runId).counts.launched === 3, { label: 'launch' });
  const worker = ctx.world.worker();
  await worker.accept(ctx.world.hitTypeId(runId));
  await worker.register();
  await worker.submit(HOSTILE);
  await ctx.world.drive(() => runtime.unitStatus(worker.unitId!) === 'completed', { label: 'submitted' });
  ctx.runId = runId;
  ctx.unitId = worker.unitId!;
  ctx.dashboard = runtime.dashboard();
  Object.assign(ctx, await listen(ctx.dashboard));
});

Handler.after.each(async (ctx) => {
  await ctx.dashboard?.close();
  await new Promise((resolve) => ctx.server?.close(resolve));
  await ctx.world?.close();
});

Handler(
  'when the runs, run, unit and review pages are asked for then each answers with strict headers',
  async (ctx) => {
    const runs = await fetchText(`${ctx.base}/dashboard/`);
    assert.is(runs.status, 200);
    assert.match(runs.body, ctx.runId);
    assert.match(String(runs.headers['content-security-policy']), /script-src 'self'/);
    assert.not.match(String(runs.headers['content-security-policy']), /unsafe-inline/);
    assert.is(runs.headers['x-frame-options'], 'DENY');
    assert.not.match(runs.body, /<script>/, 'no inline script');

    const run = await fetchText(`${ctx.base}/dashboard/runs/${ctx.runId}`);
    assert.is(run.status, 200);
    assert.match(run.body, /<svg[^>]*class="chart"/);
    assert.match(run.body, /data-count="completed">1</);
    assert.match(run.body, /data-count="launched">2</);
    const filtered = await fetchText(`${ctx.base}/dashboard/runs/${ctx.runId}/units?state=completed`);
    assert.is(
      (filtered.body.match(/<tr data-unit=/g) ?? []).length,
      1,
      'the state filter keeps the completed unit only',
    );
    const searched = await fetchText(`${ctx.base}/dashboard/runs/${ctx.runId}/units?q=nothing-matches-this`);
    assert.match(searched.body, /No unit matches/);

    const unit = await fetchText(`${ctx.base}/dashboard/units/${ctx.unitId}`);
    assert.is(unit.status, 200);
    assert.match(unit.body, /CreateHIT/, "the unit's history lists its MTurk calls");

    const review = await fetchText(`${ctx.base}/dashboard/runs/${ctx.runId}/review`);
    assert.match(review.body, /class="review-item current"/);

    const js = await fetchText(`${ctx.base}/dashboard/app.js`);
    assert.is(js.status, 200);
    assert.match(String(js.headers['content-type']), /javascript/);
    assert.is((await fetchText(`${ctx.base}/dashboard/runs/nope`, { headers: { accept: 'text/html' } })).status, 404);
    assert.is((await fetchText(`${ctx.base}/dashboard/runs/${ctx.runId}?state=bogus`)).status, 400);
    assert.is((await fetchText(`${ctx.base}/dashboard/`, { method: 'DELETE' })).status, 405);
  },
);

Handler('when a submission holds markup then every page shows it as text', async (ctx) => {
  for (const path of [
    `/dashboard/runs/${ctx.runId}`,
    `/dashboard/units/${ctx.unitId}`,
    `/dashboard/runs/${ctx.runId}/review`,
  ]) {
    const page = await fetchText(ctx.base + path);
    assert.not.match(page.body, /<script>alert/, `${path} has no live script`);
    assert.not.match(page.body, /<img src=x/, `${path} has no live image`);
    assert.match(page.body, /&lt;script&gt;alert/, `${path} shows the markup escaped`);
  }
});

/** Reads a live feed, splitting its messages. */
function openFeed(url: string): Promise<{ messages: any[]; close: () => void }> {
  return new Promise((resolve, reject) => {
    const messages: any[] = [];
    const req = request(url, (res) => {
      let pending = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        pending += d;
        let cut = pending.indexOf('\n\n');
        while (cut >= 0) {
          const chunk = pending.slice(0, cut);
          pending = pending.slice(cut + 2);
          const data = chunk.split('\n').find((l) => l.startsWith('data: '));
          if (data !== undefined) messages.push(JSON.parse(data.slice(6)));
          cut = pending.indexOf('\n\n');
        }
      });
      resolve({ messages, close: () => req.destroy() });
    });
    req.on('error', (err) => {
      if ((err as NodeJS.ErrnoException).code !== 'ECONNRESET') reject(err);
    });
    req.end();
  });
}

async function until(check: () => boolean, what: string): Promise<void> {
  // Waits on socket I/O only (turns of the event loop), never on wall time.
  for (let i = 0; i < 5000 && !check(); i++) await new Promise((resolve) => setImmediate(resolve));
  assert.ok(check(), what);
}

Handler('when 1,000 events arrive within a second then the page gets one message of the newest 50', async (ctx) => {
  const feed = await openFeed(`${ctx.base}/dashboard/events?run=${ctx.runId}`);
  await until(() => feed.messages.length === 1, 'the first message carries the counts at once');
  assert.is(feed.messages[0].counts[ctx.runId].completed, 1);
  const { events, clock } = ctx.world.runtime.events && { events: ctx.world.runtime.events, clock: ctx.world.clock };
  for (let i = 0; i < 1000; i++)
    events.emit('unit.statusChanged', {
      runId: ctx.runId,
      unitId: ctx.unitId,
      status: 'completed',
      previous: 'assigned',
      at: clock.now() + i,
    });
  await clock.advance(999);
  for (let i = 0; i < 50; i++) await new Promise((resolve) => setImmediate(resolve));
  assert.is(feed.messages.length, 1, 'nothing before the batch interval ends');
  await clock.advance(1);
  await until(() => feed.messages.length === 2, 'one batched message after a second');
  const batch = feed.messages[1];
  assert.is(batch.events.length, 50);
  assert.is(batch.dropped, 950);
  assert.is(batch.events.at(-1).at, clock.now() - 1000 + 999, 'the newest event is kept');
  await clock.advance(5000);
  for (let i = 0; i < 50; i++) await new Promise((resolve) => setImmediate(resolve));
  assert.is(feed.messages.length, 2, 'no message without events');
  feed.close();
});

Handler(
  'when a token is set then requests without it get 401, with it a strict cookie, and POSTs need the CSRF token',
  async (ctx) => {
    const guarded = createDashboard(runtimeSource(ctx.world.runtime), { token: TOKEN }, true);
    const { server, base } = await listen(guarded);
    try {
      const none = await fetchText(`${base}/dashboard/`, { headers: { accept: 'text/html' } });
      assert.is(none.status, 401);
      assert.match(none.body, /Unauthorized: token needed/);
      const wrong = await fetchText(`${base}/dashboard/?token=not-the-token-at-all`);
      assert.is(wrong.status, 401);
      const right = await fetchText(`${base}/dashboard/runs/${ctx.runId}?token=${TOKEN}`);
      assert.is(right.status, 303);
      assert.is(right.headers.location, `/dashboard/runs/${ctx.runId}`, 'the token leaves the address bar');
      const cookie = String(right.headers['set-cookie']).split(';')[0]!;
      assert.match(String(right.headers['set-cookie']), /HttpOnly; SameSite=Strict; Path=\/dashboard/);
      assert.not.match(cookie, TOKEN, 'the cookie is derived from the token, not the token');
      const page = await fetchText(`${base}/dashboard/runs/${ctx.runId}/review`, { headers: { cookie } });
      assert.is(page.status, 200);
      const csrf = /name="hitstate-csrf" content="([^"]+)"/.exec(page.body)![1]!;
      const agentId = /data-agent="([^"]+)"/.exec(page.body)![1]!;
      const post = (headers: Record<string, string>) =>
        fetchText(`${base}/dashboard/runs/${ctx.runId}/review`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body: JSON.stringify({ agentId, kind: 'approve', key: 'k1' }),
        });
      assert.is((await post({})).status, 401, 'no cookie: 401');
      const noCsrf = await post({ cookie });
      assert.is(noCsrf.status, 403);
      assert.match(noCsrf.body, /CSRF/);
      const foreign = await post({ cookie, 'x-csrf-token': csrf, origin: 'http://evil.example' });
      assert.is(foreign.status, 403);
      assert.match(foreign.body, /evil\.example/);
      assert.is(ctx.world.runtime.agentStatus(agentId), 'completed', 'nothing was approved by the refused requests');
    } finally {
      await guarded.close();
      await new Promise((resolve) => server.close(resolve));
    }
  },
);

Handler('when a bonus is posted twice with one key then MTurk pays it once; another key pays another', async (ctx) => {
  const page = await fetchText(`${ctx.base}/dashboard/runs/${ctx.runId}/review`);
  const csrf = /name="hitstate-csrf" content="([^"]+)"/.exec(page.body)![1]!;
  const agentId = /data-agent="([^"]+)"/.exec(page.body)![1]!;
  const post = (body: object) =>
    fetchText(`${ctx.base}/dashboard/runs/${ctx.runId}/review`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-csrf-token': csrf },
      body: JSON.stringify({ agentId, ...body }),
    });
  const bonus = { kind: 'bonus', amountUsd: '0.30', reason: 'Thorough comment' };
  const both = ctx.world.drive(Promise.all([post({ ...bonus, key: 'b-1' }), post({ ...bonus, key: 'b-1' })]), {
    label: 'bonus twice',
  });
  const answers = (await both)!;
  for (const a of answers) assert.match(JSON.parse(a.body).message, /bonus of \$0\.30 confirmed by MTurk/);
  assert.is(ctx.world.sim.stats().calls.SendBonus, 1, 'one key, one payment');
  const other = (await ctx.world.drive(post({ ...bonus, key: 'b-2' }), { label: 'another bonus' }))!;
  assert.is(JSON.parse(other.body).confirmed, true);
  assert.is(ctx.world.sim.stats().calls.SendBonus, 2, 'another key is another bonus');

  const noFeedback = await post({ kind: 'reject', key: 'r-1' });
  assert.is(noFeedback.status, 400);
  assert.is(JSON.parse(noFeedback.body).error.field, 'feedback');
  assert.is(ctx.world.runtime.agentStatus(agentId), 'completed', 'the refused rejection changed nothing');
});

Handler('when a request reached a non-loopback interface without a token then it is refused with 403', async (ctx) => {
  const req = Object.assign(Readable.from([]), {
    method: 'GET',
    url: '/dashboard/',
    headers: { accept: 'text/html' },
    socket: { localAddress: '10.1.2.3', remoteAddress: '10.1.2.4' },
  });
  let status = 0;
  let body = '';
  const res = {
    headersSent: false,
    writeHead(code: number) {
      status = code;
      return res;
    },
    setHeader() {},
    end(text?: string) {
      body = text ?? '';
    },
  };
  await ctx.dashboard.handle(req as never, res as never);
  assert.is(status, 403);
  assert.match(body, /a token is needed here/);
});

Handler(
  'when a request names a host other than a loopback one and there is no token then it is refused',
  async (ctx) => {
    const rebound = await fetchText(`${ctx.base}/dashboard/`, {
      headers: { host: 'attacker.example:8090', accept: 'text/html' },
    });
    assert.is(rebound.status, 403);
    assert.match(rebound.body, /unknown host name/);
    assert.not.match(rebound.body, ctx.runId, 'no data in the refusal');
    for (const host of ['localhost:1', '127.0.0.1', '[::1]:8090'])
      assert.is((await fetchText(`${ctx.base}/dashboard/`, { headers: { host } })).status, 200, host);
  },
);

Handler('when options are wrong then createDashboard names the field', (ctx) => {
  const source = runtimeSource(ctx.world.runtime);
  assert.throws(() => createDashboard(source, { token: 'short' }), /token must be a string of at least 16/);
  assert.throws(() => createDashboard(source, { prefix: 'no slash' }), /prefix/);
  assert.throws(() => createDashboard(source, { batchMs: 0 }), /batchMs must be a positive whole number/);
  void source.close();
});

Handler.run();
