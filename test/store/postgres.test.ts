// What only the PostgreSQL backend has, on a real server (test/support/postgres.ts): errors that
// name the fix, schema migrations, one transaction per commit, a server restart under an open
// backend. The contract itself is tested in contract/postgres.test.ts.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import pg from 'pg';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { VirtualClock } from '../../src/clock.js';
import { HitstateError } from '../../src/errors.js';
import { openPostgresBackend, SCHEMA_VERSION } from '../../src/store/postgres/index.js';
import { withPostgresServer } from '../support/postgres.js';
import { hitstateRejection } from './helpers.js';

const SANDBOX = { kind: 'sandbox' } as const;
const freshSchema = () => `t_${randomBytes(6).toString('hex')}`;

function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

// These need no server.
const Offline = suite('postgres backend without a server');

Offline('when the URL is not a PostgreSQL URL then the error names the store field and the form', async () => {
  for (const url of ['mysql://u@h/db', 'not a url', 'postgres://']) {
    const error = await hitstateRejection(openPostgresBackend({ url, environment: SANDBOX }));
    assert.is(error.code, 'HST_ERR_CONFIG_INVALID', url);
    assert.is(error.details.field, 'store');
    assert.match(error.message, /postgres:\/\/USER:PASSWORD@HOST:5432\/DATABASE/);
  }
  const badSchema = await hitstateRejection(
    openPostgresBackend({ url: 'postgres://u@127.0.0.1/db', environment: SANDBOX, schema: 'Drop Table' }),
  );
  assert.is(badSchema.details.field, 'schema');
});

Offline('when nothing listens at the URL then the error says to start the server, without the password', async () => {
  const port = await closedPort();
  const error = await hitstateRejection(
    openPostgresBackend({ url: `postgres://u:s3cret-pw@127.0.0.1:${port}/db`, environment: SANDBOX }),
  );
  assert.is(error.code, 'HST_ERR_STORE_PG_UNREACHABLE');
  assert.match(error.message, `127.0.0.1:${port}`);
  assert.match(error.message, /ECONNREFUSED/);
  assert.match(error.message, /Start the server/);
  assert.not.match(error.message, /s3cret-pw/);
  assert.match(error.message, /\*\*\*/);
});

await withPostgresServer('the PostgreSQL backend tests', (server) => {
  const Pg = suite('postgres backend on a server');

  Pg('when the password is wrong then the login refusal names the user and what to check', async () => {
    const url = server.url.replace(encodeURIComponent(server.password), 'wrong-password');
    const error = await hitstateRejection(openPostgresBackend({ url, environment: SANDBOX }));
    assert.is(error.code, 'HST_ERR_STORE_PG_AUTH_FAILED');
    assert.match(error.message, `user "${server.user}"`);
    assert.match(error.message, /password/);
    assert.not.match(error.message, /wrong-password/);
  });

  Pg('when the database does not exist then the error gives the createdb line', async () => {
    const error = await hitstateRejection(
      openPostgresBackend({ url: server.urlFor('no_such_db'), environment: SANDBOX }),
    );
    assert.is(error.code, 'HST_ERR_STORE_PG_DATABASE_MISSING');
    assert.match(error.message, /database "no_such_db" does not exist/);
    assert.match(error.message, `createdb -h 127.0.0.1 -p ${server.port} -U ${server.user} no_such_db`);
  });

  Pg('when the database is not UTF8 then opening refuses it and says how to create one', async () => {
    await server.sql("CREATE DATABASE latin ENCODING 'LATIN1' TEMPLATE template0 LC_COLLATE 'C' LC_CTYPE 'C'");
    const error = await hitstateRejection(openPostgresBackend({ url: server.urlFor('latin'), environment: SANDBOX }));
    assert.is(error.code, 'HST_ERR_STORE_PG_FAILED');
    assert.match(error.message, /LATIN1/);
    assert.match(error.message, /ENCODING 'UTF8'/);
  });

  Pg('when several processes open a new schema at once then it is migrated once, to the current version', async () => {
    const schema = freshSchema();
    const opened = await Promise.all(
      Array.from({ length: 4 }, () => openPostgresBackend({ url: server.url, environment: SANDBOX, schema })),
    );
    const notes = (await Promise.all(opened.map((b) => b.load()))).flatMap((image) => image.notes);
    assert.equal(
      notes,
      Array.from({ length: SCHEMA_VERSION }, (_, i) => `PostgreSQL schema "${schema}" migrated to version ${i + 1}`),
    );
    const version = await server.sql(`SELECT version FROM ${schema}.hitstate_schema`);
    assert.equal(version.rows, [{ version: SCHEMA_VERSION }]);
    for (const b of opened) await b.close();
    const reopened = await openPostgresBackend({ url: server.url, environment: SANDBOX, schema });
    assert.equal((await reopened.load()).notes, [], 'a current schema needs no migration');
    await reopened.close();
  });

  Pg('when a newer hitstate migrated the schema then opening refuses it and changes nothing', async () => {
    const schema = freshSchema();
    const first = await openPostgresBackend({ url: server.url, environment: SANDBOX, schema });
    await first.commit({ changes: [{ collection: 'units', runId: 'r1', key: 'u1', json: '{}' }], audit: [] });
    await first.close();
    await server.sql(`UPDATE ${schema}.hitstate_schema SET version = ${SCHEMA_VERSION + 1}`);
    const error = await hitstateRejection(openPostgresBackend({ url: server.url, environment: SANDBOX, schema }));
    assert.is(error.code, 'HST_ERR_STORE_VERSION_NEWER');
    assert.match(error.message, `version ${SCHEMA_VERSION + 1}`);
    assert.match(error.message, /Upgrade hitstate/);
    const rows = await server.sql(`SELECT version FROM ${schema}.hitstate_schema`);
    assert.equal(rows.rows, [{ version: SCHEMA_VERSION + 1 }]);
  });

  Pg(
    'when a schema of version 1 is opened then it is migrated, but not while another process has a store open',
    async () => {
      const schema = freshSchema();
      const first = await openPostgresBackend({ url: server.url, environment: SANDBOX, schema });
      await first.commit({
        changes: [
          { collection: 'units', runId: 'r1', key: 'u1', json: '{"id":"u1"}' },
          { collection: 'workers', runId: null, key: 'W1', json: '{"id":"W1"}' },
        ],
        audit: [],
      });
      await first.close();
      // Back to what version 1 had.
      await server.sql(`DROP TABLE ${schema}.run_marks`);
      await server.sql(`DELETE FROM ${schema}.records WHERE json IS NULL`);
      await server.sql(`ALTER TABLE ${schema}.records DROP COLUMN seq, ALTER COLUMN json SET NOT NULL`);
      await server.sql(`DROP SEQUENCE ${schema}.store_seq`);
      await server.sql(`UPDATE ${schema}.hitstate_schema SET version = 1`);
      // A writer of the older release, in another process: a session holding a store lock.
      const other = new pg.Client({
        connectionString: server.url,
        application_name: 'hitstate pid=999999 host=elsewhere',
      });
      await other.connect();
      await other.query("SELECT pg_advisory_lock_shared(hashtextextended('hitstate store:x:sandbox', 0))");
      try {
        const error = await hitstateRejection(openPostgresBackend({ url: server.url, environment: SANDBOX, schema }));
        assert.is(error.code, 'HST_ERR_STORE_LOCKED');
        assert.match(error.message, /from version 1 to 2 needs the database alone/);
        assert.match(error.message, 'hitstate pid 999999 on elsewhere');
        const version = await server.sql(`SELECT version FROM ${schema}.hitstate_schema`);
        assert.equal(version.rows, [{ version: 1 }], 'nothing was migrated');
      } finally {
        await other.end();
      }
      const migrated = await openPostgresBackend({ url: server.url, environment: SANDBOX, schema });
      const image = await migrated.load();
      assert.equal(image.notes, [`PostgreSQL schema "${schema}" migrated to version 2`]);
      assert.is(image.store.get('workers')?.get('W1'), '{"id":"W1"}');
      assert.is(image.runs.get('r1')?.get('units')?.get('u1'), '{"id":"u1"}');
      await migrated.close();
    },
  );

  Pg('when a commit of 10 records and its audit is made then it is one transaction', async () => {
    const schema = freshSchema();
    const backend = await openPostgresBackend({ url: server.url, environment: SANDBOX, schema });
    await backend.commit({
      changes: [
        ...Array.from({ length: 8 }, (_, i) => ({
          collection: 'units' as const,
          runId: 'r1',
          key: `u${i}`,
          json: '{}',
        })),
        { collection: 'workers', runId: null, key: 'A1', json: '{}' },
        { collection: 'snapshots', runId: 'r1', key: 'run', json: '{}' },
      ],
      audit: [
        { runId: 'r1', json: '{"n":1}' },
        { runId: 'r1', json: '{"n":2}' },
      ],
    });
    // Every row written by one transaction carries that transaction's id (xmin).
    const xids = await server.sql(
      `SELECT xmin::text AS xid FROM ${schema}.records UNION ALL SELECT xmin::text FROM ${schema}.audit`,
    );
    assert.is(xids.rows.length, 12);
    assert.is(new Set(xids.rows.map((r) => r.xid)).size, 1);
    await backend.close();
  });

  Pg('when two processes commit the same shared records in opposite orders then neither deadlocks', async () => {
    const schema = freshSchema();
    const a = await openPostgresBackend({ url: server.url, environment: SANDBOX, schema });
    const b = await openPostgresBackend({ url: server.url, environment: SANDBOX, schema });
    const workers = Array.from({ length: 2_000 }, (_, i) => `A${String(i).padStart(4, '0')}`);
    const commitOf = (ids: string[], by: string, round: number) => ({
      changes: ids.map((id) => ({
        collection: 'workers' as const,
        runId: null,
        key: id,
        json: `{"by":"${by}","round":${round}}`,
      })),
      audit: [],
    });
    for (let round = 0; round < 15; round++) {
      // Both commits are in flight at once, one writing the workers forwards, the other backwards.
      await Promise.all([
        a.commit(commitOf(workers, 'a', round)),
        b.commit(commitOf([...workers].reverse(), 'b', round)),
      ]);
    }
    const image = await a.load();
    const last = new Set([...(image.store.get('workers')?.values() ?? [])]);
    assert.is(image.store.get('workers')?.size, 2_000);
    assert.is(last.size, 1, `one commit won every record as a whole: ${[...last].join(' ')}`);
    await a.close();
    await b.close();
  });

  Pg('when a change names a bad field then the error names it and nothing is written', async () => {
    const schema = freshSchema();
    const backend = await openPostgresBackend({ url: server.url, environment: SANDBOX, schema });
    const cases: [unknown, string][] = [
      [{ collection: 'units', runId: '', key: 'u', json: '{}' }, 'changes[0].runId'],
      [{ collection: 'workers', runId: 'r1', key: 'A1', json: '{}' }, 'changes[0].runId'],
      [{ collection: 'units', runId: 'r1', key: '', json: '{}' }, 'changes[0].key'],
      [{ collection: 'units', runId: 'r1', key: 'u', json: { not: 'text' } }, 'changes[0].json'],
    ];
    for (const [change, field] of cases) {
      const error = await hitstateRejection(backend.commit({ changes: [change as never], audit: [] }));
      assert.is(error.code, 'HST_ERR_STORE_INVALID_RECORD');
      assert.is(error.details.field, field);
    }
    const ttl = await hitstateRejection(backend.acquireRun('r1', 0));
    assert.is(ttl.details.field, 'ttlMs');
    assert.is((await server.sql(`SELECT count(*)::int AS n FROM ${schema}.records`)).rows[0].n, 0);
    await backend.close();
  });

  Pg('when no clock is given then lease expiry is in epoch milliseconds of the server clock', async () => {
    const backend = await openPostgresBackend({ url: server.url, environment: SANDBOX, schema: freshSchema() });
    const before = Date.now();
    const taken = await backend.acquireRun('r1', 600_000);
    assert.ok(taken.ok);
    const expiresAt = taken.ok ? taken.lease.holder.expiresAt : 0;
    // Same machine, so the server's clock is ours: the expiry is ten minutes out, in ms.
    assert.ok(expiresAt - before > 590_000 && expiresAt - before < 610_000, `expiresAt ${expiresAt}, now ${before}`);
    assert.is((await backend.runHolder('r1'))?.owner, backend.owner);
    await backend.close();
  });

  Pg(
    'when the server restarts under an open backend then the broken connection is reported and work goes on',
    async () => {
      const heard: HitstateError[] = [];
      const backend = await openPostgresBackend({
        url: server.url,
        environment: SANDBOX,
        schema: freshSchema(),
        clock: new VirtualClock(Date.UTC(2026, 11, 7)),
        onConnectionError: (error) => heard.push(error),
      });
      await backend.commit({ changes: [{ collection: 'units', runId: 'r1', key: 'u1', json: '"before"' }], audit: [] });
      await server.crashAndRestart();
      // The pool drops the dead connection and opens a new one; a first failure is possible but says so.
      let committed = false;
      for (let attempt = 0; attempt < 3 && !committed; attempt++) {
        try {
          await backend.commit({
            changes: [{ collection: 'units', runId: 'r1', key: 'u2', json: '"after"' }],
            audit: [],
          });
          committed = true;
        } catch (error) {
          assert.ok(error instanceof HitstateError, String(error));
          assert.is((error as HitstateError).code, 'HST_ERR_STORE_PG_UNREACHABLE', (error as Error).message);
        }
      }
      assert.ok(committed, 'a commit goes through after the restart');
      const image = await backend.load();
      assert.equal([...(image.runs.get('r1')?.get('units') ?? [])].sort(), [
        ['u1', '"before"'],
        ['u2', '"after"'],
      ]);
      for (const error of heard) assert.is(error.code, 'HST_ERR_STORE_PG_UNREACHABLE', error.message);
      await backend.close();
    },
  );

  Pg.run();
});
// Queued after the server started: uvu runs what is queued by then, once.
Offline.run();
