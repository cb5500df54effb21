/**
 * Qualification types (find by exact name across all pages, find-or-create, delete) and the
 * compensation HIT built on them.
 *
 * Names are the same in every environment: hitstate adds no `_sandbox` suffix. Sandbox and live
 * are different MTurk services with different ids, and the store keeps one name → id mapping per
 * environment, so a sandbox id can never be used live.
 *
 * @module
 */
import {
  CreateQualificationTypeCommand,
  DeleteQualificationTypeCommand,
  paginateListQualificationTypes,
  type QualificationType,
} from '@aws-sdk/client-mturk';
import { requestToken } from './tokens.js';
import type { CallOptions, GatewayCore } from './gateway-core.js';
import { ok, type MTurkOutcome } from './outcome.js';
import { toQualificationTypeInfo, type QualificationTypeInfo } from './records.js';
import { Problems } from './validate.js';

export interface FindQualificationTypeInput {
  /** The exact, case-sensitive name. */
  readonly name: string;
  /** Accept a type owned by another requester (to require it; only owners can grant). @defaultValue false */
  readonly allowForeign?: boolean;
}

async function listTypes(
  core: GatewayCore,
  name: string,
  ownedByCaller: boolean,
  options?: CallOptions,
): Promise<MTurkOutcome<QualificationType[]>> {
  return core.collect(
    {
      method: 'findQualificationType',
      operation: 'ListQualificationTypes',
      options,
      input: { Query: name, MustBeRequestable: false, MustBeOwnedByCaller: ownedByCaller },
    },
    (i) => paginateListQualificationTypes({ client: core.client, pageSize: 100 }, i),
    (page) => page.QualificationTypes,
  );
}

/**
 * Finds a qualification type by exact name across every page of results: own types first, then
 * anyone's. `null` when none has that name. A name held only by another requester is an
 * `invalid` outcome with code `HST_ERR_MTURK_QUALIFICATION_NOT_OWNED` unless `allowForeign`.
 */
export async function findQualificationType(
  core: GatewayCore,
  input: FindQualificationTypeInput,
  options?: CallOptions,
): Promise<MTurkOutcome<QualificationTypeInfo | null>> {
  new Problems().text(input.name, 'name', 1, 255).throwIfAny('findQualificationType input');
  const own = await listTypes(core, input.name, true, options);
  if (own.status !== 'ok') return own;
  const mine = own.value.find((q) => q.Name === input.name);
  if (mine) return ok(toQualificationTypeInfo(mine, true));
  const ownIds = new Set(own.value.map((q) => q.QualificationTypeId));
  const anyone = await listTypes(core, input.name, false, options);
  if (anyone.status !== 'ok') return anyone;
  const foreign = anyone.value.find((q) => q.Name === input.name && !ownIds.has(q.QualificationTypeId));
  if (!foreign) return ok(null);
  if (input.allowForeign) return ok(toQualificationTypeInfo(foreign, false));
  return {
    status: 'invalid',
    message: `qualification type "${input.name}" exists but belongs to another requester (${foreign.QualificationTypeId}); use another name, or pass allowForeign to require it`,
    retryable: false,
    code: 'HST_ERR_MTURK_QUALIFICATION_NOT_OWNED',
    ...(foreign.QualificationTypeId === undefined ? {} : { qualificationTypeId: foreign.QualificationTypeId }),
  };
}

export interface FindOrCreateQualificationTypeInput extends FindQualificationTypeInput {
  /** Shown to workers; required when the type is created. */
  readonly description: string;
  readonly keywords?: string;
}
export interface FindOrCreateQualificationTypeResult {
  readonly qualificationType: QualificationTypeInfo;
  readonly created: boolean;
}

/** MTurk answers a duplicate name with this message (Mephisto `QUALIFICATION_TYPE_EXISTS_MESSAGE`). */
const ALREADY_CREATED = /already created a QualificationType|already exists/i;
/** How long to wait for a type created elsewhere to show up in searches (MTurk indexes lazily). */
const RACE_RETRY_DELAYS_MS = [1_000, 2_000, 4_000, 8_000];

function sleep(core: GatewayCore, ms: number): Promise<void> {
  return new Promise((resolve) => core.clock.setTimeout(resolve, ms));
}

/**
 * Finds the type by exact name, or creates it. Tolerates the create race: when MTurk answers
 * "already created", the type is searched again (with waits on the clock, since search lags).
 */
export async function findOrCreateQualificationType(
  core: GatewayCore,
  input: FindOrCreateQualificationTypeInput,
  options?: CallOptions,
): Promise<MTurkOutcome<FindOrCreateQualificationTypeResult>> {
  new Problems().text(input.description, 'description', 1, 2_000).throwIfAny('findOrCreateQualificationType input');
  const found = await findQualificationType(core, input, options);
  if (found.status !== 'ok') return found;
  if (found.value) return ok({ qualificationType: found.value, created: false });
  const created = await core.call(
    {
      method: 'findOrCreateQualificationType',
      operation: 'CreateQualificationType',
      options,
      input: {
        Name: input.name,
        Description: input.description,
        QualificationTypeStatus: 'Active' as const,
        ...(input.keywords === undefined ? {} : { Keywords: input.keywords }),
      },
    },
    (i) => core.client.send(new CreateQualificationTypeCommand(i)),
  );
  if (created.status === 'ok')
    return ok({
      qualificationType: toQualificationTypeInfo(created.value.QualificationType ?? {}, true),
      created: true,
    });
  if (created.status !== 'invalid' || !ALREADY_CREATED.test(created.message)) return created;
  for (const delayMs of [0, ...RACE_RETRY_DELAYS_MS]) {
    if (delayMs > 0) await sleep(core, delayMs);
    const again = await findQualificationType(core, { name: input.name }, options);
    if (again.status !== 'ok') return again;
    if (again.value) return ok({ qualificationType: again.value, created: false });
  }
  return created;
}

export interface QualificationTypeRef {
  readonly qualificationTypeId: string;
}

/** Deletes a type (MTurk finishes it only once every HIT using it is gone, up to 48 hours). */
export async function deleteQualificationType(
  core: GatewayCore,
  qualificationTypeId: string,
  options?: CallOptions,
): Promise<MTurkOutcome<QualificationTypeRef>> {
  new Problems().nonEmpty(qualificationTypeId, 'qualificationTypeId').throwIfAny('deleteQualificationType input');
  const outcome = await core.call(
    {
      method: 'deleteQualificationType',
      operation: 'DeleteQualificationType',
      options,
      input: { QualificationTypeId: qualificationTypeId },
    },
    (i) => core.client.send(new DeleteQualificationTypeCommand(i)),
  );
  return outcome.status === 'ok' ? ok({ qualificationTypeId }) : outcome;
}

/**
 * The name of the qualification gating a compensation HIT. Derived from a hash, because
 * qualification names are public on MTurk and must not reveal the WorkerId.
 */
export function compensationQualificationName(runId: string, workerId: string, key: string): string {
  return `hitstate-compensation-${requestToken('comp', ['qualification', runId, workerId, key]).slice(-16)}`;
}
