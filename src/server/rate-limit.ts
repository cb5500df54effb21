/**
 * Registration limits: token buckets per client address and per HIT, so a flood of made-up
 * registrations (issue 13 S3: 3,000 in 30 s from one address) is refused with 429 and
 * `Retry-After` before it costs an MTurk call or a byte of state, while a crowd of thousands (one
 * registration per page load, a few reloads) never meets them.
 *
 * @module
 */
import type { Clock } from '../clock.js';
import { HitstateError } from '../errors.js';

/** One limit: `burst` registrations at once, refilled at `perMinute`. */
export interface RateLimit {
  readonly burst: number;
  readonly perMinute: number;
}

/** The task server's registration limits (option `registrationLimits`). */
export interface RegistrationLimits {
  /** Per client address (`clientAddress` option; the socket's address by default). */
  readonly perAddress: RateLimit;
  /** Per HIT: one worker holds it at a time; its reloads and retakes stay far below. */
  readonly perHit: RateLimit;
  /** Buckets kept at most per kind; beyond it, full (idle) buckets are dropped first. */
  readonly maxTracked: number;
}

/** Defaults: 30 registrations at once per address, then 30 a minute; 10 per HIT, then 10 a minute. */
export const DEFAULT_REGISTRATION_LIMITS: RegistrationLimits = Object.freeze({
  perAddress: Object.freeze({ burst: 30, perMinute: 30 }),
  perHit: Object.freeze({ burst: 10, perMinute: 10 }),
  maxTracked: 100_000,
});

interface Bucket {
  tokens: number;
  at: number;
}

/** Token buckets keyed by a string, on the server's clock. */
class Buckets {
  readonly #map = new Map<string, Bucket>();

  constructor(
    readonly limit: RateLimit,
    readonly maxTracked: number,
  ) {}

  /** Seconds until `key` may register again (0: it may now; its token is then taken). */
  take(key: string, now: number): number {
    const ratePerMs = this.limit.perMinute / 60_000;
    const bucket = this.#map.get(key) ?? { tokens: this.limit.burst, at: now };
    bucket.tokens = Math.min(this.limit.burst, bucket.tokens + (now - bucket.at) * ratePerMs);
    bucket.at = now;
    if (bucket.tokens < 1) return Math.max(1, Math.ceil((1 - bucket.tokens) / ratePerMs / 1000));
    bucket.tokens -= 1;
    if (!this.#map.has(key)) this.#make(key, bucket, now);
    return 0;
  }

  #make(key: string, bucket: Bucket, now: number): void {
    if (this.#map.size >= this.maxTracked) {
      // Drop buckets that have refilled: forgetting them changes nothing.
      const ratePerMs = this.limit.perMinute / 60_000;
      for (const [k, b] of this.#map) {
        if (b.tokens + (now - b.at) * ratePerMs >= this.limit.burst) this.#map.delete(k);
      }
      // Still full: forget the oldest (a flood of distinct keys cannot grow memory without bound).
      while (this.#map.size >= this.maxTracked) this.#map.delete(this.#map.keys().next().value as string);
    }
    this.#map.set(key, bucket);
  }

  get size(): number {
    return this.#map.size;
  }
}

/** The limiter a task server applies to each registration. */
export class RegistrationLimiter {
  readonly #byAddress: Buckets;
  readonly #byHit: Buckets;
  readonly #clock: Clock;
  readonly #maxTracked: number;
  /** Per HIT, the arrival (assignment + worker) the backend last registered on it. */
  readonly #registeredOnHit = new Map<string, string>();

  constructor(limits: RegistrationLimits, clock: Clock) {
    this.#byAddress = new Buckets(limits.perAddress, limits.maxTracked);
    this.#byHit = new Buckets(limits.perHit, limits.maxTracked);
    this.#clock = clock;
    this.#maxTracked = limits.maxTracked;
  }

  /**
   * Takes one registration of `address` on `hitId`. A reload of the arrival the backend last
   * registered on the HIT (same `arrivalKey`) is not counted against the HIT: the worker MTurk
   * confirmed must always be able to reload its page, however often others tried the HIT.
   *
   * @throws HitstateError `HST_ERR_SERVER_RATE_LIMITED` (429, `retryAfterSec`) when either limit is spent.
   */
  admit(address: string, hitId: string, arrivalKey?: string): void {
    const now = this.#clock.now();
    const byAddress = this.#byAddress.take(address, now);
    const reload = arrivalKey !== undefined && this.#registeredOnHit.get(hitId) === arrivalKey;
    const byHit = byAddress > 0 || reload ? 0 : this.#byHit.take(hitId, now);
    const wait = Math.max(byAddress, byHit);
    if (wait === 0) return;
    const which = byAddress > 0 ? 'from this address' : 'on this HIT';
    throw new HitstateError(
      'HST_ERR_SERVER_RATE_LIMITED',
      `too many registrations ${which}; try again in ${wait} s (registrationLimits)`,
      { retryAfterSec: wait, field: byAddress > 0 ? 'address' : 'hitId' },
    );
  }

  /** Notes that the backend registered `arrivalKey` on `hitId` (its reloads are then not counted per HIT). */
  registered(hitId: string, arrivalKey: string): void {
    this.#registeredOnHit.delete(hitId);
    // Bounded like the buckets: the oldest HIT is forgotten first (its next reload is counted again).
    if (this.#registeredOnHit.size >= this.#maxTracked)
      this.#registeredOnHit.delete(this.#registeredOnHit.keys().next().value as string);
    this.#registeredOnHit.set(hitId, arrivalKey);
  }

  /** How many addresses and HITs are tracked (tests: memory stays bounded). */
  get tracked(): { addresses: number; hits: number } {
    return { addresses: this.#byAddress.size, hits: this.#byHit.size };
  }
}
