/**
 * Stores written by hitstate before the journal recorded their last write in `commit.json`
 * (staged temp files, then that record as the commit point, then renames). Opening such a store
 * finishes a write a crash interrupted after its commit point, exactly as that release did, then
 * removes `commit.json`: from then on the journal records every commit.
 *
 * @module
 */
import { dirname, join } from 'node:path';
import { HitstateError } from '../errors.js';
import { UnreadableFileError } from './atomic-json-adapter.js';
import {
  COMMIT_FILE,
  type CommitRecord,
  type CommittedAppend,
  type CommittedFile,
  parseCommitRecord,
  sha256,
} from './commit-record.js';
import type { StoreFileSystem } from './file-system.js';

/**
 * Puts a committed legacy write in place: every temp file still present is verified before any
 * is renamed, and an audit append already (partly) done is not repeated.
 *
 * @returns the files renamed or appended to (relative paths).
 * @throws HST_ERR_STORE_CORRUPT when a temp file does not hold what the record says; nothing is changed then.
 */
async function applyCommit(fs: StoreFileSystem, root: string, record: CommitRecord, fresh: boolean): Promise<string[]> {
  await fs.syncDirectory(root);
  const abs = (rel: string) => join(root, rel);
  let pending: readonly CommittedFile[] = record.files;
  if (!fresh) {
    const present = await Promise.all(
      record.files.map(async (f) => ((await fs.statFile(abs(f.temp))) === null ? null : f)),
    );
    pending = present.filter((f): f is CommittedFile => f !== null);
    for (const f of pending) await verifyTemp(fs, root, record, f);
  }
  await Promise.all(pending.map((f) => fs.rename(abs(f.temp), abs(f.file))));
  const done = pending.map((f) => f.file);
  const appended: CommittedAppend[] = [];
  for (const a of record.appends) {
    if (fresh) {
      appended.push(a);
      continue;
    }
    const size = (await fs.statFile(abs(a.file)))?.size ?? 0;
    // Shorter than the offset: the file was cut outside hitstate; appending would misplace the lines.
    if (size < a.offset || size >= a.offset + Buffer.byteLength(a.text, 'utf8')) continue;
    if (size > a.offset) await fs.truncateFile(abs(a.file), a.offset);
    appended.push(a);
  }
  await Promise.all(appended.map((a) => fs.appendDurable(abs(a.file), a.text)));
  const dirs = new Set([
    ...pending.map((f) => dirname(abs(f.file))),
    ...appended.filter((a) => a.offset === 0).map((a) => dirname(abs(a.file))),
  ]);
  await Promise.all([...dirs].map((dir) => fs.syncDirectory(dir)));
  return [...done, ...appended.map((a) => a.file)];
}

async function verifyTemp(fs: StoreFileSystem, root: string, record: CommitRecord, f: CommittedFile): Promise<void> {
  checkStagedContent(root, record, f, await fs.readFile(join(root, f.temp)));
}

/**
 * Checks that `bytes`, read from the temp file of a committed write, are what its record says.
 * @throws HST_ERR_STORE_CORRUPT naming the temp file.
 */
export function checkStagedContent(root: string, record: CommitRecord, f: CommittedFile, bytes: Buffer | null): void {
  if (bytes !== null && bytes.length === f.bytes && sha256(bytes) === f.sha256) return;
  const found = bytes === null ? 'nothing' : `${bytes.length} bytes with sha256 ${sha256(bytes)}`;
  throw new HitstateError(
    'HST_ERR_STORE_CORRUPT',
    `${join(root, f.temp)} should hold the new ${f.file} of write ${record.flush}, committed in ${join(root, COMMIT_FILE)} (${f.bytes} bytes, sha256 ${f.sha256}), but holds ${found}. ` +
      'The write cannot be finished, and hitstate refuses to start; nothing was changed. Only a damaged disk or a hand edit causes this. ' +
      `Keep a copy of the store directory first. Deleting that temp file lets the store open: the write's other files are finished and ${f.file} keeps its previous content, which may lag behind them (its backups are ${f.file}.bak.1 ...).`,
    { file: join(root, f.temp) },
  );
}

/** Reads `commit.json`, or null when the store has none (new, or last written by an older hitstate). */
export async function readCommitRecord(fs: StoreFileSystem, root: string): Promise<CommitRecord | null> {
  const path = join(root, COMMIT_FILE);
  const bytes = await fs.readFile(path);
  return bytes === null ? null : checkedCommitRecord(path, bytes);
}

/** @throws HST_ERR_STORE_CORRUPT when the record cannot be used. */
export function checkedCommitRecord(path: string, bytes: Buffer): CommitRecord {
  try {
    return parseCommitRecord(path, bytes);
  } catch (err) {
    if (!(err instanceof UnreadableFileError)) throw err;
    throw new HitstateError(
      'HST_ERR_STORE_CORRUPT',
      `${path} cannot be used: ${err.reason}. It records the store's last write, which is replaced atomically, so only a damaged disk or a hand edit causes this; hitstate refuses to start and has left it untouched. ` +
        'If no temp files (.*.tmp) are next to the store files, the last write is complete: delete it and start again.',
      { file: path },
    );
  }
}

/**
 * Finishes the write `commit.json` records if a crash interrupted it (see {@link applyCommit}).
 * The caller holds the store lock; temp files of later, uncommitted writes are left for it to remove.
 *
 * @returns the record (null when there is none) and the files this call completed.
 * @throws HST_ERR_STORE_CORRUPT
 */
export async function recoverCommittedFlush(
  fs: StoreFileSystem,
  root: string,
): Promise<{ record: CommitRecord | null; finished: string[] }> {
  const record = await readCommitRecord(fs, root);
  if (record === null) return { record, finished: [] };
  return { record, finished: await applyCommit(fs, root, record, false) };
}

/** Finishes a legacy write if needed, then removes `commit.json`. Returns what was finished (or null). */
export async function retireCommitRecord(
  fs: StoreFileSystem,
  root: string,
): Promise<{ flush: number; files: string[] } | null> {
  const { record, finished } = await recoverCommittedFlush(fs, root);
  if (record === null) return null;
  await fs.removeFile(join(root, COMMIT_FILE));
  await fs.syncDirectory(root);
  return finished.length === 0 ? null : { flush: record.flush, files: finished };
}
