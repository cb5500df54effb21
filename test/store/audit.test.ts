import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { VirtualClock } from '../../src/clock.js';
import { isHitstateError } from '../../src/errors.js';
import { openStore, type Store } from '../../src/store/index.js';
import { collect, journalEntries, open, removeDir, SANDBOX, seedRun, tempDir } from './helpers.js';

const Audit = suite('store audit trail');
let dir = '';
let store: Store | undefined;
Audit.before.each(() => {
  dir = tempDir();
});
Audit.after.each(async () => {
  await store?.close().catch(() => undefined);
  store = undefined;
  removeDir(dir);
});

Audit(
  'when calls are appended then they reach the disk with the coalesced write, one JSON line each, in order',
  async () => {
    const clock = new VirtualClock();
    store = await openStore({ dir, environment: SANDBOX, clock, coalesceMs: 50 });
    seedRun(store, 1);
    for (let i = 0; i < 100; i++)
      store.audit.append({
        operation: 'GetHIT',
        outcome: i % 10 === 0 ? 'throttled' : 'ok',
        runId: 'r1',
        attempts: 1,
        durationMs: 12.6,
        details: { hitId: `H${i}` },
      });
    await clock.advance(50);
    await store.whenIdle();
    // One commit carries them in the run's journal; a checkpoint (here: close) appends them to audit.jsonl.
    const committed = journalEntries(dir, 'r1').flatMap((e) => e.audit);
    assert.is(committed.length, 100);
    const lines = committed;
    assert.equal(JSON.parse(lines[3]!), {
      at: clock.now() - 50,
      operation: 'GetHIT',
      outcome: 'ok',
      runId: 'r1',
      requesterName: null,
      requestId: null,
      token: null,
      attempts: 1,
      durationMs: 13,
      details: { hitId: 'H3' },
    });
    assert.is(store.stats().files['runs/r1/audit.jsonl']!.writes, 1);
    assert.is(journalEntries(dir, 'r1').filter((e) => e.audit.length > 0).length, 1, 'one commit');
    const read = await collect(store.audit.entries({ runId: 'r1' }));
    assert.equal(
      read.map((e) => e.details?.hitId),
      Array.from({ length: 100 }, (_, i) => `H${i}`),
    );
    await store.close();
    const path = join(dir, 'sandbox', 'runs', 'r1', 'audit.jsonl');
    assert.equal(readFileSync(path, 'utf8').trimEnd().split('\n'), lines);
    store = await open(dir);
    assert.is((await collect(store.audit.entries({ runId: 'r1' }))).length, 100, 'read once, not twice');
  },
);

Audit('when entries are read then the ones not yet written are included (the read flushes first)', async () => {
  store = await openStore({ dir, environment: SANDBOX, clock: new VirtualClock() });
  store.audit.append({ operation: 'GetAccountBalance', outcome: 'ok' });
  assert.equal(
    (await collect(store.audit.entries())).map((e) => e.operation),
    ['GetAccountBalance'],
  );
  assert.equal(await collect(store.audit.entries()), await collect(store.audit.entries()));
});

Audit('when an entry names an unknown run then it is refused', async () => {
  store = await openStore({ dir, environment: SANDBOX, clock: new VirtualClock() });
  assert.throws(
    () => store!.audit.append({ operation: 'GetHIT', outcome: 'ok', runId: 'ghost' }),
    (e: unknown) => isHitstateError(e, 'HST_ERR_RUN_NOT_FOUND'),
  );
});

Audit.run();
