// The supervisor is stored as its core plus one record per row of its tables (a unit, a pool
// HIT, an arrival), written only when that row changed, in the same commit as the core; a resume
// writes back nothing it just read; stores of taskRun 2 (one record) and taskRun 4 (bucket
// records, a fixture made by that release) are migrated to rows.
import { readFileSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { MACHINE_VERSIONS } from '../../src/runtime/supervisor/snapshot-layout.js';
import { createWorld, type World } from '../support/sim-world.js';

const Parts = suite<{ world: World; runId: string }>('runtime persistence (supervisor rows)');

const TABLE_FIELDS = ['tables', 'units', 'freeUnits', 'hits', 'arrivals', 'unitOrder'];

Parts.before.each(async (ctx) => {
  ctx.world = await createWorld({ seed: 11 });
  const { runId } = await ctx.world.runtime.launchRun(ctx.world.config({ units: 12 }));
  ctx.runId = runId;
  await ctx.world.drive(() => ctx.world.runtime.runInfo(runId).counts.launched === 12, { label: 'launch' });
});

Parts.after.each(async (ctx) => {
  await ctx.world.close();
  assert.equal(
    ctx.world.errors.map((e) => e.message),
    [],
  );
});

/** Records every `snapshots.put` (with its JSON size) and `snapshots.delete` of the current runtime's store by actor id. */
function spyWrites(world: World): { ids: string[]; bytes: Map<string, number> } {
  const ids: string[] = [];
  const bytes = new Map<string, number>();
  const snapshots = world.runtime.store.snapshots;
  const put = snapshots.put.bind(snapshots);
  const remove = snapshots.delete.bind(snapshots);
  snapshots.put = (actorId, input) => {
    ids.push(actorId);
    bytes.set(actorId, JSON.stringify(input.snapshot).length);
    put(actorId, input);
  };
  snapshots.delete = (actorId) => {
    ids.push(`-${actorId}`);
    return remove(actorId);
  };
  return { ids, bytes };
}

const partIdsOf = (world: World, runId: string): string[] =>
  world.runtime.store.snapshots.partsOf(runId).map((r) => r.actorId);

Parts(
  'when a run is persisted then the supervisor record holds none of its tables, which are rows of their own',
  ({ world, runId }) => {
    const root = world.runtime.store.snapshots.get(`run:${runId}`)!;
    assert.is(root.machineVersion, MACHINE_VERSIONS.taskRun);
    const context = (root.snapshot.supervisor as { context: Record<string, unknown> }).context;
    assert.equal(
      TABLE_FIELDS.filter((f) => f in context),
      [],
    );
    assert.ok(typeof context.counts === 'object', 'the small fields stay in the core');
    const parts = partIdsOf(world, runId);
    assert.not.ok(parts.includes(`run:${runId}#group:0`), 'units are passive: no unit groups are stored');
    assert.is(parts.filter((id) => id.startsWith(`run:${runId}#unit:`)).length, 12, 'a row per unit');
    assert.is(parts.filter((id) => id.startsWith(`run:${runId}#hit:`)).length, 12, 'a row per pool HIT');
    const unit = world.runtime.store.snapshots.get(parts.find((id) => id.includes('#unit:'))!)!;
    assert.equal(Object.keys(unit.snapshot).sort(), ['index', 'status']);
  },
);

Parts(
  'when one worker arrives then only the rows it changed are written: its unit, its HIT and its arrival',
  async ({ world, runId }) => {
    const writes = spyWrites(world);
    const worker = world.worker();
    await worker.accept(world.hitTypeId(runId));
    const registered = await worker.register();
    assert.is(registered.status, 200, JSON.stringify(registered.json));
    await world.runtime.whenIdle();
    const rows = [...new Set(writes.ids.filter((id) => id.startsWith(`run:${runId}#`)))];
    const unitId = registered.json.unitId as string;
    const hitId = world.runtime.store.hits.ofUnit(unitId)!.id;
    assert.equal(rows.sort(), [
      `run:${runId}#arrival:${worker.agentId}`,
      `run:${runId}#hit:${hitId}`,
      `run:${runId}#unit:${unitId}`,
    ]);
    for (const id of rows) assert.ok(writes.bytes.get(id)! < 200, `${id}: ${writes.bytes.get(id)} bytes`);
  },
);

Parts(
  'when the process restarts then the run comes back whole: the arrival, the pool and the unit table',
  async ({ world, runId }) => {
    const worker = world.worker();
    await worker.accept(world.hitTypeId(runId));
    const first = await worker.register();
    assert.is(first.status, 200, JSON.stringify(first.json));
    const counts = world.runtime.runInfo(runId).counts;
    await world.restart();
    await world.runtime.resume();
    assert.equal(world.runtime.runInfo(runId).counts, counts);
    const again = await worker.register();
    assert.is(again.status, 200, JSON.stringify(again.json));
    assert.is(again.json.unitId, first.json.unitId, 'the same arrival, restored from its row');
    await worker.submit({ sentiment: 'positive', comment: 'after the restart' });
    await world.drive(() => world.runtime.runInfo(runId).counts.completed === 1, { label: 'completed' });
    assert.equal(world.runtime.store.agents.submission(worker.agentId!), {
      sentiment: 'positive',
      comment: 'after the restart',
    });
  },
);

Parts('when a run is resumed then no restored actor is written back unless it changed', async ({ world, runId }) => {
  await world.runtime.close();
  await world.adopt(await world.openRuntime());
  const stored = world.runtime.store.snapshots.ofRun(runId).length;
  const writes = spyWrites(world).ids;
  await world.runtime.resume();
  await world.runtime.whenIdle();
  const unitsAndAgents = writes.filter((id) => id.startsWith('unit:') || id.startsWith('agent:'));
  assert.equal(unitsAndAgents, [], 'nothing of the units changed');
  assert.ok(writes.length < stored / 4, `${writes.length} writes for ${stored} stored records: ${writes.join(', ')}`);
});

Parts(
  'when a run saved by taskRun version 2 (one record) is resumed then it is restored and rewritten as rows',
  async ({ world, runId }) => {
    const worker = world.worker();
    await worker.accept(world.hitTypeId(runId));
    const first = await worker.register();
    assert.is(first.status, 200, JSON.stringify(first.json));
    const counts = world.runtime.runInfo(runId).counts;
    await world.runtime.close();
    await world.adopt(await world.openRuntime());
    const { snapshots } = world.runtime.store;
    const root = snapshots.get(`run:${runId}`)!;
    const core = root.snapshot.supervisor as { context: Record<string, unknown> };
    // Version 2 held the whole context in the one record, its maps in buckets (their names do not matter).
    const units: Record<string, unknown> = {};
    const hits: Record<string, unknown> = {};
    const arrivals: Record<string, unknown> = {};
    const freeUnits: Record<string, unknown> = {};
    const unitOrder: string[] = [];
    for (const record of snapshots.partsOf(runId)) {
      const key = record.actorId.slice(`run:${runId}#`.length);
      const row = record.snapshot as Record<string, unknown>;
      if (key.startsWith('unit:')) {
        const { index, ...entry } = row as { index: number };
        units[key.slice(5)] = entry;
        unitOrder[index] = key.slice(5);
        if ((entry as { status: string }).status === 'launched' && !('pending' in entry))
          freeUnits[key.slice(5)] = true;
      } else if (key.startsWith('hit:')) {
        const { n: _n, ...record } = row;
        hits[key.slice(4)] = record;
      } else if (key.startsWith('arrival:')) arrivals[key.slice(8)] = row;
      snapshots.delete(record.actorId);
    }
    const context = {
      ...core.context,
      units: { b00: units },
      freeUnits: { b01: freeUnits },
      freeUnitCount: Object.keys(freeUnits).length,
      hits: { b02: hits },
      arrivals: { b03: arrivals },
      unitOrder,
    };
    snapshots.put(`run:${runId}`, {
      machine: 'taskRun',
      machineVersion: 2,
      snapshot: { supervisor: { ...core, context }, between: {} },
    });
    await world.runtime.close();
    await world.adopt(await world.openRuntime());
    await world.runtime.resume();
    await world.runtime.whenIdle();
    assert.equal(world.runtime.runInfo(runId).counts, counts);
    assert.is(world.runtime.store.snapshots.get(`run:${runId}`)!.machineVersion, MACHINE_VERSIONS.taskRun);
    const rewritten = partIdsOf(world, runId);
    assert.is(rewritten.filter((id) => id.includes('#unit:')).length, 12, rewritten.join(', '));
    const again = await worker.register();
    assert.is(again.json.unitId, first.json.unitId, 'the arrival came back');
    const next = world.worker();
    await next.accept(world.hitTypeId(runId));
    assert.is((await next.register()).status, 200, 'the restored pool takes a worker');
  },
);

/** Records of the supervisor as hitstate stored them at taskRun version 4 (made by that release: see `made`). */
interface V4Fixture {
  readonly made: string;
  readonly runId: string;
  readonly arrival: { readonly unitId: string; readonly agentId: string; readonly status: number };
  readonly counts: Record<string, number>;
  readonly records: ReadonlyArray<{ actorId: string; machine: string; machineVersion: number; snapshot: unknown }>;
}

Parts(
  'when a store written by taskRun version 4 (bucket records) is resumed then its tables become rows and its buckets are deleted',
  async ({ world, runId }) => {
    const text = readFileSync(new URL('./fixtures/taskrun-v4-buckets.json', import.meta.url), 'utf8');
    // The world (seed 11) launches the run the fixture was made from, under a run id of its own.
    const fixtureRunId = (JSON.parse(text) as V4Fixture).runId;
    const fixture = JSON.parse(text.replaceAll(fixtureRunId, runId)) as V4Fixture;
    // The same world as the fixture's: one worker registered, then the release's records put in place.
    const worker = world.worker();
    await worker.accept(world.hitTypeId(runId));
    const first = await worker.register();
    assert.is(first.json.unitId, fixture.arrival.unitId);
    await world.runtime.close();
    await world.adopt(await world.openRuntime());
    const { snapshots } = world.runtime.store;
    for (const record of snapshots.partsOf(runId)) snapshots.delete(record.actorId);
    for (const { actorId, machine, machineVersion, snapshot } of fixture.records)
      snapshots.put(actorId, { machine, machineVersion, snapshot });
    assert.ok(partIdsOf(world, runId).includes(`run:${runId}#unitOrder`));
    await world.runtime.close();
    await world.adopt(await world.openRuntime());
    await world.runtime.resume();
    await world.runtime.whenIdle();
    assert.equal(world.runtime.runInfo(runId).counts, fixture.counts);
    assert.is(world.runtime.store.snapshots.get(`run:${runId}`)!.machineVersion, MACHINE_VERSIONS.taskRun);
    const parts = partIdsOf(world, runId);
    assert.equal(
      parts.filter((id) => !/#(unit|hit|arrival):/.test(id)),
      [],
      'no bucket record is left',
    );
    assert.ok(parts.includes(`run:${runId}#arrival:${fixture.arrival.agentId}`), parts.join(', '));
    const again = await worker.register();
    assert.is(again.status, 200, JSON.stringify(again.json));
    assert.is(again.json.unitId, fixture.arrival.unitId, 'the arrival came back from its bucket');
    await worker.submit({ sentiment: 'positive', comment: 'after the migration' });
    await world.drive(() => world.runtime.runInfo(runId).counts.completed === 1, { label: 'completed' });
    // A second resume reads the rows the migration wrote.
    await world.restart();
    await world.runtime.resume();
    assert.equal(world.runtime.runInfo(runId).counts.completed, 1);
    const next = world.worker();
    await next.accept(world.hitTypeId(runId));
    assert.is((await next.register()).status, 200, 'the migrated pool takes a worker');
  },
);

Parts.run();
