/**
 * Task runs: configuration, HIT type, frame height and status, in `store.json`. Creating a run
 * creates its (still empty) per-run files.
 *
 * @module
 */
import { HitstateError } from '../../errors.js';
import { cloneJsonObject, deepFreeze, type ReadonlyJsonObject } from '../json.js';
import type { StoreState } from '../store-state.js';
import { TASK_RUN_STATUSES, TaskRunStatus, type TaskRunRecord } from '../types.js';
import { checkId, checkInteger, checkOneOf, checkRunId } from '../validate.js';

/** What `runs.create` takes. */
export interface TaskRunInput {
  readonly runId: string;
  readonly requesterName: string;
  /** The task configuration, plain JSON; stored as a frozen copy. */
  readonly config: object;
  /** @defaultValue 0 (the whole window) */
  readonly frameHeight?: number;
  /** @defaultValue 'created' */
  readonly status?: TaskRunStatus;
}

/** The task runs of the store. */
export interface RunsCollection {
  /**
   * Records a new run.
   * @throws HST_ERR_STORE_DUPLICATE when the id is taken (also case-insensitively: it names a directory),
   *   HST_ERR_STORE_NOT_FOUND for an unknown requester, HST_ERR_STORE_INVALID_RECORD for bad fields.
   */
  create(input: TaskRunInput): TaskRunRecord;
  get(runId: string): TaskRunRecord | undefined;
  /** @throws HST_ERR_RUN_NOT_FOUND */
  require(runId: string): TaskRunRecord;
  /** Every run, oldest first. */
  list(): readonly TaskRunRecord[];
  /** Runs not `done`: the ones to resume after a restart. */
  unfinished(): readonly TaskRunRecord[];
  /** Sets the status; reaching `done` records `finishedAt`. @throws HST_ERR_RUN_NOT_FOUND */
  setStatus(runId: string, status: TaskRunStatus): TaskRunRecord;
  /** Records the HIT type once `CreateHITType` answered. @throws HST_ERR_RUN_NOT_FOUND */
  setHitType(runId: string, hitTypeId: string): TaskRunRecord;
  /**
   * Replaces the run's configuration (a raised `budget`, units added to `units`); stored as a frozen
   * copy. Callers check the new config first. @throws HST_ERR_RUN_NOT_FOUND
   */
  setConfig(runId: string, config: object): TaskRunRecord;
}

export function runsCollection(state: StoreState): RunsCollection {
  const runs = () => state.core.data.runs;
  const get = (runId: string): TaskRunRecord | undefined => {
    state.assertOpen();
    return runs().get(runId);
  };
  const require = (runId: string): TaskRunRecord => {
    const run = get(runId);
    if (run === undefined) state.run(runId);
    return run!;
  };
  const replace = (old: TaskRunRecord, change: Partial<TaskRunRecord>): TaskRunRecord => {
    const record = Object.freeze({ ...old, ...change, updatedAt: state.clock.now() });
    runs().set(old.id, record);
    state.changedRecord('runs', null, old.id);
    return record;
  };
  return {
    create(input) {
      state.assertWritable();
      const id = checkRunId(input.runId, 'runId');
      const lower = id.toLowerCase();
      const clash = [...runs().keys()].find((other) => other.toLowerCase() === lower);
      if (clash !== undefined) {
        throw new HitstateError(
          'HST_ERR_STORE_DUPLICATE',
          `a task run "${clash}" exists already${clash === id ? '' : ' (run ids name directories, so case does not count)'}; use a new run id`,
          { runId: id, field: 'runId' },
        );
      }
      const requesterName = checkId(input.requesterName, 'requesterName');
      if (!state.core.data.requesters.has(requesterName)) {
        throw new HitstateError(
          'HST_ERR_STORE_NOT_FOUND',
          `requester "${requesterName}" of run "${id}" is not in this store; add it with requesters.put() first`,
          { runId: id, field: 'requesterName' },
        );
      }
      const now = state.clock.now();
      const status = checkOneOf(input.status ?? TaskRunStatus.created, TASK_RUN_STATUSES, 'status');
      const record: TaskRunRecord = Object.freeze({
        id,
        requesterName,
        status,
        config: deepFreeze(cloneJsonObject(input.config, 'config')) as ReadonlyJsonObject,
        hitTypeId: null,
        frameHeight: checkInteger(input.frameHeight ?? 0, 'frameHeight'),
        createdAt: now,
        updatedAt: now,
        finishedAt: status === TaskRunStatus.done ? now : null,
      });
      runs().set(id, record);
      state.addRun(id);
      state.ensureStoreId();
      state.changedRecord('runs', null, id);
      return record;
    },
    get,
    require,
    list() {
      state.assertOpen();
      return [...runs().values()];
    },
    unfinished() {
      state.assertOpen();
      return [...runs().values()].filter((r) => r.status !== TaskRunStatus.done);
    },
    setStatus(runId, status) {
      state.assertWritable();
      const old = require(runId);
      checkOneOf(status, TASK_RUN_STATUSES, 'status');
      if (old.status === status) return old;
      return replace(old, { status, finishedAt: status === TaskRunStatus.done ? state.clock.now() : null });
    },
    setHitType(runId, hitTypeId) {
      state.assertWritable();
      const old = require(runId);
      return replace(old, { hitTypeId: checkId(hitTypeId, 'hitTypeId') });
    },
    setConfig(runId, config) {
      state.assertWritable();
      const old = require(runId);
      return replace(old, { config: deepFreeze(cloneJsonObject(config, 'config')) as ReadonlyJsonObject });
    },
  };
}
