/**
 * `createDashboard`: the run dashboard as one `node:http` request handler (Express and Fastify
 * adapters wrap it), over a {@link DashboardSource}.
 *
 * Routes under the prefix (default `/dashboard`): `GET /` runs, `GET /runs/:runId` a run (with
 * `?state=&q=&sort=&dir=&page=`), `GET /runs/:runId/units` its unit table alone (the fragment the
 * page swaps in live), `GET /runs/:runId/review` and `POST /runs/:runId/review` the review,
 * `GET /units/:unitId` a unit, `GET /events[?run=]` the live feed (server-sent events, batched),
 * `GET /app.js`, `GET /app.css`.
 *
 * Access: without a token only loopback connections addressed to a loopback name are served (a
 * request that reached another interface, or names another host, as DNS rebinding would, is
 * refused with 403 saying to set a token). With a token, the first request carries it as
 * `?token=`; the answer keeps it in an HttpOnly SameSite=Strict cookie and redirects to the same
 * URL without it. Every POST carries the page's CSRF token in `X-CSRF-Token` and, when the browser
 * sends one, an Origin of the same host.
 *
 * @module
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { UNIT_STATES, type AssignmentState } from '../../machines/index.js';
import { HitstateError, isHitstateError } from '../errors.js';
import { checkReviewAction, type ReviewAction } from '../runtime/money/review.js';
import { parseJsonObject, publicError, readBody, sendJson } from '../server/http-io.js';
import {
  BULK_KINDS,
  budgetOf,
  newMoneyCents,
  overBudget,
  planBulk,
  runBulk,
  runWorkerAction,
  WORKER_ACTIONS,
  workerActionText,
  type BulkKind,
  type WorkerAction,
  type WorkerActionKind,
} from './actions.js';
import { APP_CSS, APP_JS } from './assets.js';
import {
  messagePage,
  reviewPage,
  runPage,
  runsPage,
  templateView,
  unitPage,
  unitTable,
  workerPage,
  workersPage,
  type PageContext,
} from './pages.js';
import {
  checkReviewTemplates,
  renderReviewTemplate,
  REVIEW_VIEW_CSP,
  templateOf,
  type ReviewTemplates,
} from './templates.js';
import { FLOW_WINDOW_MS, type DashboardSource, type FeedEvent } from './source.js';
import {
  countsOf,
  reviewQueue,
  runRow,
  runRows,
  SORTS,
  unitDetail,
  qualificationsOf,
  unitRows,
  workerRows,
  type SortKey,
  type UnitQuery,
} from './views.js';

/** Options of {@link createDashboard}. */
export interface DashboardOptions {
  /** Path prefix of every route. @defaultValue '/dashboard' */
  readonly prefix?: string;
  /**
   * The access token. Required to serve anything but loopback connections; when set, every
   * request needs it (once as `?token=`, then from the cookie).
   */
  readonly token?: string;
  /** At most one live message per this many ms per page. @defaultValue 1000 */
  readonly batchMs?: number;
  /** Units per page of the unit table. @defaultValue 50 */
  readonly pageSize?: number;
  /** Events carried by one live message at most (the rest are counted as dropped). @defaultValue 50 */
  readonly maxEventsPerMessage?: number;
  /** Live pages open at once at most. @defaultValue 64 */
  readonly maxLiveConnections?: number;
  /**
   * Per-task review templates: HTML with `{{submission.FIELD}}` placeholders by run id (`'*'` for
   * every run), or a function of the run id and config; see `templates.ts`. A submission is then
   * shown through it, escaped, in a sandboxed frame, next to its JSON tree.
   */
  readonly reviewTemplates?: ReviewTemplates;
}

/** A `next` callback, as Express and Connect pass it. */
export type NextFunction = (error?: unknown) => void;

/** What {@link createDashboard} returns. */
export interface Dashboard {
  readonly prefix: string;
  /** Answers one request; one outside the prefix goes to `next` when given, else gets 404. */
  handle(req: IncomingMessage, res: ServerResponse, next?: NextFunction): Promise<void>;
  /** Ends the live connections and releases the source when the dashboard owns it. */
  close(): Promise<void>;
}

/** The policy of every page: own script and style files only, no inline code, no framing. */
export const DASHBOARD_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; frame-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const SECURITY_HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Content-Security-Policy': DASHBOARD_CSP,
} as const;

const COOKIE = 'hitstate_dashboard';
const MAX_BODY = 16 * 1024;
/** Wrong tokens accepted per address per minute before 429 (guessing stays slow). */
const TOKEN_FAILURES_PER_MINUTE = 20;

const tag = (body: string): string => `"${createHash('sha256').update(body).digest('base64url').slice(0, 20)}"`;
const JS_TAG = tag(APP_JS);
const CSS_TAG = tag(APP_CSS);

function sameSecret(a: string, b: string): boolean {
  const x = createHash('sha256').update(a).digest();
  const y = createHash('sha256').update(b).digest();
  return timingSafeEqual(x, y) && a.length === b.length;
}

function isLoopback(address: string | undefined): boolean {
  if (address === undefined) return true;
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}

const LOOPBACK_HOST = /^(localhost|127\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[::1\])$/i;

/** The host name of a Host header, without its port. */
function hostName(host: string | undefined): string {
  if (host === undefined) return 'localhost';
  return host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.split(':')[0]!;
}

function normalisePrefix(prefix: string): string {
  const p = prefix.trim().replace(/\/+$/, '');
  if (p !== '' && !/^\/[A-Za-z0-9._~\-/]*$/.test(p))
    throw new HitstateError(
      'HST_ERR_CONFIG_INVALID',
      `dashboard prefix ${JSON.stringify(prefix)} must be a path like "/dashboard"`,
      {
        field: 'prefix',
      },
    );
  return p;
}

function cookieOf(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return v.join('=');
  }
  return undefined;
}

function send(
  res: ServerResponse,
  status: number,
  type: string,
  body: string,
  extra: Record<string, string> = {},
): void {
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    'Content-Type': type,
    'Cache-Control': 'no-store',
    'Content-Length': String(Buffer.byteLength(body)),
    ...extra,
  });
  res.end(body);
}

/**
 * Creates the dashboard over a source. `ownsSource`: close the source with the dashboard.
 *
 * @example
 * ```ts
 * const dashboard = runtime.dashboard();
 * createServer((req, res) => void dashboard.handle(req, res)).listen(8081, '127.0.0.1');
 * // http://127.0.0.1:8081/dashboard/
 * ```
 * @throws HitstateError `HST_ERR_CONFIG_INVALID` for a bad prefix, token or number.
 */
export function createDashboard(
  source: DashboardSource,
  options: DashboardOptions = {},
  ownsSource = false,
): Dashboard {
  const prefix = normalisePrefix(options.prefix ?? '/dashboard');
  const token = options.token;
  if (token !== undefined && (typeof token !== 'string' || token.length < 16))
    throw new HitstateError(
      'HST_ERR_CONFIG_INVALID',
      'the dashboard token must be a string of at least 16 characters',
      {
        field: 'token',
      },
    );
  const positive = (name: keyof DashboardOptions, fallback: number): number => {
    const v = options[name] ?? fallback;
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0)
      throw new HitstateError(
        'HST_ERR_CONFIG_INVALID',
        `dashboard option ${name} must be a positive whole number, got ${String(v)}`,
        {
          field: name,
        },
      );
    return v;
  };
  const batchMs = positive('batchMs', 1000);
  const pageSize = positive('pageSize', 50);
  const maxEvents = positive('maxEventsPerMessage', 50);
  const maxLive = positive('maxLiveConnections', 64);
  const templates = checkReviewTemplates(options.reviewTemplates);
  const templateFor = (runId: string): string | undefined => {
    const run = source.store().runs.get(runId);
    return run === undefined ? undefined : templateOf(templates, runId, run.config as Record<string, unknown>);
  };
  const { clock } = source;
  const key = token ?? randomBytes(32).toString('base64url');
  const session = createHmac('sha256', key).update('session').digest('base64url');
  const csrf = createHmac('sha256', key).update('csrf').digest('base64url');
  const live = new Set<() => void>();
  const failures = new Map<string, { count: number; since: number }>();
  const actions = new Map<string, Promise<{ status: number; body: unknown }>>();
  const ctx = (): PageContext => ({ prefix, csrf, now: clock.now(), mode: source.mode });

  function page(res: ServerResponse, status: number, html: string, extra: Record<string, string> = {}): void {
    send(res, status, 'text/html; charset=utf-8', html, extra);
  }

  /** True when the request may go on; otherwise the refusal was sent. */
  function admit(req: IncomingMessage, res: ServerResponse, url: URL): boolean {
    if (token === undefined) {
      // A page of another site whose name was made to resolve to 127.0.0.1 (DNS rebinding) sends
      // its own name as Host: only loopback names are answered when no token guards the data.
      if (!LOOPBACK_HOST.test(hostName(req.headers.host))) {
        page(
          res,
          403,
          messagePage(
            ctx(),
            'Forbidden: unknown host name',
            'Without a token this dashboard answers only requests addressed to 127.0.0.1, localhost or [::1]. Open it by that address, or give it a token.',
          ),
        );
        return false;
      }
      if (isLoopback(req.socket?.localAddress)) return true;
      page(
        res,
        403,
        messagePage(
          ctx(),
          'Forbidden: a token is needed here',
          'This dashboard is reachable beyond 127.0.0.1 and has no access token. Start it with --token (or the token option), or bind it to 127.0.0.1.',
        ),
      );
      return false;
    }
    const cookie = cookieOf(req, COOKIE);
    if (cookie !== undefined && sameSecret(cookie, session)) return true;
    const given = url.searchParams.get('token');
    const address = req.socket?.remoteAddress ?? '?';
    const now = clock.now();
    const seen = failures.get(address);
    if (seen !== undefined && now - seen.since > 60_000) failures.delete(address);
    if ((failures.get(address)?.count ?? 0) >= TOKEN_FAILURES_PER_MINUTE) {
      page(
        res,
        429,
        messagePage(ctx(), 'Too many attempts', 'Too many wrong tokens from this address; wait a minute.'),
        {
          'Retry-After': '60',
        },
      );
      return false;
    }
    if (given !== null && sameSecret(given, token) && req.method === 'GET') {
      url.searchParams.delete('token');
      const secure = (req.socket as { encrypted?: boolean } | undefined)?.encrypted === true ? '; Secure' : '';
      res.writeHead(303, {
        ...SECURITY_HEADERS,
        Location: url.pathname + url.search,
        'Set-Cookie': `${COOKIE}=${session}; HttpOnly; SameSite=Strict; Path=${prefix || '/'}${secure}`,
        'Cache-Control': 'no-store',
      });
      res.end();
      return false;
    }
    if (given !== null) {
      const entry = failures.get(address) ?? { count: 0, since: now };
      entry.count++;
      failures.set(address, entry);
    }
    page(
      res,
      401,
      messagePage(
        ctx(),
        'Unauthorized: token needed',
        given === null
          ? 'Open the dashboard with the URL printed when it started (it ends in ?token=…); the browser keeps the token afterwards.'
          : 'That token is wrong. Use the URL printed when the dashboard started.',
      ),
    );
    return false;
  }

  function csrfOk(req: IncomingMessage): string | null {
    const header = req.headers['x-csrf-token'];
    if (typeof header !== 'string' || !sameSecret(header, csrf))
      return 'the request carries no valid CSRF token (X-CSRF-Token); reload the page and try again';
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== 'null') {
      let host: string | undefined;
      try {
        host = new URL(origin).host;
      } catch {
        host = undefined;
      }
      if (host !== req.headers.host) return `requests from ${origin} are refused; use the dashboard's own page`;
    }
    return null;
  }

  function unitQuery(url: URL): UnitQuery {
    const p = url.searchParams;
    const state = p.get('state') ?? '';
    if (state !== '' && !(UNIT_STATES as readonly string[]).includes(state))
      throw new HitstateError(
        'HST_ERR_SERVER_BAD_REQUEST',
        `state must be one of ${UNIT_STATES.join(', ')}; got ${JSON.stringify(state)}`,
        {
          field: 'state',
        },
      );
    const sort = (p.get('sort') ?? 'index') as SortKey;
    if (!SORTS.includes(sort))
      throw new HitstateError('HST_ERR_SERVER_BAD_REQUEST', `sort must be one of ${SORTS.join(', ')}`, {
        field: 'sort',
      });
    const dir = p.get('dir') === 'desc' ? 'desc' : 'asc';
    const page = Number(p.get('page') ?? '1');
    if (!Number.isInteger(page) || page < 1 || page > 1_000_000)
      throw new HitstateError('HST_ERR_SERVER_BAD_REQUEST', 'page must be a whole number from 1', { field: 'page' });
    const q = (p.get('q') ?? '').slice(0, 200);
    return {
      ...(state === '' ? {} : { state: state as AssignmentState }),
      ...(q === '' ? {} : { q }),
      sort,
      dir,
      page,
      pageSize,
    };
  }

  function events(req: IncomingMessage, res: ServerResponse, url: URL): void {
    if (live.size >= maxLive) {
      send(res, 503, 'text/plain; charset=utf-8', `too many live pages open (${maxLive}); close some`, {
        'Retry-After': '10',
      });
      return;
    }
    const runId = url.searchParams.get('run') || null;
    if (runId !== null) source.store().runs.require(runId);
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    let buffer: FeedEvent[] = [];
    let dropped = 0;
    let timer: ReturnType<typeof clock.setTimeout> | undefined;
    const message = (): string => {
      const runs =
        runId === null
          ? source
              .store()
              .runs.list()
              .map((r) => r.id)
          : [runId];
      const counts = Object.fromEntries(runs.map((id) => [id, countsOf(source, id)]));
      const flows = runId === null ? {} : { [runId]: source.flows(runId, clock.now() - FLOW_WINDOW_MS) };
      const body = { at: clock.now(), counts, flows, events: buffer, dropped };
      buffer = [];
      dropped = 0;
      return `data: ${JSON.stringify(body)}\n\n`;
    };
    const flush = (): void => {
      timer = undefined;
      res.write(message());
    };
    const unsubscribe = source.subscribe((event) => {
      if (runId !== null && event.runId !== null && event.runId !== runId) return;
      // Keep the newest events; older ones in the same batch are only counted.
      buffer.push(event);
      if (buffer.length > maxEvents) {
        buffer.shift();
        dropped++;
      }
      timer ??= clock.setTimeout(flush, batchMs);
    });
    const end = (): void => {
      unsubscribe();
      if (timer !== undefined) clock.clearTimeout(timer);
      live.delete(end);
      res.end();
    };
    live.add(end);
    req.on('close', end);
    res.write(`retry: 3000\n\n${message()}`);
  }

  async function review(req: IncomingMessage, res: ServerResponse, runId: string): Promise<void> {
    const refusal = csrfOk(req);
    if (refusal !== null) {
      sendJson(
        res,
        403,
        { error: { code: 'HST_ERR_SERVER_BAD_REQUEST', message: refusal, field: 'X-CSRF-Token' } },
        SECURITY_HEADERS,
      );
      return;
    }
    const body = parseJsonObject(await readBody(req, MAX_BODY), req.headers['content-type']);
    if (source.reviewUnavailable !== null) {
      sendJson(res, 409, { error: { code: 'HST_ERR_RUN_STATE', message: source.reviewUnavailable } }, SECURITY_HEADERS);
      return;
    }
    const text = (name: string, required: boolean): string | undefined => {
      const v = body[name];
      if (v === undefined && !required) return undefined;
      if (typeof v !== 'string' || v.length > 1024)
        throw new HitstateError('HST_ERR_SERVER_BAD_REQUEST', `${name} must be a string of at most 1,024 characters`, {
          field: name,
        });
      return v;
    };
    const agentId = text('agentId', true)!;
    const idemKey = text('key', true)!;
    const kind = text('kind', true)!;
    const agent = source.store().agents.get(agentId);
    if (agent === undefined || agent.runId !== runId)
      throw new HitstateError('HST_ERR_SERVER_BAD_REQUEST', `agent ${agentId} is not an agent of run ${runId}`, {
        field: 'agentId',
      });
    let action: ReviewAction;
    if (kind === 'approve') action = { kind };
    else if (kind === 'reject') action = { kind, feedback: text('feedback', true)! };
    else if (kind === 'softReject') action = { kind };
    else if (kind === 'bonus')
      action = {
        kind,
        amountUsd: text('amountUsd', true)!.trim(),
        reason: text('reason', true)!,
        key: idemKey.slice(0, 64),
      };
    else
      throw new HitstateError('HST_ERR_SERVER_BAD_REQUEST', 'kind must be approve, reject, softReject or bonus', {
        field: 'kind',
      });
    // The same key twice (a double press, a retried request) gets the first answer, never a second call.
    const cacheKey = `${runId}\0${idemKey}`;
    let answer = actions.get(cacheKey);
    if (answer === undefined) {
      const refusal = overBudget(budgetOf(source, runId), newMoneyCents(validAction(action)));
      answer =
        refusal === null
          ? perform(runId, agentId, action)
          : Promise.resolve({ status: 409, body: { confirmed: false, outcome: 'refused', message: refusal } });
      actions.set(cacheKey, answer);
      if (actions.size > 10_000) actions.delete(actions.keys().next().value!);
    }
    const { status, body: out } = await answer;
    sendJson(res, status, out, SECURITY_HEADERS);
  }

  /** Checks a review action as the runtime will; a bad amount or feedback is the request's fault (400). */
  function validAction(action: ReviewAction): ReviewAction {
    try {
      checkReviewAction(action);
      newMoneyCents(action);
      return action;
    } catch (err) {
      if (!isHitstateError(err)) throw err;
      throw new HitstateError('HST_ERR_SERVER_BAD_REQUEST', err.message, {
        field: String(err.details.field ?? 'body'),
      });
    }
  }

  /** Answers the same key once: a double press or a retried request gets the first answer. */
  async function once(
    cacheKey: string,
    work: () => Promise<{ status: number; body: unknown }>,
  ): Promise<{ status: number; body: unknown }> {
    let answer = actions.get(cacheKey);
    if (answer === undefined) {
      answer = work().catch((err) => {
        const failed = publicError(err, 'server');
        // A bug, not a refusal: the answer hides its detail, so the log must have it.
        if (!failed.expected && !isHitstateError(err)) console.error('hitstate dashboard:', err);
        return { status: failed.status, body: failed.body };
      });
      actions.set(cacheKey, answer);
      if (actions.size > 10_000) actions.delete(actions.keys().next().value!);
    }
    return answer;
  }

  /** Reads a POST: CSRF first, then a JSON body of at most 16 KiB. Null when refused (answered). */
  async function postBody(req: IncomingMessage, res: ServerResponse): Promise<Record<string, unknown> | null> {
    const refusal = csrfOk(req);
    if (refusal !== null) {
      sendJson(
        res,
        403,
        { error: { code: 'HST_ERR_SERVER_BAD_REQUEST', message: refusal, field: 'X-CSRF-Token' } },
        SECURITY_HEADERS,
      );
      return null;
    }
    return parseJsonObject(await readBody(req, MAX_BODY), req.headers['content-type']);
  }

  function field(body: Record<string, unknown>, name: string, required: boolean, max = 1024): string | undefined {
    const v = body[name];
    if ((v === undefined || v === '') && !required) return undefined;
    if (typeof v !== 'string' || v.length > max || (required && v.trim() === ''))
      throw new HitstateError(
        'HST_ERR_SERVER_BAD_REQUEST',
        `${name} must be a non-empty string of at most ${max.toLocaleString('en-US')} characters`,
        { field: name },
      );
    return v;
  }

  /** `POST /runs/:runId/bulk`: a preview (`preview: true`), or the confirmation carrying its `plan`. */
  async function bulk(req: IncomingMessage, res: ServerResponse, runId: string): Promise<void> {
    const body = await postBody(req, res);
    if (body === null) return;
    if (source.reviewUnavailable !== null) {
      sendJson(res, 409, { error: { code: 'HST_ERR_RUN_STATE', message: source.reviewUnavailable } }, SECURITY_HEADERS);
      return;
    }
    source.store().runs.require(runId);
    const kind = field(body, 'kind', true, 20) as BulkKind;
    if (!BULK_KINDS.includes(kind))
      throw new HitstateError('HST_ERR_SERVER_BAD_REQUEST', `kind must be one of ${BULK_KINDS.join(', ')}`, {
        field: 'kind',
      });
    const state = field(body, 'state', false, 40);
    if (state !== undefined && !(UNIT_STATES as readonly string[]).includes(state))
      throw new HitstateError('HST_ERR_SERVER_BAD_REQUEST', `state must be one of ${UNIT_STATES.join(', ')}`, {
        field: 'state',
      });
    const q = field(body, 'q', false, 200);
    const key = field(body, 'key', body.preview !== true, 200);
    const action: ReviewAction =
      kind === 'reject'
        ? { kind, feedback: field(body, 'feedback', true)! }
        : kind === 'bonus'
          ? {
              kind,
              amountUsd: field(body, 'amountUsd', true, 20)!.trim(),
              reason: field(body, 'reason', true)!,
              key: `bulk:${key ?? 'preview'}`.slice(0, 64),
            }
          : { kind };
    validAction(action);
    const query = {
      ...(state === undefined ? {} : { state: state as AssignmentState }),
      ...(q === undefined ? {} : { q }),
    };
    if (body.preview === true) {
      const plan = planBulk(source, runId, query, action);
      sendJson(
        res,
        200,
        {
          text: plan.text,
          plan: plan.planId,
          refusal: plan.refusal,
          count: plan.agentIds.length,
          totalUsd: (plan.totalCents / 100).toFixed(2),
          budget: plan.budget,
        },
        SECURITY_HEADERS,
      );
      return;
    }
    const planId = field(body, 'plan', true, 64)!;
    const { status, body: out } = await once(`${runId}\0bulk\0${key}`, async () => {
      const plan = planBulk(source, runId, query, action);
      if (plan.refusal !== null)
        return { status: 409, body: { confirmed: false, outcome: 'refused', message: plan.refusal } };
      if (plan.planId !== planId)
        return {
          status: 409,
          body: {
            confirmed: false,
            outcome: 'changed',
            message: `nothing sent: the units this filter matches changed since the preview (now ${plan.agentIds.length}); preview again and confirm the new total`,
          },
        };
      const result = await runBulk(source, runId, plan.agentIds, action);
      return { status: 200, body: { ...result, outcome: result.confirmed ? 'done' : 'partial' } };
    });
    sendJson(res, status, out, SECURITY_HEADERS);
  }

  /** `POST /workers/:workerId`: block, unblock, qualify or revoke; a preview first, then confirmed with `key`. */
  async function workerAction(req: IncomingMessage, res: ServerResponse, workerId: string): Promise<void> {
    const body = await postBody(req, res);
    if (body === null) return;
    if (source.workerActionsUnavailable !== null) {
      sendJson(
        res,
        409,
        { error: { code: 'HST_ERR_RUN_STATE', message: source.workerActionsUnavailable } },
        SECURITY_HEADERS,
      );
      return;
    }
    if (!/^A[A-Z0-9]{1,63}$/.test(workerId))
      throw new HitstateError(
        'HST_ERR_SERVER_BAD_REQUEST',
        `${JSON.stringify(workerId)} is not an MTurk worker id ("A" then capitals or digits)`,
        { field: 'workerId' },
      );
    const kind = field(body, 'action', true, 20) as WorkerActionKind;
    if (!WORKER_ACTIONS.includes(kind))
      throw new HitstateError('HST_ERR_SERVER_BAD_REQUEST', `action must be one of ${WORKER_ACTIONS.join(', ')}`, {
        field: 'action',
      });
    let action: WorkerAction;
    if (kind === 'block') action = { kind, reason: field(body, 'reason', true)! };
    else if (kind === 'unblock') {
      const reason = field(body, 'reason', false);
      action = reason === undefined ? { kind } : { kind, reason };
    } else {
      const qualification = field(body, 'qualification', true, 200)!.trim();
      if (kind === 'revoke') action = { kind, qualification };
      else {
        const raw = body.value === undefined || body.value === '' ? 1 : Number(body.value);
        if (!Number.isInteger(raw) || raw < 0)
          throw new HitstateError('HST_ERR_SERVER_BAD_REQUEST', 'value must be a whole number of 0 or more', {
            field: 'value',
          });
        action = { kind, qualification, value: raw };
      }
    }
    if (body.preview === true) {
      const { requester } = source.worker(workerId);
      sendJson(
        res,
        200,
        { text: workerActionText(workerId, requester, action), plan: kind, refusal: null },
        SECURITY_HEADERS,
      );
      return;
    }
    const key = field(body, 'key', true, 200)!;
    const { status, body: out } = await once(`worker\0${workerId}\0${key}`, async () => ({
      status: 200,
      body: await runWorkerAction(source, workerId, action),
    }));
    sendJson(res, status, out, SECURITY_HEADERS);
  }

  /** `GET /units/:unitId/view?agent=`: one submission through the run's template, for the sandboxed frame. */
  function templateFrame(res: ServerResponse, unitId: string, url: URL): void {
    const store = source.store();
    const unit = store.units.require(unitId);
    const template = templateFor(unit.runId);
    if (template === undefined)
      throw new HitstateError('HST_ERR_SERVER_NOT_FOUND', `run ${unit.runId} has no review template`, {
        field: 'reviewTemplates',
      });
    const agentId = url.searchParams.get('agent') ?? '';
    const agent = store.agents.get(agentId);
    if (agent === undefined || agent.unitId !== unitId)
      throw new HitstateError('HST_ERR_SERVER_BAD_REQUEST', `agent ${agentId} is not an agent of unit ${unitId}`, {
        field: 'agent',
      });
    const html = templateView(
      renderReviewTemplate(template, { submission: store.agents.submission(agent.id), agent, unit }),
    );
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'Content-Security-Policy': REVIEW_VIEW_CSP,
      'X-Frame-Options': 'SAMEORIGIN',
      'Content-Type': 'text/html; charset=utf-8',
      'Cache-Control': 'no-store',
      'Content-Length': String(Buffer.byteLength(html)),
    });
    res.end(html);
  }

  async function perform(
    runId: string,
    agentId: string,
    action: ReviewAction,
  ): Promise<{ status: number; body: unknown }> {
    try {
      const report = await source.review(runId, agentId, action);
      const item = report.items[0];
      if (item === undefined)
        return {
          status: 409,
          body: { confirmed: false, outcome: 'none', message: 'nothing to review for this agent' },
        };
      const confirmed = item.outcome === 'done' || item.outcome === 'alreadyDone';
      const what =
        action.kind === 'bonus'
          ? `bonus of $${action.amountUsd}`
          : action.kind === 'softReject'
            ? 'soft-rejection'
            : action.kind === 'approve'
              ? 'approval'
              : 'rejection';
      const message = confirmed
        ? `${what} confirmed by MTurk${item.outcome === 'alreadyDone' ? ' (it was already done)' : ''}`
        : item.outcome === 'queued'
          ? `${what} queued: paid once the work is submitted`
          : `${what} not done (${item.outcome}): ${item.reason ?? 'no reason given'}`;
      return { status: 200, body: { confirmed, outcome: item.outcome, message, requestId: item.requestId ?? null } };
    } catch (err) {
      const answer = publicError(err, 'server');
      return { status: answer.status, body: answer.body };
    }
  }

  async function route(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const method = req.method ?? 'GET';
    const rest = url.pathname.slice(prefix.length) || '/';
    const get = method === 'GET' || method === 'HEAD';
    if (rest === '/app.js' && get) return asset(req, res, APP_JS, 'text/javascript; charset=utf-8', JS_TAG);
    if (rest === '/app.css' && get) return asset(req, res, APP_CSS, 'text/css; charset=utf-8', CSS_TAG);
    if (!admit(req, res, url)) return;
    const m = /^\/runs\/([^/]+)(\/units|\/review|\/bulk|\/workers)?$/.exec(rest);
    const unit = /^\/units\/([^/]+)(\/view)?$/.exec(rest);
    const worker = /^\/workers(?:\/([^/]+))?$/.exec(rest);
    const decode = (s: string): string => {
      try {
        return decodeURIComponent(s);
      } catch {
        throw new HitstateError('HST_ERR_SERVER_BAD_REQUEST', 'the path is not valid URL encoding', { field: 'path' });
      }
    };
    if (m !== null && m[2] === '/review' && method === 'POST') return review(req, res, decode(m[1]!));
    if (m !== null && m[2] === '/bulk' && method === 'POST') return bulk(req, res, decode(m[1]!));
    if (worker !== null && worker[1] !== undefined && method === 'POST')
      return workerAction(req, res, decode(worker[1]));
    if (!get) {
      send(
        res,
        405,
        'text/plain; charset=utf-8',
        `${method} is not answered here; only review, bulk and worker actions accept POST`,
        {
          Allow: 'GET, HEAD',
        },
      );
      return;
    }
    if (rest === '/') return page(res, 200, runsPage(ctx(), runRows(source)));
    if (rest === '/events') return events(req, res, url);
    if (unit !== null && unit[2] === '/view') return templateFrame(res, decode(unit[1]!), url);
    if (unit !== null) {
      const detail = await unitDetail(source, decode(unit[1]!));
      return page(res, 200, unitPage(ctx(), detail, templateFor(detail.unit.runId) !== undefined));
    }
    if (worker !== null && worker[1] === undefined) {
      const rows = workerRows(source, null);
      const quals = await qualificationsOf(
        source,
        rows.map((w) => w.workerId),
      );
      return page(res, 200, workersPage(ctx(), rows, null, quals));
    }
    if (worker !== null) {
      const workerId = decode(worker[1]!);
      // Loaded on use: the CLI's worker command imports the runtime, which imports the dashboard.
      const { summarizeWorker } = await import('../cli/commands/worker.js');
      const store = source.store();
      const requester = source.workerActionsUnavailable === null ? source.worker(workerId).requester : undefined;
      const salt = `hitstate:${requester ?? store.runs.list()[0]?.requesterName ?? ''}`;
      const summary = await summarizeWorker(store, workerId, { salt });
      const units = store.runs
        .list()
        .flatMap((r) => store.agents.ofRun(r.id))
        .filter((a) => a.workerId === workerId)
        .map((a) => {
          const u = store.units.require(a.unitId);
          return { unitId: u.id, runId: u.runId, index: u.index, status: source.unitStatus(u.id) };
        });
      const names = new Map(
        store.requesters
          .list()
          .flatMap((r) => store.qualifications.ofRequester(r.name))
          .map((q) => [q.qualificationTypeId, q.name] as const),
      );
      return page(res, 200, workerPage(ctx(), summary, units, source.workerActionsUnavailable, names));
    }
    if (m !== null) {
      const runId = decode(m[1]!);
      const run = runRow(source, runId);
      if (m[2] === '/review')
        return page(
          res,
          200,
          reviewPage(
            ctx(),
            run,
            reviewQueue(source, runId),
            source.reviewUnavailable,
            budgetOf(source, runId, run),
            templateFor(runId) !== undefined,
          ),
        );
      if (m[2] === '/workers') {
        const rows = workerRows(source, runId);
        const quals = await qualificationsOf(
          source,
          rows.map((w) => w.workerId),
        );
        return page(res, 200, workersPage(ctx(), rows, run, quals));
      }
      if (m[2] === '/bulk')
        throw new HitstateError('HST_ERR_SERVER_NOT_FOUND', 'bulk actions are POSTed from the run page', {
          field: 'path',
        });
      const query = unitQuery(url);
      const { rows, total } = unitRows(source, runId, query);
      if (m[2] === '/units') return page(res, 200, unitTable(ctx(), runId, query, rows, total));
      return page(
        res,
        200,
        runPage(ctx(), run, query, rows, total, source.reviewUnavailable, budgetOf(source, runId, run)),
      );
    }
    throw new HitstateError('HST_ERR_SERVER_NOT_FOUND', `no dashboard page at ${url.pathname}`, { field: 'path' });
  }

  function asset(req: IncomingMessage, res: ServerResponse, body: string, type: string, etag: string): void {
    const headers = { ...SECURITY_HEADERS, 'Content-Type': type, 'Cache-Control': 'no-cache', ETag: etag };
    if (req.headers['if-none-match'] === etag) {
      res.writeHead(304, headers);
      res.end();
      return;
    }
    res.writeHead(200, { ...headers, 'Content-Length': String(Buffer.byteLength(body)) });
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  async function handle(req: IncomingMessage, res: ServerResponse, next?: NextFunction): Promise<void> {
    let url: URL;
    try {
      url = new URL(
        (req as IncomingMessage & { originalUrl?: string }).originalUrl ?? req.url ?? '/',
        'http://dashboard.invalid',
      );
    } catch {
      url = new URL('http://dashboard.invalid/');
    }
    const inside = prefix === '' || url.pathname === prefix || url.pathname.startsWith(`${prefix}/`);
    if (!inside && next) {
      next();
      return;
    }
    try {
      if (!inside)
        throw new HitstateError('HST_ERR_SERVER_NOT_FOUND', `the dashboard lives under ${prefix}/`, { field: 'path' });
      await route(req, res, url);
    } catch (err) {
      if (res.headersSent) {
        res.end();
        return;
      }
      const answer = publicError(err, 'server');
      const wantsJson = req.method === 'POST' || !/text\/html/.test(req.headers.accept ?? 'text/html');
      if (!answer.expected && !isHitstateError(err)) console.error('hitstate dashboard:', err);
      if (wantsJson) sendJson(res, answer.status, answer.body, SECURITY_HEADERS);
      else page(res, answer.status, messagePage(ctx(), `Error ${answer.status}`, answer.body.error.message));
    }
  }

  return Object.freeze({
    prefix,
    handle,
    async close() {
      for (const end of [...live]) end();
      if (ownsSource) await source.close();
    },
  });
}
