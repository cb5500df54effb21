// Dashboard benchmark (`npx tsx bench/dashboard.ts [--units N]`): a store of 10,000 units (a mix
// of states; 40% with an agent and a submission, as in bench/store.bench.ts), served by the
// standalone dashboard (`hitstate dashboard`'s read-only source) on a loopback port. Measures
//   - the run page's first load (the first request after the dashboard opened) and the median of
//     the next 10 loads, wall time through HTTP; target < 1 s;
//   - the CPU of one live message (counts over every unit) and of one re-read of the store, and
//     so the share of one core the dashboard takes at one message a second, and with the
//     standalone re-reads (every 2 s, or 20 times the last re-read's duration if longer); target < 5%.
// The embedded dashboard reads the same records and asks the runtime each unit's status instead.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VirtualClock } from '../src/clock.js';
import { createDashboard } from '../src/dashboard/dashboard.js';
import { storeSource } from '../src/dashboard/source.js';
import { countsOf } from '../src/dashboard/views.js';
import { openStore } from '../src/store/index.js';

const ENV = { kind: 'sandbox' } as const;
const RUN = 'bench-run';
const args = process.argv.slice(2);
const UNITS = Number(args[args.indexOf('--units') + 1] ?? 10_000) || 10_000;
const STATES = ['launched', 'assigned', 'completed', 'accepted', 'expired'] as const;

async function build(dir: string): Promise<void> {
  const store = await openStore({ dir, environment: ENV, clock: new VirtualClock(Date.UTC(2026, 10, 25)) });
  store.requesters.put({ name: 'lab', credentialSource: { kind: 'profile', profile: 'lab' } });
  store.runs.create({
    runId: RUN,
    requesterName: 'lab',
    config: { title: 'Label 20 images', reward: '0.50' },
    status: 'running',
  });
  const at = Date.UTC(2026, 10, 25);
  for (let i = 0; i < UNITS; i++) {
    const id = String(i).padStart(5, '0');
    const unitId = `u-${id}`;
    const hitId = `3U18MJKL1WA8S1G7ULNIMQ${id}ED9`;
    store.units.create({ unitId, runId: RUN, index: i, payAmountUsd: '0.50', status: 'launched' });
    store.hits.add({
      hitId,
      runId: RUN,
      link: `https://workersandbox.mturk.com/projects/X/tasks?hit=${hitId}`,
      assignmentDurationSec: 1800,
      expiresAt: at + 86_400_000,
      createdAt: at - 3_600_000,
      status: 'Assignable',
    });
    const state = STATES[i % STATES.length]!;
    if (state === 'launched' || state === 'expired') {
      store.units.setStatus(unitId, state);
      continue;
    }
    const assignmentId = `34QN5IT0T2G6HMWH25AHYC${id}608U`;
    const workerId = `A12IHTKQF${String(i % 2000).padStart(5, '0')}`;
    store.hits.bind({ hitId, unitId, assignmentId });
    store.agents.create({ agentId: `ag-${id}`, unitId, workerId, assignmentId, hitId, status: 'in task' });
    store.units.assignAgent(unitId, `ag-${id}`, workerId);
    store.units.setStatus(unitId, state);
    if (state !== 'assigned') {
      store.agents.setStatus(`ag-${id}`, 'completed');
      store.agents.recordSubmission(
        `ag-${id}`,
        { labels: ['cat', 'dog'], comment: `unit ${i}`, durationSec: 300 + (i % 600) },
        at,
      );
    }
  }
  await store.flush();
  await store.close();
}

const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const dir = mkdtempSync(join(tmpdir(), 'hitstate-dashboard-bench-'));
try {
  await build(dir);
  const source = await storeSource({
    storeDir: dir,
    environment: ENV,
    clock: { now: Date.now, setTimeout: () => 0, clearTimeout: () => {} },
  });
  const dashboard = createDashboard(source);
  const server = createServer((req, res) => void dashboard.handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/dashboard/runs/${RUN}`;
  const load = async (): Promise<{ ms: number; bytes: number }> => {
    const started = performance.now();
    const body = await (await fetch(url)).text();
    return { ms: performance.now() - started, bytes: body.length };
  };
  const first = await load();
  const next: number[] = [];
  for (let i = 0; i < 10; i++) next.push((await load()).ms);
  const sorted = await load();
  void sorted;
  const bySince = performance.now();
  await (await fetch(`${url}?sort=since&dir=desc&q=unit%2099`)).text();
  const searchMs = performance.now() - bySince;

  const messages = 20;
  let c0 = cpuMs();
  for (let i = 0; i < messages; i++) JSON.stringify(countsOf(source, RUN));
  const messageCpuMs = (cpuMs() - c0) / messages;
  const reads = 5;
  c0 = cpuMs();
  for (let i = 0; i < reads; i++) {
    const again = await openStore({ dir, environment: ENV, readOnly: true });
    await again.close();
  }
  const rereadCpuMs = (cpuMs() - c0) / reads;
  const liveShare = messageCpuMs / 1000;
  // storeSource spaces re-reads by at least 20 times the last one's duration (and 2 s).
  const standaloneShare = liveShare + rereadCpuMs / Math.max(2000, rereadCpuMs * 20);
  const pct = (x: number): string => `${(x * 100).toFixed(2)}%`;
  console.log(`dashboard benchmark: ${UNITS.toLocaleString('en-US')} units, Node ${process.version}`);
  console.log(
    `  run page first load        ${first.ms.toFixed(0)} ms (${(first.bytes / 1024).toFixed(0)} KiB)   target < 1000 ms: ${first.ms < 1000 ? 'PASS' : 'MISS'}`,
  );
  console.log(`  run page, median of 10     ${median(next).toFixed(0)} ms`);
  console.log(`  sorted and searched page   ${searchMs.toFixed(0)} ms`);
  console.log(
    `  one live message (counts)  ${messageCpuMs.toFixed(1)} ms CPU -> ${pct(liveShare)} of a core at 1/s   target < 5%: ${liveShare < 0.05 ? 'PASS' : 'MISS'}`,
  );
  console.log(
    `  one re-read of the store   ${rereadCpuMs.toFixed(0)} ms CPU -> standalone total ${pct(standaloneShare)} of a core (re-read every max(2 s, 20 × a re-read))`,
  );
  await dashboard.close();
  server.closeAllConnections();
  server.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
