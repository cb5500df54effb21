/**
 * Knowing when the runtime is quiet. Work the runtime starts is tracked; gateway calls and clock
 * sleeps inside it are counted apart, so work that only waits on the clock (a throttled call
 * backing off, a retry delay) does not count as busy: on a virtual clock nothing else would move
 * it, and `whenIdle()` must let the test advance time.
 *
 * @module
 */
import type { MTurkGateway } from '../../mturk/gateway.js';

/** Counters of the runtime's own work. */
export class Activity {
  /** Promises the runtime started and awaits nowhere else (commands, sync cycles, disposals). */
  #tracked = 0;
  /** Gateway calls (or pages) under way, started by tracked work. */
  #gatewayCalls = 0;
  /** Tracked work sleeping on the clock. */
  #sleeping = 0;
  readonly #settled = new Set<Promise<unknown>>();

  /** Counts `work` until it settles; returns it. */
  track<T>(work: Promise<T>): Promise<T> {
    this.#tracked++;
    const done = work.finally(() => {
      this.#tracked--;
      this.#settled.delete(done);
    });
    this.#settled.add(done);
    done.catch(() => undefined);
    return work;
  }

  /** Marks tracked work as sleeping on the clock until the returned function is called. */
  sleeping(): () => void {
    this.#sleeping++;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.#sleeping--;
    };
  }

  /** Tracked work that is not waiting on a gateway call or the clock. */
  get busy(): number {
    return this.#tracked - this.#gatewayCalls - this.#sleeping;
  }

  /** Gateway calls under way. */
  get gatewayCalls(): number {
    return this.#gatewayCalls;
  }

  /** Number of tracked promises. */
  get tracked(): number {
    return this.#tracked;
  }

  /** Resolves when every tracked promise has settled (those started meanwhile included). */
  async drain(): Promise<void> {
    while (this.#settled.size > 0) await Promise.allSettled([...this.#settled]);
  }

  /**
   * A view of `gateway` whose calls (and the pages of its paginators) are counted, so waiting on
   * them is told apart from other work.
   */
  watch(gateway: MTurkGateway): MTurkGateway {
    return new Proxy(gateway, {
      get: (target, property) => {
        const value: unknown = Reflect.get(target, property, target);
        if (typeof value !== 'function' || typeof property !== 'string' || property === 'constructor') return value;
        return (...args: unknown[]) => {
          const result: unknown = (value as (...a: unknown[]) => unknown).apply(target, args);
          if (result instanceof Promise) return this.#count(result);
          if (result !== null && typeof result === 'object' && Symbol.asyncIterator in result)
            return this.#countPages(result as AsyncGenerator<unknown>);
          return result;
        };
      },
    });
  }

  #count<T>(call: Promise<T>): Promise<T> {
    this.#gatewayCalls++;
    return call.finally(() => {
      this.#gatewayCalls--;
    });
  }

  #countPages<T>(pages: AsyncGenerator<T>): AsyncGenerator<T> {
    const count = <R>(p: Promise<R>) => this.#count(p);
    return {
      next: (...args) => count(pages.next(...args)),
      return: (value) => count(pages.return(value)),
      throw: (err) => count(pages.throw(err)),
      [Symbol.asyncIterator]() {
        return this;
      },
      [Symbol.asyncDispose]: async () => {
        await pages.return(undefined);
      },
    } as AsyncGenerator<T>;
  }
}
