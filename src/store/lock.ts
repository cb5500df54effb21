/**
 * The store-wide commit lock: a lock file created exclusively, naming the process that holds it.
 * lowdb has no lock of its own and two processes writing one file corrupt it
 * (docs/stack-notes.md#what-a-write-does), so every writer of a store takes this lock for the
 * moment of a store-wide commit or checkpoint (see docs/datastore.md, "Several writers, one owner
 * per run"), never for the life of the process; maintenance commands (`store repair`, restoring
 * a backup) take it for their whole work.
 * A lock left by a process that died is taken over; a live holder is named in the error.
 *
 * @module
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HitstateError } from '../errors.js';
import { LOCK_FILE } from './layout.js';

/** What the lock file holds. */
export interface LockInfo {
  readonly pid: number;
  readonly hostname: string;
  /** When the holder took the lock, ISO 8601. */
  readonly startedAt: string;
}

/** A lock this process holds. */
export interface HeldLock {
  readonly path: string;
  readonly info: LockInfo;
  /** The lock of a dead process that was taken over, if any. */
  readonly recovered: LockInfo | null;
  /** Removes the lock file if it is still ours. */
  release(): Promise<void>;
}

type LockContent = { readonly info: LockInfo; readonly text: string } | { readonly unreadable: string } | null;

const code = (err: unknown): string | undefined => (err as NodeJS.ErrnoException)?.code;

async function readLock(path: string): Promise<LockContent> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if (code(err) === 'ENOENT') return null;
    throw err;
  }
  try {
    const value = JSON.parse(text) as Partial<LockInfo>;
    if (Number.isSafeInteger(value.pid) && typeof value.hostname === 'string' && typeof value.startedAt === 'string') {
      return { info: { pid: value.pid!, hostname: value.hostname, startedAt: value.startedAt }, text };
    }
  } catch {
    // Fall through: an empty or half-written lock file carries no pid to check.
  }
  return { unreadable: text.length === 0 ? 'it is empty' : 'it is not a hitstate lock' };
}

/** True unless the operating system says no process has that pid. */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to another user.
    return code(err) !== 'ESRCH';
  }
}

function locked(path: string, message: string, cause?: unknown): HitstateError {
  return new HitstateError('HST_ERR_STORE_LOCKED', message, { file: path, ...(cause === undefined ? {} : { cause }) });
}

/**
 * Creates the lock file whole or not at all: the content is written and synced under a temp name,
 * then hard-linked to `path`, which fails if it exists. A process killed half-way leaves at most
 * its temp file, never an empty lock that nobody could judge (the commit lock is taken at every
 * store-wide commit, so kills do land there).
 */
async function createExclusive(path: string, info: LockInfo): Promise<boolean> {
  const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    const handle = await open(temp, 'wx', 0o600);
    try {
      await handle.writeFile(`${JSON.stringify(info)}\n`, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await link(temp, path);
    return true;
  } catch (err) {
    if (code(err) === 'EEXIST') return false;
    throw locked(path, `cannot create the lock file ${path}: ${(err as Error).message}`, err);
  } finally {
    await rm(temp, { force: true });
  }
}

/**
 * Takes the store lock at `path`.
 *
 * @param startedAt - the holder's start time (from the store's clock).
 * @throws HST_ERR_STORE_LOCKED when a live process (possibly this one) holds it, when the holder
 *   runs on another host, or when the lock file is unreadable; the message names pid and file.
 */
export async function acquireLock(path: string, startedAt: number): Promise<HeldLock> {
  const info: LockInfo = { pid: process.pid, hostname: hostname(), startedAt: new Date(startedAt).toISOString() };
  let recovered: LockInfo | null = null;
  for (let attempt = 0; attempt < 5; attempt++) {
    if (await createExclusive(path, info)) return held(path, info, recovered);
    const existing = await readLock(path);
    if (existing === null) continue;
    if ('unreadable' in existing) {
      throw locked(
        path,
        `the store lock ${path} is unreadable (${existing.unreadable}), so the process holding it cannot be checked. If no hitstate process uses this store, delete the lock file and try again.`,
      );
    }
    const holder = existing.info;
    const who = holder.pid === process.pid ? `this process (pid ${holder.pid})` : `process ${holder.pid}`;
    if (holder.hostname !== info.hostname) {
      throw locked(
        path,
        `the store is locked by process ${holder.pid} on host ${holder.hostname} since ${holder.startedAt} (${path}); hitstate cannot check a process on another host. Stop it there, or delete the lock file if that process is gone.`,
      );
    }
    if (isAlive(holder.pid)) {
      throw locked(
        path,
        `the store is in use by ${who} since ${holder.startedAt} (lock file ${path}). Stop that process or use another store directory; if no hitstate process has that pid, delete the lock file.`,
      );
    }
    // Stale: move it aside under a name only we use, and check it is still the lock we judged dead,
    // so two processes recovering at once cannot both win.
    const aside = `${path}.stale-${process.pid}`;
    try {
      await rename(path, aside);
    } catch (err) {
      if (code(err) === 'ENOENT') continue;
      throw locked(path, `cannot take over the stale lock ${path}: ${(err as Error).message}`, err);
    }
    const moved = await readLock(aside);
    if (moved !== null && 'text' in moved && moved.text === existing.text) {
      await rm(aside, { force: true });
      recovered = holder;
      continue;
    }
    // Another process took the lock between our read and our rename: give it back.
    await link(aside, path).catch(() => undefined);
    await rm(aside, { force: true });
    throw locked(
      path,
      `another process took the store lock ${path} while this one was recovering a stale lock; try again.`,
    );
  }
  throw locked(path, `could not take the store lock ${path}: it keeps changing hands; try again.`);
}

/**
 * Takes the lock at `path`, waiting while another live writer on this host (or another open store
 * of this process) holds it: store-wide commits hold it for milliseconds. Waits on wall time,
 * since the holder is another process working, not a timer of the caller's clock.
 *
 * @param waitMs - how long to wait for a live holder before refusing.
 * @throws HST_ERR_STORE_LOCKED when it stays held for `waitMs`, when the holder is on another host,
 *   or when the lock file is unreadable.
 */
export async function acquireLockWaiting(path: string, startedAt: number, waitMs = 30_000): Promise<HeldLock> {
  const deadline = Date.now() + waitMs;
  for (let attempt = 0; ; attempt++) {
    try {
      return await acquireLock(path, startedAt);
    } catch (err) {
      // An unreadable lock file never becomes readable (locks appear whole, by link): waiting
      // for it would only delay the error that says how to recover.
      const current = await readLock(path).catch(() => null);
      const holder = current !== null && 'info' in current ? await readLockHolder(path).catch(() => null) : null;
      const waitable =
        err instanceof HitstateError &&
        err.code === 'HST_ERR_STORE_LOCKED' &&
        !(current !== null && 'unreadable' in current) &&
        (holder === null || holder.hostname === hostname());
      if (!waitable || Date.now() >= deadline) {
        if (waitable && holder !== null)
          throw locked(
            path,
            `the store's commit lock ${path} stayed held by process ${holder.pid} for ${waitMs} ms; a commit takes milliseconds, so that process is stuck: stop it, then try again`,
            err,
          );
        throw err;
      }
      // Short, growing pauses: a commit holds the lock for a few fsyncs.
      await new Promise((resolve) => setTimeout(resolve, Math.min(1 + attempt, 20)));
    }
  }
}

/**
 * The process holding the lock at `path`, without taking it: null when the lock is free, left by
 * a dead process, or unreadable. A holder on another host is returned as is (it cannot be checked).
 */
export async function readLockHolder(path: string): Promise<LockInfo | null> {
  const existing = await readLock(path);
  if (existing === null || 'unreadable' in existing) return null;
  const holder = existing.info;
  return holder.hostname !== hostname() || isAlive(holder.pid) ? holder : null;
}

function held(path: string, info: LockInfo, recovered: LockInfo | null): HeldLock {
  return {
    path,
    info,
    recovered,
    async release() {
      const current = await readLock(path);
      if (
        current !== null &&
        'info' in current &&
        current.info.pid === info.pid &&
        current.info.startedAt === info.startedAt
      ) {
        await rm(path, { force: true });
      }
    },
  };
}

/** Where writers of a store say they are there: `writers/<pid>-<random>.json` holding {@link LockInfo}. */
export const WRITERS_DIR = 'writers';

/** A writer's presence in a store, removed when it closes. */
export interface WriterPresence {
  readonly info: LockInfo;
  remove(): Promise<void>;
}

/**
 * Records that this process writes the store at `root` (several may at once, each owning its
 * runs), so that maintenance commands that need the store to themselves (`store repair`,
 * restoring a backup) and read-only looks (`openReport.heldBy`) can tell. A presence left by a
 * process that died counts for nothing and is removed by the next {@link liveWriters}.
 */
export async function registerWriter(root: string, startedAt: number): Promise<WriterPresence> {
  const info: LockInfo = { pid: process.pid, hostname: hostname(), startedAt: new Date(startedAt).toISOString() };
  const dir = join(root, WRITERS_DIR);
  // Presences of writers that died are dropped here, by the next writer.
  await liveWriters(root);
  await mkdir(dir, { recursive: true });
  const path = join(dir, `${process.pid}-${Math.random().toString(16).slice(2, 10)}.json`);
  await writeFile(path, `${JSON.stringify(info)}\n`, 'utf8');
  return { info, remove: () => rm(path, { force: true }) };
}

/**
 * The live writers of the store at `root` (this process's included). Presences of dead processes
 * are removed when `prune` (a writer opening, a maintenance command), ignored otherwise (a
 * read-only look changes nothing on disk).
 */
export async function liveWriters(root: string, prune = true): Promise<LockInfo[]> {
  const dir = join(root, WRITERS_DIR);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if (code(err) === 'ENOENT') return [];
    throw err;
  }
  const live: LockInfo[] = [];
  for (const name of names.filter((n) => n.endsWith('.json'))) {
    const content = await readLock(join(dir, name)).catch(() => null);
    if (content === null || 'unreadable' in content) continue;
    const holder = content.info;
    if (holder.hostname !== hostname() || isAlive(holder.pid)) live.push(holder);
    else if (prune) await rm(join(dir, name), { force: true });
  }
  return live;
}

/**
 * Takes the store lock for work that needs the store to itself (repair, restoring a backup):
 * writers hold the lock only around a commit, so one that has the store open must be stopped first.
 * @throws HST_ERR_STORE_LOCKED naming the live writer.
 */
export async function acquireStoreAlone(root: string, now: number): Promise<HeldLock> {
  const lock = await acquireLock(join(root, LOCK_FILE), now);
  const writers = await liveWriters(root).catch(async (err: unknown) => {
    await lock.release();
    throw err;
  });
  if (writers.length > 0) {
    await lock.release();
    throw new HitstateError(
      'HST_ERR_STORE_LOCKED',
      `the store at ${root} is in use by process ${writers[0]!.pid} on ${writers[0]!.hostname} (since ${writers[0]!.startedAt}); stop it first, this needs the store to itself`,
      { file: root },
    );
  }
  return lock;
}
