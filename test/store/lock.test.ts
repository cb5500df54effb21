import type { ChildProcess } from 'node:child_process';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { isHitstateError } from '../../src/errors.js';
import { kill, open, rejection, removeDir, startChild, tempDir } from './helpers.js';

// Several processes write one store at once (each owning its runs); the store-wide commit lock
// store.json.lock is held only for the moment of a commit. See docs/datastore.md.
const Lock = suite('store commit lock and several writers');
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
const writersDir = () => join(dir, 'sandbox', 'writers');
/** A pid that belonged to a process which has exited. */
const deadPid = (): number => spawnSync(process.execPath, ['-e', '']).pid!;

/** Sends a line to the child and waits for its answer line. */
async function ask(c: ChildProcess, output: () => string, line: string): Promise<string> {
  const before = output().length;
  c.stdin!.write(`${line}\n`);
  for (let i = 0; i < 2000; i++) {
    const answer = /^(OK|ERR.*)$/m.exec(output().slice(before));
    if (answer !== null) return answer[1]!;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`no answer from the child to "${line}": ${output()}`);
}

Lock(
  'when another live process writes the store then this one opens it too, and a worker both changed keeps both blocks',
  async () => {
    const seed = await open(dir);
    seed.requesters.put({ name: 'lab', credentialSource: { kind: 'defaultChain' } });
    seed.requesters.put({ name: 'lab2', credentialSource: { kind: 'defaultChain' } });
    seed.workers.ensure('W1');
    await seed.close();
    const started = await startChild('hold-store.ts', [dir], 'READY');
    child = started.child;
    const store = await open(dir);
    assert.not.ok(existsSync(lockPath()), 'no writer holds the commit lock between commits');
    assert.is(readdirSync(writersDir()).length, 2, 'both writers are recorded as present');
    // This one changes W1 in memory, the child commits its own change of W1 first.
    store.workers.block('W1', 'lab2', 'parent');
    assert.is(await ask(child, started.output, 'block W1 lab child'), 'OK');
    await store.flush();
    assert.equal(Object.keys(store.workers.require('W1').blocks).sort(), ['lab', 'lab2'], 'merged in memory');
    assert.is(await ask(child, started.output, 'block W2 lab2 child'), 'OK');
    store.workers.ensure('W3');
    await store.flush();
    assert.ok(store.workers.get('W2'), "the other writer's new worker is read at the next commit");
    await store.close();
    child.stdin!.end();
    await new Promise<void>((resolve) => child!.once('exit', () => resolve()));
    child = undefined;
    const again = await open(dir);
    assert.equal(Object.keys(again.workers.require('W1').blocks).sort(), ['lab', 'lab2']);
    assert.ok(again.workers.get('W2') && again.workers.get('W3'));
    await again.close();
    assert.equal(readdirSync(writersDir()), [], 'every writer removed its presence on close');
  },
);

Lock(
  'when a requester is changed differently by two writers then the later commit is refused and names it',
  async () => {
    const seed = await open(dir);
    seed.requesters.put({ name: 'lab', credentialSource: { kind: 'defaultChain' } });
    await seed.close();
    const started = await startChild('hold-store.ts', [dir], 'READY');
    child = started.child;
    const store = await open(dir);
    store.on('writeFailed', () => undefined);
    assert.is(await ask(child, started.output, 'profile lab one'), 'OK');
    store.requesters.put({ name: 'lab', credentialSource: { kind: 'profile', profile: 'two' } });
    const err = await rejection(store.flush());
    assert.ok(isHitstateError(err, 'HST_ERR_STORE_CONFLICT'), String(err));
    assert.match((err as Error).message, /requester "lab".*credentialSource/);
    assert.equal(
      store.requesters.require('lab').credentialSource,
      { kind: 'profile', profile: 'one' },
      'memory took theirs',
    );
    await store.flush();
    await store.close();
  },
);

Lock('when a writer died holding the commit lock then the next one takes it over and reports it', async () => {
  const first = await open(dir);
  await first.close();
  const pid = deadPid();
  writeFileSync(lockPath(), JSON.stringify({ pid, hostname: hostname(), startedAt: new Date(0).toISOString() }));
  const store = await open(dir);
  assert.is(store.openReport.staleLockRecovered?.pid, pid);
  assert.not.ok(existsSync(lockPath()), 'released after the open');
  await store.close();
});

Lock(
  'when a writer died without closing then its presence counts for nothing and the next writer removes it',
  async () => {
    mkdirSync(writersDir(), { recursive: true });
    writeFileSync(
      join(writersDir(), '1-dead.json'),
      JSON.stringify({ pid: deadPid(), hostname: hostname(), startedAt: new Date(0).toISOString() }),
    );
    const look = await open(dir, { readOnly: true });
    assert.is(look.openReport.heldBy, null, 'a dead writer holds nothing');
    await look.close();
    assert.equal(readdirSync(writersDir()), ['1-dead.json'], 'a read-only look changes nothing');
    const store = await open(dir);
    assert.equal(readdirSync(writersDir()).length, 1, "the dead writer's presence gave way to this one's");
    assert.not.ok(readdirSync(writersDir()).includes('1-dead.json'));
    await store.close();
  },
);

Lock(
  'when this process opens the same store twice then the second open is refused: share the Store object',
  async () => {
    const store = await open(dir);
    const err = await rejection(open(dir));
    assert.ok(isHitstateError(err, 'HST_ERR_STORE_LOCKED'), String(err));
    assert.match((err as Error).message, /already open in this process/);
    assert.not.ok(existsSync(lockPath()), 'the refused open released the commit lock');
    await store.close();
    const again = await open(dir);
    await again.close();
  },
);

Lock('when the lock file is unreadable then opening is refused and the message says how to recover', async () => {
  const store = await open(dir);
  await store.close();
  writeFileSync(lockPath(), '');
  const err = await rejection(open(dir));
  assert.ok(isHitstateError(err, 'HST_ERR_STORE_LOCKED'), String(err));
  assert.match((err as Error).message, /unreadable.*delete the lock file/s);
});

Lock.run();
