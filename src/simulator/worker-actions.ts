/**
 * What a simulated worker can do: accept a HIT (by id or by HIT type), submit, return, or walk
 * away (abandon). The control API, the worker pages and the in-process `sim.workers` all call
 * these, so every path enforces the same rules: blocks, qualification requirements, one
 * assignment per worker per HIT, and only Assignable HITs can be accepted.
 *
 * @module
 */
import { HitstateError } from '../errors.js';
import type { Engine } from './engine.js';
import type { AssignmentRecord, HitRecord, Locale } from './model.js';
import { buildAnswerXml } from './question.js';
import { describeRequirement, unmetRequirements, type WorkerAction } from './qualifications.js';
import { CUSTOMER_ID, ENTITY_ID } from './validation.js';

/** The assignment id MTurk passes to a task in preview mode. */
export const PREVIEW_ASSIGNMENT_ID = 'ASSIGNMENT_ID_NOT_AVAILABLE';

/** Field names externalSubmit never stores as answers. */
export const RESERVED_FIELDS = new Set(['assignmentId', 'hitId', 'workerId', 'turkSubmitTo']);

/** Which HIT to accept: a HIT, or any assignable HIT of a HIT type (group). */
export type AcceptTarget = { hitId: string } | { hitTypeId: string };

/** @throws HitstateError `HST_ERR_SIM_BAD_REQUEST` when the worker id is not an MTurk worker id. */
export function checkWorkerId(workerId: unknown): string {
  if (typeof workerId !== 'string' || workerId.length > 64 || !CUSTOMER_ID.test(workerId)) {
    throw new HitstateError(
      'HST_ERR_SIM_BAD_REQUEST',
      `workerId must look like an MTurk worker id ('A' followed by uppercase letters and digits, e.g. A1B2C3D4E5F6G7), got ${JSON.stringify(workerId)}.`,
      { field: 'workerId' },
    );
  }
  return workerId;
}

/** Why a worker may not take an action on a HIT, or undefined when they may. */
export function refusal(
  engine: Engine,
  workerId: string,
  hit: HitRecord,
  action: WorkerAction,
): HitstateError | undefined {
  if (engine.state.block(hit.account, workerId)) {
    return new HitstateError(
      'HST_ERR_SIM_WORKER_NOT_ALLOWED',
      `Worker ${workerId} is blocked by the requester of HIT ${hit.hitId}.`,
      { hitId: hit.hitId, workerId },
    );
  }
  const unmet = unmetRequirements(
    engine.state,
    engine.worker(workerId),
    engine.type(hit).qualificationRequirements,
    action,
  );
  if (unmet.length > 0) {
    const list = unmet.map((r) => describeRequirement(engine.state, r)).join('; ');
    return new HitstateError(
      'HST_ERR_SIM_WORKER_NOT_ALLOWED',
      `Worker ${workerId} does not meet the qualification requirements of HIT ${hit.hitId} to ${action} it: ${list}.`,
      { hitId: hit.hitId, workerId },
    );
  }
  return undefined;
}

function unavailable(hit: HitRecord, why: string, workerId: string): HitstateError {
  return new HitstateError(
    'HST_ERR_SIM_HIT_UNAVAILABLE',
    `HIT ${hit.hitId} cannot be accepted by ${workerId}: ${why}.`,
    { hitId: hit.hitId, workerId },
  );
}

function whyUnavailable(engine: Engine, hit: HitRecord, workerId: string): HitstateError | undefined {
  if (hit.status !== 'Assignable')
    return unavailable(hit, `its status is ${hit.status}${hit.expired ? ' (expired)' : ''}`, workerId);
  if (engine.state.heldBy(hit.hitId, workerId))
    return unavailable(
      hit,
      'the worker already holds an assignment of this HIT (one assignment per worker per HIT)',
      workerId,
    );
  return undefined;
}

/** Creates the assignment; the HIT must be Assignable and the worker allowed. */
function acceptHit(engine: Engine, workerId: string, hit: HitRecord): AssignmentRecord {
  const nowMs = engine.now();
  const type = engine.type(hit);
  const a: AssignmentRecord = {
    assignmentId: engine.ids.entityId(),
    hitId: hit.hitId,
    workerId,
    account: hit.account,
    seq: engine.state.nextSeq(),
    status: 'Accepted',
    acceptMs: nowMs,
    deadlineMs: nowMs + type.assignmentDurationSec * 1000,
  };
  engine.state.addAssignment(a);
  engine.changeHit(hit, nowMs, () => {
    hit.pending++;
  });
  engine.schedule({ atMs: a.deadlineMs, kind: 'assignmentDeadline', ref: a.assignmentId });
  engine.notify(hit, 'AssignmentAccepted', nowMs, a.assignmentId);
  return a;
}

/**
 * A worker accepts a HIT, or the oldest HIT of a group they can take.
 *
 * @throws HitstateError `HST_ERR_SIM_NOT_FOUND` (unknown HIT or HIT type),
 *   `HST_ERR_SIM_WORKER_NOT_ALLOWED` (blocked, unqualified), `HST_ERR_SIM_HIT_UNAVAILABLE`.
 */
export function accept(engine: Engine, workerIdRaw: unknown, target: AcceptTarget): AssignmentRecord {
  const workerId = checkWorkerId(workerIdRaw);
  engine.processDue();
  if ('hitId' in target) {
    const hit =
      typeof target.hitId === 'string' && ENTITY_ID.test(target.hitId)
        ? engine.state.hits.get(target.hitId)
        : undefined;
    if (!hit)
      throw new HitstateError('HST_ERR_SIM_NOT_FOUND', `HIT ${JSON.stringify(target.hitId)} does not exist.`, {
        hitId: String(target.hitId),
      });
    const problem = refusal(engine, workerId, hit, 'accept') ?? whyUnavailable(engine, hit, workerId);
    if (problem) throw problem;
    return acceptHit(engine, workerId, hit);
  }
  const hitTypeId = target.hitTypeId;
  if (typeof hitTypeId !== 'string' || !engine.state.hitTypes.has(hitTypeId)) {
    throw new HitstateError('HST_ERR_SIM_NOT_FOUND', `HIT type (group) ${JSON.stringify(hitTypeId)} does not exist.`, {
      field: 'hitTypeId',
    });
  }
  for (const hit of engine.state.assignableHitsOf(hitTypeId).values()) {
    if (engine.state.heldBy(hit.hitId, workerId)) continue;
    // Blocks and requirements are the same for every HIT of a type: the first answer holds for all.
    const problem = refusal(engine, workerId, hit, 'accept');
    if (problem) throw problem;
    return acceptHit(engine, workerId, hit);
  }
  throw new HitstateError(
    'HST_ERR_SIM_HIT_UNAVAILABLE',
    `No HIT of group ${hitTypeId} can be accepted by ${workerId}: none is Assignable, or the worker already holds an assignment of each.`,
    { workerId },
  );
}

/** The assignment, if it exists and is still accepted (not submitted, returned or abandoned). */
export function pendingAssignment(engine: Engine, assignmentId: unknown, action: string): AssignmentRecord {
  if (assignmentId === PREVIEW_ASSIGNMENT_ID) {
    throw new HitstateError(
      'HST_ERR_SIM_BAD_REQUEST',
      `Cannot ${action} in preview mode (assignmentId=${PREVIEW_ASSIGNMENT_ID}): accept the HIT first.`,
      { field: 'assignmentId' },
    );
  }
  engine.processDue();
  const a = typeof assignmentId === 'string' ? engine.state.assignments.get(assignmentId) : undefined;
  if (!a)
    throw new HitstateError('HST_ERR_SIM_NOT_FOUND', `Assignment ${JSON.stringify(assignmentId)} does not exist.`, {
      assignmentId: String(assignmentId),
    });
  if (a.status !== 'Accepted') {
    throw new HitstateError(
      'HST_ERR_SIM_ASSIGNMENT_STATE',
      `Cannot ${action} assignment ${a.assignmentId}: it is ${a.status}, and only an accepted, unsubmitted assignment can be.`,
      { assignmentId: a.assignmentId },
    );
  }
  return a;
}

/**
 * The worker submits: the assignment becomes Submitted with a QuestionFormAnswers answer holding
 * one FreeText per field (reserved fields dropped; the fields named in `selectionQuestions`, a
 * QuestionForm's SelectionAnswers, as SelectionIdentifiers), and auto-approval is scheduled.
 */
export function submit(
  engine: Engine,
  assignmentId: unknown,
  fields: readonly (readonly [string, string])[],
  selectionQuestions?: ReadonlySet<string>,
): AssignmentRecord {
  const a = pendingAssignment(engine, assignmentId, 'submit');
  const hit = engine.state.hits.get(a.hitId)!;
  const nowMs = engine.now();
  const type = engine.type(hit);
  engine.changeAssignment(a, () => {
    a.status = 'Submitted';
    a.submitMs = nowMs;
    a.submitSeq = engine.state.nextSeq();
    a.autoApprovalMs = nowMs + type.autoApprovalDelaySec * 1000;
    a.answer = buildAnswerXml(
      fields.filter(([name]) => !RESERVED_FIELDS.has(name)),
      selectionQuestions,
    );
  });
  engine.worker(a.workerId).decided++;
  engine.notify(hit, 'AssignmentSubmitted', nowMs, a.assignmentId);
  engine.changeHit(hit, nowMs, () => {
    hit.pending--;
    hit.submitted++;
  });
  engine.schedule({ atMs: a.autoApprovalMs!, kind: 'autoApproval', ref: a.assignmentId });
  engine.processDue();
  return a;
}

/** The worker returns the assignment: the slot goes back to the HIT unless it has expired. */
export function returnAssignment(engine: Engine, assignmentId: unknown): AssignmentRecord {
  const a = pendingAssignment(engine, assignmentId, 'return');
  engine.release(a, engine.now(), 'Returned');
  return a;
}

/** The worker walks away now instead of at the deadline (what the deadline passing does). */
export function abandon(engine: Engine, assignmentId: unknown): AssignmentRecord {
  const a = pendingAssignment(engine, assignmentId, 'abandon');
  engine.release(a, engine.now(), 'Abandoned');
  return a;
}

/** Sets a worker's locale (Worker_Locale); workers are in the US unless told otherwise. */
export function setLocale(engine: Engine, workerIdRaw: unknown, locale: unknown): Locale {
  const workerId = checkWorkerId(workerIdRaw);
  const l = locale as Partial<Locale> | null;
  if (
    l === null ||
    typeof l !== 'object' ||
    typeof l.Country !== 'string' ||
    !/^[A-Z]{2}$/.test(l.Country) ||
    (l.Subdivision !== undefined && (typeof l.Subdivision !== 'string' || !/^[A-Z0-9]{2}$/.test(l.Subdivision)))
  ) {
    throw new HitstateError(
      'HST_ERR_SIM_BAD_REQUEST',
      `locale must be {"Country": "US", "Subdivision": "CA"} with a 2-letter ISO 3166 country and an optional 2-character subdivision, got ${JSON.stringify(locale)}.`,
      { field: 'locale' },
    );
  }
  const value: Locale =
    l.Subdivision === undefined ? { Country: l.Country } : { Country: l.Country, Subdivision: l.Subdivision };
  engine.worker(workerId).locale = value;
  engine.changed();
  return value;
}

/** Sets a worker's value of a system qualification (Masters, Adult, approval rate...); null removes it. */
export function setSystemQualification(
  engine: Engine,
  workerIdRaw: unknown,
  qualificationTypeId: string,
  value: unknown,
): void {
  const workerId = checkWorkerId(workerIdRaw);
  if (!ENTITY_ID.test(qualificationTypeId))
    throw new HitstateError(
      'HST_ERR_SIM_BAD_REQUEST',
      `qualification type id ${JSON.stringify(qualificationTypeId)} is not an MTurk id.`,
      { field: 'systemQualifications' },
    );
  const w = engine.worker(workerId);
  if (value === null) delete w.systemQualifications[qualificationTypeId];
  else if (typeof value === 'number' && Number.isInteger(value)) w.systemQualifications[qualificationTypeId] = value;
  else
    throw new HitstateError(
      'HST_ERR_SIM_BAD_REQUEST',
      `systemQualifications.${qualificationTypeId} must be an integer or null, got ${JSON.stringify(value)}.`,
      { field: 'systemQualifications' },
    );
  engine.changed();
}

/** What became of a qualification request: granted at once (AutoGranted types) or waiting for the requester. */
export interface QualificationRequestResult {
  status: 'Granted' | 'Pending';
  qualificationRequestId?: string;
}

/**
 * A worker requests a qualification. AutoGranted types grant at once with AutoGrantedValue;
 * others wait in ListQualificationRequests until the owner accepts or rejects. A type with a Test
 * stores the test and the worker's answers (`fields`, as QuestionFormAnswers). After a rejection
 * the worker may ask again only once RetryDelayInSeconds has passed (never, without one).
 *
 * @throws HitstateError `HST_ERR_SIM_NOT_FOUND`, `HST_ERR_SIM_QUALIFICATION_REQUEST_REFUSED`.
 */
export function requestQualification(
  engine: Engine,
  workerIdRaw: unknown,
  qualificationTypeId: unknown,
  fields: readonly (readonly [string, string])[] = [],
  selectionQuestions?: ReadonlySet<string>,
): QualificationRequestResult {
  const workerId = checkWorkerId(workerIdRaw);
  const type =
    typeof qualificationTypeId === 'string' ? engine.state.qualificationTypes.get(qualificationTypeId) : undefined;
  if (!type || type.deleted)
    throw new HitstateError(
      'HST_ERR_SIM_NOT_FOUND',
      `Qualification type ${JSON.stringify(qualificationTypeId)} does not exist (system qualifications cannot be requested).`,
      { field: 'qualificationTypeId' },
    );
  const refused = (why: string): HitstateError =>
    new HitstateError(
      'HST_ERR_SIM_QUALIFICATION_REQUEST_REFUSED',
      `Worker ${workerId} cannot request qualification ${type.qualificationTypeId} (${type.name}): ${why}.`,
      { workerId },
    );
  if (type.status !== 'Active') throw refused('the type is Inactive');
  if (engine.state.grant(type.qualificationTypeId, workerId)?.status === 'Granted')
    throw refused('the worker already holds it');
  const nowMs = engine.now();
  const last = engine.state.latestQualificationRequest(type.qualificationTypeId, workerId);
  if (last?.status === 'Pending') throw refused(`request ${last.qualificationRequestId} is still pending`);
  if (last?.status === 'Rejected') {
    if (type.retryDelaySec === undefined)
      throw refused('a rejected request cannot be repeated for a type without RetryDelayInSeconds');
    const retryAtMs = (last.decidedMs ?? last.submitMs) + type.retryDelaySec * 1000;
    if (nowMs < retryAtMs) throw refused(`the retry delay runs until ${new Date(retryAtMs).toISOString()}`);
  }
  engine.worker(workerId);
  if (type.autoGranted) {
    const existing = engine.state.grant(type.qualificationTypeId, workerId);
    engine.state.putGrant({
      qualificationTypeId: type.qualificationTypeId,
      workerId,
      seq: existing?.seq ?? engine.state.nextSeq(),
      status: 'Granted',
      grantMs: nowMs,
      integerValue: type.autoGrantedValue ?? 1,
    });
    engine.changed();
    return { status: 'Granted' };
  }
  const request = {
    qualificationRequestId: engine.ids.entityId(),
    qualificationTypeId: type.qualificationTypeId,
    workerId,
    account: type.account,
    seq: engine.state.nextSeq(),
    submitMs: nowMs,
    status: 'Pending' as const,
    ...(type.test !== undefined ? { test: type.test, answer: buildAnswerXml(fields, selectionQuestions) } : {}),
  };
  engine.state.putQualificationRequest(request);
  engine.changed();
  return { status: 'Pending', qualificationRequestId: request.qualificationRequestId };
}
