/**
 * Continuing a run: more units for a run that is launching, running, detached or done
 * (`hitstate add-units`), and new units for the units that expired without work
 * (`hitstate relaunch`). Both go through the same path:
 *
 * 1. the run's budget is checked (reward + fee of every new unit) before anything is written;
 * 2. the new units' input is appended to the run's config (`units`, where the task server and the
 *    export read a unit's input by its index) with a line in `addedUnits` saying where they came
 *    from, and the unit records are created, in one flush;
 * 3. the supervisor is told (`run.addUnits`) and launches them through the money outbox, with
 *    the HIT tokens of their unit ids.
 *
 * Killed after 2, the next command finds the batch in `addedUnits` (nothing is added twice) and
 * hands the supervisor the units it does not know yet ({@link adoptStoredUnits}); killed during 3,
 * the launches replay with the same tokens, so no HIT is created twice.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { tablesOf } from '../../../machines/index.js';
import { resolveTaskRunConfig, TASK_RUN_LIMITS } from '../../config/task-run.js';
import { HitstateError } from '../../errors.js';
import type { JsonObject } from '../../store/json.js';
import type { UnitRecord } from '../../store/types.js';
import { assertWithinBudget, budgetOf, usd } from '../money/budget.js';
import { unitIdOf } from './run-loader.js';
import type { RunRegistry } from './run-registry.js';

/** Where a batch of added units came from, as kept in the config's `addedUnits`. */
export interface AddedUnitsEntry {
  /** `file sha256:<hex>` for `add-units` (the digest of the items), `relaunch` for `relaunch`. */
  readonly source: string;
  /** Index of the first new unit; the batch is `first` to `first + count - 1`. */
  readonly first: number;
  readonly count: number;
  /** For a relaunch: the indexes of the expired units the new ones replace. */
  readonly of?: readonly number[];
}

/** What `addUnits` or `relaunch` did. */
export interface AddedUnits {
  readonly runId: string;
  /** The new units' ids (for a batch added before: that batch's). */
  readonly unitIds: readonly string[];
  /** True when this very batch was added before (a re-run after a kill): nothing new was created. */
  readonly alreadyAdded: boolean;
  /** Units the store held that the supervisor did not know yet (a kill between the two), now handed over. */
  readonly adopted: number;
}

/** Run statuses that take more units. */
const EXTENSIBLE: ReadonlySet<string> = new Set(['created', 'settingUp', 'launching', 'running', 'done']);

function addedEntries(config: Readonly<Record<string, unknown>>): AddedUnitsEntry[] {
  return Array.isArray(config.addedUnits) ? (config.addedUnits as AddedUnitsEntry[]) : [];
}

/** The digest that recognises a file of units added before. */
export function unitsDigest(items: readonly unknown[]): string {
  return `file sha256:${createHash('sha256').update(JSON.stringify(items)).digest('hex')}`;
}

/**
 * Hands the supervisor every unit of the store it does not know yet (a command killed between
 * writing new units and telling the supervisor). Returns how many.
 */
export async function adoptStoredUnits(runs: RunRegistry, runId: string): Promise<number> {
  const host = await runs.ensure(runId);
  const known = tablesOf(host.supervisor().context);
  const orphans = host.services.store.units
    .ofRun(runId)
    .filter((u) => u.index >= 0 && known.unit(u.id) === undefined)
    .sort((a, b) => a.index - b.index)
    .map((u) => u.id);
  if (orphans.length === 0) return 0;
  refreshConfig(runs, runId);
  host.send({ type: 'run.addUnits', unitIds: orphans, at: host.services.clock.now() });
  host.persistNow();
  return orphans.length;
}

/** A loaded run reads its units' input from its config: give it the stored one after units were appended. */
function refreshConfig(runs: RunRegistry, runId: string): void {
  const host = runs.loaded(runId);
  if (host === undefined) return;
  const config = resolveTaskRunConfig(host.services.store.runs.require(runId).config);
  host.replaceConfig(config);
}

function checkStatus(runs: RunRegistry, runId: string, what: string): void {
  const status = runs.loaded(runId)?.status() ?? runs.services.store.runs.require(runId).status;
  if (EXTENSIBLE.has(status)) return;
  const why =
    status === 'failed'
      ? `its setup failed; \`hitstate resume ${runId}\` tries the setup again, then ${what}`
      : `it is ending (${status}): units nobody holds are expiring and held work is finishing; once it is done (\`hitstate status ${runId}\`), ${what}`;
  throw new HitstateError('HST_ERR_RUN_STATE', `run ${runId} cannot take more units now: ${why}`, { runId });
}

async function appendUnits(
  runs: RunRegistry,
  runId: string,
  items: readonly unknown[],
  entry: Omit<AddedUnitsEntry, 'first' | 'count'>,
  what: string,
): Promise<AddedUnits> {
  const { store } = runs.services;
  const record = store.runs.require(runId);
  const units = store.units.ofRun(runId).filter((u: UnitRecord) => u.index >= 0);
  const first = units.reduce((max, u) => Math.max(max, u.index + 1), 0);
  if (first + items.length > TASK_RUN_LIMITS.maxUnits)
    throw new HitstateError(
      'HST_ERR_CONFIG_INVALID',
      `run ${runId} has ${first} units; ${items.length} more would pass the limit of ${TASK_RUN_LIMITS.maxUnits} units per run. Add fewer, or launch a new run.`,
      { runId, field: 'units' },
    );
  const ledger = budgetOf(store, runId);
  assertWithinBudget(ledger, {
    what: `${what} (${items.length} × ${usd(ledger.unitCostCents)} reward and fee)`,
    addsCents: items.length * ledger.unitCostCents,
  });
  const config = record.config as Readonly<Record<string, unknown>>;
  const before = config.units;
  const allNull = items.every((i) => i === null);
  const nextUnits =
    typeof before === 'number'
      ? allNull
        ? before + items.length
        : [...Array.from({ length: before }, () => null), ...items]
      : [...(before as readonly unknown[]), ...items];
  const next = {
    ...config,
    units: nextUnits,
    addedUnits: [...addedEntries(config), { ...entry, first, count: items.length }],
  } as unknown as JsonObject;
  const resolved = resolveTaskRunConfig(next);
  store.runs.setConfig(runId, next);
  const unitIds: string[] = [];
  for (let i = 0; i < items.length; i++) {
    const unitId = unitIdOf(runId, first + i);
    store.units.create({ unitId, runId, index: first + i, payAmountUsd: resolved.reward });
    unitIds.push(unitId);
  }
  // Config and units reach the disk together, before the supervisor hears of them.
  await store.flush();
  const adopted = await adoptStoredUnits(runs, runId);
  return { runId, unitIds, alreadyAdded: false, adopted: adopted - unitIds.length };
}

/**
 * Adds units to a run (launching, running, detached or done): one per item of `items`, each item
 * the task data its page gets. The same items added again (a re-run after a kill) are recognised
 * and not added twice.
 *
 * @throws HitstateError `HST_ERR_BUDGET_EXCEEDED` (nothing written), `HST_ERR_RUN_STATE` (ending or failed run),
 *   `HST_ERR_CONFIG_INVALID` (no items, or too many), `HST_ERR_RUN_NOT_FOUND`.
 */
export async function addUnits(runs: RunRegistry, runId: string, items: readonly unknown[]): Promise<AddedUnits> {
  runs.assertOpen();
  if (!Array.isArray(items) || items.length === 0)
    throw new HitstateError(
      'HST_ERR_CONFIG_INVALID',
      'add-units needs a list of at least one task data item (one per new unit)',
      { runId, field: 'units' },
    );
  const record = runs.services.store.runs.require(runId);
  const source = unitsDigest(items);
  const done = addedEntries(record.config).find((e) => e.source === source);
  if (done !== undefined) {
    const adopted = await adoptStoredUnits(runs, runId);
    return {
      runId,
      unitIds: Array.from({ length: done.count }, (_, i) => unitIdOf(runId, done.first + i)),
      alreadyAdded: true,
      adopted,
    };
  }
  checkStatus(runs, runId, 'add the units');
  await runs.ensure(runId);
  return appendUnits(runs, runId, items, { source }, `adding ${items.length} unit${items.length === 1 ? '' : 's'}`);
}

/** Units of a run that expired without work and were not relaunched yet, oldest first. */
export function unitsToRelaunch(runs: RunRegistry, runId: string): UnitRecord[] {
  const { store } = runs.services;
  const record = store.runs.require(runId);
  const relaunched = new Set(addedEntries(record.config).flatMap((e) => e.of ?? []));
  return store.units
    .ofRun(runId)
    .filter(
      (u) =>
        u.index >= 0 &&
        u.status === 'expired' &&
        !relaunched.has(u.index) &&
        !store.agents.ofUnit(u.id).some((a) => a.submittedAt !== null),
    )
    .sort((a, b) => a.index - b.index);
}

/**
 * Gives the units that expired without work (HITs nobody took before they expired, or that `stop`
 * expired) new units with the same input, launched with new HITs, within the budget. `unitIds`
 * limits it to some of them. A unit is relaunched once: a re-run finds nothing left to relaunch.
 *
 * @throws HitstateError `HST_ERR_BUDGET_EXCEEDED` (nothing written), `HST_ERR_RUN_STATE`,
 *   `HST_ERR_UNIT_NOT_FOUND` (a unit of `unitIds` that is not an expired, never-relaunched unit of the run).
 */
export async function relaunch(runs: RunRegistry, runId: string, unitIds?: readonly string[]): Promise<AddedUnits> {
  runs.assertOpen();
  let candidates = unitsToRelaunch(runs, runId);
  if (unitIds !== undefined) {
    const wanted = new Set(unitIds);
    const missing = [...wanted].filter((id) => !candidates.some((u) => u.id === id));
    if (missing.length > 0)
      throw new HitstateError(
        'HST_ERR_UNIT_NOT_FOUND',
        `run ${runId} has no expired, never relaunched unit ${missing.join(', ')}; units that can be relaunched: ${candidates.map((u) => u.id).join(', ') || 'none'}`,
        { runId, unitId: missing[0]! },
      );
    candidates = candidates.filter((u) => wanted.has(u.id));
  }
  if (candidates.length === 0) {
    const adopted = await adoptStoredUnits(runs, runId);
    return { runId, unitIds: [], alreadyAdded: false, adopted };
  }
  checkStatus(runs, runId, 'relaunch');
  await runs.ensure(runId);
  const config = resolveTaskRunConfig(runs.services.store.runs.require(runId).config);
  const items = candidates.map((u) => config.unitData[u.index] ?? null);
  return appendUnits(
    runs,
    runId,
    items,
    { source: 'relaunch', of: candidates.map((u) => u.index) },
    `relaunching ${items.length} expired unit${items.length === 1 ? '' : 's'}`,
  );
}
