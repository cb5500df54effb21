/**
 * `hitstate demo`: one whole task run, start to finish, on this machine in a few seconds. It
 * starts hitstate's MTurk-compatible server and the label task's server in-process, launches a run
 * of N units on virtual time, lets simulated workers act over real HTTP (most submit through the
 * task page and its wrapper; some return, one walks away, one is refused by a qualification),
 * reviews the work, ends the run, and prints what happened, read back from the store.
 *
 * @module
 */
import { randomInt } from 'node:crypto';
import { resolve } from 'node:path';
import { resolveTaskRunConfig, type TaskRunConfig } from '../../config/task-run.js';
import { HitstateError, isHitstateError } from '../../errors.js';
import type { DisposalReport } from '../../runtime/index.js';
import { keepDashboardOpen } from './dashboard.js';
import { EXIT, usageError, type CliIO, type CommandSpec } from '../command.js';
import { costOf } from '../cost.js';
import { playCrowd } from '../demo-crowd.js';
import { DEMO_ASSIGNMENT_SEC, planDemo, REQUIRED_APPROVAL_RATE, type DemoPlan } from '../demo-plan.js';
import { reviewDemo } from '../demo-review.js';
import { demoSummary } from '../demo-summary.js';
import { openDemoWorld, type DemoWorld } from '../demo-world.js';
import { defaultExportPath, writeRunExport } from '../export-file.js';
import { narrate } from '../narrator.js';
import { ProgressView } from '../progress.js';
import { styleFor, type Style } from '../style.js';
import { localDirOf, STORE_OPTION, storeDirOf } from '../target.js';
import { labelExamplePage } from '../task-page.js';

/** Longest the demo may take in wall time before it gives up. */
const WALL_LIMIT_MS = 5 * 60_000;

function demoConfig(plan: DemoPlan, taskUrl: string): TaskRunConfig {
  return {
    title: 'Label the sentiment of a sentence',
    description: 'Read one sentence and say whether it sounds positive, neutral or negative.',
    keywords: ['sentiment', 'labelling', 'hitstate demo'],
    reward: '0.50',
    assignmentDurationSec: DEMO_ASSIGNMENT_SEC,
    lifetimeSec: 3 * 3600,
    autoApprovalDelaySec: 3 * 86_400,
    units: plan.sentences.map((s) => ({ text: s.text })),
    mturk: { minApprovalRate: REQUIRED_APPROVAL_RATE },
    page: labelExamplePage(),
    taskUrl,
  };
}

function elapsed(world: DemoWorld, startMs: number): () => string {
  return () => {
    const s = Math.max(0, Math.round((world.clock.now() - startMs) / 1000));
    const mm = String(Math.floor(s / 60) % 60).padStart(2, '0');
    const ss = String(s % 60).padStart(2, '0');
    return s >= 3600 ? `+${Math.floor(s / 3600)}:${mm}:${ss}` : `+${mm}:${ss}`;
  };
}

/** What the scenario needs besides the world. */
interface ScenarioInput {
  readonly world: DemoWorld;
  readonly plan: DemoPlan;
  readonly runId: string;
  readonly io: CliIO;
  readonly style: Style;
  readonly storeDir: string;
  readonly seed: number;
  /** Aborted on Ctrl-C or when the wall-time limit is reached: driving stops at the next step. */
  readonly signal: AbortSignal;
  /** `performance.now()` when the command started. */
  readonly startedAt: number;
}

/** Runs the demo scenario in a world; returns the summary text. */
async function scenario(input: ScenarioInput): Promise<string> {
  const { world, plan, runId, io, style, signal } = input;
  const { runtime, driver, sim } = world;
  const startMs = world.clock.now();
  const timeLabel = elapsed(world, startMs);
  const progress = new ProgressView(io, { style, clock: world.clock, timeLabel, plainIntervalMs: 60_000 });
  const log = (text: string): void => progress.log(`${style.dim(timeLabel())}  ${text}`);
  const config = demoConfig(plan, world.taskUrl);
  let disposal: DisposalReport | undefined;
  const onProgress = (e: { runId: string; disposal?: DisposalReport }): void => {
    if (e.runId !== runId) return;
    if (e.disposal !== undefined) disposal = e.disposal;
    progress.update(runtime.runInfo(runId));
  };
  runtime.events.on('run.progress', onProgress);
  runtime.events.on('run.statusChanged', onProgress);
  const describeSubmission = (agentId: string): string | undefined => {
    const data = runtime.store.agents.submission(agentId) as { sentiment?: unknown } | undefined;
    return typeof data?.sentiment === 'string' ? `"${data.sentiment}"` : undefined;
  };
  const stopNarrating = narrate(runtime, { runId, style, emit: (l) => progress.log(l), timeLabel, describeSubmission });
  const drive = <T>(until: Promise<T> | (() => boolean), label: string, maxMs: number): Promise<T | undefined> =>
    driver.drive(until, { label, maxMs, signal });
  try {
    const { line } = costOf(resolveTaskRunConfig(config));
    log(`launching run ${style.bold(runId)}: ${line}`);
    await runtime.launchRun(config, { runId });
    await drive(() => runtime.runInfo(runId).status === 'running', 'launch every unit', 600_000);
    const hitTypeId = runtime.runInfo(runId).hitTypeId!;
    log(`all ${plan.units} HITs are on MTurk (HIT type ${hitTypeId}); ${plan.workers.length} workers will come by`);

    const crowd = (await drive(playCrowd({ sim, driver, plan, hitTypeId, startMs, log }), 'the crowd', 4 * 3_600_000))!;
    await drive(
      () => runtime.runInfo(runId).counts.completed >= plan.submissions,
      `${plan.submissions} submissions seen`,
      3_600_000,
    );
    log(`${crowd.submissions.length} submissions are in; reviewing them`);

    const { reports } = await reviewDemo(
      runtime,
      (until, label) => drive(until, label, 600_000),
      runId,
      crowd.submissions,
      log,
    );
    const reviewed = reports.reduce((n, r) => n + r.items.length, 0);
    log(`${reviewed} review requests confirmed by MTurk, each through the money outbox with its own idempotency token`);
    log('ending the run: HITs nobody took expire, finished HITs are disposed');
    await drive(runtime.expireRun(runId), 'expire and drain', 3_600_000);
    await drive(() => disposal !== undefined, 'disposal', 600_000);
    progress.update(runtime.runInfo(runId));
    progress.close();
    const exportPath = defaultExportPath(localDirOf(input.storeDir, io), runId);
    const data = await writeRunExport(runtime.store, runId, exportPath);
    return demoSummary({
      world,
      runId,
      plan,
      crowd,
      disposal: disposal!,
      exportPath,
      data,
      style,
      storeDir: input.storeDir,
      defaultStore: input.storeDir === resolve(io.cwd, '.hitstate'),
      seed: input.seed,
      virtualMs: world.clock.now() - startMs,
      wallMs: performance.now() - input.startedAt,
    });
  } finally {
    stopNarrating();
    progress.close();
    runtime.events.off('run.progress', onProgress);
    runtime.events.off('run.statusChanged', onProgress);
  }
}

/**
 * After Ctrl-C: ends the run on the simulator that is still up, so the store is not left with a
 * run in progress on an endpoint that is about to disappear. A second Ctrl-C skips it.
 */
async function endInterruptedRun(world: DemoWorld, runId: string, io: CliIO): Promise<void> {
  if (world.runtime.store.runs.get(runId) === undefined) return;
  const signal = AbortSignal.any([io.forceSignal, AbortSignal.timeout(20_000)]);
  try {
    await world.driver.drive(world.runtime.expireRun(runId), { label: 'end the interrupted run', signal });
    io.err(`hitstate demo: interrupted; run ${runId} was ended (expired) so the store holds no unfinished run\n`);
  } catch {
    io.err(`hitstate demo: interrupted; run ${runId} is left unfinished in the store (its simulator is gone now)\n`);
  }
}

export const demoCommand: CommandSpec = {
  name: 'demo',
  summary: 'Watch a whole task run on a local MTurk in seconds (start here)',
  description: [
    "Starts hitstate's MTurk-compatible server and the label task's server in this process, launches a run of",
    'N units on virtual time (hours of MTurk time pass in seconds), and lets simulated workers act over real HTTP:',
    "most accept a HIT, open the task page, and submit through hitstate's wrapper; some return the HIT, one walks",
    'away until the assignment lapses, and one is refused by MTurk for a low approval rate. The work is then',
    'reviewed (approved; one rejected with feedback, one soft-rejected, one bonus), the run is ended, and the',
    'summary is read back from the store, with the exported data written under the store directory. Needs',
    'nothing but Node.js: no AWS account, no network. Exits 0 on success, 1 with the failing step otherwise.',
  ].join('\n'),
  options: [
    {
      name: 'units',
      type: 'number',
      value: 'N',
      description: 'Units of the run (1 to 500)',
      default: 20,
      env: 'HITSTATE_DEMO_UNITS',
    },
    {
      name: 'seed',
      type: 'number',
      value: 'N',
      description: 'Seed of the simulator and the crowd: the same seed replays the same run (default: random, printed)',
      env: 'HITSTATE_DEMO_SEED',
    },
    STORE_OPTION,
    {
      name: 'dashboard',
      type: 'boolean',
      description: "Keep the demo's dashboard open at the end (on 127.0.0.1) and print its URL; Ctrl-C ends it",
    },
    {
      name: 'pace',
      type: 'number',
      value: 'MS',
      description: 'Wall milliseconds per virtual second (default 8 on a terminal, 0 otherwise)',
      env: 'HITSTATE_DEMO_PACE',
    },
  ],
  examples: [
    'npm run demo',
    'npm run demo -- --dashboard',
    'hitstate demo --units 50 --seed 7',
    'hitstate demo --store /tmp/demo-store --pace 0',
  ],
  async run(args, io) {
    const style = styleFor(io);
    const units = Number(args.options.units);
    if (!Number.isInteger(units) || units < 1 || units > 500)
      throw usageError(
        `hitstate demo: --units must be a whole number from 1 to 500, got ${String(args.options.units)}.`,
        'units',
      );
    const seed = args.options.seed === undefined ? randomInt(1, 100_000) : Number(args.options.seed);
    if (!Number.isSafeInteger(seed) || seed < 0)
      throw usageError(
        `hitstate demo: --seed must be a non-negative whole number, got ${String(args.options.seed)}.`,
        'seed',
      );
    const paceMs = args.options.pace === undefined ? (io.isTTY ? 8 : 0) : Number(args.options.pace);
    if (!(paceMs >= 0 && paceMs <= 1000))
      throw usageError(
        `hitstate demo: --pace must be from 0 to 1000 milliseconds, got ${String(args.options.pace)}.`,
        'pace',
      );
    const storeDir = storeDirOf(args.options, io);
    const plan = planDemo(units, seed);
    const startedAt = performance.now();
    const world = await openDemoWorld({ seed, storeDir, paceMs });
    const runId = `demo-${new Date(world.clock.now()).toISOString().replace(/[-:]/g, '').slice(0, 15).replace('T', '-')}`;
    io.out(
      [
        `${style.bold('hitstate demo')}: one task run of ${units} unit${units === 1 ? '' : 's'}, start to finish, on hitstate's own MTurk`,
        `  MTurk      ${world.sim.url}  (hitstate's MTurk-compatible server; virtual time; seed ${seed})`,
        `  task page  ${world.taskUrl}  (the label example, served by createTaskServer)`,
        '  workers    simulated, over real HTTP: accept on MTurk, open the task page, submit through the wrapper',
        `  store      ${world.runtime.store.dir}`,
        '',
        '',
      ].join('\n'),
    );
    const tooLong = AbortSignal.timeout(WALL_LIMIT_MS);
    const signal = AbortSignal.any([io.signal, tooLong]);
    try {
      const summary = await scenario({ world, plan, runId, io, style, storeDir, seed, signal, startedAt });
      if (world.problems.length > 0)
        throw new HitstateError(
          'HST_ERR_CLI_DEMO_FAILED',
          `the run finished, but the runtime reported ${world.problems.length} problem(s) (seed ${seed}):\n${world.problems.map((p) => `  - ${p}`).join('\n')}`,
        );
      io.out(`${summary}\n`);
      if (args.options.dashboard === true) await keepDashboardOpen(world.runtime, io);
      return EXIT.ok;
    } catch (err) {
      if (io.signal.aborted) {
        await endInterruptedRun(world, runId, io);
        return EXIT.interrupted;
      }
      if (tooLong.aborted)
        throw new HitstateError(
          'HST_ERR_CLI_DEMO_FAILED',
          `the demo took more than ${WALL_LIMIT_MS / 60_000} minutes of wall time and was stopped (seed ${seed})`,
          { cause: err },
        );
      if (isHitstateError(err)) throw err;
      throw new HitstateError(
        'HST_ERR_CLI_DEMO_FAILED',
        `${err instanceof Error ? err.message : String(err)} (seed ${seed}; run again with --seed ${seed} to replay it)`,
        { cause: err },
      );
    } finally {
      await world.close();
    }
  },
};
