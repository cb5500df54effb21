import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { isHitstateError } from '../../src/errors.js';
import { SCHEMA_VERSION } from '../../src/store/index.js';
import { open, rejection, removeDir, root, seedRun, tempDir } from './helpers.js';

const fixture = join(root, 'test', 'fixtures', 'store', 'v0');
const Migration = suite('store migrations');
let dir = '';
Migration.before.each(() => {
  dir = tempDir();
});
Migration.after.each(() => removeDir(dir));

Migration(
  'when a v0 store is opened then it is migrated to the current schema, every record intact, the original kept',
  async () => {
    cpSync(fixture, dir, { recursive: true });
    const original = readFileSync(join(dir, 'sandbox', 'store.json'));
    const store = await open(dir);
    assert.is(store.openReport.migratedFrom, 0);
    assert.is(store.openReport.migrationBackup, join(dir, 'sandbox', 'store.json.v0.bak'));
    assert.ok(
      readFileSync(join(dir, 'sandbox', 'store.json.v0.bak')).equals(original),
      'the v0 backup must be byte-for-byte the original',
    );

    assert.equal(store.requesters.require('lab').credentialSource, { kind: 'profile', profile: 'lab-mturk' });
    assert.equal(store.requesters.require('ci').credentialSource, { kind: 'defaultChain' });
    const run = store.runs.require('pilot-1');
    assert.equal(
      [run.status, run.hitTypeId, run.frameHeight, run.createdAt],
      ['running', '3PN7FLVWM454R7NYSKRT54250KKSYM', 650, Date.parse('2026-02-12T10:00:00.000Z')],
    );
    assert.equal(store.units.statusCounts('pilot-1'), { completed: 1, launched: 1, created: 1 });
    assert.equal(
      store.units.ofRun('pilot-1').map((u) => [u.id, u.index, u.payAmountUsd]),
      [
        ['pilot-1-u0', 0, '0.50'],
        ['pilot-1-u1', 1, '0.50'],
        ['pilot-1-u2', -1, '0.00'],
      ],
    );
    assert.is(store.hits.ofUnit('pilot-1-u0')?.id, '3U18MJKL1WA8S1G7ULNIMQIIED9NCW');
    assert.equal(
      store.hits.unboundOfRun('pilot-1').map((h) => h.id),
      ['3V5Q80FXIXQH5C85IGPSFRTJZ8723A'],
    );
    assert.is(store.agents.byAssignment('34QN5IT0T2G6HMWH25AHYCMAK3608U', 'A12IHTKQFQIPD1')?.id, 'ag-1');
    assert.equal(store.agents.submission('ag-1'), { labels: ['cat', 'dog', 'cat'], comment: 'fun task' });
    assert.is(store.agents.require('ag-1').submittedAt, Date.parse('2026-02-12T11:12:30.000Z'));
    assert.ok(store.workers.isBlocked('AUYKYIHQXG6XR', 'lab'));
    assert.is(
      store.qualifications.get('lab', 'pilot-onboarded')?.qualificationTypeId,
      '3QUALTYPEAAAAAAAAAAAAAAAAAAAAA',
    );
    assert.equal(
      store.outbox.unconfirmedIntents().map((i) => [i.token, i.amountUsd]),
      [['hs-pilot-1-ag-1-bonus', '0.25']],
    );
    assert.is(store.outbox.intentByToken('hs-pilot-1-u0-create')?.state, 'confirmed');
    const snap = store.snapshots.get('unit:pilot-1-u0');
    assert.equal([snap?.machine, snap?.machineVersion, snap?.snapshot.value], ['unit', 1, 'completed']);
    assert.is(store.snapshots.get('run:pilot-1')?.machine, 'taskRun');

    store.units.setStatus('pilot-1-u1', 'assigned');
    await store.close();
    const data = JSON.parse(readFileSync(join(dir, 'sandbox', 'store.json'), 'utf8'));
    assert.is(data.schemaVersion, SCHEMA_VERSION);
    const again = await open(dir);
    assert.is(again.openReport.migratedFrom, null);
    assert.is(again.units.require('pilot-1-u1').status, 'assigned');
    await again.close();
  },
);

Migration('when a v0 store of another environment is opened then it is refused and nothing is migrated', async () => {
  cpSync(fixture, dir, { recursive: true });
  const text = readFileSync(join(dir, 'sandbox', 'store.json'), 'utf8').replace(
    '"environment": "sandbox"',
    '"environment": "live"',
  );
  writeFileSync(join(dir, 'sandbox', 'store.json'), text);
  const err = await rejection(open(dir));
  assert.ok(isHitstateError(err, 'HST_ERR_STORE_ENVIRONMENT_MISMATCH'), String(err));
  assert.is(readFileSync(join(dir, 'sandbox', 'store.json'), 'utf8'), text);
});

Migration('when a v0 store holds a bad record then migration fails naming it, and the file is untouched', async () => {
  cpSync(fixture, dir, { recursive: true });
  const text = readFileSync(join(dir, 'sandbox', 'store.json'), 'utf8').replace(
    '"creation_date": "2026-02-12T10:00:04.000Z"',
    '"creation_date": "yesterday"',
  );
  writeFileSync(join(dir, 'sandbox', 'store.json'), text);
  const err = await rejection(open(dir));
  assert.ok(isHitstateError(err, 'HST_ERR_STORE_MIGRATION_FAILED'), String(err));
  assert.match((err as Error).message, /hits\[1\]\.creation_date/);
  assert.match((err as Error).message, /store\.json\.v0\.bak/);
  assert.is(readFileSync(join(dir, 'sandbox', 'store.json'), 'utf8'), text);
  const store = await rejection(open(dir));
  assert.ok(
    isHitstateError(store, 'HST_ERR_STORE_MIGRATION_FAILED'),
    'the lock must have been released after the failure',
  );
});

Migration(
  'when a file has a newer schema version then the store refuses to open it and leaves it as it is',
  async () => {
    const store = await open(dir);
    seedRun(store, 1);
    await store.close();
    const path = join(dir, 'sandbox', 'runs', 'r1', 'units-000.json');
    const text = readFileSync(path, 'utf8').replace(
      `"schemaVersion":${SCHEMA_VERSION}`,
      `"schemaVersion":${SCHEMA_VERSION + 1}`,
    );
    writeFileSync(path, text);
    const err = await rejection(open(dir));
    assert.ok(isHitstateError(err, 'HST_ERR_STORE_VERSION_NEWER'), String(err));
    assert.match((err as Error).message, /units-000\.json has schema version 2.*Upgrade hitstate/s);
    assert.is(readFileSync(path, 'utf8'), text);
  },
);

Migration.run();
