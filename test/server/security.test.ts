// Forged and mismatched ids, bad tokens, other workers' agents, bad bodies and second submits:
// each gets a clear 4xx JSON error and changes nothing. Run on node:http, Express and Fastify.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { signAgentToken } from '../../src/server/token.js';
import { ARRIVAL, OTHER_ARRIVAL, TARGETS, request, type Answer, type Target } from './harness.js';
import { fixture, type Fixture } from './fixture.js';

const MAX_BODY_BYTES = 4096;

function assertError(res: Answer, status: number, code: string, field?: string): void {
  assert.is(res.status, status, `expected ${status} ${code}, got ${res.status} ${res.text.slice(0, 300)}`);
  assert.is(res.headers.get('content-type'), 'application/json; charset=utf-8');
  assert.is(res.json.error.code, code);
  assert.type(res.json.error.message, 'string');
  if (field !== undefined) assert.is(res.json.error.field, field);
  assert.not.match(res.text, /at .+\.(ts|js):\d+/, 'no stack trace');
}

for (const target of TARGETS) securitySuite(target);

function securitySuite(target: Target): void {
  const Security = suite<{ f: Fixture }>(`task-server security [${target}]`, {} as { f: Fixture });
  Security.before.each(async (ctx) => {
    ctx.f = await fixture(target, { maxBodyBytes: MAX_BODY_BYTES });
  });
  Security.after.each(async (ctx) => {
    await ctx.f.running.close();
  });
  const t = (name: string, fn: (f: Fixture) => Promise<void>) => Security(`${name} [${target}]`, (ctx) => fn(ctx.f));

  async function twoWorkers(f: Fixture) {
    const a = (await f.api.register(ARRIVAL)).json;
    const b = (await f.api.register(OTHER_ARRIVAL)).json;
    return { a, b };
  }

  // --- forged or mismatched ids at registration ---------------------------------------------

  t('when a worker registers with a HIT of no run then 403 and nothing is registered', async (f) => {
    assertError(await f.api.register({ ...ARRIVAL, hitId: 'HITFORGED' }), 403, 'HST_ERR_SERVER_ASSIGNMENT_MISMATCH');
    assert.is(f.backend.agents.size, 0);
  });

  t('when another worker claims a registered assignment then 403 without naming its holder', async (f) => {
    await f.api.register(ARRIVAL);
    const res = await f.api.register({ ...ARRIVAL, workerId: 'WORKERC' });
    assertError(res, 403, 'HST_ERR_SERVER_ASSIGNMENT_MISMATCH');
    assert.not.match(res.text, /WORKERA/);
    assert.is(f.backend.agents.size, 1);
    assert.is(f.backend.agents.get('agent-1')?.status, 'in task');
  });

  t('when an assignment is presented with another HIT then 403', async (f) => {
    await f.api.register(ARRIVAL);
    assertError(await f.api.register({ ...ARRIVAL, hitId: 'HIT0002' }), 403, 'HST_ERR_SERVER_ASSIGNMENT_MISMATCH');
    assert.is(f.backend.agents.size, 1);
  });

  t('when a new assignment arrives for a HIT another worker holds then 403 without naming them', async (f) => {
    await f.api.register(ARRIVAL);
    const res = await f.api.register({ hitId: 'HIT0001', assignmentId: 'ASG0009', workerId: 'WORKERC' });
    assertError(res, 403, 'HST_ERR_SERVER_ASSIGNMENT_MISMATCH');
    assert.not.match(res.text, /WORKERA/);
  });

  t('when every unit is taken then the next worker gets 409 no unit available', async (f) => {
    await twoWorkers(f);
    assertError(
      await f.api.register({ hitId: 'HIT0003', assignmentId: 'ASG0003', workerId: 'WORKERC' }),
      409,
      'HST_ERR_NO_UNIT_AVAILABLE',
    );
    assert.is(f.backend.agents.size, 2);
  });

  t('when ids are missing or not MTurk-shaped then 400 names the field', async (f) => {
    assertError(
      await f.api.register({ ...ARRIVAL, workerId: '<script>alert(1)</script>' }),
      400,
      'HST_ERR_SERVER_BAD_REQUEST',
      'workerId',
    );
    assertError(
      await f.api.register({ assignmentId: 'ASG0001', workerId: 'WORKERA' }),
      400,
      'HST_ERR_SERVER_BAD_REQUEST',
      'hitId',
    );
    assertError(
      await f.api.register({ ...ARRIVAL, assignmentId: 42 }),
      400,
      'HST_ERR_SERVER_BAD_REQUEST',
      'assignmentId',
    );
    assertError(
      await f.api.register({ ...ARRIVAL, hitId: 'x'.repeat(129) }),
      400,
      'HST_ERR_SERVER_BAD_REQUEST',
      'hitId',
    );
    assert.equal(f.backend.calls, []);
  });

  t('when the preview placeholder is posted to registration then 400 and nothing is registered', async (f) => {
    const res = await f.api.register({ ...ARRIVAL, assignmentId: 'ASSIGNMENT_ID_NOT_AVAILABLE' });
    assertError(res, 400, 'HST_ERR_SERVER_BAD_REQUEST', 'assignmentId');
    assert.equal(f.backend.calls, []);
  });

  // --- escaping in HTML ---------------------------------------------------------------------

  t('when the task page gets a workerId with a script tag then the error page shows it escaped', async (f) => {
    const res = await f.api.taskPage({ ...ARRIVAL, workerId: '<script>alert(1)</script>' });
    assert.is(res.status, 400);
    assert.match(res.headers.get('content-type')!, /^text\/html/);
    assert.not.match(res.text, /<script>alert/);
    assert.match(res.text, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
    assert.match(res.headers.get('content-security-policy')!, /default-src 'none'/);
    assert.is(f.backend.agents.size, 0);
  });

  t('when the task page gets a forged HIT then a browser gets a 403 page and a client a 403 JSON', async (f) => {
    const page = await f.api.taskPage({ ...ARRIVAL, hitId: 'HITFORGED' });
    assert.is(page.status, 403);
    assert.match(page.text, /HST_ERR_SERVER_ASSIGNMENT_MISMATCH/);
    assertError(
      await f.api.taskPage({ ...ARRIVAL, hitId: 'HITFORGED' }, 'application/json'),
      403,
      'HST_ERR_SERVER_ASSIGNMENT_MISMATCH',
    );
  });

  t('when a preview has a hostile hitId or the HIT a hostile title then the page escapes both', async (f) => {
    const bad = await f.api.taskPage({
      assignmentId: 'ASSIGNMENT_ID_NOT_AVAILABLE',
      hitId: '"><img src=x onerror=alert(1)>',
    });
    assert.is(bad.status, 400);
    assert.not.match(bad.text, /<img/);
    f.backend.preview = async () => ({
      title: '<img src=x onerror=alert(1)>',
      description: '</p><script>x()</script>',
    });
    const page = await f.api.taskPage({ assignmentId: 'ASSIGNMENT_ID_NOT_AVAILABLE', hitId: 'HIT0001' });
    assert.is(page.status, 200);
    assert.not.match(page.text, /<img|<script>x/);
    assert.match(page.text, /&lt;img src=x onerror=alert\(1\)&gt;/);
  });

  // --- tokens -------------------------------------------------------------------------------

  t('when a submit has no token, a malformed one or a non-Bearer header then 401 and nothing is stored', async (f) => {
    const { a } = await twoWorkers(f);
    assertError(await f.api.submit(a.agentId, undefined, { x: 1 }), 401, 'HST_ERR_SERVER_TOKEN_INVALID', 'token');
    assertError(await f.api.submit(a.agentId, 'not-a-token', { x: 1 }), 401, 'HST_ERR_SERVER_TOKEN_INVALID');
    const basic = await request(`${f.running.origin}/hitstate/api/agents/${a.agentId}/submit`, {
      method: 'POST',
      body: '{"data":1}',
      headers: { 'Content-Type': 'application/json', Authorization: `Basic ${a.token}` },
    });
    assertError(basic, 401, 'HST_ERR_SERVER_TOKEN_INVALID');
    assert.is(f.backend.disk.size, 0);
    assert.not.ok(f.backend.calls.some((c) => c.method === 'submit'));
  });

  t('when a token is forged (payload swapped, or signed with another secret) then 401', async (f) => {
    const { a, b } = await twoWorkers(f);
    const [, , bMac] = (b.token as string).split('.');
    const [, aPayload] = (a.token as string).split('.');
    assertError(await f.api.submit(a.agentId, `v1.${aPayload}.${bMac}`, { x: 1 }), 401, 'HST_ERR_SERVER_TOKEN_INVALID');
    const foreign = signAgentToken(
      {
        agentId: a.agentId,
        workerId: ARRIVAL.workerId,
        assignmentId: ARRIVAL.assignmentId,
        expiresAtSec: 4_000_000_000,
      },
      Buffer.from('another-secret-another-secret-another-secret'),
    );
    assertError(await f.api.submit(a.agentId, foreign, { x: 1 }), 401, 'HST_ERR_SERVER_TOKEN_INVALID');
    assert.is(f.backend.disk.size, 0);
  });

  t('when a token has expired then 401, and registering again gives a token that works', async (f) => {
    const reg = (await f.api.register(ARRIVAL)).json;
    await f.clock.advance(86_400_000);
    const res = await f.api.submit(reg.agentId, reg.token, { x: 1 });
    assertError(res, 401, 'HST_ERR_SERVER_TOKEN_INVALID');
    assert.match(res.json.error.message, /expired/);
    assertError(await f.api.heartbeat(reg.agentId, reg.token), 401, 'HST_ERR_SERVER_TOKEN_INVALID');
    const fresh = (await f.api.register(ARRIVAL)).json;
    assert.is(fresh.agentId, reg.agentId);
    assert.is((await f.api.submit(fresh.agentId, fresh.token, { x: 1 })).status, 200);
  });

  t("when a worker uses their token on another worker's agent then 401 and neither agent changes", async (f) => {
    const { a, b } = await twoWorkers(f);
    const submit = await f.api.submit(a.agentId, b.token, { stolen: true });
    assertError(submit, 401, 'HST_ERR_SERVER_TOKEN_INVALID', 'token');
    assertError(await f.api.status(a.agentId, b.token), 401, 'HST_ERR_SERVER_TOKEN_INVALID');
    assertError(await f.api.heartbeat(a.agentId, b.token), 401, 'HST_ERR_SERVER_TOKEN_INVALID');
    assertError(await f.api.disconnectBeacon(a.agentId, b.token), 401, 'HST_ERR_SERVER_TOKEN_INVALID');
    assert.is(f.backend.disk.size, 0);
    assert.is(f.backend.agents.get(a.agentId)?.status, 'in task');
    assert.is(f.backend.agents.get(a.agentId)?.heartbeats, 0);
    assert.not.ok(f.backend.calls.some((c) => c.method !== 'registerAgent'));
  });

  t('when a token is replayed after its submit then 409 and the stored data is unchanged', async (f) => {
    const reg = (await f.api.register(ARRIVAL)).json;
    assert.is((await f.api.submit(reg.agentId, reg.token, { answer: 'first' })).status, 200);
    assertError(
      await f.api.submit(reg.agentId, reg.token, { answer: 'replayed' }),
      409,
      'HST_ERR_SERVER_ALREADY_SUBMITTED',
    );
    assert.equal(f.backend.disk.get(reg.agentId), { answer: 'first' });
    const status = await f.api.status(reg.agentId, reg.token);
    assert.equal(status.json, { agentId: reg.agentId, status: 'completed', submitted: true });
  });

  t(
    'when a second submit arrives while the first is being written then 409 and only the first is stored',
    async (f) => {
      f.backend.durability = 'manual';
      const reg = (await f.api.register(ARRIVAL)).json;
      const first = f.api.submit(reg.agentId, reg.token, { answer: 'first' });
      await f.backend.waitFor(() => f.backend.pendingWrites === 1);
      assertError(
        await f.api.submit(reg.agentId, reg.token, { answer: 'second' }),
        409,
        'HST_ERR_SERVER_ALREADY_SUBMITTED',
      );
      f.backend.flushWrites();
      assert.is((await first).status, 200);
      assert.equal(f.backend.disk.get(reg.agentId), { answer: 'first' });
    },
  );

  // --- bodies -------------------------------------------------------------------------------

  t('when a body is larger than maxBodyBytes (declared or streamed) then 413 and nothing is stored', async (f) => {
    const reg = (await f.api.register(ARRIVAL)).json;
    const big = JSON.stringify({ data: 'x'.repeat(MAX_BODY_BYTES) });
    const declared = await request(`${f.running.origin}/hitstate/api/agents/${reg.agentId}/submit`, {
      method: 'POST',
      body: big,
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${reg.token}` },
    });
    assertError(declared, 413, 'HST_ERR_SERVER_BODY_TOO_LARGE', 'body');
    const chunks = [big.slice(0, 2000), big.slice(2000)];
    const streamed = await request(`${f.running.origin}/hitstate/api/agents/${reg.agentId}/submit`, {
      method: 'POST',
      body: new ReadableStream({
        pull(controller) {
          const next = chunks.shift();
          if (next === undefined) controller.close();
          else controller.enqueue(new TextEncoder().encode(next));
        },
      }),
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${reg.token}` },
      duplex: 'half',
    } as RequestInit);
    assertError(streamed, 413, 'HST_ERR_SERVER_BODY_TOO_LARGE');
    assertError(
      await f.api.register({ ...ARRIVAL, padding: 'x'.repeat(MAX_BODY_BYTES) }),
      413,
      'HST_ERR_SERVER_BODY_TOO_LARGE',
    );
    assert.is(f.backend.disk.size, 0);
    assert.is((await f.api.status(reg.agentId, reg.token)).json.submitted, false);
  });

  t(
    'when a body is malformed (bad JSON, not an object, wrong type, empty, bad UTF-8, no data) then 400 naming it',
    async (f) => {
      const reg = (await f.api.register(ARRIVAL)).json;
      const post = (body: BodyInit, contentType = 'application/json') =>
        request(`${f.running.origin}/hitstate/api/agents/${reg.agentId}/submit`, {
          method: 'POST',
          body,
          headers: { 'Content-Type': contentType, Authorization: `Bearer ${reg.token}` },
        });
      assertError(await post('{"data": '), 400, 'HST_ERR_SERVER_BAD_REQUEST', 'body');
      assertError(await post('[1,2]'), 400, 'HST_ERR_SERVER_BAD_REQUEST', 'body');
      assertError(await post('null'), 400, 'HST_ERR_SERVER_BAD_REQUEST', 'body');
      assertError(await post(''), 400, 'HST_ERR_SERVER_BAD_REQUEST', 'body');
      assertError(await post(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])), 400, 'HST_ERR_SERVER_BAD_REQUEST', 'body');
      assertError(
        await post('data=1', 'application/x-www-form-urlencoded'),
        400,
        'HST_ERR_SERVER_BAD_REQUEST',
        'content-type',
      );
      assertError(await post('{"answer": 1}'), 400, 'HST_ERR_SERVER_BAD_REQUEST', 'data');
      assertError(await f.api.register({}), 400, 'HST_ERR_SERVER_BAD_REQUEST', 'hitId');
      assert.is(f.backend.disk.size, 0);
      assert.not.ok(f.backend.calls.some((c) => c.method === 'submit'));
    },
  );

  // --- what the server never reveals --------------------------------------------------------

  t('when the backend fails unexpectedly then 500 with no detail, and onError gets the error', async (f) => {
    f.backend.registerAgent = async () => {
      throw new Error('database exploded while reading WORKERB');
    };
    const res = await f.api.register(ARRIVAL);
    assertError(res, 500, 'HST_ERR_SERVER_INTERNAL');
    assert.not.match(res.text, /WORKERB|exploded/);
    assert.is(f.errors.length, 1);
    assert.match(String(f.errors[0]), /exploded/);
  });

  t(
    'when the backend returns more than the agent view then only agentId, status and submitted reach the browser',
    async (f) => {
      const reg = (await f.api.register(ARRIVAL)).json;
      const honest = f.backend.agentStatus.bind(f.backend);
      f.backend.agentStatus = async (id) =>
        ({ ...(await honest(id)), workerId: 'WORKERB', others: ['WORKERB'] }) as never;
      const res = await f.api.status(reg.agentId, reg.token);
      assert.equal(res.json, { agentId: reg.agentId, status: 'in task', submitted: false });
    },
  );

  t("when the backend registers an arrival to another worker's agent then the server refuses to send it", async (f) => {
    await f.api.register(OTHER_ARRIVAL);
    const other = await f.backend.registerAgent(OTHER_ARRIVAL);
    f.backend.registerAgent = async () => other;
    const res = await f.api.register(ARRIVAL);
    assertError(res, 500, 'HST_ERR_SERVER_INTERNAL');
    assert.not.match(res.text, /WORKERB|ASG0002|unit-/);
    assert.not.ok('token' in res.json);
  });

  Security.run();
}
