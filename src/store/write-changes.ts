/**
 * One write of the store: every file that changed and every queued audit line, committed together
 * (flush-commit.ts), or not at all.
 *
 * @module
 */
import { join } from 'node:path';
import type { StagedLines } from './audit-log.js';
import { COMMIT_FILE } from './commit-record.js';
import type { FlushJournal } from './flush-commit.js';
import type { StagedFile } from './store-file.js';
import type { StoreState } from './store-state.js';

/** Why a write failed: the first file that failed, how many others did, and whether it had committed already. */
export class WriteFailure extends Error {
  constructor(
    readonly file: string,
    override readonly cause: unknown,
    readonly others: number,
    /** True when the write committed but was not fully applied: the data is safe, the next write or open applies it. */
    readonly committed: boolean,
  ) {
    super((cause as Error)?.message ?? String(cause));
    this.name = 'WriteFailure';
  }
}

/** What a write wrote. */
export interface WrittenChanges {
  /** Paths relative to the store directory. */
  readonly files: readonly string[];
  readonly bytes: number;
}

const pathOf = (err: unknown, fallback: string): string => (err as NodeJS.ErrnoException)?.path ?? fallback;

/**
 * Writes every change of `state` as one write. Nothing changes in memory unless it commits; a
 * write that does not commit leaves its files dirty and its audit lines queued, in order.
 *
 * @throws WriteFailure
 */
export async function writeChanges(state: StoreState, journal: FlushJournal, now: number): Promise<WrittenChanges> {
  await journal.finishUnfinished().catch((err: unknown) => {
    throw new WriteFailure(pathOf(err, join(state.root, COMMIT_FILE)), err, 0, true);
  });
  const dirty = state.files.filter((f) => f.dirty);
  const logs = state.auditLogs().filter((l) => l.hasPending);
  if (dirty.length === 0 && logs.length === 0) return { files: [], bytes: 0 };
  const started = performance.now();
  const flush = journal.begin();
  // Everything is staged in this one turn of the event loop, so the write holds one state of
  // memory: a change made while it is on its way goes wholly into the next write.
  const stagedFiles = dirty.map((f) => f.stage(flush));
  const stagedLines = logs.map((l) => l.stage(flush));
  const [files, lines] = await Promise.all([Promise.allSettled(stagedFiles), Promise.allSettled(stagedLines)]);
  const requeue = () =>
    lines.forEach((r, i) => {
      if (r.status === 'fulfilled') logs[i]!.requeue(r.value);
    });
  const failed = [
    ...files.map((r, i) => ({ r, path: dirty[i]!.absPath })),
    ...lines.map((r, i) => ({ r, path: logs[i]!.absPath })),
  ].filter((x): x is { r: PromiseRejectedResult; path: string } => x.r.status === 'rejected');
  if (failed.length > 0) {
    requeue();
    await flush.abandon();
    throw new WriteFailure(failed[0]!.path, failed[0]!.r.reason, failed.length - 1, false);
  }
  const ok = <T>(r: PromiseSettledResult<T>): T => (r as PromiseFulfilledResult<T>).value;
  const written = files.map(ok);
  const appended = lines.map(ok);
  let committed = false;
  try {
    await journal.commit(flush, now, () => {
      committed = true;
      const durationMs = performance.now() - started;
      for (const w of written as StagedFile[]) w.file.committed(w, now);
      appended.forEach((a: StagedLines, i) => {
        logs[i]!.committed(a, now, durationMs);
      });
    });
  } catch (err) {
    if (!committed) {
      requeue();
      await flush.abandon();
    }
    throw new WriteFailure(pathOf(err, join(state.root, COMMIT_FILE)), err, 0, committed);
  }
  return {
    files: [...written.map((w) => w.file.relPath), ...logs.map((l) => l.relPath)],
    bytes: written.reduce((n, w) => n + w.bytes, 0) + appended.reduce((n, a) => n + a.bytes, 0),
  };
}
