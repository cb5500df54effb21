// The status sync's watched HITs, kept incrementally from the supervisor's tables: after any
// sequence of changes to the runtime's tables (changed in place, row by row) or to the machine's
// immutable ones, they equal a list computed from scratch, and an update that changed nothing
// returns the same entries without rebuilding them.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { MapPoolTables, type PoolTables, type TaskRunContext } from '../../machines/index.js';
import { AssignmentState } from '../../machines/states.js';
import { RuntimePoolTables } from '../../src/runtime/supervisor/pool-tables.js';
import { WatchedHits, type WatchedHit } from '../../src/runtime/sync/watched-hits.js';

const Watched = suite('WatchedHits');

const asContext = (tables: PoolTables): TaskRunContext => ({ tables }) as TaskRunContext;

const TERMINAL: readonly string[] = [
  AssignmentState.accepted,
  AssignmentState.expired,
  AssignmentState.softRejected,
  AssignmentState.rejected,
];

function fromScratch(t: PoolTables): WatchedHit[] {
  const out: WatchedHit[] = [];
  for (const [hitId, record] of t.hits()) {
    const unitStatus = record.unitId === null ? null : (t.unit(record.unitId)?.status ?? null);
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

function tables(empty: PoolTables, units: number): PoolTables {
  let t = empty.addUnits(Array.from({ length: units }, (_, i) => `u${i}`));
  for (let i = 0; i < units; i++) {
    t = t.putUnit(`u${i}`, { status: AssignmentState.launched });
    t = t.putHit(`H${i}`, { unitId: null, assignmentId: null, createdBy: `u${i}` });
  }
  return t;
}

for (const [name, empty] of [
  ['the runtime’s tables', () => new RuntimePoolTables()],
  ['the machine’s immutable tables', () => MapPoolTables.empty()],
] as const) {
  Watched(
    `when units and HITs of ${name} change at random then the watched HITs always equal a list computed from scratch`,
    () => {
      const next = random(7);
      const statuses = Object.values(AssignmentState);
      let t = tables(empty(), 300);
      const watched = new WatchedHits();
      assert.equal(byId(watched.update(asContext(t)).values()), byId(fromScratch(t)));
      for (let step = 0; step < 400; step++) {
        const i = Math.floor(next() * 300);
        const roll = next();
        if (roll < 0.4) {
          t = t.putUnit(`u${i}`, { status: statuses[Math.floor(next() * statuses.length)]! });
        } else if (roll < 0.7) {
          const bound = next() < 0.7;
          t = t.putHit(`H${i}`, {
            unitId: bound ? `u${Math.floor(next() * 300)}` : null,
            assignmentId: bound ? `A${step}` : null,
            createdBy: `u${i}`,
          });
        } else if (roll < 0.8) {
          t = t.putHit(`H${300 + step}`, { unitId: null, assignmentId: null, createdBy: `u${i}` });
        } else if (roll < 0.9) {
          // An entry written again without change.
          t = t.putUnit(`u${i}`, { ...t.unit(`u${i}`)! });
        }
        if (step % 3 === 0)
          assert.equal(byId(watched.update(asContext(t)).values()), byId(fromScratch(t)), `after step ${step}`);
      }
      assert.equal(byId(watched.update(asContext(t)).values()), byId(fromScratch(t)));
    },
  );
}

Watched('when a unit finishes then its HIT is no longer watched, and a pool HIT stays watched', () => {
  let t: PoolTables = tables(new RuntimePoolTables(), 3);
  t = t
    .putHit('H1', { unitId: 'u1', assignmentId: 'A1', createdBy: 'u1' })
    .putUnit('u1', { status: AssignmentState.assigned });
  const watched = new WatchedHits();
  assert.equal(watched.update(asContext(t)).get('H1'), {
    hitId: 'H1',
    unitId: 'u1',
    assignmentId: 'A1',
    unitStatus: 'assigned',
  });
  t = t.putUnit('u1', { status: AssignmentState.accepted });
  const after = watched.update(asContext(t));
  assert.is(after.get('H1'), undefined);
  assert.equal(after.get('H0'), { hitId: 'H0', unitId: null, assignmentId: null, unitStatus: null });
  assert.is(after.size, 2);
});

Watched('when nothing changed then an update returns the very same entries', () => {
  const t = tables(new RuntimePoolTables(), 50);
  const watched = new WatchedHits();
  const first = new Map(watched.update(asContext(t)));
  t.putUnit('u7', { status: AssignmentState.launched });
  const second = watched.update(asContext(t));
  for (const [hitId, entry] of first) assert.ok(second.get(hitId) === entry, `entry of ${hitId} rebuilt`);
});

Watched.run();
