#!/usr/bin/env node
// Runs every test file in its own Node process (tsx loader) and prints one truthful total.
//
// Why not plain `uvu`: uvu exits 0 when a before() hook throws or a suite forgets .run(), and an
// open handle in one file would hang every later file. Each file here runs alone, must report at
// least one test, must pass them all and must exit by itself; a watchdog kills a file that hangs
// (that is a hang guard, not a timing assertion).
//
// Two tiers (docs/testing.md): files named `*.slow.test.ts` (crash campaigns, browser end-to-end,
// run/resume in child processes) form the slow tier; every other `*.test.ts` is the default tier.
// The slow tier's child processes must run the compiled dist/ (HITSTATE_RUN_FROM=dist), so build
// first (`npm run test:slow` does).
//
// Usage: node test/run.mjs [--slow | --all] [substring ...]
//   no flag: the default tier; --slow: the slow tier; --all: both (slow files start first).
//   With substrings, every file whose path contains one runs, whatever its tier
//   (e.g. `node test/run.mjs simulator store`).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const flags = process.argv.slice(2).filter((a) => a.startsWith('--'));
const filters = process.argv.slice(2).filter((a) => !a.startsWith('--'));
for (const f of flags) {
  if (f !== '--slow' && f !== '--all') {
    console.log(`unknown option ${f}: use --slow (the slow tier), --all (both tiers) or none (the default tier)`);
    console.log('0 passed, 1 failed');
    process.exit(1);
  }
}
const tier = flags.includes('--all') ? 'all' : flags.includes('--slow') ? 'slow' : 'default';
/** The slow tier is marked by the file name, so a file says which tier it is in. */
const SLOW_SUFFIX = '.slow.test.ts';
const isSlow = (file) => file.endsWith(SLOW_SUFFIX);
const watchdogMs = Number(process.env.HITSTATE_TEST_WATCHDOG_S ?? 600) * 1000;
// One job more than cores: many files wait on child processes or servers part of the time.
const parallel = Math.max(1, Number(process.env.HITSTATE_TEST_JOBS ?? availableParallelism() + 1));

function findTests(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (name === 'node_modules' || name === 'fixtures') continue;
    if (statSync(path).isDirectory()) out.push(...findTests(path));
    else if (name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

// Durations of the last run, only to order the files (never to judge them).
const TIMES_FILE = join(root, 'node_modules', '.cache', 'hitstate-test-times.json');
let lastTimes = {};
try {
  lastTimes = JSON.parse(readFileSync(TIMES_FILE, 'utf8'));
} catch {
  // No earlier run: every file counts as long, in path order.
}
const expectedSeconds = (file) => lastTimes[relative(root, file)] ?? Number.POSITIVE_INFINITY;

const files = findTests(join(root, 'test'))
  .filter((f) =>
    filters.length > 0
      ? filters.some((s) => relative(root, f).includes(s))
      : tier === 'all' || (tier === 'slow') === isSlow(f),
  )
  // Longest first (slow tier, then the durations of the last run; a new file counts as long):
  // with parallel workers the long files then overlap the many short ones instead of ending last.
  .sort((a, b) => Number(isSlow(b)) - Number(isSlow(a)) || expectedSeconds(b) - expectedSeconds(a));
if (files.length === 0) {
  console.log(`no test file matches ${filters.length > 0 ? filters.join(' ') : `the ${tier} tier`}`);
  console.log('0 passed, 1 failed');
  process.exit(1);
}

// CPU seconds of each file, its child processes included: on Linux the file runs under a shell
// that, once node has exited, prints its own /proc stat, whose cutime and cstime sum every waited-for
// descendant. Wall time depends on what else runs on the machine; the CPU sum says what the tier costs.
const CPU_MARK = 'HITSTATE_TEST_CPU ';
const measureCpu = existsSync('/proc/self/stat') && existsSync('/bin/sh');
const TICKS_PER_SECOND = 100;
function cpuSecondsOf(statLine) {
  // Fields after the command name (which may hold spaces) start at ")": cutime and cstime are 16 and 17.
  const fields = statLine.slice(statLine.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[13]) + Number(fields[14])) / TICKS_PER_SECOND;
}

// Default-tier files run several to a process (test/batch-host.mjs): one tsx loader and one module
// graph instead of ~2 s of start-up CPU per file. A file that fails there, or that a batch could
// not finish, runs again alone, and only its own result counts; a file whose source says
// `test-runner: own process` always runs alone. HITSTATE_TEST_BATCH=0 runs every file alone.
const HOST = join(root, 'test', 'batch-host.mjs');
/** CPU of every process the run started (a batch host's start-up included), for the summary. */
let processCpuSeconds = 0;
const OWN_PROCESS = 'test-runner: own process';
const batching = process.env.HITSTATE_TEST_BATCH !== '0';
/** A batch holds files expected to take about this long together (wall seconds of the last run), and at most BATCH_FILES. */
const BATCH_SECONDS = 40;
const BATCH_FILES = 12;
/** How long a batch may take to exit after its last file (an open handle keeps it alive). */
const BATCH_EXIT_MS = Number(process.env.HITSTATE_TEST_BATCH_EXIT_S ?? 30) * 1000;

function testEnv(slowFile) {
  return {
    ...process.env,
    NO_COLOR: '1',
    FORCE_COLOR: '0',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    // Tests must never reach a real AWS endpoint or read the user's AWS config.
    AWS_ACCESS_KEY_ID: 'AKIDHITSTATETEST',
    AWS_SECRET_ACCESS_KEY: 'hitstate-test-secret',
    AWS_CONFIG_FILE: join(root, 'test', 'fixtures', 'aws', 'config'),
    AWS_SHARED_CREDENTIALS_FILE: join(root, 'test', 'fixtures', 'aws', 'credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
    // The slow tier checks the compiled code: its children must run dist/, never stale.
    ...(tier !== 'default' && slowFile ? { HITSTATE_RUN_FROM: 'dist' } : {}),
  };
}

/**
 * Starts `node --import tsx <script> [args]` in its own process group (so a kill takes everything
 * it started) and collects its output; `onOutput(output, kill)` may end it early with a reason.
 */
function spawnNode(script, args, env, onOutput = () => undefined) {
  return new Promise((resolve) => {
    const started = Date.now();
    const argv = [process.execPath, '--import', 'tsx', script, ...args];
    const [command, commandArgs] = measureCpu
      ? [
          '/bin/sh',
          ['-c', `"$@"; code=$?; read -r stat < /proc/$$/stat; echo "${CPU_MARK}$stat" >&2; exit $code`, 'sh', ...argv],
        ]
      : [argv[0], argv.slice(1)];
    const child = spawn(command, commandArgs, { cwd: root, detached: true, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let killed;
    const kill = (reason) => {
      if (killed !== undefined) return;
      killed = reason;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    };
    const onData = (d) => {
      output += d;
      onOutput(output, kill);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const watchdog = setTimeout(
      () => kill(`killed after ${watchdogMs / 1000} s without exiting (an open handle or a hang)`),
      watchdogMs,
    );
    child.on('close', (code, signal) => {
      clearTimeout(watchdog);
      let cpuSeconds;
      const mark = output.lastIndexOf(CPU_MARK);
      if (mark >= 0) {
        const end = output.indexOf('\n', mark);
        cpuSeconds = cpuSecondsOf(output.slice(mark + CPU_MARK.length, end < 0 ? undefined : end));
        output = output.slice(0, mark) + (end < 0 ? '' : output.slice(end + 1));
      }
      resolve({ code, signal, output, killed, seconds: (Date.now() - started) / 1000, cpuSeconds });
    });
  });
}

/** A file's result from its output (uvu's summary) and how its process ended. */
function judge(file, { output, code, signal, killed, seconds, cpuSeconds }) {
  const num = (label) => Number(output.match(new RegExp(`^\\s*${label}:\\s+(\\d+)`, 'm'))?.[1] ?? NaN);
  const total = num('Total');
  const passed = num('Passed');
  const skipped = num('Skipped') || 0;
  let failed = Number.isNaN(total) ? 1 : total - passed;
  const problems = [];
  if (killed !== undefined) problems.push(killed);
  if (Number.isNaN(total)) problems.push('printed no uvu summary (did it call .run()? did it crash?)');
  else if (total === 0) problems.push('ran no test');
  if (/Exiting early before testing is finished/.test(output)) problems.push('exited before its tests finished');
  if ((code !== 0 || signal) && failed === 0 && killed === undefined)
    problems.push(`exited with ${signal ?? `code ${code}`}`);
  if (problems.length > 0 && failed === 0) failed = 1;
  return {
    file: relative(root, file),
    passed: Number.isNaN(passed) ? 0 : passed,
    failed,
    skipped,
    problems,
    output,
    seconds,
    cpuSeconds,
  };
}

async function runFile(file) {
  const ran = await spawnNode(file, [], testEnv(isSlow(file)));
  processCpuSeconds += ran.cpuSeconds ?? 0;
  return judge(file, ran);
}

/**
 * Runs `batch` in one host process. Returns the results of the files that passed there, and the
 * files to run again alone: those that failed (isolation problems are then told apart from real
 * failures), those the host did not reach, and all of them when it did not exit by itself.
 */
async function runBatch(batch) {
  const lines = { start: '@@hitstate-file-start ', end: '@@hitstate-file-end ', hung: '@@hitstate-file-hung ' };
  const DONE = '@@hitstate-batch-done';
  let exitTimer;
  const ran = await spawnNode(HOST, batch, testEnv(false), (output, kill) => {
    if (exitTimer === undefined && output.includes(DONE))
      exitTimer = setTimeout(
        () => kill(`did not exit within ${BATCH_EXIT_MS / 1000} s of its last file`),
        BATCH_EXIT_MS,
      );
  });
  clearTimeout(exitTimer);
  processCpuSeconds += ran.cpuSeconds ?? 0;
  // A host that printed DONE but never exited is killed by the watchdog or the check above; either way
  // some file left a handle open, which only a run alone can attribute.
  const exitedCleanly = ran.output.includes(DONE) && ran.killed === undefined && ran.code === 0 && !ran.signal;
  const passedHere = [];
  const again = [];
  for (const file of batch) {
    const from = ran.output.indexOf(`${lines.start}${file}\n`);
    const endMark = `${lines.end}${file} `;
    const to = ran.output.indexOf(endMark, from);
    if (from < 0 || to < 0 || !exitedCleanly) {
      again.push(file);
      continue;
    }
    const lineEnd = ran.output.indexOf('\n', to);
    const [seconds, cpuSeconds] = ran.output
      .slice(to + endMark.length, lineEnd < 0 ? undefined : lineEnd)
      .split(' ')
      .map(Number);
    const r = judge(file, {
      output: ran.output.slice(from + lines.start.length + file.length + 1, to).trim(),
      code: 0,
      signal: null,
      killed: undefined,
      seconds,
      cpuSeconds,
    });
    if (r.failed > 0) again.push(file);
    else passedHere.push({ ...r, batch: true });
  }
  return {
    passedHere,
    again,
    note: exitedCleanly ? undefined : (ran.killed ?? `ended with ${ran.signal ?? `code ${ran.code}`}`),
  };
}

/** Files in jobs: slow-tier and own-process files alone, the rest in batches of similar expected time. */
function plan(ordered) {
  const jobs = [];
  let current = [];
  let seconds = 0;
  const flush = () => {
    if (current.length > 0) jobs.push(current.length === 1 ? { file: current[0] } : { batch: current });
    current = [];
    seconds = 0;
  };
  for (const file of ordered) {
    const alone = !batching || isSlow(file) || readFileSync(file, 'utf8').includes(OWN_PROCESS);
    if (alone) {
      jobs.push({ file });
      continue;
    }
    const expected = Math.min(expectedSeconds(file), BATCH_SECONDS);
    if (current.length > 0 && (seconds + expected > BATCH_SECONDS || current.length >= BATCH_FILES)) flush();
    current.push(file);
    seconds += expected;
  }
  flush();
  return jobs;
}

function report(r) {
  const mark = r.failed > 0 ? 'FAIL' : 'ok  ';
  console.log(
    `${mark} ${r.file}  ${r.passed} passed, ${r.failed} failed${r.skipped ? `, ${r.skipped} skipped` : ''}  (${r.seconds.toFixed(1)} s${r.cpuSeconds === undefined ? '' : `, ${r.cpuSeconds.toFixed(1)} s CPU`}${r.batch ? ', shared process' : ''})`,
  );
  if (r.note) console.log(`     ${r.note}`);
  if (r.failed > 0) {
    for (const p of r.problems) console.log(`     ${p}`);
    console.log(r.output.replace(/^/gm, '     | '));
  }
}

const runStarted = Date.now();
const loadAtStart = loadavg()[0];
const queue = plan(files);
const results = [];

async function worker() {
  while (queue.length > 0) {
    const job = queue.shift();
    if (job.file !== undefined) {
      const r = await runFile(job.file);
      if (job.note !== undefined) r.note = job.note;
      results.push(r);
      report(r);
      continue;
    }
    const { passedHere, again, note } = await runBatch(job.batch);
    for (const r of passedHere) {
      results.push(r);
      report(r);
    }
    // Run again alone, before anything else, so the run still ends with long files overlapping short ones.
    for (const file of again.reverse())
      queue.unshift({
        file,
        note: `ran again in its own process: ${note === undefined ? 'it failed in a shared one' : `its shared process ${note}`}`,
      });
  }
}
await Promise.all(Array.from({ length: Math.min(parallel, queue.length) }, worker));

try {
  mkdirSync(join(root, 'node_modules', '.cache'), { recursive: true });
  for (const r of results) lastTimes[r.file] = r.seconds;
  writeFileSync(TIMES_FILE, JSON.stringify(lastTimes, null, 1));
} catch (error) {
  console.log(`(could not record test durations in ${TIMES_FILE}: ${error.message}; the order stays by path)`);
}

// Where the time went: the slowest files, and wall against summed CPU (with the load average, since
// other work on the machine stretches wall time but hardly CPU time).
const wallSeconds = (Date.now() - runStarted) / 1000;
const sumOf = (key) => results.reduce((n, r) => n + (r[key] ?? 0), 0);
const slowest = [...results].sort((a, b) => (b.cpuSeconds ?? b.seconds) - (a.cpuSeconds ?? a.seconds)).slice(0, 8);
if (results.length > 1) {
  console.log(
    `\nslowest files: ${slowest.map((r) => `${r.file} ${(r.cpuSeconds ?? r.seconds).toFixed(1)} s`).join(', ')}`,
  );
  console.log(
    `wall ${wallSeconds.toFixed(0)} s with ${Math.min(parallel, files.length)} jobs; files summed ${sumOf('seconds').toFixed(0)} s wall${measureCpu ? `, ${sumOf('cpuSeconds').toFixed(0)} s CPU; all test processes ${processCpuSeconds.toFixed(0)} s CPU` : ''}; 1-minute load average ${loadAtStart.toFixed(2)} at the start, ${loadavg()[0].toFixed(2)} at the end`,
  );
}

const passed = results.reduce((n, r) => n + r.passed, 0);
const failed = results.reduce((n, r) => n + r.failed, 0);
console.log(`\n${results.length} test files`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
