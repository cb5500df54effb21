/**
 * What `createRuntime` takes, and its resolution into the one object the runtime reads.
 *
 * @module
 */
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from '../../../machines/index.js';
import { systemClock, type Clock } from '../../clock.js';
import { HitstateError } from '../../errors.js';
import type { CredentialSource } from '../../mturk/environment.js';
import type { GovernorOptions } from '../../mturk/governor.js';
import type { GatewayRegistry } from '../../mturk/registry.js';
import type { Locale } from '../../mturk/qualifications.js';
import { normalizeEnvironment, type StoreEnvironment } from '../../store/environment.js';
import type { Store } from '../../store/open-store.js';

/** A requester the runtime acts as: a name, and where its credentials come from. */
export interface RuntimeRequester {
  /** hitstate's name for the account (stored with every run it launches). */
  readonly name: string;
  /**
   * `profile` and `defaultChain` are recorded in the store; `static` keys (tests, the local
   * simulator) are used from memory only and never written down.
   */
  readonly credentials: CredentialSource;
}

/** How often the status sync lists the run's HITs. */
export interface PollIntervals {
  /** While units are assigned, or the run is expiring or draining. @defaultValue 10000 */
  readonly activeMs?: number;
  /** While no unit is assigned. @defaultValue 60000 */
  readonly idleMs?: number;
}

/** Options of {@link createRuntime}. Durations carry their unit in the name. */
export interface RuntimeOptions {
  /**
   * Which MTurk: `{ kind: 'live' }`, `{ kind: 'sandbox' }` or `{ kind: 'custom', endpoint }`
   * (hitstate's own MTurk-compatible server, e.g. `hitstate sim`). One runtime, one environment,
   * one store.
   */
  readonly environment: StoreEnvironment;
  /** The requester new runs are launched as. Runs resumed from the store keep their own. */
  readonly requester: RuntimeRequester;
  /** Other requesters this runtime may act as (runs of the store launched by them, provider calls). */
  readonly requesters?: readonly RuntimeRequester[];
  /** Preview links on a custom endpoint. @defaultValue the endpoint's origin */
  readonly workerSiteUrl?: string;
  /**
   * The store's directory, or a PostgreSQL URL (`postgres://USER:PASSWORD@HOST:5432/DATABASE`,
   * optionally `?schema=NAME`; docs/postgres.md).
   * @defaultValue `$HITSTATE_STORE_DIR`, else `$HITSTATE_DATABASE_URL`, else `<cwd>/.hitstate`
   */
  readonly storeDir?: string;
  /** The PostgreSQL database holding the store: the same as a `postgres://` storeDir. Give one of store, storeDir, storeUrl. */
  readonly storeUrl?: string;
  /** An open store of the same environment (the runtime then does not close it). */
  readonly store?: Store;
  /** Time source of everything that waits. Tests pass the VirtualClock they share with the simulator. @defaultValue systemClock */
  readonly clock?: Clock;
  /** Status-sync intervals. */
  readonly pollIntervalMs?: PollIntervals;
  /** Rate governor of each requester's gateway. @defaultValue the gateway's (5 calls/s, burst 10) */
  readonly governor?: Omit<GovernorOptions, 'clock'>;
  /** Salt of worker-id pseudonyms in the audit trail; keep it secret and stable. @defaultValue `hitstate:<requester name>` */
  readonly auditSalt?: string;
  /** Locales of the automatic live locale requirement. @defaultValue US, CA, GB, AU, NZ */
  readonly allowedLocales?: readonly Locale[];
  /** Where gateways come from. @defaultValue a registry of this runtime's own, closed by `close()` */
  readonly gateways?: GatewayRegistry;
  /** Retry policy of unit commands (launch, expire, reconcile) after a failure. @defaultValue 5 attempts, 30 s doubling to 10 min */
  readonly retry?: RetryPolicy;
  /** How long a worker's page may be gone (no heartbeat, no reload) before the agent is marked disconnected. @defaultValue 60000 */
  readonly disconnectGraceMs?: number;
  /** Extra wait after the last assignment deadline before a draining run gives up on its workers. @defaultValue 300 */
  readonly drainGraceSec?: number;
  /** Store write coalescing (see the store's options). @defaultValue 50 */
  readonly storeCoalesceMs?: number;
  /** Receives errors thrown by event listeners. @defaultValue a process warning */
  readonly onListenerError?: (error: unknown, event: string) => void;
}

/** The options with every default applied. */
export interface ResolvedRuntimeOptions {
  readonly environment: StoreEnvironment;
  readonly requester: RuntimeRequester;
  readonly requesters: ReadonlyMap<string, RuntimeRequester>;
  readonly workerSiteUrl: string | undefined;
  /** Where the store is: its directory or its PostgreSQL URL (storeDir or storeUrl). */
  readonly storeDir: string | undefined;
  readonly store: Store | undefined;
  readonly clock: Clock;
  readonly activePollMs: number;
  readonly idlePollMs: number;
  readonly governor: Omit<GovernorOptions, 'clock'> | undefined;
  readonly auditSalt: string | undefined;
  readonly allowedLocales: readonly Locale[] | undefined;
  readonly gateways: GatewayRegistry | undefined;
  readonly retry: RetryPolicy;
  readonly disconnectGraceMs: number;
  readonly drainGraceSec: number;
  readonly storeCoalesceMs: number;
  readonly onListenerError: ((error: unknown, event: string) => void) | undefined;
}

/** Defaults of {@link RuntimeOptions}. */
export const RUNTIME_DEFAULTS = Object.freeze({
  activePollMs: 10_000,
  idlePollMs: 60_000,
  disconnectGraceMs: 60_000,
  drainGraceSec: 300,
  storeCoalesceMs: 50,
});

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

function positive(value: number | undefined, fallback: number, field: string, problems: string[]): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0)
    problems.push(
      `${field} must be a positive number of ${field.endsWith('Sec') ? 'seconds' : 'milliseconds'}, got ${JSON.stringify(value)}`,
    );
  return value;
}

function checkRequester(r: RuntimeRequester | undefined, field: string, problems: string[]): void {
  if (r === undefined || typeof r !== 'object') {
    problems.push(`${field} is required: { name: 'lab', credentials: { kind: 'profile', profile: 'lab' } }`);
    return;
  }
  if (typeof r.name !== 'string' || !NAME.test(r.name))
    problems.push(`${field}.name must be 1 to 64 letters, digits, . _ or -, got ${JSON.stringify(r.name)}`);
  const kind = (r.credentials as { kind?: unknown } | undefined)?.kind;
  if (kind !== 'profile' && kind !== 'defaultChain' && kind !== 'static') {
    problems.push(
      `${field}.credentials must be { kind: 'profile', profile }, { kind: 'defaultChain' } or { kind: 'static', accessKeyId, secretAccessKey }, got ${JSON.stringify(kind)}`,
    );
  }
}

/**
 * Checks the options (every problem at once) and applies the defaults.
 *
 * @throws HitstateError `HST_ERR_CONFIG_INVALID` listing every problem.
 */
export function resolveRuntimeOptions(options: RuntimeOptions): ResolvedRuntimeOptions {
  const problems: string[] = [];
  let environment: StoreEnvironment = { kind: 'sandbox' };
  try {
    environment = normalizeEnvironment(options?.environment);
  } catch (err) {
    problems.push(err instanceof Error ? err.message : String(err));
  }
  checkRequester(options?.requester, 'requester', problems);
  (options?.requesters ?? []).forEach((r, i) => {
    checkRequester(r, `requesters[${i}]`, problems);
  });
  const poll = options?.pollIntervalMs ?? {};
  const activePollMs = positive(poll.activeMs, RUNTIME_DEFAULTS.activePollMs, 'pollIntervalMs.activeMs', problems);
  const idlePollMs = positive(poll.idleMs, RUNTIME_DEFAULTS.idlePollMs, 'pollIntervalMs.idleMs', problems);
  const disconnectGraceMs = positive(
    options?.disconnectGraceMs,
    RUNTIME_DEFAULTS.disconnectGraceMs,
    'disconnectGraceMs',
    problems,
  );
  const drainGraceSec = positive(options?.drainGraceSec, RUNTIME_DEFAULTS.drainGraceSec, 'drainGraceSec', problems);
  const storeCoalesceMs = positive(
    options?.storeCoalesceMs,
    RUNTIME_DEFAULTS.storeCoalesceMs,
    'storeCoalesceMs',
    problems,
  );
  const storeOptions = (['store', 'storeDir', 'storeUrl'] as const).filter((k) => options?.[k] !== undefined);
  if (storeOptions.length > 1)
    problems.push(`${storeOptions[1]} given with ${storeOptions[0]}: give one of store, storeDir, storeUrl`);
  if (options?.storeUrl !== undefined && !/^postgres(ql)?:\/\//i.test(String(options.storeUrl)))
    problems.push('storeUrl must be a PostgreSQL URL like postgres://USER:PASSWORD@HOST:5432/DATABASE');
  if (problems.length > 0) {
    throw new HitstateError(
      'HST_ERR_CONFIG_INVALID',
      `The runtime options have ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
      {
        field: 'runtime',
        problems: problems.map((message) => ({ field: message.split(' ')[0]!, message })),
      },
    );
  }
  const requesters = new Map<string, RuntimeRequester>();
  for (const r of [options.requester, ...(options.requesters ?? [])]) requesters.set(r.name, r);
  return Object.freeze({
    environment,
    requester: options.requester,
    requesters,
    workerSiteUrl: options.workerSiteUrl,
    storeDir: options.storeDir ?? options.storeUrl,
    store: options.store,
    clock: options.clock ?? systemClock,
    activePollMs,
    idlePollMs,
    governor: options.governor,
    auditSalt: options.auditSalt,
    allowedLocales: options.allowedLocales,
    gateways: options.gateways,
    retry: options.retry ?? DEFAULT_RETRY_POLICY,
    disconnectGraceMs,
    drainGraceSec,
    storeCoalesceMs,
    onListenerError: options.onListenerError,
  });
}
