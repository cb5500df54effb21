/**
 * The named actions and guards of the taskRun supervisor (`setup()`). Each action runs one pure
 * decision of `task-run-logic.ts` and applies its effects: spawns with stable ids (guarded, so a
 * duplicate never throws), and sends to children resolved through the system (a missing child is
 * recorded as an anomaly, never a throw).
 *
 * @module
 */
import { assertEvent, sendParent, setup, type ActorSystem, type AnyActorRef } from 'xstate';
import { agentMachine } from './agent.js';
import type { AgentEvent, AgentReport } from './agent-types.js';
import { getIn } from './buckets.js';
import type { SetUpResourcesCommand } from './commands.js';
import { agentActorId, unitActorId } from './ids.js';
import * as logic from './task-run-logic.js';
import type { Effect, Step } from './task-run-logic.js';
import type { TaskRunContext, TaskRunEvent, TaskRunInput } from './task-run-types.js';
import { unitMachine } from './unit.js';
import type { UnitEvent, UnitReport } from './unit-types.js';

/** The unit machine as the supervisor runs it: its reports go to the supervisor. */
export const supervisedUnitMachine = unitMachine.provide({
  actions: { report: sendParent((_args, report: UnitReport) => report) },
});

/** The agent machine as the supervisor runs it: its reports go to the supervisor. */
export const supervisedAgentMachine = agentMachine.provide({
  actions: { report: sendParent((_args, report: AgentReport) => report) },
});

/** The `setUpResources` command of the supervisor in `settingUp`. */
export function setupCommandOf(context: TaskRunContext): SetUpResourcesCommand {
  return { kind: 'setUpResources', commandId: `${context.runId}/setUpResources/${context.setupAttempt}`, runId: context.runId, attempt: context.setupAttempt };
}

const UNIT_ADDRESSED = [
  'launch.succeeded',
  'launch.failed',
  'expire.succeeded',
  'expire.failed',
  'reconcile.succeeded',
  'reconcile.failed',
  'unit.releaseAgent',
  'unit.retryReconcile',
] as const;

/** Agent events the runtime may send through the supervisor. */
export const AGENT_ADDRESSED = [
  'agent.onboardingStarted',
  'agent.waitingStarted',
  'agent.taskStarted',
  'agent.submitted',
  'agent.disconnected',
  'agent.timedOut',
  'agent.partnerDisconnected',
  'review.approve',
  'review.reject',
  'review.softReject',
  'review.bonus',
  'review.succeeded',
  'review.alreadyDone',
  'review.failed',
] as const;

const s = setup({
  types: {
    context: {} as TaskRunContext,
    events: {} as TaskRunEvent,
    input: {} as TaskRunInput,
  },
  actors: { unit: supervisedUnitMachine, agent: supervisedAgentMachine },
  actions: {
    setUpResources: (_args, _command: SetUpResourcesCommand) => {},
  },
  guards: {
    isSetupResult: ({ context, event }) =>
      (event.type === 'setup.succeeded' || event.type === 'setup.failed') && event.commandId === setupCommandOf(context).commandId,
    everyUnitLaunched: ({ context }) => logic.everyUnitLaunched(context),
    onlyAssignedLeft: ({ context }) => context.counts.created === 0 && context.counts.launched === 0,
    noIncompleteUnit: ({ context }) => logic.incompleteCount(context) === 0,
    drainDeadlinePassed: ({ context, event }) =>
      event.type === 'deadline.reached' && event.unitId === undefined && event.agentId === undefined && context.drainDeadlineAt !== null && event.at >= context.drainDeadlineAt,
  },
});

type Enqueue = Parameters<Parameters<typeof s.enqueueActions>[0]>[0]['enqueue'];

/** Applies a decision: the new context, then spawns and sends in order. */
function apply(enqueue: Enqueue, system: ActorSystem<any>, context: TaskRunContext, step: Step): void {
  let next = step.context;
  const spawned = new Set<string>();
  const sends: Array<{ to: string; ref: AnyActorRef | undefined; event: UnitEvent | AgentEvent }> = [];
  for (const effect of step.effects) {
    if (effect.kind === 'spawnUnit' || effect.kind === 'spawnAgent') {
      const id = effect.kind === 'spawnUnit' ? unitActorId(effect.unitId) : agentActorId(effect.input.agentId);
      if (system.get(id) !== undefined || spawned.has(id)) {
        next = logic.noteAnomaly(next, `${id} already exists; not spawned again`);
        continue;
      }
      spawned.add(id);
      if (effect.kind === 'spawnUnit') {
        const input = { unitId: effect.unitId, runId: context.runId, ...(context.retry !== undefined ? { retry: context.retry } : {}) };
        enqueue.spawnChild('unit', { id, systemId: id, input });
      } else {
        enqueue.spawnChild('agent', { id, systemId: id, input: effect.input });
      }
      continue;
    }
    const to = effect.kind === 'toUnit' ? unitActorId(effect.unitId) : agentActorId(effect.agentId);
    const ref = system.get(to) as AnyActorRef | undefined;
    if (ref === undefined && !spawned.has(to)) {
      next = logic.noteAnomaly(next, `${effect.event.type} for ${to}, which does not exist; dropped`);
      continue;
    }
    sends.push({ to, ref, event: effect.event });
  }
  if (next !== context) enqueue.assign(next);
  for (const send of sends) {
    // A child spawned by this very step is not in the system yet: address it by id (resolved after the spawn).
    if (send.ref !== undefined) enqueue.sendTo(send.ref, send.event);
    else enqueue.sendTo(send.to, send.event);
  }
}

/** A supervisor action that runs one decision. */
const decide = (decision: (context: TaskRunContext, event: TaskRunEvent) => Step) =>
  s.enqueueActions(({ context, event, enqueue, system }) => apply(enqueue, system, context, decision(context, event)));

const none = (context: TaskRunContext): Step => ({ context, effects: [] });

/** The supervisor's setup with every decision as a named action. */
export const taskRunImplementation = s.extend({
  actions: {
    recordHitType: s.assign(({ event }) => {
      assertEvent(event, 'setup.succeeded');
      return { hitTypeId: event.hitTypeId, failure: null };
    }),
    recordSetupFailure: s.assign(({ event }) => {
      assertEvent(event, 'setup.failed');
      return { failure: { reason: event.reason, at: event.at } };
    }),
    nextSetupAttempt: s.assign(({ context }) => ({ setupAttempt: context.setupAttempt + 1, failure: null })),
    spawnUnits: decide((context) => ({ context, effects: context.unitOrder.map((unitId): Effect => ({ kind: 'spawnUnit', unitId })) })),
    launchUnits: decide((context, event) => logic.launchMore(none(context), 'at' in event ? event.at : 0)),
    addUnits: decide((context, event) => {
      assertEvent(event, 'run.addUnits');
      return logic.addUnits(context, event.unitIds);
    }),
    resumeLaunching: decide((context, event) => {
      assertEvent(event, 'run.resumeLaunching');
      return logic.resumeLaunching(context, event.at);
    }),
    bindArrival: decide((context, event) => {
      assertEvent(event, 'worker.arrived');
      return logic.arrive(context, event, true);
    }),
    refuseArrival: decide((context, event) => {
      assertEvent(event, 'worker.arrived');
      return logic.arrive(context, event, false);
    }),
    routeObservation: decide((context, event) => {
      assertEvent(event, ['hit.observed', 'hit.notFound', 'hit.lookupFailed']);
      return logic.routeObservation(context, event);
    }),
    routeToUnit: decide((context, event) => {
      assertEvent(event, UNIT_ADDRESSED);
      return { context, effects: [{ kind: 'toUnit', unitId: event.unitId, event }] };
    }),
    routeToAgent: decide((context, event) => {
      assertEvent(event, AGENT_ADDRESSED);
      const binding = logic.agentBinding(context, event.agentId);
      if (binding === undefined) return none(logic.noteAnomaly(context, `${event.type} for unknown agent ${event.agentId}; dropped`));
      const effects: Effect[] = [{ kind: 'toAgent', agentId: event.agentId, event }];
      // The unit keeps its own "data stored" flag, but only for the binding it holds now: a
      // released agent's late submission must not mark another worker's unit as submitted.
      if (event.type === 'agent.submitted' && binding.current) effects.push({ kind: 'toUnit', unitId: binding.unitId, event: { type: 'agent.submitted', at: event.at } });
      return { context, effects };
    }),
    routeDeadline: decide((context, event) => {
      assertEvent(event, 'deadline.reached');
      if (event.unitId !== undefined) return { context, effects: [{ kind: 'toUnit', unitId: event.unitId, event: { type: 'deadline.reached', at: event.at } }] };
      if (event.agentId !== undefined) return { context, effects: [{ kind: 'toAgent', agentId: event.agentId, event: { type: 'deadline.reached', at: event.at } }] };
      return none(context);
    }),
    abandonUnits: decide((context, event) => {
      assertEvent(event, 'deadline.reached');
      return logic.abandonRemaining(context, event.at);
    }),
    applyUnitReport: decide((context, event) => {
      assertEvent(event, 'report.unitChanged');
      return logic.unitChanged(context, event.unitId, event.status, event.at, false);
    }),
    applyUnitReportWhileExpiring: decide((context, event) => {
      assertEvent(event, 'report.unitChanged');
      return logic.unitChanged(context, event.unitId, event.status, event.at, true);
    }),
    addPoolHit: s.assign(({ context, event }) => {
      assertEvent(event, 'report.hitCreated');
      return logic.hitCreated(context, event.unitId, event.hitId);
    }),
    releasePoolHit: s.assign(({ context, event }) => {
      assertEvent(event, 'report.hitReleased');
      return logic.hitReleased(context, event.unitId, event.hitId, event.assignmentId);
    }),
    haltLaunching: decide((context, event) => {
      assertEvent(event, 'report.launchFailed');
      return logic.launchFailed(context, event.unitId, event.reason, event.at, false);
    }),
    expireFailedLaunch: decide((context, event) => {
      assertEvent(event, 'report.launchFailed');
      return logic.launchFailed(context, event.unitId, event.reason, event.at, true);
    }),
    relayToAgent: decide((context, event) => {
      assertEvent(event, 'report.tellAgent');
      return { context, effects: [{ kind: 'toAgent', agentId: event.agentId, event: event.event }] };
    }),
    relayReviewToUnit: decide((context, event) => {
      assertEvent(event, 'report.agentReviewed');
      // A released agent can still be reviewed (its own submission), but its unit belongs to someone else now.
      if (logic.agentBinding(context, event.agentId)?.current !== true) return none(context);
      return { context, effects: [{ kind: 'toUnit', unitId: event.unitId, event: { type: 'agent.reviewed', agentId: event.agentId, status: event.status, at: event.at } }] };
    }),
    adoptReconciledUnit: decide((context, event) => {
      assertEvent(event, 'report.reconciledWithoutAgent');
      return logic.adoptReconciled(context, event);
    }),
    expireUnits: decide((context, event) => {
      assertEvent(event, 'run.expire');
      return logic.expireRun(context, event.at);
    }),
    recordChildError: s.assign(({ context, event }) => {
      assertEvent(event, 'xstate.error.actor.*');
      const message = event.error instanceof Error ? event.error.message : String(event.error);
      return logic.noteAnomaly(context, `${event.actorId} failed: ${message}`);
    }),
  },
});

/** Reads the supervisor's record of an arrival (exported for the machine's own tests and docs). */
export const arrivalOfContext = (context: TaskRunContext, agentId: string) => getIn(context.arrivals, agentId);
