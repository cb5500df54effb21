// Shared helpers for the machine tests: drive a machine with pure transitions, read the commands
// and reports its actions carry, and build the events of common situations.
import {
  initialTransition,
  transition,
  type AnyMachineSnapshot,
  type EventFromLogic,
  type InputFrom,
  type SnapshotFrom,
} from 'xstate';
import { agentMachine } from '../../machines/agent.js';
import type { AgentEvent, AgentInput } from '../../machines/agent-types.js';
import type { Command } from '../../machines/commands.js';
import { pendingCommands } from '../../machines/inspect.js';
import { unitMachine } from '../../machines/unit.js';
import type { UnitEvent, UnitInput, UnitReport } from '../../machines/unit-types.js';
import { VirtualClock } from '../../src/clock.js';

type AnyMachine = typeof unitMachine | typeof agentMachine;

const stateOf = (snapshot: AnyMachineSnapshot): AnyMachineSnapshot => snapshot;

/** A pure run of a machine: the snapshot after each event and the actions of the last one. */
export class Drive<M extends AnyMachine> {
  snapshot: SnapshotFrom<M>;
  actions: Array<{ type: string; params?: unknown }> = [];
  /** Every action of every step, in order. */
  readonly history: Array<{ type: string; params?: unknown }> = [];

  constructor(
    readonly machine: M,
    input: InputFrom<M>,
    readonly clock = new VirtualClock(),
  ) {
    const [snapshot, actions] = initialTransition(machine, input);
    this.snapshot = snapshot as SnapshotFrom<M>;
    this.record(actions);
  }

  private record(actions: ReadonlyArray<{ type: string; params?: unknown }>): void {
    this.actions = actions.map((a) => ({ type: a.type, params: a.params }));
    this.history.push(...this.actions);
  }

  /** Sends an event (pure transition) and returns this for chaining. */
  send(event: EventFromLogic<M>): this {
    const [next, actions] = transition(this.machine, this.snapshot, event);
    this.snapshot = next as SnapshotFrom<M>;
    this.record(actions);
    return this;
  }

  /** The current time of the drive's clock (epoch ms). */
  get now(): number {
    return this.clock.now();
  }

  /** Moves the clock forward (no timers are involved: the machines have none). */
  async wait(ms: number): Promise<this> {
    await this.clock.advance(ms);
    return this;
  }

  get value(): unknown {
    return stateOf(this.snapshot).value;
  }

  /** The commands the last event issued. */
  get commands(): Command[] {
    return this.actions
      .filter((a) => a.params !== undefined && typeof a.params === 'object' && 'kind' in (a.params as object))
      .map((a) => a.params as Command);
  }

  /** The reports the last event sent to the supervisor. */
  get reports(): UnitReport[] {
    return this.actions.filter((a) => a.type === 'report').map((a) => a.params as UnitReport);
  }

  /** The events the last step sent to the unit's agent (its child `agent:<id>`). */
  get toldAgent(): AgentEvent[] {
    return this.actions.flatMap((a) => {
      if (a.type !== 'xstate.sendTo' || typeof a.params !== 'object' || a.params === null) return [];
      const { targetId, event } = a.params as { targetId?: string; event: AgentEvent };
      return targetId?.startsWith('agent:') === true ? [event] : [];
    });
  }

  /** Plain data of the snapshot (value, context, status) for deep comparisons. */
  get plain(): unknown {
    const s = stateOf(this.snapshot);
    return JSON.parse(JSON.stringify({ value: s.value, context: s.context, status: s.status }));
  }
}

export const UNIT_INPUT: UnitInput = { unitId: 'u1', runId: 'r1' };
export const HIT = 'HIT1';
export const OTHER_HIT = 'HIT2';
export const ASSIGNMENT = 'ASG1';
export const WORKER = 'WKR1';
export const AGENT = `${ASSIGNMENT}-${WORKER}`;
/** The assignment duration the unit tests bind with. */
export const DURATION_MS = 3_600_000;

export const unitDrive = (input: UnitInput = UNIT_INPUT) => new Drive(unitMachine, input);

/** A unit launched on HIT1 (HIT1 is in the pool, the unit holds none). */
export function launchedUnit(): Drive<typeof unitMachine> {
  const d = unitDrive();
  d.send({ type: 'unit.launch', at: d.now });
  const [launch] = d.commands;
  return d.send({ type: 'launch.succeeded', commandId: launch!.commandId, hitId: HIT, at: d.now });
}

/** A unit assigned: HIT1 and ASG1 bound, agent ASG1-WKR1. */
export function assignedUnit(): Drive<typeof unitMachine> {
  const d = launchedUnit();
  return d.send({
    type: 'unit.bindAgent',
    hitId: HIT,
    assignmentId: ASSIGNMENT,
    agentId: AGENT,
    workerId: WORKER,
    deadlineAt: d.now + DURATION_MS,
    at: d.now,
  });
}

/** An observation of a HIT. */
export const observed = (hitId: string, status: string, available: number, at: number): UnitEvent =>
  // Statuses come off the wire; parsing keeps an unknown one (row H6 of docs/mephisto-semantics.md#hit-rows)
  // as it would arrive.
  JSON.parse(JSON.stringify({ type: 'hit.observed', hitId, status, available, at }));

/**
 * A unit completed with its data stored, awaiting review: MTurk named its assignment as the HIT's
 * submission (the one `reconcileSubmission` a completed unit makes). Without data it is left
 * reconciling.
 */
export function completedUnit(withData = true): Drive<typeof unitMachine> {
  const d = assignedUnit();
  if (withData) d.send({ type: 'agent.submitted', at: d.now });
  d.send(observed(HIT, 'Reviewable', 0, d.now));
  return withData ? confirmSubmission(d) : d;
}

/** Answers a completed unit's pending `reconcileSubmission`: MTurk lists `assignmentId` (default: the bound one) submitted. */
export function confirmSubmission(
  d: Drive<typeof unitMachine>,
  assignmentId = d.snapshot.context.assignmentId ?? ASSIGNMENT,
  workerId = d.snapshot.context.workerId ?? WORKER,
): Drive<typeof unitMachine> {
  const [command] = pendingCommands(d.snapshot);
  if (command?.kind !== 'reconcileSubmission')
    throw new Error(`no reconcileSubmission pending in ${JSON.stringify(d.value)}`);
  return d.send({ type: 'reconcile.succeeded', commandId: command.commandId, assignmentId, workerId, at: d.now });
}

export const AGENT_INPUT: AgentInput = {
  agentId: AGENT,
  unitId: 'u1',
  runId: 'r1',
  workerId: WORKER,
  assignmentId: ASSIGNMENT,
  hitId: HIT,
  deadlineAt: Date.UTC(2026, 0, 1) + DURATION_MS,
};

export const agentDrive = (input: AgentInput = AGENT_INPUT) => new Drive(agentMachine, input);

/** An agent in `accepted`. */
export function acceptedAgent(): Drive<typeof agentMachine> {
  const d = agentDrive();
  return d.send({ type: 'agent.accepted', at: d.now });
}

/** An agent in `in task`. */
export function workingAgent(): Drive<typeof agentMachine> {
  return acceptedAgent().send({ type: 'agent.taskStarted', at: Date.UTC(2026, 0, 1) });
}

/** An agent in `completed` with its data stored. */
export function completedAgent(): Drive<typeof agentMachine> {
  const d = workingAgent();
  return d.send({ type: 'agent.submitted', at: d.now });
}

/** Sends the result of the command the actor waits on (as the runtime finds it: `pendingCommands`). */
export function answer<M extends AnyMachine>(
  d: Drive<M>,
  result: 'review.succeeded' | 'review.alreadyDone' | 'review.failed',
  extra: { reason?: string; retryable?: boolean } = {},
): Drive<M> {
  const [command] = pendingCommands(d.snapshot);
  if (command === undefined) throw new Error(`no pending command to answer in ${JSON.stringify(d.value)}`);
  const event =
    result === 'review.failed'
      ? {
          type: result,
          commandId: command.commandId,
          reason: extra.reason ?? 'refused',
          retryable: extra.retryable ?? false,
          at: d.now,
        }
      : { type: result, commandId: command.commandId, at: d.now };
  return d.send(event as EventFromLogic<M>);
}

/** A small seeded PRNG (mulberry32) for the random tests. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
