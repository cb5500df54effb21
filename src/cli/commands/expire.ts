/**
 * `hitstate expire RUN`: ends a run now: no new workers, HITs nobody holds expired, assigned units
 * waited for (at most their assignment duration, with the task page still served so they can
 * submit), finished HITs disposed.
 *
 * @module
 */
import { EXIT, type CommandSpec } from '../command.js';
import { settlementLine } from '../money-summary.js';
import { SERVE_OPTIONS } from '../run-session.js';
import { watchRun } from '../run-watch.js';
import { describeRepairs, openStoredRun } from '../stored-run.js';
import { styleFor } from '../style.js';
import { describeEnvironment, envOption, REQUESTER_OPTION, STORE_OPTION } from '../target.js';

export const expireCommand: CommandSpec = {
  name: 'expire',
  summary: 'End a run now: expire its HITs, wait for assigned workers, dispose what is finished',
  description: [
    'Resumes the run (see `hitstate resume`), then ends it: workers still arriving are refused, HITs nobody',
    'holds are expired, units a worker holds are waited for up to their assignment duration (the task page is',
    'served meanwhile), and HITs are disposed once their unit is finished and reviewed. Submitted work stays',
    'reviewable with `hitstate review`. A second Ctrl-C stops waiting and leaves the run for a later resume.',
  ].join('\n'),
  positionals: [{ name: 'run', description: 'The run id (see `hitstate status`)', required: true }],
  options: [envOption(), REQUESTER_OPTION, STORE_OPTION, ...SERVE_OPTIONS],
  examples: ['hitstate expire run-20260301-090000Z-1a2b', 'hitstate expire pilot-3 --env sandbox --port 8080'],
  async run(args, io) {
    const style = styleFor(io);
    const { session, runId, resumed } = await openStoredRun(args, io, style);
    try {
      if (resumed === undefined) {
        io.out(`run ${runId} is already done; nothing to expire.\n`);
        return EXIT.ok;
      }
      io.out(
        `${style.bold('hitstate expire')}: run ${style.bold(runId)} on ${describeEnvironment(session.env)}, ${describeRepairs(resumed)}\n\n`,
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
