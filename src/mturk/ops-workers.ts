/**
 * Workers and the account: blocks, worker qualifications, messages, balance.
 *
 * @module
 */
import {
  AssociateQualificationWithWorkerCommand,
  CreateWorkerBlockCommand,
  DeleteWorkerBlockCommand,
  DisassociateQualificationFromWorkerCommand,
  GetAccountBalanceCommand,
  NotifyWorkersCommand,
  paginateListWorkerBlocks,
} from '@aws-sdk/client-mturk';
import type { CallOptions, GatewayCore } from './gateway-core.js';
import { toCents } from './money.js';
import { ok, type MTurkOutcome } from './outcome.js';
import { Problems } from './validate.js';

export interface WorkerRef {
  readonly workerId: string;
}

export interface BlockWorkerInput {
  readonly workerId: string;
  /** Required by MTurk; recorded with the block. */
  readonly reason: string;
}

export async function blockWorker(
  core: GatewayCore,
  input: BlockWorkerInput,
  options?: CallOptions,
): Promise<MTurkOutcome<WorkerRef>> {
  new Problems()
    .nonEmpty(input.workerId, 'workerId')
    .text(input.reason, 'reason', 1, 4_096)
    .throwIfAny('blockWorker input');
  const outcome = await core.call(
    {
      method: 'blockWorker',
      operation: 'CreateWorkerBlock',
      options,
      input: { WorkerId: input.workerId, Reason: input.reason },
    },
    (i) => core.client.send(new CreateWorkerBlockCommand(i)),
  );
  return outcome.status === 'ok' ? ok({ workerId: input.workerId }) : outcome;
}

export interface UnblockWorkerInput {
  readonly workerId: string;
  readonly reason?: string;
}

export async function unblockWorker(
  core: GatewayCore,
  input: UnblockWorkerInput,
  options?: CallOptions,
): Promise<MTurkOutcome<WorkerRef>> {
  new Problems().nonEmpty(input.workerId, 'workerId').throwIfAny('unblockWorker input');
  const outcome = await core.call(
    {
      method: 'unblockWorker',
      operation: 'DeleteWorkerBlock',
      options,
      input: { WorkerId: input.workerId, ...(input.reason === undefined ? {} : { Reason: input.reason }) },
    },
    (i) => core.client.send(new DeleteWorkerBlockCommand(i)),
  );
  return outcome.status === 'ok' ? ok({ workerId: input.workerId }) : outcome;
}

export interface IsWorkerBlockedResult {
  readonly blocked: boolean;
  readonly reason?: string;
}

/** Reads every page of the block list (Mephisto read the first 100 and missed the rest, #29). */
export async function isWorkerBlocked(
  core: GatewayCore,
  workerId: string,
  options?: CallOptions,
): Promise<MTurkOutcome<IsWorkerBlockedResult>> {
  new Problems().nonEmpty(workerId, 'workerId').throwIfAny('isWorkerBlocked input');
  const blocks = await core.collect(
    { method: 'isWorkerBlocked', operation: 'ListWorkerBlocks', options, input: {} },
    (i) => paginateListWorkerBlocks({ client: core.client, pageSize: 100 }, i),
    (page) => page.WorkerBlocks,
  );
  if (blocks.status !== 'ok') return blocks;
  const block = blocks.value.find((b) => b.WorkerId === workerId);
  return ok(
    block === undefined
      ? { blocked: false }
      : { blocked: true, ...(block.Reason === undefined ? {} : { reason: block.Reason }) },
  );
}

export interface AssociateQualificationInput {
  readonly qualificationTypeId: string;
  readonly workerId: string;
  /** @defaultValue 1 */
  readonly value?: number;
  /** MTurk's own default is true; Mephisto and hitstate default to false. @defaultValue false */
  readonly sendNotification?: boolean;
}

export async function associateQualificationWithWorker(
  core: GatewayCore,
  input: AssociateQualificationInput,
  options?: CallOptions,
): Promise<MTurkOutcome<WorkerRef>> {
  const value = input.value ?? 1;
  new Problems()
    .nonEmpty(input.qualificationTypeId, 'qualificationTypeId')
    .nonEmpty(input.workerId, 'workerId')
    .integer(value, 'value', -2_147_483_648, 2_147_483_647)
    .throwIfAny('associateQualificationWithWorker input');
  const outcome = await core.call(
    {
      method: 'associateQualificationWithWorker',
      operation: 'AssociateQualificationWithWorker',
      options,
      input: {
        QualificationTypeId: input.qualificationTypeId,
        WorkerId: input.workerId,
        IntegerValue: value,
        SendNotification: input.sendNotification ?? false,
      },
    },
    (i) => core.client.send(new AssociateQualificationWithWorkerCommand(i)),
  );
  return outcome.status === 'ok' ? ok({ workerId: input.workerId }) : outcome;
}

export interface DisassociateQualificationInput {
  readonly qualificationTypeId: string;
  readonly workerId: string;
  /** Shown to the worker. */
  readonly reason?: string;
}

export async function disassociateQualificationFromWorker(
  core: GatewayCore,
  input: DisassociateQualificationInput,
  options?: CallOptions,
): Promise<MTurkOutcome<WorkerRef>> {
  new Problems()
    .nonEmpty(input.qualificationTypeId, 'qualificationTypeId')
    .nonEmpty(input.workerId, 'workerId')
    .throwIfAny('disassociateQualificationFromWorker input');
  const outcome = await core.call(
    {
      method: 'disassociateQualificationFromWorker',
      operation: 'DisassociateQualificationFromWorker',
      options,
      input: {
        QualificationTypeId: input.qualificationTypeId,
        WorkerId: input.workerId,
        ...(input.reason === undefined ? {} : { Reason: input.reason }),
      },
    },
    (i) => core.client.send(new DisassociateQualificationFromWorkerCommand(i)),
  );
  return outcome.status === 'ok' ? ok({ workerId: input.workerId }) : outcome;
}

export interface AccountBalance {
  readonly availableUsd: string;
  readonly availableCents: number;
  readonly onHoldUsd?: string;
  readonly onHoldCents?: number;
}

/** The balance; the sandbox always reports $10,000. */
export async function getAccountBalance(
  core: GatewayCore,
  options?: CallOptions,
): Promise<MTurkOutcome<AccountBalance>> {
  const outcome = await core.call(
    { method: 'getAccountBalance', operation: 'GetAccountBalance', options, input: {} },
    (i) => core.client.send(new GetAccountBalanceCommand(i)),
  );
  if (outcome.status !== 'ok') return outcome;
  const available = outcome.value.AvailableBalance ?? '0';
  const onHold = outcome.value.OnHoldBalance;
  return ok({
    availableUsd: available,
    availableCents: toCents(available, 'AvailableBalance'),
    ...(onHold === undefined ? {} : { onHoldUsd: onHold, onHoldCents: toCents(onHold, 'OnHoldBalance') }),
  });
}

export interface NotifyWorkersInput {
  /** At most 200 characters. */
  readonly subject: string;
  /** At most 4,096 characters. */
  readonly messageText: string;
  /** Sent in batches of 100 (MTurk's limit per call). */
  readonly workerIds: readonly string[];
}
export interface NotifyWorkersFailure {
  readonly workerId: string;
  /** MTurk's `SoftFailure` / `HardFailure`, or `NotSent` when the batch could not be sent at all. */
  readonly code: 'SoftFailure' | 'HardFailure' | 'NotSent';
  readonly message: string;
}
export interface NotifyWorkersResult {
  readonly sent: number;
  readonly failures: readonly NotifyWorkersFailure[];
}

const NOTIFY_BATCH = 100;

/**
 * Messages workers (only those you have approved or rejected work from receive it). A failure of
 * the first batch is the outcome; a failure of a later batch is reported per worker as `NotSent`,
 * because earlier batches were already delivered.
 */
export async function notifyWorkers(
  core: GatewayCore,
  input: NotifyWorkersInput,
  options?: CallOptions,
): Promise<MTurkOutcome<NotifyWorkersResult>> {
  new Problems()
    .text(input.subject, 'subject', 1, 200)
    .text(input.messageText, 'messageText', 1, 4_096)
    .check(input.workerIds.length === 0, 'workerIds', 'needs at least one WorkerId')
    .throwIfAny('notifyWorkers input');
  const failures: NotifyWorkersFailure[] = [];
  let sent = 0;
  for (let start = 0; start < input.workerIds.length; start += NOTIFY_BATCH) {
    const batch = input.workerIds.slice(start, start + NOTIFY_BATCH);
    const outcome = await core.call(
      {
        method: 'notifyWorkers',
        operation: 'NotifyWorkers',
        options,
        input: { Subject: input.subject, MessageText: input.messageText, WorkerIds: batch },
      },
      (i) => core.client.send(new NotifyWorkersCommand(i)),
    );
    if (outcome.status !== 'ok') {
      if (start === 0) return outcome;
      failures.push(
        ...input.workerIds
          .slice(start)
          .map((workerId) => ({ workerId, code: 'NotSent' as const, message: outcome.message })),
      );
      break;
    }
    const batchFailures = (outcome.value.NotifyWorkersFailureStatuses ?? []).map((f) => ({
      workerId: f.WorkerId ?? '',
      code: f.NotifyWorkersFailureCode === 'SoftFailure' ? ('SoftFailure' as const) : ('HardFailure' as const),
      message: f.NotifyWorkersFailureMessage ?? '',
    }));
    failures.push(...batchFailures);
    sent += batch.length - batchFailures.length;
  }
  return ok({ sent, failures });
}
