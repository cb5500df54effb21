/**
 * Rotating backups of every store file (`<file>.bak.1` newest ... `<file>.bak.N` oldest), taken
 * when the store opens a good file and when it closes after writing one. A backup is taken only
 * when the file differs from `.bak.1`, so opening and closing an unchanged store does not push
 * older, different states out of the rotation.
 *
 * @module
 */
import type { StoreFileSystem } from './file-system.js';

export const backupPath = (path: string, n: number): string => `${path}.bak.${n}`;

/**
 * Takes a backup of `path` unless `.bak.1` already holds its content. `.bak.1` is known to hold it
 * when it has the same size and was written after the file (every store write replaces the file,
 * giving it a newer time); otherwise, at the same size, the bytes are compared. Returns true when
 * a backup was taken. `known` is the file's bytes when the caller has just read them (opening):
 * they are compared instead of reading the file again.
 */
export async function rotateBackups(
  fs: StoreFileSystem,
  path: string,
  count: number,
  known?: Buffer,
): Promise<boolean> {
  if (count < 1) return false;
  const file = await fs.statFile(path);
  if (file === null) return false;
  const newest = await fs.statFile(backupPath(path, 1));
  if (newest !== null && newest.size === file.size) {
    if (newest.modifiedAt > file.modifiedAt) return false;
    // The times tie, or the store was copied without its files' times (cp, rsync -r): the bytes decide.
    const [a, b] = await Promise.all([known ?? fs.readFile(path), fs.readFile(backupPath(path, 1))]);
    if (a !== null && b !== null && a.equals(b)) return false;
  }
  await fs.removeFile(backupPath(path, count));
  for (let n = count - 1; n >= 1; n--) {
    try {
      await fs.rename(backupPath(path, n), backupPath(path, n + 1));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  await fs.copyFile(path, backupPath(path, 1));
  return true;
}

/** A backup that passed the same checks as the file itself. */
export interface GoodBackup {
  readonly path: string;
  readonly modifiedAt: number;
}

/**
 * The newest backup of `path` (among `.bak.1` to `.bak.<count>`) for which `isGood` holds.
 * Backups that cannot be read or fail the check are skipped.
 */
export async function newestGoodBackup(
  fs: StoreFileSystem,
  path: string,
  count: number,
  isGood: (bytes: Buffer) => boolean,
): Promise<GoodBackup | null> {
  for (let n = 1; n <= Math.max(count, 1); n++) {
    const candidate = backupPath(path, n);
    const bytes = await fs.readFile(candidate).catch(() => null);
    if (bytes === null) continue;
    let good = false;
    try {
      good = isGood(bytes);
    } catch {
      good = false;
    }
    if (good) {
      const stat = await fs.statFile(candidate);
      return { path: candidate, modifiedAt: stat?.modifiedAt ?? 0 };
    }
  }
  return null;
}
