/**
 * The money outbox in use: every call that moves money or creates a HIT is written down (and
 * flushed) before it is made, carries a deterministic token, and has its result recorded. A
 * replay with the same token finds the recorded result instead of calling again; a call MTurk
 * already did answers `alreadyDone`, which counts as success.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { isHitstateError } from '../../errors.js';
import type { MTurkOutcome } from '../../mturk/outcome.js';
import type { Store } from '../../store/open-store.js';
import type { IntentInput, IntentRecord } from '../../store/types.js';
import type { MoneyKind } from '../core/events.js';
import type { RuntimeServices } from '../core/services.js';
import { intentShortfall } from './budget.js';

/** MTurk forgets a UniqueRequestToken after 24 hours; intents older than this are checked on MTurk before a replay. */
export const TOKEN_MEMORY_SAFE_MS = 23 * 3_600_000;

/** How an intent ended. */
export type IntentOutcome<T> =
  | {
      readonly status: 'ok' | 'alreadyDone';
      /** The value of this call, or undefined when the result came from the record (`fromRecord`). */
      readonly value: T | undefined;
      /** The result as recorded in the outbox (plain JSON). */
      readonly recorded: unknown;
      /** True when no call was made: the intent was confirmed before (a replay after a crash). */
      readonly fromRecord: boolean;
      readonly intent: IntentRecord;
    }
  | {
      readonly status: 'failed';
      readonly reason: string;
      readonly retryable: boolean;
      readonly fromRecord: boolean;
      readonly intent: IntentRecord;
    };

/** What to do with an intent. */
export interface IntentCall<T> {
  readonly intent: IntentInput;
  readonly money: MoneyKind;
  /** Makes the call (with the intent's token). */
  call(): Promise<MTurkOutcome<T>>;
  /** The JSON kept in the outbox for a success. */
  record(value: T | undefined, outcome: MTurkOutcome<T>): unknown;
  /**
   * For an intent whose call may already have reached MTurk (a replay: it was recorded by an
   * earlier attempt or process) or that was recorded more than {@link TOKEN_MEMORY_SAFE_MS} ago
   * (MTurk no longer recognises its token): look on MTurk whether it happened, and return the
   * result to record if it did. `old` tells the two apart: within MTurk's token memory a check
   * may answer undefined when it cannot tell, since the call is then repeated with the same token.
   */
  checkOld?(intent: IntentRecord, old: boolean): Promise<unknown | undefined>;
  /** Also call {@link IntentCall.checkOld} on a replay within MTurk's token memory (money: a read is cheaper than doubt). @defaultValue false */
  readonly checkReplays?: boolean;
}

/** Intents this process settled, per store (one runtime per store), for the "confirmed N, still open M" line. */
const settledHere = new WeakMap<Store, Map<string, { confirmed: Set<string>; failed: Set<string> }>>();

function noteSettled(store: Store, settled: IntentRecord): void {
  let runs = settledHere.get(store);
  if (runs === undefined) settledHere.set(store, (runs = new Map()));
  let run = runs.get(settled.runId);
  if (run === undefined) runs.set(settled.runId, (run = { confirmed: new Set(), failed: new Set() }));
  if (settled.state === 'confirmed') run.confirmed.add(settled.token);
  else if (settled.state === 'failed' && settled.failure?.retryable !== true) run.failed.add(settled.token);
}

/** Where a run's money intents stand after a command. */
export interface MoneySettlement {
  readonly runId: string;
  /** Intents this process confirmed (MTurk's answer, or MTurk read back after a replay). */
  readonly confirmed: number;
  /** Intents MTurk refused for good in this process. */
  readonly failed: number;
  /** Intents of the run still open in the store: pending, sent (may have reached MTurk) or failed but retryable. They are replayed by the next command that loads the run, or `resume`. */
  readonly stillOpen: number;
}

/** The settlement line of a run, from the store and what this process settled. */
export function moneySettlement(store: Store, runId: string): MoneySettlement {
  const here = settledHere.get(store)?.get(runId);
  return {
    runId,
    confirmed: here?.confirmed.size ?? 0,
    failed: here?.failed.size ?? 0,
    stillOpen: store.outbox.unconfirmedIntents(runId).length,
  };
}

/**
 * True for the error a governor throws when its gateway closed before the call went out (or while
 * it backed off after an attempt that may have reached MTurk): the intent is handed back, open.
 */
export function isGatewayClosed(err: unknown): boolean {
  return isHitstateError(err, 'HST_ERR_MTURK_UNAVAILABLE') && /gateway (was|is) closed/.test(err.message);
}

/**
 * A store token for an intent that carries no MTurk token (approve, reject...): derived from the
 * command id, so a re-issued command finds its intent again.
 *
 * @example
 * ```ts
 * intentToken('approve', 'r1/A1-W1/approveAssignment/approve@completed#0'); // "hs-approve-…"
 * ```
 */
export function intentToken(kind: string, commandId: string): string {
  const digest = createHash('sha256')
    .update(JSON.stringify(['hitstate-intent-v1', kind, commandId]))
    .digest('hex');
  return `hs-${kind.toLowerCase()}-${digest.slice(0, 32)}`;
}

/**
 * Records the intent (on disk before anything else), makes the call unless the intent already
 * settled, and records the result. Never throws for MTurk's answers; a thrown error (credentials,
 * a bug) marks the intent failed-retryable and is rethrown.
 *
 * @throws HitstateError `HST_ERR_STORE_WRITE_FAILED` when the intent could not be written (no call is made).
 */
export async function performIntent<T>(services: RuntimeServices, spec: IntentCall<T>): Promise<IntentOutcome<T>> {
  const { store, clock, events } = services;
  // A replay (the token is known): an earlier attempt, maybe in a process that was killed, may have reached MTurk.
  const replay = store.outbox.intentByToken(spec.intent.token) !== undefined;
  // The run's budget is checked before a new intent is written: a refusal leaves no trace to replay.
  const refusal = replay ? null : intentShortfall(store, spec.intent);
  if (refusal !== null) return refusedForBudget(spec.intent, refusal, clock.now());
  const intent = await store.outbox.recordIntent(spec.intent);
  if (intent.state === 'confirmed')
    return { status: 'ok', value: undefined, recorded: intent.result, fromRecord: true, intent };
  if (intent.state === 'failed' && intent.failure?.retryable !== true) {
    return {
      status: 'failed',
      reason: intent.failure?.reason ?? 'failed before',
      retryable: false,
      fromRecord: true,
      intent,
    };
  }
  const replayed = intent.attempts > 0;
  const emitMoved = (outcome: 'ok' | 'alreadyDone', settled: IntentRecord): void => {
    events.emit('money.moved', {
      runId: settled.runId,
      kind: spec.money,
      token: settled.token,
      outcome,
      replayed,
      unitId: settled.unitId,
      agentId: settled.agentId,
      workerId: settled.workerId,
      assignmentId: settled.assignmentId,
      hitId: settled.hitId,
      amountUsd: settled.amountUsd,
      at: clock.now(),
    });
  };
  // A replayed intent may have been sent even if the disk says pending (markSent is not flushed
  // before the call): MTurk is read first, so what happened is confirmed, never sent again blindly.
  const old = clock.now() - intent.createdAt > TOKEN_MEMORY_SAFE_MS;
  if (spec.checkOld !== undefined && (old || (replay && spec.checkReplays === true))) {
    const found = await spec.checkOld(intent, old);
    if (found !== undefined) {
      if (store.outbox.intentByToken(intent.token)?.state !== 'sent') store.outbox.markSent(intent.token);
      const settled = store.outbox.markConfirmed(intent.token, found);
      noteSettled(store, settled);
      emitMoved('alreadyDone', settled);
      return { status: 'alreadyDone', value: undefined, recorded: found, fromRecord: true, intent: settled };
    }
  }
  store.outbox.markSent(intent.token);
  let outcome: MTurkOutcome<T>;
  try {
    outcome = await spec.call();
  } catch (err) {
    // Cut short by closing: the intent stays sent (open, "may have reached MTurk"), so the next
    // command or resume reads MTurk and confirms it; "nothing was sent" is not known for a replay.
    if (!isGatewayClosed(err))
      store.outbox.markFailed(
        intent.token,
        `the call threw: ${err instanceof Error ? err.message : String(err)}`,
        true,
      );
    throw err;
  }
  if (outcome.status === 'ok' || outcome.status === 'alreadyDone') {
    const value = outcome.status === 'ok' ? outcome.value : undefined;
    const recorded = spec.record(value, outcome);
    const settled = store.outbox.markConfirmed(intent.token, recorded);
    noteSettled(store, settled);
    emitMoved(outcome.status, settled);
    return { status: outcome.status, value, recorded, fromRecord: false, intent: settled };
  }
  const settled = store.outbox.markFailed(intent.token, outcome.message, outcome.retryable);
  noteSettled(store, settled);
  return {
    status: 'failed',
    reason: outcome.message,
    retryable: outcome.retryable,
    fromRecord: false,
    intent: settled,
  };
}

/** The outcome of an intent the budget refused: failed for good, never recorded (the record is only reported). */
function refusedForBudget<T>(input: IntentInput, reason: string, now: number): IntentOutcome<T> {
  const intent: IntentRecord = Object.freeze({
    token: input.token,
    kind: input.kind,
    state: 'failed' as const,
    runId: input.runId,
    unitId: input.unitId ?? null,
    agentId: input.agentId ?? null,
    workerId: input.workerId ?? null,
    assignmentId: input.assignmentId ?? null,
    hitId: input.hitId ?? null,
    amountUsd: input.amountUsd ?? null,
    args: {},
    attempts: 0,
    createdAt: now,
    sentAt: null,
    settledAt: now,
    result: null,
    failure: { reason, retryable: false },
  });
  return {
    status: 'failed',
    reason: `${reason} [HST_ERR_BUDGET_EXCEEDED]`,
    retryable: false,
    fromRecord: false,
    intent,
  };
}
