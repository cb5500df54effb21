// `npm run bench -- --only serve`: the platform benchmark of `hitstate serve` on SQLite. The
// server runs in its own process (bench/serve-server.ts); this process is the load generator and
// signs every request as the AWS SDK does (`@smithy/signature-v4`, the SDK's signer), sending
// over keep-alive HTTP with a fixed number of requests in flight.
//
//   1. GetHIT, signed calls per second               target ≥ 1,000
//   2. ListHITs, pages of 100 per second             target ≥ 200
//   3. CreateHITWithHITType, signed calls per second (no target: the write path, one commit each)
//   4. start on 100,000 HITs / 1,000,000 assignments: start-up < 2 s, RSS < 300 MB
//
// Writes bench/results-serve.json and the figures section of docs/serve.md; exits 1 on a miss.
//
//   node --import tsx bench/serve.bench.ts [--fresh] [--seconds S] [--hits N]
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { addRequester, openDatabase } from '../src/simulator/serve/index.js';
import { serveFixture } from './serve-fixture.js';
import { writeSection } from './support/docs-file.js';
import { load1m, machineInfo } from './support/machine.js';
import { atLeast, below, type TargetRow, verdictLine } from './support/targets.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i < 0 ? undefined : process.argv[i + 1];
};
const SECONDS = Number(arg('--seconds') ?? 5);
/** `--part api` or `--part start` measures only that half (figures of the other half are kept from the last run). */
const PART = arg('--part');
const BIG_HITS = Number(arg('--hits') ?? 100_000);
const IN_FLIGHT = 8;
const say = (s: string) => process.stdout.write(`${s}\n`);

interface Started {
  child: ChildProcess;
  url: string;
  startMs: number;
  rssBytes: number;
}

function startServer(db: string): Promise<Started> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'bench', 'serve-server.ts'), db], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.startsWith('READY '));
      if (line) {
        const r = JSON.parse(line.slice(6));
        resolve({ child, url: r.url, startMs: r.startMs, rssBytes: r.rssBytes });
      }
    });
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`serve-server exited with ${code}: ${out}`)));
  });
}

function stopServer(s: Started): Promise<void> {
  return new Promise((resolve) => {
    s.child.removeAllListeners('exit');
    s.child.on('exit', () => resolve());
    s.child.kill('SIGTERM');
  });
}

/** A signed MTurk caller over keep-alive HTTP. */
function caller(url: string, accessKeyId: string, secretAccessKey: string) {
  const u = new URL(url);
  const agent = new Agent({ keepAlive: true, maxSockets: IN_FLIGHT });
  const signer = new SignatureV4({
    service: 'mturk-requester',
    region: 'us-east-1',
    credentials: { accessKeyId, secretAccessKey },
    sha256: Hash.bind(null, 'sha256'),
  });
  return async (operation: string, input: unknown): Promise<Record<string, unknown>> => {
    const body = JSON.stringify(input);
    const signed = await signer.sign(
      new HttpRequest({
        method: 'POST',
        protocol: 'http:',
        hostname: u.hostname,
        port: Number(u.port),
        path: '/',
        headers: {
          host: u.host,
          'content-type': 'application/x-amz-json-1.1',
          'x-amz-target': `MTurkRequesterServiceV20170117.${operation}`,
          'content-length': String(Buffer.byteLength(body)),
        },
        body,
      }),
    );
    return new Promise((resolve, reject) => {
      const req = request(
        { agent, host: u.hostname, port: u.port, method: 'POST', path: '/', headers: signed.headers },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString();
            if (res.statusCode !== 200) reject(new Error(`${operation}: ${res.statusCode} ${text.slice(0, 300)}`));
            else resolve(JSON.parse(text) as Record<string, unknown>);
          });
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  };
}

/**
 * CPU time (user + system) a process has used, in ms, from /proc (Linux); undefined elsewhere.
 * The server's CPU per call is the figure other work on a shared machine changes least.
 */
function cpuMs(pid: number | undefined): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // clock ticks of 10 ms
  } catch {
    return undefined;
  }
}

interface Rate {
  perSecond: number;
  /** Server CPU per call, ms (Linux). */
  serverCpuMs: number | undefined;
}

/** Calls `one` with IN_FLIGHT in flight for `seconds` after a warm-up; calls per second. */
async function rate(seconds: number, one: (i: number) => Promise<unknown>, pid?: number): Promise<Rate> {
  let i = 0;
  const warmUntil = performance.now() + 500;
  const run = async (until: number) => {
    let n = 0;
    const lane = async () => {
      while (performance.now() < until) {
        await one(i++);
        n++;
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
    return n;
  };
  await run(warmUntil);
  const c0 = cpuMs(pid);
  const t0 = performance.now();
  const n = await run(t0 + seconds * 1000);
  const perSecond = n / ((performance.now() - t0) / 1000);
  const c1 = cpuMs(pid);
  return { perSecond, serverCpuMs: c0 === undefined || c1 === undefined ? undefined : (c1 - c0) / n };
}

const QUESTION =
  '<ExternalQuestion xmlns="http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/2006-07-14/ExternalQuestion.xsd"><ExternalURL>https://tasks.example.org/label</ExternalURL><FrameHeight>600</FrameHeight></ExternalQuestion>';

async function apiRates() {
  const dir = mkdtempSync(join(tmpdir(), 'hitstate-serve-bench-'));
  const db = join(dir, 'crowd.db');
  const admin = openDatabase(db);
  const keys = addRequester(admin, 'bench', 10_000_000);
  admin.close();
  const server = await startServer(db);
  try {
    const call = caller(server.url, keys.accessKeyId, keys.secretAccessKey);
    const type = await call('CreateHITType', {
      Title: 'Label the image',
      Description: 'Pick the label that fits.',
      Reward: '0.10',
      AssignmentDurationInSeconds: 600,
    });
    const hitTypeId = type.HITTypeId as string;
    const createHit = (i: number) =>
      call('CreateHITWithHITType', {
        HITTypeId: hitTypeId,
        MaxAssignments: 3,
        LifetimeInSeconds: 86_400,
        Question: QUESTION,
        RequesterAnnotation: `unit-${i}`,
      });
    say('  3. CreateHITWithHITType');
    const pid = server.child.pid;
    const create = await rate(SECONDS, createHit, pid);
    const hitIds: string[] = [];
    for (let t: string | undefined, first = true; first || t; first = false) {
      const page = await call('ListHITs', { MaxResults: 100, ...(t ? { NextToken: t } : {}) });
      for (const h of page.HITs as { HITId: string }[]) hitIds.push(h.HITId);
      t = page.NextToken as string | undefined;
    }
    say(`  1. GetHIT over ${hitIds.length} HITs`);
    const getHit = await rate(SECONDS, (i) => call('GetHIT', { HITId: hitIds[(i * 7919) % hitIds.length] }), pid);
    say('  2. ListHITs, pages of 100');
    let token: string | undefined;
    const list = await rate(
      SECONDS,
      async () => {
        const page = await call('ListHITs', { MaxResults: 100, ...(token ? { NextToken: token } : {}) });
        token = page.NextToken as string | undefined;
      },
      pid,
    );
    return {
      getHitPerSecond: getHit.perSecond,
      listPerSecond: list.perSecond,
      createPerSecond: create.perSecond,
      serverCpuMs: { getHit: getHit.serverCpuMs, list: list.serverCpuMs, create: create.serverCpuMs },
      hits: hitIds.length,
    };
  } finally {
    await stopServer(server);
    rmSync(dir, { recursive: true, force: true });
  }
}

async function bigStart(fresh: boolean) {
  const t0 = performance.now();
  const fixture = await serveFixture(BIG_HITS, fresh, (s) => say(`  ${s}`));
  const fixtureMs = performance.now() - t0;
  // A fixture cached by an older release is brought to this schema once, here, not in the timed start.
  openDatabase(fixture.file).close();
  // The server writes to its database: it starts on a copy, so the cached one stays as built.
  const dir = mkdtempSync(join(tmpdir(), 'hitstate-serve-bench-'));
  const db = join(dir, 'crowd.db');
  copyFileSync(fixture.file, db);
  try {
    const server = await startServer(db);
    const call = caller(server.url, fixture.accessKeyId, fixture.secretAccessKey);
    // Still answering after the start: a listing and the requester's balance.
    const page = await call('ListHITs', { MaxResults: 10 });
    await stopServer(server);
    return {
      hits: fixture.hits,
      assignments: fixture.assignments,
      liveHits: fixture.liveHits,
      fixtureMs: Math.round(fixtureMs),
      startMs: Math.round(server.startMs),
      rssMB: Math.round(server.rssBytes / 1048576),
      listedAfterStart: (page.HITs as unknown[]).length,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const fmt = (x: number) => Math.round(x).toLocaleString('en-US');
const ms = (x: number | undefined) => (x === undefined ? 'n/a' : `${x.toFixed(2)} ms`);
const load = { start: load1m() };
const last = existsSync(join(root, 'bench', 'results-serve.json'))
  ? (JSON.parse(readFileSync(join(root, 'bench', 'results-serve.json'), 'utf8')) as {
      api: Awaited<ReturnType<typeof apiRates>>;
      big: Awaited<ReturnType<typeof bigStart>>;
    })
  : undefined;
if (PART !== undefined && ((PART !== 'api' && PART !== 'start') || !last))
  throw new Error('--part takes api or start, and needs bench/results-serve.json from a full run');
say('- serve: API rates (server in its own process, 8 requests in flight)');
const api = PART === 'start' ? last!.api : await apiRates();
say(`- serve: start on ${fmt(BIG_HITS)} HITs / ${fmt(BIG_HITS * 10)} assignments`);
const big = PART === 'api' ? last!.big : await bigStart(process.argv.includes('--fresh'));
const B = '6. serve';
const rows: TargetRow[] = [
  atLeast(B, 'GetHIT, signed calls/s', api.getHitPerSecond, 1000, fmt),
  atLeast(B, 'ListHITs, pages of 100/s', api.listPerSecond, 200, fmt),
  atLeast(B, 'CreateHITWithHITType, signed calls/s', api.createPerSecond, 0, fmt),
  below(B, `start, ${fmt(big.hits)} HITs / ${fmt(big.assignments)} assignments (ms)`, big.startMs, 2000, fmt),
  below(B, 'RSS after start (MB)', big.rssMB, 300, fmt),
];
const results = { machine: machineInfo(), loadAverage: { ...load, end: load1m() }, api, big, targets: rows };
say('');
for (const r of rows) say(verdictLine(r));
writeFileSync(join(root, 'bench', 'results-serve.json'), `${JSON.stringify(results, null, 2)}\n`);
const m = results.machine as unknown as Record<string, unknown>;
writeSection(
  'bench:serve',
  [
    `Measured by \`npm run bench -- --only serve\` (\`bench/serve.bench.ts\`) on ${String(m.cpu ?? '')} (${String(m.cores ?? '')} cores), Node ${process.version}, ${new Date().toISOString().slice(0, 10)}; 1-minute load average ${results.loadAverage.start} at the start (the machine is shared).`,
    '',
    '| Figure | Result | Target | |',
    '|---|---|---|---|',
    ...rows.map((r) => `| ${r.figure} | ${r.result} | ${r.target.replace('≥ 0', '—')} | ${r.pass ? 'PASS' : 'MISS'} |`),
    '',
    `Server CPU per call (user + system, the figure load from other work changes least; 1 ms ≈ 1,000 calls/s on one core): GetHIT ${ms(api.serverCpuMs?.getHit)}, ListHITs page ${ms(api.serverCpuMs?.list)}, CreateHITWithHITType ${ms(api.serverCpuMs?.create)}. The load generator needs a core of its own too (signing).`,
    '',
    `The start database: ${fmt(big.hits)} HITs (${fmt(big.liveHits)} not deleted) and ${fmt(big.assignments)} assignments; GetHIT over ${fmt(api.hits)} HITs.`,
  ].join('\n'),
  {},
  join(root, 'docs', 'serve.md'),
);
if (rows.some((r) => !r.pass)) process.exitCode = 1;
