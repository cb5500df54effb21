/**
 * `hitstate review RUN`: approve, reject (with feedback), soft-reject or pay a bonus to the work
 * of one unit, agent, worker, or every submission awaiting review, through the runtime's review
 * API (money outbox, idempotent requests). `--dry-run` shows what would happen and changes nothing.
 *
 * @module
 */
import { systemClock } from '../../clock.js';
import { HitstateError, isHitstateError } from '../../errors.js';
import { toCents } from '../../mturk/money.js';
import {
  budgetOf,
  createRuntime,
  withFee,
  type BudgetLedger,
  type MoneySettlement,
  type ReviewAction,
  type ReviewItem,
  type ReviewReport,
  type ReviewTarget,
} from '../../runtime/index.js';
import { reviewThroughOwner } from '../../runtime/requests/run-requests.js';
import { openStore, type Store, type StoreEnvironment } from '../../store/index.js';
import { EXIT, usageError, type CliIO, type CommandSpec, type OptionValues } from '../command.js';
import { confirmLive, confirmOrRefuse, YES_LIVE_OPTION, YES_OPTION } from '../confirm.js';
import { dollars, settlementLine } from '../money-summary.js';
import { shortUnit } from '../narrator.js';
import { styleFor, type Style } from '../style.js';
import { formatTable } from '../table.js';
import {
  envOption,
  locateRun,
  openStoreFor,
  REQUESTER_OPTION,
  requesterFor,
  STORE_OPTION,
  storeDirOf,
} from '../target.js';

const TARGETS = ['unit', 'agent', 'worker', 'all'] as const;
const ACTIONS = ['approve', 'reject', 'soft-reject', 'bonus'] as const;

/** The target and action the flags name. @throws HitstateError `HST_ERR_CLI_USAGE` */
export function reviewRequest(runId: string, o: OptionValues): { target: ReviewTarget; action: ReviewAction } {
  const given = (name: string): boolean => o[name] !== undefined && o[name] !== false;
  const targets = TARGETS.filter(given);
  if (targets.length !== 1)
    throw usageError(
      `hitstate review: name whose work to review with exactly one of --unit ID, --agent ID, --worker ID or --all${targets.length > 1 ? ` (got --${targets.join(', --')})` : ''}.`,
      'unit',
    );
  const actions = ACTIONS.filter(given);
  if (actions.length !== 1)
    throw usageError(
      `hitstate review: choose exactly one of --approve, --reject, --soft-reject or --bonus USD${actions.length > 1 ? ` (got --${actions.join(', --')})` : ''}.`,
      'approve',
    );
  const feedback = typeof o.feedback === 'string' && o.feedback !== '' ? o.feedback : undefined;
  const unitOf = (id: string): string => (id.startsWith(`${runId}.`) || !/^u\d+$/.test(id) ? id : `${runId}.${id}`);
  const target: ReviewTarget =
    targets[0] === 'all'
      ? { all: true }
      : targets[0] === 'unit'
        ? { unitId: unitOf(String(o.unit)) }
        : targets[0] === 'agent'
          ? { agentId: String(o.agent) }
          : { workerId: String(o.worker) };
  switch (actions[0]) {
    case 'approve':
      return { target, action: { kind: 'approve', ...(feedback === undefined ? {} : { feedback }) } };
    case 'soft-reject':
      return { target, action: { kind: 'softReject', ...(feedback === undefined ? {} : { feedback }) } };
    case 'reject':
      if (feedback === undefined)
        throw usageError(
          'hitstate review: --reject needs --feedback TEXT telling the worker why (MTurk shows it to them; 1 to 1,024 characters).',
          'feedback',
        );
      return { target, action: { kind: 'reject', feedback } };
    default: {
      const reason = typeof o.reason === 'string' && o.reason !== '' ? o.reason : undefined;
      if (reason === undefined)
        throw usageError('hitstate review: --bonus needs --reason TEXT (MTurk shows it to the worker).', 'reason');
      if (!/^\d+(\.\d{1,2})?$/.test(String(o.bonus)))
        throw usageError(
          `hitstate review: --bonus must be a dollar amount like 0.25, got ${JSON.stringify(o.bonus)}.`,
          'bonus',
        );
      return { target, action: { kind: 'bonus', amountUsd: String(o.bonus), reason } };
    }
  }
}

/** Above this many agents, any review asks for confirmation (the issue's "more than 10 units"). */
export const CONFIRM_ABOVE_AGENTS = 10;

/**
 * The largest bonus per agent `review` pays without `--allow-large-bonus`: `--max-bonus`, else the
 * config's `maxBonus`, else the greater of 5 × the reward and $5.00 (a typo such as 500 for 5.00
 * must not pay at once).
 */
export function bonusLimitCents(options: OptionValues, config: Readonly<Record<string, unknown>>): number {
  const flag = options['max-bonus'];
  if (typeof flag === 'string' && flag !== '') {
    if (!/^\d+(\.\d{1,2})?$/.test(flag))
      throw usageError(
        `hitstate review: --max-bonus must be a dollar amount like 2.00, got ${JSON.stringify(flag)}.`,
        'max-bonus',
      );
    return toCents(flag, 'max-bonus');
  }
  if (typeof config.maxBonus === 'string') return toCents(config.maxBonus, 'maxBonus');
  const reward = typeof config.reward === 'string' ? toCents(config.reward, 'reward') : 0;
  return Math.max(5 * reward, 500);
}

/** What a confirmation reads: the run's store, environment and budget (a runtime, or a read-only store). */
interface ReviewHost {
  readonly environment: StoreEnvironment;
  readonly store: Store;
  budget(runId: string): BudgetLedger;
}

/** What the items a dry run reported would pay, fees included, in cents. */
function totalOf(runtime: ReviewHost, report: ReviewReport): number {
  const { action } = report;
  let cents = 0;
  for (const item of report.items) {
    if (item.outcome !== 'wouldDo' && item.outcome !== 'wouldQueue') continue;
    if (action.kind === 'bonus') cents += withFee(toCents(action.amountUsd));
    else if (action.kind === 'approve' || action.kind === 'softReject')
      cents += withFee(toCents(runtime.store.units.get(item.unitId)?.payAmountUsd ?? '0'));
  }
  return cents;
}

/**
 * Shows what the review would do (agents, total, the budget left after it) and has it confirmed:
 * on live the amount (`--yes-live=AMOUNT` or typed), elsewhere yes (or `--yes`) for a review that
 * pays or touches more than {@link CONFIRM_ABOVE_AGENTS} agents.
 */
async function confirmReview(
  io: CliIO,
  runtime: ReviewHost,
  runId: string,
  preview: ReviewReport,
  options: OptionValues,
  what: string,
): Promise<void> {
  const acting = preview.items.filter((i) => i.outcome === 'wouldDo' || i.outcome === 'wouldQueue').length;
  if (acting === 0) return;
  const total = totalOf(runtime, preview);
  if (total === 0 && acting <= CONFIRM_ABOVE_AGENTS) return;
  const ledger = runtime.budget(runId);
  const isBonus = preview.action.kind === 'bonus';
  // Approving held work leaves "left" as it is: its reward was held since launch.
  const leftAfter = ledger.leftCents === null ? null : ledger.leftCents - (isBonus ? total : 0);
  const budgetText =
    ledger.budgetCents === null
      ? 'the run has no budget'
      : `budget ${dollars(ledger.budgetCents)}: spent ${dollars(ledger.spentCents)}, held ${dollars(ledger.heldCents)}, left after this review ${leftAfter! < 0 ? `-${dollars(-leftAfter!)}` : dollars(leftAfter!)}`;
  const summary = `${what} for ${acting} agent${acting === 1 ? '' : 's'} of run ${runId}: ${dollars(total)} (fees included); ${budgetText}.`;
  // With --json, stdout is the report alone: the summary goes to stderr.
  (options.json === true ? io.err : io.out)(`hitstate review: ${summary}\n`);
  const env = runtime.environment;
  if (env.kind === 'live' && total > 0) {
    await confirmLive(io, env, options, { totalCents: total, what: `This review (${what})`, runId });
    return;
  }
  await confirmOrRefuse(io, {
    question: 'Go on?',
    yes: options.yes === true,
    refusal: `hitstate review: ${what} for ${acting} agents (${dollars(total)}) needs confirmation`,
  });
}

const OUTCOME_TEXT: Record<ReviewItem['outcome'], string> = {
  done: 'done',
  alreadyDone: 'already done',
  queued: 'queued until submitted',
  pending: 'sent',
  refused: 'refused',
  failed: 'failed',
  wouldDo: 'would do',
  wouldQueue: 'would queue until submitted',
};

function itemsTable(runId: string, items: readonly ReviewItem[], style: Style): string {
  const colour = (item: ReviewItem): string => {
    const text = OUTCOME_TEXT[item.outcome];
    return item.outcome === 'refused' || item.outcome === 'failed'
      ? style.red(text)
      : item.outcome === 'done'
        ? style.green(text)
        : text;
  };
  return formatTable(
    [{ header: 'UNIT' }, { header: 'WORKER' }, { header: 'WAS' }, { header: 'OUTCOME' }, { header: 'WHY' }],
    items.map((i) => [shortUnit(runId, i.unitId), i.workerId, i.statusBefore, colour(i), i.reason ?? '']),
    '  ',
  );
}

/** How the action reads in messages. */
function actionText(action: ReviewAction): string {
  return action.kind === 'bonus'
    ? `bonus $${action.amountUsd}`
    : action.kind === 'softReject'
      ? 'soft-reject'
      : action.kind;
}

/** A bonus above the run's bonus limit needs `--allow-large-bonus`. @throws HitstateError `HST_ERR_CLI_NOT_CONFIRMED` */
function checkBonusLimit(
  options: OptionValues,
  config: Readonly<Record<string, unknown>>,
  action: ReviewAction,
  runId: string,
): void {
  if (action.kind !== 'bonus') return;
  const limit = bonusLimitCents(options, config);
  const amount = toCents(action.amountUsd, 'bonus');
  if (amount > limit && options['allow-large-bonus'] !== true)
    throw new HitstateError(
      'HST_ERR_CLI_NOT_CONFIRMED',
      `hitstate review: a bonus of ${dollars(amount)} per agent is above run ${runId}'s bonus limit of ${dollars(limit)} (--max-bonus, the config's maxBonus, or the greater of 5 × the reward and $5.00); if it is meant, run again with --allow-large-bonus. Nothing was sent.`,
      { field: 'allow-large-bonus', runId },
    );
}

/** Prints a review's report (a table, or JSON with `--json`), then the money settlement if known. */
function printReport(
  io: CliIO,
  style: Style,
  report: ReviewReport,
  target: ReviewTarget,
  what: string,
  dryRun: boolean,
  json: boolean,
  money: MoneySettlement | null,
): void {
  const { runId, action } = report;
  if (json) io.out(`${JSON.stringify({ ...report, ...(money === null ? {} : { money }) }, null, 2)}\n`);
  else if (report.items.length === 0)
    io.out(
      `hitstate review: nothing to ${action.kind} in run ${runId} for that target${'all' in target ? ' (no submission awaits review)' : ''}.\n`,
    );
  else {
    const counts = new Map<string, number>();
    for (const i of report.items) counts.set(OUTCOME_TEXT[i.outcome], (counts.get(OUTCOME_TEXT[i.outcome]) ?? 0) + 1);
    io.out(
      `hitstate review${dryRun ? ' (dry run: nothing changed)' : ''}: ${what}, ${report.items.length} agent${report.items.length === 1 ? '' : 's'} of run ${runId}\n${itemsTable(runId, report.items, style)}  ${[...counts].map(([k, n]) => `${k} ${n}`).join(' · ')}\n`,
    );
  }
  if (!json && money !== null) io.out(`${settlementLine(money)}\n`);
}

/** How long `review` waits for the process running the run to answer, unless `--wait-seconds` says. */
const OWNER_ANSWER_MS = 120_000;

/** `--wait-seconds N` in ms. @throws HitstateError `HST_ERR_CLI_USAGE` */
function ownerWaitMs(options: OptionValues): number {
  const given = options['wait-seconds'];
  if (given === undefined) return OWNER_ANSWER_MS;
  const seconds = Number(given);
  if (!/^\d+$/.test(String(given)) || seconds < 1 || seconds > 3600)
    throw usageError(
      `hitstate review: --wait-seconds must be a whole number of seconds from 1 to 3600, got ${JSON.stringify(given)}.`,
      'wait-seconds',
    );
  return seconds * 1000;
}

/**
 * `review` of a run another process is running: the review is posted to the store, that process
 * executes it through its money outbox, and this command prints its answer (issue 16's review
 * requests). The preview and the confirmation are the same as in-process.
 */
async function reviewViaOwner(
  io: CliIO,
  storeDir: string,
  env: StoreEnvironment,
  runId: string,
  options: OptionValues,
): Promise<number> {
  const style = styleFor(io);
  const { target, action } = reviewRequest(runId, options);
  const timeoutMs = ownerWaitMs(options);
  const store = await openStore({ dir: storeDir, environment: env, readOnly: true });
  try {
    const record = store.runs.require(runId);
    checkBonusLimit(options, record.config, action, runId);
    const holder = store.openReport.heldBy;
    io.err(
      `hitstate review: run ${runId} is running in another process${holder === null ? '' : ` (pid ${holder.pid} on ${holder.hostname})`}; the review is sent to it through the store and runs there.\n`,
    );
    const ask = (dryRun: boolean): Promise<ReviewReport> =>
      reviewThroughOwner(
        store.backend,
        systemClock,
        runId,
        { target, action, ...(dryRun ? { dryRun } : {}) },
        timeoutMs,
      );
    const what = actionText(action);
    const dryRun = options['dry-run'] === true;
    const preview = await ask(true);
    if (!dryRun) {
      const host: ReviewHost = { environment: env, store, budget: (id) => budgetOf(store, id) };
      await confirmReview(io, host, runId, preview, options, what);
    }
    const report = dryRun ? preview : await ask(false);
    printReport(io, style, report, target, what, dryRun, options.json === true, null);
    const bad = report.items.filter((i) => i.outcome === 'refused' || i.outcome === 'failed').length;
    return bad > 0 ? EXIT.failure : EXIT.ok;
  } finally {
    await store.close();
  }
}

export const reviewCommand: CommandSpec = {
  name: 'review',
  summary: "Approve, reject, soft-reject or pay bonuses on a run's submitted work",
  description: [
    'Target: --unit ID (u3 or the full id), --agent ID, --worker ID, or --all (every submission awaiting review).',
    'Action: --approve, --reject --feedback TEXT, --soft-reject (paid on MTurk, recorded as low quality), or',
    '--bonus USD --reason TEXT (a bonus for work not submitted yet is queued and paid once it is). Each request',
    'goes through the money outbox with a deterministic id: running the same review twice never pays twice.',
    '--dry-run prints what would happen and changes nothing. A review that pays (or touches more than 10 agents)',
    'shows its total and the budget left after it and asks for confirmation (--yes without a terminal; on live,',
    '--yes-live=AMOUNT with AMOUNT at least the total). A bonus above the bonus limit needs --allow-large-bonus.',
    'Bonuses and approvals of rejected work beyond the run budget are refused. Exit code 1 when any item was',
    'refused or failed.',
  ].join('\n'),
  positionals: [{ name: 'run', description: 'The run id (see `hitstate status`)', required: true }],
  options: [
    { name: 'unit', type: 'string', value: 'ID', description: "Review this unit's submitted work" },
    { name: 'agent', type: 'string', value: 'ID', description: 'Review this agent (one worker on one unit)' },
    { name: 'worker', type: 'string', value: 'ID', description: 'Review every agent of this worker in the run' },
    {
      name: 'all',
      type: 'boolean',
      description: 'Review every submission awaiting review (with --bonus: every submission)',
    },
    { name: 'approve', type: 'boolean', description: 'Approve (pays the reward)' },
    { name: 'reject', type: 'boolean', description: 'Reject (needs --feedback)' },
    {
      name: 'soft-reject',
      type: 'boolean',
      description: "Pay, but record the work as rejected (Mephisto's soft reject)",
    },
    { name: 'bonus', type: 'string', value: 'USD', description: 'Pay a bonus of USD dollars (needs --reason)' },
    {
      name: 'feedback',
      type: 'string',
      value: 'TEXT',
      description: 'Feedback the worker sees (required with --reject)',
    },
    { name: 'reason', type: 'string', value: 'TEXT', description: 'Reason of a bonus, shown to the worker' },
    { name: 'dry-run', type: 'boolean', description: 'Show what would happen; change nothing' },
    YES_OPTION,
    YES_LIVE_OPTION,
    {
      name: 'max-bonus',
      type: 'string',
      value: 'USD',
      description:
        "Largest bonus per agent paid without --allow-large-bonus (default: the config's maxBonus, else the greater of 5 × the reward and 5.00)",
    },
    { name: 'allow-large-bonus', type: 'boolean', description: 'Pay a bonus above the bonus limit (--max-bonus)' },
    { name: 'json', type: 'boolean', description: 'Print the review report as JSON' },
    {
      name: 'wait-seconds',
      type: 'string',
      value: 'N',
      description:
        'While the run is live in another process: how long to wait for that process to answer (default 120; the review stays posted after)',
    },
    envOption(),
    REQUESTER_OPTION,
    STORE_OPTION,
  ],
  examples: [
    'hitstate review run-20260301-090000Z-1a2b --all --approve --dry-run',
    'hitstate review run-20260301-090000Z-1a2b --all --approve --yes',
    'hitstate review pilot-3 --unit u7 --reject --feedback "The label contradicts the sentence."',
    'hitstate review pilot-3 --worker A1B2C3D4E5F6G7 --bonus 0.25 --reason "Careful comments, thank you"',
    'hitstate review pilot-3 --unit u2 --soft-reject',
  ],
  async run(args, io) {
    const style = styleFor(io);
    const runId = args.positionals[0]!;
    const { target, action } = reviewRequest(runId, args.options);
    const storeDir = storeDirOf(args.options, io);
    const env = await locateRun(storeDir, runId, args.options);
    let store: Store;
    try {
      store = await openStoreFor(storeDir, env);
    } catch (err) {
      // The store is held by a process of an older kind (one lock for the whole store).
      if (isHitstateError(err, 'HST_ERR_STORE_LOCKED')) return reviewViaOwner(io, storeDir, env, runId, args.options);
      throw err;
    }
    // The run is live in another process (it holds the run's lease): the review goes to it
    // through the store, and runs there.
    if (!store.readOnly && (await store.backend.runHolder(runId)) !== null) {
      await store.close();
      return reviewViaOwner(io, storeDir, env, runId, args.options);
    }
    try {
      const record = store.runs.require(runId);
      const stored = store.requesters.get(record.requesterName);
      const runtime = await createRuntime({
        environment: env,
        requester: requesterFor(
          env,
          args.options,
          io,
          stored ?? { name: record.requesterName, credentialSource: { kind: 'defaultChain' } },
        ),
        store,
      });
      try {
        const dryRun = args.options['dry-run'] === true;
        const what = actionText(action);
        checkBonusLimit(args.options, record.config, action, runId);
        // Every review that moves money is shown (total, budget left) and confirmed before it is sent.
        if (!dryRun)
          await confirmReview(
            io,
            runtime,
            runId,
            await runtime.review(runId, target, action, { dryRun: true }),
            args.options,
            what,
          );
        const report = await runtime.review(runId, target, action, { dryRun });
        // Every money call this command started or replayed ends before the gateway closes.
        const money = await runtime.settleMoney(runId);
        await runtime.whenIdle();
        printReport(io, style, report, target, what, dryRun, args.options.json === true, money);
        const bad = report.items.filter((i) => i.outcome === 'refused' || i.outcome === 'failed').length;
        return bad > 0 ? EXIT.failure : EXIT.ok;
      } finally {
        await runtime.close();
      }
    } finally {
      await store.close();
    }
  },
};
