/**
 * How each MTurk operation is governed: its default priority lane, whether a service fault may be
 * retried, and whether it is audited (moves money or changes a HIT, worker or qualification).
 *
 * @module
 */
import type { Lane } from './governor.js';

/** Policy of one MTurk operation. */
export interface OperationPolicy {
  readonly lane: Lane;
  /** Idempotent on MTurk, or always sent with a UniqueRequestToken by the gateway. */
  readonly retrySafe: boolean;
  readonly audited: boolean;
}

const read = (lane: Lane = 'polling'): OperationPolicy => ({ lane, retrySafe: true, audited: false });
const change = (lane: Lane, retrySafe = true): OperationPolicy => ({ lane, retrySafe, audited: true });

/**
 * The policy table. Approve and reject are retry-safe because a repeat is recognised as
 * alreadyDone; CreateHITWithHITType and SendBonus because the gateway always sends a token;
 * NotifyWorkers and CreateQualificationType are not (a repeat mails twice, or fails).
 */
export const OPERATION_POLICIES: Readonly<Record<string, OperationPolicy>> = Object.freeze({
  CreateHITType: change('lifecycle'),
  CreateHITWithHITType: change('lifecycle'),
  UpdateExpirationForHIT: change('lifecycle'),
  DeleteHIT: change('lifecycle'),
  ApproveAssignment: change('money'),
  RejectAssignment: change('money'),
  SendBonus: change('money'),
  CreateWorkerBlock: change('lifecycle'),
  DeleteWorkerBlock: change('lifecycle'),
  CreateQualificationType: change('lifecycle', false),
  DeleteQualificationType: change('lifecycle'),
  AssociateQualificationWithWorker: change('lifecycle'),
  DisassociateQualificationFromWorker: change('lifecycle'),
  NotifyWorkers: change('lifecycle', false),
  GetHIT: read(),
  ListHITs: read(),
  ListReviewableHITs: read(),
  ListAssignmentsForHIT: read(),
  GetAssignment: read(),
  ListBonusPayments: read(),
  ListWorkerBlocks: read(),
  ListQualificationTypes: read(),
  GetAccountBalance: read(),
});

/** The policy of `operation` (SDK operation name, with or without the `Command` suffix). */
export function policyOf(operation: string): OperationPolicy {
  const name = operation.endsWith('Command') ? operation.slice(0, -'Command'.length) : operation;
  return OPERATION_POLICIES[name] ?? { lane: 'lifecycle', retrySafe: false, audited: true };
}
