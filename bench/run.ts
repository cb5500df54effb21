// `npm run bench`: every benchmark of docs/benchmarks.md, each in its own child process, with its
// target and PASS / MISS. Writes bench/results.json and rewrites the generated part of
// docs/benchmarks.md (between `<!-- bench:run:start -->` and `<!-- bench:run:end -->`); the
// datastore benchmark (bench/store.bench.ts) runs as one of them and rewrites its own section.
//
//   1. status-sync cost        bench/sync-cost.ts         100, 1,000, 10,000 live units vs Mephisto's GetHIT per unit
//   2. detection latency       bench/detection-latency.ts submit / missed submit / return, at three poll intervals
//   3. launch under throttling bench/launch-throttled.ts  1,000 HITs at 5 requests/s, burst 10
//   4. scale in one process    bench/scale.ts             10,000 units with agents: memory, CPU per cycle, resume
//  4b. scale at 100,000 units  bench/scale.ts             the same at 100,000 units (issue 17's row), once
//   5. store                   bench/store.bench.ts       (the datastore engineer's)
//   6. dashboard               bench/dashboard.ts         the run page and live feed at 10,000 units, the runtime syncing
//   7. serve                   bench/serve.bench.ts       the platform: signed GetHIT, ListHITs, CreateHIT; start on 100,000 HITs
//   8. arrivals                bench/arrivals.ts          200 workers at once through the HTTP task server, 10,000 units
//
// Benchmarks 1-3 measure call counts and virtual time, which other work on the machine cannot
// change, so they run while the 10,000-unit fixture is built in another process; 4 and 5 measure
// CPU, memory and wall time, and run alone afterwards.
//
// A watchdog (bench/support/child.ts) stops a benchmark child that shows no progress for three
// minutes (no output, no MTurk call on its simulator, no CPU used), works twenty minutes without
// output or MTurk calls, or runs past its deadline; the row is
// reported STALLED with what the child was doing, a child that fails is reported FAILED, and the
// bench goes on with the others.
//
// Exits 1 when a target is missed or a benchmark gave no figure (after writing the figures).
//
// Usage: npm run bench [-- --only sync,detection,launch,scale,scale100k,store,dashboard,serve,arrivals] [-- --fresh]
//   --only    runs the named benchmarks and prints their verdicts without writing results or docs;
//             except the rows measured on their own (sync, detection, scale, scale100k, arrivals),
//             whose figures it puts into bench/results.json (the other rows' kept, each such row
//             marked as measured alone, with its date) and the docs section, as --render does
//   --fresh   rebuilds the run fixtures instead of reusing the cached ones (bench/support/fixture-cache.ts)
//   --render  measures nothing: rewrites the docs section from bench/results.json (after a change of the tables)
import { spawn } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RUNTIME_DEFAULTS } from '../src/runtime/core/options.js';
import {
  ARRIVAL_CLIENTS,
  ARRIVAL_OPEN_HITS,
  ARRIVAL_UNITS,
  type ArrivalsArgs,
  type ArrivalsResult,
  openShape,
} from './arrivals.js';
import type { DashboardBenchArgs, DashboardBenchResult } from './dashboard.js';
import type { DetectionArgs, DetectionResult } from './detection-latency.js';
import type { LaunchThrottledArgs, LaunchThrottledResult } from './launch-throttled.js';
import type { ScaleArgs, ScaleResult } from './scale.js';
import type { SyncCostArgs, SyncCostResult } from './sync-cost.js';
import { BenchStalled, type ChildOptions, runInChild } from './support/child.js';
import { writeSection } from './support/docs-file.js';
import { cachedFixture } from './support/fixture-cache.js';
import { load1m, machineInfo } from './support/machine.js';
import { formatCount, formatMs } from './support/numbers.js';
import { BENCH_SECTION, renderBenchSection, type BenchResults, type StoreResults } from './support/report.js';
import type { RunFixture } from './support/run-fixture.js';
import { evaluate } from './support/verdicts.js';
import type { IncompleteStatus } from './support/targets.js';
import { verdictLine } from './support/targets.js';

const root = fileURLToPath(new URL('..', import.meta.url));
// The SDK's notice that releases after January 2027 need Node 22 would repeat in every runtime created here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const SEED = 1;
const SYNC_SIZES = [100, 1_000] as const;
const SCALE_UNITS = 10_000;
const SCALE_100K_UNITS = 100_000;
const DETECTION_POLLS_MS = [2_000, RUNTIME_DEFAULTS.activePollMs, 30_000] as const;
const DETECTION_SAMPLES = 15;
const LAUNCH: LaunchThrottledArgs = { units: 1_000, ratePerSecond: 5, burst: 10, seed: 3 };
const SCALE_REPETITIONS = 3;
/** One repetition at 100,000 units: each takes minutes. */
const SCALE_100K_REPETITIONS = 1;
/** Building a fixture may take long (100,000 units: tens of minutes the first time); the stall watchdog still applies. */
const FIXTURE_DEADLINE_MS = 3 * 3_600_000;
const ALL = ['sync', 'detection', 'launch', 'scale', 'scale100k', 'store', 'dashboard', 'serve', 'arrivals'] as const;
type BenchName = (typeof ALL)[number];

function selection(): Set<BenchName> {
  const args = process.argv.slice(2);
  const i = args.indexOf('--only');
  if (i < 0) return new Set(ALL);
  const names = (args[i + 1] ?? '').split(',').filter(Boolean);
  const unknown = names.filter((n) => !(ALL as readonly string[]).includes(n));
  if (names.length === 0 || unknown.length > 0)
    throw new Error(`--only takes a comma-separated list of ${ALL.join(', ')}; got ${JSON.stringify(args[i + 1])}`);
  return new Set(names as BenchName[]);
}

const say = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

/** Runs the datastore benchmark as its engineer wrote it, then reads the figures it wrote. */
async function runStoreBench(): Promise<StoreResults> {
  const script = join(root, 'bench', 'store.bench.ts');
  const file = join(root, 'bench', 'results-store.json');
  const started = Date.now();
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script], {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    });
    child.on('error', reject);
    child.on('close', (c) => resolve(c));
  });
  // The store benchmark exits 1 when one of its targets is missed; its figures are still written.
  if (statSync(file).mtimeMs < started)
    throw new Error(`the datastore benchmark exited with ${code} without writing ${file}`);
  return JSON.parse(readFileSync(file, 'utf8')) as StoreResults;
}

/** Runs the platform benchmark (`bench/serve.bench.ts`), which prints its verdicts; its exit code. */
async function runServeBench(fresh: boolean): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(root, 'bench', 'serve.bench.ts'), ...(fresh ? ['--fresh'] : [])],
      {
        stdio: ['ignore', 'inherit', 'inherit'],
        env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
      },
    );
    child.on('error', reject);
    child.on('close', (c) => resolve(c));
  });
}

/** `--render`: the docs section again from the figures of the last run. */
function render(): void {
  const measured = JSON.parse(readFileSync(join(root, 'bench', 'results.json'), 'utf8')) as BenchResults;
  const verdicts = evaluate(measured);
  writeFileSync(
    join(root, 'bench', 'results.json'),
    `${JSON.stringify({ ...measured, targets: verdicts }, null, 2)}\n`,
  );
  writeSection(BENCH_SECTION, renderBenchSection(measured, verdicts), { before: '<!-- bench:store:start -->' });
  say(`rewrote docs/benchmarks.md from bench/results.json (measured ${measured.machine.date})`);
}

/**
 * Rows that run on their own fixtures in their own processes, so `--only` may measure them again
 * alone after a change: their results' field and the label prefix of their load averages
 * (report.ts `loads`; the arrivals row records its machine and load itself).
 */
const APART_ROWS = [
  { row: 'syncCost', prefix: '1.' },
  { row: 'detection', prefix: '2.' },
  { row: 'scale', prefix: '4.' },
  { row: 'scale100k', prefix: '4b.' },
  { row: 'arrivals', prefix: null },
] as const;

/**
 * `--only` with rows of {@link APART_ROWS}: their figures (with their fixtures, load averages and
 * the machine and date they were measured on) into bench/results.json, the other rows' kept, and
 * the docs section rendered again. Returns the rows written.
 */
function mergeApart(measured: BenchResults): string[] {
  const file = join(root, 'bench', 'results.json');
  const { targets: _old, ...kept } = JSON.parse(readFileSync(file, 'utf8')) as BenchResults & { targets?: unknown };
  let next: BenchResults = kept;
  const merged: string[] = [];
  for (const { row, prefix } of APART_ROWS) {
    const value = measured[row];
    if (value === undefined || (Array.isArray(value) && value.length === 0)) continue;
    merged.push(row);
    if (prefix === null) {
      next = { ...next, arrivals: measured.arrivals };
      continue;
    }
    const loadAverage = Object.fromEntries(Object.entries(next.loadAverage).filter(([k]) => !k.startsWith(prefix)));
    for (const [k, v] of Object.entries(measured.loadAverage)) if (k.startsWith(prefix)) loadAverage[k] = v;
    next = { ...next, [row]: value, loadAverage, measuredApart: { ...next.measuredApart, [prefix]: measured.machine } };
  }
  if (merged.length === 0) return merged;
  // The fixtures these rows ran on, as the run recorded them (a full run's other fixtures kept).
  next = {
    ...next,
    fixtures: { ...next.fixtures, ...measured.fixtures },
    fixtureBuilds: { ...next.fixtureBuilds, ...measured.fixtureBuilds },
  };
  writeFileSync(file, `${JSON.stringify(next, null, 2)}\n`);
  render();
  return merged;
}

async function main(): Promise<void> {
  if (process.argv.includes('--render')) {
    render();
    return;
  }
  const only = selection();
  const full = only.size === ALL.length;
  const started = performance.now();
  const machine = machineInfo();
  const loadAverage: Record<string, number> = { start: load1m() };
  const fresh = process.argv.includes('--fresh');
  const incomplete: Array<{ label: string; status: IncompleteStatus; reason: string }> = [];
  /** One benchmark child; undefined (and a STALLED or FAILED row) when it gave no figure. */
  const child = async <A, R>(
    label: string,
    module: string,
    args: A,
    options: ChildOptions = {},
  ): Promise<R | undefined> => {
    loadAverage[label] = load1m();
    say(`- ${label} (load ${loadAverage[label]})`);
    try {
      return await runInChild<A, R>(module, args, options);
    } catch (err) {
      const stalled = err instanceof BenchStalled;
      const reason = stalled
        ? `${err.reason}; ${err.doing}`
        : (err as Error).message.trim().split('\n').slice(0, 12).join('\n');
      incomplete.push({ label, status: stalled ? 'STALLED' : 'FAILED', reason });
      say(`  ${stalled ? 'STALLED' : 'FAILED'}: ${reason}`);
      return undefined;
    }
  };
  const fixtureBuilds: Record<string, 'cached' | 'built'> = {};
  /** A cached run fixture; with `open`, that many of its HITs are left without a worker. */
  const fixture = async (units: number, note = '', open = 0): Promise<RunFixture | undefined> => {
    let built: RunFixture | undefined;
    const what =
      open > 0 ? `${formatCount(units)} units, ${formatCount(open)} HITs open` : `${formatCount(units)} assigned units`;
    const { fixture: f, cached } = await cachedFixture(
      units,
      SEED,
      fresh,
      async (dir) => {
        built = await child<{ dir: string; units: number; seed: number; arrived?: number }, RunFixture>(
          `fixture: ${what}${note}`,
          'build-fixture',
          { dir, units, seed: SEED, ...(open > 0 ? { arrived: units - open } : {}) },
          { deadlineMs: FIXTURE_DEADLINE_MS, nodeFlags: ['--max-old-space-size=8192'] },
        );
        return built;
      },
      open > 0 ? openShape(open) : undefined,
    );
    if (f === undefined) return undefined;
    fixtureBuilds[open > 0 ? `${units}-open${open}` : units] = cached ? 'cached' : 'built';
    if (cached) say(`- fixture: ${what} (cached, ${f.dir})`);
    return f;
  };
  /** A benchmark that needs a fixture which could not be built is reported, not run. */
  const withFixture = async <R>(
    f: RunFixture | undefined,
    label: string,
    run: (f: RunFixture) => Promise<R | undefined>,
  ): Promise<R | undefined> => {
    if (f !== undefined) return run(f);
    incomplete.push({
      label,
      status: 'FAILED',
      reason: 'not run: its fixture could not be built (see the fixture row)',
    });
    return undefined;
  };
  const results: { -readonly [K in keyof BenchResults]?: BenchResults[K] } = { machine, seed: SEED, fixtureBuilds };
  const needBig = only.has('sync') || only.has('scale') || only.has('dashboard');
  const big = needBig ? fixture(SCALE_UNITS, ' (in the background)') : undefined;
  // Awaited later; a failure must not count as unhandled meanwhile.
  big?.catch(() => undefined);

  const fixtures: Record<string, RunFixture> = {};
  const sync: SyncCostResult[] = [];
  const syncRow = async (units: number, f: RunFixture | undefined): Promise<void> => {
    const label = `1. status-sync cost, ${units} live units`;
    const r = await withFixture(f, label, (fx) =>
      child<SyncCostArgs, SyncCostResult>(
        label,
        'sync-cost',
        { fixture: fx },
        { compiled: true, nodeFlags: ['--expose-gc'] },
      ),
    );
    if (r !== undefined) sync.push(r);
  };
  if (only.has('sync')) {
    for (const units of SYNC_SIZES) {
      const f = await fixture(units);
      if (f !== undefined) fixtures[units] = f;
      await syncRow(units, f);
    }
  }
  if (only.has('detection')) {
    const detection: DetectionResult[] = [];
    for (const activePollMs of DETECTION_POLLS_MS) {
      const r = await child<DetectionArgs, DetectionResult>(
        `2. detection latency, poll every ${activePollMs / 1000} s`,
        'detection-latency',
        { activePollMs, samples: DETECTION_SAMPLES, seed: SEED },
      );
      if (r !== undefined) detection.push(r);
    }
    if (detection.length > 0)
      results.detection = {
        defaultPollMs: RUNTIME_DEFAULTS.activePollMs,
        samples: DETECTION_SAMPLES,
        byInterval: detection,
      };
  }
  if (only.has('launch')) {
    results.launchThrottled = await child<LaunchThrottledArgs, LaunchThrottledResult>(
      `3. launch ${LAUNCH.units} HITs at ${LAUNCH.ratePerSecond} requests/s`,
      'launch-throttled',
      LAUNCH,
    );
  }
  const bigFixture = await big;
  if (bigFixture !== undefined) {
    fixtures[SCALE_UNITS] = bigFixture;
    const b = bigFixture.build;
    say(
      `  (${formatCount(SCALE_UNITS)}-unit fixture ${fixtureBuilds[SCALE_UNITS]}; building it took: launch ${formatMs(b.launchWallMs)} wall, ${formatMs(b.launchCpuMs)} CPU; registerAgent at full size ${formatMs(b.registerMedianMs)})`,
    );
  }
  if (only.has('sync')) {
    await syncRow(SCALE_UNITS, bigFixture);
    results.syncCost = sync;
  }
  const scaleRows = async (units: number, f: RunFixture | undefined, repetitions: number, heading: string) => {
    const samples: ScaleResult[] = [];
    for (let k = 0; k < repetitions; k++) {
      const label = `${heading}, ${formatCount(units)} units with agents (${k + 1} of ${repetitions})`;
      const r = await withFixture(f, label, (fx) =>
        child<ScaleArgs, ScaleResult>(label, 'scale', { fixture: fx }, { nodeFlags: ['--expose-gc'], compiled: true }),
      );
      if (r !== undefined) samples.push(r);
    }
    return samples;
  };
  if (only.has('scale')) results.scale = await scaleRows(SCALE_UNITS, bigFixture, SCALE_REPETITIONS, '4. scale');
  if (only.has('scale100k')) {
    // Built after the CPU and memory figures at 10,000 units, never beside them; cached afterwards.
    const huge = await fixture(SCALE_100K_UNITS);
    if (huge !== undefined) fixtures[SCALE_100K_UNITS] = huge;
    results.scale100k = await scaleRows(SCALE_100K_UNITS, huge, SCALE_100K_REPETITIONS, '4b. scale');
  }
  if (Object.keys(fixtures).length > 0) results.fixtures = fixtures;
  if (only.has('dashboard')) {
    const label = `6. dashboard, ${SCALE_UNITS} units, the runtime syncing`;
    const d = await withFixture(bigFixture, label, (fx) =>
      child<DashboardBenchArgs, DashboardBenchResult>(label, 'dashboard', { fixture: fx }),
    );
    if (d !== undefined) {
      results.dashboard = d;
      say(
        `  run page: first load ${formatMs(d.firstLoadMs)} (${Math.round(d.firstLoadBytes / 1024)} KiB), next loads median ${formatMs(d.nextLoadsMedianMs)}, sorted and searched ${formatMs(d.searchedLoadMs)}`,
      );
      say(
        `  live feed: ${d.messageCpuMs.toFixed(1)} ms CPU per message + ${d.fragmentCpuMs.toFixed(1)} ms per table fragment (${formatMs(d.fragmentWallMs)} wall); sync cycle CPU ${formatMs(d.cycleCpuMsWithout)} without, ${formatMs(d.cycleCpuMsWith)} with the page and feed (${d.messages} messages); standalone re-read ${formatMs(d.standaloneRereadCpuMs)} CPU`,
      );
    }
  }
  if (only.has('arrivals')) {
    // After the fixture builds and the other CPU benchmarks: it measures throughput and CPU.
    const label = `8. arrivals, ${ARRIVAL_CLIENTS} at once through the task server, ${formatCount(ARRIVAL_UNITS)} units`;
    const f = await fixture(ARRIVAL_UNITS, '', ARRIVAL_OPEN_HITS);
    const a = await withFixture(f, label, (fx) =>
      child<ArrivalsArgs, ArrivalsResult>(label, 'arrivals', {
        fixture: fx,
        clients: ARRIVAL_CLIENTS,
        alsoAtMTurkRate: true,
      }),
    );
    if (a !== undefined) {
      results.arrivals = a;
      say(
        `  ${formatCount(a.arrivals)} arrivals: ${a.perSecond.toFixed(0)}/s, p50 ${formatMs(a.p50Ms)}, p95 ${formatMs(a.p95Ms)}, max ${formatMs(a.maxMs)}; runtime CPU ${a.runtimeCpuMsPerArrival.toFixed(1)} ms per arrival (${(a.runtimeCoreShare * 100).toFixed(0)}% of a core)`,
      );
      const m = a.atMTurkRate;
      if (m !== undefined)
        say(
          `  at MTurk's rate (arrivals bound without MTurk's check past the burst): ${m.perSecond.toFixed(0)}/s, p95 ${formatMs(m.p95Ms)}; runtime CPU ${m.runtimeCpuMsPerArrival.toFixed(1)} ms per arrival`,
        );
    }
  }
  if (only.has('store')) {
    loadAverage['5. store'] = load1m();
    say(`- 5. store (load ${loadAverage['5. store']})`);
    try {
      results.store = await runStoreBench();
    } catch (err) {
      incomplete.push({ label: '5. store', status: 'FAILED', reason: (err as Error).message });
      say(`  FAILED: ${(err as Error).message}`);
    }
  }
  // The platform benchmark writes its own figures (bench/results-serve.json, docs/serve.md) and verdicts.
  let serveMissed = false;
  if (only.has('serve')) {
    loadAverage['6. serve'] = load1m();
    say(`- 6. serve (load ${loadAverage['6. serve']})`);
    serveMissed = (await runServeBench(fresh)) !== 0;
  }
  loadAverage.end = load1m();
  const wallSeconds = (performance.now() - started) / 1000;
  const complete = {
    ...results,
    ...(incomplete.length > 0 ? { incomplete } : {}),
    loadAverage,
    wallSeconds,
  } as BenchResults;
  const verdicts = evaluate(complete);
  say('');
  for (const row of verdicts) say(verdictLine(row));
  const missed = verdicts.filter((r) => !r.pass).length;
  say(
    `\n${verdicts.length - missed} of ${verdicts.length} targets met, ${missed} missed; ${wallSeconds.toFixed(0)} s in all`,
  );
  if (missed > 0 || serveMissed) process.exitCode = 1;
  if (!full) {
    const written = mergeApart(complete);
    say(
      written.length > 0
        ? `(--only: only the ${written.join(', ')} rows written to bench/results.json and docs/benchmarks.md)`
        : '(--only: results and docs not written)',
    );
    return;
  }
  writeFileSync(
    join(root, 'bench', 'results.json'),
    `${JSON.stringify({ ...complete, targets: verdicts }, null, 2)}\n`,
  );
  writeSection(BENCH_SECTION, renderBenchSection(complete, verdicts), { before: '<!-- bench:store:start -->' });
  say('wrote bench/results.json and docs/benchmarks.md');
}

await main();
