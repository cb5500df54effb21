/**
 * A string-keyed map stored as plain JSON in hashed buckets, updated copy-on-write.
 *
 * The supervisor's HIT pool, arrivals and unit table hold one entry per HIT, agent or unit (10,000
 * and more). XState context must not be mutated, and copying a 10,000-key object costs about 5 ms
 * per update in V8; splitting the keys over up to 256 buckets makes an update copy one small
 * bucket and the bucket index instead (tens of microseconds), while the snapshot stays plain JSON.
 *
 * Buckets are copied into dictionary-mode objects ({@link bucketCopy}): their keys are unique ids,
 * so a fast-mode copy gets a hidden class of its own, and overwriting a key in it makes V8
 * generalize that field across a transition tree of hundreds of thousands of hidden classes (about
 * 1 ms per update at 10,000 units, most of a status-sync cycle). A dictionary has no hidden classes
 * to update: an update costs tens of microseconds, and the copies add no hidden classes.
 *
 * Read these maps with the functions below (or the snapshot readers in `inspect.ts`), never by
 * indexing the JSON directly: the bucket of a key is an implementation detail.
 *
 * @module
 */

/** A map from string keys to values, split into buckets. Plain JSON; treat as immutable. */
export type Buckets<V> = Readonly<Record<string, Readonly<Record<string, V>>>>;

const BUCKET_COUNT = 128;

/** Every bucket name a map can use (`b00` … `b7f`), to read stored buckets one by one. */
export const BUCKET_NAMES: readonly string[] = Object.freeze(
  Array.from({ length: BUCKET_COUNT }, (_, i) => `b${i.toString(16).padStart(2, '0')}`),
);

/** FNV-1a over UTF-16 code units: fast, stable across processes and Node versions. */
function bucketOf(key: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return `b${((hash >>> 0) % BUCKET_COUNT).toString(16).padStart(2, '0')}`;
}

/**
 * A copy of `bucket` (empty when undefined) in dictionary mode: deleting the first of two
 * properties switches V8 to a hash table, and `Object.assign` into it keeps it one, in the
 * source's key order. A plain object with Object's prototype, like any other bucket.
 */
function bucketCopy<V>(bucket: Readonly<Record<string, V>> | undefined): Record<string, V> {
  const copy: Record<string, unknown> = { dictionary: 0, mode: 0 };
  delete copy.dictionary;
  delete copy.mode;
  return bucket === undefined ? (copy as Record<string, V>) : Object.assign(copy as Record<string, V>, bucket);
}

/** An empty map. */
export function emptyBuckets<V>(): Buckets<V> {
  return {};
}

/** The value stored under `key`, or undefined. */
export function getIn<V>(map: Buckets<V>, key: string): V | undefined {
  const bucket = map[bucketOf(key)];
  return bucket !== undefined && Object.hasOwn(bucket, key) ? bucket[key] : undefined;
}

/** Whether `key` is present. */
export function hasIn<V>(map: Buckets<V>, key: string): boolean {
  const bucket = map[bucketOf(key)];
  return bucket !== undefined && Object.hasOwn(bucket, key);
}

/** A new map with `key` set to `value`; `map` is left unchanged. */
export function setIn<V>(map: Buckets<V>, key: string, value: V): Buckets<V> {
  const b = bucketOf(key);
  const bucket = bucketCopy(map[b]);
  bucket[key] = value;
  return { ...map, [b]: bucket };
}

/** A new map without `key` (the same map if it was absent). */
export function deleteIn<V>(map: Buckets<V>, key: string): Buckets<V> {
  const b = bucketOf(key);
  const bucket = map[b];
  if (bucket === undefined || !Object.hasOwn(bucket, key)) return map;
  const rest = bucketCopy(bucket);
  delete rest[key];
  return { ...map, [b]: rest };
}

/** The first key in the map's deterministic order (see {@link entriesOf}), or undefined when empty. */
export function firstKeyOf<V>(map: Buckets<V>): string | undefined {
  for (const b of Object.keys(map).sort()) {
    for (const key in map[b]) return key;
  }
  return undefined;
}

/** A new map with several keys set at once (one copy per touched bucket). */
export function setManyIn<V>(map: Buckets<V>, entries: Iterable<readonly [string, V]>): Buckets<V> {
  const next: Record<string, Record<string, V>> = { ...map };
  const copied = new Set<string>();
  for (const [key, value] of entries) {
    const b = bucketOf(key);
    if (!copied.has(b)) {
      next[b] = bucketCopy(next[b]);
      copied.add(b);
    }
    next[b]![key] = value;
  }
  return next;
}

/** Every entry, bucket by bucket (deterministic for the same content). */
export function* entriesOf<V>(map: Buckets<V>): Generator<[string, V]> {
  for (const b of Object.keys(map).sort()) {
    const bucket = map[b]!;
    for (const key of Object.keys(bucket)) yield [key, bucket[key]!];
  }
}

/** Number of entries. */
export function sizeOf<V>(map: Buckets<V>): number {
  let n = 0;
  for (const b of Object.keys(map)) n += Object.keys(map[b]!).length;
  return n;
}
