/**
 * The money outbox. Every MTurk call with side effects (creating a HIT, approving, rejecting,
 * paying a bonus, blocking...) is written down as an intent with a deterministic
 * UniqueRequestToken and flushed to disk before the call is made; after a crash the runtime
 * replays the intents not yet confirmed, with the same token, so nothing is done twice.
 *
 * States: pending → sent → confirmed | failed. A retryable failure may be sent again; a pending
 * intent may be failed without being sent (abandoned). Every other move is refused.
 *
 * @module
 */
import { HitstateError } from '../../errors.js';
import {
  cloneJson,
  cloneJsonObject,
  deepFreeze,
  jsonEqual,
  type ReadonlyJson,
  type ReadonlyJsonObject,
} from '../json.js';
import type { RunState, StoreState } from '../store-state.js';
import { INTENT_KINDS, IntentKind, type IntentInput, type IntentRecord, type IntentState } from '../types.js';
import { checkId, checkOneOf, checkText, checkToken, checkUsd } from '../validate.js';

/** The money outbox of every run. */
export interface OutboxCollection {
  /**
   * Writes an intent down and resolves once it is on disk: only then may the call be made.
   * Recording the same token again with the same content resolves with the existing intent
   * (a replay); with other content it is refused.
   * @throws HST_ERR_STORE_DUPLICATE, HST_ERR_STORE_INVALID_RECORD, HST_ERR_RUN_NOT_FOUND,
   *   HST_ERR_UNIT_NOT_FOUND, HST_ERR_AGENT_NOT_FOUND, HST_ERR_STORE_WRITE_FAILED (the intent stays
   *   pending in memory and is written with the next write; do not make the call).
   * @example
   * ```ts
   * const intent = await store.outbox.recordIntent({ kind: 'approve', runId, agentId, assignmentId, token, args: { AssignmentId: assignmentId } });
   * store.outbox.markSent(intent.token);
   * const result = await gateway.approveAssignment(...);
   * store.outbox.markConfirmed(intent.token, result);
   * ```
   */
  recordIntent(input: IntentInput): Promise<IntentRecord>;
  /** pending, sent (a replay) or retryably failed → sent; counts the attempt. @throws HST_ERR_STORE_INTENT_STATE, HST_ERR_STORE_NOT_FOUND */
  markSent(token: string): IntentRecord;
  /** sent → confirmed, keeping MTurk's answer (plain JSON). @throws HST_ERR_STORE_INTENT_STATE, HST_ERR_STORE_NOT_FOUND */
  markConfirmed(token: string, result?: unknown): IntentRecord;
  /** pending or sent → failed. @throws HST_ERR_STORE_INTENT_STATE, HST_ERR_STORE_NOT_FOUND */
  markFailed(token: string, reason: string, retryable: boolean): IntentRecord;
  /** Intents to replay: pending, sent, or failed but retryable; oldest first. */
  unconfirmedIntents(runId?: string): readonly IntentRecord[];
  intentByToken(token: string): IntentRecord | undefined;
  /** Every intent of the run, oldest first. @throws HST_ERR_RUN_NOT_FOUND */
  ofRun(runId: string): readonly IntentRecord[];
}

const isOpen = (i: IntentRecord): boolean =>
  i.state === 'pending' || i.state === 'sent' || (i.state === 'failed' && i.failure?.retryable === true);

function sameIntent(a: IntentRecord, b: IntentRecord): boolean {
  return (
    a.kind === b.kind &&
    a.runId === b.runId &&
    a.unitId === b.unitId &&
    a.agentId === b.agentId &&
    a.workerId === b.workerId &&
    a.assignmentId === b.assignmentId &&
    a.hitId === b.hitId &&
    a.amountUsd === b.amountUsd &&
    jsonEqual(a.args, b.args)
  );
}

const byCreation = (a: IntentRecord, b: IntentRecord): number => a.createdAt - b.createdAt;

export function outboxCollection(state: StoreState, flush: () => Promise<void>): OutboxCollection {
  const find = (token: string): { run: RunState; intent: IntentRecord } => {
    state.assertOpen();
    const run = state.intentRunOf(token);
    const intent = run?.outbox.get(token);
    if (run === undefined || intent === undefined)
      throw new HitstateError('HST_ERR_STORE_NOT_FOUND', `no money intent with token "${token}" in this store`, {
        field: 'token',
      });
    return { run, intent };
  };
  const move = (
    token: string,
    allowed: (i: IntentRecord) => boolean,
    to: IntentState,
    change: Partial<IntentRecord>,
  ): IntentRecord => {
    const { run, intent } = find(token);
    if (!allowed(intent)) {
      const retry = intent.state === 'failed' ? (intent.failure?.retryable ? ' (retryable)' : ' (not retryable)') : '';
      throw new HitstateError(
        'HST_ERR_STORE_INTENT_STATE',
        `money intent "${token}" (${intent.kind}) is ${intent.state}${retry} and cannot become ${to}`,
        { field: 'token', runId: intent.runId },
      );
    }
    const record = deepFreeze({ ...intent, ...change, state: to }) as IntentRecord;
    run.outbox.put(token, record);
    state.changed();
    if (isOpen(record)) run.openIntents.add(token);
    else run.openIntents.delete(token);
    return record;
  };
  return {
    async recordIntent(input) {
      state.assertWritable();
      const token = checkToken(input.token, 'token');
      const run = state.run(input.runId);
      const kind = checkOneOf(input.kind, INTENT_KINDS, 'kind');
      const unitId = input.unitId === undefined ? null : state.unit(input.unitId).unit.id;
      const agentId = input.agentId === undefined ? null : state.agent(input.agentId).agent.id;
      for (const [field, id] of [
        ['unitId', unitId],
        ['agentId', agentId],
      ] as const) {
        const owner = id === null ? null : (field === 'unitId' ? state.unitRun : state.agentRun).get(id)!.id;
        if (owner !== null && owner !== run.id)
          throw new HitstateError(
            'HST_ERR_STORE_INVALID_RECORD',
            `${field} "${id}" belongs to run "${owner}", not "${run.id}"`,
            { field },
          );
      }
      const amountUsd = input.amountUsd === undefined ? null : checkUsd(input.amountUsd, 'amountUsd');
      if (kind === IntentKind.bonus && (amountUsd === null || Number(amountUsd) <= 0)) {
        throw new HitstateError(
          'HST_ERR_STORE_INVALID_RECORD',
          `a bonus intent needs amountUsd above "0.00", got ${JSON.stringify(input.amountUsd)}`,
          { field: 'amountUsd' },
        );
      }
      const record: IntentRecord = deepFreeze({
        token,
        kind,
        state: 'pending' as const,
        runId: run.id,
        unitId,
        agentId,
        workerId: input.workerId === undefined ? null : checkId(input.workerId, 'workerId'),
        assignmentId: input.assignmentId === undefined ? null : checkId(input.assignmentId, 'assignmentId'),
        hitId: input.hitId === undefined ? null : checkId(input.hitId, 'hitId'),
        amountUsd,
        args: cloneJsonObject(input.args, 'args') as ReadonlyJsonObject,
        attempts: 0,
        createdAt: state.clock.now(),
        sentAt: null,
        settledAt: null,
        result: null,
        failure: null,
      });
      const existing = state.intentRunOf(token)?.outbox.get(token);
      if (existing !== undefined) {
        if (!sameIntent(existing, record)) {
          throw new HitstateError(
            'HST_ERR_STORE_DUPLICATE',
            `token "${token}" belongs to another money intent (${existing.kind} of run "${existing.runId}"); tokens must be unique per call`,
            { field: 'token', runId: run.id },
          );
        }
        await flush();
        return existing;
      }
      run.outbox.put(token, record);
      state.changed();
      state.intentRun.set(token, run);
      run.openIntents.add(token);
      await flush();
      return record;
    },
    markSent(token) {
      state.assertWritable();
      const now = state.clock.now();
      const { intent } = find(token);
      return move(token, isOpen, 'sent', { attempts: intent.attempts + 1, sentAt: now, failure: null });
    },
    markConfirmed(token, result) {
      state.assertWritable();
      const stored = result === undefined ? null : (cloneJson(result, 'result') as ReadonlyJson);
      return move(token, (i) => i.state === 'sent', 'confirmed', { result: stored, settledAt: state.clock.now() });
    },
    markFailed(token, reason, retryable) {
      state.assertWritable();
      const failure = { reason: checkText(reason, 'reason', 4096), retryable: retryable === true };
      return move(token, (i) => i.state === 'pending' || i.state === 'sent', 'failed', {
        failure,
        settledAt: state.clock.now(),
      });
    },
    unconfirmedIntents(runId) {
      state.assertOpen();
      const runs = runId === undefined ? [...state.runs.values()] : [state.run(runId)];
      return runs.flatMap((run) => [...run.openIntents].map((t) => run.outbox.get(t)!)).sort(byCreation);
    },
    intentByToken(token) {
      state.assertOpen();
      return state.intentRunOf(token)?.outbox.get(token);
    },
    ofRun(runId) {
      state.assertOpen();
      return [...state.run(runId).outbox.values()].sort(byCreation);
    },
  };
}
