/**
 * Where the dashboard reads from, behind one small interface: the live runtime that owns the runs
 * (embedded: `runtime.dashboard()`), or a store another process holds, opened read-only and
 * re-read on an interval (standalone: `hitstate dashboard`).
 *
 * @module
 */
import { EventEmitter } from 'eventemitter3';
import type { AssignmentState } from '../../machines/index.js';
import type { Clock, TimerHandle } from '../clock.js';
import { HitstateError } from '../errors.js';
import type { Runtime } from '../runtime/core/runtime.js';
import type { ReviewAction, ReviewReport } from '../runtime/money/review.js';
import { MTurkWorker } from '../runtime/provider/worker.js';
import { reviewThroughOwner } from '../runtime/requests/run-requests.js';
import { openStore, type Store, type StoreEnvironment } from '../store/index.js';
import type { AuditEntry } from '../store/types.js';

/** One line of the live feed. */
export interface FeedEvent {
  readonly at: number;
  readonly runId: string | null;
  /** `unit`, `agent`, `mturk`, `money`, `run`, `drift`, `command` or `refresh`. */
  readonly kind: string;
  readonly unitId: string | null;
  readonly text: string;
  /** For a unit's status change: the status before and after. */
  readonly from?: string;
  readonly to?: string;
}

/** How long the chart's edges count flows. */
export const FLOW_WINDOW_MS = 3_600_000;

/** What the dashboard needs of a data source. */
export interface DashboardSource {
  /** `embedded`: the runtime owns the runs; `standalone`: a read-only look at a store. */
  readonly mode: 'embedded' | 'standalone';
  readonly clock: Clock;
  /** The store as last read. */
  store(): Store;
  /** A unit's status, from its actor when the runtime holds it. */
  unitStatus(unitId: string): AssignmentState;
  /**
   * Units by status, when the source keeps them counted (the runtime's supervisor does): the
   * live feed's counts then cost nothing per message. Without it, the statuses are counted.
   */
  counts?(runId: string): Readonly<Partial<Record<AssignmentState, number>>>;
  /** Subscribes to the live feed; returns the unsubscribe function. */
  subscribe(listener: (event: FeedEvent) => void): () => void;
  /** Why review actions are unavailable here, or null when they are available. */
  readonly reviewUnavailable: string | null;
  /** Performs a review through the runtime (money outbox, idempotent). */
  review(runId: string, agentId: string, action: ReviewAction): Promise<ReviewReport>;
  /** Why worker actions (block, qualify) are unavailable here, or null when they are available. */
  readonly workerActionsUnavailable: string | null;
  /**
   * A worker through the runtime's provider facade (the functions `hitstate worker` calls), and
   * the requester it acts as. @throws Error when {@link workerActionsUnavailable} is set.
   */
  worker(workerId: string): { readonly worker: MTurkWorker; readonly requester: string };
  /** What this process saw happen to a unit (state changes, agents, money), oldest first. */
  history(unitId: string): readonly FeedEvent[];
  /** Unit status changes of the run since `sinceMs`, by `from>to`. */
  flows(runId: string, sinceMs: number): Record<string, number>;
  /** The run's audit trail (MTurk calls), oldest first. */
  audit(runId: string): Promise<AuditEntry[]>;
  close(): Promise<void>;
}

/** Events kept per unit for its history page. */
const HISTORY_PER_UNIT = 100;

/** Keeps the last events of each unit, fed from the live feed. */
function unitHistories(subscribe: DashboardSource['subscribe']): (unitId: string) => readonly FeedEvent[] {
  const byUnit = new Map<string, FeedEvent[]>();
  subscribe((event) => {
    if (event.unitId === null || event.kind === 'mturk') return;
    let list = byUnit.get(event.unitId);
    if (list === undefined) byUnit.set(event.unitId, (list = []));
    list.push(event);
    if (list.length > HISTORY_PER_UNIT) list.shift();
  });
  return (unitId) => byUnit.get(unitId) ?? [];
}

/** Keeps each run's unit status changes of the last hour, fed from the live feed. */
function runFlows(subscribe: DashboardSource['subscribe'], clock: Clock): DashboardSource['flows'] {
  const byRun = new Map<string, { at: number; key: string }[]>();
  const prune = (list: { at: number }[]): void => {
    const cut = clock.now() - FLOW_WINDOW_MS;
    let drop = 0;
    while (drop < list.length && list[drop]!.at < cut) drop++;
    if (drop > 0) list.splice(0, drop);
  };
  subscribe((event) => {
    if (event.runId === null || event.from === undefined || event.to === undefined) return;
    let list = byRun.get(event.runId);
    if (list === undefined) byRun.set(event.runId, (list = []));
    list.push({ at: event.at, key: `${event.from}>${event.to}` });
    prune(list);
  });
  return (runId, sinceMs) => {
    const out: Record<string, number> = {};
    const list = byRun.get(runId) ?? [];
    prune(list);
    for (const f of list) if (f.at >= sinceMs) out[f.key] = (out[f.key] ?? 0) + 1;
    return out;
  };
}

async function collect(entries: AsyncIterable<AuditEntry>): Promise<AuditEntry[]> {
  const out: AuditEntry[] = [];
  for await (const entry of entries) out.push(entry);
  return out;
}

/** The live runtime as a source: its store, its actors' statuses and its event bus. */
export function runtimeSource(runtime: Runtime): DashboardSource {
  const feed = new EventEmitter<{ event: [FeedEvent] }>();
  const { events } = runtime;
  const on = {
    unit: (e: { runId: string; unitId: string; status: string; previous: string | null; at: number }) =>
      feed.emit('event', {
        at: e.at,
        runId: e.runId,
        kind: 'unit',
        unitId: e.unitId,
        text: `unit ${e.previous ?? 'new'} → ${e.status}`,
        ...(e.previous === null ? {} : { from: e.previous, to: e.status }),
      }),
    agent: (e: {
      runId: string;
      unitId: string;
      workerId: string;
      status: string;
      previous: string | null;
      at: number;
    }) =>
      feed.emit('event', {
        at: e.at,
        runId: e.runId,
        kind: 'agent',
        unitId: e.unitId,
        text: `worker ${e.workerId}: ${e.previous ?? 'new'} → ${e.status}`,
      }),
    mturk: (e: { runId: string | null; operation: string; outcome: string; startedAtMs: number }) =>
      feed.emit('event', {
        at: e.startedAtMs,
        runId: e.runId,
        kind: 'mturk',
        unitId: null,
        text: `MTurk ${e.operation}: ${e.outcome}`,
      }),
    money: (e: {
      runId: string;
      kind: string;
      unitId: string | null;
      amountUsd: string | null;
      outcome: string;
      at: number;
    }) =>
      feed.emit('event', {
        at: e.at,
        runId: e.runId,
        kind: 'money',
        unitId: e.unitId,
        text: `money ${e.kind}${e.amountUsd === null ? '' : ` $${e.amountUsd}`} confirmed (${e.outcome})`,
      }),
    run: (e: { runId: string; status: string; previous: string | null; at: number }) =>
      feed.emit('event', {
        at: e.at,
        runId: e.runId,
        kind: 'run',
        unitId: null,
        text: `run ${e.previous ?? 'new'} → ${e.status}`,
      }),
  };
  events.on('unit.statusChanged', on.unit);
  events.on('agent.statusChanged', on.agent);
  events.on('mturk.call', on.mturk);
  events.on('money.moved', on.money);
  events.on('run.statusChanged', on.run);
  const subscribe: DashboardSource['subscribe'] = (listener) => {
    feed.on('event', listener);
    return () => feed.off('event', listener);
  };
  const history = unitHistories(subscribe);
  const flows = runFlows(subscribe, runtime.options.clock);
  return {
    mode: 'embedded',
    history,
    flows,
    clock: runtime.options.clock,
    store: () => runtime.store,
    unitStatus: (unitId) => runtime.unitStatus(unitId),
    counts: (runId) => runtime.runInfo(runId).counts,
    subscribe,
    reviewUnavailable: null,
    review: (runId, agentId, action) => runtime.review(runId, { agentId }, action),
    workerActionsUnavailable: null,
    worker: (workerId) => ({ worker: new MTurkWorker(runtime, workerId), requester: runtime.options.requester.name }),
    audit: (runId) => collect(runtime.store.audit.entries({ runId })),
    async close() {
      events.off('unit.statusChanged', on.unit);
      events.off('agent.statusChanged', on.agent);
      events.off('mturk.call', on.mturk);
      events.off('money.moved', on.money);
      events.off('run.statusChanged', on.run);
      feed.removeAllListeners();
    },
  };
}

/** Options of {@link storeSource}. */
export interface StoreSourceOptions {
  readonly storeDir: string;
  readonly environment: StoreEnvironment;
  readonly clock: Clock;
  /** How often the store is read again. @defaultValue 2000 */
  readonly refreshMs?: number;
}

/** A store re-read waits at least this many times the last re-read's duration. */
const REREAD_SPACING = 20;

/** Why a standalone dashboard cannot review: no process runs the store's runs to execute the review. */
export const STANDALONE_REVIEW_REASON =
  'No hitstate process is running this store’s runs, so nothing can execute a review sent from here. Resume the run (`hitstate resume RUN`) and review here again, or review with `hitstate review RUN`.';

/** How long a standalone dashboard waits for the run's process to answer a review. */
const STANDALONE_REVIEW_WAIT_MS = 60_000;

/** Why a standalone dashboard cannot act on workers. */
export const STANDALONE_WORKER_REASON =
  'This dashboard reads the store read-only; block, unblock and qualify workers with `hitstate worker`, or from the dashboard of the process that runs the task (runtime.dashboard()).';

/**
 * A store read-only (no lock, nothing written: the same look `hitstate status` takes), opened
 * again every `refreshMs` so a run another process holds is seen as it goes; each unit whose
 * status changed between two reads becomes a feed event.
 *
 * @throws HitstateError of the read-only open (`HST_ERR_STORE_CORRUPT`, `HST_ERR_STORE_VERSION_NEWER`...).
 */
export async function storeSource(options: StoreSourceOptions): Promise<DashboardSource> {
  const { clock } = options;
  const refreshMs = options.refreshMs ?? 2000;
  const open = () => openStore({ dir: options.storeDir, environment: options.environment, readOnly: true });
  let current = await open();
  let retired: Store | undefined;
  const feed = new EventEmitter<{ event: [FeedEvent] }>();
  const statuses = (store: Store): Map<string, { runId: string; status: AssignmentState }> => {
    const out = new Map<string, { runId: string; status: AssignmentState }>();
    for (const run of store.runs.list())
      for (const unit of store.units.ofRun(run.id)) out.set(unit.id, { runId: run.id, status: unit.status });
    return out;
  };
  let known = statuses(current);
  let timer: TimerHandle | undefined;
  let closed = false;
  let lastReadMs = 0;
  const refresh = async (): Promise<void> => {
    const started = performance.now();
    try {
      const next = await open();
      // A page being served may still read the previous look: it is let go one refresh later.
      await retired?.close();
      retired = current;
      current = next;
      const seen = statuses(next);
      const at = clock.now();
      for (const [unitId, now] of seen) {
        const before = known.get(unitId)?.status ?? null;
        if (before !== now.status)
          feed.emit('event', {
            at,
            runId: now.runId,
            kind: 'unit',
            unitId,
            text: `unit ${before ?? 'new'} → ${now.status}`,
            ...(before === null ? {} : { from: before, to: now.status }),
          });
      }
      known = seen;
      feed.emit('event', { at, runId: null, kind: 'refresh', unitId: null, text: 'store read again' });
    } catch (err) {
      feed.emit('event', {
        at: clock.now(),
        runId: null,
        kind: 'error',
        unitId: null,
        text: `reading the store failed: ${err instanceof Error ? err.message : String(err)}`,
      });
    }
    lastReadMs = performance.now() - started;
  };
  // A re-read of a big store costs a few hundred ms; waiting at least 20 times what the last one
  // took keeps the dashboard under 5% of a core however big the store grows.
  const schedule = (): void => {
    if (closed) return;
    timer = clock.setTimeout(
      () => void refresh().finally(schedule),
      Math.max(refreshMs, Math.ceil(lastReadMs * REREAD_SPACING)),
    );
  };
  schedule();
  const subscribe: DashboardSource['subscribe'] = (listener) => {
    feed.on('event', listener);
    return () => feed.off('event', listener);
  };
  const history = unitHistories(subscribe);
  const flows = runFlows(subscribe, clock);
  return {
    mode: 'standalone',
    history,
    flows,
    clock,
    store: () => current,
    unitStatus: (unitId) => current.units.require(unitId).status,
    counts: (runId) => current.units.statusCounts(runId),
    subscribe,
    // Reviews go to the process running the run as review requests through the store: it executes
    // them through its money outbox and answers with the report (docs/datastore.md).
    get reviewUnavailable() {
      return current.openReport.heldBy === null ? STANDALONE_REVIEW_REASON : null;
    },
    review: async (runId, agentId, action) => {
      if (current.openReport.heldBy === null) throw new HitstateError('HST_ERR_RUN_STATE', STANDALONE_REVIEW_REASON);
      return reviewThroughOwner(
        current.backend,
        clock,
        runId,
        { target: { agentId }, action },
        STANDALONE_REVIEW_WAIT_MS,
      );
    },
    workerActionsUnavailable: STANDALONE_WORKER_REASON,
    worker: () => {
      throw new Error(STANDALONE_WORKER_REASON);
    },
    audit: (runId) => collect(current.audit.entries({ runId })),
    async close() {
      closed = true;
      if (timer !== undefined) clock.clearTimeout(timer);
      feed.removeAllListeners();
      await retired?.close();
      await current.close();
    },
  };
}
