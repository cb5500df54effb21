/**
 * `MTurkWorker`: one MTurk worker of the provider's environment. Qualifications are granted and
 * revoked by stored id; blocks always name the requester that owns them (Mephisto picked "the last
 * registered requester", lesson #32 of docs/mephisto-semantics.md#known-bugs-and-lessons) and are
 * recorded in the store; a bonus with a unit is paid on the
 * worker's assignment (queued until it is submitted), a bonus without one through a compensation
 * HIT, both through the money outbox.
 *
 * Sandbox workers keep their MTurk WorkerId: the environment tells sandbox from live, never a
 * renamed id.
 *
 * @module
 */
import { HitstateError } from '../../errors.js';
import { toCents, formatUsd } from '../../mturk/money.js';
import { isStateRefusal } from '../../mturk/outcome.js';
import { performCompensation } from '../money/compensation.js';
import { resolveQualification } from '../core/resources.js';
import type { ReviewItem } from '../money/review.js';
import type { Runtime } from '../core/runtime.js';
import { attempt, failed, fromOutcome, succeeded, type ProviderResult } from './result.js';

/** Which requester acts (the owner of the block, the qualification, the money). */
export interface AsRequester {
  /** @defaultValue the runtime's requester */
  readonly requester?: string;
}

/** A bonus. With `unitId` (or `agentId`) it is paid on that assignment; without, a compensation HIT pays it. */
export interface BonusInput extends AsRequester {
  readonly amountUsd: string;
  /** Shown to the worker. */
  readonly reason: string;
  readonly unitId?: string;
  readonly agentId?: string;
  /** The run a compensation HIT belongs to (required without a unit). */
  readonly runId?: string;
  /** Tells apart several bonuses for the same work; the same key never pays twice. */
  readonly key?: string;
}

/** How a bonus went. */
export interface BonusResult {
  /** `paid` now, `queued` until the assignment is submitted, or paid by a `compensationHIT` the worker must accept. */
  readonly via: 'paid' | 'queued' | 'compensationHIT';
  readonly hitId?: string;
  readonly agentId?: string;
}

/** One worker (Mephisto's `MTurkWorker`). */
export class MTurkWorker {
  readonly workerId: string;
  readonly #runtime: Runtime;

  constructor(runtime: Runtime, workerId: string) {
    this.#runtime = runtime;
    this.workerId = workerId;
  }

  /** The environment the worker id belongs to. */
  get environment(): 'live' | 'sandbox' | 'custom' {
    return this.#runtime.environment.kind;
  }

  #requester(options: AsRequester): string {
    const name = options.requester ?? this.#runtime.options.requester.name;
    if (!this.#runtime.knowsRequester(name))
      throw new HitstateError(
        'HST_ERR_CONFIG_INVALID',
        `requester "${name}" is unknown to this runtime; register it first`,
        { field: 'requester' },
      );
    return name;
  }

  /** Grants a qualification (found or created by name once, then by id), value 1 by default, without notifying. */
  async grantQualification(
    name: string,
    options: AsRequester & { readonly value?: number; readonly notify?: boolean } = {},
  ): Promise<ProviderResult<{ readonly qualificationTypeId: string }>> {
    return attempt(async () => {
      const requester = this.#requester(options);
      const gw = this.#runtime.gateway(requester);
      const resolved = await resolveQualification(this.#runtime.store, gw, requester, name);
      if ('status' in resolved) return failed(resolved.code, resolved.message, resolved.retryable);
      const outcome = await gw.associateQualificationWithWorker({
        qualificationTypeId: resolved.id,
        workerId: this.workerId,
        value: options.value ?? 1,
        sendNotification: options.notify ?? false,
      });
      return fromOutcome(outcome, () => ({ qualificationTypeId: resolved.id }));
    });
  }

  /** Revokes a qualification; one never mapped or never granted is `alreadyDone`. */
  async revokeQualification(
    name: string,
    options: AsRequester & { readonly reason?: string } = {},
  ): Promise<ProviderResult<{ readonly qualificationTypeId: string | null }>> {
    return attempt(async (): Promise<ProviderResult<{ readonly qualificationTypeId: string | null }>> => {
      const requester = this.#requester(options);
      const mapped = this.#runtime.store.qualifications.get(requester, name);
      if (mapped === undefined) return succeeded({ qualificationTypeId: null }, true);
      const outcome = await this.#runtime.gateway(requester).disassociateQualificationFromWorker({
        qualificationTypeId: mapped.qualificationTypeId,
        workerId: this.workerId,
        ...(options.reason === undefined ? {} : { reason: options.reason }),
      });
      // Never granted (notFound) or revoked before (a state refusal: "can be called with a status of: Granted").
      if (outcome.status === 'notFound' || (outcome.status !== 'ok' && isStateRefusal(outcome)))
        return succeeded({ qualificationTypeId: mapped.qualificationTypeId }, true);
      return fromOutcome(outcome, () => ({ qualificationTypeId: mapped.qualificationTypeId }));
    });
  }

  /**
   * Pays a bonus. On a unit (or agent) of this worker: through the agent, queued until the work is
   * submitted (Mephisto #1081). Without one: a compensation HIT only this worker can take, created
   * through the money outbox (the same key never creates a second one).
   */
  async bonus(input: BonusInput): Promise<ProviderResult<BonusResult>> {
    return attempt(async () => {
      if (input.unitId !== undefined || input.agentId !== undefined) return this.#bonusOnAssignment(input);
      return this.#compensate(input);
    });
  }

  async #bonusOnAssignment(input: BonusInput): Promise<ProviderResult<BonusResult>> {
    const { store } = this.#runtime;
    const agents =
      input.agentId !== undefined
        ? [store.agents.require(input.agentId)]
        : store.agents.ofUnit(input.unitId!).filter((a) => a.workerId === this.workerId);
    const agent = agents.at(-1);
    if (agent === undefined || agent.workerId !== this.workerId) {
      return failed(
        'HST_ERR_AGENT_NOT_FOUND',
        `worker ${this.workerId} has no agent on ${input.agentId ?? input.unitId}`,
      );
    }
    const report = await this.#runtime.review(
      agent.runId,
      { agentId: agent.id },
      {
        kind: 'bonus',
        amountUsd: input.amountUsd,
        reason: input.reason,
        ...(input.key === undefined ? {} : { key: input.key }),
      },
    );
    return fromReviewItem(report.items[0], agent.id);
  }

  async #compensate(input: BonusInput): Promise<ProviderResult<BonusResult>> {
    if (input.runId === undefined) {
      return failed(
        'HST_ERR_CONFIG_INVALID',
        'a bonus without a unit is paid through a compensation HIT, which belongs to a run: pass runId',
      );
    }
    const runtime = this.#runtime;
    runtime.store.runs.require(input.runId);
    const requester = this.#requester(input);
    const amountUsd = formatUsd(toCents(input.amountUsd, 'amountUsd'));
    if (toCents(amountUsd) <= 0)
      return failed(
        'HST_ERR_CONFIG_INVALID',
        `a bonus needs amountUsd above "0.00", got ${JSON.stringify(input.amountUsd)}`,
      );
    const key = input.key ?? `${amountUsd}:${input.reason}`.slice(0, 200);
    const outcome = await performCompensation(runtime.services, {
      runId: input.runId,
      workerId: this.workerId,
      amountUsd,
      reason: input.reason,
      key,
      requester,
    });
    if (outcome.status === 'failed')
      return failed(
        outcome.retryable ? 'HST_ERR_MTURK_UNAVAILABLE' : 'HST_ERR_MTURK_REQUEST_INVALID',
        outcome.reason,
        outcome.retryable,
      );
    const hitId = (outcome.recorded as { hitId?: string | null } | null)?.hitId ?? undefined;
    return succeeded(
      { via: 'compensationHIT', ...(hitId === undefined || hitId === null ? {} : { hitId }) },
      outcome.status === 'alreadyDone' || outcome.fromRecord,
    );
  }

  /** Blocks the worker from every HIT of `requester` (which must be named: the block is its own) and records it. */
  async block(
    reason: string,
    options: { readonly requester: string },
  ): Promise<ProviderResult<{ readonly requester: string }>> {
    return attempt(async () => {
      const requester = this.#requester(options);
      const outcome = await this.#runtime.gateway(requester).blockWorker({ workerId: this.workerId, reason });
      if (outcome.status === 'ok' || outcome.status === 'alreadyDone') {
        this.#runtime.store.workers.ensure(this.workerId);
        this.#runtime.store.workers.block(this.workerId, requester, reason);
      }
      return fromOutcome(outcome, () => ({ requester }));
    });
  }

  /** Removes `requester`'s block (removing a block that does not exist succeeds, as on MTurk). */
  async unblock(options: {
    readonly requester: string;
    readonly reason?: string;
  }): Promise<ProviderResult<{ readonly requester: string }>> {
    return attempt(async () => {
      const requester = this.#requester(options);
      const outcome = await this.#runtime.gateway(requester).unblockWorker({
        workerId: this.workerId,
        ...(options.reason === undefined ? {} : { reason: options.reason }),
      });
      if (
        (outcome.status === 'ok' || outcome.status === 'alreadyDone') &&
        this.#runtime.store.workers.get(this.workerId) !== undefined
      ) {
        this.#runtime.store.workers.unblock(this.workerId, requester);
      }
      return fromOutcome(outcome, () => ({ requester }));
    });
  }

  /** Whether `requester` blocks the worker, read from MTurk (every page) and recorded in the store. */
  async isBlocked(options: {
    readonly requester: string;
  }): Promise<ProviderResult<{ readonly blocked: boolean; readonly reason?: string }>> {
    return attempt(async () => {
      const requester = this.#requester(options);
      const outcome = await this.#runtime.gateway(requester).isWorkerBlocked(this.workerId);
      if (outcome.status !== 'ok') return fromOutcome(outcome, () => ({ blocked: false }));
      const { store } = this.#runtime;
      const recorded = store.workers.isBlocked(this.workerId, requester);
      if (outcome.value.blocked && !recorded) {
        store.workers.ensure(this.workerId);
        store.workers.block(this.workerId, requester, outcome.value.reason ?? 'blocked on MTurk');
      } else if (!outcome.value.blocked && recorded) store.workers.unblock(this.workerId, requester);
      return succeeded(outcome.value);
    });
  }

  /** Sends the worker a message (`NotifyWorkers`) as `requester`. */
  async sendFeedback(
    message: string,
    options: AsRequester & { readonly subject?: string } = {},
  ): Promise<ProviderResult<{ readonly sent: boolean }>> {
    return attempt(async () => {
      const requester = this.#requester(options);
      const outcome = await this.#runtime.gateway(requester).notifyWorkers({
        subject: options.subject ?? 'Feedback on your work',
        messageText: message,
        workerIds: [this.workerId],
      });
      if (outcome.status === 'ok' && outcome.value.failures.length > 0) {
        return failed(
          'HST_ERR_MTURK_REQUEST_INVALID',
          `MTurk did not send the message: ${outcome.value.failures.map((f) => f.message).join('; ')}`,
        );
      }
      return fromOutcome(outcome, () => ({ sent: true }));
    });
  }
}

/** The provider result of one review line. */
export function fromReviewItem(item: ReviewItem | undefined, agentId: string): ProviderResult<BonusResult> {
  if (item === undefined) return failed('HST_ERR_AGENT_NOT_FOUND', `no agent ${agentId}`);
  switch (item.outcome) {
    case 'done':
      return succeeded({ via: 'paid', agentId });
    case 'alreadyDone':
      return succeeded({ via: 'paid', agentId }, true);
    case 'queued':
    case 'pending':
      return succeeded({ via: 'queued', agentId });
    case 'failed':
      return failed(
        item.retryable ? 'HST_ERR_MTURK_UNAVAILABLE' : 'HST_ERR_MTURK_REQUEST_INVALID',
        item.reason ?? 'failed',
        item.retryable ?? false,
      );
    default:
      return failed(item.code ?? 'HST_ERR_REVIEW_STATE', item.reason ?? `the review was ${item.outcome}`);
  }
}
