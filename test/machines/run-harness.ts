// A taskRun actor under test: a command outbox instead of MTurk, a virtual clock for the `at` of
// events, and readers for the children's snapshots.
import { createActor, type Actor, type AnyActorRef, type InspectionEvent, type StateValue } from 'xstate';
import type { AgentContext } from '../../machines/agent-types.js';
import type { Command } from '../../machines/commands.js';
import { agentActorId, unitActorId } from '../../machines/ids.js';
import { arrivalOf } from '../../machines/inspect.js';
import { withCommandHandler } from '../../machines/provide.js';
import { taskRunMachine } from '../../machines/task-run.js';
import type { Arrival, TaskRunEvent, TaskRunInput } from '../../machines/task-run-types.js';
import type { UnitContext } from '../../machines/unit-types.js';
import { VirtualClock } from '../../src/clock.js';

export interface ChildView<C> {
  value: StateValue;
  status: string;
  context: C;
}

export class RunHarness {
  readonly clock: VirtualClock;
  readonly outbox: Command[] = [];
  readonly errors: unknown[] = [];
  readonly actor: Actor<typeof taskRunMachine>;

  constructor(
    input: TaskRunInput,
    options: {
      snapshot?: unknown;
      clock?: VirtualClock;
      handler?: (command: Command) => void;
      inspect?: (event: InspectionEvent) => void;
    } = {},
  ) {
    this.clock = options.clock ?? new VirtualClock();
    const handler = options.handler ?? ((command: Command) => void this.outbox.push(command));
    this.actor = createActor(withCommandHandler(taskRunMachine, handler), {
      input,
      ...(options.snapshot !== undefined ? { snapshot: options.snapshot as never } : {}),
      ...(options.inspect !== undefined ? { inspect: options.inspect } : {}),
    });
    this.actor.subscribe({ error: (err) => void this.errors.push(err) });
    this.actor.start();
  }

  get now(): number {
    return this.clock.now();
  }

  async wait(ms: number): Promise<void> {
    await this.clock.advance(ms);
  }

  send(event: TaskRunEvent): this {
    this.actor.send(event);
    return this;
  }

  get snapshot() {
    return this.actor.getSnapshot();
  }

  get value(): unknown {
    return this.snapshot.value;
  }

  /** Removes and returns the queued commands (of one kind if given). */
  take(kind?: Command['kind']): Command[] {
    const taken: Command[] = [];
    for (let i = 0; i < this.outbox.length; ) {
      if (kind === undefined || this.outbox[i]!.kind === kind) taken.push(...this.outbox.splice(i, 1));
      else i++;
    }
    return taken;
  }

  /** Any actor of the run by id (`unit:…`, `agent:…`, `group:…`), wherever it sits in the tree. */
  private child(id: string): AnyActorRef | undefined {
    return this.actor.system.get(id) as AnyActorRef | undefined;
  }

  unit(unitId: string): ChildView<UnitContext> {
    const ref = this.child(unitActorId(unitId));
    if (ref === undefined) throw new Error(`no unit actor ${unitId}`);
    return ref.getSnapshot() as ChildView<UnitContext>;
  }

  agent(agentId: string): ChildView<AgentContext> | undefined {
    return this.child(agentActorId(agentId))?.getSnapshot() as ChildView<AgentContext> | undefined;
  }

  /** Every actor below the supervisor (groups, units, agents) with its current snapshot, parents first. */
  childSnapshots(): Array<{ id: string; snapshot: { value: StateValue; context: never } }> {
    const out: Array<{ id: string; snapshot: { value: StateValue; context: never } }> = [];
    const walk = (children: Record<string, AnyActorRef | undefined>): void => {
      for (const [id, ref] of Object.entries(children)) {
        if (ref === undefined) continue;
        const snapshot = ref.getSnapshot() as {
          value: StateValue;
          context: never;
          children: Record<string, AnyActorRef | undefined>;
        };
        out.push({ id, snapshot });
        walk(snapshot.children);
      }
    };
    walk(this.snapshot.children as Record<string, AnyActorRef | undefined>);
    return out;
  }

  /** Ids of every actor below the supervisor. */
  childIds(): string[] {
    return this.childSnapshots().map((c) => c.id);
  }

  /** Answers the pending setUpResources command with success. */
  setUp(hitTypeId = 'HT1'): this {
    const [command] = this.take('setUpResources');
    if (command === undefined) throw new Error('no setUpResources pending');
    return this.send({ type: 'setup.succeeded', commandId: command.commandId, hitTypeId, at: this.now });
  }

  /** Answers every queued launchHIT with success; the HIT of unit u is `HIT-u`. Returns the unit ids launched. */
  launchAll(): string[] {
    const launched: string[] = [];
    for (const command of this.take('launchHIT')) {
      if (command.kind !== 'launchHIT') continue;
      this.send({
        type: 'launch.succeeded',
        unitId: command.unitId,
        commandId: command.commandId,
        hitId: `HIT-${command.unitId}`,
        at: this.now,
      });
      launched.push(command.unitId);
    }
    return launched;
  }

  /** A worker arrives; returns the recorded outcome. */
  arrive(hitId: string, assignmentId: string, workerId: string, confirmed?: boolean): Arrival | undefined {
    this.send({
      type: 'worker.arrived',
      hitId,
      assignmentId,
      workerId,
      ...(confirmed !== undefined ? { confirmed } : {}),
      at: this.now,
    });
    return arrivalOf(this.snapshot, `${assignmentId}-${workerId}`);
  }

  /**
   * Answers unit `unitId`'s pending `reconcileSubmission` (queued when it completed): MTurk lists
   * the bound assignment submitted, or `assignmentId`/`workerId` when given.
   */
  confirmSubmission(unitId: string, other?: { assignmentId: string; workerId: string }): this {
    const command = this.take('reconcileSubmission').find(
      (c) => c.kind === 'reconcileSubmission' && c.unitId === unitId,
    );
    if (command === undefined) throw new Error(`unit ${unitId} has no reconcileSubmission pending`);
    const { assignmentId, workerId } = this.unit(unitId).context;
    return this.send({
      type: 'reconcile.succeeded',
      unitId,
      commandId: command.commandId,
      assignmentId: other?.assignmentId ?? assignmentId ?? '',
      workerId: other?.workerId ?? workerId ?? '',
      at: this.now,
    });
  }

  stop(): void {
    this.actor.stop();
  }
}
