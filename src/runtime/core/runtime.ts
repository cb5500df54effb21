/**
 * `createRuntime`: one runtime per requester environment (live, sandbox or a custom endpoint),
 * with one store, one gateway per requester, one clock and one event bus. It launches and resumes
 * task runs (one supervisor actor each), serves the task server (`taskServerBackend()`), reviews
 * work, expires runs, and closes cleanly.
 *
 * @module
 */
import { agentStatusOf, unitStatusOf, type AgentState, type AssignmentState } from '../../../machines/index.js';
import type { TimerHandle } from '../../clock.js';
import type { TaskRunConfig } from '../../config/task-run.js';
import { createDashboard, type Dashboard, type DashboardOptions } from '../../dashboard/dashboard.js';
import { runtimeSource } from '../../dashboard/source.js';
import { HitstateError } from '../../errors.js';
import type { MTurkGateway } from '../../mturk/gateway.js';
import { openStore, type Store } from '../../store/open-store.js';
import { Activity } from './activity.js';
import { auditSink } from './audit-sink.js';
import { checkDrift, type DriftReport } from '../sync/drift.js';
import { RuntimeEventBus, warnListenerError } from './events.js';
import { RuntimeGateways } from './gateways.js';
import {
  resolveRuntimeOptions,
  type ResolvedRuntimeOptions,
  type RuntimeOptions,
  type RuntimeRequester,
} from './options.js';
import { repairRestoredRun, type ResumeRepairs } from '../supervisor/resume.js';
import type { MoneySettlement } from '../money/outbox.js';
import {
  review,
  settleMoney,
  type ReviewAction,
  type ReviewOptions,
  type ReviewReport,
  type ReviewTarget,
} from '../money/review.js';
import { RunRequestInbox } from '../requests/run-requests.js';
import { createRunRecords, defaultRunId, loadRunHost, runsToResume, type LaunchRunOptions } from './run-loader.js';
import type { LeaseHolder, RunLease } from '../../store/backend.js';
import { runInfoOf, waitForRun, type TaskRunInfo } from './run-info.js';
import type { RunRegistry } from './run-registry.js';
import type { RuntimeServices } from './services.js';
import type { SyncReport } from '../sync/status-sync.js';
import type { RunHost } from '../supervisor/supervisor.js';
import { RuntimeTaskServerBackend } from '../arrivals/task-server-backend.js';
import { budgetOf, setRunBudget, type BudgetLedger } from '../money/budget.js';
import { addUnits, relaunch, type AddedUnits } from './continue-run.js';

/** How long a run's lease lasts without renewal (a crashed owner's run is free after this). */
export const RUN_LEASE_TTL_MS = 30_000;
/** The lease is renewed this often, well before it expires. */
const RUN_LEASE_RENEW_MS = RUN_LEASE_TTL_MS / 3;

/** The error for a run another live process owns, naming it. */
export function runOwnedError(runId: string, holder: LeaseHolder): HitstateError {
  return new HitstateError(
    'HST_ERR_RUN_OWNED',
    `run ${runId} is owned by another live process (pid ${holder.pid} on ${holder.hostname}, lease until ${new Date(holder.expiresAt).toISOString()}); review it through its owner (\`hitstate review\` does), or stop that process first. A crashed owner's run is taken over by \`hitstate resume ${runId}\`.`,
    { runId },
  );
}

/** What `resume()` did for one run. */
export interface ResumedRun {
  readonly runId: string;
  /** False when the run crashed before its first snapshot and was started afresh. */
  readonly restored: boolean;
  readonly repairs: ResumeRepairs;
  /** The drift check, once MTurk answered (`runtime.whenIdle()` waits for it). */
  readonly drift: Promise<DriftReport>;
}

/** Options of `expireRun`. */
export interface ExpireRunOptions {
  /** Resolve only once the run is `done` (assigned units finished or abandoned, HITs disposed). @defaultValue true */
  readonly wait?: boolean;
}

/**
 * A hitstate runtime. Create it with {@link createRuntime}.
 */
export class Runtime implements RunRegistry {
  /** Typed events: `unit.statusChanged`, `agent.statusChanged`, `mturk.call`, `money.moved`, `drift.found`, `run.progress`, `run.statusChanged`, `command.failed`, `closing`, `closed`, `error`. */
  readonly events: RuntimeEventBus;
  /** @internal The store; users read runs through the runtime's methods (not in the published types). */
  readonly store: Store;
  readonly options: ResolvedRuntimeOptions;
  /** @internal What the runtime's parts share (not in the published types). */
  readonly services: RuntimeServices;
  readonly #activity = new Activity();
  readonly #runs = new Map<string, RunHost>();
  /** Per loaded run: executes the requests other processes post to it (a review while it runs here). */
  readonly #inboxes = new Map<string, RunRequestInbox>();
  readonly #loading = new Map<string, Promise<RunHost>>();
  readonly #gateways: RuntimeGateways;
  readonly #ownStore: boolean;
  readonly #sleepers = new Map<TimerHandle, () => void>();
  readonly #backend: RuntimeTaskServerBackend;
  /** The leases of the runs this runtime hosts (none for a read-only store), with their renewal timers. */
  readonly #leases = new Map<string, { lease: RunLease; timer: TimerHandle | null }>();
  #closing: Promise<void> | undefined;

  /** @internal Use {@link createRuntime}. */
  constructor(options: ResolvedRuntimeOptions, store: Store, ownStore: boolean) {
    this.options = options;
    this.store = store;
    this.#ownStore = ownStore;
    this.events = new RuntimeEventBus(options.onListenerError ?? warnListenerError);
    const onError = (err: unknown): void => this.#reportError(err);
    const runOfAssignment = (assignmentId: string): string | null => {
      for (const run of this.#runs.values()) if (run.persistence.hasAssignment(assignmentId)) return run.runId;
      return null;
    };
    this.#gateways = new RuntimeGateways(
      options,
      store,
      this.#activity,
      auditSink(store, this.events, runOfAssignment, onError),
      onError,
    );
    const activity = this.#activity;
    this.services = {
      store,
      clock: options.clock,
      events: this.events,
      options,
      gatewayFor: (name) => this.gateway(name),
      reportError: (err) => this.#reportError(err),
      track: (work) => activity.track(work),
      sleep: (ms) => this.#sleep(ms),
    };
    this.#backend = new RuntimeTaskServerBackend(this);
    store.on('writeFailed', (err) => this.#reportError(err));
  }

  #reportError(err: unknown): void {
    const error = err instanceof Error ? err : new Error(String(err));
    if (this.events.listenerCount('error') > 0) this.events.emit('error', error);
    else process.emitWarning(`hitstate runtime: ${error.message}`, { code: 'HSTWRN_RUNTIME_ERROR' });
  }

  #sleep(ms: number): Promise<void> {
    const { clock } = this.options;
    const awake = this.#activity.sleeping();
    return new Promise<void>((resolve) => {
      const handle = clock.setTimeout(() => {
        this.#sleepers.delete(handle);
        awake();
        resolve();
      }, ms);
      this.#sleepers.set(handle, () => {
        clock.clearTimeout(handle);
        awake();
        resolve();
      });
    });
  }

  /** The environment this runtime works in. */
  get environment(): ResolvedRuntimeOptions['environment'] {
    return this.options.environment;
  }

  /** True once `close()` was called. */
  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /** @throws HitstateError `HST_ERR_RUNTIME_CLOSED` once `close()` started. */
  assertOpen(): void {
    if (this.#closing !== undefined)
      throw new HitstateError(
        'HST_ERR_RUNTIME_CLOSED',
        'the runtime is closed (or closing); create a new runtime to continue',
      );
  }

  /**
   * The gateway of a requester: from the runtime's options (static keys stay in memory), else
   * from the store's record (profile or default chain).
   *
   * @throws HitstateError `HST_ERR_CONFIG_INVALID` for an unknown requester, `HST_ERR_CREDENTIALS_PROFILE_NOT_FOUND`.
   */
  gateway(requesterName: string = this.options.requester.name): MTurkGateway {
    return this.#gateways.get(requesterName);
  }

  /**
   * Makes a requester known to this runtime: `profile` and `defaultChain` sources are recorded in
   * the store (future runtimes know it too); `static` keys stay in memory. A gateway created for
   * the old credentials is closed.
   *
   * @throws HitstateError `HST_ERR_CONFIG_INVALID` for a bad name or source, `HST_ERR_RUNTIME_CLOSED`.
   */
  registerRequester(requester: RuntimeRequester): void {
    this.assertOpen();
    this.#gateways.register(requester);
  }

  /** Whether the runtime knows a requester (from its options, a registration or the store). */
  knowsRequester(requesterName: string): boolean {
    return this.#gateways.knows(requesterName);
  }

  /** @internal The run's host if it is in memory (not in the published types). */
  loaded(runId: string): RunHost | undefined {
    return this.#runs.get(runId);
  }

  /** Starts executing the requests posted to a run this runtime now hosts (not in a read-only store). */
  #openInbox(runId: string): void {
    if (this.store.readOnly || this.#inboxes.has(runId)) return;
    const inbox = new RunRequestInbox({
      backend: this.store.backend,
      runId,
      clock: this.services.clock,
      review: (id, target, action, options) => this.review(id, target, action, options),
      // Arrivals and submissions another task server of the store received for this run.
      tasks: this.#backend,
      // A worker waits on a routed arrival: looked at twice a second.
      pollMs: 500,
      onError: (error) => this.#reportError(error),
    });
    this.#inboxes.set(runId, inbox);
    inbox.start();
  }

  /**
   * Takes the run's lease for this process (renewed every {@link RUN_LEASE_RENEW_MS} on the
   * runtime's clock, released at close): only the owner of a run writes it.
   *
   * @throws HitstateError `HST_ERR_RUN_OWNED` when another live process holds it.
   */
  async #own(runId: string): Promise<void> {
    if (process.env.DBG_NOLEASE || this.store.readOnly || this.#leases.has(runId)) return;
    const result = await this.store.backend.acquireRun(runId, RUN_LEASE_TTL_MS);
    if (!result.ok) throw runOwnedError(runId, result.heldBy);
    if (this.#leases.has(runId)) return;
    const entry: { lease: RunLease; timer: TimerHandle | null } = { lease: result.lease, timer: null };
    this.#leases.set(runId, entry);
    const { clock } = this.options;
    const renew = (): void => {
      entry.timer = clock.setTimeout(() => {
        entry.timer = null;
        if (this.#closing !== undefined) return;
        // Tracked: whenIdle() (and a virtual-time driver) waits for the renewal's file write.
        void this.#activity.track(entry.lease.renew()).then(
          (held) => {
            if (held) renew();
            else this.#lost(runId);
          },
          (err: unknown) => {
            // A failed renewal (disk error) is tried again; the lease lasts two more periods.
            this.#reportError(err);
            renew();
          },
        );
      }, RUN_LEASE_RENEW_MS);
    };
    renew();
  }

  /** The run's lease expired and another process took it: this one stops writing the run. */
  #lost(runId: string): void {
    const entry = this.#leases.get(runId);
    if (entry?.timer != null) this.options.clock.clearTimeout(entry.timer);
    this.#leases.delete(runId);
    const host = this.#runs.get(runId);
    if (host !== undefined) {
      host.quiesce();
      host.stop();
      this.#runs.delete(runId);
    }
    const inbox = this.#inboxes.get(runId);
    this.#inboxes.delete(runId);
    void inbox?.stop();
    this.#reportError(
      new HitstateError(
        'HST_ERR_RUN_OWNED',
        `the lease of run ${runId} was lost (it expired and another process took the run over), so this process stopped the run and writes nothing more of it; the new owner carries it on`,
        { runId },
      ),
    );
  }

  /** Whether this runtime holds the run's lease (it writes the run). */
  owns(runId: string): boolean {
    return this.#leases.has(runId);
  }

  /** @internal The run's host, loading it from the store if needed (not in the published types). */
  async ensure(runId: string): Promise<RunHost> {
    this.assertOpen();
    const loaded = this.#runs.get(runId);
    if (loaded !== undefined) return loaded;
    const loading = this.#loading.get(runId);
    if (loading !== undefined) return loading;
    const work = (async () => {
      await this.#own(runId);
      const host = loadRunHost(this.services, runId);
      this.#runs.set(runId, host);
      host.start();
      this.#openInbox(runId);
      if (host.restored) repairRestoredRun(host);
      return host;
    })().finally(() => this.#loading.delete(runId));
    this.#loading.set(runId, work);
    return work;
  }

  /**
   * Launches a task run: checks the config (nothing is created if it fails), records the run and
   * its units, and starts its supervisor, which sets up qualifications and the HIT type and
   * launches the units' HITs. Resolves once the run is recorded and started; follow it with
   * `runtime.events` or {@link Runtime.runInfo}.
   *
   * @example
   * ```ts
   * const { runId } = await runtime.launchRun({ title: 'Label sentences', description: 'Pick the sentiment',
   *   reward: '0.10', units: [{ text: 'I loved it' }, { text: 'Meh' }] }, { taskUrl: 'https://tasks.example.org/hitstate/task' });
   * ```
   * @throws HitstateError `HST_ERR_CONFIG_INVALID` (every problem listed), `HST_ERR_STORE_DUPLICATE`, `HST_ERR_RUNTIME_CLOSED`.
   */
  async launchRun(config: TaskRunConfig, options: LaunchRunOptions = {}): Promise<TaskRunInfo> {
    this.assertOpen();
    // The new run's lease first: its records are written by its owner only.
    const runId = options.runId ?? defaultRunId(this.options.clock.now());
    await this.#own(runId);
    let record: Awaited<ReturnType<typeof createRunRecords>>['record'];
    try {
      ({ record } = await createRunRecords(this.services, config, { ...options, runId }));
    } catch (err) {
      await this.#release(runId);
      throw err;
    }
    await this.ensure(record.id);
    return this.runInfo(record.id);
  }

  /**
   * Resumes every unfinished run of the store (or one): actors restored from their snapshots,
   * commands they waited on re-issued with their original tokens, HITs already on MTurk
   * re-attached, unconfirmed money intents replayed, and a drift report against MTurk emitted as
   * `drift.found` events.
   *
   * @throws HitstateError `HST_ERR_RUN_NOT_FOUND`, `HST_ERR_RUN_STATE` (snapshots of another machine version), `HST_ERR_RUNTIME_CLOSED`.
   */
  async resume(runId?: string): Promise<ResumedRun[]> {
    this.assertOpen();
    const ids = runId === undefined ? runsToResume(this.store) : [this.store.runs.require(runId).id];
    const resumed: ResumedRun[] = [];
    for (const id of ids) {
      if (this.#runs.has(id)) continue;
      try {
        await this.#own(id);
      } catch (err) {
        // Resuming every run leaves the ones other live processes own to them.
        if (runId === undefined && err instanceof HitstateError && err.code === 'HST_ERR_RUN_OWNED') continue;
        throw err;
      }
      const host = loadRunHost(this.services, id);
      this.#runs.set(id, host);
      host.start();
      this.#openInbox(id);
      const repairs = host.restored ? repairRestoredRun(host) : { submissionsDelivered: 0, intentsReplayed: 0 };
      const drift = this.#activity.track(checkDrift(host));
      drift.catch((err: unknown) => this.#reportError(err));
      resumed.push({ runId: id, restored: host.restored, repairs, drift });
    }
    return resumed;
  }

  /**
   * Compares the store with MTurk for a run and emits `drift.found` for each difference.
   *
   * @throws HitstateError `HST_ERR_RUN_NOT_FOUND`, `HST_ERR_RUNTIME_CLOSED`.
   */
  async checkDrift(runId: string): Promise<DriftReport> {
    return checkDrift(await this.ensure(runId));
  }

  /**
   * Ends a run: no new workers, unassigned units expired (their HITs off MTurk), assigned units
   * waited for up to their assignment duration (draining), then finished HITs disposed. By default
   * resolves once the run is `done`.
   *
   * A run still setting up ends at once (nothing was created on MTurk yet).
   *
   * @example
   * ```ts
   * await runtime.expireRun(runId);                  // resolves once the run is done
   * await runtime.expireRun(runId, { wait: false }); // resolves once the expiry is under way
   * ```
   * @throws HitstateError `HST_ERR_RUN_NOT_FOUND`, `HST_ERR_RUNTIME_CLOSED` (also while waiting, if the runtime closes).
   */
  async expireRun(runId: string, options: ExpireRunOptions = {}): Promise<TaskRunInfo> {
    const run = await this.ensure(runId);
    run.send({ type: 'run.expire', at: this.options.clock.now() });
    run.persistNow();
    if (options.wait !== false) await this.waitForRun(runId, (info) => info.status === 'done');
    return this.runInfo(runId);
  }

  /**
   * Resolves when `predicate` holds for the run (checked now and after each change of the run).
   * Rejects with `HST_ERR_RUNTIME_CLOSED` if the runtime closes first.
   */
  waitForRun(runId: string, predicate: (info: TaskRunInfo) => boolean): Promise<TaskRunInfo> {
    return waitForRun(this.events, () => this.runInfo(runId), runId, predicate);
  }

  /**
   * Approves, rejects, soft-rejects or pays a bonus to the agents `target` names (one agent, a
   * unit, a worker, or every agent awaiting review). `dryRun` reports what would happen.
   *
   * @example
   * ```ts
   * await runtime.review(runId, { all: true }, { kind: 'approve' });
   * await runtime.review(runId, { agentId }, { kind: 'bonus', amountUsd: '0.25', reason: 'Great labels' });
   * ```
   * @throws HitstateError `HST_ERR_RUN_NOT_FOUND`, `HST_ERR_AGENT_NOT_FOUND`, `HST_ERR_UNIT_NOT_FOUND`, `HST_ERR_MTURK_FEEDBACK_REQUIRED`, `HST_ERR_CONFIG_INVALID`, `HST_ERR_RUNTIME_CLOSED`.
   */
  review(runId: string, target: ReviewTarget, action: ReviewAction, options?: ReviewOptions): Promise<ReviewReport> {
    return review(this, runId, target, action, options);
  }

  /**
   * Settles a run's money before the process ends: waits until every money call under way
   * (reviews, intents replayed after a crash, launches) is confirmed, failed for good, or handed
   * back to the store as still open, and the HITs it finished are disposed; then reports
   * "confirmed N, still open M". Call it last, before {@link Runtime.close}: afterwards a retryable
   * failure is handed back instead of retried.
   *
   * @example
   * ```ts
   * await runtime.review(runId, { all: true }, { kind: 'approve' });
   * const { confirmed, stillOpen } = await runtime.settleMoney(runId);
   * await runtime.close();
   * ```
   * @throws HitstateError `HST_ERR_RUN_NOT_FOUND`.
   */
  settleMoney(runId: string): Promise<MoneySettlement> {
    return settleMoney(this, runId);
  }

  /** Where the run's money stands against its budget (spent, held, to launch, left). @throws HitstateError `HST_ERR_RUN_NOT_FOUND` */
  budget(runId: string): BudgetLedger {
    return budgetOf(this.store, runId);
  }

  /**
   * Records a new budget for the run (USD, fees included). @throws HitstateError `HST_ERR_BUDGET_EXCEEDED`
   * (below spent + held), `HST_ERR_CONFIG_INVALID`, `HST_ERR_RUN_NOT_FOUND`.
   */
  async setBudget(runId: string, amountUsd: string): Promise<BudgetLedger> {
    this.assertOpen();
    this.store.runs.require(runId);
    await this.#own(runId);
    return setRunBudget(this.store, runId, amountUsd);
  }

  async #release(runId: string): Promise<void> {
    const entry = this.#leases.get(runId);
    if (entry === undefined) return;
    this.#leases.delete(runId);
    if (entry.timer !== null) this.options.clock.clearTimeout(entry.timer);
    await entry.lease.release().catch((err: unknown) => this.#reportError(err));
  }

  /**
   * Adds one unit per item (its task data) to a launching, running, detached or done run, within its
   * budget; the same items twice are added once. See `continue-run.ts`.
   *
   * @throws HitstateError `HST_ERR_BUDGET_EXCEEDED`, `HST_ERR_RUN_STATE`, `HST_ERR_CONFIG_INVALID`, `HST_ERR_RUN_NOT_FOUND`.
   */
  addUnits(runId: string, items: readonly unknown[]): Promise<AddedUnits> {
    return addUnits(this, runId, items);
  }

  /**
   * New units, with new HITs, for the units that expired without work (all, or `unitIds`), within budget.
   *
   * @throws HitstateError `HST_ERR_BUDGET_EXCEEDED`, `HST_ERR_RUN_STATE`, `HST_ERR_UNIT_NOT_FOUND`, `HST_ERR_RUN_NOT_FOUND`.
   */
  relaunch(runId: string, unitIds?: readonly string[]): Promise<AddedUnits> {
    return relaunch(this, runId, unitIds);
  }

  /** Tries a failed setup again. @throws HitstateError `HST_ERR_RUN_STATE` unless the run's setup failed. */
  async retrySetup(runId: string): Promise<TaskRunInfo> {
    const run = await this.ensure(runId);
    if (run.status() !== 'failed')
      throw new HitstateError(
        'HST_ERR_RUN_STATE',
        `run ${runId} is ${run.status()}; only a run whose setup failed can retry it`,
        { runId },
      );
    run.send({ type: 'run.retrySetup', at: this.options.clock.now() });
    return this.runInfo(runId);
  }

  /** Resumes launching after a launch failed for good (e.g. insufficient funds, now fixed). */
  async resumeLaunching(runId: string): Promise<TaskRunInfo> {
    const run = await this.ensure(runId);
    run.send({ type: 'run.resumeLaunching', at: this.options.clock.now() });
    return this.runInfo(runId);
  }

  /** Runs a status-sync cycle of the run now (tests, `hitstate status --sync`). */
  async syncNow(runId: string): Promise<SyncReport> {
    return (await this.ensure(runId)).sync.syncNow();
  }

  /**
   * The run's status and counts (from its supervisor when loaded, else from the store).
   *
   * @throws HitstateError `HST_ERR_RUN_NOT_FOUND`.
   */
  runInfo(runId: string): TaskRunInfo {
    return runInfoOf(this.store, this.#runs.get(runId), runId);
  }

  /** Every run of the store, oldest first. */
  listRuns(): TaskRunInfo[] {
    return this.store.runs.list().map((r) => this.runInfo(r.id));
  }

  /** A unit's status (from its actor when the run is loaded). @throws HitstateError `HST_ERR_UNIT_NOT_FOUND` */
  unitStatus(unitId: string): AssignmentState {
    const record = this.store.units.require(unitId);
    const view = this.#runs.get(record.runId)?.unit(unitId);
    return view === undefined ? record.status : unitStatusOf(view);
  }

  /** An agent's status (from its actor when the run is loaded). @throws HitstateError `HST_ERR_AGENT_NOT_FOUND` */
  agentStatus(agentId: string): AgentState {
    const record = this.store.agents.require(agentId);
    const view = this.#runs.get(record.runId)?.agent(agentId);
    return view === undefined ? record.status : agentStatusOf(view);
  }

  /** The runtime as the task server's backend: `createTaskServer(runtime.taskServerBackend(), options)`. */
  taskServerBackend(): RuntimeTaskServerBackend {
    return this.#backend;
  }

  /**
   * The run dashboard over this runtime (live counts, units, history, review through the money
   * outbox), as a `node:http` handler; wrap it with `dashboardToExpress`/`dashboardToFastify`.
   * Serve it on 127.0.0.1, or give `token`. Close it before the runtime.
   */
  dashboard(options: DashboardOptions = {}): Dashboard {
    return createDashboard(runtimeSource(this), options, true);
  }

  /** True when nothing is happening that would finish without the clock moving. */
  #quiet(): boolean {
    for (const run of this.#runs.values()) if (!run.persistence.idle) return false;
    if (this.#loading.size > 0) return false;
    if (this.#gateways.inFlight() > 0) return false;
    return this.#activity.busy <= 0;
  }

  /**
   * Resolves when no command is doing work, no poll is running, every actor is saved into the
   * store and no store write is under way. Work that only waits on the clock (a backoff, a retry
   * delay) does not count: on a virtual clock, advance it and call this again.
   */
  async whenIdle(): Promise<void> {
    for (let quietTurns = 0; quietTurns < 2; ) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      for (const run of this.#runs.values()) run.persistNow();
      if (!this.#quiet()) {
        quietTurns = 0;
        continue;
      }
      await this.store.whenIdle();
      quietTurns++;
    }
  }

  /**
   * Stops polls and launches, waits for the MTurk calls under way, saves every actor, flushes and
   * closes the store (if the runtime opened it) and the gateways (if it created them), then emits
   * `closed`. Leaves no timer or socket behind. Safe to call twice.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.events.emit('closing');
      for (const run of this.#runs.values()) run.quiesce();
      await Promise.all([...this.#inboxes.values()].map((inbox) => inbox.stop()));
      this.#backend.close();
      await Promise.allSettled([...this.#loading.values()]);
      for (const run of this.#runs.values()) run.quiesce();
      while (this.#gateways.inFlight() > 0) await new Promise<void>((resolve) => setImmediate(resolve));
      for (const wake of [...this.#sleepers.values()]) wake();
      this.#sleepers.clear();
      this.#gateways.close();
      await this.#activity.drain();
      for (const run of this.#runs.values()) run.stop();
      await this.store.flush();
      // Everything of the hosted runs is committed: they are free for another process. A store
      // this runtime opened folds the runs' journals first, holding them, then releases them.
      for (const entry of this.#leases.values()) if (entry.timer !== null) this.options.clock.clearTimeout(entry.timer);
      if (this.#ownStore) {
        await this.store.close();
        this.#leases.clear();
      }
      for (const runId of [...this.#leases.keys()]) await this.#release(runId);
      this.events.emit('closed');
    })();
    return this.#closing;
  }
}

/**
 * Creates a runtime: opens the environment's store (taking its lock) and prepares one gateway per
 * requester. Runs are started with `launchRun` or `resume`.
 *
 * @example
 * ```ts
 * const runtime = await createRuntime({
 *   environment: { kind: 'sandbox' },
 *   requester: { name: 'lab', credentials: { kind: 'profile', profile: 'lab' } },
 * });
 * await runtime.resume();             // every unfinished run of the store
 * runtime.events.on('unit.statusChanged', (e) => console.log(e.unitId, e.status));
 * process.on('SIGINT', () => void runtime.close());
 * ```
 * @throws HitstateError `HST_ERR_CONFIG_INVALID` (every problem listed), `HST_ERR_STORE_LOCKED`,
 *   `HST_ERR_STORE_CORRUPT`, `HST_ERR_STORE_VERSION_NEWER`, `HST_ERR_STORE_ENVIRONMENT_MISMATCH`.
 */
export async function createRuntime(options: RuntimeOptions): Promise<Runtime> {
  const resolved = resolveRuntimeOptions(options);
  if (resolved.store !== undefined) {
    const a = JSON.stringify(resolved.store.environment);
    const b = JSON.stringify(resolved.environment);
    if (a !== b)
      throw new HitstateError(
        'HST_ERR_STORE_ENVIRONMENT_MISMATCH',
        `the store given holds data of ${a}, the runtime works in ${b}; open the store of the runtime's environment`,
        { field: 'store' },
      );
    return new Runtime(resolved, resolved.store, false);
  }
  const store = await openStore({
    environment: resolved.environment,
    clock: resolved.clock,
    coalesceMs: resolved.storeCoalesceMs,
    ...(resolved.storeDir === undefined ? {} : { dir: resolved.storeDir }),
  });
  return new Runtime(resolved, store, true);
}
