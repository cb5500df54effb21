/**
 * Opening a store: read every file, refuse anything damaged without touching it, migrate an
 * older schema, rebuild the in-memory indexes, seal torn audit lines, clear stale temp files and
 * take the open-time backups.
 *
 * @module
 */
import { join } from 'node:path';
import { HitstateError } from '../errors.js';
import { parseJsonObject, UnreadableFileError } from './atomic-json-adapter.js';
import { backupPath, newestGoodBackup, rotateBackups } from './backups.js';
import { describeEnvironment, type StoreEnvironment } from './environment.js';
import { type FileHeader, type FileKind, type RecordsFile, RUNS_DIR, runDirPath, SCHEMA_VERSION, SHARD_FILE, STORE_FILE, WORKERS_FILE } from './layout.js';
import { migrateStore, schemaVersionOf } from './migrations.js';
import {
  checkHeader, EnvironmentProblem, hydrateCore, hydrateRecords, readAgent, readHit, readIntent, readSnapshot, readSubmission,
  readUnit, readWorker, SchemaProblem, type SubmissionRecord,
} from './schema.js';
import type { StoreFile } from './store-file.js';
import { assignmentKey, type RunState, type StoreState } from './store-state.js';
import type { IntentRecord, SnapshotRecord } from './types.js';

/** What loading found and did. */
export interface LoadReport {
  /** The schema version the store was migrated from, or null. */
  readonly migratedFrom: number | null;
  /** The backup of `store.json` taken before migrating. */
  readonly migrationBackup: string | null;
  /** Audit files whose last line was torn by a crash (and sealed), with the torn length in bytes. */
  readonly tornAuditLines: readonly { readonly file: string; readonly bytes: number }[];
  /** Temp files of writes interrupted by a crash, removed (the files they were for are intact). */
  readonly removedTempFiles: readonly string[];
  /** Directories under runs/ that store.json does not list (left alone). */
  readonly orphanRunDirectories: readonly string[];
  /** Files backed up on open because they changed since their newest backup. */
  readonly backedUp: readonly string[];
}

interface LoadOptions {
  readonly backups: number;
}

/**
 * True when `bytes` would open as the file of that kind: a JSON object with the right header,
 * and the current schema version (or an older one for store.json, which the store migrates).
 */
export function isUsableFile(bytes: Buffer, path: string, kind: FileKind, environment: StoreEnvironment, runId?: string): boolean {
  try {
    const raw = parseJsonObject(path, bytes);
    const version = schemaVersionOf(raw);
    if (kind === 'store' && version !== null && version < SCHEMA_VERSION) return true;
    checkHeader(raw, kind, environment, runId);
    return version === SCHEMA_VERSION;
  } catch {
    return false;
  }
}

/** Builds the HST_ERR_STORE_CORRUPT error for a file, naming its newest good backup. */
async function corrupt(state: StoreState, file: StoreFile<FileHeader>, kind: FileKind, runId: string | undefined, reason: string, backups: number): Promise<HitstateError> {
  const good = await newestGoodBackup(state.fs, file.absPath, Math.max(backups, 3), (bytes) => isUsableFile(bytes, file.absPath, kind, state.environment, runId));
  const advice = good === null
    ? `No good backup of it exists (${backupPath(file.absPath, 1)} ...). Repair it by hand, or move it away to start that part empty (its data is then lost).`
    : `The newest good backup is ${good.path} (written ${new Date(good.modifiedAt).toISOString()}). Restore it with:\n  cp "${good.path}" "${file.absPath}"\nor call restoreBackup({ file: "${file.relPath}" }) from hitstate/store.`;
  return new HitstateError('HST_ERR_STORE_CORRUPT', `${file.absPath} cannot be used: ${reason}. hitstate refuses to start and has left the file untouched. ${advice}`, { file: file.absPath, ...(runId === undefined ? {} : { runId }) });
}

/**
 * Reads one file and checks its header and version.
 * @returns the parsed object, or null when the file does not exist.
 */
async function readChecked(state: StoreState, file: StoreFile<FileHeader>, kind: FileKind, runId: string | undefined, options: LoadOptions): Promise<Record<string, unknown> | null> {
  let raw: Record<string, unknown> | null;
  try {
    raw = await file.read();
  } catch (err) {
    if (err instanceof UnreadableFileError) throw await corrupt(state, file, kind, runId, err.reason, options.backups);
    throw err;
  }
  if (raw === null) return null;
  try {
    checkHeader(raw, kind, state.environment, runId);
  } catch (err) {
    if (err instanceof EnvironmentProblem) {
      throw new HitstateError('HST_ERR_STORE_ENVIRONMENT_MISMATCH', `${file.absPath} belongs to ${describeEnvironment(err.found as never)}, but the store was opened for ${describeEnvironment(state.environment)}. Open it with the environment it was written for; ids of one MTurk environment are meaningless in another.`, { file: file.absPath });
    }
    if (err instanceof SchemaProblem) throw await corrupt(state, file, kind, runId, err.message, options.backups);
    throw err;
  }
  const version = schemaVersionOf(raw);
  if (version !== null && version > SCHEMA_VERSION) {
    throw new HitstateError('HST_ERR_STORE_VERSION_NEWER', `${file.absPath} has schema version ${version}, written by a newer hitstate; this one reads up to version ${SCHEMA_VERSION}. Upgrade hitstate; the file was not touched.`, { file: file.absPath });
  }
  if (version !== SCHEMA_VERSION) throw await corrupt(state, file, kind, runId, `its schemaVersion is ${JSON.stringify(raw.schemaVersion)} while store.json is at ${SCHEMA_VERSION}`, options.backups);
  return raw;
}

async function hydrate<T>(state: StoreState, file: StoreFile<FileHeader>, kind: FileKind, runId: string | undefined, options: LoadOptions, build: () => T): Promise<T> {
  try {
    return build();
  } catch (err) {
    if (err instanceof SchemaProblem) throw await corrupt(state, file, kind, runId, err.message, options.backups);
    throw err;
  }
}

const generic = (file: unknown): StoreFile<FileHeader> => file as StoreFile<FileHeader>;

/** Reads and hydrates one collection file; a missing file leaves the collection empty. */
async function loadRecords<R>(
  state: StoreState, file: StoreFile<RecordsFile<R>>, kind: FileKind, runId: string | undefined, options: LoadOptions,
  read: (r: Record<string, unknown>, at: string) => R, idOf: (r: R) => string, runOf?: (r: R) => string,
): Promise<void> {
  const raw = await readChecked(state, generic(file), kind, runId, options);
  if (raw !== null) file.data = await hydrate(state, generic(file), kind, runId, options, () => hydrateRecords(raw, read, idOf, runOf));
}

async function loadRun(state: StoreState, run: RunState, options: LoadOptions): Promise<void> {
  const id = run.id;
  const tasks: Promise<void>[] = [
    loadRecords(state, run.units, 'units', id, options, readUnit, (u) => u.id, (u) => u.runId),
    loadRecords(state, run.agents, 'agents', id, options, readAgent, (a) => a.id, (a) => a.runId),
    loadRecords(state, run.hits, 'hits', id, options, readHit, (h) => h.id, (h) => h.runId),
  ];
  const adopt: (() => void)[] = [];
  for (const name of await state.fs.listDirectory(join(state.root, runDirPath(id)))) {
    const m = SHARD_FILE.exec(name);
    if (m === null) continue;
    const index = Number(m[2]);
    if (m[1] === 'snapshots') {
      const file = state.shardFile<SnapshotRecord>(id, 'snapshots', index);
      tasks.push(loadRecords(state, file, 'snapshots', id, options, readSnapshot, (s) => s.actorId, (s) => s.runId));
      adopt.push(() => run.snapshots.adopt(index, file));
    } else if (m[1] === 'submissions') {
      const file = state.shardFile<SubmissionRecord>(id, 'submissions', index);
      tasks.push(loadRecords(state, file, 'submissions', id, options, readSubmission, (s) => s.agentId));
      adopt.push(() => run.submissions.adopt(index, file));
    } else {
      const file = state.shardFile<IntentRecord>(id, 'outbox', index);
      tasks.push(loadRecords(state, file, 'outbox', id, options, readIntent, (i) => i.token, (i) => i.runId));
      adopt.push(() => run.outbox.adopt(index, file));
    }
  }
  await Promise.all(tasks);
  for (const a of adopt) a();
  await hydrate(state, generic(run.hits), 'hits', id, options, () => indexRun(state, run));
}

/** Rebuilds the indexes of one run from its records. */
function indexRun(state: StoreState, run: RunState): void {
  for (const unit of run.units.data.records.values()) {
    state.unitRun.set(unit.id, run);
    state.countUnit(run, null, unit.status);
  }
  const hits = [...run.hits.data.records.values()].sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1));
  for (const hit of hits) {
    state.hitRun.set(hit.id, run);
    if (hit.unitId === null) {
      run.unboundHits.add(hit.id);
      continue;
    }
    const other = run.hitByUnit.get(hit.unitId);
    if (other !== undefined) throw new SchemaProblem(`records.${hit.id}.unitId`, `binds unit "${hit.unitId}", which HIT "${other}" binds already`);
    run.hitByUnit.set(hit.unitId, hit.id);
  }
  for (const agent of run.agents.data.records.values()) {
    state.agentRun.set(agent.id, run);
    state.agentByAssignment.set(assignmentKey(agent.assignmentId, agent.workerId), agent.id);
    const list = run.agentsByUnit.get(agent.unitId);
    if (list === undefined) run.agentsByUnit.set(agent.unitId, [agent.id]);
    else list.push(agent.id);
  }
  for (const intent of run.outbox.values()) {
    state.intentRun.set(intent.token, run);
    if (intent.state === 'pending' || intent.state === 'sent' || (intent.state === 'failed' && intent.failure?.retryable === true)) run.openIntents.add(intent.token);
  }
}

/** Loads every file of the store into `state`. The caller holds the lock. */
export async function loadStore(state: StoreState, options: LoadOptions): Promise<LoadReport> {
  let migratedFrom: number | null = null;
  let migrationBackup: string | null = null;
  const core = generic(state.core);
  let raw = await readRaw(state, core, options);
  if (raw !== null) {
    const version = schemaVersionOf(raw);
    if (version !== null && version < SCHEMA_VERSION) {
      migrationBackup = await migrateStore({ root: state.root, fs: state.fs, environment: state.environment }, raw, version);
      migratedFrom = version;
    }
    raw = await readChecked(state, core, 'store', undefined, options);
  } else {
    await refuseHeadless(state);
  }
  if (raw !== null) {
    const data = raw;
    state.core.data = await hydrate(state, core, 'store', undefined, options, () => hydrateCore(data));
  }
  await loadRecords(state, state.workers, 'workers', undefined, options, readWorker, (w) => w.id);

  await Promise.all([...state.core.data.runs.keys()].map((id) => loadRun(state, state.addRun(id), options)));

  const orphanRunDirectories = (await state.fs.listDirectory(join(state.root, RUNS_DIR))).filter((name) => !state.runs.has(name) && !name.startsWith('.'));
  const tornAuditLines: { file: string; bytes: number }[] = [];
  for (const log of state.auditLogs()) {
    const bytes = await log.seal();
    if (bytes > 0) tornAuditLines.push({ file: log.absPath, bytes });
  }
  const removedTempFiles: string[] = [];
  for (const dir of [state.root, ...[...state.runs.keys()].map((id) => join(state.root, runDirPath(id)))]) {
    for (const name of await state.fs.listDirectory(dir)) {
      if (/^\..+\.tmp$/.test(name)) {
        await state.fs.removeFile(join(dir, name));
        removedTempFiles.push(join(dir, name));
      }
    }
  }
  const backedUp: string[] = [];
  await Promise.all(state.files.map(async (file) => {
    if (file.onDisk && (await rotateBackups(state.fs, file.absPath, options.backups))) backedUp.push(file.absPath);
  }));
  return { migratedFrom, migrationBackup, tornAuditLines, removedTempFiles, orphanRunDirectories, backedUp: backedUp.sort() };
}

/** Reads store.json only far enough to learn its version (migration needs the old shape). */
async function readRaw(state: StoreState, core: StoreFile<FileHeader>, options: LoadOptions): Promise<Record<string, unknown> | null> {
  try {
    const raw = await core.read();
    if (raw !== null && schemaVersionOf(raw) === null) throw new UnreadableFileError(core.absPath, `its schemaVersion ${JSON.stringify(raw.schemaVersion)} is not a version number`);
    return raw;
  } catch (err) {
    if (err instanceof UnreadableFileError) throw await corrupt(state, core, 'store', undefined, err.reason, options.backups);
    throw err;
  }
}

/** A missing store.json next to other store files means it was lost, not that the store is new. */
async function refuseHeadless(state: StoreState): Promise<void> {
  const names = await state.fs.listDirectory(state.root);
  const present = names.filter((n) => n === WORKERS_FILE || n === RUNS_DIR || n.startsWith(`${STORE_FILE}.bak.`));
  if (present.length === 0) return;
  throw new HitstateError('HST_ERR_STORE_CORRUPT', `${join(state.root, STORE_FILE)} is missing, but the directory holds store data (${present.join(', ')}). hitstate refuses to start a new, empty store over it. Restore the newest ${STORE_FILE}.bak.N as ${STORE_FILE}, or move the directory away to start empty.`, { file: join(state.root, STORE_FILE) });
}
