/**
 * Money as integer cents: MTurk's `CurrencyAmount` strings in and out, and the fee rules.
 *
 * No float ever touches an amount: `"0.10" * 3` is `0.30000000000000004` in JavaScript, and a cost
 * estimate that drifts by a cent is a cost estimate nobody trusts.
 *
 * @module
 */
import { HitstateError } from '../errors.js';

/** MTurk's fee on rewards and bonuses, in percent. */
export const MTURK_FEE_PERCENT = 20;
/** The fee on HITs with {@link LARGE_HIT_ASSIGNMENTS} or more assignments, in percent. */
export const MTURK_LARGE_HIT_FEE_PERCENT = 40;
/** From this many assignments per HIT, the higher fee applies. */
export const LARGE_HIT_ASSIGNMENTS = 10;
/** MTurk charges at least one cent of fee per assignment and per bonus. */
export const MINIMUM_FEE_CENTS = 1;

const CURRENCY = /^(\d+)(?:\.(\d{0,2}))?$/;

/**
 * Parses a dollar amount into integer cents. Strings follow MTurk's `CurrencyAmount`
 * (`"5"`, `"0.5"`, `"0.50"`); numbers must have at most two decimals (`0.1` is fine, `0.125` is not).
 *
 * @param field - named in the error message, e.g. `task.reward`.
 * @throws HitstateError `HST_ERR_CONFIG_INVALID` for negative, non-finite or sub-cent amounts.
 */
export function toCents(amountUsd: string | number, field = 'amountUsd'): number {
  if (typeof amountUsd === 'number') {
    const cents = Math.round(amountUsd * 100);
    if (!Number.isFinite(amountUsd) || amountUsd < 0 || Math.abs(cents - amountUsd * 100) > 1e-6) {
      throw new HitstateError(
        'HST_ERR_CONFIG_INVALID',
        `${field} must be a non-negative dollar amount with at most two decimals, got ${amountUsd}`,
        { field },
      );
    }
    return cents;
  }
  const m = CURRENCY.exec(amountUsd.trim());
  if (!m) {
    throw new HitstateError(
      'HST_ERR_CONFIG_INVALID',
      `${field} must be a dollar string like "0.50" (no currency sign, at most two decimals), got ${JSON.stringify(amountUsd)}`,
      { field },
    );
  }
  const dollars = Number(m[1]);
  const fraction = (m[2] ?? '').padEnd(2, '0');
  return dollars * 100 + Number(fraction);
}

/** Formats integer cents as MTurk's `CurrencyAmount`, always with two decimals (`"0.50"`). */
export function formatUsd(cents: number): string {
  if (!Number.isSafeInteger(cents) || cents < 0)
    throw new RangeError(`formatUsd needs non-negative integer cents, got ${cents}`);
  return `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;
}

/** Fee in cents for one payment of `cents`: `percent` of it rounded half up, at least one cent. */
export function feeCents(cents: number, percent: number): number {
  if (cents === 0) return 0;
  return Math.max(MINIMUM_FEE_CENTS, Math.floor((cents * percent + 50) / 100));
}

/** Fee percent for a HIT with this many assignments (20%, or 40% from 10 assignments). */
export function feePercentFor(assignmentsPerHIT: number): number {
  return assignmentsPerHIT >= LARGE_HIT_ASSIGNMENTS ? MTURK_LARGE_HIT_FEE_PERCENT : MTURK_FEE_PERCENT;
}

/** What a batch of HITs costs. */
export interface EstimateCostInput {
  /** Reward per assignment, e.g. `"0.50"`. */
  readonly rewardUsd: string | number;
  /** @defaultValue 1 */
  readonly assignmentsPerHIT?: number;
  /** @defaultValue 1 */
  readonly hits?: number;
  /** Expected bonuses, each paid (and charged) separately. */
  readonly bonusesUsd?: readonly (string | number)[];
}

/** A cost estimate, exact in cents, with dollar strings for display. */
export interface CostEstimate {
  readonly assignments: number;
  readonly feePercent: number;
  readonly rewardCents: number;
  readonly rewardFeeCents: number;
  readonly bonusCents: number;
  readonly bonusFeeCents: number;
  readonly totalCents: number;
  readonly totalUsd: string;
}

/**
 * Estimates what a batch costs on MTurk: rewards plus 20% fee (40% when a HIT has 10 or more
 * assignments, which is why hitstate posts 1-assignment HITs), at least one cent of fee per
 * assignment, plus bonuses with their own 20% fee.
 *
 * @example
 * ```ts
 * estimateCost({ rewardUsd: '0.50', hits: 100 }).totalUsd; // "60.00"
 * estimateCost({ rewardUsd: '0.50', assignmentsPerHIT: 10, hits: 10 }).totalUsd; // "70.00"
 * ```
 * @throws HitstateError `HST_ERR_CONFIG_INVALID` for an invalid amount or count.
 */
export function estimateCost(input: EstimateCostInput): CostEstimate {
  const perHIT = input.assignmentsPerHIT ?? 1;
  const hits = input.hits ?? 1;
  for (const [field, n] of [
    ['assignmentsPerHIT', perHIT],
    ['hits', hits],
  ] as const) {
    if (!Number.isSafeInteger(n) || n < 0) {
      throw new HitstateError('HST_ERR_CONFIG_INVALID', `${field} must be a non-negative integer, got ${n}`, { field });
    }
  }
  const reward = toCents(input.rewardUsd, 'rewardUsd');
  const feePercent = feePercentFor(perHIT);
  const assignments = perHIT * hits;
  const rewardCents = reward * assignments;
  const rewardFeeCents = feeCents(reward, feePercent) * assignments;
  const bonuses = (input.bonusesUsd ?? []).map((b, i) => toCents(b, `bonusesUsd[${i}]`));
  const bonusCents = bonuses.reduce((a, b) => a + b, 0);
  const bonusFeeCents = bonuses.reduce((a, b) => a + feeCents(b, MTURK_FEE_PERCENT), 0);
  const totalCents = rewardCents + rewardFeeCents + bonusCents + bonusFeeCents;
  return {
    assignments,
    feePercent,
    rewardCents,
    rewardFeeCents,
    bonusCents,
    bonusFeeCents,
    totalCents,
    totalUsd: formatUsd(totalCents),
  };
}
