/**
 * Several processes writing one store: what a writer does with the store-wide records
 * (requesters, runs, qualification mappings, workers, the store id) another writer changed since
 * it last read them. Called by the backend holding the store's commit lock, before it appends
 * this writer's store-wide part (docs/datastore.md, "Several writers, one owner per run").
 *
 * The rule per collection, for a record both changed (a three-way merge against what this writer
 * had read, `base`):
 * - `workers`: merged: blocks per requester (a block or unblock by either is kept; when both
 *   changed one requester's block, the block with the later `blockedAt` wins, and a block wins
 *   over an unblock, so no block is ever lost), the earliest `firstSeenAt`.
 * - `requesters`, `runs`, `qualifications`: merged field by field (a field only one side changed
 *   takes that side's value); a field both changed to different values is a conflict, and so is
 *   a record both created with different content or one deleted while the other changed it: the
 *   commit is refused with `HST_ERR_STORE_CONFLICT` naming the record, memory takes the other
 *   writer's version, and the caller repeats its change if it still applies. (A run's record is
 *   written only by the run's owner, so two writers never change one in practice.)
 * - `meta` (the store id): the first one committed wins; a writer that made another adopts it.
 *
 * A record only the other writer changed is simply taken into memory.
 *
 * @module
 */
import { HitstateError } from '../errors.js';
import type { CollectionName } from './backend.js';
import type { ForeignChange, StoreReconciler } from './lowdb/backend.js';
import type { JournalChange } from './lowdb/journal.js';
import { replayStore } from './replay.js';
import type { StoreState } from './store-state.js';

type Json = Record<string, unknown>;
type Merged = { readonly ok: true; readonly json: string | null } | { readonly ok: false; readonly why: string };

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);
const parse = (json: string | null): Json | null => (json === null ? null : (JSON.parse(json) as Json));

/** Field-by-field three-way merge of two changed versions of one record. */
function mergeFields(base: Json | null, ours: Json, theirs: Json): Merged {
  const out: Json = {};
  for (const field of new Set([...Object.keys(theirs), ...Object.keys(ours)])) {
    const [b, o, t] = [base?.[field], ours[field], theirs[field]];
    let value: unknown;
    if (same(o, b)) value = t;
    else if (same(t, b) || same(o, t)) value = o;
    else return { ok: false, why: `both changed its field "${field}"` };
    if (value !== undefined) out[field] = value;
  }
  return { ok: true, json: JSON.stringify(out) };
}

interface Block {
  readonly reason: string;
  readonly blockedAt: number;
}

function mergeWorker(base: Json | null, ours: Json, theirs: Json): Merged {
  const blocks: Record<string, Block> = {};
  const [b, o, t] = [(base?.blocks ?? {}) as Json, (ours.blocks ?? {}) as Json, (theirs.blocks ?? {}) as Json];
  for (const requester of new Set([...Object.keys(o), ...Object.keys(t), ...Object.keys(b)])) {
    const [bb, ob, tb] = [
      b[requester] as Block | undefined,
      o[requester] as Block | undefined,
      t[requester] as Block | undefined,
    ];
    let value: Block | undefined;
    if (same(ob, bb)) value = tb;
    else if (same(tb, bb)) value = ob;
    else if (ob === undefined || tb === undefined) value = ob ?? tb;
    else value = ob.blockedAt >= tb.blockedAt ? ob : tb;
    if (value !== undefined) blocks[requester] = value;
  }
  const first = Math.min(Number(ours.firstSeenAt ?? Infinity), Number(theirs.firstSeenAt ?? Infinity));
  return {
    ok: true,
    json: JSON.stringify({ ...theirs, ...ours, ...(Number.isFinite(first) ? { firstSeenAt: first } : {}), blocks }),
  };
}

/** Merges `ours` (this writer's text of a record) with `theirs` (the other writer's), both changed from `base`. */
export function mergeRecord(
  collection: CollectionName,
  base: string | null,
  ours: string | null,
  theirs: string | null,
): Merged {
  if (ours === theirs || ours === base) return { ok: true, json: theirs };
  if (theirs === base) return { ok: true, json: ours };
  if (collection === 'meta') return { ok: true, json: theirs };
  if (ours === null || theirs === null)
    return collection === 'workers'
      ? { ok: true, json: ours ?? theirs }
      : { ok: false, why: `one writer deleted it while the other changed it` };
  const [b, o, t] = [parse(base), parse(ours) as Json, parse(theirs) as Json];
  if (collection === 'workers') return mergeWorker(b, o, t);
  if (b === null && !same(o, t)) return { ok: false, why: 'both created it, with different content' };
  return mergeFields(b, o, t);
}

const NAMES: Partial<Record<CollectionName, string>> = {
  requesters: 'requester',
  runs: 'run',
  qualifications: 'qualification mapping',
  workers: 'worker',
};

/** The reconciler the lowdb store gives its backend (see the module comment). */
export function storeReconciler(state: StoreState): StoreReconciler {
  return (foreign: readonly ForeignChange[], mine: readonly JournalChange[]) => {
    if (foreign.length === 0) return mine;
    const key = (collection: string, k: string) => `${collection}\n${k}`;
    const out = new Map(mine.map((c) => [key(c[0], c[1]), c] as const));
    const apply: JournalChange[] = [];
    const conflicts: string[] = [];
    for (const f of foreign) {
      const k = key(f.collection, f.key);
      const ours = out.get(k);
      // A change made in memory after this commit was cut is this writer's too.
      const later = state.dirty.has(`${f.collection}\n\n${f.key}`);
      if (ours === undefined && !later) {
        apply.push([f.collection, f.key, f.json]);
        continue;
      }
      const current = later ? state.recordJson({ collection: f.collection, runId: null, key: f.key }) : ours![2];
      const merged = mergeRecord(f.collection, f.base, current, f.json);
      if (merged.ok) {
        apply.push([f.collection, f.key, merged.json]);
        if (ours !== undefined) out.set(k, [f.collection, f.key, merged.json]);
      } else {
        apply.push([f.collection, f.key, f.json]);
        out.delete(k);
        conflicts.push(`${NAMES[f.collection] ?? f.collection} "${f.key}": ${merged.why}`);
      }
    }
    replayStore(state, apply);
    // A run another process created: its (empty) state here, so that lookups by run id work.
    for (const [collection, runId, json] of apply)
      if (collection === 'runs' && json !== null && !state.runs.has(runId)) state.addRun(runId);
    if (conflicts.length > 0)
      throw new HitstateError(
        'HST_ERR_STORE_CONFLICT',
        `another process sharing the store at ${state.root} changed the same record meanwhile, and this change cannot be merged with it: ${conflicts.join('; ')}. This commit was refused (nothing of it was written); the store now holds the other process's version. Repeat the change if it still applies.`,
        { file: state.root },
      );
    return [...out.values()];
  };
}
