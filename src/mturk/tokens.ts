/**
 * Deterministic `UniqueRequestToken`s: the same run, unit and purpose always give the same token,
 * so a call repeated after a crash is recognised by MTurk as a repeat (HitAlreadyExists, duplicate
 * bonus) instead of creating a second HIT or paying twice.
 *
 * Format: `hs-<purpose>-<32 hex>` where the hex is the first 128 bits of
 * SHA-256(JSON `["hitstate-token-v1", purpose, ...parts]`). At most 41 characters, only
 * `[a-z0-9-]`, well inside MTurk's 1-64 characters. The version tag is part of the hashed text,
 * so the mapping never changes silently between releases.
 *
 * MTurk remembers a token for 24 hours only; a repeat after that can do the work twice. The
 * runtime must therefore check MTurk (ListBonusPayments, ListHITs by annotation) before replaying
 * an intent older than a day.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { HitstateError } from '../errors.js';

/** What a token is for; part of the token text so a token can be read in an audit log. */
export const TokenPurpose = {
  hit: 'hit',
  bonus: 'bonus',
  compensation: 'comp',
} as const;
export type TokenPurpose = (typeof TokenPurpose)[keyof typeof TokenPurpose];

/** MTurk's limit on `UniqueRequestToken`. */
export const MAX_TOKEN_LENGTH = 64;
const TOKEN_SHAPE = /^hs-[a-z]+-[0-9a-f]{32}$/;

function requirePart(value: string | number, field: string): string {
  const text = String(value);
  if (text.length === 0)
    throw new HitstateError('HST_ERR_CONFIG_INVALID', `${field} must not be empty when deriving a request token`, {
      field,
    });
  return text;
}

/** Derives a token from a purpose and its identifying parts (order matters). */
export function requestToken(purpose: TokenPurpose, parts: readonly (string | number)[]): string {
  const digest = createHash('sha256')
    .update(JSON.stringify(['hitstate-token-v1', purpose, ...parts.map(String)]))
    .digest('hex');
  return `hs-${purpose}-${digest.slice(0, 32)}`;
}

/**
 * The token for creating the HIT of a unit. `attempt` counts relaunches of the same unit (a unit
 * that expired and is launched again needs a new HIT, hence a new token).
 *
 * @example
 * ```ts
 * hitToken('run-1', 'unit-7', 0); // "hs-hit-…", the same on every call
 * ```
 * @defaultValue attempt 0
 */
export function hitToken(runId: string, unitId: string, attempt = 0): string {
  return requestToken(TokenPurpose.hit, [requirePart(runId, 'runId'), requirePart(unitId, 'unitId'), attempt]);
}

/**
 * The token for one bonus. `key` tells apart several bonuses for the same work (e.g. `"quality"`,
 * `"streak-2"`); the same key never pays twice.
 *
 * @defaultValue key `"bonus"`
 */
export function bonusToken(runId: string, unitId: string, workerId: string, key = 'bonus'): string {
  return requestToken(TokenPurpose.bonus, [
    requirePart(runId, 'runId'),
    requirePart(unitId, 'unitId'),
    requirePart(workerId, 'workerId'),
    requirePart(key, 'key'),
  ]);
}

/** The token for a compensation HIT paying `workerId` outside an assignment. */
export function compensationToken(runId: string, workerId: string, key: string): string {
  return requestToken(TokenPurpose.compensation, [
    requirePart(runId, 'runId'),
    requirePart(workerId, 'workerId'),
    requirePart(key, 'key'),
  ]);
}

/** True when `token` has the shape hitstate's token functions produce. */
export function isHitstateToken(token: string): boolean {
  return TOKEN_SHAPE.test(token);
}

/**
 * Checks a caller-supplied token against MTurk's rules.
 *
 * @throws HitstateError `HST_ERR_CONFIG_INVALID` when it is empty or longer than 64 characters.
 */
export function assertValidToken(token: string, field = 'uniqueRequestToken'): string {
  if (token.length === 0 || token.length > MAX_TOKEN_LENGTH) {
    throw new HitstateError(
      'HST_ERR_CONFIG_INVALID',
      `${field} must be 1 to ${MAX_TOKEN_LENGTH} characters, got ${token.length}`,
      { field },
    );
  }
  return token;
}
