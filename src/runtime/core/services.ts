/**
 * What every part of the runtime shares: the store, the clock, the event bus, the options and
 * the gateways. One object per runtime, handed to each run.
 *
 * @module
 */
import type { Clock } from '../../clock.js';
import type { MTurkGateway } from '../../mturk/gateway.js';
import type { Store } from '../../store/open-store.js';
import type { RuntimeEventBus } from './events.js';
import type { ResolvedRuntimeOptions } from './options.js';

/** The runtime's shared services. */
export interface RuntimeServices {
  readonly store: Store;
  readonly clock: Clock;
  readonly events: RuntimeEventBus;
  readonly options: ResolvedRuntimeOptions;
  /** The gateway of a requester (created on first use). @throws HST_ERR_CONFIG_INVALID for an unknown requester */
  gatewayFor(requesterName: string): MTurkGateway;
  /** Reports a failure no caller awaits: an `error` event, never a throw. */
  reportError(error: unknown): void;
  /** Work the runtime started and no caller awaits: `whenIdle()` and `close()` wait for it. */
  track<T>(work: Promise<T>): Promise<T>;
  /** Sleeps on the runtime's clock; tracked work sleeping does not keep `whenIdle()` waiting. */
  sleep(ms: number): Promise<void>;
}
