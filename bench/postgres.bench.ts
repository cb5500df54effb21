// PostgreSQL backend benchmark (issue 16): on a real server started like the tests' (a fresh
// initdb cluster on loopback, fsync on, synchronous_commit on):
//   1. commit of an arrival-sized change (8 records, ~20 KB, one audit line): median and p95
//      latency, client CPU and server CPU per commit, on a database already holding N units;
//   2. open + load of the whole store at N units (7 records a unit, ~2.6 KB): wall time, client CPU.
// N is 10,000 and 100,000 by default.
//   3. the store rows of bench/store-arrival.ts with the Store on PostgreSQL (`openStore` on a
//      postgres:// URL): open of a run of N units and the bytes and CPU of one worker arrival's
//      commit, at 100 / 1,000 / 10,000 units, side by side with the lowdb figures of
//      bench/results-store.json in docs/benchmarks.md.
//   4. (`--only arrivals`, also run by default) benchmark 8 of `npm run bench` with the runtime's
//      store on PostgreSQL: 200 workers at once through the HTTP task server at 10,000 units
//      (bench/arrivals.ts; the fixture's store copied record for record into a fresh schema), side
//      by side with the lowdb figures of bench/results.json.
// Prints tables, writes bench/results-postgres.json (the parts run; the others are kept) and, for
// part 3, the PostgreSQL section of docs/benchmarks.md.
//
// Usage: node --import tsx bench/postgres.bench.ts [--only backend,store,arrivals] [--units 10000,100000]
//          [--commits 300] [--loads 3] [--arrival-sizes 100,1000,10000] [--samples 3]
//        node --import tsx bench/postgres.bench.ts --render   (the docs section from the saved results)
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { RecordChange } from '../src/store/backend.js';
import { openPostgresBackend, type PostgresBackend } from '../src/store/postgres/index.js';
import { startPostgres, type PostgresServer } from '../test/support/postgres.js';
import { type ArrivalsResult, cachedArrivalsFixture, measure as measureHttpArrivals } from './arrivals.js';
import { type ArrivalMeasure, buildArrivalStore } from './store-arrival.js';
import { writeSection } from './support/docs-file.js';
import { describeMachine, load1m, machineInfo } from './support/machine.js';
import { cpuMsSince, formatMs, median, percentile } from './support/numbers.js';

const ENV = { kind: 'sandbox' } as const;
const RUN = 'bench-run';
const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const SIZES = (option('--units') ?? '10000,100000').split(',').map(Number);
const COMMITS = Number(option('--commits') ?? 300);
const LOADS = Number(option('--loads') ?? 3);
const BATCH_UNITS = 500;
const PARTS = new Set((option('--only') ?? 'backend,store,arrivals').split(','));
const ARRIVAL_SIZES = (option('--arrival-sizes') ?? '100,1000,10000').split(',').map(Number);
const SAMPLES = Number(option('--samples') ?? 3);
const RESULTS_FILE = fileURLToPath(new URL('./results-postgres.json', import.meta.url));
const STORE_RESULTS_FILE = fileURLToPath(new URL('./results-store.json', import.meta.url));
const ARRIVAL_SCRIPT = fileURLToPath(new URL('./store-arrival.ts', import.meta.url));
const BENCH_RESULTS_FILE = fileURLToPath(new URL('./results.json', import.meta.url));
/** The fixtures' seed in `npm run bench` (bench/run.ts), so the cached arrivals fixture is shared. */
const FIXTURE_SEED = 1;

/** The records of one unit as a run at rest holds them (~2.6 KB of JSON over 7 records). */
function unitRecords(i: number): RecordChange[] {
  const id = String(i).padStart(6, '0');
  const at = Date.UTC(2026, 11, 7) + i;
  const pad = (n: number) => 'x'.repeat(n);
  return [
    {
      collection: 'units',
      runId: RUN,
      key: `u-${id}`,
      json: JSON.stringify({
        unitId: `u-${id}`,
        state: 'completed',
        index: i,
        payAmountUsd: '0.50',
        hitId: `3U18MJKL1WA8S1G7ULNIMQ${id}ED`,
        note: pad(120),
      }),
    },
    {
      collection: 'agents',
      runId: RUN,
      key: `ag-${id}`,
      json: JSON.stringify({
        agentId: `ag-${id}`,
        unitId: `u-${id}`,
        workerId: `A12IHTKQF${id}`,
        assignmentId: `34QN5IT0T2G6HMWH25AHYC${id}60`,
        state: 'approved',
        at,
        note: pad(180),
      }),
    },
    {
      collection: 'hits',
      runId: RUN,
      key: `3U18MJKL1WA8S1G7ULNIMQ${id}ED`,
      json: JSON.stringify({
        hitId: `3U18MJKL1WA8S1G7ULNIMQ${id}ED`,
        unitId: `u-${id}`,
        link: `https://tasks.example/${id}`,
        expiresAt: at,
        note: pad(150),
      }),
    },
    {
      collection: 'snapshots',
      runId: RUN,
      key: `unit:u-${id}`,
      json: JSON.stringify({
        status: 'done',
        value: 'completed',
        context: {
          unitId: `u-${id}`,
          history: [
            { at, to: 'launched' },
            { at, to: 'assigned' },
            { at, to: 'completed' },
          ],
          pad: pad(520),
        },
      }),
    },
    {
      collection: 'snapshots',
      runId: RUN,
      key: `agent:ag-${id}`,
      json: JSON.stringify({ status: 'done', value: 'approved', context: { agentId: `ag-${id}`, pad: pad(400) } }),
    },
    {
      collection: 'submissions',
      runId: RUN,
      key: `ag-${id}`,
      json: JSON.stringify({ agentId: `ag-${id}`, data: { label: 'cat', comment: `fine 👍 ${pad(200)}` } }),
    },
    {
      collection: 'outbox',
      runId: RUN,
      key: `hs1-${RUN}-u-${id}-createHIT-0`,
      json: JSON.stringify({
        kind: 'createHIT',
        state: 'confirmed',
        token: `hs1-${RUN}-u-${id}-createHIT-0`,
        pad: pad(100),
      }),
    },
  ];
}

/** An arrival: the agent, unit, HIT and worker records, three snapshots and an outbox entry (~20 KB). */
function arrival(n: number): RecordChange[] {
  const id = `arr-${n}`;
  const blob = (size: number) => JSON.stringify({ id, n, pad: 'y'.repeat(size) });
  return [
    { collection: 'agents', runId: RUN, key: `ag-${id}`, json: blob(900) },
    { collection: 'units', runId: RUN, key: `u-${n % 1000}`, json: blob(500) },
    { collection: 'hits', runId: RUN, key: `hit-${n % 1000}`, json: blob(500) },
    { collection: 'workers', runId: null, key: `A${n}`, json: blob(300) },
    { collection: 'snapshots', runId: RUN, key: 'run', json: blob(7_000) },
    { collection: 'snapshots', runId: RUN, key: `unit:u-${n % 1000}`, json: blob(5_000) },
    { collection: 'snapshots', runId: RUN, key: `agent:ag-${id}`, json: blob(5_000) },
    { collection: 'outbox', runId: RUN, key: `tok-${id}`, json: blob(300) },
  ];
}

/** utime + stime of a process in ms (Linux /proc, 100 ticks a second). */
function processCpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

async function fill(backend: PostgresBackend, from: number, to: number): Promise<void> {
  for (let start = from; start < to; start += BATCH_UNITS) {
    const changes: RecordChange[] = [];
    for (let i = start; i < Math.min(to, start + BATCH_UNITS); i++) changes.push(...unitRecords(i));
    await backend.commit({ changes, audit: [] });
  }
}

interface SizeResult {
  units: number;
  records: number;
  jsonMB: number;
  commit: { samples: number; medianMs: number; p95Ms: number; clientCpuMs: number; serverCpuMs: number | null };
  load: { medianMs: number; minMs: number; openMedianMs: number; clientCpuMs: number; serverCpuMs: number };
}

/** One store's arrival measure in a fresh process (bench/store-arrival.ts `--measure-arrival`), on a postgres:// URL. */
function measureInChild(url: string, units: number): Promise<ArrivalMeasure> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', ARRIVAL_SCRIPT, '--measure-arrival', url, String(units)],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('RESULT '));
      if (code !== 0 || line === undefined) reject(new Error(`arrival measurement failed (exit ${code}):\n${out}`));
      else resolve(JSON.parse(line.slice('RESULT '.length)) as ArrivalMeasure);
    });
  });
}

/** A copy of schema `from` as `to`, made by the server (each sample arrives on a fresh copy, as the lowdb bench copies its directory). */
async function copySchema(server: PostgresServer, from: string, to: string): Promise<void> {
  await server.sql(`CREATE SCHEMA ${to}`);
  // Schema version 2: the store-wide commit sequence (its next value carried over) and run marks.
  await server.sql(`CREATE SEQUENCE ${to}.store_seq`);
  await server.sql(`SELECT setval('${to}.store_seq', (SELECT last_value FROM ${from}.store_seq))`);
  for (const table of ['hitstate_schema', 'records', 'audit', 'leases', 'requests', 'run_marks']) {
    await server.sql(`CREATE TABLE ${to}.${table} (LIKE ${from}.${table} INCLUDING ALL)`);
    const identity = table === 'audit' || table === 'requests' ? ' OVERRIDING SYSTEM VALUE' : '';
    await server.sql(`INSERT INTO ${to}.${table}${identity} SELECT * FROM ${from}.${table}`);
  }
  await server.sql(`VACUUM ANALYZE ${to}.records`);
}

/** Part 3: the store-arrival rows with the Store on PostgreSQL. */
async function arrivalRows(server: PostgresServer): Promise<ArrivalMeasure[]> {
  const out: ArrivalMeasure[] = [];
  for (const units of ARRIVAL_SIZES) {
    const base = `arrive_${units}`;
    const t0 = Date.now();
    await buildArrivalStore(`${server.url}?schema=${base}`, units);
    process.stdout.write(`built ${units} units in PostgreSQL in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
    const runs: ArrivalMeasure[] = [];
    for (let s = 0; s < SAMPLES; s++) {
      const copy = `${base}_s${s}`;
      await copySchema(server, base, copy);
      runs.push(await measureInChild(`${server.url}?schema=${copy}`, units));
    }
    const pick = (k: keyof ArrivalMeasure) => median(runs.map((r) => r[k]));
    const m: ArrivalMeasure = {
      units,
      openMs: pick('openMs'),
      openCpuMs: pick('openCpuMs'),
      supervisorBytes: pick('supervisorBytes'),
      bytesPerArrival: pick('bytesPerArrival'),
      checkpointBytesPerArrival: 0,
      cpuMsMedian: pick('cpuMsMedian'),
      cpuMsMax: pick('cpuMsMax'),
    };
    process.stdout.write(
      `${units} units on PostgreSQL: open ${m.openMs.toFixed(0)} ms (${m.openCpuMs.toFixed(0)} ms CPU); arrival ${(m.bytesPerArrival / 1024).toFixed(1)} KB committed, CPU median ${m.cpuMsMedian.toFixed(1)} ms, max ${m.cpuMsMax.toFixed(1)} ms\n`,
    );
    out.push(m);
  }
  return out;
}

/** The PostgreSQL section of docs/benchmarks.md: the store rows next to lowdb's. */
function renderSection(
  pg: readonly ArrivalMeasure[],
  machine: ReturnType<typeof machineInfo>,
  load: number,
  measuredAt: string,
): string {
  const store = existsSync(STORE_RESULTS_FILE)
    ? (JSON.parse(readFileSync(STORE_RESULTS_FILE, 'utf8')) as {
        arrivals?: ArrivalMeasure[];
        machine?: { date?: string };
      })
    : {};
  const lowdb = new Map((store.arrivals ?? []).map((a) => [a.units, a]));
  const kb = (b: number) => `${(b / 1024).toFixed(1)} KB`;
  const ms = (x: number) => `${x < 10 ? x.toFixed(1) : Math.round(x)} ms`;
  const lines = [
    '## Store on PostgreSQL, side by side with lowdb',
    '',
    `\`node --import tsx bench/postgres.bench.ts --only store\` runs the worker-arrival rows of [the Datastore section](#datastore) (\`bench/store-arrival.ts\`: a run of N units, half of them arrived, then 21 arrivals each committed on its own, median of ${SAMPLES} fresh processes) with the store in PostgreSQL: \`openStore\` on a \`postgres://\` URL, a real server started like the tests' (a fresh \`initdb\` cluster on loopback, fsync and \`synchronous_commit\` on), each sample on a fresh copy of the built schema. Open is the wall time of \`openStore\` (connect, schema check, the environment's lock, load of every record, checks and indexes); bytes are the JSON text each commit hands the database (PostgreSQL adds its WAL and page overhead); CPU is the client's; the server's (about 1.3 ms per commit) is in [postgres.md](postgres.md#benchmark). The lowdb columns are those of \`bench/results-store.json\` (measured ${store.machine?.date ?? 'earlier'}, under the load noted there).`,
    '',
    `Machine: ${describeMachine(machine)}; 1-minute load average ${load.toFixed(2)} at the end (measured ${measuredAt.slice(0, 16).replace('T', ' ')} UTC). On a machine this loaded, wall times are mostly waiting for a core: the open's CPU time is the steadier figure.`,
    '',
    '| Units | Open: lowdb | Open: PostgreSQL (CPU) | Bytes per arrival: lowdb | Bytes per arrival: PostgreSQL | Commit CPU median (max): lowdb | Commit CPU median (max): PostgreSQL |',
    '|---|---|---|---|---|---|---|',
    ...pg.map((p) => {
      const l = lowdb.get(p.units);
      return `| ${p.units.toLocaleString('en-US')} | ${l ? ms(l.openMs) : '-'} | ${ms(p.openMs)} (${ms(p.openCpuMs)}) | ${l ? kb(l.bytesPerArrival) : '-'} | ${kb(p.bytesPerArrival)} | ${l ? `${ms(l.cpuMsMedian)} (${ms(l.cpuMsMax)})` : '-'} | ${ms(p.cpuMsMedian)} (${ms(p.cpuMsMax)}) |`;
    }),
    ...httpArrivalsTable(),
  ];
  return lines.join('\n');
}

/** Benchmark 8 of `npm run bench` (bench/arrivals.ts) with the runtime's store in a fresh PostgreSQL schema. */
async function httpArrivalsRow(server: PostgresServer): Promise<ArrivalsResult> {
  const fixture = await cachedArrivalsFixture(FIXTURE_SEED);
  return measureHttpArrivals({ fixture, storeUrl: `${server.url}?schema=arrivals_http` });
}

/** The HTTP arrivals on PostgreSQL (bench/results-postgres.json) next to lowdb's (bench/results.json). */
function httpArrivalsTable(): string[] {
  const read = (file: string): ArrivalsResult | undefined => {
    if (!existsSync(file)) return undefined;
    const saved = JSON.parse(readFileSync(file, 'utf8')) as {
      arrivals?: ArrivalsResult;
      httpArrivals?: ArrivalsResult;
    };
    return file === RESULTS_FILE ? saved.httpArrivals : saved.arrivals;
  };
  const pg = read(RESULTS_FILE);
  if (pg === undefined) return [];
  const lowdb = read(BENCH_RESULTS_FILE);
  const cell = (a: ArrivalsResult | undefined, f: (a: ArrivalsResult) => string) => (a === undefined ? '-' : f(a));
  const row = (figure: string, f: (a: ArrivalsResult) => string) => `| ${figure} | ${cell(lowdb, f)} | ${f(pg)} |`;
  return [
    '',
    `**Arrivals through the HTTP task server** (\`--only arrivals\`): benchmark 8 of \`npm run bench\` ([its method](#8-arrivals-through-the-task-server), \`bench/arrivals.ts\`) with the runtime's store in PostgreSQL: the fixture's store (${pg.units.toLocaleString('en-US')} units, ${pg.arrivedBefore.toLocaleString('en-US')} workers in) copied record for record into a fresh schema of the same server, then ${pg.arrivals.toLocaleString('en-US')} arrivals, ${pg.clients} at once; after a SIGKILL of the runtime, ${pg.durableAgents.toLocaleString('en-US')} of the answered agents were in the database. Targets: at least 300 arrivals/s, p95 at most 1 s. 1-minute load average ${lowdb === undefined ? '' : `${lowdb.load1m.before} → ${lowdb.load1m.after} (lowdb, ${lowdb.machine.date}), `}${pg.load1m.before} → ${pg.load1m.after} (PostgreSQL, ${pg.machine.date}); the two cores were shared with other work, and the database server ran on them too.`,
    '',
    '| Figure | lowdb | PostgreSQL |',
    '|---|---|---|',
    row('arrivals per second', (a) => a.perSecond.toFixed(0)),
    row('latency: p50 / p95 / max', (a) => `${formatMs(a.p50Ms)} / ${formatMs(a.p95Ms)} / ${formatMs(a.maxMs)}`),
    row(
      "runtime's CPU per arrival (share of a core)",
      (a) => `${a.runtimeCpuMsPerArrival.toFixed(1)} ms (${(a.runtimeCoreShare * 100).toFixed(0)}%)`,
    ),
    row(
      'store commits: count, mean wall time, records each',
      (a) => `${a.commits.count}, ${formatMs(a.commits.meanMs)}, ${a.commits.records.toFixed(0)}`,
    ),
    row('`registerAgent`, mean wall time', (a) => formatMs(a.registerAgentMeanMs)),
    row('resume before the arrivals', (a) => formatMs(a.resumeMs)),
  ];
}

async function main(): Promise<void> {
  if (args.includes('--render')) {
    // Rewrites the docs section from bench/results-postgres.json, measuring nothing.
    const saved = JSON.parse(readFileSync(RESULTS_FILE, 'utf8')) as {
      arrivals: {
        measuredAt: string;
        machine: ReturnType<typeof machineInfo>;
        load1m: number;
        sizes: ArrivalMeasure[];
      };
    };
    const a = saved.arrivals;
    writeSection('bench:postgres', renderSection(a.sizes, a.machine, a.load1m, a.measuredAt), {
      before: '<!-- chaos:start -->',
    });
    process.stdout.write('rewrote the PostgreSQL section of docs/benchmarks.md\n');
    return;
  }
  const started = await startPostgres();
  if (!started.ok) {
    console.log(`SKIPPED: the PostgreSQL benchmark needs a PostgreSQL server: ${started.why}`);
    process.exitCode = 1;
    return;
  }
  const server = started.server;
  const previous = existsSync(RESULTS_FILE)
    ? (JSON.parse(readFileSync(RESULTS_FILE, 'utf8')) as Record<string, unknown>)
    : {};
  if (PARTS.has('arrivals')) {
    try {
      previous.httpArrivals = await httpArrivalsRow(server);
    } catch (err) {
      await server.stop();
      throw err;
    }
    writeFileSync(RESULTS_FILE, `${JSON.stringify(previous, null, 2)}\n`);
    if (!PARTS.has('backend') && !PARTS.has('store')) {
      await server.stop();
      const saved = previous.arrivals as
        | { measuredAt: string; machine: ReturnType<typeof machineInfo>; load1m: number; sizes: ArrivalMeasure[] }
        | undefined;
      if (saved !== undefined)
        writeSection('bench:postgres', renderSection(saved.sizes, saved.machine, saved.load1m, saved.measuredAt), {
          before: '<!-- chaos:start -->',
        });
      process.stdout.write(`wrote ${RESULTS_FILE} and docs/benchmarks.md\n`);
      return;
    }
  }
  let arrivals: ArrivalMeasure[] | undefined;
  if (!PARTS.has('backend')) {
    try {
      arrivals = await arrivalRows(server);
    } finally {
      await server.stop();
    }
    const machine = machineInfo();
    const measuredAt = new Date().toISOString();
    writeFileSync(
      RESULTS_FILE,
      `${JSON.stringify({ ...previous, arrivals: { measuredAt, machine, load1m: load1m(), sizes: arrivals } }, null, 2)}\n`,
    );
    writeSection('bench:postgres', renderSection(arrivals, machine, load1m(), measuredAt), {
      before: '<!-- chaos:start -->',
    });
    process.stdout.write(`wrote ${RESULTS_FILE} and docs/benchmarks.md\n`);
    return;
  }
  /** The server process of the connection hitstate opened last (poolSize 1), to read its CPU. */
  const newestBackendPid = async (): Promise<number | undefined> =>
    (
      await server.sql(
        "SELECT pid FROM pg_stat_activity WHERE application_name = 'hitstate' AND state = 'idle' ORDER BY backend_start DESC LIMIT 1",
      )
    ).rows[0]?.pid;
  const results: SizeResult[] = [];
  try {
    const schema = 'bench';
    const writer = await openPostgresBackend({ url: server.url, environment: ENV, schema, poolSize: 1 });
    let filled = 0;
    for (const units of [...SIZES].sort((a, b) => a - b)) {
      const t0 = Date.now();
      await fill(writer, filled, units);
      filled = units;
      await server.sql('VACUUM ANALYZE bench.records');
      process.stdout.write(`filled ${units} units in ${Date.now() - t0} ms\n`);
      const size = await server.sql(
        `SELECT count(*)::int AS n, (sum(octet_length(json)) / 1e6)::float AS mb FROM bench.records WHERE run = '${RUN}'`,
      );

      // 1. Commits of arrivals, one connection so its server process can be measured.
      const committer = await openPostgresBackend({ url: server.url, environment: ENV, schema, poolSize: 1 });
      await committer.commit({ changes: arrival(0), audit: [] });
      const serverPid = await newestBackendPid();
      for (let n = 1; n <= 30; n++)
        await committer.commit({ changes: arrival(n), audit: [{ runId: RUN, json: '{}' }] });
      const latencies: number[] = [];
      const cpu0 = process.cpuUsage();
      const server0 = serverPid ? processCpuMs(serverPid) : 0;
      for (let n = 0; n < COMMITS; n++) {
        const changes = arrival(1_000 + n + units);
        const t = process.hrtime.bigint();
        await committer.commit({ changes, audit: [{ runId: RUN, json: JSON.stringify({ op: 'registerAgent', n }) }] });
        latencies.push(Number(process.hrtime.bigint() - t) / 1e6);
      }
      const clientCpuMs = cpuMsSince(cpu0) / COMMITS;
      const serverCpuMs = serverPid ? (processCpuMs(serverPid) - server0) / COMMITS : null;
      await committer.close();

      // 2. Open and load the whole store, a fresh backend each time (as a new process would).
      const loads: number[] = [];
      const opens: number[] = [];
      let loadCpu = 0;
      let loadServerCpu = 0;
      for (let i = 0; i < LOADS; i++) {
        const c0 = process.cpuUsage();
        const t = Date.now();
        const reader = await openPostgresBackend({ url: server.url, environment: ENV, schema, poolSize: 1 });
        opens.push(Date.now() - t);
        const readerPid = await newestBackendPid();
        const s0 = readerPid ? processCpuMs(readerPid) : 0;
        const image = await reader.load();
        loads.push(Date.now() - t);
        if (readerPid) loadServerCpu += processCpuMs(readerPid) - s0;
        loadCpu += cpuMsSince(c0);
        const loaded = [...(image.runs.get(RUN)?.values() ?? [])].reduce((s, m) => s + m.size, 0);
        if (loaded < units * 7) throw new Error(`load read ${loaded} records, expected at least ${units * 7}`);
        await reader.close();
      }
      const result: SizeResult = {
        units,
        records: size.rows[0]?.n,
        jsonMB: Math.round((size.rows[0]?.mb ?? 0) * 10) / 10,
        commit: {
          samples: COMMITS,
          medianMs: round(median(latencies)),
          p95Ms: round(percentile(latencies, 95)),
          clientCpuMs: round(clientCpuMs),
          serverCpuMs: serverCpuMs === null ? null : round(serverCpuMs),
        },
        load: {
          medianMs: median(loads),
          minMs: Math.min(...loads),
          openMedianMs: median(opens),
          clientCpuMs: Math.round(loadCpu / LOADS),
          serverCpuMs: Math.round(loadServerCpu / LOADS),
        },
      };
      results.push(result);
      process.stdout.write(`${JSON.stringify(result)}\n`);
    }
    await writer.close();
    if (PARTS.has('store')) arrivals = await arrivalRows(server);
  } finally {
    await server.stop();
  }
  const machine = machineInfo();
  process.stdout.write(`\nPostgreSQL backend (${describeMachine(machine)}, load ${load1m().toFixed(1)})\n`);
  process.stdout.write(
    '| units | records (JSON MB) | commit 8 rec ~20 KB: median / p95 | client CPU / commit | server CPU / commit | open + load: median (min) | of which open | load CPU client / server |\n',
  );
  process.stdout.write('|---|---|---|---|---|---|---|---|\n');
  for (const r of results) {
    process.stdout.write(
      `| ${r.units.toLocaleString('en-US')} | ${r.records.toLocaleString('en-US')} (${r.jsonMB}) | ${r.commit.medianMs} / ${r.commit.p95Ms} ms | ${r.commit.clientCpuMs} ms | ${r.commit.serverCpuMs ?? 'n/a'} ms | ${r.load.medianMs} (${r.load.minMs}) ms | ${r.load.openMedianMs} ms | ${r.load.clientCpuMs} / ${r.load.serverCpuMs} ms |\n`,
    );
  }
  const file = RESULTS_FILE;
  const measuredAt = new Date().toISOString();
  writeFileSync(
    file,
    `${JSON.stringify(
      {
        ...previous,
        measuredAt,
        machine,
        load1m: load1m(),
        results,
        ...(arrivals === undefined ? {} : { arrivals: { measuredAt, machine, load1m: load1m(), sizes: arrivals } }),
      },
      null,
      2,
    )}\n`,
  );
  if (arrivals !== undefined)
    writeSection('bench:postgres', renderSection(arrivals, machine, load1m(), measuredAt), {
      before: '<!-- chaos:start -->',
    });
  process.stdout.write(`wrote ${file}\n`);
}

const round = (x: number) => Math.round(x * 100) / 100;

await main();
