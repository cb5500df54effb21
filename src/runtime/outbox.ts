/**
 * The money outbox in use: every call that moves money or creates a HIT is written down (and
 * flushed) before it is made, carries a deterministic token, and has its result recorded. A
 * replay with the same token finds the recorded result instead of calling again; a call MTurk
 * already did answers `alreadyDone`, which counts as success.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import type { MTurkOutcome } from '../mturk/outcome.js';
import type { IntentInput, IntentRecord } from '../store/types.js';
import type { MoneyKind } from './events.js';
import type { RuntimeServices } from './services.js';

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
   * For an intent recorded more than {@link TOKEN_MEMORY_SAFE_MS} ago (it may have been sent, and
   * MTurk no longer recognises its token): look on MTurk whether it happened. Return the result to
   * record if it did.
   */
  checkOld?(intent: IntentRecord): Promise<unknown | undefined>;
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
  // An old intent may have been sent even if the disk says pending (markSent is not flushed before the call).
  if (spec.checkOld !== undefined && clock.now() - intent.createdAt > TOKEN_MEMORY_SAFE_MS) {
    const found = await spec.checkOld(intent);
    if (found !== undefined) {
      if (store.outbox.intentByToken(intent.token)?.state !== 'sent') store.outbox.markSent(intent.token);
      const settled = store.outbox.markConfirmed(intent.token, found);
      emitMoved('alreadyDone', settled);
      return { status: 'alreadyDone', value: undefined, recorded: found, fromRecord: true, intent: settled };
    }
  }
  store.outbox.markSent(intent.token);
  let outcome: MTurkOutcome<T>;
  try {
    outcome = await spec.call();
  } catch (err) {
    store.outbox.markFailed(intent.token, `the call threw: ${err instanceof Error ? err.message : String(err)}`, true);
    throw err;
  }
  if (outcome.status === 'ok' || outcome.status === 'alreadyDone') {
    const value = outcome.status === 'ok' ? outcome.value : undefined;
    const recorded = spec.record(value, outcome);
    const settled = store.outbox.markConfirmed(intent.token, recorded);
    emitMoved(outcome.status, settled);
    return { status: outcome.status, value, recorded, fromRecord: false, intent: settled };
  }
  const settled = store.outbox.markFailed(intent.token, outcome.message, outcome.retryable);
  return {
    status: 'failed',
    reason: outcome.message,
    retryable: outcome.retryable,
    fromRecord: false,
    intent: settled,
  };
}
