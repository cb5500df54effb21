/**
 * The money commands of an agent: approve, reject, soft-reject and bonus, each through the money
 * outbox. The agent moves only on a confirmed result; "already approved" (auto-approval, a replay)
 * counts as success. A retryable failure (MTurk's "status of: null" right after a submit, an
 * outage) is tried again with backoff before the agent is told.
 *
 * @module
 */
import type { AgentCommand } from '../../../machines/index.js';
import type { IntentRecord, ReviewDecision } from '../../store/types.js';
import { bonusToken } from '../../mturk/tokens.js';
import type { MTurkOutcome } from '../../mturk/outcome.js';
import type { CommandExecutor, CommandResult } from '../commands/command-executor.js';
import { reportCommandFailure } from '../commands/command-executor.js';
import type { MoneyKind } from '../core/events.js';
import { intentToken, performIntent } from './outbox.js';
import type { RunPort } from '../core/run-port.js';

/** Attempts of a review call before the agent hears of the failure, and the first backoff. */
const REVIEW_ATTEMPTS = 3;
const REVIEW_BACKOFF_MS = 30_000;

const INTENT_KIND = {
  approveAssignment: 'approve',
  rejectAssignment: 'reject',
  softRejectAssignment: 'softReject',
  sendBonus: 'bonus',
} as const;
const DECISION: Partial<Record<AgentCommand['kind'], ReviewDecision>> = {
  approveAssignment: 'approved',
  rejectAssignment: 'rejected',
  softRejectAssignment: 'soft_rejected',
};

/** The outbox token of a review command (a bonus uses its MTurk UniqueRequestToken). */
export function reviewToken(runId: string, command: AgentCommand): string {
  return command.kind === 'sendBonus'
    ? bonusToken(runId, command.unitId, command.workerId, bonusKey(command))
    : intentToken(INTENT_KIND[command.kind], command.commandId);
}

/** The bonus key of a bonus command: its assignment and request, so two bonuses differ only by intent. */
function bonusKey(command: { assignmentId: string; requestId: string }): string {
  return `${command.assignmentId}:${command.requestId}`;
}

function callOf(run: RunPort, command: AgentCommand, token: string): () => Promise<MTurkOutcome<unknown>> {
  const gw = run.gateway;
  const feedback =
    'feedback' in command && command.feedback !== null && command.feedback !== ''
      ? { requesterFeedback: command.feedback }
      : {};
  switch (command.kind) {
    case 'approveAssignment':
      return () =>
        gw.approveAssignment({
          assignmentId: command.assignmentId,
          ...feedback,
          overrideRejection: command.overrideRejection,
        });
    case 'rejectAssignment':
      return () => gw.rejectAssignment({ assignmentId: command.assignmentId, requesterFeedback: command.feedback });
    case 'softRejectAssignment':
      return command.overrideRejection
        ? () => gw.approveAssignment({ assignmentId: command.assignmentId, ...feedback, overrideRejection: true })
        : () => gw.softRejectAssignment({ assignmentId: command.assignmentId, ...feedback });
    case 'sendBonus':
      return () =>
        gw.sendBonus({
          workerId: command.workerId,
          assignmentId: command.assignmentId,
          amountUsd: command.amountUsd,
          reason: command.reason,
          runId: run.runId,
          unitId: command.unitId,
          key: bonusKey(command),
          uniqueRequestToken: token,
        });
  }
}

/** Performs one review command and answers the agent. */
export async function performReview(
  run: RunPort,
  command: AgentCommand,
  executor: CommandExecutor,
): Promise<CommandResult> {
  const { clock, store } = run.services;
  const token = reviewToken(run.runId, command);
  const kind = INTENT_KIND[command.kind];
  const money: MoneyKind = kind;
  run.persistNow();
  for (let attempt = 1; ; attempt++) {
    const outcome = await performIntent(run.services, {
      money,
      intent: {
        kind,
        runId: run.runId,
        unitId: command.unitId,
        agentId: command.agentId,
        workerId: command.workerId,
        assignmentId: command.assignmentId,
        token,
        ...(command.kind === 'sendBonus' ? { amountUsd: command.amountUsd } : {}),
        args: {
          requestId: command.requestId,
          commandId: command.commandId,
          ...(command.kind === 'sendBonus' ? { reason: command.reason } : { feedback: command.feedback }),
          ...('overrideRejection' in command ? { overrideRejection: command.overrideRejection } : {}),
        },
      },
      call: callOf(run, command, token),
      record: (_value, outcome) => ({
        status: outcome.status,
        ...(outcome.status === 'alreadyDone' && outcome.assignmentStatus !== undefined
          ? { assignmentStatus: outcome.assignmentStatus }
          : {}),
      }),
      checkReplays: true,
      checkOld: (intent, old) => readBack(run, command, intent, old),
    });
    const at = clock.now();
    if (outcome.status !== 'failed') {
      const decision = DECISION[command.kind];
      if (decision !== undefined && store.agents.get(command.agentId)?.review?.decision !== decision) {
        store.agents.setReview(command.agentId, {
          decision,
          ...('feedback' in command && command.feedback ? { feedback: command.feedback } : {}),
          reviewedAt: at,
        });
      }
      const done =
        outcome.status === 'alreadyDone' ||
        (outcome.fromRecord && (outcome.recorded as { status?: string } | null)?.status === 'alreadyDone');
      run.send(
        done
          ? { type: 'review.alreadyDone', agentId: command.agentId, commandId: command.commandId, at }
          : { type: 'review.succeeded', agentId: command.agentId, commandId: command.commandId, at },
      );
      return { commandId: command.commandId, status: done ? 'alreadyDone' : 'ok' };
    }
    // The process is ending (a CLI command settling, or closing): a retryable failure is handed
    // back instead of waited out. The agent is not told, so it still waits on this command and
    // re-issues it when the run is next loaded; the intent stays open in the store.
    if (outcome.retryable && !outcome.fromRecord && (executor.closed || executor.finishing))
      return {
        commandId: command.commandId,
        status: 'failed',
        reason: outcome.reason,
        retryable: true,
        handedBack: true,
      };
    if (!outcome.retryable || outcome.fromRecord || attempt >= REVIEW_ATTEMPTS) {
      reportCommandFailure(run, command, outcome.reason, outcome.retryable);
      const refuted = !outcome.retryable && refutesSubmission(outcome.reason);
      // MTurk does not hold this assignment as submitted work: the unit asks MTurk again whose
      // submission it holds, so the next review names the assignment MTurk does (issue 13 F1).
      if (refuted)
        run.send({
          type: 'unit.submissionRefuted',
          unitId: command.unitId,
          assignmentId: command.assignmentId,
          reason: outcome.reason,
          at,
        });
      run.send({
        type: 'review.failed',
        agentId: command.agentId,
        commandId: command.commandId,
        reason: outcome.reason,
        retryable: outcome.retryable,
        at,
      });
      const reason = refuted
        ? `${outcome.reason}; unit ${command.unitId} asks MTurk again whose submission it holds (review again to reach the work MTurk names)`
        : outcome.reason;
      return { commandId: command.commandId, status: 'failed', reason, retryable: outcome.retryable };
    }
    await executor.sleep(REVIEW_BACKOFF_MS * 2 ** (attempt - 1));
    if (executor.closed || executor.finishing)
      return {
        commandId: command.commandId,
        status: 'failed',
        reason: outcome.reason,
        retryable: true,
        handedBack: true,
      };
  }
}

/**
 * True when MTurk's refusal of a money call says the assignment is not submitted work it holds:
 * "does not exist" (returned, abandoned, made up) or a state refusal ("can be called with a status
 * of: Submitted"; "status of: null" right after a submit is retryable and never reaches here).
 */
function refutesSubmission(reason: string): boolean {
  return /does ?not ?exist|status of:/i.test(reason);
}

/**
 * Reads MTurk to tell whether a replayed review call already happened: the assignment's status for
 * an approval or rejection (GetAssignment), the worker's bonus payments for a bonus
 * (ListBonusPayments). Returns the result to record, or undefined to make the call (with its
 * token, so MTurk itself refuses a duplicate).
 */
async function readBack(
  run: RunPort,
  command: AgentCommand,
  intent: IntentRecord,
  old: boolean,
): Promise<unknown | undefined> {
  if (command.kind !== 'sendBonus') {
    const got = await run.gateway.getAssignment(command.assignmentId);
    if (got.status !== 'ok') return undefined;
    const status = got.value.assignment.assignmentStatus;
    const done = command.kind === 'rejectAssignment' ? status === 'Rejected' : status === 'Approved';
    return done ? { status: 'alreadyDone', assignmentStatus: status, foundBy: 'GetAssignment' } : undefined;
  }
  const paid = await run.gateway.listBonusPayments({ assignmentId: command.assignmentId });
  if (paid.status !== 'ok') return undefined;
  const same = (i: IntentRecord): boolean =>
    i.kind === 'bonus' &&
    i.token !== intent.token &&
    i.assignmentId === command.assignmentId &&
    i.amountUsd === command.amountUsd &&
    (i.args as { reason?: unknown }).reason === command.reason;
  const others = run.services.store.outbox.ofRun(run.runId).filter(same);
  // Within MTurk's token memory, another open bonus just like this one could explain a payment as
  // well: the call with this intent's token decides, exactly.
  if (!old && others.some((i) => i.state !== 'confirmed' && (i.state !== 'failed' || i.failure?.retryable === true)))
    return undefined;
  // Paid if MTurk shows more such payments (same worker, amount, reason) than other confirmed intents explain.
  const count = paid.value.payments.filter(
    (p) => p.workerId === command.workerId && p.amountUsd === command.amountUsd && p.reason === command.reason,
  ).length;
  const explained = others.filter((i) => i.state === 'confirmed').length;
  return count > explained ? { status: 'alreadyDone', foundBy: 'ListBonusPayments' } : undefined;
}
