// Benchmark 1, status-sync cost (child process). A fixture run with N live units (every unit
// assigned, its worker in the task) is resumed against `hitstate sim`; then, cycle after cycle,
// a few workers submit or return and hitstate runs one status-sync cycle. Every MTurk call the
// runtime makes while the cycle and its consequences run is read from the server's /_sim/stats.
// Then Mephisto's pattern is replayed literally on the same server: one GetHIT per live unit
// (MTurkUnit.get_status() of every launched/assigned unit with a bound HIT), sent one after the
// other through the same @aws-sdk/client-mturk, counted by the same /_sim/stats.
// CPU: process CPU (user + system) of each cycle, from `syncNow` until the runtime is idle and the
// store has written what changed; the client side of the network (signing, Node's HTTP, decoding
// the pages) is measured apart, as the same listing and the same per-HIT calls through the same
// gateway alone, and subtracted for the "excluding network" figure (as benchmark 4 does).
import { GetHITCommand, MTurkClient } from '@aws-sdk/client-mturk';
import { progress } from './support/child.js';
import { median } from './support/numbers.js';
import {
  cycleCpuExcludingNetwork,
  listingCpuMs,
  type MeasuredCycle,
  measureCycle,
  perHitCallCpuMs,
  submitsPerCycle,
  withResumedFixture,
} from './support/resumed-run.js';
import { FIXTURE_ACCESS_KEY, type RunFixture } from './support/run-fixture.js';

export interface SyncCostArgs {
  readonly fixture: RunFixture;
  /** Cycles measured after the first one following the resume. @defaultValue 5 */
  readonly cycles?: number;
}

/** One measured cycle, with the number of MTurk calls it and its consequences made. */
export interface SyncCycle extends MeasuredCycle {
  readonly total: number;
}

export interface SyncCostResult {
  readonly liveUnits: number;
  /** The first cycle after the resume (it sees every HIT for the first time). */
  readonly firstCycle: SyncCycle;
  readonly cycles: readonly SyncCycle[];
  /** Polling calls of the worst cycle: every call but the confirmations of submissions. */
  readonly hitstateMax: number;
  readonly hitstateMedian: number;
  /**
   * ListAssignmentsForHIT calls per unit submitted before the cycle, worst cycle: each completed
   * unit asks MTurk once whose submission it holds (docs/runtime.md). Absent in older results.
   */
  readonly confirmationsPerSubmissionMax?: number;
  /** Median CPU of the measured cycles, the listing's client side included. */
  readonly cycleCpuMedianMs: number;
  /** CPU of the cycle's listing alone (the same pages through the same gateway), once per measured cycle. */
  readonly listingCpuMs: readonly number[];
  readonly listingCpuMedianMs: number;
  /** Client-side CPU of one per-HIT call (ListAssignmentsForHIT alone). Absent in older results. */
  readonly perHitCallCpuMs?: number;
  /** Median of each cycle's CPU minus the listing's median and its per-HIT calls' client side. */
  readonly cycleCpuExcludingNetworkMedianMs: number;
  /** Median CPU of the store's write at the end of each cycle (part of both figures above). */
  readonly storeWriteCpuMedianMs: number;
  readonly mephisto: { readonly calls: Record<string, number>; readonly total: number; readonly wallMs: number };
}

/** The call a completed unit makes to confirm whose submission it holds; counted apart from polling. */
const CONFIRMATION_CALL = 'ListAssignmentsForHIT';

const sum = (calls: Readonly<Record<string, number>>): number => Object.values(calls).reduce((a, b) => a + b, 0);

export async function measure(args: SyncCostArgs): Promise<SyncCostResult> {
  const { fixture } = args;
  return withResumedFixture(fixture, async (run) => {
    const { runtime, runId, opened } = run;
    const client = new MTurkClient({
      endpoint: opened.sim.url,
      region: 'us-east-1',
      credentials: { accessKeyId: FIXTURE_ACCESS_KEY, secretAccessKey: 'bench-secret' },
      maxAttempts: 1,
    });
    try {
      // Mephisto's tracking loop, on the same state: every unit launched or assigned with a bound HIT costs a GetHIT.
      const live = runtime.store.hits
        .ofRun(runId)
        .filter((h) => h.unitId !== null && ['launched', 'assigned'].includes(runtime.unitStatus(h.unitId)));
      await opened.sim.resetStats();
      const t = performance.now();
      for (const hit of live) await client.send(new GetHITCommand({ HITId: hit.id }));
      const mephistoWallMs = performance.now() - t;
      const mephisto = (await opened.sim.stats()).calls;

      const cycle = async (submits: number, returns: number): Promise<SyncCycle> => {
        const measured = await measureCycle(run, submits, returns, () => opened.sim.resetStats());
        return { total: sum(measured.calls), ...measured };
      };
      const firstCycle = await cycle(0, 0);
      const cycles: SyncCycle[] = [];
      for (let k = 0; k < (args.cycles ?? 5); k++) {
        cycles.push(await cycle(submitsPerCycle(fixture.units), 1));
        progress(
          `${fixture.units} units, cycle ${k + 1}: ${cycles.at(-1)!.total} calls ${JSON.stringify(cycles.at(-1)!.calls)}`,
        );
      }
      // The listing alone, as the cycles made it (a full listing: units are assigned).
      const listing = await listingCpuMs(run, cycles.length);
      const listingCpuMedianMs = median(listing);
      const perHitCallMs = await perHitCallCpuMs(run, cycles.length);
      const cpu = cycles.map((c) => c.cpuMs);
      progress(
        `${fixture.units} units: cycle CPU ${cpu.map((x) => x.toFixed(0)).join(', ')} ms, of which the listing ${listingCpuMedianMs.toFixed(0)} ms and the store's write ${cycles.map((c) => c.storeWriteCpuMs.toFixed(0)).join(', ')} ms`,
      );
      run.assertNoErrors();
      // Polling is what the bound is about; a submission's confirmation is one call per submitted unit.
      const polls = cycles.map((c) => c.total - (c.calls[CONFIRMATION_CALL] ?? 0));
      return {
        liveUnits: live.length,
        firstCycle,
        cycles,
        hitstateMax: Math.max(...polls),
        hitstateMedian: median(polls),
        confirmationsPerSubmissionMax: Math.max(
          ...cycles.map((c) => (c.calls[CONFIRMATION_CALL] ?? 0) / Math.max(1, c.submitted)),
        ),
        cycleCpuMedianMs: median(cpu),
        listingCpuMs: listing,
        listingCpuMedianMs,
        perHitCallCpuMs: perHitCallMs,
        cycleCpuExcludingNetworkMedianMs: median(
          cycles.map((c) => cycleCpuExcludingNetwork(c, listingCpuMedianMs, perHitCallMs)),
        ),
        storeWriteCpuMedianMs: median(cycles.map((c) => c.storeWriteCpuMs)),
        mephisto: { calls: mephisto, total: sum(mephisto), wallMs: mephistoWallMs },
      };
    } finally {
      client.destroy();
    }
  });
}
