/**
 * Persisted XState snapshots of every actor (`run:<runId>`, `unit:<unitId>`, `agent:<agentId>`,
 * and `run:<runId>#<part>` for pieces of a supervisor stored apart),
 * in fill-then-roll shards per run. The store keeps its own copy of what it is given, as the JSON
 * text it writes ({@link JsonText}: a few kilobytes per actor where the object tree costs several
 * times that), and hands out a fresh copy on every read: XState's restore mutates the object it
 * gets (docs/stack-notes.md#restoring-mutates-the-snapshot), and the caller may keep mutating
 * theirs. Records read from disk stay as parsed until first read, then become text.
 *
 * @module
 */
import { HitstateError } from '../../errors.js';
import { jsonObjectText } from '../json.js';
import { JsonText, SlicedJsonText } from '../layout.js';
import { endOfValue, RawRecordsError } from '../raw-records.js';
import type { RunState, StoreState } from '../store-state.js';
import type { SnapshotRecord } from '../types.js';
import { checkInteger, checkText } from '../validate.js';

/** What `snapshots.put` takes. */
export interface SnapshotInput {
  /** The machine's id, e.g. `unit`. */
  readonly machine: string;
  /** Bumped by the runtime when a machine change makes older snapshots unsafe to restore. */
  readonly machineVersion: number;
  /** `actor.getPersistedSnapshot()`: a plain JSON object (checked when stored). */
  readonly snapshot: unknown;
}

/** The actor snapshots of every run. */
export interface SnapshotsCollection {
  /**
   * Stores a copy of the snapshot.
   * @throws HST_ERR_STORE_INVALID_RECORD for an actor id that is not `run:`, `unit:` or `agent:` plus
   *   an id (`run:<runId>#<part>` is a part of the run's supervisor), or a snapshot that is not plain JSON; HST_ERR_RUN_NOT_FOUND, HST_ERR_UNIT_NOT_FOUND,
   *   HST_ERR_AGENT_NOT_FOUND when the actor's record does not exist.
   */
  put(actorId: string, input: SnapshotInput): void;
  /** A fresh copy, or undefined. */
  get(actorId: string): SnapshotRecord | undefined;
  /**
   * The `index` field of the stored snapshot payload (`{ index, ... }`, the field first), parsed
   * alone: a compact summary its writer keeps next to the snapshot, in the same record and so in
   * the same commit. Reading it does not parse the snapshot. Undefined when the actor has no
   * record or its payload has no index.
   */
  indexEntry(actorId: string): unknown;
  /** Fresh copies of every snapshot of the run. @throws HST_ERR_RUN_NOT_FOUND */
  ofRun(runId: string): readonly SnapshotRecord[];
  /**
   * Fresh copies of the run's supervisor records stored apart (`run:<runId>#<part>`), without
   * reading the run's unit and agent snapshots. @throws HST_ERR_RUN_NOT_FOUND
   */
  partsOf(runId: string): readonly SnapshotRecord[];
  /** Returns true when a snapshot was removed. */
  delete(actorId: string): boolean;
}

/** A snapshot as the store holds it: parsed from disk and not read since, or as its JSON text. */
export type StoredSnapshot = SnapshotRecord | JsonText;

/** A fresh copy of a stored snapshot; one still held as parsed from disk is turned into text on the way. */
function copyOf(run: RunState, actorId: string, stored: StoredSnapshot): SnapshotRecord {
  if (stored instanceof JsonText) return JSON.parse(stored.text) as SnapshotRecord;
  // The same content in another form: the shard's file does not change. The parsed record was
  // the store's alone (nothing else holds what the loader parsed), so it is the caller's copy now.
  run.snapshots.reform(actorId, new JsonText(JSON.stringify(stored)));
  return stored;
}

/** Where a record's text holds its payload's index, when the payload starts with one (as `put` writes it). */
const INDEX_AT = ',"snapshot":{"index":';

/** The payload's `index` of a stored snapshot, parsed alone; undefined when it has none. */
function indexOf(stored: StoredSnapshot): unknown {
  if (!(stored instanceof JsonText)) {
    const payload = stored.snapshot as { index?: unknown } | null;
    return typeof payload === 'object' && payload !== null ? payload.index : undefined;
  }
  if (stored instanceof SlicedJsonText) {
    // Taken with the compact open index: the entry is decoded alone, the record stays undecoded.
    const entry = stored.indexText();
    return entry === undefined ? undefined : JSON.parse(entry);
  }
  const text = stored.text;
  // The head before the payload holds ids, a machine name and a number: the first match is the payload's.
  const at = text.indexOf(INDEX_AT);
  if (at < 0) return undefined;
  const from = at + INDEX_AT.length;
  try {
    return JSON.parse(text.slice(from, endOfValue(text, from)));
  } catch (err) {
    if (err instanceof RawRecordsError || err instanceof SyntaxError) return JSON.parse(text).snapshot?.index;
    throw err;
  }
}

export function snapshotsCollection(state: StoreState): SnapshotsCollection {
  /** The run an actor belongs to; undefined when its record is unknown and `strict` is false. */
  const runOf = (actorId: string, strict: boolean): RunState | undefined => {
    const colon = typeof actorId === 'string' ? actorId.indexOf(':') : -1;
    const prefix = colon < 0 ? '' : actorId.slice(0, colon);
    const id = actorId.slice(colon + 1);
    if (prefix === 'run') {
      // `run:<runId>#<part>`: a piece of the supervisor stored apart (run ids never hold a `#`).
      const runId = id.includes('#') ? id.slice(0, id.indexOf('#')) : id;
      return strict ? state.run(runId) : state.runs.get(runId);
    }
    if (prefix === 'unit') return strict ? state.unit(id).run : state.unitRun.get(id);
    if (prefix === 'agent') return strict ? state.agent(id).run : state.agentRun.get(id);
    throw new HitstateError(
      'HST_ERR_STORE_INVALID_RECORD',
      `actorId must be "run:<runId>", "unit:<unitId>" or "agent:<agentId>", got ${JSON.stringify(actorId)}`,
      { field: 'actorId' },
    );
  };
  return {
    put(actorId, input) {
      state.assertWritable();
      const run = runOf(actorId, true)!;
      const head = {
        actorId,
        runId: run.id,
        machine: checkText(input.machine, 'machine', 128),
        machineVersion: checkInteger(input.machineVersion, 'machineVersion'),
      };
      const snapshot = jsonObjectText(input.snapshot, 'snapshot');
      // The record's text in SnapshotRecord's field order, the snapshot spliced in as checked.
      const text = `${JSON.stringify(head).slice(0, -1)},"snapshot":${snapshot},"updatedAt":${state.clock.now()}}`;
      run.snapshots.put(actorId, new JsonText(text));
      state.changed();
    },
    get(actorId) {
      state.assertOpen();
      const run = runOf(actorId, false);
      const stored = run?.snapshots.get(actorId);
      return stored === undefined ? undefined : copyOf(run!, actorId, stored);
    },
    indexEntry(actorId) {
      state.assertOpen();
      const stored = runOf(actorId, false)?.snapshots.get(actorId);
      return stored === undefined ? undefined : indexOf(stored);
    },
    ofRun(runId) {
      state.assertOpen();
      const run = state.run(runId);
      return [...run.snapshots.entries()].map(([actorId, stored]) => copyOf(run, actorId, stored));
    },
    partsOf(runId) {
      state.assertOpen();
      const run = state.run(runId);
      const prefix = `run:${runId}#`;
      const parts: SnapshotRecord[] = [];
      for (const [actorId, stored] of run.snapshots.entries())
        if (actorId.startsWith(prefix)) parts.push(copyOf(run, actorId, stored));
      return parts;
    },
    delete(actorId) {
      state.assertWritable();
      const file = runOf(actorId, false)?.snapshots.delete(actorId) ?? null;
      if (file === null) return false;
      state.changed();
      return true;
    },
  };
}
