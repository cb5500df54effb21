// The journal and checkpoints of the lowdb store: torn and incomplete commits are never applied,
// a failed commit counts for nothing, checkpoints fold the journal into the files and can be
// repeated after a crash at any step, a v1 store opens from its real bytes, leases and requests.
import { appendFileSync, cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { isHitstateError } from '../../src/errors.js';
import { nodeFileSystem, type Store, type StoreFileSystem } from '../../src/store/index.js';
import { LowdbBackend } from '../../src/store/lowdb/backend.js';
import { encodeEntry } from '../../src/store/lowdb/journal.js';
import { collect, journalEntries, open, rejection, removeDir, SANDBOX, seedRun, tempDir } from './helpers.js';

const Journal = suite('store journal and checkpoints');
let dir = '';
let stores: Store[] = [];
Journal.before.each(() => {
  dir = tempDir();
  stores = [];
});
Journal.after.each(async () => {
  for (const s of stores) await s.close().catch(() => undefined);
  removeDir(dir);
});
const track = async (p: Promise<Store>): Promise<Store> => {
  const store = await p;
  stores.push(store);
  return store;
};
const env = () => join(dir, 'sandbox');
const snapshot = (value: string) => ({ machine: 'unit', machineVersion: 1, snapshot: { value } });

Journal('when a commit is made then it is one self-checking line per scope, and reopening replays it', async () => {
  const store = await track(open(dir));
  seedRun(store, 2);
  await store.flush();
  store.workers.ensure('AW1');
  store.units.setStatus('r1-u0', 'launched');
  store.snapshots.put('unit:r1-u0', snapshot('launched'));
  await store.flush();
  const run = journalEntries(dir, 'r1').at(-1)!;
  const wide = journalEntries(dir).at(-1)!;
  assert.is(run.commit, wide.commit, 'both parts name one commit');
  assert.equal(run.scopes, ['', 'r1']);
  assert.equal(run.changes.map(([c, k]) => `${c} ${k}`).sort(), ['snapshots unit:r1-u0', 'units r1-u0']);
  assert.equal(
    wide.changes.map(([c, k]) => `${c} ${k}`),
    ['workers AW1'],
  );
  // Simulate a crash: no close, so no checkpoint; the lock is released by hand.
  stores = [];
  await (store as unknown as { close(): Promise<void> }).close();
  const again = await track(open(dir));
  assert.is(again.units.require('r1-u0').status, 'launched');
  assert.ok(again.workers.get('AW1'));
});

Journal(
  'when the last entry is torn by a crash then it is ignored, reported, and the next commit is kept',
  async () => {
    let store = await track(open(dir));
    seedRun(store, 1);
    await store.flush();
    await store.close();
    stores = [];
    const journal = join(env(), 'runs', 'r1', 'journal.jsonl');
    const line = encodeEntry({
      seq: 1,
      commit: 'dead.1.x:1',
      scopes: ['r1'],
      changes: [['units', 'r1-u0', '{"torn":']],
      audit: [],
    });
    appendFileSync(journal, line.slice(0, Math.floor(line.length / 2)));
    store = await track(open(dir));
    assert.ok(
      store.openReport.journalNotes.some((n) => /ignored \d+ bytes/.test(n)),
      String(store.openReport.journalNotes),
    );
    assert.is(store.units.require('r1-u0').status, 'created');
    store.units.setStatus('r1-u0', 'launched');
    await store.flush();
    stores = [];
    await store.close();
    store = await track(open(dir));
    assert.is(store.units.require('r1-u0').status, 'launched', 'the commit after the torn tail was not swallowed');
  },
);

Journal('when a commit reached one scope but not another then no part of it is applied', async () => {
  let store = await track(open(dir));
  seedRun(store, 1);
  await store.close();
  stores = [];
  // A crash between the two appends of one commit: the run's part is there, the store's is not.
  appendFileSync(
    join(env(), 'runs', 'r1', 'journal.jsonl'),
    encodeEntry({
      seq: 1,
      commit: 'gone.7.ab:3',
      scopes: ['', 'r1'],
      changes: [['agents', 'r1-a0', '{"broken":true}']],
      audit: ['{"operation":"half"}'],
    }),
  );
  store = await track(open(dir));
  assert.is(store.agents.get('r1-a0'), undefined);
  assert.ok(store.openReport.journalNotes.some((n) => /never reached the disk/.test(n)));
  assert.equal(
    (await collect(store.audit.entries({ runId: 'r1' }))).map((e) => e.operation),
    [],
    'nor its audit lines',
  );
});

Journal('when a commit fails half-way then nothing of it counts, and the next commit cancels its part', async () => {
  let failRun = false;
  const fs: StoreFileSystem = {
    ...nodeFileSystem,
    async appendDurable(path, text) {
      if (failRun && path.endsWith(join('r1', 'journal.jsonl')))
        throw Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO', path });
      return nodeFileSystem.appendDurable(path, text);
    },
  };
  let store = await track(open(dir, { fileSystem: fs }));
  store.on('writeFailed', () => undefined);
  seedRun(store, 1);
  await store.flush();
  failRun = true;
  store.workers.ensure('AW2');
  store.units.setStatus('r1-u0', 'launched');
  const err = await rejection(store.flush());
  assert.ok(isHitstateError(err, 'HST_ERR_STORE_WRITE_FAILED'), String(err));
  failRun = false;
  // The void follows at once (while the commit lock is held), so the part is the last real entry.
  const half = journalEntries(dir)
    .filter((e) => e.void !== true)
    .at(-1)!;
  assert.equal(
    half.changes.map(([c, k]) => `${c} ${k}`),
    ['workers AW2'],
    'the store part reached its journal',
  );
  await store.flush();
  assert.ok(
    journalEntries(dir).some((e) => e.void === true && e.commit === half.commit),
    'and was cancelled',
  );
  stores = [];
  await store.close();
  store = await track(open(dir));
  assert.is(store.units.require('r1-u0').status, 'launched');
  assert.ok(store.workers.get('AW2'));
});

Journal('when a journal passes its size then it is folded into the lowdb files and dropped', async () => {
  const store = await track(open(dir, { checkpointBytes: 4096 }));
  seedRun(store, 20);
  for (let i = 0; i < 20; i++) {
    store.snapshots.put(`unit:r1-u${i}`, snapshot(`v${i}`.repeat(40)));
    await store.flush();
  }
  await (store as unknown as { whenIdle(): Promise<void> }).whenIdle();
  // Give the background checkpoint its turns.
  for (let i = 0; i < 50 && store.stats().checkpoints === 0; i++) await new Promise((r) => setImmediate(r));
  await store.close();
  stores = [];
  assert.ok(store.stats().checkpoints > 0);
  const runDir = join(env(), 'runs', 'r1');
  const journal = join(runDir, 'journal.jsonl');
  assert.ok(!existsSync(journal) || readFileSync(journal).length === 0, 'the journal is folded');
  assert.equal(
    readdirSync(runDir).filter((n) => /^journal\.\d+\.jsonl$/.test(n)),
    [],
  );
  const shard = JSON.parse(readFileSync(join(runDir, 'snapshots-000.json'), 'utf8'));
  assert.is(shard.records['unit:r1-u19'].snapshot.value, 'v19'.repeat(40));
  const again = await track(open(dir));
  assert.is(again.snapshots.ofRun('r1').length, 20);
});

Journal('when a run has a share then its journal waits for that share of its files before a fold', async () => {
  // A first store folds at 4 KiB: the run's files then hold the 20 snapshots.
  const first = await track(open(dir, { checkpointBytes: 4096 }));
  seedRun(first, 20);
  for (let i = 0; i < 20; i++) {
    first.snapshots.put(`unit:r1-u${i}`, snapshot(`v${i}`.repeat(40)));
    await first.flush();
  }
  await first.close();
  stores = [];
  const runDir = join(env(), 'runs', 'r1');
  const files = readdirSync(runDir)
    .filter((n) => /^(units|agents|hits|snapshots|submissions|outbox)-\d+\.json$/.test(n))
    .reduce((sum, n) => sum + readFileSync(join(runDir, n)).length, 0);
  assert.ok(files > 8192, `the run's files hold ${files} bytes`);
  // With a share of 1 the journal must pass the files' size too: past 4 KiB, no fold yet.
  const store = await track(open(dir, { checkpointBytes: 4096, checkpointShare: 1 }));
  const turns = async () => {
    await (store as unknown as { whenIdle(): Promise<void> }).whenIdle();
    for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
  };
  const journal = join(runDir, 'journal.jsonl');
  const size = () => (existsSync(journal) ? readFileSync(journal).length : 0);
  let k = 0;
  while (size() < 4096 + 1024) {
    store.snapshots.put(`unit:r1-u${k % 20}`, snapshot(`w${k}`.repeat(40)));
    await store.flush();
    k++;
  }
  await turns();
  assert.is(store.stats().checkpoints, 0, `no fold with a ${size()}-byte journal and ${files} bytes of files`);
  while (size() <= files) {
    store.snapshots.put(`unit:r1-u${k % 20}`, snapshot(`w${k}`.repeat(40)));
    await store.flush();
    k++;
  }
  store.snapshots.put('unit:r1-u0', snapshot('last'));
  await store.flush();
  for (let i = 0; i < 200 && store.stats().checkpoints === 0; i++) await turns();
  assert.ok(store.stats().checkpoints > 0, 'folded once the journal passed the files');
  await store.close();
  stores = [];
  const again = await track(open(dir));
  assert.equal(again.snapshots.get('unit:r1-u0')?.snapshot, { value: 'last' });
});

Journal('when the share is not a number from 0 to 1 then opening is refused naming the option', async () => {
  const err = await rejection(open(dir, { checkpointShare: 2 }));
  assert.ok(isHitstateError(err, 'HST_ERR_CONFIG_INVALID'), String(err));
  assert.match(String((err as Error).message), /checkpointShare must be a number from 0 to 1, got 2/);
});

Journal(
  'when a checkpoint is cut short at any step then folding again gives the same files and no audit line twice',
  async () => {
    let store = await track(open(dir));
    seedRun(store, 3);
    store.audit.append({ operation: 'CreateHIT', outcome: 'ok', runId: 'r1' });
    await store.flush();
    // A copy taken now is the store as a crashed process leaves it: the journal not folded yet.
    const backup = tempDir();
    cpSync(env(), join(backup, 'env'), { recursive: true });
    removeDir(join(backup, 'env', 'store.json.lock'));
    await store.close();
    stores = [];
    removeDir(env());
    cpSync(join(backup, 'env'), env(), { recursive: true });
    // Fold once, fully, as a reference.
    const reference = new LowdbBackend({ root: env(), environment: SANDBOX, fs: nodeFileSystem });
    await reference.checkpoint('r1');
    const folded = readFileSync(join(env(), 'runs', 'r1', 'units-000.json'), 'utf8');
    const audit = readFileSync(join(env(), 'runs', 'r1', 'audit.jsonl'), 'utf8');
    // Now, from the copy: stop the fold after each file operation, then fold again.
    for (let stopAt = 1; stopAt < 12; stopAt++) {
      removeDir(env());
      cpSync(join(backup, 'env'), env(), { recursive: true });
      let ops = 0;
      const crash: StoreFileSystem = {
        ...nodeFileSystem,
        async writeFileDurable(p, t) {
          if (++ops === stopAt) throw new Error('killed');
          return nodeFileSystem.writeFileDurable(p, t);
        },
        async rename(a, b) {
          if (++ops === stopAt) throw new Error('killed');
          return nodeFileSystem.rename(a, b);
        },
        async appendDurable(p, t) {
          if (++ops === stopAt) throw new Error('killed');
          return nodeFileSystem.appendDurable(p, t);
        },
        async removeFile(p) {
          if (++ops === stopAt) throw new Error('killed');
          return nodeFileSystem.removeFile(p);
        },
      };
      await new LowdbBackend({ root: env(), environment: SANDBOX, fs: crash }).checkpoint('r1').catch(() => undefined);
      store = await track(open(dir));
      assert.is(store.units.ofRun('r1').length, 3, `stopped at ${stopAt}`);
      assert.equal(
        (await collect(store.audit.entries({ runId: 'r1' }))).map((e) => e.operation),
        ['CreateHIT'],
        `stopped at ${stopAt}`,
      );
      await store.close();
      stores = [];
      await new LowdbBackend({ root: env(), environment: SANDBOX, fs: nodeFileSystem }).checkpoint('r1');
      assert.is(readFileSync(join(env(), 'runs', 'r1', 'units-000.json'), 'utf8'), folded, `stopped at ${stopAt}`);
      assert.is(readFileSync(join(env(), 'runs', 'r1', 'audit.jsonl'), 'utf8'), audit, `stopped at ${stopAt}`);
    }
    removeDir(backup);
  },
);

Journal(
  'when a store written by the sharded release is opened then it reads every record and switches to the journal',
  async () => {
    const fixture = fileURLToPath(new URL('./fixtures/v1-sharded', import.meta.url));
    cpSync(fixture, dir, { recursive: true });
    let store = await track(open(dir));
    assert.equal(
      store.runs
        .list()
        .map((r) => r.id)
        .sort(),
      ['pilot-1', 'pilot-2'],
    );
    assert.is(store.units.ofRun('pilot-1').length, 4);
    assert.is(store.agents.ofRun('pilot-2').length, 2);
    assert.equal(store.agents.submission('pilot-1-u0-a0'), { label: 'cat', note: 'a "quoted" ]]> text' });
    assert.is(store.outbox.unconfirmedIntents('pilot-1').length, 1);
    assert.ok(store.workers.isBlocked('AWORKER17', 'lab'));
    assert.is(
      (store.snapshots.get('unit:pilot-1-u1')!.snapshot as { context: { emoji: string } }).context.emoji,
      'ok ✓',
    );
    assert.is((await collect(store.audit.entries({ runId: 'pilot-2' }))).length, 4);
    assert.is((await collect(store.audit.entries({}))).length, 1);
    assert.ok(store.qualifications.get('lab', 'onboarded'));
    assert.not.ok(existsSync(join(env(), 'commit.json')), 'commit.json is retired');
    store.units.setStatus('pilot-2-u3', 'expired');
    await store.close();
    stores = [];
    store = await track(open(dir));
    assert.is(store.units.require('pilot-2-u3').status, 'expired');
    assert.is(store.storeId !== null, true);
  },
);

Journal('when two backends take one run then one holds it, and a dead holder is taken over', async () => {
  const a = new LowdbBackend({ root: env(), environment: SANDBOX, fs: nodeFileSystem });
  const b = new LowdbBackend({ root: env(), environment: SANDBOX, fs: nodeFileSystem });
  const first = await a.acquireRun('r1', 60_000);
  assert.ok(first.ok);
  const second = await b.acquireRun('r1', 60_000);
  assert.not.ok(second.ok);
  if (!second.ok) assert.is(second.heldBy.owner, a.writer);
  assert.is((await b.runHolder('r1'))?.owner, a.writer);
  // A holder that died: its lease names a pid that does not exist on this host.
  const path = join(env(), 'runs', 'r1', 'lease.json');
  const dead = { ...JSON.parse(readFileSync(path, 'utf8')), owner: 'dead', pid: 2 ** 22 + 12345 };
  writeFileSync(path, JSON.stringify(dead));
  const third = await b.acquireRun('r1', 60_000);
  assert.ok(third.ok);
  if (third.ok) {
    assert.is(third.tookOverFrom?.owner, 'dead');
    assert.ok(await third.lease.renew());
    await third.lease.release();
  }
  assert.is(await a.runHolder('r1'), null);
});

Journal(
  'when a request is posted then the owner sees it pending, settles it once, and the poster reads the answer',
  async () => {
    const owner = new LowdbBackend({ root: env(), environment: SANDBOX, fs: nodeFileSystem, now: () => 1000 });
    const poster = new LowdbBackend({ root: env(), environment: SANDBOX, fs: nodeFileSystem, now: () => 1000 });
    await poster.postRequest({ id: 'rv-1', runId: 'r1', kind: 'review', body: '{"approve":["a1"]}', postedAt: 5 });
    await poster.postRequest({ id: 'rv-1', runId: 'r1', kind: 'review', body: '{"approve":["a1"]}', postedAt: 5 });
    assert.equal(
      (await owner.pendingRequests('r1')).map((r) => r.id),
      ['rv-1'],
    );
    await owner.settleRequest('r1', 'rv-1', '{"approved":1}');
    await owner.settleRequest('r1', 'rv-1', '{"approved":2}');
    assert.equal(await owner.pendingRequests('r1'), []);
    assert.is((await poster.request('r1', 'rv-1'))?.result, '{"approved":1}', 'settling twice keeps the first answer');
    assert.is(await poster.request('r1', 'nope'), null);
  },
);

Journal.run();
