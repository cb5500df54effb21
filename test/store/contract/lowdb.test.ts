// The store backend contract (suite.ts) on the default backend: lowdb journal files in a temp
// directory, one environment directory per environment as openStore lays them out.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VirtualClock } from '../../../src/clock.js';
import type { StoreBackend } from '../../../src/store/backend.js';
import { environmentSlug, type StoreEnvironment } from '../../../src/store/environment.js';
import { nodeFileSystem } from '../../../src/store/file-system.js';
import { LowdbBackend } from '../../../src/store/lowdb/backend.js';
import { contractSuite } from './suite.js';

contractSuite('lowdb', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'hitstate-contract-'));
  const clock = new VirtualClock(Date.UTC(2026, 11, 7, 2, 0, 0));
  const open: StoreBackend[] = [];
  const openOne = async (environment: StoreEnvironment = { kind: 'sandbox' }): Promise<StoreBackend> => {
    const backend = new LowdbBackend({
      root: join(dir, environmentSlug(environment)),
      environment,
      fs: nodeFileSystem,
      now: () => clock.now(),
    });
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
      await rm(dir, { recursive: true, force: true });
    },
  };
});
