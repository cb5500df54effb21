/**
 * Schema 0 → 1. Version 0 (hitstate 0.0.x) kept a whole environment in one pretty-printed
 * `store.json` shaped after Mephisto's tables: snake_case columns, ISO-8601 dates, pay as a float,
 * the environment as a bare string, no schema version. Version 1 records its format, version and
 * environment in every file, uses epoch milliseconds and dollar strings, and splits each run into
 * its own files (see layout.ts) so a write touches only what changed.
 *
 * @module
 */
import { HitstateError } from '../../errors.js';
import { describeEnvironment, normalizeEnvironment, sameEnvironment, type StoreEnvironment } from '../environment.js';
import { fileHeader, SHARD_CAPACITY, shardFilePath, type ShardKind, STORE_FILE, WORKERS_FILE } from '../layout.js';
import type { Migration, MigrationInput } from '../migrations.js';

type Raw = Record<string, unknown>;

/** A problem in the v0 data; the migration stops and the store is left as it was. */
class V0Problem extends Error {}

const obj = (v: unknown, at: string): Raw => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new V0Problem(`${at} must be an object`);
  return v as Raw;
};
const list = (v: unknown, at: string): Raw[] => {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw new V0Problem(`${at} must be an array`);
  return v.map((item, i) => obj(item, `${at}[${i}]`));
};
const str = (v: unknown, at: string): string => {
  if (typeof v !== 'string' || v.length === 0)
    throw new V0Problem(`${at} must be a non-empty string, found ${JSON.stringify(v)}`);
  return v;
};
const strOrNull = (v: unknown, at: string): string | null => (v === null || v === undefined ? null : str(v, at));
const time = (v: unknown, at: string): number => {
  const ms = typeof v === 'string' ? Date.parse(v) : NaN;
  if (!Number.isFinite(ms)) throw new V0Problem(`${at} must be an ISO-8601 date, found ${JSON.stringify(v)}`);
  return ms;
};
const timeOrNull = (v: unknown, at: string): number | null => (v === null || v === undefined ? null : time(v, at));
const int = (v: unknown, at: string): number => {
  if (typeof v !== 'number' || !Number.isSafeInteger(v))
    throw new V0Problem(`${at} must be an integer, found ${JSON.stringify(v)}`);
  return v;
};
/** v0 kept money as a float of dollars; v1 keeps MTurk's dollar string. */
const usd = (v: unknown, at: string): string | null => {
  if (v === null || v === undefined) return null;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0)
    throw new V0Problem(`${at} must be a dollar amount, found ${JSON.stringify(v)}`);
  return v.toFixed(2);
};

function environmentOf(v: unknown): StoreEnvironment {
  if (v === 'live' || v === 'sandbox') return { kind: v };
  if (typeof v === 'string' && /^https?:\/\//.test(v)) return normalizeEnvironment({ kind: 'custom', endpoint: v });
  throw new V0Problem(`environment must be "live", "sandbox" or an endpoint URL, found ${JSON.stringify(v)}`);
}

const MACHINE_OF_PREFIX: Readonly<Record<string, string>> = { run: 'taskRun', unit: 'unit', agent: 'agent' };

async function migrate(input: MigrationInput): Promise<Map<string, unknown>> {
  const v0 = input.store;
  const env = environmentOf(v0.environment);
  if (!sameEnvironment(env, input.environment)) {
    throw new HitstateError(
      'HST_ERR_STORE_ENVIRONMENT_MISMATCH',
      `the schema-0 store.json belongs to ${describeEnvironment(env)}, but the store was opened for ${describeEnvironment(input.environment)}; nothing was migrated. Open it with the environment it was written for.`,
    );
  }
  const out = new Map<string, unknown>();
  const header = (kind: Parameters<typeof fileHeader>[0], runId?: string, shard?: number) =>
    fileHeader(kind, input.environment, runId, shard);

  const requesters: Raw = {};
  for (const [name, r] of Object.entries(obj(v0.requesters ?? {}, 'requesters'))) {
    const rr = obj(r, `requesters.${name}`);
    const profile = strOrNull(rr.profile, `requesters.${name}.profile`);
    const created = time(rr.created, `requesters.${name}.created`);
    requesters[name] = {
      name,
      credentialSource: profile === null ? { kind: 'defaultChain' } : { kind: 'profile', profile },
      createdAt: created,
      updatedAt: created,
    };
  }

  const runs: Raw = {};
  const perRun = new Map<string, Record<ShardKind, Raw[]>>();
  for (const [id, r] of Object.entries(obj(v0.runs ?? {}, 'runs'))) {
    const rr = obj(r, `runs.${id}`);
    const created = time(rr.created, `runs.${id}.created`);
    const status = str(rr.status, `runs.${id}.status`);
    runs[id] = {
      id,
      requesterName: str(rr.requester, `runs.${id}.requester`),
      status,
      config: obj(rr.config ?? {}, `runs.${id}.config`),
      hitTypeId: strOrNull(rr.hit_type_id, `runs.${id}.hit_type_id`),
      frameHeight: rr.frame_height === undefined ? 0 : int(rr.frame_height, `runs.${id}.frame_height`),
      createdAt: created,
      updatedAt: created,
      finishedAt: status === 'done' ? created : null,
    };
    perRun.set(id, { units: [], agents: [], hits: [], snapshots: [], submissions: [], outbox: [] });
  }
  const runOf = (id: unknown, at: string) => {
    const run = perRun.get(str(id, at));
    if (run === undefined) throw new V0Problem(`${at} names run ${JSON.stringify(id)}, which is not in runs`);
    return run;
  };

  const unitRun = new Map<string, string>();
  for (const [i, u] of list(v0.units, 'units').entries()) {
    const at = `units[${i}]`;
    const id = str(u.unit_id, `${at}.unit_id`);
    const runId = str(u.run_id, `${at}.run_id`);
    const created = time(u.created, `${at}.created`);
    runOf(runId, `${at}.run_id`).units.push({
      id,
      runId,
      index: int(u.unit_index, `${at}.unit_index`),
      status: str(u.status, `${at}.status`),
      payAmountUsd: usd(u.pay_amount, `${at}.pay_amount`) ?? '0.00',
      agentId: strOrNull(u.agent_id, `${at}.agent_id`),
      workerId: strOrNull(u.worker_id, `${at}.worker_id`),
      createdAt: created,
      updatedAt: created,
    });
    unitRun.set(id, runId);
  }

  for (const [i, h] of list(v0.hits, 'hits').entries()) {
    const at = `hits[${i}]`;
    const id = str(h.hit_id, `${at}.hit_id`);
    const runId = str(h.run_id, `${at}.run_id`);
    const unitId = strOrNull(h.unit_id, `${at}.unit_id`);
    runOf(runId, `${at}.run_id`).hits.push({
      id,
      runId,
      unitId,
      assignmentId: strOrNull(h.assignment_id, `${at}.assignment_id`),
      link: str(h.link, `${at}.link`),
      assignmentDurationSec: int(h.assignment_time_in_seconds, `${at}.assignment_time_in_seconds`),
      createdAt: time(h.creation_date, `${at}.creation_date`),
      expiresAt: time(h.expiration, `${at}.expiration`),
      status: strOrNull(h.status, `${at}.status`),
      observedAt: null,
      generation: unitId === null ? 0 : 1,
    });
  }

  const agentRun = new Map<string, string>();
  for (const [i, a] of list(v0.agents, 'agents').entries()) {
    const at = `agents[${i}]`;
    const id = str(a.agent_id, `${at}.agent_id`);
    const unitId = str(a.unit_id, `${at}.unit_id`);
    const runId = unitRun.get(unitId);
    if (runId === undefined)
      throw new V0Problem(`${at}.unit_id names unit ${JSON.stringify(unitId)}, which is not in units`);
    const created = time(a.created, `${at}.created`);
    const submittedAt = timeOrNull(a.submitted, `${at}.submitted`);
    const review = a.review === null || a.review === undefined ? null : obj(a.review, `${at}.review`);
    const run = runOf(runId, `${at}.unit_id`);
    run.agents.push({
      id,
      runId,
      unitId,
      workerId: str(a.worker_id, `${at}.worker_id`),
      assignmentId: str(a.assignment_id, `${at}.assignment_id`),
      hitId: str(a.hit_id, `${at}.hit_id`),
      status: str(a.status, `${at}.status`),
      createdAt: created,
      updatedAt: created,
      submittedAt,
      review:
        review === null
          ? null
          : {
              decision: str(review.status, `${at}.review.status`),
              feedback: strOrNull(review.feedback, `${at}.review.feedback`),
              reviewedAt: time(review.at, `${at}.review.at`),
            },
    });
    if (submittedAt !== null && a.data !== undefined && a.data !== null)
      run.submissions.push({ agentId: id, submittedAt, data: a.data });
    agentRun.set(id, runId);
  }

  const workers: Raw = {};
  for (const [i, w] of list(v0.workers, 'workers').entries()) {
    const at = `workers[${i}]`;
    const id = str(w.worker_id, `${at}.worker_id`);
    const firstSeenAt = time(w.first_seen, `${at}.first_seen`);
    const blocks: Raw = {};
    for (const [requester, reason] of Object.entries(obj(w.blocked_by ?? {}, `${at}.blocked_by`))) {
      blocks[requester] = { reason: str(reason, `${at}.blocked_by.${requester}`), blockedAt: firstSeenAt };
    }
    workers[id] = { id, firstSeenAt, blocks };
  }

  const qualifications: Record<string, Raw> = {};
  for (const [i, q] of list(v0.qualifications, 'qualifications').entries()) {
    const at = `qualifications[${i}]`;
    const requesterName = str(q.requester, `${at}.requester`);
    const name = str(q.qualification_name, `${at}.qualification_name`);
    (qualifications[requesterName] ??= {})[name] = {
      requesterName,
      name,
      qualificationTypeId: str(q.mturk_qualification_id, `${at}.mturk_qualification_id`),
      mturkName: str(q.mturk_qualification_name, `${at}.mturk_qualification_name`),
      createdAt: time(q.creation_date, `${at}.creation_date`),
    };
  }

  for (const [i, o] of list(v0.outbox, 'outbox').entries()) {
    const at = `outbox[${i}]`;
    const runId = str(o.run_id, `${at}.run_id`);
    const failure =
      o.error === null || o.error === undefined
        ? null
        : { reason: str(o.error, `${at}.error`), retryable: o.retryable === true };
    runOf(runId, `${at}.run_id`).outbox.push({
      token: str(o.token, `${at}.token`),
      kind: str(o.kind, `${at}.kind`),
      state: str(o.state, `${at}.state`),
      runId,
      unitId: strOrNull(o.unit_id, `${at}.unit_id`),
      agentId: strOrNull(o.agent_id, `${at}.agent_id`),
      workerId: strOrNull(o.worker_id, `${at}.worker_id`),
      assignmentId: strOrNull(o.assignment_id, `${at}.assignment_id`),
      hitId: strOrNull(o.hit_id, `${at}.hit_id`),
      amountUsd: usd(o.amount, `${at}.amount`),
      args: obj(o.args ?? {}, `${at}.args`),
      attempts: o.state === 'pending' ? 0 : 1,
      createdAt: time(o.created, `${at}.created`),
      sentAt: timeOrNull(o.sent, `${at}.sent`),
      settledAt: timeOrNull(o.settled, `${at}.settled`),
      result: o.result ?? null,
      failure,
    });
  }

  for (const [actorId, s] of Object.entries(obj(v0.snapshots ?? {}, 'snapshots'))) {
    const at = `snapshots.${actorId}`;
    const [prefix = '', id = ''] = actorId.split(/:(.*)/s);
    const machine = MACHINE_OF_PREFIX[prefix];
    const runId = prefix === 'run' ? id : prefix === 'unit' ? unitRun.get(id) : agentRun.get(id);
    if (machine === undefined || runId === undefined)
      throw new V0Problem(`${at}: the actor id must be run:, unit: or agent: followed by a known id`);
    const ss = obj(s, at);
    runOf(runId, at).snapshots.push({
      actorId,
      runId,
      machine,
      machineVersion: int(ss.version, `${at}.version`),
      snapshot: obj(ss.snapshot, `${at}.snapshot`),
      updatedAt: time(ss.saved, `${at}.saved`),
    });
  }

  out.set(STORE_FILE, { ...header('store'), requesters, runs, qualifications });
  out.set(WORKERS_FILE, { ...header('workers'), records: workers });
  const KEY: Record<ShardKind, string> = {
    units: 'id',
    agents: 'id',
    hits: 'id',
    snapshots: 'actorId',
    submissions: 'agentId',
    outbox: 'token',
  };
  for (const [runId, run] of perRun) {
    for (const kind of Object.keys(KEY) as ShardKind[]) {
      const items = run[kind];
      const capacity = SHARD_CAPACITY[kind];
      for (let i = 0; i * capacity < items.length; i++) {
        const records = Object.fromEntries(
          items.slice(i * capacity, (i + 1) * capacity).map((r) => [r[KEY[kind]] as string, r]),
        );
        out.set(shardFilePath(runId, kind, i), { ...header(kind, runId, i), records });
      }
    }
  }
  return out;
}

export const v0ToV1: Migration = {
  from: 0,
  to: 1,
  description: 'split the single v0 store.json into per-run files; epoch-ms times, dollar strings, camelCase fields',
  migrate,
};
