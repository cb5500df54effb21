/**
 * `hitstate/testing`: deterministic end-to-end tests of your task runs and task servers. Run
 * hitstate's MTurk-compatible server, the runtime and your task server on one `VirtualClock`;
 * {@link VirtualTimeDriver} moves that clock only while nothing is happening, and
 * {@link SimulatedWorker}s act over real HTTP as people with a browser do. Hours of MTurk time
 * (polls, assignment deadlines, expiry, auto-approval) pass in a second, in the same order on
 * every machine. `hitstate demo` is built on these two pieces.
 *
 * @example
 * ```ts
 * import { createRuntime, createTaskServer, VirtualClock } from 'hitstate';
 * import { createSimulator } from 'hitstate/simulator';
 * import { SimulatedWorker, VirtualTimeDriver } from 'hitstate/testing';
 *
 * const clock = new VirtualClock();
 * const sim = await createSimulator({ clock });
 * const runtime = await createRuntime({ environment: { kind: 'custom', endpoint: sim.url }, clock, storeDir,
 *   requester: { name: 'test', credentials: { kind: 'static', accessKeyId: 'AKIDTEST', secretAccessKey: 'x' } } });
 * // ...serve createTaskServer(runtime.taskServerBackend(), { clock, ... }) on 127.0.0.1:0...
 * const driver = new VirtualTimeDriver({ clock, whenIdle: () => runtime.whenIdle() });
 * const { runId } = await runtime.launchRun({ ...config, taskUrl });
 * await driver.drive(() => runtime.runInfo(runId).status === 'running', { label: 'launch' });
 *
 * const worker = new SimulatedWorker({ workerId: sim.workers.create(), mturkUrl: sim.url, tracker: driver, sleep: (ms) => driver.sleep(ms) });
 * await worker.accept({ hitTypeId: runtime.runInfo(runId).hitTypeId! });
 * await worker.openTask();
 * await worker.submit({ sentiment: 'positive', comment: '' });
 * await driver.drive(() => runtime.unitStatus(worker.unitId!) === 'completed');
 * ```
 *
 * @module
 */
export {
  VirtualTimeDriver,
  type DriveOptions,
  type DriverPacing,
  type VirtualTimeDriverOptions,
} from './virtual-time-driver.js';
export {
  SimulatedWorker,
  SimulatedWorkerError,
  type AcceptResult,
  type SimulatedWorkerOptions,
  type TaskAgentView,
  type TaskRegistration,
  type TaskServerRefusal,
  type WorkTracker,
} from './simulated-worker.js';
