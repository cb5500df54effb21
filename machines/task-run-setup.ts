/**
 * The named actions and guards of the taskRun supervisor (`setup()`). Each action runs one pure
 * decision of `task-run-logic.ts` or `task-run-binding.ts` and applies its effects: spawns with stable ids (guarded, so a
 * duplicate never throws), and sends to children resolved through the system (a missing child is
 * recorded as an anomaly, never a throw).
 *
 * @module
 */
import { assertEvent, sendParent, setup, type AnyActorRef } from 'xstate';
import type { AgentEvent } from './agent-types.js';
import type { SetUpResourcesCommand } from './commands.js';
import { agentActorId, unitActorId } from './ids.js';
import * as binding from './task-run-binding.js';
import * as logic from './task-run-logic.js';
import { tablesOf } from './task-run-tables.js';
import type { Effect, Step } from './task-run-logic.js';
import type { TaskRunContext, TaskRunEvent, TaskRunInput } from './task-run-types.js';
import { UNIT_GROUP_SIZE, groupActorIdOf, unitGroupMachine, type UnitGroupEvent } from './unit-group.js';
import type { UnitEvent, UnitReport } from './unit-types.js';

/** The `setUpResources` command of the supervisor in `settingUp`. */
export function setupCommandOf(context: TaskRunContext): SetUpResourcesCommand {
  return {
    kind: 'setUpResources',
    commandId: `${context.runId}/setUpResources/${context.setupAttempt}`,
    runId: context.runId,
    attempt: context.setupAttempt,
  };
}

/** The group machine as the supervisor runs it: what its units report reaches the supervisor. */
export const supervisedGroupMachine = unitGroupMachine.provide({
  actions: { relay: sendParent((_args, report: UnitReport) => report) },
});

/** HIT observations: the supervisor routes each to the unit bound to the HIT. */
export const HIT_OBSERVATIONS = ['hit.observed', 'hit.notFound', 'hit.lookupFailed'] as const;

/** Unit events the runtime may send through the supervisor (they carry `unitId`). */
export const UNIT_ADDRESSED = [
  'launch.succeeded',
  'launch.failed',
  'expire.succeeded',
  'expire.failed',
  'reconcile.succeeded',
  'reconcile.failed',
  'unit.releaseAgent',
  'unit.retryReconcile',
  'unit.confirmBinding',
  'unit.bindingGone',
  'unit.submissionRefuted',
] as const;

/** Agent events the runtime may send through the supervisor (they carry `agentId`). */
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
  actors: { group: supervisedGroupMachine },
  actions: {
    setUpResources: (_args, _command: SetUpResourcesCommand) => {},
  },
  guards: {
    isSetupResult: ({ context, event }) =>
      (event.type === 'setup.succeeded' || event.type === 'setup.failed') &&
      event.commandId === setupCommandOf(context).commandId,
    everyUnitLaunched: ({ context }) => logic.everyUnitLaunched(context),
    onlyAssignedLeft: ({ context }) => context.counts.created === 0 && context.counts.launched === 0,
    noIncompleteUnit: ({ context }) => logic.incompleteCount(context) === 0,
    drainDeadlinePassed: ({ context, event }) =>
      event.type === 'deadline.reached' &&
      event.unitId === undefined &&
      event.agentId === undefined &&
      context.drainDeadlineAt !== null &&
      event.at >= context.drainDeadlineAt,
  },
});

type Enqueue = Parameters<Parameters<typeof s.enqueueActions>[0]>[0]['enqueue'];

/** What a decision asks to be delivered: the units and agents it reaches, the units it brings into being. */
export interface Delivery {
  readonly effects: readonly Effect[];
}

/**
 * The units and agents of a run as XState children: groups are the supervisor's own children
 * (addressed by id, spawned once: the logic keeps `groupsSpawned`); units and agents are found
 * through the system registry, wherever they sit, and a missing one is an anomaly, never a throw.
 * This is the default `deliver`; the runtime provides its own, which keeps units and agents
 * passive (stored snapshots, materialized while they handle an event).
 */
const deliverToChildren = s.enqueueActions(({ enqueue, system, context }, delivery: Delivery | undefined) => {
  let next = context;
  const sends: Array<{ to: string | AnyActorRef; event: UnitEvent | AgentEvent | UnitGroupEvent }> = [];
  const spawns: Array<{ groupId: string; unitIds: readonly string[] }> = [];
  for (const effect of delivery?.effects ?? []) {
    switch (effect.kind) {
      case 'spawnGroup':
        spawns.push(effect);
        break;
      case 'addToGroup':
        sends.push({ to: effect.groupId, event: { type: 'group.addUnits', unitIds: effect.unitIds } });
        break;
      case 'toUnit': {
        const ref = system.get(unitActorId(effect.unitId)) as AnyActorRef | undefined;
        const index = ref === undefined ? (tablesOf(next).indexOf(effect.unitId) ?? -1) : -1;
        if (ref !== undefined) sends.push({ to: ref, event: effect.event });
        // A unit its group spawns in this same step is not registered yet: its group delivers in order.
        else if (index >= 0 && Math.floor(index / UNIT_GROUP_SIZE) < next.groupsSpawned)
          sends.push({
            to: groupActorIdOf(index),
            event: { type: 'group.forward', unitId: effect.unitId, event: effect.event },
          });
        else
          next = logic.noteAnomaly(
            next,
            `${effect.event.type} for unit ${effect.unitId}, which does not exist; dropped`,
          );
        break;
      }
      case 'toAgent': {
        const ref = system.get(agentActorId(effect.agentId)) as AnyActorRef | undefined;
        if (ref === undefined)
          next = logic.noteAnomaly(
            next,
            `${effect.event.type} for agent ${effect.agentId}, which does not exist; dropped`,
          );
        else sends.push({ to: ref, event: effect.event });
        break;
      }
    }
  }
  if (next !== context) enqueue.assign(next);
  for (const { groupId, unitIds } of spawns) {
    const input = {
      groupId,
      runId: context.runId,
      unitIds,
      ...(context.retry !== undefined ? { retry: context.retry } : {}),
    };
    enqueue.spawnChild('group', { id: groupId, systemId: groupId, input });
  }
  for (const send of sends) enqueue.sendTo(send.to, send.event);
});

/** Applies a decision: the new context, then what it delivers (the `deliver` action, in order). */
function apply(enqueue: Enqueue, context: TaskRunContext, step: Step): void {
  if (step.context !== context) enqueue.assign(step.context);
  // `deliver` is named, not typed into setup() (typing it there makes XState's types of every
  // other action unrelated to those of extend()): the runtime provides it (see deliverToChildren).
  if (step.effects.length > 0)
    enqueue({ type: 'deliver', params: { effects: step.effects } satisfies Delivery } as never);
}

/** A supervisor action that runs one decision. */
const decide = (decision: (context: TaskRunContext, event: TaskRunEvent) => Step) =>
  s.enqueueActions(({ context, event, enqueue }) => apply(enqueue, context, decision(context, event)));

const none = (context: TaskRunContext): Step => ({ context, effects: [] });

/** The supervisor's setup with every decision as a named action. */
export const taskRunImplementation = s.extend({
  actions: {
    deliver: deliverToChildren,
    recordHitType: s.assign(({ event }) => {
      assertEvent(event, 'setup.succeeded');
      return { hitTypeId: event.hitTypeId, failure: null };
    }),
    recordSetupFailure: s.assign(({ event }) => {
      assertEvent(event, 'setup.failed');
      return { failure: { reason: event.reason, at: event.at } };
    }),
    nextSetupAttempt: s.assign(({ context }) => ({ setupAttempt: context.setupAttempt + 1, failure: null })),
    spawnUnits: decide((context) => logic.spawnGroups(context)),
    launchUnits: decide((context, event) => logic.launchMore(none(context), 'at' in event ? event.at : 0)),
    addUnits: decide((context, event) => {
      assertEvent(event, 'run.addUnits');
      return logic.addUnits(context, event.unitIds, true);
    }),
    addUnitsBeforeSetup: decide((context, event) => {
      assertEvent(event, 'run.addUnits');
      return logic.addUnits(context, event.unitIds, false);
    }),
    resumeLaunching: decide((context, event) => {
      assertEvent(event, 'run.resumeLaunching');
      return logic.resumeLaunching(context, event.at);
    }),
    bindArrival: decide((context, event) => {
      assertEvent(event, 'worker.arrived');
      return binding.arrive(context, event, true);
    }),
    refuseArrival: decide((context, event) => {
      assertEvent(event, 'worker.arrived');
      return binding.arrive(context, event, false);
    }),
    routeObservation: decide((context, event) => {
      assertEvent(event, HIT_OBSERVATIONS);
      return logic.routeObservation(context, event);
    }),
    routeToUnit: decide((context, event) => {
      assertEvent(event, UNIT_ADDRESSED);
      return { context, effects: [{ kind: 'toUnit', unitId: event.unitId, event }] };
    }),
    routeToAgent: decide((context, event) => {
      assertEvent(event, AGENT_ADDRESSED);
      const bound = binding.agentBinding(context, event.agentId);
      if (bound === undefined)
        return none(logic.noteAnomaly(context, `${event.type} for unknown agent ${event.agentId}; dropped`));
      const effects: Effect[] = [{ kind: 'toAgent', agentId: event.agentId, event }];
      // The unit keeps its own "data stored" flag, but only for the binding it holds now: a
      // released agent's late submission must not mark another worker's unit as submitted.
      if (event.type === 'agent.submitted' && bound.current)
        effects.push({ kind: 'toUnit', unitId: bound.unitId, event: { type: 'agent.submitted', at: event.at } });
      return { context, effects };
    }),
    routeDeadline: decide((context, event) => {
      assertEvent(event, 'deadline.reached');
      if (event.unitId !== undefined)
        return {
          context,
          effects: [{ kind: 'toUnit', unitId: event.unitId, event: { type: 'deadline.reached', at: event.at } }],
        };
      if (event.agentId !== undefined)
        return {
          context,
          effects: [{ kind: 'toAgent', agentId: event.agentId, event: { type: 'deadline.reached', at: event.at } }],
        };
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
    replaceBinding: s.assign(({ context, event }) => {
      assertEvent(event, 'report.bindingReplaced');
      return binding.bindingReplaced(context, event);
    }),
    haltLaunching: decide((context, event) => {
      assertEvent(event, 'report.launchFailed');
      return logic.launchFailed(context, event.unitId, event.reason, event.at, false);
    }),
    expireFailedLaunch: decide((context, event) => {
      assertEvent(event, 'report.launchFailed');
      return logic.launchFailed(context, event.unitId, event.reason, event.at, true);
    }),
    recordUnitChildFailure: s.assign(({ context, event }) => {
      assertEvent(event, 'report.childFailed');
      return logic.noteAnomaly(context, `${event.actorId} failed: ${event.message}`);
    }),
    adoptReconciledUnit: decide((context, event) => {
      assertEvent(event, 'report.reconciledWithoutAgent');
      return binding.adoptReconciled(context, event);
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
