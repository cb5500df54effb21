/**
 * The rate governor: one per requester and endpoint, shared by every caller. A token bucket hands
 * out requests by priority lane (money before lifecycle before polling), backs off with seeded
 * jitter on throttling and service faults, slows the whole bucket down while MTurk throttles, and
 * keeps counters the runtime can show.
 *
 * It waits only on the injected {@link Clock}, so tests and benchmarks run it on virtual time.
 *
 * @module
 */
import { systemClock, type Clock, type TimerHandle } from '../clock.js';
import { HitstateError } from '../errors.js';
import { seededRandom } from '../random.js';

/** Priority lanes, highest first. */
export const Lane = {
  money: 'money',
  lifecycle: 'lifecycle',
  polling: 'polling',
} as const;
export type Lane = (typeof Lane)[keyof typeof Lane];
const LANES: readonly Lane[] = ['money', 'lifecycle', 'polling'];

/** How a failed attempt should be treated. `fatal` is never retried. */
export type RetryClass = 'throttled' | 'unavailable' | 'fatal';

/** Governor settings. */
export interface GovernorOptions {
  /** Sustained requests per second. @defaultValue 5 */
  readonly ratePerSecond?: number;
  /** Requests that may go out at once after a quiet period. @defaultValue 10 */
  readonly burst?: number;
  /** Attempts per call, the first included. @defaultValue 6 */
  readonly maxAttempts?: number;
  /** First backoff ceiling in ms; doubles per retry (jittered between half and all of it). @defaultValue 500 */
  readonly baseBackoffMs?: number;
  /** Largest backoff in ms. @defaultValue 20000 */
  readonly maxBackoffMs?: number;
  /** Lowest fraction of `ratePerSecond` the bucket slows to while throttled. @defaultValue 0.125 */
  readonly minRateFraction?: number;
  /** Seed of the jitter PRNG (deterministic backoff in tests). @defaultValue 1 */
  readonly seed?: number;
  /** @defaultValue systemClock */
  readonly clock?: Clock;
}

/** One call as the governor sees it. */
export interface GovernedCall {
  readonly operation: string;
  readonly lane: Lane;
  /** Whether a service fault may be retried (idempotent, or carrying a UniqueRequestToken). */
  readonly retrySafe: boolean;
  /** Fewer attempts than the governor's for this call (1: none retried). */
  readonly maxAttempts?: number;
}

/** What happened to one governed call. */
export interface CallReport {
  attempts: number;
  retryDelayMs: number;
  throttles: number;
  faults: number;
}

/** Counters, readable any time. */
export interface GovernorStats {
  /** Calls started per operation (a paginated list counts one per page). */
  readonly calls: Readonly<Record<string, number>>;
  readonly attempts: number;
  readonly retries: number;
  readonly throttles: number;
  readonly faults: number;
  /** Calls that ran out of attempts or hit a non-retryable error. */
  readonly failures: number;
  readonly totalRetryDelayMs: number;
  readonly inFlight: number;
  readonly backingOff: number;
  readonly queued: Readonly<Record<Lane, number>>;
  readonly tokens: number;
  readonly effectiveRatePerSecond: number;
}

interface Waiter {
  resolve(): void;
  reject(err: unknown): void;
}

function positive(value: number, field: string): number {
  if (!(value > 0) || !Number.isFinite(value))
    throw new HitstateError('HST_ERR_CONFIG_INVALID', `governor.${field} must be a positive number, got ${value}`, {
      field: `governor.${field}`,
    });
  return value;
}

/**
 * A token bucket with priority lanes and retry with backoff.
 *
 * @example
 * ```ts
 * const governor = new RateGovernor({ ratePerSecond: 5, burst: 10, clock });
 * const hit = await governor.run({ operation: 'GetHIT', lane: 'polling', retrySafe: true },
 *   () => client.send(new GetHITCommand({ HITId })), classify);
 * ```
 */
export class RateGovernor {
  readonly #clock: Clock;
  readonly #rate: number;
  readonly #burst: number;
  readonly #maxAttempts: number;
  readonly #baseBackoffMs: number;
  readonly #maxBackoffMs: number;
  readonly #minFactor: number;
  readonly #random: () => number;
  #factor = 1;
  #tokens: number;
  #refilledAt: number;
  #timer: TimerHandle | undefined;
  #closed = false;
  readonly #queues: Record<Lane, Waiter[]> = { money: [], lifecycle: [], polling: [] };
  readonly #sleepers = new Set<{ handle: TimerHandle; reject(err: unknown): void }>();
  readonly #idleWaiters: Array<() => void> = [];
  readonly #calls: Record<string, number> = {};
  #attempts = 0;
  #retries = 0;
  #throttles = 0;
  #faults = 0;
  #failures = 0;
  #retryDelayMs = 0;
  #inFlight = 0;
  #backingOff = 0;

  constructor(options: GovernorOptions = {}) {
    this.#clock = options.clock ?? systemClock;
    this.#rate = positive(options.ratePerSecond ?? 5, 'ratePerSecond');
    this.#burst = positive(options.burst ?? 10, 'burst');
    this.#maxAttempts = Math.floor(positive(options.maxAttempts ?? 6, 'maxAttempts'));
    this.#baseBackoffMs = positive(options.baseBackoffMs ?? 500, 'baseBackoffMs');
    this.#maxBackoffMs = positive(options.maxBackoffMs ?? 20_000, 'maxBackoffMs');
    this.#minFactor = Math.min(1, positive(options.minRateFraction ?? 0.125, 'minRateFraction'));
    this.#random = seededRandom(options.seed ?? 1);
    this.#tokens = this.#burst;
    this.#refilledAt = this.#clock.now();
  }

  /**
   * Runs `attempt` under the bucket, retrying throttled attempts always (a throttled request was
   * refused before MTurk did anything) and unavailable ones only when `call.retrySafe`.
   * Rejects with the last error when attempts run out or the error is fatal.
   */
  async run<T>(
    call: GovernedCall,
    attempt: () => Promise<T>,
    classify: (err: unknown) => RetryClass,
    report?: CallReport,
  ): Promise<T> {
    this.#calls[call.operation] = (this.#calls[call.operation] ?? 0) + 1;
    for (let n = 1; ; n++) {
      await this.#acquire(call.lane);
      this.#inFlight++;
      this.#attempts++;
      if (report) report.attempts++;
      let outcome: { ok: true; value: T } | { ok: false; error: unknown };
      try {
        outcome = { ok: true, value: await attempt() };
      } catch (error) {
        outcome = { ok: false, error };
      } finally {
        this.#inFlight--;
      }
      if (outcome.ok) {
        // Additive recovery after a multiplicative slow-down (AIMD), back to the configured rate.
        this.#factor = Math.min(1, this.#factor + 0.05);
        this.#notifyIdle();
        return outcome.value;
      }
      const failure = outcome.error;
      const kind = classify(failure);
      if (kind === 'throttled') {
        this.#throttles++;
        if (report) report.throttles++;
        this.#slowDown();
      } else if (kind === 'unavailable') {
        this.#faults++;
        if (report) report.faults++;
      }
      // A throttled request was refused before MTurk did anything, so it is safe to repeat for
      // every operation; a fault may have happened after the work was done.
      const retryable = kind === 'throttled' || (kind === 'unavailable' && call.retrySafe);
      if (!retryable || n >= Math.min(this.#maxAttempts, call.maxAttempts ?? this.#maxAttempts) || this.#closed) {
        this.#failures++;
        this.#notifyIdle();
        throw failure;
      }
      const delay = this.backoffMs(n);
      this.#retries++;
      this.#retryDelayMs += delay;
      if (report) report.retryDelayMs += delay;
      this.#backingOff++;
      try {
        await this.#sleep(delay);
      } finally {
        this.#backingOff--;
      }
    }
  }

  /** The jittered delay before retry `retry` (1 = first retry): between half and all of base·2^(retry-1), capped. */
  backoffMs(retry: number): number {
    const ceiling = Math.min(this.#maxBackoffMs, this.#baseBackoffMs * 2 ** (retry - 1));
    return Math.round(ceiling / 2 + this.#random() * (ceiling / 2));
  }

  /** A copy of the counters. */
  stats(): GovernorStats {
    this.#refill();
    return {
      calls: { ...this.#calls },
      attempts: this.#attempts,
      retries: this.#retries,
      throttles: this.#throttles,
      faults: this.#faults,
      failures: this.#failures,
      totalRetryDelayMs: this.#retryDelayMs,
      inFlight: this.#inFlight,
      backingOff: this.#backingOff,
      queued: {
        money: this.#queues.money.length,
        lifecycle: this.#queues.lifecycle.length,
        polling: this.#queues.polling.length,
      },
      tokens: this.#tokens,
      effectiveRatePerSecond: this.#rate * this.#factor,
    };
  }

  /** True when nothing is queued, in flight or backing off. */
  isIdle(): boolean {
    return this.#inFlight === 0 && this.#backingOff === 0 && LANES.every((l) => this.#queues[l].length === 0);
  }

  /** Resolves once the governor is idle (at once if it already is). */
  whenIdle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Stops the governor: queued and backing-off calls fail with `HST_ERR_MTURK_UNAVAILABLE`. */
  close(): void {
    this.#closed = true;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    const err = new HitstateError(
      'HST_ERR_MTURK_UNAVAILABLE',
      'the MTurk gateway was closed while this call was waiting; nothing was sent for it',
    );
    for (const lane of LANES) for (const w of this.#queues[lane].splice(0)) w.reject(err);
    for (const s of [...this.#sleepers]) {
      this.#clock.clearTimeout(s.handle);
      s.reject(err);
    }
    this.#sleepers.clear();
    for (const resolve of this.#idleWaiters.splice(0)) resolve();
  }

  #refill(): void {
    const now = this.#clock.now();
    const elapsed = Math.max(0, now - this.#refilledAt);
    this.#tokens = Math.min(this.#burst, this.#tokens + (elapsed * this.#rate * this.#factor) / 1000);
    this.#refilledAt = now;
  }

  #slowDown(): void {
    this.#refill();
    this.#factor = Math.max(this.#minFactor, this.#factor / 2);
    this.#tokens = Math.min(this.#tokens, 0);
  }

  #acquire(lane: Lane): Promise<void> {
    if (this.#closed)
      return Promise.reject(
        new HitstateError('HST_ERR_MTURK_UNAVAILABLE', 'the MTurk gateway is closed; create a new one to make calls'),
      );
    this.#refill();
    if (LANES.every((l) => this.#queues[l].length === 0) && this.#tokens >= 1) {
      this.#tokens -= 1;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      this.#queues[lane].push({ resolve, reject });
      this.#schedule();
    });
  }

  #pump(): void {
    this.#refill();
    for (const lane of LANES) {
      const queue = this.#queues[lane];
      while (queue.length > 0 && this.#tokens >= 1) {
        this.#tokens -= 1;
        queue.shift()!.resolve();
      }
      if (queue.length > 0) break;
    }
    if (LANES.some((l) => this.#queues[l].length > 0)) this.#schedule();
  }

  #schedule(): void {
    if (this.#timer !== undefined || this.#closed) return;
    const waitMs = Math.max(1, Math.ceil(((1 - this.#tokens) * 1000) / (this.#rate * this.#factor)));
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      this.#pump();
    }, waitMs);
  }

  #sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const entry = {
        handle: this.#clock.setTimeout(() => {
          this.#sleepers.delete(entry);
          resolve();
        }, ms),
        reject,
      };
      this.#sleepers.add(entry);
    });
  }

  #notifyIdle(): void {
    if (!this.isIdle()) return;
    for (const resolve of this.#idleWaiters.splice(0)) resolve();
  }
}
