/**
 * Every actor of a run, persisted to the store on each change, and the store's records (units,
 * agents, HIT pool, run status) kept in step with the actors.
 *
 * The supervisor's subscription marks it dirty on every snapshot; once per event-loop turn (or at
 * once, before a money call) the dirty actors' persisted snapshots go into `store.snapshots`,
 * which coalesces the disk writes. Each unit and agent has its own record (`unit:<id>`,
 * `agent:<id>`: `{ parentId, snapshot }` without children); the supervisor's record `run:<id>`
 * holds its snapshot without its tables, and each row of the tables that changed since the last
 * persist gets a record of its own, `run:<id>#unit:<unitId>`, `#hit:<hitId>` or
 * `#arrival:<agentId>` (docs/runtime.md#the-supervisors-tables), in the same store commit as the
 * core. Restored actors are taken as saved ({@link ActorPersistence.adopt}); `readStoredRun`
 * reads the core and the rows back.
 *
 * @module
 */
import type { AnyActorRef } from 'xstate';
import {
  AGENT_ACTOR_PREFIX,
  UNIT_ACTOR_PREFIX,
  agentStatusOf,
  nextDeadline,
  unitStatusOf,
  type AgentContext,
  type AgentState,
  type AssignmentState,
  type SnapshotLike,
  type TaskRunContext,
  type UnitContext,
} from '../../../machines/index.js';
import { HitstateError } from '../../errors.js';
import type { TaskRunStatus } from '../../store/types.js';
import type { DeadlineWheel } from '../commands/deadlines.js';
import { agentIndexEntry, unitIndexEntry, type AgentIndexEntry, type UnitIndexEntry } from './cells.js';
import type { RuntimeServices } from '../core/services.js';
import type { RuntimePoolTables } from './pool-tables.js';
import { MACHINE_VERSIONS, type StoredActor } from './snapshot-layout.js';

/**
 * The store record of the supervisor (`run:<runId>`): its own snapshot, without its tables (each
 * row has a record of its own since taskRun version 5). Up to version 2 it also held the actors
 * between it and the units (unit groups) in `between`, and its whole context; versions 3 and 4
 * stored each group and each bucket of the context's large fields as `run:<runId>#<key>`.
 */
export interface StoredRunTree {
  readonly supervisor: Record<string, unknown>;
  readonly between: Record<string, StoredBetween>;
}

/** A unit group as stored: in `between` (version 2) or as the part `run:<runId>#group:<n>`. */
export type StoredBetween = StoredActor & { readonly machine: string; readonly machineVersion: number };

/** What persistence uses of an actor (any actor ref). */
type Inspectable = Pick<AnyActorRef, 'id' | 'getSnapshot' | 'getPersistedSnapshot' | '_parent'>;

type Kind = 'run' | 'unit' | 'agent' | 'between';

const kindOf = (id: string, rootId: string): Kind =>
  id === rootId
    ? 'run'
    : id.startsWith(UNIT_ACTOR_PREFIX)
      ? 'unit'
      : id.startsWith(AGENT_ACTOR_PREFIX)
        ? 'agent'
        : 'between';

/** The actor's persisted snapshot without its children (they are stored on their own). */
function ownPersisted(ref: Inspectable): Record<string, unknown> {
  const { children: _children, ...own } = ref.getPersistedSnapshot() as Record<string, unknown>;
  return own;
}

function topState(value: unknown): string {
  return typeof value === 'string'
    ? value
    : typeof value === 'object' && value !== null
      ? (Object.keys(value)[0] ?? '')
      : '';
}

/** The machine name an in-between actor's stored snapshot is restored with. */
function machineOfBetween(id: string): keyof typeof MACHINE_VERSIONS {
  return id.startsWith('group:') ? 'unitGroup' : 'taskRun';
}

/**
 * Persistence and store projection of one run's actors.
 */
export class ActorPersistence {
  readonly #runId: string;
  readonly #rootId: string;
  readonly #services: RuntimeServices;
  readonly #deadlines: DeadlineWheel;
  readonly #refs = new Map<string, Inspectable>();
  readonly #dirty = new Set<string>();
  readonly #lastSnapshot = new Map<string, unknown>();
  readonly #unitStatus = new Map<string, AssignmentState>();
  readonly #agentStatus = new Map<string, AgentState>();
  /** Units whose context names an agent the store had no record of yet, by agent id: bound once it has one. */
  readonly #unitOfNewAgent = new Map<string, { unitId: string; workerId: string }>();
  /** Assignments of the run's agents (to tell which run an audited call belongs to). */
  readonly #assignments = new Set<string>();
  /** Snapshots of restored actors, as stored: the first persist projects them without writing them back. */
  readonly #restored = new Map<string, unknown>();
  /** The supervisor's tables: their changed rows are stored with each persist of the supervisor. */
  #tables: RuntimePoolTables | undefined;
  /** Set by a restore: the next persist compares every HIT of the pool with the store's, not only changed ones. */
  #projectAllHits = false;
  /** Unit groups' snapshots as last stored. */
  readonly #storedParts = new Map<string, unknown>();
  /** Ids of the actors between the supervisor and the units (unit groups). */
  readonly #betweenIds = new Set<string>();
  #runStatus: TaskRunStatus | null = null;
  #counts: TaskRunContext['counts'] | null = null;
  #scheduled = false;
  #closed = false;
  /** Reads a unit's context (live or stored), to bind a unit that named its agent before the agent had a record. */
  #unitContext: ((unitId: string) => UnitContext | undefined) | undefined;

  constructor(runId: string, services: RuntimeServices, deadlines: DeadlineWheel) {
    this.#runId = runId;
    this.#rootId = `run:${runId}`;
    this.#services = services;
    this.#deadlines = deadlines;
  }

  /** Tells persistence the supervisor's tables, whose changed rows it stores. */
  useTables(tables: RuntimePoolTables): void {
    this.#tables = tables;
  }

  /** Tells persistence how to read a unit's context (the run's passive cells). */
  readUnitsWith(read: (unitId: string) => UnitContext | undefined): void {
    this.#unitContext = read;
  }

  /** The actor id the supervisor is created with. */
  get rootId(): string {
    return this.#rootId;
  }

  /** True when no change waits to be put into the store. */
  get idle(): boolean {
    return this.#dirty.size === 0;
  }

  /** Remembers an actor (the supervisor, when it is created). */
  track(ref: Inspectable): void {
    this.#refs.set(ref.id, ref);
    if (kindOf(ref.id, this.#rootId) === 'between') this.#betweenIds.add(ref.id);
  }

  /** Marks an actor changed; the store gets it on this turn's persist. */
  markDirty(ref: Inspectable): void {
    if (this.#closed) return;
    this.track(ref);
    this.#dirty.add(ref.id);
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => {
        this.#scheduled = false;
        this.persistNow();
      });
    }
  }

  /**
   * Takes a restored actor as saved: the next persist updates the store's records, deadlines and
   * events from it but writes its snapshot back only if it changed since (a resume's repairs).
   * Pass `stale` for one restored from an older machine version, which is written back.
   */
  adopt(ref: Inspectable, stale: boolean): void {
    const snapshot = ref.getSnapshot();
    if (!stale) {
      this.#restored.set(ref.id, snapshot);
      if (kindOf(ref.id, this.#rootId) === 'between') this.#storedParts.set(ref.id, snapshot);
    }
    if (kindOf(ref.id, this.#rootId) === 'run') this.#projectAllHits = true;
    this.markDirty(ref);
  }

  /** Whether an agent of this run works on the assignment. */
  hasAssignment(assignmentId: string): boolean {
    return this.#assignments.has(assignmentId);
  }

  /** Stops persisting (after `close()` or when the run is unloaded). */
  close(): void {
    this.#closed = true;
  }

  /**
   * Puts every dirty actor's snapshot into the store now (the store writes it with its next
   * write), updates the store's records and deadlines, and emits status events. Synchronous:
   * callers about to make a money call do it right before recording the intent.
   */
  persistNow(): void {
    if (this.#dirty.size === 0) return;
    // Agents need their store record before their snapshot; units before agents. Grouped by kind
    // in one pass (a resume marks every actor of the run at once).
    const byKind: Record<Kind, string[]> = { run: [], between: [], unit: [], agent: [] };
    for (const id of this.#dirty) byKind[kindOf(id, this.#rootId)].push(id);
    this.#dirty.clear();
    let runChanged = false;
    let writeRun = false;
    for (const kind of ['run', 'between', 'unit', 'agent'] as const)
      for (const id of byKind[kind]) {
        const ref = this.#refs.get(id);
        if (ref === undefined) continue;
        const snapshot = ref.getSnapshot();
        if (this.#lastSnapshot.get(id) === snapshot) continue;
        this.#lastSnapshot.set(id, snapshot);
        const write = this.#restored.get(id) !== snapshot;
        this.#restored.delete(id);
        try {
          if (kind === 'run' || kind === 'between') runChanged = true;
          if (kind === 'run') writeRun ||= write;
          if (kind === 'run') this.#deadlines.set('run', nextDeadline(snapshot as SnapshotLike<TaskRunContext>));
        } catch (err) {
          this.#services.reportError(err);
        }
      }
    if (runChanged) {
      try {
        this.#persistRun(writeRun);
      } catch (err) {
        this.#services.reportError(err);
      }
    }
  }

  #put(actorId: string, machine: keyof typeof MACHINE_VERSIONS, snapshot: object): void {
    this.#services.store.snapshots.put(actorId, { machine, machineVersion: MACHINE_VERSIONS[machine], snapshot });
  }

  #parentIdOf(ref: Inspectable): string | null {
    const parent = ref._parent;
    return parent === undefined || parent.id === this.#rootId ? null : parent.id;
  }

  /**
   * Stores a passive unit's snapshot (`own`: persisted, without children; null to only project a
   * restored one) and keeps the store's unit record, the deadline wheel and the status events in
   * step with it.
   */
  storeUnit(unitId: string, snapshot: SnapshotLike<UnitContext>, own: object | null): void {
    if (this.#closed) return;
    const actorId = `${UNIT_ACTOR_PREFIX}${unitId}`;
    // The index entry first: resume reads it without parsing the snapshot (cells.ts).
    if (own !== null) this.#put(actorId, 'unit', { index: unitIndexEntry(snapshot), parentId: null, snapshot: own });
    this.#projectUnit(snapshot);
    this.#deadlines.set(actorId, nextDeadline(snapshot));
  }

  /** Stores a passive agent's snapshot (see {@link storeUnit}); its unit's record comes first. */
  storeAgent(agentId: string, parentId: string, snapshot: SnapshotLike<AgentContext>, own: object | null): void {
    if (this.#closed) return;
    const actorId = `${AGENT_ACTOR_PREFIX}${agentId}`;
    this.#projectAgent(snapshot, () => {
      if (own !== null) this.#put(actorId, 'agent', { index: agentIndexEntry(snapshot), parentId, snapshot: own });
    });
    this.#deadlines.set(actorId, nextDeadline(snapshot));
  }

  /**
   * Takes a restored, passive unit or agent as stored, from its index entry alone: its deadline
   * goes on the wheel and its status is announced (from null, as for any restored actor). Its
   * store records need no check: they are written in the same commit as its snapshot.
   */
  adoptStored(kind: 'unit', id: string, entry: UnitIndexEntry): void;
  adoptStored(kind: 'agent', id: string, entry: AgentIndexEntry, unitId: string): void;
  adoptStored(kind: 'unit' | 'agent', id: string, entry: UnitIndexEntry | AgentIndexEntry, unitId?: string): void {
    if (this.#closed) return;
    const { events, clock } = this.#services;
    const at = clock.now();
    if (kind === 'unit') {
      const { status } = entry as UnitIndexEntry;
      this.#deadlines.set(`${UNIT_ACTOR_PREFIX}${id}`, entry.deadline ?? undefined);
      if (this.#unitStatus.get(id) === status) return;
      this.#unitStatus.set(id, status);
      events.emit('unit.statusChanged', { runId: this.#runId, unitId: id, status, previous: null, at });
      return;
    }
    const agent = entry as AgentIndexEntry;
    this.#assignments.add(agent.assignmentId);
    this.#deadlines.set(`${AGENT_ACTOR_PREFIX}${id}`, agent.deadline ?? undefined);
    if (this.#agentStatus.get(id) === agent.status) return;
    this.#agentStatus.set(id, agent.status);
    events.emit('agent.statusChanged', {
      runId: this.#runId,
      agentId: id,
      unitId: unitId!,
      workerId: agent.workerId,
      status: agent.status,
      previous: null,
      at,
    });
  }

  #projectUnit(snapshot: SnapshotLike<UnitContext>): void {
    const { store, events, clock } = this.#services;
    const context = snapshot.context;
    const status = unitStatusOf(snapshot);
    const record = store.units.get(context.unitId);
    if (record !== undefined) {
      if (record.status !== status) store.units.setStatus(context.unitId, status);
      if (
        context.agentId !== null &&
        context.workerId !== null &&
        (record.agentId !== context.agentId || record.workerId !== context.workerId)
      ) {
        // An arriving agent's record is created when the agent is persisted, after its unit (below).
        if (store.agents.get(context.agentId) !== undefined)
          store.units.assignAgent(context.unitId, context.agentId, context.workerId);
        else this.#unitOfNewAgent.set(context.agentId, { unitId: context.unitId, workerId: context.workerId });
      } else if (context.agentId === null && record.agentId !== null && status !== 'completed') {
        store.units.clearAgent(context.unitId);
      }
    }
    const previous = this.#unitStatus.get(context.unitId) ?? null;
    if (previous !== status) {
      this.#unitStatus.set(context.unitId, status);
      events.emit('unit.statusChanged', {
        runId: this.#runId,
        unitId: context.unitId,
        status,
        previous,
        at: clock.now(),
      });
    }
  }

  #projectAgent(snapshot: SnapshotLike<AgentContext>, write: () => void): void {
    const { store, events, clock } = this.#services;
    const context = snapshot.context;
    const status = agentStatusOf(snapshot);
    this.#assignments.add(context.assignmentId);
    this.ensureAgentRecord(context, status);
    this.#bindWaitingUnit(context.agentId);
    write();
    if (store.agents.get(context.agentId)?.status !== status) store.agents.setStatus(context.agentId, status);
    const previous = this.#agentStatus.get(context.agentId) ?? null;
    if (previous !== status) {
      this.#agentStatus.set(context.agentId, status);
      events.emit('agent.statusChanged', {
        runId: this.#runId,
        agentId: context.agentId,
        unitId: context.unitId,
        workerId: context.workerId,
        status,
        previous,
        at: clock.now(),
      });
    }
  }

  /** Binds the unit that named this agent before the store had its record, if the unit still names it. */
  #bindWaitingUnit(agentId: string): void {
    const waiting = this.#unitOfNewAgent.get(agentId);
    if (waiting === undefined) return;
    this.#unitOfNewAgent.delete(agentId);
    const unit = this.#unitContext?.(waiting.unitId);
    const record = this.#services.store.units.get(waiting.unitId);
    if (unit?.agentId !== agentId || unit.workerId !== waiting.workerId || record === undefined) return;
    if (record.agentId !== agentId || record.workerId !== waiting.workerId)
      this.#services.store.units.assignAgent(waiting.unitId, agentId, waiting.workerId);
  }

  /** Creates the store record of an agent the store does not know yet (an arrival, a reconciled submission). */
  ensureAgentRecord(context: AgentContext, status: AgentState): void {
    const { store } = this.#services;
    if (store.agents.get(context.agentId) !== undefined) return;
    if (store.hits.get(context.hitId) === undefined) {
      throw new HitstateError(
        'HST_ERR_STORE_NOT_FOUND',
        `agent ${context.agentId} works on HIT ${context.hitId}, which the store does not know; its snapshot is kept in memory until the HIT is recorded (resume repairs it)`,
        {
          runId: this.#runId,
          agentId: context.agentId,
          hitId: context.hitId,
        },
      );
    }
    store.agents.create({
      agentId: context.agentId,
      unitId: context.unitId,
      workerId: context.workerId,
      assignmentId: context.assignmentId,
      hitId: context.hitId,
      status,
    });
  }

  /**
   * Stores the supervisor as its core (its snapshot without its tables) plus the rows of its
   * tables that changed since the last persist, one record each, and drops the records of unit
   * groups that stopped: a persist costs what changed, not the size of the run, and the rows go
   * to disk in the same commit as the core (every commit is all-or-nothing).
   */
  #persistRun(write: boolean): void {
    const root = this.#refs.get(this.#rootId);
    if (root === undefined) return;
    const snapshot = root.getSnapshot() as { value: unknown; context: TaskRunContext };
    for (const id of this.#betweenIds) {
      const ref = this.#refs.get(id)!;
      const own = ref.getSnapshot();
      if ((own as { status?: string }).status === 'stopped') {
        if (this.#storedParts.delete(id)) this.#services.store.snapshots.delete(`${this.#rootId}#${id}`);
        continue;
      }
      if (this.#storedParts.get(id) === own) continue;
      const machine = machineOfBetween(id);
      this.#put(`${this.#rootId}#${id}`, 'taskRun', {
        parentId: this.#parentIdOf(ref),
        snapshot: ownPersisted(ref),
        machine,
        machineVersion: MACHINE_VERSIONS[machine],
      });
      this.#storedParts.set(id, own);
    }
    if (write) {
      // The tables are stored as rows (below), not in the core; the supervisor has no children.
      const own = ownPersisted(root);
      const { tables: _tables, ...core } = own.context as Record<string, unknown>;
      const supervisor = { ...own, context: core };
      const stored: StoredRunTree = { supervisor, between: {} };
      this.#put(this.#rootId, 'taskRun', stored);
    }
    let changedHits = this.#persistRows();
    if (this.#projectAllHits && this.#tables !== undefined) {
      this.#projectAllHits = false;
      changedHits = [...this.#tables.hits()].map(([hitId]) => hitId);
    }
    this.#projectRun(snapshot, changedHits);
  }

  /** Stores the changed rows of the tables; returns the ids of the HITs among them. */
  #persistRows(): string[] {
    const tables = this.#tables;
    if (tables === undefined) return [];
    const keys = tables.takeChanged();
    const hits: string[] = [];
    for (let i = 0; i < keys.length; i++) {
      const row = tables.row(keys[i]!);
      if (row === undefined) continue;
      try {
        this.#put(`${this.#rootId}#${keys[i]}`, 'taskRun', row.row);
      } catch (err) {
        // Stored with the next persist: a row the store refused now is not lost.
        tables.markChanged(keys.slice(i));
        throw err;
      }
      if (row.kind === 'hit') hits.push(row.id);
    }
    return hits;
  }

  #projectRun(snapshot: { value: unknown; context: TaskRunContext }, changedHits: readonly string[]): void {
    const { store, events, clock } = this.#services;
    const status = topState(snapshot.value) as TaskRunStatus;
    const record = store.runs.get(this.#runId);
    if (record !== undefined) {
      if (record.status !== status) store.runs.setStatus(this.#runId, status);
      const hitTypeId = snapshot.context.hitTypeId;
      if (hitTypeId !== null && record.hitTypeId !== hitTypeId) store.runs.setHitType(this.#runId, hitTypeId);
    }
    this.#projectHits(changedHits);
    const at = clock.now();
    if (this.#runStatus !== status) {
      const previous = this.#runStatus;
      this.#runStatus = status;
      events.emit('run.statusChanged', { runId: this.#runId, status, previous, at });
    }
    if (this.#counts !== snapshot.context.counts) {
      this.#counts = snapshot.context.counts;
      events.emit('run.progress', { runId: this.#runId, status, counts: snapshot.context.counts, at });
    }
  }

  /** Keeps the store's HIT pool bindings equal to the supervisor's (only rows that changed are compared). */
  #projectHits(changedHits: readonly string[]): void {
    const { store } = this.#services;
    const tables = this.#tables;
    if (tables === undefined) return;
    const changed: Array<[string, { unitId: string | null; assignmentId: string | null }]> = [];
    for (const hitId of changedHits) {
      const record = tables.hit(hitId);
      if (record !== undefined) changed.push([hitId, record]);
    }
    const binds: Array<{ hitId: string; unitId: string; assignmentId: string | null }> = [];
    for (const [hitId, wanted] of changed) {
      const stored = store.hits.get(hitId);
      if (stored === undefined) continue;
      if (stored.unitId === wanted.unitId && stored.assignmentId === wanted.assignmentId) continue;
      if (stored.unitId !== null && stored.unitId !== wanted.unitId) store.hits.unbindUnit(stored.unitId);
      if (wanted.unitId !== null) binds.push({ hitId, unitId: wanted.unitId, assignmentId: wanted.assignmentId });
    }
    for (const bind of binds) {
      const held = store.hits.ofUnit(bind.unitId);
      if (held !== undefined && held.id !== bind.hitId) store.hits.unbindUnit(bind.unitId);
      store.hits.bind(bind);
    }
  }
}
