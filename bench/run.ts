// `npm run bench`: every benchmark of docs/benchmarks.md, each in its own child process, with its
// target and PASS / MISS. Writes bench/results.json and rewrites the generated part of
// docs/benchmarks.md (between `<!-- bench:run:start -->` and `<!-- bench:run:end -->`); the
// datastore benchmark (bench/store.bench.ts) runs as one of them and rewrites its own section.
//
//   1. status-sync cost        bench/sync-cost.ts         100, 1,000, 10,000 live units vs Mephisto's GetHIT per unit
//   2. detection latency       bench/detection-latency.ts submit / missed submit / return, at three poll intervals
//   3. launch under throttling bench/launch-throttled.ts  1,000 HITs at 5 requests/s, burst 10
//   4. scale in one process    bench/scale.ts             10,000 units with agents: memory, CPU per cycle, resume
//   5. store                   bench/store.bench.ts       (the datastore engineer's)
//   6. dashboard               bench/dashboard.ts         the run page and live feed at 10,000 units, the runtime syncing
//   7. serve                   bench/serve.bench.ts       the platform: signed GetHIT, ListHITs, CreateHIT; start on 100,000 HITs
//
// Benchmarks 1-3 measure call counts and virtual time, which other work on the machine cannot
// change, so they run while the 10,000-unit fixture is built in another process; 4 and 5 measure
// CPU, memory and wall time, and run alone afterwards.
//
// Exits 1 when a target is missed (after writing the figures).
//
// Usage: npm run bench [-- --only sync,detection,launch,scale,store,serve] [-- --fresh]
//   --only    runs the named benchmarks and prints their verdicts without writing results or docs
//   --fresh   rebuilds the run fixtures instead of reusing the cached ones (bench/support/fixture-cache.ts)
//   --render  measures nothing: rewrites the docs section from bench/results.json (after a change of the tables)
import { spawn } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RUNTIME_DEFAULTS } from '../src/runtime/core/options.js';
import type { DashboardBenchArgs, DashboardBenchResult } from './dashboard.js';
import type { DetectionArgs, DetectionResult } from './detection-latency.js';
import type { LaunchThrottledArgs, LaunchThrottledResult } from './launch-throttled.js';
import type { ScaleArgs, ScaleResult } from './scale.js';
import type { SyncCostArgs, SyncCostResult } from './sync-cost.js';
import { runInChild } from './support/child.js';
import { writeSection } from './support/docs-file.js';
import { cachedFixture } from './support/fixture-cache.js';
import { load1m, machineInfo } from './support/machine.js';
import { formatCount, formatMs } from './support/numbers.js';
import { BENCH_SECTION, renderBenchSection, type BenchResults, type StoreResults } from './support/report.js';
import type { RunFixture } from './support/run-fixture.js';
import { evaluate } from './support/verdicts.js';
import { verdictLine } from './support/targets.js';

const root = fileURLToPath(new URL('..', import.meta.url));
// The SDK's notice that releases after January 2027 need Node 22 would repeat in every runtime created here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const SEED = 1;
const SYNC_SIZES = [100, 1_000] as const;
const SCALE_UNITS = 10_000;
const DETECTION_POLLS_MS = [2_000, RUNTIME_DEFAULTS.activePollMs, 30_000] as const;
const DETECTION_SAMPLES = 15;
const LAUNCH: LaunchThrottledArgs = { units: 1_000, ratePerSecond: 5, burst: 10, seed: 3 };
const SCALE_REPETITIONS = 3;
const ALL = ['sync', 'detection', 'launch', 'scale', 'store', 'dashboard', 'serve'] as const;
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
  const child = async <A, R>(label: string, module: string, args: A, nodeFlags?: readonly string[]): Promise<R> => {
    loadAverage[label] = load1m();
    say(`- ${label} (load ${loadAverage[label]})`);
    return runInChild<A, R>(module, args, nodeFlags === undefined ? {} : { nodeFlags });
  };
  const fixtureBuilds: Record<string, 'cached' | 'built'> = {};
  const fixture = async (units: number, note = ''): Promise<RunFixture> => {
    const { fixture: f, cached } = await cachedFixture(units, SEED, fresh, (dir) =>
      child(`fixture: ${formatCount(units)} assigned units${note}`, 'build-fixture', { dir, units, seed: SEED }),
    );
    fixtureBuilds[units] = cached ? 'cached' : 'built';
    if (cached) say(`- fixture: ${formatCount(units)} assigned units (cached, ${f.dir})`);
    return f;
  };
  const results: { -readonly [K in keyof BenchResults]?: BenchResults[K] } = { machine, seed: SEED, fixtureBuilds };
  const needBig = only.has('sync') || only.has('scale') || only.has('dashboard');
  const big = needBig ? fixture(SCALE_UNITS, ' (in the background)') : undefined;
  big?.catch(() => undefined);

  const fixtures: Record<string, RunFixture> = {};
  if (only.has('sync')) {
    const sync: SyncCostResult[] = [];
    for (const units of SYNC_SIZES) {
      fixtures[units] = await fixture(units);
      sync.push(
        await child<SyncCostArgs, SyncCostResult>(`1. status-sync cost, ${units} live units`, 'sync-cost', {
          fixture: fixtures[units]!,
        }),
      );
    }
    results.syncCost = sync;
  }
  if (only.has('detection')) {
    const detection: DetectionResult[] = [];
    for (const activePollMs of DETECTION_POLLS_MS) {
      detection.push(
        await child<DetectionArgs, DetectionResult>(
          `2. detection latency, poll every ${activePollMs / 1000} s`,
          'detection-latency',
          { activePollMs, samples: DETECTION_SAMPLES, seed: SEED },
        ),
      );
    }
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
  if (big !== undefined) {
    fixtures[SCALE_UNITS] = await big;
    results.fixtures = fixtures;
    const b = fixtures[SCALE_UNITS]!.build;
    say(
      `  (${formatCount(SCALE_UNITS)}-unit fixture ${fixtureBuilds[SCALE_UNITS]}; building it took: launch ${formatMs(b.launchWallMs)} wall, ${formatMs(b.launchCpuMs)} CPU; registerAgent at full size ${formatMs(b.registerMedianMs)})`,
    );
  }
  if (only.has('sync')) {
    results.syncCost!.push(
      await child<SyncCostArgs, SyncCostResult>(`1. status-sync cost, ${SCALE_UNITS} live units`, 'sync-cost', {
        fixture: fixtures[SCALE_UNITS]!,
      }),
    );
  }
  if (only.has('scale')) {
    const samples: ScaleResult[] = [];
    for (let k = 0; k < SCALE_REPETITIONS; k++) {
      samples.push(
        await child<ScaleArgs, ScaleResult>(
          `4. scale, ${SCALE_UNITS} units with agents (${k + 1} of ${SCALE_REPETITIONS})`,
          'scale',
          { fixture: fixtures[SCALE_UNITS]! },
          ['--expose-gc'],
        ),
      );
    }
    results.scale = samples;
  }
  // 6. The dashboard's own verdicts (its figures are not in verdicts.ts's tables).
  const dashboardVerdicts: string[] = [];
  if (only.has('dashboard')) {
    const d = await child<DashboardBenchArgs, DashboardBenchResult>(
      `6. dashboard, ${SCALE_UNITS} units, the runtime syncing`,
      'dashboard',
      { fixture: fixtures[SCALE_UNITS]! },
    );
    (results as Record<string, unknown>).dashboard = d;
    const pct = (x: number): string => `${(x * 100).toFixed(2)}%`;
    say(
      `  run page: first load ${formatMs(d.firstLoadMs)} (${Math.round(d.firstLoadBytes / 1024)} KiB), next loads median ${formatMs(d.nextLoadsMedianMs)}, sorted and searched ${formatMs(d.searchedLoadMs)}`,
    );
    say(
      `  live feed: ${d.messageCpuMs.toFixed(1)} ms CPU per message + ${d.fragmentCpuMs.toFixed(1)} ms per table fragment (${formatMs(d.fragmentWallMs)} wall); sync cycle CPU ${formatMs(d.cycleCpuMsWithout)} without, ${formatMs(d.cycleCpuMsWith)} with the page and feed (${d.messages} messages); standalone re-read ${formatMs(d.standaloneRereadCpuMs)} CPU`,
    );
    dashboardVerdicts.push(
      `${d.firstLoadMs < 1000 ? 'PASS' : 'MISS'}  dashboard: run page first load at ${formatCount(SCALE_UNITS)} units while syncing ${formatMs(d.firstLoadMs)} (target < 1 s)`,
      `${d.liveShare < 0.05 ? 'PASS' : 'MISS'}  dashboard: CPU added to the syncing run ${pct(d.liveShare)} of a core (a live message a second, the table as the page asks for it) (target < 5%)`,
    );
  }
  if (only.has('store')) {
    loadAverage['5. store'] = load1m();
    say(`- 5. store (load ${loadAverage['5. store']})`);
    results.store = await runStoreBench();
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
  const complete = { ...results, loadAverage, wallSeconds } as BenchResults;
  const verdicts = evaluate(complete);
  say('');
  for (const row of verdicts) say(verdictLine(row));
  for (const line of dashboardVerdicts) say(line);
  const missed = verdicts.filter((r) => !r.pass).length + dashboardVerdicts.filter((l) => l.startsWith('MISS')).length;
  const total = verdicts.length + dashboardVerdicts.length;
  say(`\n${total - missed} of ${total} targets met, ${missed} missed; ${wallSeconds.toFixed(0)} s in all`);
  if (missed > 0 || serveMissed) process.exitCode = 1;
  if (!full) {
    say('(--only: results and docs not written)');
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
