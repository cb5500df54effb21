/**
 * `hitstate budget RUN [USD]`: shows where a run's money stands against its budget (spent, held,
 * to launch, left), or records a new budget in the store.
 *
 * @module
 */
import { budgetOf, describeLedger } from '../../runtime/index.js';
import { setRunBudget } from '../../runtime/money/budget.js';
import { EXIT, type CommandSpec } from '../command.js';
import { envOption, locateRun, openStoreFor, STORE_OPTION, storeDirOf } from '../target.js';

export const budgetCommand: CommandSpec = {
  name: 'budget',
  summary: "Show a run's money against its budget, or set a new budget",
  description: [
    'Without USD: the budget, what the run spent (confirmed rewards, bonuses and fees), what it holds (reward and',
    'fee of every launched unit not paid yet, bonuses under way), what its units still to launch need, and what is',
    'left. With USD: records USD as the run budget in the store. A budget below spent + held is refused; one below',
    'what the units still to launch need halts their launching until it is raised (then `hitstate resume RUN`).',
    'Reads and writes the store only; a store another command holds is refused (stop or detach it first).',
  ].join('\n'),
  positionals: [
    { name: 'run', description: 'The run id (see `hitstate status`)', required: true },
    { name: 'usd', description: 'The new budget in dollars, fees included, e.g. 25.00', required: false },
  ],
  options: [
    envOption(),
    STORE_OPTION,
    { name: 'json', type: 'boolean', description: 'Print the ledger as JSON (amounts in cents)' },
  ],
  examples: ['hitstate budget pilot-3', 'hitstate budget pilot-3 40.00'],
  async run(args, io) {
    const [runId, amount] = args.positionals as [string, string | undefined];
    const storeDir = storeDirOf(args.options, io);
    const env = await locateRun(storeDir, runId, args.options);
    const store = await openStoreFor(storeDir, env);
    try {
      const before = budgetOf(store, runId);
      const ledger = amount === undefined ? before : await setRunBudget(store, runId, amount);
      if (args.options.json === true) {
        io.out(`${JSON.stringify(ledger, null, 2)}\n`);
        return EXIT.ok;
      }
      io.out(`run ${runId}: ${describeLedger(ledger)}\n`);
      if (amount !== undefined) {
        io.out(`  recorded in the store (it was ${describeLedger(before)})\n`);
        if (ledger.leftCents !== null && ledger.leftCents < 0)
          io.out(
            `  the units still to launch need ${
              describeLedger(ledger)
                .split(' · ')
                .find((p) => p.startsWith('to launch')) ?? ''
            }: launching halts at the budget; raise it and \`hitstate resume ${runId}\` to launch the rest, or \`hitstate stop ${runId}\`\n`,
          );
        const status = store.runs.require(runId).status;
        if (status !== 'done')
          io.out(`  a run halted by its budget launches the rest with \`hitstate resume ${runId}\`\n`);
      }
      return EXIT.ok;
    } finally {
      await store.close();
    }
  },
};
