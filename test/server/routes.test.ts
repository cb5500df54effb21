// Every task-server route, on node:http, Express and Fastify (target in the test name).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ARRIVAL, TARGETS, request, turns, type Target } from './harness.js';
import { fixture, type Fixture } from './fixture.js';

for (const target of TARGETS) routesSuite(target);

function routesSuite(target: Target): void {
  const Routes = suite<{ f: Fixture }>(`task-server routes [${target}]`, {} as { f: Fixture });
  Routes.before.each(async (ctx) => {
    ctx.f = await fixture(target);
  });
  Routes.after.each(async (ctx) => {
    await ctx.f.running.close();
  });
  const t = (name: string, fn: (f: Fixture) => Promise<void>) => Routes(`${name} [${target}]`, (ctx) => fn(ctx.f));

  t(
    'when MTurk previews the task page (ASSIGNMENT_ID_NOT_AVAILABLE) then the preview shows and nothing is registered',
    async (f) => {
      const page = await f.api.taskPage({
        assignmentId: 'ASSIGNMENT_ID_NOT_AVAILABLE',
        hitId: 'HIT0001',
        turkSubmitTo: 'https://www.mturk.com',
      });
      assert.is(page.status, 200);
      assert.match(page.headers.get('content-type')!, /^text\/html; charset=utf-8/);
      assert.match(page.text, /<h1>Label a sentence<\/h1>/);
      assert.match(
        page.text,
        /<script src="\/hitstate\/wrapper\.js" data-hitstate-api="\/hitstate\/api" data-hitstate-submit-origins="https:\/\/www\.mturk\.com https:\/\/workersandbox\.mturk\.com"><\/script>/,
      );
      assert.match(page.headers.get('content-security-policy')!, /default-src 'none'/);
      assert.equal(
        f.backend.calls.map((c) => c.method),
        ['preview'],
      );
      assert.is(f.backend.agents.size, 0);
    },
  );

  t('when the task page has an assignment but no workerId then it is treated as a preview', async (f) => {
    const page = await f.api.taskPage({ assignmentId: 'ASG0001', hitId: 'HIT0001' });
    assert.is(page.status, 200);
    assert.match(page.text, /This is a preview/);
    assert.is(f.backend.agents.size, 0);
  });

  t(
    'when an accepted worker opens the task page then it registers and serves the page with the wrapper first in head',
    async (f) => {
      const page = await f.api.taskPage({ ...ARRIVAL, turkSubmitTo: 'https://www.mturk.com' });
      assert.is(page.status, 200);
      assert.match(page.text, /^<!doctype html><html lang="en"><head><script src="\/hitstate\/wrapper\.js"/);
      assert.match(page.text, /<h1>Unit unit-1<\/h1>/);
      // The unit's text is escaped by the page function's html tag.
      assert.match(page.text, /The soup was &lt;b&gt;cold&lt;\/b&gt;\./);
      assert.is(
        page.headers.get('content-security-policy'),
        "base-uri 'self'; object-src 'none'; form-action https://www.mturk.com https://workersandbox.mturk.com",
        'the default CSP lets forms go only where the wrapper may submit',
      );
      assert.is(page.headers.get('cache-control'), 'no-store');
      assert.is(page.headers.get('referrer-policy'), 'strict-origin-when-cross-origin');
      assert.is(f.backend.agents.get('agent-1')?.workerId, 'WORKERA');
    },
  );

  t(
    'when the wrapper script is fetched then it is JavaScript with nosniff, cache headers and an ETag that revalidates',
    async (f) => {
      const first = await request(`${f.running.origin}/hitstate/wrapper.js`);
      assert.is(first.status, 200);
      assert.is(first.headers.get('content-type'), 'text/javascript; charset=utf-8');
      assert.is(first.headers.get('x-content-type-options'), 'nosniff');
      assert.is(first.headers.get('cache-control'), 'public, max-age=300, must-revalidate');
      assert.match(first.text, /window\.hitstate = Object\.freeze/);
      const again = await request(`${f.running.origin}/hitstate/wrapper.js`, {
        headers: { 'If-None-Match': first.headers.get('etag')! },
      });
      assert.is(again.status, 304);
      assert.is(again.text, '');
    },
  );

  t(
    'when a worker registers then the answer has the agent, the task data and a token, and again the same agent',
    async (f) => {
      const first = await f.api.register(ARRIVAL);
      assert.is(first.status, 200);
      assert.equal(Object.keys(first.json).sort(), [
        'agentId',
        'heartbeatIntervalSec',
        'status',
        'submitted',
        'task',
        'token',
        'tokenExpiresAt',
        'unitId',
      ]);
      assert.equal(
        {
          agentId: first.json.agentId,
          unitId: first.json.unitId,
          status: first.json.status,
          submitted: first.json.submitted,
        },
        {
          agentId: 'agent-1',
          unitId: 'unit-1',
          status: 'in task',
          submitted: false,
        },
      );
      assert.equal(first.json.task, { text: 'The soup was <b>cold</b>.' });
      assert.is(first.json.tokenExpiresAt, new Date(f.clock.now() + 86_400_000).toISOString());
      assert.is(first.json.heartbeatIntervalSec, 20);
      const reload = await f.api.register(ARRIVAL);
      assert.is(reload.json.agentId, 'agent-1');
      assert.is(f.backend.agents.size, 1);
    },
  );

  t('when the worker submits then the data is stored and the answer says submitted', async (f) => {
    const reg = (await f.api.register(ARRIVAL)).json;
    const data = { sentiment: 'negative', comment: 'cold soup', nested: [1, 'two', null, { ü: '✓' }] };
    const res = await f.api.submit(reg.agentId, reg.token, data);
    assert.is(res.status, 200);
    assert.equal(res.json, { agentId: 'agent-1', submitted: true });
    assert.equal(f.backend.disk.get('agent-1'), data);
    assert.is(f.backend.units.get('unit-1')?.status, 'completed');
    const reload = (await f.api.register(ARRIVAL)).json;
    assert.is(reload.submitted, true);
    assert.equal(reload.submission, data);
  });

  t('when the backend holds the write then the submit answer waits until the data is on disk', async (f) => {
    f.backend.durability = 'manual';
    const reg = (await f.api.register(ARRIVAL)).json;
    const answer = f.api.submit(reg.agentId, reg.token, { sentiment: 'positive', comment: '' }).then((res) => {
      f.backend.log.push(`answered ${res.status}`);
      return res;
    });
    await f.backend.waitFor(() => f.backend.pendingWrites === 1);
    await turns(20);
    assert.equal(f.backend.log, ['write-pending agent-1'], 'no answer may leave before the write');
    f.backend.flushWrites();
    const res = await answer;
    assert.is(res.status, 200);
    assert.equal(f.backend.log, ['write-pending agent-1', 'written agent-1', 'answered 200']);
  });

  t('when the wrapper sends heartbeats and asks for status then both report the agent only', async (f) => {
    const reg = (await f.api.register(ARRIVAL)).json;
    const beat = await f.api.heartbeat(reg.agentId, reg.token);
    assert.is(beat.status, 200);
    assert.equal(beat.json, { agentId: 'agent-1', status: 'in task', submitted: false });
    assert.is(f.backend.agents.get('agent-1')?.heartbeats, 1);
    const status = await f.api.status(reg.agentId, reg.token);
    assert.equal(status.json, { agentId: 'agent-1', status: 'in task', submitted: false });
  });

  t('when the page hides then the beacon disconnects the agent, and registering again reconnects it', async (f) => {
    const reg = (await f.api.register(ARRIVAL)).json;
    const res = await f.api.disconnectBeacon(reg.agentId, reg.token);
    assert.is(res.status, 200);
    assert.is(f.backend.agents.get('agent-1')?.status, 'disconnect');
    const again = await f.api.register(ARRIVAL);
    assert.is(again.json.agentId, 'agent-1');
    assert.is(f.backend.agents.get('agent-1')?.status, 'in task');
  });

  t('when the wrapper asks for preview data then it gets the public preview and nothing is registered', async (f) => {
    const res = await f.api.preview('HIT0001');
    assert.is(res.status, 200);
    assert.equal(res.json, {
      title: 'Label a sentence',
      description: 'Say whether a sentence is positive.',
      data: { text: 'An example.' },
    });
    assert.equal(
      f.backend.calls.map((c) => c.method),
      ['preview'],
    );
  });

  t('when a task asset is fetched then it is served with its type, and a path leaving the folder is 404', async (f) => {
    const js = await request(`${f.running.origin}/hitstate/assets/label-task.js`);
    assert.is(js.status, 200);
    assert.is(js.headers.get('content-type'), 'text/javascript; charset=utf-8');
    assert.match(js.text, /window\.hitstate\.getTask\(\)/);
    for (const path of ['..%2Ftask.html', '%2e%2e/task.html', '.hidden', 'missing.js', 'a%00b']) {
      const res = await request(`${f.running.origin}/hitstate/assets/${path}`);
      assert.is(res.status, 404, path);
      assert.is(res.json.error.code, 'HST_ERR_SERVER_NOT_FOUND');
    }
  });

  t('when a path under the prefix is unknown then the answer is a 404 JSON error', async (f) => {
    const res = await request(`${f.running.origin}/hitstate/nope`);
    assert.is(res.status, 404);
    assert.is(res.json.error.code, 'HST_ERR_SERVER_NOT_FOUND');
    assert.is(res.headers.get('content-type'), 'application/json; charset=utf-8');
  });

  t('when a route gets the wrong method then the answer is 405 with Allow', async (f) => {
    const res = await request(`${f.running.origin}/hitstate/api/agents`, { method: 'GET' });
    assert.is(res.status, 405);
    assert.is(res.headers.get('allow'), 'POST');
    assert.is(res.json.error.code, 'HST_ERR_SERVER_METHOD_NOT_ALLOWED');
  });

  t(
    'when the ids would build an agent id longer than the store takes then registration is refused with 400 naming the limit; the longest that fit work on every agent route',
    async (f) => {
      f.backend.agentIds = 'derived';
      const tooLong = await f.api.register({
        hitId: 'HIT0001',
        assignmentId: 'A'.repeat(64),
        workerId: 'W'.repeat(64),
      });
      assert.is(tooLong.status, 400);
      assert.is(tooLong.json.error.field, 'assignmentId');
      assert.match(tooLong.json.error.message, /at most 127 characters .* limited to 128/);
      assert.is(f.backend.calls.filter((c) => c.method === 'registerAgent').length, 0, 'the backend never heard of it');
      const arrival = { hitId: 'HIT0001', assignmentId: 'A'.repeat(64), workerId: 'W'.repeat(63) };
      const reg = (await f.api.register(arrival)).json;
      assert.is(reg.agentId, `${'A'.repeat(64)}-${'W'.repeat(63)}`);
      assert.is((await f.api.heartbeat(reg.agentId, reg.token)).status, 200);
      assert.is((await f.api.status(reg.agentId, reg.token)).status, 200);
      assert.is((await f.api.submit(reg.agentId, reg.token, { ok: true })).status, 200);
      assert.equal(f.backend.disk.get(reg.agentId), { ok: true });
    },
  );

  t('when a request is outside the prefix then the application behind the server answers it', async (f) => {
    const res = await request(`${f.running.origin}/app/other`);
    assert.is(res.status, 200);
    assert.is(res.text, 'app route');
  });

  Routes.run();
}
