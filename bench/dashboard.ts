// Benchmark 6, the run dashboard (child process; `npm run bench -- --only dashboard`). The
// 10,000-unit fixture run (every unit assigned, its worker in the task) is resumed against
// `hitstate sim` in its own process, and the runtime syncs it cycle after cycle (1% of the workers
// submit and one returns before each cycle, as in benchmark 1) while the embedded dashboard
// (`runtime.dashboard()`) serves it on a loopback port:
//   - the run page's first load, asked while a status-sync cycle runs (target < 1 s), and the
//     median of the next 10 loads, each while a cycle runs; a sorted and searched page;
//   - the live feed's cost: a page holds the run's server-sent-events stream open; each message
//     (the counts of every unit, the flows, the batched events) and the unit-table fragment the
//     page fetches when units changed, CPU each; at most one message a second and one fragment
//     per max(1 s, 20 times its fetch's wall time), as the page asks, so the share of a core the
//     dashboard adds to the syncing run (target < 5%);
//   - the same cycles' CPU with and without the dashboard's page and feed, as a cross-check;
//   - the standalone dashboard's read of the store (`hitstate dashboard`), CPU per re-read.
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { runtimeSource } from '../src/dashboard/source.js';
import { countsOf } from '../src/dashboard/views.js';
import { openStore } from '../src/store/index.js';
import { progress } from './support/child.js';
import { cpuMsSince, median } from './support/numbers.js';
import { measureCycle, submitsPerCycle, withResumedFixture } from './support/resumed-run.js';
import type { RunFixture } from './support/run-fixture.js';

export interface DashboardBenchArgs {
  readonly fixture: RunFixture;
  /** Cycles measured with and without the dashboard. @defaultValue 6 */
  readonly cycles?: number;
}

export interface DashboardBenchResult {
  readonly units: number;
  /** Wall ms of the run page's first load, asked while a status-sync cycle ran. */
  readonly firstLoadMs: number;
  readonly firstLoadBytes: number;
  /** Median wall ms of the next 10 loads, each while a cycle ran. */
  readonly nextLoadsMedianMs: number;
  readonly searchedLoadMs: number;
  /** CPU ms of one live message (counts, flows, events) as the feed built it. */
  readonly messageCpuMs: number;
  /** CPU ms of the unit-table fragment the page fetches after a message with unit changes. */
  readonly fragmentCpuMs: number;
  /** Wall ms of that fragment's fetch (the page spaces its fetches by 20 times it, and 1 s). */
  readonly fragmentWallMs: number;
  /**
   * The dashboard's share of one core while the run changes: one message a second, and one
   * fragment per max(1 s, 20 × its wall time), as the page asks.
   */
  readonly liveShare: number;
  /** Median CPU ms of one status-sync cycle without, then with the dashboard's page and feed. */
  readonly cycleCpuMsWithout: number;
  readonly cycleCpuMsWith: number;
  /** Live messages the feed sent during the measured cycles. */
  readonly messages: number;
  /** CPU ms of one read-only read of the store (the standalone dashboard's re-read). */
  readonly standaloneRereadCpuMs: number;
}

/** Reads a live feed, counting its messages (the client side stays light: no JSON parse). */
function openFeed(url: string): Promise<{ count: () => number; close: () => void }> {
  return new Promise((resolve, reject) => {
    let messages = 0;
    const req = request(url, (res) => {
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        messages += d.split('\n\n').length - 1;
      });
      resolve({ count: () => messages, close: () => req.destroy() });
    });
    req.on('error', reject);
    req.end();
  });
}

export async function measure(args: DashboardBenchArgs): Promise<DashboardBenchResult> {
  const { fixture } = args;
  const cycles = args.cycles ?? 6;
  return withResumedFixture(fixture, async (run) => {
    const { runtime, runId, opened } = run;
    const cycle = async (): Promise<number> => (await measureCycle(run, submitsPerCycle(fixture.units), 1)).cpuMs;
    // Warm the runtime (the first cycle after a resume sees every HIT for the first time).
    await cycle();
    const without: number[] = [];
    for (let k = 0; k < cycles; k++) without.push(await cycle());
    progress(`cycles without the dashboard: ${without.map((x) => x.toFixed(0)).join(', ')} ms CPU`);

    const dashboard = runtime.dashboard();
    const server = createServer((req, res) => void dashboard.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/dashboard`;
    const page = `${base}/runs/${encodeURIComponent(runId)}`;
    const load = async (url: string): Promise<{ ms: number; bytes: number }> => {
      const t = performance.now();
      const body = await (await fetch(url)).text();
      return { ms: performance.now() - t, bytes: Buffer.byteLength(body) };
    };
    // The first load of the page, while the runtime syncs.
    progress('dashboard listening; first load while a cycle runs');
    const syncing = cycle();
    const first = await load(page);
    progress(`first load answered in ${first.ms.toFixed(0)} ms; waiting for the cycle`);
    await syncing;
    const next: number[] = [];
    for (let k = 0; k < 10; k++) {
      const during = cycle();
      next.push((await load(page)).ms);
      await during;
    }
    const searched = await load(`${page}?sort=since&dir=desc&q=ABENCH0001`);
    progress(`first load ${first.ms.toFixed(0)} ms, next ${next.map((x) => x.toFixed(0)).join(', ')} ms`);

    // The feed: one page open on the run's stream; each cycle is followed by one second of the
    // runtime's clock (one batch) and the table fragment the page fetches when units changed.
    const feed = await openFeed(`${base}/events?run=${encodeURIComponent(runId)}`);
    const withDashboard: number[] = [];
    const fragmentCpu: number[] = [];
    const fragmentWall: number[] = [];
    for (let k = 0; k < cycles; k++) {
      const c = process.cpuUsage();
      await cycle();
      opened.clock.advance(1000);
      const f = process.cpuUsage();
      fragmentWall.push((await load(`${page}/units`)).ms);
      fragmentCpu.push(cpuMsSince(f));
      withDashboard.push(cpuMsSince(c));
    }
    const messages = feed.count();
    feed.close();
    progress(`cycles with the page and feed: ${withDashboard.map((x) => x.toFixed(0)).join(', ')} ms CPU`);

    // One live message as the feed builds it: the run's counts, the hour's flows, 50 events, JSON.
    const source = runtimeSource(runtime);
    const events = Array.from({ length: 50 }, (_, i) => ({
      at: i,
      runId,
      kind: 'unit',
      unitId: `u${i}`,
      text: 'unit assigned → completed',
    }));
    const reps = 20;
    const m = process.cpuUsage();
    for (let k = 0; k < reps; k++)
      JSON.stringify({
        counts: { [runId]: countsOf(source, runId) },
        flows: { [runId]: source.flows(runId, 0) },
        events,
      });
    const messageCpuMs = cpuMsSince(m) / reps;
    await source.close();

    await dashboard.close();
    server.closeAllConnections();
    server.close();

    const r = process.cpuUsage();
    const again = await openStore({ dir: opened.storeDir, environment: runtime.environment, readOnly: true });
    await again.close();
    const standaloneRereadCpuMs = cpuMsSince(r);

    run.assertNoErrors();
    const fragmentCpuMs = median(fragmentCpu);
    const fragmentWallMs = median(fragmentWall);
    return {
      units: fixture.units,
      firstLoadMs: first.ms,
      firstLoadBytes: first.bytes,
      nextLoadsMedianMs: median(next),
      searchedLoadMs: searched.ms,
      messageCpuMs,
      fragmentCpuMs,
      fragmentWallMs,
      liveShare: messageCpuMs / 1000 + fragmentCpuMs / Math.max(1000, 20 * fragmentWallMs),
      cycleCpuMsWithout: median(without),
      cycleCpuMsWith: median(withDashboard),
      messages,
      standaloneRereadCpuMs,
    };
  });
}
