/**
 * Putting a backup back in place of a damaged file, the fix `HST_ERR_STORE_CORRUPT` points to.
 *
 * @module
 */
import { isAbsolute, join, relative, resolve } from 'node:path';
import { type Clock, systemClock } from '../clock.js';
import { HitstateError } from '../errors.js';
import { tempPathOf } from './atomic-json-adapter.js';
import { backupPath, newestGoodBackup } from './backups.js';
import { environmentSlug, normalizeEnvironment, type StoreEnvironment } from './environment.js';
import { nodeFileSystem, type StoreFileSystem } from './file-system.js';
import { describePath } from './layout.js';
import { isUsableFile } from './load.js';
import { acquireStoreAlone } from './lock.js';

/** Options of {@link restoreBackup}. */
export interface RestoreBackupOptions {
  /** @defaultValue `$HITSTATE_STORE_DIR`, else `<cwd>/.hitstate` (as for openStore) */
  readonly dir?: string;
  readonly environment: StoreEnvironment;
  /** The damaged file, relative to the environment's directory (`runs/pilot-1/units-000.json`) or absolute. */
  readonly file: string;
  /** Which backup (1 is the newest). @defaultValue the newest one that passes the store's checks */
  readonly backup?: number;
  /** @defaultValue 3 */
  readonly backups?: number;
  /** @defaultValue systemClock (used to name the copy of the damaged file) */
  readonly clock?: Clock;
  /** @defaultValue nodeFileSystem */
  readonly fileSystem?: StoreFileSystem;
}

/** What {@link restoreBackup} did. */
export interface RestoredBackup {
  readonly file: string;
  readonly from: string;
  /** Where the damaged file was kept, or null when there was none. */
  readonly damagedCopy: string | null;
}

/**
 * Replaces a damaged store file by a backup, keeping the damaged file as `<file>.damaged-<time>`.
 * Takes the store lock, so it refuses while hitstate has the store open.
 *
 * @example
 * ```ts
 * await restoreBackup({ environment: { kind: 'sandbox' }, file: 'runs/pilot-1/units-000.json' });
 * ```
 * @throws HST_ERR_STORE_LOCKED, HST_ERR_STORE_NOT_FOUND (no usable backup, or not a store file).
 */
export async function restoreBackup(options: RestoreBackupOptions): Promise<RestoredBackup> {
  const environment = normalizeEnvironment(options.environment);
  const fs = options.fileSystem ?? nodeFileSystem;
  const clock = options.clock ?? systemClock;
  const root = join(
    resolve(options.dir ?? process.env.HITSTATE_STORE_DIR ?? join(process.cwd(), '.hitstate')),
    environmentSlug(environment),
  );
  const file = isAbsolute(options.file) ? options.file : join(root, options.file);
  const what = describePath(relative(root, file));
  if (what === null)
    throw new HitstateError('HST_ERR_STORE_NOT_FOUND', `${file} is not a file of the store at ${root}`, { file });
  const lock = await acquireStoreAlone(root, clock.now());
  try {
    const usable = (bytes: Buffer) => isUsableFile(bytes, file, what.kind, environment, what.runId);
    let from: string;
    if (options.backup === undefined) {
      const good = await newestGoodBackup(fs, file, options.backups ?? 3, usable);
      if (good === null)
        throw new HitstateError('HST_ERR_STORE_NOT_FOUND', `no usable backup of ${file} (${backupPath(file, 1)} ...)`, {
          file,
        });
      from = good.path;
    } else {
      from = backupPath(file, options.backup);
      const bytes = await fs.readFile(from);
      if (bytes === null || !usable(bytes))
        throw new HitstateError(
          'HST_ERR_STORE_NOT_FOUND',
          `${from} is missing or is not a usable ${what.kind} file of this environment`,
          { file: from },
        );
    }
    let damagedCopy: string | null = null;
    if ((await fs.statFile(file)) !== null) {
      damagedCopy = `${file}.damaged-${new Date(clock.now()).toISOString().replace(/[:.]/g, '-')}`;
      await fs.copyFile(file, damagedCopy);
    }
    const temp = tempPathOf(file);
    await fs.copyFile(from, temp);
    await fs.rename(temp, file);
    await fs.syncDirectory(join(file, '..'));
    return { file, from, damagedCopy };
  } finally {
    await lock.release();
  }
}
