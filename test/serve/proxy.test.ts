// Behind the TLS reverse proxy (examples/deploy/): X-Forwarded-For, -Proto and -Host are
// honoured only from a trusted proxy address. From the proxy: the client's address is the
// nearest untrusted one (a made-up left part is ignored), a plain-http page request is sent to
// the https site, and a request whose Host the proxy rewrote is checked against the host the
// client signed. From anyone else: all three headers are ignored.
import type { IncomingMessage } from 'node:http';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createServe } from '../../src/simulator/serve/index.js';
import { forwardedReader } from '../../src/simulator/serve/proxy.js';
import { startServe, type ServeWorld } from './helpers.js';

const BehindProxy = suite('serve behind a reverse proxy');

const fakeReq = (peer: string, headers: Record<string, string>) =>
  ({ socket: { remoteAddress: peer }, headers }) as unknown as IncomingMessage;

BehindProxy('the client address is the nearest untrusted one; headers from others are ignored', () => {
  const read = forwardedReader(['127.0.0.1', '::1']);
  const spoofed = {
    'x-forwarded-for': '6.6.6.6, 203.0.113.7',
    'x-forwarded-proto': 'https',
    'x-forwarded-host': 'crowd.example.org',
  };
  assert.equal(read(fakeReq('::ffff:127.0.0.1', spoofed)), {
    client: '203.0.113.7',
    viaProxy: true,
    proto: 'https',
    host: 'crowd.example.org',
  });
  // Two proxies of ours in a row: both skipped.
  assert.is(read(fakeReq('127.0.0.1', { 'x-forwarded-for': '198.51.100.2, ::1' })).client, '198.51.100.2');
  // Not a trusted proxy: its headers say nothing.
  assert.equal(read(fakeReq('203.0.113.9', spoofed)), {
    client: '203.0.113.9',
    viaProxy: false,
    proto: undefined,
    host: undefined,
  });
  // Garbage is not taken for an address or a host.
  const odd = read(
    fakeReq('127.0.0.1', {
      'x-forwarded-for': 'not-an-ip',
      'x-forwarded-host': 'a b/c',
      'x-forwarded-proto': 'gopher',
    }),
  );
  assert.equal(odd, { client: '127.0.0.1', viaProxy: true, proto: undefined, host: undefined });
  // No proxy trusted (trustProxy: false).
  assert.is(forwardedReader([])(fakeReq('127.0.0.1', spoofed)).client, '127.0.0.1');
});

/** A GetAccountBalance call signed for `signedHost`, sent to the server with `headers` added. */
async function signedCall(w: ServeWorld, signedHost: string, headers: Record<string, string>) {
  const k = w.keys.lab!;
  const body = '{}';
  const signer = new SignatureV4({
    service: 'mturk-requester',
    region: 'us-east-1',
    credentials: { accessKeyId: k.accessKeyId, secretAccessKey: k.secretAccessKey },
    sha256: Hash.bind(null, 'sha256'),
  });
  const signed = await signer.sign(
    new HttpRequest({
      method: 'POST',
      protocol: 'https:',
      hostname: signedHost,
      path: '/',
      headers: {
        host: signedHost,
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'MTurkRequesterServiceV20170117.GetAccountBalance',
      },
      body,
    }),
  );
  const { host: _host, ...rest } = signed.headers;
  const res = await fetch(w.server.url, { method: 'POST', headers: { ...rest, ...headers }, body });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

BehindProxy('from the trusted proxy: http pages go to https, the signed host is the forwarded one', async () => {
  const w = await startServe({ lab: 10 });
  try {
    const page = await fetch(`${w.server.url}/work?q=a`, {
      redirect: 'manual',
      headers: { 'x-forwarded-proto': 'http' },
    });
    assert.is(page.status, 308);
    assert.is(page.headers.get('location'), 'https://crowd.example.org/work?q=a');
    const form = await fetch(`${w.server.url}/signin`, { method: 'POST', headers: { 'x-forwarded-proto': 'http' } });
    assert.is(form.status, 403, 'a form over plain http is refused');
    const https = await fetch(`${w.server.url}/work`, {
      redirect: 'manual',
      headers: { 'x-forwarded-proto': 'https' },
    });
    assert.is.not(https.status, 308);
    // The proxy rewrote Host to its upstream and kept the client's in X-Forwarded-Host.
    const ok = await signedCall(w, 'crowd.example.org', { 'x-forwarded-host': 'crowd.example.org' });
    assert.is(ok.status, 200, JSON.stringify(ok.body));
    assert.ok('AvailableBalance' in ok.body);
    const wrong = await signedCall(w, 'crowd.example.org', {});
    assert.is(wrong.status, 403, 'without X-Forwarded-Host the rewritten Host fails the signature');
    assert.is(wrong.body.__type, 'InvalidSignatureException');
  } finally {
    await w.close();
  }
});

BehindProxy('from an address that is not a trusted proxy: X-Forwarded-* are ignored', async () => {
  const w = await startServe({ lab: 10 }, { trustedProxies: ['192.0.2.1'] });
  try {
    const page = await fetch(`${w.server.url}/work`, { redirect: 'manual', headers: { 'x-forwarded-proto': 'http' } });
    assert.is.not(page.status, 308);
    const forged = await signedCall(w, 'crowd.example.org', { 'x-forwarded-host': 'crowd.example.org' });
    assert.is(forged.status, 403);
    assert.is(forged.body.__type, 'InvalidSignatureException');
  } finally {
    await w.close();
  }
});

BehindProxy('trustedProxies must be IP addresses', async () => {
  try {
    await createServe({
      db: '/nonexistent/x.db',
      publicUrl: 'https://crowd.example.org',
      trustedProxies: ['proxy.local'],
    });
    assert.unreachable('refused');
  } catch (err) {
    assert.is((err as { code?: string }).code, 'HST_ERR_SERVE_OPTIONS_INVALID');
    assert.match((err as Error).message, /trustedProxies: must hold IP addresses only/);
  }
});

BehindProxy.run();
