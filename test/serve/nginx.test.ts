// The nginx example of examples/deploy/nginx.conf, run for real: nginx terminates TLS (a
// certificate made for the test) in front of `hitstate serve`, and the real SDK, the worker site
// and plain http go through it. Only the ports, the certificate paths and the upstream ports are
// changed from the example; every proxy directive is the example's.
//
// Needs nginx on the PATH (Debian: `apt-get install nginx-light`) and openssl; without them the
// file says it was skipped and why.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GetAccountBalanceCommand, MTurkClient } from '@aws-sdk/client-mturk';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startServe, type ServeWorld } from './helpers.js';

const EXAMPLE = fileURLToPath(new URL('../../examples/deploy/nginx.conf', import.meta.url));
const nginxBin = ['nginx', '/usr/sbin/nginx'].find((b) => spawnSync(b, ['-v']).status === 0);
const hasOpenssl = spawnSync('openssl', ['version']).status === 0;

/** A free loopback port (nginx cannot be told to pick one). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Resolves once something accepts connections on the port (nginx has started), or rejects when nginx exits. */
async function listening(port: number, child: ChildProcess, log: string): Promise<void> {
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  for (let i = 0; i < 500; i++) {
    if (exited) throw new Error(`nginx exited: ${readFileSync(log, 'utf8')}`);
    const ok = await new Promise<boolean>((resolve) => {
      const c = connect(port, '127.0.0.1');
      c.once('connect', () => {
        c.destroy();
        resolve(true);
      });
      c.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 20)); // waiting on a real process, not on time
  }
  throw new Error(`nginx did not listen on ${port}: ${readFileSync(log, 'utf8')}`);
}

interface Ctx {
  w: ServeWorld;
  dir: string;
  nginx: ChildProcess;
  https: number;
  http: number;
  cert: string;
}

const Nginx = suite<Ctx>('serve behind the example nginx config', {} as Ctx);

Nginx.before(async (ctx) => {
  ctx.w = await startServe({ lab: 25 });
  ctx.dir = mkdtempSync(join(tmpdir(), 'hitstate-nginx-'));
  const d = ctx.dir;
  // One certificate for both host names of the example.
  const gen = spawnSync('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '1',
    '-keyout',
    join(d, 'key.pem'),
    '-out',
    join(d, 'cert.pem'),
    '-subj',
    '/CN=crowd.example.org',
    '-addext',
    'subjectAltName=DNS:crowd.example.org,DNS:content.crowd.example.org',
  ]);
  if (gen.status !== 0) throw new Error(`openssl failed: ${gen.stderr}`);
  ctx.cert = readFileSync(join(d, 'cert.pem'), 'utf8');
  ctx.https = await freePort();
  ctx.http = await freePort();
  const serverPort = new URL(ctx.w.server.url).port;
  const contentPort = new URL(ctx.w.server.contentListenUrl).port;
  const site = readFileSync(EXAMPLE, 'utf8')
    .replace(/listen 80;/g, `listen 127.0.0.1:${ctx.http};`)
    .replace(/listen 443 ssl http2;/g, `listen 127.0.0.1:${ctx.https} ssl http2;`)
    .replace(/ssl_certificate\s+\S+;/g, `ssl_certificate ${join(d, 'cert.pem')};`)
    .replace(/ssl_certificate_key\s+\S+;/g, `ssl_certificate_key ${join(d, 'key.pem')};`)
    .replace(/127\.0\.0\.1:8443/g, `127.0.0.1:${serverPort}`)
    .replace(/127\.0\.0\.1:8444/g, `127.0.0.1:${contentPort}`);
  writeFileSync(join(d, 'site.conf'), site);
  const temp = (name: string) => `${name} ${join(d, name.replace(/_path$/, ''))};`;
  writeFileSync(
    join(d, 'nginx.conf'),
    `daemon off;
master_process off;
pid ${join(d, 'nginx.pid')};
error_log ${join(d, 'error.log')} warn;
events { worker_connections 64; }
http {
  access_log off;
  ${temp('client_body_temp_path')} ${temp('proxy_temp_path')} ${temp('fastcgi_temp_path')} ${temp('uwsgi_temp_path')} ${temp('scgi_temp_path')}
  include ${join(d, 'site.conf')};
}
`,
  );
  ctx.nginx = spawn(nginxBin!, ['-p', d, '-c', join(d, 'nginx.conf'), '-e', join(d, 'error.log')], {
    stdio: 'ignore',
  });
  await listening(ctx.https, ctx.nginx, join(d, 'error.log'));
});

Nginx.after(async (ctx) => {
  if (ctx.nginx && ctx.nginx.exitCode === null) {
    const gone = new Promise((r) => ctx.nginx.once('exit', r));
    ctx.nginx.kill('SIGTERM');
    await gone;
  }
  await ctx.w?.close();
  if (ctx.dir) rmSync(ctx.dir, { recursive: true, force: true });
});

/** An https agent that finds crowd.example.org on loopback and trusts the test's certificate. */
const agentFor = (ctx: Ctx) =>
  new Agent({
    ca: ctx.cert,
    lookup: ((_host: string, opts: { all?: boolean }, cb: (...a: unknown[]) => void) =>
      opts?.all ? cb(null, [{ address: '127.0.0.1', family: 4 }]) : cb(null, '127.0.0.1', 4)) as never,
  });

Nginx('the SDK through nginx over TLS: signed with the public host, accepted', async (ctx) => {
  const k = ctx.w.keys.lab!;
  const client = new MTurkClient({
    endpoint: `https://crowd.example.org:${ctx.https}`,
    region: 'us-east-1',
    credentials: { accessKeyId: k.accessKeyId, secretAccessKey: k.secretAccessKey },
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler({ httpsAgent: agentFor(ctx) }),
  });
  const balance = await client.send(new GetAccountBalanceCommand({}));
  assert.is(balance.AvailableBalance, '25.00');
  client.destroy();
  const last = ctx.w.logs.at(-1)!;
  assert.is(last.operation, 'GetAccountBalance');
  assert.is(last.status, 200);
});

/** One https GET through nginx, with the site's host name. */
function get(ctx: Ctx, path: string): Promise<{ status: number; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    import('node:https').then(({ request }) => {
      const req = request(
        { host: 'crowd.example.org', port: ctx.https, path, agent: agentFor(ctx), servername: 'crowd.example.org' },
        (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
        },
      );
      req.on('error', reject);
      req.end();
    }, reject);
  });
}

Nginx('the worker site through nginx: served as https, with its security headers', async (ctx) => {
  const page = await get(ctx, '/signin');
  assert.is(page.status, 200);
  assert.match(String(page.headers['content-security-policy']), /frame-ancestors 'none'/);
  assert.is(page.headers['x-content-type-options'], 'nosniff');
});

Nginx('plain http: nginx sends the browser to https', async (ctx) => {
  const { request } = await import('node:http');
  const res = await new Promise<{ status: number; location: unknown }>((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port: ctx.http, path: '/work', headers: { host: 'crowd.example.org' } },
      (r) => {
        r.resume();
        r.on('end', () => resolve({ status: r.statusCode ?? 0, location: r.headers.location }));
      },
    );
    req.on('error', reject);
    req.end();
  });
  assert.is(res.status, 308);
  assert.is(res.location, 'https://crowd.example.org/work');
});

if (!nginxBin || !hasOpenssl)
  console.log(
    `SKIPPED test/serve/nginx.test.ts: ${!nginxBin ? 'nginx is not installed (Debian: apt-get install nginx-light)' : 'openssl is not installed'}; the example nginx config was not run.`,
  );
else Nginx.run();
