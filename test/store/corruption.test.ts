import { existsSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { isHitstateError } from '../../src/errors.js';
import { restoreBackup } from '../../src/store/index.js';
import { open, rejection, removeDir, SANDBOX, seedRun, tempDir } from './helpers.js';

const Corruption = suite('store corruption and backups');
let dir = '';
let env = '';
Corruption.before.each(() => {
  dir = tempDir();
  env = join(dir, 'sandbox');
});
Corruption.after.each(() => removeDir(dir));

/** A store closed twice with different content, so units-000.json has two distinct backups. */
async function storeWithHistory(): Promise<void> {
  const store = await open(dir);
  seedRun(store, 2);
  await store.close();
  const again = await open(dir);
  again.units.setStatus('r1-u0', 'launched');
  await again.close();
}

Corruption(
  'when a file is truncated then opening is refused, the file is kept byte-for-byte and the newest good backup is named',
  async () => {
    await storeWithHistory();
    const path = join(env, 'runs', 'r1', 'units-000.json');
    const whole = readFileSync(path);
    const truncated = whole.subarray(0, Math.floor(whole.length / 2));
    writeFileSync(path, truncated);
    const listing = readdirSync(join(env, 'runs', 'r1')).sort();
    const err = await rejection(open(dir));
    assert.ok(isHitstateError(err, 'HST_ERR_STORE_CORRUPT'), String(err));
    const message = (err as Error).message;
    assert.match(message, path);
    assert.match(message, /not valid JSON/);
    // Named with what it would lose, and the restore that loses nothing else (never a bare cp).
    assert.match(message, `The newest good backup is ${path}.bak.1`);
    assert.match(message, /it holds 2 units of run r1; changes to them since it was taken would be lost/);
    assert.match(message, /hitstate store restore --store ".*" --env sandbox/);
    assert.not.match(message, /\bcp "/);
    assert.is((err as { details: { file: string } }).details.file, path);
    assert.ok(readFileSync(path).equals(truncated), 'the damaged file must not be touched');
    assert.equal(readdirSync(join(env, 'runs', 'r1')).sort(), listing, 'nothing may be created or rotated next to it');
    const second = await rejection(open(dir));
    assert.ok(isHitstateError(second, 'HST_ERR_STORE_CORRUPT'), 'the lock must be released after a refused open');
  },
);

Corruption(
  'when restoreBackup is called then the newest good backup replaces the file and the damaged one is kept aside',
  async () => {
    await storeWithHistory();
    const path = join(env, 'runs', 'r1', 'units-000.json');
    writeFileSync(path, '{"format":"hitstate-st');
    writeFileSync(`${path}.bak.1`, '');
    const restored = await restoreBackup({ dir, environment: SANDBOX, file: 'runs/r1/units-000.json' });
    assert.is(restored.from, `${path}.bak.2`, 'an empty .bak.1 is not a good backup');
    assert.is(readFileSync(restored.damagedCopy!, 'utf8'), '{"format":"hitstate-st');
    const store = await open(dir);
    assert.equal(
      store.units.ofRun('r1').map((u) => u.status),
      ['created', 'created'],
    );
    await store.close();
  },
);

Corruption(
  'when a file is empty, not an object or from another environment then it is refused and left alone',
  async () => {
    const store = await open(dir);
    seedRun(store, 1);
    await store.close();
    const cases: [string, string, string][] = [
      ['store.json', '', 'HST_ERR_STORE_CORRUPT'],
      ['runs/r1/hits-000.json', '[]', 'HST_ERR_STORE_CORRUPT'],
      [
        'runs/r1/units-000.json',
        '{"format":"hitstate-store","kind":"units","schemaVersion":1,"environment":{"kind":"live"},"runId":"r1","records":{}}',
        'HST_ERR_STORE_ENVIRONMENT_MISMATCH',
      ],
      [
        'runs/r1/agents-000.json',
        '{"format":"hitstate-store","kind":"agents","schemaVersion":1,"environment":{"kind":"sandbox"},"runId":"r1","records":{"a1":{"id":"a2"}}}',
        'HST_ERR_STORE_CORRUPT',
      ],
    ];
    for (const [rel, content, code] of cases) {
      const path = join(env, rel);
      const good = existsSync(path) ? readFileSync(path) : null;
      writeFileSync(path, content);
      const err = await rejection(open(dir));
      assert.ok(isHitstateError(err), `${rel}: ${String(err)}`);
      assert.is((err as { code: string }).code, code, rel);
      assert.match((err as Error).message, path);
      assert.is(readFileSync(path, 'utf8'), content, `${rel} was modified`);
      if (good === null) rmSync(path);
      else writeFileSync(path, good);
    }
    const ok = await open(dir);
    await ok.close();
  },
);

Corruption(
  'when store.json is missing but run data is there then the store refuses to start empty over it',
  async () => {
    const store = await open(dir);
    seedRun(store, 1);
    await store.close();
    rmSync(join(env, 'store.json'));
    const err = await rejection(open(dir));
    assert.ok(isHitstateError(err, 'HST_ERR_STORE_CORRUPT'), String(err));
    assert.match((err as Error).message, /store\.json is missing/);
    assert.not.ok(existsSync(join(env, 'store.json')));
  },
);

Corruption(
  'when the store is opened and closed without changes then backups are not rotated; changes rotate them, at most N kept',
  async () => {
    const store = await open(dir, { backups: 2 });
    seedRun(store, 1);
    await store.close();
    const bak = (n: number) => join(env, 'runs', 'r1', `units-000.json.bak.${n}`);
    const first = readFileSync(bak(1));
    for (let i = 0; i < 3; i++) await (await open(dir, { backups: 2 })).close();
    assert.ok(readFileSync(bak(1)).equals(first));
    assert.not.ok(existsSync(bak(2)), 'unchanged opens must not fill the rotation with copies');
    for (const status of ['launched', 'assigned', 'completed'] as const) {
      const s = await open(dir, { backups: 2 });
      s.units.setStatus('r1-u0', status);
      await s.close();
    }
    assert.match(readFileSync(bak(1), 'utf8'), /"completed"/);
    assert.match(readFileSync(bak(2), 'utf8'), /"assigned"/);
    assert.not.ok(existsSync(bak(3)));
  },
);

Corruption(
  "when a store was copied without its files' times then opening backs up only what differs from its newest backup",
  async () => {
    const store = await open(dir);
    seedRun(store, 1);
    await store.close();
    const path = join(env, 'runs', 'r1', 'units-000.json');
    // A copy that wrote each .bak.1 before its file: the backup is older, the content the same.
    utimesSync(`${path}.bak.1`, new Date(2020, 0, 1), new Date(2020, 0, 1));
    const again = await open(dir);
    assert.not.ok(again.openReport.backedUp.includes(path), JSON.stringify(again.openReport.backedUp));
    assert.not.ok(existsSync(`${path}.bak.2`), 'the same content is not pushed into the rotation again');
    await again.close();
    const same = readFileSync(path, 'utf8');
    writeFileSync(path, same.replace('"created"', '"expired"'));
    utimesSync(`${path}.bak.1`, new Date(2020, 0, 1), new Date(2020, 0, 1));
    const changed = await open(dir);
    assert.equal(changed.openReport.backedUp, [path], 'same size, other bytes: backed up');
    await changed.close();
  },
);

Corruption('when a file was changed by hand since the last close then opening backs it up first', async () => {
  const store = await open(dir);
  seedRun(store, 1);
  await store.close();
  const path = join(env, 'runs', 'r1', 'units-000.json');
  writeFileSync(path, readFileSync(path, 'utf8').replace('"created"', '"launched"'));
  const again = await open(dir);
  assert.equal(again.openReport.backedUp, [path]);
  assert.match(readFileSync(`${path}.bak.1`, 'utf8'), /"launched"/);
  assert.match(readFileSync(`${path}.bak.2`, 'utf8'), /"created"/);
  await again.close();
});

Corruption(
  'when a hand edit puts one unit id in two runs or binds a unit to two HITs then the store refuses to open',
  async () => {
    const store = await open(dir);
    seedRun(store, 2);
    seedRun(store, 1, 'r2');
    store.hits.bind({ hitId: 'R1HIT0', unitId: 'r1-u0', assignmentId: 'A1' });
    await store.close();
    const r2Units = join(env, 'runs', 'r2', 'units-000.json');
    const good = readFileSync(r2Units, 'utf8');
    const units = JSON.parse(good);
    units.records['r1-u1'] = { ...units.records['r2-u0'], id: 'r1-u1', runId: 'r2' };
    writeFileSync(r2Units, JSON.stringify(units));
    const dup = await rejection(open(dir));
    assert.ok(isHitstateError(dup, 'HST_ERR_STORE_CORRUPT'), String(dup));
    assert.match((dup as Error).message, /r1-u1 exists in run/);
    writeFileSync(r2Units, good);

    const r1Hits = join(env, 'runs', 'r1', 'hits-000.json');
    const hits = JSON.parse(readFileSync(r1Hits, 'utf8'));
    hits.records.R1HIT1.unitId = 'r1-u0';
    writeFileSync(r1Hits, JSON.stringify(hits));
    const twice = await rejection(open(dir));
    assert.ok(isHitstateError(twice, 'HST_ERR_STORE_CORRUPT'), String(twice));
    assert.match((twice as Error).message, /binds unit "r1-u0", which HIT "R1HIT0" binds already/);
    assert.match((twice as Error).message, r1Hits);
  },
);

Corruption('when the store is open then restoreBackup refuses, since it takes the same lock', async () => {
  const store = await open(dir);
  seedRun(store, 1);
  await store.flush();
  const err = await rejection(restoreBackup({ dir, environment: SANDBOX, file: 'runs/r1/units-000.json' }));
  assert.ok(isHitstateError(err, 'HST_ERR_STORE_LOCKED'), String(err));
  await store.close();
});

Corruption.run();
