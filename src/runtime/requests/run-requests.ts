/**
 * Requests to the process that owns a run, from processes that do not: `hitstate review` while the
 * run is live elsewhere posts a review request to the store; the owner's inbox executes it through
 * the same review path (money outbox, idempotent calls) and settles it with the report, which the
 * poster can wait for. The store keeps every request and its answer (docs/datastore.md).
 *
 * Executing a request twice (the owner was killed after the review but before settling) is safe:
 * approvals and rejections are idempotent on MTurk's side and the outbox's, and a bonus carries
 * its idempotency key in the request.
 *
 * @module
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from '../../clock.js';
import { ERROR_CODES, type ErrorCode, HitstateError } from '../../errors.js';
import type { RunRequest, StoreBackend } from '../../store/backend.js';
import type { ReviewAction, ReviewOptions, ReviewReport, ReviewTarget } from '../money/review.js';
import type { AgentRegistration, WorkerArrival } from '../../server/backend.js';

/** The kinds of request an owner executes. */
export const RunRequestKind = { review: 'review', arrival: 'arrival', submit: 'submit' } as const;
export type RunRequestKind = (typeof RunRequestKind)[keyof typeof RunRequestKind];

/** The body of a review request. */
export interface ReviewRequestBody {
  readonly target: ReviewTarget;
  readonly action: ReviewAction;
  /** Report what the review would do; change nothing. */
  readonly dryRun?: boolean;
}

/** The owner's answer, as stored. */
export type RunRequestResult =
  | { readonly ok: true; readonly report: ReviewReport }
  | { readonly ok: false; readonly error: RequestError };

/** Why the owner could not do a request: the error's code, message and details, for the poster to throw again. */
export interface RequestError {
  readonly code: string;
  readonly message: string;
  readonly details?: Readonly<Record<string, unknown>>;
}

/**
 * The owner's answer to an arrival (`registration`) or a submission (`submitted`) another task
 * server of the store received (several processes behind one load balancer).
 */
export type TaskRequestResult =
  | { readonly ok: true; readonly registration?: AgentRegistration; readonly submitted?: true }
  | { readonly ok: false; readonly error: RequestError };

/** What the owner's task-server backend does for an arrival or a submission routed to it. */
export interface TaskExecutor {
  registerAgent(arrival: WorkerArrival): Promise<AgentRegistration>;
  submit(agentId: string, data: unknown): Promise<void>;
}

/** What the owner runs for a review request: `runtime.review`. */
export type ReviewExecutor = (
  runId: string,
  target: ReviewTarget,
  action: ReviewAction,
  options?: ReviewOptions,
) => Promise<ReviewReport>;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Reads a review request's body. @throws HitstateError `HST_ERR_CONFIG_INVALID` naming the field
 * that is wrong (a request written by another hitstate version, or by hand).
 */
export function parseReviewBody(text: string): ReviewRequestBody {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new HitstateError('HST_ERR_CONFIG_INVALID', 'review request: the body is not JSON; post it again.', {
      cause,
      field: 'body',
    });
  }
  const bad = (field: string, what: string): never => {
    throw new HitstateError('HST_ERR_CONFIG_INVALID', `review request: ${field} ${what}; post the review again.`, {
      field,
    });
  };
  if (!isObject(value)) return bad('body', 'must be an object');
  const { target, action } = value;
  if (!isObject(target)) return bad('target', 'must be an object');
  const named = ['agentId', 'unitId', 'workerId'].filter((k) => typeof target[k] === 'string');
  if (!(target.all === true || named.length === 1))
    return bad('target', 'must name exactly one of agentId, unitId, workerId or all: true');
  if (!isObject(action) || !['approve', 'reject', 'softReject', 'bonus'].includes(String(action.kind)))
    return bad('action.kind', 'must be approve, reject, softReject or bonus');
  if (value.dryRun !== undefined && typeof value.dryRun !== 'boolean') return bad('dryRun', 'must be true or false');
  return {
    target: target as unknown as ReviewTarget,
    action: action as unknown as ReviewAction,
    ...(value.dryRun === true ? { dryRun: true } : {}),
  };
}

/**
 * Posts a review of `runId` for its owner to execute; resolves with the request's id once the
 * request is durable.
 */
export async function postReviewRequest(
  backend: StoreBackend,
  clock: Clock,
  runId: string,
  body: ReviewRequestBody,
  id: string = randomUUID(),
): Promise<string> {
  await backend.postRequest({
    id,
    runId,
    kind: RunRequestKind.review,
    body: JSON.stringify(body),
    postedAt: clock.now(),
  });
  return id;
}

/** Options of {@link waitForRequest}. */
export interface WaitForRequestOptions {
  readonly clock: Clock;
  /** How often to look. @defaultValue 1000 */
  readonly pollMs?: number;
  /** Give up after this long (the request stays posted). @defaultValue 120000 */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

/**
 * Resolves with the owner's answer to a request.
 * @throws HitstateError `HST_ERR_RUN_NOT_FOUND` if no such request was posted;
 *   `HST_ERR_RUN_STATE` once `timeoutMs` passed without an answer (the owner executes it later).
 */
export async function waitForRequest<T = RunRequestResult>(
  backend: StoreBackend,
  runId: string,
  id: string,
  options: WaitForRequestOptions,
): Promise<T> {
  const { clock } = options;
  const pollMs = options.pollMs ?? 1000;
  const deadline = clock.now() + (options.timeoutMs ?? 120_000);
  for (;;) {
    options.signal?.throwIfAborted();
    const request = await backend.request(runId, id);
    if (request === null)
      throw new HitstateError('HST_ERR_RUN_NOT_FOUND', `run ${runId} has no request ${id}: it was never posted.`);
    if (request.result !== null) return JSON.parse(request.result) as T;
    if (clock.now() >= deadline)
      throw new HitstateError(
        'HST_ERR_RUN_STATE',
        `run ${runId}: the process running it has not answered request ${id} yet; it stays posted and runs when that process gets to it (look again with \`hitstate status ${runId}\`).`,
      );
    await new Promise<void>((resolve) => clock.setTimeout(resolve, pollMs));
  }
}

/**
 * Posts a review for the run's owner, waits for its answer and returns the report: what
 * `hitstate review` and the standalone dashboard do for a run live in another process.
 * @throws HitstateError with the owner's error code when it could not do the review, or as
 *   {@link waitForRequest} does.
 */
export async function reviewThroughOwner(
  backend: StoreBackend,
  clock: Clock,
  runId: string,
  body: ReviewRequestBody,
  timeoutMs: number,
): Promise<ReviewReport> {
  const id = await postReviewRequest(backend, clock, runId, body);
  const answer = await waitForRequest(backend, runId, id, { clock, timeoutMs });
  if (answer.ok) return answer.report;
  const code = answer.error.code in ERROR_CODES ? (answer.error.code as ErrorCode) : 'HST_ERR_RUN_STATE';
  throw new HitstateError(
    code,
    `run ${runId}: the process running it could not do the review: ${answer.error.message}`,
    {
      runId,
    },
  );
}

/** Options of {@link RunRequestInbox}. */
export interface RunRequestInboxOptions {
  readonly backend: StoreBackend;
  readonly runId: string;
  readonly clock: Clock;
  readonly review: ReviewExecutor;
  /** Executes arrivals and submissions routed from another task server (absent: refused as unknown kinds). */
  readonly tasks?: TaskExecutor;
  /** How often the owner looks for requests. @defaultValue 2000 */
  readonly pollMs?: number;
  /** Told about each request settled (for the run's log). */
  readonly onSettled?: (request: RunRequest, result: RunRequestResult | TaskRequestResult) => void;
  /** Told when the store could not be read or written; the inbox tries again next time. */
  readonly onError?: (error: unknown) => void;
}

/** The owner's side: executes a run's posted requests, oldest first, and settles each. */
export class RunRequestInbox {
  readonly #o: RunRequestInboxOptions;
  #timer: ReturnType<Clock['setTimeout']> | null = null;
  #running: Promise<number> | null = null;
  #stopped = true;

  constructor(options: RunRequestInboxOptions) {
    this.#o = options;
  }

  /** Starts looking every `pollMs`. */
  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#schedule();
  }

  /** Stops looking; resolves once a request under way is settled. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== null) this.#o.clock.clearTimeout(this.#timer);
    this.#timer = null;
    await this.#running?.catch(() => undefined);
  }

  /** Executes every pending request now; resolves with how many were settled. */
  pollOnce(): Promise<number> {
    this.#running ??= this.#drain().finally(() => {
      this.#running = null;
    });
    return this.#running;
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = this.#o.clock.setTimeout(() => {
      this.#timer = null;
      this.pollOnce()
        .catch((error: unknown) => this.#report(error))
        .finally(() => this.#schedule());
    }, this.#o.pollMs ?? 2000);
  }

  #report(error: unknown): void {
    if (this.#o.onError) this.#o.onError(error);
    else process.emitWarning(error instanceof Error ? error : new Error(String(error)));
  }

  async #drain(): Promise<number> {
    const { backend, runId } = this.#o;
    let settled = 0;
    for (const request of await backend.pendingRequests(runId)) {
      const result = await this.#execute(request);
      await backend.settleRequest(runId, request.id, JSON.stringify(result));
      this.#o.onSettled?.(request, result);
      settled++;
    }
    return settled;
  }

  async #execute(request: RunRequest): Promise<RunRequestResult | TaskRequestResult> {
    try {
      const { tasks } = this.#o;
      if (tasks !== undefined && request.kind === RunRequestKind.arrival)
        return { ok: true, registration: await tasks.registerAgent(parseArrivalBody(request.body)) };
      if (tasks !== undefined && request.kind === RunRequestKind.submit) {
        const body = parseObject(request.body, 'submit');
        if (typeof body.agentId !== 'string')
          throw new HitstateError('HST_ERR_CONFIG_INVALID', 'submit request: agentId must be a string', {
            field: 'agentId',
          });
        await tasks.submit(body.agentId, body.data);
        return { ok: true, submitted: true };
      }
      if (request.kind !== RunRequestKind.review)
        throw new HitstateError(
          'HST_ERR_CONFIG_INVALID',
          `run ${request.runId}: request ${request.id} is of kind "${request.kind}", which this hitstate does not execute; upgrade the process running the run.`,
          { field: 'kind' },
        );
      const { target, action, dryRun } = parseReviewBody(request.body);
      return { ok: true, report: await this.#o.review(request.runId, target, action, { dryRun: dryRun === true }) };
    } catch (error) {
      // A failed request is answered, not dropped: the poster sees why.
      const code = error instanceof HitstateError ? error.code : error instanceof Error ? error.name : 'Error';
      const details = error instanceof HitstateError ? plainDetails(error.details) : undefined;
      return {
        ok: false,
        error: {
          code,
          message: error instanceof Error ? error.message : String(error),
          ...(details === undefined ? {} : { details }),
        },
      };
    }
  }
}

/** The JSON-safe part of an error's details (a `cause` is left out). */
function plainDetails(details: unknown): Record<string, unknown> | undefined {
  if (!isObject(details)) return undefined;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(details))
    if (k !== 'cause' && (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean')) out[k] = v;
  return Object.keys(out).length === 0 ? undefined : out;
}

function parseObject(text: string, kind: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new HitstateError('HST_ERR_CONFIG_INVALID', `${kind} request: the body is not JSON`, {
      cause,
      field: 'body',
    });
  }
  if (!isObject(value))
    throw new HitstateError('HST_ERR_CONFIG_INVALID', `${kind} request: the body must be an object`, { field: 'body' });
  return value;
}

/** Reads an arrival request's body (the worker's hit, assignment and worker ids). */
export function parseArrivalBody(text: string): WorkerArrival {
  const value = parseObject(text, 'arrival');
  for (const field of ['hitId', 'assignmentId', 'workerId'])
    if (typeof value[field] !== 'string')
      throw new HitstateError('HST_ERR_CONFIG_INVALID', `arrival request: ${field} must be a string`, { field });
  return value as unknown as WorkerArrival;
}

/** How an arrival or a submission is routed to the run's owner: the request to post. */
export function taskRequest(
  runId: string,
  kind: typeof RunRequestKind.arrival | typeof RunRequestKind.submit,
  body: unknown,
  postedAt: number,
): Omit<RunRequest, 'result' | 'settledAt'> {
  return { id: randomUUID(), runId, kind, body: JSON.stringify(body), postedAt };
}

/**
 * Posts an arrival or a submission to the run's owner and waits (bounded) for its answer;
 * the owner's refusal is thrown again with its code and details, so the worker gets the answer
 * the owner's own task server would have given.
 *
 * @throws HitstateError the owner's error; `HST_ERR_SERVER_ASSIGNMENT_UNCONFIRMED` (retry) when
 *   the owner did not answer within `timeoutMs` (the request stays posted and is executed once).
 */
export async function taskThroughOwner(
  backend: StoreBackend,
  clock: Clock,
  request: Omit<RunRequest, 'result' | 'settledAt'>,
  timeoutMs: number,
  pollMs = 100,
): Promise<TaskRequestResult & { ok: true }> {
  await backend.postRequest(request);
  let answer: TaskRequestResult;
  try {
    answer = await waitForRequest<TaskRequestResult>(backend, request.runId, request.id, { clock, timeoutMs, pollMs });
  } catch (err) {
    if (err instanceof HitstateError && err.code === 'HST_ERR_RUN_STATE')
      throw new HitstateError(
        'HST_ERR_SERVER_ASSIGNMENT_UNCONFIRMED',
        `run ${request.runId} is owned by another process that has not answered yet; the request stays posted and is done once: try again in a few seconds`,
        { runId: request.runId, retryAfterSec: 5 },
      );
    throw err;
  }
  if (answer.ok) return answer;
  const code = answer.error.code in ERROR_CODES ? (answer.error.code as ErrorCode) : 'HST_ERR_RUN_STATE';
  throw new HitstateError(code, answer.error.message, { ...(answer.error.details ?? {}), runId: request.runId });
}
