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
 * Several processes may share a store, each owning its runs, behind one load balancer: an arrival
 * or a submission for a run another live process owns is posted to that owner through the store
 * (a request its inbox executes through this same class there) and answered with the owner's
 * answer, waiting up to {@link ROUTED_WAIT_MS}; never refused because this process does not own
 * the run. A HIT or agent this process's memory does not know is looked up in the committed
 * records of the runs other live processes own.
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
import { RunRequestKind, taskRequest, taskThroughOwner } from '../requests/run-requests.js';
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

/** How long an arrival or a submission routed to the run's owner waits for its answer. */
export const ROUTED_WAIT_MS = 20_000;

/** A run this process hosts, or the id of a run another live process owns. */
type Place = { readonly run: RunHost } | { readonly remote: string };

/** The runtime's implementation of the task-server port. */
export class RuntimeTaskServerBackend implements TaskServerBackend {
  readonly #runs: RunRegistry;
  readonly #submitting = new Set<string>();
  readonly #away = new Map<string, TimerHandle>();
  /** What MTurk confirmed about arriving assignments (shared by every run of the store). */
  readonly assignments = new AssignmentCheck();
  /** HITs and agents (`hits\n<id>`, `agents\n<id>`) of runs other processes own, to their run. */
  readonly #foreign = new Map<string, string>();
  /** When each foreign run's records were last read (clock ms), so a miss reads a run at most once a second. */
  readonly #indexedAt = new Map<string, number>();
  readonly #remoteViews = new Map<string, { view: AgentView; at: number }>();

  constructor(runs: RunRegistry) {
    this.#runs = runs;
  }

  /** Clears the disconnect timers (the runtime calls it on close). */
  close(): void {
    const { clock } = this.#runs.services;
    for (const timer of this.#away.values()) clock.clearTimeout(timer);
    this.#away.clear();
  }

  /** The run hosted here, or (another live process owns it) its id. */
  async #place(runId: string): Promise<Place> {
    const loaded = this.#runs.loaded(runId);
    if (loaded !== undefined) return { run: loaded };
    try {
      return { run: await this.#runs.ensure(runId) };
    } catch (err) {
      if (err instanceof HitstateError && err.code === 'HST_ERR_RUN_OWNED') return { remote: runId };
      throw err;
    }
  }

  /**
   * The run another live process owns that holds the record, read from that run's committed
   * records (cached; a miss reads each foreign run again at most once a second).
   */
  async #foreignRun(collection: 'hits' | 'agents', key: string): Promise<string | undefined> {
    const cached = this.#foreign.get(`${collection}\n${key}`);
    if (cached !== undefined) return cached;
    const { store, clock } = this.#runs.services;
    if (store.readOnly) return undefined;
    for (const runId of (await store.backend.liveRuns()).keys()) {
      if (this.#runs.owns(runId)) continue;
      const at = this.#indexedAt.get(runId);
      if (at !== undefined && clock.now() - at < 1000) continue;
      this.#indexedAt.set(runId, clock.now());
      const image = (await store.backend.load({ runs: [runId] })).runs.get(runId);
      for (const c of ['hits', 'agents'] as const)
        for (const k of image?.get(c)?.keys() ?? []) this.#foreign.set(`${c}\n${k}`, runId);
    }
    return this.#foreign.get(`${collection}\n${key}`);
  }

  async #placeOfHit(hitId: string): Promise<Place> {
    const hit = this.#runs.services.store.hits.get(hitId);
    const runId = hit?.runId ?? (await this.#foreignRun('hits', hitId));
    if (runId === undefined) {
      throw new HitstateError('HST_ERR_SERVER_ASSIGNMENT_MISMATCH', `HIT ${hitId} belongs to no run of this store`, {
        hitId,
      });
    }
    return this.#place(runId);
  }

  /** The run of an agent this process does not know, if another live process owns it. */
  async #remoteOfAgent(agentId: string): Promise<string | undefined> {
    if (this.#runs.services.store.agents.get(agentId) !== undefined) return undefined;
    return this.#foreignRun('agents', agentId);
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
    return view === undefined ? fallback : agentStatusOf(view);
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
    const place = await this.#placeOfHit(arrival.hitId);
    if ('remote' in place) {
      const { store, clock } = this.#runs.services;
      const body = { hitId: arrival.hitId, assignmentId: arrival.assignmentId, workerId: arrival.workerId };
      const answer = await taskThroughOwner(
        store.backend,
        clock,
        taskRequest(place.remote, RunRequestKind.arrival, body, clock.now()),
        ROUTED_WAIT_MS,
      );
      const registration = answer.registration!;
      this.#foreign.set(`agents\n${registration.agentId}`, place.remote);
      return registration;
    }
    const { run } = place;
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
    if (agentStatusOf(view) === 'accepted') run.send({ type: 'agent.taskStarted', agentId, at: clock.now() });
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
    const remote = await this.#remoteOfAgent(agentId);
    if (remote !== undefined && !this.#runs.owns(remote)) {
      const { store, clock } = this.#runs.services;
      await taskThroughOwner(
        store.backend,
        clock,
        taskRequest(remote, RunRequestKind.submit, { agentId, data }, clock.now()),
        ROUTED_WAIT_MS,
      );
      return;
    }
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
    const remote = await this.#remoteView(agentId);
    if (remote !== undefined) return remote;
    const { run, record } = await this.#runOfAgent(agentId);
    this.#present(agentId);
    return this.#view(run, agentId, record.status);
  }

  async disconnect(agentId: string): Promise<void> {
    // A page of an agent another process owns: its owner hears of it only through the next
    // arrival (a reload registers again), so nothing is marked here.
    if ((await this.#remoteOfAgent(agentId)) !== undefined) return;
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
    const remote = await this.#remoteView(agentId);
    if (remote !== undefined) return remote;
    const { run, record } = await this.#runOfAgent(agentId);
    return this.#view(run, agentId, record.status);
  }

  /** An agent of a run another process owns, as its committed records show it (status, submitted). */
  async #remoteView(agentId: string): Promise<AgentView | undefined> {
    const runId = await this.#remoteOfAgent(agentId);
    if (runId === undefined) return undefined;
    // Heartbeats come every few seconds per page: the run's records are read at most once a second.
    const { clock } = this.#runs.services;
    const seen = this.#remoteViews.get(agentId);
    if (seen !== undefined && clock.now() - seen.at < 1000) return seen.view;
    const image = (await this.#runs.services.store.backend.load({ runs: [runId] })).runs.get(runId);
    const agent = image?.get('agents')?.get(agentId);
    if (agent === undefined)
      throw new HitstateError('HST_ERR_AGENT_NOT_FOUND', `no agent ${agentId} in this store`, { agentId });
    const view: AgentView = {
      agentId,
      status: (JSON.parse(agent) as { status: AgentState }).status,
      submitted: image?.get('submissions')?.has(agentId) === true,
    };
    this.#remoteViews.set(agentId, { view, at: clock.now() });
    return view;
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
