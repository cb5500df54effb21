/**
 * The control API under `/_sim/`, JSON in and out, for simulated workers and tests:
 *
 * | Route | Body | Answer |
 * |---|---|---|
 * | `POST /_sim/workers` | none | `{workerId}`: a new random worker id |
 * | `GET /_sim/workers/{workerId}` | | the worker: locale, system qualifications, counts, messages |
 * | `POST /_sim/workers/{workerId}` | `{locale?, systemQualifications?}` | the worker |
 * | `POST /_sim/workers/{workerId}/accept` | `{hitId}` or `{hitTypeId}` | `{assignmentId, hitId}` |
 * | `POST /_sim/workers/{workerId}/qualification-requests` | `{qualificationTypeId, fields?}` | `{status, qualificationRequestId?}` |
 * | `POST /_sim/assignments/{id}/submit` | `{fields: {name: value}}` | `{assignmentId, hitId, status}` |
 * | `POST /_sim/assignments/{id}/return` | none | `{assignmentId, hitId, status}` |
 * | `POST /_sim/assignments/{id}/abandon` | none | `{assignmentId, hitId, status}` |
 * | `GET /_sim/clock` | | `{nowMs, now, virtual}` |
 * | `POST /_sim/clock/advance` | `{seconds}` | `{nowMs, now, virtual}` |
 * | `GET /_sim/stats`, `POST /_sim/stats/reset` | | the counters |
 * | `GET /_sim/state` | | `inspect()` |
 * | `GET /_sim/notifications?after=SEQ&limit=N` | | `{events, nextAfter}` |
 *
 * Errors are `{"error": {"code", "message", "field?"}}` with the code's HTTP status.
 *
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HitstateError, isHitstateError } from '../errors.js';
import type { SimulatorHost } from './host.js';
import { readBody, sendJson } from './http-util.js';
import type { AssignmentRecord } from './model.js';
import {
  abandon,
  accept,
  checkWorkerId,
  requestQualification,
  returnAssignment,
  setLocale,
  setSystemQualification,
  submit,
} from './worker-actions.js';

const badRequest = (message: string, field?: string): HitstateError =>
  new HitstateError('HST_ERR_SIM_BAD_REQUEST', message, field ? { field } : {});

async function jsonBody(host: SimulatorHost, req: IncomingMessage): Promise<Record<string, unknown>> {
  const raw = await readBody(req, host.maxBodyBytes);
  const text = raw.toString('utf8').trim();
  if (text === '') return {};
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (err) {
    throw badRequest(`The body is not valid JSON: ${err instanceof Error ? err.message : String(err)}.`);
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw badRequest('The body must be a JSON object.');
  return body as Record<string, unknown>;
}

const assignmentResult = (a: AssignmentRecord): Record<string, string> => ({
  assignmentId: a.assignmentId,
  hitId: a.hitId,
  status: a.status,
});

function clockView(host: SimulatorHost): Record<string, unknown> {
  const nowMs = host.engine.now();
  return { nowMs, now: new Date(nowMs).toISOString(), virtual: 'advance' in host.engine.clock };
}

/** Turns a submit body `{fields: {...}}` into ordered name/value pairs (arrays give repeated fields). */
export function fieldsOf(value: unknown): [string, string][] {
  if (value === undefined) return [];
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw badRequest('fields must be an object of field name to string value.', 'fields');
  const out: [string, string][] = [];
  for (const [name, v] of Object.entries(value as Record<string, unknown>)) {
    for (const item of Array.isArray(v) ? v : [v]) {
      if (typeof item !== 'string')
        throw badRequest(
          `fields.${name} must be a string (or a list of strings), got ${JSON.stringify(item)}.`,
          `fields.${name}`,
        );
      out.push([name, item]);
    }
  }
  return out;
}

async function route(host: SimulatorHost, req: IncomingMessage, url: URL): Promise<unknown> {
  const method = req.method ?? 'GET';
  const parts = url.pathname.split('/').filter(Boolean).slice(1).map(decodeURIComponent);
  const [area, id, action, ...rest] = parts;
  const { engine } = host;
  const is = (m: string, n: number): boolean => method === m && parts.length === n && rest.length === 0;

  if (area === 'workers') {
    if (is('POST', 1)) {
      const workerId = engine.ids.customerId();
      engine.worker(workerId);
      return { workerId };
    }
    if (is('GET', 2)) return engine.worker(checkWorkerId(id));
    if (is('POST', 2)) {
      const body = await jsonBody(host, req);
      const workerId = checkWorkerId(id);
      if (body.locale !== undefined) setLocale(engine, workerId, body.locale);
      if (body.systemQualifications !== undefined) {
        const quals = body.systemQualifications;
        if (quals === null || typeof quals !== 'object' || Array.isArray(quals))
          throw badRequest(
            'systemQualifications must be an object of qualification type id to integer (or null to remove).',
            'systemQualifications',
          );
        for (const [typeId, value] of Object.entries(quals)) setSystemQualification(engine, workerId, typeId, value);
      }
      return engine.worker(workerId);
    }
    if (is('POST', 3) && action === 'accept') {
      const body = await jsonBody(host, req);
      const target =
        typeof body.hitId === 'string'
          ? { hitId: body.hitId }
          : typeof body.hitTypeId === 'string'
            ? { hitTypeId: body.hitTypeId }
            : undefined;
      if (!target) throw badRequest('The body must be {"hitId": "..."} or {"hitTypeId": "..."}.', 'hitId');
      const a = accept(engine, id, target);
      return { assignmentId: a.assignmentId, hitId: a.hitId };
    }
    if (is('POST', 3) && action === 'qualification-requests') {
      const body = await jsonBody(host, req);
      if (typeof body.qualificationTypeId !== 'string')
        throw badRequest(
          'The body must be {"qualificationTypeId": "...", "fields": {...}} (fields: answers to the type\'s test, if any).',
          'qualificationTypeId',
        );
      return requestQualification(engine, id, body.qualificationTypeId, fieldsOf(body.fields));
    }
  }
  if (area === 'assignments' && is('POST', 3)) {
    if (action === 'submit') {
      const body = await jsonBody(host, req);
      return assignmentResult(submit(engine, id, fieldsOf(body.fields)));
    }
    if (action === 'return') return assignmentResult(returnAssignment(engine, id));
    if (action === 'abandon') return assignmentResult(abandon(engine, id));
  }
  if (area === 'clock') {
    if (is('GET', 1)) return clockView(host);
    if (is('POST', 2) && id === 'advance') {
      const body = await jsonBody(host, req);
      const seconds = body.seconds;
      if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0)
        throw badRequest(`seconds must be a non-negative number, got ${JSON.stringify(seconds)}.`, 'seconds');
      await host.advance(seconds);
      return clockView(host);
    }
  }
  if (area === 'stats') {
    if (is('GET', 1)) return host.stats.snapshot();
    if (is('POST', 2) && id === 'reset') {
      host.stats.reset();
      return host.stats.snapshot();
    }
  }
  if (area === 'state' && is('GET', 1)) return host.inspect();
  if (area === 'notifications' && is('GET', 1)) {
    const after = Number(url.searchParams.get('after') ?? 0);
    const limit = Math.min(1000, Math.max(1, Number(url.searchParams.get('limit') ?? 1000)));
    if (!Number.isFinite(after) || !Number.isFinite(limit))
      throw badRequest('after and limit must be numbers.', 'after');
    const events = engine.state.notifications.filter((n) => n.seq > after).slice(0, limit);
    return { events, nextAfter: events.length > 0 ? events[events.length - 1]!.seq : after };
  }
  throw new HitstateError(
    'HST_ERR_SIM_NOT_FOUND',
    `No control API route ${method} ${url.pathname}; see docs/simulator.md for the routes under /_sim/.`,
  );
}

/** Serves a `/_sim/...` request. */
export async function handleControl(
  host: SimulatorHost,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
): Promise<void> {
  try {
    sendJson(res, 200, await route(host, req, url));
  } catch (err) {
    if (isHitstateError(err)) {
      const status = err.code === 'HST_ERR_SIM_OPTIONS_INVALID' ? 409 : err.httpStatus;
      sendJson(res, status, err.toJSON());
      return;
    }
    throw err;
  }
}
