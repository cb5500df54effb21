import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { VirtualClock } from '../../src/clock.js';
import { isHitstateError } from '../../src/errors.js';
import { assertProfileExists, listProfiles, sharedFilePaths } from '../../src/mturk/credentials.js';
import {
  MTURK_ENDPOINTS,
  previewUrl,
  resolveEndpoint,
  resolveWorkerSite,
  type RequesterSpec,
} from '../../src/mturk/environment.js';
import { MTurkGateway } from '../../src/mturk/gateway.js';
import { GatewayRegistry } from '../../src/mturk/registry.js';
import { drive, FakeMTurk, STATIC } from './helpers.js';

const Credentials = suite('credentials');
const opened: MTurkGateway[] = [];
const registry = new GatewayRegistry();
const digest = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');
const before = Object.values(sharedFilePaths()).map(digest);

Credentials.after(() => {
  for (const g of opened) g.close();
  registry.closeAll();
});

async function balanceHeaders(spec: RequesterSpec): Promise<Record<string, string>> {
  const clock = new VirtualClock(0);
  const fake = new FakeMTurk(() => ({ json: { AvailableBalance: '10000.00' } }));
  const gw = new MTurkGateway(spec, { clock, requestHandler: fake.handler });
  opened.push(gw);
  const r = await drive(clock, [gw], gw.getAccountBalance());
  assert.is(r.status, 'ok');
  return fake.requests[0]!.headers;
}

Credentials('when the runner points at the fixture files then the profiles of both files are listed', () => {
  const names = listProfiles();
  for (const p of ['default', 'hitstate-test', 'hitstate-session', 'hitstate-nokeys']) assert.ok(names.has(p), p);
  assert.match(sharedFilePaths().credentials, /test[\\/]fixtures[\\/]aws[\\/]credentials$/);
});

Credentials('when a named profile is missing then it is refused before any call, naming the fix', () => {
  let err: unknown;
  try {
    assertProfileExists('no-such-profile');
  } catch (e) {
    err = e;
  }
  assert.ok(isHitstateError(err, 'HST_ERR_CREDENTIALS_PROFILE_NOT_FOUND'));
  assert.match((err as Error).message, /"no-such-profile"/);
  assert.match((err as Error).message, /aws configure --profile no-such-profile/);
  const fake = new FakeMTurk();
  assert.throws(
    () =>
      new MTurkGateway(
        {
          name: 'x',
          environment: 'custom',
          endpoint: 'http://127.0.0.1:9',
          credentials: { kind: 'profile', profile: 'no-such-profile' },
        },
        { requestHandler: fake.handler },
      ),
    (e: unknown) => isHitstateError(e, 'HST_ERR_CREDENTIALS_PROFILE_NOT_FOUND'),
  );
  assert.is(fake.requests.length, 0);
});

Credentials('when a profile carries a session token then requests are signed with it', async () => {
  const headers = await balanceHeaders({
    name: 's',
    environment: 'custom',
    endpoint: 'http://127.0.0.1:9',
    credentials: { kind: 'profile', profile: 'hitstate-session' },
  });
  assert.is(headers['x-amz-security-token'], 'hitstate-session-token');
  assert.match(
    headers.authorization!,
    /Credential=ASIAHITSTATESESSION\/\d{8}\/us-east-1\/mturk-requester\/aws4_request/,
  );
});

Credentials(
  'when a plain profile, the default chain or static keys are used then each signs with its own key',
  async () => {
    const profile = await balanceHeaders({
      name: 'p',
      environment: 'custom',
      endpoint: 'http://127.0.0.1:9',
      credentials: { kind: 'profile', profile: 'hitstate-test' },
    });
    assert.match(profile.authorization!, /Credential=AKIDHITSTATETEST\//);
    assert.is(profile['x-amz-security-token'], undefined);
    const chain = await balanceHeaders({
      name: 'c',
      environment: 'custom',
      endpoint: 'http://127.0.0.1:9',
      credentials: { kind: 'defaultChain' },
    });
    assert.match(chain.authorization!, /Credential=AKIDHITSTATETEST\//);
    const fixed = await balanceHeaders({
      name: 'f',
      environment: 'custom',
      endpoint: 'http://127.0.0.1:9',
      credentials: STATIC,
    });
    assert.match(fixed.authorization!, /Credential=AKIDHITSTATEUNIT\//);
  },
);

Credentials(
  'when a profile exists but has no keys then the call throws HST_ERR_CREDENTIALS_UNUSABLE naming it',
  async () => {
    const clock = new VirtualClock(0);
    const fake = new FakeMTurk();
    const gw = new MTurkGateway(
      {
        name: 'n',
        environment: 'custom',
        endpoint: 'http://127.0.0.1:9',
        credentials: { kind: 'profile', profile: 'hitstate-nokeys' },
      },
      { clock, requestHandler: fake.handler },
    );
    opened.push(gw);
    const err = await drive(clock, [gw], gw.getAccountBalance()).then(
      () => null,
      (e: unknown) => e,
    );
    assert.ok(isHitstateError(err, 'HST_ERR_CREDENTIALS_UNUSABLE'), String(err));
    assert.match((err as Error).message, /profile "hitstate-nokeys"/);
    assert.is(fake.requests.length, 0);
  },
);

Credentials(
  'when credentials are verified up front then temporary keys are recognised and unusable ones fail without any call',
  async () => {
    const fake = new FakeMTurk();
    const session = new MTurkGateway(
      {
        name: 'v1',
        environment: 'custom',
        endpoint: 'http://127.0.0.1:9',
        credentials: { kind: 'profile', profile: 'hitstate-session' },
      },
      { requestHandler: fake.handler },
    );
    const nokeys = new MTurkGateway(
      {
        name: 'v2',
        environment: 'custom',
        endpoint: 'http://127.0.0.1:9',
        credentials: { kind: 'profile', profile: 'hitstate-nokeys' },
      },
      { requestHandler: fake.handler },
    );
    opened.push(session, nokeys);
    assert.equal(await session.verifyCredentials(), { accessKeyId: 'ASIAHITSTATESESSION', temporary: true });
    const err = await nokeys.verifyCredentials().then(
      () => null,
      (e: unknown) => e,
    );
    assert.ok(isHitstateError(err, 'HST_ERR_CREDENTIALS_UNUSABLE'));
    assert.match((err as Error).message, /aws configure --profile hitstate-nokeys/);
    assert.is(fake.requests.length, 0);
  },
);

Credentials('when static keys are empty then the gateway refuses them', () => {
  assert.throws(
    () =>
      new MTurkGateway({
        name: 'e',
        environment: 'custom',
        endpoint: 'http://127.0.0.1:9',
        credentials: { kind: 'static', accessKeyId: '', secretAccessKey: 'x' },
      }),
    (e: unknown) => isHitstateError(e, 'HST_ERR_CONFIG_INVALID'),
  );
});

Credentials('when everything above ran then the shared AWS files were never written', () => {
  assert.equal(Object.values(sharedFilePaths()).map(digest), before);
});

const Environments = suite('environment');

Environments('when no endpoint is given then live and sandbox use AWS and custom is refused', () => {
  assert.is(resolveEndpoint({ name: 'a', environment: 'live', credentials: STATIC }), MTURK_ENDPOINTS.live);
  assert.is(
    resolveEndpoint({ name: 'a', environment: 'sandbox', credentials: STATIC }),
    'https://mturk-requester-sandbox.us-east-1.amazonaws.com',
  );
  assert.throws(
    () => resolveEndpoint({ name: 'a', environment: 'custom', credentials: STATIC }),
    (e: unknown) => isHitstateError(e, 'HST_ERR_CONFIG_INVALID'),
  );
  assert.throws(
    () => resolveEndpoint({ name: 'a', environment: 'custom', endpoint: 'ftp://x', credentials: STATIC }),
    (e: unknown) => isHitstateError(e, 'HST_ERR_CONFIG_INVALID'),
  );
});

Environments('when preview links are made then live, sandbox and custom differ only by worker site', () => {
  const live = resolveWorkerSite({
    name: 'a',
    environment: 'live',
    endpoint: 'http://127.0.0.1:9',
    credentials: STATIC,
  });
  const sandbox = resolveWorkerSite({
    name: 'a',
    environment: 'sandbox',
    endpoint: 'http://127.0.0.1:9',
    credentials: STATIC,
  });
  const custom = resolveWorkerSite({
    name: 'a',
    environment: 'custom',
    endpoint: 'http://127.0.0.1:9/api/',
    credentials: STATIC,
  });
  assert.is(previewUrl(live, 'T1'), 'https://www.mturk.com/mturk/preview?groupId=T1');
  assert.is(previewUrl(sandbox, 'T1'), 'https://workersandbox.mturk.com/mturk/preview?groupId=T1');
  assert.is(previewUrl(custom, 'T1'), 'http://127.0.0.1:9/mturk/preview?groupId=T1');
});

const Registry = suite('registry');

Registry('when the same requester and endpoint are asked for twice then one gateway is shared', () => {
  const spec: RequesterSpec = {
    name: 'lab',
    environment: 'sandbox',
    endpoint: 'http://127.0.0.1:9',
    credentials: STATIC,
  };
  const a = registry.get(spec);
  assert.is(registry.get({ ...spec }), a);
  assert.is.not(registry.get({ ...spec, environment: 'live' }), a);
  assert.is.not(registry.get({ ...spec, endpoint: 'http://127.0.0.1:10' }), a);
  assert.is(registry.list().length, 3);
});

Registry('when the same requester comes with other credentials or options then the registry refuses', () => {
  const spec: RequesterSpec = {
    name: 'lab2',
    environment: 'custom',
    endpoint: 'http://127.0.0.1:9',
    credentials: STATIC,
  };
  const clock = new VirtualClock(0);
  registry.get(spec, { clock, governor: { ratePerSecond: 3 } });
  assert.is(registry.get(spec, { clock, governor: { ratePerSecond: 3 } }), registry.get(spec));
  assert.throws(
    () => registry.get({ ...spec, credentials: { ...STATIC, accessKeyId: 'AKIDOTHER' } }),
    (e: unknown) => isHitstateError(e, 'HST_ERR_CONFIG_INVALID'),
  );
  assert.throws(
    () => registry.get(spec, { clock, governor: { ratePerSecond: 4 } }),
    (e: unknown) => isHitstateError(e, 'HST_ERR_CONFIG_INVALID'),
  );
  assert.throws(
    () => registry.get(spec, { clock: new VirtualClock(0), governor: { ratePerSecond: 3 } }),
    (e: unknown) => isHitstateError(e, 'HST_ERR_CONFIG_INVALID'),
  );
});

Registry('when a gateway is closed then the next request creates a fresh one', () => {
  const spec: RequesterSpec = {
    name: 'lab3',
    environment: 'custom',
    endpoint: 'http://127.0.0.1:9',
    credentials: STATIC,
  };
  const a = registry.get(spec);
  registry.close(spec);
  assert.ok(a.closed);
  const b = registry.get(spec);
  assert.is.not(b, a);
  registry.closeAll();
  assert.ok(b.closed);
  assert.is(registry.list().length, 0);
});

Credentials.run();
Environments.run();
Registry.run();
