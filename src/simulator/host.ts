/**
 * What the HTTP layers (requester API, control API, worker pages) need from a running simulator.
 *
 * @module
 */
import type { Engine } from './engine.js';
import type { FaultInjector } from './faults.js';
import type { IdGenerator } from './ids.js';
import type { SimulatorStateView } from './model.js';
import type { StatsRecorder } from './stats.js';
import type { Throttle } from './throttle.js';

export interface SimulatorHost {
  readonly engine: Engine;
  /** The base URL, `http://HOST:PORT` without a trailing slash. */
  readonly url: string;
  readonly stats: StatsRecorder;
  readonly requestIds: IdGenerator;
  readonly throttle: Throttle | undefined;
  readonly faults: FaultInjector;
  readonly maxBodyBytes: number;
  /** Moves the virtual clock; throws HST_ERR_SIM_OPTIONS_INVALID on a real clock. */
  advance(seconds: number): Promise<void>;
  inspect(): SimulatorStateView;
}
