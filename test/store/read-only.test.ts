import { cpSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { isHitstateError } from '../../src/errors.js';
import { nodeFileSystem, type Store, type StoreFileSystem } from '../../src/store/index.js';
import { collect, dumpStore, open, rejection, removeDir, root, seedRun, tempDir, filesUnder } from './helpers.js';

const ReadOnly = suite('store opened read-only');
let dir = '';
let stores: Store[] = [];
ReadOnly.before.each(() => {
  dir = tempDir();
  stores = [];
});
ReadOnly.after.each(async () => {
  for (const s of stores) await s.close().catch(() => undefined);
  removeDir(dir);
});

const track = async (p: Promise<Store>): Promise<Store> => {
  const store = await p;
  stores.push(store);
  return store;
};

/** A store with one run, an agent that submitted, a money intent and audit lines; left closed. */
async function filled(): Promise<void> {
  const store = await open(dir);
  seedRun(store, 2);
  store.hits.bind({ hitId: 'R1HIT0', unitId: 'r1-u0', assignmentId: 'ASG0' });
  store.agents.create({ agentId: 'ag0', unitId: 'r1-u0', workerId: 'WORKER0', assignmentId: 'ASG0', hitId: 'R1HIT0' });
  store.agents.recordSubmission('ag0', { answer: 42 });
  store.snapshots.put('unit:r1-u0', { machine: 'unit', machineVersion: 1, snapshot: { value: 'assigned' } });
  store.qualifications.put({
    requesterName: 'lab',
    name: 'onboarded',
    qualificationTypeId: '3QUALTYPE0000000000000000000001',
  });
  store.workers.block('WORKER0', 'lab', 'copied answers');
  await store.outbox.recordIntent({
    kind: 'approve',
    runId: 'r1',
    agentId: 'ag0',
    token: 'hs1-r1-ag0-approve',
    args: { AssignmentId: 'ASG0' },
  });
  store.audit.append({ operation: 'CreateHITType', outcome: 'ok', runId: 'r1' });
  await store.close();
}

/** The methods of each collection that change data; every other method must read only. */
const CHANGES: Record<string, (s: Store) => unknown> = {
  'requesters.put': (s) => s.requesters.put({ name: 'other', credentialSource: { kind: 'defaultChain' } }),
  'runs.create': (s) => s.runs.create({ runId: 'r9', requesterName: 'lab', config: {} }),
  'runs.setStatus': (s) => s.runs.setStatus('r1', 'running'),
  'runs.setConfig': (s) => s.runs.setConfig('r1', { budget: '1.00' }),
  'runs.setHitType': (s) => s.runs.setHitType('r1', '3PN7FLVWM454R7NYSKRT54250KKSYM'),
  'units.create': (s) => s.units.create({ unitId: 'r1-u9', runId: 'r1', index: 9, payAmountUsd: '0.50' }),
  'units.setStatus': (s) => s.units.setStatus('r1-u0', 'assigned'),
  'units.assignAgent': (s) => s.units.assignAgent('r1-u0', 'ag0', 'WORKER0'),
  'units.clearAgent': (s) => s.units.clearAgent('r1-u0'),
  'hits.add': (s) =>
    s.hits.add({ hitId: 'NEWHIT', runId: 'r1', link: 'https://example.org', assignmentDurationSec: 60, expiresAt: 1 }),
  'hits.bind': (s) => s.hits.bind({ hitId: 'R1HIT1', unitId: 'r1-u1', assignmentId: 'ASG1' }),
  'hits.unbindUnit': (s) => s.hits.unbindUnit('r1-u0'),
  'hits.observe': (s) => s.hits.observe('R1HIT0', 'Reviewable'),
  'agents.create': (s) =>
    s.agents.create({ agentId: 'ag1', unitId: 'r1-u1', workerId: 'WORKER1', assignmentId: 'ASG1', hitId: 'R1HIT1' }),
  'agents.setStatus': (s) => s.agents.setStatus('ag0', 'completed'),
  'agents.recordSubmission': (s) => s.agents.recordSubmission('ag0', { again: true }),
  'agents.setReview': (s) => s.agents.setReview('ag0', { decision: 'approved' }),
  'workers.ensure': (s) => s.workers.ensure('WORKER0'),
  'workers.block': (s) => s.workers.block('WORKER0', 'lab', 'again'),
  'workers.unblock': (s) => s.workers.unblock('WORKER0', 'lab'),
  'qualifications.put': (s) =>
    s.qualifications.put({
      requesterName: 'lab',
      name: 'other',
      qualificationTypeId: '3QUALTYPE0000000000000000000002',
    }),
  'qualifications.delete': (s) => s.qualifications.delete('lab', 'onboarded'),
  'outbox.recordIntent': (s) =>
    s.outbox.recordIntent({ kind: 'reject', runId: 'r1', agentId: 'ag0', token: 'hs1-r1-ag0-reject', args: {} }),
  'outbox.markSent': (s) => s.outbox.markSent('hs1-r1-ag0-approve'),
  'outbox.markConfirmed': (s) => s.outbox.markConfirmed('hs1-r1-ag0-approve'),
  'outbox.markFailed': (s) => s.outbox.markFailed('hs1-r1-ag0-approve', 'gone', false),
  'snapshots.put': (s) => s.snapshots.put('unit:r1-u1', { machine: 'unit', machineVersion: 1, snapshot: {} }),
  'snapshots.delete': (s) => s.snapshots.delete('unit:r1-u0'),
  'audit.append': (s) => s.audit.append({ operation: 'GetHIT', outcome: 'ok' }),
};
const READS = new Set([
  'requesters.get',
  'requesters.require',
  'requesters.list',
  'runs.get',
  'runs.require',
  'runs.list',
  'runs.unfinished',
  'units.get',
  'units.require',
  'units.ofRun',
  'units.statusCounts',
  'hits.get',
  'hits.require',
  'hits.ofRun',
  'hits.unboundOfRun',
  'hits.ofUnit',
  'agents.get',
  'agents.require',
  'agents.byAssignment',
  'agents.ofUnit',
  'agents.ofRun',
  'agents.submission',
  'workers.get',
  'workers.require',
  'workers.isBlocked',
  'workers.blockedBy',
  'workers.ofRun',
  'qualifications.get',
  'qualifications.ofRequester',
  'outbox.unconfirmedIntents',
  'outbox.intentByToken',
  'outbox.ofRun',
  'snapshots.get',
  'snapshots.indexEntry',
  'snapshots.ofRun',
  'snapshots.partsOf',
  'audit.entries',
]);

ReadOnly(
  'when a store is opened read-only then every method that changes data throws HST_ERR_STORE_READ_ONLY and nothing changes, in memory or on disk',
  async () => {
    await filled();
    const before = filesUnder(dir);
    const look = await track(open(dir, { readOnly: true }));
    assert.ok(look.readOnly);
    const state = await dumpStore(look);
    const methods = (
      [
        'requesters',
        'runs',
        'units',
        'hits',
        'agents',
        'workers',
        'qualifications',
        'outbox',
        'snapshots',
        'audit',
      ] as const
    ).flatMap((c) => Object.keys(look[c]).map((m) => `${c}.${m}`));
    assert.equal(
      methods.filter((m) => !READS.has(m) && !(m in CHANGES)),
      [],
      'every method is listed as a read or a change',
    );
    for (const [name, change] of Object.entries(CHANGES)) {
      let err: unknown = null;
      try {
        await change(look);
      } catch (e) {
        err = e;
      }
      assert.ok(isHitstateError(err, 'HST_ERR_STORE_READ_ONLY'), `${name}: ${String(err)}`);
      assert.match((err as Error).message, /opened read-only/);
    }
    await look.flush();
    assert.equal(await dumpStore(look), state, 'memory is unchanged');
    assert.equal(look.stats().writes, 0);
    await look.close();
    assert.equal(filesUnder(dir), before, 'no file was created, changed, rotated or removed');
    assert.ok(isHitstateError(await rejection(look.flush()), 'HST_ERR_STORE_CLOSED'));
  },
);

ReadOnly(
  'when another store holds the lock then a read-only open reads its last committed state and names its holder, and a writer can open while readers are open',
  async () => {
    await filled();
    const look = await track(open(dir, { readOnly: true }));
    const writer = await track(open(dir));
    assert.is(look.openReport.heldBy, null, 'nobody held the store when the first look was taken');
    writer.units.setStatus('r1-u1', 'launched');
    const early = await track(open(dir, { readOnly: true }));
    assert.is(early.units.require('r1-u1').status, 'created', 'a change not yet written is not committed');
    assert.is(early.openReport.heldBy?.pid, process.pid);
    await writer.flush();
    const later = await track(open(dir, { readOnly: true }));
    assert.is(later.units.require('r1-u1').status, 'launched');
    assert.equal(later.units.statusCounts('r1'), { created: 2 - 1, launched: 1 });
    assert.is(early.units.require('r1-u1').status, 'created', 'an open look keeps the state it was opened with');
    assert.is(look.units.require('r1-u1').status, 'created');
  },
);

ReadOnly(
  'when the writer folds its journal while the look is being taken then the look is taken again and shows one state, not a mix',
  async () => {
    await filled();
    const writer = await track(open(dir));
    writer.units.setStatus('r1-u1', 'launched');
    writer.snapshots.put('unit:r1-u1', { machine: 'unit', machineVersion: 1, snapshot: { value: 'launched' } });
    await writer.flush();
    let reads = 0;
    let folded = false;
    const fs: StoreFileSystem = {
      ...nodeFileSystem,
      async readFile(path) {
        // Half-way through the first look: the writer folds the journal into the files and commits again.
        if (++reads === 6 && !folded) {
          folded = true;
          writer.units.setStatus('r1-u0', 'expired');
          await writer.close();
        }
        return nodeFileSystem.readFile(path);
      },
    };
    const look = await track(open(dir, { readOnly: true, fileSystem: fs }));
    assert.ok(folded, 'the writer folded during the look');
    assert.is(look.units.require('r1-u1').status, 'launched');
    assert.is(look.units.require('r1-u0').status, 'expired', 'the look was taken again after the fold');
    assert.equal(look.snapshots.get('unit:r1-u1')?.snapshot, { value: 'launched' });
  },
);

ReadOnly(
  'when a commit is only in the journal, not yet in the files, then the read-only store shows it and its audit lines',
  async () => {
    await filled();
    const writer = await track(open(dir));
    writer.units.setStatus('r1-u1', 'expired');
    writer.audit.append({ operation: 'ExpireHIT', outcome: 'ok', runId: 'r1' });
    await writer.flush();
    const units = join(dir, 'sandbox', 'runs', 'r1', 'units-000.json');
    assert.match(
      readFileSync(units, 'utf8'),
      /"r1-u1","runId":"r1","index":1,"status":"created"/,
      'the file itself still holds the old state',
    );
    const look = await track(open(dir, { readOnly: true }));
    assert.is(look.units.require('r1-u1').status, 'expired');
    assert.equal(
      (await collect(look.audit.entries({ runId: 'r1' }))).map((e) => e.operation),
      ['CreateHITType', 'ExpireHIT'],
      'the committed audit line, read from the journal',
    );
  },
);

ReadOnly('when the environment has no directory then a read-only open refuses and creates nothing', async () => {
  const err = await rejection(open(dir, { readOnly: true }));
  assert.ok(isHitstateError(err, 'HST_ERR_STORE_NOT_FOUND'), String(err));
  assert.not.ok(existsSync(join(dir, 'sandbox')));
});

ReadOnly(
  'when the store is at schema 0 then a read-only open migrates it in memory and leaves its files as they are',
  async () => {
    cpSync(join(root, 'test', 'fixtures', 'store', 'v0'), dir, { recursive: true });
    const before = filesUnder(dir);
    const look = await track(open(dir, { readOnly: true }));
    assert.is(look.openReport.migratedFrom, 0);
    assert.is(look.openReport.migrationBackup, null);
    assert.equal(look.units.statusCounts('pilot-1'), { completed: 1, launched: 1, created: 1 });
    assert.equal(look.agents.submission('ag-1'), { labels: ['cat', 'dog', 'cat'], comment: 'fun task' });
    await look.close();
    assert.equal(filesUnder(dir), before);
  },
);

ReadOnly.run();
