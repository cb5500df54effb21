/**
 * Agent tokens: what a worker's browser presents on every call after registration. A token is
 * an HMAC-SHA256 (keyed with the server secret) over the agent, worker and assignment ids and an
 * expiry, so the server checks it without a lookup and nobody can mint one without the secret.
 *
 * Format: `v1.<base64url(JSON [agentId, workerId, assignmentId, expiresAtSec])>.<base64url(mac)>`.
 *
 * @module
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { HitstateError } from '../errors.js';

/** What a token proves: which agent of which worker and assignment, until when. */
export interface AgentTokenClaims {
  readonly agentId: string;
  readonly workerId: string;
  readonly assignmentId: string;
  /** Expiry in seconds since the Unix epoch. */
  readonly expiresAtSec: number;
}

const VERSION = 'v1';
/** Domain separation: a MAC made for something else with the same secret never verifies here. */
const CONTEXT = 'hitstate-agent-token.v1\n';
const MAX_TOKEN_CHARS = 2048;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

function mac(payload: string, secret: Uint8Array): Buffer {
  return createHmac('sha256', secret).update(CONTEXT).update(payload).digest();
}

/** True when `text` is exactly what `toString('base64url')` writes for the bytes it decodes to. */
function canonical(text: string): boolean {
  return BASE64URL.test(text) && Buffer.from(text, 'base64url').toString('base64url') === text;
}

function invalid(message: string): HitstateError {
  return new HitstateError('HST_ERR_SERVER_TOKEN_INVALID', message, { field: 'token' });
}

/**
 * Signs a token for an agent.
 *
 * @example
 * ```ts
 * const token = signAgentToken({ agentId, workerId, assignmentId, expiresAtSec: now + 3600 }, secret);
 * ```
 */
export function signAgentToken(claims: AgentTokenClaims, secret: Uint8Array): string {
  const payload = Buffer.from(
    JSON.stringify([claims.agentId, claims.workerId, claims.assignmentId, claims.expiresAtSec]),
  ).toString('base64url');
  return `${VERSION}.${payload}.${mac(payload, secret).toString('base64url')}`;
}

/**
 * Checks a token's MAC and expiry and returns its claims.
 *
 * @param nowMs - the current time (from the server's clock) in epoch milliseconds.
 * @throws HitstateError `HST_ERR_SERVER_TOKEN_INVALID` when the token is missing, malformed,
 *   forged (MAC mismatch, including a token signed with another secret) or expired.
 */
export function verifyAgentToken(token: string | undefined, secret: Uint8Array, nowMs: number): AgentTokenClaims {
  if (token === undefined || token === '') {
    throw invalid('the agent token is missing: send the token from registration as "Authorization: Bearer <token>"');
  }
  const parts = token.length <= MAX_TOKEN_CHARS ? token.split('.') : [];
  if (parts.length !== 3 || parts[0] !== VERSION) {
    throw invalid('the agent token is malformed: reload the task page to register again');
  }
  const [, payload, signature] = parts as [string, string, string];
  // Node's base64url decoder is lenient (it skips '!', accepts '+', '/' and '='): a token is accepted
  // only in the one spelling signAgentToken writes, so no second spelling of a token exists.
  if (!canonical(payload) || !canonical(signature)) {
    throw invalid('the agent token is malformed (not in canonical base64url): reload the task page to register again');
  }
  const expected = mac(payload, secret);
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw invalid('the agent token was not issued by this task server (signature mismatch)');
  }
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch (cause) {
    throw new HitstateError('HST_ERR_SERVER_TOKEN_INVALID', 'the agent token payload is not valid JSON', {
      field: 'token',
      cause,
    });
  }
  if (
    !Array.isArray(decoded) ||
    decoded.length !== 4 ||
    !decoded.slice(0, 3).every((v) => typeof v === 'string') ||
    !Number.isInteger(decoded[3])
  ) {
    throw invalid('the agent token payload has the wrong shape');
  }
  const [agentId, workerId, assignmentId, expiresAtSec] = decoded as [string, string, string, number];
  if (expiresAtSec * 1000 <= nowMs) {
    throw invalid(
      `the agent token expired at ${new Date(expiresAtSec * 1000).toISOString()}: reload the task page to get a fresh one`,
    );
  }
  return { agentId, workerId, assignmentId, expiresAtSec };
}
