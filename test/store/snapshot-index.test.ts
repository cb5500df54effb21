// The compact open index of a run's snapshot shards (src/store/lowdb/snapshot-index.ts): a store
// whose checkpoint wrote it opens its snapshot shards without decoding them; a store written
// before it existed (today's layout), or one whose index a crash or a hand left wrong, opens as
// before and gets a right index.
import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Store } from '../../src/store/index.js';
import { decodeSnapshotIndex, SNAPSHOT_INDEX_FILE } from '../../src/store/lowdb/snapshot-index.js';
import { open, removeDir, seedRun, tempDir } from './helpers.js';

const unitSnapshot = (unitId: string, note: string) => ({
  status: 'active',
  value: 'launched',
  historyValue: {},
  context: { unitId, hitId: null, note },
  children: {},
});

const Index = suite('store snapshot index');
let dir = '';
let store: Store | undefined;
Index.before.each(() => {
  dir = tempDir();
});
Index.after.each(async () => {
  await store?.close().catch(() => undefined);
  store = undefined;
  removeDir(dir);
});

const runDir = () => join(dir, 'sandbox', 'runs', 'r1');
const indexPath = () => join(runDir(), SNAPSHOT_INDEX_FILE);
// Non-ASCII text makes byte offsets differ from character offsets.
const NOTES = ['plain', 'café ünïcode', 'emoji 🧪 and "quotes" \\ backslash', 'ascii again'];

async function writeRun(): Promise<void> {
  store = await open(dir);
  seedRun(store, 10);
  const s = store;
  for (const [i, note] of NOTES.entries())
    s.snapshots.put(`unit:r1-u${i}`, {
      machine: 'unit',
      machineVersion: 3,
      snapshot: { index: { status: 'launched', note }, parentId: null, snapshot: unitSnapshot(`r1-u${i}`, note) },
    });
  store.snapshots.put('unit:r1-u9', {
    machine: 'unit',
    machineVersion: 3,
    snapshot: unitSnapshot('r1-u9', 'no index'),
  });
  await store.close();
  store = undefined;
}

async function assertReadsBack(s: Store): Promise<void> {
  for (const [i, note] of NOTES.entries()) {
    assert.equal(s.snapshots.indexEntry(`unit:r1-u${i}`), { status: 'launched', note });
    const record = s.snapshots.get(`unit:r1-u${i}`)!;
    assert.is((record.snapshot as { snapshot: { context: { note: string } } }).snapshot.context.note, note);
  }
  assert.is(s.snapshots.indexEntry('unit:r1-u9'), undefined);
  assert.is((s.snapshots.get('unit:r1-u9')!.snapshot as { context: { note: string } }).context.note, 'no index');
}

Index('when a checkpoint wrote the shards then the index lists every record and opening reads them back', async () => {
  await writeRun();
  const index = decodeSnapshotIndex(readFileSync(indexPath()));
  assert.ok(index !== undefined, 'the index is written by the fold');
  assert.ok(index!.shards['snapshots-000.json']!.keys.includes('unit:r1-u9'));
  store = await open(dir);
  assert.ok(store.openReport.deferredShards >= 1);
  await assertReadsBack(store);
  // A change after open is read from what was put, not from the file.
  store.snapshots.put('unit:r1-u1', {
    machine: 'unit',
    machineVersion: 3,
    snapshot: { index: { status: 'assigned', note: 'é' }, parentId: null, snapshot: unitSnapshot('r1-u1', 'é') },
  });
  assert.equal(store.snapshots.indexEntry('unit:r1-u1'), { status: 'assigned', note: 'é' });
  await store.close();
  store = await open(dir);
  assert.equal(store.snapshots.indexEntry('unit:r1-u1'), { status: 'assigned', note: 'é' });
});

Index('when a store was written before the index then it opens as before and gets one', async () => {
  await writeRun();
  rmSync(indexPath());
  store = await open(dir);
  await assertReadsBack(store);
  assert.ok(existsSync(indexPath()), 'opening wrote the index for the next open');
  await store.close();
  store = await open(dir);
  await assertReadsBack(store);
});

Index('when the index is damaged or does not match its shard then it is ignored', async () => {
  await writeRun();
  const good = readFileSync(indexPath(), 'utf8');
  writeFileSync(indexPath(), good.slice(0, -7));
  store = await open(dir);
  await assertReadsBack(store);
  await store.close();
  store = undefined;
  // Spans of other bytes (a shard rewritten after the index): its digest no longer matches.
  const wrong = JSON.parse(good) as { shards: Record<string, { spans: number[] }> };
  const spans = wrong.shards['snapshots-000.json']!.spans;
  for (let i = 0; i < spans.length; i++) spans[i] = spans[i]! + 3;
  const shard = join(runDir(), 'snapshots-000.json');
  writeFileSync(indexPath(), JSON.stringify(wrong));
  writeFileSync(shard, readFileSync(shard, 'utf8').replace('"note":"plain"', '"note":"plain" '));
  store = await open(dir);
  await assertReadsBack(store);
});

Index(
  'when a checkpoint vouches for a unit shard then it is taken without record checks, frozen; an edited one is checked',
  async () => {
    await writeRun();
    store = await open(dir);
    const unit = store.units.get('r1-u1')!;
    assert.ok(Object.isFrozen(unit), 'records are frozen as the readers freeze them');
    await store.close();
    store = undefined;
    // A hand edit breaks the digest: the shard is checked record by record and its problem named.
    const units = join(runDir(), 'units-000.json');
    writeFileSync(units, readFileSync(units, 'utf8').replace('"index":1,', '"index":"one",'));
    try {
      store = await open(dir);
      assert.unreachable('an edited unit shard was taken on its digest');
    } catch (err) {
      assert.match(String(err), /units-000\.json/);
    }
  },
);

Index(
  'when a store was written by the release before the index then it opens from its real bytes and gets one',
  async () => {
    cpSync(fileURLToPath(new URL('./fixtures/before-index', import.meta.url)), dir, { recursive: true });
    assert.not.ok(existsSync(indexPath()));
    const notes = ['plain', 'café ünïcode', 'emoji 🧪 and "quotes" \\ backslash'];
    const check = (s: Store) => {
      for (const [i, note] of notes.entries()) {
        assert.equal(s.snapshots.indexEntry(`unit:r1-u${i}`), { status: 'launched', note });
        const record = s.snapshots.get(`unit:r1-u${i}`)!;
        assert.is((record.snapshot as { snapshot: { context: { note: string } } }).snapshot.context.note, note);
        assert.is(s.units.get(`r1-u${i}`)?.status, 'created');
      }
    };
    store = await open(dir);
    check(store);
    await store.close();
    assert.ok(existsSync(indexPath()), 'the first open wrote the index');
    store = await open(dir);
    assert.ok(store.openReport.deferredShards >= 1, 'the second open takes the shard with the index');
    check(store);
  },
);

Index.run();
