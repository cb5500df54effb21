// Moves a shared VirtualClock only while the runtime is idle, to the next timer (or `stepMs`
// ahead when none is due sooner), so hours of MTurk time pass in moments and what happens never
// depends on how fast the machine is. The same rule as the runtime's test world (test/support/sim-world.ts).
import type { VirtualClock } from '../../src/clock.js';
import type { Runtime } from '../../src/runtime/core/runtime.js';
import { progress } from './child.js';

export interface DriveOptions {
  /** Largest step when no timer is due sooner. @defaultValue 1000 */
  readonly stepMs?: number;
  /** Virtual time after which driving fails. @defaultValue 6 hours */
  readonly maxMs?: number;
  readonly label?: string;
  /** Called before each step with the time the clock moves to (e.g. to move a server in another process along). */
  readonly onAdvance?: (epochMs: number) => Promise<void>;
}

/** Drives `clock` until `until()` holds; returns the virtual ms it took. */
export async function driveUntil(
  runtime: Runtime,
  clock: VirtualClock,
  until: () => boolean,
  options: DriveOptions = {},
): Promise<number> {
  const start = clock.now();
  const maxMs = options.maxMs ?? 6 * 3_600_000;
  const stepMs = options.stepMs ?? 1000;
  for (;;) {
    await runtime.whenIdle();
    if (until()) return clock.now() - start;
    const now = clock.now();
    if (now - start >= maxMs)
      throw new Error(`${options.label ?? 'drive'}: not reached after ${maxMs / 1000} s of virtual time`);
    const next = clock.nextDeadline();
    const target =
      next !== undefined && next <= now
        ? now
        : Math.min(start + maxMs, next !== undefined ? Math.min(next, now + stepMs) : now + stepMs);
    await options.onAdvance?.(target);
    await clock.advanceTo(target);
  }
}

/**
 * Drives `clock` until every one of the run's `units` is launched, printing a progress line each
 * time `every` more are (with the virtual and wall seconds so far); returns the virtual ms it took.
 */
export function driveUntilLaunched(
  runtime: Runtime,
  clock: VirtualClock,
  runId: string,
  units: number,
  every: number,
  options: DriveOptions = {},
): Promise<number> {
  const start = clock.now();
  const wall = performance.now();
  let reported = 0;
  return driveUntil(
    runtime,
    clock,
    () => {
      const launched = runtime.runInfo(runId).counts.launched;
      if (launched >= reported + every) {
        reported = launched;
        progress(
          `${launched} of ${units} launched after ${((clock.now() - start) / 1000).toFixed(1)} s of virtual time, ${((performance.now() - wall) / 1000).toFixed(0)} s wall`,
        );
      }
      return launched === units;
    },
    options,
  );
}
