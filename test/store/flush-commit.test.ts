import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { isHitstateError } from '../../src/errors.js';
import type { Store } from '../../src/store/index.js';
import { collect, open, rejection, removeDir, seedRun, tempDir, filesUnder, recordingFs } from './helpers.js';

const Flush = suite('store write committed across files');
let dir = '';
let stores: Store[] = [];
Flush.before.each(() => {
  dir = tempDir();
  stores = [];
});
Flush.after.each(async () => {
  for (const s of stores) await s.close().catch(() => undefined);
  removeDir(dir);
});

const track = async (p: Promise<Store>): Promise<Store> => {
  const store = await p;
  stores.push(store);
  return store;
};

const temps = (): string[] => Object.keys(filesUnder(dir)).filter((p) => /\.tmp$/.test(p));
const snapshot = (value: string) => ({ machine: 'unit', machineVersion: 1, snapshot: { value } });

/** A store with run r1 (two units, their snapshots) written, and a file system whose faults the test switches on. */
async function storeWith(fault: (op: string, path: string) => Promise<void> | void): Promise<Store> {
  const { fs } = recordingFs(fault);
  const store = await track(open(dir, { fileSystem: fs }));
  seedRun(store, 2);
  store.snapshots.put('unit:r1-u0', snapshot('created'));
  await store.flush();
  return store;
}

Flush(
  'when a write fails before it commits then no store file changes, its temp files are gone, and the next write stores it all once',
  async () => {
    let fail = false;
    const store = await storeWith((op, path) => {
      if (fail && op === 'write' && path.includes('.snapshots-000.json.')) {
        fail = false;
        throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      }
    });
    const before = filesUnder(dir);
    store.units.setStatus('r1-u0', 'launched');
    store.snapshots.put('unit:r1-u0', snapshot('launched'));
    store.audit.append({ operation: 'CreateHITWithHITType', outcome: 'ok', runId: 'r1' });
    fail = true;
    const err = await rejection(store.flush());
    assert.ok(isHitstateError(err, 'HST_ERR_STORE_WRITE_FAILED'), String(err));
    assert.match(
      (err as Error).message,
      /snapshots-000\.json failed: ENOSPC[\s\S]*Nothing of this write reached the store files/,
    );
    assert.equal(filesUnder(dir), before, 'no store file changed and no temp file is left');
    assert.ok(store.stats().pending);
    await store.flush();
    await store.close();
    const reopened = await track(open(dir));
    assert.is(reopened.units.require('r1-u0').status, 'launched');
    assert.equal(reopened.snapshots.get('unit:r1-u0')?.snapshot, { value: 'launched' });
    assert.equal(
      (await collect(reopened.audit.entries({ runId: 'r1' }))).map((e) => e.operation),
      ['CreateHITWithHITType'],
      'the audit line is written once',
    );
  },
);

Flush(
  'when putting a committed write in place fails then flush rejects saying nothing is lost, and the next write finishes it first',
  async () => {
    let fail = false;
    const store = await storeWith((op, path) => {
      if (fail && op === 'rename' && path.endsWith('units-000.json')) {
        fail = false;
        throw Object.assign(new Error('EIO: i/o error, rename'), { code: 'EIO' });
      }
    });
    store.units.setStatus('r1-u0', 'launched');
    store.audit.append({ operation: 'CreateHITWithHITType', outcome: 'ok', runId: 'r1' });
    fail = true;
    const err = await rejection(store.flush());
    assert.ok(isHitstateError(err, 'HST_ERR_STORE_WRITE_FAILED'), String(err));
    assert.match((err as Error).message, /EIO[\s\S]*The write is committed, so nothing is lost/);
    const units = join(dir, 'sandbox', 'runs', 'r1', 'units-000.json');
    assert.match(
      readFileSync(units, 'utf8'),
      /"r1-u0","runId":"r1","index":0,"status":"created"/,
      'the file is not in place yet',
    );
    const look = await track(open(dir, { readOnly: true }));
    assert.is(look.units.require('r1-u0').status, 'launched', 'but the write is committed');

    await store.flush();
    assert.match(readFileSync(units, 'utf8'), /"r1-u0","runId":"r1","index":0,"status":"launched"/);
    assert.equal(temps(), []);
    assert.equal(
      (await collect(store.audit.entries({ runId: 'r1' }))).map((e) => e.operation),
      ['CreateHITWithHITType'],
      'the audit line is appended once',
    );
  },
);

Flush(
  'when data changes while a write is on its way then that write holds the state from before the change in every file, and the next write the change',
  async () => {
    let armed = false;
    let seen: unknown = null;
    const store = await storeWith(async (op, path) => {
      if (!armed) return;
      if (op === 'write' && path.includes('.units-000.json.')) {
        // Every file of the write is serialized by now: this change must go wholly into the next write.
        store.units.setStatus('r1-u0', 'expired');
        store.snapshots.put('unit:r1-u0', snapshot('expired'));
      }
      if (op === 'rename' && path.endsWith('snapshots-000.json')) {
        armed = false;
        const look = await open(dir, { readOnly: true });
        seen = [look.units.require('r1-u0').status, look.snapshots.get('unit:r1-u0')?.snapshot];
        await look.close();
      }
    });
    store.units.setStatus('r1-u0', 'launched');
    store.snapshots.put('unit:r1-u0', snapshot('launched'));
    armed = true;
    await store.flush();
    assert.equal(seen, ['launched', { value: 'launched' }], 'the committed write holds one state across both files');
    assert.ok(store.stats().pending, 'the change made meanwhile waits for the next write');
    await store.flush();
    const look = await track(open(dir, { readOnly: true }));
    assert.equal(
      [look.units.require('r1-u0').status, look.snapshots.get('unit:r1-u0')?.snapshot],
      ['expired', { value: 'expired' }],
    );
  },
);

Flush.run();
