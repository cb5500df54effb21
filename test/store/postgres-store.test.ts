// The Store and the runtime on PostgreSQL (a real server, test/support/postgres.ts): openStore on a
// postgres:// URL, several writers of one environment and work that needs it alone, read-only opens, a bad record named, the password
// never shown, and a whole run (launch, simulated workers, review, export, restart and resume)
// through the runtime with the store in the database.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { VirtualClock } from '../../src/clock.js';
import { openStore, type Store } from '../../src/store/index.js';
import { resolveRuntimeOptions } from '../../src/runtime/core/options.js';
import { redactStoreLocation } from '../../src/store/location.js';
import { parseStoreUrl } from '../../src/store/postgres/open-store.js';
import { environmentKey } from '../../src/store/postgres/postgres-backend.js';
import { takeStoreAlone } from '../../src/store/postgres/store-lock.js';
import { freshSchemaUrl, withPostgresServer } from '../support/postgres.js';
import { createWorld } from '../support/sim-world.js';
import { hitstateRejection } from './helpers.js';

const SANDBOX = { kind: 'sandbox' } as const;

/** Runs `work` with the store variables set as given (undefined: unset), then puts them back. */
async function withStoreEnv<T>(
  values: { HITSTATE_DATABASE_URL?: string; HITSTATE_STORE_DIR?: string },
  work: () => Promise<T>,
): Promise<T> {
  const names = ['HITSTATE_DATABASE_URL', 'HITSTATE_STORE_DIR'] as const;
  const saved = names.map((n) => process.env[n]);
  for (const n of names) {
    if (values[n] === undefined) delete process.env[n];
    else process.env[n] = values[n];
  }
  try {
    return await work();
  } finally {
    names.forEach((n, i) => {
      if (saved[i] === undefined) delete process.env[n];
      else process.env[n] = saved[i];
    });
  }
}

const Offline = suite('postgres store without a server');

Offline('when a store URL is shown then its password is replaced by ***', () => {
  assert.is(
    redactStoreLocation('postgres://lab:s3cret@db.example:5432/hitstate?schema=x'),
    'postgres://lab:***@db.example:5432/hitstate?schema=x',
  );
  assert.is(redactStoreLocation('/home/lab/.hitstate'), '/home/lab/.hitstate');
});

Offline('when the store location is a URL of another scheme then the error names the option', async () => {
  const error = await hitstateRejection(openStore({ dir: 'mysql://u:pw@h/db', environment: SANDBOX }));
  assert.is(error.code, 'HST_ERR_CONFIG_INVALID');
  assert.is(error.details.field, 'dir');
  assert.match(error.message, /postgres:\/\/USER:PASSWORD@HOST:5432\/DATABASE/);
  assert.not.match(error.message, /pw/);
  const both = await hitstateRejection(openStore({ dir: '/tmp/x', url: 'postgres://h/db', environment: SANDBOX }));
  assert.match(both.message, /either/);
});

Offline('when HITSTATE_DATABASE_URL is no PostgreSQL URL then the error names the variable', async () => {
  await withStoreEnv({ HITSTATE_DATABASE_URL: 'postgres://' }, async () => {
    const error = await hitstateRejection(openStore({ environment: SANDBOX }));
    assert.is(error.code, 'HST_ERR_CONFIG_INVALID');
    assert.is(error.details.field, 'HITSTATE_DATABASE_URL');
    assert.match(error.message, /^HITSTATE_DATABASE_URL /);
  });
});

Offline('when the runtime is given a storeUrl then it must be a PostgreSQL URL, and only one store option', () => {
  const requester = { name: 'lab', credentials: { kind: 'profile', profile: 'lab' } } as const;
  const problems = (options: Record<string, unknown>) => {
    try {
      resolveRuntimeOptions({ environment: SANDBOX, requester, ...options });
      return '';
    } catch (err) {
      return (err as Error).message;
    }
  };
  assert.match(problems({ storeUrl: 'mysql://u:pw@h/db' }), /storeUrl must be a PostgreSQL URL/);
  assert.not.match(problems({ storeUrl: 'mysql://u:pw@h/db' }), /pw/);
  assert.match(problems({ storeUrl: 'postgres://h/db', storeDir: '/tmp/x' }), /give one of store, storeDir, storeUrl/);
  assert.is(
    resolveRuntimeOptions({ environment: SANDBOX, requester, storeUrl: 'postgres://h/db' }).storeDir,
    'postgres://h/db',
  );
});

await withPostgresServer('the PostgreSQL store tests', (server) => {
  const fresh = () => freshSchemaUrl(server);
  const Pg = suite('postgres store on a server');

  const seed = (store: Store, runId = 'pilot-1') => {
    store.requesters.put({ name: 'lab', credentialSource: { kind: 'profile', profile: 'lab' } });
    store.runs.create({ runId, requesterName: 'lab', config: { title: 'Label images' } });
    for (let i = 0; i < 3; i++) store.units.create({ unitId: `${runId}-u${i}`, runId, index: i, payAmountUsd: '0.50' });
    store.snapshots.put(`run:${runId}`, { machine: 'run', machineVersion: 1, snapshot: { value: 'running' } });
  };

  Pg('when a store is written and opened again then every record is read back, in order', async () => {
    const url = fresh();
    const clock = new VirtualClock(Date.UTC(2026, 11, 7));
    const store = await openStore({ dir: url, environment: SANDBOX, clock });
    assert.not.match(store.dir, server.password);
    assert.match(store.dir, /\*\*\*/);
    seed(store);
    const storeId = store.ensureStoreId();
    store.units.setStatus('pilot-1-u1', 'launched');
    await store.flush();
    assert.ok(store.stats().writes >= 1);
    assert.ok(store.stats().bytesWritten > 0);
    await store.close();

    const again = await openStore({ url, environment: SANDBOX, clock });
    try {
      assert.is(again.storeId, storeId);
      assert.equal(
        again.runs.list().map((r) => r.id),
        ['pilot-1'],
      );
      assert.equal(
        again.units.ofRun('pilot-1').map((u) => `${u.id}:${u.status}`),
        ['pilot-1-u0:created', 'pilot-1-u1:launched', 'pilot-1-u2:created'],
      );
      assert.equal(again.units.statusCounts('pilot-1'), { created: 2, launched: 1 });
      assert.is(again.requesters.get('lab')?.credentialSource.kind, 'profile');
      // The other environment of the same database is another store.
      const live = await openStore({ url, environment: { kind: 'live' }, clock });
      assert.equal(live.runs.list(), []);
      await live.close();
    } finally {
      await again.close();
    }
  });

  Pg(
    'when two writers have an environment open then both write, and work that needs it alone is refused until they close',
    async () => {
      const url = fresh();
      const { url: pgUrl, schema, target } = parseStoreUrl(url, 'url');
      const env = environmentKey(SANDBOX);
      const alone = () => takeStoreAlone(pgUrl, target, schema, env, 'the test store');
      // One clock: both create the requester "lab" with the same content, which merges.
      const clock = new VirtualClock(Date.UTC(2026, 11, 7, 9, 0, 0));
      const store = await openStore({ url, environment: SANDBOX, clock });
      const other = await openStore({ url, environment: SANDBOX, clock });
      try {
        seed(store);
        await store.flush();
        seed(other, 'pilot-2');
        await other.flush();
        const refused = await hitstateRejection(alone());
        assert.is(refused.code, 'HST_ERR_STORE_LOCKED');
        assert.match(refused.message, `pid ${process.pid}`);
        assert.match(refused.message, /needs the store to itself/);
        assert.not.match(refused.message, server.password);
        // Reading takes no lock, and says who writes.
        const look = await openStore({ url, environment: SANDBOX, readOnly: true });
        assert.ok(look.readOnly);
        assert.is(look.openReport.heldBy?.pid, process.pid);
        assert.equal(
          look.runs
            .list()
            .map((r) => r.id)
            .sort(),
          ['pilot-1', 'pilot-2'],
        );
        assert.is(look.units.ofRun('pilot-1').length, 3);
        assert.throws(() => look.units.setStatus('pilot-1-u0', 'launched'), /read-only/);
        await look.close();
      } finally {
        await store.close();
        await other.close();
      }
      // No writer left: the store alone is granted, and keeps writers out while it is held.
      const held = await alone();
      try {
        const kept = await hitstateRejection(openStore({ url, environment: SANDBOX }));
        assert.is(kept.code, 'HST_ERR_STORE_LOCKED');
        assert.match(kept.message, /held alone by hitstate pid \d+/);
        // Another environment is another lock.
        const live = await openStore({ url, environment: { kind: 'live' } });
        await live.close();
      } finally {
        await held.release();
      }
      const next = await openStore({ url, environment: SANDBOX });
      assert.is(next.openReport.heldBy, null);
      assert.equal(
        next.runs
          .list()
          .map((r) => r.id)
          .sort(),
        ['pilot-1', 'pilot-2'],
      );
      await next.close();
    },
  );

  Pg('when a record in the database is damaged then opening names its collection, run and key', async () => {
    const url = fresh();
    const schema = new URL(url).searchParams.get('schema')!;
    const store = await openStore({ url, environment: SANDBOX });
    seed(store);
    await store.close();
    await server.sql(
      `UPDATE ${schema}.records SET json = '{"id": 3}' WHERE collection = 'units' AND key = 'pilot-1-u2'`,
    );
    const error = await hitstateRejection(openStore({ url, environment: SANDBOX }));
    assert.is(error.code, 'HST_ERR_STORE_CORRUPT');
    assert.match(error.message, 'record units/pilot-1-u2 of run pilot-1');
    assert.match(error.message, `DELETE FROM "${schema}".records`);
    assert.not.match(error.message, server.password);
    // The failed open let go of its lock.
    await server.sql(`DELETE FROM ${schema}.records WHERE collection = 'units' AND key = 'pilot-1-u2'`);
    const fixed = await openStore({ url, environment: SANDBOX });
    assert.is(fixed.units.ofRun('pilot-1').length, 2);
    await fixed.close();
  });

  Pg('when HITSTATE_DATABASE_URL is set and no directory is given then the store is in that database', async () => {
    const url = fresh();
    await withStoreEnv({ HITSTATE_DATABASE_URL: url }, async () => {
      const store = await openStore({ environment: SANDBOX });
      seed(store);
      await store.close();
    });
    const look = await openStore({ url, environment: SANDBOX, readOnly: true });
    assert.equal(
      look.runs.list().map((r) => r.id),
      ['pilot-1'],
    );
    await look.close();
  });

  Pg('when a run is launched, worked, reviewed and exported on PostgreSQL then a restart resumes it', async () => {
    const url = fresh();
    const world = await createWorld({ seed: 7, storeDir: url });
    try {
      let runtime = world.runtime;
      assert.match(runtime.store.dir, /^postgres:/);
      const { runId } = await runtime.launchRun(world.config({ units: 3 }));
      await world.drive(() => runtime.runInfo(runId).counts.launched === 3, { label: 'launch' });
      const workers = [world.worker(), world.worker()];
      for (const [i, w] of workers.entries()) {
        await w.accept(world.hitTypeId(runId));
        const registered = await w.register();
        assert.is(registered.status, 200, JSON.stringify(registered.json));
        await w.submit({ sentiment: 'positive', comment: `worker ${i}` });
      }
      await world.drive(() => runtime.runInfo(runId).counts.completed === 2, { label: 'completed' });

      // The process restarts: everything comes back from the database.
      runtime = await world.restart();
      await runtime.resume();
      await runtime.whenIdle();
      assert.is(runtime.runInfo(runId).counts.completed, 2);
      assert.equal(runtime.store.agents.submission(workers[1]!.agentId!), {
        sentiment: 'positive',
        comment: 'worker 1',
      });

      const approved = await world.drive(runtime.review(runId, { all: true }, { kind: 'approve' }));
      assert.equal(
        approved!.items.map((i) => i.outcome),
        ['done', 'done'],
      );
      await runtime.store.flush();
      assert.is(runtime.runInfo(runId).counts.accepted, 2);

      // Another process reads it while this one writes: a read-only open of the database.
      const look = await openStore({ url, environment: runtime.store.environment, readOnly: true });
      try {
        const exported = await look.exportRun(runId);
        assert.is(exported.units.length, 3);
        assert.is(exported.units.filter((u) => u.status === 'accepted').length, 2);
        assert.ok(exported.audit.length > 0, 'the audit trail is in the database too');
      } finally {
        await look.close();
      }
      assert.is(world.account().hits.length, 3, 'a HIT per unit, none created twice across the restart');
    } finally {
      await world.close();
    }
    assert.equal(
      world.errors.map((e) => e.message),
      [],
    );
  });

  Pg.run();
});
// Queued after the server started: uvu runs what is queued by then, once.
Offline.run();
