/**
 * The supervisor's tables: one row per unit (its status as the supervisor last saw it, in the
 * run's order), per HIT of the pool (its binding) and per arrival (the unit an agent was bound
 * with). They grow with the run (10,000 units and more), so the machine does not own their
 * representation: it reads and changes them through {@link PoolTables}, and whoever creates the
 * supervisor picks the implementation through the input (`TaskRunInput.tables`).
 *
 * Every change returns the tables to use from then on. {@link MapPoolTables}, the default, is
 * immutable (a change copies the map it touches), so a snapshot never changes under its holder
 * and XState's pure `transition()` can branch from one; it suits the machine's tests and small
 * runs. The runtime provides its own, which changes in place and records which rows changed, so
 * it can store only those (docs/runtime.md#the-supervisors-tables).
 *
 * The tables serialize to {@link PoolTablesJSON} (`toJSON`), so a persisted snapshot is plain
 * JSON; {@link tablesOf} reads a context whose tables came back from JSON.
 *
 * @module
 */
import { AssignmentState } from './states.js';
import type { Arrival, HitRecord, UnitEntry } from './task-run-types.js';

/** The supervisor's tables, read and changed by its decisions (`task-run-logic.ts`, `task-run-binding.ts`). */
export interface PoolTables {
  /** How many units the run has. */
  readonly unitCount: number;
  /** The unit at `index` in the run's order (launch order), or undefined past the end. */
  unitAt(index: number): string | undefined;
  /** A unit's position in the run's order, or undefined when it is not the run's. */
  indexOf(unitId: string): number | undefined;
  /** The supervisor's view of a unit. */
  unit(unitId: string): UnitEntry | undefined;
  /** A HIT of the pool. */
  hit(hitId: string): HitRecord | undefined;
  /** The latest bound arrival of an agent. */
  arrival(agentId: string): Arrival | undefined;
  /** Whether the unit is free: launched, with no request of the supervisor pending, so a worker may get it. */
  isFree(unitId: string): boolean;
  /** The free unit first in the run's order, or undefined. */
  firstFree(): string | undefined;
  /** How many units are free. */
  readonly freeCount: number;
  /** Every unit with its entry, in the run's order. */
  units(): Iterable<readonly [string, UnitEntry]>;
  /** Every HIT of the pool, in the order they joined it. */
  hits(): Iterable<readonly [string, HitRecord]>;
  /** Every bound arrival, in the order they were recorded. */
  arrivals(): Iterable<readonly [string, Arrival]>;
  /** Appends units (status `created`) to the run's order; the caller passes only new ids. */
  addUnits(unitIds: readonly string[]): PoolTables;
  /** Sets a unit's entry (and so whether it is free). */
  putUnit(unitId: string, entry: UnitEntry): PoolTables;
  /** Sets a HIT's record. */
  putHit(hitId: string, record: HitRecord): PoolTables;
  /** Sets an agent's arrival. */
  putArrival(agentId: string, arrival: Arrival): PoolTables;
  /** The tables as plain JSON (what a persisted snapshot holds). */
  toJSON(): PoolTablesJSON;
}

/** The tables as JSON: pairs, not objects, so ids that look like numbers keep their order. */
export interface PoolTablesJSON {
  readonly units: ReadonlyArray<readonly [string, UnitEntry]>;
  readonly hits: ReadonlyArray<readonly [string, HitRecord]>;
  readonly arrivals: ReadonlyArray<readonly [string, Arrival]>;
}

/** Whether a unit entry makes the unit free (see {@link PoolTables.isFree}). */
export const isFreeEntry = (entry: UnitEntry | undefined): boolean =>
  entry?.status === AssignmentState.launched && entry.pending === undefined;

/**
 * The default tables: Maps, immutable (each change copies the one map it touches). Plain and
 * obviously right; a change costs the size of that map, which the runtime avoids with its own.
 */
export class MapPoolTables implements PoolTables {
  readonly #order: readonly string[];
  readonly #units: ReadonlyMap<string, UnitEntry>;
  readonly #hits: ReadonlyMap<string, HitRecord>;
  readonly #arrivals: ReadonlyMap<string, Arrival>;

  private constructor(
    order: readonly string[],
    units: ReadonlyMap<string, UnitEntry>,
    hits: ReadonlyMap<string, HitRecord>,
    arrivals: ReadonlyMap<string, Arrival>,
  ) {
    this.#order = order;
    this.#units = units;
    this.#hits = hits;
    this.#arrivals = arrivals;
  }

  /** Empty tables. */
  static empty(): MapPoolTables {
    return new MapPoolTables([], new Map(), new Map(), new Map());
  }

  /** Tables from their JSON form (see {@link PoolTables.toJSON}). */
  static fromJSON(json: PoolTablesJSON): MapPoolTables {
    return new MapPoolTables(
      json.units.map(([unitId]) => unitId),
      new Map(json.units),
      new Map(json.hits),
      new Map(json.arrivals),
    );
  }

  get unitCount(): number {
    return this.#order.length;
  }

  unitAt(index: number): string | undefined {
    return this.#order[index];
  }

  indexOf(unitId: string): number | undefined {
    if (!this.#units.has(unitId)) return undefined;
    return this.#order.indexOf(unitId);
  }

  unit(unitId: string): UnitEntry | undefined {
    return this.#units.get(unitId);
  }

  hit(hitId: string): HitRecord | undefined {
    return this.#hits.get(hitId);
  }

  arrival(agentId: string): Arrival | undefined {
    return this.#arrivals.get(agentId);
  }

  isFree(unitId: string): boolean {
    return isFreeEntry(this.#units.get(unitId));
  }

  firstFree(): string | undefined {
    return this.#order.find((unitId) => this.isFree(unitId));
  }

  get freeCount(): number {
    let n = 0;
    for (const entry of this.#units.values()) if (isFreeEntry(entry)) n++;
    return n;
  }

  units(): Iterable<readonly [string, UnitEntry]> {
    return this.#order.map((unitId) => [unitId, this.#units.get(unitId)!] as const);
  }

  hits(): Iterable<readonly [string, HitRecord]> {
    return this.#hits.entries();
  }

  arrivals(): Iterable<readonly [string, Arrival]> {
    return this.#arrivals.entries();
  }

  addUnits(unitIds: readonly string[]): MapPoolTables {
    if (unitIds.length === 0) return this;
    const units = new Map(this.#units);
    for (const unitId of unitIds) units.set(unitId, { status: AssignmentState.created });
    return new MapPoolTables([...this.#order, ...unitIds], units, this.#hits, this.#arrivals);
  }

  putUnit(unitId: string, entry: UnitEntry): MapPoolTables {
    return new MapPoolTables(this.#order, new Map(this.#units).set(unitId, entry), this.#hits, this.#arrivals);
  }

  putHit(hitId: string, record: HitRecord): MapPoolTables {
    return new MapPoolTables(this.#order, this.#units, new Map(this.#hits).set(hitId, record), this.#arrivals);
  }

  putArrival(agentId: string, arrival: Arrival): MapPoolTables {
    return new MapPoolTables(this.#order, this.#units, this.#hits, new Map(this.#arrivals).set(agentId, arrival));
  }

  toJSON(): PoolTablesJSON {
    return { units: [...this.units()], hits: [...this.#hits], arrivals: [...this.#arrivals] };
  }
}

/** Tables revived from JSON, by the JSON object (a restored snapshot is read many times). */
const revived = new WeakMap<object, PoolTables>();

/**
 * The tables of a supervisor context: the object itself, or, for a context restored from JSON
 * (`createActor(taskRunMachine, { snapshot: JSON.parse(text) })`), {@link MapPoolTables} read
 * from it. The next change stores real tables in the context again.
 */
export function tablesOf(context: { readonly tables: PoolTables | PoolTablesJSON }): PoolTables {
  const tables = context.tables;
  if (typeof (tables as Partial<PoolTables>).putUnit === 'function') return tables as PoolTables;
  let tablesFromJSON = revived.get(tables);
  if (tablesFromJSON === undefined) {
    tablesFromJSON = MapPoolTables.fromJSON(tables as PoolTablesJSON);
    revived.set(tables, tablesFromJSON);
  }
  return tablesFromJSON;
}
