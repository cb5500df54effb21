/**
 * The port between the task server and whatever owns task runs. The task server only speaks
 * HTTP and checks tokens; every decision about units, agents and storage is the backend's. The
 * runtime (supervisor + store) implements this interface; tests use an in-memory one.
 *
 * @module
 */
import type { AgentState } from '../../machines/states.js';
import type { HitstateError } from '../errors.js';

/** The three ids MTurk appends to the ExternalQuestion URL when a worker has accepted a HIT. */
export interface WorkerArrival {
  readonly hitId: string;
  readonly assignmentId: string;
  readonly workerId: string;
}

/**
 * What registering a worker's arrival returns: the agent (one worker on one unit) and the unit's
 * task data. Everything here belongs to the arriving worker; it is sent to their browser.
 */
export interface AgentRegistration {
  readonly agentId: string;
  readonly runId: string;
  readonly unitId: string;
  readonly workerId: string;
  readonly assignmentId: string;
  readonly hitId: string;
  readonly status: AgentState;
  /** The unit's task data, handed to the task page by `hitstate.getTask()`. */
  readonly task: unknown;
  /** True once this agent's submission is stored (a reload after submitting). */
  readonly submitted: boolean;
  /**
   * The agent's own stored submission, present when `submitted` is true. The wrapper uses it to
   * finish the MTurk submission after a reload, so MTurk receives exactly the stored data.
   */
  readonly submission?: unknown;
}

/** An agent's status as its own worker may see it: never another worker's data. */
export interface AgentView {
  readonly agentId: string;
  readonly status: AgentState;
  readonly submitted: boolean;
}

/** What the preview page shows for a HIT before the worker accepts it. */
export interface PreviewInfo {
  readonly title: string;
  readonly description: string;
  /** Optional data a custom preview page shows (e.g. an example item); must be public. */
  readonly data?: unknown;
}

/**
 * Everything the task server needs from the runtime.
 *
 * Errors: throw {@link HitstateError}s with the codes named below; the task server turns them
 * into JSON answers with a fixed public message per code (the backend's own message is never
 * sent to the browser, so it may name other workers). Anything else becomes a 500.
 *
 * Calls arrive in any order a browser can produce: a page reload sends `disconnect` (the
 * `pagehide` beacon) and then `registerAgent` with the same ids again, which must reconnect the
 * same agent; `disconnect` and `heartbeat` can arrive after `submit`.
 */
export interface TaskServerBackend {
  /**
   * Binds (hitId, assignmentId, workerId) to a unit of a run; idempotent for the same triple
   * (a page reload returns the same agent, also after a disconnect).
   *
   * @throws HitstateError `HST_ERR_SERVER_ASSIGNMENT_MISMATCH` (unknown HIT, HIT of another run,
   *   assignment already held by another worker), `HST_ERR_NO_UNIT_AVAILABLE`.
   */
  registerAgent(arrival: WorkerArrival): Promise<AgentRegistration>;
  /**
   * Stores the agent's submission; resolves only once the data is on disk.
   *
   * @throws HitstateError `HST_ERR_SERVER_ALREADY_SUBMITTED` on a second submit (also while the
   *   first is still being written), `HST_ERR_AGENT_NOT_FOUND`.
   */
  submit(agentId: string, data: unknown): Promise<void>;
  /** Notes that the worker's page is alive; returns the agent's current status. */
  heartbeat(agentId: string): Promise<AgentView>;
  /** Notes that the worker's page went away (closed, reloaded or navigated). */
  disconnect(agentId: string): Promise<void>;
  /** The agent's current status. @throws HitstateError `HST_ERR_AGENT_NOT_FOUND`. */
  agentStatus(agentId: string): Promise<AgentView>;
  /** What the preview page shows for a HIT (`hitId` may be absent in a preview). */
  preview(hitId: string | undefined): Promise<PreviewInfo>;
  /**
   * Origins where MTurk's `externalSubmit` lives for the backend's environment besides MTurk's
   * own (the runtime: its custom endpoint, e.g. `hitstate sim`, and `workerSiteUrl`). The
   * wrapper posts a submission only to those origins.
   */
  submitOrigins?(): readonly string[];
}
