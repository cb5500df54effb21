/**
 * `MTurkRequester`: an MTurk account of the provider's environment: register its credential
 * source, check it, read its balance, create qualifications (recorded by id).
 *
 * @module
 */
import { isHitstateError } from '../../errors.js';
import type { CredentialSource } from '../../mturk/environment.js';
import { resolveQualification } from '../core/resources.js';
import type { Runtime } from '../core/runtime.js';
import { attempt, failed, fromOutcome, succeeded, type ProviderResult } from './result.js';

/** An account's balance. */
export interface AvailableBudget {
  readonly availableUsd: string;
  readonly availableCents: number;
}

/** One requester account (Mephisto's `MTurkRequester`), always in the provider's environment. */
export class MTurkRequester {
  readonly name: string;
  readonly #runtime: Runtime;

  constructor(runtime: Runtime, name: string) {
    this.#runtime = runtime;
    this.name = name;
  }

  /** The environment the account lives in (`live`, `sandbox` or `custom`): the identity of its ids. */
  get environment(): 'live' | 'sandbox' | 'custom' {
    return this.#runtime.environment.kind;
  }

  /**
   * Records where the account's credentials come from: a named AWS profile or the default chain
   * (written to the store), or static keys (kept in memory only). Nothing is read or written in
   * `~/.aws`.
   */
  async register(credentials: CredentialSource): Promise<ProviderResult<{ readonly name: string }>> {
    return attempt(async () => {
      this.#runtime.registerRequester({ name: this.name, credentials });
      return succeeded({ name: this.name });
    });
  }

  /** True when the requester is known and its credentials resolve (no MTurk call is made). */
  async isRegistered(): Promise<boolean> {
    if (!this.#runtime.knowsRequester(this.name)) return false;
    try {
      await this.#runtime.gateway(this.name).verifyCredentials();
      return true;
    } catch (err) {
      if (isHitstateError(err)) return false;
      throw err;
    }
  }

  /** The account's available balance (`GetAccountBalance`; the sandbox always has $10,000). */
  async getAvailableBudget(): Promise<ProviderResult<AvailableBudget>> {
    return attempt(async () => {
      const outcome = await this.#runtime.gateway(this.name).getAccountBalance();
      if (outcome.status !== 'ok') return fromOutcome(outcome, () => ({ availableUsd: '0.00', availableCents: 0 }));
      return succeeded({ availableUsd: outcome.value.availableUsd, availableCents: outcome.value.availableCents });
    });
  }

  /**
   * Finds or creates a qualification type named `name` owned by this account and records its id;
   * asking again returns the recorded id (`alreadyDone`). A name owned by another account fails
   * with `HST_ERR_MTURK_QUALIFICATION_NOT_OWNED` instead of binding someone else's type.
   */
  async createQualification(
    name: string,
    description?: string,
  ): Promise<ProviderResult<{ readonly qualificationTypeId: string }>> {
    return attempt(async () => {
      if (typeof name !== 'string' || name.trim() === '')
        return failed('HST_ERR_CONFIG_INVALID', 'a qualification needs a non-empty name');
      const known = this.#runtime.store.qualifications.get(this.name, name);
      if (known !== undefined) return succeeded({ qualificationTypeId: known.qualificationTypeId }, true);
      const resolved = await resolveQualification(
        this.#runtime.store,
        this.#runtime.gateway(this.name),
        this.name,
        name,
        description,
      );
      if ('status' in resolved) return failed(resolved.code, resolved.message, resolved.retryable);
      return succeeded({ qualificationTypeId: resolved.id }, !resolved.created);
    });
  }
}
