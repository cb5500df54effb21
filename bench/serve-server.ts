// The server side of the platform benchmark: one `hitstate serve` in its own process, as in
// production. Prints one `READY {url, startMs, rssBytes, heapBytes}` line on stdout once it
// listens (startMs: from before opening the database to listening, the server's own start-up;
// startCpuMs: the CPU time of that start),
// then serves until SIGTERM or until stdin closes (the parent died).
//
//   node --import tsx bench/serve-server.ts DB_FILE [PUBLIC_URL]
import { createServe } from '../src/simulator/serve/index.js';

const file = process.argv[2];
if (!file) throw new Error('usage: serve-server.ts DB_FILE');
const t0 = performance.now();
const cpu0 = process.cpuUsage();
const server = await createServe({ db: file, publicUrl: process.argv[3] ?? 'http://127.0.0.1', log: () => {} });
const startMs = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
// CPU time of the start (user + system): what other work on a shared machine changes least.
const startCpuMs = (cpu.user + cpu.system) / 1000;
const mem = process.memoryUsage();
process.stdout.write(
  `READY ${JSON.stringify({ url: server.url, startMs, startCpuMs, rssBytes: mem.rss, heapBytes: mem.heapUsed })}\n`,
);
let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  void server.close().then(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.stdin.on('end', stop);
process.stdin.resume();
