/**
 * What every operation handler receives, and lookups shared by several handlers. A HIT,
 * assignment or HIT type of another requester is reported as not existing, as MTurk does.
 *
 * @module
 */
import type { Engine } from '../engine.js';
import type { AccountRecord, AssignmentRecord, HitRecord, HitTypeRecord, QualificationTypeRecord } from '../model.js';
import { TurkErrorCode } from '../protocol.js';
import { systemQualificationType } from '../qualifications.js';
import type { Input } from '../validation.js';

/** The request as an operation sees it: the engine, the calling requester and the typed body. */
export interface OperationContext {
  readonly engine: Engine;
  readonly account: AccountRecord;
  readonly input: Input;
  readonly nowMs: number;
}

/** An operation: reads the input, changes the state through the engine, returns the output members. */
export type OperationHandler = (ctx: OperationContext) => Record<string, unknown>;

/** The caller's HIT named by a member (default `HITId`), disposed or not. */
export function ownHit(ctx: OperationContext, member = 'HITId'): HitRecord {
  const id = ctx.input.entityId(member);
  const hit = ctx.engine.state.hits.get(id);
  if (!hit || hit.account !== ctx.account.accessKeyId)
    throw ctx.input.fail(`Hit ${id} does not exist.`, TurkErrorCode.HitDoesNotExist);
  return hit;
}

/** The caller's HIT type named by a member (default `HITTypeId`). */
export function ownHitType(ctx: OperationContext, member = 'HITTypeId'): HitTypeRecord {
  const id = ctx.input.entityId(member);
  const type = ctx.engine.state.hitTypes.get(id);
  if (!type || type.account !== ctx.account.accessKeyId)
    throw ctx.input.fail(`HITType ${id} does not exist.`, TurkErrorCode.HitTypeDoesNotExist);
  return type;
}

/** The caller's assignment, once accepted (returned and abandoned ones no longer exist). */
export function ownAssignment(ctx: OperationContext, member = 'AssignmentId'): AssignmentRecord {
  const id = ctx.input.entityId(member);
  const a = ctx.engine.state.assignments.get(id);
  if (!a || a.account !== ctx.account.accessKeyId || a.status === 'Returned' || a.status === 'Abandoned') {
    throw ctx.input.fail(`Assignment ${id} does not exist.`, TurkErrorCode.AssignmentDoesNotExist);
  }
  return a;
}

/** Any existing qualification type (system, the caller's or another requester's public one). */
export function anyQualificationType(
  ctx: OperationContext,
  id: string,
): { type: QualificationTypeRecord; system: boolean } {
  const system = systemQualificationType(id);
  if (system) return { type: system, system: true };
  const type = ctx.engine.state.qualificationTypes.get(id);
  if (!type || type.deleted || (ctx.engine.privateQualificationTypes && type.account !== ctx.account.accessKeyId))
    throw ctx.input.fail(`QualificationType ${id} does not exist.`, TurkErrorCode.QualificationTypeDoesNotExist);
  return { type, system: false };
}

/** The caller's own qualification type (only the owner may grant, revoke, update, delete or list workers). */
export function ownQualificationType(ctx: OperationContext, member = 'QualificationTypeId'): QualificationTypeRecord {
  const id = ctx.input.entityId(member);
  const { type, system } = anyQualificationType(ctx, id);
  if (system || type.account !== ctx.account.accessKeyId) {
    throw ctx.input.fail(
      `You do not own QualificationType ${id}; only its owner can use this operation on it.`,
      TurkErrorCode.NotOwner,
    );
  }
  return type;
}
