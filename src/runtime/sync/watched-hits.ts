/**
 * The HITs the status sync watches, kept up to date incrementally from the supervisor's HIT pool
 * and unit table. Both are copy-on-write bucket maps (`machines/buckets.ts`): an update copies the
 * one bucket it touches and keeps every other bucket object, and every untouched entry object. So
 * an update here reads only the buckets whose object changed since the last one, and within them
 * only the entries whose object changed; a cycle after a few units changed costs a fraction of a
 * pass over 10,000 HITs, and builds no new list.
 *
 * @module
 */
import {
  UnitTag,
  unitStatusesTagged,
  type Buckets,
  type HitRecord,
  type TaskRunContext,
  type UnitEntry,
} from '../../../machines/index.js';

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

/**
 * Calls `changed` for every key whose entry object differs between the buckets last seen and
 * `next` (value undefined when the key is gone), and remembers `next`'s buckets. Buckets are read
 * in sorted order, as `entriesOf` does, so the first update lists HITs in the pool's own order.
 */
function diffBuckets<V>(
  next: Buckets<V>,
  seen: Map<string, Readonly<Record<string, V>>>,
  changed: (key: string, value: V | undefined) => void,
): void {
  for (const name of Object.keys(next).sort()) {
    const bucket = next[name]!;
    const before = seen.get(name);
    if (before === bucket) continue;
    seen.set(name, bucket);
    for (const key of Object.keys(bucket)) {
      if (before === undefined || !Object.hasOwn(before, key) || before[key] !== bucket[key]) changed(key, bucket[key]);
    }
    if (before !== undefined)
      for (const key of Object.keys(before)) if (!Object.hasOwn(bucket, key)) changed(key, undefined);
  }
  for (const [name, before] of seen) {
    if (Object.hasOwn(next, name)) continue;
    seen.delete(name);
    for (const key of Object.keys(before)) changed(key, undefined);
  }
}

/** The watched HITs of one run, updated from successive versions of the supervisor's context. */
export class WatchedHits {
  #hits: TaskRunContext['hits'] | undefined;
  #units: TaskRunContext['units'] | undefined;
  readonly #hitBuckets = new Map<string, Readonly<Record<string, HitRecord>>>();
  readonly #unitBuckets = new Map<string, Readonly<Record<string, UnitEntry>>>();
  readonly #records = new Map<string, HitRecord>();
  readonly #unitStatus = new Map<string, string>();
  /** The HITs whose record names each unit (one, in practice). */
  readonly #hitsOfUnit = new Map<string, Set<string>>();
  readonly #watched = new Map<string, WatchedHit>();

  /** Brings the watched HITs up to date with `context` and returns them, by HIT id. */
  update(context: TaskRunContext): ReadonlyMap<string, WatchedHit> {
    if (context.hits === this.#hits && context.units === this.#units) return this.#watched;
    const dirty = new Set<string>();
    if (context.units !== this.#units) {
      diffBuckets(context.units, this.#unitBuckets, (unitId, entry) => {
        if (this.#unitStatus.get(unitId) === entry?.status) return;
        if (entry === undefined) this.#unitStatus.delete(unitId);
        else this.#unitStatus.set(unitId, entry.status);
        for (const hitId of this.#hitsOfUnit.get(unitId) ?? []) dirty.add(hitId);
      });
    }
    if (context.hits !== this.#hits) {
      diffBuckets(context.hits, this.#hitBuckets, (hitId, record) => {
        const before = this.#records.get(hitId);
        if (before?.unitId !== record?.unitId) {
          if (before?.unitId != null) this.#unbind(before.unitId, hitId);
          if (record?.unitId != null) this.#bind(record.unitId, hitId);
        }
        if (record === undefined) this.#records.delete(hitId);
        else this.#records.set(hitId, record);
        dirty.add(hitId);
      });
    }
    this.#hits = context.hits;
    this.#units = context.units;
    for (const hitId of dirty) this.#refresh(hitId);
    return this.#watched;
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
