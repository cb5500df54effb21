// SigV4 on `hitstate serve`: the real @aws-sdk/client-mturk works with the keys `requester add`
// prints, and each refusal comes back as AWS's own error, which the SDK raises by name.
import { createHash } from 'node:crypto';
import { CreateHITCommand, GetAccountBalanceCommand } from '@aws-sdk/client-mturk';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { openDatabase } from '../../src/simulator/serve/db.js';
import { rotateKey, setDisabled } from '../../src/simulator/serve/requesters.js';
import { hitInput, rejection, startServe, type ServeWorld } from './helpers.js';

const SigV4 = suite<{ w: ServeWorld }>('serve sigv4');

SigV4.before(async (ctx) => {
  ctx.w = await startServe({ alpha: 250, beta: 0 });
});
SigV4.after(async (ctx) => {
  await ctx.w.close();
});

/** Signs a request as the SDK does, then lets the test change it before sending. */
async function signed(
  w: ServeWorld,
  body: string,
  opts: { secret?: string; date?: Date; alter?: (h: Record<string, string>) => void; sendBody?: string } = {},
) {
  const url = new URL(w.server.url);
  const k = w.keys.alpha!;
  const req = new HttpRequest({
    method: 'POST',
    protocol: 'http:',
    hostname: url.hostname,
    port: Number(url.port),
    path: '/',
    headers: {
      host: url.host,
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': 'MTurkRequesterServiceV20170117.GetAccountBalance',
    },
    body,
  });
  const signer = new SignatureV4({
    service: 'mturk-requester',
    region: 'us-east-1',
    credentials: { accessKeyId: k.accessKeyId, secretAccessKey: opts.secret ?? k.secretAccessKey },
    sha256: Hash.bind(null, 'sha256'),
  });
  const s = await signer.sign(req, opts.date ? { signingDate: opts.date } : {});
  const headers = { ...(s.headers as Record<string, string>) };
  opts.alter?.(headers);
  delete headers.host;
  const res = await fetch(`${w.server.url}/`, { method: 'POST', headers, body: opts.sendBody ?? body });
  return { status: res.status, json: (await res.json()) as Record<string, string> };
}

SigV4('the SDK with the printed keys is served, on the funded balance', async ({ w }) => {
  const out = await w.client('alpha').send(new GetAccountBalanceCommand({}));
  assert.is(out.AvailableBalance, '250.00');
  const hit = await w.client('alpha').send(new CreateHITCommand(hitInput()));
  assert.ok(hit.HIT?.HITId);
  const empty = await w.client('beta').send(new GetAccountBalanceCommand({}));
  assert.is(empty.AvailableBalance, '0.00');
});

SigV4('an unknown access key: UnrecognizedClientException (403)', async ({ w }) => {
  const client = w.client('alpha', {
    credentials: { accessKeyId: 'AKIAUNKNOWNUNKNOWN00', secretAccessKey: w.keys.alpha!.secretAccessKey },
  });
  const err = await rejection(client.send(new GetAccountBalanceCommand({})));
  assert.is(err.name, 'UnrecognizedClientException');
  assert.is((err.$metadata as { httpStatusCode: number }).httpStatusCode, 403);
});

SigV4('a wrong secret: InvalidSignatureException (403)', async ({ w }) => {
  const client = w.client('alpha', {
    credentials: {
      accessKeyId: w.keys.alpha!.accessKeyId,
      secretAccessKey: 'wrong-secret-wrong-secret-wrong-secret00',
    },
  });
  const err = await rejection(client.send(new GetAccountBalanceCommand({})));
  assert.is(err.name, 'InvalidSignatureException');
  assert.match(err.message, /signature we calculated does not match/);
});

SigV4('a clock 20 minutes behind: InvalidSignatureException naming the skew', async ({ w }) => {
  const client = w.client('alpha', { systemClockOffset: -20 * 60 * 1000 });
  const err = await rejection(client.send(new GetAccountBalanceCommand({})));
  assert.is(err.name, 'InvalidSignatureException');
  assert.match(err.message, /Signature expired: \d{8}T\d{6}Z is now earlier than/);
  const ahead = w.client('alpha', { systemClockOffset: 20 * 60 * 1000 });
  const err2 = await rejection(ahead.send(new GetAccountBalanceCommand({})));
  assert.is(err2.name, 'InvalidSignatureException');
  assert.match(err2.message, /Signature not yet current/);
});

SigV4('with retries on, the SDK corrects its clock from the reply and succeeds', async ({ w }) => {
  const client = w.client('alpha', { systemClockOffset: -20 * 60 * 1000, maxAttempts: 3 });
  const out = await client.send(new GetAccountBalanceCommand({}));
  assert.ok(out.AvailableBalance);
});

SigV4('no Authorization: MissingAuthenticationTokenException; garbled: IncompleteSignatureException', async ({ w }) => {
  const none = await fetch(`${w.server.url}/`, {
    method: 'POST',
    headers: { 'x-amz-target': 'MTurkRequesterServiceV20170117.GetAccountBalance' },
    body: '{}',
  });
  assert.is(none.status, 403);
  assert.is(((await none.json()) as { __type: string }).__type, 'MissingAuthenticationTokenException');
  for (const authorization of [
    'garbage',
    'AWS4-HMAC-SHA256 Credential=AKIAX/20260101/us-east-1/mturk-requester/aws4_request',
    'AWS4-HMAC-SHA256 Credential=AKIAX, SignedHeaders=host, Signature=00',
  ]) {
    const r = await signed(w, '{}', { alter: (h) => (h.authorization = authorization) });
    assert.is(r.status, 400, authorization);
    assert.is(r.json.__type, 'IncompleteSignatureException', authorization);
  }
  const noDate = await signed(w, '{}', { alter: (h) => delete h['x-amz-date'] });
  assert.is(noDate.json.__type, 'IncompleteSignatureException');
});

SigV4('the body is covered: a changed body or a false x-amz-content-sha256 is refused', async ({ w }) => {
  const ok = await signed(w, '{}');
  assert.is(ok.status, 200);
  const tampered = await signed(w, '{}', { sendBody: '{ }' });
  assert.is(tampered.status, 403);
  assert.is(tampered.json.__type, 'InvalidSignatureException');
  const lying = await signed(w, '{}', {
    alter: (h) => (h['x-amz-content-sha256'] = createHash('sha256').update('other').digest('hex')),
  });
  assert.is(lying.json.__type, 'InvalidSignatureException');
  const wrongService = await signed(w, '{}', {
    alter: (h) => (h.authorization = h.authorization!.replace('/mturk-requester/', '/s3/')),
  });
  assert.is(wrongService.json.__type, 'InvalidSignatureException');
});

SigV4('rotate-key: the old key stops at once, the new one works; disable refuses as unknown', async ({ w }) => {
  const db = openDatabase(w.dbFile);
  const old = w.client('beta');
  const fresh = rotateKey(db, 'beta');
  w.keys.beta = fresh;
  assert.is((await rejection(old.send(new GetAccountBalanceCommand({})))).name, 'UnrecognizedClientException');
  await w.client('beta').send(new GetAccountBalanceCommand({}));
  setDisabled(db, 'beta', true);
  assert.is(
    (await rejection(w.client('beta').send(new GetAccountBalanceCommand({})))).name,
    'UnrecognizedClientException',
  );
  setDisabled(db, 'beta', false);
  db.close();
});

SigV4('request logs: one JSON line per request, requester id and operation, no key or secret', async ({ w }) => {
  const text = JSON.stringify(w.logs);
  assert.not.ok(text.includes(w.keys.alpha!.secretAccessKey));
  assert.not.ok(text.includes(w.keys.alpha!.accessKeyId));
  const line = w.logs.find((l) => l.operation === 'CreateHIT');
  assert.ok(line);
  assert.is(line!.requester, w.keys.alpha!.requesterId);
  assert.is(line!.status, 200);
  assert.type(line!.ms, 'number');
});

SigV4.run();
