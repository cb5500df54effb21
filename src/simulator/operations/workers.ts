/**
 * Operations about workers: bonuses (paid once per UniqueRequestToken), blocks and messages.
 *
 * @module
 */
import { bonusCostCents, BONUS_FEE_RATE, feeCents, formatCents, toCents } from '../money.js';
import { TurkErrorCode } from '../protocol.js';
import { pageResponse, pageStart, takePage } from '../pagination.js';
import { LIMITS } from '../validation.js';
import { bonusView } from '../views.js';
import { ownAssignment, ownHit, type OperationHandler } from './context.js';

const SendBonus: OperationHandler = (ctx) => {
  const { input, engine, account } = ctx;
  const workerId = input.workerId('WorkerId');
  const amount = input.currency('BonusAmount');
  const a = ownAssignment(ctx);
  const reason = input.string('Reason', { min: 1, max: LIMITS.reasonChars });
  const token = input.optionalToken();
  if (a.status === 'Accepted')
    throw input.fail(
      'This operation can be called with a status of: Submitted, Approved, Rejected',
      TurkErrorCode.InvalidAssignmentState,
    );
  if (a.workerId !== workerId)
    throw input.fail(
      `Worker ${workerId} did not do assignment ${a.assignmentId}; a bonus can only be paid to the worker of the assignment.`,
      TurkErrorCode.InvalidParameterValue,
    );
  if (token !== undefined) {
    const used = engine.tokenInUse(account.accessKeyId, 'bonus', token);
    if (used) {
      throw input.fail(
        `The bonus request with UniqueRequestToken '${token}' was already processed at ${new Date(used.atMs).toISOString()} (${used.ref}); nothing was paid again.`,
        TurkErrorCode.DuplicateRequest,
      );
    }
  }
  const cents = toCents(amount);
  const cost = bonusCostCents(cents);
  engine.requireFunds(account, cost);
  account.balanceCents -= cost;
  engine.state.addBonus({
    account: account.accessKeyId,
    seq: engine.state.nextSeq(),
    workerId,
    assignmentId: a.assignmentId,
    hitId: a.hitId,
    amount,
    amountCents: cents,
    feeCents: feeCents(cents, BONUS_FEE_RATE),
    reason,
    grantMs: ctx.nowMs,
    ...(token !== undefined ? { uniqueRequestToken: token } : {}),
  });
  if (token !== undefined)
    engine.rememberToken(
      account.accessKeyId,
      'bonus',
      token,
      `$${formatCents(cents)} to ${workerId} for assignment ${a.assignmentId}`,
    );
  engine.changed();
  return {};
};

const ListBonusPayments: OperationHandler = (ctx) => {
  const { input, engine } = ctx;
  if (input.has('HITId') === input.has('AssignmentId'))
    throw input.fail('ListBonusPayments needs exactly one of HITId or AssignmentId.', TurkErrorCode.MissingParameters);
  const limit = input.maxResults();
  if (input.has('HITId')) {
    const hit = ownHit(ctx);
    const scope = `ListBonusPayments/HIT/${hit.hitId}`;
    return pageResponse(
      'BonusPayments',
      takePage(engine.state.bonusesOfHit(hit.hitId).entriesAfter(pageStart(input, scope)), limit, scope, bonusView),
    );
  }
  const a = ownAssignment(ctx);
  const scope = `ListBonusPayments/Assignment/${a.assignmentId}`;
  return pageResponse(
    'BonusPayments',
    takePage(
      engine.state.bonusesOfAssignment(a.assignmentId).entriesAfter(pageStart(input, scope)),
      limit,
      scope,
      bonusView,
    ),
  );
};

const CreateWorkerBlock: OperationHandler = (ctx) => {
  const { input, engine, account } = ctx;
  const workerId = input.workerId('WorkerId');
  const reason = input.string('Reason', { min: 1, max: LIMITS.reasonChars });
  const existing = engine.state.block(account.accessKeyId, workerId);
  if (!existing && engine.state.blocksOf(account.accessKeyId).size >= LIMITS.maxWorkerBlocks) {
    throw input.fail(
      `You have blocked ${LIMITS.maxWorkerBlocks} workers, the most MTurk allows; unblock some first.`,
      TurkErrorCode.ParameterOutOfRange,
    );
  }
  engine.state.putBlock({
    account: account.accessKeyId,
    workerId,
    reason,
    seq: existing?.seq ?? engine.state.nextSeq(),
  });
  engine.changed();
  return {};
};

const DeleteWorkerBlock: OperationHandler = (ctx) => {
  const workerId = ctx.input.workerId('WorkerId');
  ctx.input.optionalString('Reason', { max: LIMITS.reasonChars });
  ctx.engine.state.removeBlock(ctx.account.accessKeyId, workerId);
  ctx.engine.changed();
  return {};
};

const ListWorkerBlocks: OperationHandler = (ctx) => {
  const limit = ctx.input.maxResults();
  const after = pageStart(ctx.input, 'ListWorkerBlocks');
  const page = takePage(
    ctx.engine.state.blocksOf(ctx.account.accessKeyId).entriesAfter(after),
    limit,
    'ListWorkerBlocks',
    (b) => ({ WorkerId: b.workerId, Reason: b.reason }),
  );
  return pageResponse('WorkerBlocks', page);
};

const NotifyWorkers: OperationHandler = (ctx) => {
  const { input, engine, account } = ctx;
  const subject = input.string('Subject', { min: 1, max: LIMITS.subjectChars });
  const text = input.string('MessageText', { min: 1, max: LIMITS.messageTextChars });
  const ids = input.optionalArray('WorkerIds');
  if (ids === undefined || ids.length === 0) throw input.missing('WorkerIds');
  if (ids.length > LIMITS.maxNotifyWorkers)
    throw input.invalid(
      'WorkerIds',
      `${ids.length} items`,
      `Member must have length less than or equal to ${LIMITS.maxNotifyWorkers}`,
    );
  const workerIds = ids.map((w, i) => input.workerId('WorkerIds', w, `WorkerIds.${i + 1}`));
  const failures: Record<string, string>[] = [];
  for (const workerId of workerIds) {
    if (!engine.state.hasWorkedFor(account.accessKeyId, workerId)) {
      failures.push({
        NotifyWorkersFailureCode: 'HardFailure',
        NotifyWorkersFailureMessage: `Cannot send notification because you have not approved or rejected any work of worker ${workerId}.`,
        WorkerId: workerId,
      });
      continue;
    }
    engine.worker(workerId).messages.push({ account: account.accessKeyId, subject, text, atMs: ctx.nowMs });
  }
  engine.changed();
  return { NotifyWorkersFailureStatuses: failures };
};

export const workerOperations: Record<string, OperationHandler> = {
  SendBonus,
  ListBonusPayments,
  CreateWorkerBlock,
  DeleteWorkerBlock,
  ListWorkerBlocks,
  NotifyWorkers,
};
