/**
 * What every provider method returns: a result the caller can act on, never a swallowed failure
 * (Mephisto returned `True` after failed bonuses and logged failed grants: lessons #17 and #18 of
 * docs/mephisto-semantics.md#known-bugs-and-lessons).
 *
 * @module
 */
import { isHitstateError, type ErrorCode } from '../../errors.js';
import type { MTurkOutcome } from '../../mturk/outcome.js';

/**
 * `ok` with the value (and whether the effect was already in place), or the failure with a
 * stable code and whether trying again later may work.
 *
 * @example
 * ```ts
 * const r = await provider.worker('A1W').block('spam', { requester: 'lab' });
 * if (!r.ok) console.error(r.code, r.message, r.retryable ? '(try again later)' : '');
 * ```
 */
export type ProviderResult<T> =
  | { readonly ok: true; readonly value: T; readonly alreadyDone: boolean }
  | { readonly ok: false; readonly code: ErrorCode; readonly message: string; readonly retryable: boolean };

/** A success. */
export function succeeded<T>(value: T, alreadyDone = false): ProviderResult<T> {
  return { ok: true, value, alreadyDone };
}

/** A failure. */
export function failed(code: ErrorCode, message: string, retryable = false): ProviderResult<never> {
  return { ok: false, code, message, retryable };
}

/** The result of a gateway outcome, `alreadyDone` counting as success. */
export function fromOutcome<T, R>(outcome: MTurkOutcome<T>, value: (v: T | undefined) => R): ProviderResult<R> {
  if (outcome.status === 'ok') return succeeded(value(outcome.value));
  if (outcome.status === 'alreadyDone') return succeeded(value(undefined), true);
  return failed(outcome.code, outcome.message, outcome.retryable);
}

/**
 * Runs `work`; an expected failure (a `HitstateError`) becomes a failed result, anything else (a
 * bug) is thrown.
 */
export async function attempt<T>(work: () => Promise<ProviderResult<T>>): Promise<ProviderResult<T>> {
  try {
    return await work();
  } catch (err) {
    if (isHitstateError(err)) {
      const retryable =
        err.code === 'HST_ERR_MTURK_THROTTLED' ||
        err.code === 'HST_ERR_MTURK_UNAVAILABLE' ||
        err.code === 'HST_ERR_STORE_WRITE_FAILED';
      return failed(err.code, err.message, retryable);
    }
    throw err;
  }
}
