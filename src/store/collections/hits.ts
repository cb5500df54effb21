/**
 * The HIT pool (docs/mephisto-semantics.md#the-hit-pool): HITs are created unbound and bound to a
 * unit only when a worker arrives. Mephisto's bugs (docs/mephisto-semantics.md#known-bugs-and-lessons)
 * are designed out: pools are scoped per run (PR #146), mappings are
 * keyed and cleared by unit (PR #337), there is no cache to go stale (PRs #207, #435, #527), a HIT
 * serves at most one unit and a unit holds at most one HIT (Mephisto only warned), and every bind
 * or unbind bumps the HIT's `generation`.
 *
 * @module
 */
import type { HITStatus } from '../../../machines/states.js';
import { HitstateError } from '../../errors.js';
import type { StoreState } from '../store-state.js';
import type { HitRecord } from '../types.js';
import { checkId, checkInteger, checkOptionalId, checkText, checkTime } from '../validate.js';

/** What `hits.add` takes. */
export interface HitInput {
  readonly hitId: string;
  readonly runId: string;
  /** Worker-facing URL of the HIT. */
  readonly link: string;
  readonly assignmentDurationSec: number;
  readonly expiresAt: number;
  /** MTurk's CreationTime. @defaultValue the store clock's now */
  readonly createdAt?: number;
  readonly status?: HITStatus;
}

/** What `hits.bind` takes. */
export interface BindInput {
  readonly hitId: string;
  readonly unitId: string;
  /** The MTurk AssignmentId; null when a HIT is bound only to be expired with its unit. */
  readonly assignmentId: string | null;
}

/** The HIT pools of every run. */
export interface HitPool {
  /** Adds an unbound HIT to its run's pool. @throws HST_ERR_RUN_NOT_FOUND, HST_ERR_STORE_DUPLICATE, HST_ERR_STORE_INVALID_RECORD */
  add(input: HitInput): HitRecord;
  get(hitId: string): HitRecord | undefined;
  /** @throws HST_ERR_STORE_NOT_FOUND */
  require(hitId: string): HitRecord;
  /** @throws HST_ERR_RUN_NOT_FOUND */
  ofRun(runId: string): readonly HitRecord[];
  /** The run's HITs bound to no unit, the one unbound longest first. @throws HST_ERR_RUN_NOT_FOUND */
  unboundOfRun(runId: string): readonly HitRecord[];
  /** The HIT bound to the unit, if any (Mephisto's getHitMapping, keyed by unit). */
  ofUnit(unitId: string): HitRecord | undefined;
  /**
   * Binds a HIT (and the MTurk assignment) to a unit of the same run. Binding the same HIT to the
   * same unit again only updates the assignment.
   * @throws HST_ERR_STORE_NOT_FOUND, HST_ERR_UNIT_NOT_FOUND, HST_ERR_STORE_BINDING_CONFLICT when the
   *   HIT is of another run or bound to another unit, or the unit holds another HIT.
   */
  bind(input: BindInput): HitRecord;
  /** Returns the unit's HIT to the pool; null when the unit held none. @throws HST_ERR_UNIT_NOT_FOUND */
  unbindUnit(unitId: string): HitRecord | null;
  /** Records the HITStatus last seen on MTurk. @throws HST_ERR_STORE_NOT_FOUND */
  observe(hitId: string, status: HITStatus, observedAt?: number): HitRecord;
}

function conflict(message: string, hitId: string, unitId: string): HitstateError {
  return new HitstateError('HST_ERR_STORE_BINDING_CONFLICT', message, { hitId, unitId });
}

export function hitPool(state: StoreState): HitPool {
  const get = (hitId: string): HitRecord | undefined => {
    state.assertOpen();
    return state.hitRun.get(hitId)?.hits.get(hitId);
  };
  return {
    add(input) {
      state.assertWritable();
      const id = checkId(input.hitId, 'hitId');
      const run = state.run(input.runId);
      if (state.hitRun.has(id))
        throw new HitstateError(
          'HST_ERR_STORE_DUPLICATE',
          `HIT "${id}" is in the pool of run "${state.hitRun.get(id)!.id}" already`,
          { hitId: id, runId: run.id },
        );
      const record: HitRecord = Object.freeze({
        id,
        runId: run.id,
        unitId: null,
        assignmentId: null,
        link: checkText(input.link, 'link', 4096),
        assignmentDurationSec: checkInteger(input.assignmentDurationSec, 'assignmentDurationSec', 1),
        createdAt: input.createdAt === undefined ? state.clock.now() : checkTime(input.createdAt, 'createdAt'),
        expiresAt: checkTime(input.expiresAt, 'expiresAt'),
        status: input.status === undefined ? null : (checkText(input.status, 'status', 64) as HITStatus),
        observedAt: null,
        generation: 0,
      });
      run.hits.put(id, record);
      state.changed();
      state.hitRun.set(id, run);
      run.unboundHits.add(id);
      return record;
    },
    get,
    require(hitId) {
      state.assertOpen();
      return state.hit(hitId).hit;
    },
    ofRun(runId) {
      state.assertOpen();
      return [...state.run(runId).hits.values()];
    },
    unboundOfRun(runId) {
      state.assertOpen();
      const run = state.run(runId);
      return [...run.unboundHits].map((id) => run.hits.get(id)!);
    },
    ofUnit(unitId) {
      state.assertOpen();
      const run = state.unitRun.get(unitId);
      const hitId = run?.hitByUnit.get(unitId);
      return hitId === undefined ? undefined : run!.hits.get(hitId);
    },
    bind(input) {
      state.assertWritable();
      const { run, hit } = state.hit(input.hitId);
      const { unit } = state.unit(input.unitId);
      const assignmentId = checkOptionalId(input.assignmentId, 'assignmentId');
      if (unit.runId !== run.id)
        throw conflict(
          `HIT "${hit.id}" belongs to run "${run.id}" and cannot serve unit "${unit.id}" of run "${unit.runId}"`,
          hit.id,
          unit.id,
        );
      if (hit.unitId !== null && hit.unitId !== unit.id)
        throw conflict(
          `HIT "${hit.id}" is bound to unit "${hit.unitId}"; unbind that unit before binding the HIT to "${unit.id}"`,
          hit.id,
          unit.id,
        );
      const held = run.hitByUnit.get(unit.id);
      if (held !== undefined && held !== hit.id)
        throw conflict(
          `unit "${unit.id}" holds HIT "${held}" already; unbind it before binding HIT "${hit.id}"`,
          hit.id,
          unit.id,
        );
      if (hit.unitId === unit.id && hit.assignmentId === assignmentId) return hit;
      const record: HitRecord = Object.freeze({
        ...hit,
        unitId: unit.id,
        assignmentId,
        generation: hit.generation + 1,
      });
      run.hits.put(hit.id, record);
      state.changed();
      run.unboundHits.delete(hit.id);
      run.hitByUnit.set(unit.id, hit.id);
      return record;
    },
    unbindUnit(unitId) {
      state.assertWritable();
      const { run } = state.unit(unitId);
      const hitId = run.hitByUnit.get(unitId);
      if (hitId === undefined) return null;
      const hit = run.hits.get(hitId)!;
      const record: HitRecord = Object.freeze({
        ...hit,
        unitId: null,
        assignmentId: null,
        generation: hit.generation + 1,
      });
      run.hits.put(hitId, record);
      state.changed();
      run.hitByUnit.delete(unitId);
      run.unboundHits.add(hitId);
      return record;
    },
    observe(hitId, status, observedAt) {
      state.assertWritable();
      const { run, hit } = state.hit(hitId);
      const record: HitRecord = Object.freeze({
        ...hit,
        status: checkText(status, 'status', 64) as HITStatus,
        observedAt: observedAt === undefined ? state.clock.now() : checkTime(observedAt, 'observedAt'),
      });
      run.hits.put(hitId, record);
      state.changed();
      return record;
    },
  };
}
