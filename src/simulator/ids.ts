/**
 * Realistic, seeded ids: 30 uppercase alphanumerics for HITs, assignments, HIT types and
 * qualification types (`3U18MJKL1WA8S1G7ULNIMQIIED9NCW`), `A` + 13 for workers and requester
 * customer ids (`AUYKYIHQXG6XR1`), and request ids shaped like AWS's UUIDs.
 *
 * @module
 */
import type { Prng } from '../random.js';

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const HEX = '0123456789abcdef';

/**
 * The HIT group id of a HIT type. On MTurk `HITGroupId` was an id of its own, distinct from the
 * HIT type id; here it is the HIT type id with all but its first character reversed, so it has
 * the same shape, differs from it, and leads back to it without a table ({@link hitTypeIdOfGroupId}).
 */
export function hitGroupIdOf(hitTypeId: string): string {
  return hitTypeId.charAt(0) + [...hitTypeId.slice(1)].reverse().join('');
}

/** The HIT type id a HIT group id was made from (the same transformation undoes itself). */
export function hitTypeIdOfGroupId(groupId: string): string {
  return hitGroupIdOf(groupId);
}

/** Generates every id the simulator hands out, from one seeded stream. */
export class IdGenerator {
  readonly #prng: Prng;
  readonly #issued = new Set<string>();

  constructor(prng: Prng) {
    this.#prng = prng;
  }

  #chars(alphabet: string, n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += alphabet[this.#prng.int(alphabet.length)];
    return s;
  }

  /** Marks an id as taken (ids restored from a state file), so it is never issued again. */
  reserve(id: string): void {
    this.#issued.add(id);
  }

  #unique(make: () => string): string {
    for (;;) {
      const id = make();
      if (!this.#issued.has(id)) {
        this.#issued.add(id);
        return id;
      }
    }
  }

  /** A HIT, assignment, HIT type or qualification type id: 30 uppercase alphanumerics, first a digit as on MTurk. */
  entityId(): string {
    return this.#unique(() => `${this.#chars('123456789', 1)}${this.#chars(ALPHANUMERIC, 29)}`);
  }

  /** A worker or requester customer id: `A` followed by 13 uppercase alphanumerics. */
  customerId(): string {
    return this.#unique(() => `A${this.#chars(ALPHANUMERIC, 13)}`);
  }

  /** A request id for the `x-amzn-RequestId` header, UUID-shaped. */
  requestId(): string {
    const h = this.#chars(HEX, 32);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20)}`;
  }

  /** A notification EventDocId: 40 hex characters. */
  eventDocId(): string {
    return this.#chars(HEX, 40);
  }
}
