// Benchmark 3, launch under throttling (child process). 1,000 HITs launched against a server that
// throttles at 5 requests/s with a burst of 10, the runtime with its default governor (5 calls/s,
// burst 10), on one VirtualClock shared by both: the figure is virtual time from `launchRun` to the
// last unit launched, against the bound of 1000 / 5 s. Failed launches are `command.failed` events
// of launch commands and CreateHITWithHITType calls whose outcome was not ok; duplicates are HITs
// per unit, read from the server's own state (each HIT's RequesterAnnotation names its unit).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VirtualClock } from '../src/clock.js';
import { parseRequesterAnnotation } from '../src/mturk/annotation.js';
import { createRuntime } from '../src/runtime/core/runtime.js';
import { createSimulator } from '../src/simulator/index.js';
import { driveUntilLaunched } from './support/drive.js';
import { cpuMsSince } from './support/numbers.js';
import { fixtureConfig } from './support/run-fixture.js';

export interface LaunchThrottledArgs {
  readonly units: number;
  readonly ratePerSecond: number;
  readonly burst: number;
  readonly seed: number;
}

export interface LaunchThrottledResult {
  readonly units: number;
  readonly launched: number;
  /** Virtual ms from launchRun to the last unit launched. */
  readonly virtualMs: number;
  /** units / ratePerSecond, in ms. */
  readonly boundMs: number;
  readonly failedLaunches: number;
  readonly failedCreateCalls: number;
  /** HITs on the server for the run, and units with more than one. */
  readonly hits: number;
  readonly duplicateUnits: number;
  readonly throttledBySimulator: number;
  readonly calls: Record<string, number>;
  readonly wallMs: number;
  readonly cpuMs: number;
}

export async function measure(args: LaunchThrottledArgs): Promise<LaunchThrottledResult> {
  const clock = new VirtualClock(Date.UTC(2026, 0, 1));
  const sim = await createSimulator({
    clock,
    seed: args.seed,
    throttle: { ratePerSecond: args.ratePerSecond, burst: args.burst },
  });
  const storeDir = mkdtempSync(join(tmpdir(), 'hitstate-'));
  const runtime = await createRuntime({
    environment: { kind: 'custom', endpoint: sim.url },
    requester: {
      name: 'bench',
      credentials: { kind: 'static', accessKeyId: 'AKIDTHROTTLE', secretAccessKey: 'bench-secret' },
    },
    clock,
    storeDir,
  });
  let failedLaunches = 0;
  let failedCreateCalls = 0;
  const errors: string[] = [];
  runtime.events.on('error', (err) => errors.push(err.message));
  runtime.events.on('command.failed', (e) => {
    if (e.command.kind === 'launchHIT') failedLaunches++;
  });
  runtime.events.on('mturk.call', (e) => {
    if (e.operation === 'CreateHITWithHITType' && e.outcome !== 'ok') failedCreateCalls++;
  });
  try {
    const w = performance.now();
    const c = process.cpuUsage();
    const start = clock.now();
    const { runId } = await runtime.launchRun(fixtureConfig(args.units), { runId: 'throttled' });
    await driveUntilLaunched(runtime, clock, runId, args.units, 250, { label: 'throttled launch', stepMs: 200 });
    const virtualMs = clock.now() - start;
    const wallMs = performance.now() - w;
    const cpuMs = cpuMsSince(c);
    const account = sim.inspect().accounts.AKIDTHROTTLE;
    const perUnit = new Map<string, number>();
    for (const hit of account?.hits ?? []) {
      const unitId = parseRequesterAnnotation(hit.requesterAnnotation)?.unitId ?? '?';
      perUnit.set(unitId, (perUnit.get(unitId) ?? 0) + 1);
    }
    const stats = sim.stats();
    if (errors.length > 0) throw new Error(`the runtime reported errors:\n${errors.join('\n')}`);
    return {
      units: args.units,
      launched: runtime.runInfo(runId).counts.launched,
      virtualMs,
      boundMs: (args.units / args.ratePerSecond) * 1000,
      failedLaunches,
      failedCreateCalls,
      hits: account?.hits.length ?? 0,
      duplicateUnits: [...perUnit.values()].filter((n) => n > 1).length,
      throttledBySimulator: stats.throttled,
      calls: stats.calls,
      wallMs,
      cpuMs,
    };
  } finally {
    await runtime.close();
    await sim.close();
    rmSync(storeDir, { recursive: true, force: true });
  }
}
