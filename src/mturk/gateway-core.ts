/**
 * The machinery under every gateway operation: one SDK client and one rate governor per
 * requester and endpoint, error mapping into typed outcomes, pagination to the end, and the audit
 * event of each call.
 *
 * @module
 */
import type { MTurkClient, MTurkClientConfig } from '@aws-sdk/client-mturk';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { systemClock, type Clock } from '../clock.js';
import { isHitstateError } from '../errors.js';
import { AuditEmitter, redactArguments, warnListenerError, type MTurkCallEvent } from './audit.js';
import { bindCall, createMTurkClient, newCallRecord, type CallRecord, type HttpCounters } from './client.js';
import { credentialProvider, unusableCredentials } from './credentials.js';
import {
  describeCredentials,
  resolveEndpoint,
  resolveWorkerSite,
  type Environment,
  type RequesterSpec,
} from './environment.js';
import { RateGovernor, type GovernorOptions, type GovernorStats, type Lane } from './governor.js';
import { policyOf } from './operations.js';
import { isShortPage } from './paginate.js';
import {
  classifyError,
  mapSdkError,
  ok,
  orThrow,
  type MTurkFailure,
  type MTurkOutcome,
  type RequestErrorRules,
} from './outcome.js';
import { DEFAULT_ALLOWED_LOCALES, type Locale } from './qualifications.js';

/** Options of a gateway; they apply when the gateway is created. */
export interface GatewayOptions {
  /** Time source of the governor (and of audit timestamps). @defaultValue systemClock */
  readonly clock?: Clock;
  readonly governor?: Omit<GovernorOptions, 'clock'>;
  /** Locales of the automatic live locale requirement. @defaultValue US, CA, GB, AU, NZ */
  readonly allowedLocales?: readonly Locale[];
  /** Salt of worker-id pseudonyms in audit events; pass a secret kept with the store. @defaultValue `hitstate:<requester name>` */
  readonly auditSalt?: string;
  /** Called with every audit event (in addition to `gateway.events`). */
  readonly onAudit?: (event: MTurkCallEvent) => void;
  /** Receives errors thrown by audit listeners. @defaultValue a process warning */
  readonly onListenerError?: (err: unknown) => void;
  /** @defaultValue 5000 */
  readonly connectionTimeoutMs?: number;
  /** @defaultValue 30000 */
  readonly requestTimeoutMs?: number;
  /** Replaces the HTTP transport (tests use a fake one; see docs/stack-notes.md#a-fake-transport-for-tests). */
  readonly requestHandler?: MTurkClientConfig['requestHandler'];
}

/** Per-call options every operation accepts. */
export interface CallOptions {
  /** Overrides the operation's default priority lane. */
  readonly lane?: Lane;
  /** At most this many attempts (1: no retry, e.g. a check a waiting worker cannot wait for). @defaultValue the governor's */
  readonly maxAttempts?: number;
}

/** Counters of a gateway: governor lanes and retries, plus every HTTP attempt. */
export interface GatewayStats extends GovernorStats {
  readonly http: Readonly<HttpCounters>;
}

/** How one operation is sent and reported. */
export interface CallSpec<I extends object> {
  /** The gateway method, for the audit trail. */
  readonly method: string;
  /** The SDK operation name. */
  readonly operation: string;
  readonly input: I;
  readonly options?: CallOptions;
  readonly rules?: RequestErrorRules;
  /** Forces an audit event for an operation that is not audited by default. */
  readonly audit?: boolean;
}

const ID_FIELDS: ReadonlyArray<[string, string]> = [
  ['HITId', 'hitId'],
  ['HITTypeId', 'hitTypeId'],
  ['AssignmentId', 'assignmentId'],
  ['QualificationTypeId', 'qualificationTypeId'],
];

function collectIds(...sources: unknown[]): Record<string, string> {
  const ids: Record<string, string> = {};
  const visit = (value: unknown, depth: number): void => {
    if (typeof value !== 'object' || value === null || depth > 1) return;
    for (const [field, name] of ID_FIELDS) {
      const v = (value as Record<string, unknown>)[field];
      if (typeof v === 'string' && ids[name] === undefined) ids[name] = v;
    }
    for (const nested of ['HIT', 'QualificationType', 'Assignment'])
      visit((value as Record<string, unknown>)[nested], depth + 1);
  };
  for (const s of sources) visit(s, 0);
  return ids;
}

/** The shared core of {@link MTurkGateway}; operations live in `ops-*.ts`. */
export class GatewayCore {
  readonly spec: RequesterSpec;
  readonly environment: Environment;
  readonly endpoint: string;
  readonly workerSite: string;
  readonly clock: Clock;
  readonly allowedLocales: readonly Locale[];
  /** Audit events: `gateway.events.on('mturk.call', listener)`. */
  readonly events: AuditEmitter;
  /** The SDK client, governed like every gateway call. Do not change its config. */
  readonly client: MTurkClient;
  readonly governor: RateGovernor;
  readonly #http: HttpCounters = { attempts: 0, throttled: 0, faults: 0 };
  readonly #salt: string;
  readonly #credentials: AwsCredentialIdentityProvider;
  #closed = false;

  constructor(spec: RequesterSpec, options: GatewayOptions = {}) {
    this.spec = spec;
    this.environment = spec.environment;
    this.endpoint = resolveEndpoint(spec);
    this.workerSite = resolveWorkerSite(spec);
    this.clock = options.clock ?? systemClock;
    this.allowedLocales = options.allowedLocales ?? DEFAULT_ALLOWED_LOCALES;
    this.#salt = options.auditSalt ?? `hitstate:${spec.name}`;
    this.events = new AuditEmitter(options.onListenerError ?? warnListenerError);
    if (options.onAudit) this.events.on('mturk.call', options.onAudit);
    const credentials = credentialProvider(spec.credentials, spec.name);
    this.#credentials = credentials;
    this.governor = new RateGovernor({ ...options.governor, clock: this.clock });
    this.client = createMTurkClient(
      {
        endpoint: this.endpoint,
        credentials,
        governor: this.governor,
        ...(options.connectionTimeoutMs === undefined ? {} : { connectionTimeoutMs: options.connectionTimeoutMs }),
        ...(options.requestTimeoutMs === undefined ? {} : { requestTimeoutMs: options.requestTimeoutMs }),
        ...(options.requestHandler === undefined ? {} : { requestHandler: options.requestHandler }),
      },
      this.#http,
    );
  }

  /** A short description of who this gateway acts as (never a secret). */
  get identity(): string {
    return `${this.spec.name} (${this.environment}, ${describeCredentials(this.spec.credentials)}, ${this.endpoint})`;
  }

  /** Counters of calls, retries, throttles, faults, in-flight and queued calls per lane. */
  stats(): GatewayStats {
    return { ...this.governor.stats(), http: { ...this.#http } };
  }

  /** True when no call is queued, in flight or backing off. */
  isIdle(): boolean {
    return this.governor.isIdle();
  }

  /** Resolves when no call is queued, in flight or backing off. */
  whenIdle(): Promise<void> {
    return this.governor.whenIdle();
  }

  /**
   * Resolves this requester's credentials now, so a CLI or a runtime can fail at start-up rather
   * than on its first MTurk call. Makes no MTurk call.
   *
   * @throws HitstateError `HST_ERR_CREDENTIALS_UNUSABLE` naming the source and the fix.
   */
  async verifyCredentials(): Promise<{ readonly accessKeyId: string; readonly temporary: boolean }> {
    const identity = await this.#credentials();
    return { accessKeyId: identity.accessKeyId, temporary: identity.sessionToken !== undefined };
  }

  /** True once {@link close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Fails waiting calls, closes the SDK client's sockets and drops the audit listeners. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.governor.close();
    this.client.destroy();
    this.events.removeAllListeners();
  }

  /**
   * Sends one operation: binds its lane, maps SDK errors to a typed failure, and emits the audit
   * event. Credentials problems and unexpected errors are thrown, never turned into outcomes.
   */
  async call<I extends object, O>(spec: CallSpec<I>, send: (input: I) => Promise<O>): Promise<MTurkOutcome<O>> {
    const policy = policyOf(spec.operation);
    const record = newCallRecord();
    bindCall(spec.input, {
      lane: spec.options?.lane ?? policy.lane,
      retrySafe: policy.retrySafe,
      record,
      ...(spec.options?.maxAttempts !== undefined ? { maxAttempts: spec.options.maxAttempts } : {}),
    });
    const startedAtMs = this.clock.now();
    const audited = spec.audit ?? policy.audited;
    let output: O;
    try {
      output = await send(spec.input);
    } catch (err) {
      const thrown = this.#asThrown(err);
      if (thrown !== undefined) {
        if (audited)
          this.#audit(spec, record, startedAtMs, {
            status: 'error',
            message: thrown instanceof Error ? thrown.message : String(thrown),
          });
        throw thrown;
      }
      const failure = mapSdkError(err, spec.rules);
      if (audited) this.#audit(spec, record, startedAtMs, failure);
      return failure;
    }
    if (audited) this.#audit(spec, record, startedAtMs, { status: 'ok' }, output);
    return ok(output);
  }

  /**
   * Runs a paginated operation to the last page, collecting items (every list call paginates to
   * the end: Mephisto read only the first page of blocks, assignments and bonuses, #29). A short
   * page ends the listing without the empty call its `NextToken` would lead to.
   */
  async collect<I extends object, P, T>(
    spec: CallSpec<I>,
    pages: (input: I) => AsyncIterable<P>,
    items: (page: P) => readonly T[] | undefined,
  ): Promise<MTurkOutcome<T[]>> {
    const all: T[] = [];
    return this.call(spec, async (input) => {
      for await (const page of pages(input)) {
        all.push(...(items(page) ?? []));
        if (isShortPage(page, input)) break;
      }
      return all;
    });
  }

  /**
   * Yields the pages of a paginated operation as they arrive, up to a short page (see
   * {@link collect}); a failure is thrown as a `HitstateError` (the typed outcome of
   * {@link orThrow}), since a generator cannot return one.
   */
  async *pages<I extends object, P, T>(
    spec: CallSpec<I>,
    pages: (input: I) => AsyncIterable<P>,
    items: (page: P) => T[],
  ): AsyncGenerator<T[]> {
    const policy = policyOf(spec.operation);
    bindCall(spec.input, {
      lane: spec.options?.lane ?? policy.lane,
      retrySafe: policy.retrySafe,
      record: newCallRecord(),
    });
    try {
      for await (const page of pages(spec.input)) {
        yield items(page);
        if (isShortPage(page, spec.input)) return;
      }
    } catch (err) {
      const thrown = this.#asThrown(err);
      if (thrown !== undefined) throw thrown;
      orThrow(mapSdkError(err, spec.rules), { operation: spec.operation });
      throw err;
    }
  }

  /** Whether `err` must be thrown (as the returned error) rather than mapped to an outcome. */
  #asThrown(err: unknown): unknown {
    if (isHitstateError(err)) return err;
    const kind = classifyError(err);
    if (kind === 'credentials') {
      return unusableCredentials(
        this.spec.credentials,
        this.spec.name,
        `MTurk refused them: ${(err as Error).name}: ${(err as Error).message}`,
        err,
      );
    }
    if (kind === 'unknown') return err;
    return undefined;
  }

  #audit(
    spec: CallSpec<object>,
    record: CallRecord,
    startedAtMs: number,
    result: MTurkFailure | { readonly status: 'ok' | 'error'; readonly message?: string },
    output?: unknown,
  ): void {
    const input = spec.input as Record<string, unknown>;
    const ids = collectIds(input, output);
    if (result.status === 'alreadyDone' && result.hitId !== undefined) ids.hitId = result.hitId;
    const token = typeof input.UniqueRequestToken === 'string' ? input.UniqueRequestToken : undefined;
    const turkErrorCode = 'turkErrorCode' in result ? result.turkErrorCode : undefined;
    const event: MTurkCallEvent = {
      type: 'mturk.call',
      operation: spec.operation,
      method: spec.method,
      requester: this.spec.name,
      environment: this.environment,
      lane: spec.options?.lane ?? policyOf(spec.operation).lane,
      arguments: redactArguments(input, this.#salt),
      outcome: result.status,
      ...(result.message === undefined ? {} : { message: result.message }),
      ...(turkErrorCode === undefined ? {} : { turkErrorCode }),
      ...(token === undefined ? {} : { token }),
      ids,
      ...(record.requestId === undefined ? {} : { requestId: record.requestId }),
      attempts: record.httpAttempts,
      totalRetryDelayMs: record.retryDelayMs + record.sdkRetryDelayMs,
      startedAtMs,
      durationMs: this.clock.now() - startedAtMs,
    };
    this.events.emit('mturk.call', event);
  }
}
