// Helpers of the CLI tests: an in-process CliIO that captures output, child processes running
// `node src/cli/hitstate.mjs` with a bounded wait on what they print, and temporary directories.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Test } from 'uvu';
import type { CliIO } from '../../src/cli/command.js';
import { LOCAL_CREDENTIALS } from '../../src/cli/target.js';
import { MTurkGateway, orThrow } from '../../src/mturk/index.js';
import { createSimulator, type Simulator } from '../../src/simulator/index.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const BIN = join(ROOT, 'src', 'cli', 'hitstate.mjs');

/** A CliIO whose output is captured; abort `interrupt` / `force` to play Ctrl-C. */
export interface CapturedIO extends CliIO {
  readonly stdout: () => string;
  readonly stderr: () => string;
  readonly interrupt: AbortController;
  readonly force: AbortController;
  /** The questions `ask()` was asked, in order. */
  readonly asked: string[];
}

export function captureIO(
  options: {
    env?: Record<string, string | undefined>;
    cwd?: string;
    isTTY?: boolean;
    columns?: number;
    /** What the person at the terminal answers, in order; absent: there is no terminal to ask. */
    answers?: string[];
  } = {},
): CapturedIO {
  const out: string[] = [];
  const asked: string[] = [];
  const answers = options.answers === undefined ? undefined : [...options.answers];
  const err: string[] = [];
  const interrupt = new AbortController();
  const force = new AbortController();
  return {
    out: (text) => void out.push(text),
    err: (text) => void err.push(text),
    isTTY: options.isTTY ?? false,
    ...(options.columns === undefined ? {} : { columns: options.columns }),
    env: options.env ?? {},
    cwd: options.cwd ?? process.cwd(),
    signal: interrupt.signal,
    forceSignal: force.signal,
    stdout: () => out.join(''),
    stderr: () => err.join(''),
    interrupt,
    force,
    asked,
    ask: async (question) => {
      if (answers === undefined) return undefined;
      asked.push(question);
      return answers.shift() ?? '';
    },
  };
}

/** A temporary directory, removed by `remove()`. */
export function tempDir(): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), 'hitstate-'));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** The environment of a child `hitstate`: no colour, no AWS keys (so loopback endpoints use the local account). */
export function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NO_COLOR: '1',
    FORCE_COLOR: '0',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    ...extra,
  };
  delete env.AWS_ACCESS_KEY_ID;
  delete env.AWS_SECRET_ACCESS_KEY;
  delete env.AWS_PROFILE;
  return env;
}

/** A running `hitstate` child process. */
export interface CliChild {
  readonly child: ChildProcess;
  readonly stdout: () => string;
  readonly stderr: () => string;
  /** Resolves with the exit code (or the signal name). */
  readonly exited: Promise<number | string>;
  /** Resolves once stdout matches `pattern`; rejects after `timeoutMs` or if the process exits first. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
}

/** Starts `node src/cli/hitstate.mjs ...args` in `cwd`. */
export function startCli(args: readonly string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): CliChild {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: options.cwd,
    env: options.env ?? childEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const listeners = new Set<() => void>();
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    for (const l of [...listeners]) l();
  });
  child.stderr!.on('data', (d: Buffer) => void (err += d.toString()));
  const exited = new Promise<number | string>((resolve) =>
    child.on('close', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  );
  let done = false;
  void exited.then(() => {
    done = true;
    for (const l of [...listeners]) l();
  });
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitFor: (pattern, timeoutMs = 60_000) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(
          () =>
            finish(
              new Error(
                `timed out after ${timeoutMs} ms waiting for ${pattern} in the output of hitstate ${args.join(' ')}:\n${out}\n${err}`,
              ),
            ),
          timeoutMs,
        );
        const check = (): void => {
          const match = out.match(pattern);
          if (match !== null) finish(undefined, match);
          else if (done)
            finish(new Error(`hitstate ${args.join(' ')} exited before printing ${pattern}:\n${out}\n${err}`));
        };
        const finish = (error?: Error, match?: RegExpMatchArray): void => {
          clearTimeout(timer);
          listeners.delete(check);
          if (error !== undefined) reject(error);
          else resolve(match!);
        };
        listeners.add(check);
        check();
      }),
  };
}

/** Runs `hitstate ...args` to completion. */
export async function runCli(
  args: readonly string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number },
): Promise<{ code: number | string; stdout: string; stderr: string }> {
  const cli = startCli(args, options);
  const timer = setTimeout(() => cli.child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
  const code = await cli.exited;
  clearTimeout(timer);
  return { code, stdout: cli.stdout(), stderr: cli.stderr() };
}

/** Polls `condition` every 25 ms until it holds; throws naming `label` after `timeoutMs`. */
export async function until(
  condition: () => boolean | Promise<boolean>,
  label: string,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${label}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** The gateway of the `local` requester the CLI tests' stores name, on the simulator at `url`. */
export function localGateway(url: string): MTurkGateway {
  return new MTurkGateway({ name: 'local', environment: 'custom', endpoint: url, credentials: LOCAL_CREDENTIALS });
}

/** Creates the tests' "Label a sentence" HIT type at `rewardUsd` and returns its id. */
export async function labelHitType(gateway: MTurkGateway, rewardUsd: string): Promise<string> {
  const type = orThrow(
    await gateway.createHITType({
      title: 'Label',
      description: 'Label a sentence',
      rewardUsd,
      assignmentDurationSec: 300,
    }),
  );
  if ('status' in type) throw new Error(`createHITType answered ${type.status}, not a new HIT type`);
  return type.hitTypeId;
}

/** What a suite of `hitstate` child processes against a simulator in this process keeps. */
export interface SimCliContext {
  dir: ReturnType<typeof tempDir>;
  sim: Simulator;
  children: CliChild[];
}

/** The sentiment task these suites run, with its `units` and extra config fields. */
export function sentimentTask(units: readonly string[], extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    title: 'Label the sentiment of a sentence',
    description: 'Read one sentence and pick its sentiment.',
    reward: '0.40',
    assignmentDurationSec: 120,
    lifetimeSec: 3600,
    units: units.map((text) => ({ text })),
    ...extra,
  });
}

/**
 * Gives each test a temp directory holding `task.json`, a simulator (seeded) and a list of children,
 * all killed and removed after the test.
 */
export function useSimCli<C extends SimCliContext>(test: Test<C>, seed: number, task: string): void {
  test.before.each(async (ctx) => {
    ctx.dir = tempDir();
    ctx.sim = await createSimulator({ seed });
    ctx.children = [];
    writeFileSync(join(ctx.dir.path, 'task.json'), task);
  });
  test.after.each(async (ctx) => {
    for (const c of ctx.children) if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGKILL');
    await Promise.all(ctx.children.map((c) => c.exited));
    await ctx.sim.close();
    ctx.dir.remove();
  });
}
