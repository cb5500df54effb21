// `hitstate store check|restore` on damaged shards and run copies, and its bad input: a bad
// action, no store, and a restore that cannot put everything back.
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { main } from '../../src/cli/main.js';
import { openStore } from '../../src/store/index.js';
import { captureIO, tempDir } from './helpers.js';

interface Ctx {
  dir: ReturnType<typeof tempDir>;
  env: string;
}

const StoreCommand = suite<Ctx>('cli/store check and restore');

StoreCommand.before.each(async (ctx) => {
  ctx.dir = tempDir();
  const dir = join(ctx.dir.path, '.hitstate');
  ctx.env = join(dir, 'sandbox');
  const store = await openStore({ dir, environment: { kind: 'sandbox' } });
  store.requesters.put({ name: 'lab', credentialSource: { kind: 'profile', profile: 'lab' } });
  store.runs.create({ runId: 'p1', requesterName: 'lab', config: { title: 'P', units: [{ q: 1 }, { q: 2 }] } });
  store.units.create({ unitId: 'p1.u0', runId: 'p1', index: 0, payAmountUsd: '0.10' });
  store.units.create({ unitId: 'p1.u1', runId: 'p1', index: 1, payAmountUsd: '0.10' });
  await store.close();
  // A second session changes the shard, so its backup is older than the file.
  const again = await openStore({ dir, environment: { kind: 'sandbox' } });
  again.units.setStatus('p1.u0', 'launched');
  again.runs.setStatus('p1', 'running');
  await again.close();
});

StoreCommand.after.each((ctx) => ctx.dir.remove());

const cli = async (ctx: Ctx, args: string[]) => {
  const io = captureIO({ cwd: ctx.dir.path });
  const code = await main(args, io);
  return { code, stdout: io.stdout(), stderr: io.stderr() };
};

StoreCommand(
  'when a shard and a run copy are damaged then check names both and restore puts them back',
  async (ctx) => {
    const shard = join(ctx.env, 'runs', 'p1', 'units-000.json');
    const copy = join(ctx.env, 'runs', 'p1', 'run.json');
    writeFileSync(shard, readFileSync(shard).subarray(0, 40));
    writeFileSync(copy, '{"format":"hitstate-store","kind":"run"');
    const check = await cli(ctx, ['store', 'check', '--json']);
    assert.is(check.code, 1);
    const files = (
      JSON.parse(check.stdout) as {
        files: { file: string; ok: boolean; backup: { loss: { text: string } } | null }[];
      }[]
    )[0]!.files;
    const bad = files.filter((f) => !f.ok);
    assert.equal(bad.map((f) => f.file).sort(), ['runs/p1/run.json', 'runs/p1/units-000.json']);
    assert.match(bad.find((f) => f.file.endsWith('units-000.json'))!.backup!.loss.text, /of run p1/);

    const status = await cli(ctx, ['status', 'p1']);
    assert.is(status.code, 1);
    assert.match(status.stderr, /HST_ERR_STORE_CORRUPT/);

    const restore = await cli(ctx, ['store', 'restore']);
    assert.is(restore.code, 0, restore.stderr);
    assert.match(restore.stdout, /restored runs\/p1\/units-000\.json from .*units-000\.json\.bak\.1/);
    assert.match(restore.stdout, /restored runs\/p1\/run\.json from store\.json/);
    assert.match(restore.stdout, /opens again with 1 run\(s\): p1 \(running\)/);
    assert.ok(readdirSync(join(ctx.env, 'runs', 'p1')).some((n) => n.startsWith('units-000.json.damaged-')));
    assert.is((await cli(ctx, ['store', 'check'])).code, 0);
    assert.ok(existsSync(join(ctx.dir.path, '.hitstate', 'saved')), 'a copy of the whole store was saved first');
  },
);

StoreCommand(
  'when store.json is damaged and its backup is older then the loss names the run it takes back, and restore keeps it current',
  async (ctx) => {
    const core = join(ctx.env, 'store.json');
    // The backup from before the run started (status created); run.json has it running.
    const older = JSON.parse(readFileSync(core, 'utf8')) as {
      runs: Record<string, { status: string; updatedAt: number }>;
    };
    older.runs.p1!.status = 'created';
    older.runs.p1!.updatedAt -= 1000;
    writeFileSync(`${core}.bak.1`, JSON.stringify(older));
    writeFileSync(core, readFileSync(core).subarray(0, 30));
    const status = await cli(ctx, ['status']);
    assert.is(status.code, 1);
    assert.match(
      status.stderr,
      /it knows every run that has a folder on disk, and take run p1 back from running to created/,
    );
    const restore = await cli(ctx, ['store', 'restore']);
    assert.is(restore.code, 0, restore.stderr);
    assert.match(restore.stdout, /opens again with 1 run\(s\): p1 \(running\)/, 'the newer record of run.json wins');
  },
);

StoreCommand('when nothing can restore a file then restore says what is left and fails with its code', async (ctx) => {
  const shard = join(ctx.env, 'runs', 'p1', 'units-000.json');
  writeFileSync(shard, 'not json');
  for (const n of [1, 2, 3]) rmSync(`${shard}.bak.${n}`, { force: true });
  const restore = await cli(ctx, ['store', 'restore']);
  assert.is(restore.code, 1);
  assert.match(restore.stdout, /not restored runs\/p1\/units-000\.json: .*no good backup of it exists/);
  assert.match(restore.stderr, /HST_ERR_CLI_STORE_RESTORE_INCOMPLETE/);
  assert.is(readFileSync(shard, 'utf8'), 'not json', 'a file that cannot be restored is left as it is');
});

StoreCommand('when the action or the store is wrong then store says how to fix it', async (ctx) => {
  const bad = await cli(ctx, ['store', 'fix']);
  assert.is(bad.code, 2);
  assert.match(bad.stderr, /the action must be check or restore, got "fix"/);
  const none = await cli(ctx, ['store', 'check', '--store', 'elsewhere']);
  assert.is(none.code, 1);
  assert.match(none.stderr, /no store under .*elsewhere; pass --store DIR if it is elsewhere/);
  const clean = await cli(ctx, ['store', 'restore']);
  assert.is(clean.code, 0);
  assert.match(clean.stdout, /every file is good .*nothing to restore/);
});

StoreCommand.run();
