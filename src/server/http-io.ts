/**
 * Reading request bodies under a size limit and writing JSON, HTML and error responses with the
 * task server's headers. Errors reach the browser only as `{"error":{"code","message","field?"}}`.
 *
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ERROR_CODES, HitstateError, isHitstateError, type ErrorCode } from '../errors.js';
import { errorPage } from './html.js';

/** The JSON body of every error answer. */
export interface ErrorBody {
  readonly error: { readonly code: ErrorCode; readonly message: string; readonly field?: string };
}

/**
 * HTTP statuses for codes the backend throws that carry none in the catalogue (they are not
 * server codes, but a worker's browser must still get a meaningful 4xx/5xx for them).
 */
const BACKEND_STATUS: Partial<Record<ErrorCode, number>> = {
  HST_ERR_NO_UNIT_AVAILABLE: 409,
  HST_ERR_AGENT_NOT_FOUND: 404,
  HST_ERR_UNIT_NOT_FOUND: 404,
  HST_ERR_RUN_NOT_FOUND: 404,
  HST_ERR_RUN_STATE: 409,
  HST_ERR_RUNTIME_CLOSED: 503,
  // The worker's data cannot be stored as it is (too deep, not plain JSON): the request is at fault.
  HST_ERR_STORE_INVALID_RECORD: 400,
};

/** Headers on every answer: no sniffing, no caching of worker data, no ids leaked in Referer. */
const COMMON_HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'strict-origin-when-cross-origin',
} as const;

/** The request body as the adapters may have left it: a framework may have read it already. */
type MaybeParsed = IncomingMessage & { body?: unknown };

function tooLarge(maxBytes: number): HitstateError {
  return new HitstateError('HST_ERR_SERVER_BODY_TOO_LARGE', `the request body is larger than ${maxBytes} bytes`, {
    field: 'body',
  });
}

/**
 * Reads the raw body, refusing more than `maxBytes` (from Content-Length before reading, and
 * while reading). When a framework already consumed the stream into `req.body`, that is used.
 *
 * @throws HitstateError `HST_ERR_SERVER_BODY_TOO_LARGE`
 */
export async function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const parsed = (req as MaybeParsed).body;
  if (req.readableEnded && parsed !== undefined) {
    const bytes = Buffer.isBuffer(parsed)
      ? parsed
      : Buffer.from(typeof parsed === 'string' ? parsed : JSON.stringify(parsed));
    if (bytes.byteLength > maxBytes) throw tooLarge(maxBytes);
    return bytes;
  }
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) {
    req.resume();
    throw tooLarge(maxBytes);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.byteLength;
    if (size > maxBytes) {
      // Drop the rest without buffering it; the 413 answer closes the connection.
      req.resume();
      throw tooLarge(maxBytes);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/**
 * Parses a JSON object body (`application/json`, or `text/plain` as `navigator.sendBeacon`
 * sends it).
 *
 * @throws HitstateError `HST_ERR_SERVER_BAD_REQUEST` naming what is wrong.
 */
export function parseJsonObject(body: Buffer, contentType: string | undefined): Record<string, unknown> {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== '' && type !== 'application/json' && type !== 'text/plain') {
    throw new HitstateError(
      'HST_ERR_SERVER_BAD_REQUEST',
      `the request body must be JSON (Content-Type: application/json), got ${JSON.stringify(type)}`,
      {
        field: 'content-type',
      },
    );
  }
  if (body.byteLength === 0) {
    throw new HitstateError('HST_ERR_SERVER_BAD_REQUEST', 'the request body is empty; send a JSON object', {
      field: 'body',
    });
  }
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body));
  } catch (cause) {
    throw new HitstateError('HST_ERR_SERVER_BAD_REQUEST', 'the request body is not valid UTF-8 JSON', {
      field: 'body',
      cause,
    });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new HitstateError('HST_ERR_SERVER_BAD_REQUEST', 'the request body must be a JSON object', { field: 'body' });
  }
  return value as Record<string, unknown>;
}

/** Writes a JSON answer that no cache keeps. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...COMMON_HEADERS,
    'Content-Type': 'application/json; charset=utf-8',
    'Cache-Control': 'no-store',
    'Content-Length': String(Buffer.byteLength(text)),
    ...headers,
  });
  res.end(text);
}

/** Writes an HTML page that no cache keeps. */
export function sendHtml(res: ServerResponse, status: number, page: string, csp: string | false): void {
  res.writeHead(status, {
    ...COMMON_HEADERS,
    'Content-Type': 'text/html; charset=utf-8',
    'Cache-Control': 'no-store',
    'Content-Length': String(Buffer.byteLength(page)),
    ...(csp === false ? {} : { 'Content-Security-Policy': csp }),
  });
  res.end(page);
}

/** Writes a static body (the wrapper, assets) with validators so browsers revalidate cheaply. */
export function sendStatic(
  req: IncomingMessage,
  res: ServerResponse,
  body: Buffer | string,
  contentType: string,
  etag: string,
  maxAgeSec: number,
): void {
  const headers = {
    ...COMMON_HEADERS,
    'Content-Type': contentType,
    'Cache-Control': `public, max-age=${maxAgeSec}, must-revalidate`,
    ETag: etag,
  };
  if (req.headers['if-none-match'] === etag) {
    res.writeHead(304, headers);
    res.end();
    return;
  }
  res.writeHead(200, { ...headers, 'Content-Length': String(Buffer.byteLength(body)) });
  res.end(req.method === 'HEAD' ? undefined : body);
}

/** The policy of the server's own pages: its scripts and inline styles only, nothing else. */
export const OWN_PAGE_CSP =
  "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; form-action 'none'";

/** Where an error came from: the server's own checks may show their message, the backend's may not. */
export type ErrorSource = 'server' | 'backend';

/**
 * Turns any thrown value into the status and body a browser may see. The server's own
 * validation messages are shown as written (they only ever quote the requester's own input);
 * backend errors get the catalogue text of their code, because a backend message may name
 * other workers. Anything that is not a HitstateError is reported as `HST_ERR_SERVER_INTERNAL`.
 */
export function publicError(
  err: unknown,
  source: ErrorSource,
): { status: number; body: ErrorBody; expected: boolean; retryAfterSec?: number } {
  if (!isHitstateError(err)) {
    const info = ERROR_CODES.HST_ERR_SERVER_INTERNAL;
    return {
      status: 500,
      body: { error: { code: 'HST_ERR_SERVER_INTERNAL', message: `${info.meaning} ${info.fix}` } },
      expected: false,
    };
  }
  const status = BACKEND_STATUS[err.code] ?? err.httpStatus;
  const field = err.details.field;
  const message = source === 'server' ? err.message : `${ERROR_CODES[err.code].meaning} ${ERROR_CODES[err.code].fix}`;
  const retryAfterSec = err.details.retryAfterSec;
  return {
    status,
    body: { error: { code: err.code, message, ...(field !== undefined ? { field } : {}) } },
    // A refusal to retry later (rate limit, MTurk unreachable) is part of normal operation.
    expected: status < 500 || retryAfterSec !== undefined,
    ...(retryAfterSec !== undefined ? { retryAfterSec } : {}),
  };
}

/** Sends an error as JSON, or as an HTML page when the browser asked for a page. */
export function sendError(
  res: ServerResponse,
  status: number,
  body: ErrorBody,
  asPage: boolean,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  // After a 413 the rest of the body is unread: close rather than reuse the connection.
  const close: Record<string, string> = status === 413 ? { Connection: 'close' } : {};
  if (asPage) {
    for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
    sendHtml(res, status, errorPage(status, body.error.code, body.error.message), OWN_PAGE_CSP);
    return;
  }
  sendJson(res, status, body, { ...close, ...headers });
}
