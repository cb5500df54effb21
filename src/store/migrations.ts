/**
 * Schema migrations. `store.json` carries the store's schema version; opening an older store runs
 * the ordered steps below, in memory, then writes the result. Before anything is written the old
 * `store.json` is copied to `store.json.v<old>.bak` (and every file about to be overwritten to
 * its own `.v<old>.bak`). `store.json` is written last: it is the commit point, so a crash in the
 * middle leaves an old-version store that simply migrates again on the next open.
 *
 * @module
 */
import { join } from 'node:path';
import { HitstateError } from '../errors.js';
import { AtomicJsonAdapter, parseJsonObject } from './atomic-json-adapter.js';
import type { StoreEnvironment } from './environment.js';
import type { StoreFileSystem } from './file-system.js';
import { SCHEMA_VERSION, STORE_FILE } from './layout.js';
import { v0ToV1 } from './migrations/v0-to-v1.js';

/** What a migration step can read: the store as it is on disk, plus what earlier steps produced. */
export interface MigrationInput {
  readonly environment: StoreEnvironment;
  /** `store.json` as the previous step left it. */
  readonly store: Record<string, unknown>;
  /** Another file of the store (relative path), or null when it does not exist. */
  readJson(relPath: string): Promise<Record<string, unknown> | null>;
  /** Names in a directory of the store (relative path). */
  list(relDir: string): Promise<string[]>;
}

/** One step from schema `from` to `to`; returns the files to write (relative path → JSON data), `store.json` included. */
export interface Migration {
  readonly from: number;
  readonly to: number;
  readonly description: string;
  migrate(input: MigrationInput): Promise<ReadonlyMap<string, unknown>>;
}

/** Every step, oldest first. */
export const MIGRATIONS: readonly Migration[] = [v0ToV1];

/** The schema version a parsed `store.json` declares (a missing field means 0, the first layout). */
export function schemaVersionOf(raw: Record<string, unknown>): number | null {
  if (raw.schemaVersion === undefined) return 0;
  return Number.isSafeInteger(raw.schemaVersion) && (raw.schemaVersion as number) >= 0
    ? (raw.schemaVersion as number)
    : null;
}

export interface MigrationContext {
  readonly root: string;
  readonly fs: StoreFileSystem;
  readonly environment: StoreEnvironment;
}

/**
 * Migrates the store at `ctx.root` from `from` to {@link SCHEMA_VERSION}.
 *
 * @returns the path of the backup of the old `store.json`.
 * @throws HST_ERR_STORE_MIGRATION_FAILED when a step fails or the result cannot be written; the
 *   old `store.json` is then untouched and its backup is named.
 */
export async function migrateStore(
  ctx: MigrationContext,
  storeRaw: Record<string, unknown>,
  from: number,
): Promise<string> {
  const storePath = join(ctx.root, STORE_FILE);
  const backup = `${storePath}.v${from}.bak`;
  const fail = (message: string, cause: unknown): HitstateError =>
    new HitstateError(
      'HST_ERR_STORE_MIGRATION_FAILED',
      `migrating ${storePath} from schema ${from} to ${SCHEMA_VERSION} failed: ${message}. The file is untouched; its backup is ${backup}.`,
      { file: storePath, cause },
    );

  await keepBackup(ctx.fs, storePath, backup);
  const produced = await runMigrations(ctx, storeRaw, from, fail);
  try {
    for (const [rel, data] of produced) {
      if (rel === STORE_FILE) continue;
      const path = join(ctx.root, rel);
      await keepBackup(ctx.fs, path, `${path}.v${from}.bak`);
      await new AtomicJsonAdapter(path, ctx.fs).write(data);
    }
    await new AtomicJsonAdapter(storePath, ctx.fs).write(produced.get(STORE_FILE));
  } catch (err) {
    throw fail(`writing the migrated files: ${(err as Error).message}`, err);
  }
  return backup;
}

/**
 * Migrates in memory only, for a read-only store: the files the steps produce (relative path →
 * JSON data, `store.json` included); nothing is written.
 *
 * @throws HST_ERR_STORE_MIGRATION_FAILED when a step fails.
 */
export function migrateInMemory(
  ctx: MigrationContext,
  storeRaw: Record<string, unknown>,
  from: number,
): Promise<ReadonlyMap<string, unknown>> {
  const storePath = join(ctx.root, STORE_FILE);
  return runMigrations(
    ctx,
    storeRaw,
    from,
    (message, cause) =>
      new HitstateError(
        'HST_ERR_STORE_MIGRATION_FAILED',
        `migrating ${storePath} from schema ${from} to ${SCHEMA_VERSION} in memory (read-only) failed: ${message}. Nothing was written.`,
        { file: storePath, cause },
      ),
  );
}

async function runMigrations(
  ctx: MigrationContext,
  storeRaw: Record<string, unknown>,
  from: number,
  fail: (message: string, cause: unknown) => HitstateError,
): Promise<Map<string, unknown>> {
  const produced = new Map<string, unknown>();
  let store = storeRaw;
  let version = from;
  try {
    while (version < SCHEMA_VERSION) {
      const step = MIGRATIONS.find((m) => m.from === version);
      if (step === undefined) throw new Error(`this hitstate has no migration from schema ${version}`);
      const input: MigrationInput = {
        environment: ctx.environment,
        store,
        readJson: async (rel) => {
          if (produced.has(rel)) return produced.get(rel) as Record<string, unknown>;
          const bytes = await ctx.fs.readFile(join(ctx.root, rel));
          return bytes === null ? null : parseJsonObject(join(ctx.root, rel), bytes);
        },
        list: (rel) => ctx.fs.listDirectory(join(ctx.root, rel)),
      };
      const files = await step.migrate(input);
      const next = files.get(STORE_FILE);
      if (typeof next !== 'object' || next === null)
        throw new Error(`step ${step.from}→${step.to} produced no ${STORE_FILE}`);
      for (const [rel, data] of files) produced.set(rel, data);
      store = next as Record<string, unknown>;
      version = step.to;
    }
  } catch (err) {
    if (err instanceof HitstateError) throw err;
    throw fail((err as Error).message, err);
  }
  return produced;
}

/** Copies `path` to `backup` unless the backup exists already (a rerun keeps the first, oldest copy). */
async function keepBackup(fs: StoreFileSystem, path: string, backup: string): Promise<void> {
  if ((await fs.statFile(path)) === null || (await fs.statFile(backup)) !== null) return;
  await fs.copyFile(path, backup);
}
