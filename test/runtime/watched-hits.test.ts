// The status sync's watched HITs, kept incrementally from the supervisor's copy-on-write tables:
// after any sequence of changes they equal a list computed from scratch, and an update that
// changed nothing returns the same entries without rebuilding them.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { entriesOf, getIn, setIn, setManyIn } from '../../machines/buckets.js';
import type { HitRecord, TaskRunContext, UnitEntry } from '../../machines/index.js';
import { AssignmentState } from '../../machines/states.js';
import { WatchedHits, type WatchedHit } from '../../src/runtime/sync/watched-hits.js';

const Watched = suite('WatchedHits');

type Tables = Pick<TaskRunContext, 'hits' | 'units'>;
const asContext = (t: Tables): TaskRunContext => t as TaskRunContext;

const TERMINAL: readonly string[] = [
  AssignmentState.accepted,
  AssignmentState.expired,
  AssignmentState.softRejected,
  AssignmentState.rejected,
];

function fromScratch(t: Tables): WatchedHit[] {
  const out: WatchedHit[] = [];
  for (const [hitId, record] of entriesOf(t.hits)) {
    const unitStatus = record.unitId === null ? null : (getIn(t.units, record.unitId)?.status ?? null);
    if (unitStatus !== null && TERMINAL.includes(unitStatus)) continue;
    out.push({ hitId, unitId: record.unitId, assignmentId: record.assignmentId, unitStatus });
  }
  return out;
}

const byId = (list: Iterable<WatchedHit>): WatchedHit[] => [...list].sort((a, b) => a.hitId.localeCompare(b.hitId));

/** A seeded generator (mulberry32), so a failure replays. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function tables(units: number): Tables {
  return {
    units: setManyIn<UnitEntry>(
      {},
      Array.from({ length: units }, (_, i) => [`u${i}`, { status: AssignmentState.launched }] as const),
    ),
    hits: setManyIn<HitRecord>(
      {},
      Array.from(
        { length: units },
        (_, i) => [`H${i}`, { unitId: null, assignmentId: null, createdBy: `u${i}` }] as const,
      ),
    ),
  };
}

Watched('when units and HITs change at random then the watched HITs always equal a list computed from scratch', () => {
  const next = random(7);
  const statuses = Object.values(AssignmentState);
  let t = tables(300);
  const watched = new WatchedHits();
  assert.equal(byId(watched.update(asContext(t)).values()), byId(fromScratch(t)));
  for (let step = 0; step < 400; step++) {
    const i = Math.floor(next() * 300);
    const roll = next();
    if (roll < 0.4) {
      t = { ...t, units: setIn(t.units, `u${i}`, { status: statuses[Math.floor(next() * statuses.length)]! }) };
    } else if (roll < 0.7) {
      const bound = next() < 0.7;
      t = {
        ...t,
        hits: setIn(t.hits, `H${i}`, {
          unitId: bound ? `u${Math.floor(next() * 300)}` : null,
          assignmentId: bound ? `A${step}` : null,
          createdBy: `u${i}`,
        }),
      };
    } else if (roll < 0.8) {
      t = { ...t, hits: setIn(t.hits, `H${300 + step}`, { unitId: null, assignmentId: null, createdBy: `u${i}` }) };
    } else if (roll < 0.9) {
      // An entry copied without change: a new object with the same content.
      t = { ...t, units: setIn(t.units, `u${i}`, { ...getIn(t.units, `u${i}`)! }) };
    }
    if (step % 3 === 0)
      assert.equal(byId(watched.update(asContext(t)).values()), byId(fromScratch(t)), `after step ${step}`);
  }
  assert.equal(byId(watched.update(asContext(t)).values()), byId(fromScratch(t)));
});

Watched('when a unit finishes then its HIT is no longer watched, and a pool HIT stays watched', () => {
  let t = tables(3);
  t = {
    ...t,
    hits: setIn(t.hits, 'H1', { unitId: 'u1', assignmentId: 'A1', createdBy: 'u1' }),
    units: setIn(t.units, 'u1', { status: AssignmentState.assigned }),
  };
  const watched = new WatchedHits();
  assert.equal(watched.update(asContext(t)).get('H1'), {
    hitId: 'H1',
    unitId: 'u1',
    assignmentId: 'A1',
    unitStatus: 'assigned',
  });
  t = { ...t, units: setIn(t.units, 'u1', { status: AssignmentState.accepted }) };
  const after = watched.update(asContext(t));
  assert.is(after.get('H1'), undefined);
  assert.equal(after.get('H0'), { hitId: 'H0', unitId: null, assignmentId: null, unitStatus: null });
  assert.is(after.size, 2);
});

Watched('when nothing changed then an update returns the very same entries', () => {
  let t = tables(50);
  const watched = new WatchedHits();
  const first = new Map(watched.update(asContext(t)));
  t = { ...t, units: setIn(t.units, 'u7', { status: AssignmentState.launched }) };
  const second = watched.update(asContext(t));
  for (const [hitId, entry] of first) assert.ok(second.get(hitId) === entry, `entry of ${hitId} rebuilt`);
});

Watched.run();
