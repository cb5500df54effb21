/**
 * The runtime's implementation of the supervisor's tables (`PoolTables`, machines/task-run-tables.ts):
 * compact structures changed in place, which remember which rows changed so that persistence
 * stores only those, one small record per row (docs/runtime.md#the-supervisors-tables).
 *
 * A unit row is its position in the run's order and the supervisor's entry for it; a HIT row is
 * its binding and its place in the pool's order; an arrival row is the binding an agent got.
 * Changing in place is safe here because the runtime never branches a supervisor snapshot (XState's
 * pure `transition()` does; the machine's own tables are immutable for that).
 *
 * @module
 */
import {
  AssignmentState,
  MapPoolTables,
  type Arrival,
  type HitRecord,
  type PoolTables,
  type PoolTablesJSON,
  type UnitEntry,
} from '../../../machines/index.js';

/** Which table a row belongs to. */
export type RowKind = 'unit' | 'hit' | 'arrival';

/** A unit row as stored: its place in the run's order and the supervisor's entry. */
export interface StoredUnitRow {
  readonly index: number;
  readonly status: AssignmentState;
  readonly pending?: UnitEntry['pending'];
}

/** A HIT row as stored: its binding and its place in the pool's order (`n`). */
export type StoredHitRow = HitRecord & { readonly n: number };

/** A row as stored, by kind. */
export type StoredRow =
  | { readonly kind: 'unit'; readonly id: string; readonly row: StoredUnitRow }
  | { readonly kind: 'hit'; readonly id: string; readonly row: StoredHitRow }
  | { readonly kind: 'arrival'; readonly id: string; readonly row: Arrival };

/** The part of a row's store key after `run:<runId>#`: `unit:<unitId>`, `hit:<hitId>`, `arrival:<agentId>`. */
export const rowKeyOf = (kind: RowKind, id: string): string => `${kind}:${id}`;

/** The kind and id of a row key, or undefined when the key is not a row's. */
export function parseRowKey(key: string): { kind: RowKind; id: string } | undefined {
  const colon = key.indexOf(':');
  const kind = key.slice(0, colon);
  if (colon < 0 || (kind !== 'unit' && kind !== 'hit' && kind !== 'arrival')) return undefined;
  return { kind, id: key.slice(colon + 1) };
}

/** Unit entries are few distinct values (status × pending): each is kept once. */
const ENTRIES = new Map<string, UnitEntry>();
function canonical(entry: UnitEntry): UnitEntry {
  const key = `${entry.status}/${entry.pending ?? ''}`;
  let shared = ENTRIES.get(key);
  if (shared === undefined) {
    shared = Object.freeze(
      entry.pending === undefined ? { status: entry.status } : { status: entry.status, pending: entry.pending },
    );
    ENTRIES.set(key, shared);
  }
  return shared;
}

const isFree = (entry: UnitEntry | undefined): boolean =>
  entry?.status === AssignmentState.launched && entry.pending === undefined;

/** Called for every row that changes. */
export type RowListener = (kind: RowKind, id: string) => void;

/** The supervisor's tables as the runtime keeps them: mutable, with the changed rows recorded. */
export class RuntimePoolTables implements PoolTables {
  readonly #order: string[] = [];
  readonly #index = new Map<string, number>();
  /** Entries by position in the run's order. */
  readonly #entries: UnitEntry[] = [];
  #freeCount = 0;
  /** No unit before this position is free (so the first free one is found without a full scan). */
  #freeFrom = 0;
  readonly #hits = new Map<string, HitRecord>();
  /** Each HIT's place in the pool's order (kept across restores, so the order is too). */
  readonly #hitSeq = new Map<string, number>();
  #nextSeq = 0;
  readonly #arrivals = new Map<string, Arrival>();
  /** Row keys changed since {@link takeChanged}. */
  readonly #changed = new Set<string>();
  readonly #listeners = new Set<RowListener>();

  /** Tables read back from stored rows (none of them marked changed). */
  static fromRows(rows: Iterable<StoredRow>): RuntimePoolTables {
    const tables = new RuntimePoolTables();
    const units: Array<[string, StoredUnitRow]> = [];
    const hits: Array<[string, StoredHitRow]> = [];
    for (const r of rows) {
      if (r.kind === 'unit') units.push([r.id, r.row]);
      else if (r.kind === 'hit') hits.push([r.id, r.row]);
      else tables.#arrivals.set(r.id, r.row);
    }
    units.sort((a, b) => a[1].index - b[1].index);
    for (const [unitId, row] of units) {
      if (row.index !== tables.#order.length)
        throw new Error(
          `the stored unit rows of the run skip from position ${tables.#order.length} to ${row.index} (unit ${unitId}): a row is missing`,
        );
      tables.#append(unitId, row.pending === undefined ? { status: row.status } : row);
    }
    hits.sort((a, b) => a[1].n - b[1].n);
    for (const [hitId, { n, ...record }] of hits) {
      tables.#hits.set(hitId, record);
      tables.#hitSeq.set(hitId, n);
      tables.#nextSeq = Math.max(tables.#nextSeq, n + 1);
    }
    return tables;
  }

  /** Tables from the JSON form (a snapshot an older release stored whole): every row is marked changed, to be stored as rows. */
  static fromJSON(json: PoolTablesJSON): RuntimePoolTables {
    const tables = new RuntimePoolTables();
    const source = MapPoolTables.fromJSON(json);
    tables.addUnits([...source.units()].map(([unitId]) => unitId));
    for (const [unitId, entry] of source.units()) tables.putUnit(unitId, entry);
    for (const [hitId, record] of source.hits()) tables.putHit(hitId, record);
    for (const [agentId, arrival] of source.arrivals()) tables.putArrival(agentId, arrival);
    return tables;
  }

  #append(unitId: string, entry: UnitEntry): void {
    const index = this.#order.length;
    this.#order.push(unitId);
    this.#index.set(unitId, index);
    const shared = canonical(entry);
    this.#entries.push(shared);
    if (isFree(shared)) this.#freeCount++;
  }

  #changedRow(kind: RowKind, id: string): void {
    this.#changed.add(rowKeyOf(kind, id));
    for (const listener of this.#listeners) listener(kind, id);
  }

  /** Calls `listener` for every row that changes from now on; returns the unsubscribe. */
  watch(listener: RowListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The row keys changed since the last call (see {@link rowKeyOf}), forgotten by the call. */
  takeChanged(): string[] {
    const keys = [...this.#changed];
    this.#changed.clear();
    return keys;
  }

  /** Marks rows changed again (their store write failed). */
  markChanged(keys: Iterable<string>): void {
    for (const key of keys) this.#changed.add(key);
  }

  /** A row as stored, by key; undefined when the table has no such row. */
  row(key: string): StoredRow | undefined {
    const parsed = parseRowKey(key);
    if (parsed === undefined) return undefined;
    const { kind, id } = parsed;
    if (kind === 'unit') {
      const index = this.#index.get(id);
      if (index === undefined) return undefined;
      const entry = this.#entries[index]!;
      return { kind, id, row: { index, ...entry } };
    }
    if (kind === 'hit') {
      const record = this.#hits.get(id);
      return record === undefined ? undefined : { kind, id, row: { ...record, n: this.#hitSeq.get(id)! } };
    }
    const arrival = this.#arrivals.get(id);
    return arrival === undefined ? undefined : { kind, id, row: arrival };
  }

  get unitCount(): number {
    return this.#order.length;
  }

  unitAt(index: number): string | undefined {
    return this.#order[index];
  }

  indexOf(unitId: string): number | undefined {
    return this.#index.get(unitId);
  }

  unit(unitId: string): UnitEntry | undefined {
    const index = this.#index.get(unitId);
    return index === undefined ? undefined : this.#entries[index];
  }

  hit(hitId: string): HitRecord | undefined {
    return this.#hits.get(hitId);
  }

  arrival(agentId: string): Arrival | undefined {
    return this.#arrivals.get(agentId);
  }

  isFree(unitId: string): boolean {
    return isFree(this.unit(unitId));
  }

  firstFree(): string | undefined {
    if (this.#freeCount === 0) return undefined;
    while (this.#freeFrom < this.#entries.length && !isFree(this.#entries[this.#freeFrom])) this.#freeFrom++;
    return this.#order[this.#freeFrom];
  }

  get freeCount(): number {
    return this.#freeCount;
  }

  *units(): Iterable<readonly [string, UnitEntry]> {
    for (let i = 0; i < this.#order.length; i++) yield [this.#order[i]!, this.#entries[i]!];
  }

  hits(): Iterable<readonly [string, HitRecord]> {
    return this.#hits.entries();
  }

  arrivals(): Iterable<readonly [string, Arrival]> {
    return this.#arrivals.entries();
  }

  addUnits(unitIds: readonly string[]): this {
    for (const unitId of unitIds) {
      if (this.#index.has(unitId)) continue;
      this.#append(unitId, { status: AssignmentState.created });
      this.#changedRow('unit', unitId);
    }
    return this;
  }

  putUnit(unitId: string, entry: UnitEntry): this {
    const index = this.#index.get(unitId);
    if (index === undefined) {
      this.#append(unitId, entry);
    } else {
      const before = this.#entries[index]!;
      const after = canonical(entry);
      if (before === after) return this;
      this.#entries[index] = after;
      if (isFree(before) && !isFree(after)) this.#freeCount--;
      if (!isFree(before) && isFree(after)) {
        this.#freeCount++;
        if (index < this.#freeFrom) this.#freeFrom = index;
      }
    }
    this.#changedRow('unit', unitId);
    return this;
  }

  putHit(hitId: string, record: HitRecord): this {
    if (!this.#hitSeq.has(hitId)) this.#hitSeq.set(hitId, this.#nextSeq++);
    const before = this.#hits.get(hitId);
    if (
      before !== undefined &&
      before.unitId === record.unitId &&
      before.assignmentId === record.assignmentId &&
      before.createdBy === record.createdBy
    )
      return this;
    this.#hits.set(hitId, record);
    this.#changedRow('hit', hitId);
    return this;
  }

  putArrival(agentId: string, arrival: Arrival): this {
    this.#arrivals.set(agentId, arrival);
    this.#changedRow('arrival', agentId);
    return this;
  }

  toJSON(): PoolTablesJSON {
    return { units: [...this.units()], hits: [...this.#hits], arrivals: [...this.#arrivals] };
  }
}
