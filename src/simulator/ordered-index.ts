/**
 * An ordered map from numeric keys to values with O(log n) insert, delete and "first entry after
 * key k", so listing a page of HITs costs O(log n + page size) however many HITs exist.
 *
 * A skip list whose node heights come from a hash of the key instead of a random draw: same keys,
 * same shape, no hidden randomness. Keys are the simulator's sequence numbers (creation order,
 * or the moment a HIT became reviewable), so a page token that stores the last key returned keeps
 * its place when entries are inserted or removed elsewhere.
 *
 * @module
 */

const MAX_LEVEL = 24;

interface Node<V> {
  key: number;
  value: V;
  next: (Node<V> | undefined)[];
}

function levelOf(key: number): number {
  // Murmur-style integer mix, then one level per trailing zero bit: P(level > k) = 2^-k.
  let h = Math.imul(key ^ (key >>> 16), 0x45d9f3b);
  h = Math.imul(h ^ (h >>> 16), 0x45d9f3b);
  h = (h ^ (h >>> 16)) >>> 0;
  let level = 1;
  while (level < MAX_LEVEL && (h & 1) === 1) {
    level++;
    h >>>= 1;
  }
  return level;
}

/** An ordered map from numbers to values. */
export class OrderedIndex<V> {
  readonly #head: Node<V> = { key: -Infinity, value: undefined as V, next: new Array(MAX_LEVEL).fill(undefined) };
  #size = 0;

  get size(): number {
    return this.#size;
  }

  #predecessors(key: number): Node<V>[] {
    const update = new Array<Node<V>>(MAX_LEVEL);
    let node = this.#head;
    for (let lvl = MAX_LEVEL - 1; lvl >= 0; lvl--) {
      for (let n = node.next[lvl]; n !== undefined && n.key < key; n = node.next[lvl]) node = n;
      update[lvl] = node;
    }
    return update;
  }

  /** Inserts or replaces the value at `key`. */
  set(key: number, value: V): void {
    const update = this.#predecessors(key);
    const found = update[0]!.next[0];
    if (found !== undefined && found.key === key) {
      found.value = value;
      return;
    }
    const level = levelOf(key);
    const node: Node<V> = { key, value, next: new Array(level).fill(undefined) };
    for (let lvl = 0; lvl < level; lvl++) {
      node.next[lvl] = update[lvl]!.next[lvl];
      update[lvl]!.next[lvl] = node;
    }
    this.#size++;
  }

  /** Removes the entry at `key`; returns whether there was one. */
  delete(key: number): boolean {
    const update = this.#predecessors(key);
    const found = update[0]!.next[0];
    if (found === undefined || found.key !== key) return false;
    for (let lvl = 0; lvl < found.next.length; lvl++) {
      if (update[lvl]!.next[lvl] === found) update[lvl]!.next[lvl] = found.next[lvl];
    }
    this.#size--;
    return true;
  }

  has(key: number): boolean {
    const found = this.#predecessors(key)[0]!.next[0];
    return found !== undefined && found.key === key;
  }

  /** Entries with a key strictly greater than `after` (all entries when `after` is undefined), in key order. */
  *entriesAfter(after?: number): Generator<[number, V]> {
    let node = after === undefined ? this.#head.next[0] : this.#predecessors(after)[0]!.next[0];
    if (node !== undefined && after !== undefined && node.key === after) node = node.next[0];
    for (; node !== undefined; node = node.next[0]) yield [node.key, node.value];
  }

  /** Values in key order. */
  *values(): Generator<V> {
    for (const [, v] of this.entriesAfter()) yield v;
  }
}

/**
 * Merges several indexes whose keys never collide (they are all taken from one sequence) into one
 * stream in key order, starting after `after`.
 */
export function* mergeAfter<V>(indexes: readonly OrderedIndex<V>[], after?: number): Generator<[number, V]> {
  const its = indexes.map((ix) => ix.entriesAfter(after));
  const heads = its.map((it) => it.next());
  for (;;) {
    let best = -1;
    for (let i = 0; i < heads.length; i++) {
      const h = heads[i]!;
      if (!h.done && (best < 0 || h.value[0] < (heads[best]!.value as [number, V])[0])) best = i;
    }
    if (best < 0) return;
    yield heads[best]!.value as [number, V];
    heads[best] = its[best]!.next();
  }
}
