/**
 * Entry point of the `hitstate` command: picks the subcommand, parses its arguments, runs it,
 * and turns errors into a message and an exit code. Nothing here exits the process: the caller
 * (`hitstate.mjs`, or a test) decides what to do with the returned code.
 *
 * @module
 */
import { createInterface } from 'node:readline/promises';
import { isHitstateError } from '../errors.js';
import { packageVersion } from './package-root.js';
import { EXIT, formatHelp, parseCommandArgs, suggest, type CliIO, type CommandSpec } from './command.js';

/** Each subcommand lives in its own module under ./commands/ and is loaded only when used. */
const COMMANDS: Record<string, { summary: string; load: () => Promise<CommandSpec> }> = {
  demo: {
    summary: 'Watch a whole task run on a local MTurk in seconds (the first thing to try)',
    load: async () => (await import('./commands/demo.js')).demoCommand,
  },
  run: {
    summary: 'Launch a task run from a JSON config and follow it to the end',
    load: async () => (await import('./commands/run.js')).runCommand,
  },
  resume: {
    summary: 'Continue a detached or stopped run where it was',
    load: async () => (await import('./commands/resume.js')).resumeCommand,
  },
  attach: {
    summary: 'Take a run another process left into this terminal (as resume)',
    load: async () => (await import('./commands/resume.js')).attachCommand,
  },
  stop: {
    summary: 'End a run: expire what nobody holds, let held work finish',
    load: async () => (await import('./commands/expire.js')).stopCommand,
  },
  relaunch: {
    summary: 'Give units that expired without work new HITs, within the budget',
    load: async () => (await import('./commands/continue.js')).relaunchCommand,
  },
  'add-units': {
    summary: 'Add units to a running, detached or done run, within the budget',
    load: async () => (await import('./commands/continue.js')).addUnitsCommand,
  },
  budget: {
    summary: "Show a run's spent, held and left money, or set its budget",
    load: async () => (await import('./commands/budget.js')).budgetCommand,
  },
  status: {
    summary: 'Show runs and their units (reads the store only)',
    load: async () => (await import('./commands/status.js')).statusCommand,
  },
  review: {
    summary: 'Approve, reject, soft-reject or pay bonuses on submitted work',
    load: async () => (await import('./commands/review.js')).reviewCommand,
  },
  expire: {
    summary: 'The same as stop (its former name)',
    load: async () => (await import('./commands/expire.js')).expireCommand,
  },
  cleanup: {
    summary: 'Expire and dispose HITs of finished or unknown runs left on the account',
    load: async () => (await import('./commands/cleanup.js')).cleanupCommand,
  },
  export: {
    summary: 'Write everything a run holds as one JSON document',
    load: async () => (await import('./commands/export.js')).exportCommand,
  },
  worker: {
    summary: 'Block, unblock, qualify, revoke, message or look up a worker',
    load: async () => (await import('./commands/worker.js')).workerCommand,
  },
  store: {
    summary: 'Check a store file by file, or restore what a damaged one lost',
    load: async () => (await import('./commands/store.js')).storeCommand,
  },
  init: {
    summary: 'Start a task project: config, task page, an end-to-end test and a README',
    load: async () => (await import('./commands/init.js')).initCommand,
  },
  sim: {
    summary: 'Start the MTurk-compatible server',
    load: async () => (await import('./commands/sim.js')).simCommand,
  },
  serve: {
    summary: 'Run the self-hosted MTurk-compatible platform (requesters, ledger, payouts)',
    load: async () => (await import('./commands/serve.js')).serveCommand,
  },
  dashboard: {
    summary: 'Serve the live run dashboard of a store (read-only)',
    load: async () => (await import('./commands/dashboard.js')).dashboardCommand,
  },
  viz: {
    summary: 'Draw the unit, agent and taskRun state machines',
    load: async () => (await import('./commands/viz.js')).vizCommand,
  },
};

function topHelp(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length)) + 2;
  return [
    'Usage: hitstate COMMAND [options]',
    '',
    "Run crowdsourcing task runs on Amazon Mechanical Turk (or on hitstate's own MTurk-compatible server),",
    'crash-proof: nothing lost, nothing paid twice.',
    '',
    'Commands:',
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}${c.summary}`),
    '',
    'Run `hitstate COMMAND --help` for the options and examples of a command; `hitstate --version` for the version.',
    '',
  ].join('\n');
}

/** The real process's terminal, environment and signals. */
export function processIO(): CliIO {
  const first = new AbortController();
  const second = new AbortController();
  const onSignal = (): void => {
    if (first.signal.aborted) second.abort();
    else first.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // A reader that goes away (`hitstate status | head`) closes the pipe: stop writing to it, quietly.
  const open = { out: true, err: true };
  const onPipeError =
    (stream: 'out' | 'err') =>
    (err: NodeJS.ErrnoException): void => {
      if (err.code !== 'EPIPE') throw err;
      open[stream] = false;
    };
  process.stdout.on('error', onPipeError('out'));
  process.stderr.on('error', onPipeError('err'));
  return {
    out: (text) => void (open.out && process.stdout.write(text)),
    err: (text) => void (open.err && process.stderr.write(text)),
    isTTY: process.stdout.isTTY === true,
    get columns() {
      return process.stdout.isTTY === true && process.stdout.columns > 0 ? process.stdout.columns : undefined;
    },
    env: process.env,
    cwd: process.cwd(),
    signal: first.signal,
    forceSignal: second.signal,
    ask: async (question) => {
      if (process.stdin.isTTY !== true || process.stdout.isTTY !== true) return undefined;
      const rl = createInterface({ input: process.stdin, output: process.stdout });
      try {
        return (await rl.question(question)).trim();
      } finally {
        rl.close();
      }
    },
  };
}

/**
 * Runs `hitstate` with the given arguments and returns the exit code.
 *
 * @example
 * ```ts
 * const code = await main(['sim', '--port', '0']);
 * ```
 */
export async function main(argv: readonly string[], io: CliIO = processIO()): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.out(topHelp());
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  if (name === '--version' || name === '-V' || name === 'version') {
    io.out(`hitstate ${packageVersion()}\n`);
    return EXIT.ok;
  }
  const entry = COMMANDS[name];
  if (!entry) {
    const hint = suggest(name, Object.keys(COMMANDS));
    io.err(
      `hitstate: unknown command '${name}'.${hint ? ` Did you mean '${hint}'?` : ''} Run \`hitstate --help\` for the list.\n`,
    );
    return EXIT.usage;
  }
  try {
    const spec = await entry.load();
    const args = parseCommandArgs(spec, rest, io.env);
    if (args.options.help === true) {
      io.out(formatHelp(spec));
      return EXIT.ok;
    }
    return await spec.run(args, io);
  } catch (err) {
    if (isHitstateError(err)) {
      const prefix = err.message.startsWith(`hitstate ${name}`) ? '' : `hitstate ${name}: `;
      io.err(`${prefix}${err.message}\n  [${err.code}]\n`);
      if (err.code === 'HST_ERR_CLI_USAGE') return EXIT.usage;
      if (err.code === 'HST_ERR_CLI_LIVE_NOT_CONFIRMED') return EXIT.liveNotConfirmed;
      return EXIT.failure;
    }
    io.err(`hitstate ${name}: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return EXIT.failure;
  }
}
