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
import type { Command, TaskRunEvent } from '../../machines/index.js';
import { HitstateError, isHitstateError } from '../errors.js';
import { performConfirm, performExpire, performLaunch, performReconcile, performSetup } from './hit-commands.js';
import { performReview } from './review-commands.js';
import type { RunPort } from './run-port.js';

/** What a command ended with, for those waiting on it (reviews). */
export interface CommandResult {
  readonly commandId: string;
  readonly status: 'ok' | 'alreadyDone' | 'failed';
  readonly reason?: string;
  readonly retryable?: boolean;
}

/** Runs one run's commands. */
export class CommandExecutor {
  readonly #run: RunPort;
  readonly #running = new Map<string, Promise<CommandResult>>();
  readonly #waiters = new Map<string, Array<(result: CommandResult) => void>>();
  /** Commands issued again while their twin was under way: run once more after it (the actor may wait on the new issue). */
  readonly #again = new Map<string, Command>();
  #closed = false;

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
          return { commandId: command.commandId, status: 'failed', reason, retryable: true };
        run.services.reportError(err);
        // The actor must not wait forever on a command that threw: it hears of a retryable failure and retries on its own schedule.
        const failure = failureEventOf(command, reason, run.services.clock.now());
        if (failure !== undefined) run.send(failure);
        return { commandId: command.commandId, status: 'failed', reason, retryable: true };
      })
      .finally(() => this.#running.delete(command.commandId));
    this.#running.set(command.commandId, work);
    void run.services.track(work).then((result) => {
      this.#settle(result);
      const again = this.#again.get(command.commandId);
      if (again !== undefined) {
        this.#again.delete(command.commandId);
        this.enqueue(again);
      }
    });
  }

  /** Resolves with the result of `commandId` once it is known (reviews wait on their command). */
  waitFor(commandId: string): Promise<CommandResult> {
    return new Promise((resolve) => {
      const list = this.#waiters.get(commandId);
      if (list === undefined) this.#waiters.set(commandId, [resolve]);
      else list.push(resolve);
    });
  }

  /** Sleeps on the runtime's clock (a backoff between attempts). */
  sleep(ms: number): Promise<void> {
    return this.#run.services.sleep(ms);
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

  #settle(result: CommandResult): void {
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
