// The dashboard's confirmed actions over a real runtime on the simulator, with plain HTTP: bulk
// reviews of every unit a filter matches (preview with the total and the budget, then confirmed
// with the preview's plan; once per key; a changed set refused), a bonus above the run's budget
// refused, the workers pages with block and a granted qualification confirmed on the simulator,
// and a per-task review template rendered escaped in a sandboxed frame.
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createDashboard, type Dashboard } from '../../src/dashboard/dashboard.js';
import { runtimeSource } from '../../src/dashboard/source.js';
import { isHitstateError } from '../../src/errors.js';
import { createWorld, type SimWorker, type World } from '../support/sim-world.js';
import { launchWithBudget as launch, submitted, withBudget } from './budget-source.js';

interface Ctx {
  world: World;
  runId: string;
  workers: SimWorker[];
  dashboard: Dashboard;
  server: Server;
  base: string;
  csrf: string;
}

const Actions = suite<Ctx>('dashboard actions on the runtime', {} as Ctx);
const HOSTILE = '<script>window.pwned=1</script><img src=x onerror=alert(1)>" onmouseover="alert(2)';

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

Actions.before.each(async (ctx) => {
  ctx.world = await createWorld({ seed: 21 });
  const { runtime } = ctx.world;
  // $4.00: four units at $0.50 with the 20% fee hold $2.40, so $1.60 remains for bonuses.
  const { runId, budgetInConfig } = await launch(ctx.world, '4.00');
  await ctx.world.drive(() => runtime.runInfo(runId).counts.launched === 4, { label: 'launch' });
  ctx.runId = runId;
  ctx.workers = [
    await submitted(ctx.world, runId, { sentiment: 'positive', comment: HOSTILE }),
    await submitted(ctx.world, runId, { sentiment: 'negative', comment: 'too slow' }),
  ];
  const source = runtimeSource(runtime);
  ctx.dashboard = createDashboard(
    budgetInConfig ? source : withBudget(source, runId, '4.00'),
    {
      reviewTemplates: {
        '*': '<h3 class="label">{{submission.sentiment}}</h3><p title={{submission.comment}}>{{submission.comment}}</p><p>by {{worker}}, unit {{unit.index}}</p>',
      },
    },
    true,
  );
  const server = createServer((req, res) => void ctx.dashboard.handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  ctx.server = server;
  ctx.base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/dashboard`;
  const page = await fetchText(`${ctx.base}/runs/${runId}`);
  ctx.csrf = /name="hitstate-csrf" content="([^"]+)"/.exec(page.body)![1]!;
});

Actions.after.each(async (ctx) => {
  await ctx.dashboard?.close();
  ctx.server?.closeAllConnections();
  await new Promise((resolve) => ctx.server?.close(resolve));
  await ctx.world?.close();
});

const post = (ctx: Ctx, path: string, body: object, headers: Record<string, string> = {}) =>
  fetchText(`${ctx.base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-csrf-token': ctx.csrf, ...headers },
    body: JSON.stringify(body),
  });

Actions(
  'when a filtered set is approved in bulk then the preview shows its total and budget, and MTurk approves each once',
  async (ctx) => {
    const { world, runId } = ctx;
    const bulk = `/runs/${runId}/bulk`;
    const preview = JSON.parse((await post(ctx, bulk, { kind: 'approve', state: 'completed', preview: true })).body);
    assert.is(preview.count, 2);
    assert.is(preview.totalUsd, '1.20', 'two rewards of $0.50 and their 20% fee');
    assert.match(preview.text, /Approve 2 units matching state completed\? Total \$1\.20/);
    assert.match(preview.text, /remaining budget \$1\.60 of \$4\.00 \(spent \$0\.00, held \$2\.40\)/);
    assert.is(preview.refusal, null);
    assert.is(world.sim.stats().calls.ApproveAssignment ?? 0, 0, 'a preview sends nothing');

    const confirm = { kind: 'approve', state: 'completed', plan: preview.plan, key: 'bulk-1' };
    const answers = (await world.drive(Promise.all([post(ctx, bulk, confirm), post(ctx, bulk, confirm)]), {
      label: 'bulk approve twice',
    }))!;
    for (const a of answers) {
      const json = JSON.parse(a.body);
      assert.is(json.confirmed, true, a.body);
      assert.match(json.message, /approved 2 of 2, confirmed by MTurk/);
    }
    assert.is(world.sim.stats().calls.ApproveAssignment, 2, 'one approval per unit, once');
    for (const w of ctx.workers) assert.is(world.runtime.agentStatus(w.agentId!), 'approved');

    // Nothing matches any more: a new preview says so, and a stale confirmation sends nothing.
    const again = JSON.parse((await post(ctx, bulk, { kind: 'approve', state: 'completed', preview: true })).body);
    assert.match(again.refusal, /nothing to do/);
    const stale = await post(ctx, bulk, { ...confirm, key: 'bulk-2' });
    assert.is(stale.status, 409);
    assert.is(world.sim.stats().calls.ApproveAssignment, 2);
  },
);

Actions('when the set changed after the preview then the confirmation is refused and nothing is sent', async (ctx) => {
  const { world, runId } = ctx;
  const bulk = `/runs/${runId}/bulk`;
  const preview = JSON.parse(
    (await post(ctx, bulk, { kind: 'reject', feedback: 'Labels contradict the text', preview: true })).body,
  );
  assert.is(preview.count, 2);
  assert.match(preview.text, /Reject 2 units matching no filter \(the whole run\)\? Total \$0\.00/);
  await submitted(world, runId, { sentiment: 'neutral', comment: 'late' });
  const answer = await post(ctx, bulk, {
    kind: 'reject',
    feedback: 'Labels contradict the text',
    plan: preview.plan,
    key: 'r-1',
  });
  assert.is(answer.status, 409);
  assert.match(JSON.parse(answer.body).message, /changed since the preview \(now 3\)/);
  assert.is(world.sim.stats().calls.RejectAssignment ?? 0, 0);
  for (const amountUsd of ['0.00', 'lots', '-1']) {
    const bad = await post(ctx, bulk, { kind: 'bonus', amountUsd, reason: 'r', preview: true });
    assert.is(bad.status, 400, `bonus of ${amountUsd}: ${bad.body}`);
    assert.is(JSON.parse(bad.body).error.field, 'amountUsd');
    const single = await post(ctx, `/runs/${runId}/review`, {
      agentId: ctx.workers[0]!.agentId,
      kind: 'bonus',
      amountUsd,
      reason: 'r',
      key: `bad-${amountUsd}`,
    });
    assert.is(single.status, 400, `single bonus of ${amountUsd}: ${single.body}`);
  }
  const missing = await post(ctx, bulk, { kind: 'reject', preview: true });
  assert.is(missing.status, 400);
  assert.is(JSON.parse(missing.body).error.field, 'feedback');
});

Actions(
  'when bonuses go above the run budget then the bulk and the single bonus are refused with the reason',
  async (ctx) => {
    const { world, runId } = ctx;
    const bulk = `/runs/${runId}/bulk`;
    // Two bonuses of $0.70 cost $1.68 with the fee: above the $1.60 that remains.
    const over = JSON.parse(
      (await post(ctx, bulk, { kind: 'bonus', amountUsd: '0.70', reason: 'Thanks', preview: true })).body,
    );
    assert.match(over.refusal, /\$1\.68 is above the run's remaining budget of \$1\.60/);
    const forced = await post(ctx, bulk, {
      kind: 'bonus',
      amountUsd: '0.70',
      reason: 'Thanks',
      plan: over.plan,
      key: 'b-over',
    });
    assert.is(forced.status, 409);
    const single = await post(ctx, `/runs/${runId}/review`, {
      agentId: ctx.workers[0]!.agentId,
      kind: 'bonus',
      amountUsd: '2.00',
      reason: 'Thanks',
      key: 's-over',
    });
    assert.is(single.status, 409);
    assert.match(JSON.parse(single.body).message, /above the run's remaining budget/);
    assert.is(world.sim.stats().calls.SendBonus ?? 0, 0, 'no bonus was paid');

    const within = JSON.parse(
      (await post(ctx, bulk, { kind: 'bonus', amountUsd: '0.50', reason: 'Thanks', preview: true })).body,
    );
    assert.is(within.refusal, null);
    assert.is(within.totalUsd, '1.20');
    assert.match(within.text, /after this \$0\.40/);
    const paid = (await world.drive(
      post(ctx, bulk, { kind: 'bonus', amountUsd: '0.50', reason: 'Thanks', plan: within.plan, key: 'b-ok' }),
      { label: 'bulk bonus' },
    ))!;
    assert.is(JSON.parse(paid.body).confirmed, true, paid.body);
    assert.is(world.sim.stats().calls.SendBonus, 2);
    const review = await fetchText(`${ctx.base}/runs/${runId}/review`);
    assert.match(review.body, /remaining budget \$0\.40 of \$4\.00/);
  },
);

Actions('when a worker is blocked and qualified from the workers pages then MTurk confirms each once', async (ctx) => {
  const { world, runId } = ctx;
  const worker = ctx.workers[1]!;
  const list = await fetchText(`${ctx.base}/runs/${runId}/workers`);
  assert.is(list.status, 200);
  assert.match(list.body, new RegExp(`data-worker="${worker.workerId}"`));
  const all = await fetchText(`${ctx.base}/workers`);
  assert.is((all.body.match(/<tr data-worker=/g) ?? []).length, 2);

  const path = `/workers/${worker.workerId}`;
  const preview = JSON.parse(
    (await post(ctx, path, { action: 'block', reason: 'copied answers', preview: true })).body,
  );
  assert.match(preview.text, new RegExp(`Block worker ${worker.workerId} from every HIT of requester`));
  assert.is(world.sim.stats().calls.CreateWorkerBlock ?? 0, 0, 'a preview sends nothing');
  const block = { action: 'block', reason: 'copied answers', key: 'w-1' };
  const answers = (await world.drive(Promise.all([post(ctx, path, block), post(ctx, path, block)]), {
    label: 'block twice',
  }))!;
  for (const a of answers) assert.match(JSON.parse(a.body).message, /block of worker .* confirmed by MTurk/, a.body);
  assert.is(world.sim.stats().calls.CreateWorkerBlock, 1);

  const grant = (await world.drive(
    post(ctx, path, { action: 'qualify', qualification: 'trusted', value: '3', key: 'q-1' }),
    {
      label: 'qualify',
    },
  ))!;
  assert.is(JSON.parse(grant.body).confirmed, true, grant.body);
  assert.is(world.sim.stats().calls.AssociateQualificationWithWorker, 1);

  const page = await fetchText(`${ctx.base}${path}`);
  assert.match(page.body, /blocked by .* copied answers/);
  assert.match(page.body, /<td>granted<\/td>/);
  assert.match(page.body, /data-action="unblock"/);
  const listed = await fetchText(`${ctx.base}/workers`);
  assert.match(listed.body, /class="pill s-rejected">blocked</);
  assert.match(listed.body, /<td class="quals">trusted<\/td>/, 'the list names the qualification granted');

  const unblock = (await world.drive(post(ctx, path, { action: 'unblock', key: 'w-2' }), { label: 'unblock' }))!;
  assert.is(JSON.parse(unblock.body).confirmed, true);
  assert.is(world.sim.stats().calls.DeleteWorkerBlock, 1);
  const bad = await post(ctx, '/workers/not-a-worker', { action: 'block', reason: 'x', key: 'k' });
  assert.is(bad.status, 400);
  const noReason = await post(ctx, path, { action: 'block', key: 'k2' });
  assert.is(JSON.parse(noReason.body).error.field, 'reason');
});

Actions('when an action is posted without the CSRF token then it is refused and nothing is sent', async (ctx) => {
  for (const [path, body] of [
    [`/runs/${ctx.runId}/bulk`, { kind: 'approve', plan: 'x', key: 'k' }],
    [`/workers/${ctx.workers[0]!.workerId}`, { action: 'block', reason: 'r', key: 'k' }],
  ] as const) {
    const answer = await post(ctx, path, body, { 'x-csrf-token': 'wrong' });
    assert.is(answer.status, 403, path);
  }
  assert.is(ctx.world.sim.stats().calls.ApproveAssignment ?? 0, 0);
  assert.is(ctx.world.sim.stats().calls.CreateWorkerBlock ?? 0, 0);
});

Actions(
  'when a run has a review template then submissions show through it, escaped, in a sandboxed frame',
  async (ctx) => {
    const worker = ctx.workers[0]!;
    const unit = await fetchText(`${ctx.base}/units/${worker.unitId}`);
    const src = /<iframe class="review-view" sandbox src="([^"]+)"/.exec(unit.body)?.[1];
    assert.ok(src !== undefined, 'the unit page frames the template');
    assert.match(String(unit.headers['content-security-policy']), /frame-src 'self'/);
    const review = await fetchText(`${ctx.base}/runs/${ctx.runId}/review`);
    assert.match(review.body, /<iframe class="review-view" sandbox/);

    const view = await fetchText(
      `http://127.0.0.1:${(ctx.server.address() as AddressInfo).port}${src!.replaceAll('&amp;', '&')}`,
    );
    assert.is(view.status, 200);
    const csp = String(view.headers['content-security-policy']);
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /sandbox/);
    assert.not.match(csp, /script-src/);
    assert.is(view.headers['x-frame-options'], 'SAMEORIGIN');
    assert.match(view.body, /<h3 class="label">positive<\/h3>/);
    assert.match(view.body, new RegExp(`by ${worker.workerId}, unit \\d`));
    assert.not.match(view.body, /<script>/);
    assert.not.match(view.body, /<img/);
    assert.match(view.body, /&#60;script&#62;window\.pwned&#61;1&#60;\/script&#62;/);
    // In the unquoted attribute the value stays one attribute: no space or = ends it or starts another.
    assert.match(view.body, /title=&#60;script&#62;/);
    assert.not.match(view.body, / onerror=/);
    assert.not.match(view.body, / onmouseover=/);

    const foreign = await fetchText(`${ctx.base}/units/${worker.unitId}/view?agent=${ctx.workers[1]!.agentId}`);
    assert.is(foreign.status, 400, 'an agent of another unit is refused');
    assert.throws(
      () => createDashboard(runtimeSource(ctx.world.runtime), { reviewTemplates: { x: '' } }),
      (err: unknown) =>
        isHitstateError(err) && err.code === 'HST_ERR_CONFIG_INVALID' && /reviewTemplates\.x/.test(err.message),
    );
  },
);

Actions.run();
