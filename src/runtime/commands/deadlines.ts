/**
 * One timer per run for every actor deadline. The machines keep deadlines as absolute times in
 * their context (XState does not restore `after` timers); `nextDeadline(snapshot)` tells when an
 * actor wants `deadline.reached`, and this wheel keeps the earliest of all of them armed on the
 * runtime's clock.
 *
 * @module
 */
import type { Clock, TimerHandle } from '../../clock.js';

interface Entry {
  readonly key: string;
  readonly at: number;
  readonly version: number;
}

/** Earlier first; equal times in the order they were set, so firing order never depends on the heap's shape. */
const before = (a: Entry, b: Entry): boolean => a.at < b.at || (a.at === b.at && a.version < b.version);

/**
 * A min-heap of deadlines keyed by actor, with lazy deletion (an entry is current only while its
 * version is the key's latest), and one clock timer for the earliest.
 */
export class DeadlineWheel {
  readonly #clock: Clock;
  readonly #fire: (keys: readonly string[], at: number) => void;
  readonly #heap: Entry[] = [];
  readonly #current = new Map<string, { at: number; version: number }>();
  /** The deadline last fired per key: it is not armed again until it changes (no busy loop). */
  readonly #fired = new Map<string, number>();
  #version = 0;
  #timer: TimerHandle | undefined;
  #timerAt: number | undefined;
  #stopped = false;

  /** @param fire - called with the keys whose deadline passed, and the clock's time. */
  constructor(clock: Clock, fire: (keys: readonly string[], at: number) => void) {
    this.#clock = clock;
    this.#fire = fire;
  }

  /** Sets (or clears, with undefined) the deadline of `key`. */
  set(key: string, at: number | undefined): void {
    if (this.#stopped) return;
    const current = this.#current.get(key);
    if (at === undefined) {
      if (current !== undefined) this.#current.delete(key);
      this.#fired.delete(key);
      return;
    }
    if (current?.at === at) return;
    if (this.#fired.get(key) === at) return;
    this.#fired.delete(key);
    const version = ++this.#version;
    this.#current.set(key, { at, version });
    this.#push({ key, at, version });
    this.#arm();
  }

  /** The earliest armed deadline, if any. */
  next(): number | undefined {
    this.#prune();
    return this.#heap[0]?.at;
  }

  /** Number of keys with a deadline. */
  get size(): number {
    return this.#current.size;
  }

  /** Clears the timer; nothing fires after this. */
  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = undefined;
  }

  #arm(): void {
    const next = this.next();
    if (next === undefined || this.#stopped) return;
    if (this.#timerAt !== undefined && this.#timerAt <= next) return;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timerAt = next;
    this.#timer = this.#clock.setTimeout(() => this.#onTimer(), Math.max(0, next - this.#clock.now()));
  }

  #onTimer(): void {
    this.#timer = undefined;
    this.#timerAt = undefined;
    if (this.#stopped) return;
    const now = this.#clock.now();
    const due: string[] = [];
    this.#prune();
    while (this.#heap.length > 0 && this.#heap[0]!.at <= now) {
      const entry = this.#pop()!;
      const current = this.#current.get(entry.key);
      if (current?.version !== entry.version) continue;
      this.#current.delete(entry.key);
      this.#fired.set(entry.key, entry.at);
      due.push(entry.key);
    }
    if (due.length > 0) this.#fire(due, now);
    this.#arm();
  }

  #prune(): void {
    while (this.#heap.length > 0) {
      const top = this.#heap[0]!;
      if (this.#current.get(top.key)?.version === top.version) return;
      this.#pop();
    }
  }

  #push(entry: Entry): void {
    const h = this.#heap;
    h.push(entry);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(entry, h[parent]!)) break;
      h[i] = h[parent]!;
      i = parent;
    }
    h[i] = entry;
  }

  #pop(): Entry | undefined {
    const h = this.#heap;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last !== undefined) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let smallest = i;
        const at = (k: number) => (k === i ? last : h[k]!);
        if (l < h.length && before(h[l]!, at(smallest))) smallest = l;
        if (r < h.length && before(h[r]!, at(smallest))) smallest = r;
        if (smallest === i) break;
        h[i] = h[smallest]!;
        i = smallest;
      }
      h[i] = last;
    }
    return top;
  }
}
