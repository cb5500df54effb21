// Issue 16, part 5: the runtime owns runs one at a time through their leases, not the store. The
// other process is a second backend on the same store directory, as another `hitstate` command is.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { isHitstateError } from '../../src/errors.js';
import { createRuntime, RUN_LEASE_TTL_MS } from '../../src/runtime/core/runtime.js';
import type { StoreBackend } from '../../src/store/backend.js';
import { nodeFileSystem } from '../../src/store/file-system.js';
import { LowdbBackend } from '../../src/store/lowdb/backend.js';
import { createWorld, type World } from '../support/sim-world.js';

const Leases = suite<{ world: World | undefined; other: StoreBackend | undefined }>('runtime run leases', {
  world: undefined,
  other: undefined,
});

Leases.after.each(async (ctx) => {
  await ctx.other?.close();
  await ctx.world?.close();
  ctx.world = undefined;
  ctx.other = undefined;
});

const otherBackend = (world: World): LowdbBackend =>
  new LowdbBackend({
    root: world.runtime.store.dir,
    environment: world.runtime.store.environment,
    fs: nodeFileSystem,
    now: () => world.clock.now(),
  });

Leases(
  'when the runtime hosts a run then it holds its lease, renews it past its time, and frees it on close',
  async (ctx) => {
    const world = await createWorld({ seed: 41 });
    const other = otherBackend(world);
    Object.assign(ctx, { world, other });
    const { runId } = await world.runtime.launchRun(world.config({ units: 2 }));
    const holder = await other.runHolder(runId);
    assert.is(holder?.pid, process.pid, 'the launching runtime owns the new run');
    assert.ok(world.runtime.owns(runId));
    await world.advance(RUN_LEASE_TTL_MS * 3);
    const later = await other.runHolder(runId);
    assert.is(later?.owner, holder?.owner, 'still the same owner three lease times later');
    assert.ok(later!.expiresAt > holder!.expiresAt, 'renewed on the runtime clock');
    const refused = await other.acquireRun(runId, 1000);
    assert.is(refused.ok, false, 'another process cannot take it');
    await world.runtime.close();
    assert.is(await other.runHolder(runId), null, 'released once the runtime closed');
  },
);

Leases(
  'when another live process owns a run then resuming it is refused naming it, and resuming all leaves it',
  async (ctx) => {
    const world = await createWorld({ seed: 42 });
    Object.assign(ctx, { world });
    const { runId } = await world.runtime.launchRun(world.config({ units: 1 }));
    await world.runtime.close();
    // "Another process" takes the run; a new runtime over the same store then tries to resume it.
    const other = otherBackend(world);
    ctx.other = other;
    assert.ok((await other.acquireRun(runId, RUN_LEASE_TTL_MS)).ok);
    const reopened = await createRuntime({
      environment: world.runtime.options.environment,
      requester: world.runtime.options.requester,
      clock: world.clock,
      storeDir: world.storeDir,
    });
    try {
      const err = await reopened.resume(runId).then(
        () => null,
        (e: unknown) => e,
      );
      assert.ok(isHitstateError(err, 'HST_ERR_RUN_OWNED'), String(err));
      assert.match((err as Error).message, new RegExp(`pid ${process.pid} on `));
      assert.equal(await reopened.resume(), [], 'resuming every run leaves the owned one to its owner');
      assert.not.ok(reopened.owns(runId));
    } finally {
      await reopened.close();
    }
  },
);

Leases('when the lease is lost to another process then the run stops here and says why', async (ctx) => {
  const world = await createWorld({ seed: 43 });
  const other = otherBackend(world);
  Object.assign(ctx, { world, other });
  const errors: Error[] = [];
  world.runtime.events.on('error', (e) => errors.push(e));
  const { runId } = await world.runtime.launchRun(world.config({ units: 1 }));
  // The lease file vanishes (an operator deleted it) and another process takes the run.
  rmSync(join(world.runtime.store.dir, 'runs', runId, 'lease.json'));
  assert.ok((await other.acquireRun(runId, RUN_LEASE_TTL_MS * 10)).ok);
  await world.advance(RUN_LEASE_TTL_MS);
  assert.not.ok(world.runtime.owns(runId), 'this runtime no longer owns it');
  assert.ok(
    errors.some((e) => isHitstateError(e, 'HST_ERR_RUN_OWNED') && /lease of run .* was lost/.test(e.message)),
    errors.map(String).join('\n'),
  );
  assert.ok(world.runtime.loaded(runId) === undefined, 'its host was stopped');
});

Leases.run();
