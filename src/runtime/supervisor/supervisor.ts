/**
 * One task run in a runtime: the taskRun supervisor actor (created, or restored from the store)
 * with the runtime's command handler provided, its persistence, its deadline wheel, its status
 * sync and its disposal. Every event for the run goes through {@link RunHost.send}.
 *
 * @module
 */
import { createActor, type Actor, type AnyActorRef, type InspectionEvent } from 'xstate';
import {
  AGENT_ACTOR_PREFIX,
  UNIT_ACTOR_PREFIX,
  agentActorId,
  pendingCommands,
  taskRunMachine,
  unitActorId,
  withCommandHandler,
  type AgentContext,
  type HITStatus,
  type TaskRunContext,
  type TaskRunEvent,
  type UnitContext,
  type UnitEvent,
} from '../../../machines/index.js';
import type { ResolvedTaskRunConfig } from '../../config/task-run.js';
import { HitstateError } from '../../errors.js';
import type { MTurkGateway } from '../../mturk/gateway.js';
import type { TaskRunStatus } from '../../store/types.js';
import { CommandExecutor } from '../commands/command-executor.js';
import { DeadlineWheel } from '../commands/deadlines.js';
import { Disposal } from '../money/disposal.js';
import { ActorPersistence } from './persistence.js';
import type { StoredRun } from './stored-run.js';
import type { ActorView, RunPort } from '../core/run-port.js';
import type { RuntimeServices } from '../core/services.js';
import { StatusSync } from '../sync/status-sync.js';

/** What a run is made from. */
export interface RunHostInit {
  readonly runId: string;
  readonly requesterName: string;
  readonly config: ResolvedTaskRunConfig;
  readonly taskUrl: string;
  readonly unitIds: readonly string[];
  readonly services: RuntimeServices;
  readonly gateway: MTurkGateway;
}

type RunActor = Actor<typeof taskRunMachine>;

/** One loaded task run. */
export class RunHost implements RunPort {
  readonly runId: string;
  readonly requesterName: string;
  readonly config: ResolvedTaskRunConfig;
  readonly gateway: MTurkGateway;
  readonly services: RuntimeServices;
  readonly executor: CommandExecutor;
  readonly persistence: ActorPersistence;
  readonly deadlines: DeadlineWheel;
  readonly sync: StatusSync;
  readonly disposal: Disposal;
  readonly restored: boolean;
  readonly #stale: ReadonlySet<string>;
  readonly #taskUrl: string;
  readonly #actor: RunActor;
  #failure: unknown;
  #closed = false;

  constructor(init: RunHostInit, stored: StoredRun | undefined) {
    this.runId = init.runId;
    this.requesterName = init.requesterName;
    this.config = init.config;
    this.gateway = init.gateway;
    this.services = init.services;
    this.#taskUrl = init.taskUrl;
    this.restored = stored !== undefined;
    this.#stale = stored?.stale ?? new Set();
    this.executor = new CommandExecutor(this);
    this.deadlines = new DeadlineWheel(init.services.clock, (keys, at) => this.#deadlinesPassed(keys, at));
    this.persistence = new ActorPersistence(init.runId, init.services, this.deadlines);
    this.sync = new StatusSync(this);
    this.disposal = new Disposal(this);
    const logic = withCommandHandler(taskRunMachine, (command) => this.executor.enqueue(command));
    const inspect = (event: InspectionEvent): void => {
      if (event.type === '@xstate.actor') this.persistence.track(event.actorRef as never);
      else if (event.type === '@xstate.snapshot') this.persistence.markDirty(event.actorRef as never);
    };
    const input = {
      runId: init.runId,
      unitIds: [...init.unitIds],
      settings: {
        maxConcurrentUnits: init.config.maxConcurrentUnits,
        assignmentDurationSec: init.config.assignmentDurationSec,
        drainGraceSec: init.services.options.drainGraceSec,
      },
      retry: init.services.options.retry,
    };
    this.#actor = createActor(logic, {
      id: this.persistence.rootId,
      input,
      inspect,
      ...(stored === undefined ? {} : { snapshot: stored.snapshot as never }),
    });
    this.#actor.subscribe({
      error: (err) => {
        this.#failure = err;
        this.services.reportError(
          new HitstateError(
            'HST_ERR_RUN_STATE',
            `run ${this.runId}: its supervisor failed (${err instanceof Error ? err.message : String(err)}); resume the run to continue from its last saved state`,
            { runId: this.runId, cause: err },
          ),
        );
      },
    });
  }

  /** Starts the actors; after a restore, re-issues every command an actor was waiting on (same ids, same tokens). */
  start(): void {
    this.#actor.start();
    if (this.restored) {
      for (const ref of this.#allActors()) {
        // What was just read needs no writing back: only what the restore upgraded, and later what the repairs change.
        this.persistence.adopt(ref as never, this.#stale.has(ref.id));
        const snapshot = ref.getSnapshot() as { value: unknown; context: unknown; status?: string };
        if (snapshot.status !== 'active' || snapshot.context === undefined) continue;
        for (const command of pendingCommands(snapshot as never)) this.executor.enqueue(command);
      }
    }
    this.persistence.persistNow();
    this.sync.start();
    this.services.events.on('unit.statusChanged', this.#onUnitChanged);
    this.services.events.on('run.statusChanged', this.#onRunChanged);
    this.disposal.disposeFinished();
  }

  readonly #onUnitChanged = (event: { runId: string; unitId: string }): void => {
    if (event.runId !== this.runId || this.#closed) return;
    this.sync.reschedule();
    this.disposal.disposeFinished(event.unitId);
  };

  readonly #onRunChanged = (event: { runId: string; status: TaskRunStatus }): void => {
    if (event.runId !== this.runId || this.#closed) return;
    // Ending: look at MTurk at once, so work submitted since the last poll completes its unit
    // instead of being drained (and the drain knows what it waits for).
    if (event.status === 'expiring' || event.status === 'draining') void this.sync.syncNow();
    else this.sync.reschedule();
    this.disposal.disposeFinished();
  };

  /** Every actor of the run, the supervisor first. */
  #allActors(): AnyActorRef[] {
    const out: AnyActorRef[] = [this.#actor];
    const visit = (ref: AnyActorRef): void => {
      const children = (ref.getSnapshot() as { children?: Record<string, AnyActorRef | undefined> }).children ?? {};
      for (const child of Object.values(children)) {
        if (child === undefined) continue;
        out.push(child);
        visit(child);
      }
    };
    visit(this.#actor);
    return out;
  }

  /** Why the supervisor failed, if it did (the run then needs a resume). */
  get failure(): unknown {
    return this.#failure;
  }

  get closed(): boolean {
    return this.#closed;
  }

  send(event: TaskRunEvent): void {
    if (this.#closed || this.#failure !== undefined) return;
    this.#actor.send(event);
  }

  /**
   * Sends an event straight to one unit, bypassing the supervisor's routing: only for requests the
   * supervisor has no route for and that need no pool bookkeeping (expiring one created or assigned unit).
   */
  sendToUnit(unitId: string, event: UnitEvent): boolean {
    if (this.#closed || this.#failure !== undefined) return false;
    const ref = this.#actor.system.get(unitActorId(unitId)) as AnyActorRef | undefined;
    if (ref === undefined) return false;
    ref.send(event);
    return true;
  }

  persistNow(): void {
    this.persistence.persistNow();
  }

  status(): TaskRunStatus {
    const value = this.#actor.getSnapshot().value;
    return (typeof value === 'string' ? value : Object.keys(value)[0]) as TaskRunStatus;
  }

  supervisor(): ActorView<TaskRunContext> {
    return this.#actor.getSnapshot() as ActorView<TaskRunContext>;
  }

  #child<C>(id: string): ActorView<C> | undefined {
    const ref = this.#actor.system.get(id) as AnyActorRef | undefined;
    return ref?.getSnapshot() as ActorView<C> | undefined;
  }

  unit(unitId: string): ActorView<UnitContext> | undefined {
    return this.#child(unitActorId(unitId));
  }

  agent(agentId: string): ActorView<AgentContext> | undefined {
    return this.#child(agentActorId(agentId));
  }

  /** Every unit actor's snapshot. */
  units(): Array<ActorView<UnitContext>> {
    return this.unitsAndAgents().units;
  }

  /** Every agent actor's snapshot. */
  agents(): Array<ActorView<AgentContext>> {
    return this.unitsAndAgents().agents;
  }

  /** Every unit and every agent actor's snapshot, from one walk of the actor tree. */
  unitsAndAgents(): { units: Array<ActorView<UnitContext>>; agents: Array<ActorView<AgentContext>> } {
    const units: Array<ActorView<UnitContext>> = [];
    const agents: Array<ActorView<AgentContext>> = [];
    for (const ref of this.#allActors()) {
      if (ref.id.startsWith(UNIT_ACTOR_PREFIX)) units.push(ref.getSnapshot() as ActorView<UnitContext>);
      else if (ref.id.startsWith(AGENT_ACTOR_PREFIX)) agents.push(ref.getSnapshot() as ActorView<AgentContext>);
    }
    return { units, agents };
  }

  taskUrl(): string {
    return this.#taskUrl;
  }

  noteObservation(hitId: string, status: HITStatus, available: number, completed: number): void {
    this.sync.noteObservation(hitId, status, available, completed);
  }

  afterSync(): void {
    if (!this.#closed) this.disposal.disposeFinished();
  }

  #deadlinesPassed(keys: readonly string[], at: number): void {
    for (const key of keys) {
      if (key === 'run') this.send({ type: 'deadline.reached', at });
      else if (key.startsWith(UNIT_ACTOR_PREFIX))
        this.send({ type: 'deadline.reached', unitId: key.slice(UNIT_ACTOR_PREFIX.length), at });
      else if (key.startsWith(AGENT_ACTOR_PREFIX))
        this.send({ type: 'deadline.reached', agentId: key.slice(AGENT_ACTOR_PREFIX.length), at });
    }
  }

  /** Stops taking new work: no polls, no deadlines, no new commands. Commands under way finish. */
  quiesce(): void {
    this.sync.stop();
    this.disposal.stop();
    this.deadlines.stop();
    this.executor.close();
    this.services.events.off('unit.statusChanged', this.#onUnitChanged);
    this.services.events.off('run.statusChanged', this.#onRunChanged);
  }

  /** Saves every actor and stops them. Call after {@link quiesce} and after the work under way finished. */
  stop(): void {
    if (this.#closed) return;
    this.persistence.persistNow();
    this.persistence.close();
    this.#closed = true;
    this.#actor.stop();
  }
}
