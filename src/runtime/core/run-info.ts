/**
 * What the runtime reports about a run, from its supervisor when the run is loaded and from the
 * store otherwise, and waiting for a run to reach a condition.
 *
 * @module
 */
import type { AssignmentState } from '../../../machines/index.js';
import { HitstateError } from '../../errors.js';
import type { Store } from '../../store/open-store.js';
import type { TaskRunStatus } from '../../store/types.js';
import type { RuntimeEventBus } from './events.js';
import type { RunHost } from '../supervisor/supervisor.js';

/** A run as the runtime reports it. */
export interface TaskRunInfo {
  readonly runId: string;
  readonly requesterName: string;
  readonly status: TaskRunStatus;
  readonly hitTypeId: string | null;
  /** Units by status. */
  readonly counts: Readonly<Record<AssignmentState, number>>;
  /** Whether the run is loaded in this runtime (its supervisor is running). */
  readonly loaded: boolean;
  /** Why setup failed, or launching halted, if it did. */
  readonly problem: string | null;
}

const ZERO_COUNTS: Readonly<Record<AssignmentState, number>> = Object.freeze({
  created: 0,
  launched: 0,
  assigned: 0,
  completed: 0,
  accepted: 0,
  rejected: 0,
  soft_rejected: 0,
  expired: 0,
});

/** @throws HitstateError `HST_ERR_RUN_NOT_FOUND` */
export function runInfoOf(store: Store, run: RunHost | undefined, runId: string): TaskRunInfo {
  const record = store.runs.require(runId);
  if (run !== undefined) {
    const { context } = run.supervisor();
    return {
      runId,
      requesterName: record.requesterName,
      status: run.status(),
      hitTypeId: context.hitTypeId,
      counts: context.counts,
      loaded: true,
      problem: context.failure?.reason ?? context.launchHalt?.reason ?? null,
    };
  }
  return {
    runId,
    requesterName: record.requesterName,
    status: record.status,
    hitTypeId: record.hitTypeId,
    counts: { ...ZERO_COUNTS, ...store.units.statusCounts(runId) },
    loaded: false,
    problem: null,
  };
}

/** Resolves once `predicate(info())` holds, checked now and after every change of the run; rejects when the runtime closes first. */
export function waitForRun(
  events: RuntimeEventBus,
  info: () => TaskRunInfo,
  runId: string,
  predicate: (info: TaskRunInfo) => boolean,
): Promise<TaskRunInfo> {
  return new Promise((resolve, reject) => {
    const check = (): void => {
      const current = info();
      if (!predicate(current)) return;
      cleanup();
      resolve(current);
    };
    const onChange = (event: { runId: string }): void => {
      if (event.runId === runId) check();
    };
    const onClosing = (): void => {
      cleanup();
      reject(
        new HitstateError('HST_ERR_RUNTIME_CLOSED', `the runtime closed while waiting on run ${runId}`, { runId }),
      );
    };
    const cleanup = (): void => {
      events.off('run.progress', onChange);
      events.off('run.statusChanged', onChange);
      events.off('closing', onClosing);
    };
    events.on('run.progress', onChange);
    events.on('run.statusChanged', onChange);
    events.on('closing', onClosing);
    check();
  });
}
