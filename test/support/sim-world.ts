// A deterministic world for runtime integration tests (and the CLI and benchmark tests that build
// on them): one VirtualClock shared by the simulator (`hitstate sim`, in-process) and the runtime,
// a task server on 127.0.0.1:0 serving the label example over the runtime's backend, simulated
// workers who act on MTurk (the simulator) and in the browser (JSON posts, as the wrapper does),
// and a temporary store directory removed on close.
//
//   const world = await createWorld({ seed: 1 });
//   const { runId } = await world.runtime.launchRun(world.config({ units: 2 }));
//   await world.drive(() => world.runtime.runInfo(runId).counts.launched === 2, { label: 'launch' });
//   const w = world.worker();                      // a new simulated worker
//   await w.accept(world.hitTypeId(runId));       // MTurk: accept a HIT of the group
//   await w.register();                            // browser: the wrapper registers
//   await w.submit({ sentiment: 'positive', comment: '' }); // task server, then MTurk's externalSubmit
//   await world.drive(() => world.runtime.unitStatus(w.unitId!) === 'completed');
//   await world.close();
//
// drive(until) moves time only when the runtime is idle (runtime.whenIdle()), and only to the next
// timer (or by `stepMs` when none is due sooner), so the order of events never depends on how fast
// the machine is. It fails with a clear message once `maxMs` of virtual time passed without `until`.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labelTask } from '../../examples/label-task/index.js';
import { VirtualClock } from '../../src/clock.js';
import type { TaskRunConfig } from '../../src/config/task-run.js';
import { createRuntime, type Runtime } from '../../src/runtime/runtime.js';
import type { RuntimeOptions } from '../../src/runtime/options.js';
import type { TaskServerBackend } from '../../src/server/backend.js';
import { createTaskServer, type TaskServer } from '../../src/server/task-server.js';
import { SUBMISSION_FIELD } from '../../src/server/wrapper-source.js';
import { createSimulator, type Simulator, type SimulatorOptions } from '../../src/simulator/index.js';

/** The task server's signing secret in tests (stable, at least 32 bytes). */
export const TEST_SECRET = 'hitstate-test-secret-0123456789abcdef';
/** The access key id of the test requester (its simulator account). */
export const TEST_ACCESS_KEY = 'AKIDWORLD';
/** Start of virtual time: 2026-01-01T00:00:00Z. */
export const WORLD_START_MS = Date.UTC(2026, 0, 1);

export interface WorldOptions {
  readonly seed?: number;
  readonly sim?: Omit<SimulatorOptions, 'clock' | 'seed'>;
  /** Overrides of the runtime's options (environment, requester, clock and store are the world's). */
  readonly runtime?: Partial<Omit<RuntimeOptions, 'environment' | 'clock' | 'storeDir' | 'store'>>;
}

export interface DriveOptions {
  /** Largest step of virtual time when no timer is due sooner. @defaultValue 1000 */
  readonly stepMs?: number;
  /** Virtual time after which drive fails. @defaultValue 2 hours */
  readonly maxMs?: number;
  /** Named in the failure message. */
  readonly label?: string;
}

interface Registration {
  readonly agentId: string;
  readonly unitId: string;
  readonly token: string;
  readonly task: unknown;
  readonly status: string;
  readonly submitted: boolean;
}

/** The answer of a task-server call. */
export interface ServerAnswer {
  readonly status: number;
  readonly json: any;
}

/** One simulated worker: MTurk actions through the simulator, browser actions through the task server. */
export class SimWorker {
  assignmentId: string | undefined;
  hitId: string | undefined;
  registration: Registration | undefined;

  constructor(
    readonly world: World,
    readonly workerId: string,
  ) {}

  get agentId(): string | undefined {
    return this.registration?.agentId;
  }

  get unitId(): string | undefined {
    return this.registration?.unitId;
  }

  /** Accepts a HIT on MTurk: the oldest of a group (HIT type id) or a given HIT. */
  async accept(target: { hitTypeId: string } | { hitId: string }): Promise<this> {
    const { assignmentId, hitId } = await this.world.sim.workers.accept(this.workerId, target);
    this.assignmentId = assignmentId;
    this.hitId = hitId;
    return this;
  }

  /** Registers with the task server as the wrapper does; throws with the server's error unless `allowError`. */
  async register(): Promise<ServerAnswer> {
    const answer = await this.world.post('/api/agents', { hitId: this.hitId, assignmentId: this.assignmentId, workerId: this.workerId });
    if (answer.status === 200) this.registration = answer.json as Registration;
    return answer;
  }

  /** Stores the data on the task server (resolves once it is on disk). */
  async submitToServer(data: unknown): Promise<ServerAnswer> {
    return this.world.post(`/api/agents/${this.agentId}/submit`, { data }, this.registration?.token);
  }

  /** Posts MTurk's externalSubmit with the data as one JSON field, as the wrapper does. */
  async submitToMTurk(data: unknown): Promise<void> {
    await this.world.sim.workers.submit(this.assignmentId!, { [SUBMISSION_FIELD]: JSON.stringify(data) });
  }

  /** The wrapper's submit: task server first, then MTurk. Throws if the task server refused. */
  async submit(data: unknown): Promise<void> {
    const stored = await this.submitToServer(data);
    if (stored.status !== 200) throw new Error(`the task server refused the submission: ${stored.status} ${JSON.stringify(stored.json)}`);
    await this.submitToMTurk(data);
  }

  async heartbeat(): Promise<ServerAnswer> {
    return this.world.post(`/api/agents/${this.agentId}/heartbeat`, {}, this.registration?.token);
  }

  async disconnect(): Promise<ServerAnswer> {
    return this.world.post(`/api/agents/${this.agentId}/disconnect`, {}, this.registration?.token);
  }

  /** Returns the HIT on MTurk. */
  async returnHIT(): Promise<void> {
    await this.world.sim.workers.returnAssignment(this.assignmentId!);
  }

  /** Walks away on MTurk (what the assignment deadline passing does). */
  async abandon(): Promise<void> {
    await this.world.sim.workers.abandon(this.assignmentId!);
  }
}

/** The simulator, the runtime and a task server on one virtual clock. */
export class World {
  runtime: Runtime;
  /** Every `error` event of every runtime of this world: a test that ends with errors has a problem. */
  readonly errors: Error[] = [];
  readonly #servers: Server[] = [];
  #closed = false;

  private constructor(
    readonly clock: VirtualClock,
    readonly sim: Simulator,
    runtime: Runtime,
    readonly storeDir: string,
    readonly tasks: TaskServer,
    readonly origin: string,
    readonly options: WorldOptions,
  ) {
    this.runtime = runtime;
  }

  /** Creates a world; see the top of this file. */
  static async create(options: WorldOptions = {}): Promise<World> {
    const clock = new VirtualClock(WORLD_START_MS);
    const sim = await createSimulator({ ...options.sim, clock, seed: options.seed ?? 1 });
    const storeDir = mkdtempSync(join(tmpdir(), 'hitstate-'));
    const runtime = await World.#runtime(clock, sim, storeDir, options);
    const holder: { runtime: Runtime | undefined } = { runtime };
    // The task server asks whichever runtime is current, so restart() keeps the same URL.
    const backend: TaskServerBackend = {
      registerAgent: (arrival) => holder.runtime!.taskServerBackend().registerAgent(arrival),
      submit: (id: string, data: unknown) => holder.runtime!.taskServerBackend().submit(id, data),
      heartbeat: (id: string) => holder.runtime!.taskServerBackend().heartbeat(id),
      disconnect: (id: string) => holder.runtime!.taskServerBackend().disconnect(id),
      agentStatus: (id: string) => holder.runtime!.taskServerBackend().agentStatus(id),
      preview: (hitId: string | undefined) => holder.runtime!.taskServerBackend().preview(hitId),
    };
    const tasks = createTaskServer(backend, { secret: TEST_SECRET, clock, ...labelTask.serverOptions, onError: () => undefined });
    const server = createServer((req, res) => void tasks.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const world = new World(clock, sim, runtime, storeDir, tasks, origin, options);
    runtime.events.on('error', (err) => world.errors.push(err));
    world.#servers.push(server);
    world.#holder = holder;
    return world;
  }

  #holder: { runtime: Runtime | undefined } = { runtime: undefined };

  static async #runtime(clock: VirtualClock, sim: Simulator, storeDir: string, options: WorldOptions): Promise<Runtime> {
    return createRuntime({
      environment: { kind: 'custom', endpoint: sim.url },
      requester: { name: 'world', credentials: { kind: 'static', accessKeyId: TEST_ACCESS_KEY, secretAccessKey: 'world-secret' } },
      clock,
      storeDir,
      pollIntervalMs: { activeMs: 10_000, idleMs: 60_000 },
      ...options.runtime,
    });
  }

  /** The ExternalQuestion URL of the task server. */
  get taskUrl(): string {
    return `${this.origin}${this.tasks.taskPath}`;
  }

  /** A label-task config with `units` units; override any field. */
  config(overrides: Partial<TaskRunConfig> & { units?: number | readonly unknown[] } = {}): TaskRunConfig {
    const units = overrides.units ?? 2;
    return {
      title: 'Label the sentiment of a sentence',
      description: 'Read one sentence and pick its sentiment.',
      reward: '0.50',
      assignmentDurationSec: 600,
      lifetimeSec: 86_400,
      autoApprovalDelaySec: 86_400,
      taskUrl: this.taskUrl,
      ...overrides,
      units: typeof units === 'number' ? labelTask.units(units) : units,
    };
  }

  /** The run's HIT type (after setup). */
  hitTypeId(runId: string): { hitTypeId: string } {
    const id = this.runtime.runInfo(runId).hitTypeId;
    if (id === null) throw new Error(`run ${runId} has no HIT type yet; drive until it is launched`);
    return { hitTypeId: id };
  }

  /** A new simulated worker (or one with the given id). */
  worker(workerId?: string): SimWorker {
    return new SimWorker(this, workerId ?? this.sim.workers.create());
  }

  /** Posts JSON to the task server under its prefix. */
  async post(path: string, body: unknown, token?: string): Promise<ServerAnswer> {
    const res = await fetch(`${this.origin}${this.tasks.prefix}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, json: text === '' ? undefined : JSON.parse(text) };
  }

  /**
   * Moves virtual time until `until` holds (a predicate) or settles (a promise), waiting for the
   * runtime to be idle before each step. Steps go to the next timer, or `stepMs` ahead when none
   * is due sooner. Throws once `maxMs` of virtual time passed.
   */
  async drive<T>(until: Promise<T> | (() => boolean), options: DriveOptions = {}): Promise<T | undefined> {
    const stepMs = options.stepMs ?? 1000;
    const bound = this.clock.now() + (options.maxMs ?? 2 * 3_600_000);
    let settled = false;
    let value: T | undefined;
    let failure: unknown;
    if (typeof until !== 'function') {
      until.then(
        (v) => {
          settled = true;
          value = v;
        },
        (err: unknown) => {
          settled = true;
          failure = err;
        },
      );
    }
    const done = (): boolean => (typeof until === 'function' ? until() : settled);
    for (;;) {
      await this.runtime.whenIdle();
      if (done()) {
        if (failure !== undefined) throw failure;
        return value;
      }
      const now = this.clock.now();
      if (now >= bound) {
        throw new Error(`drive${options.label ? ` (${options.label})` : ''}: not reached after ${(options.maxMs ?? 2 * 3_600_000) / 1000} s of virtual time (now ${new Date(now).toISOString()})`);
      }
      const next = this.clock.nextDeadline();
      const target = Math.min(bound, next !== undefined && next > now ? Math.min(next, now + stepMs) : now + stepMs);
      await this.clock.advanceTo(next !== undefined && next <= now ? now : target);
    }
  }

  /** Moves virtual time forward by `ms`, the runtime idle before each step. */
  async advance(ms: number, stepMs = 1000): Promise<void> {
    const end = this.clock.now() + ms;
    await this.drive(() => this.clock.now() >= end, { stepMs, maxMs: ms + 1 });
  }

  /** Closes the runtime and opens a new one on the same store (the process restarting); then resume(). */
  async restart(): Promise<Runtime> {
    await this.runtime.close();
    this.runtime = await World.#runtime(this.clock, this.sim, this.storeDir, this.options);
    this.runtime.events.on('error', (err) => this.errors.push(err));
    this.#holder.runtime = this.runtime;
    return this.runtime;
  }

  /** Swaps in a runtime created elsewhere (a test simulating a crash abandons the old one). */
  async adopt(runtime: Runtime): Promise<void> {
    runtime.events.on('error', (err) => this.errors.push(err));
    this.runtime = runtime;
    this.#holder.runtime = runtime;
  }

  /** Opens a new runtime on the same store without closing the current one (after its store was released). */
  async openRuntime(): Promise<Runtime> {
    return World.#runtime(this.clock, this.sim, this.storeDir, this.options);
  }

  /** The simulator account of the test requester. */
  account() {
    const view = this.sim.inspect().accounts[TEST_ACCESS_KEY];
    if (view === undefined) throw new Error('the test requester has made no call yet');
    return view;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.runtime.close();
    for (const server of this.#servers) {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    }
    await this.sim.close();
    rmSync(this.storeDir, { recursive: true, force: true });
  }
}

/** Creates a {@link World}. */
export function createWorld(options: WorldOptions = {}): Promise<World> {
  return World.create(options);
}
