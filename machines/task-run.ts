/**
 * The taskRun supervisor: one per task run. It sets up the run's resources, spawns a unit actor
 * per unit (`unit:<unitId>`, in groups of 100, see `unit-group.ts`) whose unit spawns an agent
 * actor per arriving worker (`agent:<agentId>`), owns the run's HIT pool, routes events to units
 * and agents, keeps at most `maxConcurrentUnits` units launched or assigned, and at the end
 * expires what is left and drains what is assigned.
 *
 * Send every event to the supervisor: an event with `unitId` goes to that unit, one with
 * `agentId` to that agent, HIT observations to the unit bound to the HIT. Units report back
 * through their `report` action (`report.*` events, relayed by their group). A failure anywhere
 * below is recorded in `anomalies`; the supervisor itself never errors.
 *
 * Every spawn and send to a unit or agent goes through the `deliver` action: by default units are
 * XState children (in groups); the runtime provides its own `deliver` and keeps units and agents
 * passive, stored snapshots materialized while they have work (docs/runtime.md#when-an-actor-lives).
 *
 * @module
 */
import { TaskRunState } from './states.js';
import { initialTaskRunContext } from './task-run-logic.js';
import {
  AGENT_ADDRESSED,
  HIT_OBSERVATIONS,
  UNIT_ADDRESSED,
  setupCommandOf,
  taskRunImplementation,
} from './task-run-setup.js';

/** `{ [type]: { actions } }` for each event type of a routing list (the lists live in task-run-setup.ts). */
function routeAll<const T extends string, const A extends string>(
  types: readonly T[],
  actions: A,
): { readonly [K in T]: { readonly actions: A } } {
  const handlers: Partial<Record<T, { readonly actions: A }>> = {};
  for (const type of types) handlers[type] = { actions };
  return handlers as { readonly [K in T]: { readonly actions: A } };
}

/** Handlers every state with units shares: routing, children's reports and errors. */
const routing = (expiring: boolean) =>
  ({
    ...routeAll(HIT_OBSERVATIONS, 'routeObservation'),
    ...routeAll(UNIT_ADDRESSED, 'routeToUnit'),
    ...routeAll(AGENT_ADDRESSED, 'routeToAgent'),
    'report.unitChanged': { actions: expiring ? 'applyUnitReportWhileExpiring' : 'applyUnitReport' },
    'report.hitCreated': { actions: 'addPoolHit' },
    'report.hitReleased': { actions: 'releasePoolHit' },
    'report.bindingReplaced': { actions: 'replaceBinding' },
    'report.launchFailed': { actions: expiring ? 'expireFailedLaunch' : 'haltLaunching' },
    'report.childFailed': { actions: 'recordUnitChildFailure' },
    'report.reconciledWithoutAgent': { actions: 'adoptReconciledUnit' },
  }) as const;

/**
 * The taskRun supervisor machine.
 *
 * @example
 * ```ts
 * const run = createActor(withCommandHandler(taskRunMachine, (command) => outbox.push(command)), {
 *   input: { runId: 'r1', unitIds: ['u1', 'u2'], settings: { maxConcurrentUnits: 1 } },
 * }).start();
 * // outbox: [{ kind: 'setUpResources', ... }]
 * run.send({ type: 'setup.succeeded', commandId: 'r1/setUpResources/1', hitTypeId: 'HT1', at: clock.now() });
 * ```
 */
export const taskRunMachine = taskRunImplementation.createMachine({
  id: 'taskRun',
  description: 'One task run: its resources, units, agents and HIT pool.',
  context: ({ input }) => initialTaskRunContext(input),
  // In every state: an unhandled child error would put the supervisor itself in error
  // (docs/stack-notes.md#child-errors-and-the-parent).
  on: { 'xstate.error.actor.*': { actions: 'recordChildError' } },
  initial: TaskRunState.settingUp,
  states: {
    [TaskRunState.settingUp]: {
      description: 'setUpResources is pending: qualifications resolved and the HIT type created.',
      entry: { type: 'setUpResources', params: ({ context }) => setupCommandOf(context) },
      on: {
        'setup.succeeded': {
          guard: 'isSetupResult',
          target: TaskRunState.launching,
          actions: ['recordHitType', 'spawnUnits'],
        },
        'setup.failed': { guard: 'isSetupResult', target: TaskRunState.failed, actions: 'recordSetupFailure' },
        'run.expire': { target: TaskRunState.done },
        'run.addUnits': { actions: 'addUnitsBeforeSetup' },
        'worker.arrived': { actions: 'refuseArrival' },
      },
    },
    [TaskRunState.launching]: {
      description:
        'Launching units, at most maxConcurrentUnits launched or assigned; stays here while launching is halted.',
      entry: 'launchUnits',
      always: { guard: 'everyUnitLaunched', target: TaskRunState.running },
      on: {
        ...routing(false),
        'worker.arrived': { actions: 'bindArrival' },
        'deadline.reached': { actions: 'routeDeadline' },
        'run.addUnits': { actions: ['addUnits', 'launchUnits'] },
        'run.resumeLaunching': { actions: 'resumeLaunching' },
        'run.expire': { target: TaskRunState.expiring, actions: 'expireUnits' },
      },
    },
    [TaskRunState.running]: {
      description: 'Every unit was launched; workers arrive, submit and return, units finish.',
      on: {
        ...routing(false),
        'worker.arrived': { actions: 'bindArrival' },
        'deadline.reached': { actions: 'routeDeadline' },
        'run.addUnits': { target: TaskRunState.launching, actions: 'addUnits' },
        'run.resumeLaunching': { target: TaskRunState.launching, actions: 'resumeLaunching' },
        'run.expire': { target: TaskRunState.expiring, actions: 'expireUnits' },
      },
    },
    [TaskRunState.expiring]: {
      description: 'Units not yet assigned are expiring (launched ones expire a pool HIT); new workers are refused.',
      always: { guard: 'onlyAssignedLeft', target: TaskRunState.draining },
      on: {
        ...routing(true),
        'worker.arrived': { actions: 'refuseArrival' },
        'deadline.reached': [{ guard: 'drainDeadlinePassed', actions: 'abandonUnits' }, { actions: 'routeDeadline' }],
      },
    },
    [TaskRunState.draining]: {
      description: 'Waiting for assigned units to finish, up to their assignment duration; then the rest is abandoned.',
      always: { guard: 'noIncompleteUnit', target: TaskRunState.done },
      on: {
        ...routing(true),
        'worker.arrived': { actions: 'refuseArrival' },
        'deadline.reached': [{ guard: 'drainDeadlinePassed', actions: 'abandonUnits' }, { actions: 'routeDeadline' }],
      },
    },
    [TaskRunState.done]: {
      description:
        'No unit is incomplete. Reviews and their results are still routed; run.addUnits (relaunch, add-units) launches again.',
      on: {
        ...routing(true),
        'run.addUnits': { target: TaskRunState.launching, actions: 'addUnits' },
        'worker.arrived': { actions: 'refuseArrival' },
        'deadline.reached': { actions: 'routeDeadline' },
      },
    },
    [TaskRunState.failed]: {
      description:
        'Setup failed; failure has the reason. run.retrySetup tries again; run.expire gives up (nothing was launched).',
      on: {
        'run.retrySetup': { target: TaskRunState.settingUp, actions: 'nextSetupAttempt' },
        'run.expire': { target: TaskRunState.done },
        'worker.arrived': { actions: 'refuseArrival' },
      },
    },
  },
});
