/**
 * hitstate's MTurk-compatible server: the MTurk Requester API (2017-01-17, awsJson1_1) that the
 * unmodified `@aws-sdk/client-mturk` talks to with only `endpoint` changed, worker pages to play a
 * worker in a browser, a control API for simulated workers and tests, virtual time, throttling,
 * fault injection and an optional state file.
 *
 * @example
 * ```ts
 * import { MTurkClient, GetAccountBalanceCommand } from '@aws-sdk/client-mturk';
 * import { createSimulator } from 'hitstate/simulator';
 *
 * const sim = await createSimulator({ clock: 'virtual', seed: 1 });
 * const mturk = new MTurkClient({ endpoint: sim.url, region: 'us-east-1', credentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local' } });
 * await mturk.send(new GetAccountBalanceCommand({})); // { AvailableBalance: '10000.00', ... }
 * await sim.advance(3600); // an hour passes: expiry, abandonment and auto-approval fire
 * await sim.close();
 * ```
 *
 * @module
 */
import { randomInt } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { systemClock, VirtualClock, type Clock } from '../clock.js';
import { HitstateError } from '../errors.js';
import { Engine } from './engine.js';
import { FaultInjector } from './faults.js';
import type { RequesterCallDecision, RequesterCallInfo, SimulatorHost } from './host.js';
import { IdGenerator } from './ids.js';
import { inspectState } from './inspect.js';
import type { Locale, SimulatorStateView } from './model.js';
import { checkStatePath } from './persistence.js';
import { deriveSeed, Prng } from '../random.js';
import { createSimulatorServer } from './server.js';
import { openSimStore } from './serve/sim-store.js';
import { StatsRecorder, type SimulatorStats } from './stats.js';
import { Throttle, type ThrottleOptions } from './throttle.js';
import {
  abandon,
  accept,
  requestQualification,
  returnAssignment,
  setLocale,
  setSystemQualification,
  submit,
  type AcceptTarget,
  type QualificationRequestResult,
} from './worker-actions.js';
import { fieldsOf } from './control-api.js';

export type { SimulatorStats } from './stats.js';
export type { RequesterCallDecision, RequesterCallInfo } from './host.js';
export type { ThrottleOptions } from './throttle.js';
export type { AcceptTarget, QualificationRequestResult } from './worker-actions.js';
export type * from './model.js';

/** Options of {@link createSimulator}; each also exists as a `hitstate sim` flag. */
export interface SimulatorOptions {
  /** TCP port; 0 picks a free one. @defaultValue 0 */
  port?: number;
  /** Interface to listen on. @defaultValue '127.0.0.1' */
  host?: string;
  /**
   * `'real'` (wall time), `'virtual'` (a new {@link VirtualClock} that moves only on
   * {@link Simulator.advance}), or a Clock instance used as is (e.g. a VirtualClock shared with
   * the runtime under test). @defaultValue 'real'
   */
  clock?: 'real' | 'virtual' | Clock;
  /** Seeds ids and fault injection: same seed and same calls give the same ids and faults. @defaultValue a random seed */
  seed?: number;
  /** Token bucket per requester account; undefined means no throttling. */
  throttle?: ThrottleOptions;
  /** Share of requester calls (0..1) that fail: half ServiceFault (nothing done), half dropped connection (done, no reply). @defaultValue 0 */
  faultRate?: number;
  /** Starting balance of every requester account, in US dollars. @defaultValue 10000 */
  balanceUsd?: number;
  /**
   * Keep the state in this SQLite file (the store of `hitstate serve`, each call's changes
   * committed right after it; one simulator per file) and continue from it on start. A JSON
   * state file of an older simulator is imported once (kept as `FILE.imported.json`).
   * @defaultValue the same store on a database in memory, gone on close
   */
  stateFile?: string;
  /** Largest accepted request body. @defaultValue 1048576 (1 MiB) */
  maxBodyBytes?: number;
  /**
   * In-process only: called for every requester call that reached an operation, before it is
   * throttled, faulted or carried out. Return `'drop'` to destroy the connection without doing
   * anything, `'dropAfter'` to carry the call out and then destroy the connection without a reply
   * (the crash test kills its client here, before or after the call takes effect).
   */
  onRequesterCall?: (call: RequesterCallInfo) => RequesterCallDecision;
}

/** A running simulator. */
export interface Simulator {
  /** The base URL, `http://127.0.0.1:PORT` without a trailing slash: the SDK `endpoint`. */
  readonly url: string;
  /** The simulator's clock (the VirtualClock when virtual). */
  readonly clock: Clock;
  /**
   * Moves virtual time forward, firing expiry, abandonment and auto-approval as time passes.
   *
   * @throws HitstateError `HST_ERR_SIM_OPTIONS_INVALID` on a real clock.
   */
  advance(seconds: number): Promise<void>;
  /** Call counters; same JSON as `GET /_sim/stats`. */
  stats(): SimulatorStats;
  resetStats(): void;
  /** Read-only copy of the whole state (HITs with all assignments, money, blocks, qualifications), per requester. */
  inspect(): SimulatorStateView;
  /** Worker actions in-process, same rules as the control API. Errors are HitstateErrors `HST_ERR_SIM_*`. */
  readonly workers: SimulatedWorkers;
  /** Stops the server and timers and writes the state file one last time. Safe to call twice. */
  close(): Promise<void>;
}

/** What a simulated worker can do, in-process. */
export interface SimulatedWorkers {
  /** Accepts a HIT, or the oldest HIT of a group the worker can take. */
  accept(workerId: string, target: AcceptTarget): Promise<{ assignmentId: string; hitId: string }>;
  /** Submits the assignment with these form fields (one FreeText answer each). */
  submit(assignmentId: string, fields: Record<string, string | string[]>): Promise<void>;
  returnAssignment(assignmentId: string): Promise<void>;
  /** Walks away now (what the deadline passing does). */
  abandon(assignmentId: string): Promise<void>;
  /** Sets the worker's Worker_Locale (workers are `{Country: 'US'}` by default). */
  setLocale(workerId: string, locale: Locale): void;
  /** Sets the worker's value of a system qualification (e.g. Masters, Adult); null removes it. */
  setSystemQualification(workerId: string, qualificationTypeId: string, value: number | null): void;
  /**
   * Requests a qualification: AutoGranted types grant at once, others wait for the owner's
   * AcceptQualificationRequest / RejectQualificationRequest. `fields` answer the type's test.
   */
  requestQualification(
    workerId: string,
    qualificationTypeId: string,
    fields?: Record<string, string | string[]>,
  ): Promise<QualificationRequestResult>;
  /** A new random worker id (`A` + 13). */
  create(): string;
}

const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

function invalid(option: string, message: string): HitstateError {
  return new HitstateError('HST_ERR_SIM_OPTIONS_INVALID', `${option}: ${message}`, { field: option });
}

function isClock(value: unknown): value is Clock {
  const c = value as Partial<Clock> | null;
  return (
    c !== null &&
    typeof c === 'object' &&
    typeof c.now === 'function' &&
    typeof c.setTimeout === 'function' &&
    typeof c.clearTimeout === 'function'
  );
}

function checkOptions(o: SimulatorOptions): void {
  if (o.port !== undefined && (!Number.isInteger(o.port) || o.port < 0 || o.port > 65535))
    throw invalid('port', `must be an integer from 0 to 65535, got ${String(o.port)}.`);
  if (o.host !== undefined && (typeof o.host !== 'string' || o.host.trim() === ''))
    throw invalid('host', `must be a host name or address, got ${JSON.stringify(o.host)}.`);
  if (o.clock !== undefined && o.clock !== 'real' && o.clock !== 'virtual' && !isClock(o.clock))
    throw invalid('clock', "must be 'real', 'virtual' or a Clock ({ now, setTimeout, clearTimeout }).");
  if (o.seed !== undefined && !Number.isFinite(o.seed))
    throw invalid('seed', `must be a finite number, got ${String(o.seed)}.`);
  if (o.throttle !== undefined) {
    const { ratePerSecond, burst } = o.throttle;
    if (!(typeof ratePerSecond === 'number' && ratePerSecond > 0 && Number.isFinite(ratePerSecond)))
      throw invalid('throttle.ratePerSecond', `must be a number above 0, got ${String(ratePerSecond)}.`);
    if (!(Number.isInteger(burst) && burst >= 1))
      throw invalid('throttle.burst', `must be an integer of at least 1, got ${String(burst)}.`);
  }
  if (o.faultRate !== undefined && !(typeof o.faultRate === 'number' && o.faultRate >= 0 && o.faultRate <= 1))
    throw invalid('faultRate', `must be a number from 0 to 1, got ${String(o.faultRate)}.`);
  if (
    o.balanceUsd !== undefined &&
    !(typeof o.balanceUsd === 'number' && o.balanceUsd >= 0 && Number.isFinite(o.balanceUsd))
  )
    throw invalid('balanceUsd', `must be a non-negative number of dollars, got ${String(o.balanceUsd)}.`);
  if (o.onRequesterCall !== undefined && typeof o.onRequesterCall !== 'function')
    throw invalid('onRequesterCall', 'must be a function.');
  if (o.maxBodyBytes !== undefined && !(Number.isInteger(o.maxBodyBytes) && o.maxBodyBytes >= 1024))
    throw invalid('maxBodyBytes', `must be an integer of at least 1024, got ${String(o.maxBodyBytes)}.`);
  if (o.stateFile !== undefined) {
    if (typeof o.stateFile !== 'string' || o.stateFile === '') throw invalid('stateFile', 'must be a file path.');
    checkStatePath(o.stateFile);
  }
}

/**
 * Starts a simulator listening on `host:port`.
 *
 * @throws HitstateError `HST_ERR_SIM_OPTIONS_INVALID` naming the bad option (or a port in use),
 *   `HST_ERR_SIM_STATE_CORRUPT` when the state file exists but is not a simulator state.
 */
export async function createSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  checkOptions(options);
  // The state lives in SQLite through serve's store: in memory, or the --state file.
  const sqlite = openSimStore(options.stateFile);
  const saved = sqlite.saved;
  const clock: Clock =
    options.clock === 'virtual'
      ? new VirtualClock(saved?.clockMs)
      : options.clock === undefined || options.clock === 'real'
        ? systemClock
        : options.clock;
  const seed = options.seed ?? randomInt(0, 2 ** 31);
  const idPrng = saved?.idPrngState !== undefined ? Prng.restore(saved.idPrngState) : new Prng(deriveSeed(seed, 'ids'));
  const faultPrng =
    saved?.faultPrngState !== undefined ? Prng.restore(saved.faultPrngState) : new Prng(deriveSeed(seed, 'faults'));
  const ids = new IdGenerator(idPrng);
  const { state } = sqlite;
  for (const id of [
    ...state.hits.keys(),
    ...state.assignments.keys(),
    ...state.hitTypes.keys(),
    ...state.qualificationTypes.keys(),
    ...state.workers.keys(),
  ])
    ids.reserve(id);
  for (const a of state.accounts.values()) ids.reserve(a.customerId);
  const faults = new FaultInjector(options.faultRate ?? 0, faultPrng);
  const engine = new Engine({
    state,
    clock,
    ids,
    startingBalanceCents: Math.round((options.balanceUsd ?? 10_000) * 100),
    onChange: () => sqlite.changed(),
  });
  sqlite.attach(() => ({
    idPrng: String(idPrng.state),
    faultPrng: String(faults.prngState),
    clockMs: String(clock.now()),
  }));
  engine.processDue();

  const stats = new StatsRecorder();
  const advance = async (seconds: number): Promise<void> => {
    if (!(clock instanceof VirtualClock))
      throw invalid(
        'clock',
        "advance() needs a virtual clock (clock: 'virtual' or a VirtualClock instance); this simulator runs on real time.",
      );
    if (!(seconds >= 0 && Number.isFinite(seconds)))
      throw invalid('advance', `seconds must be a non-negative number, got ${String(seconds)}.`);
    await clock.advance(seconds * 1000);
    engine.processDue();
  };
  const inspect = (): SimulatorStateView => inspectState(engine);
  let host: SimulatorHost | undefined;
  const server = createSimulatorServer(() => host!);
  const hostname = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      engine.close();
      sqlite.close();
      reject(
        err.code === 'EADDRINUSE' || err.code === 'EACCES' || err.code === 'EADDRNOTAVAIL'
          ? invalid(
              'port',
              `cannot listen on ${hostname}:${options.port ?? 0} (${err.code}); choose another port or host.`,
            )
          : err,
      );
    };
    server.once('error', onError);
    server.listen(options.port ?? 0, hostname, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${hostname.includes(':') ? `[${hostname}]` : hostname}:${port}`;
  host = {
    engine,
    url,
    stats,
    requestIds: new IdGenerator(new Prng(deriveSeed(seed, 'requests'))),
    throttle: options.throttle ? new Throttle(options.throttle) : undefined,
    faults,
    maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    advance,
    inspect,
    onRequesterCall: options.onRequesterCall,
  };

  let closing: Promise<void> | undefined;
  const workers: SimulatedWorkers = {
    accept: async (workerId, target) => {
      const a = accept(engine, workerId, target);
      return { assignmentId: a.assignmentId, hitId: a.hitId };
    },
    submit: async (assignmentId, fields) => {
      submit(engine, assignmentId, fieldsOf(fields));
    },
    returnAssignment: async (assignmentId) => {
      returnAssignment(engine, assignmentId);
    },
    abandon: async (assignmentId) => {
      abandon(engine, assignmentId);
    },
    setLocale: (workerId, locale) => {
      setLocale(engine, workerId, locale);
    },
    setSystemQualification: (workerId, qualificationTypeId, value) =>
      setSystemQualification(engine, workerId, qualificationTypeId, value),
    requestQualification: async (workerId, qualificationTypeId, fields = {}) =>
      requestQualification(engine, workerId, qualificationTypeId, fieldsOf(fields)),
    create: () => engine.worker(ids.customerId()).workerId,
  };
  return {
    url,
    clock,
    advance,
    stats: () => stats.snapshot(),
    resetStats: () => stats.reset(),
    inspect,
    workers,
    close: () => {
      closing ??= (async () => {
        engine.close();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        sqlite.close();
      })();
      return closing;
    },
  };
}
