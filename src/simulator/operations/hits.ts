/**
 * HIT and HIT type operations: creation (with UniqueRequestToken and funds checks), reading,
 * listing, expiry and extension, review status, type change and deletion.
 *
 * @module
 */
import type { HitTypeRecord } from '../model.js';
import { assignmentCostCents, toCents } from '../money.js';
import { TurkErrorCode } from '../protocol.js';
import { parseQuestion } from '../question.js';
import { pageResponse, pageStart, takePage } from '../pagination.js';
import { LIMITS, readHitTypeProps } from '../validation.js';
import { hitView } from '../views.js';
import { anyQualificationType, ownHit, ownHitType, type OperationContext, type OperationHandler } from './context.js';

type HitTypeProps = ReturnType<typeof readHitTypeProps>;

/** The identity of a HIT type: CreateHITType with the same properties returns the same id. */
export function hitTypePropsKey(
  p: Pick<
    HitTypeRecord,
    | 'title'
    | 'description'
    | 'keywords'
    | 'reward'
    | 'assignmentDurationSec'
    | 'autoApprovalDelaySec'
    | 'qualificationRequirements'
  >,
): string {
  return JSON.stringify([
    p.title,
    p.description,
    p.keywords ?? null,
    p.reward,
    p.assignmentDurationSec,
    p.autoApprovalDelaySec,
    p.qualificationRequirements,
  ]);
}

function findOrCreateHitType(ctx: OperationContext, props: HitTypeProps): HitTypeRecord {
  for (const req of props.qualificationRequirements) anyQualificationType(ctx, req.QualificationTypeId);
  const record = {
    title: props.title,
    description: props.description,
    ...(props.keywords !== undefined ? { keywords: props.keywords } : {}),
    reward: props.reward,
    assignmentDurationSec: props.assignmentDurationSec,
    autoApprovalDelaySec: props.autoApprovalDelaySec,
    qualificationRequirements: props.qualificationRequirements,
  };
  const key = hitTypePropsKey(record);
  const { state } = ctx.engine;
  const existing = state.hitTypeByProps(ctx.account.accessKeyId, key);
  if (existing) return existing;
  const type: HitTypeRecord = {
    hitTypeId: ctx.engine.ids.entityId(),
    account: ctx.account.accessKeyId,
    seq: state.nextSeq(),
    creationMs: ctx.nowMs,
    ...record,
    rewardCents: toCents(props.reward),
    notificationActive: false,
  };
  state.addHitType(type, key);
  ctx.engine.changed();
  return type;
}

const UNSUPPORTED_MEMBERS = [
  'HITLayoutId',
  'HITLayoutParameters',
  'AssignmentReviewPolicy',
  'HITReviewPolicy',
] as const;

/** The members CreateHIT and CreateHITWithHITType share, checked before anything is created. */
function readHitProps(ctx: OperationContext): {
  lifetimeSec: number;
  maxAssignments: number;
  question: string;
  requesterAnnotation?: string;
  token?: string;
} {
  const { input } = ctx;
  for (const m of UNSUPPORTED_MEMBERS) {
    if (input.has(m))
      throw input.fail(
        `${m} is not supported by the hitstate MTurk simulator; send a Question (ExternalQuestion, HTMLQuestion or QuestionForm) and review assignments yourself.`,
        TurkErrorCode.UnsupportedOperation,
      );
  }
  const lifetimeSec = input.int('LifetimeInSeconds', { min: LIMITS.minDurationSec, max: LIMITS.maxDurationSec });
  const maxAssignments = input.optionalInt('MaxAssignments', { min: 1, max: LIMITS.maxAssignments }) ?? 1;
  const question = input.string('Question', { min: 1, maxBytes: LIMITS.questionBytes });
  try {
    parseQuestion(question);
  } catch (err) {
    throw input.fail(err instanceof Error ? err.message : String(err), TurkErrorCode.XmlParseError);
  }
  const requesterAnnotation = input.optionalString('RequesterAnnotation', { max: LIMITS.annotationChars });
  const token = input.optionalToken();
  return {
    lifetimeSec,
    maxAssignments,
    question,
    ...(requesterAnnotation !== undefined ? { requesterAnnotation } : {}),
    ...(token !== undefined ? { token } : {}),
  };
}

function createHitOfType(
  ctx: OperationContext,
  type: HitTypeRecord,
  props: ReturnType<typeof readHitProps>,
): Record<string, unknown> {
  const { engine, account } = ctx;
  if (props.token !== undefined) {
    const used = engine.tokenInUse(account.accessKeyId, 'hit', props.token);
    if (used) {
      throw ctx.input.fail(
        `The HIT with ID "${used.ref}" already exists: it was created with UniqueRequestToken '${props.token}' at ${new Date(used.atMs).toISOString()}. A repeat within 24 hours never creates a second HIT.`,
        TurkErrorCode.HitAlreadyExists,
      );
    }
  }
  engine.requireFunds(account, assignmentCostCents(type.rewardCents, props.maxAssignments) * props.maxAssignments);
  const hit = engine.createHit(account, type, props);
  if (props.token !== undefined) engine.rememberToken(account.accessKeyId, 'hit', props.token, hit.hitId);
  return { HIT: hitView(engine, hit) };
}

const CreateHITType: OperationHandler = (ctx) => ({
  HITTypeId: findOrCreateHitType(ctx, readHitTypeProps(ctx.input)).hitTypeId,
});

const CreateHIT: OperationHandler = (ctx) => {
  const typeProps = readHitTypeProps(ctx.input);
  const props = readHitProps(ctx);
  return createHitOfType(ctx, findOrCreateHitType(ctx, typeProps), props);
};

const CreateHITWithHITType: OperationHandler = (ctx) => {
  const type = ownHitType(ctx);
  return createHitOfType(ctx, type, readHitProps(ctx));
};

const GetHIT: OperationHandler = (ctx) => ({ HIT: hitView(ctx.engine, ownHit(ctx)) });

const ListHITs: OperationHandler = (ctx) => {
  const limit = ctx.input.maxResults();
  const after = pageStart(ctx.input, 'ListHITs');
  const page = takePage(ctx.engine.state.hitsOf(ctx.account.accessKeyId).entriesAfter(after), limit, 'ListHITs', (h) =>
    hitView(ctx.engine, h),
  );
  return pageResponse('HITs', page);
};

const ListHITsForQualificationType: OperationHandler = (ctx) => {
  const id = ctx.input.entityId('QualificationTypeId');
  anyQualificationType(ctx, id);
  const limit = ctx.input.maxResults();
  const scope = `ListHITsForQualificationType/${id}`;
  const after = pageStart(ctx.input, scope);
  const page = takePage(
    ctx.engine.state.hitsRequiring(ctx.account.accessKeyId, id).entriesAfter(after),
    limit,
    scope,
    (h) => hitView(ctx.engine, h),
  );
  return pageResponse('HITs', page);
};

const ListReviewableHITs: OperationHandler = (ctx) => {
  const { input } = ctx;
  const hitTypeId = input.has('HITTypeId') ? input.entityId('HITTypeId') : undefined;
  const status = input.oneOf('Status', ['Reviewable', 'Reviewing'] as const) ?? 'Reviewable';
  const limit = input.maxResults();
  const scope = `ListReviewableHITs/${status}/${hitTypeId ?? '*'}`;
  const after = pageStart(input, scope);
  const index = ctx.engine.state.reviewableHits(ctx.account.accessKeyId, status, hitTypeId);
  return pageResponse(
    'HITs',
    takePage(index.entriesAfter(after), limit, scope, (h) => hitView(ctx.engine, h)),
  );
};

function stateError(ctx: OperationContext, status: string, allowed: string): Error {
  return ctx.input.fail(
    `This HIT is currently in the state '${status}'.  This operation can be called with a status of: ${allowed}`,
    TurkErrorCode.InvalidHitState,
  );
}

const UpdateExpirationForHIT: OperationHandler = (ctx) => {
  const hit = ownHit(ctx);
  const expireAtMs = ctx.input.timestampMs('ExpireAt');
  const { engine, nowMs } = ctx;
  if (hit.disposed) throw stateError(ctx, hit.status, 'Assignable, Unassignable, Reviewable, Reviewing');
  if (expireAtMs <= nowMs) {
    engine.expireHit(hit, nowMs);
    return {};
  }
  if (expireAtMs - nowMs > LIMITS.maxDurationSec * 1000) {
    throw ctx.input.invalid(
      'ExpireAt',
      expireAtMs / 1000,
      `Member must be at most ${LIMITS.maxDurationSec} seconds (365 days) from now`,
    );
  }
  if (!hit.expired && expireAtMs < hit.expirationMs) {
    throw ctx.input.fail(
      `You cannot shorten the expiration time of HIT ${hit.hitId} (it expires at ${new Date(hit.expirationMs).toISOString()}); send a time in the past to expire it now.`,
      TurkErrorCode.InvalidParameterValue,
    );
  }
  engine.extendHit(hit, expireAtMs);
  return {};
};

const UpdateHITReviewStatus: OperationHandler = (ctx) => {
  const hit = ownHit(ctx);
  const revert = ctx.input.optionalBool('Revert') ?? false;
  const from = revert ? 'Reviewing' : 'Reviewable';
  if (hit.status !== from) throw stateError(ctx, hit.status, from);
  ctx.engine.changeHit(hit, ctx.nowMs, () => {
    hit.reviewing = !revert;
  });
  return {};
};

const UpdateHITTypeOfHIT: OperationHandler = (ctx) => {
  const hit = ownHit(ctx);
  const type = ownHitType(ctx);
  if (hit.disposed) throw stateError(ctx, hit.status, 'Assignable, Unassignable, Reviewable, Reviewing');
  const { engine } = ctx;
  engine.requireFunds(ctx.account, engine.escrowFor(hit, type) - hit.escrowCents);
  engine.changeHit(hit, ctx.nowMs, () => {
    hit.hitTypeId = type.hitTypeId;
  });
  return {};
};

const CreateAdditionalAssignmentsForHIT: OperationHandler = (ctx) => {
  const hit = ownHit(ctx);
  const n = ctx.input.int('NumberOfAdditionalAssignments', { min: 1, max: LIMITS.maxAssignments });
  const token = ctx.input.optionalToken();
  const { engine, account } = ctx;
  if (hit.disposed) throw stateError(ctx, hit.status, 'Assignable, Unassignable, Reviewable, Reviewing');
  if (hit.maxAssignments < 10 && hit.maxAssignments + n >= 10) {
    throw ctx.input.fail(
      `HIT ${hit.hitId} was created with ${hit.maxAssignments} assignments; a HIT with fewer than 10 assignments cannot be extended to 10 or more (asked for ${hit.maxAssignments + n}). Create a new HIT instead.`,
      TurkErrorCode.InvalidMaximumAssignmentsIncrease,
    );
  }
  if (hit.maxAssignments + n > LIMITS.maxAssignments)
    throw ctx.input.invalid('NumberOfAdditionalAssignments', n, `MaxAssignments would exceed ${LIMITS.maxAssignments}`);
  if (token !== undefined) {
    const used = engine.tokenInUse(account.accessKeyId, 'assignments', token);
    if (used)
      throw ctx.input.fail(
        `The request with UniqueRequestToken '${token}' was already processed at ${new Date(used.atMs).toISOString()} (${used.ref}); nothing was added.`,
        TurkErrorCode.DuplicateRequest,
      );
  }
  if (!hit.expired) engine.requireFunds(account, n * engine.unitCostCents(hit));
  engine.changeHit(hit, ctx.nowMs, () => {
    hit.maxAssignments += n;
  });
  engine.notify(hit, 'HITExtended', ctx.nowMs);
  if (token !== undefined)
    engine.rememberToken(account.accessKeyId, 'assignments', token, `${n} assignments added to HIT ${hit.hitId}`);
  return {};
};

const DeleteHIT: OperationHandler = (ctx) => {
  const hit = ownHit(ctx);
  if (hit.status !== 'Reviewable' && hit.status !== 'Reviewing')
    throw stateError(ctx, hit.status, 'Reviewing, Reviewable');
  if (hit.submitted > 0) {
    throw ctx.input.fail(
      `HIT ${hit.hitId} has ${hit.submitted} Submitted assignment(s) that are neither approved nor rejected. This operation can be called when every submitted assignment is approved or rejected.`,
      TurkErrorCode.InvalidHitState,
    );
  }
  ctx.engine.changeHit(hit, ctx.nowMs, () => {
    hit.disposed = true;
  });
  ctx.engine.notify(hit, 'HITDisposed', ctx.nowMs);
  return {};
};

export const hitOperations: Record<string, OperationHandler> = {
  CreateHITType,
  CreateHIT,
  CreateHITWithHITType,
  GetHIT,
  ListHITs,
  ListHITsForQualificationType,
  ListReviewableHITs,
  UpdateExpirationForHIT,
  UpdateHITReviewStatus,
  UpdateHITTypeOfHIT,
  CreateAdditionalAssignmentsForHIT,
  DeleteHIT,
};
