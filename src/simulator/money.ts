/**
 * Money in whole cents, and MTurk's commission.
 *
 * MTurk charges 20% on rewards and bonuses, 40% on the rewards of HITs with 10 or more
 * assignments, with a minimum of $0.01 per assignment or bonus. Fees are rounded to the nearest
 * cent, half up. Amounts are integers of cents so that sums never drift.
 *
 * @module
 */

/** The `CurrencyAmount` pattern of the model: dollars with at most two decimals, no sign, no symbol. */
export const CURRENCY_PATTERN = /^[0-9]+(\.)?[0-9]{0,2}$/;

/** Cents of a `CurrencyAmount` string already checked against {@link CURRENCY_PATTERN}. */
export function toCents(amount: string): number {
  const [whole = '0', fraction = ''] = amount.split('.');
  return Number(whole) * 100 + Number(fraction.padEnd(2, '0') || '0');
}

/** A cents amount as MTurk prints balances: `"10000.00"`. */
export function formatCents(cents: number): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

/** The commission rate on a reward: 40% when the HIT has 10 or more assignments, else 20%. */
export function rewardFeeRate(maxAssignments: number): number {
  return maxAssignments >= 10 ? 0.4 : 0.2;
}

/** The commission rate on a bonus. */
export const BONUS_FEE_RATE = 0.2;

/** The fee in cents on an amount at a rate: rounded half up, at least one cent on any non-zero amount. */
export function feeCents(amountCents: number, rate: number): number {
  if (amountCents <= 0) return 0;
  return Math.max(1, Math.floor(amountCents * rate + 0.5 + 1e-9));
}

/** What one assignment of a HIT costs the requester: reward plus commission. */
export function assignmentCostCents(rewardCents: number, maxAssignments: number): number {
  return rewardCents + feeCents(rewardCents, rewardFeeRate(maxAssignments));
}

/** What a bonus costs the requester: amount plus commission. */
export function bonusCostCents(bonusCents: number): number {
  return bonusCents + feeCents(bonusCents, BONUS_FEE_RATE);
}
