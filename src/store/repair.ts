/**
 * `repairStore()`, behind `hitstate store restore`: puts back only what a damaged store lost.
 * A copy of the whole environment's directory is saved first. A damaged shard or workers.json
 * gets its newest good backup; a damaged store.json is rebuilt from its newest good backup plus
 * every run that has a folder on disk (from that run's `run.json` copy), so no run is dropped;
 * a damaged `run.json` is rewritten from store.json. The damaged files are kept next to the
 * restored ones as `<file>.damaged-<time>`.
 *
 * @module
 */
import { cpSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Clock, systemClock } from '../clock.js';
import { HitstateError } from '../errors.js';
import { parseJsonObject } from './atomic-json-adapter.js';
import { checkStoreDir, type FileCheck } from './check.js';
import { environmentSlug, normalizeEnvironment, type StoreEnvironment } from './environment.js';
import { fileHeader, LOCK_FILE, RUN_COPY_FILE, RUNS_DIR, STORE_FILE } from './layout.js';
import { acquireStoreAlone } from './lock.js';

/** Options of {@link repairStore}. */
export interface RepairStoreOptions {
  /** The store directory (holding one directory per environment). */
  readonly dir: string;
  readonly environment: StoreEnvironment;
  /** @defaultValue systemClock (names the saved copy and the damaged files) */
  readonly clock?: Clock;
}

/** What {@link repairStore} did. */
export interface RepairReport {
  /** Where the copy of the whole environment's directory was saved, or null when nothing was damaged. */
  readonly savedCopy: string | null;
  /** Files put back, each with where from. */
  readonly restored: readonly { readonly file: string; readonly from: string }[];
  /** Runs kept in the rebuilt store.json although its backup lacked them (from their run.json). */
  readonly runsKept: readonly string[];
  /** What could not be put back, with why (the file is left as it is). */
  readonly unrecovered: readonly { readonly file: string; readonly why: string }[];
}

type Raw = Record<string, unknown>;

const readJson = (path: string): Raw => parseJsonObject(path, readFileSync(path));

function writeAtomically(path: string, text: string): void {
  const temp = join(path, '..', `.repair-${process.pid}.tmp`);
  writeFileSync(temp, text);
  renameSync(temp, path);
}

/**
 * Restores what a damaged store lost, after saving a copy of the whole store.
 *
 * @throws HitstateError `HST_ERR_STORE_LOCKED` while a hitstate process holds the store,
 *   `HST_ERR_STORE_NOT_FOUND` when the environment has no store there.
 */
export async function repairStore(options: RepairStoreOptions): Promise<RepairReport> {
  const environment = normalizeEnvironment(options.environment);
  const clock = options.clock ?? systemClock;
  const slug = environmentSlug(environment);
  const root = join(options.dir, slug);
  if (!existsSync(root))
    throw new HitstateError('HST_ERR_STORE_NOT_FOUND', `there is no ${slug} store at ${root}`, { file: root });
  const lock = await acquireStoreAlone(root, clock.now());
  try {
    const check = checkStoreDir(root, environment);
    const bad = check.files.filter((f) => !f.ok);
    if (bad.length === 0) return { savedCopy: null, restored: [], runsKept: [], unrecovered: [] };
    const stamp = new Date(clock.now()).toISOString().replace(/[:.]/g, '-');
    const savedCopy = join(options.dir, 'saved', `${slug}-${stamp}`);
    cpSync(root, savedCopy, { recursive: true, filter: (src) => !src.endsWith(LOCK_FILE) });
    const restored: { file: string; from: string }[] = [];
    const unrecovered: { file: string; why: string }[] = [];
    const keepDamaged = (file: string): void => {
      const abs = join(root, file);
      if (existsSync(abs)) cpSync(abs, `${abs}.damaged-${stamp}`);
    };
    // Shards and workers.json first: store.json's rebuild reads the runs' folders.
    for (const f of bad.filter((b) => b.kind !== 'store' && b.kind !== 'run')) {
      if (f.backup === null) {
        unrecovered.push({ file: f.file, why: `${f.problem}; no good backup of it exists` });
        continue;
      }
      keepDamaged(f.file);
      writeAtomically(join(root, f.file), readFileSync(f.backup.path, 'utf8'));
      restored.push({ file: f.file, from: f.backup.path });
    }
    let runsKept: string[] = [];
    const core = bad.find((b) => b.kind === 'store');
    if (core !== undefined) {
      const rebuilt = rebuildCore(root, environment, core, check.runsOnDisk, clock.now(), restored);
      runsKept = rebuilt.kept;
      for (const runId of rebuilt.missing)
        unrecovered.push({
          file: `${RUNS_DIR}/${runId}/`,
          why: `run ${runId} has a folder on disk but no record in any backup and no readable run.json; its folder is kept as it is`,
        });
    }
    // A damaged run.json copy is rewritten from store.json (now good).
    const runs = (readJson(join(root, STORE_FILE)).runs ?? {}) as Raw;
    for (const f of bad.filter((b) => b.kind === 'run')) {
      const record = runs[f.runId!];
      if (record === undefined) {
        unrecovered.push({ file: f.file, why: `${f.problem}; store.json has no record of run ${f.runId}` });
        continue;
      }
      keepDamaged(f.file);
      writeAtomically(join(root, f.file), JSON.stringify({ ...fileHeader('run', environment, f.runId!), run: record }));
      restored.push({ file: f.file, from: STORE_FILE });
    }
    return { savedCopy, restored, runsKept, unrecovered };
  } finally {
    await lock.release();
  }
}

/**
 * Writes store.json from its newest good backup, adding every run with a folder on disk from its
 * run.json (when newer than the backup's record), and the requesters those runs name.
 * @returns the runs the backup lacked (kept), and the run folders no record was found for.
 */
function rebuildCore(
  root: string,
  environment: StoreEnvironment,
  core: FileCheck,
  runsOnDisk: readonly string[],
  now: number,
  restored: { file: string; from: string }[],
): { kept: string[]; missing: string[] } {
  const path = join(root, STORE_FILE);
  const base: Raw =
    core.backup === null
      ? { ...fileHeader('store', environment), requesters: {}, runs: {}, qualifications: {} }
      : readJson(core.backup.path);
  const damagedText = existsSync(path) ? readFileSync(path, 'utf8') : '';
  // The store id survives a truncation when it came before the cut (it is written near the top).
  const storeId = /"storeId":"([A-Za-z0-9-]{4,40})"/.exec(damagedText)?.[1];
  const runs = { ...((base.runs ?? {}) as Raw) };
  const requesters = { ...((base.requesters ?? {}) as Raw) };
  const kept: string[] = [];
  for (const runId of runsOnDisk) {
    const copyPath = join(root, RUNS_DIR, runId, RUN_COPY_FILE);
    let copy: Raw | null = null;
    try {
      copy = existsSync(copyPath) ? ((readJson(copyPath).run as Raw | null) ?? null) : null;
    } catch {
      copy = null;
    }
    const known = runs[runId] as Raw | undefined;
    if (copy !== null && (known === undefined || Number(copy.updatedAt) >= Number(known.updatedAt))) {
      if (known === undefined) kept.push(runId);
      runs[runId] = copy;
    }
    const requester = (runs[runId] as Raw | undefined)?.requesterName;
    if (typeof requester === 'string' && requesters[requester] === undefined)
      requesters[requester] = {
        name: requester,
        credentialSource: { kind: 'defaultChain' },
        createdAt: now,
        updatedAt: now,
      };
  }
  const { requesters: _r, runs: _u, qualifications, storeId: baseId, ...header } = base;
  const rebuilt = {
    ...header,
    ...((storeId ?? baseId) ? { storeId: storeId ?? baseId } : {}),
    requesters,
    runs,
    qualifications: qualifications ?? {},
  };
  const stamp = new Date(now).toISOString().replace(/[:.]/g, '-');
  if (existsSync(path)) cpSync(path, `${path}.damaged-${stamp}`);
  writeAtomically(path, JSON.stringify(rebuilt));
  restored.push({
    file: STORE_FILE,
    from: `${core.backup?.path ?? 'an empty store.json'}${kept.length > 0 ? ` + run.json of ${kept.join(', ')}` : ''}`,
  });
  return { kept, missing: runsOnDisk.filter((id) => runs[id] === undefined) };
}
