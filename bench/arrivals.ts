// Arrivals through the HTTP task server at 10,000 units (issue 16; `npm run bench -- --only arrivals`).
//
// The fixture is a run of 10,000 units built by the runtime against `hitstate sim`
// (bench/support/run-fixture.ts) with 8,000 workers arrived and 2,000 HITs still open. A copy is
// resumed by a real runtime in a process of its own (bench/arrivals-runtime.ts: the runtime and
// `createTaskServer` over `runtime.taskServerBackend()` on a loopback port, as `hitstate run` serves a
// run), `hitstate sim` runs in another, and this process is the crowd: 2,000 workers accept a HIT of
// the run on the simulator (each gets a real assignment id), then 200 clients at once do what a
// worker's browser does on arrival, `POST <prefix>/api/agents` with the HIT, assignment and worker
// ids, one arrival after another until all 2,000 are in. The server answers only after the binding
// is committed to the store (`registerAgent` flushes before it returns), and each answer is counted
// only when it is a 200 with the worker's own agent in the task.
//
// Figures: arrivals per second (all of them over the wall time from the first request to the last
// answer), latency per arrival (p50, p95, max), and the CPU of the runtime's process over that time
// (per arrival, and as a share of one core). Then the runtime's process is killed (SIGKILL, no
// close) and the store is opened read-only: every agent the server answered for must be in it.
//
// The runtime is the fixture's (bench/support/run-fixture.ts `fixtureRuntime`): its rate governor is
// unthrottled, so every arrival asks MTurk (the simulator) whether it holds the assignment
// (`GetAssignment`, one call), the full path of an honest arrival; these are the target figures.
// With `alsoAtMTurkRate` (as `npm run bench` runs it) the row is measured again on a fresh copy with
// the gateway's default governor, as `hitstate run` has it (MTurk's 5 calls/s): past the burst,
// arrivals are bound unconfirmed and checked later, so that run shows an arrival without the check.
//
// With `storeUrl` (bench/postgres.bench.ts) the fixture's store is copied into PostgreSQL first.
import { type ChildProcess, fork } from 'node:child_process';
import { Agent, request } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { agentIdFor } from '../machines/index.js';
import type { LoadedImage, RecordChange } from '../src/store/backend.js';
import type { StoreEnvironment } from '../src/store/environment.js';
import { openStore } from '../src/store/index.js';
import { ARGS_ENV, type ArrivalsRuntimeArgs, CLIENT_ADDRESS_HEADER } from './arrivals-runtime.js';
import { progress, runInChild } from './support/child.js';
import { cachedFixture } from './support/fixture-cache.js';
import { describeMachine, load1m, type MachineInfo, machineInfo } from './support/machine.js';
import { cpuMsSince, formatCount, formatMs, median, percentile } from './support/numbers.js';
import { openFixture, type RunFixture } from './support/run-fixture.js';

const RUNTIME_SCRIPT = fileURLToPath(new URL('./arrivals-runtime.ts', import.meta.url));
/** The issue's targets for 200 concurrent arrivals at 10,000 units. */
export const ARRIVALS_PER_SECOND_TARGET = 300;
export const ARRIVAL_P95_TARGET_MS = 1_000;
/** Clients at once. @defaultValue of {@link ArrivalsArgs.clients} */
export const ARRIVAL_CLIENTS = 200;
/** The row's fixture: a run of this many units, this many of its HITs left without a worker. */
export const ARRIVAL_UNITS = 10_000;
export const ARRIVAL_OPEN_HITS = 2_000;
/** The fixture cache's name for a fixture with `open` HITs left open (bench/support/fixture-cache.ts). */
export const openShape = (open: number): string => `open${open}`;
/** Building a 10,000-unit fixture may take long on a loaded machine; the stall watchdog still applies. */
const FIXTURE_DEADLINE_MS = 3 * 3_600_000;

/**
 * The row's fixture from the cache, built in a child process when missing (as `npm run bench`
 * builds it), for a benchmark run outside `npm run bench` (bench/postgres.bench.ts).
 */
export async function cachedArrivalsFixture(seed: number, fresh = false): Promise<RunFixture> {
  const { fixture } = await cachedFixture(
    ARRIVAL_UNITS,
    seed,
    fresh,
    (dir) =>
      runInChild<{ dir: string; units: number; seed: number; arrived: number }, RunFixture>(
        'build-fixture',
        { dir, units: ARRIVAL_UNITS, seed, arrived: ARRIVAL_UNITS - ARRIVAL_OPEN_HITS },
        { deadlineMs: FIXTURE_DEADLINE_MS, nodeFlags: ['--max-old-space-size=8192'] },
      ),
    openShape(ARRIVAL_OPEN_HITS),
  );
  if (fixture === undefined) throw new Error('the arrivals fixture could not be built');
  return fixture;
}

export interface ArrivalsArgs {
  /** A fixture with `arrived` below `units`: its open HITs are the ones arrived on. */
  readonly fixture: RunFixture;
  /** Clients at once. @defaultValue 200 */
  readonly clients?: number;
  /** Arrivals in all. @defaultValue every open HIT of the fixture */
  readonly arrivals?: number;
  /** A `.cpuprofile` file to write: the runtime's process profiled over the arrivals (where its time goes). */
  readonly profileFile?: string;
  /**
   * A `postgres://…?schema=NAME` URL of an empty schema: the fixture's store is copied there record
   * for record and the runtime runs on PostgreSQL instead of the lowdb copy.
   */
  readonly storeUrl?: string;
  /**
   * Measures the row a second time on a fresh copy with the gateway's default rate governor
   * (MTurk's 5 calls/s, burst 10), as `hitstate run` has it: past the burst, arrivals are bound
   * without MTurk's check (unconfirmed, checked later). Reported as `atMTurkRate`.
   */
  readonly alsoAtMTurkRate?: boolean;
}

export interface ArrivalsResult {
  /** Where the runtime's store was. */
  readonly backend: 'lowdb' | 'postgres';
  /** The runtime's rate governor: none (every arrival checked with MTurk at once) or MTurk's 5 calls/s. */
  readonly governor: 'unthrottled' | 'mturk';
  /** `GetAssignment` calls the simulator answered during the arrivals (MTurk's check of an arrival). */
  readonly getAssignmentCalls: number;
  readonly units: number;
  /** Workers in the run before the measured arrivals. */
  readonly arrivedBefore: number;
  readonly arrivals: number;
  readonly clients: number;
  /** From the first request to the last answer. */
  readonly wallMs: number;
  readonly perSecond: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly maxMs: number;
  /** When the slowest arrival was sent, ms after the first. */
  readonly slowestSentAtMs: number;
  /** CPU of the runtime's process over `wallMs`, in all, per arrival, and as a share of one core. */
  readonly runtimeCpuMs: number;
  readonly runtimeCpuMsPerArrival: number;
  readonly runtimeCoreShare: number;
  readonly runtimeRssMb: number;
  /** CPU of this process (the 200 clients) over the same time, for comparison. */
  readonly clientsCpuMs: number;
  /** The store's commits during the arrivals: how many, their mean and worst wall time, records per commit. */
  readonly commits: {
    readonly count: number;
    readonly meanMs: number;
    readonly maxMs: number;
    readonly records: number;
  };
  /** Mean wall time of the backend's `registerAgent` (MTurk's check, the run's events, the commit). */
  readonly registerAgentMeanMs: number;
  /** `createRuntime` + `resume()` + the drift check, before the measurement. */
  readonly resumeMs: number;
  /** Agents answered for and found in the store opened after the runtime's process was killed. */
  readonly durableAgents: number;
  readonly load1m: { readonly before: number; readonly after: number };
  readonly machine: MachineInfo;
  /** The same row with MTurk's rate governor ({@link ArrivalsArgs.alsoAtMTurkRate}). */
  readonly atMTurkRate?: ArrivalsResult;
}

interface Accepted {
  readonly workerId: string;
  readonly hitId: string;
  readonly assignmentId: string;
}

type FromRuntime =
  | { kind: 'ready'; url: string; resumeMs: number }
  | {
      kind: 'usage';
      cpuMs: number;
      rssMb: number;
      errors: string[];
      commits: { count: number; wallMs: number; maxMs: number; changes: number };
      registrations: { count: number; wallMs: number };
    };

/** The runtime's process, spoken to over IPC. */
class RuntimeProcess {
  readonly #proc: ChildProcess;
  readonly #waiting = new Map<string, (message: FromRuntime) => void>();
  readonly #exited: Promise<number | null>;

  constructor(args: ArrivalsRuntimeArgs) {
    this.#proc = fork(RUNTIME_SCRIPT, [], {
      execArgv: ['--import', 'tsx'],
      // Its stdout goes to this process's stderr: this process's stdout carries the RESULT line.
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
      env: {
        ...process.env,
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        [ARGS_ENV]: JSON.stringify(args),
      },
    });
    this.#proc.stdout?.pipe(process.stderr);
    this.#proc.on('message', (message: FromRuntime) => {
      const waiter = this.#waiting.get(message.kind);
      this.#waiting.delete(message.kind);
      waiter?.(message);
    });
    this.#exited = new Promise((resolve) => this.#proc.on('exit', (code) => resolve(code)));
  }

  /** The next message of `kind`; rejects when the process exits first. */
  next<K extends FromRuntime['kind']>(kind: K): Promise<Extract<FromRuntime, { kind: K }>> {
    return Promise.race([
      new Promise<Extract<FromRuntime, { kind: K }>>((resolve) =>
        this.#waiting.set(kind, resolve as (m: FromRuntime) => void),
      ),
      this.#exited.then((code) => {
        throw new Error(`the runtime's process exited (code ${code}) before answering "${kind}"`);
      }),
    ]);
  }

  async usage(): Promise<Extract<FromRuntime, { kind: 'usage' }>> {
    const answer = this.next('usage');
    this.#proc.send({ kind: 'usage' });
    return answer;
  }

  /** SIGKILL: no close, no last flush. */
  async kill(): Promise<void> {
    if (this.#proc.exitCode === null && this.#proc.signalCode === null) this.#proc.kill('SIGKILL');
    await this.#exited;
  }
}

/** One arrival as the wrapper sends it: `POST <prefix>/api/agents`; the wall ms until the answer. */
function arrive(url: string, agent: Agent, a: Accepted, address: string): Promise<{ ms: number; agentId: string }> {
  const body = JSON.stringify({ hitId: a.hitId, assignmentId: a.assignmentId, workerId: a.workerId });
  const t = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}/api/agents`,
      {
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          [CLIENT_ADDRESS_HEADER]: address,
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('error', reject);
        res.on('end', () => {
          const ms = performance.now() - t;
          if (res.statusCode !== 200) {
            reject(new Error(`arrival of ${a.workerId} on HIT ${a.hitId}: ${res.statusCode} ${text.slice(0, 300)}`));
            return;
          }
          const answer = JSON.parse(text) as { agentId?: string; status?: string };
          const expected = agentIdFor(a.assignmentId, a.workerId);
          if (answer.agentId !== expected || answer.status !== 'in task')
            reject(new Error(`arrival of ${a.workerId}: answered ${text.slice(0, 300)}, expected ${expected} in task`));
          else resolve({ ms, agentId: expected });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Copies every record of the lowdb store in `dir` into the PostgreSQL schema of `url` (`?schema=`),
 * byte for byte (both backends keep a record's JSON text as the store wrote it).
 */
async function copyToPostgres(dir: string, environment: StoreEnvironment, url: string): Promise<number> {
  const source = await openStore({ dir, environment, readOnly: true });
  let image: LoadedImage;
  try {
    image = await source.backend.load();
  } finally {
    await source.close();
  }
  const parsed = new URL(url);
  const schema = parsed.searchParams.get('schema') ?? 'hitstate';
  parsed.searchParams.delete('schema');
  // Loaded only here: the lowdb row never loads pg.
  const { openPostgresBackend } = await import('../src/store/postgres/index.js');
  const target = await openPostgresBackend({ url: parsed.toString(), environment, schema });
  try {
    const changes: RecordChange[] = [];
    // The lowdb store's own format record is not data: the PostgreSQL backend keeps its own.
    for (const [collection, records] of image.store)
      for (const [key, json] of records) changes.push({ collection, runId: null, key, json });
    for (const [runId, scope] of image.runs)
      for (const [collection, records] of scope)
        for (const [key, json] of records) changes.push({ collection, runId, key, json });
    for (let i = 0; i < changes.length; i += 5_000)
      await target.commit({ changes: changes.slice(i, i + 5_000), audit: [] });
    return changes.length;
  } finally {
    await target.close();
  }
}

/** The benchmark; see the top of this file. */
export async function measure(args: ArrivalsArgs): Promise<ArrivalsResult> {
  const first = await measureOnce(args, false);
  if (args.alsoAtMTurkRate !== true) return first;
  progress("the same again with MTurk's rate governor (5 calls/s, burst 10)");
  return { ...first, atMTurkRate: await measureOnce(args, true) };
}

async function measureOnce(args: ArrivalsArgs, mturkRate: boolean): Promise<ArrivalsResult> {
  const { fixture } = args;
  const arrivedBefore = fixture.arrived ?? fixture.units;
  const open = fixture.units - arrivedBefore;
  const arrivals = Math.min(args.arrivals ?? open, open);
  const clients = Math.min(args.clients ?? ARRIVAL_CLIENTS, arrivals);
  if (arrivals < 1)
    throw new Error(`the fixture has no open HIT to arrive on (units ${fixture.units}, arrived ${arrivedBefore})`);
  const work = mkdtempSync(join(process.env.HITSTATE_BENCH_DIR ?? tmpdir(), 'hitstate-arrivals-'));
  const opened = await openFixture(fixture, join(work, 'fixture'));
  let runtime: RuntimeProcess | undefined;
  try {
    const environment = { kind: 'custom', endpoint: opened.sim.url } as const;
    if (args.storeUrl !== undefined) {
      const copied = await copyToPostgres(opened.storeDir, environment, args.storeUrl);
      progress(`copied the fixture's ${formatCount(copied)} records to PostgreSQL`);
    }
    const storeDir = args.storeUrl ?? opened.storeDir;
    runtime = new RuntimeProcess({
      storeDir,
      simUrl: opened.sim.url,
      nowMs: opened.clock.now(),
      runId: fixture.runId,
      mturkRate,
      ...(args.profileFile !== undefined ? { profileFile: args.profileFile } : {}),
    });
    const ready = await runtime.next('ready');
    progress(`resumed ${formatCount(fixture.units)} units in ${formatMs(ready.resumeMs)}; task server at ${ready.url}`);
    // The workers accept on MTurk first (not timed): each holds a real assignment of one of the run's HITs.
    const accepted = await Promise.all(
      Array.from({ length: arrivals }, async (_, k): Promise<Accepted> => {
        const workerId = `AARRIVE${String(k).padStart(6, '0')}`;
        return { workerId, ...(await opened.sim.accept(workerId, { hitTypeId: fixture.hitTypeId })) };
      }),
    );
    progress(`${formatCount(arrivals)} workers accepted a HIT; ${clients} clients arrive at once`);
    const before = await runtime.usage();
    const checks0 = (await opened.sim.stats()).calls.GetAssignment ?? 0;
    const loadBefore = load1m();
    const c0 = process.cpuUsage();
    const w0 = performance.now();
    const latencies: number[] = [];
    /** The slowest arrival and when it was sent (after the start): a straggler, or the end of a queue? */
    let slowest = { ms: 0, sentAtMs: 0 };
    const answered: string[] = [];
    let next = 0;
    const client = async (c: number): Promise<void> => {
      // One browser: its own connection, kept alive between its arrivals.
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      try {
        for (let k = next++; k < arrivals; k = next++) {
          const { ms, agentId } = await arrive(
            ready.url,
            agent,
            accepted[k]!,
            `10.${c >> 8}.${c & 255}.${(k % 250) + 1}`,
          );
          latencies.push(ms);
          if (ms > slowest.ms) slowest = { ms, sentAtMs: performance.now() - ms - w0 };
          answered.push(agentId);
          if (answered.length % 500 === 0) progress(`${answered.length} of ${arrivals} arrived`);
        }
      } finally {
        agent.destroy();
      }
    };
    await Promise.all(Array.from({ length: clients }, (_, c) => client(c)));
    const wallMs = performance.now() - w0;
    const clientsCpuMs = cpuMsSince(c0);
    const after = await runtime.usage();
    const getAssignmentCalls = ((await opened.sim.stats()).calls.GetAssignment ?? 0) - checks0;
    const loadAfter = load1m();
    if (after.errors.length > 0)
      throw new Error(`the runtime reported errors during the arrivals:\n${after.errors.slice(0, 10).join('\n')}`);
    // Durable before the answer: nothing may depend on a close.
    await runtime.kill();
    runtime = undefined;
    const store = await openStore({ dir: storeDir, environment, readOnly: true });
    let durableAgents = 0;
    try {
      for (const agentId of answered) if (store.agents.get(agentId) !== undefined) durableAgents += 1;
    } finally {
      await store.close();
    }
    if (durableAgents !== answered.length)
      throw new Error(
        `${answered.length - durableAgents} of ${answered.length} arrivals answered 200 are not in the store after a SIGKILL`,
      );
    const runtimeCpuMs = after.cpuMs - before.cpuMs;
    const commitCount = after.commits.count - before.commits.count;
    const commits = {
      count: commitCount,
      meanMs: (after.commits.wallMs - before.commits.wallMs) / Math.max(1, commitCount),
      maxMs: after.commits.maxMs,
      records: (after.commits.changes - before.commits.changes) / Math.max(1, commitCount),
    };
    const registerAgentMeanMs =
      (after.registrations.wallMs - before.registrations.wallMs) /
      Math.max(1, after.registrations.count - before.registrations.count);
    const result: ArrivalsResult = {
      backend: args.storeUrl === undefined ? 'lowdb' : 'postgres',
      governor: mturkRate ? 'mturk' : 'unthrottled',
      getAssignmentCalls,
      units: fixture.units,
      arrivedBefore,
      arrivals,
      clients,
      wallMs,
      perSecond: arrivals / (wallMs / 1000),
      p50Ms: median(latencies),
      p95Ms: percentile(latencies, 95),
      maxMs: Math.max(...latencies),
      slowestSentAtMs: slowest.sentAtMs,
      runtimeCpuMs,
      runtimeCpuMsPerArrival: runtimeCpuMs / arrivals,
      runtimeCoreShare: runtimeCpuMs / wallMs,
      runtimeRssMb: after.rssMb,
      clientsCpuMs,
      commits,
      registerAgentMeanMs,
      resumeMs: ready.resumeMs,
      durableAgents,
      load1m: { before: loadBefore, after: loadAfter },
      machine: machineInfo(),
    };
    progress(
      `${arrivals} arrivals by ${clients} clients in ${formatMs(wallMs)}: ${result.perSecond.toFixed(0)}/s, p50 ${formatMs(result.p50Ms)}, p95 ${formatMs(result.p95Ms)}, max ${formatMs(result.maxMs)} (sent at ${formatMs(result.slowestSentAtMs)}); runtime CPU ${formatMs(runtimeCpuMs)} (${result.runtimeCpuMsPerArrival.toFixed(1)} ms each, ${(result.runtimeCoreShare * 100).toFixed(0)}% of a core); ${commits.count} commits (mean ${formatMs(commits.meanMs)}, max ${formatMs(commits.maxMs)}, ${commits.records.toFixed(0)} records each), registerAgent mean ${formatMs(registerAgentMeanMs)}, ${getAssignmentCalls} GetAssignment; ${durableAgents} on disk after SIGKILL; load ${loadBefore} -> ${loadAfter}`,
    );
    return result;
  } finally {
    await runtime?.kill();
    await opened.close();
    rmSync(work, { recursive: true, force: true });
  }
}

/** The section of docs/benchmarks.md for this row (rendered by bench/support/report.ts). */
export function arrivalsSection(a: ArrivalsResult): string[] {
  const m = a.atMTurkRate;
  const loads = (x: ArrivalsResult) => `${x.load1m.before} before, ${x.load1m.after} after`;
  const row = (figure: string, f: (x: ArrivalsResult) => string) =>
    `| ${figure} | ${f(a)} |${m === undefined ? '' : ` ${f(m)} |`}`;
  return [
    '### 8. Arrivals through the task server',
    '',
    `A run of ${formatCount(a.units)} units (\`bench/arrivals.ts\`) built by the runtime against \`hitstate sim\`, ${formatCount(a.arrivedBefore)} of its workers arrived and ${formatCount(a.units - a.arrivedBefore)} HITs open, is resumed by a real runtime in a process of its own, serving the run with \`createTaskServer\` on a loopback port as \`hitstate run\` does; \`hitstate sim\` runs in another process and the clients in a third. ${formatCount(a.arrivals)} workers accept a HIT on the simulator (a real assignment id each), then ${a.clients} clients at once send what a worker's browser sends on arrival (\`POST /hitstate/api/agents\` with the HIT, assignment and worker ids), one arrival after another until all are in. The server answers after the binding is committed to the store; an answer counts only as a 200 naming the worker's own agent in the task. With the fixture's unthrottled rate governor (the target figures) every arrival also asks the simulator \`GetAssignment\`, MTurk's check that the worker holds the assignment${m === undefined ? '' : "; the second column is the same on a fresh copy with the gateway's default governor, as `hitstate run` has it (MTurk's 5 calls/s, burst 10, on the runtime's virtual clock, which stands still here): past the burst, arrivals are bound unconfirmed and checked later, so it shows the arrival without MTurk's check"}. Afterwards the runtime's process is SIGKILLed and the store opened read-only: ${formatCount(a.durableAgents)} of ${formatCount(a.arrivals)} answered agents were in it${m === undefined ? '' : ` (${formatCount(m.durableAgents)} of ${formatCount(m.arrivals)} with MTurk's rate)`}. Measured once each; 1-minute load average ${loads(a)}${m === undefined ? '' : ` (with MTurk's rate: ${loads(m)})`}; other engineers' work shares the two cores.`,
    '',
    m === undefined ? '| Figure | Result |' : "| Figure | unthrottled (target) | MTurk's rate |",
    m === undefined ? '|---|---|' : '|---|---|---|',
    row(`arrivals per second (${formatCount(a.arrivals)} arrivals, ${a.clients} at once)`, (x) =>
      x.perSecond.toFixed(0),
    ),
    row(
      'latency per arrival: p50 / p95 / max',
      (x) => `${formatMs(x.p50Ms)} / ${formatMs(x.p95Ms)} / ${formatMs(x.maxMs)}`,
    ),
    row('wall time of all the arrivals', (x) => formatMs(x.wallMs)),
    row(
      "CPU of the runtime's process: per arrival, share of one core",
      (x) => `${x.runtimeCpuMsPerArrival.toFixed(1)} ms, ${(x.runtimeCoreShare * 100).toFixed(0)}%`,
    ),
    row('`GetAssignment` calls during the arrivals', (x) => formatCount(x.getAssignmentCalls ?? 0)),
    row(
      'store commits during the arrivals: count, mean / worst wall time, records per commit',
      (x) =>
        `${formatCount(x.commits.count)}, ${formatMs(x.commits.meanMs)} / ${formatMs(x.commits.maxMs)}, ${x.commits.records.toFixed(0)}`,
    ),
    row("`registerAgent` (MTurk's check, the run's events, the commit), mean wall time", (x) =>
      formatMs(x.registerAgentMeanMs),
    ),
    row("resident memory of the runtime's process afterwards", (x) => `${x.runtimeRssMb.toFixed(0)} MB`),
    row("CPU of the clients' process", (x) => formatMs(x.clientsCpuMs)),
    row('resume of the run before (createRuntime, resume; the drift check too when unthrottled)', (x) =>
      formatMs(x.resumeMs),
    ),
    '',
    `Machine: ${describeMachine(a.machine)}.`,
  ];
}
