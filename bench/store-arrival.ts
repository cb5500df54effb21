// Store side of one worker arrival (issue 16): bytes written and CPU of the commit that records an
// arrival, at 100 / 1,000 / 10,000 units, and the time to open a store of 10,000 and 100,000
// units. Each size is built once, then measured in a fresh process (no warm JIT or caches).
//
// An arrival changes: the new worker, the HIT (bound), the agent (created), the unit (assigned),
// and the snapshots of the unit, the agent and one bucket of the run's supervisor (one of 128,
// each holding the entries of N/128 units, as the runtime stores it). The runtime's own side of
// an arrival is measured elsewhere; this is what the store does with those records.
//
// Usage: node --import tsx bench/store-arrival.ts [--sizes 100,1000,10000] [--open 10000,100000]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { VirtualClock } from '../src/clock.js';
import { openStore, type Store } from '../src/store/index.js';

const ENV = { kind: 'sandbox' } as const;
const RUN = 'arrive';
const BUCKETS = 128;
/** Arrivals measured per size; the figure is their median. */
const ARRIVALS = 21;
const AT = Date.UTC(2026, 11, 1);

const pad = (i: number) => String(i).padStart(6, '0');
const unitId = (i: number) => `u-${pad(i)}`;
const hitId = (i: number) => `3U18MJKL1WA8S1G7ULNI${pad(i)}ED9`;
const assignmentId = (i: number) => `34QN5IT0T2G6HMWH25AH${pad(i)}608U`;
const agentId = (i: number) => `ag-${pad(i)}`;
const workerId = (i: number) => `A12IHTKQF${pad(i)}`;

function unitSnapshot(i: number, value: string) {
  return {
    status: 'active',
    value,
    historyValue: {},
    context: {
      runId: RUN,
      unitId: unitId(i),
      unitIndex: i,
      payAmountUsd: '0.50',
      hitId: hitId(i),
      assignmentId: value === 'launched' ? null : assignmentId(i),
      agentId: value === 'launched' ? null : agentId(i),
      workerId: value === 'launched' ? null : workerId(i),
      launchedAt: AT - 3_600_000,
      deadlineAt: AT + 1_800_000,
      lastObservedStatus: 'Assignable',
      lastObservedAt: AT,
      createToken: `hs1-${RUN}-${unitId(i)}-createHIT-0-7f3c9a1e5b2d4c6f8a0b`,
      attempts: 0,
      history: [{ at: AT - 3_600_000, to: 'launched' }],
    },
    children: {},
  };
}

function agentSnapshot(i: number) {
  return {
    status: 'active',
    value: 'in task',
    historyValue: {},
    context: {
      agentId: agentId(i),
      unitId: unitId(i),
      workerId: workerId(i),
      assignmentId: assignmentId(i),
      acceptedAt: AT - 1_200_000,
      submittedAt: null,
      reviewToken: null,
      lastEventAt: AT - 60_000,
      connection: 'open',
    },
    children: {},
  };
}

/** One bucket of the supervisor: the arrival state of the units whose index is b mod 128. */
function bucket(b: number, units: number, arrived: (i: number) => boolean) {
  const entries: Record<string, unknown> = {};
  for (let i = b; i < units; i += BUCKETS)
    entries[unitId(i)] = arrived(i)
      ? { state: 'assigned', hitId: hitId(i), agentId: agentId(i), workerId: workerId(i), at: AT - 60_000 }
      : { state: 'open', hitId: hitId(i), agentId: null, workerId: null, at: null };
  return { bucket: b, entries };
}

const arrive = (store: Store, i: number, units: number, arrived: Set<number>) => {
  store.workers.ensure(workerId(i));
  store.hits.bind({ hitId: hitId(i), unitId: unitId(i), assignmentId: assignmentId(i) });
  store.agents.create({
    agentId: agentId(i),
    unitId: unitId(i),
    workerId: workerId(i),
    assignmentId: assignmentId(i),
    hitId: hitId(i),
    status: 'accepted',
  });
  store.units.assignAgent(unitId(i), agentId(i), workerId(i));
  store.units.setStatus(unitId(i), 'assigned');
  arrived.add(i);
  store.snapshots.put(`unit:${unitId(i)}`, {
    machine: 'unit',
    machineVersion: 1,
    snapshot: unitSnapshot(i, 'assigned'),
  });
  store.snapshots.put(`agent:${agentId(i)}`, { machine: 'agent', machineVersion: 1, snapshot: agentSnapshot(i) });
  const b = i % BUCKETS;
  store.snapshots.put(`run:${RUN}#arrivals-${b}`, {
    machine: 'run',
    machineVersion: 1,
    snapshot: bucket(b, units, (u) => arrived.has(u)),
  });
};

/** Builds a run of `units` units, half of them arrived; the other half waits for the measured arrivals. */
export async function buildArrivalStore(dir: string, units: number): Promise<void> {
  const store = await openStore({ dir, environment: ENV, clock: new VirtualClock(AT) });
  store.requesters.put({ name: 'lab', credentialSource: { kind: 'profile', profile: 'lab' } });
  store.runs.create({
    runId: RUN,
    requesterName: 'lab',
    config: { title: 'Label images', reward: '0.50', assignmentDurationSec: 1800 },
    status: 'running',
  });
  const arrived = new Set<number>();
  for (let i = 0; i < units; i++) {
    store.units.create({ unitId: unitId(i), runId: RUN, index: i, payAmountUsd: '0.50', status: 'launched' });
    store.hits.add({
      hitId: hitId(i),
      runId: RUN,
      link: `https://workersandbox.mturk.com/projects/3PN7FLVWM454R7NYSKRT54250KKSYM/tasks?hit=${hitId(i)}`,
      assignmentDurationSec: 1800,
      expiresAt: AT + 86_400_000,
      createdAt: AT - 3_600_000,
      status: 'Assignable',
    });
    store.snapshots.put(`unit:${unitId(i)}`, {
      machine: 'unit',
      machineVersion: 1,
      snapshot: unitSnapshot(i, 'launched'),
    });
    if (i % 2 === 0) {
      store.workers.ensure(workerId(i));
      store.hits.bind({ hitId: hitId(i), unitId: unitId(i), assignmentId: assignmentId(i) });
      store.agents.create({
        agentId: agentId(i),
        unitId: unitId(i),
        workerId: workerId(i),
        assignmentId: assignmentId(i),
        hitId: hitId(i),
        status: 'accepted',
      });
      store.units.assignAgent(unitId(i), agentId(i), workerId(i));
      store.units.setStatus(unitId(i), 'assigned');
      store.snapshots.put(`unit:${unitId(i)}`, {
        machine: 'unit',
        machineVersion: 1,
        snapshot: unitSnapshot(i, 'assigned'),
      });
      store.snapshots.put(`agent:${agentId(i)}`, { machine: 'agent', machineVersion: 1, snapshot: agentSnapshot(i) });
      arrived.add(i);
    }
    if (i % 5000 === 4999) await store.flush();
  }
  store.snapshots.put(`run:${RUN}`, {
    machine: 'run',
    machineVersion: 1,
    snapshot: { status: 'active', value: 'running' },
  });
  for (let b = 0; b < BUCKETS; b++)
    store.snapshots.put(`run:${RUN}#arrivals-${b}`, {
      machine: 'run',
      machineVersion: 1,
      snapshot: bucket(b, units, (u) => arrived.has(u)),
    });
  await store.close();
}

export interface ArrivalMeasure {
  readonly units: number;
  readonly openMs: number;
  /** CPU of the open (less disturbed than wall time by other work on the machine). */
  readonly openCpuMs: number;
  /** Of the bytes per arrival, the text of the supervisor's bucket record (N/128 entries: the runtime's part). */
  readonly bucketBytes: number;
  /** Bytes the store wrote for one arrival's commit (median). */
  readonly bytesPerArrival: number;
  /** Bytes written by checkpoints during the measured arrivals and at close, per arrival. */
  readonly checkpointBytesPerArrival: number;
  /** CPU of the arrival's changes plus its commit (flush), median, ms. */
  readonly cpuMsMedian: number;
  readonly cpuMsMax: number;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** In a fresh process: open, then ARRIVALS arrivals each committed on its own. */
async function measureArrivals(dir: string, units: number): Promise<ArrivalMeasure> {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const store = await openStore({ dir, environment: ENV, clock: new VirtualClock(AT + 60_000) });
  const openMs = performance.now() - t0;
  const oc = process.cpuUsage(c0);
  const openCpuMs = (oc.user + oc.system) / 1000;
  const arrived = new Set<number>();
  for (let i = 0; i < units; i += 2) arrived.add(i);
  const bytes: number[] = [];
  const cpu: number[] = [];
  const checkpointBefore = checkpointBytes(store);
  for (let k = 0; k < ARRIVALS; k++) {
    const i = 1 + 2 * Math.floor((k * units) / 2 / ARRIVALS);
    const before = store.stats().bytesWritten;
    const c0 = process.cpuUsage();
    arrive(store, i, units, arrived);
    await store.flush();
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
    bytes.push(store.stats().bytesWritten - before);
  }
  await store.close();
  // As the journal holds it: the snapshot's text escaped inside the entry.
  const bucketBytes = Buffer.byteLength(
    JSON.stringify(JSON.stringify(bucket(1 % BUCKETS, units, (u) => arrived.has(u)))),
    'utf8',
  );
  return {
    units,
    openMs,
    openCpuMs,
    bucketBytes,
    bytesPerArrival: median(bytes),
    checkpointBytesPerArrival: (checkpointBytes(store) - checkpointBefore) / ARRIVALS,
    cpuMsMedian: median(cpu),
    cpuMsMax: Math.max(...cpu),
  };
}

/** Bytes written by checkpoints, when the store reports them (the journaled store does). */
function checkpointBytes(store: Store): number {
  return (store.stats() as { checkpointBytes?: number }).checkpointBytes ?? 0;
}

function inChild(dir: string, units: number): Promise<ArrivalMeasure> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', fileURLToPath(import.meta.url), '--measure-arrival', dir, String(units)],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('RESULT '));
      if (code !== 0 || line === undefined) reject(new Error(`arrival measurement failed (exit ${code}):\n${out}`));
      else resolve(JSON.parse(line.slice('RESULT '.length)) as ArrivalMeasure);
    });
  });
}

/** Builds and measures each size; `samples` fresh processes per size, the median of each figure kept. */
export async function arrivalBench(sizes: readonly number[], samples = 3): Promise<ArrivalMeasure[]> {
  const out: ArrivalMeasure[] = [];
  for (const units of sizes) {
    const base = mkdtempSync(join(process.env.HITSTATE_BENCH_DIR ?? tmpdir(), 'hitstate-arrival-'));
    try {
      const tb = performance.now();
      await buildArrivalStore(base, units);
      process.stdout.write(`built ${units} units in ${((performance.now() - tb) / 1000).toFixed(1)} s\n`);
      const runs: ArrivalMeasure[] = [];
      // Each sample arrives on units the previous ones left open (odd indexes, spread out).
      for (let s = 0; s < samples; s++) {
        const copy = join(base, `s${s}`);
        await cpDir(join(base, 'sandbox'), join(copy, 'sandbox'));
        runs.push(await inChild(copy, units));
      }
      const pick = (k: keyof ArrivalMeasure) => median(runs.map((r) => r[k]));
      const m: ArrivalMeasure = {
        units,
        openMs: pick('openMs'),
        openCpuMs: pick('openCpuMs'),
        bucketBytes: pick('bucketBytes'),
        bytesPerArrival: pick('bytesPerArrival'),
        checkpointBytesPerArrival: pick('checkpointBytesPerArrival'),
        cpuMsMedian: pick('cpuMsMedian'),
        cpuMsMax: pick('cpuMsMax'),
      };
      process.stdout.write(
        `${units} units: open ${m.openMs.toFixed(0)} ms (${m.openCpuMs.toFixed(0)} ms CPU); arrival ${(m.bytesPerArrival / 1024).toFixed(1)} KB written (+ ${(m.checkpointBytesPerArrival / 1024).toFixed(1)} KB of checkpoints; ${(m.bucketBytes / 1024).toFixed(1)} KB of it the supervisor bucket), CPU median ${m.cpuMsMedian.toFixed(1)} ms, max ${m.cpuMsMax.toFixed(1)} ms\n`,
      );
      out.push(m);
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  }
  return out;
}

async function cpDir(from: string, to: string): Promise<void> {
  const { cp } = await import('node:fs/promises');
  await cp(from, to, { recursive: true });
}

const argv = process.argv.slice(2);
if (argv[0] === '--measure-arrival') {
  const result = await measureArrivals(argv[1]!, Number(argv[2]));
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
} else if (import.meta.url === `file://${process.argv[1]}`) {
  const opt = (name: string, fallback: string) => {
    const i = argv.indexOf(name);
    return (i >= 0 ? argv[i + 1]! : fallback).split(',').map(Number);
  };
  await arrivalBench(opt('--sizes', '100,1000,10000'));
}
