/**
 * Compensation HITs: pay a worker outside an assignment (returned work, a failed bonus older than
 * the bonus window, a series of tasks) with a HIT only that worker qualifies for.
 *
 * Every step is idempotent, so the whole operation can be repeated after a crash: the gating
 * qualification is found by its derived name, granting is a set, the HIT type is matched by its
 * properties, and the HIT carries a derived UniqueRequestToken.
 *
 * @module
 */
import type { CallOptions, GatewayCore } from './gateway-core.js';
import { createHITType, sendCreateHIT, DEFAULT_HIT_LIFETIME_SEC } from './ops-hits.js';
import { compensationQualificationName, findOrCreateQualificationType } from './ops-qualifications.js';
import { associateQualificationWithWorker, notifyWorkers } from './ops-workers.js';
import { ok, type MTurkOutcome } from './outcome.js';
import { buildCompensationQuestionForm } from './question-xml.js';
import { compensationToken } from './tokens.js';
import { Problems } from './validate.js';

export interface CreateCompensationHITInput {
  readonly workerId: string;
  readonly rewardUsd: string | number;
  /** Why the worker is paid; shown in the HIT. */
  readonly reason: string;
  readonly runId: string;
  /** Tells apart several compensations of one worker in one run; the same key never pays twice. */
  readonly key: string;
  /** The id of the store that owns the HIT, named in its RequesterAnnotation. */
  readonly storeId?: string;
  /** @defaultValue "Compensation HIT" */
  readonly title?: string;
  /** @defaultValue 3600 */
  readonly assignmentDurationSec?: number;
  /** @defaultValue 2678400 (31 days) */
  readonly lifetimeSec?: number;
  /** Email the worker the link (only when the HIT is new). @defaultValue true */
  readonly notifyWorker?: boolean;
}
export interface CreateCompensationHITResult {
  readonly hitId: string;
  readonly hitTypeId: string;
  readonly qualificationTypeId: string;
  readonly previewUrl: string;
  readonly token: string;
  /** Whether the worker was emailed the link (MTurk only mails workers you have paid before). */
  readonly notified: boolean;
}

/** Mephisto's compensation HITs auto-approve after 30 seconds: the work is a formality. */
const COMPENSATION_AUTO_APPROVAL_SEC = 30;

/**
 * Creates (or finds again) a qualification only this worker holds, grants it, creates a HIT type
 * requiring it (no locale requirement, as in Mephisto PR #621: docs/mephisto-semantics.md#the-mturk-scripts)
 * and a one-assignment HIT with a
 * single "confirm your Worker ID" question.
 */
export async function createCompensationHIT(
  core: GatewayCore,
  input: CreateCompensationHITInput,
  options?: CallOptions,
): Promise<MTurkOutcome<CreateCompensationHITResult>> {
  new Problems()
    .nonEmpty(input.workerId, 'workerId')
    .text(input.reason, 'reason', 1, 1_000)
    .nonEmpty(input.runId, 'runId')
    .nonEmpty(input.key, 'key')
    .throwIfAny('createCompensationHIT input');
  const lane = options?.lane ?? 'money';
  const qualification = await findOrCreateQualificationType(
    core,
    {
      name: compensationQualificationName(input.runId, input.workerId, input.key),
      description: 'Grants access to one compensation HIT for one worker (created by hitstate).',
    },
    { lane },
  );
  if (qualification.status !== 'ok') return qualification;
  const qualificationTypeId = qualification.value.qualificationType.qualificationTypeId;
  const granted = await associateQualificationWithWorker(
    core,
    { qualificationTypeId, workerId: input.workerId, value: 1, sendNotification: false },
    { lane },
  );
  if (granted.status !== 'ok') return granted;
  const hitType = await createHITType(
    core,
    {
      title: input.title ?? 'Compensation HIT',
      description: `Compensation: ${input.reason}`.slice(0, 2_000),
      keywords: 'compensation',
      rewardUsd: input.rewardUsd,
      assignmentDurationSec: input.assignmentDurationSec ?? 3_600,
      autoApprovalDelaySec: COMPENSATION_AUTO_APPROVAL_SEC,
      qualificationRequirements: [
        { qualificationTypeId, comparator: 'Exists', actionsGuarded: 'DiscoverPreviewAndAccept' },
      ],
      skipLocaleRequirement: true,
    },
    { lane },
  );
  if (hitType.status !== 'ok') return hitType;
  const token = compensationToken(input.runId, input.workerId, input.key);
  const hit = await sendCreateHIT(
    core,
    'createCompensationHIT',
    {
      hitTypeId: hitType.value.hitTypeId,
      questionXml: buildCompensationQuestionForm(input.reason),
      annotation: {
        runId: input.runId,
        purpose: 'compensation',
        ...(input.storeId === undefined ? {} : { storeId: input.storeId }),
      },
      token,
      lifetimeSec: input.lifetimeSec ?? DEFAULT_HIT_LIFETIME_SEC,
      maxAssignments: 1,
    },
    { lane },
  );
  if (hit.status !== 'ok') return hit;
  let notified = false;
  if (input.notifyWorker ?? true) {
    const sent = await notifyWorkers(
      core,
      {
        subject: 'A compensation HIT is waiting for you',
        messageText: `${input.reason}\n\nAccept this HIT to receive the payment: ${hit.value.previewUrl}`.slice(
          0,
          4_096,
        ),
        workerIds: [input.workerId],
      },
      { lane },
    );
    notified = sent.status === 'ok' && sent.value.failures.length === 0;
  }
  return ok({
    hitId: hit.value.hit.hitId,
    hitTypeId: hitType.value.hitTypeId,
    qualificationTypeId,
    previewUrl: hit.value.previewUrl,
    token,
    notified,
  });
}
