/**
 * Performs the commands the machines issue. A machine's entry action only hands its command to
 * {@link CommandExecutor.enqueue} (synchronously, inside the transition); the command runs after
 * the transition, through the gateway (and the money outbox), and its result goes back to the
 * supervisor as an event carrying the command's `commandId`.
 *
 * A command is never run twice at once: a command re-issued while its twin is still under way
 * (a restore, a retry deadline) joins it. Results for commands an actor no longer waits on are
 * ignored by the machines' guards, so a late result is harmless.
 *
 * @module
 */
import type { Command, TaskRunEvent } from '../../../machines/index.js';
import { HitstateError, isHitstateError } from '../../errors.js';
import { performConfirm, performExpire, performLaunch, performReconcile, performSetup } from './hit-commands.js';
import { performReview } from '../money/review-commands.js';
import type { RunPort } from '../core/run-port.js';

/** What a command ended with, for those waiting on it (reviews). */
export interface CommandResult {
  readonly commandId: string;
  readonly status: 'ok' | 'alreadyDone' | 'failed';
  readonly reason?: string;
  readonly retryable?: boolean;
  /**
   * The process was ending (settling or closing): the call was not waited out and its intent is
   * still open in the store; the actor still waits on the command, which runs again when the run
   * is next loaded.
   */
  readonly handedBack?: boolean;
}

/** Commands a review waits on by id. */
const REVIEW_COMMANDS = new Set<Command['kind']>([
  'approveAssignment',
  'rejectAssignment',
  'softRejectAssignment',
  'sendBonus',
]);

/** Commands that go through the money outbox (creating a HIT, paying, approving, rejecting). */
const MONEY_COMMANDS = new Set<Command['kind']>([
  'launchHIT',
  'approveAssignment',
  'rejectAssignment',
  'softRejectAssignment',
  'sendBonus',
]);

/** Runs one run's commands. */
export class CommandExecutor {
  readonly #run: RunPort;
  readonly #running = new Map<string, Promise<CommandResult>>();
  readonly #waiters = new Map<string, Array<(result: CommandResult) => void>>();
  /** Commands issued again while their twin was under way: run once more after it (the actor may wait on the new issue). */
  readonly #again = new Map<string, Command>();
  /** The last result of each command that finished, so a review joining it late still hears it. */
  readonly #results = new Map<string, CommandResult>();
  /** Kinds of the commands under way. */
  readonly #kinds = new Map<string, Command['kind']>();
  #closed = false;
  #finishing = false;
  #wakeFinishing: () => void = () => undefined;
  readonly #finishingNow = new Promise<void>((resolve) => {
    this.#wakeFinishing = resolve;
  });

  constructor(run: RunPort) {
    this.#run = run;
  }

  /** Number of commands under way. */
  get size(): number {
    return this.#running.size;
  }

  /** Whether a command with this id is under way. */
  has(commandId: string): boolean {
    return this.#running.has(commandId);
  }

  /** Takes a command from a machine (synchronously; it starts after the current transition). */
  enqueue(command: Command): void {
    if (this.#closed) return;
    if (this.#running.has(command.commandId)) {
      this.#again.set(command.commandId, command);
      return;
    }
    const run = this.#run;
    const work = Promise.resolve()
      .then(() => this.#perform(command))
      .catch((err: unknown): CommandResult => {
        const reason = err instanceof Error ? err.message : String(err);
        // Calls cut short by close() are re-issued on resume: not an error to report, nor a failure to tell.
        if (this.#closed && isHitstateError(err, 'HST_ERR_MTURK_UNAVAILABLE'))
          return { commandId: command.commandId, status: 'failed', reason, retryable: true, handedBack: true };
        run.services.reportError(err);
        // The actor must not wait forever on a command that threw: it hears of a retryable failure and retries on its own schedule.
        const failure = failureEventOf(command, reason, run.services.clock.now());
        if (failure !== undefined) run.send(failure);
        return { commandId: command.commandId, status: 'failed', reason, retryable: true };
      })
      .finally(() => {
        this.#running.delete(command.commandId);
        this.#kinds.delete(command.commandId);
      });
    this.#running.set(command.commandId, work);
    this.#kinds.set(command.commandId, command.kind);
    void run.services.track(work).then((result) => {
      this.#settle(result, command.kind);
      const again = this.#again.get(command.commandId);
      if (again !== undefined) {
        this.#again.delete(command.commandId);
        this.enqueue(again);
      }
    });
  }

  /**
   * Resolves with the result of `commandId` once it is known (reviews wait on their command); at
   * once with its last result if it is not under way and finished before.
   */
  waitFor(commandId: string): Promise<CommandResult> {
    const last = this.#results.get(commandId);
    if (last !== undefined && !this.#running.has(commandId)) return Promise.resolve(last);
    return new Promise((resolve) => {
      const list = this.#waiters.get(commandId);
      if (list === undefined) this.#waiters.set(commandId, [resolve]);
      else list.push(resolve);
    });
  }

  /** Sleeps on the runtime's clock (a backoff between attempts); wakes early when the executor starts {@link finish}ing. */
  sleep(ms: number): Promise<void> {
    if (this.#finishing) return Promise.resolve();
    return Promise.race([this.#run.services.sleep(ms), this.#finishingNow]);
  }

  /**
   * The process is about to end: a command that would back off before trying again hands its
   * intent back to the store instead (see {@link CommandResult.handedBack}). Sleeping ones wake now.
   */
  finish(): void {
    this.#finishing = true;
    this.#wakeFinishing();
  }

  /** Whether {@link finish} was called. */
  get finishing(): boolean {
    return this.#finishing;
  }

  /** Number of money commands (outbox intents) under way. */
  get moneyUnderWay(): number {
    let n = 0;
    for (const kind of this.#kinds.values()) if (MONEY_COMMANDS.has(kind)) n++;
    return n;
  }

  /** Resolves when no money command is under way (those started meanwhile included). */
  drainMoney(): Promise<void> {
    return this.drainKinds(MONEY_COMMANDS);
  }

  /** Resolves when no command of these kinds is under way (those started meanwhile included). */
  async drainKinds(kinds: ReadonlySet<Command['kind']>): Promise<void> {
    for (;;) {
      const busy = [...this.#running].filter(([id]) => kinds.has(this.#kinds.get(id)!)).map(([, w]) => w);
      if (busy.length === 0) return;
      await Promise.allSettled(busy);
      // Let the settle callbacks (and commands they enqueue again) run before looking again.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  /** Stops taking commands; those under way finish. */
  close(): void {
    this.#closed = true;
  }

  /** Resolves when every command under way has finished. */
  async drain(): Promise<void> {
    while (this.#running.size > 0) await Promise.allSettled([...this.#running.values()]);
  }

  /** Whether the executor was closed (a sleeping command then gives up instead of retrying). */
  get closed(): boolean {
    return this.#closed;
  }

  #settle(result: CommandResult, kind: Command['kind']): void {
    // Only reviews wait on commands by id: other results need not be kept.
    if (REVIEW_COMMANDS.has(kind)) this.#results.set(result.commandId, result);
    const list = this.#waiters.get(result.commandId);
    if (list === undefined) return;
    this.#waiters.delete(result.commandId);
    for (const resolve of list) resolve(result);
  }

  async #perform(command: Command): Promise<CommandResult> {
    const run = this.#run;
    switch (command.kind) {
      case 'setUpResources':
        return performSetup(run, command, this);
      case 'launchHIT':
        return performLaunch(run, command);
      case 'expireHIT':
        return performExpire(run, command);
      case 'confirmHIT':
        return performConfirm(run, command);
      case 'reconcileSubmission':
        return performReconcile(run, command);
      case 'approveAssignment':
      case 'rejectAssignment':
      case 'softRejectAssignment':
      case 'sendBonus':
        return performReview(run, command, this);
      default:
        throw new HitstateError(
          'HST_ERR_RUN_STATE',
          `unknown command kind ${JSON.stringify((command as Command).kind)}; the machines and the runtime are out of step`,
          { runId: run.runId },
        );
    }
  }
}

/** The failure event that answers `command` (retryable), or undefined when it has none (a sync read). */
function failureEventOf(command: Command, reason: string, at: number): TaskRunEvent | undefined {
  const base = { commandId: command.commandId, reason, retryable: true, at };
  switch (command.kind) {
    case 'setUpResources':
      return { type: 'setup.failed', commandId: command.commandId, reason, at };
    case 'launchHIT':
      return { type: 'launch.failed', unitId: command.unitId, ...base };
    case 'expireHIT':
      return { type: 'expire.failed', unitId: command.unitId, ...base };
    case 'reconcileSubmission':
      return { type: 'reconcile.failed', unitId: command.unitId, ...base };
    case 'confirmHIT':
      return { type: 'hit.lookupFailed', hitId: command.hitId, reason, at };
    default:
      return { type: 'review.failed', agentId: command.agentId, ...base };
  }
}

/** Reports a failed command on the bus. */
export function reportCommandFailure(run: RunPort, command: Command, reason: string, retryable: boolean): void {
  run.services.events.emit('command.failed', {
    runId: run.runId,
    command,
    reason,
    retryable,
    at: run.services.clock.now(),
  });
}
