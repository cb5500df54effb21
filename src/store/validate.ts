/**
 * Checks on what callers hand to the store: ids, tokens, dollar amounts, times. Each failure is
 * an `HST_ERR_STORE_INVALID_RECORD` naming the field and what a good value looks like.
 *
 * @module
 */
import { HitstateError } from '../errors.js';

/**
 * The longest record id the store accepts. The task server checks arriving ids (and the agent id
 * built from them) against this same limit, so nothing it accepts is refused by the store.
 */
export const MAX_ID_LENGTH = 128;
/** Record ids: MTurk ids (uppercase alphanumerics) and hitstate's own (`unit-0007`, `r1.u3`). */
const ID = new RegExp(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,${MAX_ID_LENGTH - 1}}$`);
/** Run ids name a directory, so no `:` (Windows) and a shorter limit. */
const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** MTurk's UniqueRequestToken: 1 to 64 characters; we also refuse spaces and control characters. */
const TOKEN = /^[\x21-\x7e]{1,64}$/;
/** A dollar amount as MTurk writes it: "0.50", "12", "3.5". */
const USD = /^(0|[1-9]\d{0,6})(\.\d{1,2})?$/;

function fail(field: string, message: string): never {
  throw new HitstateError('HST_ERR_STORE_INVALID_RECORD', `${field} ${message}`, { field });
}

/** @throws HST_ERR_STORE_INVALID_RECORD unless `value` is a record id. */
export function checkId(value: unknown, field: string): string {
  if (typeof value !== 'string' || !ID.test(value)) {
    fail(
      field,
      `must be 1 to ${MAX_ID_LENGTH} letters, digits, '.', '_', ':' or '-' starting with a letter or digit, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

/** @throws HST_ERR_STORE_INVALID_RECORD unless `value` can name a run (and its directory). */
export function checkRunId(value: unknown, field: string): string {
  if (typeof value !== 'string' || !RUN_ID.test(value)) {
    fail(
      field,
      `must be 1 to 64 letters, digits, '.', '_' or '-' starting with a letter or digit (it names a directory), got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

/** @throws HST_ERR_STORE_INVALID_RECORD unless `value` is null or an id. */
export function checkOptionalId(value: unknown, field: string): string | null {
  return value === undefined || value === null ? null : checkId(value, field);
}

/** @throws HST_ERR_STORE_INVALID_RECORD unless `value` is a usable UniqueRequestToken. */
export function checkToken(value: unknown, field: string): string {
  if (typeof value !== 'string' || !TOKEN.test(value)) {
    fail(
      field,
      `must be 1 to 64 printable ASCII characters without spaces (MTurk's UniqueRequestToken), got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

/** @throws HST_ERR_STORE_INVALID_RECORD unless `value` is a dollar string like "0.50". */
export function checkUsd(value: unknown, field: string): string {
  if (typeof value !== 'string' || !USD.test(value))
    fail(field, `must be a dollar string like "0.50", got ${JSON.stringify(value)}`);
  return value;
}

/** @throws HST_ERR_STORE_INVALID_RECORD unless `value` is a non-empty string of at most `max` characters. */
export function checkText(value: unknown, field: string, max = 1024): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > max) {
    fail(field, `must be a non-empty string of at most ${max} characters, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** @throws HST_ERR_STORE_INVALID_RECORD unless `value` is an integer >= `min`. */
export function checkInteger(value: unknown, field: string, min = 0): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min)
    fail(field, `must be an integer >= ${min}, got ${JSON.stringify(value)}`);
  return value;
}

/** @throws HST_ERR_STORE_INVALID_RECORD unless `value` is an integer (any sign; Mephisto uses negative unit indexes). */
export function checkSignedInteger(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value))
    fail(field, `must be an integer, got ${JSON.stringify(value)}`);
  return value;
}

/** @throws HST_ERR_STORE_INVALID_RECORD unless `value` is a time in epoch milliseconds. */
export function checkTime(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0)
    fail(field, `must be a time in epoch milliseconds, got ${JSON.stringify(value)}`);
  return value;
}

/** @throws HST_ERR_STORE_INVALID_RECORD unless `value` is one of `allowed`. */
export function checkOneOf<T extends string>(value: unknown, allowed: readonly T[], field: string): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    fail(field, `must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${JSON.stringify(value)}`);
  }
  return value as T;
}
