// Several writers on one PostgreSQL environment (a real server, test/support/postgres.ts): two
// stores opened in one process on two pools, as two processes would. Their commits to the same
// store-wide records merge by the rule of src/store/shared-writes.ts; an unmergeable one is refused
// with HST_ERR_STORE_CONFLICT and nothing of it is written; two commits racing on one new key are
// settled the same way; a commit to a run another writer holds is refused with HST_ERR_RUN_OWNED.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { VirtualClock } from '../../src/clock.js';
import type { HitstateError } from '../../src/errors.js';
import { openStore, type Store } from '../../src/store/index.js';
import { freshSchemaUrl, type PostgresServer, withPostgresServer } from '../support/postgres.js';
import { hitstateRejection } from './helpers.js';

const SANDBOX = { kind: 'sandbox' } as const;

/** Rows of the environment's records table, store-wide scope unless a run is named. */
async function rows(server: PostgresServer, url: string, collection: string, run = '') {
  const schema = new URL(url).searchParams.get('schema')!;
  const found = await server.sql(
    `SELECT key, json FROM ${schema}.records WHERE env = 'sandbox' AND run = $1 AND collection = $2 AND json IS NOT NULL ORDER BY key`,
    [run, collection],
  );
  return Object.fromEntries(found.rows.map((r: { key: string; json: string }) => [r.key, JSON.parse(r.json)]));
}

await withPostgresServer('several writers on one PostgreSQL environment', (server) => {
  const Writers = suite<{ url: string; clock: VirtualClock; open: Store[] }>('several writers on one environment');
  Writers.before.each((ctx) => {
    ctx.url = freshSchemaUrl(server, 'w');
    ctx.clock = new VirtualClock(Date.UTC(2026, 11, 7, 9, 0, 0));
    ctx.open = [];
  });
  Writers.after.each(async (ctx) => {
    for (const store of ctx.open ?? []) await store.close().catch(() => undefined);
  });
  /** A writer as a process would open it (its own pool), silent on refused writes: the tests read them. */
  const writer = async (ctx: { url: string; clock: VirtualClock; open: Store[] }) => {
    const store = await openStore({ url: ctx.url, environment: SANDBOX, clock: ctx.clock });
    store.on('writeFailed', () => undefined);
    ctx.open.push(store);
    return store;
  };

  Writers('when two writers change one worker and one requester in turn then both changes survive', async (ctx) => {
    const a = await writer(ctx);
    a.requesters.put({ name: 'lab', credentialSource: { kind: 'profile', profile: 'lab' } });
    a.workers.ensure('W1');
    await a.flush();
    const b = await writer(ctx);
    assert.ok(b.workers.get('W1'), 'b read what a committed before it opened');
    ctx.clock.advance(1_000);
    // Interleaved: each changes what the other read before, neither reading the other's change.
    a.workers.block('W1', 'lab', 'spam');
    b.requesters.put({ name: 'lab2', credentialSource: { kind: 'defaultChain' } });
    b.workers.block('W1', 'lab2', 'copied answers');
    a.requesters.put({ name: 'lab', credentialSource: { kind: 'profile', profile: 'lab-new' } });
    await a.flush();
    await b.flush();
    // The second to commit took the first one's changes into its memory and merged them.
    assert.equal(Object.keys(b.workers.require('W1').blocks).sort(), ['lab', 'lab2']);
    assert.equal(b.requesters.require('lab').credentialSource, { kind: 'profile', profile: 'lab-new' });
    const workers = await rows(server, ctx.url, 'workers');
    assert.equal(Object.keys(workers.W1.blocks).sort(), ['lab', 'lab2'], 'no block is lost');
    assert.is(workers.W1.blocks.lab.reason, 'spam');
    assert.is(workers.W1.blocks.lab2.reason, 'copied answers');
    const requesters = await rows(server, ctx.url, 'requesters');
    assert.equal(Object.keys(requesters).sort(), ['lab', 'lab2']);
    assert.equal(requesters.lab.credentialSource, { kind: 'profile', profile: 'lab-new' });
    // An unblock by one and a block by the other of different requesters merge as well.
    a.workers.unblock('W1', 'lab');
    await a.flush();
    assert.equal(Object.keys(a.workers.require('W1').blocks), ['lab2'], 'a took b’s block in with its commit');
    b.workers.block('W1', 'lab', 'bots');
    await b.flush();
    const after = (await rows(server, ctx.url, 'workers')).W1.blocks;
    assert.equal(Object.keys(after).sort(), ['lab', 'lab2']);
    assert.is(after.lab.reason, 'bots', 'the later block wins over the earlier unblock');
    // What both committed is what a new reader sees.
    const look = await openStore({ url: ctx.url, environment: SANDBOX, readOnly: true });
    assert.equal(Object.keys(look.workers.require('W1').blocks).sort(), ['lab', 'lab2']);
    assert.equal(
      look.requesters
        .list()
        .map((r) => r.name)
        .sort(),
      ['lab', 'lab2'],
    );
    await look.close();
  });

  Writers(
    'when both change one field differently then the second commit is refused whole, nothing of it written',
    async (ctx) => {
      const a = await writer(ctx);
      a.requesters.put({ name: 'lab', credentialSource: { kind: 'profile', profile: 'lab' } });
      await a.flush();
      const b = await writer(ctx);
      ctx.clock.advance(1_000);
      a.requesters.put({ name: 'lab', credentialSource: { kind: 'profile', profile: 'from-a' } });
      b.requesters.put({ name: 'lab', credentialSource: { kind: 'profile', profile: 'from-b' } });
      // In the same commit of b: records that would merge, and a run's records.
      b.requesters.put({ name: 'other', credentialSource: { kind: 'defaultChain' } });
      b.workers.block('W9', 'other', 'spam');
      b.runs.create({ runId: 'r1', requesterName: 'other', config: { title: 'T' } });
      b.units.create({ unitId: 'r1-u0', runId: 'r1', index: 0, payAmountUsd: '0.50' });
      await a.flush();
      const error = await hitstateRejection(b.flush());
      assert.is(error.code, 'HST_ERR_STORE_CONFLICT');
      assert.match(error.message, /requester "lab": both changed its field "credentialSource"/);
      assert.match(error.message, /nothing of it was written/);
      assert.not.match(error.message, server.password);
      assert.equal(Object.keys(await rows(server, ctx.url, 'requesters')), ['lab']);
      assert.equal((await rows(server, ctx.url, 'requesters')).lab.credentialSource.profile, 'from-a');
      assert.equal(
        await rows(server, ctx.url, 'workers'),
        {},
        'the mergeable part of the refused commit is not written',
      );
      assert.equal(await rows(server, ctx.url, 'runs'), {});
      assert.equal(await rows(server, ctx.url, 'units', 'r1'), {}, 'nor its run records');
      // b's memory now holds a's version; its next commit writes the rest.
      assert.equal(b.requesters.require('lab').credentialSource, { kind: 'profile', profile: 'from-a' });
      assert.is(b.stats().failedWrites, 1);
      await b.flush();
      assert.equal(Object.keys(await rows(server, ctx.url, 'requesters')).sort(), ['lab', 'other']);
      assert.equal((await rows(server, ctx.url, 'requesters')).lab.credentialSource.profile, 'from-a');
      assert.equal(Object.keys(await rows(server, ctx.url, 'units', 'r1')), ['r1-u0']);
    },
  );

  Writers('when two writers race to create one new key then exactly one wins, every time', async (ctx) => {
    const a = await writer(ctx);
    a.requesters.put({ name: 'x', credentialSource: { kind: 'defaultChain' } });
    a.requesters.put({ name: 'y', credentialSource: { kind: 'defaultChain' } });
    await a.flush();
    const b = await writer(ctx);
    for (let i = 0; i < 8; i++) {
      const name = `lab-${i}`;
      a.requesters.put({ name, credentialSource: { kind: 'profile', profile: 'a' } });
      b.requesters.put({ name, credentialSource: { kind: 'profile', profile: 'b' } });
      // The same new worker from both: merged, never refused.
      a.workers.block(`W-${i}`, 'x', 'a');
      b.workers.block(`W-${i}`, 'y', 'b');
      const results = await Promise.allSettled([a.flush(), b.flush()]);
      const refused = results.filter((r) => r.status === 'rejected');
      assert.is(refused.length, 1, `one of the two creations of ${name} is refused`);
      assert.is(((refused[0] as PromiseRejectedResult).reason as HitstateError).code, 'HST_ERR_STORE_CONFLICT');
      const winner = results[0]!.status === 'fulfilled' ? 'a' : 'b';
      assert.is((await rows(server, ctx.url, 'requesters'))[name].credentialSource.profile, winner);
      // The loser's memory took the winner's version; both now agree.
      assert.is(a.requesters.require(name).credentialSource.kind, 'profile');
      assert.equal(a.requesters.require(name), b.requesters.require(name));
      // Its worker part is written by its next commit, merged.
      await a.flush();
      await b.flush();
      assert.equal(Object.keys((await rows(server, ctx.url, 'workers'))[`W-${i}`].blocks).sort(), ['x', 'y']);
    }
  });

  Writers('when a run is held by one writer then another writer’s commit to it is refused whole', async (ctx) => {
    const a = await writer(ctx);
    a.requesters.put({ name: 'lab', credentialSource: { kind: 'defaultChain' } });
    a.runs.create({ runId: 'r1', requesterName: 'lab', config: { title: 'T' } });
    await a.flush();
    const b = await writer(ctx);
    const taken = await a.backend.acquireRun('r1', 60_000);
    assert.ok(taken.ok);
    b.units.create({ unitId: 'r1-u0', runId: 'r1', index: 0, payAmountUsd: '0.50' });
    b.workers.ensure('W1');
    const error = await hitstateRejection(b.flush());
    assert.is(error.code, 'HST_ERR_RUN_OWNED');
    assert.match(error.message, `run r1 is owned by hitstate pid ${process.pid}`);
    assert.equal(await rows(server, ctx.url, 'units', 'r1'), {});
    assert.equal(await rows(server, ctx.url, 'workers'), {}, 'nothing of the commit is written');
    // The holder writes its run; once it lets the run go, the other may write it.
    a.units.create({ unitId: 'r1-u1', runId: 'r1', index: 1, payAmountUsd: '0.50' });
    await a.flush();
    if (taken.ok) await taken.lease.release();
    await b.flush();
    assert.equal(Object.keys(await rows(server, ctx.url, 'units', 'r1')).sort(), ['r1-u0', 'r1-u1']);
    assert.ok((await rows(server, ctx.url, 'workers')).W1);
  });

  Writers('when a run was written by another writer after this one opened then taking it is refused', async (ctx) => {
    const a = await writer(ctx);
    a.requesters.put({ name: 'lab', credentialSource: { kind: 'defaultChain' } });
    a.runs.create({ runId: 'r1', requesterName: 'lab', config: { title: 'T' } });
    await a.flush();
    const b = await writer(ctx);
    const c = await writer(ctx);
    const byB = await b.backend.acquireRun('r1', 60_000);
    assert.ok(byB.ok);
    b.units.create({ unitId: 'r1-u0', runId: 'r1', index: 0, payAmountUsd: '0.50' });
    await b.flush();
    if (byB.ok) await byB.lease.release();
    // c read r1 before b wrote it: its memory of r1 is out of date.
    const error = await hitstateRejection(c.backend.acquireRun('r1', 60_000));
    assert.is(error.code, 'HST_ERR_RUN_OWNED');
    assert.match(error.message, /written by another process after this one opened the store/);
    assert.is(await c.backend.runHolder('r1'), null, 'the refused take let the run go');
    // b wrote it itself, and a store opened now reads it as it is: both may take it.
    const again = await b.backend.acquireRun('r1', 60_000);
    assert.ok(again.ok);
    if (again.ok) await again.lease.release();
    const d = await writer(ctx);
    assert.ok((await d.backend.acquireRun('r1', 60_000)).ok);
    assert.equal(
      d.units.ofRun('r1').map((u) => u.id),
      ['r1-u0'],
    );
  });

  Writers('when a store-wide record is deleted by one writer then the other learns of it', async (ctx) => {
    const a = await writer(ctx);
    a.requesters.put({ name: 'lab', credentialSource: { kind: 'defaultChain' } });
    a.qualifications.put({ requesterName: 'lab', name: 'skilled', qualificationTypeId: 'Q1', mturkName: 'skilled' });
    await a.flush();
    const b = await writer(ctx);
    assert.ok(b.qualifications.get('lab', 'skilled'));
    a.qualifications.delete('lab', 'skilled');
    await a.flush();
    b.workers.ensure('W1');
    await b.flush();
    assert.is(b.qualifications.get('lab', 'skilled'), undefined, 'the delete reached b with its next commit');
    const look = await openStore({ url: ctx.url, environment: SANDBOX, readOnly: true });
    assert.is(look.qualifications.get('lab', 'skilled'), undefined);
    await look.close();
  });

  Writers.run();
});
