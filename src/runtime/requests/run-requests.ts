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

/** The kinds of request an owner executes. */
export const RunRequestKind = { review: 'review' } as const;
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
  | { readonly ok: false; readonly error: { readonly code: string; readonly message: string } };

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
export async function waitForRequest(
  backend: StoreBackend,
  runId: string,
  id: string,
  options: WaitForRequestOptions,
): Promise<RunRequestResult> {
  const { clock } = options;
  const pollMs = options.pollMs ?? 1000;
  const deadline = clock.now() + (options.timeoutMs ?? 120_000);
  for (;;) {
    options.signal?.throwIfAborted();
    const request = await backend.request(runId, id);
    if (request === null)
      throw new HitstateError('HST_ERR_RUN_NOT_FOUND', `run ${runId} has no request ${id}: it was never posted.`);
    if (request.result !== null) return JSON.parse(request.result) as RunRequestResult;
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
  /** How often the owner looks for requests. @defaultValue 2000 */
  readonly pollMs?: number;
  /** Told about each request settled (for the run's log). */
  readonly onSettled?: (request: RunRequest, result: RunRequestResult) => void;
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

  async #execute(request: RunRequest): Promise<RunRequestResult> {
    try {
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
      return { ok: false, error: { code, message: error instanceof Error ? error.message : String(error) } };
    }
  }
}
