/**
 * `hitstate status [RUN]`: the runs of the store (every environment, or `--env`'s) with their
 * status, units by state and money spent, or one run's units and agents. Reads the store only:
 * no MTurk call, no change.
 *
 * @module
 */
import type { AssignmentState } from '../../../machines/index.js';
import { isHitstateError } from '../../errors.js';
import { openStore, sameEnvironment, type Store, type StoreEnvironment } from '../../store/index.js';
import { EXIT, type CliIO, type CommandSpec } from '../command.js';
import { peekStore } from '../store-peek.js';
import { dollars } from '../money-summary.js';
import { moneyOfRun, type MoneySummary } from '../../runtime/money/spent.js';
import { budgetOf, describeLedger, type BudgetLedger } from '../../runtime/money/budget.js';
import { shortUnit } from '../narrator.js';
import { describeCounts } from '../progress.js';
import { unitCounts } from '../run-summary.js';
import { styleFor, type Style } from '../style.js';
import { formatTable } from '../table.js';
import {
  damagedStores,
  describeEnvironment,
  envOption,
  locateRun,
  openStoreToRead,
  parseEnvironment,
  STORE_OPTION,
  storeDirOf,
  describeStore,
  storeEnvironments,
} from '../target.js';

/** A run as `status --json` prints it. */
export interface RunStatusJson {
  readonly runId: string;
  readonly environment: string;
  readonly status: string;
  readonly requester: string;
  readonly title: string | null;
  readonly hitTypeId: string | null;
  readonly createdAt: string;
  readonly finishedAt: string | null;
  readonly units: number;
  readonly counts: Readonly<Record<AssignmentState, number>>;
  readonly money: MoneySummary;
  /** Spent, held, to launch and left against the run's budget, in cents (`budgetCents` null: no budget). */
  readonly budget: BudgetLedger;
}

const when = (ms: number | null): string =>
  ms === null ? '-' : `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')}Z`;

function runJson(store: Store, env: StoreEnvironment, runId: string): RunStatusJson {
  const run = store.runs.require(runId);
  const counts = unitCounts(store, runId);
  return {
    runId,
    environment: describeEnvironment(env),
    status: run.status,
    requester: run.requesterName,
    title: typeof run.config.title === 'string' ? run.config.title : null,
    hitTypeId: run.hitTypeId,
    createdAt: new Date(run.createdAt).toISOString(),
    finishedAt: run.finishedAt === null ? null : new Date(run.finishedAt).toISOString(),
    units: Object.values(counts).reduce((a, b) => a + b, 0),
    counts,
    money: moneyOfRun(store, runId),
    budget: budgetOf(store, runId),
  };
}

/** `held by process 123, a hitstate command at work`. */
function heldText(pid: number | string | undefined): string {
  return `held by process ${pid ?? '(unknown)'}, a hitstate command at work`;
}

/** `held by process 123 (a hitstate run in progress)`, from the store's lock error. */
function busyText(message: string): string {
  const pid = /process (\d+)/.exec(message)?.[1];
  return heldText(pid);
}

/** The runs of a store held by another process, as of its last committed write. */
function peeked(storeDir: string, env: StoreEnvironment): Promise<RunStatusJson[]> {
  return peekStore(storeDir, env, (store) => store.runs.list().map((r) => runJson(store, env, r.id)));
}

function runsTable(runs: readonly RunStatusJson[], style: Style): string {
  const settled = (r: RunStatusJson): number => r.units - r.counts.created - r.counts.launched - r.counts.assigned;
  return formatTable(
    [
      { header: 'RUN' },
      { header: 'STATUS' },
      { header: 'UNITS', align: 'right' },
      { header: 'DONE', align: 'right' },
      { header: 'SPENT', align: 'right' },
      { header: 'HELD', align: 'right' },
      { header: 'BUDGET', align: 'right' },
      { header: 'CREATED' },
      { header: 'UNITS BY STATE' },
    ],
    runs.map((r) => [
      style.bold(r.runId),
      r.status,
      String(r.units),
      String(settled(r)),
      dollars(r.money.totalCents),
      dollars(r.budget.heldCents),
      r.budget.budgetCents === null ? '-' : dollars(r.budget.budgetCents),
      when(Date.parse(r.createdAt)),
      describeCounts(r.counts),
    ]),
    '  ',
  );
}

function runDetail(store: Store, env: StoreEnvironment, runId: string, style: Style): string {
  const r = runJson(store, env, runId);
  const run = store.runs.require(runId);
  const reward = typeof run.config.reward === 'string' ? `$${run.config.reward}` : '?';
  const lines = [
    `Run ${style.bold(runId)} (${r.environment})`,
    `  title      ${r.title ?? '-'}`,
    `  status     ${r.status}   requester ${r.requester}   HIT type ${r.hitTypeId ?? '-'}`,
    `  created    ${when(run.createdAt)}   finished ${when(run.finishedAt)}`,
    `  units      ${r.units} at ${reward}: ${describeCounts(r.counts)}`,
    `  spent      ${dollars(r.money.totalCents)} (rewards ${dollars(r.money.approved.rewardCents + r.money.softRejected.rewardCents)}, bonuses ${dollars(r.money.bonuses.cents)}, fees ${dollars(r.money.feeCents)})`,
    `  money      ${describeLedger(r.budget)}${r.budget.budgetCents === null ? ` (no budget: \`hitstate budget ${runId} USD\` sets one)` : ''}`,
    '',
  ];
  const rows = [...store.units.ofRun(runId)]
    .sort((a, b) => a.index - b.index)
    .map((u) => {
      const agents = store.agents.ofUnit(u.id);
      const agent = agents.find((a) => a.id === u.agentId) ?? agents.at(-1);
      const hit = store.hits.ofUnit(u.id);
      return [
        shortUnit(runId, u.id),
        u.status,
        agent?.workerId ?? '-',
        agent?.status ?? '-',
        hit?.id ?? '-',
        agent?.submittedAt == null ? '-' : when(agent.submittedAt),
        agent?.review?.decision ?? '-',
        String(agents.length),
      ];
    });
  return `${lines.join('\n')}\n${formatTable([{ header: 'UNIT' }, { header: 'STATUS' }, { header: 'WORKER' }, { header: 'AGENT' }, { header: 'HIT' }, { header: 'SUBMITTED' }, { header: 'REVIEW' }, { header: 'AGENTS', align: 'right' }], rows, '  ')}`;
}

/**
 * Opens the store to read it: read-only while another process writes it (a run live there: no
 * lock, no lease, nothing written), else as {@link openStoreToRead} does (which repairs what a
 * crash left). Used by `status` and `export`.
 */
export async function openStoreToLook(storeDir: string, env: StoreEnvironment): Promise<Store> {
  let look: Store | null = null;
  try {
    look = await openStore({ dir: storeDir, environment: env, readOnly: true });
  } catch (err) {
    if (!isHitstateError(err, 'HST_ERR_STORE_NOT_FOUND')) throw err;
  }
  if (look !== null && look.openReport.heldBy !== null) return look;
  await look?.close();
  return openStoreToRead(storeDir, env);
}

async function withStore<T>(storeDir: string, env: StoreEnvironment, read: (store: Store) => T): Promise<T> {
  const store = await openStoreToLook(storeDir, env);
  try {
    return read(store);
  } finally {
    await store.close();
  }
}

async function oneRun(
  io: CliIO,
  storeDir: string,
  runId: string,
  env: StoreEnvironment,
  json: boolean,
  style: Style,
): Promise<number> {
  try {
    return await readRun(io, storeDir, runId, env, json, style);
  } catch (err) {
    const run = isHitstateError(err, 'HST_ERR_STORE_LOCKED')
      ? (await peeked(storeDir, env)).find((r) => r.runId === runId)
      : undefined;
    if (run === undefined || !isHitstateError(err)) throw err;
    const busy = busyText(err.message);
    if (json) io.out(`${JSON.stringify({ ...run, busy }, null, 2)}\n`);
    else {
      io.out(
        `Run ${style.bold(runId)} (${run.environment}): ${run.status}, ${run.units} units: ${describeCounts(run.counts)}; ${describeLedger(run.budget)}\n`,
      );
      io.out(
        `  ${style.yellow('busy')}: ${busy}; figures read from its files as last written. Unit details need the store: ask again once that process stops.\n`,
      );
    }
    return EXIT.ok;
  }
}

async function readRun(
  io: CliIO,
  storeDir: string,
  runId: string,
  env: StoreEnvironment,
  json: boolean,
  style: Style,
): Promise<number> {
  return withStore(storeDir, env, (store) => {
    if (json) {
      const base = runJson(store, env, runId);
      const units = store.units
        .ofRun(runId)
        .map((u) => ({ ...u, agents: store.agents.ofUnit(u.id), hit: store.hits.ofUnit(u.id) ?? null }));
      io.out(`${JSON.stringify({ ...base, unitDetails: units }, null, 2)}\n`);
    } else io.out(runDetail(store, env, runId, style));
    return EXIT.ok;
  });
}

export const statusCommand: CommandSpec = {
  name: 'status',
  summary: "Show the runs of the store, or one run's units (reads the store only)",
  description: [
    'Without RUN: every run of every environment under the store directory (or of --env), with its status,',
    'units by state and money spent. With RUN: the run and each unit (status, worker, agent, HIT, submission,',
    'review). --json prints the same as JSON for scripts. No MTurk call is made and nothing changes; while a',
    '`hitstate run` or `resume` holds a store, its runs are read from its files as last written and marked busy.',
  ].join('\n'),
  positionals: [{ name: 'run', description: 'A run id: show its units', required: false }],
  options: [envOption(), STORE_OPTION, { name: 'json', type: 'boolean', description: 'Print JSON instead of tables' }],
  examples: [
    'hitstate status',
    'hitstate status run-20260301-090000Z-1a2b',
    "hitstate status --env sandbox --json | jq '.[].runs[].counts'",
  ],
  async run(args, io) {
    const style = styleFor(io);
    const storeDir = storeDirOf(args.options, io);
    const json = args.options.json === true;
    const runId = args.positionals[0];
    if (runId !== undefined)
      return oneRun(io, storeDir, runId, await locateRun(storeDir, runId, args.options), json, style);
    const wanted =
      typeof args.options.env === 'string' && args.options.env !== '' ? parseEnvironment(args.options.env) : undefined;
    // Only stores that exist: status never creates one.
    const envs = (await storeEnvironments(storeDir))
      .map((h) => h.environment)
      .filter((e) => wanted === undefined || sameEnvironment(e, wanted));
    const report: {
      environment: string;
      store: string;
      busy: string | null;
      runs: RunStatusJson[];
      corrupt?: { code: string; file: string | null; message: string };
    }[] = [];
    const corrupt = (err: { code: string; message: string; details: { file?: string } }) => ({
      code: err.code,
      file: err.details.file ?? null,
      message: err.message,
    });
    for (const env of envs) {
      try {
        const { runs, busy } = await withStore(storeDir, env, (store) => ({
          runs: store.runs.list().map((r) => runJson(store, env, r.id)),
          // Read-only because another process holds it: say so, as the lock error would.
          busy: store.readOnly && store.openReport.heldBy !== null ? heldText(store.openReport.heldBy.pid) : null,
        }));
        report.push({ environment: describeEnvironment(env), store: describeStore(storeDir), busy, runs });
      } catch (err) {
        // A damaged file is reported with that environment, never left out as if it had no runs.
        if (isHitstateError(err, 'HST_ERR_STORE_CORRUPT')) {
          report.push({
            environment: describeEnvironment(env),
            store: describeStore(storeDir),
            busy: null,
            runs: [],
            corrupt: corrupt(err),
          });
          continue;
        }
        if (!isHitstateError(err, 'HST_ERR_STORE_LOCKED')) throw err;
        const busy = busyText(err.message);
        try {
          report.push({
            environment: describeEnvironment(env),
            store: describeStore(storeDir),
            busy,
            runs: await peeked(storeDir, env),
          });
        } catch (peekErr) {
          if (!isHitstateError(peekErr, 'HST_ERR_STORE_CORRUPT')) throw peekErr;
          report.push({
            environment: describeEnvironment(env),
            store: describeStore(storeDir),
            busy,
            runs: [],
            corrupt: corrupt(peekErr),
          });
        }
      }
    }
    for (const damaged of damagedStores(storeDir, wanted))
      report.push({
        environment: damaged.environment === null ? damaged.dir : describeEnvironment(damaged.environment),
        store: describeStore(storeDir),
        busy: null,
        runs: [],
        corrupt: corrupt(damaged.error),
      });
    const code = report.some((r) => r.corrupt !== undefined) ? EXIT.failure : EXIT.ok;
    if (json) {
      io.out(`${JSON.stringify(report, null, 2)}\n`);
      // Said on stderr too: a script piping the JSON on must not be the only one to know.
      for (const r of report)
        if (r.corrupt !== undefined) io.err(`hitstate status: ${r.corrupt.message}\n  [${r.corrupt.code}]\n`);
      return code;
    }
    if (report.length === 0) {
      io.out(
        `No runs under ${describeStore(storeDir)}.\nTry \`npm run demo\` (or \`hitstate demo\`), or launch one with \`hitstate run CONFIG\`.\n`,
      );
      return EXIT.ok;
    }
    for (const env of report) {
      io.out(`${style.bold(env.environment)}\n`);
      if (env.busy !== null)
        io.out(`  ${style.yellow('busy')}: ${env.busy}; figures read from its files as last written\n`);
      if (env.corrupt !== undefined) {
        io.out(`  ${style.red('damaged')}: its runs cannot be read [${env.corrupt.code}]\n`);
        io.err(`hitstate status: ${env.corrupt.message}\n  [${env.corrupt.code}]\n`);
      } else if (env.runs.length === 0) io.out('  no runs\n');
      else io.out(runsTable(env.runs, style));
    }
    return code;
  },
};
