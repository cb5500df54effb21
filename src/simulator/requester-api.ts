/**
 * The Requester API endpoint: `POST /` with `x-amz-target: MTurkRequesterServiceV20170117.<Op>`
 * and an `application/x-amz-json-1.1` body, answered exactly as the AWS SDKs expect.
 *
 * Order of checks for each request: body size (413), Authorization (403), target (400), JSON
 * (400); then the call counts in the stats, and is throttled (400 ThrottlingException), faulted
 * (500 ServiceFault, nothing done) or carried out (and its connection possibly dropped). Carrying
 * it out starts with the model: missing required members and broken constraints of present ones
 * answer one ValidationException counting them all, and nothing is done.
 *
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SimulatorHost } from './host.js';
import { sendJson } from './http-util.js';
import { MODEL_OPERATIONS, OPERATIONS } from './operations/index.js';
import {
  AWS_JSON_CONTENT_TYPE,
  MISSING_AUTH_BODY,
  MTurkError,
  TARGET_PREFIX,
  THROTTLING_BODY,
  TurkErrorCode,
  accessKeyIdOf,
  stamp,
} from './protocol.js';
import { Input, modelValidationError } from './validation.js';

function reply(host: SimulatorHost, res: ServerResponse, status: number, body: unknown): void {
  sendJson(res, status, body, {
    'content-type': AWS_JSON_CONTENT_TYPE,
    'x-amzn-RequestId': host.requestIds.requestId(),
  });
}

function requestError(
  host: SimulatorHost,
  res: ServerResponse,
  message: string,
  code: string = TurkErrorCode.InvalidRequest,
): void {
  const err = new MTurkError('RequestError', stamp(message, host.engine.now()), code);
  reply(host, res, err.httpStatus, err.body());
}

/**
 * Handles one requester API call whose body has been read. `authenticatedAccount` is the requester
 * account a front door has already verified the signature for (`hitstate serve`); without it, the
 * access key id in the Authorization header names the account and the signature is not checked.
 */
export function handleRequesterCall(
  host: SimulatorHost,
  req: IncomingMessage,
  res: ServerResponse,
  raw: Buffer,
  authenticatedAccount?: string,
): void {
  const authorization = req.headers.authorization;
  if (typeof authorization !== 'string' || authorization.trim() === '') {
    reply(host, res, 403, MISSING_AUTH_BODY);
    return;
  }
  const accessKeyId = authenticatedAccount ?? accessKeyIdOf(authorization);
  if (accessKeyId === undefined) {
    reply(host, res, 403, {
      __type: 'IncompleteSignatureException',
      message:
        "Authorization header requires 'Credential' parameter (AWS4-HMAC-SHA256 Credential=ACCESS_KEY_ID/DATE/us-east-1/mturk-requester/aws4_request, ...).",
    });
    return;
  }
  const target = req.headers['x-amz-target'];
  if (typeof target !== 'string' || target === '') {
    requestError(
      host,
      res,
      `Missing x-amz-target header; send "${TARGET_PREFIX}.<Operation>", e.g. ${TARGET_PREFIX}.GetAccountBalance.`,
    );
    return;
  }
  const dot = target.indexOf('.');
  const prefix = dot < 0 ? target : target.slice(0, dot);
  const operation = dot < 0 ? '' : target.slice(dot + 1);
  if (prefix !== TARGET_PREFIX) {
    requestError(
      host,
      res,
      `Unknown x-amz-target '${target}': this endpoint serves ${TARGET_PREFIX}.<Operation> (the MTurk Requester API 2017-01-17).`,
      TurkErrorCode.UnsupportedOperation,
    );
    return;
  }
  const handler = OPERATIONS[operation];
  if (handler === undefined) {
    const known = (MODEL_OPERATIONS as readonly string[]).includes(operation);
    requestError(
      host,
      res,
      known
        ? `The operation ${operation} is not implemented by the hitstate MTurk simulator (see docs/simulator.md for the operations it serves).`
        : `Unknown operation '${operation}' in x-amz-target; MTurk has no such operation.`,
      TurkErrorCode.UnsupportedOperation,
    );
    return;
  }
  let body: unknown;
  const text = raw.toString('utf8');
  try {
    body = text.trim() === '' ? {} : JSON.parse(text);
  } catch (err) {
    requestError(host, res, `The request body is not valid JSON: ${err instanceof Error ? err.message : String(err)}.`);
    return;
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    requestError(
      host,
      res,
      `The request body must be a JSON object of ${operation}'s members, got ${Array.isArray(body) ? 'an array' : JSON.stringify(body)}.`,
    );
    return;
  }

  host.stats.call(operation);
  const hook = host.onRequesterCall?.({ operation, accessKeyId, input: body as Record<string, unknown> });
  if (hook === 'drop') {
    req.socket.destroy();
    return;
  }
  const { engine } = host;
  engine.processDue();
  if (host.throttle && !host.throttle.take(accessKeyId, engine.now())) {
    host.stats.throttled();
    reply(host, res, 400, THROTTLING_BODY);
    return;
  }
  const decision = host.faults.decide();
  if (decision === 'fault') {
    host.stats.fault();
    const fault = new MTurkError(
      'ServiceFault',
      stamp('Amazon Mechanical Turk is temporarily unable to process your request. Try your call again.', engine.now()),
      TurkErrorCode.ServiceUnavailable,
    );
    reply(host, res, fault.httpStatus, fault.body());
    return;
  }
  let status = 200;
  let out: unknown;
  try {
    const nowMs = engine.now();
    const invalid = modelValidationError(operation, body as Record<string, unknown>);
    if (invalid) throw invalid;
    out = handler({
      engine,
      account: engine.account(accessKeyId),
      input: new Input(body as Record<string, unknown>, nowMs),
      nowMs,
    });
    engine.processDue();
  } catch (err) {
    const e =
      err instanceof MTurkError
        ? err
        : new MTurkError(
            'ServiceFault',
            stamp(
              `The simulator failed while handling ${operation}: ${err instanceof Error ? err.message : String(err)}`,
              engine.now(),
            ),
            TurkErrorCode.ServiceUnavailable,
          );
    status = e.httpStatus;
    out = e.body();
  }
  if (decision === 'drop' || hook === 'dropAfter') {
    if (decision === 'drop') host.stats.dropped();
    req.socket.destroy();
    return;
  }
  reply(host, res, status, out);
}
