// One campaign run in the runtime's test world (test/support/sim-world.ts): a task run whose
// workers follow seeded plans, reviewed, bonused and ended, on a server that may throttle and
// inject faults, then checked against the invariants.
//   normal   accepts, starts, submits (task server, then MTurk)
//   missed   accepts, starts, submits on MTurk only (the task server never got it)
//   return   accepts, starts, returns the HIT; another worker takes the same HIT and submits
//   ghost    accepts and submits on MTurk without ever opening the task page
import { createWorld, type World, type WorldOptions } from '../../test/support/sim-world.js';
import { seededRandom } from '../../src/random.js';
import { checkInvariants, type Violation } from './invariants.js';

export const PLANS = ['normal', 'missed', 'return', 'ghost'] as const;
export type Plan = (typeof PLANS)[number];

/**
 * Virtual time any one step may take. A healthy run of 8 units on a server throttled at 1 call/s
 * with 10% faults takes a few minutes; retries back off to 10 minutes at most.
 */
const STEP_MAX_MS = 3 * 3_600_000;
const BONUS_KEY = 'campaign-bonus';

export interface ScenarioOptions {
  readonly seed: number;
  readonly units: number;
  readonly sim?: WorldOptions['sim'];
  /**
   * Runs against the live world after the units are launched and before the planned workers act
   * (the bad-input campaign); resolves with the number of units its own workers took and submitted.
   */
  readonly whileLive?: (world: World, runId: string) => Promise<number>;
  /** The store: a directory or a `postgres://` URL. @defaultValue a temp directory */
  readonly storeDir?: string;
}

export interface ScenarioReport {
  readonly seed: number;
  readonly plans: readonly Plan[];
  readonly violations: readonly Violation[];
  /** Steps that did not complete (a review refused, a run that never finished): bugs too, reported apart. */
  readonly problems: readonly string[];
  /** `error` events of the runtime. */
  readonly runtimeErrors: readonly string[];
  readonly calls: number;
  readonly throttled: number;
  readonly faults: number;
  readonly dropped: number;
  readonly virtualMs: number;
}

async function playWorker(world: World, runId: string, plan: Plan, data: unknown): Promise<void> {
  const hitType = world.hitTypeId(runId);
  const worker = world.worker();
  await worker.accept(hitType);
  if (plan === 'ghost') {
    await worker.submitToMTurk(data);
    return;
  }
  const registered = await worker.register();
  if (registered.status !== 200)
    throw new Error(`registration refused: ${registered.status} ${JSON.stringify(registered.json)}`);
  if (plan === 'return') {
    await worker.returnHIT();
    await world.drive(() => world.runtime.agentStatus(worker.agentId!) === 'returned', {
      label: 'return seen',
      maxMs: STEP_MAX_MS,
    });
    const next = world.worker();
    await next.accept({ hitId: worker.hitId! });
    const again = await next.register();
    if (again.status !== 200)
      throw new Error(`registration after a return refused: ${again.status} ${JSON.stringify(again.json)}`);
    await next.submit(data);
    return;
  }
  if (plan === 'missed') await worker.submitToMTurk(data);
  else await worker.submit(data);
}

/** Runs one scenario; see the top of this file. */
export async function runScenario(options: ScenarioOptions): Promise<ScenarioReport> {
  const random = seededRandom(options.seed);
  const world = await createWorld({
    seed: options.seed,
    ...(options.sim === undefined ? {} : { sim: options.sim }),
    ...(options.storeDir === undefined ? {} : { storeDir: options.storeDir }),
    // Every simulated browser comes from 127.0.0.1: the per-address limit, meant for one client of a
    // public crowd, would count the whole crowd as one. The per-HIT limit stays the default.
    server: { registrationLimits: { perAddress: { burst: 100_000, perMinute: 100_000 } } },
  });
  const problems: string[] = [];
  const plans: Plan[] = [];
  const start = world.clock.now();
  let violations: Violation[] = [];
  // A step that does not complete is recorded and the run carried on as far as it goes, so the
  // invariants at the end name exactly what was left broken (not everything after the first stall).
  const step = async <T>(work: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await work();
    } catch (err) {
      problems.push(err instanceof Error ? err.message : String(err));
      return undefined;
    }
  };
  const { runtime } = world;
  const runId = `campaign-${options.seed}`;
  const launched = await step(async () => {
    await runtime.launchRun(world.config({ units: options.units }), { runId });
    await world.drive(() => runtime.runInfo(runId).counts.launched === options.units, {
      label: 'launch',
      maxMs: STEP_MAX_MS,
    });
    return true;
  });
  if (launched === true) {
    await step(async () => {
      const taken = options.whileLive === undefined ? 0 : await options.whileLive(world, runId);
      for (let i = 0; i < options.units - taken; i++) {
        const plan = i === 0 ? 'normal' : PLANS[Math.floor(random() * PLANS.length)]!;
        plans.push(plan);
        await playWorker(world, runId, plan, {
          unit: i,
          label: `label-${options.seed}-${i}`,
          nested: { list: [i, i * 2], ok: true },
        });
      }
    });
    // Completed units include those whose data is still being fetched from MTurk; review waits for the data.
    const submitted = (): number =>
      runtime.store.agents.ofRun(runId).filter((a) => runtime.agentStatus(a.id) === 'completed').length;
    await step(() =>
      world.drive(() => runtime.runInfo(runId).counts.completed === options.units && submitted() === options.units, {
        label: 'every unit completed, its data stored',
        maxMs: STEP_MAX_MS,
      }),
    );
    const approved = await step(() =>
      world.drive(runtime.review(runId, { all: true }, { kind: 'approve' }), { label: 'approve', maxMs: STEP_MAX_MS }),
    );
    for (const item of approved?.items ?? [])
      if (item.outcome !== 'done' && item.outcome !== 'alreadyDone')
        problems.push(`approve ${item.agentId}: ${item.outcome}`);
    await step(() =>
      world.drive(() => runtime.runInfo(runId).counts.accepted === options.units, {
        label: 'every unit accepted',
        maxMs: STEP_MAX_MS,
      }),
    );
    for (const agent of runtime.store.agents.ofRun(runId)) {
      if (runtime.agentStatus(agent.id) !== 'approved') continue;
      const bonus = await step(() =>
        world.drive(
          runtime.review(
            runId,
            { agentId: agent.id },
            { kind: 'bonus', amountUsd: '0.05', reason: 'Thank you', key: BONUS_KEY },
          ),
          { label: 'bonus', maxMs: STEP_MAX_MS },
        ),
      );
      for (const item of bonus?.items ?? [])
        if (item.outcome !== 'done' && item.outcome !== 'alreadyDone')
          problems.push(`bonus ${item.agentId}: ${item.outcome}`);
    }
    await step(() => world.drive(runtime.expireRun(runId), { label: 'run done', maxMs: STEP_MAX_MS }));
    await step(() =>
      world.drive(() => world.account().hits.every((h) => h.disposed), { label: 'HITs disposed', maxMs: STEP_MAX_MS }),
    );
  }
  // Checked also when a step never completed: the invariants then say what was left broken.
  try {
    await world.runtime.whenIdle();
    await world.runtime.store.flush();
    violations = checkInvariants(world.account(), world.runtime.store, runId);
  } catch (err) {
    problems.push(`the invariants could not be checked: ${err instanceof Error ? err.message : String(err)}`);
  }
  const stats = world.sim.stats();
  const report: ScenarioReport = {
    seed: options.seed,
    plans,
    violations,
    problems,
    runtimeErrors: world.errors.map((e) => e.message),
    calls: Object.values(stats.calls).reduce((a, b) => a + b, 0),
    throttled: stats.throttled,
    faults: stats.faults,
    dropped: stats.dropped,
    virtualMs: world.clock.now() - start,
  };
  await world.close();
  return report;
}
