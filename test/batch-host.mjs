// Runs several test files one after the other in one Node process, for test/run.mjs: one tsx
// loader and one module graph (the SDK, the runtime, the simulator) serve them all, where a process
// per file paid about 2 s of CPU each just to start. Started as
// `node --import tsx test/batch-host.mjs <file>...`.
//
// Each file is imported with uvu in its CLI mode (suites queue instead of starting themselves),
// then its suites run through uvu's `exec`, which prints the file's own summary. Markers on stdout
// tell the runner where each file's output starts and ends, with its wall and CPU seconds. The
// process environment is restored after each file. A file that does not finish within the
// watchdog ends the process (the runner reports it as hung and runs the rest of the batch again).
// When every file is done the host says so and must then exit by itself: a handle one of them left
// open keeps it alive, and the runner then runs each file of the batch alone to find it.
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

/** The markers the runner reads (test/run.mjs imports them; importing runs nothing). */
export const FILE_START = '@@hitstate-file-start ';
export const FILE_END = '@@hitstate-file-end ';
export const FILE_HUNG = '@@hitstate-file-hung ';
export const BATCH_DONE = '@@hitstate-batch-done';

const files = process.argv.slice(2);
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const watchdogMs = Number(process.env.HITSTATE_TEST_WATCHDOG_S ?? 600) * 1000;
  // uvu's CLI mode: `.run()` queues a suite instead of scheduling its own run.
  globalThis.UVU_DEFER = 1;
  const { exec } = await import('uvu');
  const write = (line) => process.stdout.write(`\n${line}\n`);
  const cpuSeconds = () => {
    // This process and every child it has reaped (user + system), from /proc where there is one.
    try {
      const stat = readFileSync('/proc/self/stat', 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / 100;
    } catch {
      const u = process.cpuUsage();
      return (u.user + u.system) / 1e6;
    }
  };
  for (const file of files) {
    const env = { ...process.env };
    globalThis.UVU_QUEUE = [[null]];
    globalThis.UVU_INDEX = 0;
    const started = Date.now();
    const cpu = cpuSeconds();
    write(`${FILE_START}${file}`);
    const hang = setTimeout(() => {
      write(`${FILE_HUNG}${file}`);
      process.exit(1);
    }, watchdogMs);
    try {
      await import(pathToFileURL(file).href);
      await exec();
    } catch (error) {
      // No uvu summary follows: the runner counts the file as failed and shows this.
      process.stdout.write(`the file failed to load or run: ${error?.stack ?? error}\n`);
    }
    clearTimeout(hang);
    for (const key of Object.keys(process.env)) if (!(key in env)) delete process.env[key];
    Object.assign(process.env, env);
    write(`${FILE_END}${file} ${(Date.now() - started) / 1000} ${cpuSeconds() - cpu}`);
  }
  // A failed file set exitCode; the runner reads each file's summary instead.
  process.exitCode = 0;
  write(BATCH_DONE);
}
