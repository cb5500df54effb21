/**
 * Where the gateways' audit events go: the store's audit trail (in the run's own file when the
 * call belongs to a run) and the runtime's `mturk.call` event.
 *
 * @module
 */
import type { MTurkCallEvent } from '../../mturk/audit.js';
import type { Store } from '../../store/open-store.js';
import type { RuntimeEventBus } from './events.js';

/** The run an audited call belongs to: by its token, its HIT or its assignment. */
function runOf(
  store: Store,
  event: MTurkCallEvent,
  runOfAssignment: (assignmentId: string) => string | null,
): string | null {
  if (event.token !== undefined) {
    const intent = store.outbox.intentByToken(event.token);
    if (intent !== undefined) return intent.runId;
  }
  const hitId = event.ids.hitId;
  if (hitId !== undefined) {
    const hit = store.hits.get(hitId);
    if (hit !== undefined) return hit.runId;
  }
  const assignmentId = event.ids.assignmentId;
  return assignmentId === undefined ? null : runOfAssignment(assignmentId);
}

/**
 * A listener for `gateway.events` `mturk.call`. Never throws: a store that is closed or refuses
 * the entry is reported through `onError`.
 */
export function auditSink(
  store: Store,
  events: RuntimeEventBus,
  runOfAssignment: (assignmentId: string) => string | null,
  onError: (error: unknown) => void,
): (event: MTurkCallEvent) => void {
  return (event) => {
    let runId: string | null = null;
    try {
      runId = runOf(store, event, runOfAssignment);
      store.audit.append({
        operation: event.operation,
        outcome: event.outcome,
        at: event.startedAtMs,
        ...(runId === null ? {} : { runId }),
        requesterName: event.requester,
        ...(event.requestId === undefined ? {} : { requestId: event.requestId }),
        ...(event.token === undefined ? {} : { token: event.token }),
        attempts: event.attempts,
        durationMs: event.durationMs,
        details: {
          method: event.method,
          lane: event.lane,
          environment: event.environment,
          arguments: event.arguments,
          ids: event.ids,
          ...(event.message === undefined ? {} : { message: event.message }),
          ...(event.turkErrorCode === undefined ? {} : { turkErrorCode: event.turkErrorCode }),
          totalRetryDelayMs: event.totalRetryDelayMs,
        },
      });
    } catch (err) {
      onError(err);
    }
    events.emit('mturk.call', { ...event, runId });
  };
}
