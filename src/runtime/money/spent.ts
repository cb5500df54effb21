/**
 * Money a run has spent, read from the store's money outbox (confirmed intents only): rewards of
 * approved and soft-rejected work, bonuses, and MTurk's fee on each (20%: hitstate posts
 * one-assignment HITs, so the 40% rate never applies). Read by the CLI's summaries and the
 * dashboard alike.
 *
 * @module
 */
import { feeCents, MTURK_FEE_PERCENT, toCents } from '../../mturk/money.js';
import type { IntentRecord, Store } from '../../store/index.js';

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
