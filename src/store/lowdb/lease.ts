/**
 * Per-run leases of the lowdb backend: `runs/<id>/lease.json` holds `{owner, pid, hostname,
 * expiresAt}`. Taken by hard-linking a fully written temp file to that name (link fails when the
 * name exists, so two takers cannot both win); a holder whose lease expired, or whose process is
 * gone on this host, is taken over by moving its file aside and checking it is still the one
 * judged dead.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { link, readFile, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { HitstateError } from '../../errors.js';
import type { LeaseHolder, LeaseResult, RunLease } from '../backend.js';
import type { StoreFileSystem } from '../file-system.js';
import { RUNS_DIR } from '../layout.js';

export const LEASE_FILE = 'lease.json';

/** What the lease functions need from the backend. */
export interface LeaseFiles {
  readonly fs: StoreFileSystem;
  readonly root: string;
  /** This backend's owner id. */
  readonly owner: string;
  readonly now: () => number;
}

const leasePath = (f: LeaseFiles, runId: string) => join(f.root, RUNS_DIR, runId, LEASE_FILE);

/** The holder written in a run's lease file (expired or not), or null when there is none. */
export async function readLease(f: LeaseFiles, runId: string): Promise<LeaseHolder | null> {
  return parseHolder(leasePath(f, runId), await f.fs.readFile(leasePath(f, runId)));
}

function parseHolder(path: string, bytes: Buffer | null): LeaseHolder | null {
  if (bytes === null) return null;
  try {
    const raw = JSON.parse(bytes.toString('utf8')) as LeaseHolder;
    if (typeof raw.owner === 'string' && typeof raw.pid === 'number' && typeof raw.expiresAt === 'number') return raw;
  } catch {
    // reported below
  }
  throw new HitstateError(
    'HST_ERR_STORE_CORRUPT',
    `${path} is not a lease ({owner, pid, hostname, expiresAt}); only a hand edit or a damaged disk causes this. If no process runs this run, delete it.`,
    { file: path },
  );
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** True when the holder can be taken over: its lease expired, or its process is gone on this host. */
export const isDead = (holder: LeaseHolder, now: number): boolean =>
  holder.expiresAt <= now || (holder.hostname === hostname() && !alive(holder.pid));

/** Writes `holder` to a temp file and links it to `path`; false when `path` exists. */
async function linkNew(f: LeaseFiles, path: string, holder: LeaseHolder): Promise<boolean> {
  const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  await f.fs.writeFileDurable(temp, JSON.stringify(holder));
  try {
    await link(temp, path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}

export async function acquireLease(f: LeaseFiles, runId: string, ttlMs: number): Promise<LeaseResult> {
  const path = leasePath(f, runId);
  await f.fs.makeDirectory(join(f.root, RUNS_DIR, runId));
  const holder = (): LeaseHolder => ({
    owner: f.owner,
    pid: process.pid,
    hostname: hostname(),
    expiresAt: f.now() + ttlMs,
  });
  for (let attempt = 0; attempt < 5; attempt++) {
    const mine = holder();
    if (await linkNew(f, path, mine)) return { ok: true, lease: lease(f, runId, ttlMs, mine), tookOverFrom: null };
    const current = await readLease(f, runId);
    if (current === null) continue;
    if (current.owner === f.owner) return { ok: true, lease: lease(f, runId, ttlMs, current), tookOverFrom: null };
    if (!isDead(current, f.now())) return { ok: false, heldBy: current };
    // Move the dead lease aside, then check it is the one judged dead (not a fresh one another taker linked).
    const aside = `${path}.${randomBytes(6).toString('hex')}.stale`;
    try {
      await f.fs.rename(path, aside);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw err;
    }
    const moved = parseHolder(aside, await readFile(aside).catch(() => null));
    if (moved !== null && (moved.owner !== current.owner || moved.expiresAt !== current.expiresAt)) {
      // Another taker's fresh lease: put it back unless yet another one is in place already.
      await link(aside, path).catch(() => undefined);
      await unlink(aside).catch(() => undefined);
      continue;
    }
    await unlink(aside).catch(() => undefined);
    if (await linkNew(f, path, mine)) return { ok: true, lease: lease(f, runId, ttlMs, mine), tookOverFrom: current };
  }
  const heldBy = await readLease(f, runId);
  if (heldBy !== null) return { ok: false, heldBy };
  throw new HitstateError(
    'HST_ERR_STORE_LOCKED',
    `could not take the lease of run ${runId} (${path}): it changed hands during every attempt`,
    { runId },
  );
}

function lease(f: LeaseFiles, runId: string, ttlMs: number, first: LeaseHolder): RunLease {
  const path = leasePath(f, runId);
  let holder = first;
  return {
    runId,
    get holder() {
      return holder;
    },
    async renew() {
      const current = await readLease(f, runId);
      if (current === null || current.owner !== f.owner) return false;
      const next = { ...holder, expiresAt: f.now() + ttlMs };
      const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
      await f.fs.writeFileDurable(temp, JSON.stringify(next));
      await f.fs.rename(temp, path);
      holder = next;
      return true;
    },
    async release() {
      const current = await readLease(f, runId).catch(() => null);
      if (current?.owner === f.owner) await f.fs.removeFile(path);
    },
  };
}
