/**
 * Hosting a run that is already in the store, for `hitstate resume` and `hitstate expire`: its
 * environment found from the store, its own requester and task page, and the task server on the
 * port its HITs point at.
 *
 * @module
 */
import { resolveTaskRunConfig } from '../config/task-run.js';
import { HitstateError } from '../errors.js';
import { adoptStoredUnits } from '../runtime/core/continue-run.js';
import type { ResumedRun } from '../runtime/index.js';
import type { CliIO, ParsedArgs } from './command.js';
import { pollMsOf } from './commands/run.js';
import { DEFAULT_PORT, openRunSession, type RunSession } from './run-session.js';
import type { Style } from './style.js';
import { locateRun, requesterFor, storeDirOf } from './target.js';
import { labelExamplePage } from './task-page.js';

/** The port to serve a stored run on: `--port`, else the one of its loopback task URL, else 8080. */
function portFor(args: ParsedArgs, taskUrl: string | undefined): number {
  if (args.options.port !== undefined) return Number(args.options.port);
  if (taskUrl === undefined) return DEFAULT_PORT;
  const url = new URL(taskUrl);
  const loopback =
    url.hostname === 'localhost' || url.hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(url.hostname);
  return loopback ? Number(url.port || 80) : DEFAULT_PORT;
}

/**
 * Opens the run's store, runtime and task server, and resumes the run (actors restored, pending
 * commands re-issued, money intents replayed, drift checked).
 *
 * @throws HitstateError `HST_ERR_RUN_NOT_FOUND`, `HST_ERR_STORE_LOCKED`, `HST_ERR_CLI_PORT_UNAVAILABLE`, `HST_ERR_RUN_STATE`.
 */
export async function openStoredRun(
  args: ParsedArgs,
  io: CliIO,
  style: Style,
): Promise<{ session: RunSession; runId: string; resumed: ResumedRun | undefined }> {
  const runId = args.positionals[0]!;
  const storeDir = storeDirOf(args.options, io);
  const env = await locateRun(storeDir, runId, args.options);
  const taskUrlOf = (config: Readonly<Record<string, unknown>>): string | undefined =>
    typeof config.taskUrl === 'string' ? config.taskUrl : undefined;
  const session = await openRunSession({
    io,
    env,
    storeDir,
    requester: (store) => {
      const record = store.runs.require(runId);
      const stored = store.requesters.get(record.requesterName);
      return requesterFor(
        env,
        args.options,
        io,
        stored ?? { name: record.requesterName, credentialSource: { kind: 'defaultChain' } },
      );
    },
    port: (store) => portFor(args, taskUrlOf(store.runs.require(runId).config)),
    host: String(args.options.host),
    // The run's HITs already point at its stored task URL; the public origin is not needed again.
    publicOrigin: undefined,
    pollMs: pollMsOf(args.options),
    page: (store) => {
      const config = resolveTaskRunConfig(store.runs.require(runId).config);
      return { page: config.page ?? labelExamplePage(), title: config.title };
    },
  });
  try {
    const record = session.store.runs.require(runId);
    const stored = taskUrlOf(record.config);
    if (
      stored !== undefined &&
      new URL(stored).protocol === 'http:' &&
      !session.taskUrl.startsWith(new URL(stored).origin)
    ) {
      io.out(
        style.yellow(
          `  note: the run's HITs point at ${stored}, and the task server now listens on ${session.localOrigin}; workers reach it only if that origin forwards here\n`,
        ),
      );
    }
    if (record.status === 'done') return { session, runId, resumed: undefined };
    const [resumed] = await session.runtime.resume(runId);
    // Units an add-units or relaunch wrote just before it was killed join the run now.
    await adoptStoredUnits(session.runtime, runId);
    return { session, runId, resumed };
  } catch (err) {
    await session.close();
    throw err;
  }
}

/** One line telling what resuming repaired. */
export function describeRepairs(resumed: ResumedRun): string {
  const r = resumed.repairs;
  const parts = [
    r.submissionsDelivered > 0 ? `${r.submissionsDelivered} stored submission(s) delivered` : '',
    r.intentsReplayed > 0 ? `${r.intentsReplayed} money intent(s) replayed` : '',
  ].filter(Boolean);
  return `${resumed.restored ? 'restored from its saved actors' : 'started afresh (it stopped before its first save)'}${parts.length > 0 ? `: ${parts.join(', ')}` : ''}`;
}

/** Refuses a run that is done. @throws HitstateError `HST_ERR_RUN_STATE` */
export function refuseDone(runId: string, what: string): never {
  throw new HitstateError(
    'HST_ERR_RUN_STATE',
    `run ${runId} is done; there is nothing to ${what}. Review it with \`hitstate review ${runId}\`, export it with \`hitstate export ${runId}\`, give its units that expired without work new HITs with \`hitstate relaunch ${runId}\`, or add units with \`hitstate add-units ${runId} FILE\`.`,
    { runId },
  );
}
