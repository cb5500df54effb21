/**
 * The runtime as the task server's backend (`TaskServerBackend`, `src/server/backend.ts`): a
 * worker's arrival goes to the supervisor of the run whose HIT it is (the store knows every HIT
 * of every run), the outcome is read from the supervisor's snapshot right away, and a submission
 * is on disk before the supervisor hears of it.
 *
 * A page that goes away (the `pagehide` beacon) is not a return: the worker still holds the
 * MTurk assignment, and a reload registers again. The agent is marked disconnected only if the
 * page stays away longer than `disconnectGraceMs`; the unit stays bound until MTurk shows the
 * assignment gone (Mephisto's lesson, docs/mephisto-semantics.md#return-timeout-and-disconnect).
 *
 * Binding follows MTurk: an arrival is checked with MTurk (`AssignmentCheck`, one `GetAssignment`
 * per new assignment, none for a reload) before the supervisor hears of it. One MTurk does not
 * hold is refused and leaves nothing behind; one MTurk holds takes its HIT from any other binding
 * (the bound assignment ended: MTurk re-offered the HIT), even one whose data is stored; one MTurk
 * could not be asked about binds only a free HIT (at most one per HIT sees its task data until
 * confirmed) and is otherwise told to retry (503). A displaced worker's page may still submit: the
 * data is kept under that worker's own agent, and MTurk's record of the submitted assignment
 * decides whose work the unit holds.
 *
 * @module
 */
import {
  agentIdFor,
  agentStatusOf,
  arrivalOf,
  hitOf,
  RefusalReason,
  type AgentState,
} from '../../../machines/index.js';
import type { TimerHandle } from '../../clock.js';
import { HitstateError } from '../../errors.js';
import type {
  AgentRegistration,
  AgentView,
  PreviewInfo,
  TaskServerBackend,
  WorkerArrival,
} from '../../server/backend.js';
import { AssignmentCheck } from './assignment-check.js';
import type { RunRegistry } from '../core/run-registry.js';
import type { RunHost } from '../supervisor/supervisor.js';

/**
 * Agent statuses in which a submission is refused: the unit expired under the worker. A `returned`
 * worker's submission is kept (under that worker's own agent, which stays returned): the return may
 * have been inferred from another registration, and only MTurk's record makes it reviewable.
 */
const GONE = new Set<AgentState>(['expired']);

/** How long a worker whose assignment MTurk could not confirm waits before registering again. */
export const UNCONFIRMED_RETRY_SEC = 5;

/** The runtime's implementation of the task-server port. */
export class RuntimeTaskServerBackend implements TaskServerBackend {
  readonly #runs: RunRegistry;
  readonly #submitting = new Set<string>();
  readonly #away = new Map<string, TimerHandle>();
  /** What MTurk confirmed about arriving assignments (shared by every run of the store). */
  readonly assignments = new AssignmentCheck();

  constructor(runs: RunRegistry) {
    this.#runs = runs;
  }

  /** Clears the disconnect timers (the runtime calls it on close). */
  close(): void {
    const { clock } = this.#runs.services;
    for (const timer of this.#away.values()) clock.clearTimeout(timer);
    this.#away.clear();
  }

  async #runOfHit(hitId: string): Promise<RunHost> {
    const hit = this.#runs.services.store.hits.get(hitId);
    if (hit === undefined) {
      throw new HitstateError('HST_ERR_SERVER_ASSIGNMENT_MISMATCH', `HIT ${hitId} belongs to no run of this store`, {
        hitId,
      });
    }
    return this.#runs.ensure(hit.runId);
  }

  async #runOfAgent(
    agentId: string,
  ): Promise<{ run: RunHost; record: NonNullable<ReturnType<RunRegistry['services']['store']['agents']['get']>> }> {
    const record = this.#runs.services.store.agents.get(agentId);
    if (record === undefined)
      throw new HitstateError('HST_ERR_AGENT_NOT_FOUND', `no agent ${agentId} in this store`, { agentId });
    return { run: await this.#runs.ensure(record.runId), record };
  }

  #status(run: RunHost, agentId: string, fallback: AgentState): AgentState {
    const view = run.agent(agentId);
    return view === undefined ? fallback : agentStatusOf(view as never);
  }

  #registration(run: RunHost, agentId: string): AgentRegistration {
    const { store } = run.services;
    const record = store.agents.require(agentId);
    const unit = store.units.require(record.unitId);
    const submission = store.agents.submission(agentId);
    return {
      agentId,
      runId: run.runId,
      unitId: record.unitId,
      workerId: record.workerId,
      assignmentId: record.assignmentId,
      hitId: record.hitId,
      status: this.#status(run, agentId, record.status),
      task: run.config.unitData[unit.index] ?? null,
      submitted: submission !== undefined,
      ...(submission !== undefined ? { submission } : {}),
    };
  }

  #present(agentId: string): void {
    const timer = this.#away.get(agentId);
    if (timer === undefined) return;
    this.#runs.services.clock.clearTimeout(timer);
    this.#away.delete(agentId);
  }

  async registerAgent(arrival: WorkerArrival): Promise<AgentRegistration> {
    this.#runs.assertOpen();
    const run = await this.#runOfHit(arrival.hitId);
    const { store, clock } = run.services;
    const agentId = agentIdFor(arrival.assignmentId, arrival.workerId);
    if (store.workers.isBlocked(arrival.workerId, run.requesterName)) {
      throw new HitstateError(
        'HST_ERR_SERVER_ASSIGNMENT_MISMATCH',
        `worker ${arrival.workerId} is blocked by requester ${run.requesterName}`,
        { workerId: arrival.workerId, runId: run.runId },
      );
    }
    // A reload of the binding in place is answered from the run (no call, also while MTurk is unreachable).
    let confirmed: boolean | undefined;
    if (!this.#bound(run, agentId)) {
      const verdict = await this.assignments.check(run.gateway, arrival);
      if (verdict.kind === 'refuted') {
        throw new HitstateError(
          'HST_ERR_SERVER_ASSIGNMENT_MISMATCH',
          `run ${run.runId} refused the arrival on HIT ${arrival.hitId}: ${verdict.reason}`,
          { runId: run.runId, hitId: arrival.hitId, assignmentId: arrival.assignmentId },
        );
      }
      confirmed = verdict.kind === 'held';
    }
    run.send({
      type: 'worker.arrived',
      hitId: arrival.hitId,
      assignmentId: arrival.assignmentId,
      workerId: arrival.workerId,
      ...(confirmed !== undefined ? { confirmed } : {}),
      at: clock.now(),
    });
    const outcome = arrivalOf(run.supervisor(), agentId);
    if (outcome === undefined || 'refused' in outcome) {
      const refused = outcome === undefined ? RefusalReason.unknownHIT : outcome.refused;
      if (refused === RefusalReason.unconfirmed) {
        throw new HitstateError(
          'HST_ERR_SERVER_ASSIGNMENT_UNCONFIRMED',
          `run ${run.runId} could not confirm assignment ${arrival.assignmentId} with MTurk, and HIT ${arrival.hitId} is bound to another`,
          { runId: run.runId, hitId: arrival.hitId, retryAfterSec: UNCONFIRMED_RETRY_SEC },
        );
      }
      if (refused === RefusalReason.noFreeUnit || refused === RefusalReason.runNotAccepting) {
        throw new HitstateError(
          'HST_ERR_NO_UNIT_AVAILABLE',
          `run ${run.runId} has no unit for this worker (${refused})`,
          { runId: run.runId, hitId: arrival.hitId },
        );
      }
      throw new HitstateError(
        'HST_ERR_SERVER_ASSIGNMENT_MISMATCH',
        `run ${run.runId} refused the arrival on HIT ${arrival.hitId} (${refused})`,
        { runId: run.runId, hitId: arrival.hitId, assignmentId: arrival.assignmentId },
      );
    }
    const view = run.agent(agentId);
    if (view === undefined) {
      throw new HitstateError('HST_ERR_RUN_STATE', `run ${run.runId} bound ${agentId} but has no actor for it`, {
        runId: run.runId,
        agentId,
      });
    }
    if (confirmed === true) this.assignments.pin(arrival);
    else if (confirmed === false) this.#confirmLater(run, arrival, agentId, outcome.unitId);
    if (agentStatusOf(view as never) === 'accepted') run.send({ type: 'agent.taskStarted', agentId, at: clock.now() });
    this.#present(agentId);
    run.persistNow();
    // A worker who starts must still be known after a crash: the binding is on disk before the page gets its task.
    await store.flush();
    return this.#registration(run, agentId);
  }

  /**
   * Asks MTurk again, in the background (waiting for the rate governor), about a binding made while
   * it could not be asked: confirmed, the unit trusts its stored data again; refuted (made up, or
   * returned since), the binding ends as after a return (the HIT goes back to the pool, the agent
   * is returned, any data kept under it). Otherwise the unit asks MTurk whose submission it holds
   * at completion.
   */
  #confirmLater(run: RunHost, arrival: WorkerArrival, agentId: string, unitId: string): void {
    void this.assignments
      .check(run.gateway, arrival, false)
      .then((verdict) => {
        if (run.closed || !this.#bound(run, agentId)) return;
        const at = run.services.clock.now();
        if (verdict.kind === 'held') {
          this.assignments.pin(arrival);
          run.send({ type: 'unit.confirmBinding', unitId, assignmentId: arrival.assignmentId, at });
        } else if (verdict.kind === 'refuted') {
          // Made up, or returned since: either way the binding ended (a returned agent, data kept).
          run.send({ type: 'unit.bindingGone', unitId, assignmentId: arrival.assignmentId, at });
        }
      })
      .catch((err: unknown) => {
        if (!run.closed) run.services.reportError(err);
      });
  }

  /** True when the agent's binding is the one its HIT holds now (a reload). */
  #bound(run: RunHost, agentId: string): boolean {
    const arrival = arrivalOf(run.supervisor(), agentId);
    if (arrival === undefined || 'refused' in arrival) return false;
    const record = hitOf(run.supervisor(), arrival.hitId);
    return record?.unitId === arrival.unitId && record.assignmentId === arrival.assignmentId;
  }

  async submit(agentId: string, data: unknown): Promise<void> {
    this.#runs.assertOpen();
    const { run, record } = await this.#runOfAgent(agentId);
    const { store, clock } = run.services;
    if (this.#submitting.has(agentId) || store.agents.submission(agentId) !== undefined) {
      throw new HitstateError(
        'HST_ERR_SERVER_ALREADY_SUBMITTED',
        `agent ${agentId} submitted already; the first submission is kept`,
        { agentId },
      );
    }
    const status = this.#status(run, agentId, record.status);
    if (GONE.has(status)) {
      throw new HitstateError(
        'HST_ERR_SERVER_ASSIGNMENT_MISMATCH',
        `agent ${agentId} no longer holds its assignment (${status}); the worker cannot submit it`,
        { agentId, runId: run.runId },
      );
    }
    this.#submitting.add(agentId);
    try {
      store.agents.recordSubmission(agentId, data, clock.now());
      await store.flush();
    } catch (err) {
      this.#submitting.delete(agentId);
      throw err;
    }
    this.#submitting.delete(agentId);
    this.#present(agentId);
    run.send({ type: 'agent.submitted', agentId, at: clock.now() });
    run.persistNow();
  }

  async heartbeat(agentId: string): Promise<AgentView> {
    const { run, record } = await this.#runOfAgent(agentId);
    this.#present(agentId);
    return this.#view(run, agentId, record.status);
  }

  async disconnect(agentId: string): Promise<void> {
    const { run } = await this.#runOfAgent(agentId);
    const { clock, options, store } = run.services;
    if (store.agents.submission(agentId) !== undefined || this.#away.has(agentId)) return;
    const timer = clock.setTimeout(() => {
      this.#away.delete(agentId);
      if (store.agents.submission(agentId) === undefined)
        run.send({ type: 'agent.disconnected', agentId, at: clock.now() });
    }, options.disconnectGraceMs);
    this.#away.set(agentId, timer);
  }

  async agentStatus(agentId: string): Promise<AgentView> {
    const { run, record } = await this.#runOfAgent(agentId);
    return this.#view(run, agentId, record.status);
  }

  #view(run: RunHost, agentId: string, fallback: AgentState): AgentView {
    return {
      agentId,
      status: this.#status(run, agentId, fallback),
      submitted: run.services.store.agents.submission(agentId) !== undefined,
    };
  }

  submitOrigins(): readonly string[] {
    const { environment, workerSiteUrl } = this.#runs.services.options;
    const urls = [environment.kind === 'custom' ? environment.endpoint : undefined, workerSiteUrl];
    return urls.flatMap((url) => {
      if (url === undefined) return [];
      try {
        return [new URL(url).origin];
      } catch {
        return [];
      }
    });
  }

  async preview(hitId: string | undefined): Promise<PreviewInfo> {
    const runId = hitId === undefined ? undefined : this.#runs.services.store.hits.get(hitId)?.runId;
    const record = runId === undefined ? undefined : this.#runs.services.store.runs.get(runId);
    const config = record?.config as { title?: unknown; description?: unknown } | undefined;
    if (typeof config?.title === 'string' && typeof config.description === 'string')
      return { title: config.title, description: config.description };
    return { title: 'A hitstate task', description: 'Accept the HIT to see the task.' };
  }
}
