/**
 * The awsJson1_1 side of the wire: error shapes and their HTTP statuses, as the AWS SDKs read them.
 *
 * Error bodies carry `__type`, `Message` and `TurkErrorCode` and never a `code`/`Code` key: the SDK
 * would take the error name from such a key instead of `__type`. MTurk's messages end with an
 * epoch-milliseconds number in parentheses, and so do ours. Input that breaks the model (a
 * required member missing, a value outside its constraint) is answered before the operation runs,
 * as AWS's front end did: `{"__type":"ValidationException","message":"1 validation error detected: …"}`,
 * without a time stamp or TurkErrorCode.
 *
 * @module
 */

/** The prefix of every `x-amz-target` of the MTurk Requester API. */
export const TARGET_PREFIX = 'MTurkRequesterServiceV20170117';

/** The content type of requests and responses. */
export const AWS_JSON_CONTENT_TYPE = 'application/x-amz-json-1.1';

/** TurkErrorCodes the simulator answers with. Only `HitAlreadyExists` is documented by AWS; the others follow its naming. */
export const TurkErrorCode = {
  HitAlreadyExists: 'AWS.MechanicalTurk.HitAlreadyExists',
  DuplicateRequest: 'AWS.MechanicalTurk.DuplicateRequest',
  HitDoesNotExist: 'AWS.MechanicalTurk.HITDoesNotExist',
  HitTypeDoesNotExist: 'AWS.MechanicalTurk.HITTypeDoesNotExist',
  AssignmentDoesNotExist: 'AWS.MechanicalTurk.AssignmentDoesNotExist',
  QualificationTypeDoesNotExist: 'AWS.MechanicalTurk.QualificationTypeDoesNotExist',
  QualificationDoesNotExist: 'AWS.MechanicalTurk.QualificationDoesNotExist',
  InvalidAssignmentState: 'AWS.MechanicalTurk.InvalidAssignmentState',
  InvalidHitState: 'AWS.MechanicalTurk.InvalidHITState',
  InvalidQualificationState: 'AWS.MechanicalTurk.InvalidQualificationState',
  QualificationTypeAlreadyExists: 'AWS.MechanicalTurk.QualificationTypeAlreadyExists',
  InvalidMaximumAssignmentsIncrease: 'AWS.MechanicalTurk.InvalidMaximumAssignmentsIncrease',
  InsufficientFunds: 'AWS.MechanicalTurk.InsufficientFunds',
  NotOwner: 'AWS.MechanicalTurk.PermissionDenied',
  XmlParseError: 'AWS.MechanicalTurk.XMLParseError',
  MissingParameters: 'AWS.MissingParameters',
  ParameterOutOfRange: 'AWS.ParameterOutOfRange',
  InvalidParameterValue: 'AWS.MechanicalTurk.InvalidParameterValue',
  UnsupportedOperation: 'AWS.MechanicalTurk.UnsupportedOperation',
  InvalidRequest: 'AWS.MechanicalTurk.InvalidRequest',
  ServiceUnavailable: 'AWS.MechanicalTurk.ServiceUnavailable',
} as const;
export type TurkErrorCode = (typeof TurkErrorCode)[keyof typeof TurkErrorCode];

/** The kinds of error replies: MTurk's own two, and AWS's validation of the request against the model. */
export type MTurkErrorType = 'RequestError' | 'ServiceFault' | 'ValidationException';

/** The error an operation throws to answer RequestError (400), ValidationException (400) or ServiceFault (500). */
export class MTurkError extends Error {
  readonly type: MTurkErrorType;
  readonly turkErrorCode: string;

  constructor(type: MTurkErrorType, message: string, turkErrorCode: string) {
    super(message);
    this.name = type;
    this.type = type;
    this.turkErrorCode = turkErrorCode;
  }

  get httpStatus(): number {
    return this.type === 'ServiceFault' ? 500 : 400;
  }

  /** The JSON body, exactly as MTurk shapes it (AWS's validation errors have a lower-case `message` only). */
  body(): Record<string, string> {
    if (this.type === 'ValidationException') return { __type: this.type, message: this.message };
    return { __type: this.type, Message: this.message, TurkErrorCode: this.turkErrorCode };
  }
}

/**
 * The ValidationException of one or more broken constraints, each written
 * `Value … at 'member' failed to satisfy constraint: …`, counted as AWS counts them:
 * `1 validation error detected: …`, `2 validation errors detected: …; …`.
 */
export function validationException(problems: readonly string[]): MTurkError {
  const n = problems.length;
  return new MTurkError(
    'ValidationException',
    `${n} validation error${n === 1 ? '' : 's'} detected: ${problems.join('; ')}`,
    '',
  );
}

/** Appends MTurk's trailing `(epoch ms)` to a message. */
export function stamp(message: string, nowMs: number): string {
  return `${message} (${Math.floor(nowMs)})`;
}

/** A RequestError whose message carries the time stamp MTurk puts on every message. */
export function requestError(message: string, turkErrorCode: string, nowMs: number): MTurkError {
  return new MTurkError('RequestError', stamp(message, nowMs), turkErrorCode);
}

/** The throttling reply: HTTP 400, an unmodeled `__type` the SDK classifies as a throttle. */
export const THROTTLING_BODY = { __type: 'ThrottlingException', message: 'Rate exceeded' } as const;

/** The reply to a request without an Authorization header (HTTP 403). */
export const MISSING_AUTH_BODY = {
  __type: 'MissingAuthenticationTokenException',
  message: 'Missing Authentication Token',
} as const;

/** Epoch seconds as the protocol sends timestamps. */
export function toEpochSeconds(ms: number): number {
  return ms / 1000;
}

/**
 * The access key id in a SigV4 Authorization header
 * (`AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/mturk-requester/aws4_request, ...`).
 * Signatures are not verified; the key only names the requester account.
 */
export function accessKeyIdOf(authorization: string): string | undefined {
  const m = /Credential=([^/,\s]+)\//.exec(authorization);
  return m?.[1];
}
