// The standalone dashboard: a store read read-only while the runtime of another "process" (the
// world's) holds it, re-read on the virtual clock; review shown disabled with the reason and
// refused by the handler. Then `hitstate dashboard` and `hitstate demo --dashboard` in-process on
// ephemeral loopback ports, stopped with their Ctrl-C signal.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { dashboardCommand, dashboardToken, reviewTemplatesOption } from '../../src/cli/commands/dashboard.js';
import { demoCommand } from '../../src/cli/commands/demo.js';
import { parseCommandArgs } from '../../src/cli/command.js';
import { createDashboard } from '../../src/dashboard/dashboard.js';
import { storeSource, type FeedEvent } from '../../src/dashboard/source.js';
import { captureIO } from '../cli/helpers.js';
import { createWorld } from '../support/sim-world.js';

const Standalone = suite('standalone dashboard');

/** A captured IO whose `printed(re)` resolves once stdout matches (no polling on wall time). */
function watchedIO(env: Record<string, string> = {}) {
  const io = captureIO({ env });
  const waiters: { re: RegExp; resolve: () => void }[] = [];
  const out = io.out;
  const watched = {
    ...io,
    out(text: string) {
      out(text);
      for (const w of waiters.splice(0))
        if (w.re.test(io.stdout())) w.resolve();
        else waiters.push(w);
    },
    printed(re: RegExp): Promise<void> {
      return re.test(io.stdout()) ? Promise.resolve() : new Promise((resolve) => waiters.push({ re, resolve }));
    },
  };
  return watched;
}

async function rejects(work: () => Promise<unknown>, pattern: RegExp): Promise<void> {
  try {
    await work();
  } catch (err) {
    assert.match((err as Error).message, pattern);
    return;
  }
  assert.unreachable(`expected a failure matching ${pattern}`);
}

Standalone(
  'when another process holds the store then the dashboard reads it, follows it and reviews through it',
  async () => {
    const world = await createWorld({ seed: 21 });
    try {
      const { runtime } = world;
      const { runId } = await runtime.launchRun(world.config({ units: 2 }));
      await world.drive(() => runtime.runInfo(runId).counts.launched === 2, { label: 'launch' });
      await runtime.whenIdle();
      const source = await storeSource({
        storeDir: world.storeDir,
        environment: { kind: 'custom', endpoint: world.sim.url },
        clock: world.clock,
        refreshMs: 2000,
      });
      const seen: FeedEvent[] = [];
      source.subscribe((e) => seen.push(e));
      const dashboard = createDashboard(source, {}, true);
      const server = createServer((req, res) => void dashboard.handle(req, res));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/dashboard`;
      try {
        const runs = await (await fetch(`${base}/`)).text();
        assert.match(runs, runId);
        assert.match(runs, /read-only store view/);
        // The store is held by a live process (the runtime here): review is on, through review requests.
        const review = await (await fetch(`${base}/runs/${runId}/review`)).text();
        assert.not.match(review, /data-action="approve" disabled/);

        const worker = world.worker();
        await worker.accept(world.hitTypeId(runId));
        await worker.register();
        await world.drive(() => runtime.unitStatus(worker.unitId!) === 'assigned', { label: 'assigned' });
        await runtime.whenIdle();
        // The re-read is timed on the virtual clock, its pace set by how long reading took: drive
        // until the feed shows the change, whatever the machine's speed.
        await world.drive(() => seen.some((e) => e.unitId === worker.unitId && /→ assigned$/.test(e.text)), {
          label: 'the change between two reads became a feed event',
        });
        const table = await (await fetch(`${base}/runs/${runId}/units?state=assigned`)).text();
        assert.match(table, worker.unitId!);

        await worker.submit({ sentiment: 'positive', comment: 'from the standalone test' });
        await world.drive(() => runtime.unitStatus(worker.unitId!) === 'completed', { label: 'completed' });
        await world.advance(30_000);
        await runtime.whenIdle();
        const page = await (await fetch(`${base}/runs/${runId}/review`)).text();
        const csrf = /name="hitstate-csrf" content="([^"]+)"/.exec(page)![1]!;
        // The review is posted to the store; the runtime executes it and the dashboard shows its answer.
        const approved = await world.drive(
          fetch(`${base}/runs/${runId}/review`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-csrf-token': csrf },
            body: JSON.stringify({ agentId: worker.agentId, kind: 'approve', key: 'k' }),
          }),
          { label: 'review through the store' },
        );
        assert.is(approved!.status, 200, await approved!.clone().text());
        const assignments = world.account().hits.flatMap((h) => h.assignments);
        assert.equal(
          assignments.filter((a) => a.status === 'Approved').map((a) => a.workerId),
          [worker.workerId],
        );
        const bulk = await fetch(`${base}/runs/${runId}/bulk`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-csrf-token': csrf },
          body: JSON.stringify({ kind: 'approve', preview: true }),
        });
        assert.is(bulk.status, 200, await bulk.clone().text());
        // Worker actions stay the owning process's: shown disabled, refused when posted.
        const workerPage = await (await fetch(`${base}/workers/${worker.workerId}`)).text();
        assert.match(workerPage, /block, unblock and qualify workers with `hitstate worker`/);
        assert.match(workerPage, /data-action="block">.*disabled/s);
        const block = await fetch(`${base}/workers/${worker.workerId}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-csrf-token': csrf },
          body: JSON.stringify({ action: 'block', reason: 'r', key: 'k' }),
        });
        assert.is(block.status, 409);
        assert.is(world.sim.stats().calls.CreateWorkerBlock ?? 0, 0);

        // Nobody runs the store any more: a review sent from here could not be executed, so it is refused.
        await runtime.close();
        const reads = seen.filter((e) => e.kind === 'refresh').length;
        await world.drive(() => seen.filter((e) => e.kind === 'refresh').length > reads, {
          label: 'the store read again',
        });
        const refused = await fetch(`${base}/runs/${runId}/review`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-csrf-token': csrf },
          body: JSON.stringify({ agentId: worker.agentId, kind: 'approve', key: 'k2' }),
        });
        assert.is(refused.status, 409);
        assert.match(((await refused.json()) as { error: { message: string } }).error.message, /hitstate resume RUN/);
      } finally {
        await dashboard.close();
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
      }
    } finally {
      await world.close();
    }
  },
);

Standalone('when `hitstate dashboard` runs then it prints its URL, serves the store and stops on Ctrl-C', async () => {
  const world = await createWorld({ seed: 22 });
  try {
    const { runId } = await world.runtime.launchRun(world.config({ units: 1 }));
    await world.drive(() => world.runtime.runInfo(runId).counts.launched === 1, { label: 'launch' });
    await world.runtime.whenIdle();
    const io = watchedIO();
    const template = join(world.storeDir, '..', 'review.html');
    writeFileSync(template, '<p class="sentiment">{{submission.sentiment}}</p>');
    const args = parseCommandArgs(
      dashboardCommand,
      ['--store', world.storeDir, '--port', '0', '--review-template', `${runId}=${template}`],
      io.env,
    );
    const exit = dashboardCommand.run(args, io);
    await io.printed(/open {2}http/);
    const url = /open {2}(\S+)/.exec(io.stdout())![1]!;
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/dashboard\/$/);
    assert.match(io.stdout(), /access: loopback only/);
    assert.match(await (await fetch(url)).text(), runId);
    assert.equal(reviewTemplatesOption(`${runId}=${template}`, '/'), {
      [runId]: '<p class="sentiment">{{submission.sentiment}}</p>',
    });
    assert.equal(Object.keys(reviewTemplatesOption(template, '/')!), ['*']);
    io.interrupt.abort();
    assert.is(await exit, 0);
    assert.match(io.stdout(), /hitstate dashboard stopped/);
  } finally {
    await world.close();
  }
});

Standalone('when `hitstate dashboard` is given bad options then it names the option and the fix', async () => {
  const io = captureIO();
  const empty = mkdtempSync(join(tmpdir(), 'hitstate-dash-'));
  try {
    const run = (argv: string[]) => dashboardCommand.run(parseCommandArgs(dashboardCommand, argv, io.env), io);
    await rejects(() => run(['--store', empty, '--port', '0']), /no store under .*pass --store DIR/);
    await rejects(() => run(['--store', empty, '--token', 'short']), /--token must be at least 16 characters/);
    await rejects(() => run(['--store', empty, '--port', '70000']), /--port must be a whole number from 0 to 65535/);
    await rejects(
      () => run(['--store', empty, '--review-template', 'r1=/nonexistent/review.html']),
      /--review-template r1=\/nonexistent\/review\.html: cannot read .*ENOENT/,
    );
    assert.is(dashboardToken({}, '127.0.0.1'), undefined, 'loopback needs no token');
    assert.match(dashboardToken({}, '0.0.0.0') ?? '', /^[A-Za-z0-9_-]{32}$/, 'any other host gets a fresh one');
  } finally {
    rmSync(empty, { recursive: true, force: true });
  }
});

Standalone(
  'when the demo runs with --dashboard then its dashboard stays open at the printed URL until Ctrl-C',
  async () => {
    const store = mkdtempSync(join(tmpdir(), 'hitstate-demo-dash-'));
    try {
      const io = watchedIO({ HITSTATE_DASHBOARD_PORT: '0' });
      const args = parseCommandArgs(
        demoCommand,
        ['--units', '3', '--seed', '4', '--pace', '0', '--store', store, '--dashboard'],
        io.env,
      );
      const exit = demoCommand.run(args, io);
      await Promise.race([io.printed(/dashboard is open at http/), exit]);
      const url = /dashboard is open at (\S+)/.exec(io.stdout())![1]!;
      const page = await (await fetch(url)).text();
      assert.match(page, /demo-/);
      io.interrupt.abort();
      assert.is(await exit, 0);
    } finally {
      rmSync(store, { recursive: true, force: true });
    }
  },
);

Standalone.run();
