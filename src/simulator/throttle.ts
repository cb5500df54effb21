/**
 * Throttling: one token bucket per requester account (access key), refilled at `ratePerSecond`
 * on the simulator's clock up to `burst` tokens. On a virtual clock the bucket only refills when
 * virtual time moves, so a test decides exactly when calls are throttled.
 *
 * @module
 */

/** Rate and burst of the token bucket. */
export interface ThrottleOptions {
  /** Tokens added per second of (simulator) clock time. */
  ratePerSecond: number;
  /** Bucket size: how many calls may arrive at once. */
  burst: number;
}

interface Bucket {
  tokens: number;
  atMs: number;
}

/** Token buckets per account. */
export class Throttle {
  readonly #options: ThrottleOptions;
  readonly #buckets = new Map<string, Bucket>();

  constructor(options: ThrottleOptions) {
    this.#options = options;
  }

  /** Takes a token for the account; false means the call is throttled. */
  take(account: string, nowMs: number): boolean {
    const { ratePerSecond, burst } = this.#options;
    let b = this.#buckets.get(account);
    if (b === undefined) {
      b = { tokens: burst, atMs: nowMs };
      this.#buckets.set(account, b);
    }
    const elapsedMs = Math.max(0, nowMs - b.atMs);
    b.tokens = Math.min(burst, b.tokens + (elapsedMs / 1000) * ratePerSecond);
    b.atMs = nowMs;
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }
}
