/**
 * Paying a worker outside an assignment: a compensation HIT only that worker can take (the
 * gateway's `createCompensationHIT`), through the money outbox, so a repeat (or a replay after a
 * crash) with the same key never creates a second one.
 *
 * @module
 */
import { compensationToken } from '../../mturk/tokens.js';
import type { IntentRecord } from '../../store/types.js';
import { performIntent, type IntentOutcome } from './outbox.js';
import type { RuntimeServices } from '../core/services.js';

/** What a compensation pays, and to whom. */
export interface CompensationInput {
  readonly runId: string;
  readonly workerId: string;
  /** Dollar string, e.g. "1.00". */
  readonly amountUsd: string;
  readonly reason: string;
  /** The same key never creates a second compensation HIT for the worker in the run. */
  readonly key: string;
  readonly requester: string;
}

/** Creates (or finds again) the compensation HIT through the outbox. The recorded result is `{ hitId }`. */
export function performCompensation(
  services: RuntimeServices,
  input: CompensationInput,
): Promise<IntentOutcome<unknown>> {
  const gw = services.gatewayFor(input.requester);
  return performIntent(services, {
    money: 'compensation',
    intent: {
      kind: 'bonus',
      runId: input.runId,
      workerId: input.workerId,
      token: compensationToken(input.runId, input.workerId, input.key),
      amountUsd: input.amountUsd,
      args: { compensation: true, reason: input.reason, key: input.key, requester: input.requester },
    },
    call: () =>
      gw.createCompensationHIT({
        workerId: input.workerId,
        rewardUsd: input.amountUsd,
        reason: input.reason,
        runId: input.runId,
        key: input.key,
        storeId: services.store.ensureStoreId(),
      }),
    record: (value, result) => ({
      hitId:
        (value as { hitId?: string } | undefined)?.hitId ??
        (result.status === 'alreadyDone' ? (result.hitId ?? null) : null),
    }),
  });
}

/** The compensation an intent was recorded for, or undefined when it is not a compensation. */
export function compensationOfIntent(intent: IntentRecord): CompensationInput | undefined {
  const args = intent.args as { compensation?: unknown; reason?: unknown; key?: unknown; requester?: unknown };
  if (intent.kind !== 'bonus' || args.compensation !== true || intent.workerId === null || intent.amountUsd === null)
    return undefined;
  if (typeof args.reason !== 'string' || typeof args.key !== 'string' || typeof args.requester !== 'string')
    return undefined;
  return {
    runId: intent.runId,
    workerId: intent.workerId,
    amountUsd: intent.amountUsd,
    reason: args.reason,
    key: args.key,
    requester: args.requester,
  };
}
