/**
 * `createTaskServer`: the routes a worker's browser talks to, as one framework-agnostic
 * `node:http` request handler (Express and Fastify adapters wrap it).
 *
 * @module
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HitstateError } from '../errors.js';
import {
  BackendFailure,
  PREVIEW_ASSIGNMENT_ID,
  checkArrival,
  checkId,
  disconnectRoute,
  fromBackend,
  heartbeatRoute,
  previewRoute,
  registerArrival,
  registerRoute,
  statusRoute,
  submitRoute,
  type RouteContext,
} from './agent-routes.js';
import { loadAsset } from './assets.js';
import type { TaskServerBackend } from './backend.js';
import { defaultPreviewPage, escapeHtml, injectIntoHead } from './html.js';
import { OWN_PAGE_CSP, publicError, sendError, sendHtml, sendStatic } from './http-io.js';
import {
  MTURK_SUBMIT_ORIGINS,
  loadPage,
  originOf,
  resolveTaskServerOptions,
  type TaskServerOptions,
} from './options.js';
import { RegistrationLimiter } from './rate-limit.js';
import { WRAPPER_SOURCE } from './wrapper-source.js';

/** The names of the task server's routes. */
export const RouteName = {
  taskPage: 'taskPage',
  wrapper: 'wrapper',
  asset: 'asset',
  preview: 'preview',
  register: 'register',
  status: 'status',
  submit: 'submit',
  heartbeat: 'heartbeat',
  disconnect: 'disconnect',
} as const;
export type RouteName = (typeof RouteName)[keyof typeof RouteName];

/** One route, with its full path (`:agentId` marks the agent id segment). */
export interface TaskServerRoute {
  readonly name: RouteName;
  readonly method: 'GET' | 'POST';
  readonly path: string;
}

/** A `next` callback, as Express and Connect pass it: called when a request is not the server's. */
export type NextFunction = (error?: unknown) => void;

/** What {@link createTaskServer} returns. */
export interface TaskServer {
  /** The normalised route prefix (`''` for the root). */
  readonly prefix: string;
  /** The path of the task page: append it to the public origin for the ExternalQuestion URL. */
  readonly taskPath: string;
  readonly routes: readonly TaskServerRoute[];
  /**
   * Answers one request and resolves once the answer is sent. A request outside the prefix is
   * passed to `next` when given (so the server can sit in front of other routes), else
   * answered 404. Usable directly as a `node:http` listener. When a framework already read the
   * body into `req.body`, that is used.
   */
  handle(req: IncomingMessage, res: ServerResponse, next?: NextFunction): Promise<void>;
  /** True when `url` (path and query) is under the prefix. */
  matches(url: string): boolean;
  /**
   * Sets the time and connection limits of a public server on the `node:http` (or https) server
   * that serves this task server (`serverLimits` option): headers within 10 s, a whole request
   * within 30 s, idle keep-alive connections closed after 5 s, at most 2,000 connections. Call it
   * on the server you create (Express: the one `app.listen` returns; the Fastify adapter does it).
   * Returns the server.
   */
  applyServerLimits<S extends LimitableServer>(server: S): S;
  /**
   * The same limits as `node:http` `createServer` options, the only way to set how often Node
   * checks them (`connectionsCheckingInterval`, else 30 s):
   * `createServer(tasks.httpServerOptions, handler)`, then `applyServerLimits` for the connection cap.
   */
  readonly httpServerOptions: Readonly<{
    headersTimeout: number;
    requestTimeout: number;
    keepAliveTimeout: number;
    connectionsCheckingInterval: number;
  }>;
}

/** The settings of a `node:http` server that {@link TaskServer.applyServerLimits} sets. */
export interface LimitableServer {
  headersTimeout: number;
  requestTimeout: number;
  keepAliveTimeout: number;
  maxConnections: number;
}

type Handler = (ctx: RouteContext) => Promise<void>;

const WRAPPER_ETAG = `"${createHash('sha256').update(WRAPPER_SOURCE).digest('base64url').slice(0, 27)}"`;
const WRAPPER_MAX_AGE_SEC = 300;
const ASSET_MAX_AGE_SEC = 60;

/**
 * Creates the task server over a {@link TaskServerBackend}.
 *
 * Routes, under the prefix (default `/hitstate`): `GET /task` (the page the ExternalQuestion
 * points at), `GET /wrapper.js`, `GET /assets/*` (with `assetsDir`), and the wrapper's JSON API:
 * `GET /api/preview`, `POST /api/agents`, `GET /api/agents/:agentId`,
 * `POST /api/agents/:agentId/submit`, `.../heartbeat`, `.../disconnect`.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * const tasks = createTaskServer(backend, {
 *   secret: process.env.HITSTATE_SERVER_SECRET,
 *   taskPage: new URL('./task.html', import.meta.url),
 * });
 * createServer((req, res) => void tasks.handle(req, res)).listen(8080);
 * // ExternalQuestion URL: https://tasks.example.org/hitstate/task
 * ```
 * @throws HitstateError `HST_ERR_CONFIG_INVALID` listing every invalid option.
 */
export function createTaskServer(backend: TaskServerBackend, options: TaskServerOptions): TaskServer {
  const resolved = resolveTaskServerOptions(options);
  const { prefix } = resolved;
  const limiter =
    resolved.registrationLimits === false
      ? undefined
      : new RegistrationLimiter(resolved.registrationLimits, resolved.clock);
  const routes: TaskServerRoute[] = [
    { name: 'taskPage', method: 'GET', path: `${prefix}/task` },
    { name: 'wrapper', method: 'GET', path: `${prefix}/wrapper.js` },
    ...(resolved.assetsDir !== undefined
      ? [{ name: 'asset', method: 'GET', path: `${prefix}/assets/*` } as const]
      : []),
    { name: 'preview', method: 'GET', path: `${prefix}/api/preview` },
    { name: 'register', method: 'POST', path: `${prefix}/api/agents` },
    { name: 'status', method: 'GET', path: `${prefix}/api/agents/:agentId` },
    { name: 'submit', method: 'POST', path: `${prefix}/api/agents/:agentId/submit` },
    { name: 'heartbeat', method: 'POST', path: `${prefix}/api/agents/:agentId/heartbeat` },
    { name: 'disconnect', method: 'POST', path: `${prefix}/api/agents/:agentId/disconnect` },
  ];
  /** Where the wrapper may post a submission: MTurk's origins, the configured ones and the backend's environment. */
  const submitOrigins = (): string[] => {
    const fromBackend = (backend.submitOrigins?.() ?? []).flatMap((o) => originOf(o) ?? []);
    return [...new Set([...MTURK_SUBMIT_ORIGINS, ...resolved.submitOrigins, ...fromBackend])];
  };
  const wrapperTag = (): string =>
    `<script src="${escapeHtml(`${prefix}/wrapper.js`)}" data-hitstate-api="${escapeHtml(`${prefix}/api`)}" data-hitstate-submit-origins="${escapeHtml(submitOrigins().join(' '))}"></script>`;
  /** The task page's CSP: the default carries the matching `form-action` (issue 13 S4). */
  const taskPageCsp = (): string | false =>
    resolved.defaultCsp
      ? `${resolved.contentSecurityPolicy}; form-action ${submitOrigins().join(' ')}`
      : resolved.contentSecurityPolicy;

  const handlers: Record<RouteName, Handler> = {
    taskPage: (ctx) => taskPageRoute(ctx, wrapperTag(), taskPageCsp(), submitOrigins(), report),
    wrapper: async ({ req, res }) =>
      sendStatic(req, res, WRAPPER_SOURCE, 'text/javascript; charset=utf-8', WRAPPER_ETAG, WRAPPER_MAX_AGE_SEC),
    asset: async ({ req, res, url }) => {
      const asset = await loadAsset(resolved.assetsDir!, url.pathname.slice(`${prefix}/assets/`.length));
      sendStatic(req, res, asset.body, asset.contentType, asset.etag, ASSET_MAX_AGE_SEC);
    },
    preview: previewRoute,
    register: registerRoute,
    status: statusRoute,
    submit: submitRoute,
    heartbeat: heartbeatRoute,
    disconnect: disconnectRoute,
  };

  const underPrefix = (pathname: string): boolean =>
    prefix === '' || pathname === prefix || pathname.startsWith(`${prefix}/`);

  function findRoute(pathname: string): { route: TaskServerRoute | undefined; methods: string[]; agentId?: string } {
    const rest = pathname.slice(prefix.length);
    let name: RouteName | undefined;
    let agentId: string | undefined;
    const agentMatch = /^\/api\/agents\/([^/]+)(\/(submit|heartbeat|disconnect))?$/.exec(rest);
    if (rest === '/task') name = 'taskPage';
    else if (rest === '/wrapper.js') name = 'wrapper';
    else if (rest === '/api/preview') name = 'preview';
    else if (rest === '/api/agents') name = 'register';
    else if (resolved.assetsDir !== undefined && rest.startsWith('/assets/')) name = 'asset';
    else if (agentMatch) {
      name = (agentMatch[3] as RouteName | undefined) ?? 'status';
      try {
        agentId = decodeURIComponent(agentMatch[1]!);
      } catch {
        agentId = agentMatch[1];
      }
    }
    const route = routes.find((r) => r.name === name);
    return { route, methods: route ? (route.method === 'GET' ? ['GET', 'HEAD'] : [route.method]) : [], agentId };
  }

  function report(err: unknown, context: { method: string; path: string }): void {
    try {
      resolved.onError(err, context);
    } catch (hookError) {
      console.error('hitstate task server: the onError option threw while reporting', err, hookError);
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse, next?: NextFunction): Promise<void> {
    const method = req.method ?? 'GET';
    // Express strips its mount path from req.url; originalUrl keeps the path the browser asked for.
    const url = parseUrl((req as IncomingMessage & { originalUrl?: string }).originalUrl ?? req.url ?? '/');
    if (!underPrefix(url.pathname) && next) {
      next();
      return;
    }
    const { route, methods, agentId } = findRoute(url.pathname);
    const wantsPage = route?.name === 'taskPage' && /text\/html/.test(req.headers.accept ?? '');
    try {
      if (!underPrefix(url.pathname) || route === undefined) {
        throw new HitstateError(
          'HST_ERR_SERVER_NOT_FOUND',
          `no task server route at ${method} ${url.pathname}; routes live under "${prefix}/"`,
          {
            field: 'path',
          },
        );
      }
      if (!methods.includes(method)) {
        res.setHeader('Allow', methods.join(', '));
        throw new HitstateError(
          'HST_ERR_SERVER_METHOD_NOT_ALLOWED',
          `${route.path} answers ${methods.join(' and ')}, not ${method}`,
          {
            field: 'method',
          },
        );
      }
      await handlers[route.name]({
        req,
        res,
        url,
        backend,
        options: resolved,
        ...(limiter !== undefined ? { limiter } : {}),
        ...(agentId !== undefined ? { agentId } : {}),
      });
    } catch (thrown) {
      const fromBackendCall = thrown instanceof BackendFailure;
      const err = fromBackendCall ? thrown.cause : thrown;
      const answer = publicError(err, fromBackendCall ? 'backend' : 'server');
      if (!answer.expected) report(err, { method, path: url.pathname });
      const retry: Record<string, string> =
        answer.retryAfterSec === undefined ? {} : { 'Retry-After': String(answer.retryAfterSec) };
      // A page the worker waits on reloads by itself once it may succeed (MTurk unreachable, a limit).
      if (wantsPage && answer.retryAfterSec !== undefined) retry.Refresh = String(answer.retryAfterSec);
      sendError(res, answer.status, answer.body, wantsPage, retry);
    }
  }

  return Object.freeze({
    prefix,
    taskPath: `${prefix}/task`,
    routes: Object.freeze(routes),
    handle,
    matches: (u: string) => underPrefix(parseUrl(u).pathname),
    httpServerOptions: Object.freeze({
      headersTimeout: resolved.serverLimits.headersTimeoutMs,
      requestTimeout: Math.max(resolved.serverLimits.requestTimeoutMs, resolved.serverLimits.headersTimeoutMs),
      keepAliveTimeout: resolved.serverLimits.keepAliveTimeoutMs,
      connectionsCheckingInterval: resolved.serverLimits.checkIntervalMs,
    }),
    applyServerLimits<S extends LimitableServer>(server: S): S {
      const limits = resolved.serverLimits;
      server.headersTimeout = limits.headersTimeoutMs;
      // Node requires requestTimeout >= headersTimeout (0 disables it).
      server.requestTimeout = Math.max(limits.requestTimeoutMs, limits.headersTimeoutMs);
      server.keepAliveTimeout = limits.keepAliveTimeoutMs;
      server.maxConnections = limits.maxConnections;
      return server;
    },
  });
}

/** Parses a request target (path and query, or an absolute URL); an unparsable one becomes `/`. */
function parseUrl(target: string): URL {
  try {
    return new URL(target, 'http://task-server.invalid');
  } catch {
    return new URL('http://task-server.invalid/');
  }
}

/**
 * `GET <prefix>/task`: in a preview (no accepted assignment) the preview page, registering
 * nothing; otherwise registers the arrival and serves the task page, wrapper injected.
 */
async function taskPageRoute(
  ctx: RouteContext,
  wrapperTag: string,
  csp: string | false,
  submitOrigins: readonly string[],
  report: (err: unknown, context: { method: string; path: string }) => void,
): Promise<void> {
  const { url, options } = ctx;
  const get = (name: string): string | undefined => url.searchParams.get(name) || undefined;
  const assignmentId = get('assignmentId');
  const workerId = get('workerId');
  const rawHitId = get('hitId');
  if (assignmentId === undefined || assignmentId === PREVIEW_ASSIGNMENT_ID || workerId === undefined) {
    const hitId = rawHitId === undefined ? undefined : checkId('hitId', rawHitId);
    const preview = await fromBackend(() => ctx.backend.preview(hitId));
    if (options.previewPage === undefined) {
      sendHtml(ctx.res, 200, injectIntoHead(defaultPreviewPage(preview), wrapperTag, preview.title), OWN_PAGE_CSP);
      return;
    }
    const page = await loadPage(options.previewPage, { preview, hitId });
    sendHtml(ctx.res, 200, injectIntoHead(page, wrapperTag, preview.title), csp);
    return;
  }
  const arrival = checkArrival({ hitId: rawHitId, assignmentId, workerId });
  const registration = await registerArrival(ctx, arrival);
  const turkSubmitTo = get('turkSubmitTo');
  const target = turkSubmitTo === undefined ? undefined : originOf(turkSubmitTo);
  if (turkSubmitTo !== undefined && (target === undefined || !submitOrigins.includes(target))) {
    // The page is served (the work can still be stored), but the wrapper will not post it there.
    report(
      new HitstateError(
        'HST_ERR_SERVER_BAD_REQUEST',
        `task page opened with turkSubmitTo ${JSON.stringify(turkSubmitTo.slice(0, 200))}, which is not MTurk's nor the run's endpoint (${submitOrigins.join(', ')}): the wrapper refuses to post the submission there (add it to submitOrigins if it is yours)`,
        { field: 'turkSubmitTo', hitId: arrival.hitId, assignmentId: arrival.assignmentId },
      ),
      { method: 'GET', path: ctx.url.pathname },
    );
  }
  const page = await loadPage(options.taskPage, { registration, turkSubmitTo });
  sendHtml(ctx.res, 200, injectIntoHead(page, wrapperTag, options.title), csp);
}
