/**
 * Creating a run in the store (everything checked first), and loading a stored run into a
 * {@link RunHost}: restored from its actors' snapshots, or started fresh when it crashed before
 * its first snapshot was saved.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { UnitTag, unitStatusesTagged } from '../../../machines/index.js';
import { resolveTaskRunConfig, type ResolvedTaskRunConfig, type TaskRunConfig } from '../../config/task-run.js';
import { HitstateError } from '../../errors.js';
import type { JsonObject } from '../../store/json.js';
import type { Store } from '../../store/open-store.js';
import type { TaskRunRecord } from '../../store/types.js';
import type { RuntimeServices } from './services.js';
import { RunHost } from '../supervisor/supervisor.js';
import { readStoredRun } from '../supervisor/stored-run.js';
import { assertLaunchWithinBudget } from '../money/budget.js';

/** Options of `runtime.launchRun`. */
export interface LaunchRunOptions {
  /** The run's id (letters, digits, `.`, `_`, `-`; at most 64). @defaultValue `run-<UTC time>-<4 hex>` */
  readonly runId?: string;
  /** The requester to launch as. @defaultValue the runtime's `requester` */
  readonly requester?: string;
  /**
   * The ExternalQuestion URL (the task server's task page, `https://<host>/hitstate/task`).
   * @defaultValue the config's `taskUrl`
   */
  readonly taskUrl?: string;
}

/** The unit id of unit `index` of a run. */
export function unitIdOf(runId: string, index: number): string {
  return `${runId}.u${index}`;
}

/** A new run's id when none is given: `run-<UTC time>-<4 hex>`. */
export function defaultRunId(now: number): string {
  const stamp = new Date(now)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')
    .replace('T', '-');
  return `run-${stamp}-${randomBytes(2).toString('hex')}`;
}

function checkTaskUrl(taskUrl: string | undefined, environment: RuntimeServices['options']['environment']): string {
  if (taskUrl === undefined) {
    throw new HitstateError(
      'HST_ERR_CONFIG_INVALID',
      'the run has no taskUrl: set taskUrl in the config or pass launchRun(config, { taskUrl }) with the task server\'s task page (e.g. "https://tasks.example.org/hitstate/task")',
      { field: 'taskUrl' },
    );
  }
  let url: URL;
  try {
    url = new URL(taskUrl);
  } catch {
    throw new HitstateError(
      'HST_ERR_CONFIG_INVALID',
      `taskUrl must be an absolute URL, got ${JSON.stringify(taskUrl)}`,
      { field: 'taskUrl' },
    );
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && environment.kind === 'custom')) {
    throw new HitstateError(
      'HST_ERR_CONFIG_INVALID',
      `taskUrl must be https:// on ${environment.kind} MTurk (http:// works only with a custom endpoint such as hitstate sim), got ${JSON.stringify(taskUrl)}`,
      { field: 'taskUrl' },
    );
  }
  return url.href;
}

/**
 * Checks the config and creates the run, its requester and its units in the store, flushed: after
 * this, a crash leaves a run `resume()` picks up.
 *
 * @throws HitstateError `HST_ERR_CONFIG_INVALID` (nothing is created), `HST_ERR_STORE_DUPLICATE` for a taken run id,
 *   `HST_ERR_BUDGET_EXCEEDED` when the units cost more than the config's budget.
 */
export async function createRunRecords(
  services: RuntimeServices,
  config: TaskRunConfig,
  options: LaunchRunOptions,
): Promise<{ record: TaskRunRecord; resolved: ResolvedTaskRunConfig }> {
  const resolved = resolveTaskRunConfig(config);
  const taskUrl = checkTaskUrl(options.taskUrl ?? resolved.taskUrl, services.options.environment);
  const requesterName = options.requester ?? services.options.requester.name;
  const requester = services.options.requesters.get(requesterName);
  const { store } = services;
  if (requester === undefined && store.requesters.get(requesterName) === undefined) {
    throw new HitstateError(
      'HST_ERR_CONFIG_INVALID',
      `requester "${requesterName}" is neither among the runtime's requesters nor in the store; add it to createRuntime({ requesters })`,
      { field: 'requester' },
    );
  }
  const runId = options.runId ?? defaultRunId(services.clock.now());
  assertLaunchWithinBudget(runId, resolved);
  if (store.runs.get(runId) !== undefined) {
    throw new HitstateError(
      'HST_ERR_STORE_DUPLICATE',
      `a run with id "${runId}" exists already in this store; choose another runId or resume it`,
      { field: 'runId', runId },
    );
  }
  if (requester !== undefined) {
    const source = requester.credentials.kind === 'static' ? { kind: 'defaultChain' as const } : requester.credentials;
    const known = store.requesters.get(requesterName);
    if (
      known === undefined ||
      (requester.credentials.kind !== 'static' && JSON.stringify(known.credentialSource) !== JSON.stringify(source))
    ) {
      store.requesters.put({ name: requesterName, credentialSource: source });
    }
  }
  const stored = { ...(config as unknown as JsonObject), taskUrl } as JsonObject;
  const record = store.runs.create({ runId, requesterName, config: stored, frameHeight: resolved.frameHeight });
  resolved.unitData.forEach((_data, index) => {
    store.units.create({ unitId: unitIdOf(runId, index), runId, index, payAmountUsd: resolved.reward });
  });
  await store.flush();
  return { record, resolved: resolveTaskRunConfig(stored) };
}

/**
 * Builds the host of a stored run (restoring its actors when they were saved) without starting it.
 *
 * @throws HitstateError `HST_ERR_RUN_NOT_FOUND`, `HST_ERR_RUN_STATE` (snapshots of another machine version), `HST_ERR_CONFIG_INVALID` (a stored config that no longer passes).
 */
export function loadRunHost(services: RuntimeServices, runId: string): RunHost {
  const record = services.store.runs.require(runId);
  const resolved = resolveTaskRunConfig(record.config);
  const units = [...services.store.units.ofRun(runId)].filter((u) => u.index >= 0).sort((a, b) => a.index - b.index);
  const stored = readStoredRun(services, runId);
  const gateway = services.gatewayFor(record.requesterName);
  return new RunHost(
    {
      runId,
      requesterName: record.requesterName,
      config: resolved,
      taskUrl: resolved.taskUrl ?? '',
      unitIds: units.map((u) => u.id),
      services,
      gateway,
    },
    stored,
  );
}

/** Unfinished runs, and finished ones whose finished HITs were not all disposed when the process stopped. */
export function runsToResume(store: Store): string[] {
  const disposable = new Set<string>(unitStatusesTagged(UnitTag.final));
  return store.runs
    .list()
    .filter((run) => {
      if (run.status !== 'done') return true;
      return store.hits
        .ofRun(run.id)
        .some(
          (hit) =>
            hit.status !== 'Disposed' &&
            hit.unitId !== null &&
            disposable.has(store.units.get(hit.unitId)?.status ?? ''),
        );
    })
    .map((run) => run.id);
}
