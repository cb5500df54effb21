/**
 * Which MTurk, which requester account and which datastore a command works on: `--env
 * live|sandbox|URL`, `--requester NAME` (an AWS profile) and `--store DIR|URL` (a directory or a
 * PostgreSQL database), each also from a `HITSTATE_*` environment variable. Commands that take a run id find the run's environment by
 * themselves when `--env` is not given.
 *
 * @module
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { HitstateError, isHitstateError } from '../errors.js';
import type { CredentialSource } from '../mturk/environment.js';
import type { RuntimeRequester } from '../runtime/index.js';
import { isDatabaseUrl, redactStoreLocation } from '../store/location.js';
import {
  damagedStoreError,
  environmentOfDir,
  normalizeEnvironment,
  openStore,
  sameEnvironment,
  type Store,
  type StoreEnvironment,
} from '../store/index.js';
import { usageError, type CliIO, type OptionSpec, type OptionValues } from './command.js';

/** `--env`: live, sandbox or an endpoint URL. Commands that launch default to sandbox. */
export function envOption(defaultValue?: 'sandbox'): OptionSpec {
  return {
    name: 'env',
    type: 'string',
    value: 'ENV',
    description:
      defaultValue === undefined
        ? 'live, sandbox, or the URL of an MTurk-compatible endpoint (default: the environment whose store holds the run)'
        : 'live, sandbox, or the URL of an MTurk-compatible endpoint such as `hitstate sim`',
    env: 'HITSTATE_ENV',
    ...(defaultValue === undefined ? {} : { default: defaultValue }),
  };
}

/** `--requester NAME`: the AWS profile of the requester account. */
export const REQUESTER_OPTION: OptionSpec = {
  name: 'requester',
  type: 'string',
  value: 'NAME',
  description: 'AWS profile of the requester account (default: the AWS SDK credential chain)',
  env: 'HITSTATE_REQUESTER',
};

/**
 * `--store DIR|URL`: the datastore directory, or a PostgreSQL URL. No default in the spec: when
 * neither the flag nor `HITSTATE_STORE_DIR` is given, {@link storeDirOf} tries
 * `HITSTATE_DATABASE_URL`, then `./.hitstate`.
 */
export const STORE_OPTION: OptionSpec = {
  name: 'store',
  type: 'string',
  value: 'DIR|URL',
  description:
    'Datastore: a directory (one sub-directory per environment; default .hitstate) or a PostgreSQL URL postgres://USER:PASSWORD@HOST:5432/DATABASE (default $HITSTATE_DATABASE_URL when set)',
  env: 'HITSTATE_STORE_DIR',
};

/**
 * Credentials used for a loopback endpoint (`hitstate sim` on 127.0.0.1) when no AWS credentials
 * are given: the simulator checks no signature, and the access key id names the account, so every
 * command (and the SDK examples `hitstate sim` prints) works on the same simulated account.
 */
export const LOCAL_CREDENTIALS = Object.freeze({
  kind: 'static',
  accessKeyId: 'AKIDLOCAL',
  secretAccessKey: 'local',
} as const);

/**
 * Reads `--env`.
 *
 * @throws HitstateError `HST_ERR_CLI_USAGE` for anything but live, sandbox or an http(s) URL.
 */
export function parseEnvironment(value: string): StoreEnvironment {
  if (value === 'live' || value === 'sandbox') return { kind: value };
  if (/^https?:\/\//i.test(value)) {
    try {
      return normalizeEnvironment({ kind: 'custom', endpoint: value });
    } catch (err) {
      throw usageError(`--env ${JSON.stringify(value)} is not a usable URL: ${(err as Error).message}`, 'env');
    }
  }
  throw usageError(
    `--env must be live, sandbox or the http(s) URL of an MTurk-compatible endpoint (e.g. http://127.0.0.1:8787 from \`hitstate sim\`), got ${JSON.stringify(value)}.`,
    'env',
  );
}

/** `live`, `sandbox` or the endpoint URL, as a user would type it after `--env`. */
export function describeEnvironment(env: StoreEnvironment): string {
  return env.kind === 'custom' ? env.endpoint : env.kind;
}

/** True for a custom endpoint on this machine (127.0.0.0/8, localhost, ::1). */
export function isLoopback(env: StoreEnvironment): boolean {
  if (env.kind !== 'custom') return false;
  const host = new URL(env.endpoint).hostname;
  return host === 'localhost' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** The form of a PostgreSQL store URL, for messages. */
const DATABASE_URL_FORM = 'postgres://USER:PASSWORD@HOST:5432/DATABASE';

/** A usage error for a store location written as a URL that is no PostgreSQL URL. */
function checkLocation(location: string, field: string): void {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(location) && !isDatabaseUrl(location))
    throw usageError(
      `${field} must be a directory or a PostgreSQL URL like ${DATABASE_URL_FORM}, got a ${location.split(':')[0]}: URL.`,
      field.replace(/^--/, ''),
    );
}

/**
 * The datastore of a command: `--store` (or `$HITSTATE_STORE_DIR`), else `$HITSTATE_DATABASE_URL`,
 * else `./.hitstate`. A directory comes back absolute; a PostgreSQL URL as given (show it with
 * {@link describeStore}, which hides its password).
 *
 * @throws HitstateError `HST_ERR_CLI_USAGE` for a URL that is not a PostgreSQL one.
 */
export function storeDirOf(options: OptionValues, io: Pick<CliIO, 'cwd' | 'env'>): string {
  if (typeof options.store === 'string' && options.store.trim() !== '') {
    const store = options.store.trim();
    checkLocation(store, '--store');
    return isDatabaseUrl(store) ? store : resolve(io.cwd, store);
  }
  const url = io.env.HITSTATE_DATABASE_URL?.trim();
  if (url !== undefined && url !== '') {
    if (!isDatabaseUrl(url))
      throw usageError(
        `HITSTATE_DATABASE_URL must be a PostgreSQL URL like ${DATABASE_URL_FORM}; unset it to use the directory ./.hitstate.`,
        'store',
      );
    return url;
  }
  return resolve(io.cwd, '.hitstate');
}

/** A store as messages show it: a directory as it is, a database URL without its password. */
export function describeStore(storeDir: string): string {
  return redactStoreLocation(storeDir);
}

/**
 * Where a command keeps its local files (task-server secret, logs of background runs, exports):
 * the store directory, or `./.hitstate` when the store is a database.
 */
export function localDirOf(storeDir: string, io: Pick<CliIO, 'cwd'>): string {
  return isDatabaseUrl(storeDir) ? resolve(io.cwd, '.hitstate') : storeDir;
}

/**
 * The requester a command acts as. `--requester NAME` is the AWS profile NAME; else a stored
 * profile; else the SDK's default chain, except on a loopback endpoint without
 * `AWS_ACCESS_KEY_ID`, where {@link LOCAL_CREDENTIALS} are used.
 */
export function requesterFor(
  env: StoreEnvironment,
  options: OptionValues,
  io: Pick<CliIO, 'env'>,
  stored?: { readonly name: string; readonly credentialSource: CredentialSource },
): RuntimeRequester {
  const flag = typeof options.requester === 'string' && options.requester !== '' ? options.requester : undefined;
  if (flag !== undefined) return { name: flag, credentials: { kind: 'profile', profile: flag } };
  if (stored?.credentialSource.kind === 'profile') return { name: stored.name, credentials: stored.credentialSource };
  const local = isLoopback(env) && (io.env.AWS_ACCESS_KEY_ID ?? '') === '' && (io.env.AWS_PROFILE ?? '') === '';
  return {
    name: stored?.name ?? (local ? 'local' : 'default'),
    credentials: local ? LOCAL_CREDENTIALS : { kind: 'defaultChain' },
  };
}

interface StoreHeader {
  readonly environment: StoreEnvironment;
  readonly runIds: readonly string[];
}

/** Reads the header and run ids of an environment's store.json, without opening (or locking) the store. */
function readHeader(file: string): StoreHeader | undefined {
  try {
    const data = JSON.parse(readFileSync(file, 'utf8')) as {
      format?: unknown;
      kind?: unknown;
      environment?: StoreEnvironment;
      runs?: Record<string, unknown>;
    };
    if (data.format !== 'hitstate-store' || data.kind !== 'store' || data.environment === undefined) return undefined;
    return { environment: normalizeEnvironment(data.environment), runIds: Object.keys(data.runs ?? {}) };
  } catch {
    return undefined;
  }
}

/** The environments that have a store under `storeDir` (or in its database), with the ids of their runs. */
export async function storeEnvironments(storeDir: string): Promise<StoreHeader[]> {
  if (isDatabaseUrl(storeDir)) {
    // Loaded only for a database store, so a lowdb store never loads pg.
    const { listDatabaseStores } = await import('../store/postgres/catalog.js');
    return listDatabaseStores(storeDir);
  }
  if (!existsSync(storeDir)) return [];
  return readdirSync(storeDir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => readHeader(join(storeDir, d.name, 'store.json')))
    .filter((h): h is StoreHeader => h !== undefined);
}

/** A store directory whose store.json cannot be used: it is reported, never skipped as if empty. */
export interface DamagedStore {
  readonly dir: string;
  readonly environment: StoreEnvironment | null;
  readonly runFolders: readonly string[];
  readonly error: HitstateError;
}

/** The stores under `storeDir` whose store.json is damaged (or missing next to store data). */
export function damagedStores(storeDir: string, wanted?: StoreEnvironment): DamagedStore[] {
  // A database has no store.json to lose: a damaged record is named when the store opens.
  if (isDatabaseUrl(storeDir) || !existsSync(storeDir)) return [];
  const damaged: DamagedStore[] = [];
  for (const d of readdirSync(storeDir, { withFileTypes: true })) {
    if (!d.isDirectory()) continue;
    const dir = join(storeDir, d.name);
    const error = damagedStoreError(dir);
    if (error === null) continue;
    const environment = environmentOfDir(dir);
    if (wanted !== undefined && environment !== null && !sameEnvironment(environment, wanted)) continue;
    const runs = join(dir, 'runs');
    const runFolders = existsSync(runs) ? readdirSync(runs).filter((n) => !n.startsWith('.')) : [];
    damaged.push({ dir, environment, runFolders, error });
  }
  return damaged;
}

/**
 * The environment whose store holds `runId`: the `--env` one when given, else the only one that has it.
 *
 * @throws HitstateError `HST_ERR_RUN_NOT_FOUND`, `HST_ERR_CLI_USAGE` when two environments have that run id,
 *   `HST_ERR_STORE_CORRUPT` when the run is not found and a store's store.json cannot be read.
 */
export async function locateRun(storeDir: string, runId: string, options: OptionValues): Promise<StoreEnvironment> {
  const wanted = typeof options.env === 'string' && options.env !== '' ? parseEnvironment(options.env) : undefined;
  const all = (await storeEnvironments(storeDir)).filter(
    (h) => wanted === undefined || sameEnvironment(h.environment, wanted),
  );
  const holders = all.filter((h) => h.runIds.includes(runId));
  if (holders.length === 1) return holders[0]!.environment;
  if (holders.length > 1) {
    throw usageError(
      `run ${runId} exists in the stores of ${holders.map((h) => describeEnvironment(h.environment)).join(' and ')}; pass --env to choose one.`,
      'env',
    );
  }
  // A damaged store.json hides its runs: its corruption is the answer, never "there is no run".
  const damaged = damagedStores(storeDir, wanted);
  const owner = damaged.find((d) => d.runFolders.includes(runId)) ?? damaged[0];
  if (owner !== undefined) throw owner.error;
  const known = all.flatMap((h) => h.runIds);
  const shown = describeStore(storeDir);
  const where =
    wanted === undefined
      ? `no store under ${shown}`
      : `the ${describeEnvironment(wanted)} store under ${shown} has no run ${JSON.stringify(runId)}`;
  const hint =
    known.length === 0
      ? `there is no run at all there (pass --store DIR if the store is elsewhere${wanted === undefined ? '' : ', or leave out --env'})`
      : 'list the runs with `hitstate status`';
  throw new HitstateError(
    'HST_ERR_RUN_NOT_FOUND',
    `${wanted === undefined ? `${where} has a run ${JSON.stringify(runId)}` : where}; ${hint}.`,
    { runId },
  );
}

/**
 * Opens an environment's store for a command. A store held by another process gets a message
 * saying what to do.
 *
 * @throws HitstateError `HST_ERR_STORE_LOCKED` and the store's other open errors.
 */
/**
 * Opens the store for reading: with its lock when it is free, else read-only (the last committed
 * state), so `status` and `export` work while a run is live in another process.
 */
export async function openStoreToRead(storeDir: string, env: StoreEnvironment): Promise<Store> {
  try {
    return await openStore({ dir: storeDir, environment: env });
  } catch (err) {
    if (!isHitstateError(err, 'HST_ERR_STORE_LOCKED')) throw err;
    return openStore({ dir: storeDir, environment: env, readOnly: true });
  }
}

export async function openStoreFor(storeDir: string, env: StoreEnvironment): Promise<Store> {
  try {
    return await openStore({ dir: storeDir, environment: env });
  } catch (err) {
    if (isHitstateError(err, 'HST_ERR_STORE_LOCKED')) {
      throw new HitstateError(
        'HST_ERR_STORE_LOCKED',
        `${err.message}\nAnother hitstate command (probably \`hitstate run\` or \`resume\`) is working on the ${describeEnvironment(env)} store; one process at a time. Wait for it, or stop it (Ctrl-C), then run this command again.`,
        { ...err.details, cause: err },
      );
    }
    throw err;
  }
}
