import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { VirtualClock } from '../../src/clock.js';
import { isHitstateError } from '../../src/errors.js';
import { environmentSlug, openStore, type StoreOptions } from '../../src/store/index.js';
import { rejection, removeDir, seedRun, tempDir } from './helpers.js';

const Environment = suite('store environments');
let dir = '';
Environment.before.each(() => {
  dir = tempDir();
});
Environment.after.each(() => removeDir(dir));

Environment(
  'when environments are named then each gets a readable directory, custom endpoints by host and port',
  () => {
    assert.is(environmentSlug({ kind: 'live' }), 'live');
    assert.is(environmentSlug({ kind: 'sandbox' }), 'sandbox');
    assert.is(environmentSlug({ kind: 'custom', endpoint: 'http://127.0.0.1:8787' }), 'custom-127.0.0.1-8787');
    assert.is(
      environmentSlug({ kind: 'custom', endpoint: 'https://MTurk.Example.org/api/' }),
      'custom-https-mturk.example.org-443-api',
    );
    assert.is(environmentSlug({ kind: 'custom', endpoint: 'http://localhost' }), 'custom-localhost-80');
  },
);

Environment('when live, sandbox and a custom endpoint are opened then their data never mix', async () => {
  const clock = new VirtualClock();
  const live = await openStore({ dir, environment: { kind: 'live' }, clock });
  const sandbox = await openStore({ dir, environment: { kind: 'sandbox' }, clock });
  const custom = await openStore({ dir, environment: { kind: 'custom', endpoint: 'http://127.0.0.1:8787/' }, clock });
  seedRun(sandbox, 1);
  assert.is(live.hits.get('R1HIT0'), undefined);
  assert.is(custom.runs.get('r1'), undefined);
  await Promise.all([live.close(), sandbox.close(), custom.close()]);
  assert.ok(existsSync(join(dir, 'sandbox', 'runs', 'r1', 'hits-000.json')));
  assert.not.ok(existsSync(join(dir, 'live', 'runs')));
  const same = await openStore({ dir, environment: { kind: 'custom', endpoint: 'http://127.0.0.1:8787' }, clock });
  assert.is(same.dir, join(dir, 'custom-127.0.0.1-8787'));
  await same.close();
});

Environment('when two endpoints share a directory name then the second is refused as another environment', async () => {
  const clock = new VirtualClock();
  const a = await openStore({
    dir,
    environment: { kind: 'custom', endpoint: 'http://localhost:9000/mturk_v1' },
    clock,
  });
  a.requesters.put({ name: 'lab', credentialSource: { kind: 'defaultChain' } });
  await a.close();
  const err = await rejection(
    openStore({ dir, environment: { kind: 'custom', endpoint: 'http://localhost:9000/mturk-v1' }, clock }),
  );
  assert.is(
    environmentSlug({ kind: 'custom', endpoint: 'http://localhost:9000/mturk-v1' }),
    'custom-localhost-9000-mturk-v1',
  );
  assert.ok(isHitstateError(err, 'HST_ERR_STORE_ENVIRONMENT_MISMATCH'), String(err));
  assert.match((err as Error).message, /mturk_v1.*mturk-v1/s);
});

Environment('when no dir is given then HITSTATE_STORE_DIR is used; bad options are refused', async () => {
  process.env.HITSTATE_STORE_DIR = dir;
  try {
    const store = await openStore({ environment: { kind: 'sandbox' }, clock: new VirtualClock() });
    assert.is(store.dir, join(dir, 'sandbox'));
    await store.close();
  } finally {
    delete process.env.HITSTATE_STORE_DIR;
  }
  for (const options of [
    { environment: { kind: 'custom', endpoint: 'ftp://x' } },
    { environment: { kind: 'staging' } },
    { environment: { kind: 'sandbox' }, coalesceMs: 100, maxDelayMs: 10 },
  ]) {
    const err = await rejection(openStore({ dir, ...options } as unknown as StoreOptions));
    assert.ok(isHitstateError(err, 'HST_ERR_CONFIG_INVALID'), `${JSON.stringify(options)}: ${String(err)}`);
  }
});

Environment.run();
