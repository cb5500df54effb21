// The dashboard mounted in Express and Fastify, as `runtime.dashboard()` is in an embedding task
// server: its pages, its script, a refused POST (no CSRF token) and the app's own routes beside it.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import Fastify from 'fastify';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Dashboard } from '../../src/dashboard/dashboard.js';
import { dashboardToExpress } from '../../src/dashboard/express.js';
import { dashboardToFastify } from '../../src/dashboard/fastify.js';
import { createWorld, type World } from '../support/sim-world.js';

interface Ctx {
  world: World;
  runId: string;
  dashboard: Dashboard;
}

const Adapters = suite<Ctx>('dashboard adapters', {} as Ctx);

Adapters.before(async (ctx) => {
  ctx.world = await createWorld({ seed: 31 });
  const { runId } = await ctx.world.runtime.launchRun(ctx.world.config({ units: 2 }));
  await ctx.world.drive(() => ctx.world.runtime.runInfo(runId).counts.launched === 2, { label: 'launch' });
  ctx.runId = runId;
  ctx.dashboard = ctx.world.runtime.dashboard();
});

Adapters.after(async (ctx) => {
  await ctx.dashboard?.close();
  await ctx.world?.close();
});

async function check(origin: string, runId: string): Promise<void> {
  const runs = await fetch(`${origin}/dashboard/`);
  assert.is(runs.status, 200);
  assert.match(await runs.text(), runId);
  assert.match(runs.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
  const run = await (await fetch(`${origin}/dashboard/runs/${runId}`)).text();
  assert.match(run, /data-count="launched">2</);
  const js = await fetch(`${origin}/dashboard/app.js`);
  assert.match(js.headers.get('content-type') ?? '', /javascript/);
  const post = await fetch(`${origin}/dashboard/runs/${runId}/review`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ agentId: 'x', kind: 'approve', key: 'k' }),
  });
  assert.is(post.status, 403, 'the body reached the dashboard and the CSRF check refused it');
  assert.is(await (await fetch(`${origin}/app/other`)).text(), 'app route');
}

Adapters('when mounted in Express then it serves its pages and leaves the other routes to the app', async (ctx) => {
  const app = express();
  app.use(dashboardToExpress(ctx.dashboard));
  app.use(express.json());
  app.get('/app/other', (_req, res) => {
    res.send('app route');
  });
  const server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    await check(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, ctx.runId);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

Adapters('when registered in Fastify then it serves its pages and leaves the other routes to the app', async (ctx) => {
  const app = Fastify();
  await app.register(dashboardToFastify(ctx.dashboard));
  app.get('/app/other', async () => 'app route');
  const origin = (await app.listen({ port: 0, host: '127.0.0.1' })).replace('localhost', '127.0.0.1');
  try {
    await check(origin, ctx.runId);
  } finally {
    await app.close();
  }
});

Adapters.run();
