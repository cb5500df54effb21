/**
 * How the CLI prints money: amounts, the lines of a run's spending, the settlement of a command.
 * What a run spent is computed in `src/runtime/money/spent.ts`.
 *
 * @module
 */
import { formatUsd } from '../mturk/money.js';
import type { MoneySummary } from '../runtime/money/spent.js';

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
