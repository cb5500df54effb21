/**
 * Options of {@link createTaskServer}: the input type users write, the resolved type the server
 * reads, and the one function that validates the first into the second (reporting every
 * problem at once).
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { systemClock, type Clock } from '../clock.js';
import { HitstateError } from '../errors.js';
import type { IncomingMessage } from 'node:http';
import type { AgentRegistration, PreviewInfo } from './backend.js';
import { DEFAULT_REGISTRATION_LIMITS, type RateLimit, type RegistrationLimits } from './rate-limit.js';

/** The origins MTurk's own workers post from: the wrapper submits only to these and the run's endpoint. */
export const MTURK_SUBMIT_ORIGINS: readonly string[] = Object.freeze([
  'https://www.mturk.com',
  'https://workersandbox.mturk.com',
]);

/**
 * Time and connection limits of a public server (`TaskServer.applyServerLimits`): headers within
 * seconds, a whole request within a bound, a cap on open connections (issue 13 S5).
 */
export interface ServerLimits {
  /** All request headers must arrive within this (Node's `server.headersTimeout`). @defaultValue 10000 */
  readonly headersTimeoutMs: number;
  /** The whole request, body included (Node's `server.requestTimeout`). @defaultValue 30000 */
  readonly requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this (`server.keepAliveTimeout`). @defaultValue 5000 */
  readonly keepAliveTimeoutMs: number;
  /** Open connections at most (`server.maxConnections`); more are refused. @defaultValue 2000 */
  readonly maxConnections: number;
  /**
   * How often Node checks the two timeouts above (`connectionsCheckingInterval`, settable only
   * when the server is created: `createServer(tasks.httpServerOptions, handler)`). @defaultValue 1000
   */
  readonly checkIntervalMs: number;
}

/** The defaults of {@link ServerLimits}. */
export const DEFAULT_SERVER_LIMITS: ServerLimits = Object.freeze({
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  maxConnections: 2_000,
  checkIntervalMs: 1_000,
});

/**
 * Where a page comes from: an HTML string, a file (a `URL` such as
 * `new URL('./task.html', import.meta.url)`, or `{ file }` with a path), or a function of the
 * request's context returning HTML. A page without `<html>` is wrapped in a document; the
 * wrapper script tag is always injected first in `<head>`.
 */
export type PageSource<Context> =
  | string
  | URL
  | { readonly file: string | URL }
  | ((context: Context) => string | Promise<string>);

/** What a `taskPage` function receives: the arriving worker's own registration. */
export interface TaskPageContext {
  readonly registration: AgentRegistration;
  /** The MTurk host the wrapper will post to, as received (not validated): escape it if shown. */
  readonly turkSubmitTo: string | undefined;
}

/** What a `previewPage` function receives. Nothing is registered in a preview. */
export interface PreviewPageContext {
  readonly preview: PreviewInfo;
  readonly hitId: string | undefined;
}

/** Where the server was when an unexpected error happened (for logging). */
export interface ServerErrorContext {
  readonly method: string;
  readonly path: string;
}

/** Options of {@link createTaskServer}. */
export interface TaskServerOptions {
  /** The task page a worker sees after accepting the HIT. */
  readonly taskPage: PageSource<TaskPageContext>;
  /**
   * The page shown in MTurk's preview (before accepting).
   * @defaultValue a page with the HIT's title and description
   */
  readonly previewPage?: PageSource<PreviewPageContext>;
  /**
   * Path prefix of every route (the ExternalQuestion URL is `<origin><prefix>/task`).
   * @defaultValue '/hitstate'
   */
  readonly prefix?: string;
  /**
   * Key of the agent tokens' HMAC-SHA256, at least 32 bytes. Keep it stable across restarts,
   * or tokens of workers still on the page stop working.
   * @defaultValue 32 random bytes, with a `HSTWRN_SERVER_SECRET_GENERATED` process warning
   */
  readonly secret?: string | Uint8Array;
  /** A folder served read-only under `<prefix>/assets/` (task scripts, styles, images). */
  readonly assetsDir?: string | URL;
  /**
   * Largest request body accepted, in bytes.
   * @defaultValue 262144 (256 KiB)
   */
  readonly maxBodyBytes?: number;
  /**
   * How long an agent token stays valid, in seconds (the wrapper registers again when one expires).
   * @defaultValue 86400
   */
  readonly tokenTtlSec?: number;
  /**
   * How often the wrapper sends a heartbeat, in seconds.
   * @defaultValue 20
   */
  readonly heartbeatIntervalSec?: number;
  /**
   * Title of a task page given as a body fragment.
   * @defaultValue 'Task'
   */
  readonly title?: string;
  /**
   * `Content-Security-Policy` header of the task page (`false` for none). The server's own
   * pages (preview, errors) always get a strict policy.
   * @defaultValue "base-uri 'self'; object-src 'none'"
   */
  readonly contentSecurityPolicy?: string | false;
  /**
   * The clock token expiry and registration limits are measured on.
   * @defaultValue systemClock
   */
  readonly clock?: Clock;
  /**
   * Registrations allowed per client address and per HIT (token buckets: `burst` at once, then
   * `perMinute`); more answer 429 with `Retry-After`. `false` turns the limits off.
   * @defaultValue 30 at once then 30 a minute per address; 10 then 10 a minute per HIT
   */
  readonly registrationLimits?:
    | { readonly perAddress?: RateLimit; readonly perHit?: RateLimit; readonly maxTracked?: number }
    | false;
  /**
   * The client address a request is limited by. Behind a reverse proxy, read the address it
   * forwards (and trust only your proxy's header).
   * @defaultValue the socket's remote address
   */
  readonly clientAddress?: (req: IncomingMessage) => string;
  /**
   * Origins (`https://host[:port]`) the wrapper may post the submission to, besides MTurk's own
   * (`https://www.mturk.com`, `https://workersandbox.mturk.com`) and the endpoint the backend
   * names (the runtime: its environment's endpoint, e.g. `hitstate sim`). Any other
   * `turkSubmitTo` is refused on the page and logged. Also put in the default CSP's `form-action`.
   * @defaultValue none
   */
  readonly submitOrigins?: readonly string[];
  /** Time and connection limits `applyServerLimits(server)` sets. @defaultValue {@link DEFAULT_SERVER_LIMITS} */
  readonly serverLimits?: Partial<ServerLimits>;
  /**
   * Called with every unexpected error (answered as a 500 with no detail).
   * @defaultValue writes one line to `console.error`
   */
  readonly onError?: (error: unknown, context: ServerErrorContext) => void;
}

/** The validated, frozen options the server reads. */
export interface ResolvedTaskServerOptions {
  readonly taskPage: PageSource<TaskPageContext>;
  readonly previewPage: PageSource<PreviewPageContext> | undefined;
  readonly prefix: string;
  readonly secret: Uint8Array;
  readonly assetsDir: string | undefined;
  readonly maxBodyBytes: number;
  readonly tokenTtlSec: number;
  readonly heartbeatIntervalSec: number;
  readonly title: string;
  readonly contentSecurityPolicy: string | false;
  readonly clock: Clock;
  readonly onError: (error: unknown, context: ServerErrorContext) => void;
  readonly registrationLimits: RegistrationLimits | false;
  readonly clientAddress: (req: IncomingMessage) => string;
  /** The configured origins (MTurk's and the backend's are added by the server). */
  readonly submitOrigins: readonly string[];
  /** True when `contentSecurityPolicy` was not given: the server adds `form-action` to its default. */
  readonly defaultCsp: boolean;
  readonly serverLimits: ServerLimits;
}

const MIN_SECRET_BYTES = 32;

/** The origin of an http(s) URL, or undefined. */
export function originOf(url: string): string | undefined {
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'https:' || parsed.protocol === 'http:' ? parsed.origin : undefined;
  } catch {
    return undefined;
  }
}

function rateLimit(
  name: string,
  value: unknown,
  fallback: RateLimit,
  problems: { field: string; message: string }[],
): RateLimit {
  if (value === undefined) return fallback;
  const v = value as Partial<RateLimit>;
  const burst = integer(`${name}.burst`, v?.burst, fallback.burst, 1, 1_000_000, problems);
  const perMinute = integer(`${name}.perMinute`, v?.perMinute, fallback.perMinute, 1, 1_000_000, problems);
  return Object.freeze({ burst, perMinute });
}

function defaultClientAddress(req: IncomingMessage): string {
  return req.socket.remoteAddress ?? 'unknown';
}
const DEFAULT_CSP = "base-uri 'self'; object-src 'none'";

function pagePath(source: PageSource<unknown>): string | undefined {
  if (source instanceof URL) return fileURLToPath(source);
  if (typeof source === 'object' && source !== null && 'file' in source) {
    return source.file instanceof URL ? fileURLToPath(source.file) : source.file;
  }
  return undefined;
}

function checkPage(name: string, source: unknown, problems: { field: string; message: string }[]): void {
  const valid =
    typeof source === 'string' ||
    typeof source === 'function' ||
    source instanceof URL ||
    (typeof source === 'object' &&
      source !== null &&
      'file' in source &&
      (typeof source.file === 'string' || source.file instanceof URL));
  if (!valid) {
    problems.push({
      field: name,
      message: `${name} must be an HTML string, a file URL, { file } or a function, got ${typeof source}`,
    });
    return;
  }
  if (source instanceof URL && source.protocol !== 'file:') {
    problems.push({ field: name, message: `${name} must be a file: URL, got ${source.protocol}` });
    return;
  }
  const path = pagePath(source as PageSource<unknown>);
  if (path !== undefined && !isFile(path))
    problems.push({ field: name, message: `${name} file ${path} does not exist` });
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function integer(
  name: string,
  value: unknown,
  fallback: number,
  min: number,
  max: number,
  problems: { field: string; message: string }[],
): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    problems.push({
      field: name,
      message: `${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`,
    });
    return fallback;
  }
  return value;
}

/**
 * Validates options once and returns them resolved and frozen.
 *
 * @throws HitstateError `HST_ERR_CONFIG_INVALID` listing every invalid field in `details.problems`.
 */
export function resolveTaskServerOptions(options: TaskServerOptions): ResolvedTaskServerOptions {
  const problems: { field: string; message: string }[] = [];
  if (typeof options !== 'object' || options === null) {
    throw new HitstateError(
      'HST_ERR_CONFIG_INVALID',
      'createTaskServer needs an options object with at least taskPage',
      {
        field: 'options',
      },
    );
  }
  checkPage('taskPage', options.taskPage, problems);
  if (options.previewPage !== undefined) checkPage('previewPage', options.previewPage, problems);

  let prefix = options.prefix ?? '/hitstate';
  if (typeof prefix !== 'string' || !/^(\/[A-Za-z0-9._~-]+)*\/?$/.test(prefix)) {
    problems.push({
      field: 'prefix',
      message: `prefix must be a path like "/hitstate" (letters, digits, . _ ~ -), got ${JSON.stringify(prefix)}`,
    });
    prefix = '/hitstate';
  }
  prefix = prefix.replace(/\/+$/, '');

  let secret: Uint8Array;
  if (options.secret === undefined) {
    secret = randomBytes(MIN_SECRET_BYTES);
    process.emitWarning(
      'createTaskServer got no secret: agent tokens are signed with a random key and stop working when the process restarts. Pass options.secret (32+ bytes, e.g. from HITSTATE_SERVER_SECRET).',
      { code: 'HSTWRN_SERVER_SECRET_GENERATED' },
    );
  } else {
    secret = typeof options.secret === 'string' ? Buffer.from(options.secret, 'utf8') : options.secret;
    if (!(secret instanceof Uint8Array) || secret.byteLength < MIN_SECRET_BYTES) {
      problems.push({
        field: 'secret',
        message: `secret must be at least ${MIN_SECRET_BYTES} bytes (e.g. \`openssl rand -hex 32\`)`,
      });
    }
  }

  let assetsDir: string | undefined;
  if (options.assetsDir !== undefined) {
    assetsDir = options.assetsDir instanceof URL ? fileURLToPath(options.assetsDir) : options.assetsDir;
    let isDir = false;
    try {
      isDir = typeof assetsDir === 'string' && statSync(assetsDir).isDirectory();
    } catch {
      isDir = false;
    }
    if (!isDir) problems.push({ field: 'assetsDir', message: `assetsDir ${String(assetsDir)} is not a directory` });
  }

  const maxBodyBytes = integer('maxBodyBytes', options.maxBodyBytes, 256 * 1024, 1024, 64 * 1024 * 1024, problems);
  const tokenTtlSec = integer('tokenTtlSec', options.tokenTtlSec, 86_400, 60, 366 * 86_400, problems);
  const heartbeatIntervalSec = integer('heartbeatIntervalSec', options.heartbeatIntervalSec, 20, 1, 3600, problems);
  const csp = options.contentSecurityPolicy ?? DEFAULT_CSP;
  if (csp !== false && (typeof csp !== 'string' || /[\r\n]/.test(csp))) {
    problems.push({
      field: 'contentSecurityPolicy',
      message: 'contentSecurityPolicy must be a one-line string or false',
    });
  }
  if (options.title !== undefined && typeof options.title !== 'string') {
    problems.push({ field: 'title', message: `title must be a string, got ${typeof options.title}` });
  }
  if (options.onError !== undefined && typeof options.onError !== 'function') {
    problems.push({ field: 'onError', message: `onError must be a function, got ${typeof options.onError}` });
  }
  let registrationLimits: RegistrationLimits | false = DEFAULT_REGISTRATION_LIMITS;
  if (options.registrationLimits === false) registrationLimits = false;
  else if (options.registrationLimits !== undefined) {
    const given = options.registrationLimits;
    registrationLimits = Object.freeze({
      perAddress: rateLimit(
        'registrationLimits.perAddress',
        given.perAddress,
        DEFAULT_REGISTRATION_LIMITS.perAddress,
        problems,
      ),
      perHit: rateLimit('registrationLimits.perHit', given.perHit, DEFAULT_REGISTRATION_LIMITS.perHit, problems),
      maxTracked: integer(
        'registrationLimits.maxTracked',
        given.maxTracked,
        DEFAULT_REGISTRATION_LIMITS.maxTracked,
        100,
        10_000_000,
        problems,
      ),
    });
  }
  if (options.clientAddress !== undefined && typeof options.clientAddress !== 'function') {
    problems.push({
      field: 'clientAddress',
      message: `clientAddress must be a function, got ${typeof options.clientAddress}`,
    });
  }
  const submitOrigins: string[] = [];
  for (const [i, given] of (options.submitOrigins ?? []).entries()) {
    const origin = typeof given === 'string' ? originOf(given) : undefined;
    if (origin === undefined || origin !== given.replace(/\/+$/, '')) {
      problems.push({
        field: `submitOrigins.${i}`,
        message: `submitOrigins[${i}] must be an origin like "https://mturk.example.org" (scheme, host, port; no path), got ${JSON.stringify(given)}`,
      });
    } else submitOrigins.push(origin);
  }
  const limits = options.serverLimits ?? {};
  const serverLimits: ServerLimits = Object.freeze({
    headersTimeoutMs: integer(
      'serverLimits.headersTimeoutMs',
      limits.headersTimeoutMs,
      DEFAULT_SERVER_LIMITS.headersTimeoutMs,
      100,
      600_000,
      problems,
    ),
    requestTimeoutMs: integer(
      'serverLimits.requestTimeoutMs',
      limits.requestTimeoutMs,
      DEFAULT_SERVER_LIMITS.requestTimeoutMs,
      100,
      3_600_000,
      problems,
    ),
    keepAliveTimeoutMs: integer(
      'serverLimits.keepAliveTimeoutMs',
      limits.keepAliveTimeoutMs,
      DEFAULT_SERVER_LIMITS.keepAliveTimeoutMs,
      100,
      600_000,
      problems,
    ),
    maxConnections: integer(
      'serverLimits.maxConnections',
      limits.maxConnections,
      DEFAULT_SERVER_LIMITS.maxConnections,
      1,
      1_000_000,
      problems,
    ),
    checkIntervalMs: integer(
      'serverLimits.checkIntervalMs',
      limits.checkIntervalMs,
      DEFAULT_SERVER_LIMITS.checkIntervalMs,
      10,
      60_000,
      problems,
    ),
  });

  if (problems.length > 0) {
    throw new HitstateError(
      'HST_ERR_CONFIG_INVALID',
      `createTaskServer options are invalid:\n${problems.map((p) => `  - ${p.message}`).join('\n')}`,
      { field: problems[0]!.field, problems },
    );
  }
  return Object.freeze({
    taskPage: options.taskPage,
    previewPage: options.previewPage,
    prefix,
    secret,
    assetsDir,
    maxBodyBytes,
    tokenTtlSec,
    heartbeatIntervalSec,
    title: options.title ?? 'Task',
    contentSecurityPolicy: csp,
    clock: options.clock ?? systemClock,
    onError: options.onError ?? defaultOnError,
    registrationLimits,
    clientAddress: options.clientAddress ?? defaultClientAddress,
    submitOrigins: Object.freeze(submitOrigins),
    defaultCsp: options.contentSecurityPolicy === undefined,
    serverLimits,
  });
}

function defaultOnError(error: unknown, context: ServerErrorContext): void {
  console.error(`hitstate task server: unexpected error on ${context.method} ${context.path}:`, error);
}

/** Loads a page from its source (reading files on every call, so edits show on reload). */
export async function loadPage<Context>(source: PageSource<Context>, context: Context): Promise<string> {
  if (typeof source === 'function') return source(context);
  if (typeof source === 'string') return source;
  return readFile(pagePath(source as PageSource<unknown>)!, 'utf8');
}
