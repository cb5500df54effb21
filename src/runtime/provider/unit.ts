/**
 * `MTurkUnit` and `MTurkAgent`: one unit of work and one worker on it, read from their actors (or
 * the store when the run is not loaded), with Mephisto's actions. A unit's status changes only
 * through its machine: these methods send requests and report what the machine did.
 *
 * @module
 */
import { UnitTag, unitHasTag, type AgentState, type AssignmentState } from '../../../machines/index.js';
import type { ReviewAction } from '../money/review.js';
import type { Runtime } from '../core/runtime.js';
import { attempt, failed, succeeded, type ProviderResult } from './result.js';

/** One unit (Mephisto's `MTurkUnit`). */
export class MTurkUnit {
  readonly unitId: string;
  readonly #runtime: Runtime;

  constructor(runtime: Runtime, unitId: string) {
    this.#runtime = runtime;
    this.unitId = unitId;
  }

  get #record() {
    return this.#runtime.store.units.require(this.unitId);
  }

  #view() {
    return this.#runtime.loaded(this.#record.runId)?.unit(this.unitId);
  }

  /** The unit's AssignmentState. @throws HitstateError `HST_ERR_UNIT_NOT_FOUND` */
  status(): AssignmentState {
    return this.#runtime.unitStatus(this.unitId);
  }

  isExpired(): boolean {
    return this.status() === 'expired';
  }

  /** The HIT bound to the unit (while a worker holds it, once submitted, or the pool HIT its expiry consumed), else null. */
  hitId(): string | null {
    return this.#view()?.context.hitId ?? this.#runtime.store.hits.ofUnit(this.unitId)?.id ?? null;
  }

  /** The MTurk assignment of the bound HIT, else null. */
  assignmentId(): string | null {
    return this.#view()?.context.assignmentId ?? this.#runtime.store.hits.ofUnit(this.unitId)?.assignmentId ?? null;
  }

  /**
   * Launches the unit. The run launches its units itself (within `maxConcurrentUnits`); this
   * resumes launching when a launch failed for good and halted it. A unit already on MTurk is
   * `alreadyDone`.
   */
  async launch(): Promise<ProviderResult<{ readonly status: AssignmentState }>> {
    return attempt(async () => {
      const run = await this.#runtime.ensure(this.#record.runId);
      if (this.status() !== 'created') return succeeded({ status: this.status() }, true);
      if (run.supervisor().context.launchHalt !== null) await this.#runtime.resumeLaunching(run.runId);
      return succeeded({ status: this.status() });
    });
  }

  /**
   * Expires the unit: one not launched ends `expired` at once; an assigned one has its HIT expired
   * (the worker may still finish; `waitSec` says how long that may take). A launched unit holds no
   * HIT of its own (HITs are bound when a worker arrives), so it is expired with its run
   * (`runtime.expireRun`), which takes a pool HIT off MTurk for it.
   */
  async expire(): Promise<ProviderResult<{ readonly status: AssignmentState; readonly waitSec: number }>> {
    return attempt(async () => {
      const run = await this.#runtime.ensure(this.#record.runId);
      const status = this.status();
      const at = this.#runtime.options.clock.now();
      if (
        status === 'expired' ||
        status === 'completed' ||
        status === 'accepted' ||
        status === 'rejected' ||
        status === 'soft_rejected'
      ) {
        return succeeded({ status, waitSec: 0 }, true);
      }
      if (status === 'launched') {
        return failed(
          'HST_ERR_RUN_STATE',
          `unit ${this.unitId} is launched: its HIT is in the run's pool, bound to no unit; expire the run (runtime.expireRun) to take its HITs off MTurk`,
        );
      }
      const view = this.#view();
      if (view !== undefined && unitHasTag(view, UnitTag.launching)) {
        return failed(
          'HST_ERR_RUN_STATE',
          `unit ${this.unitId} is being launched right now; try again once it is launched`,
          true,
        );
      }
      run.sendToUnit(this.unitId, { type: 'unit.expire', hitId: null, at });
      const deadlineAt = view?.context.deadlineAt ?? null;
      return succeeded({
        status: this.status(),
        waitSec: status === 'assigned' && deadlineAt !== null ? Math.max(0, Math.ceil((deadlineAt - at) / 1000)) : 0,
      });
    });
  }
}

/** One worker on one unit (Mephisto's `MTurkAgent`). */
export class MTurkAgent {
  readonly agentId: string;
  readonly #runtime: Runtime;

  constructor(runtime: Runtime, agentId: string) {
    this.#runtime = runtime;
    this.agentId = agentId;
  }

  get #record() {
    return this.#runtime.store.agents.require(this.agentId);
  }

  /** The agent's AgentState. @throws HitstateError `HST_ERR_AGENT_NOT_FOUND` */
  status(): AgentState {
    return this.#runtime.agentStatus(this.agentId);
  }

  async #review(action: ReviewAction): Promise<ProviderResult<{ readonly status: AgentState }>> {
    return attempt(async () => {
      const report = await this.#runtime.review(this.#record.runId, { agentId: this.agentId }, action);
      const item = report.items[0];
      if (item === undefined) return failed('HST_ERR_AGENT_NOT_FOUND', `no agent ${this.agentId}`);
      if (item.outcome === 'done' || item.outcome === 'alreadyDone')
        return succeeded({ status: this.status() }, item.outcome === 'alreadyDone');
      if (item.outcome === 'failed')
        return failed(
          item.retryable ? 'HST_ERR_MTURK_UNAVAILABLE' : 'HST_ERR_MTURK_REQUEST_INVALID',
          item.reason ?? 'failed',
          item.retryable ?? false,
        );
      return failed(item.code ?? 'HST_ERR_REVIEW_STATE', item.reason ?? `the review was ${item.outcome}`);
    });
  }

  /** Approves (pays) the work; an approval MTurk already has (auto-approval) is `alreadyDone`. */
  approve(feedback?: string): Promise<ProviderResult<{ readonly status: AgentState }>> {
    return this.#review({ kind: 'approve', ...(feedback === undefined ? {} : { feedback }) });
  }

  /** Rejects the work; MTurk requires the feedback telling the worker why. */
  reject(feedback: string): Promise<ProviderResult<{ readonly status: AgentState }>> {
    return this.#review({ kind: 'reject', feedback });
  }

  /** Pays the worker (approve on MTurk) and records the work as rejected. */
  softReject(feedback?: string): Promise<ProviderResult<{ readonly status: AgentState }>> {
    return this.#review({ kind: 'softReject', ...(feedback === undefined ? {} : { feedback }) });
  }

  /**
   * Marks the agent done once its submission is stored (Mephisto's `mark_done`; no MTurk call).
   * Without a stored submission there is nothing to mark: the task server stores it on submit.
   */
  async markDone(): Promise<ProviderResult<{ readonly status: AgentState }>> {
    return attempt(async () => {
      const record = this.#record;
      const run = await this.#runtime.ensure(record.runId);
      if (this.#runtime.store.agents.submission(this.agentId) === undefined) {
        return failed(
          'HST_ERR_REVIEW_STATE',
          `agent ${this.agentId} has no stored submission; the task server stores it when the worker submits`,
        );
      }
      const before = this.status();
      if (before === 'completed' || before === 'approved' || before === 'rejected' || before === 'soft_rejected')
        return succeeded({ status: before }, true);
      run.send({ type: 'agent.submitted', agentId: this.agentId, at: this.#runtime.options.clock.now() });
      return succeeded({ status: this.status() });
    });
  }

  /**
   * Gets the submitted data from MTurk when the task server missed it (the unit reconciles on its
   * own when it sees the assignment submitted; this retries a reconciliation that gave up, or
   * asks the status sync to look now).
   */
  async reconcileSubmittedData(): Promise<
    ProviderResult<{ readonly status: AgentState; readonly dataStored: boolean }>
  > {
    return attempt(async () => {
      const record = this.#record;
      const run = await this.#runtime.ensure(record.runId);
      if (this.#runtime.store.agents.submission(this.agentId) !== undefined)
        return succeeded({ status: this.status(), dataStored: true }, true);
      const unit = run.unit(record.unitId);
      if (unit !== undefined && unitHasTag(unit, UnitTag.reconcileFailed))
        run.send({ type: 'unit.retryReconcile', unitId: record.unitId, at: this.#runtime.options.clock.now() });
      else await this.#runtime.syncNow(record.runId);
      return succeeded({
        status: this.status(),
        dataStored: this.#runtime.store.agents.submission(this.agentId) !== undefined,
      });
    });
  }
}
