/**
 * Per-run leases of the lowdb backend: `runs/<id>/lease.json` holds `{owner, pid, hostname,
 * expiresAt}`. Taken by hard-linking a fully written temp file to that name (link fails when the
 * name exists, so two takers cannot both win, in one process or several). A holder is ours only
 * when its owner id is ours (several backends of one process share a pid). A holder whose lease
 * expired, or whose process is gone on this host, is taken over by the one taker that links the
 * takeover marker of that dead lease (see {@link acquireLease}).
 *
 * @module
 */
import { createHash, randomBytes } from 'node:crypto';
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

/** True when the holder's process is gone and ran on this host (another host's pid says nothing here). */
export const holderProcessGone = (holder: LeaseHolder): boolean => holder.hostname === hostname() && !alive(holder.pid);

/**
 * True when the holder can be taken over. Another process on this host is judged by its pid alone:
 * while it lives it owns the run, whatever its expiry says (its clock may not be ours: a test's
 * virtual clock, or a process stalled past a renewal), and once gone it owns nothing. A holder on
 * another host, or another backend of this process, is judged by the expiry.
 */
export const isDead = (holder: LeaseHolder, now: number): boolean =>
  holder.hostname === hostname() && holder.pid !== process.pid ? !alive(holder.pid) : holder.expiresAt <= now;

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

/**
 * Takes a run's lease. A free run is taken by linking a new lease file (exactly one linker wins).
 * A dead holder is taken over only by the taker that creates `lease.json.<owner>.<expiresAt>.takeover`
 * (linked too, so one per dead lease): it checks the lease is still that dead one, moves it aside
 * and links its own, which again fails if a free-run taker got there first. Nothing is ever put
 * back, so there is no moment where a live lease is missing from its name.
 */
export async function acquireLease(f: LeaseFiles, runId: string, ttlMs: number): Promise<LeaseResult> {
  const path = leasePath(f, runId);
  await f.fs.makeDirectory(join(f.root, RUNS_DIR, runId));
  const holder = (): LeaseHolder => ({
    owner: f.owner,
    pid: process.pid,
    hostname: hostname(),
    expiresAt: f.now() + ttlMs,
  });
  for (let attempt = 0; attempt < 50; attempt++) {
    const mine = holder();
    if (await linkNew(f, path, mine)) return { ok: true, lease: lease(f, runId, ttlMs, mine), tookOverFrom: null };
    const current = await readLease(f, runId);
    if (current === null) continue;
    const ours = current.owner === f.owner;
    // Ours only when the owner id matches (two backends of one process share a pid), and only
    // while it has not expired: an expired one is anyone's, ours included, through a takeover.
    if (ours && current.expiresAt > f.now()) {
      const again = lease(f, runId, ttlMs, current);
      if (await again.renew()) return { ok: true, lease: again, tookOverFrom: null };
      continue;
    }
    if (!isDead(current, f.now())) return { ok: false, heldBy: current };
    const took = await takeOver(f, runId, current, mine);
    if (took === 'won') return { ok: true, lease: lease(f, runId, ttlMs, mine), tookOverFrom: ours ? null : current };
    // 'busy': another taker (maybe another process, between fsyncs) is taking this dead lease
    // over; give it a few milliseconds more each time, then read again (~0.4 s in all).
    if (took === 'busy') await new Promise((resolve) => setTimeout(resolve, Math.min(attempt, 15)));
  }
  const heldBy = await readLease(f, runId);
  if (heldBy !== null && !isDead(heldBy, f.now())) return { ok: false, heldBy };
  throw new HitstateError(
    'HST_ERR_STORE_LOCKED',
    `could not take the lease of run ${runId} (${path}): it changed hands during every attempt; try again`,
    { runId },
  );
}

const sameLease = (a: LeaseHolder | null, b: LeaseHolder): boolean =>
  a !== null && a.owner === b.owner && a.expiresAt === b.expiresAt;

/** One taker's attempt to replace the dead lease `dead` with `mine`. */
async function takeOver(
  f: LeaseFiles,
  runId: string,
  dead: LeaseHolder,
  mine: LeaseHolder,
): Promise<'won' | 'lost' | 'busy'> {
  const path = leasePath(f, runId);
  const marker = `${path}.${createHash('sha256').update(`${dead.owner}\n${dead.expiresAt}`).digest('hex').slice(0, 16)}.takeover`;
  if (!(await linkNew(f, marker, mine))) {
    // A taker that crashed half-way leaves its marker: once that taker is dead too, it goes.
    const other = parseHolder(marker, await f.fs.readFile(marker).catch(() => null));
    if (other !== null && isDead(other, f.now())) await unlink(marker).catch(() => undefined);
    return 'busy';
  }
  try {
    // Only this taker holds the marker of that dead lease: check it is still the one in place.
    if (!sameLease(await readLease(f, runId), dead)) return 'lost';
    const aside = `${path}.${randomBytes(6).toString('hex')}.stale`;
    try {
      await f.fs.rename(path, aside);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'lost';
      throw err;
    }
    const moved = parseHolder(aside, await readFile(aside).catch(() => null));
    // Renewed by its late holder between the check and the move (the only change a marker
    // does not keep out): put it back, unless a free-run taker already linked its own.
    if (!sameLease(moved, dead) && moved !== null && !isDead(moved, f.now()))
      await link(aside, path).catch(() => undefined);
    await unlink(aside).catch(() => undefined);
    if (!sameLease(moved, dead)) return 'lost';
    // A free-run taker may link in the meantime: then it is the one winner.
    return (await linkNew(f, path, mine)) ? 'won' : 'lost';
  } finally {
    await unlink(marker).catch(() => undefined);
  }
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
