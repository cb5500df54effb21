/**
 * The compact open index of a run's snapshot shards (`runs/<id>/snapshots.index.json`): for each
 * snapshot shard the checkpoint wrote, its SHA-256 and where each record lies in its bytes (and
 * where the record's payload `index` entry lies, when it has one). Opening takes a vouched shard
 * with it without decoding or scanning the shard: a record is decoded and parsed only when it is
 * read, and an index entry alone when only that is asked for (resume reads the entries of every
 * unit and agent, and the snapshots of the few it wakes).
 *
 * The file is derived data, written by the checkpoint fold after the shards and before the mark.
 * A shard is taken with it only when the digest it lists is the shard's actual digest, so an index
 * that a crash left behind, a missing one (a store written before it existed) or a damaged one is
 * only ignored: the shard is then opened the way it always was.
 *
 * @module
 */
import { Buffer } from 'node:buffer';
import { endOfValue } from '../raw-records.js';

export const SNAPSHOT_INDEX_FILE = 'snapshots.index.json';
const FORMAT = 'hitstate-snapshot-index';
const VERSION = 1;

/**
 * Where the records of one shard lie: `keys[i]`'s record is the bytes `spans[4i]` to
 * `spans[4i+1]`, its payload's `index` the bytes `spans[4i+2]` to `spans[4i+3]` (-1, -1 when it
 * has none). Flat numbers, so the index parses fast.
 */
export interface ShardSpans {
  readonly digest: string;
  readonly keys: readonly string[];
  readonly spans: readonly number[];
}

/** The file: spans by shard file name. */
export interface SnapshotIndex {
  readonly shards: Readonly<Record<string, ShardSpans>>;
}

/** Where a record's payload index starts in its text (as `snapshots.put` writes a record). */
const INDEX_AT = ',"snapshot":{"index":';
const RECORDS_AT = ',"records":{';

/**
 * The spans of a shard's bytes as a checkpoint wrote them (`{…header…,"records":{…}}`, no
 * whitespace). Undefined when the bytes are not shaped so: that shard is then left out.
 */
export function spansOf(bytes: Buffer, digest: string): ShardSpans | undefined {
  const text = bytes.toString('utf8');
  // Character offsets are byte offsets when every character is one byte.
  const ascii = text.length === bytes.length;
  let charAt = 0;
  let byteAt = 0;
  const toByte = (at: number): number => {
    if (ascii) return at;
    byteAt += Buffer.byteLength(text.slice(charAt, at), 'utf8');
    charAt = at;
    return byteAt;
  };
  try {
    const at = text.indexOf(RECORDS_AT);
    if (at < 0) return undefined;
    let i = at + RECORDS_AT.length;
    const keys: string[] = [];
    const spans: number[] = [];
    if (text.charCodeAt(i) === 0x7d) return { digest, keys, spans };
    for (;;) {
      const keyEnd = endOfValue(text, i);
      const key = JSON.parse(text.slice(i, keyEnd)) as unknown;
      if (typeof key !== 'string' || text.charCodeAt(keyEnd) !== 0x3a) return undefined;
      const start = keyEnd + 1;
      const end = endOfValue(text, start);
      // The head before the payload holds ids, a machine name and a number: the first match is the payload's.
      const marker = text.indexOf(INDEX_AT, start);
      let from = -1;
      let to = -1;
      if (marker >= 0 && marker < end) {
        from = marker + INDEX_AT.length;
        to = endOfValue(text, from);
      }
      keys.push(key);
      // Offsets grow, as toByte needs.
      const s = toByte(start);
      const f = from < 0 ? -1 : toByte(from);
      const t = to < 0 ? -1 : toByte(to);
      spans.push(s, toByte(end), f, t);
      i = end;
      const c = text.charCodeAt(i);
      if (c === 0x7d) break;
      if (c !== 0x2c) return undefined;
      i++;
    }
    return { digest, keys, spans };
  } catch {
    return undefined;
  }
}

/** The file's text. */
export function encodeSnapshotIndex(index: SnapshotIndex): string {
  return JSON.stringify({ format: FORMAT, version: VERSION, shards: index.shards });
}

/** Reads the file's bytes; undefined when absent, damaged or of another version (it is then ignored). */
export function decodeSnapshotIndex(bytes: Buffer | null): SnapshotIndex | undefined {
  if (bytes === null) return undefined;
  try {
    const raw = JSON.parse(bytes.toString('utf8')) as { format?: unknown; version?: unknown; shards?: unknown };
    if (raw.format !== FORMAT || raw.version !== VERSION) return undefined;
    if (typeof raw.shards !== 'object' || raw.shards === null) return undefined;
    for (const shard of Object.values(raw.shards as Record<string, Partial<ShardSpans>>)) {
      if (typeof shard.digest !== 'string' || !Array.isArray(shard.keys) || !Array.isArray(shard.spans))
        return undefined;
      if (shard.spans.length !== shard.keys.length * 4) return undefined;
    }
    return { shards: raw.shards as Record<string, ShardSpans> };
  } catch {
    return undefined;
  }
}
