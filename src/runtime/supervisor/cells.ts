/**
 * Passive units and agents: a unit (with its agents, which are its XState children) is an actor
 * only while it handles an event, waits on a command it issued, or has a deadline of its own due
 * soon. Otherwise it is its stored snapshot (the store's one copy) plus a compact entry here:
 * which agents it holds. An event for a passive unit or agent materializes the unit from its
 * snapshot (`createActor(machine, { snapshot })`), runs it, persists what changed and lets the
 * actor go (the actor and the snapshot it was restored from, which XState keeps in
 * `actor.options.snapshot`). This is the virtual-actor pattern (Orleans) or passivation (Akka).
 *
 * The supervisor stays live; its `deliver` action hands this class what a decision sends to units
 * and agents, and {@link ActorCells.drain} delivers it in order once the supervisor's step is
 * over (as XState delivers `sendTo` after the sender's step), relaying what units report back to
 * the supervisor as they report it.
 *
 * @module
 */
import { createActor, type AnyActorRef, type StateValue } from 'xstate';
import {
  AGENT_ACTOR_PREFIX,
  AgentTag,
  agentActorId,
  agentMachine,
  agentStatusOf,
  nextDeadline,
  pendingCommands,
  unitActorId,
  unitAgentMachine,
  unitMachine,
  unitStatusOf,
  type AgentContext,
  type AgentEvent,
  type AgentState,
  type AssignmentState,
  type Command,
  type RetryPolicy,
  type UnitContext,
  type UnitEvent,
  type UnitReport,
} from '../../../machines/index.js';
import { tagsOfValue } from '../../../machines/tags.js';
import type { Effect } from '../../../machines/task-run-logic.js';
import { HitstateError } from '../../errors.js';
import type { ActorView } from '../core/run-port.js';
import type { RuntimeServices } from '../core/services.js';
import type { ActorPersistence } from './persistence.js';
import { MACHINE_VERSIONS, upgradeSnapshot, type StoredActor } from './snapshot-layout.js';

/**
 * A unit whose own deadline (or one of its agents') is due within this much of now stays an
 * actor: it will be woken soon, and materializing it twice costs more than keeping it.
 */
export const KEEP_LIVE_WITHIN_MS = 60_000;

/**
 * A unit's entry in the run's persisted compact index: what the runtime reads of a passive unit
 * without parsing its snapshot (resume, the status sync). It is the `index` field of the unit's
 * stored record (`{ index, parentId, snapshot }`), so it is written in the same commit as the
 * snapshot it summarizes and can never disagree with it.
 */
export interface UnitIndexEntry {
  readonly value: StateValue;
  readonly status: AssignmentState;
  /** The XState tags of its state (machines/tags.ts). */
  readonly tags: readonly string[];
  readonly hitId: string | null;
  readonly agentId: string | null;
  readonly workerId: string | null;
  /** When it next wants `deadline.reached` (nextDeadline), or null. */
  readonly deadline: number | null;
  /** The bound assignment's deadline (the status sync's second look), or null. */
  readonly deadlineAt: number | null;
  readonly hitExpired: boolean;
  /** Ids of the commands it waits on. */
  readonly pending: readonly string[];
}

/** An agent's entry in the index (see {@link UnitIndexEntry}). */
export interface AgentIndexEntry {
  readonly value: StateValue;
  readonly status: AgentState;
  readonly tags: readonly string[];
  readonly assignmentId: string;
  readonly workerId: string;
  readonly deadline: number | null;
  readonly pending: readonly string[];
  /** On the task or left (a late submission still completes it) and its data not stored yet. */
  readonly awaitingData: boolean;
}

/** The index entry of a unit snapshot (live or stored). */
export function unitIndexEntry(snapshot: { value: StateValue; context: UnitContext }): UnitIndexEntry {
  const { context } = snapshot;
  return {
    value: snapshot.value,
    status: unitStatusOf(snapshot),
    tags: [...tagsOfValue(unitMachine, snapshot.value)],
    hitId: context.hitId,
    agentId: context.agentId,
    workerId: context.workerId,
    deadline: nextDeadline(snapshot) ?? null,
    deadlineAt: context.deadlineAt,
    hitExpired: context.hitExpired,
    pending: pendingCommands(snapshot).map((c) => c.commandId),
  };
}

/** The index entry of an agent snapshot (live or stored). */
export function agentIndexEntry(snapshot: { value: StateValue; context: AgentContext }): AgentIndexEntry {
  const { context } = snapshot;
  const tags = tagsOfValue(agentMachine, snapshot.value);
  return {
    value: snapshot.value,
    status: agentStatusOf(snapshot),
    tags: [...tags],
    assignmentId: context.assignmentId,
    workerId: context.workerId,
    deadline: nextDeadline(snapshot) ?? null,
    pending: pendingCommands(snapshot).map((c) => c.commandId),
    awaitingData: !context.dataStored && (tags.has(AgentTag.onTask) || tags.has(AgentTag.left)),
  };
}

/** What {@link ActorCells.restore} found for the resume. */
export interface RestoredCells {
  /** Agents a late submission still completes, whose data the agent has not recorded. */
  readonly awaitingData: string[];
  /** Units materialized because they wait on a command or have a deadline due soon. */
  readonly woken: number;
  /** Records of an older release (no index entry) that got theirs: the index built once. */
  readonly indexed: number;
}

/** What the cells need from the run that hosts them. */
export interface CellsHost {
  readonly runId: string;
  readonly services: RuntimeServices;
  readonly persistence: ActorPersistence;
  readonly retry: RetryPolicy | undefined;
  /** Receives every command a unit or agent issues (the command executor). */
  command(command: Command): void;
  /** Sends a unit's report (or its failure) to the supervisor. */
  report(report: UnitReport): void;
  /**
   * Puts the supervisor's changed state into the store now: called after the units a drain touched
   * are stored, so their snapshots and the supervisor's state that took their reports share a commit.
   */
  persistSupervisor(): void;
}

type Delivery =
  | { readonly to: 'unit'; readonly unitId: string; readonly event: UnitEvent }
  | { readonly to: 'agent'; readonly agentId: string; readonly event: AgentEvent };

interface Cell {
  readonly actor: AnyActorRef;
  /** The unit's snapshot as last persisted (or as restored). */
  unit: unknown;
  /** Each agent's snapshot as last persisted (or as restored). */
  readonly agents: Map<string, unknown>;
  /** Restored from an older machine version: written back on its first persist. */
  stale: boolean;
  /** A persist failed: stay live and try again at the next settle. */
  unsaved: boolean;
  failed: boolean;
}

/** A stored snapshot as the runtime reads it (value and context, no actor). */
interface Stored<C> {
  readonly value: StateValue;
  readonly context: C;
  readonly status: string;
}

/** A stored snapshot as {@link ActorCells} reads it: upgraded, and whether it came from an older machine version. */
interface Read<C> {
  readonly snapshot: Record<string, unknown> & Stored<C>;
  readonly stale: boolean;
}

/** An actor's persisted snapshot without its children (each is stored on its own). */
function ownPersisted(ref: AnyActorRef, snapshot: object): Record<string, unknown> {
  const logic = (ref as AnyActorRef & { logic: { getPersistedSnapshot(s: unknown): unknown } }).logic;
  return logic.getPersistedSnapshot({ ...snapshot, children: {} }) as Record<string, unknown>;
}

/** The units and agents of one run, passive unless busy. */
export class ActorCells {
  readonly #host: CellsHost;
  /** Units that exist (spawned by the supervisor), with the agents each holds. */
  readonly #agentsOf = new Map<string, string[]>();
  readonly #unitOf = new Map<string, string>();
  readonly #live = new Map<string, Cell>();
  readonly #queue: Delivery[] = [];
  readonly #reports: UnitReport[] = [];
  readonly #touched = new Set<string>();
  #draining = false;
  #closed = false;
  readonly #logic;
  readonly #agentLogic;

  constructor(host: CellsHost) {
    this.#host = host;
    const handler = (_args: unknown, command: Command): void => host.command(command);
    const agent = unitAgentMachine.provide({
      actions: {
        approveAssignment: handler,
        rejectAssignment: handler,
        softRejectAssignment: handler,
        sendBonus: handler,
      },
    });
    this.#agentLogic = agent;
    this.#logic = unitMachine.provide({
      actors: { agent },
      actions: {
        launchHIT: handler,
        expireHIT: handler,
        confirmHIT: handler,
        reconcileSubmission: handler,
        report: (_args, report: UnitReport) => {
          this.#reports.push(report);
        },
      },
    });
  }

  /** How many units are actors right now (the rest are passive). */
  get liveCount(): number {
    return this.#live.size;
  }

  /** Whether the unit exists in this run. */
  hasUnit(unitId: string): boolean {
    return this.#agentsOf.has(unitId);
  }

  /** Every unit id the run holds. */
  unitIds(): IterableIterator<string> {
    return this.#agentsOf.keys();
  }

  /** The agents a unit holds (its actor's children), oldest first. */
  agentsOf(unitId: string): readonly string[] {
    return this.#agentsOf.get(unitId) ?? [];
  }

  /** The unit that holds an agent. */
  unitOf(agentId: string): string | undefined {
    return this.#unitOf.get(agentId);
  }

  /** Registers a unit restored from the store (passive) and the agents its stored children are. */
  know(unitId: string, agentIds: readonly string[] = []): void {
    if (!this.#agentsOf.has(unitId)) this.#agentsOf.set(unitId, []);
    for (const agentId of agentIds) this.#adoptAgent(unitId, agentId);
  }

  #adoptAgent(unitId: string, agentId: string): void {
    if (this.#unitOf.has(agentId)) return;
    this.#unitOf.set(agentId, unitId);
    const list = this.#agentsOf.get(unitId);
    if (list === undefined) this.#agentsOf.set(unitId, [agentId]);
    else list.push(agentId);
  }

  /**
   * Takes a decision's effects (the supervisor's `deliver` action): new units are created now,
   * sends are queued for {@link drain}. A send to a unit or agent that does not exist is reported
   * to the supervisor as an anomaly, as the default delivery does.
   */
  accept(effects: readonly Effect[]): void {
    for (const effect of effects) {
      switch (effect.kind) {
        case 'spawnGroup':
        case 'addToGroup':
          for (const unitId of effect.unitIds) if (!this.#agentsOf.has(unitId)) this.#create(unitId);
          break;
        case 'toUnit':
          this.#queue.push({ to: 'unit', unitId: effect.unitId, event: effect.event });
          break;
        case 'toAgent':
          this.#queue.push({ to: 'agent', agentId: effect.agentId, event: effect.event });
          break;
      }
    }
  }

  /** Queues an event for one unit (a request the supervisor has no route for). */
  sendToUnit(unitId: string, event: UnitEvent): boolean {
    if (!this.#agentsOf.has(unitId)) return false;
    this.#queue.push({ to: 'unit', unitId, event });
    return true;
  }

  /**
   * Delivers what is queued, in order, relaying each unit's reports to the supervisor (whose
   * decisions may queue more), then persists every unit touched and lets go of those with
   * nothing pending. Re-entrant calls return at once: the outer drain delivers their events.
   */
  drain(): void {
    if (this.#draining || this.#closed) return;
    this.#draining = true;
    let stored = false;
    try {
      for (;;) {
        const next = this.#queue.shift();
        if (next === undefined) break;
        this.#deliver(next);
        this.#relayReports();
      }
      stored = this.#settle();
    } finally {
      this.#draining = false;
    }
    // In the same synchronous step as the units' snapshots, so in the same commit: a crash never
    // leaves a unit ahead of the supervisor's view of it (outside the drain, so a listener of the
    // events this emits may send again).
    if (stored) this.#host.persistSupervisor();
  }

  #relayReports(): void {
    for (;;) {
      const report = this.#reports.shift();
      if (report === undefined) return;
      this.#host.report(report);
    }
  }

  #deliver(delivery: Delivery): void {
    if (delivery.to === 'unit') {
      const { unitId, event } = delivery;
      if (!this.#agentsOf.has(unitId)) {
        this.#anomaly(unitActorId(unitId), `${event.type} for unit ${unitId}, which does not exist; dropped`);
        return;
      }
      // Most news changes nothing (a worker still on the task): a passive unit is asked first,
      // from its stored snapshot, and materialized only when the event takes a transition.
      const stored = this.#live.has(unitId) ? undefined : this.#read<UnitContext>(unitActorId(unitId), 'unit');
      if (stored !== undefined && !stored.stale && !this.#takes(this.#logic, stored.snapshot, event)) return;
      const cell = this.#cell(unitId, stored);
      if (cell === undefined) return;
      cell.actor.send(event);
      this.#afterEvent(unitId, cell);
      return;
    }
    const { agentId, event } = delivery;
    const unitId = this.#unitOf.get(agentId);
    let agentRead: Read<AgentContext> | undefined;
    if (unitId !== undefined && !this.#live.has(unitId)) {
      agentRead = this.#read<AgentContext>(agentActorId(agentId), 'agent');
      if (agentRead !== undefined && !agentRead.stale && !this.#takes(this.#agentLogic, agentRead.snapshot, event))
        return;
    }
    // The agent's record just read is not read again to materialize its unit.
    const cell =
      unitId === undefined
        ? undefined
        : this.#cell(unitId, undefined, agentRead === undefined ? undefined : { agentId, read: agentRead });
    const agent = cell?.actor.system.get(agentActorId(agentId)) as AnyActorRef | undefined;
    if (unitId === undefined || cell === undefined || agent === undefined) {
      this.#anomaly(agentActorId(agentId), `${event.type} for agent ${agentId}, which does not exist; dropped`);
      return;
    }
    agent.send(event);
    this.#afterEvent(unitId, cell);
  }

  /** Whether `event` takes a transition in the stored snapshot (guards evaluated, nothing run); true when unsure. */
  #takes(
    logic: { resolveState(config: never): { can(event: never): boolean } },
    snapshot: Stored<unknown>,
    event: object,
  ): boolean {
    try {
      return logic.resolveState({ value: snapshot.value, context: snapshot.context } as never).can(event as never);
    } catch {
      return true;
    }
  }

  #anomaly(actorId: string, message: string): void {
    const unitId = actorId.startsWith(AGENT_ACTOR_PREFIX) ? '' : actorId.slice(actorId.indexOf(':') + 1);
    this.#reports.push({ type: 'report.childFailed', unitId, actorId, message });
  }

  /** New agents (spawned while handling the event) are recorded as the unit's. */
  #afterEvent(unitId: string, cell: Cell): void {
    this.#touched.add(unitId);
    const children = (cell.actor.getSnapshot() as { children?: Record<string, AnyActorRef | undefined> }).children;
    for (const id of Object.keys(children ?? {}))
      if (id.startsWith(AGENT_ACTOR_PREFIX)) this.#adoptAgent(unitId, id.slice(AGENT_ACTOR_PREFIX.length));
  }

  /** A new unit: created, persisted, and let go at the next settle. */
  #create(unitId: string): void {
    this.#agentsOf.set(unitId, []);
    const input = {
      unitId,
      runId: this.#host.runId,
      ...(this.#host.retry !== undefined ? { retry: this.#host.retry } : {}),
    };
    const actor = createActor(this.#logic, { id: unitActorId(unitId), input });
    const cell: Cell = { actor, unit: undefined, agents: new Map(), stale: false, unsaved: false, failed: false };
    this.#watch(unitId, cell);
    actor.start();
    this.#live.set(unitId, cell);
    this.#touched.add(unitId);
  }

  #watch(unitId: string, cell: Cell): void {
    cell.actor.subscribe({
      error: (err: unknown) => {
        cell.failed = true;
        this.#live.delete(unitId);
        this.#reports.push({
          type: 'report.childFailed',
          unitId,
          actorId: unitActorId(unitId),
          message: err instanceof Error ? err.message : String(err),
        });
      },
    });
  }

  /** The unit's actor: live already, or materialized from its stored snapshot and its agents'. */
  #cell(
    unitId: string,
    read?: Read<UnitContext>,
    agentRead?: { readonly agentId: string; readonly read: Read<AgentContext> },
  ): Cell | undefined {
    const live = this.#live.get(unitId);
    if (live !== undefined) return live;
    if (!this.#agentsOf.has(unitId)) return undefined;
    const own = read ?? this.#read<UnitContext>(unitActorId(unitId), 'unit');
    if (own === undefined) {
      // Known but never stored (a crash right after its spawn): it starts afresh, as it was.
      this.#agentsOf.delete(unitId);
      this.#create(unitId);
      return this.#live.get(unitId);
    }
    let stale = own.stale;
    const children: Record<string, unknown> = {};
    for (const agentId of this.agentsOf(unitId)) {
      const id = agentActorId(agentId);
      const agent = agentRead?.agentId === agentId ? agentRead.read : this.#read<AgentContext>(id, 'agent');
      if (agent === undefined) continue;
      stale ||= agent.stale;
      children[id] = { snapshot: agent.snapshot, src: 'agent', systemId: id, syncSnapshot: false };
    }
    const actor = createActor(this.#logic, {
      id: unitActorId(unitId),
      // Not used on a restore, but the machine's types ask for it.
      input: { unitId, runId: this.#host.runId },
      snapshot: { ...own.snapshot, children } as never,
    });
    const cell: Cell = { actor, unit: undefined, agents: new Map(), stale, unsaved: false, failed: false };
    this.#watch(unitId, cell);
    actor.start();
    // What was just read is what the store holds: only a change (or an upgrade) is written back.
    cell.unit = actor.getSnapshot();
    for (const [id, ref] of Object.entries(
      (cell.unit as { children?: Record<string, AnyActorRef | undefined> }).children ?? {},
    ))
      if (ref !== undefined) cell.agents.set(id, ref.getSnapshot());
    this.#live.set(unitId, cell);
    return cell;
  }

  /** One stored snapshot, upgraded to this release's machine version; undefined when absent. */
  #read<C>(actorId: string, machine: 'unit' | 'agent'): Read<C> | undefined {
    const record = this.#host.services.store.snapshots.get(actorId);
    if (record === undefined) return undefined;
    const stored = record.snapshot as unknown as StoredActor;
    const snapshot = upgradeSnapshot(record.machine, record.machineVersion, stored.snapshot);
    if (snapshot === undefined || record.machine !== machine)
      throw new HitstateError(
        'HST_ERR_RUN_STATE',
        `run ${this.#host.runId} cannot be resumed: actor ${actorId} was saved by version ${record.machineVersion} of the ${record.machine} machine and this hitstate has version ${MACHINE_VERSIONS[machine]} of the ${machine} machine and no upgrade from it; finish the run with the hitstate release that started it`,
        { runId: this.#host.runId },
      );
    return {
      snapshot: snapshot as Record<string, unknown> & Stored<C>,
      stale: record.machineVersion !== MACHINE_VERSIONS[machine],
    };
  }

  /** Persists every unit touched since the last settle and lets go of those with nothing pending; true when any was. */
  #settle(): boolean {
    if (this.#touched.size === 0) return false;
    const touched = [...this.#touched];
    this.#touched.clear();
    const now = this.#host.services.clock.now();
    for (const unitId of touched) {
      const cell = this.#live.get(unitId);
      if (cell === undefined || cell.failed) continue;
      this.#persist(unitId, cell);
      if (!cell.unsaved && !this.#busy(cell, now)) {
        this.#live.delete(unitId);
        cell.actor.stop();
      }
    }
    return true;
  }

  /** Writes the unit and each agent whose snapshot changed; units before agents (an agent's record needs its unit's). */
  #persist(unitId: string, cell: Cell): void {
    const persistence = this.#host.persistence;
    const snapshot = cell.actor.getSnapshot() as Stored<UnitContext> & {
      children?: Record<string, AnyActorRef | undefined>;
    };
    cell.unsaved = false;
    try {
      if (snapshot !== cell.unit || cell.stale) {
        const own = ownPersisted(cell.actor, snapshot);
        persistence.storeUnit(unitId, snapshot, own);
        cell.unit = snapshot;
      }
      for (const [id, ref] of Object.entries(snapshot.children ?? {})) {
        if (ref === undefined || !id.startsWith(AGENT_ACTOR_PREFIX)) continue;
        const agent = ref.getSnapshot() as Stored<AgentContext>;
        if (agent === cell.agents.get(id) && !cell.stale) continue;
        const own = ownPersisted(ref, agent);
        persistence.storeAgent(id.slice(AGENT_ACTOR_PREFIX.length), unitActorId(unitId), agent, own);
        cell.agents.set(id, agent);
      }
      cell.stale = false;
    } catch (err) {
      cell.unsaved = true;
      this.#touched.add(unitId);
      this.#host.services.reportError(err);
    }
  }

  /** Waits on a command, or a deadline of the unit or one of its agents is due soon. */
  #busy(cell: Cell, now: number): boolean {
    const snapshot = cell.actor.getSnapshot() as Stored<UnitContext> & {
      children?: Record<string, AnyActorRef | undefined>;
    };
    if (pendingCommands(snapshot).length > 0) return true;
    const due = nextDeadline(snapshot);
    if (due !== undefined && due - now < KEEP_LIVE_WITHIN_MS) return true;
    for (const ref of Object.values(snapshot.children ?? {})) {
      if (ref === undefined) continue;
      const agent = ref.getSnapshot() as Stored<AgentContext>;
      if (pendingCommands(agent).length > 0) return true;
      const at = nextDeadline(agent);
      if (at !== undefined && at - now < KEEP_LIVE_WITHIN_MS) return true;
    }
    return false;
  }

  /** Materializes a unit now and keeps it (a restored unit that waits on a command or a deadline due soon). */
  wake(unitId: string): void {
    if (this.#cell(unitId) !== undefined) this.#touched.add(unitId);
  }

  /**
   * Restores the units the supervisor spawned, with their agents, from the persisted index alone:
   * each unit's and agent's entry gives its status (events, counts), its deadline (the wheel) and
   * whether it waits on a command. Only a unit that waits on a command, or whose own or one of
   * whose agents' deadline is due within {@link KEEP_LIVE_WITHIN_MS}, is materialized (its
   * snapshot parsed) and its commands issued again (same ids, same tokens: entry actions do not
   * re-run on restore); no other snapshot is parsed. A record written before the index existed
   * is parsed once and written back with its entry.
   */
  restore(unitIds: readonly string[], agentsOf: ReadonlyMap<string, readonly string[]>): RestoredCells {
    for (const unitId of unitIds) this.know(unitId, agentsOf.get(unitId) ?? []);
    const persistence = this.#host.persistence;
    const now = this.#host.services.clock.now();
    const soon = (at: number | null): boolean => at !== null && at - now < KEEP_LIVE_WITHIN_MS;
    const awaitingData: string[] = [];
    let woken = 0;
    const indexed = { count: 0 };
    for (const unitId of unitIds) {
      const unit = this.#storedUnitIndex(unitId, indexed);
      if (unit === undefined) continue;
      persistence.adoptStored('unit', unitId, unit);
      let wake = unit.pending.length > 0 || soon(unit.deadline);
      for (const agentId of this.agentsOf(unitId)) {
        const agent = this.#storedAgentIndex(agentId, indexed);
        if (agent === undefined) continue;
        persistence.adoptStored('agent', agentId, agent, unitId);
        if (agent.awaitingData) awaitingData.push(agentId);
        wake ||= agent.pending.length > 0 || soon(agent.deadline);
      }
      if (!wake) continue;
      const cell = this.#cell(unitId);
      if (cell === undefined) continue;
      woken++;
      this.#touched.add(unitId);
      const snapshot = cell.actor.getSnapshot() as Stored<UnitContext> & {
        children?: Record<string, AnyActorRef | undefined>;
      };
      const commands = pendingCommands(snapshot);
      for (const ref of Object.values(snapshot.children ?? {}))
        if (ref !== undefined) commands.push(...pendingCommands(ref.getSnapshot()));
      for (const command of commands) this.#host.command(command);
    }
    return { awaitingData, woken, indexed: indexed.count };
  }

  /** A unit's index entry: from its live actor, else from its stored record (the snapshot is not parsed). */
  unitIndex(unitId: string): UnitIndexEntry | undefined {
    const live = this.#live.get(unitId);
    if (live !== undefined) return unitIndexEntry(live.actor.getSnapshot());
    if (!this.#agentsOf.has(unitId)) return undefined;
    return this.#storedUnitIndex(unitId, { count: 0 });
  }

  #storedUnitIndex(unitId: string, indexed: { count: number }): UnitIndexEntry | undefined {
    const entry = this.#host.services.store.snapshots.indexEntry(unitActorId(unitId)) as UnitIndexEntry | undefined;
    if (entry !== undefined) return entry;
    const read = this.#read<UnitContext>(unitActorId(unitId), 'unit');
    if (read === undefined) return undefined;
    const built = unitIndexEntry(read.snapshot);
    this.#addIndex(unitActorId(unitId), built, indexed);
    return built;
  }

  #storedAgentIndex(agentId: string, indexed: { count: number }): AgentIndexEntry | undefined {
    const entry = this.#host.services.store.snapshots.indexEntry(agentActorId(agentId)) as AgentIndexEntry | undefined;
    if (entry !== undefined) return entry;
    const read = this.#read<AgentContext>(agentActorId(agentId), 'agent');
    if (read === undefined) return undefined;
    const built = agentIndexEntry(read.snapshot);
    this.#addIndex(agentActorId(agentId), built, indexed);
    return built;
  }

  /** Writes an older record back with its index entry first (its snapshot as stored: an upgrade waits for its materializing). */
  #addIndex(actorId: string, index: UnitIndexEntry | AgentIndexEntry, indexed: { count: number }): void {
    const { store } = this.#host.services;
    if (store.readOnly) return;
    const record = store.snapshots.get(actorId);
    if (record === undefined) return;
    const { index: _old, ...rest } = record.snapshot as Record<string, unknown>;
    store.snapshots.put(actorId, {
      machine: record.machine,
      machineVersion: record.machineVersion,
      snapshot: { index, ...rest },
    });
    indexed.count++;
  }

  /** A unit's snapshot: its actor's when live, else its stored one (one record read). */
  unit(unitId: string): ActorView<UnitContext> | undefined {
    const live = this.#live.get(unitId);
    if (live !== undefined) return live.actor.getSnapshot() as ActorView<UnitContext>;
    if (!this.#agentsOf.has(unitId)) return undefined;
    return this.#view<UnitContext>(unitActorId(unitId), 'unit');
  }

  /** An agent's snapshot: its actor's when its unit is live, else its stored one. */
  agent(agentId: string): ActorView<AgentContext> | undefined {
    const unitId = this.#unitOf.get(agentId);
    if (unitId === undefined) return undefined;
    const live = this.#live.get(unitId);
    if (live !== undefined) {
      const ref = live.actor.system.get(agentActorId(agentId)) as AnyActorRef | undefined;
      return ref?.getSnapshot() as ActorView<AgentContext> | undefined;
    }
    return this.#view<AgentContext>(agentActorId(agentId), 'agent');
  }

  #view<C>(actorId: string, machine: 'unit' | 'agent'): ActorView<C> | undefined {
    const read = this.#read<C>(actorId, machine);
    if (read === undefined) return undefined;
    return { value: read.snapshot.value, context: read.snapshot.context, status: 'active' };
  }

  /** Stops every live actor (after a last persist). */
  close(): void {
    this.#settleAll();
    this.#closed = true;
    for (const cell of this.#live.values()) cell.actor.stop();
    this.#live.clear();
  }

  /**
   * Persists every unit touched since the last settle now (before a money call). Every change of a
   * live unit comes through a delivery or its creation, which touch it, so the untouched live
   * units have nothing to write: settling all of them here made a launch of N units O(N²) (each
   * CreateHIT settled every unit still waiting on its own launch).
   */
  persistNow(): void {
    if (this.#draining) return;
    this.#settle();
  }

  #settleAll(): void {
    for (const unitId of this.#live.keys()) this.#touched.add(unitId);
    this.#settle();
  }
}
