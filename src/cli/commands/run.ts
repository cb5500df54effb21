/**
 * `hitstate run CONFIG`: launches the task run a JSON config describes, serves its task page,
 * shows progress until every unit is done, and ends the run (Ctrl-C detaches: the run keeps its
 * HITs for `hitstate resume` or `hitstate stop`).
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import {
  isTaskRunConfig,
  resolveTaskRunConfig,
  type ResolvedTaskRunConfig,
  type TaskPageConfig,
  type TaskRunConfig,
} from '../../config/task-run.js';
import { HitstateError, isHitstateError } from '../../errors.js';
import { toCents } from '../../mturk/money.js';
import { withFee } from '../../runtime/index.js';
import type { CommandSpec, OptionValues } from '../command.js';
import { confirmLive, YES_LIVE_OPTION } from '../confirm.js';
import { costOf } from '../cost.js';
import { DETACH_OPTION, startDetached } from '../daemon.js';
import { readJsonFile } from '../json-file.js';
import { dollars } from '../money-summary.js';
import { formatUsd } from '../../mturk/money.js';
import {
  DEFAULT_PORT,
  openRunSession,
  publicOrigin,
  PUBLIC_URL_OPTION,
  readBalance,
  SERVE_OPTIONS,
} from '../run-session.js';
import { watchRun } from '../run-watch.js';
import { styleFor } from '../style.js';
import {
  describeEnvironment,
  envOption,
  parseEnvironment,
  REQUESTER_OPTION,
  requesterFor,
  STORE_OPTION,
  storeDirOf,
  localDirOf,
} from '../target.js';
import { absolutePage, labelExamplePage, pageProblems, type FieldProblem } from '../task-page.js';

/** A config file read and checked, with its page made absolute. */
export interface LoadedConfig {
  readonly file: string;
  /** The config to launch: as written, with `page` paths made absolute. */
  readonly config: TaskRunConfig;
  readonly resolved: ResolvedTaskRunConfig;
  readonly page: TaskPageConfig;
}

/**
 * Reads a task-run config file and checks everything before anything is created: the config's
 * fields, the page files, and that `taskUrl` is left to the command. Every problem is reported
 * at once with its field and the fix.
 *
 * @throws HitstateError `HST_ERR_CONFIG_INVALID` (`details.problems` lists each problem).
 */
export function loadConfigFile(path: string): LoadedConfig {
  const raw = readJsonFile(path, 'the config file', 'CONFIG');
  const problems: FieldProblem[] = [];
  let resolved: ResolvedTaskRunConfig | undefined;
  try {
    resolved = resolveTaskRunConfig(raw);
  } catch (err) {
    if (!isHitstateError(err, 'HST_ERR_CONFIG_INVALID')) throw err;
    problems.push(...(err.details.problems ?? [{ field: err.details.field ?? '(root)', message: err.message }]));
  }
  const object = typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
  if (object.taskUrl !== undefined) {
    problems.push({
      field: 'taskUrl',
      message:
        'is set by hitstate run (it serves the task page itself); remove it, and pass --public-url on live and sandbox',
    });
  }
  const pageSetting = object.page as TaskPageConfig | undefined;
  const validPage =
    typeof pageSetting === 'object' &&
    pageSetting !== null &&
    typeof pageSetting.taskPage === 'string' &&
    pageSetting.taskPage !== '';
  const page = validPage ? absolutePage(pageSetting, dirname(path)) : labelExamplePage();
  if (validPage) problems.push(...pageProblems(page));
  // The schema accepted `raw` when `resolved` exists; the guard says so to the types.
  if (problems.length > 0 || resolved === undefined || !isTaskRunConfig(raw)) {
    const list = problems.map((p) => `  - ${p.field}: ${p.message}`).join('\n');
    throw new HitstateError(
      'HST_ERR_CONFIG_INVALID',
      `${path} has ${problems.length} problem${problems.length === 1 ? '' : 's'}; nothing was created:\n${list}`,
      {
        file: path,
        field: problems[0]?.field ?? '(root)',
        problems,
      },
    );
  }
  // The default page is not written into the run: a later resume serves the installed example.
  return {
    file: path,
    config: validPage ? { ...raw, page } : raw,
    resolved,
    page,
  };
}

function portOf(options: OptionValues): number {
  const port = options.port === undefined ? DEFAULT_PORT : Number(options.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new HitstateError(
      'HST_ERR_CLI_USAGE',
      `--port must be a whole number from 0 to 65535, got ${String(options.port)}.`,
      { field: 'port' },
    );
  return port;
}

/** `--poll-ms`, checked. */
export function pollMsOf(options: OptionValues): number {
  const ms = Number(options['poll-ms']);
  if (!Number.isFinite(ms) || ms < 50)
    throw new HitstateError(
      'HST_ERR_CLI_USAGE',
      `--poll-ms must be at least 50 milliseconds, got ${String(options['poll-ms'])}.`,
      { field: 'poll-ms' },
    );
  return ms;
}

/** A run id as the runtime makes one (`run-<UTC time>-<4 hex>`), for a run launched in the background. */
function newRunId(): string {
  const stamp = new Date()
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')
    .replace('T', '-');
  return `run-${stamp}-${randomBytes(2).toString('hex')}`;
}

/** The run's budget: `--budget`, else the config's, checked; undefined when there is none. */
function budgetOf(loaded: LoadedConfig, options: OptionValues): string | undefined {
  const flag = options.budget;
  if (typeof flag === 'string' && flag !== '') {
    if (!/^\d+(\.\d{1,2})?$/.test(flag) || toCents(flag) <= 0)
      throw new HitstateError(
        'HST_ERR_CLI_USAGE',
        `--budget must be a dollar amount above zero like 25.00 (rewards, bonuses and MTurk fees), got ${JSON.stringify(flag)}.`,
        { field: 'budget' },
      );
    return flag;
  }
  return loaded.resolved.budget ?? undefined;
}

export const runCommand: CommandSpec = {
  name: 'run',
  summary: 'Launch a task run from a JSON config, serve its task page and follow it to the end',
  description: [
    'Checks CONFIG first (every problem listed with its field and the fix; nothing is created until it passes),',
    'shows the cost estimate (rewards plus MTurk fees), checks the balance, then launches the run, serves its task',
    'page (the config\'s "page", or the label example) on --port, and shows progress until every unit is done.',
    'A run with a budget (--budget or the config\'s "budget") that its units do not fit is refused. Live MTurk needs',
    '--yes-live=AMOUNT, AMOUNT at least the estimate. Ctrl-C detaches: the command stops, the run keeps its HITs',
    'and `hitstate resume RUN` continues it; `hitstate stop RUN` ends it. Exit codes: 0 done, 1 failed, 2 usage,',
    '3 live not confirmed, 130 interrupted. See docs/cli.md for the config format.',
  ].join('\n'),
  positionals: [{ name: 'config', description: 'The task-run config (JSON)', required: true }],
  options: [
    envOption('sandbox'),
    REQUESTER_OPTION,
    STORE_OPTION,
    ...SERVE_OPTIONS,
    PUBLIC_URL_OPTION,
    {
      name: 'run-id',
      type: 'string',
      value: 'ID',
      description: 'Id of the new run (default run-<UTC time>-<4 hex>)',
      env: 'HITSTATE_RUN_ID',
    },
    {
      name: 'budget',
      type: 'string',
      value: 'USD',
      description:
        'The most the run may spend, rewards, bonuses and MTurk fees included (replaces the config\'s "budget")',
    },
    YES_LIVE_OPTION,
    DETACH_OPTION,
  ],
  examples: [
    'hitstate run task.json --env http://127.0.0.1:8787          # against `hitstate sim`',
    'hitstate run task.json --env sandbox --requester lab --public-url https://tasks.example.org',
    'hitstate run task.json --env live --requester lab --public-url https://tasks.example.org --budget 30 --yes-live=24.00',
  ],
  async run(args, io) {
    const style = styleFor(io);
    const env = parseEnvironment(String(args.options.env));
    const file = resolve(io.cwd, args.positionals[0]!);
    const loaded = loadConfigFile(file);
    const origin = publicOrigin(args.options, env);
    const port = portOf(args.options);
    const pollMs = pollMsOf(args.options);
    const { estimate, line } = costOf(loaded.resolved);
    const runIdOption =
      typeof args.options['run-id'] === 'string' && args.options['run-id'] !== '' ? args.options['run-id'] : undefined;
    const budget = budgetOf(loaded, args.options);
    io.out(
      `${style.bold('hitstate run')}: "${loaded.resolved.title}" on ${style.bold(describeEnvironment(env))}\n  cost: ${line}\n${budget === undefined ? '' : `  budget: ${dollars(toCents(budget))} (rewards, bonuses and fees)\n`}`,
    );
    const config: TaskRunConfig = budget === undefined ? loaded.config : { ...loaded.config, budget };
    const units = loaded.resolved.unitData.length;
    const needed = units * withFee(toCents(loaded.resolved.reward));
    if (budget !== undefined && needed > toCents(budget))
      throw new HitstateError(
        'HST_ERR_BUDGET_EXCEEDED',
        `the ${units} units of this run need up to ${dollars(needed)} (rewards and fees), above its budget of ${dollars(toCents(budget))} (spent $0.00, held $0.00: nothing was created). Run again with --budget ${formatUsd(needed)} or more (or raise "budget" in ${args.positionals[0]}), or launch fewer units.`,
        { field: 'budget' },
      );
    // Live needs the amount confirmed: --yes-live=AMOUNT (or HITSTATE_YES_LIVE) at least the estimate.
    await confirmLive(io, env, args.options, {
      totalCents: estimate.totalCents,
      what: `This run (${units} unit${units === 1 ? '' : 's'}, bonuses extra)`,
      ...(runIdOption === undefined ? {} : { runId: runIdOption }),
    });
    const storeDir = storeDirOf(args.options, io);
    if (args.options.detach === true) {
      // The background process gets the amount confirmed here, and the run id to host.
      const runId = runIdOption ?? newRunId();
      const options =
        env.kind === 'live' ? { ...args.options, 'yes-live': formatUsd(estimate.totalCents) } : args.options;
      return startDetached(
        io,
        'run',
        { ...args, options },
        localDirOf(storeDir, io),
        runId,
        new RegExp(`run: ${runId.replace(/\./g, '\\.')}\\b`),
      );
    }
    const requester = requesterFor(env, args.options, io);
    const balance = await readBalance(env, requester);
    if (balance.status !== 'ok') {
      throw new HitstateError(
        balance.code,
        `cannot read the account balance on ${describeEnvironment(env)}: ${balance.message}; nothing was created`,
        {},
      );
    }
    if (balance.value.availableCents < estimate.totalCents) {
      throw new HitstateError(
        'HST_ERR_MTURK_INSUFFICIENT_FUNDS',
        `the account has ${dollars(balance.value.availableCents)} available and this run needs up to ${dollars(estimate.totalCents)}; add funds or launch fewer units. Nothing was created.`,
        {},
      );
    }
    const session = await openRunSession({
      io,
      env,
      storeDir,
      requester: () => requester,
      port: () => port,
      host: String(args.options.host),
      publicOrigin: origin,
      pollMs,
      page: () => ({ page: loaded.page, title: loaded.resolved.title }),
    });
    try {
      io.out(
        `  balance: ${dollars(balance.value.availableCents)} available\n  task page: ${session.taskUrl} (serving on ${session.localOrigin})\n  store: ${session.store.dir}\n`,
      );
      const runId = runIdOption;
      const info = await session.runtime.launchRun(config, {
        taskUrl: session.taskUrl,
        ...(runId === undefined ? {} : { runId }),
      });
      io.out(
        `  run: ${style.bold(info.runId)}  (Ctrl-C detaches: the run keeps its HITs; \`hitstate resume ${info.runId}\` continues it, \`hitstate stop ${info.runId}\` ends it)\n\n`,
      );
      return await watchRun({
        io,
        style,
        session,
        runId: info.runId,
        mode: 'follow',
        quiet: args.options.quiet === true,
      });
    } finally {
      await session.close();
    }
  },
};
