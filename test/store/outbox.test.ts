import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { VirtualClock } from '../../src/clock.js';
import { isHitstateError } from '../../src/errors.js';
import { openStore, type Store } from '../../src/store/index.js';
import {
  SANDBOX,
  filesUnder,
  journalEntries,
  lastCommitted,
  open,
  recordingFs,
  rejection,
  removeDir,
  seedRun,
  tempDir,
} from './helpers.js';

const Outbox = suite('store money outbox');
let dir = '';
let store: Store | undefined;
Outbox.before.each(() => {
  dir = tempDir();
});
Outbox.after.each(async () => {
  await store?.close().catch(() => undefined);
  store = undefined;
  removeDir(dir);
});

const approve = (token: string, agentId?: string) => ({
  kind: 'approve' as const,
  runId: 'r1',
  token,
  ...(agentId ? { agentId } : {}),
  args: { AssignmentId: 'ASG0', RequesterFeedback: 'ok' },
});

Outbox(
  'when an intent is recorded then it is on disk before the promise resolves, so before the MTurk call',
  async () => {
    const { fs, log } = recordingFs();
    store = await openStore({
      dir,
      environment: SANDBOX,
      clock: new VirtualClock(),
      fileSystem: fs,
      coalesceMs: 50,
      maxDelayMs: 1000,
    });
    seedRun(store, 1);
    await store.flush();
    log.ops.length = 0;
    store.units.setStatus('r1-u0', 'launched');
    const intent = await store.outbox.recordIntent({
      kind: 'createHIT',
      runId: 'r1',
      unitId: 'r1-u0',
      token: 'r1-u0-create',
      args: { HITTypeId: 'T', LifetimeInSeconds: 3600 },
    });
    log.ops.push('call CreateHITWithHITType');
    const entry = journalEntries(dir, 'r1').at(-1)!;
    const onDisk = JSON.parse(entry.changes.find(([c, k]) => c === 'outbox' && k === 'r1-u0-create')![2]!);
    assert.is(onDisk.state, 'pending');
    assert.equal(onDisk.args, { HITTypeId: 'T', LifetimeInSeconds: 3600 });
    assert.is(intent.state, 'pending');
    const append = log.ops.indexOf('append journal.jsonl');
    assert.ok(append >= 0 && append < log.ops.indexOf('call CreateHITWithHITType'), log.ops.join(', '));
    // Changes made before the intent travel with it, in the same journal entry: the unit's new status is durable too.
    assert.ok(entry.changes.some(([c, k]) => c === 'units' && k === 'r1-u0'));
  },
);

Outbox('when the intent cannot be written then recordIntent rejects and the call must not be made', async () => {
  const { fs } = recordingFs((op, path) => {
    if (op === 'append' && path.endsWith('journal.jsonl'))
      throw Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' });
  });
  store = await openStore({ dir, environment: SANDBOX, clock: new VirtualClock(), fileSystem: fs });
  store.on('writeFailed', () => undefined);
  seedRun(store, 1);
  const err = await rejection(store.outbox.recordIntent(approve('tok-fail')));
  assert.ok(isHitstateError(err, 'HST_ERR_STORE_WRITE_FAILED'), String(err));
  assert.is(store.outbox.intentByToken('tok-fail')?.state, 'pending');
});

Outbox('when many intents are recorded at once then they share a few writes (group commit)', async () => {
  store = await open(dir);
  seedRun(store, 1);
  await store.flush();
  const before = store.stats().writes;
  await Promise.all(Array.from({ length: 200 }, (_, i) => store!.outbox.recordIntent(approve(`tok-${i}`))));
  assert.ok(store.stats().writes - before <= 2, `wrote ${store.stats().writes - before} times`);
  assert.is(store.outbox.unconfirmedIntents('r1').length, 200);
});

Outbox('when an intent moves pending → sent → confirmed then each step is kept and confirmed is final', async () => {
  store = await open(dir);
  seedRun(store, 1);
  await store.outbox.recordIntent(approve('tok'));
  assert.is(store.outbox.markSent('tok').attempts, 1);
  assert.is(store.outbox.markSent('tok').attempts, 2, 'a replay re-sends with the same token');
  const done = store.outbox.markConfirmed('tok', { ok: true });
  assert.equal([done.state, done.result, done.failure], ['confirmed', { ok: true }, null]);
  assert.equal(store.outbox.unconfirmedIntents(), []);
  for (const move of [
    () => store!.outbox.markSent('tok'),
    () => store!.outbox.markFailed('tok', 'x', true),
    () => store!.outbox.markConfirmed('tok'),
  ]) {
    try {
      move();
      assert.unreachable('a confirmed intent moved');
    } catch (err) {
      assert.ok(isHitstateError(err, 'HST_ERR_STORE_INTENT_STATE'), String(err));
    }
  }
});

Outbox('when an intent fails then a retryable one is replayed and a final one is not', async () => {
  store = await open(dir);
  seedRun(store, 1);
  await store.outbox.recordIntent(approve('retry'));
  await store.outbox.recordIntent(approve('final'));
  await store.outbox.recordIntent(approve('never-sent'));
  store.outbox.markSent('retry');
  store.outbox.markFailed('retry', 'ServiceUnavailable', true);
  store.outbox.markSent('final');
  store.outbox.markFailed('final', 'AWS.MechanicalTurk.AssignmentNotSubmitted', false);
  store.outbox.markFailed('never-sent', 'run cancelled before launch', false);
  assert.equal(
    store.outbox.unconfirmedIntents('r1').map((i) => i.token),
    ['retry'],
  );
  assert.throws(
    () => store!.outbox.markConfirmed('retry'),
    (e: unknown) => isHitstateError(e, 'HST_ERR_STORE_INTENT_STATE'),
  );
  assert.throws(
    () => store!.outbox.markSent('final'),
    (e: unknown) => isHitstateError(e, 'HST_ERR_STORE_INTENT_STATE'),
  );
  const resent = store.outbox.markSent('retry');
  assert.equal([resent.state, resent.attempts, resent.failure], ['sent', 2, null]);
  await store.close();
  store = await open(dir);
  assert.equal(
    store.outbox.unconfirmedIntents().map((i) => [i.token, i.state]),
    [['retry', 'sent']],
  );
});

Outbox('when a token is recorded again then the same content is a replay and other content is refused', async () => {
  store = await open(dir);
  seedRun(store, 1);
  const first = await store.outbox.recordIntent(approve('tok'));
  const again = await store.outbox.recordIntent(approve('tok'));
  assert.is(again, first);
  const err = await rejection(store.outbox.recordIntent({ ...approve('tok'), args: { AssignmentId: 'OTHER' } }));
  assert.ok(isHitstateError(err, 'HST_ERR_STORE_DUPLICATE'), String(err));
  const bonus = await rejection(store.outbox.recordIntent({ kind: 'bonus', runId: 'r1', token: 'b', args: {} }));
  assert.ok(isHitstateError(bonus, 'HST_ERR_STORE_INVALID_RECORD'), 'a bonus without an amount must be refused');
  const long = await rejection(store.outbox.recordIntent(approve('x'.repeat(65))));
  assert.ok(isHitstateError(long, 'HST_ERR_STORE_INVALID_RECORD'), 'tokens longer than MTurk accepts must be refused');
});

Outbox('when more intents than a shard holds are recorded then later writes touch only the newest shard', async () => {
  store = await open(dir);
  seedRun(store, 1);
  await Promise.all(
    Array.from({ length: 1500 }, (_, i) => store!.outbox.recordIntent(approve(`t${String(i).padStart(4, '0')}`))),
  );
  await store.close();
  const runDir = join(dir, 'sandbox', 'runs', 'r1');
  const before = filesUnder(runDir);
  store = await open(dir);
  store.outbox.markSent('t1499');
  await store.flush();
  assert.equal(lastCommitted(dir, 'r1'), ['outbox t1499']);
  assert.is(store.outbox.ofRun('r1').length, 1500);
  await store.close();
  const after = filesUnder(runDir);
  assert.equal(
    Object.keys(after).filter((f) => /\d\.json$/.test(f) && after[f] !== before[f]),
    ['outbox-001.json'],
    'the checkpoint rewrote only the newest shard',
  );
  store = await open(dir);
  assert.is(store.outbox.unconfirmedIntents('r1').length, 1500);
  assert.is(store.outbox.intentByToken('t0000')?.state, 'pending');
});

Outbox(
  'when every intent of a shard is settled then opening leaves it unparsed, and a token finds it when first asked',
  async () => {
    store = await open(dir);
    seedRun(store, 1);
    seedRun(store, 1, 'r2');
    for (const [runId, token] of [
      ['r1', 'done-1'],
      ['r1', 'done-2'],
      ['r2', 'done-r2'],
    ] as const) {
      await store.outbox.recordIntent({ ...approve(token), runId });
      store.outbox.markSent(token);
      store.outbox.markConfirmed(token, { ok: true });
    }
    await store.close();
    store = await open(dir);
    assert.is(store.openReport.deferredShards, 2, "each run's settled outbox shard waits to be parsed");
    assert.equal(store.outbox.unconfirmedIntents(), [], 'a settled shard has no open intent to read');
    assert.is(store.outbox.intentByToken('done-r2')?.runId, 'r2', "a token is looked up in every run's outbox");
    assert.is(store.outbox.intentByToken('done-2')?.state, 'confirmed');
    assert.is(store.outbox.intentByToken('never'), undefined);
    await store.close();
    // A duplicate token is refused as before, though its intent was not parsed on open.
    store = await open(dir);
    const err = await rejection(store.outbox.recordIntent({ ...approve('done-r2'), runId: 'r1' }));
    assert.ok(isHitstateError(err, 'HST_ERR_STORE_DUPLICATE'), String(err));
    assert.is(store.outbox.ofRun('r1').length, 2);
    store.outbox.markFailed((await store.outbox.recordIntent(approve('open-1'))).token, 'throttled', true);
    await store.close();
    // A shard with an intent still to settle is read on open: the resume replays it.
    store = await open(dir);
    assert.is(store.openReport.deferredShards, 1, 'only the settled shard of r2 waits');
    assert.equal(
      store.outbox.unconfirmedIntents().map((i) => i.token),
      ['open-1'],
    );
  },
);

Outbox.run();
