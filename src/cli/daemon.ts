/**
 * `--detach`: a run hosted in the background. The command starts itself again as a process with
 * no terminal (its output appended to `<store>/logs/RUN.log`, its pid in `<store>/logs/RUN.pid`),
 * waits until that process hosts the run, and returns. `hitstate attach RUN` follows the log while
 * the process lives; `hitstate stop RUN` asks it to let go (SIGINT: it detaches) and then ends the
 * run in the foreground.
 *
 * @module
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HitstateError } from '../errors.js';
import { isDatabaseUrl } from '../store/location.js';
import { EXIT, type CliIO, type OptionSpec, type ParsedArgs } from './command.js';
import { packageRoot } from './package-root.js';

/** `--detach` of `run` and `resume`. */
export const DETACH_OPTION: OptionSpec = {
  name: 'detach',
  type: 'boolean',
  description:
    'Host the run in a background process (log in <store>/logs/RUN.log); `hitstate attach RUN` follows it, `hitstate stop RUN` ends it',
};

const logsOf = (storeDir: string): string => join(storeDir, 'logs');
/** Where the background process of a run writes its output. */
export const logPathOf = (storeDir: string, runId: string): string => join(logsOf(storeDir), `${runId}.log`);
const pidPathOf = (storeDir: string, runId: string): string => join(logsOf(storeDir), `${runId}.pid`);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The pid of the live background process hosting the run, if there is one. */
export function backgroundProcessOf(storeDir: string, runId: string): number | undefined {
  const file = pidPathOf(storeDir, runId);
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').trim());
  if (Number.isSafeInteger(pid) && pid > 0 && alive(pid)) return pid;
  rmSync(file, { force: true });
  return undefined;
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The command line and environment that repeat `args` without `--detach`. A database URL given
 * as `--store` goes through `HITSTATE_DATABASE_URL` instead: a command line is visible to every
 * user of the machine (`ps`), and the URL may hold a password.
 */
export function detachedCommandOf(
  command: 'run' | 'resume',
  args: ParsedArgs,
  runId: string,
  env: NodeJS.ProcessEnv,
): { argv: string[]; env: NodeJS.ProcessEnv } {
  const argv = [command, ...args.positionals];
  const childEnv: NodeJS.ProcessEnv = { ...env };
  for (const [name, value] of Object.entries(args.options)) {
    if (name === 'help' || name === 'detach' || name === 'run-id' || value === undefined || value === false) continue;
    if (name === 'store' && typeof value === 'string' && isDatabaseUrl(value.trim())) {
      childEnv.HITSTATE_DATABASE_URL = value.trim();
      // HITSTATE_STORE_DIR would fill --store again and win over the URL.
      delete childEnv.HITSTATE_STORE_DIR;
      continue;
    }
    argv.push(value === true ? `--${name}` : `--${name}=${String(value)}`);
  }
  if (command === 'run') argv.push(`--run-id=${runId}`);
  return { argv, env: childEnv };
}

/**
 * Starts `hitstate COMMAND ...` again without a terminal to host `runId`, and returns once its log
 * matches `ready` (0) or the process ended first (its log is printed, its exit code returned).
 */
export async function startDetached(
  io: CliIO,
  command: 'run' | 'resume',
  args: ParsedArgs,
  storeDir: string,
  runId: string,
  ready: RegExp,
): Promise<number> {
  const running = backgroundProcessOf(storeDir, runId);
  if (running !== undefined)
    throw new HitstateError(
      'HST_ERR_STORE_LOCKED',
      `run ${runId} is already hosted in the background by process ${running}; follow it with \`hitstate attach ${runId}\`, or end it with \`hitstate stop ${runId}\``,
      { runId },
    );
  mkdirSync(logsOf(storeDir), { recursive: true });
  const log = logPathOf(storeDir, runId);
  const start = existsSync(log) ? statSync(log).size : 0;
  const fd = openSync(log, 'a');
  const repeated = detachedCommandOf(command, args, runId, io.env);
  const child = spawn(process.execPath, [join(packageRoot(), 'src', 'cli', 'hitstate.mjs'), ...repeated.argv], {
    cwd: io.cwd,
    env: repeated.env,
    detached: true,
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  let exitCode: number | null = null;
  child.once('exit', (code, signal) => {
    exitCode = code ?? (signal === null ? 1 : 128);
  });
  if (child.pid !== undefined) writeFileSync(pidPathOf(storeDir, runId), String(child.pid));
  child.unref();
  const output = (): string => readFileSync(log, 'utf8').slice(start);
  for (const deadline = Date.now() + 120_000; Date.now() < deadline; await pause(100)) {
    if (ready.test(output())) {
      io.out(
        `${output()}\nRun ${runId} is hosted in the background by process ${child.pid}; its output goes to ${log}.\n  hitstate attach ${runId}     follow it (Ctrl-C stops following, the run goes on)\n  hitstate stop ${runId}       end it: the background process lets go, then what nobody holds expires\n  hitstate status ${runId}     see where it stands\n`,
      );
      return EXIT.ok;
    }
    if (exitCode !== null) {
      rmSync(pidPathOf(storeDir, runId), { force: true });
      io.err(output());
      return exitCode;
    }
  }
  io.err(
    `${output()}\nhitstate: the background process ${child.pid} did not start hosting run ${runId} within 2 minutes; see ${log}\n`,
  );
  return EXIT.failure;
}

/**
 * Follows the log of the background process hosting `runId` until it ends or Ctrl-C (which
 * stops following only). Returns undefined when no background process hosts the run.
 */
export async function followDetached(io: CliIO, storeDir: string, runId: string): Promise<number | undefined> {
  const pid = backgroundProcessOf(storeDir, runId);
  if (pid === undefined) return undefined;
  const log = logPathOf(storeDir, runId);
  const text = existsSync(log) ? readFileSync(log, 'utf8') : '';
  // The last lines for context, then everything new.
  io.out(`${text.split('\n').slice(-20).join('\n')}`);
  let offset = Buffer.byteLength(text);
  io.out(`\n[following run ${runId}, hosted by process ${pid}; Ctrl-C stops following, the run goes on]\n`);
  while (!io.signal.aborted) {
    await pause(250);
    const buffer = existsSync(log) ? readFileSync(log) : Buffer.alloc(0);
    if (buffer.length > offset) {
      io.out(buffer.subarray(offset).toString('utf8'));
      offset = buffer.length;
    }
    if (!alive(pid)) {
      rmSync(pidPathOf(storeDir, runId), { force: true });
      io.out(`\n[process ${pid} stopped hosting run ${runId}; \`hitstate resume ${runId}\` continues it here]\n`);
      return EXIT.ok;
    }
  }
  io.out(`\n[stopped following; run ${runId} goes on in process ${pid}]\n`);
  return EXIT.ok;
}

/** Asks the background process hosting `runId` to let go (it detaches) and waits until it did. */
export async function releaseDetached(io: CliIO, storeDir: string, runId: string): Promise<void> {
  const pid = backgroundProcessOf(storeDir, runId);
  if (pid === undefined) return;
  io.out(`asking process ${pid}, which hosts run ${runId} in the background, to let go of it\n`);
  process.kill(pid, 'SIGINT');
  for (const deadline = Date.now() + 120_000; Date.now() < deadline; await pause(100)) {
    if (!alive(pid)) {
      rmSync(pidPathOf(storeDir, runId), { force: true });
      return;
    }
  }
  throw new HitstateError(
    'HST_ERR_STORE_LOCKED',
    `process ${pid} still hosts run ${runId} after 2 minutes; stop it (kill ${pid}), then run this command again`,
    { runId },
  );
}
