// Benchmark 4, scale in one process (child process, started with --expose-gc). A fresh process
// holds nothing but the runtime: `hitstate sim` runs in its own process with the fixture's state.
//   resume   createRuntime (opens the store) + runtime.resume(): the supervisor restored, each
//            unit and agent snapshot read once and left passive (an actor only while it has
//            work, docs/runtime.md#when-an-actor-lives); the drift check against MTurk that
//            resume starts is network work and is timed apart.
//   memory   resident set size with the run resumed and settled (after a GC), again after the
//            sync cycles (after a GC), and the peak (garbage included) until then: the bench's
//            own measuring of the network client afterwards is not the runtime's work.
//   CPU      process CPU (user + system) of one status-sync cycle: listing every HIT (100 pages at
//            10,000), comparing, sending observations, persisting what changed. A few workers
//            submit or return before each cycle, as in a live run. Waiting on the network is not
//            CPU; the client side of the network (the SDK signing requests, Node's HTTP, parsing
//            100 pages of JSON into HIT records, and the per-HIT calls: a submission's reconcile
//            asks ListAssignmentsForHIT) is, so it is measured apart: the same listing and the
//            same per-HIT calls through the same gateway, alone, and subtracted ("excluding network").
//            The target figure is the median of the five cycles after the first; five more after
//            the memory reading show the steady state (the first cycles also warm the JIT up).
import { progress } from './support/child.js';
import { median } from './support/numbers.js';
import {
  cycleCpuExcludingNetwork,
  listingCpuMs,
  measureCycle,
  perHitCallCpuMs,
  perHitCallsOf,
  submitsPerCycle,
  withResumedFixture,
} from './support/resumed-run.js';
import type { RunFixture } from './support/run-fixture.js';

export interface ScaleArgs {
  readonly fixture: RunFixture;
  /** Steady cycles measured after the first one following the resume. @defaultValue 5 */
  readonly cycles?: number;
  /** Cycles measured after those and the memory reading, for the steady state. @defaultValue 5 */
  readonly laterCycles?: number;
}

export interface ScaleResult {
  readonly units: number;
  readonly agents: number;
  readonly rssBeforeMb: number;
  readonly resumeWallMs: number;
  readonly resumeCpuMs: number;
  /** Of which: opening the store. */
  readonly openStoreWallMs: number;
  readonly driftWallMs: number;
  readonly rssAfterResumeMb: number;
  readonly heapUsedMb: number;
  /** CPU of the first cycle after the resume (every HIT is news to it). */
  readonly firstCycleCpuMs: number;
  readonly cycleCpuMs: readonly number[];
  readonly cycleWallMs: readonly number[];
  readonly cycleCpuMedianMs: number;
  /** CPU of the cycle's listing alone (the same pages through the same gateway): the network's client side. */
  readonly listingCpuMs: readonly number[];
  readonly listingCpuMedianMs: number;
  /** Per-HIT calls (a submission's reconcile, GetHIT, …) each cycle made, and the client-side CPU of one (absent in older results). */
  readonly perHitCalls?: readonly number[];
  readonly perHitCallCpuMs?: number;
  /** Cycle CPU minus the listing's median and its per-HIT calls' client side, per cycle, and their median. */
  readonly cycleCpuExcludingNetworkMs: readonly number[];
  readonly cycleCpuExcludingNetworkMedianMs: number;
  /**
   * The same for the cycles after the memory reading (6 to 10): the first cycles after a resume
   * also warm the JIT up, so these say what a long run's cycles cost. Absent in older results.
   */
  readonly laterCycleCpuExcludingNetworkMs?: readonly number[];
  readonly laterCycleCpuExcludingNetworkMedianMs?: number;
  /** RSS after the cycles, before and after a GC. */
  readonly rssEndMb: number;
  readonly rssEndSettledMb: number;
  readonly peakRssMb: number;
}

const mb = (bytes: number): number => Math.round((bytes / 1024 / 1024) * 10) / 10;

function collectGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('the scale benchmark needs node --expose-gc');
  gc();
  gc();
}

export async function measure(args: ScaleArgs): Promise<ScaleResult> {
  const { fixture } = args;
  let rssBefore = 0;
  const beforeResume = (): void => {
    collectGarbage();
    rssBefore = process.memoryUsage().rss;
  };
  return withResumedFixture(
    fixture,
    async (run) => {
      const { runtime, runId } = run;
      const info = runtime.runInfo(runId);
      if (info.counts.assigned !== fixture.units)
        throw new Error(
          `resumed ${info.counts.assigned} of ${fixture.units} assigned units: ${JSON.stringify(info.counts)}`,
        );
      const agents = runtime.store.agents.ofRun(runId).filter((a) => runtime.agentStatus(a.id) === 'in task').length;
      collectGarbage();
      const rssAfterResume = process.memoryUsage().rss;
      const heapUsed = process.memoryUsage().heapUsed;

      const first = await measureCycle(run, 0, 0);
      const cycles = [];
      for (let k = 0; k < (args.cycles ?? 5); k++)
        cycles.push(await measureCycle(run, submitsPerCycle(fixture.units), 1));
      // Memory after the cycles, before the bench's own measuring of the network client below
      // (every HIT listed five more times, 500 more calls), which the runtime would not do.
      const rssEnd = process.memoryUsage().rss;
      const peakRss = process.resourceUsage().maxRSS * 1024;
      collectGarbage();
      const rssEndSettled = process.memoryUsage().rss;
      const later = [];
      for (let k = 0; k < (args.laterCycles ?? 5); k++)
        later.push(await measureCycle(run, submitsPerCycle(fixture.units), 1));
      const listing = await listingCpuMs(run, cycles.length);
      const listingCpuMedianMs = median(listing);
      const perHitCallMs = await perHitCallCpuMs(run, cycles.length);
      const excluding = cycles.map((c) => cycleCpuExcludingNetwork(c, listingCpuMedianMs, perHitCallMs));
      const laterExcluding = later.map((c) => cycleCpuExcludingNetwork(c, listingCpuMedianMs, perHitCallMs));
      progress(
        `resume ${run.resumeWallMs.toFixed(0)} ms wall (${run.resumeCpuMs.toFixed(0)} ms CPU; opening the store ${run.openStoreWallMs.toFixed(0)} ms wall), RSS ${mb(rssAfterResume)} MB, cycle CPU ${cycles.map((c) => c.cpuMs.toFixed(0)).join(', ')} ms (then ${later.map((c) => c.cpuMs.toFixed(0)).join(', ')} ms), of which the listing ${listingCpuMedianMs.toFixed(0)} ms and ${median(cycles.map(perHitCallsOf))} per-HIT calls at ${perHitCallMs.toFixed(2)} ms each`,
      );
      run.assertNoErrors();
      return {
        units: fixture.units,
        agents,
        rssBeforeMb: mb(rssBefore),
        resumeWallMs: run.resumeWallMs,
        resumeCpuMs: run.resumeCpuMs,
        openStoreWallMs: run.openStoreWallMs,
        driftWallMs: run.driftWallMs,
        rssAfterResumeMb: mb(rssAfterResume),
        heapUsedMb: mb(heapUsed),
        firstCycleCpuMs: first.cpuMs,
        cycleCpuMs: cycles.map((c) => c.cpuMs),
        cycleWallMs: cycles.map((c) => c.wallMs),
        cycleCpuMedianMs: median(cycles.map((c) => c.cpuMs)),
        listingCpuMs: listing,
        listingCpuMedianMs,
        perHitCalls: cycles.map(perHitCallsOf),
        perHitCallCpuMs: perHitCallMs,
        cycleCpuExcludingNetworkMs: excluding,
        cycleCpuExcludingNetworkMedianMs: median(excluding),
        laterCycleCpuExcludingNetworkMs: laterExcluding,
        laterCycleCpuExcludingNetworkMedianMs: median(laterExcluding),
        rssEndMb: mb(rssEnd),
        rssEndSettledMb: mb(rssEndSettled),
        peakRssMb: mb(peakRss),
      };
    },
    { beforeResume },
  );
}
