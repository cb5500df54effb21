/**
 * Reviews: approve, reject (feedback required), soft-reject (paid, recorded as rejected) and
 * bonus, for one agent, a unit, a worker or every agent of a run, with a dry run that reports
 * what would happen. Each request goes to the agent machine, which performs it through the money
 * outbox and moves only on MTurk's confirmation; a bonus asked for before the work is submitted
 * is queued by the agent and paid once it is (Mephisto #1081).
 *
 * Request ids are deterministic (the action, the agent's status and, for a bonus, its key), so
 * asking twice never pays twice; a request MTurk refused for good gets a fresh id when asked again.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import type { StateValue } from 'xstate';
import {
  AgentTag,
  agentHasTag,
  agentStatusOf,
  pendingCommands,
  UnitTag,
  unitHasTag,
  unitStatusOf,
  type AgentState,
} from '../../../machines/index.js';
import { HitstateError, type ErrorCode } from '../../errors.js';
import { formatUsd, toCents } from '../../mturk/money.js';
import type { AgentRecord } from '../../store/types.js';
import type { CommandResult } from '../commands/command-executor.js';
import { assertWithinBudget, budgetOf, usd, withFee, type BudgetRequest } from './budget.js';
import { moneySettlement, type MoneySettlement } from './outbox.js';
import type { RunRegistry } from '../core/run-registry.js';
import type { RunHost } from '../supervisor/supervisor.js';

/** Whose work to review. */
export type ReviewTarget =
  | { readonly agentId: string }
  | { readonly unitId: string }
  | { readonly workerId: string }
  | { readonly all: true };

/** What to do. A bonus `key` tells apart several bonuses for the same work (default: from amount and reason). */
export type ReviewAction =
  | { readonly kind: 'approve'; readonly feedback?: string }
  | { readonly kind: 'reject'; readonly feedback: string }
  | { readonly kind: 'softReject'; readonly feedback?: string }
  | { readonly kind: 'bonus'; readonly amountUsd: string; readonly reason: string; readonly key?: string };

/** Options of `runtime.review`. */
export interface ReviewOptions {
  /** Report what would happen; change nothing. @defaultValue false */
  readonly dryRun?: boolean;
  /** Wait for MTurk's answer to each request. @defaultValue true */
  readonly wait?: boolean;
}

/** How one agent's review went. */
export const ReviewOutcome = {
  done: 'done',
  alreadyDone: 'alreadyDone',
  /** A bonus for work not submitted yet: paid once it is. */
  queued: 'queued',
  /** Sent; not waited for (`wait: false`). */
  pending: 'pending',
  refused: 'refused',
  failed: 'failed',
  wouldDo: 'wouldDo',
  wouldQueue: 'wouldQueue',
} as const;
export type ReviewOutcome = (typeof ReviewOutcome)[keyof typeof ReviewOutcome];

/** One agent's line of a review report. */
export interface ReviewItem {
  readonly agentId: string;
  readonly unitId: string;
  readonly workerId: string;
  readonly assignmentId: string;
  readonly statusBefore: AgentState;
  readonly outcome: ReviewOutcome;
  readonly requestId?: string;
  /** Why it was refused or failed. */
  readonly reason?: string;
  readonly code?: ErrorCode;
  readonly retryable?: boolean;
}

/** What a review did (or would do). */
export interface ReviewReport {
  readonly runId: string;
  readonly action: ReviewAction;
  readonly dryRun: boolean;
  readonly items: readonly ReviewItem[];
}

const COMMAND_KIND = {
  approve: 'approveAssignment',
  reject: 'rejectAssignment',
  softReject: 'softRejectAssignment',
  bonus: 'sendBonus',
} as const;
const RECONCILING: ReadonlySet<'reconcileSubmission'> = new Set(['reconcileSubmission'] as const);
/** What the review asks of an agent's state, from its tags. */
interface AgentStanding {
  /** A review or bonus command is under way. */
  readonly busy: boolean;
  /** Nothing submitted yet and the worker has not left. */
  readonly working: boolean;
  readonly submitted: boolean;
}

function standingOf(view: { readonly value: StateValue }): AgentStanding {
  return {
    busy: agentHasTag(view, AgentTag.reviewPending),
    working: agentHasTag(view, AgentTag.working),
    submitted: agentHasTag(view, AgentTag.submitted),
  };
}

/**
 * Checks an action before anything is sent.
 *
 * @throws HitstateError `HST_ERR_MTURK_FEEDBACK_REQUIRED`, `HST_ERR_CONFIG_INVALID`.
 */
export function checkReviewAction(action: ReviewAction): ReviewAction {
  if (
    action.kind === 'reject' &&
    (typeof action.feedback !== 'string' || action.feedback.trim() === '' || action.feedback.length > 1024)
  ) {
    throw new HitstateError(
      'HST_ERR_MTURK_FEEDBACK_REQUIRED',
      'a rejection needs feedback of 1 to 1,024 characters telling the worker why; nothing was sent',
      { field: 'feedback' },
    );
  }
  if (action.kind === 'bonus') {
    if (toCents(action.amountUsd, 'amountUsd') <= 0)
      throw new HitstateError(
        'HST_ERR_CONFIG_INVALID',
        `a bonus needs amountUsd above "0.00", got ${JSON.stringify(action.amountUsd)}`,
        { field: 'amountUsd' },
      );
    if (typeof action.reason !== 'string' || action.reason.trim() === '')
      throw new HitstateError('HST_ERR_CONFIG_INVALID', 'a bonus needs a reason (MTurk shows it to the worker)', {
        field: 'reason',
      });
    return { ...action, amountUsd: formatUsd(toCents(action.amountUsd, 'amountUsd')) };
  }
  if (!['approve', 'reject', 'softReject'].includes(action.kind)) {
    throw new HitstateError(
      'HST_ERR_CONFIG_INVALID',
      `review action kind must be approve, reject, softReject or bonus, got ${JSON.stringify((action as { kind?: unknown }).kind)}`,
      { field: 'kind' },
    );
  }
  return action;
}

/**
 * Whether the agent's unit took the agent's submission as its HIT's, on MTurk's word: stored data
 * alone is only the worker's (a worker can store and then return the HIT, issue 13 F1), so money
 * moves only for work the unit confirmed with MTurk.
 */
function unitHoldsWorkOf(run: RunHost, record: AgentRecord): boolean {
  const unit = run.unit(record.unitId);
  if (unit === undefined || unit.context.agentId !== record.id) return false;
  return unitHasTag(unit, UnitTag.holdsSubmission);
}

/** Why an agent's completed work is not reviewable yet, from its unit's state. */
function unconfirmedReason(run: RunHost, record: AgentRecord): string {
  const unit = run.unit(record.unitId);
  if (unit === undefined) return 'the run has no actor for this agent’s unit';
  if (unit.context.agentId !== record.id)
    return `its unit ${record.unitId} holds another assignment’s submission, the one MTurk names`;
  return `MTurk has not confirmed this work as the submission of HIT ${record.hitId} yet (unit ${record.unitId} is ${unitStatusOf(unit)}); review it once the unit is completed`;
}

/** The agents a target names, from the store. @throws HitstateError `HST_ERR_AGENT_NOT_FOUND`, `HST_ERR_UNIT_NOT_FOUND` */
function agentsOf(run: RunHost, target: ReviewTarget, action: ReviewAction): AgentRecord[] {
  const { store } = run.services;
  if ('agentId' in target) {
    const agent = store.agents.get(target.agentId);
    if (agent === undefined || agent.runId !== run.runId)
      throw new HitstateError('HST_ERR_AGENT_NOT_FOUND', `run ${run.runId} has no agent ${target.agentId}`, {
        runId: run.runId,
        agentId: target.agentId,
      });
    return [agent];
  }
  if ('unitId' in target) {
    const unit = store.units.get(target.unitId);
    if (unit === undefined || unit.runId !== run.runId)
      throw new HitstateError('HST_ERR_UNIT_NOT_FOUND', `run ${run.runId} has no unit ${target.unitId}`, {
        runId: run.runId,
        unitId: target.unitId,
      });
    const agents = store.agents.ofUnit(target.unitId);
    const submitted = agents.filter((a) => a.submittedAt !== null);
    return submitted.length > 0 ? [...submitted] : agents.slice(-1);
  }
  if ('workerId' in target) return store.agents.ofRun(run.runId).filter((a) => a.workerId === target.workerId);
  const all = store.agents.ofRun(run.runId);
  // Work MTurk holds only: a returned or expired agent's stored data is kept for the record, never paid.
  if (action.kind === 'bonus')
    return all.filter((a) => {
      const view = run.agent(a.id);
      return a.submittedAt !== null && view !== undefined && agentHasTag(view, AgentTag.submitted);
    });
  // Awaiting review: idle, or already performing this very action (a review killed mid-way and
  // restored with its command re-issued: the re-run reports it instead of skipping it).
  return all.filter((a) => {
    const view = run.agent(a.id);
    if (view === undefined || agentStatusOf(view) !== 'completed') return false;
    const idle = agentHasTag(view, AgentTag.needsReview);
    if (idle && !unitHoldsWorkOf(run, a)) return false;
    return idle || view.context.review?.kind === action.kind;
  });
}

/**
 * Counts, per agent and request stem, the intents MTurk refused for good: such a request, asked
 * again, gets the next id. Built once per review call (one pass over the run's outbox).
 */
function refusedRequests(run: RunHost): (agentId: string, base: string) => string {
  const counts = new Map<string, number>();
  for (const intent of run.services.store.outbox.ofRun(run.runId)) {
    if (intent.agentId === null || intent.state !== 'failed' || intent.failure?.retryable === true) continue;
    const requestId = (intent.args as { requestId?: unknown }).requestId;
    if (typeof requestId !== 'string') continue;
    const stem = requestId.slice(0, requestId.lastIndexOf('#'));
    const key = `${intent.agentId}\n${stem}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return (agentId, base) => `${base}#${counts.get(`${agentId}\n${base}`) ?? 0}`;
}

function bonusKeyOf(action: Extract<ReviewAction, { kind: 'bonus' }>): string {
  return action.key ?? createHash('sha256').update(`${action.amountUsd}\n${action.reason}`).digest('hex').slice(0, 12);
}

type Verdict =
  | { readonly go: 'do' | 'queue' }
  | { readonly go: 'alreadyDone' }
  | { readonly go: 'refuse'; readonly reason: string };

function verdictOf(
  status: string,
  standing: AgentStanding,
  action: ReviewAction,
  bonusState: 'paid' | 'queued' | 'new',
): Verdict {
  const { busy, working } = standing;
  const refuse = (reason: string): Verdict => ({ go: 'refuse', reason });
  switch (action.kind) {
    case 'approve':
      if (status === 'approved') return { go: 'alreadyDone' };
      if (status === 'completed' || status === 'rejected')
        return busy ? refuse('another review of this agent is under way') : { go: 'do' };
      if (status === 'soft_rejected') return refuse('the work was soft-rejected (already paid on MTurk)');
      return refuse(
        working ? 'the work is not submitted yet' : `the agent is ${status}: there is no submitted work to approve`,
      );
    case 'reject':
      if (status === 'rejected') return { go: 'alreadyDone' };
      if (status === 'completed') return busy ? refuse('another review of this agent is under way') : { go: 'do' };
      if (status === 'approved' || status === 'soft_rejected')
        return refuse('the work was already approved on MTurk and cannot be rejected; soft-reject it instead');
      return refuse(
        working ? 'the work is not submitted yet' : `the agent is ${status}: there is no submitted work to reject`,
      );
    case 'softReject':
      if (status === 'soft_rejected') return { go: 'alreadyDone' };
      if (status === 'completed' || status === 'rejected')
        return busy ? refuse('another review of this agent is under way') : { go: 'do' };
      if (status === 'approved') return refuse('the work was already approved');
      return refuse(
        working ? 'the work is not submitted yet' : `the agent is ${status}: there is no submitted work to soft-reject`,
      );
    case 'bonus':
      if (bonusState === 'paid') return { go: 'alreadyDone' };
      if (bonusState === 'queued') return { go: 'queue' };
      if (standing.submitted) return { go: busy ? 'queue' : 'do' };
      if (working) return { go: 'queue' };
      return refuse(
        `the agent is ${status} and has no submitted assignment to pay a bonus on; pay the worker with a compensation HIT (worker.bonus without a unit)`,
      );
  }
}

/**
 * Reviews the agents `target` names in run `runId`.
 *
 * @throws HitstateError `HST_ERR_RUN_NOT_FOUND`, `HST_ERR_AGENT_NOT_FOUND`, `HST_ERR_UNIT_NOT_FOUND`,
 *   `HST_ERR_MTURK_FEEDBACK_REQUIRED`, `HST_ERR_CONFIG_INVALID`, `HST_ERR_RUNTIME_CLOSED`,
 *   `HST_ERR_BUDGET_EXCEEDED` (nothing was sent).
 */
export async function review(
  runs: RunRegistry,
  runId: string,
  target: ReviewTarget,
  rawAction: ReviewAction,
  options: ReviewOptions = {},
): Promise<ReviewReport> {
  runs.assertOpen();
  const action = checkReviewAction(rawAction);
  const run = await runs.ensure(runId);
  const dryRun = options.dryRun === true;
  const wait = options.wait !== false;
  // A unit restored while reconciling a submission MTurk holds (its command re-issued on load) gets
  // its agent only once that command ends: wait, or `--all` would skip work MTurk says was submitted.
  if (wait && !dryRun) await run.executor.drainKinds(RECONCILING);
  const items: ReviewItem[] = [];
  const waits: Array<Promise<void>> = [];
  const nextRequestId = refusedRequests(run);
  const agents = agentsOf(run, target, action);
  // The whole request is checked against the run's budget before any of it is sent (runs without one skip the ledger).
  if (typeof run.services.store.runs.require(run.runId).config.budget === 'string')
    assertWithinBudget(budgetOf(run.services.store, run.runId), budgetRequestOf(run, agents, action));
  for (const record of agents) {
    const view = run.agent(record.id);
    const base = {
      agentId: record.id,
      unitId: record.unitId,
      workerId: record.workerId,
      assignmentId: record.assignmentId,
    };
    if (view === undefined) {
      items.push({
        ...base,
        statusBefore: record.status,
        outcome: 'refused',
        reason: 'the run has no actor for this agent',
        code: 'HST_ERR_REVIEW_STATE',
      });
      continue;
    }
    const status = agentStatusOf(view);
    const standing = standingOf(view);
    const context = view.context;
    const requestBase = action.kind === 'bonus' ? `bonus:${bonusKeyOf(action)}` : `${action.kind}@${status}`;
    const stem = `${requestBase}#`;
    const bonusState = bonusStateOf(context, action, stem);
    const statusBefore = status as AgentState;
    const pending = context.review;
    const joins =
      standing.busy &&
      pending !== null &&
      pending.kind === action.kind &&
      (action.kind !== 'bonus' || pending.requestId.startsWith(stem));
    if (joins && !dryRun) {
      // The same request is under way (re-issued after a restore): report its result, not "refused" or "queued".
      const commandId = `${run.runId}/${record.id}/${COMMAND_KIND[action.kind]}/${pending.requestId}`;
      if (!run.executor.has(commandId) && !run.executor.closed)
        for (const command of pendingCommands(view)) run.executor.enqueue(command);
      const at = { ...base, statusBefore, requestId: pending.requestId };
      if (!wait) {
        items.push({ ...at, outcome: 'pending' });
        continue;
      }
      const index = items.length;
      items.push({ ...at, outcome: 'pending' });
      waits.push(
        run.executor.waitFor(commandId).then((r) => {
          items[index] = itemOf(at, r);
        }),
      );
      continue;
    }
    const asked = verdictOf(status, standing, action, bonusState);
    const verdict: Verdict =
      (asked.go === 'do' || asked.go === 'queue') && status === 'completed' && !unitHoldsWorkOf(run, record)
        ? { go: 'refuse', reason: unconfirmedReason(run, record) }
        : asked;
    if (verdict.go === 'refuse') {
      items.push({ ...base, statusBefore, outcome: 'refused', reason: verdict.reason, code: 'HST_ERR_REVIEW_STATE' });
      continue;
    }
    if (verdict.go === 'alreadyDone') {
      items.push({ ...base, statusBefore, outcome: 'alreadyDone' });
      continue;
    }
    if (dryRun) {
      items.push({ ...base, statusBefore, outcome: verdict.go === 'queue' ? 'wouldQueue' : 'wouldDo' });
      continue;
    }
    if (bonusState === 'queued') {
      items.push({ ...base, statusBefore, outcome: 'queued' });
      continue;
    }
    const requestId = nextRequestId(record.id, requestBase);
    const commandId = `${run.runId}/${record.id}/${COMMAND_KIND[action.kind]}/${requestId}`;
    const at = run.services.clock.now();
    switch (action.kind) {
      case 'approve':
        run.send({
          type: 'review.approve',
          agentId: record.id,
          requestId,
          ...(action.feedback === undefined ? {} : { feedback: action.feedback }),
          at,
        });
        break;
      case 'reject':
        run.send({ type: 'review.reject', agentId: record.id, requestId, feedback: action.feedback, at });
        break;
      case 'softReject':
        run.send({
          type: 'review.softReject',
          agentId: record.id,
          requestId,
          ...(action.feedback === undefined ? {} : { feedback: action.feedback }),
          at,
        });
        break;
      case 'bonus':
        run.send({
          type: 'review.bonus',
          agentId: record.id,
          requestId,
          amountUsd: action.amountUsd,
          reason: action.reason,
          at,
        });
        break;
    }
    const after = run.agent(record.id)?.context;
    const performing = after?.review?.requestId === requestId;
    if (!performing) {
      const queued = after?.bonusQueue.some((b) => b.requestId === requestId) ?? false;
      items.push({
        ...base,
        statusBefore,
        requestId,
        ...(queued
          ? { outcome: 'queued' as const }
          : {
              outcome: 'refused' as const,
              reason: 'the agent did not take the request in its current state',
              code: 'HST_ERR_REVIEW_STATE' as const,
            }),
      });
      continue;
    }
    if (!wait) {
      items.push({ ...base, statusBefore, requestId, outcome: 'pending' });
      continue;
    }
    // The command runs after this turn, so waiting on it from here misses nothing.
    const result = run.executor.waitFor(commandId);
    const index = items.length;
    items.push({ ...base, statusBefore, requestId, outcome: 'pending' });
    waits.push(
      result.then((r) => {
        items[index] = itemOf({ ...base, statusBefore, requestId }, r);
      }),
    );
  }
  await Promise.all(waits);
  return { runId, action, dryRun, items };
}

type AgentContext = NonNullable<ReturnType<RunHost['agent']>>['context'];

function bonusStateOf(context: AgentContext, action: ReviewAction, stem: string): 'paid' | 'queued' | 'new' {
  if (action.kind !== 'bonus') return 'new';
  if (context.paidBonuses.some((id) => id.startsWith(stem))) return 'paid';
  return context.bonusQueue.some((b) => b.requestId.startsWith(stem)) ||
    (context.review?.requestId.startsWith(stem) ?? false)
    ? 'queued'
    : 'new';
}

/**
 * The money a review adds beyond what the run holds: a new bonus (amount + fee per agent that would
 * get it), or paying rejected work (reward + fee: the rejection released its hold). Approving or
 * rejecting submitted work adds nothing: its reward is held since the unit was launched.
 */
function budgetRequestOf(run: RunHost, agents: readonly AgentRecord[], action: ReviewAction): BudgetRequest {
  let count = 0;
  let cents = 0;
  for (const record of agents) {
    const view = run.agent(record.id);
    if (view === undefined) continue;
    const status = agentStatusOf(view);
    const standing = standingOf(view);
    if (action.kind === 'bonus') {
      const stem = `bonus:${bonusKeyOf(action)}#`;
      const state = bonusStateOf(view.context, action, stem);
      if (state !== 'new') continue;
      const verdict = verdictOf(status, standing, action, state);
      if (verdict.go !== 'do' && verdict.go !== 'queue') continue;
      count++;
      cents += withFee(toCents(action.amountUsd));
    } else if ((action.kind === 'approve' || action.kind === 'softReject') && status === 'rejected') {
      if (verdictOf(status, standing, action, 'new').go !== 'do') continue;
      count++;
      cents += withFee(toCents(run.services.store.units.get(record.unitId)?.payAmountUsd ?? '0'));
    }
  }
  const agentsText = `${count} agent${count === 1 ? '' : 's'}`;
  return {
    what:
      action.kind === 'bonus'
        ? `a bonus of ${usd(toCents(action.amountUsd))} to ${agentsText}`
        : `paying the rejected work of ${agentsText}`,
    addsCents: cents,
  };
}

/** A review line from its command's result. */
function itemOf(at: Omit<ReviewItem, 'outcome'>, r: CommandResult): ReviewItem {
  if (r.status !== 'failed') return { ...at, outcome: r.status === 'alreadyDone' ? 'alreadyDone' : 'done' };
  return {
    ...at,
    outcome: 'failed',
    reason:
      r.handedBack === true
        ? `${r.reason ?? 'failed'}; not waited out: the request stays open and runs again on the next command or resume`
        : (r.reason ?? 'failed'),
    retryable: r.retryable ?? false,
  };
}

/**
 * Waits until the money of a loaded run is settled, before the process ends: every money command
 * under way (a review, a replayed intent, a launch) confirmed, failed for good, or handed back to
 * the store as still open (a retryable failure is not waited out: it runs again when the run is
 * next loaded), and the HITs it finished disposed. Meant for the end of a command (the CLI calls it
 * before `close()`): afterwards a retryable review failure is no longer retried in this runtime.
 *
 * @throws HitstateError `HST_ERR_RUN_NOT_FOUND`.
 */
export async function settleMoney(runs: RunRegistry, runId: string): Promise<MoneySettlement> {
  const { store } = runs.services;
  const run = runs.loaded(runId);
  if (run !== undefined) {
    run.executor.finish();
    do {
      await run.executor.drainMoney();
      // Units finished by the last results are seen (and their HITs disposed) once the actors are saved.
      run.persistNow();
      run.disposal.disposeFinished();
      await run.disposal.settled();
    } while (run.executor.moneyUnderWay > 0);
    run.persistNow();
    await store.flush();
  }
  return moneySettlement(store, runId);
}
