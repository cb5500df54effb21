/**
 * A simulated MTurk worker who acts over real HTTP exactly as a person with a browser does: they
 * accept a HIT on the MTurk-compatible server's worker pages, open the task page in its frame
 * (which loads hitstate's wrapper), register and submit through the task server's API as the
 * wrapper does, then post the answer form to MTurk's `externalSubmit`. Nothing is called
 * in-process, so a test exercises the same routes, checks and timings a real worker would.
 *
 * @module
 */
import { setTimeout as sleepReal } from 'node:timers/promises';
import { SUBMISSION_FIELD } from '../server/wrapper-source.js';
import { attributeOf, pageMessage } from './html-scan.js';

/** Anything that can hold time still while a request is in flight (a {@link VirtualTimeDriver}). */
export interface WorkTracker {
  track<T>(work: Promise<T>): Promise<T>;
}

/** Options of {@link SimulatedWorker}. */
export interface SimulatedWorkerOptions {
  /** The worker's MTurk id (`A` followed by capital letters and digits). */
  readonly workerId: string;
  /** Base URL of the MTurk-compatible server (`sim.url`): its worker pages play MTurk's website. */
  readonly mturkUrl: string;
  /** Every request is tracked here, so virtual time does not move while it is in flight. */
  readonly tracker?: WorkTracker;
  /**
   * How the worker waits while working (see {@link SimulatedWorker.work}): pass the driver's
   * `sleep` on virtual time. @defaultValue real time
   */
  readonly sleep?: (ms: number) => Promise<void>;
  /** @defaultValue globalThis.fetch */
  readonly fetch?: typeof globalThis.fetch;
}

/** The outcome of accepting a HIT: MTurk either gave the worker an assignment or refused, with why. */
export type AcceptResult =
  | { readonly accepted: true; readonly assignmentId: string; readonly hitId: string }
  | { readonly accepted: false; readonly status: number; readonly reason: string };

/** What the task page's wrapper received on registering (the task server's answer). */
export interface TaskRegistration {
  readonly agentId: string;
  readonly unitId: string;
  readonly status: string;
  readonly submitted: boolean;
  /** The unit's task data. */
  readonly task: unknown;
  /** The agent's stored submission, once `submitted` (a reload finishes the MTurk post with it). */
  readonly submission?: unknown;
  readonly token: string;
  /** When the token expires (ISO 8601, on the task server's clock); the wrapper registers again then. */
  readonly tokenExpiresAt: string;
  /** How often the wrapper sends a heartbeat. */
  readonly heartbeatIntervalSec: number;
}

/** The task server's view of an agent (the answer of a heartbeat). */
export interface TaskAgentView {
  readonly agentId: string;
  readonly status: string;
  readonly submitted: boolean;
}

/** The error object of a task server's refusal: `{"error": {"code", "message", "field?"}}`. */
export interface TaskServerRefusal {
  readonly code: string;
  readonly message: string;
  /** The request field at fault, when the server named one. */
  readonly field?: string;
}

/**
 * A request the worker made was answered with an error. `code` is the server's error code, when
 * it sent one; `refusal` the whole error object the task server answered.
 */
export class SimulatedWorkerError extends Error {
  readonly status: number;
  readonly code: string | undefined;
  readonly refusal: TaskServerRefusal | undefined;

  constructor(message: string, status: number, code?: string, refusal?: TaskServerRefusal) {
    super(message);
    this.name = 'SimulatedWorkerError';
    this.status = status;
    this.code = code;
    this.refusal = refusal;
  }
}

const FORM = 'application/x-www-form-urlencoded';
const JSON_TYPE = 'application/json';
/** What `navigator.sendBeacon` sends a string as. */
const BEACON = 'text/plain;charset=UTF-8';

/**
 * One simulated worker. Call {@link accept}, {@link openTask}, then {@link submit} (or
 * {@link returnHIT}, or nothing at all to walk away and let the assignment lapse).
 *
 * @example
 * ```ts
 * const worker = new SimulatedWorker({ workerId: 'A1ALICE', mturkUrl: sim.url, tracker: driver });
 * const accepted = await worker.accept({ hitTypeId });
 * if (accepted.accepted) {
 *   const { task } = await worker.openTask();
 *   await worker.submit({ sentiment: 'positive', comment: '' });
 * }
 * ```
 */
export class SimulatedWorker {
  readonly workerId: string;
  readonly mturkUrl: string;
  /** The HIT and assignment the worker holds (after {@link accept}). */
  assignmentId: string | undefined;
  hitId: string | undefined;
  /** The task page URL MTurk framed, with `assignmentId`, `hitId`, `workerId` and `turkSubmitTo`. */
  frameUrl: string | undefined;
  /**
   * The wrapper's API base, read from the task page's `data-hitstate-api` by {@link openTask}.
   * Set it yourself (`<task server origin><prefix>/api`) to call the API without loading the page.
   */
  apiUrl: string | undefined;
  registration: TaskRegistration | undefined;
  readonly #tracker: WorkTracker | undefined;
  readonly #fetch: typeof globalThis.fetch;
  readonly #sleep: (ms: number) => Promise<void>;

  constructor(options: SimulatedWorkerOptions) {
    if (!/^A[A-Z0-9]+$/.test(options.workerId))
      throw new RangeError(
        `workerId must look like an MTurk worker id (A followed by capital letters and digits), got ${JSON.stringify(options.workerId)}`,
      );
    this.workerId = options.workerId;
    this.mturkUrl = options.mturkUrl.replace(/\/+$/, '');
    this.#tracker = options.tracker;
    this.#fetch = options.fetch ?? globalThis.fetch;
    this.#sleep = options.sleep ?? ((ms) => sleepReal(ms));
  }

  get agentId(): string | undefined {
    return this.registration?.agentId;
  }

  get unitId(): string | undefined {
    return this.registration?.unitId;
  }

  #request(url: string, init: RequestInit): Promise<{ status: number; headers: Headers; text: string }> {
    const work = (async () => {
      const res = await this.#fetch(url, { redirect: 'manual', ...init });
      return { status: res.status, headers: res.headers, text: await res.text() };
    })();
    return this.#tracker === undefined ? work : this.#tracker.track(work);
  }

  /** Accepts a HIT on the worker site (a given HIT, or the oldest of a group), then opens the work page MTurk redirects to. */
  async accept(target: { readonly hitTypeId: string } | { readonly hitId: string }): Promise<AcceptResult> {
    const form = new URLSearchParams({
      ...('hitId' in target ? { hitId: target.hitId } : { groupId: target.hitTypeId }),
      workerId: this.workerId,
    });
    const answer = await this.#request(`${this.mturkUrl}/mturk/accept`, {
      method: 'POST',
      headers: { 'content-type': FORM },
      body: form.toString(),
    });
    const location = answer.headers.get('location');
    if (answer.status !== 303 || location === null)
      return { accepted: false, status: answer.status, reason: pageMessage(answer.text) };
    const page = await this.#request(new URL(location, this.mturkUrl).href, { method: 'GET' });
    if (page.status !== 200)
      throw new SimulatedWorkerError(`the work page answered ${page.status}: ${pageMessage(page.text)}`, page.status);
    const src = attributeOf(page.text, 'iframe', 'src', { attribute: 'id', value: 'task' });
    if (src === undefined) throw new SimulatedWorkerError('the work page has no task frame', page.status);
    const frame = new URL(src, this.mturkUrl);
    this.frameUrl = frame.href;
    this.assignmentId = frame.searchParams.get('assignmentId') ?? undefined;
    this.hitId = frame.searchParams.get('hitId') ?? undefined;
    if (this.assignmentId === undefined || this.hitId === undefined)
      throw new SimulatedWorkerError(`the task frame lacks assignmentId or hitId: ${frame.href}`, page.status);
    return { accepted: true, assignmentId: this.assignmentId, hitId: this.hitId };
  }

  /**
   * Loads the task page in its frame and registers as the wrapper does on load.
   *
   * @throws SimulatedWorkerError when the page does not load the wrapper or the task server refuses the worker.
   */
  async openTask(): Promise<TaskRegistration> {
    const frameUrl = this.#need(this.frameUrl, 'openTask', 'accept a HIT first');
    const page = await this.#request(frameUrl, { method: 'GET', headers: { accept: 'text/html' } });
    if (page.status !== 200)
      throw new SimulatedWorkerError(`the task page answered ${page.status}: ${pageMessage(page.text)}`, page.status);
    const api = attributeOf(page.text, 'script', 'data-hitstate-api');
    if (api === undefined)
      throw new SimulatedWorkerError(
        'the task page does not load the hitstate wrapper (no <script data-hitstate-api>)',
        page.status,
      );
    this.apiUrl = new URL(api, frameUrl).href.replace(/\/+$/, '');
    return this.register();
  }

  /**
   * Registers the worker's arrival (`hitId`, `assignmentId`, `workerId`) with the task server, as
   * the wrapper does on load, after a reload and when its token expired. The same arrival gets
   * the same agent back.
   *
   * @throws SimulatedWorkerError with the server's status and code when it refuses the arrival
   *   (`HST_ERR_SERVER_ASSIGNMENT_MISMATCH`, `HST_ERR_NO_UNIT_AVAILABLE`, ...).
   */
  async register(): Promise<TaskRegistration> {
    const registration = await this.#api<TaskRegistration>('/agents', {
      hitId: this.hitId,
      assignmentId: this.assignmentId,
      workerId: this.workerId,
    });
    this.registration = registration;
    return registration;
  }

  /**
   * Stores the data on the task server, as `hitstate.submit(data)` does first. Resolves once the
   * server has it on disk.
   *
   * @throws SimulatedWorkerError `HST_ERR_SERVER_ALREADY_SUBMITTED` (409) on a second submission.
   */
  async submitToTaskServer(data: unknown): Promise<{ agentId: string; submitted: true }> {
    const agentId = this.#need(this.agentId, 'submitToTaskServer', 'open the task first');
    return this.#api(`/agents/${encodeURIComponent(agentId)}/submit`, { data }, this.registration?.token);
  }

  /** Posts the answer form to MTurk's externalSubmit, as the wrapper does once the task server has the data. */
  async submitToMTurk(data: unknown): Promise<void> {
    const frameUrl = this.#need(this.frameUrl, 'submitToMTurk', 'accept a HIT first');
    const turkSubmitTo = new URL(frameUrl).searchParams.get('turkSubmitTo') ?? this.mturkUrl;
    const action = `${turkSubmitTo.replace(/\/+$/, '')}/mturk/externalSubmit`;
    const form = new URLSearchParams({ assignmentId: this.assignmentId!, [SUBMISSION_FIELD]: JSON.stringify(data) });
    const answer = await this.#request(action, {
      method: 'POST',
      headers: { 'content-type': FORM },
      body: form.toString(),
    });
    if (answer.status !== 200)
      throw new SimulatedWorkerError(
        `MTurk refused the submission (${answer.status}): ${pageMessage(answer.text)}`,
        answer.status,
      );
  }

  /** `hitstate.submit(data)`: the task server first, then MTurk. */
  async submit(data: unknown): Promise<void> {
    await this.submitToTaskServer(data);
    await this.submitToMTurk(data);
  }

  /** The wrapper's heartbeat. */
  async heartbeat(): Promise<TaskAgentView> {
    const agentId = this.#need(this.agentId, 'heartbeat', 'open the task first');
    return this.#api(`/agents/${encodeURIComponent(agentId)}/heartbeat`, {}, this.registration?.token);
  }

  /**
   * Stays on the task page for `ms`, sending the wrapper's heartbeat every
   * `heartbeatIntervalSec` as an open page does.
   */
  async work(ms: number): Promise<void> {
    const everyMs = (this.registration?.heartbeatIntervalSec ?? 20) * 1000;
    let left = ms;
    while (left > 0) {
      const step = Math.min(everyMs, left);
      await this.#sleep(step);
      left -= step;
      if (left > 0) await this.heartbeat();
    }
  }

  /**
   * Closes the tab: the wrapper's `pagehide` beacon, a `text/plain` post carrying the token in its
   * body as `navigator.sendBeacon` sends it (the worker still holds the assignment on MTurk).
   */
  async leavePage(): Promise<{ agentId: string; disconnected: true }> {
    const agentId = this.#need(this.agentId, 'leavePage', 'open the task first');
    return this.#api(
      `/agents/${encodeURIComponent(agentId)}/disconnect`,
      { token: this.registration?.token },
      undefined,
      BEACON,
    );
  }

  /** Returns the HIT on the worker site (its Return button). */
  async returnHIT(): Promise<void> {
    const assignmentId = this.#need(this.assignmentId, 'returnHIT', 'accept a HIT first');
    const answer = await this.#request(`${this.mturkUrl}/mturk/return`, {
      method: 'POST',
      headers: { 'content-type': FORM },
      body: new URLSearchParams({ assignmentId }).toString(),
    });
    if (answer.status !== 303)
      throw new SimulatedWorkerError(
        `MTurk refused the return (${answer.status}): ${pageMessage(answer.text)}`,
        answer.status,
      );
  }

  async #api<T>(path: string, body: unknown, token?: string, contentType = JSON_TYPE): Promise<T> {
    const api = this.#need(this.apiUrl, path, 'open the task first');
    const answer = await this.#request(`${api}${path}`, {
      method: 'POST',
      headers: {
        accept: JSON_TYPE,
        'content-type': contentType,
        ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
      },
      body: JSON.stringify(body),
    });
    if (answer.status !== 200) throw this.#apiError(answer, path);
    return JSON.parse(answer.text) as T;
  }

  #apiError(answer: { status: number; text: string }, what: string): SimulatedWorkerError {
    let refusal: TaskServerRefusal | undefined;
    try {
      refusal = (JSON.parse(answer.text) as { error?: TaskServerRefusal }).error;
    } catch {
      refusal = undefined;
    }
    return new SimulatedWorkerError(
      `the task server refused ${what} (${answer.status}${refusal?.code ? ` ${refusal.code}` : ''}): ${refusal?.message ?? answer.text.slice(0, 200)}`,
      answer.status,
      refusal?.code,
      refusal,
    );
  }

  #need<T>(value: T | undefined, action: string, hint: string): T {
    if (value === undefined) throw new SimulatedWorkerError(`${action}: ${hint}`, 0);
    return value;
  }
}
