// The test world of the runtime, CLI, server and benchmark tests, assembled from hitstate/testing:
// one VirtualClock shared by the simulator (`hitstate sim`, in-process), the runtime and a task
// server on 127.0.0.1:0 serving the label example over the runtime's backend; one
// VirtualTimeDriver (`world.driver`) that moves the clock; simulated workers; a temporary store
// directory removed on close.
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
// What is the world's own: the assembly, restarting the runtime behind the same task server URL,
// and workers who act on MTurk in-process (`sim.workers`: the simulator's exact refusal codes, and
// `abandon`, which no worker page offers) while their browser side is a SimulatedWorker whose
// task-server calls answer `{ status, json }` instead of throwing, so tests assert refusals.
// The driver holds time still while a worker's request or any request to the task server (a
// browser's included) is in flight.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labelTask } from '../../examples/label-task/index.js';
import { VirtualClock } from '../../src/clock.js';
import type { TaskRunConfig } from '../../src/config/task-run.js';
import { createRuntime, type Runtime } from '../../src/runtime/core/runtime.js';
import type { RuntimeOptions } from '../../src/runtime/core/options.js';
import type { TaskServerBackend } from '../../src/server/backend.js';
import type { TaskServerOptions } from '../../src/server/options.js';
import { createTaskServer, type TaskServer } from '../../src/server/task-server.js';
import { SUBMISSION_FIELD } from '../../src/server/wrapper-source.js';
import { createSimulator, type Simulator, type SimulatorOptions } from '../../src/simulator/index.js';
import {
  SimulatedWorker,
  SimulatedWorkerError,
  VirtualTimeDriver,
  type DriveOptions,
  type TaskRegistration,
} from '../../src/testing/index.js';

export type { DriveOptions };

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
  /** Overrides of the task server's options (e.g. `registrationLimits` for a crowd on one loopback address). */
  readonly server?: Partial<Omit<TaskServerOptions, 'taskPage'>>;
  /** The store: a directory or a `postgres://` URL, left in place by close(). @defaultValue a temp directory, removed by close() */
  readonly storeDir?: string;
}

/** The answer of a task-server call. */
export interface ServerAnswer {
  readonly status: number;
  readonly json: any;
}

/** A request the task server has answered. */
export interface ServedRequest {
  readonly method: string;
  /** Path and query. */
  readonly url: string;
  readonly status: number;
}

/** The answer of a call, or the status and error body of the server's refusal. */
async function answerOf(call: () => Promise<unknown>): Promise<ServerAnswer> {
  try {
    return { status: 200, json: await call() };
  } catch (err) {
    if (!(err instanceof SimulatedWorkerError) || err.status < 400) throw err;
    return { status: err.status, json: err.refusal === undefined ? undefined : { error: err.refusal } };
  }
}

/** One simulated worker: MTurk actions in-process on the simulator, browser actions over HTTP. */
export class SimWorker {
  /** The browser side: what the task page's wrapper sends. */
  readonly browser: SimulatedWorker;

  constructor(
    readonly world: World,
    readonly workerId: string,
  ) {
    this.browser = new SimulatedWorker({
      workerId,
      mturkUrl: world.sim.url,
      tracker: world.driver,
      sleep: (ms) => world.driver.sleep(ms),
    });
    this.browser.apiUrl = world.apiUrl;
  }

  /** The HIT and assignment the worker holds; a test may set them to forge an arrival. */
  get hitId(): string | undefined {
    return this.browser.hitId;
  }

  set hitId(hitId: string | undefined) {
    this.browser.hitId = hitId;
  }

  get assignmentId(): string | undefined {
    return this.browser.assignmentId;
  }

  set assignmentId(assignmentId: string | undefined) {
    this.browser.assignmentId = assignmentId;
  }

  get registration(): TaskRegistration | undefined {
    return this.browser.registration;
  }

  get agentId(): string | undefined {
    return this.browser.agentId;
  }

  get unitId(): string | undefined {
    return this.browser.unitId;
  }

  /** Accepts a HIT on MTurk: the oldest of a group (HIT type id) or a given HIT. Throws the simulator's HitstateError when refused. */
  async accept(target: { hitTypeId: string } | { hitId: string }): Promise<this> {
    const { assignmentId, hitId } = await this.world.sim.workers.accept(this.workerId, target);
    this.browser.assignmentId = assignmentId;
    this.browser.hitId = hitId;
    return this;
  }

  /** Registers with the task server as the wrapper does. */
  register(): Promise<ServerAnswer> {
    return answerOf(() => this.browser.register());
  }

  /** Stores the data on the task server (answers once it is on disk). */
  submitToServer(data: unknown): Promise<ServerAnswer> {
    return answerOf(() => this.browser.submitToTaskServer(data));
  }

  /** Posts MTurk's externalSubmit with the data as one JSON field, as the wrapper does. */
  async submitToMTurk(data: unknown): Promise<void> {
    await this.world.sim.workers.submit(this.#assignment('submitToMTurk'), {
      [SUBMISSION_FIELD]: JSON.stringify(data),
    });
  }

  /** The wrapper's submit: task server first, then MTurk. Throws the SimulatedWorkerError if the task server refused. */
  async submit(data: unknown): Promise<void> {
    await this.browser.submitToTaskServer(data);
    await this.submitToMTurk(data);
  }

  heartbeat(): Promise<ServerAnswer> {
    return answerOf(() => this.browser.heartbeat());
  }

  /** The `pagehide` beacon. */
  disconnect(): Promise<ServerAnswer> {
    return answerOf(() => this.browser.leavePage());
  }

  /** Returns the HIT on MTurk. */
  async returnHIT(): Promise<void> {
    await this.world.sim.workers.returnAssignment(this.#assignment('returnHIT'));
  }

  /** Walks away on MTurk (what the assignment deadline passing does). */
  async abandon(): Promise<void> {
    await this.world.sim.workers.abandon(this.#assignment('abandon'));
  }

  #assignment(action: string): string {
    if (this.assignmentId === undefined)
      throw new Error(`${action}: worker ${this.workerId} holds no assignment; accept a HIT first`);
    return this.assignmentId;
  }
}

/** A label-task run config served from `taskUrl`, with `units` units (2 by default); override any field. */
export function labelTaskConfig(
  taskUrl: string,
  overrides: Partial<TaskRunConfig> & { units?: number | readonly unknown[] } = {},
): TaskRunConfig {
  const units = overrides.units ?? 2;
  return {
    title: 'Label the sentiment of a sentence',
    description: 'Read one sentence and pick its sentiment.',
    reward: '0.50',
    assignmentDurationSec: 600,
    lifetimeSec: 86_400,
    autoApprovalDelaySec: 86_400,
    taskUrl,
    ...overrides,
    units: typeof units === 'number' ? labelTask.units(units) : units,
  };
}

/** The simulator, the runtime and a task server on one virtual clock. */
export class World {
  runtime: Runtime;
  /** The task server: the label example over the current runtime's backend. */
  readonly tasks: TaskServer;
  /** Moves the clock only while the runtime is idle and no request is in flight. */
  readonly driver: VirtualTimeDriver;
  /** Every `error` event of every runtime of this world: a test that ends with errors has a problem. */
  readonly errors: Error[] = [];
  /** Every unexpected error of the task server (answered 500 to the browser). */
  readonly serverErrors: unknown[] = [];
  /** Every request the task server answered, in order. */
  readonly served: ServedRequest[] = [];
  readonly #servedWaiters: { match: (r: ServedRequest) => boolean; resolve: (r: ServedRequest) => void }[] = [];
  readonly #holder: { runtime: Runtime };
  #server: Server | undefined;
  #origin = '';
  #closed = false;

  private constructor(
    readonly clock: VirtualClock,
    readonly sim: Simulator,
    runtime: Runtime,
    readonly storeDir: string,
    readonly options: WorldOptions,
  ) {
    this.runtime = runtime;
    this.#holder = { runtime };
    this.driver = new VirtualTimeDriver({ clock, whenIdle: () => this.runtime.whenIdle() });
    this.#watch(runtime);
    const holder = this.#holder;
    // The task server asks whichever runtime is current, so restart() keeps the same URL.
    const backend: TaskServerBackend = {
      registerAgent: (arrival) => holder.runtime.taskServerBackend().registerAgent(arrival),
      submit: (id: string, data: unknown) => holder.runtime.taskServerBackend().submit(id, data),
      heartbeat: (id: string) => holder.runtime.taskServerBackend().heartbeat(id),
      disconnect: (id: string) => holder.runtime.taskServerBackend().disconnect(id),
      agentStatus: (id: string) => holder.runtime.taskServerBackend().agentStatus(id),
      preview: (hitId: string | undefined) => holder.runtime.taskServerBackend().preview(hitId),
      submitOrigins: () => holder.runtime.taskServerBackend().submitOrigins(),
    };
    this.tasks = createTaskServer(backend, {
      secret: TEST_SECRET,
      clock,
      ...labelTask.serverOptions,
      onError: (err) => this.serverErrors.push(err),
      ...options.server,
    });
  }

  /** Creates a world; see the top of this file. */
  static async create(options: WorldOptions = {}): Promise<World> {
    const clock = new VirtualClock(WORLD_START_MS);
    const sim = await createSimulator({ ...options.sim, clock, seed: options.seed ?? 1 });
    const storeDir = options.storeDir ?? mkdtempSync(join(tmpdir(), 'hitstate-'));
    const world = new World(clock, sim, await World.#runtime(clock, sim, storeDir, options), storeDir, options);
    await world.#listen();
    return world;
  }

  static async #runtime(
    clock: VirtualClock,
    sim: Simulator,
    storeDir: string,
    options: WorldOptions,
  ): Promise<Runtime> {
    return createRuntime({
      environment: { kind: 'custom', endpoint: sim.url },
      requester: {
        name: 'world',
        credentials: { kind: 'static', accessKeyId: TEST_ACCESS_KEY, secretAccessKey: 'world-secret' },
      },
      clock,
      storeDir,
      pollIntervalMs: { activeMs: 10_000, idleMs: 60_000 },
      ...options.runtime,
    });
  }

  async #listen(): Promise<void> {
    const server = createServer((req, res) => {
      const { method = 'GET', url = '/' } = req;
      void this.driver
        .track(this.tasks.handle(req, res))
        .then(() => this.#served({ method, url, status: res.statusCode }));
    });
    this.#server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    this.#origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  #served(request: ServedRequest): void {
    this.served.push(request);
    for (const waiter of this.#servedWaiters.filter((w) => w.match(request))) {
      this.#servedWaiters.splice(this.#servedWaiters.indexOf(waiter), 1);
      waiter.resolve(request);
    }
  }

  #watch(runtime: Runtime): void {
    runtime.events.on('error', (err) => this.errors.push(err));
  }

  /** The task server's origin, `http://127.0.0.1:PORT`. */
  get origin(): string {
    return this.#origin;
  }

  /** The ExternalQuestion URL of the task server. */
  get taskUrl(): string {
    return `${this.#origin}${this.tasks.taskPath}`;
  }

  /** The base of the wrapper's API (what the task page names in `data-hitstate-api`). */
  get apiUrl(): string {
    return `${this.#origin}${this.tasks.prefix}/api`;
  }

  /**
   * Resolves with the first request the task server answered that matches, once it has (e.g. a
   * browser's `pagehide` beacon, which nothing else waits for).
   */
  whenServed(match: (request: ServedRequest) => boolean): Promise<ServedRequest> {
    const seen = this.served.find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve) => this.#servedWaiters.push({ match, resolve }));
  }

  /** A label-task config with `units` units; override any field. */
  config(overrides: Partial<TaskRunConfig> & { units?: number | readonly unknown[] } = {}): TaskRunConfig {
    return labelTaskConfig(this.taskUrl, overrides);
  }

  /**
   * Launches a run of `units` label units and has one new worker accept, register and submit each,
   * driving until every unit is completed: the start of the review, payment and close tests.
   * @returns the run's id.
   */
  async submittedRun(units: number, options: { readonly maxMs?: number } = {}): Promise<string> {
    const { runtime } = this;
    const { runId } = await runtime.launchRun(this.config({ units }));
    await this.drive(() => runtime.runInfo(runId).counts.launched === units, { ...options, label: 'launch' });
    for (let i = 0; i < units; i++) {
      const w = this.worker();
      await w.accept(this.hitTypeId(runId));
      const registered = await w.register();
      if (registered.status !== 200)
        throw new Error(`worker ${w.workerId} of unit ${i} could not register: ${JSON.stringify(registered)}`);
      await w.submit({ sentiment: 'positive', comment: `unit ${i}` });
    }
    await this.drive(() => runtime.runInfo(runId).counts.completed === units, { ...options, label: 'completed' });
    return runId;
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

  /**
   * Moves virtual time until `until` holds (a predicate) or settles (a promise): the world's
   * {@link VirtualTimeDriver.drive}. Throws once `maxMs` of virtual time passed.
   */
  drive<T>(until: Promise<T> | (() => boolean), options: DriveOptions = {}): Promise<T | undefined> {
    return this.driver.drive(until, options);
  }

  /** Moves virtual time forward by `ms`, the runtime idle before each step. */
  advance(ms: number, stepMs = 1000): Promise<void> {
    return this.driver.advance(ms, { stepMs });
  }

  /** Closes the runtime and opens a new one on the same store (the process restarting); then resume(). */
  async restart(): Promise<Runtime> {
    await this.runtime.close();
    await this.adopt(await this.openRuntime());
    return this.runtime;
  }

  /** Swaps in a runtime created elsewhere (a test simulating a crash abandons the old one). */
  async adopt(runtime: Runtime): Promise<void> {
    this.#watch(runtime);
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
    const server = this.#server;
    if (server !== undefined) {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    }
    await this.sim.close();
    if (this.options.storeDir === undefined) rmSync(this.storeDir, { recursive: true, force: true });
  }
}

/** Creates a {@link World}. */
export function createWorld(options: WorldOptions = {}): Promise<World> {
  return World.create(options);
}
