/**
 * A run's budget: the most it may spend in USD (rewards, bonuses and MTurk's fees, as `status`
 * counts them), and where its money stands against it.
 *
 * - **spent**: confirmed money intents (`spent.ts`): rewards of approved and soft-rejected work,
 *   bonuses, and the fee on each.
 * - **held**: money the run may still have to pay for what is already out there: reward + fee of
 *   every unit whose HIT is on MTurk (or whose launch is under way) and whose work is not paid or
 *   finished unpaid (launched, assigned, submitted and not reviewed yet), plus bonuses and
 *   approvals of rejected work asked for and not confirmed yet. Approving held work never needs
 *   more budget.
 * - **to launch**: reward + fee of units created but not launched yet (a `maxConcurrentUnits`
 *   run, or units just added).
 * - **left**: budget - spent - held - to launch.
 *
 * Every call that adds money beyond what is held is checked before its intent is recorded: a
 * launch or added units (their reward + fee), a bonus (amount + fee), an approval of rejected work
 * (reward + fee: a rejection released its hold). A refusal is a {@link HitstateError}
 * `HST_ERR_BUDGET_EXCEEDED` naming the budget, spent, held and the fix. Replays of intents already
 * recorded are never refused: they were within the budget when they were recorded.
 *
 * @module
 */
import { UnitStateGroups } from '../../../machines/states.js';
import type { ResolvedTaskRunConfig } from '../../config/task-run.js';
import { HitstateError } from '../../errors.js';
import { feeCents, formatUsd, MTURK_FEE_PERCENT, toCents } from '../../mturk/money.js';
import type { Store } from '../../store/open-store.js';
import type { IntentInput, IntentRecord, UnitRecord } from '../../store/types.js';
import { moneyOf } from './spent.js';

/** Where a run's money stands against its budget, in integer cents. */
export interface BudgetLedger {
  readonly runId: string;
  /** The run's budget, or null when it has none (nothing is refused). */
  readonly budgetCents: number | null;
  readonly spentCents: number;
  readonly heldCents: number;
  readonly toLaunchCents: number;
  /** budget - spent - held - to launch (negative when the budget was lowered below it); null without a budget. */
  readonly leftCents: number | null;
  /** Reward + fee of one unit of the run. */
  readonly unitCostCents: number;
}

/** Unit statuses whose reward the run may still have to pay. */
const HOLDING: ReadonlySet<string> = new Set(UnitStateGroups.rewardHeld);
const OPEN = (i: IntentRecord): boolean =>
  i.state === 'pending' || i.state === 'sent' || (i.state === 'failed' && i.failure?.retryable === true);

/** Reward + MTurk's fee of one payment of `cents`. */
export function withFee(cents: number): number {
  return cents + feeCents(cents, MTURK_FEE_PERCENT);
}

/** `$1,234.50`. */
export function usd(cents: number): string {
  const sign = cents < 0 ? '-' : '';
  const [whole, fraction] = formatUsd(Math.abs(cents)).split('.');
  return `${sign}$${whole!.replace(/\B(?=(\d{3})+(?!\d))/g, ',')}.${fraction}`;
}

/** The budget of a run's stored config, in cents, or null. */
export function budgetCentsOf(config: Readonly<Record<string, unknown>>): number | null {
  return typeof config.budget === 'string' ? toCents(config.budget, 'budget') : null;
}

/**
 * Where the run's money stands against its budget, from the store (units, the money outbox and
 * the run's config, where `hitstate budget` records a new budget).
 *
 * @throws HitstateError `HST_ERR_RUN_NOT_FOUND`.
 */
export function budgetOf(store: Store, runId: string): BudgetLedger {
  const run = store.runs.require(runId);
  const reward = typeof run.config.reward === 'string' ? toCents(run.config.reward, 'reward') : 0;
  const units = store.units.ofRun(runId);
  const intents = store.outbox.ofRun(runId);
  const rewardOf = new Map<string, number>(units.map((u: UnitRecord) => [u.id, toCents(u.payAmountUsd)]));
  const spent = moneyOf(intents, (unitId) => {
    const cents = rewardOf.get(unitId);
    return cents === undefined ? undefined : formatUsd(cents);
  }).totalCents;
  const paid = new Set<string>();
  const launching = new Set<string>();
  let heldIntents = 0;
  const byUnit = new Map(units.map((u) => [u.id, u]));
  for (const intent of intents) {
    if ((intent.kind === 'approve' || intent.kind === 'softReject') && intent.unitId !== null) {
      if (intent.state === 'confirmed') paid.add(intent.unitId);
      // Approving rejected work is money the rejection had released: held until confirmed.
      else if (OPEN(intent) && byUnit.get(intent.unitId)?.status === 'rejected')
        heldIntents += withFee(rewardOf.get(intent.unitId) ?? 0);
    } else if (intent.kind === 'createHIT' && intent.unitId !== null && OPEN(intent)) launching.add(intent.unitId);
    else if (intent.kind === 'bonus' && intent.amountUsd !== null && OPEN(intent))
      heldIntents += withFee(toCents(intent.amountUsd));
  }
  let held = heldIntents;
  let toLaunch = 0;
  for (const unit of units) {
    const cost = withFee(rewardOf.get(unit.id) ?? 0);
    if (HOLDING.has(unit.status) && !paid.has(unit.id)) held += cost;
    else if (unit.status === 'created') {
      if (launching.has(unit.id)) held += cost;
      else toLaunch += cost;
    }
  }
  const budgetCents = budgetCentsOf(run.config);
  return {
    runId,
    budgetCents,
    spentCents: spent,
    heldCents: held,
    toLaunchCents: toLaunch,
    leftCents: budgetCents === null ? null : budgetCents - spent - held - toLaunch,
    unitCostCents: withFee(reward),
  };
}

/**
 * Refuses to create a run whose units cost more than its config's budget (nothing is created).
 *
 * @throws HitstateError `HST_ERR_BUDGET_EXCEEDED`.
 */
export function assertLaunchWithinBudget(runId: string, config: ResolvedTaskRunConfig): void {
  if (config.budget === null) return;
  const unitCost = withFee(toCents(config.reward, 'reward'));
  const units = config.unitData.length;
  assertWithinBudget(
    {
      runId,
      budgetCents: toCents(config.budget, 'budget'),
      spentCents: 0,
      heldCents: 0,
      toLaunchCents: 0,
      leftCents: toCents(config.budget, 'budget'),
      unitCostCents: unitCost,
    },
    {
      what: `launching ${units} unit${units === 1 ? '' : 's'} (${units} × ${usd(unitCost)} reward and fee)`,
      addsCents: units * unitCost,
    },
  );
}

/** `budget $10.00 · spent $2.40 · held $1.20 · to launch $0.00 · left $6.40`. */
export function describeLedger(ledger: BudgetLedger): string {
  const parts = [
    `budget ${ledger.budgetCents === null ? 'none' : usd(ledger.budgetCents)}`,
    `spent ${usd(ledger.spentCents)}`,
    `held ${usd(ledger.heldCents)}`,
  ];
  if (ledger.toLaunchCents > 0) parts.push(`to launch ${usd(ledger.toLaunchCents)}`);
  if (ledger.leftCents !== null) parts.push(`left ${usd(ledger.leftCents)}`);
  return parts.join(' · ');
}

/** What a refused call was, for the message: `a bonus of $5.00 to 2 agents`. */
export interface BudgetRequest {
  /** What would be paid or created, e.g. `launching 20 units`. */
  readonly what: string;
  /** The money it adds beyond what is held, fees included. */
  readonly addsCents: number;
  /** Count `to launch` as committed (false for the launch of a unit that is itself to launch). @defaultValue true */
  readonly countToLaunch?: boolean;
}

/** Why `request` does not fit the ledger's budget, or null when it fits (or the run has no budget). */
export function budgetShortfall(ledger: BudgetLedger, request: BudgetRequest): string | null {
  if (ledger.budgetCents === null || request.addsCents <= 0) return null;
  const committed = ledger.spentCents + ledger.heldCents + (request.countToLaunch === false ? 0 : ledger.toLaunchCents);
  const needed = committed + request.addsCents;
  if (needed <= ledger.budgetCents) return null;
  const toLaunch =
    request.countToLaunch !== false && ledger.toLaunchCents > 0 ? `, to launch ${usd(ledger.toLaunchCents)}` : '';
  return (
    `${request.what} needs ${usd(request.addsCents)} (fees included) and run ${ledger.runId} has ${usd(Math.max(0, ledger.budgetCents - committed))} left ` +
    `of its budget ${usd(ledger.budgetCents)} (spent ${usd(ledger.spentCents)}, held ${usd(ledger.heldCents)}${toLaunch}); ` +
    `it would take the run to ${usd(needed)}. Nothing was sent. Raise the budget with \`hitstate budget ${ledger.runId} ${formatUsd(needed)}\` ` +
    '(or `--budget USD` on `hitstate run`), or ask for less'
  );
}

/**
 * Refuses `request` when it does not fit the run's budget.
 *
 * @throws HitstateError `HST_ERR_BUDGET_EXCEEDED` with `details.budget` (the ledger, in cents).
 */
export function assertWithinBudget(ledger: BudgetLedger, request: BudgetRequest): void {
  const shortfall = budgetShortfall(ledger, request);
  if (shortfall !== null)
    throw new HitstateError('HST_ERR_BUDGET_EXCEEDED', shortfall, {
      runId: ledger.runId,
      field: 'budget',
      budget: ledger,
    });
}

/**
 * The refusal of a money intent about to be recorded for the first time, or null when it fits:
 * the outbox's last check, for calls that did not pass a command's own check (a queued bonus paid
 * later, a launch after the budget was lowered). Only runs with a budget are read.
 */
export function intentShortfall(store: Store, input: IntentInput): string | null {
  const run = store.runs.get(input.runId);
  if (run === undefined || typeof run.config.budget !== 'string') return null;
  if (input.kind === 'bonus' && input.amountUsd !== undefined) {
    return budgetShortfall(budgetOf(store, input.runId), {
      what: `a bonus of ${usd(toCents(input.amountUsd))}${input.workerId === undefined ? '' : ` to worker ${input.workerId}`}`,
      addsCents: withFee(toCents(input.amountUsd)),
    });
  }
  if (input.unitId === undefined) return null;
  const unit = store.units.get(input.unitId);
  if (unit === undefined) return null;
  const cost = withFee(toCents(unit.payAmountUsd));
  if (input.kind === 'createHIT' && unit.status === 'created')
    return budgetShortfall(budgetOf(store, input.runId), {
      what: `launching unit ${unit.id}`,
      addsCents: cost,
      countToLaunch: false,
    });
  if ((input.kind === 'approve' || input.kind === 'softReject') && unit.status === 'rejected')
    return budgetShortfall(budgetOf(store, input.runId), {
      what: `paying rejected work of unit ${unit.id}`,
      addsCents: cost,
    });
  return null;
}

/**
 * Records a new budget for a run (in its stored config). A budget below what the run has spent
 * and holds is refused; one below what its units still to launch need is taken, and those
 * launches are then refused (launching halts) until the budget is raised again.
 *
 * @throws HitstateError `HST_ERR_CONFIG_INVALID` for an amount that is not dollars above zero,
 *   `HST_ERR_BUDGET_EXCEEDED` for one below spent + held, `HST_ERR_RUN_NOT_FOUND`.
 */
export async function setRunBudget(store: Store, runId: string, amountUsd: string): Promise<BudgetLedger> {
  if (typeof amountUsd !== 'string' || !/^\d+(\.\d{1,2})?$/.test(amountUsd.trim()) || toCents(amountUsd) <= 0)
    throw new HitstateError(
      'HST_ERR_CONFIG_INVALID',
      `a budget must be a dollar amount above zero like 25.00 (rewards, bonuses and MTurk fees), got ${JSON.stringify(amountUsd)}`,
      { runId, field: 'budget' },
    );
  const cents = toCents(amountUsd.trim(), 'budget');
  const before = budgetOf(store, runId);
  const floor = before.spentCents + before.heldCents;
  if (cents < floor)
    throw new HitstateError(
      'HST_ERR_BUDGET_EXCEEDED',
      `a budget of ${usd(cents)} is below what run ${runId} has already spent (${usd(before.spentCents)}) and holds for work out there (${usd(before.heldCents)}); give at least ${usd(floor)}, or \`hitstate stop ${runId}\` first to release what nobody holds`,
      { runId, field: 'budget', budget: before },
    );
  const run = store.runs.require(runId);
  store.runs.setConfig(runId, { ...run.config, budget: formatUsd(cents) });
  await store.flush();
  return budgetOf(store, runId);
}
