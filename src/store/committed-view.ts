/**
 * What a read-only store reads: the store's last committed state, taken without the lock while
 * another process may be writing it.
 *
 * Every file is opened first and read later: an open file keeps its content when a write renames
 * a new file over its path, so only the opening must see one state, and it takes milliseconds
 * whatever the store's size. Every commit replaces `commit.json` (a new file identity), so
 * `commit.json` having the same identity before and after the opening proves no write committed in
 * between. During that window the files can change only by the renames of the write `commit.json`
 * records (the next write stages temp files and renames nothing before it commits). So the files
 * of that write are taken from its temp file while it is still there, else from the file itself,
 * and every other file as it is. If a write committed meanwhile, the look is taken again.
 *
 * @module
 */
import { basename, dirname, join } from 'node:path';
import { HitstateError } from '../errors.js';
import type { CommittedLog } from './audit-log.js';
import { COMMIT_FILE, type CommitRecord, type CommittedFile } from './commit-record.js';
import type { FileStat, OpenedFile, StoreFileSystem } from './file-system.js';
import { checkedCommitRecord, checkStagedContent } from './flush-commit.js';
import { AUDIT_FILE, RUNS_DIR, SHARD_FILE, STORE_FILE, stringifyStoreFile, WORKERS_FILE } from './layout.js';

/** How many times a look is retried while the writer keeps committing. */
const MAX_ATTEMPTS = 25;

const isDataFile = (dir: string, root: string, name: string): boolean =>
  dir === root ? name === STORE_FILE || name === WORKERS_FILE : SHARD_FILE.test(name);

/**
 * The files of a store as of its last commit, served through the {@link StoreFileSystem}
 * interface so the ordinary loader reads them. Writing through it is refused.
 */
export class CommittedView implements StoreFileSystem {
  readonly #fs: StoreFileSystem;
  readonly #opened: Map<string, OpenedFile | null>;
  /** Files read from the temp file of the committed write: what the record says they hold. */
  readonly #staged: Map<string, CommittedFile>;
  readonly #root: string;
  readonly #listings: Map<string, string[]>;
  readonly #logs: Map<string, CommittedLog>;
  readonly #content = new Map<string, Buffer | null>();
  /** Files migrated in memory (an older schema is never rewritten by a read-only store). */
  readonly #replaced = new Map<string, Buffer>();

  /**
   * Use {@link CommittedView.take}.
   * @param record - the last commit, or null for a store never written with a commit record.
   */
  constructor(
    fs: StoreFileSystem,
    root: string,
    readonly record: CommitRecord | null,
    opened: Map<string, OpenedFile | null>,
    staged: Map<string, CommittedFile>,
    listings: Map<string, string[]>,
    logs: Map<string, CommittedLog>,
  ) {
    this.#fs = fs;
    this.#root = root;
    this.#opened = opened;
    this.#staged = staged;
    this.#listings = listings;
    this.#logs = logs;
  }

  /**
   * Takes the look. The caller closes the view once it has read everything.
   * @throws HST_ERR_STORE_LOCKED when the writer committed during every attempt;
   *   HST_ERR_STORE_CORRUPT when `commit.json` cannot be used.
   */
  static async take(fs: StoreFileSystem, root: string): Promise<CommittedView> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const view = await attemptView(fs, root);
      if (view !== null) return view;
    }
    throw new HitstateError(
      'HST_ERR_STORE_LOCKED',
      `the store at ${root} was written ${MAX_ATTEMPTS} times while a read-only look at it was being taken; the process writing it commits too often right now. Try again.`,
      { file: root },
    );
  }

  /** What a read-only store shows of the audit log at `absPath`. */
  committedLog(absPath: string): CommittedLog {
    return this.#logs.get(absPath) ?? { limit: 0, tail: '' };
  }

  /** Serves `data` as the file at `absPath` from now on (a migration done in memory). */
  replace(absPath: string, data: unknown): void {
    this.#replaced.set(absPath, Buffer.from(stringifyStoreFile(data), 'utf8'));
    for (
      let path = absPath;
      dirname(path) !== path && path.startsWith(this.#root) && path !== this.#root;
      path = dirname(path)
    ) {
      const names = this.#listings.get(dirname(path)) ?? [];
      if (!names.includes(basename(path))) this.#listings.set(dirname(path), [...names, basename(path)]);
    }
  }

  /** Closes every file still open and forgets what was read. */
  async close(): Promise<void> {
    const open = [...this.#opened.values()].filter((f): f is OpenedFile => f !== null);
    this.#opened.clear();
    this.#content.clear();
    await Promise.all(open.map((f) => f.close()));
  }

  async readFile(path: string): Promise<Buffer | null> {
    const replaced = this.#replaced.get(path);
    if (replaced !== undefined) return replaced;
    if (this.#content.has(path)) return this.#content.get(path)!;
    if (!this.#opened.has(path)) return this.#fs.readFile(path); // backups, named in error messages
    const file = this.#opened.get(path)!;
    this.#opened.delete(path);
    const bytes = file === null ? null : await file.read().finally(() => file.close());
    const staged = this.#staged.get(path);
    if (staged !== undefined) checkStagedContent(this.#root, this.record!, staged, bytes);
    this.#content.set(path, bytes);
    return bytes;
  }

  async listDirectory(path: string): Promise<string[]> {
    return [...(this.#listings.get(path) ?? [])];
  }

  statFile(path: string): Promise<FileStat | null> {
    return this.#fs.statFile(path);
  }

  openForReading(path: string): Promise<OpenedFile | null> {
    return this.#fs.openForReading(path);
  }

  writeFileDurable(path: string): Promise<number> {
    return this.#refuse(path);
  }

  appendDurable(path: string): Promise<void> {
    return this.#refuse(path);
  }

  rename(from: string): Promise<void> {
    return this.#refuse(from);
  }

  syncDirectory(dir: string): Promise<void> {
    return this.#refuse(dir);
  }

  removeFile(path: string): Promise<void> {
    return this.#refuse(path);
  }

  removeEmptyDirectory(path: string): Promise<boolean> {
    return this.#refuse(path);
  }

  truncateFile(path: string): Promise<void> {
    return this.#refuse(path);
  }

  copyFile(from: string): Promise<void> {
    return this.#refuse(from);
  }

  makeDirectory(path: string): Promise<void> {
    return this.#refuse(path);
  }

  #refuse(path: string): Promise<never> {
    return Promise.reject(
      new HitstateError(
        'HST_ERR_STORE_READ_ONLY',
        `a read-only store never changes its files, but ${path} was about to change`,
        { file: path },
      ),
    );
  }
}

/** One attempt at the look; null when a write committed while it was taken. */
async function attemptView(fs: StoreFileSystem, root: string): Promise<CommittedView | null> {
  const commitPath = join(root, COMMIT_FILE);
  const opened = new Map<string, OpenedFile | null>();
  const staged = new Map<string, CommittedFile>();
  const recordFile = await fs.openForReading(commitPath);
  try {
    const record = recordFile === null ? null : checkedCommitRecord(commitPath, await recordFile.read());
    const listings = new Map<string, string[]>([[root, await fs.listDirectory(root)]]);
    const runsDir = join(root, RUNS_DIR);
    const runIds = (await fs.listDirectory(runsDir)).filter((name) => !name.startsWith('.'));
    listings.set(runsDir, runIds);
    await Promise.all(
      runIds.map(async (id) => listings.set(join(runsDir, id), await fs.listDirectory(join(runsDir, id)))),
    );

    // The committed write's files: from the temp file while it is not renamed yet, else the file.
    for (const f of record?.files ?? []) {
      const path = join(root, f.file);
      const temp = await fs.openForReading(join(root, f.temp));
      if (temp !== null) staged.set(path, f);
      opened.set(path, temp ?? (await fs.openForReading(path)));
      const names = listings.get(dirname(path)) ?? [];
      if (!names.includes(basename(path))) listings.set(dirname(path), [...names, basename(path)]);
    }
    for (const [dir, names] of listings) {
      if (dir === runsDir) continue;
      for (const name of names) {
        const path = join(dir, name);
        if (isDataFile(dir, root, name) && !opened.has(path)) opened.set(path, await fs.openForReading(path));
      }
    }
    for (const name of [STORE_FILE, WORKERS_FILE])
      if (!opened.has(join(root, name))) opened.set(join(root, name), null);

    // Audit logs only grow: their committed part is a byte prefix, plus the lines the committed
    // write has yet to append.
    const logs = new Map<string, CommittedLog>();
    for (const dir of [root, ...runIds.map((id) => join(runsDir, id))]) {
      const path = join(dir, AUDIT_FILE);
      const append = record?.appends.find((a) => join(root, a.file) === path);
      logs.set(
        path,
        append !== undefined
          ? { limit: append.offset, tail: append.text }
          : { limit: (await fs.statFile(path))?.size ?? 0, tail: '' },
      );
    }

    const now = await fs.statFile(commitPath);
    if ((now?.id ?? null) !== (recordFile?.id ?? null)) {
      await closeAll(opened);
      return null;
    }
    return new CommittedView(fs, root, record, opened, staged, listings, logs);
  } catch (err) {
    await closeAll(opened);
    throw err;
  } finally {
    await recordFile?.close();
  }
}

async function closeAll(opened: Map<string, OpenedFile | null>): Promise<void> {
  await Promise.all([...opened.values()].map((f) => f?.close()));
}
