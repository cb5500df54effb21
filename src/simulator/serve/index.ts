/**
 * `hitstate serve`: the simulator's engine as a self-hosted MTurk-compatible platform. Same
 * engine and operations as `hitstate sim` (no fork of the MTurk semantics); what changes is the
 * front door: SQLite storage written through per request, SigV4-authenticated requester accounts
 * isolated from each other, a double-entry ledger, JSON-line request logs, `/healthz`, and the
 * control API off unless a bearer token is given.
 *
 * @example
 * ```ts
 * import { createServe, openDatabase, addRequester } from 'hitstate/simulator/serve';
 * const keys = addRequester(openDatabase('./crowd.db'), 'lab', 10000); // prints once in the CLI
 * const server = await createServe({ db: './crowd.db', publicUrl: 'https://crowd.example.org' });
 * // point the SDK at server.url with keys.accessKeyId / keys.secretAccessKey
 * await server.close();
 * ```
 *
 * @module
 */
import { randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { systemClock, type Clock } from '../../clock.js';
import { HitstateError } from '../../errors.js';
import { deriveSeed, Prng } from '../../random.js';
import { handleControl } from '../control-api.js';
import { Engine } from '../engine.js';
import { FaultInjector } from '../faults.js';
import type { SimulatorHost } from '../host.js';
import { BodyTooLargeError, readBody, sendJson } from '../http-util.js';
import { IdGenerator } from '../ids.js';
import { inspectState } from '../inspect.js';
import { AWS_JSON_CONTENT_TYPE, MTurkError, TARGET_PREFIX, TurkErrorCode, stamp } from '../protocol.js';
import { handleRequesterCall } from '../requester-api.js';
import { StatsRecorder } from '../stats.js';
import { type Checkpointer, startCheckpointer, type WalCheckpoint } from './checkpointer.js';
import { lockDatabase, openDatabase, schemaVersion, type Db } from './db.js';
import { fundingTxn, Ledger } from './ledger.js';
import { credentialLookup, pendingOps } from './requesters.js';
import { handleServeApi, SERVE_TARGET_PREFIX } from './invitations-api.js';
import { DEFAULT_TRUSTED_PROXIES, forwardedReader, trustedProxiesProblem } from './proxy.js';
import { type RequesterCredentials, verifySigV4 } from './sigv4.js';
import { loadState, RecordWriter } from './store.js';
import { handleContent, WorkerSite } from './worker-site.js';

export { addRequester, fundRequester, listRequesters, rotateKey, setDisabled } from './requesters.js';
export { backupDatabase, openDatabase, SCHEMA_VERSION } from './db.js';
export { checkLedger, makePayoutBatch, markBatchPaid, openPayoutBatches } from './ledger.js';
export { callServeApi } from './invitations-api.js';
export type { WalCheckpoint } from './checkpointer.js';
export { importSimState } from './import.js';

/** One request as the log line records it. */
export interface RequestLogLine {
  /** ISO time the request ended. */
  time: string;
  method: string;
  path: string;
  /** The requester account id (never a key or secret) or null. */
  requester: string | null;
  /** The signed-in worker's id, or null. */
  worker: string | null;
  /** The requester API operation, or the route area (`healthz`, `control`, `worker`). */
  operation: string;
  status: number;
  ms: number;
}

/** Options of {@link createServe}; each also exists as a `hitstate serve` flag or config setting. */
export interface ServeOptions {
  /** The database file (created when absent). */
  db: string;
  /** The public https URL workers and requesters reach (behind the TLS proxy). */
  publicUrl: string;
  /** @defaultValue 8443 in the CLI; 0 picks a free port. */
  port?: number;
  /** @defaultValue '127.0.0.1' (the reverse proxy connects locally) */
  host?: string;
  /** Turns the control API (`/_sim/*`) on, protected by `Authorization: Bearer TOKEN`. */
  controlApiToken?: string;
  /** `normal` keeps committed calls through a process crash; `full` also through a power loss. */
  durability?: 'normal' | 'full';
  /** Largest request body. @defaultValue 1048576 */
  maxBodyBytes?: number;
  /** Where each request's JSON line goes. @defaultValue stdout */
  log?: (line: RequestLogLine) => void;
  /** Called when a commit fails: the server stops answering (the CLI exits). */
  onFatal?: (err: unknown) => void;
  /** The clock (tests: a VirtualClock); signatures are always checked against `Date.now()`. @defaultValue real time */
  clock?: Clock;
  /** How often queued operator changes (funding) are looked for, in ms. @defaultValue 1000 */
  adminPollMs?: number;
  /** Port of the content origin serving requester HTML (HTMLQuestion). @defaultValue 0 (a free port) */
  contentPort?: number;
  /** Public URL of the content origin (its own host name behind the proxy). @defaultValue its listen address */
  contentUrl?: string;
  /** Sign-up link parameters recorded as the worker's external participant id. @defaultValue ['PROLIFIC_PID', 'participant'] */
  externalIdParams?: string[];
  /** Anyone may create a worker account without an invitation. @defaultValue false */
  openSignUp?: boolean;
  /** `false`: honour no X-Forwarded-* header, whoever connects. @defaultValue true (from {@link ServeOptions.trustedProxies}) */
  trustProxy?: boolean;
  /**
   * Addresses of the reverse proxies whose X-Forwarded-For, -Proto and -Host are honoured (the
   * client's address for rate limits, an http request redirected to https, the host SigV4 was
   * signed for). Headers from any other address are ignored.
   * @defaultValue ['127.0.0.1', '::1'] (the proxy on the same machine)
   */
  trustedProxies?: string[];
}

/** A running `hitstate serve`. */
export interface ServeServer {
  /** `http://HOST:PORT` it listens on (the reverse proxy's upstream). */
  readonly url: string;
  readonly publicUrl: string;
  /** The engine, for in-process tests and tools. */
  readonly engine: Engine;
  /** Applies queued operator changes now (the server also does so on its own every second). */
  applyAdminOps(): void;
  /** Commits anything not written yet (requests commit before they answer; timers right after they fire). */
  flush(): void;
  /**
   * Runs a WAL checkpoint now, on the checkpoint thread (which also runs one every 250 ms); what
   * it did. On an in-memory database, or after the thread failed (the server then checkpoints
   * inside commits, as SQLite does by default), it runs on the server's own connection.
   */
  checkpoint(): Promise<WalCheckpoint>;
  /** Commits made since the start (a group commit answers many requests with one). */
  readonly commits: number;
  /** The content origin's listen address (`http://HOST:PORT`). */
  readonly contentListenUrl: string;
  /** Stops listening, commits, releases the lock and closes the database. Safe to call twice. */
  close(): Promise<void>;
}

function optionsError(field: string, message: string): HitstateError {
  return new HitstateError('HST_ERR_SERVE_OPTIONS_INVALID', `${field}: ${message}`, { field });
}

function checkOptions(o: ServeOptions): void {
  if (typeof o.db !== 'string' || o.db === '')
    throw optionsError('db', 'give the database file, e.g. --db ./crowd.db.');
  let url: URL | undefined;
  try {
    url = new URL(o.publicUrl);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:') || url.pathname.length > 1 || url.search)
    throw optionsError(
      'publicUrl',
      `must be the site's base URL such as https://crowd.example.org, got ${JSON.stringify(String(o.publicUrl).slice(0, 80))}.`,
    );
  if (o.port !== undefined && (!Number.isInteger(o.port) || o.port < 0 || o.port > 65535))
    throw optionsError('port', `must be an integer from 0 to 65535, got ${String(o.port)}.`);
  if (o.controlApiToken !== undefined && (typeof o.controlApiToken !== 'string' || o.controlApiToken.length < 16))
    throw optionsError('controlApiToken', 'must be at least 16 characters (it guards the control API).');
  if (o.trustedProxies !== undefined) {
    const problem = trustedProxiesProblem(o.trustedProxies);
    if (problem) throw optionsError('trustedProxies', problem);
  }
  if (o.maxBodyBytes !== undefined && !(Number.isInteger(o.maxBodyBytes) && o.maxBodyBytes >= 1024))
    throw optionsError('maxBodyBytes', `must be an integer of at least 1024, got ${String(o.maxBodyBytes)}.`);
}

const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

function awsReply(res: ServerResponse, status: number, body: unknown, requestId: string): void {
  sendJson(res, status, body, { 'content-type': AWS_JSON_CONTENT_TYPE, 'x-amzn-RequestId': requestId });
}

/** Constant-time bearer token check. */
function bearerOk(req: IncomingMessage, token: string): boolean {
  const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
  if (!m) return false;
  const a = Buffer.from(m[1]!);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Opens the database (creating and migrating it), takes the one-server lock, loads the engine's
 * records and starts listening.
 *
 * @throws HitstateError `HST_ERR_SERVE_OPTIONS_INVALID` naming the option, `HST_ERR_SERVE_DB`,
 *   `HST_ERR_SERVE_LOCKED` when another server uses the database.
 */
export async function createServe(options: ServeOptions): Promise<ServeServer> {
  checkOptions(options);
  const db: Db = openDatabase(options.db, options.durability ? { durability: options.durability } : {});
  let lock: ReturnType<typeof lockDatabase>;
  try {
    lock = lockDatabase(db, options.db);
  } catch (err) {
    db.close();
    throw err;
  }
  // Checkpoints run on a thread of their own (checkpointer.ts), not inside a request's commit.
  // The thread opens its connection while the records load.
  let checkpointer: Checkpointer | undefined;
  let closed = false;
  /** The failed commit that stopped the server. */
  let fatal: unknown;
  const autoCheckpoints = (why: string) => {
    db.pragma('wal_autocheckpoint = 1000');
    process.stderr.write(
      `${JSON.stringify({ time: new Date().toISOString(), level: 'warn', message: `${why}; SQLite checkpoints inside commits again (replies may wait for them)` })}\n`,
    );
  };
  if (options.db !== ':memory:') db.pragma('wal_autocheckpoint = 0');
  const checkpointerStarting =
    options.db === ':memory:'
      ? undefined
      : startCheckpointer({
          file: options.db,
          synchronous: options.durability === 'full' ? 'FULL' : 'NORMAL',
          onError: (err) => {
            checkpointer = undefined;
            autoCheckpoints(err.message);
          },
          onLongLog: () => {
            if (fatal !== undefined || closed) return;
            try {
              db.pragma('wal_checkpoint(PASSIVE)');
            } catch (err) {
              process.stderr.write(
                `${JSON.stringify({ time: new Date().toISOString(), level: 'warn', message: `WAL checkpoint on the server's connection failed: ${err instanceof Error ? err.message : String(err)}` })}\n`,
              );
            }
          },
        }).then(
          (c) => {
            checkpointer = c;
            return c;
          },
          (err: unknown) => {
            autoCheckpoints(
              `the WAL checkpoint thread did not start (${err instanceof Error ? err.message : String(err)})`,
            );
            return undefined;
          },
        );
  const stopCheckpointer = async () => {
    const c = await checkpointerStarting;
    checkpointer = undefined;
    await c?.stop();
  };
  const clock = options.clock ?? systemClock;
  let loaded: ReturnType<typeof loadState>;
  try {
    loaded = loadState(db);
  } catch (err) {
    await stopCheckpointer();
    lock.release();
    db.close();
    throw new HitstateError(
      'HST_ERR_SERVE_DB',
      `The database ${options.db} has a record that cannot be read (${err instanceof Error ? err.message : String(err)}); it was left untouched. Restore a backup.`,
      { file: options.db, cause: err },
    );
  }
  const idPrng =
    loaded.idPrngState !== undefined
      ? Prng.restore(loaded.idPrngState)
      : new Prng(deriveSeed(randomInt(2 ** 31), 'ids'));
  const ids = new IdGenerator(idPrng);
  const { state } = loaded;
  for (const m of [state.hits, state.assignments, state.hitTypes, state.qualificationTypes, state.workers])
    for (const id of m.keys()) ids.reserve(id);
  for (const a of state.accounts.values()) ids.reserve(a.customerId);

  const writer = new RecordWriter(db, state, () => ({ idPrng: String(idPrng.state) }));
  const ledger = new Ledger(writer, state.bonuses.length);
  const log = options.log ?? ((line: RequestLogLine) => process.stdout.write(`${JSON.stringify(line)}\n`));

  /** Commits everything changed so far; on failure the server stops (memory is ahead of disk). */
  let commits = 0;
  const flush = (): void => {
    if (fatal !== undefined) throw fatal;
    try {
      ledger.postBonuses(state.bonuses);
      if (writer.dirty) commits++;
      writer.flush();
    } catch (err) {
      fatal = err;
      process.stderr.write(
        `${JSON.stringify({ time: new Date().toISOString(), level: 'fatal', message: `database write failed: ${err instanceof Error ? err.message : String(err)}` })}\n`,
      );
      options.onFatal?.(err);
      throw err;
    }
  };
  let flushQueued = false;
  // Group commit: the replies of every request handled in one turn of the event loop wait for one
  // commit, made once that turn's I/O is handled (setImmediate), instead of one commit each. A
  // busy server commits less often for more requests, so a queue of requests drains faster.
  let waitingReplies: { res: ServerResponse; end: () => void }[] = [];
  const commitAndReply = (): void => {
    const replies = waitingReplies;
    waitingReplies = [];
    try {
      flush();
    } catch {
      // reported by flush; none of these replies is sent, as a failed commit acknowledges nothing
      for (const r of replies) r.res.destroy();
      return;
    }
    for (const r of replies) {
      try {
        r.end();
      } catch {
        r.res.destroy();
      }
    }
  };
  const replyAfterCommit = (res: ServerResponse, end: () => void): void => {
    if (waitingReplies.length === 0) setImmediate(commitAndReply);
    waitingReplies.push({ res, end });
  };
  const engine = new Engine({
    state,
    clock,
    ids,
    startingBalanceCents: 0,
    privateQualificationTypes: true,
    onChange: () => {
      writer.markDirty();
      // Timer-driven changes (expiry, abandonment, auto-approval) have no reply to wait for.
      if (!flushQueued) {
        flushQueued = true;
        setImmediate(() => {
          flushQueued = false;
          if (fatal === undefined) {
            try {
              flush();
            } catch {
              // reported by flush
            }
          }
        });
      }
    },
    onMoney: ledger.onMoney,
  });

  // data_version changes only when another connection (an operator command) commits: the check
  // per call is one pragma read instead of a query of admin_ops.
  const dataVersion = db.prepare('PRAGMA data_version').pluck();
  const credentials = new Map<string, RequesterCredentials | undefined>();
  let seenVersion = -1;
  const applyAdminOps = (): void => {
    const version = dataVersion.get() as number;
    if (version === seenVersion) return;
    seenVersion = version;
    // An operator command committed: keys may have been added, rotated or disabled.
    credentials.clear();
    const ops = pendingOps(db);
    if (ops.length === 0) return;
    for (const op of ops) {
      const account = engine.account(op.requester);
      account.balanceCents += op.amountCents;
      ledger.post(fundingTxn(op.requester, op.amountCents, clock.now(), op.memo));
      writer.include((d) => d.prepare('UPDATE admin_ops SET applied_ms = ? WHERE id = ?').run(Date.now(), op.id));
    }
    engine.changed();
    flush();
  };
  applyAdminOps();
  engine.processDue();
  flush();

  // Credentials are cached until another connection (an operator command) commits, which
  // data_version tells on every call: rotate-key and disable still apply to the very next call.
  const readCredentials = credentialLookup(db);
  const lookup = (accessKeyId: string) => {
    if (credentials.has(accessKeyId)) return credentials.get(accessKeyId);
    const found = readCredentials(accessKeyId);
    if (credentials.size >= 10_000) credentials.clear(); // bounded: made-up keys do not pile up
    credentials.set(accessKeyId, found);
    return found;
  };
  const forwarded = forwardedReader(
    options.trustProxy === false ? [] : (options.trustedProxies ?? DEFAULT_TRUSTED_PROXIES),
  );
  const httpsSite = new URL(options.publicUrl).protocol === 'https:';
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const requestIds = new IdGenerator(new Prng(deriveSeed(randomInt(2 ** 31), 'requests')));
  let host: SimulatorHost;

  let siteKeyHex = (db.prepare("SELECT value FROM meta WHERE key = 'siteKey'").get() as { value: string } | undefined)
    ?.value;
  if (siteKeyHex === undefined) {
    siteKeyHex = randomBytes(32).toString('hex');
    db.prepare("INSERT INTO meta (key, value) VALUES ('siteKey', ?)").run(siteKeyHex);
  }
  const contentServer = createServer((req, res) => {
    try {
      handleContent(engine, options.publicUrl, req, res);
    } catch {
      res.destroy();
    }
  });
  const hostnameForContent = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    contentServer.once('error', reject);
    contentServer.listen(options.contentPort ?? 0, hostnameForContent, () => resolve());
  }).catch(async (err: NodeJS.ErrnoException) => {
    engine.close();
    await stopCheckpointer();
    lock.release();
    db.close();
    throw optionsError(
      'contentPort',
      `cannot listen on ${hostnameForContent}:${options.contentPort ?? 0} (${err.code}); choose another port.`,
    );
  });
  const contentListenUrl = `http://${hostnameForContent.includes(':') ? `[${hostnameForContent}]` : hostnameForContent}:${(contentServer.address() as AddressInfo).port}`;
  const site = new WorkerSite({
    db,
    engine,
    publicUrl: options.publicUrl,
    contentUrl: options.contentUrl ?? contentListenUrl,
    siteKey: Buffer.from(siteKeyHex, 'hex'),
    maxBodyBytes,
    externalIdParams: options.externalIdParams ?? ['PROLIFIC_PID', 'participant'],
    openSignUp: options.openSignUp === true,
    grant: (workerId, qualificationTypeId, value) => {
      const type = state.qualificationTypes.get(qualificationTypeId);
      if (!type || type.deleted) return;
      state.putGrant({
        qualificationTypeId,
        workerId,
        seq: state.nextSeq(),
        status: 'Granted',
        grantMs: engine.now(),
        integerValue: value,
      });
      engine.changed();
    },
    addressOf: (req) => forwarded(req).client,
  });

  const handle = async (req: IncomingMessage, res: ServerResponse, line: RequestLogLine): Promise<void> => {
    const path = line.path;
    if (path === '/healthz') {
      line.operation = 'healthz';
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        sendJson(res, 405, { error: 'GET /healthz' }, { allow: 'GET, HEAD' });
        return;
      }
      db.prepare('SELECT 1').get();
      sendJson(res, 200, { status: 'ok', schemaVersion: schemaVersion(db) });
      return;
    }
    if (path === '/_sim' || path.startsWith('/_sim/')) {
      line.operation = 'control';
      if (options.controlApiToken === undefined) {
        sendJson(res, 404, {
          error: {
            code: 'HST_ERR_SIM_NOT_FOUND',
            message: 'The control API is off in hitstate serve; start it with --control-api TOKEN to turn it on.',
          },
        });
        return;
      }
      if (!bearerOk(req, options.controlApiToken)) {
        sendJson(
          res,
          401,
          { error: { code: 'HST_ERR_SIM_BAD_REQUEST', message: 'The control API needs Authorization: Bearer TOKEN.' } },
          { 'www-authenticate': 'Bearer' },
        );
        return;
      }
      const query = req.url?.includes('?') ? req.url.slice(req.url.indexOf('?')) : '';
      await handleControl(host, req, res, new URL(path + query, 'http://serve.invalid'));
      return;
    }
    if (path === '/' && req.method === 'POST') {
      line.operation = 'requester';
      let raw: Buffer;
      try {
        raw = await readBody(req, maxBodyBytes);
      } catch (err) {
        if (!(err instanceof BodyTooLargeError)) throw err;
        res.setHeader('connection', 'close');
        const e = new MTurkError(
          'RequestError',
          stamp(`${err.message} Send at most ${maxBodyBytes} bytes.`, engine.now()),
          TurkErrorCode.InvalidRequest,
        );
        awsReply(res, 413, e.body(), requestIds.requestId());
        return;
      }
      const target = req.headers['x-amz-target'];
      if (typeof target === 'string' && target.startsWith(`${TARGET_PREFIX}.`))
        line.operation = target.slice(TARGET_PREFIX.length + 1).slice(0, 64);
      // Operator changes first: new keys are known, and a funded requester can spend at once.
      applyAdminOps();
      const auth = await verifySigV4(req, raw, lookup, Date.now(), forwarded(req).host);
      if (!auth.ok) {
        awsReply(res, auth.status, auth.body, requestIds.requestId());
        return;
      }
      line.requester = auth.requesterId;
      if (typeof target === 'string' && target.startsWith(`${SERVE_TARGET_PREFIX}.`)) {
        line.operation = target.slice(0, 64);
        const reply = handleServeApi(
          db,
          engine,
          options.publicUrl,
          auth.requesterId,
          target.slice(SERVE_TARGET_PREFIX.length + 1),
          raw,
        );
        awsReply(res, reply.status, reply.body, requestIds.requestId());
        return;
      }
      handleRequesterCall(host, req, res, raw, auth.requesterId);
      return;
    }
    line.operation = 'worker';
    // The proxy took a plain-http request for an https site: browsers never send the Secure
    // session cookie over it, so send them to the https address instead of a page that fails.
    if (httpsSite && forwarded(req).proto === 'http') {
      if (req.method === 'GET' || req.method === 'HEAD') {
        res.writeHead(308, { location: `${options.publicUrl.replace(/\/$/, '')}${req.url ?? '/'}` });
        res.end();
      } else sendJson(res, 403, { error: { code: 'HST_ERR_SERVE_HTTPS', message: `Use ${options.publicUrl}.` } });
      return;
    }
    const done = await site.handle(req, res, new URL(req.url ?? '/', 'http://serve.invalid'));
    if (done.workerId) line.worker = done.workerId;
    if (done.handled) {
      line.operation = `worker:${path}`.slice(0, 64).replace(/\/submit\/[^/]+/, '/submit');
      return;
    }
    sendJson(res, 404, {
      error: {
        code: 'HST_ERR_SIM_NOT_FOUND',
        message: 'Not found. hitstate serve answers the MTurk Requester API (POST /), /healthz and the worker site.',
      },
    });
  };

  const server: Server = createServer((req, res) => {
    const started = performance.now();
    let path = '/';
    try {
      path = new URL((req.url ?? '/').replace(/^\/{2,}/, '/'), 'http://serve.invalid').pathname;
    } catch {
      // logged as '/', answered by the routes below as not found
    }
    const line: RequestLogLine = {
      time: '',
      method: String(req.method).slice(0, 10),
      path: path.slice(0, 200),
      requester: null,
      worker: null,
      operation: 'unknown',
      status: 0,
      ms: 0,
    };
    // Nothing is acknowledged before it is committed: the reply's bytes leave only after the
    // commit. A reply while changes wait joins the next group commit (see replyAfterCommit).
    const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
    res.end = ((...args: unknown[]) => {
      if (writer.dirty) {
        replyAfterCommit(res, () => end(...args));
        return res;
      }
      try {
        flush(); // nothing to write: forgets the request's notes, lets read-back deleted HITs go
      } catch {
        res.destroy();
        return res;
      }
      return end(...args);
    }) as typeof res.end;
    res.on('finish', () => {
      line.status = res.statusCode;
      line.ms = Math.round((performance.now() - started) * 100) / 100;
      line.time = new Date().toISOString();
      log(line);
    });
    handle(req, res, line).catch((err) => {
      // 500s never echo internal messages; the operator's log has them.
      if (!(err instanceof BodyTooLargeError))
        process.stderr.write(
          `${JSON.stringify({ time: new Date().toISOString(), level: 'error', path: line.path, message: err instanceof Error ? err.message : String(err) })}\n`,
        );
      if (res.headersSent) {
        res.destroy();
        return;
      }
      try {
        if (req.method === 'POST' && line.path === '/') {
          const e = new MTurkError(
            'ServiceFault',
            stamp('The service failed while handling the request; try again.', engine.now()),
            TurkErrorCode.ServiceUnavailable,
          );
          awsReply(res, 500, e.body(), requestIds.requestId());
        } else if (line.operation.startsWith('worker')) {
          const tooLarge = err instanceof BodyTooLargeError;
          const html = `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>${tooLarge ? 'Too large' : 'Something went wrong'}</title><link rel="stylesheet" href="/site.css"></head><body><main><div class="card error"><h1>${tooLarge ? 'Too large' : 'Something went wrong'}</h1><p>${tooLarge ? 'The form sent is too large.' : 'Please try again in a moment.'} <a href="/work">Back to work</a></p></div></main></body></html>`;
          res.writeHead(tooLarge ? 413 : 500, {
            'content-type': 'text/html; charset=utf-8',
            'content-security-policy': "default-src 'self'; frame-ancestors 'none'",
            'x-content-type-options': 'nosniff',
          });
          res.end(html);
        } else sendJson(res, 500, { error: { code: 'HST_ERR_SERVER_INTERNAL', message: 'Internal error.' } });
      } catch {
        res.destroy();
      }
    });
  });
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
    else socket.destroy();
  });
  const hostname = options.host ?? '127.0.0.1';
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, hostname, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    engine.close();
    contentServer.close();
    await stopCheckpointer();
    lock.release();
    db.close();
    const code = (err as NodeJS.ErrnoException).code;
    throw optionsError(
      'port',
      `cannot listen on ${hostname}:${options.port ?? 0} (${code}); choose another port or host.`,
    );
  }
  const port = (server.address() as AddressInfo).port;
  const url = `http://${hostname.includes(':') ? `[${hostname}]` : hostname}:${port}`;
  lock.describe(url);
  const stats = new StatsRecorder();
  host = {
    engine,
    url: options.publicUrl.replace(/\/$/, ''),
    stats,
    requestIds,
    throttle: undefined,
    faults: new FaultInjector(0, new Prng(1)),
    maxBodyBytes,
    advance: async () => {
      throw new HitstateError(
        'HST_ERR_SIM_OPTIONS_INVALID',
        'clock: hitstate serve runs on real time; the clock cannot be advanced.',
        { field: 'clock' },
      );
    },
    inspect: () => inspectState(engine),
    onRequesterCall: undefined,
  };
  const poll = setInterval(() => {
    if (fatal !== undefined) return;
    try {
      applyAdminOps();
    } catch {
      // reported by flush
    }
  }, options.adminPollMs ?? 1000);
  poll.unref();

  let closing: Promise<void> | undefined;
  return {
    url,
    publicUrl: options.publicUrl,
    contentListenUrl,
    engine,
    applyAdminOps,
    flush,
    get commits() {
      return commits;
    },
    checkpoint: async () => {
      await checkpointerStarting;
      if (checkpointer) return checkpointer.now();
      const [row] = db.pragma('wal_checkpoint(PASSIVE)') as { busy: number; log: number; checkpointed: number }[];
      return { busy: row!.busy, walFrames: row!.log, checkpointedFrames: row!.checkpointed };
    },
    close: () => {
      closing ??= (async () => {
        clearInterval(poll);
        engine.close();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        await new Promise<void>((resolve) => {
          contentServer.close(() => resolve());
          contentServer.closeAllConnections();
        });
        if (fatal === undefined) flush();
        // The thread's connection closes first: the last one to close checkpoints and removes the log.
        await stopCheckpointer();
        closed = true;
        lock.release();
        db.close();
      })();
      return closing;
    },
  };
}
