// `npm run bench -- --only serve`: the platform benchmark of `hitstate serve` on SQLite. The
// server runs in its own process (bench/serve-server.ts); this process is the load generator and
// signs every request as the AWS SDK does (`@smithy/signature-v4`, the SDK's signer), sending
// over keep-alive HTTP with a fixed number of requests in flight.
//
//   1. GetHIT, signed calls per second               target ≥ 1,000
//   2. ListHITs, pages of 100 per second             target ≥ 200
//   3. CreateHITWithHITType, signed calls per second (no target: the write path, one commit each)
//   4. the worker site: 200 workers, each signed in once (concurrently), accepting and submitting
//      through the site as a browser does (session cookie, CSRF token, the task page, the task's
//      externalSubmit), one accept+submit pair every 0.9 s each: pairs/s ≥ 200, p95 < 100 ms;
//      then the same workers without pause (the site's capacity, no target)
//   5. start on 100,000 HITs / 1,000,000 assignments: start-up < 2 s, RSS < 300 MB
//
// Writes bench/results-serve.json and the figures section of docs/serve.md; exits 1 on a miss.
//
//   node --import tsx bench/serve.bench.ts [--fresh] [--seconds S] [--hits N] [--part api,site,start] [--workers N]
import { spawn, type ChildProcess } from 'node:child_process';
import {
  closeSync,
  copyFileSync,
  existsSync,
  fsyncSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { addRequester, openDatabase } from '../src/simulator/serve/index.js';
import { createInvites, hashPassword } from '../src/simulator/serve/worker-accounts.js';
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
const PARTS = ['api', 'site', 'start'] as const;
type Part = (typeof PARTS)[number];
/** `--part api,site` measures only those parts (the others' figures are kept from the last run). */
const PART = arg('--part')
  ?.split(',')
  .map((p) => p.trim());
const BIG_HITS = Number(arg('--hits') ?? 100_000);
const IN_FLIGHT = 8;
const say = (s: string) => process.stdout.write(`${s}\n`);

interface Started {
  child: ChildProcess;
  url: string;
  startMs: number;
  startCpuMs: number;
  rssBytes: number;
}

function startServer(db: string, publicUrl = 'http://127.0.0.1'): Promise<Started> {
  return new Promise((resolve, reject) => {
    // SERVE_CPU_PROF=DIR: the server writes a CPU profile there when it stops (node --cpu-prof).
    const prof = process.env.SERVE_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.SERVE_CPU_PROF] : [];
    const script = join(root, 'bench', 'serve-server.ts');
    const child = spawn(process.execPath, [...prof, '--import', 'tsx', script, db, publicUrl], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.startsWith('READY '));
      if (line) {
        const r = JSON.parse(line.slice(6));
        resolve({ child, url: r.url, startMs: r.startMs, startCpuMs: r.startCpuMs, rssBytes: r.rssBytes });
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

const SITE = 'https://crowd.example.org';
/** `--workers N`: fewer workers on the site, to profile a pair at low concurrency (the target is for 200). */
const SITE_WORKERS = Number(arg('--workers') ?? 200);
const PACE_MS = 900;
const PASSWORD = 'correct horse battery staple';

interface SiteReply {
  status: number;
  location: string | undefined;
  setCookie: string[];
  text: string;
}

/** One HTTP exchange of a browser with the site behind its TLS proxy (the proxy's headers included). */
function siteCall(
  agent: Agent,
  url: URL,
  address: string,
  path: string,
  init: { cookie?: string; form?: Record<string, string>; origin?: string } = {},
): Promise<SiteReply> {
  const body = init.form ? new URLSearchParams(init.form).toString() : undefined;
  const headers: Record<string, string> = {
    host: url.host,
    'x-forwarded-for': address,
    'x-forwarded-proto': 'https',
    'x-forwarded-host': new URL(SITE).host,
    ...(init.cookie ? { cookie: init.cookie } : {}),
    ...(body !== undefined
      ? {
          'content-type': 'application/x-www-form-urlencoded',
          'content-length': String(Buffer.byteLength(body)),
          origin: init.origin ?? SITE,
        }
      : {}),
  };
  return new Promise<SiteReply>((resolve, reject) => {
    const req = request(
      { agent, host: url.hostname, port: url.port, method: body === undefined ? 'GET' : 'POST', path, headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            location: res.headers.location,
            setCookie: res.headers['set-cookie'] ?? [],
            text: Buffer.concat(chunks).toString(),
          }),
        );
      },
    );
    // A kept-alive socket the server closed as idle just as it was reused: the request never
    // reached the server, so it is sent again (Node's documented pattern), as a browser does.
    req.on('error', (err: NodeJS.ErrnoException) =>
      req.reusedSocket && err.code === 'ECONNRESET' ? resolve(siteCall(agent, url, address, path, init)) : reject(err),
    );
    req.end(body);
  });
}

const percentile = (xs: number[], p: number): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
};

/**
 * Row 4: 200 workers through the worker site. Accounts are made in the database before the
 * server starts (one scrypt hash for all: the bench measures the site, not 200 hashes); each
 * worker then signs in over HTTP, all at once, from its own address (the rate limits are per
 * address and account, as behind the proxy), and keeps its session cookie and CSRF token.
 * A pair: POST /accept (the HIT group) → GET /task (the page with the task's iframe and its
 * turkSubmitTo) → POST turkSubmitTo/mturk/externalSubmit from the task's origin.
 */
async function siteRates() {
  const dir = mkdtempSync(join(tmpdir(), 'hitstate-serve-bench-'));
  const db = join(dir, 'crowd.db');
  const admin = openDatabase(db);
  const keys = addRequester(admin, 'bench', 10_000_000);
  const codes = createInvites(admin, { count: SITE_WORKERS });
  const hash = await hashPassword(PASSWORD);
  const insert = admin.prepare(
    'INSERT INTO worker_accounts (worker_id, username, password_hash, invite, created_ms) VALUES (?, ?, ?, ?, ?)',
  );
  const use = admin.prepare('UPDATE invites SET used_by = ?, used_ms = ? WHERE code = ?');
  admin.transaction(() => {
    codes.forEach((code, i) => {
      const workerId = `ABENCH${String(i).padStart(8, '0')}`;
      insert.run(workerId, `worker${i}`, hash, code, Date.now());
      use.run(workerId, Date.now(), code);
    });
  })();
  admin.close();
  const server = await startServer(db, SITE);
  const url = new URL(server.url);
  const agent = new Agent({ keepAlive: true, maxSockets: SITE_WORKERS });
  try {
    const call = caller(server.url, keys.accessKeyId, keys.secretAccessKey);
    const type = await call('CreateHITType', {
      Title: 'Label the image',
      Description: 'Pick the label that fits.',
      Reward: '0.10',
      AssignmentDurationInSeconds: 600,
    });
    const group = type.HITTypeId as string;
    // Slots for both phases at several times the target rate: 1,500 HITs of 9 assignments.
    const hits = 1_500;
    for (let i = 0; i < hits; i += 50)
      await Promise.all(
        Array.from({ length: 50 }, (_, j) =>
          call('CreateHITWithHITType', {
            HITTypeId: group,
            MaxAssignments: 9,
            LifetimeInSeconds: 86_400,
            Question: QUESTION,
            RequesterAnnotation: `site-${i + j}`,
          }),
        ),
      );

    // Sign-in: every worker at once, each from its own address.
    say(`  4. worker site: ${SITE_WORKERS} workers sign in at once`);
    const signInStarted = performance.now();
    const workers = await Promise.all(
      Array.from({ length: SITE_WORKERS }, async (_, i) => {
        const address = `10.0.${Math.floor(i / 250)}.${(i % 250) + 1}`;
        const page = await siteCall(agent, url, address, '/signin');
        const preCsrf = /name="csrf" value="([^"]+)"/.exec(page.text)?.[1] ?? '';
        const pre = page.setCookie.map((c) => c.split(';')[0]).join('; ');
        const r = await siteCall(agent, url, address, '/signin', {
          cookie: pre,
          form: { csrf: preCsrf, username: `worker${i}`, password: PASSWORD },
        });
        const cookie = r.setCookie.find((c) => c.startsWith('hs_session='))?.split(';')[0];
        if (r.status !== 303 || !cookie) throw new Error(`sign-in of worker${i}: ${r.status} ${r.text.slice(0, 300)}`);
        const work = await siteCall(agent, url, address, '/work', { cookie });
        const csrf = /name="csrf" value="([^"]+)"/.exec(work.text)?.[1];
        if (!csrf) throw new Error(`no CSRF token on /work for worker${i}: ${work.text.slice(0, 300)}`);
        return { address, cookie, csrf };
      }),
    );
    const signInMs = performance.now() - signInStarted;

    const pair = async (w: (typeof workers)[number]): Promise<number> => {
      const t0 = performance.now();
      const accepted = await siteCall(agent, url, w.address, '/accept', {
        cookie: w.cookie,
        form: { csrf: w.csrf, group },
      });
      if (accepted.status !== 303 || !accepted.location)
        throw new Error(`accept: ${accepted.status} ${accepted.text.slice(0, 300)}`);
      const task = await siteCall(agent, url, w.address, accepted.location, { cookie: w.cookie });
      const src = /<iframe title="Task" src="([^"]+)"/.exec(task.text)?.[1]?.replace(/&amp;/g, '&');
      if (task.status !== 200 || !src) throw new Error(`task page: ${task.status} ${task.text.slice(0, 300)}`);
      const frame = new URL(src);
      const submitTo = new URL(frame.searchParams.get('turkSubmitTo')!);
      // The task's own form: a cross-site post from the task's origin, without the site's cookie.
      const submitted = await siteCall(agent, url, w.address, `${submitTo.pathname}/mturk/externalSubmit`, {
        form: { assignmentId: frame.searchParams.get('assignmentId')!, label: 'cat' },
        origin: frame.origin,
      });
      if (submitted.status !== 200)
        throw new Error(`externalSubmit: ${submitted.status} ${submitted.text.slice(0, 300)}`);
      return performance.now() - t0;
    };

    // Paced: each worker one pair every 0.9 s (200 workers offer 222 pairs/s, the target with a
    // margin: a run's last pairs end just after its window), its first at a random moment.
    const paced = async (seconds: number) => {
      const latencies: number[] = [];
      const c0 = cpuMs(server.child.pid);
      const t0 = performance.now();
      await Promise.all(
        workers.map(async (w) => {
          let next = t0 + Math.random() * PACE_MS;
          while (next < t0 + seconds * 1000) {
            const wait = next - performance.now();
            if (wait > 0) await new Promise((r) => setTimeout(r, wait));
            latencies.push(await pair(w));
            next += PACE_MS;
          }
        }),
      );
      const elapsed = (performance.now() - t0) / 1000;
      const c1 = cpuMs(server.child.pid);
      return {
        pairsPerSecond: latencies.length / elapsed,
        pairs: latencies.length,
        p50Ms: percentile(latencies, 50),
        p95Ms: percentile(latencies, 95),
        serverCpuMsPerPair: c0 === undefined || c1 === undefined ? undefined : (c1 - c0) / latencies.length,
      };
    };
    say(`  4. worker site: ${SITE_WORKERS} workers, one accept+submit pair every ${PACE_MS} ms each`);
    await paced(1); // warm-up
    const pacedResult = await paced(SECONDS);
    say('  4. worker site: the same workers without pause');
    const latencies: number[] = [];
    const t0 = performance.now();
    await Promise.all(
      workers.map(async (w) => {
        while (performance.now() < t0 + SECONDS * 1000) latencies.push(await pair(w));
      }),
    );
    const unpaced = {
      pairsPerSecond: latencies.length / ((performance.now() - t0) / 1000),
      p95Ms: percentile(latencies, 95),
    };
    // The log's size after the run: checkpoints off the request path still keep it small.
    const walMB = Math.round((statSync(`${db}-wal`).size / 1048576) * 10) / 10;
    return { workers: SITE_WORKERS, signInMs: Math.round(signInMs), paced: pacedResult, unpaced, walMB };
  } finally {
    agent.destroy();
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
  // A database at rest, as a server finds it at a restart: the copy's 1.3 GB reach the disk
  // first, or the timed start waits behind their writeback (seconds on a busy disk).
  const synced = performance.now();
  const fd = openSync(db, 'r+');
  fsyncSync(fd);
  closeSync(fd);
  const syncMs = performance.now() - synced;
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
      copySyncMs: Math.round(syncMs),
      startMs: Math.round(server.startMs),
      startCpuMs: Math.round(server.startCpuMs),
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
      site?: Awaited<ReturnType<typeof siteRates>>;
      big: Awaited<ReturnType<typeof bigStart>>;
    })
  : undefined;
const parts = new Set<Part>((PART ?? PARTS) as Part[]);
if (PART !== undefined && (PART.some((p) => !(PARTS as readonly string[]).includes(p)) || !last))
  throw new Error(`--part takes a comma-separated list of ${PARTS.join(', ')}, and needs bench/results-serve.json`);
if (!parts.has('site') && !last?.site)
  throw new Error('--part without site needs a bench/results-serve.json that has the site row');
say('- serve: API rates (server in its own process, 8 requests in flight)');
const api = parts.has('api') ? await apiRates() : last!.api;
say(`- serve: the worker site, ${SITE_WORKERS} workers`);
const site = parts.has('site') ? await siteRates() : last!.site!;
say(`- serve: start on ${fmt(BIG_HITS)} HITs / ${fmt(BIG_HITS * 10)} assignments`);
const big = parts.has('start') ? await bigStart(process.argv.includes('--fresh')) : last!.big;
const B = '6. serve';
const rows: TargetRow[] = [
  atLeast(B, 'GetHIT, signed calls/s', api.getHitPerSecond, 1000, fmt),
  atLeast(B, 'ListHITs, pages of 100/s', api.listPerSecond, 200, fmt),
  atLeast(B, 'CreateHITWithHITType, signed calls/s', api.createPerSecond, 0, fmt),
  atLeast(B, `worker site, ${site.workers} workers: accept+submit pairs/s`, site.paced.pairsPerSecond, 200, fmt),
  below(B, 'worker site: accept+submit pair p95 (ms)', site.paced.p95Ms, 100, fmt),
  below(B, `start, ${fmt(big.hits)} HITs / ${fmt(big.assignments)} assignments (ms)`, big.startMs, 2000, fmt),
  below(B, 'RSS after start (MB)', big.rssMB, 300, fmt),
];
const results = { machine: machineInfo(), loadAverage: { ...load, end: load1m() }, api, site, big, targets: rows };
say('');
for (const r of rows) say(verdictLine(r));
writeFileSync(join(root, 'bench', 'results-serve.json'), `${JSON.stringify(results, null, 2)}\n`);
const m = results.machine as unknown as Record<string, unknown>;
const measured = `Measured by \`npm run bench -- --only serve\` (\`bench/serve.bench.ts\`) on ${String(m.cpu ?? '')} (${String(m.cores ?? '')} cores), Node ${process.version}, ${new Date().toISOString().slice(0, 10)}; 1-minute load average ${results.loadAverage.start} at the start, ${results.loadAverage.end} at the end (the machine is shared).`;
const table = [
  '| Figure | Result | Target | |',
  '|---|---|---|---|',
  ...rows.map((r) => `| ${r.figure} | ${r.result} | ${r.target.replace('≥ 0', '—')} | ${r.pass ? 'PASS' : 'MISS'} |`),
];
// The platform's rows in docs/benchmarks.md too, with the other benchmarks; the details in docs/serve.md.
writeSection(
  'bench:serve',
  [
    '## Platform (`hitstate serve`)',
    '',
    `${measured} Figures are in \`bench/results-serve.json\`; this section and the figures of [serve.md](serve.md#performance) are rewritten by the platform benchmark.`,
    '',
    ...table,
  ].join('\n'),
  { before: '## Notes on the figures' },
);
writeSection(
  'bench:serve',
  [
    measured,
    '',
    ...table,
    '',
    `Server CPU per call (user + system, the figure load from other work changes least; 1 ms ≈ 1,000 calls/s on one core): GetHIT ${ms(api.serverCpuMs?.getHit)}, ListHITs page ${ms(api.serverCpuMs?.list)}, CreateHITWithHITType ${ms(api.serverCpuMs?.create)}. The load generator needs a core of its own too (signing).`,
    '',
    `Worker site: ${site.workers} workers signed in at once (${fmt(site.signInMs)} ms for all, a scrypt check each), then each accepted and submitted one HIT every ${PACE_MS} ms through the site (POST /accept with the session and CSRF token, the task page, the task's externalSubmit): ${fmt(site.paced.pairs)} pairs, median ${fmt(site.paced.p50Ms)} ms, server CPU ${ms(site.paced.serverCpuMsPerPair)} per pair. Without pause, the same workers made ${fmt(site.unpaced.pairsPerSecond)} pairs/s (p95 ${fmt(site.unpaced.p95Ms)} ms: ${site.workers} workers queue behind each other). The write-ahead log was ${site.walMB ?? 'n/a'} MB after the site's run (checkpoints on their own thread keep it short).`,
    '',
    `The start database: ${fmt(big.hits)} HITs (${fmt(big.liveHits)} not deleted) and ${fmt(big.assignments)} assignments; the start took ${fmt(big.startCpuMs ?? Number.NaN)} ms of CPU (of the process: the checkpoint thread's start included), on a copy of the database synced to disk before the server started (${big.copySyncMs === undefined ? 'n/a' : `${fmt(big.copySyncMs)} ms`}, not counted). GetHIT over ${fmt(api.hits)} HITs.`,
  ].join('\n'),
  {},
  join(root, 'docs', 'serve.md'),
);
if (rows.some((r) => !r.pass)) process.exitCode = 1;
