import type { ChildProcess } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { collect, kill, open, removeDir, startChild, tempDir } from './helpers.js';

const Crash = suite('store crash between writes');
let dir = '';
let child: ChildProcess | undefined;
Crash.before.each(() => {
  dir = tempDir();
});
Crash.after.each(async () => {
  if (child !== undefined) await kill(child);
  child = undefined;
  removeDir(dir);
});

async function crashAt(mode: string): Promise<void> {
  const started = await startChild('crash-writer.ts', [dir, mode], 'CRASH-POINT');
  child = started.child;
  assert.match(started.output(), /STATE-A[\s\S]*CRASH-POINT/);
  await kill(child);
}

for (const mode of ['before-rename', 'mid-write']) {
  Crash(`when the process dies ${mode === 'before-rename' ? 'after writing the temp file but before the rename' : 'half-way through writing the temp file'} then reopening finds the last complete state`, async () => {
    await crashAt(mode);
    const runDir = join(dir, 'sandbox', 'runs', 'r1');
    assert.ok(readdirSync(runDir).includes('.units-000.json.tmp'), 'the crash should leave the temp file behind');
    const store = await open(dir);
    assert.equal(store.units.ofRun('r1').map((u) => [u.id, u.status]), [['u0', 'created'], ['u1', 'created']]);
    assert.ok(store.openReport.staleLockRecovered !== null, 'the dead writer\'s lock must be taken over');
    assert.equal(store.openReport.removedTempFiles, [join(runDir, '.units-000.json.tmp')]);
    assert.not.ok(readdirSync(runDir).includes('.units-000.json.tmp'));
    store.units.setStatus('u0', 'assigned');
    await store.close();
    const again = await open(dir);
    assert.is(again.units.require('u0').status, 'assigned');
    await again.close();
  });
}

Crash('when the process dies half-way through an audit append then the torn line is sealed and later entries read fine', async () => {
  await crashAt('mid-append');
  const store = await open(dir);
  assert.is(store.openReport.tornAuditLines.length, 1);
  assert.ok(store.openReport.tornAuditLines[0]!.bytes > 0);
  store.audit.append({ operation: 'GetHIT', outcome: 'ok', runId: 'r1' });
  const entries = await collect(store.audit.entries({ runId: 'r1' }));
  assert.equal(entries.map((e) => e.operation), ['CreateHITType', 'GetHIT']);
  await store.close();
});

Crash.run();
