import { readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { isHitstateError } from '../../src/errors.js';
import type { Store } from '../../src/store/index.js';
import { JsonText, RecordMap, stringifyStoreFile } from '../../src/store/layout.js';
import { filesUnder, lastCommitted, open, removeDir, seedRun, tempDir } from './helpers.js';

/** Roughly what a persisted unit machine snapshot looks like (docs/stack-notes.md#what-a-persisted-snapshot-holds). */
const unitSnapshot = (unitId: string, value = 'launched') => ({
  status: 'active',
  value,
  historyValue: {},
  context: { unitId, hitId: null, assignmentId: null, deadlineAt: 1767225600000, attempts: 0, reason: undefined },
  children: {},
  output: undefined,
});

const Snapshots = suite('store snapshots');
let dir = '';
let store: Store | undefined;
/** Three unit snapshots with an index entry each, written by a checkpoint (the store closed). */
async function seedIndexedUnits(): Promise<void> {
  const seeded = await open(dir);
  seedRun(seeded, 3);
  for (let i = 0; i < 3; i++)
    seeded.snapshots.put(`unit:r1-u${i}`, {
      machine: 'unit',
      machineVersion: 3,
      snapshot: { index: { status: 'launched', n: i }, parentId: null, snapshot: unitSnapshot(`r1-u${i}`) },
    });
  await seeded.close();
}

Snapshots.before.each(() => {
  dir = tempDir();
});
Snapshots.after.each(async () => {
  await store?.close().catch(() => undefined);
  store = undefined;
  removeDir(dir);
});

Snapshots('when the caller or a restore mutates a snapshot then the stored copy does not change', async () => {
  store = await open(dir);
  seedRun(store, 1);
  const given = unitSnapshot('r1-u0');
  store.snapshots.put('unit:r1-u0', { machine: 'unit', machineVersion: 3, snapshot: given });
  given.context.attempts = 99;
  const read = store.snapshots.get('unit:r1-u0')!;
  (read.snapshot.context as { attempts: number }).attempts = 42;
  const again = store.snapshots.get('unit:r1-u0')!;
  assert.is((again.snapshot.context as { attempts: number }).attempts, 0);
  assert.not.ok('output' in again.snapshot, 'undefined properties are dropped, as JSON does');
  assert.not.ok('reason' in (again.snapshot.context as object));
  assert.equal([again.actorId, again.runId, again.machine, again.machineVersion], ['unit:r1-u0', 'r1', 'unit', 3]);
});

Snapshots('when a snapshot holds something JSON cannot carry then it is refused naming the path', async () => {
  store = await open(dir);
  seedRun(store, 1);
  for (const [bad, path] of [
    [new Map(), 'snapshot.context.x'],
    [Number.NaN, 'snapshot.context.x'],
    [() => 1, 'snapshot.context.x'],
    [[1, new Date()], 'snapshot.context.x[1]'],
  ] as const) {
    try {
      store.snapshots.put('unit:r1-u0', { machine: 'unit', machineVersion: 1, snapshot: { context: { x: bad } } });
      assert.unreachable(`${String(bad)} accepted`);
    } catch (err) {
      assert.ok(isHitstateError(err, 'HST_ERR_STORE_INVALID_RECORD'), String(err));
      assert.is((err as { details: { field: string } }).details.field, path);
    }
  }
  assert.is(store.snapshots.get('unit:r1-u0'), undefined);
});

Snapshots('when thousands of actors are stored then shards fill up and a change rewrites only its shard', async () => {
  store = await open(dir);
  seedRun(store, 2500);
  for (let i = 0; i < 2500; i++)
    store.snapshots.put(`unit:r1-u${i}`, { machine: 'unit', machineVersion: 1, snapshot: unitSnapshot(`r1-u${i}`) });
  store.snapshots.put('run:r1', {
    machine: 'taskRun',
    machineVersion: 1,
    snapshot: { status: 'active', value: 'running', context: {}, children: {} },
  });
  // Closing folds the journal into the checkpoint files: shards of 500 snapshots.
  await store.close();
  const runDir = join(dir, 'sandbox', 'runs', 'r1');
  const shardFiles = readdirSync(runDir)
    .filter((f) => /^snapshots-\d+\.json$/.test(f))
    .sort();
  assert.equal(
    shardFiles,
    [0, 1, 2, 3, 4, 5].map((i) => `snapshots-00${i}.json`),
  );
  const before = filesUnder(runDir);
  store = await open(dir);
  store.snapshots.put('unit:r1-u1200', {
    machine: 'unit',
    machineVersion: 1,
    snapshot: unitSnapshot('r1-u1200', 'assigned'),
  });
  await store.flush();
  assert.equal(lastCommitted(dir, 'r1'), ['snapshots unit:r1-u1200'], 'the commit carries the one record');
  await store.close();
  const after = filesUnder(runDir);
  assert.equal(
    Object.keys(after).filter((f) => /\d\.json$/.test(f) && after[f] !== before[f]),
    ['snapshots-002.json'],
    'the checkpoint rewrote only its shard',
  );
  store = await open(dir);
  assert.is(store.snapshots.ofRun('r1').length, 2501);
  assert.is(store.snapshots.get('unit:r1-u1200')?.snapshot.value, 'assigned');
  assert.ok(store.snapshots.delete('unit:r1-u1200'));
  assert.not.ok(store.snapshots.delete('unit:r1-u1200'));
  await store.close();
  store = await open(dir);
  assert.is(store.snapshots.get('unit:r1-u1200'), undefined);
  assert.is(store.snapshots.ofRun('r1').length, 2500);
});

Snapshots(
  'when snapshots are kept as text in memory then the shard file still holds them as JSON objects, and a rewrite keeps the others unchanged',
  async () => {
    store = await open(dir);
    seedRun(store, 3);
    for (let i = 0; i < 3; i++)
      store.snapshots.put(`unit:r1-u${i}`, { machine: 'unit', machineVersion: 3, snapshot: unitSnapshot(`r1-u${i}`) });
    await store.close();
    const path = join(dir, 'sandbox', 'runs', 'r1', 'snapshots-000.json');
    const written = JSON.parse(readFileSync(path, 'utf8')) as {
      kind: string;
      records: Record<string, { snapshot: unknown }>;
    };
    assert.is(written.kind, 'snapshots');
    assert.equal(written.records['unit:r1-u1']!.snapshot, JSON.parse(JSON.stringify(unitSnapshot('r1-u1'))));
    store = await open(dir);
    assert.is(store.snapshots.get('unit:r1-u0')?.snapshot.value, 'launched', 'a record read from disk is handed out');
    store.snapshots.put('unit:r1-u2', {
      machine: 'unit',
      machineVersion: 3,
      snapshot: unitSnapshot('r1-u2', 'assigned'),
    });
    await store.close();
    const rewritten = JSON.parse(readFileSync(path, 'utf8')) as typeof written;
    assert.equal(
      rewritten.records['unit:r1-u0'],
      written.records['unit:r1-u0'],
      'one turned into text is written as it was',
    );
    assert.equal(rewritten.records['unit:r1-u1'], written.records['unit:r1-u1'], 'one never read is written as it was');
    assert.is((rewritten.records['unit:r1-u2']!.snapshot as { value: string }).value, 'assigned');
  },
);

Snapshots(
  'when a store file holds records kept as text then its text is what JSON.stringify makes of the parsed records',
  () => {
    const records = new RecordMap<unknown>([
      ['a', new JsonText(JSON.stringify({ x: 1, nested: { __proto__: null, y: [1, 'two'] } }))],
      ['b', { plain: true }],
      ['__proto__', new JsonText('{"kept":"as data"}')],
    ]);
    const data = { format: 'hitstate-store', kind: 'snapshots', schemaVersion: 1, records };
    const text = stringifyStoreFile(data);
    assert.is(text, JSON.stringify(data));
    assert.equal(Object.keys((JSON.parse(text) as { records: object }).records), ['a', 'b', '__proto__']);
    assert.is(stringifyStoreFile({ records: new RecordMap() }), '{"records":{}}');
  },
);

Snapshots(
  'when a part of a supervisor is stored then it belongs to the run, and one of an unknown run is refused',
  async () => {
    store = await open(dir);
    seedRun(store, 1);
    store.snapshots.put('run:r1#hits.b0a', {
      machine: 'taskRun',
      machineVersion: 3,
      snapshot: { field: 'hits', bucket: 'b0a', entries: {} },
    });
    assert.ok(store.snapshots.ofRun('r1').some((r) => r.actorId === 'run:r1#hits.b0a' && r.runId === 'r1'));
    try {
      store.snapshots.put('run:r9#hits.b0a', { machine: 'taskRun', machineVersion: 3, snapshot: {} });
      assert.unreachable('a part of an unknown run was accepted');
    } catch (err) {
      assert.ok(isHitstateError(err, 'HST_ERR_RUN_NOT_FOUND'), String(err));
    }
  },
);

Snapshots(
  'when records are read back from a hand-formatted shard then the first read hands out the parsed record, later reads fresh copies, and a rewrite keeps them',
  async () => {
    store = await open(dir);
    seedRun(store, 2);
    for (let i = 0; i < 2; i++)
      store.snapshots.put(`unit:r1-u${i}`, { machine: 'unit', machineVersion: 3, snapshot: unitSnapshot(`r1-u${i}`) });
    await store.close();
    const path = join(dir, 'sandbox', 'runs', 'r1', 'snapshots-000.json');
    const written = JSON.parse(readFileSync(path, 'utf8')) as { records: Record<string, unknown> };
    writeFileSync(path, JSON.stringify(written, null, 2));
    store = await open(dir);
    const first = store.snapshots.get('unit:r1-u0')!;
    assert.equal(first, written.records['unit:r1-u0']);
    (first.snapshot.context as { attempts: number }).attempts = 7;
    const second = store.snapshots.get('unit:r1-u0')!;
    assert.is(
      (second.snapshot.context as { attempts: number }).attempts,
      0,
      "the first reader's changes do not reach the store",
    );
    assert.equal(
      store.snapshots
        .ofRun('r1')
        .map((r) => r.actorId)
        .sort(),
      ['unit:r1-u0', 'unit:r1-u1'],
    );
    store.snapshots.put('unit:r1-u1', {
      machine: 'unit',
      machineVersion: 3,
      snapshot: unitSnapshot('r1-u1', 'assigned'),
    });
    await store.close();
    const rewritten = JSON.parse(readFileSync(path, 'utf8')) as typeof written;
    assert.equal(rewritten.records['unit:r1-u0'], written.records['unit:r1-u0']);
    assert.is((rewritten.records['unit:r1-u1'] as { snapshot: { value: string } }).snapshot.value, 'assigned');
    store = undefined;
  },
);

Snapshots(
  'when a checkpoint wrote the shards then opening parses them only when first read, and an edited one is checked in full',
  async () => {
    await seedIndexedUnits();
    store = await open(dir);
    assert.ok(store.openReport.deferredShards >= 1, 'the snapshot shard is taken on its digest');
    assert.equal(store.snapshots.indexEntry('unit:r1-u1'), { status: 'launched', n: 1 });
    assert.is(store.snapshots.get('unit:r1-u2')?.snapshot.snapshot !== undefined, true);
    assert.is(store.snapshots.indexEntry('unit:r1-u9'), undefined);
    await store.close();
    store = undefined;
    // A hand edit changes the bytes: the digest no longer vouches, so the file is read the thorough way.
    const env = join(dir, 'sandbox');
    const file = join(env, 'runs', 'r1', 'snapshots-000.json');
    writeFileSync(file, readFileSync(file, 'utf8').replace('"n":1', '"n":7'));
    store = await open(dir);
    assert.is(store.openReport.deferredShards, 0);
    assert.equal(store.snapshots.indexEntry('unit:r1-u1'), { status: 'launched', n: 7 });
    await store.close();
    store = undefined;
    writeFileSync(file, readFileSync(file, 'utf8').slice(0, -5));
    try {
      store = await open(dir);
      assert.unreachable('a truncated shard was taken');
    } catch (err) {
      assert.ok(isHitstateError(err, 'HST_ERR_STORE_CORRUPT'), String(err));
    }
  },
);

Snapshots(
  'when a file keeps the size and time recorded with its digest then opening does not hash it, and an edit is hashed',
  async () => {
    await seedIndexedUnits();
    store = undefined;
    // Times a minute old (a store copied with its times keeps them): what the mark recorded no
    // longer matches, so the next open hashes each file once and records its stat.
    const runDir = join(dir, 'sandbox', 'runs', 'r1');
    const shards = readdirSync(runDir).filter((f) => /^[a-z]+-\d+\.json$/.test(f));
    const old = new Date(Date.now() - 60_000);
    for (const f of shards) utimesSync(join(runDir, f), old, old);
    store = await open(dir);
    assert.is(store.openReport.filesHashed, shards.length, 'each file is hashed once');
    await store.close();
    store = await open(dir);
    assert.is(store.openReport.filesHashed, 0, 'their size and time vouch for them now');
    assert.ok(store.openReport.deferredShards >= 1);
    await store.close();
    store = undefined;
    // An edit in place changes the time: the file is hashed, and its new bytes read the thorough way.
    const file = join(runDir, 'snapshots-000.json');
    writeFileSync(file, readFileSync(file, 'utf8').replace('"n":1', '"n":7'));
    store = await open(dir);
    assert.is(store.openReport.filesHashed, 1);
    assert.equal(store.snapshots.indexEntry('unit:r1-u1'), { status: 'launched', n: 7 });
  },
);

Snapshots.run();
