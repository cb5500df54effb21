/**
 * Plays the demo's planned crowd: each worker is a {@link SimulatedWorker} acting over real HTTP
 * on the simulator's worker pages and the task server, waiting on the demo's virtual clock.
 *
 * @module
 */
import type { Simulator } from '../simulator/index.js';
import { SimulatedWorker, SimulatedWorkerError, type VirtualTimeDriver } from '../testing/index.js';
import {
  DemoRole,
  type DemoPlan,
  type DemoSentence,
  type PlannedWorker,
  sentenceOf,
  UNQUALIFIED_APPROVAL_RATE,
} from './demo-plan.js';

/** The system qualification "percent of assignments approved". */
const PERCENT_APPROVED = '000000000000000000L0';
/** How long a worker who found no HIT waits before looking again, in ms. */
const RETRY_MS = 60_000;
const MAX_TRIES = 40;

/** A submission one of the crowd made. */
export interface CrowdSubmission {
  readonly role: DemoRole;
  readonly workerId: string;
  readonly agentId: string;
  readonly unitId: string;
  readonly sentence: DemoSentence;
  readonly answer: { readonly sentiment: string; readonly comment: string };
  /** How long the worker spent on the task page, in ms. */
  readonly workMs: number;
}

/** What the crowd did. */
export interface CrowdOutcome {
  readonly submissions: readonly CrowdSubmission[];
  readonly refusals: number;
}

/** Options of {@link playCrowd}. */
export interface CrowdOptions {
  readonly sim: Simulator;
  readonly driver: VirtualTimeDriver;
  readonly plan: DemoPlan;
  readonly hitTypeId: string;
  /** Virtual time of the launch; planned times count from it. */
  readonly startMs: number;
  /** Prints a line of what happened on the workers' side that the runtime cannot see. */
  readonly log: (line: string) => void;
}

const WRONG: Record<DemoSentence['sentiment'], DemoSentence['sentiment']> = {
  positive: 'negative',
  negative: 'positive',
  neutral: 'positive',
};

function answerOf(role: DemoRole, sentence: DemoSentence): { sentiment: string; comment: string } {
  switch (role) {
    case DemoRole.careless:
      return { sentiment: WRONG[sentence.sentiment], comment: '' };
    case DemoRole.lazy:
      return { sentiment: sentence.text.length % 2 === 0 ? 'neutral' : 'positive', comment: '' };
    case DemoRole.thorough:
      return {
        sentiment: sentence.sentiment,
        comment: `Clearly ${sentence.sentiment}: the wording leaves no doubt, and nothing in it is sarcastic.`,
      };
    default:
      return { sentiment: sentence.sentiment, comment: '' };
  }
}

function sentenceFor(task: unknown, plan: DemoPlan): DemoSentence {
  const text = typeof task === 'object' && task !== null ? (task as { text?: unknown }).text : undefined;
  return plan.sentences.find((s) => s.text === text) ?? sentenceOf(0);
}

/** Runs every planned worker; resolves once each has finished what they planned. */
export async function playCrowd(options: CrowdOptions): Promise<CrowdOutcome> {
  const { sim, driver, plan } = options;
  const submissions: CrowdSubmission[] = [];
  let refusals = 0;
  const until = async (ms: number): Promise<void> => {
    const wait = options.startMs + ms - driver.clock.now();
    if (wait > 0) await driver.sleep(wait);
  };

  const play = async (planned: PlannedWorker): Promise<void> => {
    const worker = new SimulatedWorker({
      workerId: sim.workers.create(),
      mturkUrl: sim.url,
      tracker: driver,
      sleep: (ms) => driver.sleep(ms),
    });
    if (planned.role === DemoRole.unqualified)
      sim.workers.setSystemQualification(worker.workerId, PERCENT_APPROVED, UNQUALIFIED_APPROVAL_RATE);
    let at = planned.arriveMs;
    for (let tries = 1; ; tries++) {
      await until(at);
      const accepted = await worker.accept({ hitTypeId: options.hitTypeId });
      if (accepted.accepted) {
        try {
          await worker.openTask();
          break;
        } catch (err) {
          if (!(err instanceof SimulatedWorkerError) || err.status < 400 || err.status >= 500) throw err;
          options.log(
            `worker ${worker.workerId} was turned away by the task page (${err.code ?? err.status}); they return the HIT and come back later`,
          );
          await worker.returnHIT();
        }
      } else if (planned.role === DemoRole.unqualified || accepted.status === 403) {
        refusals++;
        const requirement = accepted.reason.replace(/^.*to accept it: /, '').replace(/\.$/, '');
        options.log(
          `worker ${worker.workerId} (approval rate ${UNQUALIFIED_APPROVAL_RATE}%) tried to accept a HIT; MTurk refused: the HIT requires ${requirement}`,
        );
        return;
      } else if (accepted.status !== 409) {
        throw new SimulatedWorkerError(
          `worker ${worker.workerId} could not accept a HIT (${accepted.status}): ${accepted.reason}`,
          accepted.status,
        );
      }
      if (tries >= MAX_TRIES) {
        if (planned.role === DemoRole.returner || planned.role === DemoRole.walker) return;
        throw new SimulatedWorkerError(
          `worker ${worker.workerId} found no HIT to work on after ${MAX_TRIES} tries`,
          409,
        );
      }
      at = driver.clock.now() - options.startMs + RETRY_MS;
    }
    if (planned.role === DemoRole.returner) {
      await worker.work(planned.workMs);
      await worker.returnHIT();
      return;
    }
    if (planned.role === DemoRole.walker) {
      await worker.work(planned.workMs);
      await worker.leavePage();
      return;
    }
    const sentence = sentenceFor(worker.registration!.task, plan);
    const answer = answerOf(planned.role, sentence);
    await worker.work(planned.workMs);
    await worker.submit(answer);
    submissions.push({
      role: planned.role,
      workerId: worker.workerId,
      agentId: worker.agentId!,
      unitId: worker.unitId!,
      sentence,
      answer,
      workMs: planned.workMs,
    });
  };

  await Promise.all(plan.workers.map(play));
  return { submissions, refusals };
}
