/**
 * The supervisor's decisions as pure functions: context and event in, next context and effects
 * out. The machine (`task-run.ts`) only turns effects into spawns and sends, so the pool, binding
 * and counting rules are plain functions that tests can call directly. Who holds which HIT
 * (arrivals, displacements, adoptions) is decided in `task-run-binding.ts`.
 *
 * @module
 */
import type { AgentEvent } from './agent-types.js';
import { AssignmentState, UnitStateGroups } from './states.js';
import { MapPoolTables, tablesOf } from './task-run-tables.js';
import { DEFAULT_TASK_RUN_SETTINGS } from './task-run-types.js';
import type { PoolTables } from './task-run-tables.js';
import type { HitObservationEvent, HitRecord, TaskRunContext, TaskRunInput, UnitEntry } from './task-run-types.js';
import { classifyObservation } from './unit-commands.js';
import { groupActorIdOf } from './unit-group.js';
import type { UnitEvent } from './unit-types.js';

/** Something the supervisor does besides updating its context. Units live in groups (`unit-group.ts`). */
export type Effect =
  | { readonly kind: 'spawnGroup'; readonly groupId: string; readonly unitIds: readonly string[] }
  | { readonly kind: 'addToGroup'; readonly groupId: string; readonly unitIds: readonly string[] }
  | { readonly kind: 'toUnit'; readonly unitId: string; readonly event: UnitEvent }
  | { readonly kind: 'toAgent'; readonly agentId: string; readonly event: AgentEvent };

/** The result of a decision. */
export interface Step {
  readonly context: TaskRunContext;
  readonly effects: readonly Effect[];
}

const MAX_ANOMALIES = 20;
const INCOMPLETE: readonly AssignmentState[] = UnitStateGroups.incomplete;

const zeroCounts = (): Record<AssignmentState, number> =>
  Object.fromEntries(Object.values(AssignmentState).map((s) => [s, 0])) as Record<AssignmentState, number>;

/** The supervisor's context before setup: the units are known, their actors are spawned when setup succeeds. */
export function initialTaskRunContext(input: TaskRunInput): TaskRunContext {
  const settings = { ...DEFAULT_TASK_RUN_SETTINGS, ...input.settings };
  const empty: TaskRunContext = {
    runId: input.runId,
    settings,
    ...(input.retry !== undefined ? { retry: input.retry } : {}),
    hitTypeId: null,
    setupAttempt: 1,
    failure: null,
    groupsSpawned: 0,
    launchCursor: 0,
    counts: zeroCounts(),
    launchesInFlight: 0,
    tables: input.tables ?? MapPoolTables.empty(),
    launchHalt: null,
    expiredAt: null,
    drainDeadlineAt: null,
    anomalies: [],
  };
  return addUnits(empty, input.unitIds, false).context;
}

/** Records something that should not happen but was handled, keeping the last {@link MAX_ANOMALIES}. */
export function noteAnomaly(context: TaskRunContext, message: string): TaskRunContext {
  return { ...context, anomalies: [...context.anomalies.slice(-(MAX_ANOMALIES - 1)), message] };
}

/** Number of units in the incomplete statuses (created, launched, assigned). */
export function incompleteCount(context: TaskRunContext): number {
  return INCOMPLETE.reduce((n, s) => n + context.counts[s], 0);
}

/** Sets a unit's entry, keeping counts consistent with it (the tables keep the free list). */
export function putUnit(context: TaskRunContext, unitId: string, entry: UnitEntry): TaskRunContext {
  const tables = tablesOf(context);
  const previous = tables.unit(unitId);
  let counts = context.counts;
  if (previous?.status !== entry.status) {
    counts = { ...counts, [entry.status]: counts[entry.status] + 1 };
    if (previous !== undefined) counts = { ...counts, [previous.status]: counts[previous.status] - 1 };
  }
  return { ...context, tables: tables.putUnit(unitId, entry), counts };
}

/** Groups of consecutive units (by position in the run's unit order), as `[groupId, unitIds]`. */
function grouped(tables: PoolTables, from: number): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  for (let i = from; i < tables.unitCount; i++) {
    const id = groupActorIdOf(i);
    const unitId = tables.unitAt(i)!;
    const list = groups.get(id);
    if (list === undefined) groups.set(id, [unitId]);
    else list.push(unitId);
  }
  return groups;
}

/**
 * Adds units; ids already in the run are ignored. Once the run's actors exist (`spawned`), the
 * new units join the last group while it has room, then new groups.
 */
export function addUnits(context: TaskRunContext, unitIds: readonly string[], spawned: boolean): Step {
  const tables = tablesOf(context);
  // Read before the change: tables may change in place.
  const from = tables.unitCount;
  const fresh = [...new Set(unitIds)].filter((unitId) => tables.unit(unitId) === undefined);
  const next: TaskRunContext = {
    ...context,
    tables: tables.addUnits(fresh),
    counts: { ...context.counts, created: context.counts.created + fresh.length },
  };
  return spawned ? placeUnits(next, from) : { context: next, effects: [] };
}

/**
 * Puts the units from position `from` of the unit order into groups: existing groups get them
 * with `group.addUnits`, missing groups are spawned. `groupsSpawned` is the duplicate guard, so
 * a group is never spawned twice.
 */
function placeUnits(context: TaskRunContext, from: number): Step {
  const effects: Effect[] = [];
  let groupsSpawned = context.groupsSpawned;
  for (const [groupId, unitIds] of grouped(tablesOf(context), from)) {
    const index = Number(groupId.slice(groupId.indexOf(':') + 1));
    if (index < groupsSpawned) effects.push({ kind: 'addToGroup', groupId, unitIds });
    else {
      effects.push({ kind: 'spawnGroup', groupId, unitIds });
      groupsSpawned = index + 1;
    }
  }
  return { context: { ...context, groupsSpawned }, effects };
}

/** Spawns the groups holding every unit of the run (when setup succeeds). */
export function spawnGroups(context: TaskRunContext): Step {
  return context.groupsSpawned > 0 ? { context, effects: [] } : placeUnits(context, 0);
}

/** Launches the next never-launched units while the concurrency limit allows (none while launching is halted). */
export function launchMore(step: Step, at: number): Step {
  let context = step.context;
  if (context.launchHalt !== null) return step;
  const effects = [...step.effects];
  const limit = context.settings.maxConcurrentUnits;
  let slots =
    limit === 0 ? Infinity : limit - (context.counts.launched + context.counts.assigned + context.launchesInFlight);
  let cursor = context.launchCursor;
  const count = tablesOf(context).unitCount;
  while (slots > 0 && cursor < count) {
    const unitId = tablesOf(context).unitAt(cursor)!;
    cursor++;
    const entry = tablesOf(context).unit(unitId);
    if (entry?.status !== AssignmentState.created || entry.pending !== undefined) continue;
    context = putUnit(context, unitId, { status: AssignmentState.created, pending: 'launch' });
    context = { ...context, launchesInFlight: context.launchesInFlight + 1 };
    effects.push({ kind: 'toUnit', unitId, event: { type: 'unit.launch', at } });
    slots--;
  }
  return { context: { ...context, launchCursor: cursor }, effects };
}

/** Whether every unit was asked to launch and no launch is in flight (launching → running). */
export function everyUnitLaunched(context: TaskRunContext): boolean {
  return (
    context.launchCursor >= tablesOf(context).unitCount && context.launchesInFlight === 0 && context.launchHalt === null
  );
}

/** An unbound pool HIT for `unitId`: one its launch created if any, else any unbound HIT. */
function pickPoolHit(context: TaskRunContext, unitId: string): string | null {
  let any: string | null = null;
  for (const [hitId, record] of tablesOf(context).hits()) {
    if (record.unitId !== null) continue;
    if (record.createdBy === unitId) return hitId;
    any ??= hitId;
  }
  return any;
}

/** Binding preference for a HIT: the unit whose launch created it if still free, else the oldest free unit. */
export function pickFreeUnit(context: TaskRunContext, record: HitRecord): string | null {
  const tables = tablesOf(context);
  if (tables.isFree(record.createdBy)) return record.createdBy;
  return tables.firstFree() ?? null;
}

/** A unit reported a new status. `expiring` is true while the run expires or drains: a unit back in the pool is expired at once. */
export function unitChanged(
  context: TaskRunContext,
  unitId: string,
  status: AssignmentState,
  at: number,
  expiring: boolean,
): Step {
  const previous = tablesOf(context).unit(unitId);
  if (previous === undefined)
    return { context: noteAnomaly(context, `report from unknown unit ${unitId}`), effects: [] };
  let next = context;
  if (previous.pending === 'launch' && status !== AssignmentState.created)
    next = { ...next, launchesInFlight: next.launchesInFlight - 1 };
  const keepPending = previous.status === status ? previous.pending : undefined;
  next = putUnit(next, unitId, keepPending === undefined ? { status } : { status, pending: keepPending });
  const step: Step = { context: next, effects: [] };
  if (expiring)
    return status === AssignmentState.launched ? expireUnit(step, unitId, pickPoolHit(next, unitId), at) : step;
  return launchMore(step, at);
}

/** A unit's launch gave up: launching halts until `run.resumeLaunching` (or the unit is expired when the run is expiring). */
export function launchFailed(
  context: TaskRunContext,
  unitId: string,
  reason: string,
  at: number,
  expiring: boolean,
): Step {
  const entry = tablesOf(context).unit(unitId);
  let next = context;
  if (entry?.pending === 'launch') {
    next = putUnit(next, unitId, { status: entry.status });
    next = { ...next, launchesInFlight: next.launchesInFlight - 1 };
  }
  if (expiring)
    return { context: next, effects: [{ kind: 'toUnit', unitId, event: { type: 'unit.expire', hitId: null, at } }] };
  return { context: { ...next, launchHalt: { unitId, reason, at } }, effects: [] };
}

/** `run.resumeLaunching`: clear the halt and look at every unit again. */
export function resumeLaunching(context: TaskRunContext, at: number): Step {
  return launchMore({ context: { ...context, launchHalt: null, launchCursor: 0 }, effects: [] }, at);
}

/** A unit's launch created `hitId`: it joins the pool, unbound. */
export function hitCreated(context: TaskRunContext, unitId: string, hitId: string): TaskRunContext {
  const tables = tablesOf(context);
  if (tables.hit(hitId) !== undefined) return context;
  return { ...context, tables: tables.putHit(hitId, { unitId: null, assignmentId: null, createdBy: unitId }) };
}

/**
 * A unit gave `hitId` back. The binding is a versioned record (Mephisto PR #337, #207; see
 * docs/mephisto-semantics.md#known-bugs-and-lessons): it is
 * cleared only if the HIT is still bound to that unit with that assignment, so a stale release
 * never undoes a newer binding.
 */
export function hitReleased(
  context: TaskRunContext,
  unitId: string,
  hitId: string,
  assignmentId: string | null,
): TaskRunContext {
  const record = tablesOf(context).hit(hitId);
  if (record === undefined || record.unitId !== unitId || record.assignmentId !== assignmentId) {
    return noteAnomaly(
      context,
      `unit ${unitId} released HIT ${hitId} (assignment ${assignmentId ?? 'none'}), a binding it did not hold`,
    );
  }
  return { ...context, tables: tablesOf(context).putHit(hitId, { ...record, unitId: null, assignmentId: null }) };
}

/**
 * Routes an observation to the unit bound to its HIT. An unbound pool HIT that was submitted
 * (H3), expired unfilled (H4) or vanished (L2; rows of docs/mephisto-semantics.md#the-unit-table) is handed to a free launched unit, which answers
 * for it: the count of HITs and launched units stays equal. Other news of unbound HITs changes nothing.
 */
export function routeObservation(context: TaskRunContext, event: HitObservationEvent): Step {
  const record = tablesOf(context).hit(event.hitId);
  if (record === undefined)
    return {
      context: noteAnomaly(context, `${event.type} for HIT ${event.hitId}, which is not in this run`),
      effects: [],
    };
  if (record.unitId !== null) return { context, effects: [{ kind: 'toUnit', unitId: record.unitId, event }] };
  const decisive =
    event.type === 'hit.notFound' ||
    (event.type === 'hit.observed' &&
      ['completed', 'expired'].includes(classifyObservation(event.status, event.available) ?? ''));
  if (!decisive) return { context, effects: [] };
  const unitId = pickFreeUnit(context, record);
  if (unitId === null)
    return {
      context: noteAnomaly(
        context,
        `pool HIT ${event.hitId}: ${event.type} but no launched unit is free to answer for it`,
      ),
      effects: [],
    };
  let next = putUnit(context, unitId, { status: AssignmentState.launched, pending: 'poolHit' });
  next = { ...next, tables: tablesOf(next).putHit(event.hitId, { ...record, unitId }) };
  return { context: next, effects: [{ kind: 'toUnit', unitId, event }] };
}

/** Expires one launched unit with a pool HIT (`hitId`, or null when the pool is empty: the unit simply expires). */
function expireUnit(step: Step, unitId: string, hitId: string | null, at: number): Step {
  let context = putUnit(step.context, unitId, { status: AssignmentState.launched, pending: 'poolHit' });
  if (hitId !== null) {
    const record = tablesOf(context).hit(hitId)!;
    context = { ...context, tables: tablesOf(context).putHit(hitId, { ...record, unitId }) };
  }
  return { context, effects: [...step.effects, { kind: 'toUnit', unitId, event: { type: 'unit.expire', hitId, at } }] };
}

/** The unbound pool HITs, indexed once so expiring every launched unit is linear (preference as in {@link pickPoolHit}). */
function poolIndex(context: TaskRunContext): (unitId: string) => string | null {
  const byCreator = new Map<string, string[]>();
  for (const [hitId, record] of tablesOf(context).hits()) {
    if (record.unitId !== null) continue;
    const list = byCreator.get(record.createdBy);
    if (list === undefined) byCreator.set(record.createdBy, [hitId]);
    else list.push(hitId);
  }
  return (unitId) => {
    const own = byCreator.get(unitId);
    if (own !== undefined && own.length > 0) return own.shift()!;
    for (const list of byCreator.values()) if (list.length > 0) return list.shift()!;
    return null;
  };
}

/**
 * `run.expire`: units not launched expire, launched ones expire a pool HIT, assigned ones expire
 * their own HIT and are drained. A launch in flight is expired when its outcome is reported.
 */
export function expireRun(context: TaskRunContext, at: number): Step {
  const drainDeadlineAt = at + (context.settings.assignmentDurationSec + context.settings.drainGraceSec) * 1000;
  let step: Step = { context: { ...context, expiredAt: at, drainDeadlineAt, launchHalt: null }, effects: [] };
  const takePoolHit = poolIndex(context);
  // The unit order only grows with run.addUnits, never here: read it once, entries as they change.
  const order = [...tablesOf(context).units()].map(([unitId]) => unitId);
  for (const unitId of order) {
    const entry = tablesOf(step.context).unit(unitId);
    if (entry === undefined || entry.pending !== undefined) continue;
    if (entry.status === AssignmentState.created || entry.status === AssignmentState.assigned) {
      step = {
        context: step.context,
        effects: [...step.effects, { kind: 'toUnit', unitId, event: { type: 'unit.expire', hitId: null, at } }],
      };
    } else if (entry.status === AssignmentState.launched) {
      step = expireUnit(step, unitId, takePoolHit(unitId), at);
    }
  }
  return step;
}

/** The drain deadline passed: every unit still incomplete is abandoned (it ends `expired`, its agent is told). */
export function abandonRemaining(context: TaskRunContext, at: number): Step {
  const effects: Effect[] = [];
  for (const [unitId, entry] of tablesOf(context).units()) {
    if (INCOMPLETE.includes(entry.status)) {
      effects.push({
        kind: 'toUnit',
        unitId,
        event: { type: 'unit.abandon', reason: 'the run stopped waiting at its drain deadline', at },
      });
    }
  }
  return { context, effects };
}
