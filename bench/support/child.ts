// Every benchmark runs in a fresh Node process, so one does not distort the next (heap, JIT,
// sockets, GC debt): the parent spawns `child-entry.ts <module> <args as JSON>`, the child calls
// the module's `measure(args)` and prints one `RESULT <json>` line on stdout. Progress goes to
// stderr, which the parent passes through.
//
// A watchdog in the parent makes the bench finish or say why. A child is stalled when for
// `stallMs` it shows no progress: no line of output, no new MTurk call on any `hitstate sim` it
// started (read from the server's /_sim/stats), and no CPU used (it waits on something that will
// not come, as a sync cycle once did). Working without output or MTurk calls is progress only up to
// `busyMs` (launching 100,000 units spends minutes in one synchronous stretch; an endless loop
// never ends). A stalled child, or one past `deadlineMs`, is asked what it is waiting on (SIGUSR2:
// it prints its active handles and its last progress line), then killed with its process group
// (the simulator it started included), and `runInChild` rejects with a {@link BenchStalled}.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where `tsconfig.bench.json` compiles the rows that measure the runtime (gitignored). */
const COMPILED_DIR = '.bench-build';
const here = fileURLToPath(new URL('.', import.meta.url));
/** The repository root, from this file under `bench/support/` or its compiled copy under {@link COMPILED_DIR}. */
export const REPO_ROOT = here.includes(`${sep}${COMPILED_DIR}${sep}`)
  ? here.slice(0, here.indexOf(`${sep}${COMPILED_DIR}${sep}`))
  : join(here, '..', '..');
const ENTRY = join(REPO_ROOT, 'bench', 'support', 'child-entry.ts');
const COMPILED_ENTRY = join(REPO_ROOT, COMPILED_DIR, 'bench', 'support', 'child-entry.js');

let compiledOnce: string | undefined;
/**
 * Compiles the rows that measure the runtime, once per bench run (incremental: seconds when
 * nothing changed): a user's process runs compiled code (the `hitstate` bin runs `dist/`), and
 * the tsx loader would add ~34 MB of resident memory and its own start-up to what is measured.
 */
function compiledEntry(): string {
  if (compiledOnce !== undefined) return compiledOnce;
  const tsc = spawnSync(
    process.execPath,
    [join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(REPO_ROOT, 'tsconfig.bench.json')],
    { cwd: REPO_ROOT, encoding: 'utf8' },
  );
  if (tsc.status !== 0)
    throw new Error(`compiling the benchmarks (tsc -p tsconfig.bench.json) failed:\n${tsc.stdout}${tsc.stderr}`);
  compiledOnce = COMPILED_ENTRY;
  return compiledOnce;
}
const RESULT = 'RESULT ';
/** A child announces each simulator it starts, so the parent can watch its calls. */
const SIM_ANNOUNCE = 'BENCH_SIM ';
/** Set in a child's environment: the parent reads {@link SIM_ANNOUNCE} lines. */
const WATCHED_ENV = 'HITSTATE_BENCH_WATCHED';
/** The first words of a child's answer to SIGUSR2. */
const WATCHDOG_ANSWER = 'waiting with ';
/** Without output or MTurk calls for this long, a child is stalled. */
export const DEFAULT_STALL_MS = 180_000;
/** Working (using CPU) without output or MTurk calls for this long is a stall too. */
export const DEFAULT_BUSY_MS = 20 * 60_000;
/** No benchmark row runs longer than this unless it says so. */
export const DEFAULT_DEADLINE_MS = 30 * 60_000;
/** The watchdog looks this often (shorter for a short stall bound). */
const PROBE_EVERY_MS = 5_000;
/** How long a stalled child gets to say what it is waiting on before it is killed. */
const REPORT_GRACE_MS = 3_000;

/** What a benchmark module exports. */
export interface BenchModule<A, R> {
  measure(args: A): Promise<R>;
}

export interface ChildOptions {
  /** Extra `node` flags, e.g. `--expose-gc`. */
  readonly nodeFlags?: readonly string[];
  /** Environment additions. */
  readonly env?: Readonly<Record<string, string>>;
  /**
   * Run the module compiled (`tsconfig.bench.json` lists which can be), as a user's process runs
   * the runtime, instead of through tsx. @defaultValue false
   */
  readonly compiled?: boolean;
  /** No progress for this long kills the child. @defaultValue {@link DEFAULT_STALL_MS} */
  readonly stallMs?: number;
  /** CPU use without output or MTurk calls counts as progress this long. @defaultValue {@link DEFAULT_BUSY_MS} */
  readonly busyMs?: number;
  /** The child is killed after this long whatever it does. @defaultValue {@link DEFAULT_DEADLINE_MS} */
  readonly deadlineMs?: number;
}

/** A benchmark child killed by the watchdog: why, and what it was doing. */
export class BenchStalled extends Error {
  constructor(
    readonly module: string,
    /** `no progress for 180 s` or `past its 30 min deadline`. */
    readonly reason: string,
    /** The child's last progress line, its MTurk calls so far, and what it said it was waiting on. */
    readonly doing: string,
  ) {
    super(`benchmark ${module} stalled: ${reason}; ${doing}`);
    this.name = 'BenchStalled';
  }
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;
/** Kills a child and everything it started (it leads its own process group). */
function killGroup(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    child.kill('SIGKILL');
  }
}
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Children lead their own process groups, so Ctrl-C on the bench does not reach them: kill them on the way out.
  process.on('exit', () => {
    for (const c of live) killGroup(c);
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.once(signal, () => {
      for (const c of live) killGroup(c);
      process.exit(130);
    });
}

/** CPU seconds (user + system) of a process, from /proc; undefined where there is none. */
function cpuSecondsOf(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return undefined;
  }
}

/** Total MTurk calls a simulator counted, or undefined when it does not answer. */
async function callsOf(url: string): Promise<number | undefined> {
  try {
    const res = await fetch(`${url}/_sim/stats`, { signal: AbortSignal.timeout(PROBE_EVERY_MS) });
    if (!res.ok) return undefined;
    const stats = (await res.json()) as { calls?: Record<string, number> };
    return Object.values(stats.calls ?? {}).reduce((a, b) => a + b, 0);
  } catch {
    return undefined;
  }
}

/**
 * Runs `bench/<module>.ts`'s `measure(args)` in a fresh process and returns its result.
 * Rejects with the child's output when it exits without a result, and with a
 * {@link BenchStalled} when the watchdog killed it.
 */
export function runInChild<A, R>(module: string, args: A, options: ChildOptions = {}): Promise<R> {
  installExitHook();
  const stallMs = options.stallMs ?? DEFAULT_STALL_MS;
  const deadlineMs = options.deadlineMs ?? DEFAULT_DEADLINE_MS;
  const busyMs = options.busyMs ?? DEFAULT_BUSY_MS;
  const probeEveryMs = Math.min(PROBE_EVERY_MS, Math.max(100, Math.min(stallMs, deadlineMs) / 4));
  const graceMs = Math.min(REPORT_GRACE_MS, stallMs);
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        ...(options.nodeFlags ?? []),
        ...(options.compiled === true ? [compiledEntry()] : ['--import', 'tsx', ENTRY]),
        module,
        JSON.stringify(args),
      ],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
        env: {
          ...process.env,
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
          [WATCHED_ENV]: '1',
          ...options.env,
        },
      },
    );
    live.add(child);
    const started = Date.now();
    let lastProgress = started;
    /** The last time the child used CPU (a tenth of a second or more since the last look). */
    let lastBusy = started;
    let cpuSeen = 0;
    let lastLine = '(nothing yet)';
    let out = '';
    let err = '';
    const sims = new Map<string, number>();
    child.stdout!.on('data', (d: Buffer) => {
      lastProgress = Date.now();
      out += d.toString();
      for (const m of out.matchAll(new RegExp(`^${SIM_ANNOUNCE}(\\S+)$`, 'gm')))
        if (!sims.has(m[1]!)) sims.set(m[1]!, -1);
    });
    child.stderr!.on('data', (d: Buffer) => {
      lastProgress = Date.now();
      const text = d.toString();
      err = (err + text).slice(-20_000);
      const lines = text.split('\n').filter((l) => l.trim() !== '');
      if (lines.length > 0) lastLine = lines.at(-1)!.trim();
      process.stderr.write(text);
    });
    let stalled: { reason: string; calls: string } | undefined;
    let probing = false;
    const probe = setInterval(async () => {
      if (stalled !== undefined || probing) return;
      probing = true;
      try {
        const totals: string[] = [];
        for (const [url, before] of sims) {
          const calls = await callsOf(url);
          if (calls === undefined) continue;
          if (calls !== before) {
            if (before >= 0) lastProgress = Date.now();
            sims.set(url, calls);
          }
          totals.push(`${calls} MTurk calls on ${url}`);
        }
        const now = Date.now();
        const cpu = cpuSecondsOf(child.pid);
        if (cpu !== undefined && cpu - cpuSeen >= 0.1) {
          cpuSeen = cpu;
          lastBusy = now;
        }
        const quiet = Math.round((now - lastProgress) / 1000);
        const reason =
          now - started > deadlineMs
            ? `past its ${deadlineMs >= 60_000 ? `${Math.round(deadlineMs / 60_000)} min` : `${deadlineMs / 1000} s`} deadline`
            : now - Math.max(lastProgress, lastBusy) > stallMs
              ? `no output, no MTurk call and no CPU used for ${Math.round((now - Math.max(lastProgress, lastBusy)) / 1000)} s`
              : now - lastProgress > busyMs
                ? `working for ${quiet} s without output or an MTurk call`
                : undefined;
        if (reason === undefined || stalled !== undefined) return;
        stalled = { reason, calls: totals.length > 0 ? totals.join(', ') : 'no simulator watched' };
        // Ask it what it waits on; kill it (and the simulator it started) whether it answers or not.
        const errBefore = err.length;
        let answered = false;
        const finish = (): void => {
          if (answered) return;
          answered = true;
          const said = err.slice(errBefore).trim();
          stalled = { ...stalled!, calls: `${stalled!.calls}${said === '' ? '' : `; it said: ${said}`}` };
          killGroup(child);
        };
        child.stderr!.on('data', () => {
          if (err.slice(errBefore).includes(WATCHDOG_ANSWER)) finish();
        });
        child.kill('SIGUSR2');
        setTimeout(finish, graceMs).unref();
      } finally {
        probing = false;
      }
    }, probeEveryMs);
    child.on('error', (e) => {
      clearInterval(probe);
      live.delete(child);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearInterval(probe);
      live.delete(child);
      // The simulator the child started shares its process group: it must not outlive the child.
      if (child.pid !== undefined)
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // The group is gone already.
        }
      if (stalled !== undefined) {
        reject(
          new BenchStalled(
            module,
            stalled.reason,
            `last progress: ${lastLine}; ${stalled.calls}; after ${Math.round((Date.now() - started) / 1000)} s`,
          ),
        );
        return;
      }
      const line = out.split('\n').find((l) => l.startsWith(RESULT));
      if (code !== 0 || line === undefined)
        reject(new Error(`benchmark ${module} ended with ${signal ?? `exit ${code}`} and no result:\n${out}${err}`));
      else resolve(JSON.parse(line.slice(RESULT.length)) as R);
    });
  });
}

/** Child side: prints the result line. */
export function emitResult(result: unknown): void {
  process.stdout.write(`${RESULT}${JSON.stringify(result)}\n`);
}

let lastProgressLine = '';
/** Child side: a progress line on stderr, indented under the parent's heading. */
export function progress(line: string): void {
  lastProgressLine = line;
  process.stderr.write(`    ${line}\n`);
}

/** Child side: tells a watching parent about a simulator this process started (see {@link runInChild}). */
export function announceSimulator(url: string): void {
  if (process.env[WATCHED_ENV] === '1') process.stdout.write(`${SIM_ANNOUNCE}${url}\n`);
}

/** Child side: on SIGUSR2 (the watchdog's question) print what keeps the process waiting. */
export function answerWatchdog(module: string): void {
  process.on('SIGUSR2', () => {
    const resources = process
      .getActiveResourcesInfo()
      .reduce<Record<string, number>>((acc, r) => Object.assign(acc, { [r]: (acc[r] ?? 0) + 1 }), {});
    process.stderr.write(
      `    [${module}] ${WATCHDOG_ANSWER}${
        Object.entries(resources)
          .map(([r, n]) => `${n} ${r}`)
          .join(', ') || 'no active handle'
      }; last progress: ${lastProgressLine || '(none)'}\n`,
    );
  });
}
