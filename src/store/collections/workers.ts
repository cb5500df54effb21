/**
 * Workers seen in this environment (`workers.json`), with the requesters that block them.
 * Sandbox and live workers never mix: each environment has its own store.
 *
 * @module
 */
import { HitstateError } from '../../errors.js';
import type { StoreState } from '../store-state.js';
import type { WorkerRecord } from '../types.js';
import { checkId, checkText } from '../validate.js';

/** The workers of the store's environment. */
export interface WorkersCollection {
  /** Returns the worker, recording it first if it is new. @throws HST_ERR_STORE_INVALID_RECORD */
  ensure(workerId: string): WorkerRecord;
  get(workerId: string): WorkerRecord | undefined;
  /** @throws HST_ERR_STORE_NOT_FOUND */
  require(workerId: string): WorkerRecord;
  /** Records that `requesterName` blocks the worker (once MTurk confirmed it). @throws HST_ERR_STORE_NOT_FOUND for an unknown requester */
  block(workerId: string, requesterName: string, reason: string): WorkerRecord;
  /** @throws HST_ERR_STORE_NOT_FOUND */
  unblock(workerId: string, requesterName: string): WorkerRecord;
  isBlocked(workerId: string, requesterName: string): boolean;
  /** Workers blocked by a requester. */
  blockedBy(requesterName: string): readonly WorkerRecord[];
  /** Workers who have an agent in the run. @throws HST_ERR_RUN_NOT_FOUND */
  ofRun(runId: string): readonly WorkerRecord[];
}

export function workersCollection(state: StoreState): WorkersCollection {
  const records = () => state.workers.data.records;
  const get = (workerId: string): WorkerRecord | undefined => {
    state.assertOpen();
    return records().get(workerId);
  };
  const require = (workerId: string): WorkerRecord => {
    const w = get(workerId);
    if (w === undefined)
      throw new HitstateError(
        'HST_ERR_STORE_NOT_FOUND',
        `no worker "${workerId}" in this store (workers are recorded when they first register)`,
        { workerId },
      );
    return w;
  };
  const requester = (name: string): string => {
    if (!state.core.data.requesters.has(name))
      throw new HitstateError('HST_ERR_STORE_NOT_FOUND', `no requester "${name}" in this store`, {
        field: 'requesterName',
      });
    return name;
  };
  const save = (record: WorkerRecord): WorkerRecord => {
    records().set(record.id, record);
    state.changedRecord('workers', null, record.id);
    return record;
  };
  const ensure = (workerId: string): WorkerRecord => {
    state.assertWritable();
    const existing = get(workerId);
    if (existing !== undefined) return existing;
    return save(
      Object.freeze({ id: checkId(workerId, 'workerId'), firstSeenAt: state.clock.now(), blocks: Object.freeze({}) }),
    );
  };
  return {
    ensure,
    get,
    require,
    block(workerId, requesterName, reason) {
      state.assertWritable();
      const worker = ensure(workerId);
      const block = Object.freeze({ reason: checkText(reason, 'reason'), blockedAt: state.clock.now() });
      return save(
        Object.freeze({ ...worker, blocks: Object.freeze({ ...worker.blocks, [requester(requesterName)]: block }) }),
      );
    },
    unblock(workerId, requesterName) {
      state.assertWritable();
      const worker = require(workerId);
      if (!Object.hasOwn(worker.blocks, requesterName)) return worker;
      const blocks = { ...worker.blocks };
      delete blocks[requesterName];
      return save(Object.freeze({ ...worker, blocks: Object.freeze(blocks) }));
    },
    isBlocked(workerId, requesterName) {
      const worker = get(workerId);
      return worker !== undefined && Object.hasOwn(worker.blocks, requesterName);
    },
    blockedBy(requesterName) {
      state.assertOpen();
      return [...records().values()].filter((w) => Object.hasOwn(w.blocks, requesterName));
    },
    ofRun(runId) {
      state.assertOpen();
      const ids = new Set<string>();
      for (const agent of state.run(runId).agents.values()) ids.add(agent.workerId);
      return [...ids].flatMap((id) => records().get(id) ?? []);
    },
  };
}
