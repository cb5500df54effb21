/**
 * `MTurkGateway`: the one way hitstate talks to MTurk. One method per operation, named as in the
 * SDK's all-in-one `MTurk` client, each returning a typed {@link MTurkOutcome}.
 *
 * Get gateways from {@link getGateway} (one shared gateway per requester and endpoint); build one
 * directly only in isolated tests.
 *
 * @module
 */
import { GatewayCore, type CallOptions } from './gateway-core.js';
import * as hits from './ops-hits.js';
import * as assignments from './ops-assignments.js';
import * as workers from './ops-workers.js';
import * as quals from './ops-qualifications.js';
import * as compensation from './ops-compensation.js';
import type { MTurkOutcome } from './outcome.js';
import type { AssignmentInfo, HITInfo, ListedHIT, QualificationTypeInfo } from './records.js';

/**
 * A requester's MTurk gateway.
 *
 * Every method checks its input before any call (throwing `HST_ERR_CONFIG_INVALID`, or
 * `HST_ERR_MTURK_FEEDBACK_REQUIRED` for a rejection without feedback), waits for its lane in the
 * requester's rate governor, and resolves to an outcome: `ok`, `alreadyDone`, `notFound`,
 * `invalid`, `throttled`, `unavailable` or `insufficientFunds`. Only unusable credentials
 * (`HST_ERR_CREDENTIALS_UNUSABLE`) and bugs are thrown.
 *
 * @example
 * ```ts
 * const gw = getGateway({ name: 'lab', environment: 'sandbox', credentials: { kind: 'profile', profile: 'lab' } });
 * const type = orThrow(await gw.createHITType({ title: 'Label images', description: '…', rewardUsd: '0.50', assignmentDurationSec: 1800 }));
 * const created = await gw.createHITWithHITType({ hitTypeId: type.hitTypeId, runId, unitId,
 *   question: { externalUrl: 'https://tasks.example.org/r1', frameHeight: 0 } });
 * if (created.status === 'ok') console.log(created.value.previewUrl);
 * ```
 */
export class MTurkGateway extends GatewayCore {
  /** Creates (or, with the same properties, finds) a HIT type; adds the locale requirement on live. */
  createHITType(
    input: hits.CreateHITTypeInput,
    options?: CallOptions,
  ): Promise<MTurkOutcome<hits.CreateHITTypeResult>> {
    return hits.createHITType(this, input, options);
  }

  /**
   * Creates one HIT of a HIT type, with a `UniqueRequestToken` derived from run, unit and attempt
   * and a RequesterAnnotation naming the run. A repeat is `alreadyDone` carrying the HITId.
   */
  createHITWithHITType(
    input: hits.CreateHITWithHITTypeInput,
    options?: CallOptions,
  ): Promise<MTurkOutcome<hits.CreateHITWithHITTypeResult>> {
    return hits.createHITWithHITType(this, input, options);
  }

  /** Reads a HIT; `notFound` once MTurk has purged it. */
  getHIT(hitId: string, options?: CallOptions): Promise<MTurkOutcome<HITInfo>> {
    return hits.getHIT(this, hitId, options);
  }

  /** Expires a HIT now. Workers holding an assignment may still finish it within its duration. */
  expireHIT(hitId: string, options?: CallOptions): Promise<MTurkOutcome<hits.HITRef>> {
    return hits.expireHIT(this, hitId, options);
  }

  /** Deletes (disposes) a HIT; MTurk allows it once the HIT is reviewable and every submission is decided. */
  deleteHIT(hitId: string, options?: CallOptions): Promise<MTurkOutcome<hits.HITRef>> {
    return hits.deleteHIT(this, hitId, options);
  }

  /** Deletes a HIT, expiring it first when MTurk refuses; reports why it could not be disposed yet. */
  expireAndDisposeHIT(hitId: string, options?: CallOptions): Promise<MTurkOutcome<hits.ExpireAndDisposeResult>> {
    return hits.expireAndDisposeHIT(this, hitId, options);
  }

  /** Every HIT of the account (all pages), with parsed hitstate annotations. */
  listHITs(options?: CallOptions): Promise<MTurkOutcome<HITInfo[]>> {
    return hits.listHITs(this, options);
  }

  /** Every HIT of one HIT type (ListHITs to the last page, filtered). */
  listHITsForHITType(input: hits.ListHITsForHITTypeInput, options?: CallOptions): Promise<MTurkOutcome<HITInfo[]>> {
    return hits.listHITsForHITType(this, input, options);
  }

  /**
   * The HITs of one HIT type, page by page as they arrive: status and counters at once, the full
   * record on `info()`. @throws HitstateError `HST_ERR_MTURK_*` when a page fails.
   */
  paginateHITsForHITType(input: hits.ListHITsForHITTypeInput, options?: CallOptions): AsyncGenerator<ListedHIT[]> {
    return hits.paginateHITsForHITType(this, input, options);
  }

  /** Reviewable (or Reviewing) HITs, optionally of one HIT type, all pages. */
  listReviewableHITs(input?: hits.ListReviewableHITsInput, options?: CallOptions): Promise<MTurkOutcome<HITInfo[]>> {
    return hits.listReviewableHITs(this, input, options);
  }

  /** Reviewable HITs page by page, as {@link paginateHITsForHITType} gives them. @throws HitstateError `HST_ERR_MTURK_*` when a page fails. */
  paginateReviewableHITs(input?: hits.ListReviewableHITsInput, options?: CallOptions): AsyncGenerator<ListedHIT[]> {
    return hits.paginateReviewableHITs(this, input, options);
  }

  /** Submitted, approved and rejected assignments of a HIT, all pages. */
  listAssignmentsForHIT(
    input: assignments.ListAssignmentsForHITInput,
    options?: CallOptions,
  ): Promise<MTurkOutcome<AssignmentInfo[]>> {
    return assignments.listAssignmentsForHIT(this, input, options);
  }

  /** Assignments of a HIT page by page. @throws HitstateError `HST_ERR_MTURK_*` when a page fails. */
  paginateAssignmentsForHIT(
    input: assignments.ListAssignmentsForHITInput,
    options?: CallOptions,
  ): AsyncGenerator<AssignmentInfo[]> {
    return assignments.paginateAssignmentsForHIT(this, input, options);
  }

  /** Reads a submitted assignment and its HIT. */
  getAssignment(assignmentId: string, options?: CallOptions): Promise<MTurkOutcome<assignments.GetAssignmentResult>> {
    return assignments.getAssignment(this, assignmentId, options);
  }

  /** Approves (pays) a submitted assignment; `alreadyDone` when it is already approved, auto-approval included. */
  approveAssignment(
    input: assignments.ApproveAssignmentInput,
    options?: CallOptions,
  ): Promise<MTurkOutcome<assignments.AssignmentRef>> {
    return assignments.approveAssignment(this, input, options);
  }

  /**
   * Rejects a submitted assignment. `alreadyDone` when already rejected; `invalid` with
   * `assignmentStatus: 'Approved'` when it was approved meanwhile.
   *
   * @throws HitstateError `HST_ERR_MTURK_FEEDBACK_REQUIRED` without feedback, before any call.
   */
  rejectAssignment(
    input: assignments.RejectAssignmentInput,
    options?: CallOptions,
  ): Promise<MTurkOutcome<assignments.AssignmentRef>> {
    return assignments.rejectAssignment(this, input, options);
  }

  /** Approves on MTurk (the worker is paid) and tells the caller to record the work as soft-rejected. */
  softRejectAssignment(
    input: assignments.SoftRejectAssignmentInput,
    options?: CallOptions,
  ): Promise<MTurkOutcome<assignments.SoftRejectAssignmentResult>> {
    return assignments.softRejectAssignment(this, input, options);
  }

  /** Pays a bonus with a token derived from run, unit, worker and key: a repeat never pays twice. */
  sendBonus(
    input: assignments.SendBonusInput,
    options?: CallOptions,
  ): Promise<MTurkOutcome<assignments.SendBonusResult>> {
    return assignments.sendBonus(this, input, options);
  }

  /** Bonuses paid for a HIT or an assignment, all pages, with their total in cents. */
  listBonusPayments(
    input: assignments.ListBonusPaymentsInput,
    options?: CallOptions,
  ): Promise<MTurkOutcome<assignments.ListBonusPaymentsResult>> {
    return assignments.listBonusPayments(this, input, options);
  }

  /** Blocks a worker from all of this requester's HITs. */
  blockWorker(input: workers.BlockWorkerInput, options?: CallOptions): Promise<MTurkOutcome<workers.WorkerRef>> {
    return workers.blockWorker(this, input, options);
  }

  /** Removes a block (removing a block that does not exist succeeds). */
  unblockWorker(input: workers.UnblockWorkerInput, options?: CallOptions): Promise<MTurkOutcome<workers.WorkerRef>> {
    return workers.unblockWorker(this, input, options);
  }

  /** Whether a worker is blocked, reading every page of blocks. */
  isWorkerBlocked(workerId: string, options?: CallOptions): Promise<MTurkOutcome<workers.IsWorkerBlockedResult>> {
    return workers.isWorkerBlocked(this, workerId, options);
  }

  /** Finds a qualification type by exact name across all pages (own first); `null` when none. */
  findQualificationType(
    input: quals.FindQualificationTypeInput,
    options?: CallOptions,
  ): Promise<MTurkOutcome<QualificationTypeInfo | null>> {
    return quals.findQualificationType(this, input, options);
  }

  /** Finds a qualification type by exact name or creates it, tolerating the "already created" race. */
  findOrCreateQualificationType(
    input: quals.FindOrCreateQualificationTypeInput,
    options?: CallOptions,
  ): Promise<MTurkOutcome<quals.FindOrCreateQualificationTypeResult>> {
    return quals.findOrCreateQualificationType(this, input, options);
  }

  /** Deletes a qualification type by id. */
  deleteQualificationType(
    qualificationTypeId: string,
    options?: CallOptions,
  ): Promise<MTurkOutcome<quals.QualificationTypeRef>> {
    return quals.deleteQualificationType(this, qualificationTypeId, options);
  }

  /** Grants a qualification (value 1 and no notification unless asked). */
  associateQualificationWithWorker(
    input: workers.AssociateQualificationInput,
    options?: CallOptions,
  ): Promise<MTurkOutcome<workers.WorkerRef>> {
    return workers.associateQualificationWithWorker(this, input, options);
  }

  /** Revokes a qualification. */
  disassociateQualificationFromWorker(
    input: workers.DisassociateQualificationInput,
    options?: CallOptions,
  ): Promise<MTurkOutcome<workers.WorkerRef>> {
    return workers.disassociateQualificationFromWorker(this, input, options);
  }

  /** The account balance, as dollars and cents. */
  getAccountBalance(options?: CallOptions): Promise<MTurkOutcome<workers.AccountBalance>> {
    return workers.getAccountBalance(this, options);
  }

  /** Emails workers, 100 per call, reporting per-worker failures. */
  notifyWorkers(
    input: workers.NotifyWorkersInput,
    options?: CallOptions,
  ): Promise<MTurkOutcome<workers.NotifyWorkersResult>> {
    return workers.notifyWorkers(this, input, options);
  }

  /** Pays a worker outside an assignment through a HIT only that worker qualifies for. */
  createCompensationHIT(
    input: compensation.CreateCompensationHITInput,
    options?: CallOptions,
  ): Promise<MTurkOutcome<compensation.CreateCompensationHITResult>> {
    return compensation.createCompensationHIT(this, input, options);
  }
}
