/**
 * The few file operations the store performs, behind an interface so tests can inject faults
 * (a full disk, a crash between the temp file and the rename) exactly where they want them.
 *
 * @module
 */
import { constants } from 'node:fs';
import { type FileHandle, copyFile, mkdir, open, readdir, readFile, rename, rm, rmdir, stat } from 'node:fs/promises';

/** File operations used by the store; {@link nodeFileSystem} is the real one. */
export interface StoreFileSystem {
  /** The file's bytes, or null when it does not exist. */
  readFile(path: string): Promise<Buffer | null>;
  /** Creates or truncates `path`, writes `text`, fsyncs and closes it. Returns the bytes written. */
  writeFileDurable(path: string, text: string): Promise<number>;
  /** Appends `text` to `path` (created if missing) and fsyncs it. */
  appendDurable(path: string, text: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  /** Makes a rename in `dir` durable (fsync of the directory). */
  syncDirectory(dir: string): Promise<void>;
  /** Removes a file; a missing file is not an error. */
  removeFile(path: string): Promise<void>;
  /** Removes a directory if it is empty; returns false when it is missing or not empty. */
  removeEmptyDirectory(path: string): Promise<boolean>;
  /** Cuts the file to `size` bytes and fsyncs it. */
  truncateFile(path: string, size: number): Promise<void>;
  copyFile(from: string, to: string): Promise<void>;
  /** `mkdir -p`. */
  makeDirectory(path: string): Promise<void>;
  /** Names in a directory, or [] when it does not exist. */
  listDirectory(path: string): Promise<string[]>;
  /**
   * Size in bytes, modification time (epoch ms, with the filesystem's sub-ms precision) and
   * identity (device and inode: a rename over the path gives it a new one), or null when the file
   * does not exist.
   */
  statFile(path: string): Promise<FileStat | null>;
  /**
   * Opens a file for reading, or resolves null when it does not exist. The handle keeps reading
   * the file it opened even after a rename replaces the path, which is how a read-only store takes
   * a consistent look at files another process keeps replacing.
   */
  openForReading(path: string): Promise<OpenedFile | null>;
}

/** What {@link StoreFileSystem.statFile} tells. */
export interface FileStat {
  readonly size: number;
  readonly modifiedAt: number;
  /** Device and inode: equal ids mean the very same file, not only the same content. */
  readonly id: string;
}

/** A file opened by {@link StoreFileSystem.openForReading}. */
export interface OpenedFile {
  /** The file's identity, as {@link FileStat.id}. */
  readonly id: string;
  /** The whole file, from its start. */
  read(): Promise<Buffer>;
  close(): Promise<void>;
}

const isMissing = (err: unknown): boolean => (err as NodeJS.ErrnoException)?.code === 'ENOENT';

/** The store's file operations on the real disk (node:fs), with fsync where durability needs it. */
export const nodeFileSystem: StoreFileSystem = {
  async readFile(path) {
    try {
      return await readFile(path);
    } catch (err) {
      if (isMissing(err)) return null;
      throw err;
    }
  },
  async writeFileDurable(path, text) {
    const handle = await open(path, 'w', 0o600);
    try {
      const data = Buffer.from(text, 'utf8');
      await handle.writeFile(data);
      await handle.sync();
      return data.length;
    } finally {
      await handle.close();
    }
  },
  async appendDurable(path, text) {
    const handle = await open(path, 'a', 0o600);
    try {
      await handle.writeFile(text, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
  },
  rename: (from, to) => rename(from, to),
  async syncDirectory(dir) {
    // Windows cannot open a directory for fsync; its rename is durable through the journal.
    if (process.platform === 'win32') return;
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  },
  removeFile: (path) => rm(path, { force: true }),
  async removeEmptyDirectory(path) {
    try {
      await rmdir(path);
      return true;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTEMPTY' || code === 'EEXIST') return false;
      throw err;
    }
  },
  async truncateFile(path, size) {
    const handle = await open(path, 'r+');
    try {
      await handle.truncate(size);
      await handle.sync();
    } finally {
      await handle.close();
    }
  },
  // A copy-on-write clone where the filesystem supports it (btrfs, APFS, XFS), a plain copy otherwise.
  copyFile: (from, to) => copyFile(from, to, constants.COPYFILE_FICLONE),
  makeDirectory: async (path) => void (await mkdir(path, { recursive: true })),
  async listDirectory(path) {
    try {
      return await readdir(path);
    } catch (err) {
      if (isMissing(err) || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return [];
      throw err;
    }
  },
  async statFile(path) {
    try {
      // bigint: inode numbers can exceed 2^53 (Windows file ids, some network filesystems).
      const s = await stat(path, { bigint: true });
      return { size: Number(s.size), modifiedAt: Number(s.mtimeNs) / 1e6, id: `${s.dev}:${s.ino}` };
    } catch (err) {
      if (isMissing(err)) return null;
      throw err;
    }
  },
  async openForReading(path) {
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch (err) {
      if (isMissing(err)) return null;
      throw err;
    }
    try {
      const s = await handle.stat({ bigint: true });
      const opened = handle;
      return { id: `${s.dev}:${s.ino}`, read: () => opened.readFile(), close: () => opened.close() };
    } catch (err) {
      await handle.close();
      throw err;
    }
  },
};
