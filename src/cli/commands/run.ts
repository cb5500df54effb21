/**
 * `hitstate run CONFIG`: launches the task run a JSON config describes, serves its task page,
 * shows progress until every unit is done, and ends the run (Ctrl-C ends it early; twice leaves
 * it for `hitstate resume`).
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import {
  resolveTaskRunConfig,
  type ResolvedTaskRunConfig,
  type TaskPageConfig,
  type TaskRunConfig,
} from '../../config/task-run.js';
import { HitstateError, isHitstateError } from '../../errors.js';
import type { CommandSpec, OptionValues } from '../command.js';
import { costOf } from '../cost.js';
import { dollars } from '../money-summary.js';
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
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new HitstateError(
      'HST_ERR_CONFIG_INVALID',
      `cannot read the config file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}; check the path`,
      { file: path, field: 'CONFIG' },
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new HitstateError('HST_ERR_CONFIG_INVALID', `${path} is not valid JSON: ${(err as Error).message}`, {
      file: path,
      field: 'CONFIG',
    });
  }
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
  if (problems.length > 0 || resolved === undefined) {
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
    config: validPage ? { ...(object as unknown as TaskRunConfig), page } : (object as unknown as TaskRunConfig),
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

export const runCommand: CommandSpec = {
  name: 'run',
  summary: 'Launch a task run from a JSON config, serve its task page and follow it to the end',
  description: [
    'Checks CONFIG first (every problem listed with its field and the fix; nothing is created until it passes),',
    'shows the cost estimate (rewards plus MTurk fees), checks the balance, then launches the run, serves its task',
    'page (the config\'s "page", or the label example) on --port, and shows progress until every unit is done.',
    'Live MTurk needs --yes-live. Ctrl-C ends the run cleanly (HITs expired, assigned workers waited for); a second',
    'Ctrl-C leaves everything as it is for `hitstate resume RUN`. Exit codes: 0 done, 1 failed, 2 usage, 3 live not',
    'confirmed, 130 interrupted. See docs/cli.md for the config format.',
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
      name: 'yes-live',
      type: 'boolean',
      description: 'Confirm spending real money on live MTurk',
      env: 'HITSTATE_YES_LIVE',
    },
  ],
  examples: [
    'hitstate run task.json --env http://127.0.0.1:8787          # against `hitstate sim`',
    'hitstate run task.json --env sandbox --requester lab --public-url https://tasks.example.org',
    'hitstate run task.json --env live --requester lab --public-url https://tasks.example.org --yes-live',
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
    io.out(
      `${style.bold('hitstate run')}: "${loaded.resolved.title}" on ${style.bold(describeEnvironment(env))}\n  cost: ${line}\n`,
    );
    if (env.kind === 'live' && args.options['yes-live'] !== true) {
      throw new HitstateError(
        'HST_ERR_CLI_LIVE_NOT_CONFIRMED',
        `this run would spend up to ${dollars(estimate.totalCents)} of real money on live MTurk (plus any bonuses). Check the estimate above, then run again with --yes-live.`,
        { field: 'yes-live' },
      );
    }
    const storeDir = storeDirOf(args.options, io);
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
      const runId =
        typeof args.options['run-id'] === 'string' && args.options['run-id'] !== ''
          ? args.options['run-id']
          : undefined;
      const info = await session.runtime.launchRun(loaded.config, {
        taskUrl: session.taskUrl,
        ...(runId === undefined ? {} : { runId }),
      });
      io.out(
        `  run: ${style.bold(info.runId)}  (Ctrl-C ends it; twice leaves it for \`hitstate resume ${info.runId}\`)\n\n`,
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
