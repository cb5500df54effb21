// The store backend contract (suite.ts) on PostgreSQL: a real server started by test/support/postgres.ts,
// one fresh schema per test. Without PostgreSQL the file says why it skipped; never silently green.
import { randomBytes } from 'node:crypto';
import { VirtualClock } from '../../../src/clock.js';
import type { StoreBackend } from '../../../src/store/backend.js';
import type { StoreEnvironment } from '../../../src/store/environment.js';
import { openPostgresBackend } from '../../../src/store/postgres/index.js';
import { withPostgresServer } from '../../support/postgres.js';
import { contractSuite } from './suite.js';

await withPostgresServer('the store backend contract on PostgreSQL', (server) => {
  contractSuite('postgres', async () => {
    const schema = `contract_${randomBytes(6).toString('hex')}`;
    const clock = new VirtualClock(Date.UTC(2026, 11, 7, 2, 0, 0));
    const open: StoreBackend[] = [];
    const openOne = async (environment: StoreEnvironment = { kind: 'sandbox' }) => {
      const backend = await openPostgresBackend({ url: server.url, environment, schema, clock, poolSize: 2 });
      open.push(backend);
      return backend;
    };
    const backend = await openOne();
    return {
      backend,
      clock,
      reopen: (options) => openOne(options?.environment),
      async cleanup() {
        for (const b of open) await b.close();
        await server.sql(`DROP SCHEMA ${schema} CASCADE`);
      },
    };
  });
});
