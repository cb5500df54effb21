/**
 * Typed outcomes of MTurk calls, and the one place where SDK errors are classified.
 *
 * Machines and the runtime branch on `outcome.status` instead of catching exceptions: MTurk's
 * expected answers (a HIT that does not exist, an assignment that was already approved, a repeated
 * idempotency token, throttling) are data. Only misuse (a rejection without feedback, unusable
 * credentials) and programming errors are thrown.
 *
 * @module
 */
import { HitstateError, type ErrorCode } from '../errors.js';

/** Why a call did not simply succeed. `alreadyDone` means the effect is in place; nothing to redo. */
export const OutcomeStatus = {
  ok: 'ok',
  alreadyDone: 'alreadyDone',
  notFound: 'notFound',
  invalid: 'invalid',
  throttled: 'throttled',
  unavailable: 'unavailable',
  insufficientFunds: 'insufficientFunds',
} as const;
export type OutcomeStatus = (typeof OutcomeStatus)[keyof typeof OutcomeStatus];

interface FailureBase {
  readonly message: string;
  /** True when the same call may succeed later (throttling, outages, eventual consistency). */
  readonly retryable: boolean;
  /** The code {@link orThrow} raises for this failure. */
  readonly code: ErrorCode;
  /** MTurk's `TurkErrorCode`, when it sent one. */
  readonly turkErrorCode?: string;
}

/** The effect asked for already holds (approved before, token repeated, HIT already created). */
export interface MTurkAlreadyDone extends FailureBase {
  readonly status: 'alreadyDone';
  readonly retryable: false;
  /** The existing HIT, parsed from a HitAlreadyExists message. */
  readonly hitId?: string;
  /** The assignment's status on MTurk when that explains the outcome (`Approved`, `Rejected`). */
  readonly assignmentStatus?: string;
}
export interface MTurkNotFound extends FailureBase {
  readonly status: 'notFound';
  readonly retryable: false;
}
export interface MTurkInvalid extends FailureBase {
  readonly status: 'invalid';
  /** The assignment's status on MTurk when the call was refused because of it. */
  readonly assignmentStatus?: string;
  /** The foreign qualification type, for `HST_ERR_MTURK_QUALIFICATION_NOT_OWNED`. */
  readonly qualificationTypeId?: string;
}
export interface MTurkThrottled extends FailureBase {
  readonly status: 'throttled';
  readonly retryable: true;
}
export interface MTurkUnavailable extends FailureBase {
  readonly status: 'unavailable';
  readonly retryable: true;
}
export interface MTurkInsufficientFunds extends FailureBase {
  readonly status: 'insufficientFunds';
  readonly retryable: false;
}

/** Every way a call can end other than `ok`. */
export type MTurkFailure =
  | MTurkAlreadyDone
  | MTurkNotFound
  | MTurkInvalid
  | MTurkThrottled
  | MTurkUnavailable
  | MTurkInsufficientFunds;

/**
 * The result of every gateway operation.
 *
 * @example
 * ```ts
 * const r = await gateway.approveAssignment({ assignmentId });
 * switch (r.status) {
 *   case 'ok': case 'alreadyDone': return markApproved();
 *   case 'throttled': case 'unavailable': return retryLater();
 *   default: return reportFailure(r.message);
 * }
 * ```
 */
export type MTurkOutcome<T> = { readonly status: 'ok'; readonly value: T } | MTurkFailure;

/** Wraps a value as a successful outcome. */
export function ok<T>(value: T): { readonly status: 'ok'; readonly value: T } {
  return { status: 'ok', value };
}

/** True for `ok` and `alreadyDone`: the effect asked for is in place. */
export function isDone<T>(outcome: MTurkOutcome<T>): boolean {
  return outcome.status === 'ok' || outcome.status === 'alreadyDone';
}

/** Narrows an outcome to {@link MTurkAlreadyDone}. */
export function isAlreadyDone<T>(outcome: MTurkOutcome<T>): outcome is MTurkAlreadyDone {
  return outcome.status === 'alreadyDone';
}

/** Ids a failure is about, copied into the thrown error's details. */
export interface FailureContext {
  readonly operation?: string;
  readonly hitId?: string;
  readonly assignmentId?: string;
  readonly workerId?: string;
}

/**
 * The value of a successful outcome, the outcome itself when the work was already done, and a
 * `HitstateError` for every other failure, for callers that prefer exceptions.
 *
 * @example
 * ```ts
 * const hit = orThrow(await gateway.getHIT(hitId));
 * ```
 * @throws HitstateError `HST_ERR_MTURK_NOT_FOUND`, `HST_ERR_MTURK_REQUEST_INVALID`,
 *   `HST_ERR_MTURK_QUALIFICATION_NOT_OWNED`, `HST_ERR_MTURK_THROTTLED`, `HST_ERR_MTURK_UNAVAILABLE`,
 *   `HST_ERR_MTURK_INSUFFICIENT_FUNDS`.
 */
export function orThrow<T>(outcome: MTurkOutcome<T>, context: FailureContext = {}): T | MTurkAlreadyDone {
  if (outcome.status === 'ok') return outcome.value;
  if (outcome.status === 'alreadyDone') return outcome;
  const ids = Object.fromEntries(Object.entries(context).filter(([, v]) => v !== undefined));
  throw new HitstateError(outcome.code, outcome.message, {
    ...ids,
    ...(outcome.turkErrorCode === undefined ? {} : { turkErrorCode: outcome.turkErrorCode }),
  });
}

// --- SDK error classification ------------------------------------------------------------------

/** What kind of trouble an error thrown by the SDK (or the network under it) is. */
export const ErrorKind = {
  throttled: 'throttled',
  unavailable: 'unavailable',
  credentials: 'credentials',
  request: 'request',
  unknown: 'unknown',
} as const;
export type ErrorKind = (typeof ErrorKind)[keyof typeof ErrorKind];

/** Error names the SDK itself classifies as throttling (smithy service-error-classification). */
const THROTTLING_NAMES = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'ThrottledException',
  'SlowDown',
  'ProvisionedThroughputExceededException',
  'LimitExceededException',
  'BandwidthLimitExceeded',
  'EC2ThrottledException',
  'PriorRequestNotComplete',
]);
const CREDENTIAL_NAMES = new Set([
  'CredentialsProviderError',
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'ExpiredTokenException',
  'ExpiredToken',
  'InvalidSignatureException',
  'SignatureDoesNotMatch',
  'IncompleteSignature',
  'MissingAuthenticationToken',
  'MissingAuthenticationTokenException',
  'AuthFailure',
  'TokenRefreshRequired',
]);
const TRANSIENT_NAMES = new Set([
  'ServiceFault',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  'ServiceUnavailable',
  'InternalFailure',
]);
const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNABORTED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_SOCKET',
]);

/** The fields of an SDK error hitstate reads; everything is optional because anything can be thrown. */
export interface SdkErrorShape {
  readonly name?: string;
  readonly message?: string;
  readonly code?: string;
  readonly $fault?: 'client' | 'server';
  readonly TurkErrorCode?: string;
  readonly $metadata?: {
    readonly httpStatusCode?: number;
    readonly requestId?: string;
    readonly attempts?: number;
    readonly totalRetryDelay?: number;
  };
}

function asShape(err: unknown): SdkErrorShape {
  return typeof err === 'object' && err !== null ? (err as SdkErrorShape) : {};
}

/**
 * Classifies anything thrown by `client.send`: throttling, a transient service or network fault,
 * a credentials problem, an MTurk refusal of the request, or something unknown (a bug).
 */
export function classifyError(err: unknown): ErrorKind {
  const e = asShape(err);
  const name = e.name ?? '';
  const status = e.$metadata?.httpStatusCode;
  if (THROTTLING_NAMES.has(name) || status === 429) return 'throttled';
  if (CREDENTIAL_NAMES.has(name)) return 'credentials';
  if (TRANSIENT_NAMES.has(name) || (e.code !== undefined && NETWORK_CODES.has(e.code))) return 'unavailable';
  if (status !== undefined && status >= 500) return 'unavailable';
  if (e.$fault === 'server') return 'unavailable';
  // ValidationException: the request broke the model (a required member missing, a value out of range).
  if (name === 'RequestError' || name === 'ValidationException' || e.$fault === 'client') return 'request';
  return 'unknown';
}

/** A human-readable message of an SDK error, without MTurk's trailing "(1537741087056 s)" stamp. */
export function errorMessage(err: unknown): string {
  const raw = asShape(err).message ?? String(err);
  return raw.replace(/\s*\(\d{10,}(?: s)?\)\s*$/, '').trim();
}

const HIT_ALREADY_EXISTS = /HitAlreadyExists/i;
const HIT_ID_IN_MESSAGE = /\b(?:HIT(?:\s*ID|Id)?|hit)\b[^A-Z0-9]{0,12}([A-Z0-9]{10,64})\b/;

/** Extracts the HITId from a HitAlreadyExists message, whatever the exact wording. */
export function parseHitIdFromMessage(message: string): string | undefined {
  const m = HIT_ID_IN_MESSAGE.exec(message);
  if (m) return m[1];
  return /\b([A-Z0-9]{20,64})\b/.exec(message)?.[1];
}

/** How an operation reads MTurk's RequestError answers; see {@link mapRequestError}. */
export interface RequestErrorRules {
  /** A repeated UniqueRequestToken means the work is done (CreateHIT*, SendBonus). */
  readonly tokenRepeatIsDone?: boolean;
}

/**
 * Turns an SDK error into a typed failure. Credentials problems and unknown errors are not
 * outcomes: they are thrown by the caller (see `gateway-call.ts`).
 */
export function mapSdkError(err: unknown, rules: RequestErrorRules = {}): MTurkFailure {
  const kind = classifyError(err);
  const message = errorMessage(err);
  if (kind === 'throttled') {
    return {
      status: 'throttled',
      message: `MTurk throttled the request after every retry: ${message}`,
      retryable: true,
      code: 'HST_ERR_MTURK_THROTTLED',
    };
  }
  if (kind === 'unavailable') {
    return {
      status: 'unavailable',
      message: `MTurk is unavailable: ${message}`,
      retryable: true,
      code: 'HST_ERR_MTURK_UNAVAILABLE',
    };
  }
  return mapRequestError(err, rules);
}

/**
 * Reads a RequestError by `TurkErrorCode` and message shape (docs/stack-notes.md#error-shapes): "does not
 * exist" is notFound, a repeated token is alreadyDone, a lack of funds is insufficientFunds, and
 * the rest is invalid. MTurk's "status of: null" right after a submit is invalid but retryable
 * (the assignment becomes visible within minutes).
 */
export function mapRequestError(err: unknown, rules: RequestErrorRules = {}): MTurkFailure {
  const e = asShape(err);
  const message = errorMessage(err);
  const turkErrorCode = e.TurkErrorCode;
  const tc = turkErrorCode === undefined ? {} : { turkErrorCode };
  const text = `${turkErrorCode ?? ''} ${message}`;
  if (HIT_ALREADY_EXISTS.test(text)) {
    const hitId = parseHitIdFromMessage(message);
    return {
      status: 'alreadyDone',
      message,
      retryable: false,
      code: 'HST_ERR_MTURK_REQUEST_INVALID',
      ...tc,
      ...(hitId ? { hitId } : {}),
    };
  }
  if (
    rules.tokenRepeatIsDone &&
    /UniqueRequestToken|request token|duplicate|already (?:been )?(?:processed|used|sent|paid|exists)/i.test(text)
  ) {
    return { status: 'alreadyDone', message, retryable: false, code: 'HST_ERR_MTURK_REQUEST_INVALID', ...tc };
  }
  if (/insufficient ?funds|not have enough funds|enough money|InsufficientBalance/i.test(text)) {
    return { status: 'insufficientFunds', message, retryable: false, code: 'HST_ERR_MTURK_INSUFFICIENT_FUNDS', ...tc };
  }
  if (/does ?not ?exist|DoesNotExist|not found|NotFound/i.test(text)) {
    return { status: 'notFound', message, retryable: false, code: 'HST_ERR_MTURK_NOT_FOUND', ...tc };
  }
  const notVisibleYet = /status of:\s*null/i.test(message);
  return { status: 'invalid', message, retryable: notVisibleYet, code: 'HST_ERR_MTURK_REQUEST_INVALID', ...tc };
}

/** True when MTurk refused a call because of the current state (assignment or HIT status). */
export function isStateRefusal(failure: MTurkFailure): boolean {
  if (failure.status !== 'invalid' || failure.retryable) return false;
  return /status of|InvalidAssignmentState|InvalidHITState|currently in the state/i.test(
    `${failure.turkErrorCode ?? ''} ${failure.message}`,
  );
}
