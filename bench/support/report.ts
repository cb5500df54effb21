// The generated part of docs/benchmarks.md for `npm run bench`: a summary of every target, then
// one section per benchmark with its method, its table and the machine it ran on.
import { type ArrivalsResult, arrivalsSection } from '../arrivals.js';
import type { DetectionResult } from '../detection-latency.js';
import { DETECTION_KINDS } from '../detection-latency.js';
import type { DashboardBenchResult } from '../dashboard.js';
import type { LaunchThrottledResult } from '../launch-throttled.js';
import type { ScaleResult } from '../scale.js';
import type { SyncCostResult } from '../sync-cost.js';
import { describeMachine, type MachineInfo } from './machine.js';
import { formatCount, formatMs, median, percentile } from './numbers.js';
import type { RunFixture } from './run-fixture.js';
import type { IncompleteStatus, TargetRow } from './targets.js';
import {
  callBound,
  CYCLE_CPU_TARGET_MS,
  LAUNCH_SLACK,
  RATIO_AT_UNITS,
  RATIO_TARGET,
  CYCLE_CPU_100K_TARGET_MS,
  DASHBOARD_FIRST_LOAD_TARGET_MS,
  DASHBOARD_SHARE_TARGET,
  RESUME_100K_TARGET_MS,
  RESUME_TARGET_MS,
  RSS_100K_TARGET_MB,
  RSS_TARGET_MB,
  settledRssMb,
  SYNC_CPU_AT_UNITS,
  SYNC_CPU_EXCLUDING_NETWORK_TARGET_MS,
  SYNC_CPU_TARGET_MS,
} from './verdicts.js';

export const BENCH_SECTION = 'bench:run';

/** What bench/store.bench.ts writes to bench/results-store.json (the parts read here). */
export interface StoreResults {
  readonly units: number;
  readonly machine: {
    readonly cpu: string;
    readonly cores: number;
    readonly node: string;
    readonly date: string;
    readonly loadAverage1m: readonly number[];
  };
  readonly targets: ReadonlyArray<{
    readonly figure: string;
    readonly value: number;
    readonly target: number;
    readonly unit: string;
    readonly pass: boolean;
  }>;
}

/** Everything `npm run bench` measured (bench/results.json, plus the verdicts). */
export interface BenchResults {
  readonly machine: MachineInfo;
  readonly seed: number;
  /** 1-minute load average at the start, before each benchmark (by its label) and at the end. */
  readonly loadAverage: Readonly<Record<string, number>>;
  readonly wallSeconds: number;
  readonly fixtures?: Readonly<Record<string, RunFixture>>;
  /** Whether each fixture (by units) was built by this run or reused from the cache. */
  readonly fixtureBuilds?: Readonly<Record<string, 'cached' | 'built'>>;
  readonly syncCost?: SyncCostResult[];
  readonly detection?: {
    readonly defaultPollMs: number;
    readonly samples: number;
    readonly byInterval: readonly DetectionResult[];
  };
  readonly launchThrottled?: LaunchThrottledResult;
  readonly scale?: readonly ScaleResult[];
  /** Issue 17's row: the same measurement at 100,000 units. */
  readonly scale100k?: readonly ScaleResult[];
  readonly store?: StoreResults;
  readonly dashboard?: DashboardBenchResult;
  /** Issue 16's row: concurrent arrivals through the HTTP task server (bench/arrivals.ts). */
  readonly arrivals?: ArrivalsResult;
  /**
   * Rows measured after the rest, alone (`--only scale,scale100k`), by the label prefix their
   * load averages use: the date and machine they were measured on. Absent for a full run.
   */
  readonly measuredApart?: Readonly<Record<string, MachineInfo>>;
  /** Benchmarks that gave no figure: the watchdog stopped them (STALLED) or they failed. */
  readonly incomplete?: ReadonlyArray<{
    readonly label: string;
    readonly status: IncompleteStatus;
    readonly reason: string;
  }>;
}

const verdict = (pass: boolean): string => (pass ? 'PASS' : '**MISS**');
const sec = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
const sec2 = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
/** MTurk's documented default rate: how long a cycle of `calls` takes at 5 calls per second. */
const atMTurkRate = (calls: number): string => sec((calls / 5) * 1000);

/** Where and when a table was measured, with the 1-minute load average before each of its processes. */
function loads(r: BenchResults, prefix: string): string {
  const values = Object.entries(r.loadAverage)
    .filter(([k]) => k.startsWith(prefix))
    .map(([, v]) => v);
  const m = r.measuredApart?.[prefix] ?? r.machine;
  const apart = r.measuredApart?.[prefix] === undefined ? '' : ' (measured alone, after the other rows)';
  return `measured on ${m.cpu} (${m.cores} cores), Node ${m.node}, ${m.date}${apart}; 1-minute load average ${values.length === 0 ? 'n/a' : values.join(', ')}`;
}

function summary(r: BenchResults, verdicts: readonly TargetRow[]): string[] {
  const missed = verdicts.filter((v) => !v.pass).length;
  return [
    '## Results of `npm run bench`',
    '',
    `Machine: ${describeMachine(r.machine)}. Whole run ${Math.round(r.wallSeconds)} s; 1-minute load average ${r.loadAverage.start} at the start, ${r.loadAverage.end} at the end (other engineers' tests were running on the same machine; each table gives the load before its benchmark). Figures are in \`bench/results.json\`; this section is rewritten by \`npm run bench\`.`,
    '',
    `${verdicts.length - missed} of ${verdicts.length} targets met, ${missed} missed (see [the notes](#notes-on-the-figures) for why).`,
    '',
    '| Benchmark | Figure | Result | Target | |',
    '|---|---|---|---|---|',
    ...verdicts.map(
      (v) => `| ${v.benchmark} | ${v.figure} | ${v.result} | ${v.target} | ${v.status ?? verdict(v.pass)} |`,
    ),
  ];
}

function syncSection(r: BenchResults, rows: readonly SyncCostResult[]): string[] {
  return [
    '### 1. Status-sync cost',
    '',
    "A run of N units, every unit assigned to a worker who is in the task, is built by the runtime against `hitstate sim` (`bench/support/run-fixture.ts`), then resumed in a fresh process against `hitstate sim` restarted on its state. Before each of five cycles 1% of the workers submit (task server, then MTurk) and one returns the HIT; hitstate then runs one status-sync cycle, and every MTurk call the runtime makes until it is idle again (the listing, and any GetHIT, ListAssignmentsForHIT or other call the news leads to) is read from the server's `/_sim/stats`. Mephisto's pattern is replayed literally on the same server through the same `@aws-sdk/client-mturk`: one `GetHITCommand` per unit that is launched or assigned with a bound HIT (its `MTurkUnit.get_status()` in the tracking loop), counted by the same `/_sim/stats`.",
    '',
    `Table ${loads(r, '1.')} (one per size).`,
    '',
    "| Live units | hitstate, calls per cycle (worst / median of 5) | first cycle after resume | Mephisto's pattern, calls per cycle | fewer calls | bound ceil(N/100)+2 | one cycle at 5 calls/s: hitstate / Mephisto | CPU per cycle, median: all / the listing alone / excluding network / the store's write | |",
    '|---|---|---|---|---|---|---|---|---|',
    ...rows.map((s) => {
      const ops = Object.entries(
        s.cycles.reduce<Record<string, number>>((acc, c) => {
          for (const [op, n] of Object.entries(c.calls)) acc[op] = Math.max(acc[op] ?? 0, n);
          return acc;
        }, {}),
      )
        .map(([op, n]) => `${op} ≤ ${n}`)
        .join(', ');
      // Results written before the CPU figures existed have none.
      const cpu =
        s.cycleCpuMedianMs === undefined
          ? ''
          : `${formatMs(s.cycleCpuMedianMs)} / ${formatMs(s.listingCpuMedianMs)} / ${formatMs(s.cycleCpuExcludingNetworkMedianMs)} / ${s.storeWriteCpuMedianMs === undefined ? '' : formatMs(s.storeWriteCpuMedianMs)}`;
      return `| ${formatCount(s.liveUnits)} | ${s.hitstateMax} / ${s.hitstateMedian} (${ops}) | ${s.firstCycle.total} | ${formatCount(s.mephisto.total)} | ${(s.mephisto.total / s.hitstateMax).toFixed(1)}× | ${callBound(s.liveUnits)} | ${atMTurkRate(s.hitstateMax)} / ${atMTurkRate(s.mephisto.total)} | ${cpu} | ${verdict(s.hitstateMax <= callBound(s.liveUnits))} |`;
    }),
    '',
    `Target at ${formatCount(RATIO_AT_UNITS)} live units: at most ceil(${RATIO_AT_UNITS}/100) + 2 = ${callBound(RATIO_AT_UNITS)} calls per cycle and at least ${RATIO_TARGET} times fewer than Mephisto's pattern. At MTurk's default rate of 5 calls per second, one Mephisto cycle at 1,000 assigned units takes longer than its 10 s poll period, so its polls queue behind each other and crowd out launches and reviews; hitstate's cycle stays a few seconds at 10,000. CPU is \`process.cpuUsage()\` (user + system) of a cycle from \`syncNow\` until the runtime is idle and the store has written what changed; the listing alone (the same pages through the same gateway) and the per-HIT calls alone (a submission's reconcile asks ListAssignmentsForHIT; measured as the same call for 100 HITs, per call, times the calls the cycle made) are measured apart and subtracted for "excluding network"; the store's write of what the cycle changed (\`store.flush()\`, rewriting every shard that holds a changed record) is shown apart, since on a loaded machine it varies most. Targets at ${formatCount(SYNC_CPU_AT_UNITS)} live units: at most ${SYNC_CPU_EXCLUDING_NETWORK_TARGET_MS} ms excluding network and ${SYNC_CPU_TARGET_MS} ms in all (medians of 5 cycles).`,
  ];
}

function detectionSection(r: BenchResults, d: NonNullable<BenchResults['detection']>): string[] {
  const lines = [
    '### 2. Detection latency',
    '',
    `The runtime's test world (\`test/support/sim-world.ts\`): simulator, runtime and task server on one \`VirtualClock\`, workers acting on MTurk and through the task server as the wrapper does. For each sample a worker accepts and starts the task, waits a seeded random time within one poll period (so the event falls anywhere in the cycle), then acts; the figure is the virtual time from the act on MTurk to the unit's new state: *submit* (task server, then MTurk) until the unit is \`completed\`; *missed submit* (only MTurk got the form) until the unit is \`completed\` with the data reconciled from MTurk's answer; *return* until the agent is \`returned\` and the unit back in the pool. ${d.samples} samples of each kind per poll interval; the default interval is ${sec(d.defaultPollMs)}. Table ${loads(r, '2.')}.`,
    '',
    '| Active poll interval | Event | median | 95th percentile | worst | target | |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const run of d.byInterval) {
    const isDefault = run.activePollMs === d.defaultPollMs;
    for (const kind of DETECTION_KINDS) {
      const xs = run.latenciesMs[kind];
      const worst = Math.max(...xs);
      lines.push(
        `| ${sec(run.activePollMs)}${isDefault ? ' (default)' : ''} | ${kind} | ${sec2(median(xs))} | ${sec2(percentile(xs, 95))} | ${sec2(worst)} | ${isDefault ? `≤ ${sec2(run.activePollMs)}` : ''} | ${isDefault ? verdict(worst <= run.activePollMs) : ''} |`,
      );
    }
  }
  const ratio = (kind: (typeof DETECTION_KINDS)[number]): string =>
    d.byInterval.map((run) => (Math.max(...run.latenciesMs[kind]) / run.activePollMs).toFixed(2)).join(', ');
  lines.push(
    '',
    `How latency depends on the poll interval P (the same seeded phases at every interval): nothing is learnt between two cycles, so a submit is seen by the next cycle, between 0 and P after it (worst case as a fraction of P at ${d.byInterval.map((x) => sec(x.activePollMs)).join(', ')}: ${ratio('submit')}); a missed submit is reconciled in that same cycle (${ratio('missed submit')}). A return is confirmed in two phases (a first Assignable observation, then a confirmation strictly later), which costs up to one more period: ${ratio('return')}. Latency scales linearly with P; its cost in calls scales with 1/P (benchmark 1).`,
  );
  return lines;
}

function launchSection(r: BenchResults, l: LaunchThrottledResult): string[] {
  return [
    '### 3. Launch under throttling',
    '',
    `${formatCount(l.units)} HITs launched by \`runtime.launchRun\` against the simulator throttling at 5 requests/s with a burst of 10, the runtime with its default governor (5 calls/s, burst 10), both on one \`VirtualClock\`. Failed launches are \`command.failed\` events of launch commands plus \`CreateHITWithHITType\` calls whose outcome was not ok; duplicates are read from the server's own state (each HIT's \`RequesterAnnotation\` names its unit). Table ${loads(r, '3.')}.`,
    '',
    '| Figure | Result | Target | |',
    '|---|---|---|---|',
    `| virtual time from \`launchRun\` to the last unit launched | ${sec(l.virtualMs)} | ≤ ${sec(l.boundMs * (1 + LAUNCH_SLACK))} (${formatCount(l.units)} / 5 s + 10%) | ${verdict(l.virtualMs <= l.boundMs * (1 + LAUNCH_SLACK))} |`,
    `| failed launches | ${l.failedLaunches + l.failedCreateCalls} | 0 | ${verdict(l.failedLaunches + l.failedCreateCalls === 0)} |`,
    `| HITs on the server / units with more than one | ${formatCount(l.hits)} / ${l.duplicateUnits} | ${formatCount(l.units)} / 0 | ${verdict(l.duplicateUnits === 0 && l.hits === l.units)} |`,
    `| calls the server saw | ${Object.entries(l.calls)
      .map(([op, n]) => `${op} ${formatCount(n)}`)
      .join(', ')} | | |`,
    `| calls the server throttled | ${l.throttledBySimulator} | | |`,
    `| wall time / CPU time of the whole launch | ${formatMs(l.wallMs)} / ${formatMs(l.cpuMs)} | | |`,
  ];
}

/** What differs between the scale tables at 10,000 and 100,000 units. */
interface ScaleSpec {
  readonly heading: string;
  /** The prefix of the load-average labels of its processes. */
  readonly loads: string;
  readonly repetitions: string;
  readonly rssMb: number;
  readonly cycleCpuMs: number;
  readonly resumeMs: number;
  /** `<` (below) or `≤` (at most), as the issue states the targets. */
  readonly sign: '<' | '≤';
}

const SCALE_10K: ScaleSpec = {
  heading: '### 4. Scale in one process',
  loads: '4.',
  repetitions: 'Three repetitions, each in a fresh process; the table gives the median and the three samples.',
  rssMb: RSS_TARGET_MB,
  cycleCpuMs: CYCLE_CPU_TARGET_MS,
  resumeMs: RESUME_TARGET_MS,
  sign: '≤',
};

const SCALE_100K: ScaleSpec = {
  heading: '### 4b. Scale at 100,000 units',
  loads: '4b.',
  repetitions:
    'The same measurement as benchmark 4 on a fixture ten times larger (1,000 pages of listing per cycle, 1,000 workers submitting before each), once: one repetition already takes minutes.',
  rssMb: RSS_100K_TARGET_MB,
  cycleCpuMs: CYCLE_CPU_100K_TARGET_MS,
  resumeMs: RESUME_100K_TARGET_MS,
  sign: '≤',
};

function scaleSection(r: BenchResults, s: readonly ScaleResult[], spec: ScaleSpec = SCALE_10K): string[] {
  const meets = (x: number, limit: number): boolean => (spec.sign === '<' ? x < limit : x <= limit);
  const m = (f: (x: ScaleResult) => number): number => median(s.map(f));
  const all = (f: (x: ScaleResult) => number, show: (x: number) => string): string =>
    s.map((x) => show(f(x))).join(', ');
  const mb = (x: number): string => `${x.toFixed(0)} MB`;
  const units = formatCount(s[0]!.units);
  const big = r.fixtures?.[String(s[0]!.units)];
  const rows = [
    `| resident memory holding the run, after the sync cycles and a GC | ${mb(m(settledRssMb))} | ${all(settledRssMb, mb)} | ${spec.sign} ${spec.rssMb} MB | ${verdict(meets(m(settledRssMb), spec.rssMb))} |`,
    `| CPU per sync cycle excluding network (cycle minus its listing and its per-HIT calls, each measured alone) | ${formatMs(m((x) => x.cycleCpuExcludingNetworkMedianMs))} | ${all((x) => x.cycleCpuExcludingNetworkMedianMs, formatMs)} | ${spec.sign} ${spec.cycleCpuMs} ms | ${verdict(
      meets(
        m((x) => x.cycleCpuExcludingNetworkMedianMs),
        spec.cycleCpuMs,
      ),
    )} |`,
    `| resume: \`createRuntime\` (opens the store) + \`resume()\`, every actor restored | ${formatMs(m((x) => x.resumeWallMs))} | ${all((x) => x.resumeWallMs, formatMs)} | ${spec.sign} ${formatMs(spec.resumeMs)} | ${verdict(
      meets(
        m((x) => x.resumeWallMs),
        spec.resumeMs,
      ),
    )} |`,
    `| of which opening the store | ${formatMs(m((x) => x.openStoreWallMs))} | ${all((x) => x.openStoreWallMs, formatMs)} | | |`,
    `| CPU of the resume | ${formatMs(m((x) => x.resumeCpuMs))} | ${all((x) => x.resumeCpuMs, formatMs)} | | |`,
    `| drift check that \`resume()\` starts (MTurk listing, then comparing; not part of the resume figure) | ${formatMs(m((x) => x.driftWallMs))} | ${all((x) => x.driftWallMs, formatMs)} | | |`,
    ...(s.every((x) => x.laterCycleCpuExcludingNetworkMedianMs !== undefined)
      ? [
          `| the same, cycles 6 to 10 (after the memory reading and its GC; the first cycles after a resume also warm the JIT up) | ${formatMs(m((x) => x.laterCycleCpuExcludingNetworkMedianMs ?? 0))} | ${all((x) => x.laterCycleCpuExcludingNetworkMedianMs ?? 0, formatMs)} | | |`,
        ]
      : []),
    `| CPU per sync cycle, network client side included | ${formatMs(m((x) => x.cycleCpuMedianMs))} | ${all((x) => x.cycleCpuMedianMs, formatMs)} | | |`,
    `| CPU of the cycle's listing alone (SDK, HTTP, parsing ${formatCount(s[0]!.units)} HITs) | ${formatMs(m((x) => x.listingCpuMedianMs))} | ${all((x) => x.listingCpuMedianMs, formatMs)} | | |`,
    ...(s.every((x) => x.perHitCallCpuMs !== undefined)
      ? [
          `| per-HIT calls per cycle (a submission's reconcile: ListAssignmentsForHIT), and the CPU of one alone | ${median(s.flatMap((x) => x.perHitCalls ?? []))} × ${m((x) => x.perHitCallCpuMs ?? 0).toFixed(2)} ms | ${all(
            (x) => x.perHitCallCpuMs ?? 0,
            (v) => `${v.toFixed(2)} ms`,
          )} | | |`,
        ]
      : []),
    `| CPU of the first cycle after the resume (every HIT is news) | ${formatMs(m((x) => x.firstCycleCpuMs))} | ${all((x) => x.firstCycleCpuMs, formatMs)} | | |`,
    `| wall time per sync cycle | ${formatMs(m((x) => median(x.cycleWallMs)))} | ${all((x) => median(x.cycleWallMs), formatMs)} | | |`,
    `| resident memory before the runtime was created (Node, the SDK, the runtime's compiled code) | ${mb(m((x) => x.rssBeforeMb))} | ${all((x) => x.rssBeforeMb, mb)} | | |`,
    `| resident memory right after the resume, after a GC (pages of the resume's peak not yet returned) | ${mb(m((x) => x.rssAfterResumeMb))} | ${all((x) => x.rssAfterResumeMb, mb)} | | |`,
    `| V8 heap used after the resume | ${mb(m((x) => x.heapUsedMb))} | ${all((x) => x.heapUsedMb, mb)} | | |`,
    `| peak resident memory (garbage included) | ${mb(m((x) => x.peakRssMb))} | ${all((x) => x.peakRssMb, mb)} | | |`,
  ];
  const build =
    big === undefined
      ? []
      : [
          '',
          `Building the fixture (not a target; ${r.fixtureBuilds?.[String(s[0]!.units)] === 'cached' ? 'done by an earlier run, whose figures these are, and reused from the cache' : 'done by this run while benchmarks 1-3 ran on the other core'}): \`launchRun\` of ${units} units took ${formatMs(big.build.launchWallMs)} wall and ${formatMs(big.build.launchCpuMs)} CPU with an unthrottled governor; with the run at full size, one \`registerAgent\` (a worker's arrival through the task server, flushed to disk before the page gets its task) took ${formatMs(big.build.registerMedianMs)} wall and ${formatMs(big.build.registerCpuMsEach)} CPU (median of ${big.build.registerSample}, one at a time).`,
        ];
  return [
    spec.heading,
    '',
    `${units} units, each assigned to a worker in the task (${units} agents), resumed from a run fixture (built as benchmark 1's are) in a fresh process started with \`--expose-gc\` that runs the runtime compiled, as the \`hitstate\` bin does (\`tsconfig.bench.json\`; not through the tsx loader, which adds about 34 MB); \`hitstate sim\` runs in its own process, so the process measured holds only the runtime. ${spec.repetitions} CPU is \`process.cpuUsage()\` (user + system) of one status-sync cycle, from \`syncNow\` until the runtime is idle and the store has written what changed, with 1% of the workers submitting and one returning before each cycle. Waiting on the network is never CPU, but the client side of the network is: the SDK signing requests, Node's HTTP, and parsing a page of JSON per 100 HITs into HIT records. It is measured apart (the same listing through the same gateway, alone, and the same per-HIT call alone times the per-HIT calls the cycle made: a submission's reconcile asks ListAssignmentsForHIT) and subtracted for the target figure. Table ${loads(r, spec.loads)}.`,
    '',
    '| Figure | median | samples | target | |',
    '|---|---|---|---|---|',
    ...rows,
    ...build,
  ];
}

function dashboardSection(r: BenchResults, d: DashboardBenchResult): string[] {
  const pct = (x: number): string => `${(x * 100).toFixed(2)}%`;
  return [
    '### 6. Dashboard',
    '',
    `The ${formatCount(d.units)}-unit fixture resumed against \`hitstate sim\`, syncing cycle after cycle (1% of the workers submitting and one returning before each, as in benchmark 1) while the embedded dashboard serves it on a loopback port (\`bench/dashboard.ts\`). Table ${loads(r, '6. dashboard')}.`,
    '',
    '| Figure | Result | Target | |',
    '|---|---|---|---|',
    `| run page, first load while a cycle runs | ${formatMs(d.firstLoadMs)} (${Math.round(d.firstLoadBytes / 1024)} KiB) | < ${formatMs(DASHBOARD_FIRST_LOAD_TARGET_MS)} | ${verdict(d.firstLoadMs < DASHBOARD_FIRST_LOAD_TARGET_MS)} |`,
    `| CPU the page and its live feed add to the syncing run, share of a core | ${pct(d.liveShare)} | < ${pct(DASHBOARD_SHARE_TARGET)} | ${verdict(d.liveShare < DASHBOARD_SHARE_TARGET)} |`,
    `| next 10 loads, each while a cycle runs (median); sorted and searched | ${formatMs(d.nextLoadsMedianMs)}; ${formatMs(d.searchedLoadMs)} | | |`,
    `| one live message; one unit-table fragment (CPU, wall) | ${d.messageCpuMs.toFixed(1)} ms; ${d.fragmentCpuMs.toFixed(1)} ms, ${formatMs(d.fragmentWallMs)} | | |`,
    `| sync cycle CPU without / with the page and feed (${d.messages} messages) | ${formatMs(d.cycleCpuMsWithout)} / ${formatMs(d.cycleCpuMsWith)} | | |`,
    `| the standalone dashboard's re-read of the store (CPU) | ${formatMs(d.standaloneRereadCpuMs)} | | |`,
  ];
}

function storeSection(_r: BenchResults, store: StoreResults): string[] {
  return [
    '### 5. Store',
    '',
    `The datastore benchmark (\`bench/store.bench.ts\`, the store engineer's) at ${formatCount(store.units)} units, run by \`npm run bench\` as one of its benchmarks; its method, all its figures and file sizes are in [the Datastore section](#datastore) below. Table measured on ${store.machine.cpu} (${store.machine.cores} cores), Node ${store.machine.node}, ${store.machine.date}; 1-minute load average before its five measuring processes ${store.machine.loadAverage1m.join(', ')}.`,
    '',
    '| Figure | Result | Target | |',
    '|---|---|---|---|',
    ...store.targets.map(
      (t) =>
        `| ${t.figure} | ${formatMs(t.value)} ${t.unit.replace(/^ms /, '')} | < ${formatMs(t.target)} | ${verdict(t.pass)} |`,
    ),
  ];
}

/** The Markdown between the `bench:run` markers. */
export function renderBenchSection(r: BenchResults, verdicts: readonly TargetRow[]): string {
  const parts: string[][] = [summary(r, verdicts)];
  if (r.syncCost !== undefined) parts.push(syncSection(r, r.syncCost));
  if (r.detection !== undefined) parts.push(detectionSection(r, r.detection));
  if (r.launchThrottled !== undefined) parts.push(launchSection(r, r.launchThrottled));
  if (r.scale !== undefined && r.scale.length > 0) parts.push(scaleSection(r, r.scale));
  if (r.scale100k !== undefined && r.scale100k.length > 0) parts.push(scaleSection(r, r.scale100k, SCALE_100K));
  if (r.store !== undefined) parts.push(storeSection(r, r.store));
  if (r.dashboard !== undefined) parts.push(dashboardSection(r, r.dashboard));
  if (r.arrivals !== undefined) parts.push(arrivalsSection(r.arrivals));
  if (r.incomplete !== undefined && r.incomplete.length > 0)
    parts.push([
      '### Benchmarks that gave no figure',
      '',
      'A benchmark child that shows no progress for three minutes (no output, no MTurk call on its simulator, no CPU used), works 20 minutes without output or MTurk calls, or runs past its deadline is stopped by the watchdog of `bench/support/child.ts` and reported here with what it was doing; one that failed is reported with its error. The bench goes on without it.',
      '',
      '| Benchmark | | What it was doing |',
      '|---|---|---|',
      ...r.incomplete.map(
        (x) => `| ${x.label} | ${x.status} | ${x.reason.replace(/\|/g, '\\|').replace(/\n/g, ' ')} |`,
      ),
    ]);
  return parts.map((p) => p.join('\n')).join('\n\n');
}
