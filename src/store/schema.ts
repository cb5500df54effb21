/**
 * Reading schema-v1 files back into typed, frozen records. Anything unexpected (a missing id, a
 * status that is not a string, a key that disagrees with its record) is a {@link SchemaProblem}
 * naming the place in the file; the store then refuses the file instead of guessing.
 *
 * @module
 */
import { deepFreeze, type JsonObject, type ReadonlyJsonObject } from './json.js';
import { type CoreFile, type FileHeader, type FileKind, RecordMap, type RecordsFile, STORE_FORMAT } from './layout.js';
import { normalizeEnvironment, sameEnvironment, type StoreEnvironment } from './environment.js';
import type {
  AgentRecord, AgentReview, CredentialSource, HitRecord, IntentRecord, QualificationMapping, RequesterRecord,
  SnapshotRecord, TaskRunRecord, UnitRecord, WorkerBlock, WorkerRecord,
} from './types.js';
import type { AgentState, AssignmentState, HITStatus } from '../../machines/states.js';

/** Something in a file is not what schema v1 says; `where` is a path like `records.u7.status`. */
export class SchemaProblem extends Error {
  constructor(
    readonly where: string,
    problem: string,
  ) {
    super(`${where} ${problem}`);
    this.name = 'SchemaProblem';
  }
}

/** The file was written for another environment. */
export class EnvironmentProblem extends Error {
  constructor(readonly found: StoreEnvironment | unknown) {
    super('environment mismatch');
    this.name = 'EnvironmentProblem';
  }
}

type Raw = Record<string, unknown>;

function object(v: unknown, at: string): Raw {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new SchemaProblem(at, 'must be an object');
  return v as Raw;
}
function string(v: unknown, at: string): string {
  if (typeof v !== 'string') throw new SchemaProblem(at, `must be a string, found ${JSON.stringify(v)}`);
  return v;
}
function stringOrNull(v: unknown, at: string): string | null {
  return v === null ? null : string(v, at);
}
function integer(v: unknown, at: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw new SchemaProblem(at, `must be an integer, found ${JSON.stringify(v)}`);
  return v;
}
function integerOrNull(v: unknown, at: string): number | null {
  return v === null ? null : integer(v, at);
}
function boolean(v: unknown, at: string): boolean {
  if (typeof v !== 'boolean') throw new SchemaProblem(at, `must be true or false, found ${JSON.stringify(v)}`);
  return v;
}

/**
 * Checks the header of a file.
 *
 * @throws SchemaProblem for a foreign file or wrong kind, EnvironmentProblem for another environment.
 * The schema version is checked by the caller, which knows about migrations.
 */
export function checkHeader(raw: Raw, kind: FileKind, environment: StoreEnvironment, runId?: string): void {
  if (raw.format !== STORE_FORMAT) throw new SchemaProblem('format', `must be "${STORE_FORMAT}", found ${JSON.stringify(raw.format)}: not a hitstate store file`);
  if (raw.kind !== kind) throw new SchemaProblem('kind', `must be "${kind}" for this file name, found ${JSON.stringify(raw.kind)}`);
  let env: StoreEnvironment;
  try {
    env = normalizeEnvironment(object(raw.environment, 'environment') as unknown as StoreEnvironment);
  } catch {
    throw new SchemaProblem('environment', `must be {"kind":"live"|"sandbox"|"custom",...}, found ${JSON.stringify(raw.environment)}`);
  }
  if (!sameEnvironment(env, environment)) throw new EnvironmentProblem(env);
  if (runId !== undefined && raw.runId !== runId) throw new SchemaProblem('runId', `must be "${runId}" (the directory's run), found ${JSON.stringify(raw.runId)}`);
}

/** Turns `{ id: record }` into a RecordMap, checking every record and that each key is its id. */
function records<R>(raw: unknown, at: string, read: (r: Raw, at: string) => R, idOf: (r: R) => string): RecordMap<R> {
  const out = new RecordMap<R>();
  for (const [key, value] of Object.entries(object(raw, at))) {
    const where = `${at}.${key}`;
    const record = read(object(value, where), where);
    if (idOf(record) !== key) throw new SchemaProblem(where, `is filed under "${key}" but its id is "${idOf(record)}"`);
    out.set(key, record);
  }
  return out;
}

function credentialSource(v: unknown, at: string): CredentialSource {
  const r = object(v, at);
  if (r.kind === 'chain') return { kind: 'chain' };
  if (r.kind === 'profile') return { kind: 'profile', profile: string(r.profile, `${at}.profile`) };
  throw new SchemaProblem(`${at}.kind`, `must be "chain" or "profile", found ${JSON.stringify(r.kind)}`);
}

export const readRequester = (r: Raw, at: string): RequesterRecord => deepFreeze({
  name: string(r.name, `${at}.name`),
  credentialSource: credentialSource(r.credentialSource, `${at}.credentialSource`),
  createdAt: integer(r.createdAt, `${at}.createdAt`),
  updatedAt: integer(r.updatedAt, `${at}.updatedAt`),
});

export const readRun = (r: Raw, at: string): TaskRunRecord => deepFreeze({
  id: string(r.id, `${at}.id`),
  requesterName: string(r.requesterName, `${at}.requesterName`),
  status: string(r.status, `${at}.status`) as TaskRunRecord['status'],
  config: object(r.config, `${at}.config`) as ReadonlyJsonObject,
  hitTypeId: stringOrNull(r.hitTypeId, `${at}.hitTypeId`),
  frameHeight: integer(r.frameHeight, `${at}.frameHeight`),
  createdAt: integer(r.createdAt, `${at}.createdAt`),
  updatedAt: integer(r.updatedAt, `${at}.updatedAt`),
  finishedAt: integerOrNull(r.finishedAt, `${at}.finishedAt`),
});

export const readQualification = (r: Raw, at: string): QualificationMapping => Object.freeze({
  requesterName: string(r.requesterName, `${at}.requesterName`),
  name: string(r.name, `${at}.name`),
  qualificationTypeId: string(r.qualificationTypeId, `${at}.qualificationTypeId`),
  mturkName: string(r.mturkName, `${at}.mturkName`),
  createdAt: integer(r.createdAt, `${at}.createdAt`),
});

export const readHit = (r: Raw, at: string): HitRecord => Object.freeze({
  id: string(r.id, `${at}.id`),
  runId: string(r.runId, `${at}.runId`),
  unitId: stringOrNull(r.unitId, `${at}.unitId`),
  assignmentId: stringOrNull(r.assignmentId, `${at}.assignmentId`),
  link: string(r.link, `${at}.link`),
  assignmentDurationSec: integer(r.assignmentDurationSec, `${at}.assignmentDurationSec`),
  createdAt: integer(r.createdAt, `${at}.createdAt`),
  expiresAt: integer(r.expiresAt, `${at}.expiresAt`),
  status: stringOrNull(r.status, `${at}.status`) as HITStatus | null,
  observedAt: integerOrNull(r.observedAt, `${at}.observedAt`),
  generation: integer(r.generation, `${at}.generation`),
});

export const readUnit = (r: Raw, at: string): UnitRecord => Object.freeze({
  id: string(r.id, `${at}.id`),
  runId: string(r.runId, `${at}.runId`),
  index: integer(r.index, `${at}.index`),
  status: string(r.status, `${at}.status`) as AssignmentState,
  payAmountUsd: string(r.payAmountUsd, `${at}.payAmountUsd`),
  agentId: stringOrNull(r.agentId, `${at}.agentId`),
  workerId: stringOrNull(r.workerId, `${at}.workerId`),
  createdAt: integer(r.createdAt, `${at}.createdAt`),
  updatedAt: integer(r.updatedAt, `${at}.updatedAt`),
});

function review(v: unknown, at: string): AgentReview | null {
  if (v === null) return null;
  const r = object(v, at);
  return Object.freeze({
    decision: string(r.decision, `${at}.decision`) as AgentReview['decision'],
    feedback: stringOrNull(r.feedback, `${at}.feedback`),
    reviewedAt: integer(r.reviewedAt, `${at}.reviewedAt`),
  });
}

export const readAgent = (r: Raw, at: string): AgentRecord => Object.freeze({
  id: string(r.id, `${at}.id`),
  runId: string(r.runId, `${at}.runId`),
  unitId: string(r.unitId, `${at}.unitId`),
  workerId: string(r.workerId, `${at}.workerId`),
  assignmentId: string(r.assignmentId, `${at}.assignmentId`),
  hitId: string(r.hitId, `${at}.hitId`),
  status: string(r.status, `${at}.status`) as AgentState,
  createdAt: integer(r.createdAt, `${at}.createdAt`),
  updatedAt: integer(r.updatedAt, `${at}.updatedAt`),
  submittedAt: integerOrNull(r.submittedAt, `${at}.submittedAt`),
  review: review(r.review, `${at}.review`),
});

export const readWorker = (r: Raw, at: string): WorkerRecord => {
  const blocks: Record<string, WorkerBlock> = {};
  for (const [requester, value] of Object.entries(object(r.blocks, `${at}.blocks`))) {
    const b = object(value, `${at}.blocks.${requester}`);
    blocks[requester] = Object.freeze({ reason: string(b.reason, `${at}.blocks.${requester}.reason`), blockedAt: integer(b.blockedAt, `${at}.blocks.${requester}.blockedAt`) });
  }
  return Object.freeze({ id: string(r.id, `${at}.id`), firstSeenAt: integer(r.firstSeenAt, `${at}.firstSeenAt`), blocks: Object.freeze(blocks) });
};

export const readIntent = (r: Raw, at: string): IntentRecord => {
  const failure = r.failure === null ? null : object(r.failure, `${at}.failure`);
  return deepFreeze({
    token: string(r.token, `${at}.token`),
    kind: string(r.kind, `${at}.kind`) as IntentRecord['kind'],
    state: string(r.state, `${at}.state`) as IntentRecord['state'],
    runId: string(r.runId, `${at}.runId`),
    unitId: stringOrNull(r.unitId, `${at}.unitId`),
    agentId: stringOrNull(r.agentId, `${at}.agentId`),
    workerId: stringOrNull(r.workerId, `${at}.workerId`),
    assignmentId: stringOrNull(r.assignmentId, `${at}.assignmentId`),
    hitId: stringOrNull(r.hitId, `${at}.hitId`),
    amountUsd: stringOrNull(r.amountUsd, `${at}.amountUsd`),
    args: object(r.args, `${at}.args`) as ReadonlyJsonObject,
    attempts: integer(r.attempts, `${at}.attempts`),
    createdAt: integer(r.createdAt, `${at}.createdAt`),
    sentAt: integerOrNull(r.sentAt, `${at}.sentAt`),
    settledAt: integerOrNull(r.settledAt, `${at}.settledAt`),
    result: (r.result ?? null) as IntentRecord['result'],
    failure: failure === null ? null : { reason: string(failure.reason, `${at}.failure.reason`), retryable: boolean(failure.retryable, `${at}.failure.retryable`) },
  });
};

/** Snapshot bodies are not frozen: every read hands out a fresh copy anyway. */
export const readSnapshot = (r: Raw, at: string): SnapshotRecord => ({
  actorId: string(r.actorId, `${at}.actorId`),
  runId: string(r.runId, `${at}.runId`),
  machine: string(r.machine, `${at}.machine`),
  machineVersion: integer(r.machineVersion, `${at}.machineVersion`),
  snapshot: object(r.snapshot, `${at}.snapshot`) as JsonObject,
  updatedAt: integer(r.updatedAt, `${at}.updatedAt`),
});

/** Submitted data of one agent, kept apart from the agent record because it is large. */
export interface SubmissionRecord {
  readonly agentId: string;
  readonly submittedAt: number;
  readonly data: unknown;
}

export const readSubmission = (r: Raw, at: string): SubmissionRecord => {
  if (!('data' in r)) throw new SchemaProblem(`${at}.data`, 'is missing');
  return { agentId: string(r.agentId, `${at}.agentId`), submittedAt: integer(r.submittedAt, `${at}.submittedAt`), data: r.data };
};

/** Hydrates `store.json`. */
export function hydrateCore(raw: Raw): CoreFile {
  const qualifications = new RecordMap<RecordMap<QualificationMapping>>();
  for (const [requester, byName] of Object.entries(object(raw.qualifications, 'qualifications'))) {
    const map = records(byName, `qualifications.${requester}`, readQualification, (q) => q.name);
    for (const q of map.values()) {
      if (q.requesterName !== requester) throw new SchemaProblem(`qualifications.${requester}.${q.name}`, `belongs to requester "${q.requesterName}"`);
    }
    qualifications.set(requester, map);
  }
  return {
    ...(raw as unknown as FileHeader),
    requesters: records(raw.requesters, 'requesters', readRequester, (r) => r.name),
    runs: records(raw.runs, 'runs', readRun, (r) => r.id),
    qualifications,
  };
}

/** Hydrates a one-collection file (`records` keyed by id), checking each record belongs to `runId` when given. */
export function hydrateRecords<R>(raw: Raw, read: (r: Raw, at: string) => R, idOf: (r: R) => string, runOf?: (r: R) => string): RecordsFile<R> {
  const map = records(raw.records, 'records', read, idOf);
  if (runOf !== undefined) {
    for (const [key, record] of map) {
      if (runOf(record) !== raw.runId) throw new SchemaProblem(`records.${key}.runId`, `is "${runOf(record)}" in a file of run "${String(raw.runId)}"`);
    }
  }
  return { ...(raw as unknown as FileHeader), records: map };
}
