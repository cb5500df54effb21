/**
 * Units, in shards per run (`runs/<runId>/units-000.json`...), with per-status counts kept up to date in
 * memory so the supervisor can ask "how many are still launched?" without a scan.
 *
 * @module
 */
import type { AssignmentState } from '../../../machines/states.js';
import { HitstateError } from '../../errors.js';
import type { StoreState } from '../store-state.js';
import type { UnitRecord } from '../types.js';
import { checkId, checkSignedInteger, checkText, checkUsd } from '../validate.js';

/** What `units.create` takes. */
export interface UnitInput {
  readonly unitId: string;
  readonly runId: string;
  /** Mephisto's unit_index (negative for screening, gold and compensation units). */
  readonly index: number;
  readonly payAmountUsd: string;
  /** @defaultValue 'created' */
  readonly status?: AssignmentState;
}

/** The units of every run. */
export interface UnitsCollection {
  /**
   * @throws HST_ERR_RUN_NOT_FOUND, HST_ERR_STORE_DUPLICATE when the unit id exists (in any run),
   *   HST_ERR_STORE_INVALID_RECORD for bad fields.
   */
  create(input: UnitInput): UnitRecord;
  get(unitId: string): UnitRecord | undefined;
  /** @throws HST_ERR_UNIT_NOT_FOUND */
  require(unitId: string): UnitRecord;
  /** @throws HST_ERR_RUN_NOT_FOUND */
  ofRun(runId: string): readonly UnitRecord[];
  /** Number of units of the run in each status (statuses with no unit are absent). @throws HST_ERR_RUN_NOT_FOUND */
  statusCounts(runId: string): Readonly<Partial<Record<AssignmentState, number>>>;
  /** @throws HST_ERR_UNIT_NOT_FOUND */
  setStatus(unitId: string, status: AssignmentState): UnitRecord;
  /** Records the agent (and its worker) now working on the unit. @throws HST_ERR_UNIT_NOT_FOUND */
  assignAgent(unitId: string, agentId: string, workerId: string): UnitRecord;
  /** Forgets the unit's agent and worker (Mephisto's clearAssignedAgent, without its status change). @throws HST_ERR_UNIT_NOT_FOUND */
  clearAgent(unitId: string): UnitRecord;
}

export function unitsCollection(state: StoreState): UnitsCollection {
  const get = (unitId: string): UnitRecord | undefined => {
    state.assertOpen();
    return state.unitRun.get(unitId)?.units.get(unitId);
  };
  const update = (unitId: string, change: Partial<UnitRecord>): UnitRecord => {
    state.assertWritable();
    const { run, unit } = state.unit(unitId);
    const record: UnitRecord = Object.freeze({ ...unit, ...change, updatedAt: state.clock.now() });
    run.units.put(unitId, record);
    state.changed();
    if (record.status !== unit.status) state.countUnit(run, unit.status, record.status);
    return record;
  };
  return {
    create(input) {
      state.assertWritable();
      const id = checkId(input.unitId, 'unitId');
      const run = state.run(input.runId);
      if (state.unitRun.has(id)) {
        throw new HitstateError(
          'HST_ERR_STORE_DUPLICATE',
          `unit "${id}" exists already (in run "${state.unitRun.get(id)!.id}")`,
          { unitId: id, runId: run.id },
        );
      }
      const now = state.clock.now();
      const record: UnitRecord = Object.freeze({
        id,
        runId: run.id,
        index: checkSignedInteger(input.index, 'index'),
        status: (input.status === undefined ? 'created' : checkText(input.status, 'status', 64)) as AssignmentState,
        payAmountUsd: checkUsd(input.payAmountUsd, 'payAmountUsd'),
        agentId: null,
        workerId: null,
        createdAt: now,
        updatedAt: now,
      });
      run.units.put(id, record);
      state.changed();
      state.unitRun.set(id, run);
      state.countUnit(run, null, record.status);
      return record;
    },
    get,
    require(unitId) {
      state.assertOpen();
      return state.unit(unitId).unit;
    },
    ofRun(runId) {
      state.assertOpen();
      return [...state.run(runId).units.values()];
    },
    statusCounts(runId) {
      state.assertOpen();
      const counts: Partial<Record<AssignmentState, number>> = {};
      for (const [status, n] of state.run(runId).unitCounts) if (n > 0) counts[status as AssignmentState] = n;
      return counts;
    },
    setStatus(unitId, status) {
      state.assertWritable();
      const unit = get(unitId);
      if (unit !== undefined && unit.status === status) return unit;
      return update(unitId, { status: checkText(status, 'status', 64) as AssignmentState });
    },
    assignAgent(unitId, agentId, workerId) {
      return update(unitId, { agentId: checkId(agentId, 'agentId'), workerId: checkId(workerId, 'workerId') });
    },
    clearAgent(unitId) {
      return update(unitId, { agentId: null, workerId: null });
    },
  };
}
