/**
 * The audit trail of MTurk calls: appended, one JSON line per call, in the run's `audit.jsonl`
 * (or the environment's, for calls that belong to no run). Entries are written with the store's
 * next coalesced write, so an entry is on disk once `flush()` resolves.
 *
 * @module
 */
import { cloneJsonObject, deepFreeze, type ReadonlyJsonObject } from '../json.js';
import type { StoreState } from '../store-state.js';
import type { AuditEntry, AuditInput } from '../types.js';
import { checkInteger, checkOptionalId, checkText, checkTime } from '../validate.js';

/** Which audit entries to read. */
export interface AuditFilter {
  /** The run whose calls to read; omit for the calls that belong to no run. */
  readonly runId?: string;
}

/** The audit trail. */
export interface AuditTrail {
  /**
   * Queues an entry; it reaches the disk with the next write.
   * @throws HST_ERR_RUN_NOT_FOUND for an unknown runId, HST_ERR_STORE_INVALID_RECORD for bad fields.
   */
  append(input: AuditInput): AuditEntry;
  /**
   * The entries of a run (or those of no run), oldest first. Flushes first, so every entry
   * appended before the call is included.
   * @throws HST_ERR_RUN_NOT_FOUND
   */
  entries(filter?: AuditFilter): AsyncIterable<AuditEntry>;
}

export function auditTrail(state: StoreState, flush: () => Promise<void>): AuditTrail {
  return {
    append(input) {
      state.assertWritable();
      const runId = checkOptionalId(input.runId, 'runId');
      const log = runId === null ? state.audit : state.run(runId).audit;
      const entry: AuditEntry = deepFreeze({
        at: input.at === undefined ? state.clock.now() : checkTime(input.at, 'at'),
        operation: checkText(input.operation, 'operation', 128),
        outcome: checkText(input.outcome, 'outcome', 128),
        runId,
        requesterName: checkOptionalId(input.requesterName, 'requesterName'),
        requestId: input.requestId === undefined ? null : checkText(input.requestId, 'requestId', 256),
        token: input.token === undefined ? null : checkText(input.token, 'token', 64),
        attempts: input.attempts === undefined ? null : checkInteger(input.attempts, 'attempts'),
        durationMs: input.durationMs === undefined ? null : checkInteger(Math.round(input.durationMs), 'durationMs'),
        details: input.details === undefined ? null : (cloneJsonObject(input.details, 'details') as ReadonlyJsonObject),
      });
      log.push(entry);
      state.onChange();
      return entry;
    },
    async *entries(filter = {}) {
      state.assertOpen();
      const log = filter.runId === undefined ? state.audit : state.run(filter.runId).audit;
      await flush();
      yield* log.read();
    },
  };
}
