/**
 * The cost estimate `hitstate run` shows before anything is created (and before live asks for
 * `--yes-live`): every unit's reward plus MTurk's fee, from the gateway's `estimateCost`.
 *
 * @module
 */
import type { ResolvedTaskRunConfig } from '../config/task-run.js';
import { estimateCost, type CostEstimate } from '../mturk/money.js';
import { dollars } from './money-summary.js';

/** The estimate of a run and its one-line description. */
export function costOf(config: ResolvedTaskRunConfig): { readonly estimate: CostEstimate; readonly line: string } {
  const units = config.unitData.length;
  const estimate = estimateCost({ rewardUsd: config.reward, hits: units });
  const line = `${units} unit${units === 1 ? '' : 's'} × ${dollars(estimate.rewardCents / Math.max(1, units))} reward + ${estimate.feePercent}% MTurk fee = ${dollars(estimate.totalCents)} at most (bonuses extra)`;
  return { estimate, line };
}
