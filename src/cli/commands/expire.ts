/**
 * `hitstate stop RUN` (also `hitstate expire RUN`): ends a run on purpose: no new workers, HITs
 * nobody holds expired, assigned units waited for (at most their assignment duration, with the task
 * page still served so they can submit), finished HITs disposed. Ctrl-C leaves it ending; running
 * `stop` again finishes it.
 *
 * @module
 */
import { EXIT, type CommandSpec } from '../command.js';
import { settlementLine } from '../money-summary.js';
import { SERVE_OPTIONS } from '../run-session.js';
import { watchRun } from '../run-watch.js';
import { describeRepairs, openStoredRun } from '../stored-run.js';
import { styleFor } from '../style.js';
import { releaseDetached } from '../daemon.js';
import { describeEnvironment, envOption, localDirOf, REQUESTER_OPTION, STORE_OPTION, storeDirOf } from '../target.js';

/** `stop` and its older name `expire`: the same command. */
function endCommand(name: 'stop' | 'expire'): CommandSpec {
  return {
    name,
    summary:
      name === 'stop'
        ? 'End a run: expire what nobody holds, let held work finish, dispose what is finished'
        : 'The same as `hitstate stop` (its former name)',
    description: [
      'Resumes the run (see `hitstate resume`), then ends it: workers still arriving are refused, HITs nobody',
      'holds are expired, units a worker holds are waited for up to their assignment duration (the task page is',
      'served meanwhile), and HITs are disposed once their unit is finished and reviewed. Submitted work stays',
      'reviewable with `hitstate review`; units that expired without work can get new HITs with `hitstate relaunch`.',
      `Ctrl-C stops waiting and leaves the run ending; \`hitstate ${name} RUN\` again finishes it. Idempotent.`,
    ].join('\n'),
    positionals: [{ name: 'run', description: 'The run id (see `hitstate status`)', required: true }],
    options: [envOption(), REQUESTER_OPTION, STORE_OPTION, ...SERVE_OPTIONS],
    examples: [`hitstate ${name} run-20260301-090000Z-1a2b`, `hitstate ${name} pilot-3 --env sandbox --port 8080`],
    async run(args, io) {
      const style = styleFor(io);
      // A run hosted in the background is let go there first (it detaches), then ended here.
      await releaseDetached(io, localDirOf(storeDirOf(args.options, io), io), args.positionals[0]!);
      const { session, runId, resumed } = await openStoredRun(args, io, style);
      try {
        if (resumed === undefined) {
          io.out(`run ${runId} is already done; nothing to ${name}.\n`);
          return EXIT.ok;
        }
        io.out(
          `${style.bold(`hitstate ${name}`)}: run ${style.bold(runId)} on ${describeEnvironment(session.env)}, ${describeRepairs(resumed)}\n\n`,
        );
        const code = await watchRun({ io, style, session, runId, mode: 'expire', quiet: args.options.quiet === true });
        // Money calls replayed or started by this command end before the gateway closes.
        io.out(`${settlementLine(await session.runtime.settleMoney(runId))}\n`);
        return code;
      } finally {
        await session.close();
      }
    },
  };
}

export const stopCommand: CommandSpec = endCommand('stop');
export const expireCommand: CommandSpec = endCommand('expire');
