/**
 * One store write, all-or-nothing across every file it touches (see commit-record.ts for the
 * record itself). The steps of a write, each finished before the next starts:
 *
 * 1. stage: every changed file is serialized at once (one consistent cut of memory) and written
 *    to its temp file `.<name>.<flush>.tmp`, fsync'd; new directories are created;
 * 2. the directories holding the temp files are fsync'd, so the temp files survive a power cut;
 * 3. commit: `commit.json` is written to `.commit.json.tmp`, fsync'd and renamed over
 *    `commit.json`. That rename is the commit point;
 * 4. apply: the root directory is fsync'd (the commit is durable), every temp file is renamed over
 *    its file, the audit lines are appended (fsync'd), the directories are fsync'd.
 *
 * A crash before step 3 leaves the old state plus temp files, which the next open removes. A crash
 * after it leaves a record the next open finishes (`recoverCommittedFlush`): temp files still there
 * are checked against the record's size and SHA-256 and renamed, audit appends are completed at
 * their recorded offset. The record stays until the next write replaces it, so finishing is
 * idempotent and every open can look.
 *
 * @module
 */
import { dirname, join, relative, sep } from 'node:path';
import { HitstateError } from '../errors.js';
import {
  COMMIT_FILE,
  type CommitRecord,
  type CommittedAppend,
  type CommittedFile,
  COMMIT_FORMAT,
  parseCommitRecord,
  serializeCommitRecord,
  sha256,
  stagedTempOf,
  stagedTempPath,
} from './commit-record.js';
import { UnreadableFileError } from './atomic-json-adapter.js';
import type { StoreFileSystem } from './file-system.js';

const toRel = (root: string, absPath: string): string => relative(root, absPath).split(sep).join('/');

/** The changes of one write on their way to the disk, not committed yet. */
export class StagedFlush {
  readonly #files: CommittedFile[] = [];
  readonly #appends: CommittedAppend[] = [];
  /** Directories whose entries (temp files, new sub-directories) must be durable before the commit. */
  readonly #stagedDirs = new Set<string>();
  readonly #making = new Map<string, Promise<void>>();

  /** @param knownDirs - directories known to exist durably (read on open, or created by a committed write). */
  constructor(
    private readonly fs: StoreFileSystem,
    private readonly root: string,
    readonly seq: number,
    private readonly knownDirs: ReadonlySet<string>,
  ) {}

  /**
   * Stages `text` as the new content of the file at `absPath`. The record entry is taken
   * synchronously, so the caller's serialization and this entry describe the same state.
   * Resolves with the bytes written once the temp file is fsync'd.
   */
  async stage(absPath: string, text: string): Promise<number> {
    const rel = toRel(this.root, absPath);
    const bytes = Buffer.byteLength(text, 'utf8');
    this.#files.push({ file: rel, temp: stagedTempPath(rel, this.seq), bytes, sha256: sha256(text) });
    const dir = dirname(absPath);
    this.#stagedDirs.add(dir);
    await this.#ensureDirectory(dir);
    await this.fs.writeFileDurable(stagedTempOf(absPath, this.seq), text);
    return bytes;
  }

  /** Queues audit lines for `absPath` at byte `offset`; they are appended once the write is committed. */
  async append(absPath: string, offset: number, text: string): Promise<void> {
    this.#appends.push({ file: toRel(this.root, absPath), offset, text });
    await this.#ensureDirectory(dirname(absPath));
  }

  #ensureDirectory(dir: string): Promise<void> {
    if (this.knownDirs.has(dir)) return Promise.resolve();
    let made = this.#making.get(dir);
    if (made === undefined) {
      made = this.fs.makeDirectory(dir);
      this.#making.set(dir, made);
      // mkdir -p may have created every level below the store directory: make each entry durable.
      for (let parent = dir; parent !== this.root && parent.startsWith(this.root); parent = dirname(parent))
        this.#stagedDirs.add(dirname(parent));
    }
    return made;
  }

  /** Directories this write made sure exist, known to the journal once it commits. */
  get createdDirs(): Iterable<string> {
    return this.#making.keys();
  }

  /** Makes the staged files durable, then commits: resolves once `commit.json` names this write. */
  async commit(now: number): Promise<CommitRecord> {
    await Promise.all([...this.#stagedDirs].map((dir) => this.fs.syncDirectory(dir)));
    const record: CommitRecord = {
      format: COMMIT_FORMAT,
      version: 1,
      flush: this.seq,
      committedAt: now,
      files: this.#files,
      appends: this.#appends,
    };
    const temp = join(this.root, `.${COMMIT_FILE}.tmp`);
    await this.fs.writeFileDurable(temp, serializeCommitRecord(record));
    await this.fs.rename(temp, join(this.root, COMMIT_FILE));
    return record;
  }

  /** Removes what a write that will not commit staged. */
  async abandon(): Promise<void> {
    // Best effort: temp files of an uncommitted write are never read, and the next open removes
    // any left behind, so a failure here loses nothing (the write's own failure is reported).
    await Promise.allSettled([
      ...this.#files.map((f) => this.fs.removeFile(join(this.root, f.temp))),
      this.fs.removeFile(join(this.root, `.${COMMIT_FILE}.tmp`)),
    ]);
  }
}

/**
 * Puts a committed write in place. `fresh`: right after the commit, by the process that staged it,
 * which knows its temp files and audit offsets are as staged. Otherwise (on open, or after a
 * failed attempt), every temp file still present is verified before any is renamed, and an audit
 * append already (partly) done is not repeated.
 *
 * @returns the files renamed or appended to (relative paths).
 * @throws HST_ERR_STORE_CORRUPT when a temp file does not hold what the record says; nothing is changed then.
 */
export async function applyCommit(
  fs: StoreFileSystem,
  root: string,
  record: CommitRecord,
  fresh: boolean,
): Promise<string[]> {
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

/** The writes of one open store, in order: numbers them and remembers a committed write not fully applied. */
export class FlushJournal {
  #last: number;
  #unfinished: CommitRecord | null = null;
  readonly #knownDirs: Set<string>;

  /** @param knownDirs - directories of the store that exist (the store's own, its runs' found on open). */
  constructor(
    private readonly fs: StoreFileSystem,
    private readonly root: string,
    last: CommitRecord | null,
    knownDirs: Iterable<string>,
  ) {
    this.#last = last?.flush ?? 0;
    this.#knownDirs = new Set([root, ...knownDirs]);
  }

  /** Starts the next write. */
  begin(): StagedFlush {
    return new StagedFlush(this.fs, this.root, this.#last + 1, this.#knownDirs);
  }

  /**
   * Commits a staged write and applies it. Once the commit point is passed the write counts as
   * done for the caller's memory even if applying fails: `committed` is called, and the next
   * write (or open) finishes applying it before anything else.
   */
  async commit(flush: StagedFlush, now: number, committed: () => void): Promise<void> {
    const record = await flush.commit(now);
    this.#last = record.flush;
    this.#unfinished = record;
    for (const dir of flush.createdDirs) this.#knownDirs.add(dir);
    committed();
    await applyCommit(this.fs, this.root, record, true);
    this.#unfinished = null;
  }

  /** Finishes applying a committed write whose apply failed; a no-op when there is none. */
  async finishUnfinished(): Promise<void> {
    if (this.#unfinished === null) return;
    await applyCommit(this.fs, this.root, this.#unfinished, false);
    this.#unfinished = null;
  }
}
