/**
 * Time as a dependency. Everything in hitstate that waits (polling, deadlines, the simulator's
 * expiry and auto-approval) asks a {@link Clock}, so tests, benchmarks and the demo can run on
 * virtual time that only moves when told to.
 *
 * The shape is a superset of what XState's `createActor(..., { clock })` expects.
 *
 * @module
 */

/** An opaque timer handle returned by {@link Clock.setTimeout}. */
export type TimerHandle = unknown;

/** A source of time and timers. */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** The process's real clock. Its timers are unref'd so a pending poll never keeps Node alive. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, Math.max(0, ms));
    t.unref?.();
    return t;
  },
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

interface VirtualTimer {
  readonly id: number;
  readonly at: number;
  readonly fn: () => void;
}

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * A clock that stands still until {@link VirtualClock.advance} moves it.
 *
 * Unlike XState's `SimulatedClock`, one big `advance()` fires a repeating timer as many times as
 * it falls due: timers created while advancing fire too when their deadline is within the step.
 * Between two timers the event loop gets a turn, so work a timer starts (promises, loopback
 * HTTP) can make progress before the next one fires.
 *
 * @example
 * ```ts
 * const clock = new VirtualClock(Date.UTC(2026, 0, 1));
 * clock.setTimeout(() => console.log('expired'), 60_000);
 * await clock.advance(60_000); // prints "expired"
 * ```
 */
export class VirtualClock implements Clock {
  #now: number;
  #nextId = 1;
  #timers: VirtualTimer[] = [];

  /** @param startMs - the initial time in epoch milliseconds; defaults to 2026-01-01T00:00:00Z. */
  constructor(startMs = Date.UTC(2026, 0, 1)) {
    this.#now = startMs;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer: VirtualTimer = { id: this.#nextId++, at: this.#now + Math.max(0, ms), fn };
    // Keep timers sorted by deadline, then by creation order, so firing order is deterministic.
    let i = this.#timers.length;
    while (i > 0 && this.#timers[i - 1]!.at > timer.at) i--;
    this.#timers.splice(i, 0, timer);
    return timer.id;
  }

  clearTimeout(handle: TimerHandle): void {
    const i = this.#timers.findIndex((t) => t.id === handle);
    if (i >= 0) this.#timers.splice(i, 1);
  }

  /** Number of timers waiting to fire. */
  get pendingTimers(): number {
    return this.#timers.length;
  }

  /** Deadline of the next timer in epoch milliseconds, or undefined when none is pending. */
  nextDeadline(): number | undefined {
    return this.#timers[0]?.at;
  }

  /**
   * Moves time forward by `ms`, firing every timer that falls due, in deadline order, with the
   * clock set to each timer's deadline while it runs.
   */
  async advance(ms: number): Promise<void> {
    if (!(ms >= 0)) throw new RangeError(`VirtualClock.advance needs a non-negative number of ms, got ${ms}`);
    await this.advanceTo(this.#now + ms);
  }

  /** Moves time forward to `epochMs` (never backwards), firing due timers as {@link advance} does. */
  async advanceTo(epochMs: number): Promise<void> {
    if (epochMs < this.#now)
      throw new RangeError(`VirtualClock cannot go back in time (now ${this.#now}, asked ${epochMs})`);
    for (;;) {
      const next = this.#timers[0];
      if (next === undefined || next.at > epochMs) break;
      this.#timers.shift();
      this.#now = next.at;
      next.fn();
      await yieldToEventLoop();
    }
    this.#now = epochMs;
    await yieldToEventLoop();
  }
}
