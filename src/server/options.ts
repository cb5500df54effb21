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
import * as v from 'valibot';
import {
  bracketPath,
  acceptChecked,
  dotPath,
  type Frozen,
  closedObject,
  openObject,
  parseAll,
  accept,
} from '../config/schema-issues.js';
import { HitstateError } from '../errors.js';
import type { IncomingMessage } from 'node:http';
import type { AgentRegistration, PreviewInfo } from './backend.js';
import { DEFAULT_REGISTRATION_LIMITS, type RateLimit, type RegistrationLimits } from './rate-limit.js';

/** The origins MTurk's own workers post from: the wrapper submits only to these and the run's endpoint. */
export const MTURK_SUBMIT_ORIGINS: readonly string[] = Object.freeze([
  'https://www.mturk.com',
  'https://workersandbox.mturk.com',
]);

const unknownOption = (known: readonly string[]) => `is not a known option; use one of ${known.join(', ')}`;

/** A whole number from `min` to `max`, as every numeric option of the server states it. */
function integer(min: number, max: number) {
  return acceptChecked<number>(
    (input) => typeof input === 'number' && Number.isInteger(input) && input >= min && input <= max,
    (input) => `must be an integer from ${min} to ${max}, got ${JSON.stringify(input)}`,
  );
}

const serverLimitsSchema = closedObject(
  {
    /** All request headers must arrive within this (Node's `server.headersTimeout`). @defaultValue 10000 */
    headersTimeoutMs: v.optional(integer(100, 600_000), 10_000),
    /** The whole request, body included (Node's `server.requestTimeout`). @defaultValue 30000 */
    requestTimeoutMs: v.optional(integer(100, 3_600_000), 30_000),
    /** An idle keep-alive connection is closed after this (`server.keepAliveTimeout`). @defaultValue 5000 */
    keepAliveTimeoutMs: v.optional(integer(100, 600_000), 5_000),
    /** Open connections at most (`server.maxConnections`); more are refused. @defaultValue 2000 */
    maxConnections: v.optional(integer(1, 1_000_000), 2_000),
    /**
     * How often Node checks the two timeouts above (`connectionsCheckingInterval`, settable only
     * when the server is created: `createServer(tasks.httpServerOptions, handler)`). @defaultValue 1000
     */
    checkIntervalMs: v.optional(integer(10, 60_000), 1_000),
  },
  'must be an object with headersTimeoutMs, requestTimeoutMs, keepAliveTimeoutMs, maxConnections or checkIntervalMs',
  unknownOption,
);

/**
 * Time and connection limits of a public server (`TaskServer.applyServerLimits`): headers within
 * seconds, a whole request within a bound, a cap on open connections (issue 13 S5).
 */
export type ServerLimits = Frozen<v.InferOutput<typeof serverLimitsSchema>>;

/** The defaults of {@link ServerLimits} (the schema's own defaults). */
export const DEFAULT_SERVER_LIMITS: ServerLimits = Object.freeze(v.parse(serverLimitsSchema, {}));

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

const MIN_SECRET_BYTES = 32;

function isPageSource(source: unknown): boolean {
  return (
    typeof source === 'string' ||
    typeof source === 'function' ||
    source instanceof URL ||
    (typeof source === 'object' &&
      source !== null &&
      'file' in source &&
      (typeof source.file === 'string' || source.file instanceof URL))
  );
}

/** A page option: its kind, a `file:` URL only, and a file that exists (checked once, at start). */
function pageSource<Context>() {
  return v.pipe(
    accept<PageSource<Context>>(
      isPageSource,
      (input) => `must be an HTML string, a file URL, { file } or a function, got ${typeof input}`,
    ),
    v.check(
      (source) => !(source instanceof URL) || source.protocol === 'file:',
      (issue) => `must be a file: URL, got ${issue.input instanceof URL ? issue.input.protocol : ''}`,
    ),
    v.check(
      (source) => {
        // A non-file URL is reported by the check above; it has no path to look at.
        if (source instanceof URL && source.protocol !== 'file:') return true;
        const path = pagePath(source);
        return path === undefined || isFile(path);
      },
      (issue) => `file ${pagePath(issue.input)} does not exist`,
    ),
  );
}

function isFunction(input: unknown): boolean {
  return typeof input === 'function';
}

const mustBeFunction = (input: unknown): string => `must be a function, got ${typeof input}`;

function secretBytes(secret: unknown): number {
  if (typeof secret === 'string') return Buffer.byteLength(secret, 'utf8');
  return secret instanceof Uint8Array ? secret.byteLength : 0;
}

function directoryPath(dir: unknown): string {
  if (dir instanceof URL) return dir.protocol === 'file:' ? fileURLToPath(dir) : dir.href;
  return String(dir);
}

function isDirectory(dir: unknown): boolean {
  if (typeof dir !== 'string' && !(dir instanceof URL)) return false;
  try {
    return (!(dir instanceof URL) || dir.protocol === 'file:') && statSync(directoryPath(dir)).isDirectory();
  } catch {
    return false;
  }
}

function isClock(clock: unknown): boolean {
  return (
    typeof clock === 'object' &&
    clock !== null &&
    ['now', 'setTimeout', 'clearTimeout'].every(
      (name) => typeof (clock as Record<string, unknown>)[name] === 'function',
    )
  );
}

/** Registrations per client address and per HIT: `burst` at once, then `perMinute`. */
function rateLimit(fallback: RateLimit) {
  return openObject(
    {
      burst: v.optional(integer(1, 1_000_000), fallback.burst),
      perMinute: v.optional(integer(1, 1_000_000), fallback.perMinute),
    },
    'must be an object with burst and perMinute',
  );
}

/** The same origin check `submitOrigins` states: scheme, host and port only. */
function isOrigin(given: unknown): boolean {
  const origin = typeof given === 'string' ? originOf(given) : undefined;
  return origin !== undefined && origin === (given as string).replace(/\/+$/, '');
}

// The entries are checked in this order, so problems are listed in it. An unknown option is
// refused (a misspelt `secret` would otherwise leave tokens signed with a random key).
const taskServerOptionsSchema = closedObject(
  {
    /** The task page a worker sees after accepting the HIT. */
    taskPage: pageSource<TaskPageContext>(),
    /**
     * The page shown in MTurk's preview (before accepting).
     * @defaultValue a page with the HIT's title and description
     */
    previewPage: v.optional(pageSource<PreviewPageContext>()),
    /**
     * Path prefix of every route (the ExternalQuestion URL is `<origin><prefix>/task`).
     * @defaultValue '/hitstate'
     */
    prefix: v.optional(
      accept<string>(
        (prefix) => typeof prefix === 'string' && /^(\/[A-Za-z0-9._~-]+)*\/?$/.test(prefix),
        (input) => `must be a path like "/hitstate" (letters, digits, . _ ~ -), got ${JSON.stringify(input)}`,
      ),
      '/hitstate',
    ),
    /**
     * Key of the agent tokens' HMAC-SHA256, at least 32 bytes. Keep it stable across restarts,
     * or tokens of workers still on the page stop working.
     * @defaultValue 32 random bytes, with a `HSTWRN_SERVER_SECRET_GENERATED` process warning
     */
    secret: v.optional(
      accept<string | Uint8Array>(
        (secret) => secretBytes(secret) >= MIN_SECRET_BYTES,
        `must be at least ${MIN_SECRET_BYTES} bytes (e.g. \`openssl rand -hex 32\`)`,
      ),
    ),
    /** A folder served read-only under `<prefix>/assets/` (task scripts, styles, images). */
    assetsDir: v.optional(accept<string | URL>(isDirectory, (input) => `${directoryPath(input)} is not a directory`)),
    /**
     * Largest request body accepted, in bytes.
     * @defaultValue 262144 (256 KiB)
     */
    maxBodyBytes: v.optional(integer(1024, 64 * 1024 * 1024), 256 * 1024),
    /**
     * How long an agent token stays valid, in seconds (the wrapper registers again when one expires).
     * @defaultValue 86400
     */
    tokenTtlSec: v.optional(integer(60, 366 * 86_400), 86_400),
    /**
     * How often the wrapper sends a heartbeat, in seconds.
     * @defaultValue 20
     */
    heartbeatIntervalSec: v.optional(integer(1, 3600), 20),
    /**
     * `Content-Security-Policy` header of the task page (`false` for none). The server's own
     * pages (preview, errors) always get a strict policy.
     * @defaultValue "base-uri 'self'; object-src 'none'"
     */
    contentSecurityPolicy: v.optional(
      accept<string | false>(
        (csp) => csp === false || (typeof csp === 'string' && !/[\r\n]/.test(csp)),
        'must be a one-line string or false',
      ),
    ),
    /**
     * Title of a task page given as a body fragment.
     * @defaultValue 'Task'
     */
    title: v.optional(
      accept<string>(
        (title) => typeof title === 'string',
        (input) => `must be a string, got ${typeof input}`,
      ),
      'Task',
    ),
    /**
     * The clock token expiry and registration limits are measured on.
     * @defaultValue systemClock
     */
    clock: v.optional(
      accept<Clock>(isClock, (input) => `must be a Clock (now, setTimeout, clearTimeout), got ${typeof input}`),
      systemClock,
    ),
    /**
     * Called with every unexpected error (answered as a 500 with no detail).
     * @defaultValue writes one line to `console.error`
     */
    onError: v.optional(
      accept<(error: unknown, context: ServerErrorContext) => void>(isFunction, mustBeFunction),
      () => defaultOnError,
    ),
    /**
     * Registrations allowed per client address and per HIT (token buckets: `burst` at once, then
     * `perMinute`); more answer 429 with `Retry-After`. `false` turns the limits off.
     * @defaultValue 30 at once then 30 a minute per address; 10 then 10 a minute per HIT
     */
    registrationLimits: v.optional(
      v.union(
        [
          v.literal(false),
          openObject(
            {
              perAddress: v.optional(rateLimit(DEFAULT_REGISTRATION_LIMITS.perAddress), {}),
              perHit: v.optional(rateLimit(DEFAULT_REGISTRATION_LIMITS.perHit), {}),
              maxTracked: v.optional(integer(100, 10_000_000), DEFAULT_REGISTRATION_LIMITS.maxTracked),
            },
            'must be an object with perAddress, perHit or maxTracked',
          ),
        ],
        'must be false or an object with perAddress, perHit or maxTracked',
      ),
      {},
    ),
    /**
     * The client address a request is limited by. Behind a reverse proxy, read the address it
     * forwards (and trust only your proxy's header).
     * @defaultValue the socket's remote address
     */
    clientAddress: v.optional(
      accept<(req: IncomingMessage) => string>(isFunction, mustBeFunction),
      () => defaultClientAddress,
    ),
    /**
     * Origins (`https://host[:port]`) the wrapper may post the submission to, besides MTurk's own
     * (`https://www.mturk.com`, `https://workersandbox.mturk.com`) and the endpoint the backend
     * names (the runtime: its environment's endpoint, e.g. `hitstate sim`). Any other
     * `turkSubmitTo` is refused on the page and logged. Also put in the default CSP's `form-action`.
     * @defaultValue none
     */
    submitOrigins: v.optional(
      v.array(
        accept<string>(
          isOrigin,
          (input) =>
            `must be an origin like "https://mturk.example.org" (scheme, host, port; no path), got ${JSON.stringify(input)}`,
        ),
        'must be a list of origins like ["https://mturk.example.org"]',
      ),
      [],
    ),
    /** Time and connection limits `applyServerLimits(server)` sets. @defaultValue {@link DEFAULT_SERVER_LIMITS} */
    serverLimits: v.optional(serverLimitsSchema, {}),
  },
  'createTaskServer needs an options object with at least taskPage',
  unknownOption,
);

/** Options of {@link createTaskServer}. */
export type TaskServerOptions = Frozen<v.InferInput<typeof taskServerOptionsSchema>>;

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

/** The origin of an http(s) URL, or undefined. */
export function originOf(url: string): string | undefined {
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'https:' || parsed.protocol === 'http:' ? parsed.origin : undefined;
  } catch {
    return undefined;
  }
}

function defaultClientAddress(req: IncomingMessage): string {
  return req.socket.remoteAddress ?? 'unknown';
}
const DEFAULT_CSP = "base-uri 'self'; object-src 'none'";

function pagePath(source: unknown): string | undefined {
  if (source instanceof URL) return fileURLToPath(source);
  if (typeof source === 'object' && source !== null && 'file' in source) {
    const file: unknown = source.file;
    return file instanceof URL ? fileURLToPath(file) : String(file);
  }
  return undefined;
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * Validates options once and returns them resolved and frozen.
 *
 * @throws HitstateError `HST_ERR_CONFIG_INVALID` listing every invalid field in `details.problems`.
 */
export function resolveTaskServerOptions(options: TaskServerOptions): ResolvedTaskServerOptions {
  if (typeof options !== 'object' || options === null) {
    throw new HitstateError(
      'HST_ERR_CONFIG_INVALID',
      'createTaskServer needs an options object with at least taskPage',
      {
        field: 'options',
      },
    );
  }
  // The field is a dot path (`submitOrigins.0`); the message names it as written (`submitOrigins[0]`).
  const result = parseAll(taskServerOptionsSchema, options, (path, message) => ({
    field: dotPath(path),
    message: `${bracketPath(path)} ${message}`,
  }));
  if (result.problems !== undefined) {
    const { problems } = result;
    throw new HitstateError(
      'HST_ERR_CONFIG_INVALID',
      `createTaskServer options are invalid:\n${problems.map((p) => `  - ${p.message}`).join('\n')}`,
      { field: problems[0]!.field, problems },
    );
  }
  const checked = result.output;
  let secret: Uint8Array;
  if (checked.secret === undefined) {
    secret = randomBytes(MIN_SECRET_BYTES);
    process.emitWarning(
      'createTaskServer got no secret: agent tokens are signed with a random key and stop working when the process restarts. Pass options.secret (32+ bytes, e.g. from HITSTATE_SERVER_SECRET).',
      { code: 'HSTWRN_SERVER_SECRET_GENERATED' },
    );
  } else secret = typeof checked.secret === 'string' ? Buffer.from(checked.secret, 'utf8') : checked.secret;
  const limits = checked.registrationLimits;
  return Object.freeze({
    taskPage: checked.taskPage,
    previewPage: checked.previewPage,
    prefix: checked.prefix.replace(/\/+$/, ''),
    secret,
    assetsDir: checked.assetsDir === undefined ? undefined : directoryPath(checked.assetsDir),
    maxBodyBytes: checked.maxBodyBytes,
    tokenTtlSec: checked.tokenTtlSec,
    heartbeatIntervalSec: checked.heartbeatIntervalSec,
    title: checked.title,
    contentSecurityPolicy: checked.contentSecurityPolicy ?? DEFAULT_CSP,
    clock: checked.clock,
    onError: checked.onError,
    registrationLimits:
      limits === false
        ? false
        : Object.freeze({
            perAddress: Object.freeze({ ...limits.perAddress }),
            perHit: Object.freeze({ ...limits.perHit }),
            maxTracked: limits.maxTracked,
          }),
    clientAddress: checked.clientAddress,
    // Each origin was checked to be its own origin, but for a trailing slash.
    submitOrigins: Object.freeze(checked.submitOrigins.map((given) => originOf(given)!)),
    defaultCsp: checked.contentSecurityPolicy === undefined,
    serverLimits: Object.freeze({ ...checked.serverLimits }),
  });
}

function defaultOnError(error: unknown, context: ServerErrorContext): void {
  console.error(`hitstate task server: unexpected error on ${context.method} ${context.path}:`, error);
}

/** Loads a page from its source (reading files on every call, so edits show on reload). */
export async function loadPage<Context>(source: PageSource<Context>, context: Context): Promise<string> {
  if (typeof source === 'function') return source(context);
  if (typeof source === 'string') return source;
  return readFile(pagePath(source)!, 'utf8');
}
