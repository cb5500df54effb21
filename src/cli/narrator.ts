/**
 * Turns a runtime's events into the lines `hitstate run`, `resume`, `expire` and `demo` print
 * while a run goes on: workers starting, submitting, returning or walking away, units going back
 * to the pool or expiring, reviews, bonuses, and anything that went wrong (failed commands, drift,
 * errors). The run's own status shows in the progress line. When the output is not a terminal,
 * {@link heartbeat} adds a status line every minute, so piped output is never silent for long.
 *
 * @module
 */
import type {
  AgentStatusChangedEvent,
  CommandFailedEvent,
  DriftFoundEvent,
  MoneyMovedEvent,
  Runtime,
  UnitStatusChangedEvent,
} from '../runtime/index.js';
import type { Clock, TimerHandle } from '../clock.js';
import { dollars } from './money-summary.js';
import { moneyOfRun } from '../runtime/money/spent.js';
import { describeCounts } from './progress.js';
import type { Style } from './style.js';

/** Options of {@link narrate}. */
export interface NarrateOptions {
  readonly runId: string;
  readonly style: Style;
  /** Prints one line (the progress view's `log`). */
  readonly emit: (line: string) => void;
  /** The time shown at the start of each line. */
  readonly timeLabel: () => string;
  /** A short description of an agent's submission, shown after "submitted" (the demo shows the label). */
  readonly describeSubmission?: (agentId: string) => string | undefined;
  /** Only what went wrong (failed commands, drift, errors); no worker, unit or money lines. */
  readonly quiet?: boolean;
}

/** A unit id without its run prefix: `u3` for `run-7.u3`. */
export function shortUnit(runId: string, unitId: string): string {
  return unitId.startsWith(`${runId}.`) ? unitId.slice(runId.length + 1) : unitId;
}

/**
 * Subscribes to the runtime's events of one run and prints them; returns the function that stops.
 */
export function narrate(runtime: Runtime, options: NarrateOptions): () => void {
  const { runId, style, emit } = options;
  const line = (text: string): void => emit(`${style.dim(options.timeLabel())}  ${text}`);
  const unit = (unitId: string): string => style.bold(shortUnit(runId, unitId));
  const { events } = runtime;

  const onAgent: (e: AgentStatusChangedEvent) => void = (e) => {
    if (e.runId !== runId) return;
    const who = `worker ${e.workerId}`;
    switch (e.status) {
      case 'in task':
        return line(`${who} started ${unit(e.unitId)}`);
      case 'completed': {
        const what = options.describeSubmission?.(e.agentId);
        return line(`${who} submitted ${unit(e.unitId)}${what === undefined ? '' : `: ${what}`}`);
      }
      case 'returned':
        return line(`${who} returned the HIT of ${unit(e.unitId)}`);
      case 'timeout':
        return line(`${who} let the assignment of ${unit(e.unitId)} lapse`);
      case 'disconnect':
        return line(`${who} left the task page of ${unit(e.unitId)}`);
      case 'expired':
        return line(`${who} could not finish ${unit(e.unitId)} before the run ended`);
      case 'approved':
        return line(`${style.green('approved')} ${unit(e.unitId)} (${who})`);
      case 'rejected':
        return line(`${style.red('rejected')} ${unit(e.unitId)} (${who})`);
      case 'soft_rejected':
        return line(`${style.yellow('soft-rejected')} ${unit(e.unitId)} (${who}): paid, marked low quality`);
      default:
        return undefined;
    }
  };
  const onUnit: (e: UnitStatusChangedEvent) => void = (e) => {
    if (e.runId !== runId || e.previous === null) return;
    if (e.status === 'expired')
      line(`${unit(e.unitId)} expired (${e.previous === 'launched' ? 'nobody took it' : `was ${e.previous}`})`);
    // After the agent's own line (return, lapse), which the runtime emits right after this one.
    else if (e.status === 'launched' && e.previous === 'assigned') {
      const last = runtime.store.agents.ofUnit(e.unitId).at(-1);
      const lapsed = last !== undefined && (last.status === 'disconnect' || last.status === 'timeout');
      queueMicrotask(() =>
        line(
          `${unit(e.unitId)} is back in the pool for the next worker${lapsed ? ` (the assignment of worker ${last.workerId} lapsed)` : ''}`,
        ),
      );
    }
  };
  const onMoney: (e: MoneyMovedEvent) => void = (e) => {
    if (e.runId === runId && e.kind === 'bonus')
      line(
        `paid a $${e.amountUsd} bonus to worker ${e.workerId ?? '?'}${e.unitId === null ? '' : ` for ${unit(e.unitId)}`}`,
      );
  };
  const onFailed: (e: CommandFailedEvent) => void = (e) => {
    if (e.runId === runId)
      line(style.yellow(`${e.command.kind} failed${e.retryable ? ' (will retry)' : ''}: ${e.reason}`));
  };
  const onDrift: (e: DriftFoundEvent) => void = (e) => {
    if (e.runId === runId) line(style.yellow(`drift (${e.action}): ${e.message}`));
  };
  const onError: (error: Error) => void = (error) => line(style.red(`error: ${error.message}`));

  if (options.quiet !== true) {
    events.on('agent.statusChanged', onAgent);
    events.on('unit.statusChanged', onUnit);
    events.on('money.moved', onMoney);
  }
  events.on('command.failed', onFailed);
  events.on('drift.found', onDrift);
  events.on('error', onError);
  return () => {
    events.off('agent.statusChanged', onAgent);
    events.off('unit.statusChanged', onUnit);
    events.off('money.moved', onMoney);
    events.off('command.failed', onFailed);
    events.off('drift.found', onDrift);
    events.off('error', onError);
  };
}

/** How often {@link heartbeat} prints, in the run's clock milliseconds. */
export const HEARTBEAT_MS = 60_000;

/** Options of {@link heartbeat}. */
export interface HeartbeatOptions {
  readonly runId: string;
  /** The run's clock: a virtual clock drives the heartbeat in tests and the demo. */
  readonly clock: Clock;
  /** Prints one line. */
  readonly emit: (line: string) => void;
  /** The time shown at the start of the line. */
  readonly timeLabel: () => string;
  /** @defaultValue {@link HEARTBEAT_MS} */
  readonly everyMs?: number;
}

/**
 * Prints `still running: launched 2 · completed 3; spent $0.36` every minute of the run's clock,
 * whether or not anything happened, so a log or pipe shows the run is alive. Returns the function
 * that stops it.
 */
export function heartbeat(runtime: Runtime, options: HeartbeatOptions): () => void {
  const { runId, clock, emit } = options;
  const every = options.everyMs ?? HEARTBEAT_MS;
  let stopped = false;
  let timer: TimerHandle | undefined;
  const beat = (): void => {
    if (stopped) return;
    const info = runtime.runInfo(runId);
    const money = moneyOfRun(runtime.store, runId);
    emit(
      `${options.timeLabel()}  still ${info.status}: ${describeCounts(info.counts)}; spent ${dollars(money.totalCents)} (rewards, bonuses and fees confirmed)`,
    );
    timer = clock.setTimeout(beat, every);
  };
  timer = clock.setTimeout(beat, every);
  return () => {
    stopped = true;
    if (timer !== undefined) clock.clearTimeout(timer);
  };
}
