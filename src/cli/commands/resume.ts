/**
 * `hitstate resume RUN`: continues a run that stopped (a crash, a kill, two Ctrl-Cs): its actors
 * are restored from the store, pending MTurk commands re-issued with their original tokens, money
 * intents replayed, HITs re-attached, drift against MTurk reported; then it is followed to its end
 * as `hitstate run` does.
 *
 * @module
 */
import type { CommandSpec } from '../command.js';
import { settlementLine } from '../money-summary.js';
import { SERVE_OPTIONS } from '../run-session.js';
import { watchRun } from '../run-watch.js';
import { describeRepairs, openStoredRun, refuseDone } from '../stored-run.js';
import { styleFor } from '../style.js';
import { DETACH_OPTION, followDetached, startDetached } from '../daemon.js';
import { describeEnvironment, envOption, localDirOf, REQUESTER_OPTION, STORE_OPTION, storeDirOf } from '../target.js';

/** `resume` and `attach`: the same command. */
function continueCommand(name: 'resume' | 'attach'): CommandSpec {
  return {
    name,
    summary:
      name === 'resume'
        ? 'Continue a detached or stopped run where it was and follow it to its end'
        : 'Take a run another process left (detached, killed) into this terminal: the same as `hitstate resume`',
    description: [
      "Restores the run's actors from the store, re-issues the MTurk commands they were waiting on (same",
      'idempotency tokens: nothing is created or paid twice), replays unconfirmed money intents, re-attaches HITs',
      "and reports drift against MTurk. It then serves the task page again (on the port the run's HITs point at",
      'for a local endpoint) and follows the run as `hitstate run` does. A run whose setup failed tries it again;',
      'a run whose launching halted (a budget, funds) launches the rest. Ctrl-C detaches again. Exit codes as',
      '`hitstate run`.',
    ].join('\n'),
    positionals: [{ name: 'run', description: 'The run id (see `hitstate status`)', required: true }],
    options: [envOption(), REQUESTER_OPTION, STORE_OPTION, ...SERVE_OPTIONS, DETACH_OPTION],
    examples: [
      `hitstate ${name} run-20260301-090000Z-1a2b`,
      `hitstate ${name} pilot-3 --env sandbox --port 8080 --quiet`,
    ],
    async run(args, io) {
      const style = styleFor(io);
      const storeDir = storeDirOf(args.options, io);
      const wanted = args.positionals[0]!;
      // attach: a run a background process hosts is followed there; otherwise it is taken here.
      if (name === 'attach' && args.options.detach !== true) {
        const followed = await followDetached(io, localDirOf(storeDir, io), wanted);
        if (followed !== undefined) return followed;
      }
      if (args.options.detach === true)
        return startDetached(
          io,
          'resume',
          args,
          localDirOf(storeDir, io),
          wanted,
          new RegExp(`hitstate resume: run ${wanted.replace(/\./g, '\\.')}\\b`),
        );
      const { session, runId, resumed } = await openStoredRun(args, io, style);
      try {
        if (resumed === undefined) refuseDone(runId, name);
        const { runtime } = session;
        io.out(
          `${style.bold(`hitstate ${name}`)}: run ${style.bold(runId)} on ${describeEnvironment(session.env)}, ${describeRepairs(resumed)}\n  task page: serving on ${session.localOrigin}\n  store: ${session.store.dir}\n\n`,
        );
        const info = runtime.runInfo(runId);
        if (info.status === 'failed') await runtime.retrySetup(runId);
        else if (info.status === 'launching' && info.problem !== null) await runtime.resumeLaunching(runId);
        const code = await watchRun({ io, style, session, runId, mode: 'follow', quiet: args.options.quiet === true });
        // Money calls replayed or started by this command end before the gateway closes.
        io.out(`${settlementLine(await session.runtime.settleMoney(runId))}\n`);
        return code;
      } finally {
        await session.close();
      }
    },
  };
}

export const resumeCommand: CommandSpec = continueCommand('resume');
export const attachCommand: CommandSpec = continueCommand('attach');
