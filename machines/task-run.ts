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
 * @module
 */
import { initialTaskRunContext } from './task-run-logic.js';
import { setupCommandOf, taskRunImplementation } from './task-run-setup.js';

/** Handlers every state with units shares: routing, children's reports and errors. */
const routing = (expiring: boolean) =>
  ({
    'hit.observed': { actions: 'routeObservation' },
    'hit.notFound': { actions: 'routeObservation' },
    'hit.lookupFailed': { actions: 'routeObservation' },
    'launch.succeeded': { actions: 'routeToUnit' },
    'launch.failed': { actions: 'routeToUnit' },
    'expire.succeeded': { actions: 'routeToUnit' },
    'expire.failed': { actions: 'routeToUnit' },
    'reconcile.succeeded': { actions: 'routeToUnit' },
    'reconcile.failed': { actions: 'routeToUnit' },
    'unit.releaseAgent': { actions: 'routeToUnit' },
    'unit.retryReconcile': { actions: 'routeToUnit' },
    'unit.confirmBinding': { actions: 'routeToUnit' },
    'unit.bindingGone': { actions: 'routeToUnit' },
    'agent.onboardingStarted': { actions: 'routeToAgent' },
    'agent.waitingStarted': { actions: 'routeToAgent' },
    'agent.taskStarted': { actions: 'routeToAgent' },
    'agent.submitted': { actions: 'routeToAgent' },
    'agent.disconnected': { actions: 'routeToAgent' },
    'agent.timedOut': { actions: 'routeToAgent' },
    'agent.partnerDisconnected': { actions: 'routeToAgent' },
    'review.approve': { actions: 'routeToAgent' },
    'review.reject': { actions: 'routeToAgent' },
    'review.softReject': { actions: 'routeToAgent' },
    'review.bonus': { actions: 'routeToAgent' },
    'review.succeeded': { actions: 'routeToAgent' },
    'review.alreadyDone': { actions: 'routeToAgent' },
    'review.failed': { actions: 'routeToAgent' },
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
  // In every state: an unhandled child error would put the supervisor itself in error (stack-notes §0 #4).
  on: { 'xstate.error.actor.*': { actions: 'recordChildError' } },
  initial: 'settingUp',
  states: {
    settingUp: {
      description: 'setUpResources is pending: qualifications resolved and the HIT type created.',
      entry: { type: 'setUpResources', params: ({ context }) => setupCommandOf(context) },
      on: {
        'setup.succeeded': { guard: 'isSetupResult', target: 'launching', actions: ['recordHitType', 'spawnUnits'] },
        'setup.failed': { guard: 'isSetupResult', target: 'failed', actions: 'recordSetupFailure' },
        'run.expire': { target: 'done' },
        'run.addUnits': { actions: 'addUnitsBeforeSetup' },
        'worker.arrived': { actions: 'refuseArrival' },
      },
    },
    launching: {
      description:
        'Launching units, at most maxConcurrentUnits launched or assigned; stays here while launching is halted.',
      entry: 'launchUnits',
      always: { guard: 'everyUnitLaunched', target: 'running' },
      on: {
        ...routing(false),
        'worker.arrived': { actions: 'bindArrival' },
        'deadline.reached': { actions: 'routeDeadline' },
        'run.addUnits': { actions: ['addUnits', 'launchUnits'] },
        'run.resumeLaunching': { actions: 'resumeLaunching' },
        'run.expire': { target: 'expiring', actions: 'expireUnits' },
      },
    },
    running: {
      description: 'Every unit was launched; workers arrive, submit and return, units finish.',
      on: {
        ...routing(false),
        'worker.arrived': { actions: 'bindArrival' },
        'deadline.reached': { actions: 'routeDeadline' },
        'run.addUnits': { target: 'launching', actions: 'addUnits' },
        'run.resumeLaunching': { target: 'launching', actions: 'resumeLaunching' },
        'run.expire': { target: 'expiring', actions: 'expireUnits' },
      },
    },
    expiring: {
      description: 'Units not yet assigned are expiring (launched ones expire a pool HIT); new workers are refused.',
      always: { guard: 'onlyAssignedLeft', target: 'draining' },
      on: {
        ...routing(true),
        'worker.arrived': { actions: 'refuseArrival' },
        'deadline.reached': [{ guard: 'drainDeadlinePassed', actions: 'abandonUnits' }, { actions: 'routeDeadline' }],
      },
    },
    draining: {
      description: 'Waiting for assigned units to finish, up to their assignment duration; then the rest is abandoned.',
      always: { guard: 'noIncompleteUnit', target: 'done' },
      on: {
        ...routing(true),
        'worker.arrived': { actions: 'refuseArrival' },
        'deadline.reached': [{ guard: 'drainDeadlinePassed', actions: 'abandonUnits' }, { actions: 'routeDeadline' }],
      },
    },
    done: {
      description: 'No unit is incomplete. Reviews and their results are still routed.',
      on: {
        ...routing(true),
        'worker.arrived': { actions: 'refuseArrival' },
        'deadline.reached': { actions: 'routeDeadline' },
      },
    },
    failed: {
      description:
        'Setup failed; failure has the reason. run.retrySetup tries again; run.expire gives up (nothing was launched).',
      on: {
        'run.retrySetup': { target: 'settingUp', actions: 'nextSetupAttempt' },
        'run.expire': { target: 'done' },
        'worker.arrived': { actions: 'refuseArrival' },
      },
    },
  },
});
