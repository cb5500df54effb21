/**
 * Follows a hosted run to its end for `hitstate run`, `resume`, `stop` and the commands that add
 * units: progress and events while it goes, the end of the run once every unit is done (no new
 * workers, unassigned HITs expired, assigned units waited for), Ctrl-C detaching (the run keeps its
 * HITs for a later `hitstate resume` or `stop`), and the summary. Output that is not a terminal
 * gets a heartbeat line every minute of the run's clock.
 *
 * @module
 */
import { systemClock, type Clock } from '../clock.js';
import { isHitstateError } from '../errors.js';
import { previewUrl, WORKER_SITES } from '../mturk/environment.js';
import type { DisposalReport, RunProgressEvent, TaskRunInfo } from '../runtime/index.js';
import { EXIT, type CliIO } from './command.js';
import { heartbeat, narrate } from './narrator.js';
import { ProgressView } from './progress.js';
import type { RunSession } from './run-session.js';
import { runSummaryLines } from './run-summary.js';
import type { Style } from './style.js';

/** What the watch starts with: following a run, or ending it at once (`hitstate expire`). */
export type WatchMode = 'follow' | 'expire';

/** Options of {@link watchRun}. */
export interface WatchOptions {
  readonly io: CliIO;
  readonly style: Style;
  readonly session: RunSession;
  readonly runId: string;
  readonly mode: WatchMode;
  /** Only progress and problems, no worker events. */
  readonly quiet: boolean;
  /** @defaultValue the runtime's clock */
  readonly clock?: Clock;
}

const remaining = (info: TaskRunInfo): number => info.counts.created + info.counts.launched + info.counts.assigned;

function clockTime(clock: Clock): () => string {
  return () => new Date(clock.now()).toTimeString().slice(0, 8);
}

/**
 * Watches the run until it is done, Ctrl-C detaches from it, or its setup failed; prints the
 * summary. Returns the exit code: 0 when the run ended (by itself, or `stop` finished), 130 after
 * Ctrl-C (detached), 1 when setup failed.
 */
export async function watchRun(options: WatchOptions): Promise<number> {
  const { io, style, session, runId } = options;
  const { runtime } = session;
  const clock = options.clock ?? runtime.options.clock ?? systemClock;
  const timeLabel = clockTime(clock);
  const progress = new ProgressView(io, { style, clock, timeLabel });
  const stopNarrating = narrate(runtime, {
    runId,
    style,
    emit: (l) => progress.log(l),
    timeLabel,
    quiet: options.quiet,
  });
  const log = (text: string): void => progress.log(`${style.dim(timeLabel())}  ${text}`);
  // A terminal shows the live progress line; a pipe or log file gets a line every minute instead.
  const stopHeartbeat = io.isTTY
    ? () => undefined
    : heartbeat(runtime, { runId, clock, emit: (l) => progress.log(l), timeLabel: () => style.dim(timeLabel()) });
  let disposal: DisposalReport | undefined;
  let onDisposal: () => void = () => undefined;
  const disposed = new Promise<void>((resolve) => {
    onDisposal = resolve;
  });
  let warnedProblem: string | null = null;
  let announced = runtime.runInfo(runId).hitTypeId !== null;
  const env = session.env;
  const workerSite = env.kind === 'custom' ? new URL(env.endpoint).origin : WORKER_SITES[env.kind];
  const onProgress = (e: RunProgressEvent): void => {
    if (e.runId !== runId) return;
    if (e.disposal !== undefined) {
      disposal = e.disposal;
      onDisposal();
    }
    const hitTypeId = announced ? null : runtime.runInfo(runId).hitTypeId;
    if (hitTypeId !== null) {
      announced = true;
      log(`HIT type ${hitTypeId} created; workers find the HITs at ${previewUrl(workerSite, hitTypeId)}`);
    }
  };
  runtime.events.on('run.progress', onProgress);
  progress.update(runtime.runInfo(runId));
  try {
    const reason =
      options.mode === 'expire'
        ? 'expire'
        : await untilEnd(options, progress, (problem) => {
            if (problem === warnedProblem) return;
            warnedProblem = problem;
            if (problem !== null)
              log(
                style.yellow(
                  `launching halted: ${problem}. Fix the cause (a budget: \`hitstate budget ${runId} USD\`), then detach (Ctrl-C) and \`hitstate resume ${runId}\` to launch the rest.`,
                ),
              );
          });
    if (reason === 'failed') {
      progress.close();
      const info = runtime.runInfo(runId);
      io.err(
        `hitstate: the setup of run ${runId} failed: ${info.problem ?? 'unknown reason'}\n  Fix the cause, then \`hitstate resume ${runId}\` tries the setup again (or \`hitstate expire ${runId}\` gives up).\n`,
      );
      return EXIT.failure;
    }
    if (reason === 'interrupted') {
      // Ctrl-C detaches: ending a run (expiring its HITs) cannot be undone, leaving it can; `stop` ends it on purpose.
      progress.close();
      io.out(detachedText(runtime.runInfo(runId)));
      return EXIT.interrupted;
    }
    if (reason === 'finished') log('every unit is done; ending the run (HITs are disposed once reviewed)');
    if (reason === 'expire')
      log(
        `ending run ${runId}: no new workers, unassigned HITs expire, assigned units are waited for (Ctrl-C leaves it ending; run \`hitstate stop ${runId}\` again to finish)`,
      );
    const ended = await endOrLeave(options, progress);
    if (!ended) {
      progress.close();
      io.out(detachedText(runtime.runInfo(runId)));
      return EXIT.interrupted;
    }
    await untilDisposed(disposed, clock);
    await runtime.whenIdle();
    progress.update(runtime.runInfo(runId));
    progress.close();
    io.out(
      `\nRun ${style.bold(runId)} is done.\n${runSummaryLines(session.store, runId, style, disposal).join('\n')}\n`,
    );
    const counts = runtime.runInfo(runId).counts;
    if (counts.completed > 0)
      io.out(`\nReview the submitted work:\n  hitstate review ${runId} --all --approve --dry-run\n`);
    io.out(`Export everything the run holds:\n  hitstate export ${runId}\n`);
    return EXIT.ok;
  } finally {
    progress.close();
    stopHeartbeat();
    stopNarrating();
    runtime.events.off('run.progress', onProgress);
  }
}

/** What a detached run's command prints last: where the run was left and the commands that go on from there. */
export function detachedText(info: TaskRunInfo): string {
  const { runId } = info;
  const ending = info.status === 'expiring' || info.status === 'draining';
  return [
    '',
    `Detached from run ${runId} (${info.status}; ${info.counts.launched} launched, ${info.counts.assigned} assigned, ${info.counts.completed} completed). Its HITs stay on MTurk; until a command hosts the run again, nobody serves its task page.`,
    `  hitstate resume ${runId}     continue it here (also: hitstate attach ${runId})`,
    `  hitstate stop ${runId}       ${ending ? 'finish ending it' : 'end it'}: expire what nobody holds, wait for held work`,
    `  hitstate status ${runId}     see where it stands`,
    '',
  ].join('\n');
}

/** How long the end waits for the runtime's last sweep of the run's HITs (its disposal report). */
const DISPOSAL_WAIT_MS = 60_000;

/** Waits for the disposal report of a run that just reached `done`, at most {@link DISPOSAL_WAIT_MS}. */
function untilDisposed(disposed: Promise<void>, clock: Clock): Promise<void> {
  let timer: unknown;
  const bounded = new Promise<void>((resolve) => {
    timer = clock.setTimeout(resolve, DISPOSAL_WAIT_MS);
  });
  return Promise.race([disposed, bounded]).finally(() => clock.clearTimeout(timer));
}

type EndReason = 'finished' | 'interrupted' | 'failed';

/** Waits until every unit is done, the setup failed, or Ctrl-C. */
function untilEnd(
  options: WatchOptions,
  progress: ProgressView,
  onProblem: (problem: string | null) => void,
): Promise<EndReason> {
  const { runtime } = options.session;
  return new Promise((resolve) => {
    const check = (): void => {
      const info = runtime.runInfo(options.runId);
      progress.update(info);
      if (info.status === 'launching') onProblem(info.problem);
      if (info.status === 'failed') finish('failed');
      else if (info.status === 'done' || (info.status === 'running' && remaining(info) === 0)) finish('finished');
    };
    const onEvent = (e: { runId: string }): void => {
      if (e.runId === options.runId) check();
    };
    const onAbort = (): void => finish('interrupted');
    const finish = (reason: EndReason): void => {
      runtime.events.off('run.progress', onEvent);
      runtime.events.off('run.statusChanged', onEvent);
      options.io.signal.removeEventListener('abort', onAbort);
      resolve(reason);
    };
    runtime.events.on('run.progress', onEvent);
    runtime.events.on('run.statusChanged', onEvent);
    if (options.io.signal.aborted) return finish('interrupted');
    options.io.signal.addEventListener('abort', onAbort, { once: true });
    check();
  });
}

/** Expires the run and waits until it is done (true), or until Ctrl-C (false: the run is left ending, for a later stop or resume). */
async function endOrLeave(options: WatchOptions, progress: ProgressView): Promise<boolean> {
  const { runtime } = options.session;
  const onEvent = (e: { runId: string }): void => {
    if (e.runId === options.runId) progress.update(runtime.runInfo(options.runId));
  };
  runtime.events.on('run.progress', onEvent);
  runtime.events.on('run.statusChanged', onEvent);
  let onAbort: () => void = () => undefined;
  const forced = new Promise<false>((resolve) => {
    onAbort = () => resolve(false);
    if (options.io.signal.aborted) resolve(false);
    else options.io.signal.addEventListener('abort', onAbort, { once: true });
  });
  const ended = runtime.expireRun(options.runId).then(
    () => true as const,
    (err: unknown) => {
      if (isHitstateError(err, 'HST_ERR_RUNTIME_CLOSED')) return false as const;
      throw err;
    },
  );
  try {
    return await Promise.race([ended, forced]);
  } finally {
    options.io.signal.removeEventListener('abort', onAbort);
    runtime.events.off('run.progress', onEvent);
    runtime.events.off('run.statusChanged', onEvent);
  }
}
