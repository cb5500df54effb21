/**
 * The audit trail: every gateway call that moves money or changes a HIT, worker or qualification
 * is emitted as a typed `mturk.call` event (`gateway.events`, an eventemitter3 emitter), so the
 * runtime can store it.
 *
 * Worker ids are pseudonymised (HMAC-SHA-256 with a salt) and long texts shortened; MTurk inputs
 * carry no secrets, and credentials never reach this module. A listener that throws (or rejects)
 * never breaks a call and never stops the other listeners; its error goes to `onListenerError`.
 *
 * @module
 */
import { createHmac } from 'node:crypto';
import { EventEmitter } from 'eventemitter3';
import type { Environment } from './environment.js';
import type { Lane } from './governor.js';
import type { OutcomeStatus } from './outcome.js';

/** One audited MTurk call. */
export interface MTurkCallEvent {
  readonly type: 'mturk.call';
  /** The SDK operation, e.g. `ApproveAssignment`. */
  readonly operation: string;
  /** The gateway method, e.g. `softRejectAssignment` (several methods share an operation). */
  readonly method: string;
  readonly requester: string;
  readonly environment: Environment;
  readonly lane: Lane;
  /** The request as sent, worker ids pseudonymised, texts over 1,000 characters shortened. */
  readonly arguments: Readonly<Record<string, unknown>>;
  /** `error` when the call ended with an exception (credentials, a bug) instead of an outcome. */
  readonly outcome: OutcomeStatus | 'error';
  readonly message?: string;
  readonly turkErrorCode?: string;
  readonly token?: string;
  /** Ids the call is about or produced (HIT, HIT type, assignment, qualification type). */
  readonly ids: Readonly<Record<string, string>>;
  /** MTurk's request id of the last attempt. */
  readonly requestId?: string;
  /** HTTP attempts, the SDK's own retries included. */
  readonly attempts: number;
  /** Time spent waiting between attempts (governor and SDK), in ms. */
  readonly totalRetryDelayMs: number;
  readonly startedAtMs: number;
  readonly durationMs: number;
}

/** Events of a gateway, for `gateway.events.on(...)`. */
export interface GatewayEvents {
  'mturk.call': (event: MTurkCallEvent) => void;
}

const MAX_TEXT = 1_000;
const WORKER_FIELDS = new Set(['WorkerId', 'WorkerIds']);

/** A stable pseudonym for a worker id: `W` + 16 hex of HMAC-SHA-256(salt, workerId). */
export function pseudonymizeWorkerId(workerId: string, salt: string): string {
  return `W${createHmac('sha256', salt).update(workerId).digest('hex').slice(0, 16)}`;
}

function redactValue(value: unknown, salt: string, key: string | undefined): unknown {
  if (key !== undefined && WORKER_FIELDS.has(key)) {
    if (typeof value === 'string') return pseudonymizeWorkerId(value, salt);
    if (Array.isArray(value)) return value.map((v) => (typeof v === 'string' ? pseudonymizeWorkerId(v, salt) : v));
  }
  if (typeof value === 'string')
    return value.length > MAX_TEXT ? `${value.slice(0, MAX_TEXT)}…(+${value.length - MAX_TEXT} chars)` : value;
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map((v) => redactValue(v, salt, undefined));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactValue(v, salt, k)]));
  }
  return value;
}

/** The request arguments as the audit trail keeps them. */
export function redactArguments(input: object, salt: string): Record<string, unknown> {
  const { UniqueRequestToken: _token, ...rest } = input as Record<string, unknown>;
  return redactValue(rest, salt, undefined) as Record<string, unknown>;
}

type AnyListener = (...args: never[]) => unknown;
type CallListener<T extends EventEmitter.EventNames<GatewayEvents>> = EventEmitter.EventListener<GatewayEvents, T>;

/**
 * An eventemitter3 emitter whose listeners are isolated: each one is wrapped when registered, so
 * a throw or a rejected promise is caught and handed to `onListenerError` while the call and the
 * other listeners go on. `on`, `once`, `off` and `removeListener` work as usual with the
 * original function.
 */
export class AuditEmitter extends EventEmitter<GatewayEvents> {
  readonly #onListenerError: (err: unknown) => void;
  readonly #wrapped = new WeakMap<AnyListener, AnyListener>();

  constructor(onListenerError: (err: unknown) => void) {
    super();
    this.#onListenerError = onListenerError;
  }

  override on<T extends EventEmitter.EventNames<GatewayEvents>>(
    event: T,
    fn: CallListener<T>,
    context?: unknown,
  ): this {
    return super.on(event, this.#wrap(fn), context);
  }

  override addListener<T extends EventEmitter.EventNames<GatewayEvents>>(
    event: T,
    fn: CallListener<T>,
    context?: unknown,
  ): this {
    return super.addListener(event, this.#wrap(fn), context);
  }

  override once<T extends EventEmitter.EventNames<GatewayEvents>>(
    event: T,
    fn: CallListener<T>,
    context?: unknown,
  ): this {
    return super.once(event, this.#wrap(fn), context);
  }

  override off<T extends EventEmitter.EventNames<GatewayEvents>>(
    event: T,
    fn?: CallListener<T>,
    context?: unknown,
    once?: boolean,
  ): this {
    return super.off(event, fn === undefined ? undefined : this.#unwrap(fn), context, once);
  }

  override removeListener<T extends EventEmitter.EventNames<GatewayEvents>>(
    event: T,
    fn?: CallListener<T>,
    context?: unknown,
    once?: boolean,
  ): this {
    return super.removeListener(event, fn === undefined ? undefined : this.#unwrap(fn), context, once);
  }

  #wrap<F extends AnyListener>(fn: F): F {
    let wrapper = this.#wrapped.get(fn);
    if (wrapper === undefined) {
      const report = (err: unknown): void => this.#report(err);
      wrapper = function (this: unknown, ...args: never[]): void {
        try {
          const result = fn.apply(this, args);
          if (result instanceof Promise) result.catch(report);
        } catch (err) {
          report(err);
        }
      };
      this.#wrapped.set(fn, wrapper);
    }
    return wrapper as F;
  }

  #unwrap<F extends AnyListener>(fn: F): F {
    return (this.#wrapped.get(fn) ?? fn) as F;
  }

  #report(err: unknown): void {
    try {
      this.#onListenerError(err);
    } catch (secondary) {
      process.emitWarning(
        `hitstate: an mturk.call listener threw (${String(err)}) and so did onListenerError (${String(secondary)})`,
      );
    }
  }
}

/** Default for `onListenerError`: a process warning (visible on stderr, never fatal). */
export function warnListenerError(err: unknown): void {
  process.emitWarning(
    `hitstate: an mturk.call audit listener threw; the MTurk call itself was not affected: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
  );
}
