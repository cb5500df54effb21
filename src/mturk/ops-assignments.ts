/**
 * Assignments and money: list, get, approve, reject, soft-reject, bonus.
 *
 * Approve and reject are idempotent in effect: when MTurk refuses because of the assignment's
 * state, the gateway reads the assignment (money lane) and answers `alreadyDone` when it already
 * is where the caller wanted it (approved by hand, by auto-approval, or rejected before).
 *
 * @module
 */
import {
  ApproveAssignmentCommand,
  GetAssignmentCommand,
  RejectAssignmentCommand,
  SendBonusCommand,
  paginateListAssignmentsForHIT,
  paginateListBonusPayments,
} from '@aws-sdk/client-mturk';
import { HitstateError } from '../errors.js';
import type { CallOptions, GatewayCore } from './gateway-core.js';
import { formatUsd, toCents } from './money.js';
import { isStateRefusal, ok, type MTurkFailure, type MTurkOutcome } from './outcome.js';
import {
  toAssignmentInfo,
  toBonusPaymentInfo,
  toHITInfo,
  type AssignmentInfo,
  type AssignmentStatus,
  type BonusPaymentInfo,
  type HITInfo,
} from './records.js';
import { assertValidToken, bonusToken } from './tokens.js';
import { Problems } from './validate.js';

/** MTurk's limit on RequesterFeedback. */
export const MAX_FEEDBACK_LENGTH = 1_024;

export interface ListAssignmentsForHITInput {
  readonly hitId: string;
  /** @defaultValue all three */
  readonly statuses?: readonly AssignmentStatus[];
}

export function listAssignmentsForHIT(
  core: GatewayCore,
  input: ListAssignmentsForHITInput,
  options?: CallOptions,
): Promise<MTurkOutcome<AssignmentInfo[]>> {
  new Problems().nonEmpty(input.hitId, 'hitId').throwIfAny('listAssignmentsForHIT input');
  return core.collect(
    {
      method: 'listAssignmentsForHIT',
      operation: 'ListAssignmentsForHIT',
      options,
      input: { HITId: input.hitId, ...(input.statuses ? { AssignmentStatuses: [...input.statuses] } : {}) },
    },
    (i) => paginateListAssignmentsForHIT({ client: core.client, pageSize: 100 }, i),
    (page) => page.Assignments?.map(toAssignmentInfo),
  );
}

export function paginateAssignmentsForHIT(
  core: GatewayCore,
  input: ListAssignmentsForHITInput,
  options?: CallOptions,
): AsyncGenerator<AssignmentInfo[]> {
  return core.pages(
    {
      method: 'paginateAssignmentsForHIT',
      operation: 'ListAssignmentsForHIT',
      options,
      input: { HITId: input.hitId, ...(input.statuses ? { AssignmentStatuses: [...input.statuses] } : {}) },
    },
    (i) => paginateListAssignmentsForHIT({ client: core.client, pageSize: 100 }, i),
    (page) => (page.Assignments ?? []).map(toAssignmentInfo),
  );
}

export interface GetAssignmentResult {
  readonly assignment: AssignmentInfo;
  readonly hit?: HITInfo;
}

export async function getAssignment(
  core: GatewayCore,
  assignmentId: string,
  options?: CallOptions,
): Promise<MTurkOutcome<GetAssignmentResult>> {
  new Problems().nonEmpty(assignmentId, 'assignmentId').throwIfAny('getAssignment input');
  const outcome = await core.call(
    { method: 'getAssignment', operation: 'GetAssignment', options, input: { AssignmentId: assignmentId } },
    (i) => core.client.send(new GetAssignmentCommand(i)),
  );
  if (outcome.status !== 'ok') return outcome;
  return ok({
    assignment: toAssignmentInfo(outcome.value.Assignment ?? {}),
    ...(outcome.value.HIT ? { hit: toHITInfo(outcome.value.HIT) } : {}),
  });
}

/** Reads the assignment's status to explain a state refusal; undefined when it cannot be read. */
async function currentStatus(core: GatewayCore, assignmentId: string): Promise<AssignmentStatus | undefined> {
  const read = await getAssignment(core, assignmentId, { lane: 'money' });
  return read.status === 'ok' ? read.value.assignment.assignmentStatus : undefined;
}

function alreadyDone(failure: MTurkFailure, assignmentStatus: AssignmentStatus): MTurkFailure {
  return {
    status: 'alreadyDone',
    message: `the assignment is already ${assignmentStatus}; nothing was changed (${failure.message})`,
    retryable: false,
    code: failure.code,
    assignmentStatus,
    ...(failure.turkErrorCode === undefined ? {} : { turkErrorCode: failure.turkErrorCode }),
  };
}

function refused(failure: MTurkFailure, assignmentStatus: AssignmentStatus, message: string): MTurkFailure {
  return {
    status: 'invalid',
    message: `${message} (${failure.message})`,
    retryable: false,
    code: 'HST_ERR_MTURK_REQUEST_INVALID',
    assignmentStatus,
    ...(failure.turkErrorCode === undefined ? {} : { turkErrorCode: failure.turkErrorCode }),
  };
}

export interface ApproveAssignmentInput {
  readonly assignmentId: string;
  /** Shown to the worker; at most 1,024 characters. */
  readonly requesterFeedback?: string;
  /** Approve an assignment that was rejected (within 30 days of submission). @defaultValue false */
  readonly overrideRejection?: boolean;
}
export interface AssignmentRef {
  readonly assignmentId: string;
}

export async function approveAssignment(
  core: GatewayCore,
  input: ApproveAssignmentInput,
  options?: CallOptions,
  method = 'approveAssignment',
): Promise<MTurkOutcome<AssignmentRef>> {
  const problems = new Problems().nonEmpty(input.assignmentId, 'assignmentId');
  if (input.requesterFeedback !== undefined)
    problems.text(input.requesterFeedback, 'requesterFeedback', 0, MAX_FEEDBACK_LENGTH);
  problems.throwIfAny(`${method} input`);
  const outcome = await core.call(
    {
      method,
      operation: 'ApproveAssignment',
      options,
      input: {
        AssignmentId: input.assignmentId,
        ...(input.requesterFeedback === undefined ? {} : { RequesterFeedback: input.requesterFeedback }),
        ...(input.overrideRejection ? { OverrideRejection: true } : {}),
      },
    },
    (i) => core.client.send(new ApproveAssignmentCommand(i)),
  );
  if (outcome.status === 'ok') return ok({ assignmentId: input.assignmentId });
  if (!isStateRefusal(outcome)) return outcome;
  const status = await currentStatus(core, input.assignmentId);
  if (status === 'Approved') return alreadyDone(outcome, status);
  if (status === 'Rejected' && !input.overrideRejection) {
    return refused(
      outcome,
      status,
      'the assignment was rejected; approve it with overrideRejection: true (possible within 30 days of submission)',
    );
  }
  return outcome;
}

export interface RejectAssignmentInput {
  readonly assignmentId: string;
  /** Required by MTurk: why the work was rejected, 1 to 1,024 characters, shown to the worker. */
  readonly requesterFeedback: string;
}

export async function rejectAssignment(
  core: GatewayCore,
  input: RejectAssignmentInput,
  options?: CallOptions,
): Promise<MTurkOutcome<AssignmentRef>> {
  const feedback: unknown = input.requesterFeedback;
  if (typeof feedback !== 'string' || feedback.trim().length === 0 || feedback.length > MAX_FEEDBACK_LENGTH) {
    throw new HitstateError(
      'HST_ERR_MTURK_FEEDBACK_REQUIRED',
      `rejecting assignment ${input.assignmentId} needs requesterFeedback of 1 to ${MAX_FEEDBACK_LENGTH} characters telling the worker why (MTurk requires it); got ${typeof feedback === 'string' ? `${feedback.length} characters` : String(feedback)}. Nothing was sent.`,
      { field: 'requesterFeedback', assignmentId: input.assignmentId },
    );
  }
  new Problems().nonEmpty(input.assignmentId, 'assignmentId').throwIfAny('rejectAssignment input');
  const outcome = await core.call(
    {
      method: 'rejectAssignment',
      operation: 'RejectAssignment',
      options,
      input: { AssignmentId: input.assignmentId, RequesterFeedback: feedback },
    },
    (i) => core.client.send(new RejectAssignmentCommand(i)),
  );
  if (outcome.status === 'ok') return ok({ assignmentId: input.assignmentId });
  if (!isStateRefusal(outcome)) return outcome;
  const status = await currentStatus(core, input.assignmentId);
  if (status === 'Rejected') return alreadyDone(outcome, status);
  if (status === 'Approved') {
    return refused(
      outcome,
      status,
      'the assignment is already approved (by a requester or by auto-approval) and can no longer be rejected; soft-reject it locally instead',
    );
  }
  return outcome;
}

export interface SoftRejectAssignmentInput {
  readonly assignmentId: string;
  readonly requesterFeedback?: string;
}
export interface SoftRejectAssignmentResult extends AssignmentRef {
  /** The local status to record: the worker is paid on MTurk, the work is not used. */
  readonly recordedAs: 'soft_rejected';
}

export async function softRejectAssignment(
  core: GatewayCore,
  input: SoftRejectAssignmentInput,
  options?: CallOptions,
): Promise<MTurkOutcome<SoftRejectAssignmentResult>> {
  const approved = await approveAssignment(
    core,
    {
      assignmentId: input.assignmentId,
      ...(input.requesterFeedback === undefined ? {} : { requesterFeedback: input.requesterFeedback }),
    },
    options,
    'softRejectAssignment',
  );
  return approved.status === 'ok' ? ok({ assignmentId: input.assignmentId, recordedAs: 'soft_rejected' }) : approved;
}

export interface SendBonusInput {
  readonly workerId: string;
  /** The submitted assignment the bonus is for (MTurk refuses bonuses on unsubmitted work, Mephisto #1081). */
  readonly assignmentId: string;
  readonly amountUsd: string | number;
  /** Shown to the worker; required by MTurk. */
  readonly reason: string;
  readonly runId: string;
  readonly unitId: string;
  /** Tells apart several bonuses for the same work; the same key never pays twice. @defaultValue "bonus" */
  readonly key?: string;
  /** Overrides the derived token. */
  readonly uniqueRequestToken?: string;
}
export interface SendBonusResult {
  readonly token: string;
  readonly amountUsd: string;
}

export async function sendBonus(
  core: GatewayCore,
  input: SendBonusInput,
  options?: CallOptions,
): Promise<MTurkOutcome<SendBonusResult>> {
  new Problems()
    .nonEmpty(input.workerId, 'workerId')
    .nonEmpty(input.assignmentId, 'assignmentId')
    .text(input.reason, 'reason', 1, 4_096)
    .throwIfAny('sendBonus input');
  const cents = toCents(input.amountUsd, 'amountUsd');
  new Problems().check(cents <= 0, 'amountUsd', 'must be more than zero').throwIfAny('sendBonus input');
  const token = assertValidToken(
    input.uniqueRequestToken ?? bonusToken(input.runId, input.unitId, input.workerId, input.key ?? 'bonus'),
  );
  const amountUsd = formatUsd(cents);
  const outcome = await core.call(
    {
      method: 'sendBonus',
      operation: 'SendBonus',
      options,
      rules: { tokenRepeatIsDone: true },
      input: {
        WorkerId: input.workerId,
        AssignmentId: input.assignmentId,
        BonusAmount: amountUsd,
        Reason: input.reason,
        UniqueRequestToken: token,
      },
    },
    (i) => core.client.send(new SendBonusCommand(i)),
  );
  return outcome.status === 'ok' ? ok({ token, amountUsd }) : outcome;
}

export interface ListBonusPaymentsInput {
  readonly hitId?: string;
  readonly assignmentId?: string;
}
export interface ListBonusPaymentsResult {
  readonly payments: readonly BonusPaymentInfo[];
  readonly totalCents: number;
}

export async function listBonusPayments(
  core: GatewayCore,
  input: ListBonusPaymentsInput,
  options?: CallOptions,
): Promise<MTurkOutcome<ListBonusPaymentsResult>> {
  new Problems()
    .check(
      input.hitId === undefined && input.assignmentId === undefined,
      'hitId',
      'give hitId or assignmentId (MTurk needs one of them)',
    )
    .throwIfAny('listBonusPayments input');
  const outcome = await core.collect(
    {
      method: 'listBonusPayments',
      operation: 'ListBonusPayments',
      options,
      input: {
        ...(input.hitId === undefined ? {} : { HITId: input.hitId }),
        ...(input.assignmentId === undefined ? {} : { AssignmentId: input.assignmentId }),
      },
    },
    (i) => paginateListBonusPayments({ client: core.client, pageSize: 100 }, i),
    (page) => page.BonusPayments?.map(toBonusPaymentInfo),
  );
  if (outcome.status !== 'ok') return outcome;
  return ok({ payments: outcome.value, totalCents: outcome.value.reduce((a, p) => a + p.amountCents, 0) });
}
