// The bad-input campaign: live runs fed the cases of bad-input-server.ts and bad-input-cli.ts
// while workers hold units, then finished by their workers and checked against the invariants.
// Cases that can only be judged by how the run ends (a forged answer on MTurk, a forged arrival)
// get a run of their own, so one broken run does not hide the others.
import type { SimWorker, World } from '../../test/support/sim-world.js';
import { cliCases } from './bad-input-cli.js';
import { forgedArrival, forgedMTurkAnswer, taskServerCases, type BadInputOutcome } from './bad-input-server.js';
import { runScenario, type ScenarioReport } from './scenario.js';

export interface BadInputReport {
  readonly outcomes: readonly BadInputOutcome[];
  readonly runs: readonly ScenarioReport[];
}

async function startedWorker(world: World, runId: string): Promise<SimWorker> {
  const worker = world.worker();
  await worker.accept(world.hitTypeId(runId));
  const answer = await worker.register();
  if (answer.status !== 200) throw new Error(`registration refused: ${answer.status} ${JSON.stringify(answer.json)}`);
  return worker;
}

/** How a run judged a case: it ended with every unit reviewed and nothing broken about `assignmentId`. */
function judged(run: ScenarioReport, assignmentId: string): { ok: boolean; got: string } {
  const broken = run.violations
    .filter((v) => v.detail.includes(assignmentId))
    .map((v) => `${v.invariant}: ${v.detail}`);
  const problems = run.problems.map((p) => p.split('\n')[0]!);
  if (broken.length === 0 && problems.length === 0 && run.violations.length === 0)
    return { ok: true, got: 'the run finished, every invariant held' };
  return {
    ok: false,
    got: [
      ...problems,
      ...broken,
      ...run.violations.filter((v) => !v.detail.includes(assignmentId)).map((v) => `${v.invariant}: ${v.detail}`),
    ].join('; '),
  };
}

/** Runs the campaign: three live runs of `units` units (at least 4), seeded from `seed`. */
export async function runBadInput(seed: number, units: number): Promise<BadInputReport> {
  const outcomes: BadInputOutcome[] = [];
  const runs: ScenarioReport[] = [];
  runs.push(
    await runScenario({
      seed,
      units,
      whileLive: async (world, runId) => {
        const a = await startedWorker(world, runId);
        const b = await startedWorker(world, runId);
        outcomes.push(...(await taskServerCases(world, runId, a, b)));
        outcomes.push(...(await cliCases(world, runId)));
        await b.submit({ label: 'neutral', comment: 'after the bad input' });
        return 2;
      },
    }),
  );
  let answer: Awaited<ReturnType<typeof forgedMTurkAnswer>> | undefined;
  const answerRun = await runScenario({
    seed: seed + 1,
    units,
    whileLive: async (world, runId) => {
      answer = await forgedMTurkAnswer(world, runId);
      return 1;
    },
  });
  runs.push(answerRun);
  if (answer !== undefined)
    outcomes.push({
      target: 'MTurk',
      name: answer.name,
      expected: answer.expected,
      ...judged(answerRun, answer.assignmentId),
    });
  let arrival: Awaited<ReturnType<typeof forgedArrival>> | undefined;
  const arrivalRun = await runScenario({
    seed: seed + 2,
    units,
    whileLive: async (world, runId) => {
      arrival = await forgedArrival(world, runId);
      return 1;
    },
  });
  runs.push(arrivalRun);
  if (arrival !== undefined) {
    const verdict = judged(arrivalRun, arrival.assignmentId);
    outcomes.push({ ...arrival.outcome, ok: verdict.ok, got: `${arrival.outcome.got}; ${verdict.got}` });
  }
  return { outcomes, runs };
}
