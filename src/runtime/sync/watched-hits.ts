/**
 * The HITs the status sync watches, kept up to date incrementally from the supervisor's tables.
 * The runtime's tables (`RuntimePoolTables`) change in place and tell which rows changed, so an
 * update here looks only at those: a cycle after a few units changed costs a fraction of a pass
 * over 10,000 HITs, and builds no new list. Other tables (the machine's immutable ones, in tests)
 * are read in full whenever they are a new object.
 *
 * @module
 */
import {
  UnitTag,
  tablesOf,
  unitStatusesTagged,
  type HitRecord,
  type PoolTables,
  type TaskRunContext,
} from '../../../machines/index.js';
import { RuntimePoolTables } from '../supervisor/pool-tables.js';

/** A watched HIT: a pool HIT, or the HIT of a unit that is not finished. */
export interface WatchedHit {
  readonly hitId: string;
  readonly unitId: string | null;
  readonly assignmentId: string | null;
  /** The unit's status as the supervisor last recorded it; null for a pool HIT. */
  readonly unitStatus: string | null;
}

/** Unit statuses after which MTurk's news about the unit's HIT changes nothing. */
const TERMINAL: ReadonlySet<string> = new Set(unitStatusesTagged(UnitTag.ignoresHit));

/** The watched HITs of one run, updated from successive versions of the supervisor's context. */
export class WatchedHits {
  #tables: PoolTables | undefined;
  #unwatch: (() => void) | undefined;
  /** Rows changed in the runtime's tables since the last update. */
  readonly #changedUnits = new Set<string>();
  readonly #changedHits = new Set<string>();
  readonly #records = new Map<string, HitRecord>();
  readonly #unitStatus = new Map<string, string>();
  /** The HITs whose record names each unit (one, in practice). */
  readonly #hitsOfUnit = new Map<string, Set<string>>();
  readonly #watched = new Map<string, WatchedHit>();

  /** Brings the watched HITs up to date with `context` and returns them, by HIT id. */
  update(context: TaskRunContext): ReadonlyMap<string, WatchedHit> {
    const tables = tablesOf(context);
    if (tables !== this.#tables) return this.#readAll(tables);
    if (this.#changedUnits.size === 0 && this.#changedHits.size === 0) return this.#watched;
    const dirty = new Set<string>();
    for (const unitId of this.#changedUnits) {
      const status = tables.unit(unitId)?.status;
      if (this.#unitStatus.get(unitId) === status) continue;
      if (status === undefined) this.#unitStatus.delete(unitId);
      else this.#unitStatus.set(unitId, status);
      for (const hitId of this.#hitsOfUnit.get(unitId) ?? []) dirty.add(hitId);
    }
    for (const hitId of this.#changedHits) {
      this.#setRecord(hitId, tables.hit(hitId));
      dirty.add(hitId);
    }
    this.#changedUnits.clear();
    this.#changedHits.clear();
    for (const hitId of dirty) this.#refresh(hitId);
    return this.#watched;
  }

  /** Reads new tables in full; the runtime's are then followed row by row. */
  #readAll(tables: PoolTables): ReadonlyMap<string, WatchedHit> {
    this.#unwatch?.();
    this.#unwatch = undefined;
    this.#tables = tables;
    this.#changedUnits.clear();
    this.#changedHits.clear();
    if (tables instanceof RuntimePoolTables)
      this.#unwatch = tables.watch((kind, id) => {
        if (kind === 'unit') this.#changedUnits.add(id);
        else if (kind === 'hit') this.#changedHits.add(id);
      });
    this.#unitStatus.clear();
    for (const [unitId, entry] of tables.units()) this.#unitStatus.set(unitId, entry.status);
    const seen = new Set<string>();
    for (const [hitId, record] of tables.hits()) {
      seen.add(hitId);
      this.#setRecord(hitId, record);
    }
    for (const hitId of [...this.#records.keys()]) if (!seen.has(hitId)) this.#setRecord(hitId, undefined);
    for (const hitId of [...this.#watched.keys()]) if (!seen.has(hitId)) this.#watched.delete(hitId);
    for (const hitId of seen) this.#refresh(hitId);
    return this.#watched;
  }

  #setRecord(hitId: string, record: HitRecord | undefined): void {
    const before = this.#records.get(hitId);
    if (before?.unitId !== record?.unitId) {
      if (before?.unitId != null) this.#unbind(before.unitId, hitId);
      if (record?.unitId != null) this.#bind(record.unitId, hitId);
    }
    if (record === undefined) this.#records.delete(hitId);
    else this.#records.set(hitId, record);
  }

  #bind(unitId: string, hitId: string): void {
    const hits = this.#hitsOfUnit.get(unitId);
    if (hits === undefined) this.#hitsOfUnit.set(unitId, new Set([hitId]));
    else hits.add(hitId);
  }

  #unbind(unitId: string, hitId: string): void {
    const hits = this.#hitsOfUnit.get(unitId);
    hits?.delete(hitId);
    if (hits?.size === 0) this.#hitsOfUnit.delete(unitId);
  }

  #refresh(hitId: string): void {
    const record = this.#records.get(hitId);
    const unitStatus =
      record === undefined || record.unitId === null ? null : (this.#unitStatus.get(record.unitId) ?? null);
    if (record === undefined || (unitStatus !== null && TERMINAL.has(unitStatus))) {
      this.#watched.delete(hitId);
      return;
    }
    const current = this.#watched.get(hitId);
    if (
      current !== undefined &&
      current.unitId === record.unitId &&
      current.assignmentId === record.assignmentId &&
      current.unitStatus === unitStatus
    )
      return;
    this.#watched.set(hitId, { hitId, unitId: record.unitId, assignmentId: record.assignmentId, unitStatus });
  }
}
