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

/** What a requester call looks like to an {@link SimulatorHost.onRequesterCall} hook. */
export interface RequesterCallInfo {
  /** The operation, e.g. `CreateHITWithHITType`. */
  readonly operation: string;
  /** The access key id, i.e. the requester account. */
  readonly accessKeyId: string;
  /** The parsed request body. */
  readonly input: Readonly<Record<string, unknown>>;
}

/**
 * A hook's decision about one call: `drop` destroys the connection without doing anything;
 * `dropAfter` carries the call out, then destroys the connection without a reply; anything else
 * lets the call proceed.
 */
export type RequesterCallDecision = 'drop' | 'dropAfter' | undefined;

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
  /** Called for every requester call that reached an operation (tests: crash a client at an exact call). */
  readonly onRequesterCall: ((call: RequesterCallInfo) => RequesterCallDecision) | undefined;
}
