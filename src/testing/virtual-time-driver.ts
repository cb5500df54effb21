/**
 * Moves a {@link VirtualClock} forward only while the system under test has nothing left to do,
 * so hours of MTurk time (polls, assignment deadlines, expiry) pass in a moment of wall time and
 * the order of events never depends on how fast the machine is.
 *
 * @module
 */
import { setTimeout as sleepReal } from 'node:timers/promises';
import type { VirtualClock } from '../clock.js';

/** Real-time pacing, so a person can watch a run on virtual time (the demo). */
export interface DriverPacing {
  /** Wall milliseconds spent per virtual second advanced. */
  readonly realMsPerVirtualSec: number;
  /** At most this many wall milliseconds per step, so a long quiet stretch does not drag. @defaultValue 200 */
  readonly maxRealMsPerStep?: number;
}

/** Options of {@link VirtualTimeDriver}. */
export interface VirtualTimeDriverOptions {
  /** The clock shared by everything under test (simulator, runtime, task server). */
  readonly clock: VirtualClock;
  /**
   * Resolves when the system under test does nothing more until time moves, e.g.
   * `() => runtime.whenIdle()`. Work started through {@link VirtualTimeDriver.track} is waited
   * for as well. @defaultValue nothing to wait for besides tracked work
   */
  readonly whenIdle?: () => Promise<void>;
  /** Largest step of virtual time when no timer is due sooner, in ms. @defaultValue 1000 */
  readonly stepMs?: number;
  /** Wall-time pacing; none by default (tests run as fast as the machine allows). */
  readonly pacing?: DriverPacing;
}

/** Options of one {@link VirtualTimeDriver.drive} call. */
export interface DriveOptions {
  /** Largest step of this call when no timer is due sooner, in ms. @defaultValue the driver's `stepMs` */
  readonly stepMs?: number;
  /** Virtual time after which `drive` gives up and throws, in ms. @defaultValue 7200000 (2 hours) */
  readonly maxMs?: number;
  /** Named in the error when the condition is not reached. */
  readonly label?: string;
  /** Stops driving: `drive` throws the signal's reason (checked before each step). */
  readonly signal?: AbortSignal;
}

const DEFAULT_MAX_MS = 2 * 3_600_000;

/**
 * Drives virtual time for deterministic end-to-end tests of a task run (and for `hitstate demo`).
 *
 * Each step waits until the system is idle (its `whenIdle()` and every tracked promise), then
 * advances the clock to the next timer (or by `stepMs` when none is due sooner). Simulated
 * workers sleep on the same clock with {@link VirtualTimeDriver.sleep} and wrap their HTTP calls
 * in {@link VirtualTimeDriver.track}, so time never moves while a worker's request is in flight.
 *
 * @example
 * ```ts
 * const clock = new VirtualClock();
 * const sim = await createSimulator({ clock });
 * const runtime = await createRuntime({ environment: { kind: 'custom', endpoint: sim.url }, clock, requester });
 * const driver = new VirtualTimeDriver({ clock, whenIdle: () => runtime.whenIdle() });
 * const { runId } = await runtime.launchRun(config);
 * await driver.drive(() => runtime.runInfo(runId).counts.launched === 3, { label: 'launch' });
 * await driver.drive(runtime.expireRun(runId));
 * ```
 */
export class VirtualTimeDriver {
  readonly clock: VirtualClock;
  readonly #whenIdle: () => Promise<void>;
  readonly #stepMs: number;
  readonly #pacing: DriverPacing | undefined;
  readonly #tracked = new Set<Promise<unknown>>();

  constructor(options: VirtualTimeDriverOptions) {
    this.clock = options.clock;
    this.#whenIdle = options.whenIdle ?? (() => Promise.resolve());
    this.#stepMs = options.stepMs ?? 1000;
    this.#pacing = options.pacing;
    if (!(this.#stepMs > 0)) throw new RangeError(`stepMs must be above 0, got ${this.#stepMs}`);
  }

  /** Number of tracked promises still pending. */
  get busy(): number {
    return this.#tracked.size;
  }

  /**
   * Marks work that must finish before time moves (a simulated worker's HTTP request). Returns
   * the same promise.
   */
  track<T>(work: Promise<T>): Promise<T> {
    this.#tracked.add(work);
    const forget = (): void => void this.#tracked.delete(work);
    work.then(forget, forget);
    return work;
  }

  /** Resolves once `ms` of virtual time passed (a timer on the clock the driver advances). */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => void this.clock.setTimeout(resolve, ms));
  }

  /** Resolves when the system is idle and no tracked work is pending, both at the same moment. */
  async settle(): Promise<void> {
    for (;;) {
      if (this.#tracked.size > 0) await Promise.allSettled([...this.#tracked]);
      await this.#whenIdle();
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (this.#tracked.size === 0) return;
    }
  }

  /**
   * Moves virtual time until `until` holds (a predicate, checked whenever the system is idle) or
   * settles (a promise, whose value is returned and whose rejection is thrown).
   *
   * @throws Error naming `label` once `maxMs` of virtual time passed without `until`; the
   *   signal's reason once `signal` is aborted; RangeError for a `stepMs` not above 0.
   */
  async drive<T>(until: Promise<T> | (() => boolean), options: DriveOptions = {}): Promise<T | undefined> {
    const maxMs = options.maxMs ?? DEFAULT_MAX_MS;
    const stepMs = options.stepMs ?? this.#stepMs;
    if (!(stepMs > 0)) throw new RangeError(`stepMs must be above 0, got ${stepMs}`);
    const bound = this.clock.now() + maxMs;
    let settled = false;
    let value: T | undefined;
    let failure: { error: unknown } | undefined;
    if (typeof until !== 'function') {
      until.then(
        (v) => {
          settled = true;
          value = v;
        },
        (error: unknown) => {
          settled = true;
          failure = { error };
        },
      );
    }
    const done = (): boolean => (typeof until === 'function' ? until() : settled);
    for (;;) {
      options.signal?.throwIfAborted();
      await this.settle();
      if (done()) {
        if (failure !== undefined) throw failure.error;
        return value;
      }
      const now = this.clock.now();
      if (now >= bound) {
        throw new Error(
          `drive${options.label ? ` (${options.label})` : ''}: not reached after ${maxMs / 1000} s of virtual time (now ${new Date(now).toISOString()})`,
        );
      }
      await this.#step(now, bound, stepMs);
    }
  }

  /** Moves virtual time forward by exactly `ms`, the system idle before each step (`stepMs` and `signal` as in {@link drive}). */
  async advance(ms: number, options: Pick<DriveOptions, 'stepMs' | 'signal'> = {}): Promise<void> {
    const end = this.clock.now() + ms;
    await this.drive(() => this.clock.now() >= end, { ...options, maxMs: ms, label: `advance ${ms} ms` });
  }

  async #step(now: number, bound: number, stepMs: number): Promise<void> {
    const next = this.clock.nextDeadline();
    const target =
      next !== undefined && next <= now
        ? now
        : Math.min(bound, next !== undefined ? Math.min(next, now + stepMs) : now + stepMs);
    if (this.#pacing !== undefined && target > now) {
      const wallMs = Math.min(
        this.#pacing.maxRealMsPerStep ?? 200,
        ((target - now) / 1000) * this.#pacing.realMsPerVirtualSec,
      );
      if (wallMs >= 1) await sleepReal(wallMs);
    }
    await this.clock.advanceTo(target);
  }
}
