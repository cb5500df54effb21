/**
 * Money a run has spent, read from the store's money outbox (confirmed intents only): rewards of
 * approved and soft-rejected work, bonuses, and MTurk's fee on each (20%: hitstate posts
 * one-assignment HITs, so the 40% rate never applies).
 *
 * @module
 */
import { feeCents, formatUsd, MTURK_FEE_PERCENT, toCents } from '../mturk/money.js';
import type { IntentRecord, Store } from '../store/index.js';

/** What a run spent, in integer cents. */
export interface MoneySummary {
  readonly approved: { readonly count: number; readonly rewardCents: number };
  readonly softRejected: { readonly count: number; readonly rewardCents: number };
  readonly rejected: { readonly count: number };
  readonly bonuses: { readonly count: number; readonly cents: number };
  readonly feeCents: number;
  readonly totalCents: number;
}

/** The fields of a money intent the summary reads. */
export type MoneyIntent = Pick<IntentRecord, 'kind' | 'state' | 'unitId' | 'amountUsd'>;

/** Sums the confirmed money intents of a run. */
export function moneyOfRun(store: Store, runId: string): MoneySummary {
  return moneyOf(store.outbox.ofRun(runId), (unitId) => store.units.get(unitId)?.payAmountUsd);
}

/** Sums confirmed money intents; `rewardOf` gives a unit's reward. */
export function moneyOf(
  intents: Iterable<MoneyIntent>,
  rewardOf: (unitId: string) => string | undefined,
): MoneySummary {
  let approved = 0;
  let approvedCents = 0;
  let soft = 0;
  let softCents = 0;
  let rejected = 0;
  let bonuses = 0;
  let bonusCents = 0;
  let fees = 0;
  for (const intent of intents) {
    if (intent.state !== 'confirmed') continue;
    if (intent.kind === 'approve' || intent.kind === 'softReject') {
      const pay = intent.unitId === null ? undefined : rewardOf(intent.unitId);
      const reward = pay === undefined ? 0 : toCents(pay);
      fees += feeCents(reward, MTURK_FEE_PERCENT);
      if (intent.kind === 'approve') {
        approved++;
        approvedCents += reward;
      } else {
        soft++;
        softCents += reward;
      }
    } else if (intent.kind === 'reject') {
      rejected++;
    } else if (intent.kind === 'bonus' && intent.amountUsd !== null) {
      const amount = toCents(intent.amountUsd);
      bonuses++;
      bonusCents += amount;
      fees += feeCents(amount, MTURK_FEE_PERCENT);
    }
  }
  return {
    approved: { count: approved, rewardCents: approvedCents },
    softRejected: { count: soft, rewardCents: softCents },
    rejected: { count: rejected },
    bonuses: { count: bonuses, cents: bonusCents },
    feeCents: fees,
    totalCents: approvedCents + softCents + bonusCents + fees,
  };
}

/** `$1,234.50`. */
export function dollars(cents: number): string {
  const [whole, fraction] = formatUsd(cents).split('.');
  return `$${whole!.replace(/\B(?=(\d{3})+(?!\d))/g, ',')}.${fraction}`;
}

/** One line per kind of money that occurred, then the total. */
export function moneyLines(money: MoneySummary): string[] {
  const plural = (n: number, word: string, many = `${word}s`): string => `${n} ${n === 1 ? word : many}`;
  const lines = [
    `rewards, approved       ${dollars(money.approved.rewardCents).padStart(10)}  (${plural(money.approved.count, 'assignment')})`,
    `rewards, soft-rejected  ${dollars(money.softRejected.rewardCents).padStart(10)}  (${plural(money.softRejected.count, 'assignment')}, paid but marked low quality)`,
    `rejected                ${dollars(0).padStart(10)}  (${plural(money.rejected.count, 'assignment')}, not paid)`,
    `bonuses                 ${dollars(money.bonuses.cents).padStart(10)}  (${plural(money.bonuses.count, 'bonus', 'bonuses')})`,
    `MTurk fees (20%)        ${dollars(money.feeCents).padStart(10)}`,
  ];
  const occurred = [
    money.approved.count,
    money.softRejected.count,
    money.rejected.count,
    money.bonuses.count,
    money.feeCents,
  ];
  return [
    ...lines.filter((_, i) => occurred[i]! > 0),
    `total                   ${dollars(money.totalCents).padStart(10)}`,
  ];
}

/** What a command printed about a run's money intents, as `runtime.settleMoney` reported it. */
export interface SettlementCounts {
  readonly confirmed: number;
  readonly failed: number;
  readonly stillOpen: number;
}

/**
 * The last line of a command that replayed a run's money intents.
 *
 * @example
 * ```ts
 * settlementLine({ confirmed: 3, failed: 0, stillOpen: 0 });
 * // "money: confirmed 3, still open 0 (they run on the next command or resume)"
 * ```
 */
export function settlementLine(s: SettlementCounts): string {
  const failed = s.failed > 0 ? `, failed for good ${s.failed}` : '';
  return `money: confirmed ${s.confirmed}${failed}, still open ${s.stillOpen} (they run on the next command or resume)`;
}
