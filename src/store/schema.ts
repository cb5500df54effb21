/**
 * Reading schema-v1 files back into typed, frozen records. Anything unexpected (a missing id, a
 * status that is not a string, a key that disagrees with its record) is a {@link SchemaProblem}
 * naming the place in the file; the store then refuses the file instead of guessing.
 *
 * @module
 */
import { AGENT_STATES, HITStatus, UNIT_STATES } from '../../machines/states.js';
import { deepFreeze, type JsonObject, type JsonValue, type ReadonlyJsonObject } from './json.js';
import {
  type CoreFile,
  type FileHeader,
  FileKind,
  RecordMap,
  type RecordsFile,
  type RunCopyFile,
  STORE_FORMAT,
} from './layout.js';
import { normalizeEnvironment, sameEnvironment, type StoreEnvironment } from './environment.js';
import {
  type AgentRecord,
  type CredentialSource,
  type HitRecord,
  INTENT_KINDS,
  type IntentRecord,
  IntentState,
  type QualificationMapping,
  type RequesterRecord,
  ReviewDecision,
  type SnapshotRecord,
  type TaskRunRecord,
  type UnitRecord,
  type WorkerRecord,
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

/** Whether `v` is a JSON object (not null, not an array): what a record, a file or a nested part must be. */
export const isObject = (v: unknown): v is Raw => typeof v === 'object' && v !== null && !Array.isArray(v);

function object(v: unknown, at: string): Raw {
  if (!isObject(v)) throw new SchemaProblem(at, 'must be an object');
  return v;
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
    env = normalizeEnvironment(environmentOf(raw.environment));
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

/** The environment a file names, as written (`checkHeader` compares its normal form). */
function environmentOf(v: unknown): StoreEnvironment {
  const r = object(v, 'environment');
  if (r.kind === 'live' || r.kind === 'sandbox') return { kind: r.kind };
  if (r.kind === 'custom') return { kind: 'custom', endpoint: string(r.endpoint, 'environment.endpoint') };
  throw new SchemaProblem('environment.kind', `must be "live", "sandbox" or "custom", found ${JSON.stringify(r.kind)}`);
}

const FILE_KINDS: ReadonlySet<string> = new Set(Object.values(FileKind));
const isFileKind = (kind: string): kind is FileKind => FILE_KINDS.has(kind);

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

/**
 * A field's expected JSON type; `?` allows null. `object` is any JSON object and `json` any JSON
 * value that is present: the records come from `JSON.parse`, so what they hold is JSON already and
 * only its shape is checked.
 */
type BasicField = 'string' | 'string?' | 'int' | 'int?' | 'bool' | 'object' | 'object?' | 'json';

/** A string field holding one of a fixed set of names (a machine's states, an intent kind), or null when `orNull`. */
interface OneOf<T extends string, N extends boolean> {
  readonly oneOf: ReadonlySet<string>;
  readonly names: readonly T[];
  readonly orNull: N;
}
/** An object field checked by its own spec, or null when `orNull`. */
interface Nested<S extends Spec, N extends boolean> {
  readonly nested: RecordSpec<S>;
  readonly orNull: N;
}
/** An object field mapping any key to an object checked by `spec` (a worker's blocks by requester). */
interface EachOf<S extends Spec> {
  readonly each: RecordSpec<S>;
}
type FieldType = BasicField | OneOf<string, boolean> | Nested<Spec, boolean> | EachOf<Spec>;
interface Spec {
  readonly [field: string]: FieldType;
}

/** The type a field of a record has once `check` let it pass. */
type FieldValue<F> = F extends 'string'
  ? string
  : F extends 'string?'
    ? string | null
    : F extends 'int'
      ? number
      : F extends 'int?'
        ? number | null
        : F extends 'bool'
          ? boolean
          : F extends 'object'
            ? JsonObject
            : F extends 'object?'
              ? JsonObject | null
              : F extends 'json'
                ? JsonValue
                : F extends OneOf<infer T, infer N>
                  ? T | (N extends true ? null : never)
                  : F extends Nested<infer S, infer N>
                    ? Fields<S> | (N extends true ? null : never)
                    : F extends EachOf<infer S>
                      ? { [key: string]: Fields<S> }
                      : never;
/** The record a spec describes: what the record types of `types.ts` must be built from. */
type Fields<S extends Spec> = { [K in keyof S]: FieldValue<S[K]> };

/** One field's check, made once per spec: opening a big store runs it for every record. */
interface FieldTest {
  readonly field: string;
  readonly want: FieldType;
  /** Whether `v` passes; nested specs throw with their own place under `at` (the record's). */
  readonly test: (v: unknown, at: string) => boolean;
}
/** The fields of a record type and their checks. */
interface RecordSpec<S extends Spec> {
  readonly fields: S;
  readonly tests: readonly FieldTest[];
}

const isInteger = (v: unknown): boolean => typeof v === 'number' && Number.isSafeInteger(v);
const BASIC_TESTS: { readonly [F in BasicField]: (v: unknown) => boolean } = {
  string: (v) => typeof v === 'string',
  'string?': (v) => v === null || typeof v === 'string',
  int: isInteger,
  'int?': (v) => v === null || isInteger(v),
  bool: (v) => typeof v === 'boolean',
  object: isObject,
  'object?': (v) => v === null || isObject(v),
  json: (v) => v !== undefined,
};

function testOf(field: string, want: FieldType): FieldTest['test'] {
  if (typeof want === 'string') return BASIC_TESTS[want];
  if ('oneOf' in want) return (v) => (v === null ? want.orNull : typeof v === 'string' && want.oneOf.has(v));
  if ('nested' in want)
    return (v, at) => {
      if (v === null) return want.orNull;
      if (!isObject(v)) return false;
      check(v, `${at}.${field}`, want.nested);
      return true;
    };
  return (v, at) => {
    if (!isObject(v)) return false;
    for (const key in v) check(object(v[key], `${at}.${field}.${key}`), `${at}.${field}.${key}`, want.each);
    return true;
  };
}

/** A record spec from its fields (`const`, so each field keeps its literal type). */
function spec<const S extends Spec>(fields: S): RecordSpec<S> {
  return { fields, tests: Object.entries(fields).map(([field, want]) => ({ field, want, test: testOf(field, want) })) };
}
function oneOf<T extends string>(names: readonly T[]): OneOf<T, false>;
function oneOf<T extends string>(names: readonly T[], orNull: true): OneOf<T, true>;
function oneOf<T extends string>(names: readonly T[], orNull = false): OneOf<T, boolean> {
  return { oneOf: new Set(names), names, orNull };
}
function nested<S extends Spec>(spec: RecordSpec<S>): Nested<S, false>;
function nested<S extends Spec>(spec: RecordSpec<S>, orNull: true): Nested<S, true>;
function nested<S extends Spec>(spec: RecordSpec<S>, orNull = false): Nested<S, boolean> {
  return { nested: spec, orNull };
}
const eachOf = <S extends Spec>(spec: RecordSpec<S>): EachOf<S> => ({ each: spec });

/** What a value of `want` must be, for an error message. */
function expected(want: FieldType): string {
  if (typeof want === 'object') {
    const what = 'names' in want ? `one of ${want.names.map((n) => JSON.stringify(n)).join(', ')}` : 'an object';
    return 'orNull' in want && want.orNull ? `${what} or null` : what;
  }
  if (want.endsWith('?')) return `${want.slice(0, -1)} or null`;
  return want === 'int' ? 'an integer' : `a ${want}`;
}

/**
 * Checks the fields of a parsed record in place (no copy: opening a big store allocates enough)
 * and tells the compiler the record has them. Fields the spec does not name are left as they are.
 */
function check<S extends Spec>(r: Raw, at: string, spec: RecordSpec<S>): asserts r is Raw & Fields<S> {
  for (const { field, want, test } of spec.tests) {
    const v = r[field];
    if (!test(v, at))
      throw new SchemaProblem(
        `${at}.${field}`,
        want === 'json' ? 'is missing' : `must be ${expected(want)}, found ${JSON.stringify(v)}`,
      );
  }
}

const HIT = spec({
  id: 'string',
  runId: 'string',
  unitId: 'string?',
  assignmentId: 'string?',
  link: 'string',
  assignmentDurationSec: 'int',
  createdAt: 'int',
  expiresAt: 'int',
  status: oneOf(Object.values(HITStatus), true),
  observedAt: 'int?',
  generation: 'int',
});
const UNIT = spec({
  id: 'string',
  runId: 'string',
  index: 'int',
  status: oneOf(UNIT_STATES),
  payAmountUsd: 'string',
  agentId: 'string?',
  workerId: 'string?',
  createdAt: 'int',
  updatedAt: 'int',
});
const REVIEW = spec({
  decision: oneOf(Object.values(ReviewDecision)),
  feedback: 'string?',
  reviewedAt: 'int',
});
const AGENT = spec({
  id: 'string',
  runId: 'string',
  unitId: 'string',
  workerId: 'string',
  assignmentId: 'string',
  hitId: 'string',
  status: oneOf(AGENT_STATES),
  createdAt: 'int',
  updatedAt: 'int',
  submittedAt: 'int?',
  review: nested(REVIEW, true),
});
const BLOCK = spec({ reason: 'string', blockedAt: 'int' });
const WORKER = spec({ id: 'string', firstSeenAt: 'int', blocks: eachOf(BLOCK) });
const FAILURE = spec({ reason: 'string', retryable: 'bool' });
const INTENT = spec({
  token: 'string',
  kind: oneOf(INTENT_KINDS),
  state: oneOf(Object.values(IntentState)),
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
  result: 'json',
  failure: nested(FAILURE, true),
});
const SNAPSHOT = spec({
  actorId: 'string',
  runId: 'string',
  machine: 'string',
  machineVersion: 'int',
  snapshot: 'object',
  updatedAt: 'int',
});
const SUBMISSION = spec({ agentId: 'string', submittedAt: 'int', data: 'json' });

export const readHit = (r: Raw, at: string): HitRecord => {
  check(r, at, HIT);
  return Object.freeze(r);
};

export const readUnit = (r: Raw, at: string): UnitRecord => {
  check(r, at, UNIT);
  return Object.freeze(r);
};

export const readAgent = (r: Raw, at: string): AgentRecord => {
  check(r, at, AGENT);
  return deepFreeze(r);
};

export const readWorker = (r: Raw, at: string): WorkerRecord => {
  check(r, at, WORKER);
  return deepFreeze(r);
};

export const readIntent = (r: Raw, at: string): IntentRecord => {
  check(r, at, INTENT);
  return deepFreeze(r);
};

/** Snapshot bodies are not frozen: every read hands out a fresh copy anyway. */
export const readSnapshot = (r: Raw, at: string): SnapshotRecord => {
  check(r, at, SNAPSHOT);
  return r;
};

/** Submitted data of one agent, kept apart from the agent record because it is large. */
export interface SubmissionRecord {
  readonly agentId: string;
  readonly submittedAt: number;
  readonly data: unknown;
}

export const readSubmission = (r: Raw, at: string): SubmissionRecord => {
  check(r, at, SUBMISSION);
  return r;
};

/** The header fields of a file whose header `checkHeader` has passed, in the order files are written with. */
function header(raw: Raw): FileHeader {
  if (raw.format !== STORE_FORMAT)
    throw new SchemaProblem('format', `must be "${STORE_FORMAT}", found ${JSON.stringify(raw.format)}`);
  const kind = string(raw.kind, 'kind');
  if (!isFileKind(kind))
    throw new SchemaProblem('kind', `must be one of ${[...FILE_KINDS].join(', ')}, found ${JSON.stringify(kind)}`);
  return {
    format: STORE_FORMAT,
    kind,
    schemaVersion: integer(raw.schemaVersion, 'schemaVersion'),
    environment: environmentOf(raw.environment),
    ...(raw.runId === undefined ? {} : { runId: string(raw.runId, 'runId') }),
    ...(raw.shard === undefined ? {} : { shard: integer(raw.shard, 'shard') }),
  };
}

/** Hydrates a run's `run.json` (the copy of its record in store.json). */
export function hydrateRunCopy(raw: Raw): RunCopyFile {
  const run = raw.run === null || raw.run === undefined ? null : readRun(object(raw.run, 'run'), 'run');
  if (run !== null && run.id !== raw.runId)
    throw new SchemaProblem('run.id', `is "${run.id}" in the directory of run "${String(raw.runId)}"`);
  return { ...header(raw), run };
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
  const storeId = raw.storeId;
  if (storeId !== undefined && (typeof storeId !== 'string' || !/^[A-Za-z0-9-]{4,40}$/.test(storeId)))
    throw new SchemaProblem(
      'storeId',
      `must be a store id such as "st-1a2b3c4d5e6f", found ${JSON.stringify(storeId)}`,
    );
  return {
    ...header(raw),
    ...(storeId === undefined ? {} : { storeId }),
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
  return { ...header(raw), records: records(raw.records, 'records', read, idOf, runOf, raw.runId) };
}
