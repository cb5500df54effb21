/**
 * The JSON routes a worker's wrapper calls: registration, submit, heartbeat, disconnect, status
 * and preview data. Every agent route checks the agent token against the agent id in the path.
 *
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { agentIdFor } from '../../machines/ids.js';
import { HitstateError } from '../errors.js';
import { MAX_ID_LENGTH } from '../store/validate.js';
import type { AgentRegistration, AgentView, TaskServerBackend, WorkerArrival } from './backend.js';
import { parseJsonObject, readBody, sendJson } from './http-io.js';
import type { ResolvedTaskServerOptions } from './options.js';
import type { RegistrationLimiter } from './rate-limit.js';
import { signAgentToken, verifyAgentToken } from './token.js';

/** MTurk's `assignmentId` in a preview, before the worker accepts. */
export const PREVIEW_ASSIGNMENT_ID = 'ASSIGNMENT_ID_NOT_AVAILABLE';

/**
 * Every id the server takes or hands out fits the store's one limit ({@link MAX_ID_LENGTH}), the
 * agent id the runtime builds from assignment and worker ids (`<assignmentId>-<workerId>`) included.
 */
const ID_PATTERN = new RegExp(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,${MAX_ID_LENGTH - 1}}$`);
const AGENT_ID_PATTERN = ID_PATTERN;

/** Wraps a failure of the backend, so its message (which may name other workers) is not shown. */
export class BackendFailure {
  constructor(readonly cause: unknown) {}
}

/** Runs a backend call; its failures come out as {@link BackendFailure}. */
export async function fromBackend<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (cause) {
    throw new BackendFailure(cause);
  }
}

function quote(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/**
 * Checks one id (hitId, assignmentId, workerId, agentId) received from a browser.
 *
 * @throws HitstateError `HST_ERR_SERVER_BAD_REQUEST` naming the field.
 */
export function checkId(field: string, value: unknown): string {
  if (typeof value !== 'string' || !ID_PATTERN.test(value)) {
    throw new HitstateError(
      'HST_ERR_SERVER_BAD_REQUEST',
      `${field} must be 1 to ${MAX_ID_LENGTH} letters, digits or . _ : - as MTurk sends it, got ${value === undefined ? 'nothing' : quote(value)}`,
      { field },
    );
  }
  return value;
}

/**
 * Validates a worker's arrival (refusing MTurk's preview placeholder: a preview registers nothing).
 *
 * @throws HitstateError `HST_ERR_SERVER_BAD_REQUEST`
 */
export function checkArrival(input: { hitId?: unknown; assignmentId?: unknown; workerId?: unknown }): WorkerArrival {
  if (input.assignmentId === PREVIEW_ASSIGNMENT_ID) {
    throw new HitstateError(
      'HST_ERR_SERVER_BAD_REQUEST',
      'this is a preview (ASSIGNMENT_ID_NOT_AVAILABLE): accept the HIT before starting',
      {
        field: 'assignmentId',
      },
    );
  }
  const arrival = {
    hitId: checkId('hitId', input.hitId),
    assignmentId: checkId('assignmentId', input.assignmentId),
    workerId: checkId('workerId', input.workerId),
  };
  // Refused here, before anything is recorded: the store would refuse the agent record after the run bound it.
  const agentId = agentIdFor(arrival.assignmentId, arrival.workerId);
  if (agentId.length > MAX_ID_LENGTH) {
    throw new HitstateError(
      'HST_ERR_SERVER_BAD_REQUEST',
      `assignmentId and workerId together must be at most ${MAX_ID_LENGTH - 1} characters (the agent id "<assignmentId>-<workerId>" is limited to ${MAX_ID_LENGTH}), got ${arrival.assignmentId.length + arrival.workerId.length}`,
      { field: 'assignmentId' },
    );
  }
  return arrival;
}

/**
 * Registers an arrival with the backend (once the registration limits admit it) and checks that
 * what came back is this worker's own agent (a backend bug must not hand one worker another's unit).
 *
 * @throws HitstateError `HST_ERR_SERVER_RATE_LIMITED` when a limit is spent.
 */
export async function registerArrival(ctx: RouteContext, arrival: WorkerArrival): Promise<AgentRegistration> {
  const arrivalKey = `${arrival.assignmentId}\n${arrival.workerId}`;
  ctx.limiter?.admit(ctx.options.clientAddress(ctx.req), arrival.hitId, arrivalKey);
  const { backend } = ctx;
  const registration = await fromBackend(() => backend.registerAgent(arrival));
  if (
    registration.workerId !== arrival.workerId ||
    registration.assignmentId !== arrival.assignmentId ||
    registration.hitId !== arrival.hitId ||
    typeof registration.agentId !== 'string' ||
    !AGENT_ID_PATTERN.test(registration.agentId)
  ) {
    throw new Error(
      `TaskServerBackend.registerAgent returned an agent for other ids than the arrival's (or an agentId outside ${AGENT_ID_PATTERN}); refusing to send it`,
    );
  }
  ctx.limiter?.registered(arrival.hitId, arrivalKey);
  return registration;
}

function viewOf(view: AgentView): AgentView {
  return { agentId: view.agentId, status: view.status, submitted: view.submitted };
}

/** The context every route handler gets. */
export interface RouteContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly url: URL;
  readonly backend: TaskServerBackend;
  readonly options: ResolvedTaskServerOptions;
  /** The registration limits, unless turned off. */
  readonly limiter?: RegistrationLimiter;
  /** The decoded `:agentId` path segment, for agent routes. */
  readonly agentId?: string;
}

async function jsonBody(ctx: RouteContext): Promise<Record<string, unknown>> {
  return parseJsonObject(await readBody(ctx.req, ctx.options.maxBodyBytes), ctx.req.headers['content-type']);
}

/** `POST <prefix>/api/agents`: registers the arrival, answers the task data and a fresh token. */
export async function registerRoute(ctx: RouteContext): Promise<void> {
  const arrival = checkArrival(await jsonBody(ctx));
  const registration = await registerArrival(ctx, arrival);
  const expiresAtSec = Math.floor(ctx.options.clock.now() / 1000) + ctx.options.tokenTtlSec;
  const token = signAgentToken(
    {
      agentId: registration.agentId,
      workerId: registration.workerId,
      assignmentId: registration.assignmentId,
      expiresAtSec,
    },
    ctx.options.secret,
  );
  sendJson(ctx.res, 200, {
    agentId: registration.agentId,
    unitId: registration.unitId,
    status: registration.status,
    submitted: registration.submitted,
    task: registration.task ?? null,
    ...(registration.submitted && registration.submission !== undefined ? { submission: registration.submission } : {}),
    token,
    tokenExpiresAt: new Date(expiresAtSec * 1000).toISOString(),
    heartbeatIntervalSec: ctx.options.heartbeatIntervalSec,
  });
}

function bearer(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  if (header === undefined) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) {
    throw new HitstateError('HST_ERR_SERVER_TOKEN_INVALID', 'the Authorization header must read "Bearer <token>"', {
      field: 'token',
    });
  }
  return match[1];
}

/**
 * Checks the request's agent token against the path's agent id. The token comes from the
 * `Authorization: Bearer` header; only the disconnect route also takes a `token` body field,
 * because `navigator.sendBeacon` cannot set headers.
 */
function authenticate(ctx: RouteContext, bodyToken?: unknown): string {
  const agentId = checkId('agentId', ctx.agentId);
  const token = bearer(ctx.req) ?? (typeof bodyToken === 'string' ? bodyToken : undefined);
  const claims = verifyAgentToken(token, ctx.options.secret, ctx.options.clock.now());
  if (claims.agentId !== agentId) {
    throw new HitstateError(
      'HST_ERR_SERVER_TOKEN_INVALID',
      'the agent token belongs to another agent than the one in the path',
      {
        field: 'token',
      },
    );
  }
  return agentId;
}

/** `POST <prefix>/api/agents/:agentId/submit`: answers only once the backend has the data on disk. */
export async function submitRoute(ctx: RouteContext): Promise<void> {
  const agentId = authenticate(ctx);
  const body = await jsonBody(ctx);
  if (!Object.hasOwn(body, 'data')) {
    throw new HitstateError('HST_ERR_SERVER_BAD_REQUEST', 'the submit body must be {"data": <the submission>}', {
      field: 'data',
    });
  }
  await fromBackend(() => ctx.backend.submit(agentId, body.data));
  sendJson(ctx.res, 200, { agentId, submitted: true });
}

/** `POST <prefix>/api/agents/:agentId/heartbeat`. */
export async function heartbeatRoute(ctx: RouteContext): Promise<void> {
  const agentId = authenticate(ctx);
  await readBody(ctx.req, ctx.options.maxBodyBytes);
  sendJson(ctx.res, 200, viewOf(await fromBackend(() => ctx.backend.heartbeat(agentId))));
}

/** `POST <prefix>/api/agents/:agentId/disconnect` (the wrapper's `pagehide` beacon). */
export async function disconnectRoute(ctx: RouteContext): Promise<void> {
  const agentId = authenticate(ctx, (await jsonBody(ctx)).token);
  await fromBackend(() => ctx.backend.disconnect(agentId));
  sendJson(ctx.res, 200, { agentId, disconnected: true });
}

/** `GET <prefix>/api/agents/:agentId`. */
export async function statusRoute(ctx: RouteContext): Promise<void> {
  const agentId = authenticate(ctx);
  sendJson(ctx.res, 200, viewOf(await fromBackend(() => ctx.backend.agentStatus(agentId))));
}

/** `GET <prefix>/api/preview?hitId=`: the HIT's public preview data; registers nothing. */
export async function previewRoute(ctx: RouteContext): Promise<void> {
  const raw = ctx.url.searchParams.get('hitId');
  const hitId = raw === null || raw === '' ? undefined : checkId('hitId', raw);
  const info = await fromBackend(() => ctx.backend.preview(hitId));
  sendJson(ctx.res, 200, {
    title: info.title,
    description: info.description,
    ...(info.data !== undefined ? { data: info.data } : {}),
  });
}
