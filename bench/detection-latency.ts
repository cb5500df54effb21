// Benchmark 2, detection latency (child process). The runtime's test world (test/support/sim-world.ts:
// the simulator, the runtime and the task server on one VirtualClock, workers who act on MTurk and
// through the task server as the wrapper does). A worker accepts and starts; after a seeded random
// wait (so the event falls anywhere within the poll period) they act, and the figure is the virtual
// time from the act on MTurk to the unit's new state:
//   submit         the wrapper's path (task server, then externalSubmit)  -> unit `completed`
//   missed submit  only MTurk got the form (the task server never did)    -> unit `completed`, data reconciled
//   return         the worker returns the HIT on MTurk                    -> agent `returned`, unit back in the pool
import { RUNTIME_DEFAULTS } from '../src/runtime/core/options.js';
import { createWorld } from '../test/support/sim-world.js';
import { progress } from './support/child.js';
import { seededRandom } from '../src/random.js';

export const DETECTION_KINDS = ['submit', 'missed submit', 'return'] as const;
export type DetectionKind = (typeof DETECTION_KINDS)[number];

export interface DetectionArgs {
  readonly activePollMs: number;
  /** Samples of each kind. */
  readonly samples: number;
  readonly seed: number;
}

export interface DetectionResult {
  readonly activePollMs: number;
  /** Virtual ms per sample, by kind. */
  readonly latenciesMs: Record<DetectionKind, number[]>;
}

export async function measure(args: DetectionArgs): Promise<DetectionResult> {
  const random = seededRandom(args.seed);
  const world = await createWorld({
    seed: args.seed,
    runtime: { pollIntervalMs: { activeMs: args.activePollMs, idleMs: RUNTIME_DEFAULTS.idlePollMs } },
  });
  try {
    const { runtime } = world;
    const units = args.samples * DETECTION_KINDS.length;
    const { runId } = await runtime.launchRun(world.config({ units }));
    await world.drive(() => runtime.runInfo(runId).counts.launched === units, {
      label: 'launch',
      maxMs: 6 * 3_600_000,
    });
    const latenciesMs: Record<DetectionKind, number[]> = { submit: [], 'missed submit': [], return: [] };
    for (let i = 0; i < args.samples; i++) {
      for (const kind of DETECTION_KINDS) {
        const worker = world.worker();
        await worker.accept(world.hitTypeId(runId));
        const registered = await worker.register();
        if (registered.status !== 200)
          throw new Error(`registration refused: ${registered.status} ${JSON.stringify(registered.json)}`);
        await world.drive(() => runtime.unitStatus(worker.unitId!) === 'assigned', { label: 'assigned' });
        await world.advance(Math.floor(random() * args.activePollMs));
        const data = { sentiment: 'neutral', comment: `${kind} ${i}` };
        const unitId = worker.unitId!;
        const agentId = worker.agentId!;
        const start = world.clock.now();
        let done: () => boolean;
        if (kind === 'submit') {
          await worker.submit(data);
          done = () => runtime.unitStatus(unitId) === 'completed';
        } else if (kind === 'missed submit') {
          await worker.submitToMTurk(data);
          done = () =>
            runtime.unitStatus(unitId) === 'completed' && runtime.store.agents.submission(agentId) !== undefined;
        } else {
          await worker.returnHIT();
          done = () => runtime.agentStatus(agentId) === 'returned' && runtime.unitStatus(unitId) === 'launched';
        }
        await world.drive(done, { label: `${kind} ${i}`, maxMs: 10 * args.activePollMs });
        latenciesMs[kind].push(world.clock.now() - start);
      }
    }
    progress(
      `poll ${args.activePollMs / 1000} s: ${DETECTION_KINDS.map((k) => `${k} max ${Math.max(...latenciesMs[k]) / 1000} s`).join(', ')}`,
    );
    if (world.errors.length > 0)
      throw new Error(`the runtime reported errors:\n${world.errors.map((e) => e.message).join('\n')}`);
    return { activePollMs: args.activePollMs, latenciesMs };
  } finally {
    await world.close();
  }
}
