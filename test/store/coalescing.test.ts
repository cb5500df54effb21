import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { VirtualClock } from '../../src/clock.js';
import { isHitstateError, type HitstateError } from '../../src/errors.js';
import { nodeFileSystem, openStore, type Store, type StoreFileSystem } from '../../src/store/index.js';
import { SANDBOX, journalEntries, lastCommitted, rejection, removeDir, seedRun, tempDir } from './helpers.js';

const Coalescing = suite('store write scheduler');
let dir = '';
let clock: VirtualClock;
let store: Store | undefined;
Coalescing.before.each(() => {
  dir = tempDir();
  clock = new VirtualClock();
});
Coalescing.after.each(async () => {
  await store?.close().catch(() => undefined);
  store = undefined;
  removeDir(dir);
});

/** Commits that changed a unit of run r1 (each is one entry of its journal). */
const unitsWrites = (_s: Store) =>
  journalEntries(dir, 'r1').filter((e) => e.changes.some(([c]) => c === 'units')).length;

Coalescing(
  'when 1000 updates land in one burst then nothing is written before the window and one write after it',
  async () => {
    store = await openStore({ dir, environment: SANDBOX, clock, coalesceMs: 50, maxDelayMs: 1000 });
    seedRun(store, 10);
    await store.flush();
    const writesBefore = store.stats().writes;
    for (let i = 0; i < 1000; i++)
      store.units.setStatus(`r1-u${i % 10}`, Math.floor(i / 10) % 2 === 0 ? 'launched' : 'assigned');
    await clock.advance(49);
    await store.whenIdle();
    assert.is(store.stats().writes, writesBefore, 'written before the quiet window ended');
    assert.ok(store.stats().pending);
    await clock.advance(1);
    await store.whenIdle();
    assert.is(store.stats().writes, writesBefore + 1);
    assert.is(unitsWrites(store), 2);
    assert.not.ok(store.stats().pending);
  },
);

Coalescing(
  'when updates keep coming every 10 ms then writes happen at the maxDelayMs bound, not once per update',
  async () => {
    store = await openStore({ dir, environment: SANDBOX, clock, coalesceMs: 50, maxDelayMs: 1000 });
    seedRun(store, 10);
    await store.flush();
    const first = store.stats().writes;
    for (let i = 0; i < 300; i++) {
      store.units.setStatus(`r1-u${i % 10}`, Math.floor(i / 10) % 2 === 0 ? 'launched' : 'assigned');
      await clock.advance(10);
      await store.whenIdle();
    }
    // 300 updates over 3 s (the last at 2.99 s): written at 1 s, 2 s and 3 s, the bound each time.
    assert.is(store.stats().writes - first, 3);
    assert.not.ok(store.stats().pending);
    store.units.setStatus('r1-u0', 'expired');
    await clock.advance(50);
    await store.whenIdle();
    assert.is(store.stats().writes - first, 4);
  },
);

Coalescing('when flush() is called then it writes now, once, and resolves with the data on disk', async () => {
  store = await openStore({ dir, environment: SANDBOX, clock });
  seedRun(store, 3);
  let written = 0;
  store.on('written', () => written++);
  const a = store.flush();
  const b = store.flush();
  await Promise.all([a, b]);
  assert.is(written, 1);
  await store.flush();
  assert.is(written, 1, 'a flush with nothing changed must not write');
  assert.is(clock.pendingTimers, 0);
});

Coalescing('when only a unit changes then the commit carries only that unit, in its run journal', async () => {
  store = await openStore({ dir, environment: SANDBOX, clock });
  seedRun(store, 3);
  await store.flush();
  store.units.setStatus('r1-u0', 'launched');
  await store.flush();
  assert.equal(lastCommitted(dir, 'r1'), ['units r1-u0']);
  assert.equal(journalEntries(dir, 'r1').at(-1)?.scopes, ['r1'], 'the store-wide journal is not touched');
});

Coalescing(
  'when a write fails then writeFailed is emitted, flush rejects, the data stays dirty and the next write stores it',
  async () => {
    let failNext = 0;
    const fs: StoreFileSystem = {
      ...nodeFileSystem,
      async appendDurable(path, text) {
        if (failNext > 0 && path.endsWith('journal.jsonl')) {
          failNext--;
          throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', path });
        }
        return nodeFileSystem.appendDurable(path, text);
      },
    };
    store = await openStore({ dir, environment: SANDBOX, clock, fileSystem: fs, coalesceMs: 50, maxDelayMs: 1000 });
    seedRun(store, 1);
    await store.flush();
    const failures: HitstateError[] = [];
    store.on('writeFailed', (err) => failures.push(err));

    store.units.setStatus('r1-u0', 'launched');
    failNext = 1;
    await clock.advance(50);
    await store.whenIdle();
    assert.is(failures.length, 1, 'a timer write failure must be reported');
    assert.is(failures[0]!.code, 'HST_ERR_STORE_WRITE_FAILED');
    assert.match(failures[0]!.message, /runs\/r1\/journal\.jsonl/);
    assert.ok(store.stats().pending);
    assert.is(store.stats().failedWrites, 1);

    failNext = 1;
    const err = await rejection(store.flush());
    assert.ok(isHitstateError(err, 'HST_ERR_STORE_WRITE_FAILED'));
    assert.is(failures.length, 2);

    // Without any new change or flush, the scheduler retries after maxDelayMs.
    await clock.advance(1000);
    await store.whenIdle();
    assert.not.ok(store.stats().pending);
    await store.close();
    store = await openStore({ dir, environment: SANDBOX, clock });
    assert.is(store.units.require('r1-u0').status, 'launched');
  },
);

Coalescing('when close() is called then pending changes are written and the timer is gone', async () => {
  store = await openStore({ dir, environment: SANDBOX, clock });
  seedRun(store, 2);
  store.units.setStatus('r1-u1', 'expired');
  await store.close();
  assert.is(clock.pendingTimers, 0);
  store = await openStore({ dir, environment: SANDBOX, clock });
  assert.is(store.units.require('r1-u1').status, 'expired');
});

Coalescing.run();
