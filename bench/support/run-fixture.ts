// A task run with N units, every unit assigned to a worker who is in the task (its agent live),
// built by the real runtime against the simulator, then closed: the store directory and the
// simulator's state file are the fixture. Several benchmarks open copies of one fixture in fresh
// processes (`openFixture`), against `hitstate sim` restarted on the same port (a store belongs to
// its endpoint, port included).
//
// The HITs are launched through `runtime.launchRun`, exactly as a user launches them (above
// 10,000 units in waves: `launchRun` then `runtime.addUnits`, as `hitstate add-units` does; one
// HIT type, the same records, see LAUNCH_WAVE). The
// arrivals are delivered to the run's supervisor in batches of 500, or a twentieth of the units
// when that is more (the same `worker.arrived` and `agent.taskStarted` events the task server's
// `registerAgent` sends, leaving the same actors and store records), because `registerAgent`
// persists the whole run and flushes the store for every arrival, which at 10,000 units costs
// about 0.4 s each (more than an hour for all of them); each batch is persisted and flushed once,
// and a flush rewrites nearly every shard, so at 100,000 units batches of 500 would write the
// store 200 times. The per-arrival cost at full size is measured on the last `registerSample`
// arrivals, which do go through `registerAgent`.
import { cpSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { agentIdFor } from '../../machines/index.js';
import { VirtualClock } from '../../src/clock.js';
import { createRuntime, type Runtime } from '../../src/runtime/core/runtime.js';
import { progress } from './child.js';
import { driveUntilLaunched } from './drive.js';
import { cpuMsSince, median } from './numbers.js';
import { SimProcess } from './sim-process.js';

export const FIXTURE_ACCESS_KEY = 'AKIDBENCH';
const FIXTURE_RUN_ID = 'bench-run';
/** Arrivals delivered per event-loop turn (each turn persists the run and flushes the store once). */
const arrivalBatchOf = (units: number): number => Math.max(500, Math.ceil(units / 20));
/**
 * Units launched at once. The runtime keeps a unit live while its launch is pending, so 100,000
 * launched at once held 5.5 GB and 260 s of CPU before the first HIT went out; a larger run is
 * launched in waves, the first by `launchRun` and the others by `runtime.addUnits` (what
 * `hitstate add-units` does), each driven until launched.
 */
const LAUNCH_WAVE = 10_000;
/** Enough money for 100,000 HITs at $0.10 plus MTurk's fee (the simulator's default is $10,000). */
const FIXTURE_BALANCE_USD = 1_000_000;
/** A high governor rate: the fixture's figures are CPU and calls, not the 5 calls/s MTurk allows. */
const UNTHROTTLED = { ratePerSecond: 1_000_000, burst: 1_000_000 } as const;

/** What was built, and what building it cost. */
export interface RunFixture {
  readonly dir: string;
  readonly port: number;
  readonly seed: number;
  readonly units: number;
  /** Units whose worker arrived; the others' HITs are open on the simulator. @defaultValue units */
  readonly arrived?: number;
  readonly runId: string;
  readonly hitTypeId: string;
  readonly build: {
    /** Wall and CPU time of `launchRun` until every unit was launched. */
    readonly launchWallMs: number;
    readonly launchCpuMs: number;
    /** Wall time of the bulk-delivered arrivals (accept on MTurk, bind, start the task, flush). */
    readonly arrivalsWallMs: number;
    /** `registerAgent` with the run at full size: median wall ms per arrival, and CPU ms per arrival, one at a time. */
    readonly registerMedianMs: number;
    readonly registerCpuMsEach: number;
    readonly registerSample: number;
  };
}

const workerIdOf = (i: number): string => `ABENCH${String(i).padStart(6, '0')}`;
const storeDirOf = (dir: string): string => join(dir, 'store');
const simStateOf = (dir: string): string => join(dir, 'sim-state.json');

/** The task-run config of the fixture (kept short-lived on nothing: hour-long assignments, week-long HITs). */
export function fixtureConfig(units: number) {
  return {
    title: 'Label the sentiment of a sentence',
    description: 'Read one sentence and pick its sentiment.',
    reward: '0.10',
    assignmentDurationSec: 3600,
    lifetimeSec: 7 * 86_400,
    autoApprovalDelaySec: 3 * 86_400,
    taskUrl: 'http://127.0.0.1:9/hitstate/task',
    units: Array.from({ length: units }, (_, i) => ({ sentence: `Sentence number ${i} of the benchmark.` })),
  };
}

/**
 * The runtime the fixture was built with (custom endpoint, static credentials, unthrottled
 * governor); with `mturkRate`, the gateway's default governor instead (MTurk's 5 calls/s, burst 10).
 */
export function fixtureRuntime(
  url: string,
  clock: VirtualClock,
  storeDir: string,
  options: { readonly mturkRate?: boolean } = {},
): Promise<Runtime> {
  return createRuntime({
    environment: { kind: 'custom', endpoint: url },
    requester: {
      name: 'bench',
      credentials: { kind: 'static', accessKeyId: FIXTURE_ACCESS_KEY, secretAccessKey: 'bench-secret' },
    },
    clock,
    storeDir,
    ...(options.mturkRate === true ? {} : { governor: UNTHROTTLED }),
  });
}

/** Builds the fixture in `dir` (created); see the top of this file. */
export async function buildRunFixture(options: {
  dir: string;
  units: number;
  seed: number;
  registerSample?: number;
  /** Units per launch wave. @defaultValue 10,000 */
  launchWave?: number;
  /** Units whose worker arrives (the first ones); the rest stay open for a benchmark's arrivals. @defaultValue units */
  arrived?: number;
}): Promise<RunFixture> {
  const { dir, units, seed } = options;
  const arrived = Math.min(options.arrived ?? units, units);
  // One registerAgent persists the whole run: at 100,000 units a few say what one costs.
  const sample = Math.min(options.registerSample ?? (units > 10_000 ? 5 : 20), arrived);
  const batchSize = arrivalBatchOf(units);
  mkdirSync(dir, { recursive: true });
  // The server runs in its own process (it writes its state file while it works) and its clock
  // follows the runtime's whenever the runtime's moves.
  const sim = await SimProcess.start({ seed, stateFile: simStateOf(dir), balanceUsd: FIXTURE_BALANCE_USD });
  const port = Number(new URL(sim.url).port);
  const clock = new VirtualClock(await sim.nowMs());
  const runtime = await fixtureRuntime(sim.url, clock, storeDirOf(dir));
  const errors: string[] = [];
  runtime.events.on('error', (err) => errors.push(err.message));
  try {
    const w0 = performance.now();
    const c0 = process.cpuUsage();
    const config = fixtureConfig(units);
    const wave = Math.max(1, options.launchWave ?? LAUNCH_WAVE);
    const { runId } = await runtime.launchRun(
      { ...config, units: config.units.slice(0, Math.min(units, wave)) },
      { runId: FIXTURE_RUN_ID },
    );
    for (let launched = Math.min(units, wave); ; ) {
      await driveUntilLaunched(runtime, clock, runId, launched, Math.max(1, Math.min(wave, units) / 10), {
        label: `launch ${launched} of ${units}`,
        onAdvance: (ms) => sim.advanceTo(ms),
      });
      if (launched >= units) break;
      const items = config.units.slice(launched, launched + wave);
      await runtime.addUnits(runId, items);
      launched += items.length;
    }
    const launchWallMs = performance.now() - w0;
    const launchCpuMs = cpuMsSince(c0);
    const hitTypeId = runtime.runInfo(runId).hitTypeId!;

    const w1 = performance.now();
    const host = await runtime.ensure(runId);
    const bulk = arrived - sample;
    for (let start = 0; start < bulk; start += batchSize) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(bulk, start + batchSize) - start }, async (_, k) => {
          const workerId = workerIdOf(start + k);
          return { workerId, ...(await sim.accept(workerId, { hitTypeId })) };
        }),
      );
      for (const a of batch)
        host.send({
          type: 'worker.arrived',
          hitId: a.hitId,
          assignmentId: a.assignmentId,
          workerId: a.workerId,
          at: clock.now(),
        });
      for (const a of batch)
        host.send({ type: 'agent.taskStarted', agentId: agentIdFor(a.assignmentId, a.workerId), at: clock.now() });
      host.persistNow();
      await runtime.store.flush();
      progress(`${start + batch.length} of ${units} arrived after ${((performance.now() - w1) / 1000).toFixed(0)} s`);
    }
    const arrivalsWallMs = performance.now() - w1;

    const backend = runtime.taskServerBackend();
    const each: number[] = [];
    let registerCpu = 0;
    for (let i = bulk; i < arrived; i++) {
      const workerId = workerIdOf(i);
      const accepted = await sim.accept(workerId, { hitTypeId });
      const t = performance.now();
      const c = process.cpuUsage();
      const registration = await backend.registerAgent({ ...accepted, workerId });
      registerCpu += cpuMsSince(c);
      each.push(performance.now() - t);
      if (registration.status !== 'in task')
        throw new Error(`arrival ${i} registered as ${registration.status}, expected "in task"`);
    }
    await runtime.whenIdle();
    const counts = runtime.runInfo(runId).counts;
    if (counts.assigned !== arrived)
      throw new Error(
        `the fixture has ${counts.assigned} of ${units} units assigned, not ${arrived}: ${JSON.stringify(counts)}`,
      );
    if (errors.length > 0)
      throw new Error(`the runtime reported errors while building the fixture:\n${errors.join('\n')}`);
    return {
      dir,
      port,
      seed,
      units,
      ...(arrived < units ? { arrived } : {}),
      runId,
      hitTypeId,
      build: {
        launchWallMs,
        launchCpuMs,
        arrivalsWallMs,
        registerMedianMs: each.length > 0 ? median(each) : 0,
        registerCpuMsEach: each.length > 0 ? registerCpu / each.length : 0,
        registerSample: each.length,
      },
    };
  } finally {
    await runtime.close();
    await sim.advanceTo(clock.now());
    await sim.stop();
  }
}

/** A fixture copy opened in this process: `hitstate sim` on the fixture's port and a runtime on the copied store. */
export interface OpenedFixture {
  readonly sim: SimProcess;
  readonly clock: VirtualClock;
  readonly storeDir: string;
  /** Creates the runtime (not resumed yet): callers time `createRuntime` + `resume()` themselves. */
  runtime(): Promise<Runtime>;
  close(): Promise<void>;
}

/** Copies the fixture into `workDir` and starts `hitstate sim` on its state, on the fixture's port. */
export async function openFixture(fixture: RunFixture, workDir: string): Promise<OpenedFixture> {
  // With the files' times, as a resume finds the files its previous process left (the store
  // decides from them whether a backup is current; a copy stamped now would make it compare bytes).
  cpSync(fixture.dir, workDir, { recursive: true, preserveTimestamps: true });
  const sim = await SimProcess.start({ port: fixture.port, seed: fixture.seed, stateFile: simStateOf(workDir) });
  const clock = new VirtualClock(await sim.nowMs());
  const opened: Runtime[] = [];
  return {
    sim,
    clock,
    storeDir: storeDirOf(workDir),
    async runtime() {
      const runtime = await fixtureRuntime(sim.url, clock, storeDirOf(workDir));
      opened.push(runtime);
      return runtime;
    },
    async close() {
      for (const r of opened) await r.close();
      await sim.stop();
    },
  };
}
