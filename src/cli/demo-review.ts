/**
 * The demo's review step, decided by what each worker submitted: the label that contradicts its
 * sentence is rejected with feedback, the answer given in seconds without a comment is soft-rejected, the
 * rest is approved, and the most careful worker gets a bonus.
 *
 * @module
 */
import { HitstateError } from '../errors.js';
import type { ReviewReport, Runtime } from '../runtime/index.js';
import type { CrowdSubmission } from './demo-crowd.js';
import { DemoRole } from './demo-plan.js';
import { shortUnit } from './narrator.js';

/** The bonus the thorough worker gets. */
export const DEMO_BONUS_USD = '0.25';

/** What the review step did. */
export interface DemoReview {
  readonly reports: readonly ReviewReport[];
}

/** Moves virtual time until a promise settles (the demo's driver). */
export type Drive = <T>(until: Promise<T>, label: string) => Promise<T | undefined>;

/**
 * Reviews the crowd's submissions through `runtime.review`, each request driven to MTurk's answer.
 *
 * @throws HitstateError `HST_ERR_CLI_DEMO_FAILED` when a review item is not done.
 */
export async function reviewDemo(
  runtime: Runtime,
  drive: Drive,
  runId: string,
  submissions: readonly CrowdSubmission[],
  log: (line: string) => void,
): Promise<DemoReview> {
  const reports: ReviewReport[] = [];
  const review = async (...args: Parameters<Runtime['review']>): Promise<void> => {
    const report = (await drive(runtime.review(...args), `review ${args[2].kind}`))!;
    const bad = report.items.filter((i) => i.outcome !== 'done');
    if (bad.length > 0) {
      throw new HitstateError(
        'HST_ERR_CLI_DEMO_FAILED',
        `the ${args[2].kind} review did not go through: ${bad.map((i) => `${shortUnit(runId, i.unitId)} ${i.outcome}${i.reason === undefined ? '' : ` (${i.reason})`}`).join(', ')}`,
        { runId },
      );
    }
    reports.push(report);
  };
  const careless = submissions.find((s) => s.role === DemoRole.careless);
  if (careless !== undefined) {
    log(
      `reviewing ${shortUnit(runId, careless.unitId)}: "${careless.answer.sentiment}" for "${careless.sentence.text}" is wrong; rejecting it with feedback`,
    );
    await review(
      runId,
      { agentId: careless.agentId },
      {
        kind: 'reject',
        feedback: `"${careless.answer.sentiment}" contradicts the sentence, which is ${careless.sentence.sentiment}. Please read each sentence before labelling it.`,
      },
    );
  }
  const lazy = submissions.find((s) => s.role === DemoRole.lazy);
  if (lazy !== undefined) {
    log(
      `reviewing ${shortUnit(runId, lazy.unitId)}: submitted ${Math.round(lazy.workMs / 1000)} s after opening the task, too fast to have read the sentence; soft-rejecting it (paid, kept out of the data)`,
    );
    await review(
      runId,
      { agentId: lazy.agentId },
      {
        kind: 'softReject',
        feedback: 'Thank you. This label looks rushed; please read the sentence carefully next time.',
      },
    );
  }
  log('approving every other submission');
  await review(runId, { all: true }, { kind: 'approve' });
  const thorough = submissions.find((s) => s.role === DemoRole.thorough);
  if (thorough !== undefined) {
    log(
      `worker ${thorough.workerId} explained the label of ${shortUnit(runId, thorough.unitId)}; paying a $${DEMO_BONUS_USD} bonus`,
    );
    await review(
      runId,
      { agentId: thorough.agentId },
      { kind: 'bonus', amountUsd: DEMO_BONUS_USD, reason: 'Thank you for the careful comment.' },
    );
  }
  return { reports };
}
