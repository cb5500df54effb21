/**
 * AWS Signature Version 4 on requester API calls, checked as AWS checks it: the expected
 * signature is computed by `@smithy/signature-v4` (the signer the AWS SDKs use) over the headers
 * the caller signed and the body received, and compared in constant time. Refusals have AWS's
 * error names, so an SDK raises its own `UnrecognizedClientException`, `InvalidSignatureException`,
 * `IncompleteSignatureException` or `MissingAuthenticationTokenException`.
 *
 * @module
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';

/** The signing name of the MTurk Requester API. */
export const SIGNING_SERVICE = 'mturk-requester';
/** How far the signature time may be from the server's clock, either way (AWS: 15 minutes). */
export const MAX_SKEW_MS = 15 * 60 * 1000;

/** A requester's credentials as the database holds them. */
export interface RequesterCredentials {
  requesterId: string;
  accessKeyId: string;
  secretAccessKey: string;
  disabled: boolean;
}

/** The outcome of {@link verifySigV4}. */
export type AuthResult =
  | { ok: true; requesterId: string; accessKeyId: string }
  | { ok: false; status: number; body: { __type: string; message: string } };

const refuse = (status: number, type: string, message: string): AuthResult => ({
  ok: false,
  status,
  body: { __type: type, message },
});
const incomplete = (message: string): AuthResult => refuse(400, 'IncompleteSignatureException', message);
const invalid = (message: string): AuthResult => refuse(403, 'InvalidSignatureException', message);

const SHA256 = Hash.bind(null, 'sha256');

/** Signers by key, secret and region: each keeps its derived signing keys, so a call costs one HMAC chain a day. */
const signers = new Map<string, SignatureV4>();

function signerFor(accessKeyId: string, secretAccessKey: string, region: string): SignatureV4 {
  const k = `${accessKeyId}\n${secretAccessKey}\n${region}`;
  let signer = signers.get(k);
  if (signer === undefined) {
    if (signers.size >= 1000) signers.clear(); // bounded: rotated keys and odd regions do not pile up
    signer = new SignatureV4({
      service: SIGNING_SERVICE,
      region,
      credentials: { accessKeyId, secretAccessKey },
      sha256: SHA256,
      applyChecksum: false,
    });
    signers.set(k, signer);
  }
  return signer;
}

/** `20260101T120000Z` → epoch ms, or undefined when not in that form. */
function parseAmzDate(s: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  if (!m) return undefined;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
  return Number.isFinite(ms) ? ms : undefined;
}

const amzDate = (ms: number): string =>
  new Date(ms)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');

function queryOf(search: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of new URLSearchParams(search)) {
    const prev = out[k];
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

/**
 * Checks the SigV4 signature of a requester API call.
 *
 * @param lookup the credentials of an access key id, or undefined when the key is unknown.
 * @param nowMs the server's wall clock (not a simulated one).
 * @param host the host the client signed when a trusted proxy rewrote `Host` and said so in
 *   `X-Forwarded-Host` (see `proxy.ts`); never taken from an untrusted request.
 */
export async function verifySigV4(
  req: IncomingMessage,
  body: Buffer,
  lookup: (accessKeyId: string) => RequesterCredentials | undefined,
  nowMs: number,
  host?: string,
): Promise<AuthResult> {
  const authorization = req.headers.authorization;
  if (typeof authorization !== 'string' || authorization.trim() === '')
    return refuse(403, 'MissingAuthenticationTokenException', 'Missing Authentication Token');
  const space = authorization.indexOf(' ');
  const algorithm = space < 0 ? authorization : authorization.slice(0, space);
  if (algorithm !== 'AWS4-HMAC-SHA256')
    return incomplete(
      `Authorization header requires the AWS4-HMAC-SHA256 algorithm (AWS Signature Version 4), got '${algorithm.slice(0, 40)}'.`,
    );
  const params: Record<string, string> = {};
  for (const part of authorization.slice(space + 1).split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) params[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  const missing = ['Credential', 'SignedHeaders', 'Signature'].filter((p) => !params[p]);
  if (missing.length > 0)
    return incomplete(missing.map((p) => `Authorization header requires '${p}' parameter.`).join(' '));
  const scope = params.Credential!.split('/');
  if (scope.length !== 5 || scope[4] !== 'aws4_request' || scope.some((s) => s === ''))
    return incomplete(
      'Authorization header requires the Credential parameter as ACCESS_KEY_ID/YYYYMMDD/REGION/mturk-requester/aws4_request.',
    );
  const [accessKeyId, scopeDate, region, service] = scope as [string, string, string, string, string];
  if (service !== SIGNING_SERVICE)
    return invalid(`Credential should be scoped to correct service: '${SIGNING_SERVICE}'.`);
  const dateHeader = req.headers['x-amz-date'];
  if (typeof dateHeader !== 'string')
    return incomplete("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
  const signedAt = parseAmzDate(dateHeader);
  if (signedAt === undefined)
    return incomplete(
      `X-Amz-Date must be in the ISO8601 basic format YYYYMMDD'T'HHMMSS'Z', got '${dateHeader.slice(0, 40)}'.`,
    );
  if (nowMs - signedAt > MAX_SKEW_MS)
    return invalid(
      `Signature expired: ${dateHeader} is now earlier than ${amzDate(nowMs - MAX_SKEW_MS)} (${amzDate(nowMs)} - 15 min.)`,
    );
  if (signedAt - nowMs > MAX_SKEW_MS)
    return invalid(
      `Signature not yet current: ${dateHeader} is still later than ${amzDate(nowMs + MAX_SKEW_MS)} (${amzDate(nowMs)} + 15 min.)`,
    );
  if (scopeDate !== dateHeader.slice(0, 8))
    return invalid(
      `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${scopeDate}' != '${dateHeader.slice(0, 8)}'.`,
    );
  const signedHeaders = params.SignedHeaders!.split(';');
  if (!signedHeaders.includes('host'))
    return incomplete("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");

  const creds = lookup(accessKeyId);
  if (creds === undefined || creds.disabled)
    return refuse(403, 'UnrecognizedClientException', 'The security token included in the request is invalid.');

  const headers: Record<string, string> = {};
  for (const name of signedHeaders) {
    const value = name === 'host' && host !== undefined ? host : req.headers[name];
    if (value === undefined)
      return invalid(`The header '${name.slice(0, 60)}' is listed in SignedHeaders but not sent.`);
    headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  const declaredHash = req.headers['x-amz-content-sha256'];
  if (typeof declaredHash === 'string' && declaredHash !== 'UNSIGNED-PAYLOAD') {
    const actual = createHash('sha256').update(body).digest('hex');
    if (declaredHash !== actual)
      return invalid("The provided 'x-amz-content-sha256' header does not match what was computed.");
  }
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const request = new HttpRequest({
    method: req.method ?? 'POST',
    protocol: 'https:',
    hostname: headers.host ?? '',
    path: q < 0 ? url : url.slice(0, q),
    query: q < 0 ? {} : queryOf(url.slice(q + 1)),
    headers,
    body,
  });
  const signer = signerFor(accessKeyId, creds.secretAccessKey, region);
  const signed = await signer.sign(request, {
    signingDate: new Date(signedAt),
    signableHeaders: new Set(signedHeaders),
  });
  const expected = /Signature=([0-9a-f]+)/.exec(String(signed.headers.authorization))?.[1] ?? '';
  const given = params.Signature!;
  const match =
    expected.length === given.length &&
    timingSafeEqual(Buffer.from(expected, 'utf8'), Buffer.from(given, 'utf8')) &&
    // The signer signs the headers it was given; a list naming headers it would skip must not pass.
    /SignedHeaders=([^,]+)/.exec(String(signed.headers.authorization))?.[1] === signedHeaders.join(';');
  if (!match)
    return invalid(
      'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
    );
  return { ok: true, requesterId: creds.requesterId, accessKeyId };
}
