/**
 * HIT types and HITs: create, read, expire, delete, list.
 *
 * @module
 */
import {
  CreateHITTypeCommand,
  CreateHITWithHITTypeCommand,
  DeleteHITCommand,
  GetHITCommand,
  UpdateExpirationForHITCommand,
  paginateListHITs,
  paginateListReviewableHITs,
  type QualificationRequirement,
} from '@aws-sdk/client-mturk';
import { buildRequesterAnnotation, type HitAnnotation } from './annotation.js';
import { previewUrl } from './environment.js';
import type { CallOptions, GatewayCore } from './gateway-core.js';
import { formatUsd, toCents } from './money.js';
import { isStateRefusal, ok, type MTurkOutcome } from './outcome.js';
import { toQualificationRequirements, type LocalQualificationRequirement } from './qualifications.js';
import { buildExternalQuestion, MAX_XML_BYTES } from './question-xml.js';
import { HitstateError } from '../errors.js';
import { listedHITsOf } from './listing-decoder.js';
import { toHITInfo, type HITInfo, type ListedHIT } from './records.js';
import { assertValidToken, hitToken } from './tokens.js';
import { DAY_SEC, Problems } from './validate.js';

/** Mephisto's auto-approval delay: 7 days (MTurk's own default is 30). */
export const DEFAULT_AUTO_APPROVAL_DELAY_SEC = 7 * DAY_SEC;
/** Mephisto's HIT lifetime: 31 days. */
export const DEFAULT_HIT_LIFETIME_SEC = 31 * DAY_SEC;
/** A date in the past: `UpdateExpirationForHIT` with it expires a HIT at once (Mephisto's value). */
export const EXPIRE_NOW = new Date(Date.UTC(2015, 0, 1));

export interface CreateHITTypeInput {
  /** 1 to 128 characters. */
  readonly title: string;
  /** 1 to 2,000 characters. */
  readonly description: string;
  /** Comma-joined when a list; at most 1,000 characters in all. */
  readonly keywords?: string | readonly string[];
  /** Reward per assignment, e.g. `"0.50"`. */
  readonly rewardUsd: string | number;
  /** 30 s to 365 days. */
  readonly assignmentDurationSec: number;
  /** 0 to 30 days. @defaultValue 604800 (7 days, Mephisto's choice) */
  readonly autoApprovalDelaySec?: number;
  /** Requirements with resolved qualification type ids. */
  readonly qualificationRequirements?: readonly LocalQualificationRequirement[];
  /** Leave out the automatic locale requirement on live. @defaultValue false */
  readonly skipLocaleRequirement?: boolean;
}
export interface CreateHITTypeResult {
  readonly hitTypeId: string;
  /** The requirements as sent, the automatic locale requirement included. */
  readonly qualificationRequirements: readonly QualificationRequirement[];
}

export async function createHITType(
  core: GatewayCore,
  input: CreateHITTypeInput,
  options?: CallOptions,
): Promise<MTurkOutcome<CreateHITTypeResult>> {
  const keywords =
    typeof input.keywords === 'string' || input.keywords === undefined ? input.keywords : input.keywords.join(',');
  const autoApprovalDelaySec = input.autoApprovalDelaySec ?? DEFAULT_AUTO_APPROVAL_DELAY_SEC;
  const problems = new Problems()
    .text(input.title, 'title', 1, 128)
    .text(input.description, 'description', 1, 2_000)
    .integer(input.assignmentDurationSec, 'assignmentDurationSec', 30, 365 * DAY_SEC)
    .integer(autoApprovalDelaySec, 'autoApprovalDelaySec', 0, 30 * DAY_SEC);
  if (keywords !== undefined) problems.text(keywords, 'keywords', 0, 1_000);
  problems.throwIfAny('HIT type');
  const reward = formatUsd(toCents(input.rewardUsd, 'rewardUsd'));
  const requirements = toQualificationRequirements(input.qualificationRequirements ?? [], {
    environment: core.environment,
    allowedLocales: core.allowedLocales,
    skipLocaleRequirement: input.skipLocaleRequirement ?? false,
  });
  const outcome = await core.call(
    {
      method: 'createHITType',
      operation: 'CreateHITType',
      options,
      input: {
        Title: input.title,
        Description: input.description,
        ...(keywords === undefined ? {} : { Keywords: keywords }),
        Reward: reward,
        AssignmentDurationInSeconds: input.assignmentDurationSec,
        AutoApprovalDelayInSeconds: autoApprovalDelaySec,
        ...(requirements.length === 0 ? {} : { QualificationRequirements: requirements }),
      },
    },
    (i) => core.client.send(new CreateHITTypeCommand(i)),
  );
  return outcome.status === 'ok'
    ? ok({ hitTypeId: outcome.value.HITTypeId ?? '', qualificationRequirements: requirements })
    : outcome;
}

/** The question of a HIT: hitstate's task page (ExternalQuestion) or a ready XML document. */
export type HITQuestion = { readonly externalUrl: string; readonly frameHeight?: number } | { readonly xml: string };

export interface CreateHITWithHITTypeInput {
  readonly hitTypeId: string;
  readonly question: HITQuestion;
  /** The run the HIT belongs to (RequesterAnnotation and token). */
  readonly runId: string;
  /** The unit launching the HIT (token and annotation). */
  readonly unitId: string;
  /** Relaunch count of the unit; a new attempt makes a new token. @defaultValue 0 */
  readonly attempt?: number;
  /** 30 s to 365 days. @defaultValue 2678400 (31 days) */
  readonly lifetimeSec?: number;
  /** @defaultValue 1 (10 or more doubles MTurk's fee) */
  readonly maxAssignments?: number;
  /** Overrides the derived token (it must still be stable across retries). */
  readonly uniqueRequestToken?: string;
  /** The id of the store that owns the HIT, named in its RequesterAnnotation (`store.ensureStoreId()`). */
  readonly storeId?: string;
}
export interface CreateHITWithHITTypeResult {
  readonly hit: HITInfo;
  /** The group preview link workers open. */
  readonly previewUrl: string;
  /** The UniqueRequestToken sent; store it before the call to replay it after a crash. */
  readonly token: string;
}

/** A HIT creation with everything resolved; shared by unit HITs and compensation HITs. */
export interface HITCreation {
  readonly hitTypeId: string;
  readonly questionXml: string;
  readonly annotation: HitAnnotation;
  readonly token: string;
  readonly lifetimeSec: number;
  readonly maxAssignments: number;
}

export async function sendCreateHIT(
  core: GatewayCore,
  method: string,
  c: HITCreation,
  options?: CallOptions,
): Promise<MTurkOutcome<CreateHITWithHITTypeResult>> {
  new Problems()
    .nonEmpty(c.hitTypeId, 'hitTypeId')
    .integer(c.lifetimeSec, 'lifetimeSec', 30, 365 * DAY_SEC)
    .integer(c.maxAssignments, 'maxAssignments', 1, 1_000_000_000)
    .throwIfAny('HIT');
  const questionBytes = Buffer.byteLength(c.questionXml, 'utf8');
  if (questionBytes > MAX_XML_BYTES) {
    throw new HitstateError(
      'HST_ERR_XML_TOO_LARGE',
      `the question of the HIT is ${questionBytes} bytes; MTurk accepts at most ${MAX_XML_BYTES}`,
      { field: 'question', runId: c.annotation.runId },
    );
  }
  const outcome = await core.call(
    {
      method,
      operation: 'CreateHITWithHITType',
      options,
      rules: { tokenRepeatIsDone: true },
      input: {
        HITTypeId: c.hitTypeId,
        MaxAssignments: c.maxAssignments,
        LifetimeInSeconds: c.lifetimeSec,
        Question: c.questionXml,
        RequesterAnnotation: buildRequesterAnnotation(c.annotation),
        UniqueRequestToken: assertValidToken(c.token),
      },
    },
    (i) => core.client.send(new CreateHITWithHITTypeCommand(i)),
  );
  if (outcome.status !== 'ok') return outcome;
  const hit = toHITInfo(outcome.value.HIT ?? {});
  return ok({ hit, previewUrl: previewUrl(core.workerSite, hit.hitTypeId || c.hitTypeId), token: c.token });
}

export function createHITWithHITType(
  core: GatewayCore,
  input: CreateHITWithHITTypeInput,
  options?: CallOptions,
): Promise<MTurkOutcome<CreateHITWithHITTypeResult>> {
  const questionXml =
    'xml' in input.question
      ? input.question.xml
      : buildExternalQuestion(input.question.externalUrl, input.question.frameHeight ?? 0, {
          allowHttp: core.environment === 'custom',
        });
  return sendCreateHIT(
    core,
    'createHITWithHITType',
    {
      hitTypeId: input.hitTypeId,
      questionXml,
      annotation: {
        runId: input.runId,
        unitId: input.unitId,
        ...(input.storeId === undefined ? {} : { storeId: input.storeId }),
      },
      token: input.uniqueRequestToken ?? hitToken(input.runId, input.unitId, input.attempt ?? 0),
      lifetimeSec: input.lifetimeSec ?? DEFAULT_HIT_LIFETIME_SEC,
      maxAssignments: input.maxAssignments ?? 1,
    },
    options,
  );
}

export async function getHIT(core: GatewayCore, hitId: string, options?: CallOptions): Promise<MTurkOutcome<HITInfo>> {
  new Problems().nonEmpty(hitId, 'hitId').throwIfAny('getHIT input');
  const outcome = await core.call({ method: 'getHIT', operation: 'GetHIT', options, input: { HITId: hitId } }, (i) =>
    core.client.send(new GetHITCommand(i)),
  );
  return outcome.status === 'ok' ? ok(toHITInfo(outcome.value.HIT ?? {})) : outcome;
}

export interface HITRef {
  readonly hitId: string;
}

export async function expireHIT(
  core: GatewayCore,
  hitId: string,
  options?: CallOptions,
): Promise<MTurkOutcome<HITRef>> {
  new Problems().nonEmpty(hitId, 'hitId').throwIfAny('expireHIT input');
  const outcome = await core.call(
    {
      method: 'expireHIT',
      operation: 'UpdateExpirationForHIT',
      options,
      input: { HITId: hitId, ExpireAt: EXPIRE_NOW },
    },
    (i) => core.client.send(new UpdateExpirationForHITCommand(i)),
  );
  return outcome.status === 'ok' ? ok({ hitId }) : outcome;
}

export async function deleteHIT(
  core: GatewayCore,
  hitId: string,
  options?: CallOptions,
  method = 'deleteHIT',
): Promise<MTurkOutcome<HITRef>> {
  new Problems().nonEmpty(hitId, 'hitId').throwIfAny('deleteHIT input');
  const outcome = await core.call({ method, operation: 'DeleteHIT', options, input: { HITId: hitId } }, (i) =>
    core.client.send(new DeleteHITCommand(i)),
  );
  if (outcome.status === 'ok') return ok({ hitId });
  if (outcome.status === 'invalid' && /state '?Disposed/i.test(outcome.message)) {
    return {
      status: 'alreadyDone',
      message: outcome.message,
      retryable: false,
      code: outcome.code,
      hitId,
      ...(outcome.turkErrorCode === undefined ? {} : { turkErrorCode: outcome.turkErrorCode }),
    };
  }
  return outcome;
}

export interface ExpireAndDisposeResult {
  readonly hitId: string;
  readonly expired: boolean;
  readonly disposed: boolean;
  /** Why the HIT could not be disposed yet (assignments pending or awaiting review). */
  readonly notDisposedBecause?: string;
}

/**
 * Mephisto's `expire_and_dispose_hits`, per HIT and with every failure reported: delete; when
 * MTurk refuses because of the HIT's state, expire it and try the delete once more.
 */
export async function expireAndDisposeHIT(
  core: GatewayCore,
  hitId: string,
  options?: CallOptions,
): Promise<MTurkOutcome<ExpireAndDisposeResult>> {
  const first = await deleteHIT(core, hitId, options, 'expireAndDisposeHIT');
  if (first.status === 'ok' || first.status === 'alreadyDone') return ok({ hitId, expired: false, disposed: true });
  if (!isStateRefusal(first)) return first;
  const expired = await expireHIT(core, hitId, options);
  if (expired.status !== 'ok') return expired;
  const second = await deleteHIT(core, hitId, options, 'expireAndDisposeHIT');
  if (second.status === 'ok' || second.status === 'alreadyDone') return ok({ hitId, expired: true, disposed: true });
  if (isStateRefusal(second)) return ok({ hitId, expired: true, disposed: false, notDisposedBecause: second.message });
  return second;
}

export interface ListHITsForHITTypeInput {
  readonly hitTypeId: string;
}
export interface ListReviewableHITsInput {
  readonly hitTypeId?: string;
  /** @defaultValue `Reviewable` */
  readonly status?: 'Reviewable' | 'Reviewing';
}

const PAGE = 100;
const infos = (page: Parameters<typeof listedHITsOf>[0]): HITInfo[] => listedHITsOf(page).map((h) => h.info());

export function listHITs(
  core: GatewayCore,
  options?: CallOptions,
  method = 'listHITs',
): Promise<MTurkOutcome<HITInfo[]>> {
  return core.collect(
    { method, operation: 'ListHITs', options, input: {} },
    (i) => paginateListHITs({ client: core.client, pageSize: PAGE }, i),
    infos,
  );
}

export async function listHITsForHITType(
  core: GatewayCore,
  input: ListHITsForHITTypeInput,
  options?: CallOptions,
): Promise<MTurkOutcome<HITInfo[]>> {
  new Problems().nonEmpty(input.hitTypeId, 'hitTypeId').throwIfAny('listHITsForHITType input');
  const all = await listHITs(core, options, 'listHITsForHITType');
  return all.status === 'ok' ? ok(all.value.filter((h) => h.hitTypeId === input.hitTypeId)) : all;
}

function reviewableInput(input: ListReviewableHITsInput): { HITTypeId?: string; Status: 'Reviewable' | 'Reviewing' } {
  return {
    ...(input.hitTypeId === undefined ? {} : { HITTypeId: input.hitTypeId }),
    Status: input.status ?? 'Reviewable',
  };
}

export function listReviewableHITs(
  core: GatewayCore,
  input: ListReviewableHITsInput = {},
  options?: CallOptions,
): Promise<MTurkOutcome<HITInfo[]>> {
  return core.collect(
    { method: 'listReviewableHITs', operation: 'ListReviewableHITs', options, input: reviewableInput(input) },
    (i) => paginateListReviewableHITs({ client: core.client, pageSize: PAGE }, i),
    infos,
  );
}

export function paginateHITsForHITType(
  core: GatewayCore,
  input: ListHITsForHITTypeInput,
  options?: CallOptions,
): AsyncGenerator<ListedHIT[]> {
  return core.pages(
    { method: 'paginateHITsForHITType', operation: 'ListHITs', options, input: {} },
    (i) => paginateListHITs({ client: core.client, pageSize: PAGE }, i),
    (page) => listedHITsOf(page).filter((h) => h.hitTypeId === input.hitTypeId),
  );
}

export function paginateReviewableHITs(
  core: GatewayCore,
  input: ListReviewableHITsInput = {},
  options?: CallOptions,
): AsyncGenerator<ListedHIT[]> {
  return core.pages(
    { method: 'paginateReviewableHITs', operation: 'ListReviewableHITs', options, input: reviewableInput(input) },
    (i) => paginateListReviewableHITs({ client: core.client, pageSize: PAGE }, i),
    listedHITsOf,
  );
}
