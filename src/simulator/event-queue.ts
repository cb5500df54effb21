/**
 * The time-ordered queue of everything that happens on its own: HIT expiry, assignment deadlines
 * (abandonment), auto-approval and the end of a UniqueRequestToken's 24 hours. A binary min-heap
 * ordered by time, then by insertion order, so events due at the same instant fire in the order
 * they were scheduled.
 *
 * Entries are never removed early: a handler checks, when the event fires, that it still applies
 * (the HIT's expiration was not moved, the assignment is still pending). That keeps scheduling
 * O(log n) and needs no lookup by id.
 *
 * @module
 */

/** What a scheduled event is about. */
export type TimedEventKind = 'hitExpiry' | 'assignmentDeadline' | 'autoApproval' | 'tokenExpiry';

/** One scheduled event. */
export interface TimedEvent {
  readonly atMs: number;
  readonly kind: TimedEventKind;
  /** The HIT id, assignment id or token key the event is about. */
  readonly ref: string;
}

interface Entry extends TimedEvent {
  readonly order: number;
}

const before = (a: Entry, b: Entry): boolean => a.atMs < b.atMs || (a.atMs === b.atMs && a.order < b.order);

/** A min-heap of {@link TimedEvent}s. */
export class EventQueue {
  readonly #heap: Entry[] = [];
  #order = 0;

  get size(): number {
    return this.#heap.length;
  }

  push(event: TimedEvent): void {
    const heap = this.#heap;
    heap.push({ ...event, order: this.#order++ });
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i]!, heap[parent]!)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  }

  /** The earliest event's time, or undefined when nothing is scheduled. */
  peekTime(): number | undefined {
    return this.#heap[0]?.atMs;
  }

  /** Removes and returns the earliest event if it is due at `nowMs` or before. */
  popDue(nowMs: number): TimedEvent | undefined {
    const heap = this.#heap;
    const top = heap[0];
    if (top === undefined || top.atMs > nowMs) return undefined;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && before(heap[l]!, heap[m]!)) m = l;
        if (r < heap.length && before(heap[r]!, heap[m]!)) m = r;
        if (m === i) break;
        [heap[i], heap[m]] = [heap[m]!, heap[i]!];
        i = m;
      }
    }
    return { atMs: top.atMs, kind: top.kind, ref: top.ref };
  }
}
