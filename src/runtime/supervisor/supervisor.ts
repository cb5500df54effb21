/**
 * One task run in a runtime: the taskRun supervisor actor (created, or restored from the store)
 * with the runtime's command handler provided, its persistence, its deadline wheel, its status
 * sync and its disposal. Every event for the run goes through {@link RunHost.send}.
 *
 * @module
 */
import { createActor, type Actor } from 'xstate';
import {
  AGENT_ACTOR_PREFIX,
  UNIT_ACTOR_PREFIX,
  UNIT_GROUP_SIZE,
  hitOf,
  pendingCommands,
  taskRunMachine,
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
import type { Delivery } from '../../../machines/task-run-setup.js';
import { ActorCells, type RestoredCells, type UnitIndexEntry } from './cells.js';
import { ActorPersistence } from './persistence.js';
import { RuntimePoolTables } from './pool-tables.js';
import type { PersistedSupervisor, StoredRun } from './stored-run.js';
import type { ActorView, RunPort } from '../core/run-port.js';
import type { RuntimeServices } from '../core/services.js';
import { StatusSync } from '../sync/status-sync.js';

/** What the restore found for the resume (read from the index, in the same pass). */
export type RestoredSummary = RestoredCells;

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

/** The supervisor's actions that only route an event to one unit, changing nothing of its own. */
type DirectRoute = 'routeToUnit' | 'routeObservation';

/**
 * For each supervisor state, the events it handles with nothing but a routing action (one
 * transition: no guard, no target), read from the machine so the list is declared once, there.
 */
const DIRECT_ROUTES: ReadonlyMap<string, ReadonlyMap<string, DirectRoute>> = (() => {
  const routes = new Map<string, Map<string, DirectRoute>>();
  for (const [state, node] of Object.entries(taskRunMachine.root.states)) {
    const byEvent = new Map<string, DirectRoute>();
    for (const [type, transitions] of Object.entries(node.on)) {
      const only = transitions?.length === 1 ? transitions[0] : undefined;
      const action = only?.actions.length === 1 ? only.actions[0] : undefined;
      if (only === undefined || only.guard !== undefined || only.target !== undefined) continue;
      if (action === 'routeToUnit' || action === 'routeObservation') byEvent.set(type, action);
    }
    routes.set(state, byEvent);
  }
  return routes;
})();

/** One loaded task run. */
export class RunHost implements RunPort {
  readonly runId: string;
  readonly requesterName: string;
  #config: ResolvedTaskRunConfig;
  readonly gateway: MTurkGateway;
  readonly services: RuntimeServices;
  readonly executor: CommandExecutor;
  readonly persistence: ActorPersistence;
  /** The run's units and agents, passive unless busy. */
  readonly cells: ActorCells;
  readonly deadlines: DeadlineWheel;
  readonly sync: StatusSync;
  readonly disposal: Disposal;
  /** The supervisor's tables (units, pool HITs, arrivals): the runtime's, so only changed rows are stored. */
  readonly tables: RuntimePoolTables;
  readonly restored: boolean;
  readonly #stale: ReadonlySet<string>;
  readonly #obsolete: readonly string[];
  readonly #taskUrl: string;
  readonly #actor: RunActor;
  #failure: unknown;
  #closed = false;
  #summary: RestoredSummary | undefined;

  constructor(init: RunHostInit, stored: StoredRun | undefined) {
    this.runId = init.runId;
    this.requesterName = init.requesterName;
    this.#config = init.config;
    this.gateway = init.gateway;
    this.services = init.services;
    this.#taskUrl = init.taskUrl;
    this.restored = stored !== undefined;
    this.#stale = stored?.stale ?? new Set();
    this.#obsolete = stored?.obsolete ?? [];
    this.executor = new CommandExecutor(this);
    this.deadlines = new DeadlineWheel(init.services.clock, (keys, at) => this.#deadlinesPassed(keys, at));
    this.persistence = new ActorPersistence(init.runId, init.services, this.deadlines);
    this.tables = stored?.tables ?? new RuntimePoolTables();
    this.persistence.useTables(this.tables);
    this.cells = new ActorCells({
      runId: init.runId,
      services: init.services,
      persistence: this.persistence,
      retry: init.services.options.retry,
      command: (command) => this.executor.enqueue(command),
      report: (report) => this.#actor.send(report),
      persistSupervisor: () => this.persistence.persistNow(),
    });
    this.persistence.readUnitsWith((unitId) => this.cells.unit(unitId)?.context);
    this.sync = new StatusSync(this);
    this.disposal = new Disposal(this);
    // Units and agents are not the supervisor's children: what it sends them goes to the passive cells.
    const logic = withCommandHandler(taskRunMachine, (command) => this.executor.enqueue(command)).provide({
      actions: { deliver: (_args: unknown, delivery: Delivery) => this.cells.accept(delivery.effects) } as never,
    });
    const input = {
      runId: init.runId,
      unitIds: [...init.unitIds],
      settings: {
        maxConcurrentUnits: init.config.maxConcurrentUnits,
        assignmentDurationSec: init.config.assignmentDurationSec,
        drainGraceSec: init.services.options.drainGraceSec,
      },
      retry: init.services.options.retry,
      tables: this.tables,
    };
    // A restored supervisor gets its tables back in its context (they are stored as rows, not in the snapshot).
    const snapshot: PersistedSupervisor | undefined =
      stored === undefined
        ? undefined
        : { ...stored.snapshot, context: { ...stored.snapshot.context, tables: this.tables } };
    this.#actor = createActor(logic, {
      id: this.persistence.rootId,
      input,
      ...(snapshot === undefined ? {} : { snapshot }),
    });
    // The supervisor has no child actors (units and agents are the cells'), so a subscription
    // sees every snapshot it takes: no inspection, whose events XState builds for every event,
    // microstep and action of the supervisor.
    const root = this.#actor;
    this.persistence.track(root);
    this.#actor.subscribe({
      next: () => this.persistence.markDirty(root),
      error: (err) => {
        // The failed snapshot is stored too, as it was when the supervisor was inspected.
        this.persistence.markDirty(root);
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

  /**
   * Starts the supervisor; after a restore, reads each unit and agent once (their store records,
   * deadlines and status events are brought in step), re-issues every command one was waiting
   * on (same ids, same tokens), and materializes only the units that wait on a command or have a
   * deadline due soon: the others stay passive.
   */
  start(): void {
    this.#actor.start();
    if (this.restored) {
      const root = this.#actor;
      this.persistence.adopt(root, this.#stale.has(root.id));
      for (const command of pendingCommands(root.getSnapshot())) this.executor.enqueue(command);
      this.#restoreCells();
      for (const id of this.#obsolete) this.services.store.snapshots.delete(id);
    }
    this.cells.drain();
    this.persistence.persistNow();
    this.sync.start();
    this.services.events.on('unit.statusChanged', this.#onUnitChanged);
    this.services.events.on('run.statusChanged', this.#onRunChanged);
    this.disposal.disposeFinished();
  }

  /** The units the supervisor spawned, with their agents, restored from the index; busy ones woken (cells.ts). */
  #restoreCells(): void {
    const context = this.#actor.getSnapshot().context;
    const spawned: string[] = [];
    for (let i = 0; i < Math.min(this.tables.unitCount, context.groupsSpawned * UNIT_GROUP_SIZE); i++)
      spawned.push(this.tables.unitAt(i)!);
    const agentsOf = new Map<string, string[]>();
    for (const agent of this.services.store.agents.ofRun(this.runId)) {
      const list = agentsOf.get(agent.unitId);
      if (list === undefined) agentsOf.set(agent.unitId, [agent.id]);
      else list.push(agent.id);
    }
    this.#summary = this.cells.restore(spawned, agentsOf);
  }

  /** What the restore read for the resume's repairs; given once (then forgotten, to hold no memory). */
  takeRestoredSummary(): RestoredSummary | undefined {
    const summary = this.#summary;
    this.#summary = undefined;
    return summary;
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

  /** The run's configuration, as resolved from the store. */
  get config(): ResolvedTaskRunConfig {
    return this.#config;
  }

  /** Takes the stored configuration again after units were appended to it (`add-units`, `relaunch`). */
  replaceConfig(config: ResolvedTaskRunConfig): void {
    this.#config = config;
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
    // An event the supervisor would only pass on to one existing unit goes to that unit directly:
    // its transition would change nothing but XState's snapshot (several per submission in a sync cycle).
    const unitId = this.#directUnit(event);
    if (unitId === undefined || !this.cells.sendToUnit(unitId, event as UnitEvent)) this.#actor.send(event);
    this.cells.drain();
  }

  /**
   * The unit the supervisor's routing would hand `event` to, changing nothing in its own context:
   * `routeToUnit` names the unit in the event; `routeObservation` sends news of a HIT bound to a
   * unit to that unit (news of an unbound pool HIT may bind it, so it goes through the supervisor).
   */
  #directUnit(event: TaskRunEvent): string | undefined {
    const route = DIRECT_ROUTES.get(this.status())?.get(event.type);
    if (route === 'routeToUnit') return (event as { unitId: string }).unitId;
    if (route === 'routeObservation')
      return hitOf(this.#actor.getSnapshot(), (event as { hitId: string }).hitId)?.unitId ?? undefined;
    return undefined;
  }

  /**
   * Sends an event straight to one unit, bypassing the supervisor's routing: only for requests the
   * supervisor has no route for and that need no pool bookkeeping (expiring one created or assigned unit).
   */
  sendToUnit(unitId: string, event: UnitEvent): boolean {
    if (this.#closed || this.#failure !== undefined) return false;
    if (!this.cells.sendToUnit(unitId, event)) return false;
    this.cells.drain();
    return true;
  }

  persistNow(): void {
    this.cells.persistNow();
    this.persistence.persistNow();
  }

  status(): TaskRunStatus {
    const value = this.#actor.getSnapshot().value;
    return (typeof value === 'string' ? value : Object.keys(value)[0]) as TaskRunStatus;
  }

  supervisor(): ActorView<TaskRunContext> {
    return this.#actor.getSnapshot() as ActorView<TaskRunContext>;
  }

  unit(unitId: string): ActorView<UnitContext> | undefined {
    return this.cells.unit(unitId);
  }

  unitIndex(unitId: string): UnitIndexEntry | undefined {
    return this.cells.unitIndex(unitId);
  }

  agent(agentId: string): ActorView<AgentContext> | undefined {
    return this.cells.agent(agentId);
  }

  /** Every unit's snapshot (passive ones read from the store, one record each). */
  units(): Array<ActorView<UnitContext>> {
    return this.unitsAndAgents().units;
  }

  /** Every agent's snapshot. */
  agents(): Array<ActorView<AgentContext>> {
    return this.unitsAndAgents().agents;
  }

  /** Every unit and every agent's snapshot, live or stored: each passive one is read from the store (one pass). */
  unitsAndAgents(): { units: Array<ActorView<UnitContext>>; agents: Array<ActorView<AgentContext>> } {
    const units: Array<ActorView<UnitContext>> = [];
    const agents: Array<ActorView<AgentContext>> = [];
    for (const unitId of this.cells.unitIds()) {
      const unit = this.cells.unit(unitId);
      if (unit !== undefined) units.push(unit);
      for (const agentId of this.cells.agentsOf(unitId)) {
        const agent = this.cells.agent(agentId);
        if (agent !== undefined) agents.push(agent);
      }
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
    this.cells.close();
    this.persistence.persistNow();
    this.persistence.close();
    this.#closed = true;
    this.#actor.stop();
  }
}
