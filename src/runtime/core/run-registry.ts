/**
 * How the runtime's front doors (reviews, the task-server backend, the provider facade) reach the
 * loaded runs.
 *
 * @module
 */
import type { RuntimeServices } from './services.js';
import type { RunHost } from '../supervisor/supervisor.js';

/** The runs of a runtime. */
export interface RunRegistry {
  /** @internal */
  readonly services: RuntimeServices;
  /** @internal The run if it is loaded. */
  loaded(runId: string): RunHost | undefined;
  /**
   * @internal
   * The run, loaded from the store if needed (a finished run is loaded for a review).
   * @throws HitstateError `HST_ERR_RUN_NOT_FOUND`, `HST_ERR_RUNTIME_CLOSED`, `HST_ERR_RUN_STATE`.
   */
  ensure(runId: string): Promise<RunHost>;
  /** @internal Whether this process holds the run's lease (it hosts and writes the run). */
  owns(runId: string): boolean;
  /** @throws HitstateError `HST_ERR_RUNTIME_CLOSED` once `close()` started. */
  assertOpen(): void;
}
