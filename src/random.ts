/**
 * The one seeded pseudo-random generator of hitstate (mulberry32): the simulator's ids and faults,
 * the gateway's retry jitter, the demo's crowd plan, the benchmarks and the randomized tests all
 * draw from it, so the same seed gives the same sequence on every machine. Its whole state is one
 * 32-bit number, which the simulator's state file keeps so a restarted simulator continues the
 * sequence instead of repeating ids.
 *
 * @module
 */

/** A seeded generator of uniform numbers in [0, 1). */
export class Prng {
  #state: number;

  /** @param seed - any finite number; only its low 32 bits matter. */
  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** The next number in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** The internal state, to persist and later pass to {@link Prng.restore}. */
  get state(): number {
    return this.#state;
  }

  /** A generator that continues exactly where the one that reported `state` stopped. */
  static restore(state: number): Prng {
    const p = new Prng(0);
    p.#state = state >>> 0;
    return p;
  }
}

/** Derives an independent stream from a seed, so adding a fault draw never shifts the id sequence. */
export function deriveSeed(seed: number, stream: string): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  for (let i = 0; i < stream.length; i++) {
    h = Math.imul(h ^ stream.charCodeAt(i), 0x01000193) >>> 0;
  }
  return h;
}

/**
 * A seeded generator as a plain function, for code that only needs the next number.
 *
 * @example
 * ```ts
 * const random = seededRandom(7);
 * const jitterMs = random() * 100; // the same on every run with seed 7
 * ```
 */
export function seededRandom(seed: number): () => number {
  const prng = new Prng(seed);
  return () => prng.next();
}
