// Walks a machine's graph with xstate/graph and replays its steps in real actors to see which
// transitions fire (XState's @xstate.microstep inspection events name them).
import {
  createActor,
  initialTransition,
  transition,
  type ActorLogic,
  type AnyMachineSnapshot,
  type AnyStateMachine,
  type EventObject,
  type StateValue,
} from 'xstate';
import { getAdjacencyMap } from 'xstate/graph';
import type { Model } from './models.js';

export interface WalkResult {
  /** Every distinct (abstract) state the walk reached, with a representative snapshot. */
  readonly states: Array<{ key: string; snapshot: AnyMachineSnapshot }>;
  /** Every (state, event) pair the walk tried: each is a test path (a path to the state, then the event). */
  readonly steps: Array<{ snapshot: AnyMachineSnapshot; event: { type: string } }>;
}

/**
 * The machine as logic whose every step runs in a fresh actor system. xstate/graph's traversal
 * shares one mock system across all branches (`createMockActorScope`, "TODO: mock system?"), so
 * a child spawned with a systemId on one branch would collide with itself on the next; XState's
 * pure `transition()` gives each step its own system.
 */
function isolated(machine: AnyStateMachine): ActorLogic<AnyMachineSnapshot, EventObject, unknown> {
  return {
    config: machine.config,
    transition: (snapshot, event) => transition(machine, snapshot, event)[0],
    getInitialSnapshot: (_scope, input) => initialTransition(machine, input)[0],
    getPersistedSnapshot: (snapshot) => machine.getPersistedSnapshot(snapshot),
  } as ActorLogic<AnyMachineSnapshot, EventObject, unknown>;
}

export function walk<M extends AnyStateMachine>(model: Model<M>): WalkResult {
  const options = {
    input: model.input,
    events: model.events,
    serializeState: (s: AnyMachineSnapshot) => model.serializeState(s),
  } as never;
  const logic = isolated(model.machine);
  // One traversal: getShortestPaths would walk the whole graph again, and a shortest path exists
  // for exactly the states the adjacency map holds.
  const adjacency = getAdjacencyMap(logic, options);
  const states: WalkResult['states'] = [];
  const steps: WalkResult['steps'] = [];
  for (const [key, entry] of Object.entries(adjacency)) {
    const snapshot = entry.state as AnyMachineSnapshot;
    states.push({ key, snapshot });
    for (const t of Object.values(entry.transitions) as Array<{ event: { type: string } }>)
      steps.push({ snapshot, event: t.event });
  }
  return { states, steps };
}

/** The ids of every state node active in a state value, e.g. `unit.assigned` and `unit.assigned.working`. */
export function activeStateIds(machineId: string, value: StateValue): string[] {
  if (typeof value === 'string') return [`${machineId}.${value}`];
  return Object.entries(value).flatMap(([key, child]) => [
    `${machineId}.${key}`,
    ...(child === undefined ? [] : activeStateIds(`${machineId}.${key}`, child)),
  ]);
}

/** A JSON round trip of a snapshot, as the store does it. */
export function persistedText(machine: AnyStateMachine, snapshot: AnyMachineSnapshot): string {
  return JSON.stringify(machine.getPersistedSnapshot(snapshot));
}

/**
 * Restores `snapshot` (through JSON text) in an actor, sends `event`, and returns the transitions
 * that fired (keyed like `machineTransitions`) and the states entered on the way.
 */
export function replay(
  machine: AnyStateMachine,
  snapshot: AnyMachineSnapshot,
  event: { type: string },
): { transitions: string[]; states: string[]; errors: string[] } {
  const transitions: string[] = [];
  const states: string[] = [];
  const errors: string[] = [];
  const actor = createActor(machine, {
    snapshot: JSON.parse(persistedText(machine, snapshot)),
    inspect: (ev) => {
      if (ev.type !== '@xstate.microstep' || ev.actorRef !== actor) return;
      for (const t of ev._transitions) {
        const guard = typeof t.guard === 'string' ? t.guard : t.guard === undefined ? null : 'guarded';
        const target = t.target?.[0]?.id ?? t.source.id;
        transitions.push(
          `${t.source.id} --${t.eventType === '' ? 'always' : t.eventType}${guard ? ` [${guard}]` : ''}--> ${target}`,
        );
      }
      states.push(...activeStateIds(machine.id, (ev.snapshot as AnyMachineSnapshot).value));
    },
  });
  actor.subscribe({
    error: (err) =>
      void errors.push(
        `${JSON.stringify(snapshot.value)} + ${event.type}: ${err instanceof Error ? err.message : String(err)}`,
      ),
  });
  actor.start();
  actor.send(event);
  actor.stop();
  return { transitions, states, errors };
}
