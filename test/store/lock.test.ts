import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { isHitstateError } from '../../src/errors.js';
import { kill, open, rejection, removeDir, startChild, tempDir } from './helpers.js';

const Lock = suite('store lock');
let dir = '';
let child: ChildProcess | undefined;
Lock.before.each(() => {
  dir = tempDir();
});
Lock.after.each(async () => {
  if (child !== undefined) await kill(child);
  child = undefined;
  removeDir(dir);
});

const lockPath = () => join(dir, 'sandbox', 'store.json.lock');

Lock(
  'when another live process holds the store then opening fails with HST_ERR_STORE_LOCKED naming its pid and the file',
  async () => {
    const started = await startChild('hold-store.ts', [dir], 'READY');
    child = started.child;
    const err = await rejection(open(dir));
    assert.ok(isHitstateError(err, 'HST_ERR_STORE_LOCKED'), String(err));
    assert.match((err as Error).message, String(child.pid));
    assert.match((err as Error).message, lockPath());
    const info = JSON.parse(readFileSync(lockPath(), 'utf8'));
    assert.equal([info.pid, info.hostname, typeof info.startedAt], [child.pid, hostname(), 'string']);
  },
);

Lock('when the holder closes the store then the lock file is removed and another process can open it', async () => {
  const started = await startChild('hold-store.ts', [dir], 'READY');
  child = started.child;
  child.stdin!.end();
  await new Promise<void>((resolve) => child!.once('exit', () => resolve()));
  assert.match(started.output(), /CLOSED/);
  assert.not.ok(existsSync(lockPath()));
  const store = await open(dir);
  assert.is(store.openReport.staleLockRecovered, null);
  await store.close();
});

Lock('when the holder died without closing then its stale lock is taken over and reported', async () => {
  const started = await startChild('hold-store.ts', [dir], 'READY');
  child = started.child;
  const deadPid = child.pid;
  await kill(child);
  assert.ok(existsSync(lockPath()), 'a killed process leaves its lock behind');
  const store = await open(dir);
  assert.is(store.openReport.staleLockRecovered?.pid, deadPid);
  assert.is(JSON.parse(readFileSync(lockPath(), 'utf8')).pid, process.pid);
  await store.close();
  assert.not.ok(existsSync(lockPath()));
});

Lock('when this process opens the same store twice then the second open is refused', async () => {
  const store = await open(dir);
  const err = await rejection(open(dir));
  assert.ok(isHitstateError(err, 'HST_ERR_STORE_LOCKED'), String(err));
  assert.match((err as Error).message, /this process/);
  await store.close();
  const again = await open(dir);
  await again.close();
});

Lock('when the lock file is unreadable then opening is refused and the message says how to recover', async () => {
  const store = await open(dir);
  await store.close();
  writeFileSync(lockPath(), '');
  const err = await rejection(open(dir));
  assert.ok(isHitstateError(err, 'HST_ERR_STORE_LOCKED'), String(err));
  assert.match((err as Error).message, /unreadable.*delete the lock file/s);
});

Lock.run();
