/**
 * What the pages show, read from a {@link DashboardSource}: runs with their counts and money, a
 * run's unit table (filtered, searched, sorted, paged on the server so 10,000 units cost one page
 * of HTML), the review queue, and one unit's history.
 *
 * @module
 */
import { UNIT_STATES, type AssignmentState } from '../../machines/index.js';
import { pseudonymizeWorkerId } from '../mturk/audit.js';
import { moneyOfRun, type MoneySummary } from '../runtime/money/spent.js';
import { HitstateError } from '../errors.js';
import type { AgentRecord, AuditEntry, HitRecord, TaskRunRecord, UnitRecord } from '../store/types.js';
import { FLOW_WINDOW_MS, type DashboardSource, type FeedEvent } from './source.js';

/** A run as the runs page lists it. */
export interface RunRow {
  readonly runId: string;
  readonly title: string;
  readonly environment: string;
  readonly status: string;
  readonly counts: Readonly<Record<AssignmentState, number>>;
  readonly units: number;
  readonly money: MoneySummary;
  /** Reward plus fee of units not settled yet (what MTurk holds for them), in cents. */
  readonly heldCents: number;
  readonly reward: string | null;
  readonly createdAt: number;
  readonly lastActivityAt: number;
  /** Unit status changes of the last hour by `from>to` (seen by this process). */
  readonly flows: Readonly<Record<string, number>>;
}

/** One row of the unit table. */
export interface UnitRow {
  readonly unitId: string;
  readonly index: number;
  readonly status: AssignmentState;
  readonly workerId: string | null;
  readonly hitId: string | null;
  readonly agentId: string | null;
  readonly since: number;
  readonly preview: string;
}

/** Columns the unit table sorts by. */
export const SORTS = ['index', 'status', 'worker', 'hit', 'since'] as const;
export type SortKey = (typeof SORTS)[number];

/** A query of the unit table, as the page's links and form carry it. */
export interface UnitQuery {
  readonly state?: AssignmentState;
  readonly q?: string;
  readonly sort: SortKey;
  readonly dir: 'asc' | 'desc';
  readonly page: number;
  readonly pageSize: number;
}

const environmentText = (source: DashboardSource): string => {
  const env = source.store().environment;
  return env.kind === 'custom' ? `custom (${(env as { endpoint?: string }).endpoint ?? ''})` : env.kind;
};

function zeroCounts(): Record<AssignmentState, number> {
  return Object.fromEntries(UNIT_STATES.map((s) => [s, 0])) as Record<AssignmentState, number>;
}

/** Units by status, from the source's live statuses. */
export function countsOf(source: DashboardSource, runId: string): Record<AssignmentState, number> {
  if (source.counts !== undefined) return { ...zeroCounts(), ...source.counts(runId) };
  const counts = zeroCounts();
  for (const unit of source.store().units.ofRun(runId)) counts[source.unitStatus(unit.id)]++;
  return counts;
}

const FEE = 0.2;
const UNSETTLED = new Set<string>(['launched', 'assigned', 'completed']);

/** Reward plus fee of a run's units not settled yet, in cents. */
export function heldCentsOf(source: DashboardSource, runId: string): number {
  let held = 0;
  for (const u of source.store().units.ofRun(runId))
    if (UNSETTLED.has(source.unitStatus(u.id))) held += Math.round(Number(u.payAmountUsd) * 100 * (1 + FEE));
  return held;
}

/** One worker of the workers page. */
export interface WorkerRow {
  readonly workerId: string;
  /** Runs (of the scope) the worker took a unit of. */
  readonly runs: number;
  readonly units: number;
  readonly submitted: number;
  readonly approved: number;
  readonly rejected: number;
  /** Approved among reviewed across the whole store, 0..1; null before any review. */
  readonly approvalRate: number | null;
  /** From accepting to submitting, summed over submitted work. */
  readonly secondsWorked: number;
  readonly bonusCents: number;
  readonly bonuses: number;
  /** Requesters blocking the worker, as this store recorded. */
  readonly blockedBy: readonly string[];
  readonly lastSeenAt: number;
}

/**
 * The workers of one run (or of every run, `runId` null), most units first: units, reviews,
 * time and bonuses within that scope; the approval rate over the whole store.
 */
export function workerRows(source: DashboardSource, runId: string | null): WorkerRow[] {
  const store = source.store();
  if (runId !== null) store.runs.require(runId);
  const runIds = store.runs.list().map((r) => r.id);
  type Acc = {
    runs: Set<string>;
    units: Set<string>;
    submitted: number;
    approved: number;
    rejected: number;
    seconds: number;
    bonusCents: number;
    bonuses: number;
    last: number;
  };
  const scoped = new Map<string, Acc>();
  const rate = new Map<string, { ok: number; reviewed: number }>();
  const acc = (id: string): Acc => {
    let a = scoped.get(id);
    if (a === undefined)
      scoped.set(
        id,
        (a = {
          runs: new Set(),
          units: new Set(),
          submitted: 0,
          approved: 0,
          rejected: 0,
          seconds: 0,
          bonusCents: 0,
          bonuses: 0,
          last: 0,
        }),
      );
    return a;
  };
  for (const id of runIds) {
    const inScope = runId === null || id === runId;
    for (const agent of store.agents.ofRun(id)) {
      const r = rate.get(agent.workerId) ?? { ok: 0, reviewed: 0 };
      if (agent.review !== null) {
        r.reviewed++;
        if (agent.review.decision === 'approved') r.ok++;
      }
      rate.set(agent.workerId, r);
      if (!inScope) continue;
      const a = acc(agent.workerId);
      a.runs.add(id);
      a.units.add(agent.unitId);
      a.last = Math.max(a.last, agent.submittedAt ?? agent.createdAt);
      if (agent.submittedAt !== null) {
        a.submitted++;
        a.seconds += Math.max(0, agent.submittedAt - agent.createdAt) / 1000;
      }
      if (agent.review?.decision === 'approved') a.approved++;
      else if (agent.review !== null) a.rejected++;
    }
    if (!inScope) continue;
    for (const intent of store.outbox.ofRun(id)) {
      if (intent.kind !== 'bonus' || intent.state !== 'confirmed' || intent.amountUsd === null || !intent.workerId)
        continue;
      const a = acc(intent.workerId);
      a.bonuses++;
      a.bonusCents += Math.round(Number(intent.amountUsd) * 100);
    }
  }
  return [...scoped.entries()]
    .map(([workerId, a]) => {
      const r = rate.get(workerId);
      const record = store.workers.get(workerId);
      return {
        workerId,
        runs: a.runs.size,
        units: a.units.size,
        submitted: a.submitted,
        approved: a.approved,
        rejected: a.rejected,
        approvalRate: r === undefined || r.reviewed === 0 ? null : r.ok / r.reviewed,
        secondsWorked: Math.round(a.seconds),
        bonusCents: a.bonusCents,
        bonuses: a.bonuses,
        blockedBy: Object.keys(record?.blocks ?? {}),
        lastSeenAt: a.last,
      };
    })
    .sort((x, y) => y.units - x.units || (x.workerId < y.workerId ? -1 : 1));
}

/**
 * The qualifications each worker holds from this store's grants (granted and not revoked since),
 * by worker id, as qualification names where the store mapped them. Read from the audit trails,
 * where worker ids are pseudonymised per requester (`hitstate:REQUESTER`).
 */
export async function qualificationsOf(
  source: DashboardSource,
  workerIds: readonly string[],
): Promise<Map<string, string[]>> {
  const store = source.store();
  const requesters = store.requesters.list().map((r) => r.name);
  const byPseudonym = new Map<string, string>();
  for (const id of workerIds)
    for (const name of requesters) byPseudonym.set(pseudonymizeWorkerId(id, `hitstate:${name}`), id);
  const names = new Map(
    requesters.flatMap((r) => store.qualifications.ofRequester(r)).map((q) => [q.qualificationTypeId, q.name] as const),
  );
  const held = new Map<string, Map<string, boolean>>();
  for (const runId of [undefined, ...store.runs.list().map((r) => r.id)]) {
    for await (const entry of store.audit.entries(runId === undefined ? {} : { runId })) {
      const granted = entry.operation === 'AssociateQualificationWithWorker';
      if (!granted && entry.operation !== 'DisassociateQualificationFromWorker') continue;
      if (entry.outcome !== 'ok' && entry.outcome !== 'alreadyDone') continue;
      const args = (entry.details?.arguments ?? {}) as { WorkerId?: unknown; QualificationTypeId?: unknown };
      const workerId = byPseudonym.get(String(args.WorkerId));
      if (workerId === undefined) continue;
      let mine = held.get(workerId);
      if (mine === undefined) held.set(workerId, (mine = new Map()));
      mine.set(String(args.QualificationTypeId), granted);
    }
  }
  return new Map(
    [...held].map(([workerId, types]) => [
      workerId,
      [...types].filter(([, on]) => on).map(([type]) => names.get(type) ?? type),
    ]),
  );
}

/** Every run of the source's store, oldest first. */
export function runRows(source: DashboardSource): RunRow[] {
  return source
    .store()
    .runs.list()
    .map((run) => rowOf(source, run));
}

function rowOf(source: DashboardSource, run: TaskRunRecord): RunRow {
  const store = source.store();
  {
    const units = store.units.ofRun(run.id);
    const counts = zeroCounts();
    let held = 0;
    let last = run.updatedAt;
    for (const u of units) {
      const status = source.unitStatus(u.id);
      counts[status]++;
      if (UNSETTLED.has(status)) held += Math.round(Number(u.payAmountUsd) * 100 * (1 + FEE));
      if (u.updatedAt > last) last = u.updatedAt;
    }
    return {
      runId: run.id,
      title: typeof run.config.title === 'string' ? run.config.title : '(untitled)',
      environment: environmentText(source),
      status: run.status,
      counts,
      units: units.length,
      money: moneyOfRun(store, run.id),
      heldCents: held,
      reward: typeof run.config.reward === 'string' ? run.config.reward : null,
      createdAt: run.createdAt,
      lastActivityAt: last,
      flows: source.flows(run.id, source.clock.now() - FLOW_WINDOW_MS),
    };
  }
}

/** One run's row. @throws HitstateError `HST_ERR_RUN_NOT_FOUND` */
export function runRow(source: DashboardSource, runId: string): RunRow {
  return rowOf(source, source.store().runs.require(runId));
}

/** A short, single-line preview of a submission (the page escapes it). */
export function previewOf(data: unknown, max = 80): string {
  if (data === undefined || data === null) return '';
  const text = typeof data === 'string' ? data : JSON.stringify(data);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function currentAgent(agents: readonly AgentRecord[], unit: UnitRecord): AgentRecord | undefined {
  return agents.find((a) => a.id === unit.agentId) ?? agents.at(-1);
}

/** The unit table of a run: filtered, searched, sorted and one page of it, with the total. */
export function unitRows(source: DashboardSource, runId: string, query: UnitQuery): { rows: UnitRow[]; total: number } {
  const store = source.store();
  store.runs.require(runId);
  const q = query.q?.trim().toLowerCase() ?? '';
  // Submissions are read only for the rows shown, unless the search needs them all.
  const previewOfAgent = (agent: AgentRecord | undefined): string =>
    agent === undefined || agent.submittedAt === null ? '' : previewOf(store.agents.submission(agent.id));
  // A unit's agent and HIT are looked up only for the rows shown, unless the search or the sort
  // needs them all: at 10,000 units those lookups were most of the page's cost.
  interface Draft {
    readonly unit: UnitRecord;
    readonly status: AssignmentState;
    agent?: AgentRecord | undefined;
    hitId?: string | null;
    preview?: string;
  }
  const fill = (d: Draft): Required<Draft> => {
    if (d.hitId === undefined) {
      d.agent = currentAgent(store.agents.ofUnit(d.unit.id), d.unit);
      d.hitId = store.hits.ofUnit(d.unit.id)?.id ?? d.agent?.hitId ?? null;
    }
    return d as Required<Draft>;
  };
  const workerOf = (d: Draft): string | null => fill(d).agent?.workerId ?? d.unit.workerId;
  const eager = q !== '' || query.sort === 'worker' || query.sort === 'hit';
  const all: Draft[] = [];
  for (const unit of store.units.ofRun(runId)) {
    const status = source.unitStatus(unit.id);
    if (query.state !== undefined && status !== query.state) continue;
    const d: Draft = { unit, status };
    if (eager) fill(d);
    if (q !== '') {
      d.preview = previewOfAgent(d.agent);
      if (![unit.id, workerOf(d) ?? '', d.hitId ?? '', d.preview, status].some((v) => v.toLowerCase().includes(q)))
        continue;
    }
    all.push(d);
  }
  const key = (d: Draft): string | number =>
    query.sort === 'status'
      ? d.status
      : query.sort === 'worker'
        ? (workerOf(d) ?? '')
        : query.sort === 'hit'
          ? (fill(d).hitId ?? '')
          : query.sort === 'since'
            ? d.unit.updatedAt
            : d.unit.index;
  const sign = query.dir === 'desc' ? -1 : 1;
  if (
    !(
      query.sort === 'index' &&
      query.dir === 'asc' &&
      all.every((d, i) => i === 0 || all[i - 1]!.unit.index < d.unit.index)
    )
  )
    all.sort((a, b) => {
      const ka = key(a);
      const kb = key(b);
      return (ka < kb ? -1 : ka > kb ? 1 : a.unit.index - b.unit.index) * sign;
    });
  const start = (query.page - 1) * query.pageSize;
  const rows = all.slice(start, start + query.pageSize).map((draft) => {
    const d = fill(draft);
    return {
      unitId: d.unit.id,
      index: d.unit.index,
      status: d.status,
      workerId: d.agent?.workerId ?? d.unit.workerId,
      hitId: d.hitId,
      agentId: d.agent?.id ?? null,
      since: d.unit.updatedAt,
      preview: d.preview ?? previewOfAgent(d.agent),
    };
  });
  return { rows, total: all.length };
}

/** An agent awaiting review, with its submission. */
export interface ReviewEntry {
  readonly agent: AgentRecord;
  readonly unit: UnitRecord;
  readonly submission: unknown;
}

/** The agents of a run whose work is submitted and not reviewed yet, in unit order. */
export function reviewQueue(source: DashboardSource, runId: string): ReviewEntry[] {
  const store = source.store();
  store.runs.require(runId);
  return store.agents
    .ofRun(runId)
    .filter((a) => a.status === 'completed' && a.review === null)
    .map((agent) => ({ agent, unit: store.units.require(agent.unitId), submission: store.agents.submission(agent.id) }))
    .sort((a, b) => a.unit.index - b.unit.index);
}

/** One unit: record, status, agents with submissions, HIT, and its MTurk calls from the audit trail. */
export interface UnitDetail {
  readonly unit: UnitRecord;
  readonly status: AssignmentState;
  readonly hit: HitRecord | undefined;
  readonly agents: readonly { readonly agent: AgentRecord; readonly submission: unknown }[];
  readonly calls: readonly AuditEntry[];
  /** State changes, agents and money this process saw, oldest first. */
  readonly events: readonly FeedEvent[];
}

/** @throws HitstateError `HST_ERR_UNIT_NOT_FOUND` */
export async function unitDetail(source: DashboardSource, unitId: string): Promise<UnitDetail> {
  const store = source.store();
  const unit = store.units.get(unitId);
  if (unit === undefined)
    throw new HitstateError(
      'HST_ERR_UNIT_NOT_FOUND',
      `no unit ${unitId} in this store; pick one from a run's unit table`,
      {
        field: 'unitId',
      },
    );
  const agents = store.agents.ofUnit(unitId).map((agent) => ({ agent, submission: store.agents.submission(agent.id) }));
  const hit = store.hits.ofUnit(unitId);
  const ids = new Set<string>([unitId]);
  if (hit !== undefined) ids.add(hit.id);
  for (const { agent } of agents) {
    ids.add(agent.hitId);
    ids.add(agent.assignmentId);
  }
  // A call belongs to the unit when it names one of its HITs or assignments (or it, in a token).
  const calls = (await source.audit(unit.runId)).filter((entry) => {
    const named = [
      ...Object.values((entry.details?.ids as Record<string, unknown> | undefined) ?? {}),
      ...Object.values((entry.details?.arguments as Record<string, unknown> | undefined) ?? {}),
    ];
    return named.some((v) => typeof v === 'string' && ids.has(v)) || entry.token?.includes(unitId) === true;
  });
  // The store's records date the main steps even when this process saw none of them live.
  const recorded: FeedEvent[] = [
    { at: unit.createdAt, runId: unit.runId, kind: 'record', unitId, text: 'unit created' },
    ...agents.flatMap(({ agent }) => [
      {
        at: agent.createdAt,
        runId: unit.runId,
        kind: 'record',
        unitId,
        text: `worker ${agent.workerId} accepted (assignment ${agent.assignmentId})`,
      },
      ...(agent.submittedAt === null
        ? []
        : [
            {
              at: agent.submittedAt,
              runId: unit.runId,
              kind: 'record',
              unitId,
              text: `worker ${agent.workerId} submitted`,
            },
          ]),
      ...(agent.review === null
        ? []
        : [
            {
              at: agent.review.reviewedAt,
              runId: unit.runId,
              kind: 'record',
              unitId,
              text: `reviewed: ${agent.review.decision}${agent.review.feedback === null ? '' : ` (“${agent.review.feedback}”)`}`,
            },
          ]),
    ]),
  ];
  return {
    unit,
    status: source.unitStatus(unitId),
    hit,
    agents,
    calls,
    events: [...recorded, ...source.history(unitId)],
  };
}
