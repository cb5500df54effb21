// `npm run chaos`: the reliability campaign of docs/benchmarks.md.
//   kill       50 seeded runs killed with SIGKILL in every phase and resumed (bench/chaos/kill.ts)
//   faults     20 seeded runs on a server injecting 10% faults and dropped connections, tightly throttled
//   bad input  malformed, forged and oversized input to the task server, MTurk and the CLI while a run is live
// Each on both store backends: lowdb files (every seed) and PostgreSQL (a subset of the kill and
// fault seeds, on a real server started by test/support/postgres.ts; skipped, and said so, when
// PostgreSQL cannot be had). Every run is checked against the invariants (bench/chaos/invariants.ts); writes
// bench/results-chaos.json and the campaign's section of docs/benchmarks.md. Exits 1 when an
// invariant broke, a run could not finish or a bad input got an undocumented answer.
//
// Usage: npm run chaos [-- --only kill,faults,bad-input] [-- --seeds 1,2,3] [-- --scenarios store-return]
//                      [-- --backend lowdb|postgres|both]
//   --only       runs the named campaigns and prints their counts without writing results or docs
//   --seeds      kill and fault seeds to run instead of 1-50 and 1-20 (implies not writing results)
//   --scenarios  runs only the named kill scenarios (bench/chaos/kill.ts), nothing else (implies not writing results)
//   --backend    the store backends to run on (default both; lowdb alone implies not writing results;
//                postgres alone, with no --only/--seeds/--scenarios, replaces only the PostgreSQL half)
//   --render  runs nothing: rewrites the docs section from bench/results-chaos.json
//   HITSTATE_CHAOS_JOBS=N   runs at once (default 3)
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runBadInput, type BadInputReport } from './chaos/bad-input.js';
import { KILL_SCENARIOS, runKill, runKillScenario, type KillScenario } from './chaos/kill.js';
import { CHAOS_SECTION, renderChaosSection } from './chaos/report.js';
import { runScenario } from './chaos/scenario.js';
import { type BackendRuns, summarize, summarizeBackend, type ChaosResults } from './chaos/summary.js';
import { startPostgres } from '../test/support/postgres.js';
import { writeSection } from './support/docs-file.js';
import { load1m, machineInfo } from './support/machine.js';
import { inPool } from './support/pool.js';

const root = fileURLToPath(new URL('..', import.meta.url));
// The SDK's notice that releases after January 2027 need Node 22 would repeat in every runtime created here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const KILL_SEEDS = Array.from({ length: 50 }, (_, i) => i + 1);
const KILL_UNITS = 4;
/** Seeds of each named kill scenario of issue 13 (bench/chaos/kill.ts, KILL_SCENARIOS). */
const SCENARIO_SEEDS = [1, 2, 3];
const FAULT_SEEDS = Array.from({ length: 20 }, (_, i) => i + 1);
const FAULT_UNITS = 8;
const FAULT_RATE = 0.1;
const TIGHT_THROTTLE = { ratePerSecond: 1, burst: 2 } as const;
const BAD_INPUT_SEED = 101;
const BAD_INPUT_UNITS = 6;
const ALL = ['kill', 'faults', 'bad-input'] as const;
const BACKENDS = ['lowdb', 'postgres'] as const;
/**
 * The seeds run on PostgreSQL too, to keep the whole campaign within about four minutes: kill
 * seeds 1-10 (every phase twice over, a 25-hour downtime, random kills), one seed per named
 * scenario, fault seeds 1-5.
 */
const PG_KILL_SEEDS = Array.from({ length: 10 }, (_, i) => i + 1);
const PG_SCENARIO_SEEDS = [1];
const PG_FAULT_SEEDS = Array.from({ length: 5 }, (_, i) => i + 1);

function option(name: string): string | undefined {
  const args = process.argv.slice(2);
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

const say = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

async function main(): Promise<void> {
  if (process.argv.includes('--render')) {
    const results = JSON.parse(readFileSync(join(root, 'bench', 'results-chaos.json'), 'utf8')) as ChaosResults;
    writeSection(CHAOS_SECTION, renderChaosSection(results, summarize(results)));
    say(`rewrote docs/benchmarks.md from bench/results-chaos.json (measured ${results.machine.date})`);
    return;
  }
  const scenarios = option('--scenarios')?.split(',');
  const unknownScenarios = scenarios?.filter((s) => !(KILL_SCENARIOS as readonly string[]).includes(s)) ?? [];
  if (unknownScenarios.length > 0)
    throw new Error(
      `--scenarios takes a comma-separated list of ${KILL_SCENARIOS.join(', ')}; got ${unknownScenarios.join(', ')}`,
    );
  const only = new Set((option('--only') ?? (scenarios !== undefined ? 'kill' : ALL.join(','))).split(','));
  const unknown = [...only].filter((c) => !(ALL as readonly string[]).includes(c));
  if (unknown.length > 0)
    throw new Error(`--only takes a comma-separated list of ${ALL.join(', ')}; got ${unknown.join(', ')}`);
  const seeds = option('--seeds')?.split(',').map(Number);
  if (seeds?.some((s) => !Number.isInteger(s) || s < 1))
    throw new Error(`--seeds takes positive integers, got ${option('--seeds')}`);
  const full =
    only.size === ALL.length &&
    seeds === undefined &&
    scenarios === undefined &&
    (option('--backend') ?? 'both') === 'both';
  const jobs = Math.max(1, Number(process.env.HITSTATE_CHAOS_JOBS ?? 3));
  const started = performance.now();
  const loadAverage: Record<string, number> = { start: load1m() };

  const backendOption = option('--backend') ?? 'both';
  if (!['lowdb', 'postgres', 'both'].includes(backendOption))
    throw new Error(`--backend takes lowdb, postgres or both; got ${backendOption}`);
  const backends = backendOption === 'both' ? BACKENDS : ([backendOption] as const);

  /** The kill and fault campaigns on one backend; `storeOf` names each run's store (undefined: a temp directory). */
  const campaigns = async (
    label: string,
    seedSets: { kill: readonly number[]; scenarios: readonly number[]; faults: readonly number[] },
    storeOf: (run: string) => string | undefined,
  ): Promise<BackendRuns> => {
    const killSeeds = only.has('kill') && scenarios === undefined ? (seeds ?? seedSets.kill) : [];
    say(`- ${label} kill: ${killSeeds.length} runs of ${KILL_UNITS} units, ${jobs} at a time`);
    const killRuns = await inPool(killSeeds, jobs, async (seed) => {
      const run = await runKill(seed, KILL_UNITS, storeOf(`k_${seed}`));
      say(
        `  seed ${seed}: ${run.kills.map((k) => `${k.operation}/${k.mode}`).join(', ') || 'no kill landed'}; ${run.restarts} restarts; ${run.problems.length === 0 ? 'ok' : `BROKEN: ${run.problems.join('; ')}`}`,
      );
      return run;
    });

    const scenarioRuns = only.has('kill')
      ? KILL_SCENARIOS.filter((s) => scenarios?.includes(s) ?? true).flatMap((scenario) =>
          (seeds ?? seedSets.scenarios).map((seed) => ({ scenario, seed }) as { scenario: KillScenario; seed: number }),
        )
      : [];
    say(
      `- ${label} kill scenarios: ${(scenarios ?? KILL_SCENARIOS).join(', ')}, ${scenarioRuns.length} runs of ${KILL_UNITS} units`,
    );
    const namedRuns = await inPool(scenarioRuns, jobs, async ({ scenario, seed }) => {
      const run = await runKillScenario(
        scenario,
        seed,
        KILL_UNITS,
        storeOf(`s_${scenario.replace(/-/g, '_')}_${seed}`),
      );
      say(
        `  ${scenario} seed ${seed}: ${run.kills.map((k) => `${k.operation}/${k.mode}`).join(', ') || 'no kill landed'}; ${run.restarts} restarts; ${run.problems.length === 0 ? 'ok' : `BROKEN: ${run.problems.join('; ')}`}`,
      );
      return run;
    });
    killRuns.push(...namedRuns);

    const faultSeeds = only.has('faults') && scenarios === undefined ? (seeds ?? seedSets.faults) : [];
    say(
      `- ${label} faults: ${faultSeeds.length} runs of ${FAULT_UNITS} units, ${FAULT_RATE * 100}% faults, throttled at ${TIGHT_THROTTLE.ratePerSecond}/s burst ${TIGHT_THROTTLE.burst}`,
    );
    const faultRuns = await inPool(faultSeeds, jobs, async (seed) => {
      const storeDir = storeOf(`f_${seed}`);
      const run = await runScenario({
        seed,
        units: FAULT_UNITS,
        sim: { faultRate: FAULT_RATE, throttle: TIGHT_THROTTLE },
        ...(storeDir === undefined ? {} : { storeDir }),
      });
      const broken = [...run.violations.map((v) => `${v.invariant}: ${v.detail}`), ...run.problems];
      say(
        `  seed ${seed}: ${run.faults + run.dropped} faults, ${run.throttled} throttled; ${broken.length === 0 ? 'ok' : `BROKEN: ${broken.join('; ')}`}`,
      );
      return run;
    });
    return {
      kill: { units: KILL_UNITS, runs: killRuns },
      faults: { units: FAULT_UNITS, faultRate: FAULT_RATE, throttle: TIGHT_THROTTLE, runs: faultRuns },
    };
  };

  const empty = (): BackendRuns => ({
    kill: { units: KILL_UNITS, runs: [] },
    faults: { units: FAULT_UNITS, faultRate: FAULT_RATE, throttle: TIGHT_THROTTLE, runs: [] },
  });
  const lowdb = backends.includes('lowdb')
    ? await campaigns('lowdb', { kill: KILL_SEEDS, scenarios: SCENARIO_SEEDS, faults: FAULT_SEEDS }, () => undefined)
    : empty();
  let postgres: ChaosResults['postgres'];
  if (backends.includes('postgres') && (only.has('kill') || only.has('faults'))) {
    const started = performance.now();
    const pg = await startPostgres();
    if (!pg.ok) {
      // Never silently green: the results and the docs say the PostgreSQL half did not run, and why.
      say(`SKIPPED postgres: ${pg.why}`);
      if (pg.installed) process.exitCode = 1;
      postgres = { skipped: pg.why.split('\n')[0]!, wallSeconds: 0 };
    } else {
      try {
        // One schema per run: each run's store starts empty, as a temp directory does.
        const runs = await campaigns(
          'postgres',
          { kill: PG_KILL_SEEDS, scenarios: PG_SCENARIO_SEEDS, faults: PG_FAULT_SEEDS },
          (run) => `${pg.server.url}?schema=chaos_${run}`,
        );
        postgres = { ...runs, wallSeconds: (performance.now() - started) / 1000 };
      } finally {
        await pg.server.stop();
      }
    }
  }
  const killRuns = lowdb.kill.runs;
  const faultRuns = lowdb.faults.runs;

  let badInput: BadInputReport = { outcomes: [], runs: [] };
  if (only.has('bad-input') && backends.includes('lowdb')) {
    say('- bad input');
    badInput = await runBadInput(BAD_INPUT_SEED, BAD_INPUT_UNITS);
    for (const o of badInput.outcomes) say(`  ${o.ok ? 'ok        ' : 'UNEXPECTED'} ${o.target}: ${o.name}: ${o.got}`);
  }

  loadAverage.end = load1m();
  const results: ChaosResults = {
    machine: machineInfo(),
    wallSeconds: (performance.now() - started) / 1000,
    loadAverage,
    kill: { units: KILL_UNITS, runs: killRuns },
    faults: { units: FAULT_UNITS, faultRate: FAULT_RATE, throttle: TIGHT_THROTTLE, runs: faultRuns },
    badInput,
    ...(postgres === undefined ? {} : { postgres }),
  };
  const s = summarize(results);
  say('');
  say(
    `runs ${s.runs}, kills ${s.kills} (${Object.entries(s.killsByPhase)
      .map(([p, n]) => `${p} ${n}`)
      .join(
        ', ',
      )}), restarts ${s.restarts}, faults injected ${s.faultsInjected}, throttled ${s.throttled}, bad inputs ${s.badInputs}`,
  );
  say(`${s.violations === 0 ? 'PASS' : 'MISS'}  invariant violations: ${s.violations} (target 0)`);
  say(`${s.unfinishedRuns === 0 ? 'PASS' : 'MISS'}  runs that could not finish: ${s.unfinishedRuns} (target 0)`);
  say(
    `${s.unexpectedAnswers === 0 ? 'PASS' : 'MISS'}  bad inputs answered otherwise than documented: ${s.unexpectedAnswers} (target 0)`,
  );
  const p = postgres !== undefined && !('skipped' in postgres) ? summarizeBackend(postgres) : undefined;
  if (p !== undefined) {
    say(
      `postgres: runs ${p.runs}, kills ${p.kills}, restarts ${p.restarts}, faults injected ${p.faultsInjected} (${Math.round((postgres as { wallSeconds: number }).wallSeconds)} s)`,
    );
    say(`${p.violations === 0 ? 'PASS' : 'MISS'}  postgres invariant violations: ${p.violations} (target 0)`);
    say(
      `${p.unfinishedRuns === 0 ? 'PASS' : 'MISS'}  postgres runs that could not finish: ${p.unfinishedRuns} (target 0)`,
    );
  }
  say(`${Math.round(results.wallSeconds)} s in all`);
  if (s.violations + s.unfinishedRuns + s.unexpectedAnswers + (p?.violations ?? 0) + (p?.unfinishedRuns ?? 0) > 0)
    process.exitCode = 1;
  // The PostgreSQL half alone, every campaign and seed: it replaces that half of the saved results
  // and keeps the lowdb half as last measured (a quicker way to refresh it).
  const postgresOnly =
    option('--backend') === 'postgres' &&
    option('--only') === undefined &&
    seeds === undefined &&
    scenarios === undefined &&
    postgres !== undefined;
  if (postgresOnly) {
    const file = join(root, 'bench', 'results-chaos.json');
    const saved = JSON.parse(readFileSync(file, 'utf8')) as ChaosResults;
    const merged: ChaosResults = { ...saved, postgres };
    const ms = summarize(merged);
    writeFileSync(
      file,
      `${JSON.stringify({ ...merged, summary: ms, ...(p === undefined ? {} : { postgresSummary: p }) }, null, 2)}\n`,
    );
    writeSection(CHAOS_SECTION, renderChaosSection(merged, ms));
    say(
      'wrote the PostgreSQL half into bench/results-chaos.json and docs/benchmarks.md (the lowdb half as last measured)',
    );
    return;
  }
  if (!full) {
    say('(--only, --seeds or --scenarios: results and docs not written)');
    return;
  }
  writeFileSync(
    join(root, 'bench', 'results-chaos.json'),
    `${JSON.stringify({ ...results, summary: s, ...(p === undefined ? {} : { postgresSummary: p }) }, null, 2)}\n`,
  );
  writeSection(CHAOS_SECTION, renderChaosSection(results, s));
  say('wrote bench/results-chaos.json and docs/benchmarks.md');
}

await main();
