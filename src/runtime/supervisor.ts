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
  MACHINE_VERSIONS,
  UNIT_ACTOR_PREFIX,
  agentActorId,
  joinTaskRunSnapshot,
  pendingCommands,
  taskRunMachine,
  unitActorId,
  upgradeSnapshot,
  withCommandHandler,
  type AgentContext,
  type HITStatus,
  type StoredActor,
  type TaskRunContext,
  type TaskRunEvent,
  type UnitContext,
  type UnitEvent,
} from '../../machines/index.js';
import type { ResolvedTaskRunConfig } from '../config/task-run.js';
import { HitstateError } from '../errors.js';
import type { MTurkGateway } from '../mturk/gateway.js';
import type { TaskRunStatus } from '../store/types.js';
import { CommandExecutor } from './command-executor.js';
import { DeadlineWheel } from './deadlines.js';
import { Disposal } from './disposal.js';
import { childSrcOf, joinSupervisorContext, type SupervisorPart } from '../../machines/persistence.js';
import { ActorPersistence, type StoredBetween, type StoredRunTree } from './persistence.js';
import type { ActorView, RunPort } from './run-port.js';
import type { RuntimeServices } from './services.js';
import { StatusSync } from './status-sync.js';

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

/** A run read back from the store, ready for `createActor`. */
export interface StoredRun {
  /** The whole persisted snapshot (supervisor, groups, units, agents). */
  readonly snapshot: Record<string, unknown>;
  /** Actors whose stored snapshot is not what this release writes (an older machine version): written back after the restore. */
  readonly stale: ReadonlySet<string>;
}

/**
 * Reads a run's stored actors back into one persisted snapshot for `createActor`, checking each
 * machine version: a snapshot of an older version is upgraded (`upgradeSnapshot`), one that cannot
 * be is refused. Actors whose parent is missing (a crash between two shard writes) are left out
 * and reported. The supervisor's context is put back together from its parts (`run:<runId>#…`).
 *
 * @throws HitstateError `HST_ERR_RUN_STATE` when a snapshot was made by a version of its machine this release cannot read.
 */
export function readStoredRun(services: RuntimeServices, runId: string): StoredRun | undefined {
  const rootId = `run:${runId}`;
  const records = services.store.snapshots.ofRun(runId);
  const root = records.find((r) => r.actorId === rootId);
  if (root === undefined) return undefined;
  const stale = new Set<string>();
  const current = (
    machine: string,
    version: number,
    actorId: string,
    snapshot: Record<string, unknown>,
  ): Record<string, unknown> => {
    const upgraded = upgradeSnapshot(machine, version, snapshot);
    if (upgraded === undefined) {
      const expected = (MACHINE_VERSIONS as Record<string, number>)[machine];
      throw new HitstateError(
        'HST_ERR_RUN_STATE',
        `run ${runId} cannot be resumed: actor ${actorId} was saved by version ${version} of the ${machine} machine and this hitstate has version ${expected ?? 'none'} and no upgrade from it; finish the run with the hitstate release that started it`,
        { runId },
      );
    }
    if (version !== (MACHINE_VERSIONS as Record<string, number>)[machine]) stale.add(actorId);
    return upgraded;
  };
  const tree = root.snapshot as unknown as StoredRunTree;
  const actors: Record<string, StoredActor> = {};
  // Groups kept inside the supervisor's record (taskRun version 2) are written back as parts of their own.
  for (const [id, between] of Object.entries(tree.between ?? {})) {
    actors[id] = {
      parentId: between.parentId,
      snapshot: current(between.machine, between.machineVersion, id, between.snapshot),
    };
    stale.add(id);
  }
  const parts: SupervisorPart[] = [];
  for (const record of records) {
    if (record.actorId === rootId) continue;
    if (record.actorId.startsWith(`${rootId}#`)) {
      const key = record.actorId.slice(rootId.length + 1);
      if (childSrcOf(key) === 'group') {
        const between = record.snapshot as unknown as StoredBetween;
        actors[key] = {
          parentId: between.parentId,
          snapshot: current(between.machine, between.machineVersion, key, between.snapshot),
        };
      } else parts.push(record.snapshot as unknown as SupervisorPart);
      continue;
    }
    const stored = record.snapshot as unknown as StoredActor;
    actors[record.actorId] = {
      parentId: stored.parentId,
      snapshot: current(record.machine, record.machineVersion, record.actorId, stored.snapshot),
    };
  }
  const own = current(root.machine, root.machineVersion, rootId, tree.supervisor);
  const supervisor = { ...own, context: joinSupervisorContext(own.context as Record<string, unknown>, parts) };
  // An actor is kept only if its whole chain of parents is (each actor's answer is remembered).
  const known = new Map<string, boolean>();
  const kept = (id: string, seen = new Set<string>()): boolean => {
    const answer = known.get(id);
    if (answer !== undefined) return answer;
    const actor = actors[id];
    let keep: boolean;
    if (actor === undefined || seen.has(id)) keep = false;
    else if (actor.parentId === null) keep = true;
    else {
      seen.add(id);
      keep = kept(actor.parentId, seen);
    }
    known.set(id, keep);
    return keep;
  };
  for (const id of Object.keys(actors)) {
    if (!kept(id)) {
      services.reportError(
        new HitstateError(
          'HST_ERR_RUN_STATE',
          `run ${runId}: the stored actor ${id} names parent ${actors[id]!.parentId}, which was not saved; it is left out of the restored run`,
          { runId },
        ),
      );
      delete actors[id];
    }
  }
  return { snapshot: joinTaskRunSnapshot(supervisor, actors), stale };
}

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
