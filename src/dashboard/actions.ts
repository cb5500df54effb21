/**
 * The dashboard's actions beyond one review: the run's budget as the confirmations show it, bulk
 * reviews of every unit a filter matches, and worker actions (block, unblock, grant or revoke a
 * qualification). Each action is asked twice: first as a preview (what it will do, how much it
 * costs, what budget remains), then confirmed with the preview's plan id, so what runs is what
 * was shown; a set that changed in between is refused with the new figures.
 *
 * Money goes through `runtime.review` per agent (the money outbox, deterministic request ids);
 * worker actions through `MTurkWorker`, the functions `hitstate worker` calls. Nothing here
 * decides a budget: the run's `budget` is read from its config when it has one.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { HitstateError } from '../errors.js';
import { feeCents, formatUsd, MTURK_FEE_PERCENT, toCents } from '../mturk/money.js';
import type { ReviewAction, ReviewItem } from '../runtime/money/review.js';
import { moneyOfRun } from '../runtime/money/spent.js';
import type { ProviderResult } from '../runtime/provider/result.js';
import type { AgentRecord } from '../store/types.js';
import type { DashboardSource } from './source.js';
import { heldCentsOf, unitRows, type RunRow, type UnitQuery } from './views.js';

/** `$1,234.50`. */
export function usd(cents: number): string {
  const [whole, fraction] = formatUsd(Math.abs(cents)).split('.');
  return `${cents < 0 ? '-' : ''}$${whole!.replace(/\B(?=(\d{3})+(?!\d))/g, ',')}.${fraction}`;
}

/** A run's budget as the confirmations show it (all in cents). */
export interface BudgetView {
  /** The run's `budget` (USD) from its config, or null: "no budget". */
  readonly budgetCents: number | null;
  readonly spentCents: number;
  /** Reward and fee of units not settled yet (launched, assigned, submitted and unreviewed). */
  readonly heldCents: number;
  /** Budget less spent and held; null without a budget. */
  readonly remainingCents: number | null;
}

/** The run's budget, spent, held and remaining. */
export function budgetOf(
  source: DashboardSource,
  runId: string,
  row?: Pick<RunRow, 'money' | 'heldCents'>,
): BudgetView {
  const store = source.store();
  const run = store.runs.require(runId);
  const raw = (run.config as Record<string, unknown>).budget;
  let budgetCents: number | null = null;
  if (typeof raw === 'string' || typeof raw === 'number') {
    try {
      budgetCents = toCents(raw, 'budget');
    } catch {
      budgetCents = null;
    }
  }
  // The run's row, when the page has it, already counted spent and held.
  const spentCents = row?.money.totalCents ?? moneyOfRun(store, runId).totalCents;
  const heldCents = row?.heldCents ?? heldCentsOf(source, runId);
  return {
    budgetCents,
    spentCents,
    heldCents,
    remainingCents: budgetCents === null ? null : budgetCents - spentCents - heldCents,
  };
}

/** The budget as one sentence. */
export function budgetText(b: BudgetView): string {
  if (b.budgetCents === null) return `no budget (spent ${usd(b.spentCents)}, held ${usd(b.heldCents)})`;
  return `remaining budget ${usd(b.remainingCents!)} of ${usd(b.budgetCents)} (spent ${usd(b.spentCents)}, held ${usd(b.heldCents)})`;
}

/** What a money action costs beyond what is already held for it, in cents (reward approvals are held already). */
export function newMoneyCents(action: ReviewAction): number {
  if (action.kind !== 'bonus') return 0;
  const cents = toCents(action.amountUsd, 'amountUsd');
  return cents + feeCents(cents, MTURK_FEE_PERCENT);
}

/**
 * Why a money action would go beyond the run's budget, or null.
 */
export function overBudget(b: BudgetView, extraCents: number): string | null {
  if (b.remainingCents === null || extraCents <= b.remainingCents) return null;
  return `refused: ${usd(extraCents)} is above the run's remaining budget of ${usd(Math.max(0, b.remainingCents))} (budget ${usd(b.budgetCents!)}, spent ${usd(b.spentCents)}, held ${usd(b.heldCents)}); raise the run's budget or pay less`;
}

/** Kinds of bulk review. */
export const BULK_KINDS = ['approve', 'reject', 'softReject', 'bonus'] as const;
export type BulkKind = (typeof BULK_KINDS)[number];

/** A bulk action as previewed: its targets, its total, the budget, and the plan id to confirm. */
export interface BulkPlan {
  readonly kind: BulkKind;
  readonly agentIds: readonly string[];
  readonly totalCents: number;
  /** Of the total, what the run does not hold yet (bonuses and their fee). */
  readonly newCents: number;
  readonly budget: BudgetView;
  /** Why it cannot be done, or null. */
  readonly refusal: string | null;
  /** A hash of the action and its targets: the confirmation must carry it. */
  readonly planId: string;
  /** The confirmation's text. */
  readonly text: string;
}

const VERB: Record<BulkKind, string> = {
  approve: 'Approve',
  reject: 'Reject',
  softReject: 'Soft-reject',
  bonus: 'Pay a bonus to',
};

/** Whose work a bulk action of `kind` takes among the units `query` matches (every page of them). */
export function bulkTargets(
  source: DashboardSource,
  runId: string,
  query: Pick<UnitQuery, 'state' | 'q'>,
  kind: BulkKind,
): AgentRecord[] {
  const store = source.store();
  const { rows } = unitRows(source, runId, {
    ...(query.state === undefined ? {} : { state: query.state }),
    ...(query.q === undefined ? {} : { q: query.q }),
    sort: 'index',
    dir: 'asc',
    page: 1,
    pageSize: Number.MAX_SAFE_INTEGER,
  });
  const out: AgentRecord[] = [];
  for (const row of rows) {
    if (row.agentId === null) continue;
    const agent = store.agents.get(row.agentId);
    if (agent === undefined) continue;
    // Reviews take submitted work not reviewed yet; a bonus any submitted work.
    if (kind === 'bonus' ? agent.submittedAt !== null : agent.status === 'completed' && agent.review === null)
      out.push(agent);
  }
  return out;
}

/** Plans a bulk action: targets, total, budget, refusal. */
export function planBulk(
  source: DashboardSource,
  runId: string,
  query: Pick<UnitQuery, 'state' | 'q'>,
  action: ReviewAction,
): BulkPlan {
  const kind = action.kind;
  const agents = bulkTargets(source, runId, query, kind);
  const store = source.store();
  let totalCents = 0;
  let newCents = 0;
  for (const agent of agents) {
    if (kind === 'approve' || kind === 'softReject') {
      const reward = toCents(store.units.require(agent.unitId).payAmountUsd, 'payAmountUsd');
      totalCents += reward + feeCents(reward, MTURK_FEE_PERCENT);
    } else if (kind === 'bonus') {
      const one = newMoneyCents(action);
      totalCents += one;
      newCents += one;
    }
  }
  const budget = budgetOf(source, runId);
  const agentIds = agents.map((a) => a.id).sort();
  const planId = createHash('sha256')
    .update(JSON.stringify([runId, kind, kind === 'bonus' ? action.amountUsd : null, agentIds]))
    .digest('base64url')
    .slice(0, 22);
  const filter = [query.state === undefined ? null : `state ${query.state}`, query.q ? `search “${query.q}”` : null]
    .filter((x) => x !== null)
    .join(', ');
  const who = `${agents.length} unit${agents.length === 1 ? '' : 's'} matching ${filter === '' ? 'no filter (the whole run)' : filter}`;
  const refusal =
    agents.length === 0
      ? `nothing to do: no unit matching this filter has ${kind === 'bonus' ? 'submitted work' : 'work awaiting review'}`
      : overBudget(budget, newCents);
  const amount =
    kind === 'reject'
      ? 'Total $0.00: rejected work is not paid and counts against each worker’s approval rate.'
      : kind === 'bonus'
        ? `Total ${usd(totalCents)}: ${agents.length} × $${action.amountUsd} and MTurk’s ${MTURK_FEE_PERCENT}% fee.`
        : `Total ${usd(totalCents)}: the rewards and MTurk’s ${MTURK_FEE_PERCENT}% fee (already held for this work).`;
  const text = `${VERB[kind]} ${who}? ${amount} Budget: ${budgetText(budget)}${budget.remainingCents === null || newCents === 0 ? '' : `; after this ${usd(budget.remainingCents - newCents)}`}.`;
  return { kind, agentIds, totalCents, newCents, budget, refusal, planId, text };
}

/** How a bulk action ended: per outcome, and the first reasons of what was not done. */
export interface BulkResult {
  readonly confirmed: boolean;
  readonly done: number;
  readonly queued: number;
  readonly notDone: number;
  readonly message: string;
  readonly reasons: readonly string[];
}

/** Reviews per agent at once, at most (the governor paces the calls themselves). */
const BULK_CONCURRENCY = 8;

/**
 * Runs a bulk action agent by agent through `source.review` (the money outbox): confirmed only
 * when MTurk confirmed every one.
 */
export async function runBulk(
  source: DashboardSource,
  runId: string,
  agentIds: readonly string[],
  action: ReviewAction,
): Promise<BulkResult> {
  const items: (ReviewItem | { outcome: 'failed'; reason: string; agentId: string })[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < agentIds.length) {
      const agentId = agentIds[next++]!;
      try {
        const report = await source.review(runId, agentId, action);
        items.push(report.items[0] ?? { outcome: 'failed', reason: 'nothing to review for this agent', agentId });
      } catch (err) {
        items.push({ outcome: 'failed', reason: err instanceof Error ? err.message : String(err), agentId });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(BULK_CONCURRENCY, agentIds.length) }, worker));
  const done = items.filter((i) => i.outcome === 'done' || i.outcome === 'alreadyDone').length;
  const queued = items.filter((i) => i.outcome === 'queued').length;
  const notDone = items.length - done - queued;
  const reasons = items
    .filter((i) => !['done', 'alreadyDone', 'queued'].includes(i.outcome))
    .slice(0, 5)
    .map((i) => `${i.agentId}: ${i.outcome} (${('reason' in i ? i.reason : undefined) ?? 'no reason given'})`);
  const what = { approve: 'approved', reject: 'rejected', softReject: 'soft-rejected', bonus: 'bonus paid to' }[
    action.kind
  ];
  const message =
    `${what} ${done} of ${agentIds.length}, confirmed by MTurk` +
    (queued > 0 ? `; ${queued} queued until submitted` : '') +
    (notDone > 0 ? `; ${notDone} not done: ${reasons.join('; ')}` : '');
  return { confirmed: notDone === 0 && queued === 0, done, queued, notDone, message, reasons };
}

/** Worker actions of the dashboard. */
export const WORKER_ACTIONS = ['block', 'unblock', 'qualify', 'revoke'] as const;
export type WorkerActionKind = (typeof WORKER_ACTIONS)[number];

/** A checked worker action. */
export type WorkerAction =
  | { readonly kind: 'block'; readonly reason: string }
  | { readonly kind: 'unblock'; readonly reason?: string }
  | { readonly kind: 'qualify'; readonly qualification: string; readonly value: number }
  | { readonly kind: 'revoke'; readonly qualification: string; readonly reason?: string };

/** The confirmation's text of a worker action. */
export function workerActionText(workerId: string, requester: string, a: WorkerAction): string {
  switch (a.kind) {
    case 'block':
      return `Block worker ${workerId} from every HIT of requester ${requester}, with the reason “${a.reason}”?`;
    case 'unblock':
      return `Remove requester ${requester}’s block of worker ${workerId}?`;
    case 'qualify':
      return `Grant worker ${workerId} the qualification “${a.qualification}” with value ${a.value} (as requester ${requester}; created by that name if new)?`;
    case 'revoke':
      return `Revoke the qualification “${a.qualification}” of worker ${workerId} (as requester ${requester})?`;
  }
}

/** Performs a worker action through `MTurkWorker`; `confirmed` only on MTurk's success. */
export async function runWorkerAction(
  source: DashboardSource,
  workerId: string,
  a: WorkerAction,
): Promise<{ confirmed: boolean; message: string }> {
  const { worker, requester } = source.worker(workerId);
  const store = source.store();
  let result: ProviderResult<unknown>;
  switch (a.kind) {
    case 'block':
      result = await worker.block(a.reason, { requester });
      break;
    case 'unblock':
      result = await worker.unblock({ requester, ...(a.reason === undefined ? {} : { reason: a.reason }) });
      break;
    case 'qualify':
      result = await worker.grantQualification(a.qualification, { requester, value: a.value });
      break;
    case 'revoke': {
      if (store.qualifications.get(requester, a.qualification) === undefined)
        throw new HitstateError(
          'HST_ERR_SERVER_BAD_REQUEST',
          `requester ${requester} has no qualification named ${JSON.stringify(a.qualification)} in this store; grant one first or check the name`,
          { field: 'qualification' },
        );
      result = await worker.revokeQualification(a.qualification, {
        requester,
        ...(a.reason === undefined ? {} : { reason: a.reason }),
      });
      break;
    }
  }
  await store.flush();
  const what = {
    block: 'block',
    unblock: 'unblock',
    qualify: `grant of “${a.kind === 'qualify' ? a.qualification : ''}”`,
    revoke: `revocation of “${a.kind === 'revoke' ? a.qualification : ''}”`,
  }[a.kind];
  if (result.ok)
    return {
      confirmed: true,
      message: `${what} of worker ${workerId} confirmed by MTurk${result.alreadyDone ? ' (it was already so)' : ''}`,
    };
  return { confirmed: false, message: `${what} not done: ${result.message} [${result.code}]` };
}
