// WAL checkpoints run on a thread of their own, not inside a request's commit: the thread copies
// the log into the database while the main connection (automatic checkpoints off) goes on
// committing, the log starts over after a full checkpoint, so it stays small, and everything
// committed is in the database file after a checkpoint. Through the server: many calls, then
// `checkpoint()` leaves nothing behind and a restart finds every HIT.
import { statSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateHITCommand, ListHITsCommand } from '@aws-sdk/client-mturk';
import Database from 'better-sqlite3';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startCheckpointer } from '../../src/simulator/serve/checkpointer.js';
import { openDatabase } from '../../src/simulator/serve/db.js';
import { hitInput, startServe } from './helpers.js';

const Thread = suite<{ dir: string }>('serve WAL checkpoints on their own thread');

Thread.before((ctx) => {
  ctx.dir = mkdtempSync(join(tmpdir(), 'hitstate-serve-checkpoint-'));
});
Thread.after((ctx) => {
  rmSync(ctx.dir, { recursive: true, force: true });
});

// The timer is set to an hour: every checkpoint here is one the test asks for.
const HOUR = 3_600_000;

Thread(
  'the thread copies the log while the main connection, without automatic checkpoints, writes on',
  async ({ dir }) => {
    const file = join(dir, 'a.db');
    const db = openDatabase(file);
    db.pragma('wal_autocheckpoint = 0');
    db.exec('CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)');
    const errors: Error[] = [];
    let asked = 0;
    const c = await startCheckpointer({
      file,
      synchronous: 'NORMAL',
      intervalMs: HOUR,
      longFrames: 1_000,
      onLongLog: () => asked++,
      onError: (e) => errors.push(e),
    });
    try {
      const put = db.prepare('INSERT OR REPLACE INTO t (k, v) VALUES (?, ?)');
      // 1,500 commits of a page or more each: past SQLite's automatic checkpoint at 1,000 pages.
      for (let i = 0; i < 1_500; i++) put.run(i, 'x'.repeat(3000));
      const first = await c.now();
      assert.is(first.busy, 0);
      assert.ok(
        first.walFrames >= 1_500,
        `the log kept every commit (${first.walFrames} frames): no checkpoint in a commit`,
      );
      assert.is(first.checkpointedFrames, first.walFrames, 'the thread copied the whole log');
      const walBytes = statSync(`${file}-wal`).size;
      // Past longFrames the owner is asked to copy the rest itself (here nothing is left to copy).
      await c.now();
      assert.is(asked, 1, 'a long log asks the owner to checkpoint');
      // The log starts over at the next commit: the same work again does not grow the file.
      for (let i = 0; i < 1_500; i++) put.run(i, 'y'.repeat(3000));
      const second = await c.now();
      assert.is(second.checkpointedFrames, second.walFrames);
      assert.ok(second.walFrames <= first.walFrames + 10, `the log started over (${second.walFrames} frames)`);
      assert.ok(statSync(`${file}-wal`).size <= walBytes + 40_000, 'the log file did not grow');
      // What the thread copied is in the database file: a fresh reader without the log sees it all.
      const count = await c.now();
      assert.is(count.walFrames, count.checkpointedFrames);
      assert.ok(c.count >= 3);
      assert.equal(errors, []);
    } finally {
      await c.stop();
      await c.stop(); // twice is fine
      db.close();
    }
    const reader = new Database(file, { readonly: true });
    assert.is((reader.prepare('SELECT count(*) FROM t WHERE v LIKE ?').pluck().get('y%') as number) ?? 0, 1_500);
    reader.close();
  },
);

Thread('a thread that cannot open the database fails to start, saying why', async ({ dir }) => {
  try {
    await startCheckpointer({
      file: join(dir, 'missing.db'),
      synchronous: 'NORMAL',
      intervalMs: HOUR,
      onLongLog: () => {},
      onError: () => assert.unreachable('onError is for failures after the start'),
    });
    assert.unreachable('started on a missing file');
  } catch (err) {
    assert.match(String(err), /missing\.db|unable to open|does not exist/i);
  }
});

Thread('the server checkpoints off its connection, and a restart finds every call', async () => {
  const w = await startServe({ lab: 1000 });
  try {
    const lab = w.client('lab');
    const made: string[] = [];
    for (let i = 0; i < 60; i++) made.push((await lab.send(new CreateHITCommand(hitInput()))).HIT!.HITId!);
    const r = await w.server.checkpoint();
    assert.is(r.busy, 0);
    assert.ok(r.walFrames > 0, 'the calls were written to the log');
    assert.is(r.checkpointedFrames, r.walFrames, 'and copied into the database file');
    await w.restart();
    const listed = await w.client('lab').send(new ListHITsCommand({ MaxResults: 100 }));
    assert.equal(listed.HITs!.map((h) => h.HITId).sort(), [...made].sort());
  } finally {
    await w.close();
  }
});

Thread.run();
