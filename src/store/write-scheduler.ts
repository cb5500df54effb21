/**
 * Coalesces the store's writes. Mutations are synchronous and only call {@link WriteScheduler.touch};
 * a write happens after `coalesceMs` without a change, or at the latest `maxDelayMs` after the
 * first change not yet written, on the injected clock. Thousands of changes in a burst cost a
 * handful of writes (lowdb serializes the whole file on each, docs/stack-notes.md#the-cost-of-a-write).
 *
 * @module
 */
import type { Clock, TimerHandle } from '../clock.js';

export interface WriteSchedulerOptions {
  readonly clock: Clock;
  readonly coalesceMs: number;
  readonly maxDelayMs: number;
  /**
   * Writes everything that changed. It reports its own failures (the store emits `writeFailed`);
   * the scheduler only rejects the `flush()` callers waiting on it and retries later.
   */
  readonly write: () => Promise<void>;
}

interface Inflight {
  /** The change count the write includes. */
  readonly covers: number;
  readonly promise: Promise<void>;
}

/** Decides when the store writes, and runs one write at a time. */
export class WriteScheduler {
  readonly #o: WriteSchedulerOptions;
  #changeSeq = 0;
  #durableSeq = 0;
  #firstChangeAt: number | null = null;
  #lastChangeAt = 0;
  #timer: TimerHandle | null = null;
  #inflight: Inflight | null = null;
  #stopped = false;

  constructor(options: WriteSchedulerOptions) {
    this.#o = options;
  }

  /** True when some change is not on disk yet. */
  get pending(): boolean {
    return this.#durableSeq < this.#changeSeq;
  }

  /** Records a change and makes sure a write is scheduled. */
  touch(): void {
    this.#changeSeq++;
    const now = this.#o.clock.now();
    this.#lastChangeAt = now;
    this.#firstChangeAt ??= now;
    if (this.#timer === null && !this.#stopped) this.#arm(this.#o.coalesceMs);
  }

  /** Writes every change made so far; resolves once they are on disk. */
  flush(): Promise<void> {
    this.#disarm();
    return this.#until(this.#changeSeq);
  }

  /** Resolves when no write is in progress (without starting one). */
  async whenIdle(): Promise<void> {
    while (this.#inflight !== null) await this.#inflight.promise.catch(() => undefined);
  }

  /** Stops the timer; `flush()` still works. */
  stop(): void {
    this.#stopped = true;
    this.#disarm();
  }

  /** Undoes {@link stop} (a close whose final write failed leaves the store open). */
  resume(): void {
    this.#stopped = false;
    if (this.pending && this.#timer === null) this.#arm(this.#o.maxDelayMs);
  }

  #arm(ms: number): void {
    this.#timer = this.#o.clock.setTimeout(() => this.#onTimer(), ms);
  }

  #disarm(): void {
    if (this.#timer !== null) {
      this.#o.clock.clearTimeout(this.#timer);
      this.#timer = null;
    }
  }

  // Re-arming lazily (instead of on every touch) keeps a burst of changes from creating a timer each.
  #onTimer(): void {
    this.#timer = null;
    if (!this.pending || this.#stopped) return;
    const now = this.#o.clock.now();
    const due = Math.min(this.#lastChangeAt + this.#o.coalesceMs, (this.#firstChangeAt ?? now) + this.#o.maxDelayMs);
    if (now < due) {
      this.#arm(due - now);
      return;
    }
    // A failure was reported by write() and has armed the retry.
    this.flush().catch(() => undefined);
  }

  async #until(target: number): Promise<void> {
    while (this.#durableSeq < target) {
      const current = this.#inflight;
      if (current === null) {
        this.#start();
        continue;
      }
      if (current.covers >= target) await current.promise;
      // An older write: its failure belongs to its own callers; ours is retried by the next round.
      else await current.promise.catch(() => undefined);
    }
  }

  #start(): void {
    const covers = this.#changeSeq;
    this.#firstChangeAt = null;
    let settle!: { resolve: () => void; reject: (error: unknown) => void };
    const promise = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
    this.#inflight = { covers, promise };
    this.#o.write().then(
      () => {
        if (covers > this.#durableSeq) this.#durableSeq = covers;
        this.#inflight = null;
        settle.resolve();
      },
      (error: unknown) => {
        this.#firstChangeAt ??= this.#o.clock.now();
        this.#inflight = null;
        // The data stays dirty: try again after the longest allowed delay, whoever started this
        // write, rather than spinning on a full disk or waiting for the next change.
        if (this.#timer === null && !this.#stopped) this.#arm(this.#o.maxDelayMs);
        settle.reject(error);
      },
    );
  }
}
