/**
 * Requester-made invitations: a requester invites its own crowd (in-house annotators, study
 * participants) without asking the operator. Two operations beside the MTurk API, on the same
 * endpoint and signed the same way (SigV4 with the requester's keys), with the target prefix
 * `HitstateServe`:
 *
 * - `HitstateServe.CreateWorkerInvitations` `{Count, QualificationTypeId?, IntegerValue?,
 *   ExpiresInDays?}` → `{Invitations: [{InvitationCode, SignUpUrl, ExpiresAt}]}`
 * - `HitstateServe.ListWorkerInvitations` `{}` → `{Invitations: [{InvitationCode, SignUpUrl,
 *   CreationTime, ExpiresAt, UsedAt, WorkerId}]}`, newest first
 *
 * Scoped to the caller: a qualification granted on sign-up must be the caller's own type (another
 * requester's answers as an unknown one does), and the list holds only the caller's invitations.
 * `hitstate serve invite --endpoint URL --profile NAME` calls them from the command line.
 *
 * @module
 */
import type { Engine } from '../engine.js';
import type { Db } from './db.js';
import { createInvites } from './worker-accounts.js';

/** The target prefix of these operations (the MTurk API's is `MTurkRequesterServiceV20170117`). */
export const SERVE_TARGET_PREFIX = 'HitstateServe';
/** At most this many invitations per call, and unused ones outstanding per requester. */
export const MAX_INVITES_PER_CALL = 1000;
export const MAX_OPEN_INVITES = 10_000;

/** An answer: HTTP status and the JSON body (AWS's error shape on failure). */
export interface ServeApiReply {
  status: number;
  body: unknown;
}

const invalid = (message: string): ServeApiReply => ({ status: 400, body: { __type: 'ValidationException', message } });
const seconds = (ms: number | null): number | null => (ms === null ? null : Math.floor(ms / 1000));

/**
 * Answers one `HitstateServe.*` call of an authenticated requester.
 *
 * @param operation the part of `X-Amz-Target` after `HitstateServe.`.
 */
export function handleServeApi(
  db: Db,
  engine: Engine,
  publicUrl: string,
  requesterId: string,
  operation: string,
  raw: Buffer,
  nowMs = Date.now(),
): ServeApiReply {
  let input: Record<string, unknown>;
  try {
    const parsed = JSON.parse(raw.length ? raw.toString('utf8') : '{}') as unknown;
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
    input = parsed as Record<string, unknown>;
  } catch {
    return { status: 400, body: { __type: 'SerializationException', message: 'The body must be a JSON object.' } };
  }
  const link = (code: string) => `${publicUrl.replace(/\/$/, '')}/signup?invite=${code}`;
  if (operation === 'CreateWorkerInvitations') {
    const count = input.Count ?? 1;
    if (!(Number.isInteger(count) && (count as number) >= 1 && (count as number) <= MAX_INVITES_PER_CALL))
      return invalid(`Count: must be an integer from 1 to ${MAX_INVITES_PER_CALL}, got ${JSON.stringify(count)}.`);
    const days = input.ExpiresInDays;
    if (days !== undefined && !(typeof days === 'number' && days > 0 && days <= 365))
      return invalid(`ExpiresInDays: must be a number of days above 0 and at most 365, got ${JSON.stringify(days)}.`);
    let qualification: { qualificationTypeId: string; value: number } | undefined;
    if (input.QualificationTypeId !== undefined) {
      const id = input.QualificationTypeId;
      const type = typeof id === 'string' ? engine.state.qualificationTypes.get(id) : undefined;
      // Another requester's type answers exactly as a type that does not exist.
      if (!type || type.deleted || type.account !== requesterId)
        return invalid(`QualificationTypeId: qualification type ${JSON.stringify(id)} does not exist.`);
      const value = input.IntegerValue ?? 1;
      if (!(Number.isInteger(value) && Math.abs(value as number) < 2 ** 31))
        return invalid(`IntegerValue: must be an integer, got ${JSON.stringify(value)}.`);
      qualification = { qualificationTypeId: type.qualificationTypeId, value: value as number };
    } else if (input.IntegerValue !== undefined) return invalid('IntegerValue: give it with QualificationTypeId.');
    const open = db
      .prepare(
        'SELECT count(*) FROM invites WHERE requester = ? AND used_by IS NULL AND (expires_ms IS NULL OR expires_ms > ?)',
      )
      .pluck()
      .get(requesterId, nowMs) as number;
    if (open + (count as number) > MAX_OPEN_INVITES)
      return {
        status: 400,
        body: {
          __type: 'LimitExceededException',
          message: `You have ${open} unused invitations; at most ${MAX_OPEN_INVITES} may be open at once. Wait until they are used or expire.`,
        },
      };
    const codes = createInvites(
      db,
      {
        count: count as number,
        requester: requesterId,
        ...(qualification ? { qualification } : {}),
        ...(typeof days === 'number' ? { expiresDays: days } : {}),
      },
      nowMs,
    );
    const expires = typeof days === 'number' ? seconds(nowMs + days * 86_400_000) : null;
    return {
      status: 200,
      body: { Invitations: codes.map((c) => ({ InvitationCode: c, SignUpUrl: link(c), ExpiresAt: expires })) },
    };
  }
  if (operation === 'ListWorkerInvitations') {
    const rows = db
      .prepare(
        'SELECT code, created_ms, expires_ms, used_ms, used_by FROM invites WHERE requester = ? ORDER BY created_ms DESC, code',
      )
      .all(requesterId) as {
      code: string;
      created_ms: number;
      expires_ms: number | null;
      used_ms: number | null;
      used_by: string | null;
    }[];
    return {
      status: 200,
      body: {
        Invitations: rows.map((r) => ({
          InvitationCode: r.code,
          SignUpUrl: link(r.code),
          CreationTime: seconds(r.created_ms),
          ExpiresAt: seconds(r.expires_ms),
          UsedAt: seconds(r.used_ms),
          WorkerId: r.used_by,
        })),
      },
    };
  }
  return {
    status: 400,
    body: {
      __type: 'UnknownOperationException',
      message: `${SERVE_TARGET_PREFIX}.${operation.slice(0, 64)} is not an operation; use CreateWorkerInvitations or ListWorkerInvitations.`,
    },
  };
}

/**
 * Calls a `HitstateServe.*` operation as a requester's code would: signed with SigV4 by the AWS
 * SDK's own signer, like every MTurk call. Rejects with an Error carrying the AWS error type as
 * `name` when the server refuses.
 *
 * @example
 * ```ts
 * const out = await callServeApi('https://crowd.example.org', { accessKeyId, secretAccessKey },
 *   'CreateWorkerInvitations', { Count: 20, ExpiresInDays: 14 });
 * ```
 */
export async function callServeApi(
  endpoint: string,
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string },
  operation: 'CreateWorkerInvitations' | 'ListWorkerInvitations',
  input: Record<string, unknown>,
  region = 'us-east-1',
): Promise<Record<string, unknown>> {
  const { SignatureV4 } = await import('@smithy/signature-v4');
  const { HttpRequest } = await import('@smithy/protocol-http');
  const { Hash } = await import('@smithy/hash-node');
  const url = new URL(endpoint);
  const body = JSON.stringify(input);
  const signer = new SignatureV4({
    service: 'mturk-requester',
    region,
    credentials,
    sha256: Hash.bind(null, 'sha256'),
  });
  const signed = await signer.sign(
    new HttpRequest({
      method: 'POST',
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      path: '/',
      headers: {
        host: url.host,
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': `${SERVE_TARGET_PREFIX}.${operation}`,
      },
      body,
    }),
  );
  const { host: _host, ...headers } = signed.headers;
  const res = await fetch(new URL('/', url), { method: 'POST', headers, body });
  const out = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  if (!res.ok) {
    const err = new Error(String(out.message ?? `HTTP ${res.status}`));
    err.name = String(out.__type ?? 'ServeApiError');
    throw err;
  }
  return out;
}
