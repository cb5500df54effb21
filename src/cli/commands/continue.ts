/**
 * `hitstate relaunch RUN` and `hitstate add-units RUN FILE`: continue a run with new units (new
 * HITs through the same money outbox, within the run's budget), then host it as `resume` does
 * until every unit is done; Ctrl-C detaches. Both are idempotent across a kill: a unit is
 * relaunched once, and the same FILE is added once.
 *
 * @module
 */
import { resolve } from 'node:path';
import { HitstateError } from '../../errors.js';
import { budgetOf, describeLedger, unitsToRelaunch, type AddedUnits, type Runtime } from '../../runtime/index.js';
import { EXIT, type CliIO, type CommandSpec, type ParsedArgs } from '../command.js';
import { confirmLive, YES_LIVE_OPTION } from '../confirm.js';
import { dollars, settlementLine } from '../money-summary.js';
import { shortUnit } from '../narrator.js';
import { SERVE_OPTIONS } from '../run-session.js';
import { watchRun } from '../run-watch.js';
import { readJsonFile } from '../json-file.js';
import { describeRepairs, openStoredRun } from '../stored-run.js';
import { styleFor } from '../style.js';
import { describeEnvironment, envOption, REQUESTER_OPTION, STORE_OPTION } from '../target.js';

/**
 * Reads the units of `add-units`: a JSON list with one task data item per unit, or a JSON object
 * with such a list as `units` (a task config).
 *
 * @throws HitstateError `HST_ERR_CONFIG_INVALID` naming the file and what is wrong with it.
 */
export function readUnitsFile(path: string): unknown[] {
  const data = readJsonFile(
    path,
    'the units file',
    'units',
    'give a JSON list with one task data item per unit, e.g. [{"text": "..."}]',
  );
  const items = Array.isArray(data)
    ? data
    : typeof data === 'object' && data !== null
      ? (data as { units?: unknown }).units
      : undefined;
  if (!Array.isArray(items) || items.length === 0)
    throw new HitstateError(
      'HST_ERR_CONFIG_INVALID',
      `${path} must hold a JSON list with at least one task data item (one per new unit), or an object whose "units" is such a list`,
      { file: path, field: 'units' },
    );
  return items;
}

/** Hosts the run, adds the units `add` creates (after the live confirmation of `costCents`), follows it. */
async function continueRun(
  name: 'relaunch' | 'add-units',
  args: ParsedArgs,
  io: CliIO,
  plan: (runtime: Runtime) => { count: number; add: () => Promise<AddedUnits> },
): Promise<number> {
  const style = styleFor(io);
  const { session, runId, resumed } = await openStoredRun(args, io, style);
  try {
    const { runtime } = session;
    io.out(
      `${style.bold(`hitstate ${name}`)}: run ${style.bold(runId)} on ${describeEnvironment(session.env)}, ${resumed === undefined ? 'done' : describeRepairs(resumed)}\n  task page: serving on ${session.localOrigin}\n`,
    );
    const { count, add } = plan(runtime);
    const ledger = budgetOf(runtime.store, runId);
    if (count > 0)
      await confirmLive(io, session.env, args.options, {
        totalCents: count * ledger.unitCostCents,
        what: `${name === 'relaunch' ? 'Relaunching' : 'Adding'} ${count} unit${count === 1 ? '' : 's'} of run ${runId}`,
        runId,
      });
    const added = await add();
    const list = added.unitIds.map((id) => shortUnit(runId, id)).join(', ');
    if (added.alreadyAdded) io.out(`  these units were added before (${list}); nothing added twice\n`);
    else if (added.unitIds.length === 0)
      io.out(`  no unit of run ${runId} expired without work, or each was relaunched already; nothing to relaunch\n`);
    else
      io.out(
        `  ${name === 'relaunch' ? 'relaunched' : 'added'} ${added.unitIds.length} unit${added.unitIds.length === 1 ? '' : 's'} (${list}), up to ${dollars(added.unitIds.length * ledger.unitCostCents)} with fees\n`,
      );
    if (added.adopted > 0)
      io.out(`  ${added.adopted} unit(s) added by an earlier, interrupted command joined the run\n`);
    io.out(`  money: ${describeLedger(budgetOf(runtime.store, runId))}\n  store: ${session.store.dir}\n\n`);
    if (added.alreadyAdded || added.unitIds.length === 0) {
      // Nothing new: launches an interrupted command left are finished (same tokens), and the run is left as it was.
      io.out(`${settlementLine(await runtime.settleMoney(runId))}\n`);
      if (runtime.runInfo(runId).status !== 'done')
        io.out(`  \`hitstate resume ${runId}\` hosts the run until every unit is done\n`);
      return EXIT.ok;
    }
    const code = await watchRun({ io, style, session, runId, mode: 'follow', quiet: args.options.quiet === true });
    io.out(`${settlementLine(await runtime.settleMoney(runId))}\n`);
    return code;
  } finally {
    await session.close();
  }
}

export const relaunchCommand: CommandSpec = {
  name: 'relaunch',
  summary: 'Give the units of a run that expired without work new HITs, within its budget',
  description: [
    'Units that expired without work (nobody took their HIT before it expired, or `hitstate stop` expired it)',
    'get new units with the same input and new HITs, through the money outbox, within the run budget (refused',
    'with the amounts otherwise). Works on a running, detached or done run. The run is then hosted as',
    '`hitstate resume` does until every unit is done; Ctrl-C detaches. A unit is relaunched once: running the',
    'command again (after a kill) relaunches nothing twice. On live, --yes-live=AMOUNT confirms the cost.',
  ].join('\n'),
  positionals: [{ name: 'run', description: 'The run id (see `hitstate status`)', required: true }],
  options: [
    {
      name: 'units',
      type: 'string',
      value: 'IDS',
      description: 'Only these expired units, comma-separated (u3,u7 or full ids); default: every one',
    },
    envOption(),
    REQUESTER_OPTION,
    STORE_OPTION,
    ...SERVE_OPTIONS,
    YES_LIVE_OPTION,
  ],
  examples: ['hitstate relaunch pilot-3', 'hitstate relaunch pilot-3 --units u3,u7'],
  async run(args, io) {
    const runId = args.positionals[0]!;
    const only =
      typeof args.options.units === 'string' && args.options.units !== ''
        ? args.options.units
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean)
            .map((id) => (/^u\d+$/.test(id) ? `${runId}.${id}` : id))
        : undefined;
    return continueRun('relaunch', args, io, (runtime) => {
      const candidates = unitsToRelaunch(runtime, runId);
      return {
        count: only === undefined ? candidates.length : only.length,
        add: () => runtime.relaunch(runId, only),
      };
    });
  },
};

export const addUnitsCommand: CommandSpec = {
  name: 'add-units',
  summary: 'Add units to a running, detached or done run, within its budget',
  description: [
    'FILE (or --units FILE) is a JSON list with one task data item per new unit (what the task page gets from',
    '`hitstate.getTask()`), or an object whose "units" is such a list. The units are appended to the run, get',
    'HITs through the money outbox within the run budget (refused with the amounts otherwise), and the run is',
    'hosted as `hitstate resume` does until every unit is done; Ctrl-C detaches. The same FILE added again (a',
    'run after a kill) is recognised and adds nothing twice. On live, --yes-live=AMOUNT confirms the cost.',
  ].join('\n'),
  positionals: [
    { name: 'run', description: 'The run id (see `hitstate status`)', required: true },
    { name: 'file', description: 'JSON list of task data, one item per new unit', required: false },
  ],
  options: [
    { name: 'units', type: 'string', value: 'FILE', description: 'The JSON file of units (instead of FILE)' },
    envOption(),
    REQUESTER_OPTION,
    STORE_OPTION,
    ...SERVE_OPTIONS,
    YES_LIVE_OPTION,
  ],
  examples: ['hitstate add-units pilot-3 more-sentences.json', 'hitstate add-units pilot-3 --units round2.json'],
  async run(args, io) {
    const runId = args.positionals[0]!;
    const given = args.positionals[1] ?? (typeof args.options.units === 'string' ? args.options.units : undefined);
    if (given === undefined || given === '')
      throw new HitstateError(
        'HST_ERR_CLI_USAGE',
        'hitstate add-units: name the units file: `hitstate add-units RUN FILE` (or --units FILE), a JSON list with one task data item per new unit.',
        { field: 'units' },
      );
    const items = readUnitsFile(resolve(io.cwd, given));
    return continueRun('add-units', args, io, (runtime) => ({
      count: items.length,
      add: () => runtime.addUnits(runId, items),
    }));
  },
};
