/**
 * A collection spread over fill-then-roll shard files: a new record goes into the newest shard
 * until it holds `capacity` records, then a new shard starts; a record never moves. Writes touch
 * only the shards that changed, so a long run does not make every write bigger.
 *
 * @module
 */
import type { RecordsFile } from './layout.js';
import type { StoreFile } from './store-file.js';

export type ShardFile<R> = StoreFile<RecordsFile<R>>;

export class ShardSet<R> {
  readonly #files: ShardFile<R>[] = [];
  readonly #indexes: number[] = [];
  readonly #where = new Map<string, ShardFile<R>>();
  /** Keys found in more than one shard when loading (a hand edit); the store refuses to open then. */
  readonly duplicates: string[] = [];

  /**
   * @param make - creates the (empty) shard file with the given index.
   * @param onChange - told the key of every record put or deleted (the store commits records, not files).
   */
  constructor(
    private readonly make: (index: number) => ShardFile<R>,
    readonly capacity: number,
    private readonly onChange: (key: string) => void = () => undefined,
  ) {}

  /** Adds a shard read from disk, indexing its records. */
  adopt(index: number, file: ShardFile<R>): void {
    let at = this.#indexes.length;
    while (at > 0 && this.#indexes[at - 1]! > index) at--;
    this.#indexes.splice(at, 0, index);
    this.#files.splice(at, 0, file);
    for (const key of file.data.records.keys()) {
      if (this.#where.has(key)) this.duplicates.push(key);
      this.#where.set(key, file);
    }
  }

  get files(): readonly ShardFile<R>[] {
    return this.#files;
  }

  get size(): number {
    return this.#where.size;
  }

  has(key: string): boolean {
    return this.#where.has(key);
  }

  /** The shard holding the record. */
  fileOf(key: string): ShardFile<R> | undefined {
    return this.#where.get(key);
  }

  get(key: string): R | undefined {
    return this.#where.get(key)?.data.records.get(key);
  }

  /** Stores `record` under `key` and returns the shard that changed (for the caller to mark). */
  put(key: string, record: R): ShardFile<R> {
    let file = this.#where.get(key);
    if (file === undefined) {
      file = this.#files.at(-1);
      if (file === undefined || file.data.records.size >= this.capacity) {
        const index = (this.#indexes.at(-1) ?? -1) + 1;
        file = this.make(index);
        this.#indexes.push(index);
        this.#files.push(file);
      }
      this.#where.set(key, file);
    }
    file.data.records.set(key, record);
    this.onChange(key);
    return file;
  }

  /** Puts the same record in another form (text for an object): no change to commit. */
  reform(key: string, record: R): void {
    this.#where.get(key)?.data.records.set(key, record);
  }

  /** Removes the record; returns the shard that changed, or null when there was none. */
  delete(key: string): ShardFile<R> | null {
    const file = this.#where.get(key);
    if (file === undefined) return null;
    this.#where.delete(key);
    file.data.records.delete(key);
    this.onChange(key);
    return file;
  }

  /** Every key with its record, shard by shard. */
  *entries(): IterableIterator<[string, R]> {
    for (const file of this.#files) yield* file.data.records.entries();
  }

  *values(): IterableIterator<R> {
    for (const file of this.#files) yield* file.data.records.values();
  }
}
