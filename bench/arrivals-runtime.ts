// The process under measurement of the arrivals benchmark (bench/arrivals.ts): the fixture's run
// resumed by a real runtime, with the task server (`createTaskServer` over
// `runtime.taskServerBackend()`, its limits applied as `hitstate run` applies them) listening on a
// loopback port. It holds nothing else (the simulator and the 200 clients live in other processes),
// so its CPU is the runtime's and the server's. The parent talks to it over the IPC channel:
//   -> { kind: 'ready', url, resumeMs }                 once the run is resumed and the server listens
//   <- { kind: 'usage' }    -> { kind: 'usage', cpuMs, rssMb, errors, commits, registrations }
// The parent ends it with SIGKILL (no close), to show that what it answered was on disk.
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { Session } from 'node:inspector';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { VirtualClock } from '../src/clock.js';
import { createTaskServer } from '../src/server/index.js';
import { fixtureRuntime } from './support/run-fixture.js';

/** The environment variable the parent passes {@link ArrivalsRuntimeArgs} in, as JSON. */
export const ARGS_ENV = 'HITSTATE_ARRIVALS_RUNTIME';

/** What the parent passes. */
export interface ArrivalsRuntimeArgs {
  readonly storeDir: string;
  readonly simUrl: string;
  /** The simulator's virtual time: the runtime's clock starts there (nothing advances it here). */
  readonly nowMs: number;
  readonly runId: string;
  /** The gateway's default rate governor (MTurk's 5 calls/s, on the runtime's clock, which stands still here) instead of none. */
  readonly mturkRate?: boolean;
  /** Profiles the process from the first `usage` message to the second and writes the profile here. */
  readonly profileFile?: string;
}

/** The header the clients name their address in (the server trusts it as it would a proxy's). */
export const CLIENT_ADDRESS_HEADER = 'x-bench-client';

type FromParent = { kind: 'usage' };

const send = (message: unknown): void => {
  process.send?.(message);
};

async function main(): Promise<void> {
  const json = process.env[ARGS_ENV];
  if (json === undefined) throw new Error(`bench/arrivals-runtime.ts takes its arguments in ${ARGS_ENV} (JSON)`);
  const args = JSON.parse(json) as ArrivalsRuntimeArgs;
  const errors: string[] = [];
  const w0 = performance.now();
  const runtime = await fixtureRuntime(args.simUrl, new VirtualClock(args.nowMs), args.storeDir, {
    mturkRate: args.mturkRate === true,
  });
  runtime.events.on('error', (err) => errors.push(err.message));
  const [resumed] = await runtime.resume();
  if (resumed === undefined || !resumed.restored)
    throw new Error('the fixture run was not restored from its snapshots');
  // At MTurk's rate on a clock that stands still, the drift check's calls wait for the governor for
  // good: not awaited, and every arrival finds the governor busy (bound unconfirmed, checked later).
  if (args.mturkRate !== true) {
    await resumed.drift;
    await runtime.whenIdle();
  }
  const resumeMs = performance.now() - w0;
  // Where an arrival's time goes: the store's commits (count, wall time, records each) and the
  // backend's registerAgent as a whole, timed around the real calls.
  const commits = { count: 0, wallMs: 0, maxMs: 0, changes: 0 };
  const backend = runtime.store.backend;
  const commit = backend.commit.bind(backend);
  backend.commit = async (c) => {
    const t = performance.now();
    await commit(c);
    const ms = performance.now() - t;
    commits.count += 1;
    commits.wallMs += ms;
    commits.maxMs = Math.max(commits.maxMs, ms);
    commits.changes += c.changes.length;
  };
  const backendOfServer = runtime.taskServerBackend();
  const registrations = { count: 0, wallMs: 0 };
  const registerAgent = backendOfServer.registerAgent.bind(backendOfServer);
  backendOfServer.registerAgent = async (arrival) => {
    const t = performance.now();
    try {
      return await registerAgent(arrival);
    } finally {
      registrations.count += 1;
      registrations.wallMs += performance.now() - t;
    }
  };
  const tasks = createTaskServer(backendOfServer, {
    taskPage: '<p>Read the sentence and pick its sentiment.</p>',
    secret: 'arrivals-bench-secret-of-at-least-32-bytes',
    // 200 workers from 200 addresses, as behind a proxy that forwards each client's address: the
    // per-address registration limit (30 at once) applies to each worker, not to loopback as a whole.
    clientAddress: (req) => String(req.headers[CLIENT_ADDRESS_HEADER] ?? req.socket.remoteAddress),
    onError: (error, where) =>
      errors.push(`${where.method} ${where.path}: ${error instanceof Error ? error.message : String(error)}`),
  });
  const server = tasks.applyServerLimits(
    createServer(tasks.httpServerOptions, (req, res) => void tasks.handle(req, res)),
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  let usages = 0;
  const profiler = args.profileFile !== undefined ? new Session() : undefined;
  profiler?.connect();
  const post = (method: string): Promise<unknown> =>
    new Promise((resolve, reject) =>
      profiler!.post(method, (err, result) => (err === null ? resolve(result) : reject(err))),
    );
  process.on('message', async (message: FromParent) => {
    if (message.kind !== 'usage') return;
    // Read before the profiler's own work (stopping it, writing the profile).
    const cpu = process.cpuUsage();
    const reading = {
      kind: 'usage',
      cpuMs: (cpu.user + cpu.system) / 1000,
      rssMb: process.memoryUsage().rss / 1024 / 1024,
      errors,
      commits: { ...commits },
      registrations: { ...registrations },
    };
    usages += 1;
    if (profiler !== undefined && usages === 1) {
      await post('Profiler.enable');
      await post('Profiler.start');
    } else if (profiler !== undefined && usages === 2) {
      const { profile } = (await post('Profiler.stop')) as { profile: unknown };
      writeFileSync(args.profileFile!, JSON.stringify(profile));
    }
    send(reading);
  });
  send({ kind: 'ready', url: `http://127.0.0.1:${port}${tasks.prefix}`, resumeMs });
}

// Imported by bench/arrivals.ts for its constants: only the forked process runs.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
