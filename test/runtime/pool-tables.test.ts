// The runtime's side of the supervisor's tables: RuntimePoolTables changes in place and records
// which rows changed, its rows read back give the same tables, the taskRun 4 → 5 upgrade turns
// bucket maps into tables, and the snapshot layout refuses a bad tree saying why.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { AssignmentState, MapPoolTables } from '../../machines/index.js';
import { RuntimePoolTables, parseRowKey, type StoredRow } from '../../src/runtime/supervisor/pool-tables.js';
import {
  MACHINE_VERSIONS,
  childSrcOf,
  joinTaskRunSnapshot,
  upgradeSnapshot,
} from '../../src/runtime/supervisor/snapshot-layout.js';

const Tables = suite('runtime pool tables');

function sample(): RuntimePoolTables {
  const t = new RuntimePoolTables().addUnits(['u0', 'u1', 'u2', '3']);
  t.putUnit('u1', { status: AssignmentState.launched });
  t.putUnit('3', { status: AssignmentState.launched });
  t.putUnit('u2', { status: AssignmentState.launched, pending: 'poolHit' });
  t.putHit('H1', { unitId: null, assignmentId: null, createdBy: 'u1' });
  t.putHit('H0', { unitId: 'u0', assignmentId: 'A0', createdBy: 'u0' });
  t.putArrival('A0-W0', { unitId: 'u0', hitId: 'H0', assignmentId: 'A0', at: 5 });
  return t;
}

const rowsOf = (t: RuntimePoolTables, keys: readonly string[]): StoredRow[] =>
  // Through JSON, as the store keeps them.
  keys.map((key) => JSON.parse(JSON.stringify(t.row(key))) as StoredRow);

Tables('when rows change then only they are reported, once, and the free list follows the entries', () => {
  const t = sample();
  assert.equal(t.takeChanged().sort(), [
    'arrival:A0-W0',
    'hit:H0',
    'hit:H1',
    'unit:3',
    'unit:u0',
    'unit:u1',
    'unit:u2',
  ]);
  assert.equal(t.takeChanged(), [], 'taken once');
  assert.is(t.freeCount, 2);
  assert.is(t.firstFree(), 'u1');
  t.putUnit('u1', { status: AssignmentState.assigned });
  assert.is(t.firstFree(), '3');
  t.putUnit('u1', { status: AssignmentState.assigned });
  t.putHit('H1', { unitId: null, assignmentId: null, createdBy: 'u1' });
  assert.equal(t.takeChanged(), ['unit:u1'], 'writing a row again unchanged is no change');
  t.putUnit('u1', { status: AssignmentState.launched });
  assert.is(t.firstFree(), 'u1', 'a unit freed before the cursor is found again');
  assert.is(t.freeCount, 2);
});

Tables('when the rows are read back then the tables are the same, in the same order', () => {
  const t = sample();
  const keys = t.takeChanged();
  const back = RuntimePoolTables.fromRows(rowsOf(t, keys));
  assert.equal(back.toJSON(), t.toJSON());
  assert.equal(back.takeChanged(), [], 'rows read back are not changes');
  assert.is(back.firstFree(), 'u1');
  back.putHit('H9', { unitId: null, assignmentId: null, createdBy: 'u2' });
  assert.equal(
    [...back.hits()].map(([id]) => id),
    ['H1', 'H0', 'H9'],
    'a new HIT joins the pool after the restored ones',
  );
  assert.equal(parseRowKey('unit:a:b'), { kind: 'unit', id: 'a:b' });
  assert.is(parseRowKey('hits.b0a'), undefined);
  assert.throws(
    () => RuntimePoolTables.fromRows(rowsOf(t, ['unit:u0', 'unit:u2'])),
    /skip from position 1 to 2 \(unit u2\)/,
  );
});

Tables('when a taskRun 4 snapshot is upgraded then its bucket maps become tables, every row kept', () => {
  const legacy = {
    value: 'running',
    context: {
      runId: 'r1',
      counts: { created: 0, launched: 2, assigned: 1 },
      unitOrder: ['u0', 'u1', 'u2'],
      units: {
        b01: { u1: { status: 'launched' }, u0: { status: 'assigned' } },
        b7f: { u2: { status: 'launched', pending: 'poolHit' } },
      },
      freeUnits: { b01: { u1: true } },
      freeUnitCount: 1,
      hits: { b10: { H0: { unitId: 'u0', assignmentId: 'A0', createdBy: 'u0' } } },
      arrivals: { b02: { 'A0-W0': { unitId: 'u0', hitId: 'H0', assignmentId: 'A0', at: 1 } } },
    },
  };
  const upgraded = upgradeSnapshot('taskRun', 4, legacy)!;
  const context = upgraded.context as Record<string, unknown>;
  assert.equal(
    ['units', 'freeUnits', 'freeUnitCount', 'hits', 'arrivals', 'unitOrder'].filter((f) => f in context),
    [],
  );
  const tables = RuntimePoolTables.fromJSON(context.tables as never);
  assert.equal(
    [...tables.units()].map(([id, e]) => `${id}:${e.status}`),
    ['u0:assigned', 'u1:launched', 'u2:launched'],
  );
  assert.equal(tables.firstFree(), 'u1');
  assert.equal(tables.hit('H0'), { unitId: 'u0', assignmentId: 'A0', createdBy: 'u0' });
  assert.equal(tables.arrival('A0-W0')?.unitId, 'u0');
  assert.is(tables.takeChanged().length, 5, 'every row is marked changed, to be stored as rows');
  assert.equal(MapPoolTables.fromJSON(context.tables as never).toJSON(), tables.toJSON());
  assert.is(MACHINE_VERSIONS.taskRun, 5);
});

Tables('when stored actors are joined with a bad id or a missing parent then it throws saying which', () => {
  assert.throws(() => joinTaskRunSnapshot({}, { 'x:1': { parentId: null, snapshot: {} } }), /actor id "x:1"/);
  assert.throws(
    () => joinTaskRunSnapshot({}, { 'unit:u1': { parentId: 'group:9', snapshot: {} } }),
    /parent "group:9"/,
  );
  assert.equal(childSrcOf('agent:A-W'), 'agent');
});

Tables.run();
