/**
 * A group of up to {@link UNIT_GROUP_SIZE} units under the supervisor. It has no logic: it spawns
 * its units and relays their reports (and failures) to the supervisor.
 *
 * Why it exists: XState copies a parent's whole `children` object on every spawn and on every
 * child stop, so a supervisor with 10,000 direct children spends seconds per arrival and minutes
 * to stop. Groups keep every `children` object small, so spawning, stopping and restoring a run
 * stay linear. Units keep their stable ids (`unit:<id>`) and are reached through the system
 * registry, wherever they sit in the tree.
 *
 * @module
 */
import { assertEvent, sendParent, setup, type ErrorActorEvent } from 'xstate';
import type { RetryPolicy } from './commands.js';
import { UNIT_ACTOR_PREFIX, unitActorId } from './ids.js';
import { unitMachine } from './unit.js';
import type { UnitEvent, UnitInput, UnitReport } from './unit-types.js';

/** Units per group: the `children` object XState copies on spawn and stop stays this small. */
export const UNIT_GROUP_SIZE = 100;

/** Prefix of a group actor's id and systemId. */
export const GROUP_ACTOR_PREFIX = 'group:';

/** The id of the group that holds the unit at position `index` of the run's unit order. */
export function groupActorIdOf(index: number): string {
  return `${GROUP_ACTOR_PREFIX}${Math.floor(index / UNIT_GROUP_SIZE)}`;
}

export interface UnitGroupInput {
  readonly groupId: string;
  readonly runId: string;
  readonly unitIds: readonly string[];
  readonly retry?: RetryPolicy;
}

export interface UnitGroupContext {
  readonly groupId: string;
  readonly runId: string;
  readonly unitIds: readonly string[];
  readonly retry?: RetryPolicy;
}

/** Events a group receives: requests to take more units or forward an event to one, its units' reports and failures. */
export type UnitGroupEvent =
  | { readonly type: 'group.addUnits'; readonly unitIds: readonly string[] }
  /** Deliver `event` to unit `unitId` (used for a unit this group spawns in the same step, before it is in the system registry). */
  | { readonly type: 'group.forward'; readonly unitId: string; readonly event: UnitEvent }
  | UnitReport
  | ErrorActorEvent<unknown, string>;

/** The unit machine as a group's child: its reports go to the group, which relays them. */
export const groupedUnitMachine = unitMachine.provide({
  actions: { report: sendParent((_args, report: UnitReport) => report) },
});

const g = setup({
  types: { context: {} as UnitGroupContext, events: {} as UnitGroupEvent, input: {} as UnitGroupInput },
  actors: { unit: groupedUnitMachine },
  actions: {
    /** Passes a report up to the supervisor; provided by the supervisor (a no-op when the group runs alone). */
    relay: (_args, _report: UnitReport) => {},
  },
});

const unitInput = (context: { runId: string; retry?: RetryPolicy }, unitId: string): UnitInput => ({
  unitId,
  runId: context.runId,
  ...(context.retry !== undefined ? { retry: context.retry } : {}),
});

/** The group machine. Its units are spawned in one batch (one copy of `children`). */
export const unitGroupMachine = g
  .extend({
    actions: {
      relayReport: g.enqueueActions(({ enqueue, event }) => {
        assertEvent(event, [
          'report.unitChanged',
          'report.hitCreated',
          'report.hitReleased',
          'report.bindingReplaced',
          'report.launchFailed',
          'report.childFailed',
          'report.reconciledWithoutAgent',
        ]);
        enqueue({ type: 'relay', params: event });
      }),
      relayFailure: g.enqueueActions(({ enqueue, event }) => {
        assertEvent(event, 'xstate.error.actor.*');
        const message = event.error instanceof Error ? event.error.message : String(event.error);
        enqueue({
          type: 'relay',
          params: {
            type: 'report.childFailed',
            unitId: event.actorId.slice(UNIT_ACTOR_PREFIX.length),
            actorId: event.actorId,
            message,
          },
        });
      }),
      forwardToUnit: g.enqueueActions(({ enqueue, context, event }) => {
        assertEvent(event, 'group.forward');
        if (context.unitIds.includes(event.unitId)) enqueue.sendTo(unitActorId(event.unitId), event.event);
      }),
      addUnits: g.assign(({ context, event, spawn }) => {
        assertEvent(event, 'group.addUnits');
        for (const unitId of event.unitIds)
          spawn('unit', { id: unitActorId(unitId), systemId: unitActorId(unitId), input: unitInput(context, unitId) });
        return { unitIds: [...context.unitIds, ...event.unitIds] };
      }),
    },
  })
  .createMachine({
    id: 'unitGroup',
    description: 'Up to 100 units of a run; relays their reports to the supervisor.',
    context: ({ input, spawn }) => {
      for (const unitId of input.unitIds)
        spawn('unit', { id: unitActorId(unitId), systemId: unitActorId(unitId), input: unitInput(input, unitId) });
      return {
        groupId: input.groupId,
        runId: input.runId,
        unitIds: [...input.unitIds],
        ...(input.retry !== undefined ? { retry: input.retry } : {}),
      };
    },
    initial: 'active',
    states: {
      active: {
        description: 'Holds its units and relays what they report.',
        on: {
          'group.addUnits': { actions: 'addUnits' },
          'group.forward': { actions: 'forwardToUnit' },
          'report.unitChanged': { actions: 'relayReport' },
          'report.hitCreated': { actions: 'relayReport' },
          'report.hitReleased': { actions: 'relayReport' },
          'report.bindingReplaced': { actions: 'relayReport' },
          'report.launchFailed': { actions: 'relayReport' },
          'report.childFailed': { actions: 'relayReport' },
          'report.reconciledWithoutAgent': { actions: 'relayReport' },
          'xstate.error.actor.*': { actions: 'relayFailure' },
        },
      },
    },
  });
