/**
 * Agents (one worker on one unit) and their submitted data. The data is large and written once,
 * so it lives in fill-then-roll shards (`submissions-NNN.json`) apart from the agent records,
 * which change often.
 *
 * @module
 */
import type { AgentState } from '../../../machines/states.js';
import { HitstateError } from '../../errors.js';
import { cloneJson, type JsonValue } from '../json.js';
import { assignmentKey, type StoreState } from '../store-state.js';
import { ReviewDecision, type AgentRecord, type AgentReview } from '../types.js';
import { checkId, checkOneOf, checkText, checkTime } from '../validate.js';
import type { WorkersCollection } from './workers.js';

/** What `agents.create` takes; the run is the unit's. */
export interface AgentInput {
  readonly agentId: string;
  readonly unitId: string;
  readonly workerId: string;
  readonly assignmentId: string;
  readonly hitId: string;
  /** @defaultValue 'none' */
  readonly status?: AgentState;
}

/** What `agents.setReview` takes. */
export interface ReviewInput {
  readonly decision: ReviewDecision;
  readonly feedback?: string;
  /** @defaultValue the store clock's now */
  readonly reviewedAt?: number;
}

/** The agents of every run. */
export interface AgentsCollection {
  /**
   * Records an agent and, if new, its worker.
   * @throws HST_ERR_UNIT_NOT_FOUND, HST_ERR_STORE_NOT_FOUND (HIT), HST_ERR_STORE_BINDING_CONFLICT when
   *   the HIT is of another run, HST_ERR_STORE_DUPLICATE when the id or the (assignment, worker) pair exists.
   */
  create(input: AgentInput): AgentRecord;
  get(agentId: string): AgentRecord | undefined;
  /** @throws HST_ERR_AGENT_NOT_FOUND */
  require(agentId: string): AgentRecord;
  /** The agent of an MTurk assignment. MTurk can reuse an AssignmentId for another worker, hence the pair. */
  byAssignment(assignmentId: string, workerId: string): AgentRecord | undefined;
  /** Agents that worked on the unit, oldest first. @throws HST_ERR_UNIT_NOT_FOUND */
  ofUnit(unitId: string): readonly AgentRecord[];
  /** @throws HST_ERR_RUN_NOT_FOUND */
  ofRun(runId: string): readonly AgentRecord[];
  /** @throws HST_ERR_AGENT_NOT_FOUND */
  setStatus(agentId: string, status: AgentState): AgentRecord;
  /**
   * Stores what the worker submitted (a copy; plain JSON) and sets `submittedAt`.
   * @throws HST_ERR_AGENT_NOT_FOUND, HST_ERR_STORE_DUPLICATE when the agent has submitted already
   *   (the first submission is kept), HST_ERR_STORE_INVALID_RECORD when `data` is not plain JSON.
   */
  recordSubmission(agentId: string, data: unknown, submittedAt?: number): AgentRecord;
  /** A fresh copy of the submitted data, or undefined when there is none. @throws HST_ERR_AGENT_NOT_FOUND */
  submission(agentId: string): JsonValue | undefined;
  /** Records the confirmed review outcome. @throws HST_ERR_AGENT_NOT_FOUND */
  setReview(agentId: string, review: ReviewInput): AgentRecord;
}

export function agentsCollection(state: StoreState, workers: WorkersCollection): AgentsCollection {
  const update = (agentId: string, change: Partial<AgentRecord>): AgentRecord => {
    state.assertWritable();
    const { run, agent } = state.agent(agentId);
    const record: AgentRecord = Object.freeze({ ...agent, ...change, updatedAt: state.clock.now() });
    run.agents.put(agentId, record);
    state.changed();
    return record;
  };
  return {
    create(input) {
      state.assertWritable();
      const id = checkId(input.agentId, 'agentId');
      const { run, unit } = state.unit(input.unitId);
      const { hit } = state.hit(input.hitId);
      const workerId = checkId(input.workerId, 'workerId');
      const assignmentId = checkId(input.assignmentId, 'assignmentId');
      if (hit.runId !== run.id) {
        throw new HitstateError(
          'HST_ERR_STORE_BINDING_CONFLICT',
          `HIT "${hit.id}" belongs to run "${hit.runId}", not to run "${run.id}" of unit "${unit.id}"`,
          { hitId: hit.id, unitId: unit.id },
        );
      }
      if (state.agentRun.has(id))
        throw new HitstateError('HST_ERR_STORE_DUPLICATE', `agent "${id}" exists already`, { agentId: id });
      const key = assignmentKey(assignmentId, workerId);
      const other = state.agentByAssignment.get(key);
      if (other !== undefined) {
        throw new HitstateError(
          'HST_ERR_STORE_DUPLICATE',
          `assignment "${assignmentId}" of worker "${workerId}" has agent "${other}" already`,
          { agentId: id, assignmentId, workerId },
        );
      }
      workers.ensure(workerId);
      const now = state.clock.now();
      const record: AgentRecord = Object.freeze({
        id,
        runId: run.id,
        unitId: unit.id,
        workerId,
        assignmentId,
        hitId: hit.id,
        status: (input.status === undefined ? 'none' : checkText(input.status, 'status', 64)) as AgentState,
        createdAt: now,
        updatedAt: now,
        submittedAt: null,
        review: null,
      });
      run.agents.put(id, record);
      state.changed();
      state.agentRun.set(id, run);
      state.agentByAssignment.set(key, id);
      const list = run.agentsByUnit.get(unit.id);
      if (list === undefined) run.agentsByUnit.set(unit.id, [id]);
      else list.push(id);
      return record;
    },
    get(agentId) {
      state.assertOpen();
      return state.agentRun.get(agentId)?.agents.get(agentId);
    },
    require(agentId) {
      state.assertOpen();
      return state.agent(agentId).agent;
    },
    byAssignment(assignmentId, workerId) {
      state.assertOpen();
      const id = state.agentByAssignment.get(assignmentKey(assignmentId, workerId));
      return id === undefined ? undefined : state.agentRun.get(id)?.agents.get(id);
    },
    ofUnit(unitId) {
      state.assertOpen();
      const { run } = state.unit(unitId);
      return (run.agentsByUnit.get(unitId) ?? []).map((id) => run.agents.get(id)!);
    },
    ofRun(runId) {
      state.assertOpen();
      return [...state.run(runId).agents.values()];
    },
    setStatus(agentId, status) {
      state.assertWritable();
      const current = state.agent(agentId).agent;
      if (current.status === status) return current;
      return update(agentId, { status: checkText(status, 'status', 64) as AgentState });
    },
    recordSubmission(agentId, data, submittedAt) {
      state.assertWritable();
      const { run, agent } = state.agent(agentId);
      if (run.submissions.has(agentId)) {
        throw new HitstateError(
          'HST_ERR_STORE_DUPLICATE',
          `agent "${agentId}" has submitted already (at ${new Date(agent.submittedAt ?? 0).toISOString()}); the first submission is kept`,
          { agentId },
        );
      }
      const at = submittedAt === undefined ? state.clock.now() : checkTime(submittedAt, 'submittedAt');
      run.submissions.put(agentId, { agentId, submittedAt: at, data: cloneJson(data, 'data') });
      state.changed();
      return update(agentId, { submittedAt: at });
    },
    submission(agentId) {
      state.assertOpen();
      const { run } = state.agent(agentId);
      const stored = run.submissions.get(agentId);
      return stored === undefined ? undefined : cloneJson(stored.data, 'data');
    },
    setReview(agentId, review) {
      state.assertWritable();
      const record: AgentReview = Object.freeze({
        decision: checkOneOf(review.decision, Object.values(ReviewDecision), 'decision'),
        feedback: review.feedback === undefined ? null : checkText(review.feedback, 'feedback'),
        reviewedAt: review.reviewedAt === undefined ? state.clock.now() : checkTime(review.reviewedAt, 'reviewedAt'),
      });
      return update(agentId, { review: record });
    },
  };
}
