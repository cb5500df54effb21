/**
 * Reading schema-v1 files back into typed, frozen records. Anything unexpected (a missing id, a
 * status that is not a string, a key that disagrees with its record) is a {@link SchemaProblem}
 * naming the place in the file; the store then refuses the file instead of guessing.
 *
 * @module
 */
import { deepFreeze, type ReadonlyJsonObject } from './json.js';
import {
  type CoreFile,
  type FileHeader,
  type FileKind,
  RecordMap,
  type RecordsFile,
  type RunCopyFile,
  STORE_FORMAT,
} from './layout.js';
import { normalizeEnvironment, sameEnvironment, type StoreEnvironment } from './environment.js';
import type {
  AgentRecord,
  CredentialSource,
  HitRecord,
  IntentRecord,
  QualificationMapping,
  RequesterRecord,
  SnapshotRecord,
  TaskRunRecord,
  UnitRecord,
  WorkerRecord,
} from './types.js';

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
  if (typeof v !== 'number' || !Number.isSafeInteger(v))
    throw new SchemaProblem(at, `must be an integer, found ${JSON.stringify(v)}`);
  return v;
}
function integerOrNull(v: unknown, at: string): number | null {
  return v === null ? null : integer(v, at);
}

/**
 * Checks the header of a file.
 *
 * @throws SchemaProblem for a foreign file or wrong kind, EnvironmentProblem for another environment.
 * The schema version is checked by the caller, which knows about migrations.
 */
export function checkHeader(raw: Raw, kind: FileKind, environment: StoreEnvironment, runId?: string): void {
  if (raw.format !== STORE_FORMAT)
    throw new SchemaProblem(
      'format',
      `must be "${STORE_FORMAT}", found ${JSON.stringify(raw.format)}: not a hitstate store file`,
    );
  if (raw.kind !== kind)
    throw new SchemaProblem('kind', `must be "${kind}" for this file name, found ${JSON.stringify(raw.kind)}`);
  let env: StoreEnvironment;
  try {
    env = normalizeEnvironment(object(raw.environment, 'environment') as unknown as StoreEnvironment);
  } catch {
    throw new SchemaProblem(
      'environment',
      `must be {"kind":"live"|"sandbox"|"custom",...}, found ${JSON.stringify(raw.environment)}`,
    );
  }
  if (!sameEnvironment(env, environment)) throw new EnvironmentProblem(env);
  if (runId !== undefined && raw.runId !== runId)
    throw new SchemaProblem('runId', `must be "${runId}" (the directory's run), found ${JSON.stringify(raw.runId)}`);
}

/** Turns `{ id: record }` into a RecordMap, checking every record and that each key is its id. */
function records<R>(
  raw: unknown,
  at: string,
  read: (r: Raw, at: string) => R,
  idOf: (r: R) => string,
  runOf?: (r: R) => string,
  runId?: unknown,
): RecordMap<R> {
  const out = new RecordMap<R>();
  const source = object(raw, at);
  for (const key in source) {
    const where = `${at}.${key}`;
    const record = read(object(source[key], where), where);
    if (idOf(record) !== key) throw new SchemaProblem(where, `is filed under "${key}" but its id is "${idOf(record)}"`);
    if (runOf !== undefined && runOf(record) !== runId)
      throw new SchemaProblem(`${where}.runId`, `is "${runOf(record)}" in a file of run "${String(runId)}"`);
    out.set(key, record);
  }
  return out;
}

function credentialSource(v: unknown, at: string): CredentialSource {
  const r = object(v, at);
  if (r.kind === 'defaultChain') return { kind: 'defaultChain' };
  if (r.kind === 'profile') return { kind: 'profile', profile: string(r.profile, `${at}.profile`) };
  throw new SchemaProblem(`${at}.kind`, `must be "defaultChain" or "profile", found ${JSON.stringify(r.kind)}`);
}

export const readRequester = (r: Raw, at: string): RequesterRecord =>
  deepFreeze({
    name: string(r.name, `${at}.name`),
    credentialSource: credentialSource(r.credentialSource, `${at}.credentialSource`),
    createdAt: integer(r.createdAt, `${at}.createdAt`),
    updatedAt: integer(r.updatedAt, `${at}.updatedAt`),
  });

export const readRun = (r: Raw, at: string): TaskRunRecord =>
  deepFreeze({
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

export const readQualification = (r: Raw, at: string): QualificationMapping =>
  Object.freeze({
    requesterName: string(r.requesterName, `${at}.requesterName`),
    name: string(r.name, `${at}.name`),
    qualificationTypeId: string(r.qualificationTypeId, `${at}.qualificationTypeId`),
    mturkName: string(r.mturkName, `${at}.mturkName`),
    createdAt: integer(r.createdAt, `${at}.createdAt`),
  });

/** A field's expected JSON type; `?` allows null. */
type FieldType = 'string' | 'string?' | 'int' | 'int?' | 'bool' | 'object' | 'object?';
type Spec = Readonly<Record<string, FieldType>>;

/**
 * Checks the fields of a parsed record in place (no copy: opening a big store allocates enough).
 * Fields the spec does not name are left as they are.
 */
function check(r: Raw, at: string, spec: Spec): void {
  for (const field in spec) {
    const v = r[field];
    const want = spec[field]!;
    if (v === null && want.endsWith('?')) continue;
    const ok = want.startsWith('string')
      ? typeof v === 'string'
      : want.startsWith('int')
        ? typeof v === 'number' && Number.isSafeInteger(v)
        : want === 'bool'
          ? typeof v === 'boolean'
          : typeof v === 'object' && v !== null && !Array.isArray(v);
    if (!ok)
      throw new SchemaProblem(
        `${at}.${field}`,
        `must be ${want.endsWith('?') ? `${want.slice(0, -1)} or null` : want === 'int' ? 'an integer' : `a ${want}`}, found ${JSON.stringify(v)}`,
      );
  }
}

const HIT: Spec = {
  id: 'string',
  runId: 'string',
  unitId: 'string?',
  assignmentId: 'string?',
  link: 'string',
  assignmentDurationSec: 'int',
  createdAt: 'int',
  expiresAt: 'int',
  status: 'string?',
  observedAt: 'int?',
  generation: 'int',
};
const UNIT: Spec = {
  id: 'string',
  runId: 'string',
  index: 'int',
  status: 'string',
  payAmountUsd: 'string',
  agentId: 'string?',
  workerId: 'string?',
  createdAt: 'int',
  updatedAt: 'int',
};
const AGENT: Spec = {
  id: 'string',
  runId: 'string',
  unitId: 'string',
  workerId: 'string',
  assignmentId: 'string',
  hitId: 'string',
  status: 'string',
  createdAt: 'int',
  updatedAt: 'int',
  submittedAt: 'int?',
  review: 'object?',
};
const REVIEW: Spec = { decision: 'string', feedback: 'string?', reviewedAt: 'int' };
const WORKER: Spec = { id: 'string', firstSeenAt: 'int', blocks: 'object' };
const BLOCK: Spec = { reason: 'string', blockedAt: 'int' };
const INTENT: Spec = {
  token: 'string',
  kind: 'string',
  state: 'string',
  runId: 'string',
  unitId: 'string?',
  agentId: 'string?',
  workerId: 'string?',
  assignmentId: 'string?',
  hitId: 'string?',
  amountUsd: 'string?',
  args: 'object',
  attempts: 'int',
  createdAt: 'int',
  sentAt: 'int?',
  settledAt: 'int?',
  failure: 'object?',
};
const FAILURE: Spec = { reason: 'string', retryable: 'bool' };
const SNAPSHOT: Spec = {
  actorId: 'string',
  runId: 'string',
  machine: 'string',
  machineVersion: 'int',
  snapshot: 'object',
  updatedAt: 'int',
};
const SUBMISSION: Spec = { agentId: 'string', submittedAt: 'int' };

export const readHit = (r: Raw, at: string): HitRecord => {
  check(r, at, HIT);
  return Object.freeze(r) as unknown as HitRecord;
};

export const readUnit = (r: Raw, at: string): UnitRecord => {
  check(r, at, UNIT);
  return Object.freeze(r) as unknown as UnitRecord;
};

export const readAgent = (r: Raw, at: string): AgentRecord => {
  check(r, at, AGENT);
  if (r.review !== null) check(r.review as Raw, `${at}.review`, REVIEW);
  return deepFreeze(r) as unknown as AgentRecord;
};

export const readWorker = (r: Raw, at: string): WorkerRecord => {
  check(r, at, WORKER);
  for (const [requester, block] of Object.entries(r.blocks as Raw))
    check(object(block, `${at}.blocks.${requester}`), `${at}.blocks.${requester}`, BLOCK);
  return deepFreeze(r) as unknown as WorkerRecord;
};

export const readIntent = (r: Raw, at: string): IntentRecord => {
  check(r, at, INTENT);
  if (r.failure !== null) check(r.failure as Raw, `${at}.failure`, FAILURE);
  if (!('result' in r)) throw new SchemaProblem(`${at}.result`, 'is missing');
  return deepFreeze(r) as unknown as IntentRecord;
};

/** Snapshot bodies are not frozen: every read hands out a fresh copy anyway. */
export const readSnapshot = (r: Raw, at: string): SnapshotRecord => {
  check(r, at, SNAPSHOT);
  return r as unknown as SnapshotRecord;
};

/** Submitted data of one agent, kept apart from the agent record because it is large. */
export interface SubmissionRecord {
  readonly agentId: string;
  readonly submittedAt: number;
  readonly data: unknown;
}

export const readSubmission = (r: Raw, at: string): SubmissionRecord => {
  check(r, at, SUBMISSION);
  if (!('data' in r)) throw new SchemaProblem(`${at}.data`, 'is missing');
  return r as unknown as SubmissionRecord;
};

/** Hydrates a run's `run.json` (the copy of its record in store.json). */
export function hydrateRunCopy(raw: Raw): RunCopyFile {
  const run = raw.run === null || raw.run === undefined ? null : readRun(object(raw.run, 'run'), 'run');
  if (run !== null && run.id !== raw.runId)
    throw new SchemaProblem('run.id', `is "${run.id}" in the directory of run "${String(raw.runId)}"`);
  return { ...(raw as unknown as FileHeader), run };
}

/** Hydrates `store.json`. */
export function hydrateCore(raw: Raw): CoreFile {
  const qualifications = new RecordMap<RecordMap<QualificationMapping>>();
  for (const [requester, byName] of Object.entries(object(raw.qualifications, 'qualifications'))) {
    const map = records(byName, `qualifications.${requester}`, readQualification, (q) => q.name);
    for (const q of map.values()) {
      if (q.requesterName !== requester)
        throw new SchemaProblem(`qualifications.${requester}.${q.name}`, `belongs to requester "${q.requesterName}"`);
    }
    qualifications.set(requester, map);
  }
  if (raw.storeId !== undefined && (typeof raw.storeId !== 'string' || !/^[A-Za-z0-9-]{4,40}$/.test(raw.storeId)))
    throw new SchemaProblem(
      'storeId',
      `must be a store id such as "st-1a2b3c4d5e6f", found ${JSON.stringify(raw.storeId)}`,
    );
  return {
    ...(raw as unknown as FileHeader),
    requesters: records(raw.requesters, 'requesters', readRequester, (r) => r.name),
    runs: records(raw.runs, 'runs', readRun, (r) => r.id),
    qualifications,
  };
}

/** Hydrates a one-collection file (`records` keyed by id), checking each record belongs to `runId` when given. */
export function hydrateRecords<R>(
  raw: Raw,
  read: (r: Raw, at: string) => R,
  idOf: (r: R) => string,
  runOf?: (r: R) => string,
): RecordsFile<R> {
  return { ...(raw as unknown as FileHeader), records: records(raw.records, 'records', read, idOf, runOf, raw.runId) };
}
