// Store side of one worker arrival (issue 16): bytes written and CPU of the commit that records an
// arrival, at 100 / 1,000 / 10,000 units, and the time to open a store of 10,000 and 100,000
// units. Each size is built once, then measured in a fresh process (no warm JIT or caches).
//
// An arrival's commit holds what the runtime's commit for one `registerAgent` holds (logged from a
// real run of the 100-unit fixture, 2026-12-07: 10 records, ~4.4 KB of JSON, one journal append of
// 5.7 KB): the worker (store-wide), the unit, agent and HIT records (the HIT bound), the snapshots
// of the unit and the agent, and four records of the run's supervisor: its core (status, settings,
// counts; its size does not grow with the run) and the rows of its pool tables the arrival
// touched, `run:<id>#unit:<unitId>`, `#hit:<hitId>` and `#arrival:<agentId>`
// (src/runtime/supervisor/pool-tables.ts). The shapes and sizes below are those of that commit.
// The runtime's own side of an arrival is measured elsewhere; this is what the store does.
//
// Usage: node --import tsx bench/store-arrival.ts [--sizes 100,1000,10000]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { VirtualClock } from '../src/clock.js';
import { openStore, type Store } from '../src/store/index.js';

const ENV = { kind: 'sandbox' } as const;
const RUN = 'bench-run';
/** Arrivals measured per size; the figure is their median. */
const ARRIVALS = 21;
const AT = Date.UTC(2026, 11, 1);
const DEADLINE = AT + 3_600_000;

const pad = (i: number) => String(i).padStart(6, '0');
const unitId = (i: number) => `${RUN}.u${i}`;
// MTurk's ids are 30 characters; the agent id is `<assignmentId>-<workerId>` (machines/ids.ts).
const hitId = (i: number) => `3QEJL748UMPLMMVILQ${pad(i)}I4HZ`;
const assignmentId = (i: number) => `9JWQT0VSUDNLZTRQUL${pad(i)}LYFD`;
const workerId = (i: number) => `AWORKER${pad(i)}`;
const agentId = (i: number) => `${assignmentId(i)}-${workerId(i)}`;
const HIT_TYPE = '5AIFF28W6I8801C7QCICHV2IAHQ1EM';
const snap = <M extends string>(machine: M, machineVersion: number, snapshot: unknown) => ({
  machine,
  machineVersion,
  snapshot,
});

/** The unit actor's stored snapshot (machine `unit`, version 3), launched or assigned. */
function unitSnapshot(i: number, assigned: boolean) {
  const value = assigned ? { assigned: 'working' } : 'launched';
  const status = assigned ? 'assigned' : 'launched';
  const bound = assigned
    ? { hitId: hitId(i), agentId: agentId(i), workerId: workerId(i) }
    : { hitId: hitId(i), agentId: null, workerId: null };
  return snap('unit', 3, {
    index: {
      value,
      status,
      tags: [],
      ...bound,
      deadline: DEADLINE,
      deadlineAt: DEADLINE,
      hitExpired: false,
      pending: [],
    },
    parentId: null,
    snapshot: {
      status: 'active',
      value,
      historyValue: {},
      context: {
        unitId: unitId(i),
        runId: RUN,
        hitId: hitId(i),
        assignmentId: assigned ? assignmentId(i) : null,
        agentId: bound.agentId,
        workerId: bound.workerId,
        launchAttempt: 1,
        launchedHitId: hitId(i),
        deadlineAt: DEADLINE,
        hitExpired: false,
        submitted: false,
        returnSuspectedAt: null,
        confirmations: 0,
        failures: 0,
        retryAt: null,
        lastFailure: null,
        reviewOutcome: null,
        bindings: assigned ? 1 : 0,
        displacedAssignmentId: null,
        note: null,
      },
      children: {},
    },
  });
}

/** The agent actor's stored snapshot (machine `agent`, version 2), in the task. */
function agentSnapshot(i: number) {
  return snap('agent', 2, {
    index: {
      value: 'in task',
      status: 'in task',
      tags: ['working', 'onTask'],
      assignmentId: assignmentId(i),
      workerId: workerId(i),
      deadline: DEADLINE,
      pending: [],
      awaitingData: true,
    },
    parentId: `unit:${unitId(i)}`,
    snapshot: {
      status: 'active',
      value: 'in task',
      historyValue: {},
      context: {
        agentId: agentId(i),
        unitId: unitId(i),
        runId: RUN,
        workerId: workerId(i),
        assignmentId: assignmentId(i),
        hitId: hitId(i),
        deadlineAt: DEADLINE,
        dataStored: false,
        review: null,
        bonusQueue: [],
        paidBonuses: [],
        lastReviewFailure: null,
        submissionConfirmed: false,
      },
      children: {},
    },
  });
}

/** The supervisor's core record (`run:<id>`): settings and counts, no per-unit entry. */
function supervisorCore(units: number, assigned: number) {
  return snap('taskRun', 5, {
    supervisor: {
      status: 'active',
      value: 'running',
      historyValue: {},
      context: {
        runId: RUN,
        settings: { maxConcurrentUnits: 0, assignmentDurationSec: 3600, drainGraceSec: 300 },
        retry: { maxAttempts: 5, baseDelayMs: 30_000, maxDelayMs: 600_000 },
        hitTypeId: HIT_TYPE,
        setupAttempt: 1,
        failure: null,
        groupsSpawned: 1,
        launchCursor: units,
        counts: {
          created: 0,
          launched: units - assigned,
          assigned,
          completed: 0,
          accepted: 0,
          rejected: 0,
          soft_rejected: 0,
          expired: 0,
        },
        launchesInFlight: 0,
        launchHalt: null,
        expiredAt: null,
        drainDeadlineAt: null,
        anomalies: [],
      },
    },
    between: {},
  });
}

/** The supervisor's pool-table rows of unit i: its unit row, its HIT's row, and (once arrived) its arrival row. */
function poolRows(store: Store, i: number, assigned: boolean): void {
  store.snapshots.put(
    `run:${RUN}#unit:${unitId(i)}`,
    snap('taskRun', 5, { index: i, status: assigned ? 'assigned' : 'launched' }),
  );
  store.snapshots.put(
    `run:${RUN}#hit:${hitId(i)}`,
    snap('taskRun', 5, {
      unitId: unitId(i),
      assignmentId: assigned ? assignmentId(i) : null,
      createdBy: unitId(i),
      n: i + 1,
    }),
  );
  if (assigned)
    store.snapshots.put(
      `run:${RUN}#arrival:${agentId(i)}`,
      snap('taskRun', 5, { unitId: unitId(i), hitId: hitId(i), assignmentId: assignmentId(i), at: AT }),
    );
}

/** What one arrival changes, as the runtime's commit for a `registerAgent` holds it. */
function arrive(store: Store, i: number, units: number, assigned: number): void {
  store.snapshots.put(`unit:${unitId(i)}`, unitSnapshot(i, true));
  store.units.assignAgent(unitId(i), agentId(i), workerId(i));
  store.units.setStatus(unitId(i), 'assigned');
  store.workers.ensure(workerId(i));
  store.agents.create({
    agentId: agentId(i),
    unitId: unitId(i),
    workerId: workerId(i),
    assignmentId: assignmentId(i),
    hitId: hitId(i),
    status: 'in task',
  });
  store.snapshots.put(`agent:${agentId(i)}`, agentSnapshot(i));
  store.snapshots.put(`run:${RUN}`, supervisorCore(units, assigned));
  poolRows(store, i, true);
  store.hits.bind({ hitId: hitId(i), unitId: unitId(i), assignmentId: assignmentId(i) });
}

/** Builds a run of `units` units, half of them arrived; the other half waits for the measured arrivals. */
export async function buildArrivalStore(dir: string, units: number): Promise<void> {
  const store = await openStore({ dir, environment: ENV, clock: new VirtualClock(AT) });
  store.requesters.put({ name: 'lab', credentialSource: { kind: 'profile', profile: 'lab' } });
  store.runs.create({
    runId: RUN,
    requesterName: 'lab',
    config: { title: 'Label images', reward: '0.10', assignmentDurationSec: 3600 },
    status: 'running',
  });
  let assigned = 0;
  for (let i = 0; i < units; i++) {
    store.units.create({ unitId: unitId(i), runId: RUN, index: i, payAmountUsd: '0.10', status: 'launched' });
    store.hits.add({
      hitId: hitId(i),
      runId: RUN,
      link: `http://127.0.0.1:40529/mturk/preview?groupId=${HIT_TYPE}`,
      assignmentDurationSec: 3600,
      expiresAt: AT + 7 * 86_400_000,
      createdAt: AT,
      status: 'Assignable',
    });
    store.snapshots.put(`unit:${unitId(i)}`, unitSnapshot(i, false));
    poolRows(store, i, false);
    if (i % 2 === 0) {
      arrive(store, i, units, ++assigned);
    }
    if (i % 5000 === 4999) await store.flush();
  }
  store.snapshots.put(`run:${RUN}`, supervisorCore(units, assigned));
  await store.close();
}

export interface ArrivalMeasure {
  readonly units: number;
  readonly openMs: number;
  /** CPU of the open (less disturbed than wall time by other work on the machine). */
  readonly openCpuMs: number;
  /**
   * Of the bytes per arrival, the text of the supervisor's four records (its core and three pool-table
   * rows; none grows with the run), as the journal holds them (escaped inside the entry).
   */
  readonly supervisorBytes: number;
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
  let assigned = Math.ceil(units / 2);
  const bytes: number[] = [];
  const cpu: number[] = [];
  const checkpointBefore = checkpointBytes(store);
  for (let k = 0; k < ARRIVALS; k++) {
    const i = 1 + 2 * Math.floor((k * units) / 2 / ARRIVALS);
    const before = store.stats().bytesWritten;
    const c0 = process.cpuUsage();
    arrive(store, i, units, ++assigned);
    await store.flush();
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
    bytes.push(store.stats().bytesWritten - before);
  }
  const supervisorBytes = [
    `run:${RUN}`,
    `run:${RUN}#unit:${unitId(1)}`,
    `run:${RUN}#hit:${hitId(1)}`,
    `run:${RUN}#arrival:${agentId(1)}`,
  ]
    .map((id) => store.snapshots.get(id))
    .reduce((sum, record) => sum + Buffer.byteLength(JSON.stringify(JSON.stringify(record)), 'utf8'), 0);
  await store.close();
  return {
    units,
    openMs,
    openCpuMs,
    supervisorBytes,
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
        supervisorBytes: pick('supervisorBytes'),
        bytesPerArrival: pick('bytesPerArrival'),
        checkpointBytesPerArrival: pick('checkpointBytesPerArrival'),
        cpuMsMedian: pick('cpuMsMedian'),
        cpuMsMax: pick('cpuMsMax'),
      };
      process.stdout.write(
        `${units} units: open ${m.openMs.toFixed(0)} ms (${m.openCpuMs.toFixed(0)} ms CPU); arrival ${(m.bytesPerArrival / 1024).toFixed(1)} KB written (+ ${(m.checkpointBytesPerArrival / 1024).toFixed(1)} KB of checkpoints; ${(m.supervisorBytes / 1024).toFixed(1)} KB of it the supervisor's records), CPU median ${m.cpuMsMedian.toFixed(1)} ms, max ${m.cpuMsMax.toFixed(1)} ms\n`,
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
