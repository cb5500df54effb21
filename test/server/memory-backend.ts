// An in-memory TaskServerBackend for the task-server tests: HIT pool per run, units bound on
// arrival, agents with Mephisto's states, and a "disk" whose writes the test can hold back to
// observe that the server answers a submit only after the data is stored.
import type { AgentState, AssignmentState } from '../../machines/states.js';
import { HitstateError } from '../../src/errors.js';
import type {
  AgentRegistration,
  AgentView,
  PreviewInfo,
  TaskServerBackend,
  WorkerArrival,
} from '../../src/server/backend.js';

export interface MemoryRun {
  readonly runId: string;
  readonly hitIds: readonly string[];
  readonly units: readonly { readonly unitId: string; readonly task: unknown }[];
  readonly preview?: PreviewInfo;
}

export interface MemoryAgent {
  readonly agentId: string;
  readonly runId: string;
  readonly unitId: string;
  readonly workerId: string;
  readonly assignmentId: string;
  readonly hitId: string;
  status: AgentState;
  submitting: boolean;
  submitted: boolean;
  heartbeats: number;
  disconnects: number;
}

export interface MemoryUnit {
  readonly unitId: string;
  readonly runId: string;
  readonly task: unknown;
  status: AssignmentState;
  agentId?: string;
}

/** Agent states in which the worker still holds the MTurk assignment. */
const HOLDING: readonly AgentState[] = ['accepted', 'in task', 'disconnect', 'completed'];

export class MemoryBackend implements TaskServerBackend {
  /** Every call, in order: the method name and its first argument. */
  readonly calls: { method: keyof TaskServerBackend; arg: unknown }[] = [];
  /** A log of durability events (`write-pending`, `written`) tests interleave with their own. */
  readonly log: string[] = [];
  readonly agents = new Map<string, MemoryAgent>();
  readonly units = new Map<string, MemoryUnit>();
  /** What is "on disk": agentId -> submitted data. */
  readonly disk = new Map<string, unknown>();
  /** With 'manual', submits wait for {@link flushWrites}. */
  durability: 'immediate' | 'manual' = 'immediate';
  /** 'derived' names agents `<assignmentId>-<workerId>`, as the runtime does. */
  agentIds: 'sequential' | 'derived' = 'sequential';
  readonly #runs = new Map<string, MemoryRun>();
  readonly #pending: { agentId: string; data: unknown; done: () => void }[] = [];
  readonly #waiters: { check: () => boolean; resolve: () => void }[] = [];
  #nextAgent = 1;

  constructor(runs: readonly MemoryRun[]) {
    for (const run of runs) this.addRun(run);
  }

  addRun(run: MemoryRun): void {
    this.#runs.set(run.runId, run);
    for (const u of run.units)
      this.units.set(u.unitId, { unitId: u.unitId, runId: run.runId, task: u.task, status: 'launched' });
  }

  get pendingWrites(): number {
    return this.#pending.length;
  }

  /** Writes every held-back submission to "disk", then lets the submits resolve. */
  flushWrites(): number {
    const batch = this.#pending.splice(0);
    for (const write of batch) {
      this.disk.set(write.agentId, structuredClone(write.data));
      this.log.push(`written ${write.agentId}`);
      write.done();
    }
    return batch.length;
  }

  /** Resolves once `check()` holds (checked now and after every change). */
  waitFor(check: () => boolean): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ check, resolve }));
  }

  #changed(): void {
    for (let i = this.#waiters.length - 1; i >= 0; i--) {
      const waiter = this.#waiters[i]!;
      if (waiter.check()) {
        this.#waiters.splice(i, 1);
        waiter.resolve();
      }
    }
  }

  #agent(agentId: string): MemoryAgent {
    const agent = this.agents.get(agentId);
    if (!agent) throw new HitstateError('HST_ERR_AGENT_NOT_FOUND', `no agent ${agentId}`, { agentId });
    return agent;
  }

  #registration(agent: MemoryAgent): AgentRegistration {
    return {
      agentId: agent.agentId,
      runId: agent.runId,
      unitId: agent.unitId,
      workerId: agent.workerId,
      assignmentId: agent.assignmentId,
      hitId: agent.hitId,
      status: agent.status,
      task: this.units.get(agent.unitId)!.task,
      submitted: agent.submitted,
      ...(agent.submitted ? { submission: structuredClone(this.disk.get(agent.agentId)) } : {}),
    };
  }

  #view(agent: MemoryAgent): AgentView {
    return { agentId: agent.agentId, status: agent.status, submitted: agent.submitted };
  }

  async registerAgent(arrival: WorkerArrival): Promise<AgentRegistration> {
    this.calls.push({ method: 'registerAgent', arg: arrival });
    const run = [...this.#runs.values()].find((r) => r.hitIds.includes(arrival.hitId));
    if (!run) {
      throw new HitstateError('HST_ERR_SERVER_ASSIGNMENT_MISMATCH', `HIT ${arrival.hitId} belongs to no run`, {
        hitId: arrival.hitId,
      });
    }
    const existing = [...this.agents.values()].find((a) => a.assignmentId === arrival.assignmentId);
    if (existing) {
      if (existing.workerId !== arrival.workerId || existing.hitId !== arrival.hitId) {
        // Names the holder on purpose: the server must not pass backend messages to browsers.
        throw new HitstateError(
          'HST_ERR_SERVER_ASSIGNMENT_MISMATCH',
          `assignment ${arrival.assignmentId} is held by worker ${existing.workerId} on HIT ${existing.hitId}`,
          { assignmentId: arrival.assignmentId },
        );
      }
      if (existing.status === 'disconnect') existing.status = 'in task';
      this.#changed();
      return this.#registration(existing);
    }
    const holder = [...this.agents.values()].find((a) => a.hitId === arrival.hitId && HOLDING.includes(a.status));
    if (holder) {
      throw new HitstateError(
        'HST_ERR_SERVER_ASSIGNMENT_MISMATCH',
        `HIT ${arrival.hitId} is held by worker ${holder.workerId}`,
        {
          hitId: arrival.hitId,
        },
      );
    }
    const unit = [...this.units.values()].find((u) => u.runId === run.runId && u.status === 'launched');
    if (!unit)
      throw new HitstateError('HST_ERR_NO_UNIT_AVAILABLE', `run ${run.runId} has no launched unit left`, {
        runId: run.runId,
      });
    const agent: MemoryAgent = {
      agentId:
        this.agentIds === 'derived' ? `${arrival.assignmentId}-${arrival.workerId}` : `agent-${this.#nextAgent++}`,
      runId: run.runId,
      unitId: unit.unitId,
      ...arrival,
      status: 'in task',
      submitting: false,
      submitted: false,
      heartbeats: 0,
      disconnects: 0,
    };
    this.agents.set(agent.agentId, agent);
    unit.status = 'assigned';
    unit.agentId = agent.agentId;
    this.#changed();
    return this.#registration(agent);
  }

  async submit(agentId: string, data: unknown): Promise<void> {
    this.calls.push({ method: 'submit', arg: agentId });
    const agent = this.#agent(agentId);
    if (agent.submitting || agent.submitted) {
      throw new HitstateError('HST_ERR_SERVER_ALREADY_SUBMITTED', `agent ${agentId} already submitted`, { agentId });
    }
    if (!HOLDING.includes(agent.status)) {
      throw new HitstateError(
        'HST_ERR_SERVER_ASSIGNMENT_MISMATCH',
        `agent ${agentId} no longer holds its assignment (${agent.status})`,
        {
          agentId,
        },
      );
    }
    agent.submitting = true;
    this.log.push(`write-pending ${agentId}`);
    const written = new Promise<void>((done) => this.#pending.push({ agentId, data, done }));
    this.#changed();
    if (this.durability === 'immediate') this.flushWrites();
    await written;
    agent.submitting = false;
    agent.submitted = true;
    agent.status = 'completed';
    this.units.get(agent.unitId)!.status = 'completed';
    this.#changed();
  }

  async heartbeat(agentId: string): Promise<AgentView> {
    this.calls.push({ method: 'heartbeat', arg: agentId });
    const agent = this.#agent(agentId);
    agent.heartbeats++;
    if (agent.status === 'disconnect') agent.status = 'in task';
    this.#changed();
    return this.#view(agent);
  }

  async disconnect(agentId: string): Promise<void> {
    this.calls.push({ method: 'disconnect', arg: agentId });
    const agent = this.#agent(agentId);
    agent.disconnects++;
    if (agent.status === 'in task' && !agent.submitting) agent.status = 'disconnect';
    this.#changed();
  }

  async agentStatus(agentId: string): Promise<AgentView> {
    this.calls.push({ method: 'agentStatus', arg: agentId });
    return this.#view(this.#agent(agentId));
  }

  async preview(hitId: string | undefined): Promise<PreviewInfo> {
    this.calls.push({ method: 'preview', arg: hitId });
    const run = hitId === undefined ? undefined : [...this.#runs.values()].find((r) => r.hitIds.includes(hitId));
    return run?.preview ?? { title: 'A hitstate task', description: 'Accept the HIT to see the task.' };
  }
}
