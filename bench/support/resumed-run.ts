// What benchmarks 1, 4 and 6 do alike: open a copy of a run fixture against `hitstate sim`,
// resume the run in this process, then measure status-sync cycles the same way (a few workers act
// between cycles, as in a live run) and the cycle's listing alone (the network's client side).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Runtime } from '../../src/runtime/core/runtime.js';
import { WorkerActivity } from './activity.js';
import { cpuMsSince, median } from './numbers.js';
import { type OpenedFixture, openFixture, type RunFixture } from './run-fixture.js';

/** Workers who submit before each measured cycle: 1% of the units (at least one); one more returns. */
export const submitsPerCycle = (units: number): number => Math.max(1, Math.ceil(units / 100));

/** A fixture run resumed in this process. */
export interface ResumedRun {
  readonly fixture: RunFixture;
  readonly opened: OpenedFixture;
  readonly runtime: Runtime;
  readonly runId: string;
  readonly activity: WorkerActivity;
  /** `createRuntime` (opens the store) + `resume()`, wall and CPU; of which opening the store. */
  readonly resumeWallMs: number;
  readonly resumeCpuMs: number;
  readonly openStoreWallMs: number;
  /** The drift check against MTurk that `resume()` starts, until the runtime is idle (network work, timed apart). */
  readonly driftWallMs: number;
  /** Throws when the runtime reported an error since the resume. */
  assertNoErrors(): void;
}

/** One measured status-sync cycle. */
export interface MeasuredCycle {
  /** Process CPU from `syncNow` until the runtime is idle and the store has written what changed. */
  readonly cpuMs: number;
  readonly wallMs: number;
  /** Of `cpuMs`: the store writing what the cycle changed (`store.flush()` at the end). */
  readonly storeWriteCpuMs: number;
  /** Workers who submitted and returned just before the cycle. */
  readonly submitted: number;
  readonly returned: number;
  /** MTurk calls the cycle made, by operation (the server's counters around the measured window). */
  readonly calls: Readonly<Record<string, number>>;
}

/** The list operations whose client-side CPU {@link listingCpuMs} measures; every other call is a per-HIT call. */
const LISTING_CALLS: ReadonlySet<string> = new Set(['ListHITs', 'ListReviewableHITs']);

/** Per-HIT calls (GetHIT, ListAssignmentsForHIT for a submission's reconcile, …) a cycle made. */
export const perHitCallsOf = (cycle: MeasuredCycle): number =>
  Object.entries(cycle.calls).reduce((n, [op, count]) => (LISTING_CALLS.has(op) ? n : n + count), 0);

/**
 * Copies `fixture` to a temporary folder, starts `hitstate sim` on its state, resumes the run and
 * waits for the drift check; runs `body`, then closes everything and removes the copy.
 * `beforeResume` runs just before the resume's clock starts (e.g. a GC and an RSS reading).
 */
export async function withResumedFixture<R>(
  fixture: RunFixture,
  body: (run: ResumedRun) => Promise<R>,
  options: { readonly beforeResume?: () => void } = {},
): Promise<R> {
  const work = mkdtempSync(join(tmpdir(), 'hitstate-bench-'));
  const opened = await openFixture(fixture, join(work, 'fixture'));
  try {
    options.beforeResume?.();
    const c0 = process.cpuUsage();
    const w0 = performance.now();
    const runtime = await opened.runtime();
    const openStoreWallMs = performance.now() - w0;
    const errors: string[] = [];
    runtime.events.on('error', (err) => errors.push(err.message));
    const [resumed] = await runtime.resume();
    const resumeWallMs = performance.now() - w0;
    const resumeCpuMs = cpuMsSince(c0);
    if (resumed === undefined || !resumed.restored)
      throw new Error('the fixture run was not restored from its snapshots');
    const w1 = performance.now();
    await resumed.drift;
    await runtime.whenIdle();
    const driftWallMs = performance.now() - w1;
    return await body({
      fixture,
      opened,
      runtime,
      runId: fixture.runId,
      activity: new WorkerActivity(runtime, opened.sim, fixture.runId),
      resumeWallMs,
      resumeCpuMs,
      openStoreWallMs,
      driftWallMs,
      assertNoErrors() {
        if (errors.length > 0) throw new Error(`the runtime reported errors:\n${errors.join('\n')}`);
      },
    });
  } finally {
    await opened.close();
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * Workers act (`submits` submit, `returns` return), the runtime settles and writes, then one
 * status-sync cycle is measured. `beforeSync` runs outside the measured window (e.g. resetting
 * the server's call counts).
 */
export async function measureCycle(
  run: ResumedRun,
  submits: number,
  returns: number,
  beforeSync?: () => Promise<void>,
): Promise<MeasuredCycle> {
  const { runtime } = run;
  const acted = await run.activity.act(submits, returns);
  await runtime.whenIdle();
  await runtime.store.flush();
  // A fold the workers' writes started is theirs, not the cycle's.
  await runtime.store.whenIdle();
  await beforeSync?.();
  const before = (await run.opened.sim.stats()).calls;
  const c = process.cpuUsage();
  const w = performance.now();
  await runtime.syncNow(run.runId);
  await runtime.whenIdle();
  const beforeWrite = cpuMsSince(c);
  // The cycle's changes are written by the store's coalescing timer 50 ms later; write them now so
  // their cost counts, and the journal fold a write may start in the background too: otherwise it
  // lands in whatever is measured next.
  await runtime.store.flush();
  await runtime.store.whenIdle();
  const cpuMs = cpuMsSince(c);
  const wallMs = performance.now() - w;
  const after = (await run.opened.sim.stats()).calls;
  const calls: Record<string, number> = {};
  for (const [op, count] of Object.entries(after)) if (count > (before[op] ?? 0)) calls[op] = count - (before[op] ?? 0);
  return { cpuMs, wallMs, storeWriteCpuMs: cpuMs - beforeWrite, calls, ...acted };
}

/**
 * Client-side CPU of one per-HIT call, median of `times` rounds: `ListAssignmentsForHIT` (what a
 * submission's reconcile calls) for `hitsPerRound` of the run's HITs through the same gateway,
 * nothing done with the answers. With {@link listingCpuMs}, what "excluding the network client"
 * subtracts: a cycle's own work is what remains once every call it made is taken out.
 */
export async function perHitCallCpuMs(run: ResumedRun, times: number, hitsPerRound = 100): Promise<number> {
  const gateway = run.runtime.gateway();
  const hitIds = run.runtime.store.hits
    .ofRun(run.runId)
    .slice(0, hitsPerRound)
    .map((h) => h.id);
  const rounds: number[] = [];
  for (let k = 0; k < times; k++) {
    await run.runtime.store.whenIdle();
    const c = process.cpuUsage();
    for (const hitId of hitIds) {
      const outcome = await gateway.listAssignmentsForHIT({ hitId });
      if (outcome.status !== 'ok') throw new Error(`ListAssignmentsForHIT ${hitId} failed: ${outcome.status}`);
    }
    rounds.push(cpuMsSince(c) / hitIds.length);
  }
  return median(rounds);
}

/** A cycle's CPU minus the client side of the calls it made: its listing and its per-HIT calls. */
export const cycleCpuExcludingNetwork = (cycle: MeasuredCycle, listingMs: number, perHitCallMs: number): number =>
  Math.max(0, cycle.cpuMs - listingMs - perHitCallsOf(cycle) * perHitCallMs);

/**
 * CPU of the cycle's listing alone, `times` times: every HIT of the run's HIT type through the
 * same gateway (signing, Node's HTTP, decoding the pages), nothing done with them.
 */
export async function listingCpuMs(run: ResumedRun, times: number): Promise<number[]> {
  const gateway = run.runtime.gateway();
  const out: number[] = [];
  for (let k = 0; k < times; k++) {
    // Nothing of the cycles' left running (a journal fold): the listing alone is measured.
    await run.runtime.store.whenIdle();
    const c = process.cpuUsage();
    let hits = 0;
    for await (const page of gateway.paginateHITsForHITType({ hitTypeId: run.fixture.hitTypeId }, { lane: 'polling' }))
      hits += page.length;
    out.push(cpuMsSince(c));
    if (hits !== run.fixture.units) throw new Error(`the listing found ${hits} HITs, expected ${run.fixture.units}`);
  }
  return out;
}
