/**
 * The demo's closing summary: units by final state and money by kind (read back from the store),
 * the simulated MTurk account's balance (which must agree with the store), MTurk calls by
 * operation (the simulator's counters), what became of the HITs, and where the store and the
 * exported data are.
 *
 * @module
 */
import { HitstateError } from '../errors.js';
import type { DisposalReport } from '../runtime/index.js';
import type { RunExport } from '../store/index.js';
import type { CrowdOutcome } from './demo-crowd.js';
import type { DemoPlan } from './demo-plan.js';
import { DEMO_ACCOUNT, type DemoWorld } from './demo-world.js';
import { describeExport } from './export-file.js';
import { dollars } from './money-summary.js';
import { moneyOfRun } from '../runtime/money/spent.js';
import { runSummaryLines } from './run-summary.js';
import type { Style } from './style.js';
import { formatTable } from './table.js';
import { describeStore } from './target.js';

/** The simulator's starting balance of every account, in cents. */
const STARTING_BALANCE_CENTS = 10_000 * 100;

/** What the summary is made from. */
export interface DemoSummaryInput {
  readonly world: DemoWorld;
  readonly runId: string;
  readonly plan: DemoPlan;
  readonly crowd: CrowdOutcome;
  readonly disposal: DisposalReport;
  readonly exportPath: string;
  readonly data: RunExport;
  readonly style: Style;
  readonly storeDir: string;
  /** Whether the store is the default `./.hitstate` (so `status` finds it without --store). */
  readonly defaultStore: boolean;
  readonly seed: number;
  readonly virtualMs: number;
  readonly wallMs: number;
}

/**
 * The summary text.
 *
 * @throws HitstateError `HST_ERR_CLI_DEMO_FAILED` when the MTurk account and the store disagree on the money spent.
 */
export function demoSummary(input: DemoSummaryInput): string {
  const { world, runId, style } = input;
  const store = world.runtime.store;
  const account = world.sim.inspect().accounts[DEMO_ACCOUNT];
  const spentOnMTurk = STARTING_BALANCE_CENTS - (account?.balanceCents ?? STARTING_BALANCE_CENTS);
  const money = moneyOfRun(store, runId);
  if (spentOnMTurk !== money.totalCents || (account?.onHoldCents ?? 0) !== 0) {
    throw new HitstateError(
      'HST_ERR_CLI_DEMO_FAILED',
      `the simulated MTurk account spent ${dollars(spentOnMTurk)} (on hold ${dollars(account?.onHoldCents ?? 0)}), the store's money outbox says ${dollars(money.totalCents)} (seed ${input.seed})`,
      { runId },
    );
  }
  const calls = Object.entries(input.world.sim.stats().calls).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const totalCalls = calls.reduce((n, [, c]) => n + c, 0);
  const minutes = Math.round(input.virtualMs / 60_000);
  const lines = [
    '',
    `${style.bold('Summary')} of run ${style.bold(runId)}: ${minutes} minutes of MTurk time in ${(input.wallMs / 1000).toFixed(1)} s`,
    ...runSummaryLines(store, runId, style, input.disposal),
    `  ${style.bold('MTurk account')}  ${dollars(STARTING_BALANCE_CENTS)} -> ${dollars(STARTING_BALANCE_CENTS - spentOnMTurk)}: ${dollars(spentOnMTurk)} spent, as the store says; nothing left on hold`,
    `  ${style.bold('Workers')}  ${input.plan.workers.length} came by: ${input.crowd.submissions.length} submitted, ${input.crowd.refusals} refused by the approval-rate qualification, the others returned or walked away`,
    `  ${style.bold('MTurk calls by operation')} (the simulator's counters; ${totalCalls} in all)`,
    formatTable(
      [{ header: 'OPERATION' }, { header: 'CALLS', align: 'right' }],
      calls.map(([op, n]) => [op, String(n)]),
      '    ',
    ).trimEnd(),
    `  ${style.bold('Store')}   ${store.dir}`,
    `  ${style.bold('Export')}  ${input.exportPath}`,
    `          ${describeExport(input.data)}`,
    '',
    'Next:',
    `  npx hitstate status ${runId}${input.defaultStore ? '' : ` --store ${describeStore(input.storeDir)}`}`,
    '      the run as the store keeps it (every unit, worker, HIT and review)',
    '  npx hitstate sim',
    '      a local MTurk to try your own task against: then `npx hitstate run task.json --env http://127.0.0.1:8787`',
    '  docs/cli.md',
    '      every command, option and exit code',
  ];
  return lines.join('\n');
}
