// `hitstate serve import --state FILE` on a state file written by `hitstate sim` (the committed
// fixture test/fixtures/sim/state-2026-12.json, made by test/fixtures/sim/make-state.ts): every
// requester of the file gets serve keys, its work answers through the real SDK with them exactly
// as the sim's state says, the ledger balances to the cent with the workers owed what they
// earned, and a second import or an import under a running server is refused.
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  GetAccountBalanceCommand,
  GetHITCommand,
  ListAssignmentsForHITCommand,
  ListBonusPaymentsCommand,
  ListHITsCommand,
  ListQualificationRequestsCommand,
  ListWorkerBlocksCommand,
  MTurkClient,
} from '@aws-sdk/client-mturk';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { EXIT } from '../../src/cli/command.js';
import { VirtualClock } from '../../src/clock.js';
import { main } from '../../src/cli/main.js';
import { openDatabase } from '../../src/simulator/serve/db.js';
import { createServe } from '../../src/simulator/serve/index.js';
import { balances, checkLedger, workerAccount } from '../../src/simulator/serve/ledger.js';
import type { PersistedState } from '../../src/simulator/persistence.js';
import { captureIO } from '../cli/helpers.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/sim/state-2026-12.json', import.meta.url));
const Import = suite('serve import of a sim state file');

Import('a sim state file imports: keys per requester, same answers, a balanced ledger', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hitstate-import-'));
  const db = join(dir, 'crowd.db');
  const state = join(dir, 'sim-state.json');
  copyFileSync(FIXTURE, state);
  const saved = JSON.parse(readFileSync(FIXTURE, 'utf8')) as PersistedState;
  try {
    const io = captureIO({ cwd: dir });
    assert.is(await main(['serve', 'import', '--state', 'sim-state.json', '--db', db], io), EXIT.ok, io.stderr());
    const out = io.stdout();
    assert.match(out, /Imported 3 HIT\(s\), 5 assignment\(s\)/);
    const keys = [...out.matchAll(/Requester (\S+)\n\s+Access key id:\s+(\S+)\n\s+Secret access key:\s+(\S+)/g)].map(
      (m) => ({ name: m[1]!, accessKeyId: m[2]!, secretAccessKey: m[3]! }),
    );
    assert.equal(
      keys.map((k) => k.name),
      ['sim-akidsimrequester1', 'sim-akidsimrequester2'],
    );

    // The engine's clock where the sim stopped, so nothing expires between the file and the checks.
    const server = await createServe({
      db,
      publicUrl: 'https://crowd.example.org',
      log: () => {},
      clock: new VirtualClock(saved.clockMs),
    });
    const client = (i: number) =>
      new MTurkClient({
        endpoint: server.url,
        region: 'us-east-1',
        credentials: { accessKeyId: keys[i]!.accessKeyId, secretAccessKey: keys[i]!.secretAccessKey },
        maxAttempts: 1,
      });
    try {
      const one = client(0);
      const two = client(1);
      for (const [i, c] of [one, two].entries()) {
        const account = saved.records.accounts[i]!;
        const balance = await c.send(new GetAccountBalanceCommand({}));
        assert.is(balance.AvailableBalance, ((account.balanceCents - account.onHoldCents) / 100).toFixed(2));
        assert.is(balance.OnHoldBalance, (account.onHoldCents / 100).toFixed(2));
      }
      const hitsOf = (key: string) =>
        saved.records.hits.filter((h) => h.account === key && !h.disposed).map((h) => h.hitId);
      assert.equal(
        (await one.send(new ListHITsCommand({}))).HITs?.map((h) => h.HITId),
        hitsOf('AKIDSIMREQUESTER1'),
      );
      const [approved] = hitsOf('AKIDSIMREQUESTER1');
      const listed = await one.send(new ListAssignmentsForHITCommand({ HITId: approved }));
      assert.equal(listed.Assignments?.map((a) => [a.WorkerId, a.AssignmentStatus, a.RequesterFeedback]).sort(), [
        ['AWORKERSIMONE1', 'Approved', 'Good'],
        ['AWORKERSIMTWO2', 'Rejected', 'Off topic'],
      ]);
      assert.is(
        (await one.send(new ListBonusPaymentsCommand({ HITId: approved }))).BonusPayments?.[0]?.BonusAmount,
        '0.25',
      );
      assert.is((await one.send(new ListWorkerBlocksCommand({}))).WorkerBlocks?.[0]?.WorkerId, 'AWORKERSIMBAD3');
      // The deleted HIT is there, as deleted, and not in memory.
      const deleted = saved.records.hits.find((h) => h.disposed)!.hitId;
      assert.is((await one.send(new GetHITCommand({ HITId: deleted }))).HIT?.HITStatus, 'Disposed');
      // Requester two's qualification request waits for it; one cannot see two's HITs.
      assert.is((await two.send(new ListQualificationRequestsCommand({}))).NumResults, 1);
      const [open] = hitsOf('AKIDSIMREQUESTER2');
      const foreign = await one.send(new GetHITCommand({ HITId: open })).catch((e: Error) => e);
      assert.ok(foreign instanceof Error && foreign.name === 'RequestError', 'isolation holds for imported work');
      one.destroy();
      two.destroy();
    } finally {
      await server.close();
    }
    const check = openDatabase(db);
    try {
      const report = checkLedger(check);
      assert.equal(report.problems, []);
      const owed = balances(check);
      assert.is(owed.get(workerAccount('AWORKERSIMONE1')), 40 + 25, 'the approved reward and the bonus');
      assert.is(owed.get(workerAccount('AWORKERSIMTWO2')), 10, 'the reward on the deleted HIT');
    } finally {
      check.close();
    }

    // Once only: the database now holds work.
    const again = captureIO({ cwd: dir });
    assert.is.not(await main(['serve', 'import', '--state', 'sim-state.json', '--db', db], again), EXIT.ok);
    assert.match(again.stderr(), /already holds requesters' work; import into a new database/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

Import('bad input: no --state, not a state file, a running server', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hitstate-import-'));
  const db = join(dir, 'crowd.db');
  try {
    const none = captureIO({ cwd: dir });
    assert.is.not(await main(['serve', 'import', '--db', db], none), EXIT.ok);
    assert.match(none.stderr(), /--state FILE/);
    const notState = captureIO({ cwd: dir });
    assert.is.not(await main(['serve', 'import', '--state', db, '--db', db], notState), EXIT.ok);
    const server = await createServe({ db, publicUrl: 'https://crowd.example.org', log: () => {} });
    try {
      const busy = captureIO({ cwd: dir });
      assert.is.not(await main(['serve', 'import', '--state', FIXTURE, '--db', db], busy), EXIT.ok);
      assert.match(busy.stderr(), /Another hitstate serve is using/);
    } finally {
      await server.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

Import.run();
