/**
 * Fault injection. Each requester call draws one number from a seeded generator: below
 * `faultRate / 2` the call answers ServiceFault (500) without doing anything; between
 * `faultRate / 2` and `faultRate` the call is carried out and then the connection is destroyed
 * without a response, the case where the client cannot know whether it happened (what
 * UniqueRequestToken and idempotent retries exist for). Same seed, same calls: same faults.
 *
 * @module
 */
import type { Prng } from '../random.js';

/** What happens to one call. */
export type FaultDecision = 'none' | 'fault' | 'drop';

export class FaultInjector {
  readonly #rate: number;
  readonly #prng: Prng;

  constructor(rate: number, prng: Prng) {
    this.#rate = rate;
    this.#prng = prng;
  }

  decide(): FaultDecision {
    if (this.#rate <= 0) return 'none';
    const r = this.#prng.next();
    if (r >= this.#rate) return 'none';
    return r < this.#rate / 2 ? 'fault' : 'drop';
  }

  get prngState(): number {
    return this.#prng.state;
  }
}
