/**
 * Call counters, as `GET /_sim/stats` and `sim.stats()` report them: calls per operation
 * (including throttled and faulted ones), throttled calls, ServiceFaults and dropped connections.
 *
 * @module
 */

/** The counters. */
export interface SimulatorStats {
  calls: Record<string, number>;
  throttled: number;
  faults: number;
  dropped: number;
}

export class StatsRecorder {
  #stats: SimulatorStats = { calls: {}, throttled: 0, faults: 0, dropped: 0 };

  call(operation: string): void {
    this.#stats.calls[operation] = (this.#stats.calls[operation] ?? 0) + 1;
  }

  throttled(): void {
    this.#stats.throttled++;
  }

  fault(): void {
    this.#stats.faults++;
  }

  dropped(): void {
    this.#stats.dropped++;
  }

  /** A copy of the counters, with operations in alphabetical order. */
  snapshot(): SimulatorStats {
    const calls: Record<string, number> = {};
    for (const op of Object.keys(this.#stats.calls).sort()) calls[op] = this.#stats.calls[op]!;
    return { calls, throttled: this.#stats.throttled, faults: this.#stats.faults, dropped: this.#stats.dropped };
  }

  reset(): void {
    this.#stats = { calls: {}, throttled: 0, faults: 0, dropped: 0 };
  }
}
