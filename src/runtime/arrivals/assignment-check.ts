/**
 * Binding follows MTurk: before an arriving worker is bound to a unit (or refused), MTurk is asked
 * whether it holds the assignment the browser names (`GetAssignment`, one call).
 *
 * MTurk hides an assignment in progress from its Assignment API: `GetAssignment` on one answers a
 * state refusal ("This operation can be called with a status of: Submitted, Approved, Rejected"),
 * while a made-up, returned or abandoned one is "does not exist" (the error shapes in
 * `docs/stack-notes.md#error-shapes`, and `docs/task-server.md`). So the answer proves that the assignment is one of this requester's and
 * still held, and, once submitted, which HIT and worker it is; it cannot name the HIT of an
 * assignment in progress. What MTurk confirmed is pinned to the HIT and worker it was first bound
 * with, so a reload costs no call and one real assignment cannot be claimed for another HIT or by
 * another worker id.
 *
 * @module
 */
import type { MTurkGateway } from '../../mturk/gateway.js';
import type { WorkerArrival } from '../../server/backend.js';

/** What MTurk says about an arriving assignment. */
export type AssignmentVerdict =
  /** MTurk holds it: in progress, or submitted by this worker on this HIT. */
  | { readonly kind: 'held'; readonly submitted: boolean }
  /** MTurk does not hold it for this HIT and worker (made up, returned, abandoned, or another's). */
  | { readonly kind: 'refuted'; readonly reason: string }
  /** MTurk could not be asked (throttled, unreachable): the arrival is unconfirmed. */
  | { readonly kind: 'unknown'; readonly reason: string };

/** How many confirmed assignments are remembered (oldest forgotten first; a forgotten one costs one call again). */
export const DEFAULT_PINNED_ASSIGNMENTS = 100_000;

interface Pin {
  readonly hitId: string;
  readonly workerId: string;
}

/** Asks MTurk about arriving assignments, remembering what it confirmed. */
export class AssignmentCheck {
  readonly #pins = new Map<string, Pin>();
  readonly #asking = new Map<string, Promise<AssignmentVerdict>>();
  readonly #capacity: number;

  constructor(capacity = DEFAULT_PINNED_ASSIGNMENTS) {
    this.#capacity = capacity;
  }

  /** Calls made to MTurk so far (tests assert that an honest arrival costs at most one). */
  calls = 0;

  /**
   * MTurk's verdict on `arrival`: from the pin when the assignment was confirmed before (no call),
   * else from one `GetAssignment` (concurrent checks of one arrival share it). With `atOnce`, the
   * verdict is `unknown` when the call would have to wait for the rate governor.
   */
  check(gateway: MTurkGateway, arrival: WorkerArrival, atOnce = true): Promise<AssignmentVerdict> {
    const pin = this.#pins.get(arrival.assignmentId);
    if (pin !== undefined) {
      if (pin.hitId === arrival.hitId && pin.workerId === arrival.workerId)
        return Promise.resolve({ kind: 'held', submitted: false });
      return Promise.resolve({
        kind: 'refuted',
        reason: `assignment ${arrival.assignmentId} was confirmed for another HIT or worker`,
      });
    }
    const key = `${arrival.assignmentId}\n${arrival.hitId}\n${arrival.workerId}\n${atOnce}`;
    const asking = this.#asking.get(key);
    if (asking !== undefined) return asking;
    const verdict = this.#ask(gateway, arrival, atOnce).finally(() => this.#asking.delete(key));
    this.#asking.set(key, verdict);
    return verdict;
  }

  /**
   * Pins an assignment MTurk confirmed to the HIT and worker it was bound with. Called only once
   * the run bound it, so a refused claim pins nothing.
   */
  pin(arrival: WorkerArrival): void {
    if (this.#pins.has(arrival.assignmentId)) return;
    if (this.#pins.size >= this.#capacity) {
      const oldest = this.#pins.keys().next().value;
      if (oldest !== undefined) this.#pins.delete(oldest);
    }
    this.#pins.set(arrival.assignmentId, { hitId: arrival.hitId, workerId: arrival.workerId });
  }

  async #ask(gateway: MTurkGateway, arrival: WorkerArrival, atOnce: boolean): Promise<AssignmentVerdict> {
    // While a worker waits, only a check that can be made at once: a call queued behind the rate
    // governor must not hold the page. Unconfirmed arrivals are safe (they never outrank a
    // confirmed binding) and are checked again in the background (`atOnce` false).
    const governor = gateway.stats();
    const queued = governor.queued.money + governor.queued.lifecycle + governor.queued.polling;
    if (atOnce && (governor.tokens < 1 || queued > 0)) {
      return { kind: 'unknown', reason: 'the MTurk rate governor has no call free for it now' };
    }
    this.calls += 1;
    // The lifecycle lane: a worker is waiting, so this goes before the status sync's polling.
    // At once: one attempt, no backoff (a fault or throttle makes the arrival unconfirmed, not late).
    const outcome = await gateway.getAssignment(arrival.assignmentId, {
      lane: 'lifecycle',
      ...(atOnce ? { maxAttempts: 1 } : {}),
    });
    if (outcome.status === 'ok') {
      const { assignment } = outcome.value;
      if (assignment.hitId === arrival.hitId && assignment.workerId === arrival.workerId)
        return { kind: 'held', submitted: true };
      return {
        kind: 'refuted',
        reason: `MTurk shows assignment ${arrival.assignmentId} on HIT ${assignment.hitId} by worker ${assignment.workerId}`,
      };
    }
    switch (outcome.status) {
      case 'throttled':
      case 'unavailable':
        return { kind: 'unknown', reason: outcome.message };
      case 'notFound':
        return {
          kind: 'refuted',
          reason: `MTurk has no assignment ${arrival.assignmentId} held for this requester (made up, returned or abandoned)`,
        };
      default:
        // "can be called with a status of: Submitted…" (in progress) or "status of: null" (just submitted).
        if (/status of/i.test(outcome.message)) return { kind: 'held', submitted: false };
        return { kind: 'refuted', reason: `MTurk refused assignment ${arrival.assignmentId}: ${outcome.message}` };
    }
  }
}
