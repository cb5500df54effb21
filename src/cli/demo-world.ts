/**
 * The demo's world, all in this process: hitstate's MTurk-compatible server and the runtime on
 * one virtual clock, and the label task served by `createTaskServer` over the runtime, both
 * listening on 127.0.0.1 so the simulated workers go through real HTTP.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { VirtualClock } from '../clock.js';
import { createRuntime, type Runtime } from '../runtime/index.js';
import { createTaskServer, type TaskServer } from '../server/index.js';
import { createSimulator, type Simulator } from '../simulator/index.js';
import { VirtualTimeDriver } from '../testing/index.js';
import { LOCAL_CREDENTIALS } from './target.js';
import { labelExamplePage, serverPageOptions } from './task-page.js';

/** Everything the demo runs on. */
export interface DemoWorld {
  readonly clock: VirtualClock;
  readonly sim: Simulator;
  readonly runtime: Runtime;
  readonly taskServer: TaskServer;
  readonly taskUrl: string;
  readonly driver: VirtualTimeDriver;
  /** Errors the task server or the runtime reported that nobody awaited. */
  readonly problems: string[];
  close(): Promise<void>;
}

/** Options of {@link openDemoWorld}. */
export interface DemoWorldOptions {
  readonly seed: number;
  readonly storeDir: string;
  /** Wall milliseconds per virtual second (0: as fast as possible). */
  readonly paceMs: number;
}

/** The simulator account the demo works in (its access key id). */
export const DEMO_ACCOUNT = LOCAL_CREDENTIALS.accessKeyId;

/** Starts the simulator, the runtime and the task server. */
export async function openDemoWorld(options: DemoWorldOptions): Promise<DemoWorld> {
  const clock = new VirtualClock(Math.floor(Date.now() / 1000) * 1000);
  const sim = await createSimulator({ clock, seed: options.seed });
  const problems: string[] = [];
  let runtime: Runtime | undefined;
  let server: Server | undefined;
  try {
    runtime = await createRuntime({
      environment: { kind: 'custom', endpoint: sim.url },
      requester: { name: 'demo', credentials: LOCAL_CREDENTIALS },
      clock,
      storeDir: options.storeDir,
      pollIntervalMs: { activeMs: 10_000, idleMs: 30_000 },
      drainGraceSec: 60,
    });
    runtime.events.on('error', (err) => problems.push(err.message));
    const taskServer = createTaskServer(runtime.taskServerBackend(), {
      secret: randomBytes(32),
      clock,
      ...serverPageOptions(labelExamplePage(), 'Label the sentiment of a sentence'),
      onError: (err) => problems.push(`task server: ${err instanceof Error ? err.message : String(err)}`),
    });
    const listening = createServer((req, res) => void taskServer.handle(req, res));
    server = listening;
    await new Promise<void>((resolve) => listening.listen(0, '127.0.0.1', () => resolve()));
    const taskUrl = `http://127.0.0.1:${(listening.address() as AddressInfo).port}${taskServer.taskPath}`;
    const active = runtime;
    const driver = new VirtualTimeDriver({
      clock,
      whenIdle: () => active.whenIdle(),
      stepMs: 10_000,
      ...(options.paceMs > 0 ? { pacing: { realMsPerVirtualSec: options.paceMs, maxRealMsPerStep: 250 } } : {}),
    });
    let closing: Promise<void> | undefined;
    return {
      clock,
      sim,
      runtime: active,
      taskServer,
      taskUrl,
      driver,
      problems,
      close: () => {
        closing ??= (async () => {
          await active.close();
          await new Promise<void>((resolve) => {
            listening.close(() => resolve());
            listening.closeAllConnections();
          });
          await sim.close();
        })();
        return closing;
      },
    };
  } catch (err) {
    await runtime?.close();
    if (server !== undefined) server.close();
    await sim.close();
    throw err;
  }
}
