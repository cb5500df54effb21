/**
 * Checking a store's files without opening it (no lock, nothing written), and saying what a
 * backup of a damaged file would lose: `hitstate store check`, and the text of every
 * `HST_ERR_STORE_CORRUPT`. A backup of `store.json` predates the runs created after it; putting
 * it back by hand would drop them while their folders and their HITs on MTurk live on, so the
 * loss is always named.
 *
 * Reads with node's synchronous fs: this runs on error paths and in a diagnostic command, never
 * in the write path.
 *
 * @module
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { HitstateError } from '../errors.js';
import { parseJsonObject } from './atomic-json-adapter.js';
import { backupPath } from './backups.js';

import { normalizeEnvironment, type StoreEnvironment } from './environment.js';
import { JOURNAL_FILE, SEGMENT_FILE } from './lowdb/backend.js';
import { parseJournal } from './lowdb/journal.js';
import {
  type FileKind,
  RUN_COPY_FILE,
  RUNS_DIR,
  SCHEMA_VERSION,
  SHARD_FILE,
  isShardKind,
  type ShardKind,
  STORE_FILE,
  TEMP_FILE,
  WORKERS_FILE,
} from './layout.js';
import { schemaVersionOf } from './migrations.js';
import { checkHeader, hydrateCore, hydrateRecords, hydrateRunCopy, readWorker } from './schema.js';
import { SHARD_READERS } from './load.js';

/** One file of a store, as checked. */
export interface FileCheck {
  /** Relative to the environment's directory (`store.json`, `runs/r1/units-000.json`). */
  readonly file: string;
  readonly kind: FileKind;
  readonly runId: string | null;
  readonly ok: boolean;
  /** Why the file cannot be used, or null. */
  readonly problem: string | null;
  /** Records it holds (runs for store.json), when it could be read. */
  readonly records: number | null;
  /** For a damaged file: its newest backup that passes the same checks, or null. */
  readonly backup: GoodBackupInfo | null;
}

/** A usable backup of a damaged file and what putting it back would lose. */
export interface GoodBackupInfo {
  readonly path: string;
  readonly modifiedAt: number;
  readonly loss: BackupLoss;
}

/** What a backup lacks compared with the rest of the store on disk. */
export interface BackupLoss {
  /** Runs with a folder on disk that the backup does not know, with their units. */
  readonly runs: readonly { readonly runId: string; readonly units: number | null; readonly status: string | null }[];
  /** For store.json: runs the backup knows with an older status than their run.json copy. */
  readonly rolledBack?: readonly { readonly runId: string; readonly now: string; readonly inBackup: string }[];
  /** For a run's shard: how many units (or other records) of the run the backup lacks, when known. */
  readonly records: number | null;
  /** One sentence: `it would lose run r1 (3 units, running)`. */
  readonly text: string;
}

/** The whole check of one environment's store. */
export interface StoreCheck {
  readonly root: string;
  readonly environment: StoreEnvironment | null;
  readonly ok: boolean;
  readonly files: readonly FileCheck[];
  /** Run folders under runs/ holding data. */
  readonly runsOnDisk: readonly string[];
}

type Raw = Record<string, unknown>;

function readRaw(path: string): Raw | null {
  if (!existsSync(path)) return null;
  return parseJsonObject(path, readFileSync(path));
}

/** Checks `raw` as a file of `kind`, as opening would (header, version, every record). */
function validate(raw: Raw, kind: FileKind, environment: StoreEnvironment, runId: string | null): number {
  const version = schemaVersionOf(raw);
  if (kind === 'store' && version !== null && version < SCHEMA_VERSION) {
    checkHeader(raw, kind, environment);
    return Object.keys((raw.runs as Raw | undefined) ?? {}).length;
  }
  checkHeader(raw, kind, environment, runId ?? undefined);
  if (version !== SCHEMA_VERSION)
    throw new Error(`its schemaVersion is ${JSON.stringify(raw.schemaVersion)}, this hitstate reads ${SCHEMA_VERSION}`);
  if (kind === 'store') return hydrateCore(raw).runs.size;
  if (kind === 'run') return hydrateRunCopy(raw).run === null ? 0 : 1;
  if (kind === 'workers') return hydrateRecords(raw, readWorker, (w) => w.id).records.size;
  if (!isShardKind(kind)) throw new Error(`a ${kind} file holds no records to check this way`);
  return shardRecordCount(raw, kind);
}

/** Hydrates a shard of `kind` as opening would; generic so the reader's record type follows the kind. */
function shardRecordCount<K extends ShardKind>(raw: Raw, kind: K): number {
  const reader = SHARD_READERS[kind];
  return hydrateRecords(raw, reader.read, reader.id, reader.run).records.size;
}

/** The problem with `path` as a file of `kind`, or null when it opens; and its record count. */
function checkFile(
  path: string,
  kind: FileKind,
  environment: StoreEnvironment,
  runId: string | null,
): { problem: string | null; records: number | null } {
  try {
    const raw = readRaw(path);
    if (raw === null) return { problem: 'the file is missing', records: null };
    return { problem: null, records: validate(raw, kind, environment, runId) };
  } catch (err) {
    const reason = (err as { reason?: string }).reason ?? (err as Error).message;
    return { problem: reason, records: null };
  }
}

/** Run folders under `runs/` holding at least one data file. */
export function runFoldersOnDisk(root: string): string[] {
  const dir = join(root, RUNS_DIR);
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && !d.name.startsWith('.'))
    .filter((d) => readdirSync(join(dir, d.name)).some((f) => !TEMP_FILE.test(f)))
    .map((d) => d.name)
    .sort();
}

/** Units of a run counted from its unit shards on disk (null when a shard cannot be read). */
function unitsOnDisk(root: string, runId: string): number | null {
  const dir = join(root, RUNS_DIR, runId);
  const units = new Set<string>();
  const names = readdirSync(dir);
  for (const name of names) {
    if (SHARD_FILE.exec(name)?.[1] !== 'units') continue;
    try {
      for (const key of Object.keys((readRaw(join(dir, name))?.records as Raw | undefined) ?? {})) units.add(key);
    } catch {
      return null;
    }
  }
  // Units committed since the last checkpoint are in the run's journal (sealed segments first).
  const journals = names
    .filter((n) => SEGMENT_FILE.test(n))
    .sort((a, b) => Number(SEGMENT_FILE.exec(a)![1]) - Number(SEGMENT_FILE.exec(b)![1]));
  if (names.includes(JOURNAL_FILE)) journals.push(JOURNAL_FILE);
  for (const name of journals)
    for (const entry of parseJournal(readFileSync(join(dir, name))).entries)
      for (const [collection, key, json] of entry.changes)
        if (collection === 'units') {
          if (json === null) units.delete(key);
          else units.add(key);
        }
  return units.size;
}

/** Checks a journal (or a sealed segment): its entries count as records; a torn last entry is no problem. */
function checkJournal(abs: string, file: string, runId: string | null): FileCheck {
  const parsed = parseJournal(readFileSync(abs));
  const inside = parsed.damaged.find((d) => d.offset < parsed.goodBytes);
  return {
    file,
    kind: 'journal',
    runId,
    ok: inside === undefined,
    problem:
      inside === undefined
        ? null
        : `${inside.bytes} bytes at offset ${inside.offset} do not check out and committed entries follow them (a damaged disk or a hand edit)`,
    records: parsed.entries.length,
    backup: null,
  };
}

/** A run's status from its run.json copy, when readable. */
function copiedStatus(root: string, runId: string): string | null {
  try {
    const run = readRaw(join(root, RUNS_DIR, runId, RUN_COPY_FILE))?.run as Raw | null | undefined;
    return typeof run?.status === 'string' ? run.status : null;
  } catch {
    return null;
  }
}

/** How many units the run's record says it has (config.units as a count or a list). */
function configuredUnits(root: string, runId: string): number | null {
  const fromRecord = (run: Raw | undefined | null): number | null => {
    const units = (run?.config as Raw | undefined)?.units;
    return Array.isArray(units) ? units.length : typeof units === 'number' ? units : null;
  };
  try {
    const n = fromRecord(readRaw(join(root, RUNS_DIR, runId, RUN_COPY_FILE))?.run as Raw | null);
    if (n !== null) return n;
  } catch {
    // Fall back to store.json below.
  }
  try {
    return fromRecord((readRaw(join(root, STORE_FILE))?.runs as Raw | undefined)?.[runId] as Raw | undefined);
  } catch {
    return null;
  }
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/** What putting `backup` back in place of `file` (relative) would lose. */
export function backupLoss(
  root: string,
  file: string,
  kind: FileKind,
  runId: string | null,
  backup: string,
): BackupLoss {
  if (kind === 'store') {
    let backupRuns: Raw = {};
    try {
      backupRuns = ((readRaw(backup)?.runs as Raw | undefined) ?? {}) as Raw;
    } catch {
      backupRuns = {};
    }
    const onDisk = runFoldersOnDisk(root);
    const runs = onDisk
      .filter((id) => backupRuns[id] === undefined)
      .map((id) => ({ runId: id, units: unitsOnDisk(root, id), status: copiedStatus(root, id) }));
    const rolledBack = onDisk.flatMap((id) => {
      const old = (backupRuns[id] as Raw | undefined)?.status;
      const now = copiedStatus(root, id);
      return typeof old === 'string' && now !== null && now !== old ? [{ runId: id, now, inBackup: old }] : [];
    });
    const lost =
      runs.length === 0
        ? 'it knows every run that has a folder on disk'
        : `it would lose ${runs
            .map(
              (r) =>
                `run ${r.runId} (${r.units === null ? 'units unknown' : plural(r.units, 'unit')}${r.status === null ? '' : `, ${r.status}`})`,
            )
            .join(', ')}, whose folder${runs.length === 1 ? ' is' : 's are'} on disk`;
    const back =
      rolledBack.length === 0
        ? ''
        : `, and take ${rolledBack.map((r) => `run ${r.runId} back from ${r.now} to ${r.inBackup}`).join(', ')}`;
    return { runs, rolledBack, records: null, text: `${lost}${back}` };
  }
  let inBackup: number | null = null;
  try {
    inBackup = Object.keys((readRaw(backup)?.records as Raw | undefined) ?? {}).length;
  } catch {
    inBackup = null;
  }
  if (kind === 'units' && runId !== null && inBackup !== null) {
    const expected = configuredUnits(root, runId);
    const others = readdirSync(join(root, RUNS_DIR, runId))
      .filter((n) => SHARD_FILE.exec(n)?.[1] === 'units' && join(RUNS_DIR, runId, n) !== join(file))
      .reduce((sum, n) => {
        try {
          return sum + Object.keys((readRaw(join(root, RUNS_DIR, runId, n))?.records as Raw | undefined) ?? {}).length;
        } catch {
          return sum;
        }
      }, 0);
    const lost = expected === null ? null : Math.max(0, expected - others - inBackup);
    return {
      runs: [],
      records: lost,
      text:
        lost === null
          ? `it holds ${plural(inBackup, 'unit')} of run ${runId}; changes to them since it was taken would be lost`
          : `it would lose ${plural(lost, 'unit')} of run ${runId} (the backup holds ${inBackup}), and changes since it was taken`,
    };
  }
  return {
    runs: [],
    records: null,
    text: `it holds ${inBackup === null ? 'the' : plural(inBackup, 'record')}${inBackup === null ? ' records' : ''} of ${runId === null ? 'the store' : `run ${runId}`} as they were when it was taken; later changes to that file would be lost`,
  };
}

/** The newest backup of `file` (relative) that passes the checks, with what it would lose. */
export function newestUsableBackup(
  root: string,
  file: string,
  kind: FileKind,
  environment: StoreEnvironment,
  runId: string | null,
  count = 3,
): GoodBackupInfo | null {
  for (let n = 1; n <= count; n++) {
    const path = backupPath(join(root, file), n);
    if (!existsSync(path)) continue;
    if (checkFile(path, kind, environment, runId).problem !== null) continue;
    return { path, modifiedAt: statSync(path).mtimeMs, loss: backupLoss(root, file, kind, runId, path) };
  }
  return null;
}

/**
 * The environment of a store directory: from store.json, else from any other store file or
 * backup that names it (a damaged store.json does not hide it).
 */
export function environmentOfDir(root: string): StoreEnvironment | null {
  const candidates = [
    join(root, STORE_FILE),
    ...[1, 2, 3].map((n) => backupPath(join(root, STORE_FILE), n)),
    join(root, WORKERS_FILE),
    ...runFoldersOnDisk(root).flatMap((id) =>
      readdirSync(join(root, RUNS_DIR, id))
        .filter((n) => n.endsWith('.json'))
        .map((n) => join(root, RUNS_DIR, id, n)),
    ),
  ];
  for (const path of candidates) {
    try {
      const env = readRaw(path)?.environment;
      if (env !== undefined) return normalizeEnvironment(env as StoreEnvironment);
    } catch {
      // Damaged or foreign: try the next file.
    }
  }
  return null;
}

/** True when `root` holds store data (a store.json, its backups, workers.json or runs/). */
export function looksLikeStore(root: string): boolean {
  if (!existsSync(root)) return false;
  return readdirSync(root).some(
    (n) => n === STORE_FILE || n.startsWith(`${STORE_FILE}.bak.`) || n === WORKERS_FILE || n === RUNS_DIR,
  );
}

/** Checks every file of the store in `root` (an environment's directory), as opening it would. */
export function checkStoreDir(root: string, environment?: StoreEnvironment): StoreCheck {
  const env = environment ?? environmentOfDir(root);
  const runsOnDisk = runFoldersOnDisk(root);
  if (env === null)
    return {
      root,
      environment: null,
      ok: false,
      runsOnDisk,
      files: [
        {
          file: STORE_FILE,
          kind: 'store',
          runId: null,
          ok: false,
          problem: 'no file of this directory names its environment (every store file and backup is unreadable)',
          records: null,
          backup: null,
        },
      ],
    };
  const files: FileCheck[] = [];
  const add = (file: string, kind: FileKind, runId: string | null, required: boolean): void => {
    const abs = join(root, file);
    if (!required && !existsSync(abs)) return;
    const { problem, records } = checkFile(abs, kind, env, runId);
    files.push({
      file,
      kind,
      runId,
      ok: problem === null,
      problem,
      records,
      backup: problem === null ? null : newestUsableBackup(root, file, kind, env, runId),
    });
  };
  add(STORE_FILE, 'store', null, looksLikeStore(root));
  add(WORKERS_FILE, 'workers', null, false);
  const journals = (dir: string, prefix: string, runId: string | null) => {
    for (const name of readdirSync(dir).sort())
      if (name === JOURNAL_FILE || SEGMENT_FILE.test(name))
        files.push(checkJournal(join(dir, name), `${prefix}${name}`, runId));
  };
  journals(root, '', null);
  for (const runId of runsOnDisk) {
    for (const name of readdirSync(join(root, RUNS_DIR, runId)).sort()) {
      const rel = `${RUNS_DIR}/${runId}/${name}`;
      if (name === RUN_COPY_FILE) add(rel, 'run', runId, true);
      const shard = SHARD_FILE.exec(name);
      if (shard !== null) add(rel, shard[1] as ShardKind, runId, true);
    }
    journals(join(root, RUNS_DIR, runId), `${RUNS_DIR}/${runId}/`, runId);
  }
  return { root, environment: env, ok: files.every((f) => f.ok), files, runsOnDisk };
}

/**
 * The advice of an `HST_ERR_STORE_CORRUPT` about `file` (relative to `root`): the newest good
 * backup, what it would lose, and the command that restores without losing anything else.
 */
export function corruptionAdvice(
  root: string,
  file: string,
  kind: FileKind,
  environment: StoreEnvironment,
  runId: string | null,
  count = 3,
): string {
  const restore = `hitstate store restore --store "${join(root, '..')}" --env ${environment.kind === 'custom' ? environment.endpoint : environment.kind}`;
  const good = newestUsableBackup(root, file, kind, environment, runId, count);
  if (good === null)
    return `No good backup of it exists (${backupPath(join(root, file), 1)} ...). \`${restore}\` rebuilds what the other files hold (it saves a copy of the whole store first); otherwise repair the file by hand.`;
  return `The newest good backup is ${good.path} (written ${new Date(good.modifiedAt).toISOString()}); ${good.loss.text}. Do not copy it over the file by hand: run\n  ${restore}\nwhich saves a copy of the whole store, then restores only what is lost and keeps every run that has a folder on disk (see \`hitstate store check\`).`;
}

/**
 * The `HST_ERR_STORE_CORRUPT` of a store directory whose store.json cannot be used (damaged, or
 * missing next to store data), or null when store.json is fine or the directory holds no store.
 * Commands that list stores without opening them call it, so a damaged store is never skipped as
 * if it held no runs.
 */
export function damagedStoreError(root: string): HitstateError | null {
  if (!looksLikeStore(root)) return null;
  const environment = environmentOfDir(root);
  const path = join(root, STORE_FILE);
  if (environment === null)
    return new HitstateError(
      'HST_ERR_STORE_CORRUPT',
      `${path} cannot be used, and no other file of ${root} names its environment (every store file and backup is unreadable). hitstate refuses to use it and has left it untouched; repair store.json by hand.`,
      { file: path },
    );
  const { problem } = checkFile(path, 'store', environment, null);
  if (problem === null) return null;
  const runs = runFoldersOnDisk(root);
  return new HitstateError(
    'HST_ERR_STORE_CORRUPT',
    `${path} cannot be used: ${problem}. hitstate refuses to use the ${environment.kind === 'custom' ? environment.endpoint : environment.kind} store and has left the file untouched; its runs (${runs.length === 0 ? 'no run folder on disk' : `folders on disk: ${runs.join(', ')}`}) cannot be read until it is restored. ${corruptionAdvice(root, STORE_FILE, 'store', environment, null)}`,
    { file: path },
  );
}
