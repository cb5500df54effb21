// `hitstate sim --state FILE.db`: the simulator on serve's SQLite store. A restarted simulator
// continues where it stopped (records, money, virtual time, id sequence), and a second one on
// the same file is refused. (JSON state files: test/simulator/state-file.sim.test.ts.)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ApproveAssignmentCommand,
  CreateHITCommand,
  GetAccountBalanceCommand,
  ListAssignmentsForHITCommand,
} from '@aws-sdk/client-mturk';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createSimulator } from '../../src/simulator/index.js';
import { openDatabase } from '../../src/simulator/serve/db.js';
import { clientFor, hitInput } from './helpers.js';

const SimSqlite = suite('sim on SQLite (--state FILE.db)');

SimSqlite('a restarted sim continues from the SQLite file; one process per file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hitstate-sim-db-'));
  const file = join(dir, 'sim.db');
  try {
    const sim = await createSimulator({ clock: 'virtual', seed: 5, stateFile: file });
    const client = clientFor(sim);
    const hit = (await client.send(new CreateHITCommand(hitInput({ MaxAssignments: 2 })))).HIT!;
    const a = await sim.workers.accept('AWORKERSQLITE1', { hitId: hit.HITId! });
    await sim.workers.submit(a.assignmentId, { answer: 'kept' });
    await client.send(new ApproveAssignmentCommand({ AssignmentId: a.assignmentId }));
    await sim.advance(120);
    const before = { view: sim.inspect(), now: sim.clock.now() };
    const balance = await client.send(new GetAccountBalanceCommand({}));
    // The file is in use: a second simulator is refused, and the first keeps working.
    const second = await createSimulator({ clock: 'virtual', stateFile: file }).then(
      () => undefined,
      (err: Error & { code?: string }) => err,
    );
    assert.is(second?.code, 'HST_ERR_SERVE_LOCKED');
    client.destroy();
    await sim.close();

    const db = openDatabase(file);
    assert.ok(
      (db.prepare("SELECT count(*) FROM records WHERE kind = 'hit'").pluck().get() as number) === 1,
      'rows per record',
    );
    db.close();

    const again = await createSimulator({ clock: 'virtual', stateFile: file });
    try {
      assert.is(again.clock.now(), before.now, 'virtual time continues');
      assert.equal(again.inspect(), before.view, 'the same records');
      const c2 = clientFor(again);
      assert.equal(
        await c2.send(new GetAccountBalanceCommand({})).then((b) => b.AvailableBalance),
        balance.AvailableBalance,
      );
      const listed = await c2.send(new ListAssignmentsForHITCommand({ HITId: hit.HITId! }));
      assert.is(listed.Assignments?.[0]?.AssignmentStatus, 'Approved');
      const next = (await c2.send(new CreateHITCommand(hitInput()))).HIT!.HITId!;
      assert.is.not(next, hit.HITId, 'ids continue, never repeat');
      c2.destroy();
    } finally {
      await again.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

SimSqlite.run();
