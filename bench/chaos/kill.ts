// The kill campaign: the runtime engineer's crash harness (test/support/crash-harness.ts: a child
// process runs the task run through the public API and is killed with SIGKILL at chosen MTurk
// calls, before or after the call takes effect, then restarted with `resume` until the run is
// done, and the store is checked against the simulator) driven with kill points planned here so
// that every phase of a run is hit: launch, sync, review, bonus and shutdown.
import { runCrashScenario, type CrashScenarioOptions, type CrashTarget } from '../../test/support/crash-harness.js';
import { seededRandom } from '../../src/random.js';

export const PHASES = ['launch', 'sync', 'review', 'bonus', 'shutdown'] as const;
export type Phase = (typeof PHASES)[number];

/** The phase of a run an MTurk operation belongs to. */
export function phaseOf(operation: string): Phase | 'other' {
  if (/^(CreateHITType|CreateHITWithHITType|CreateHIT|CreateQualificationType|ListQualificationTypes)$/.test(operation))
    return 'launch';
  if (/^(ListHITs|ListReviewableHITs|GetHIT|GetAssignment|ListAssignmentsForHIT)$/.test(operation)) return 'sync';
  if (/^(ApproveAssignment|RejectAssignment)$/.test(operation)) return 'review';
  if (operation === 'SendBonus') return 'bonus';
  if (/^(UpdateExpirationForHIT|DeleteHIT|UpdateHITReviewStatus)$/.test(operation)) return 'shutdown';
  return 'other';
}

/** Operations a kill aimed at a phase picks from, and how many times each surely happens in a run of `units`. */
function candidates(phase: Phase, units: number): Array<{ operation: string; occurrences: number }> {
  switch (phase) {
    case 'launch':
      return [
        { operation: 'CreateHITType', occurrences: 1 },
        { operation: 'CreateHITWithHITType', occurrences: units },
        { operation: 'CreateHITWithHITType', occurrences: units },
      ];
    case 'sync':
      // ListAssignmentsForHIT happens only when a submission reached MTurk alone (most runs have one).
      return [
        { operation: 'ListHITs', occurrences: 12 },
        { operation: 'ListHITs', occurrences: 12 },
        { operation: 'ListHITs', occurrences: 12 },
        { operation: 'ListAssignmentsForHIT', occurrences: 1 },
      ];
    case 'review':
      return [{ operation: 'ApproveAssignment', occurrences: units }];
    case 'bonus':
      return [{ operation: 'SendBonus', occurrences: units }];
    case 'shutdown':
      return [{ operation: 'DeleteHIT', occurrences: units }];
  }
}

/** Long enough for MTurk (and the simulator) to forget UniqueRequestTokens. */
const PAST_TOKEN_MEMORY_MS = 25 * 3_600_000;

export interface KillPlan {
  readonly seed: number;
  readonly units: number;
  readonly targets: readonly CrashTarget[];
  /** Extra kills at calls the harness draws from the seed among the first `killWindow`. */
  readonly randomKills: number;
  readonly killWindow: number;
}

/**
 * The kills of run `seed`: one to three aimed at phases in rotation (so 50 runs spread evenly
 * over the five), one seeded at a random call in every third run, and every tenth run stays down
 * for 25 hours after its first kill.
 */
export function planKills(seed: number, units: number): KillPlan {
  const random = seededRandom(seed * 7919);
  const count = 1 + (seed % 3);
  const targets: CrashTarget[] = [];
  for (let j = 0; j < count; j++) {
    const phase = PHASES[(seed * 2 + j) % PHASES.length]!;
    const options = candidates(phase, units);
    const pick = options[Math.floor(random() * options.length)]!;
    const occurrence = 1 + Math.floor(random() * pick.occurrences);
    if (targets.some((t) => t.operation === pick.operation && t.occurrence === occurrence)) continue;
    const mode = random() < 0.5 ? 'drop' : 'dropAfter';
    targets.push({
      operation: pick.operation,
      occurrence,
      mode,
      ...(j === 0 && seed % 10 === 0 ? { downtimeMs: PAST_TOKEN_MEMORY_MS } : {}),
    });
  }
  // A run of four units makes 35 to 40 requester calls: a random kill among the first 30 always lands.
  return { seed, units, targets, randomKills: seed % 3 === 0 ? 1 : 0, killWindow: 30 };
}

export interface KillRunReport {
  readonly seed: number;
  /** The named scenario, for the runs of {@link KILL_SCENARIOS}. */
  readonly scenario?: KillScenario;
  readonly plan: KillPlan;
  readonly kills: ReadonlyArray<{
    readonly call: number;
    readonly operation: string;
    readonly mode: string;
    readonly phase: Phase | 'other';
  }>;
  readonly restarts: number;
  readonly calls: number;
  /** Broken invariants found by the harness's final checks, or why the run could not finish. */
  readonly problems: readonly string[];
  readonly wallMs: number;
}

/**
 * The named scenarios of issue 13, run besides the seeded kills: each restarts the killed review as
 * a fresh process that loads the run through the review it repeats (as a re-run `hitstate review`).
 *
 * - `bulk-review`: killed right after the k-th ApproveAssignment of `review --all --approve` reached MTurk;
 * - `bonus-paid`: killed right after a SendBonus reached MTurk;
 * - `store-return`: a worker stores data on the task server and returns the HIT; at once, before
 *   any poll, the next worker accepts it and submits on MTurk only (never registering), with a kill
 *   in the review as well.
 */
export const KILL_SCENARIOS = ['bulk-review', 'bonus-paid', 'store-return'] as const;
export type KillScenario = (typeof KILL_SCENARIOS)[number];

/** The harness options of a named scenario (`seed` picks k and the other workers' plans). */
export function scenarioOptions(
  scenario: KillScenario,
  seed: number,
  units: number,
): Omit<CrashScenarioOptions, 'seed' | 'units'> {
  const random = seededRandom(seed * 104_729);
  const k = 1 + Math.floor(random() * units);
  const approval: CrashTarget = { operation: 'ApproveAssignment', occurrence: k, mode: 'dropAfter' };
  switch (scenario) {
    case 'bulk-review':
      return { kills: 0, targets: [approval], reviewRestarts: 'command' };
    case 'bonus-paid':
      return {
        kills: 0,
        targets: [{ operation: 'SendBonus', occurrence: k, mode: 'dropAfter' }],
        reviewRestarts: 'command',
      };
    case 'store-return':
      return { kills: 0, targets: [approval], reviewRestarts: 'command', plans: { 1: 'storeReturn' } };
  }
}

/** Runs one named scenario of {@link KILL_SCENARIOS}; `storeDir` (a directory or a postgres:// URL) defaults to a temp directory. */
export function runKillScenario(
  scenario: KillScenario,
  seed: number,
  units: number,
  storeDir?: string,
): Promise<KillRunReport> {
  const options = { ...scenarioOptions(scenario, seed, units), ...(storeDir === undefined ? {} : { storeDir }) };
  const plan: KillPlan = { seed, units, targets: options.targets ?? [], randomKills: 0, killWindow: 0 };
  return runPlanned(seed, units, plan, options).then((report) => ({ ...report, scenario }));
}

/** Runs one planned kill scenario; `storeDir` (a directory or a postgres:// URL) defaults to a temp directory. */
export function runKill(seed: number, units: number, storeDir?: string): Promise<KillRunReport> {
  const plan = planKills(seed, units);
  return runPlanned(seed, units, plan, {
    kills: plan.randomKills,
    killWindow: plan.killWindow,
    targets: plan.targets,
    ...(storeDir === undefined ? {} : { storeDir }),
  });
}

async function runPlanned(
  seed: number,
  units: number,
  plan: KillPlan,
  options: Omit<CrashScenarioOptions, 'seed' | 'units'>,
): Promise<KillRunReport> {
  const started = performance.now();
  try {
    const report = await runCrashScenario({ ...options, seed, units });
    return {
      seed,
      plan,
      kills: report.kills.map((k) => ({ ...k, phase: phaseOf(k.operation) })),
      restarts: report.restarts,
      calls: report.calls,
      problems: report.problems,
      wallMs: performance.now() - started,
    };
  } catch (err) {
    return {
      seed,
      plan,
      kills: [],
      restarts: 0,
      calls: 0,
      problems: [`the scenario did not finish: ${err instanceof Error ? err.message : String(err)}`],
      wallMs: performance.now() - started,
    };
  }
}
