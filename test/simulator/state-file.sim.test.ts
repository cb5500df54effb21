import {
  AssociateQualificationWithWorkerCommand,
  CreateHITCommand,
  CreateQualificationTypeCommand,
  CreateWorkerBlockCommand,
  GetAccountBalanceCommand,
  GetAssignmentCommand,
  GetHITCommand,
  GetQualificationScoreCommand,
  ListWorkerBlocksCommand,
  SendBonusCommand,
} from '@aws-sdk/client-mturk';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createSimulator } from '../../src/simulator/index.js';
import type { PersistedState } from '../../src/simulator/persistence.js';
import { clientFor, hitInput, rejection } from './helpers.js';

const StateFile = suite<{ dir: string }>('simulator state file', { dir: '' });

StateFile.before.each((ctx) => {
  ctx.dir = mkdtempSync(join(tmpdir(), 'hitstate-'));
});
StateFile.after.each((ctx) => {
  rmSync(ctx.dir, { recursive: true, force: true });
});

StateFile(
  'when the simulator restarts with --state then HITs, assignments, money, tokens, timers and time continue',
  async ({ dir }) => {
    const stateFile = join(dir, 'sim.json');
    const first = await createSimulator({ clock: 'virtual', seed: 1, stateFile });
    let mturk = clientFor(first);
    const { HIT } = await mturk.send(
      new CreateHITCommand(
        hitInput({
          MaxAssignments: 3,
          UniqueRequestToken: 'tok-1',
          AutoApprovalDelayInSeconds: 7200,
          AssignmentDurationInSeconds: 600,
        }),
      ),
    );
    const hitId = HIT!.HITId!;
    const done = await first.workers.accept('AWORKERONE', { hitId });
    await first.workers.submit(done.assignmentId, { label: 'cat' });
    const pending = await first.workers.accept('AWORKERTWO', { hitId });
    await mturk.send(
      new SendBonusCommand({
        WorkerId: 'AWORKERONE',
        AssignmentId: done.assignmentId,
        BonusAmount: '1.00',
        Reason: 'r',
        UniqueRequestToken: 'bonus-1',
      }),
    );
    await mturk.send(new CreateWorkerBlockCommand({ WorkerId: 'ABADWORKER', Reason: 'spam' }));
    const { QualificationType } = await mturk.send(
      new CreateQualificationTypeCommand({ Name: 'Q', Description: 'd', QualificationTypeStatus: 'Active' }),
    );
    await mturk.send(
      new AssociateQualificationWithWorkerCommand({
        QualificationTypeId: QualificationType!.QualificationTypeId,
        WorkerId: 'AWORKERONE',
        IntegerValue: 7,
      }),
    );
    first.workers.setLocale('AWORKERTWO', { Country: 'CA', Subdivision: 'ON' });
    await first.advance(300);
    const savedNow = first.clock.now();
    const balance = await mturk.send(new GetAccountBalanceCommand({}));
    const before = first.inspect();
    mturk.destroy();
    await first.close();
    // SQLite whatever the name (the lock file beside it is how a second simulator is kept off).
    assert.equal(readdirSync(dir).sort(), ['sim.json', 'sim.json.lock']);
    assert.is(readFileSync(stateFile).subarray(0, 15).toString('latin1'), 'SQLite format 3');

    const second = await createSimulator({ clock: 'virtual', seed: 1, stateFile });
    mturk = clientFor(second);
    try {
      assert.is(second.clock.now(), savedNow);
      assert.equal(second.inspect(), before);
      assert.equal(
        await mturk.send(new GetAccountBalanceCommand({})).then((b) => [b.AvailableBalance, b.OnHoldBalance]),
        [balance.AvailableBalance, balance.OnHoldBalance],
      );
      assert.is((await mturk.send(new GetHITCommand({ HITId: hitId }))).HIT!.NumberOfAssignmentsPending, 1);
      const dup = await rejection(mturk.send(new CreateHITCommand(hitInput({ UniqueRequestToken: 'tok-1' }))));
      assert.is(dup.TurkErrorCode, 'AWS.MechanicalTurk.HitAlreadyExists');
      const dupBonus = await rejection(
        mturk.send(
          new SendBonusCommand({
            WorkerId: 'AWORKERONE',
            AssignmentId: done.assignmentId,
            BonusAmount: '1.00',
            Reason: 'r',
            UniqueRequestToken: 'bonus-1',
          }),
        ),
      );
      assert.is(dupBonus.TurkErrorCode, 'AWS.MechanicalTurk.DuplicateRequest');
      assert.is((await mturk.send(new ListWorkerBlocksCommand({}))).WorkerBlocks![0]!.WorkerId, 'ABADWORKER');
      assert.is(
        (
          await mturk.send(
            new GetQualificationScoreCommand({
              QualificationTypeId: QualificationType!.QualificationTypeId,
              WorkerId: 'AWORKERONE',
            }),
          )
        ).Qualification!.IntegerValue,
        7,
      );
      await second.advance(300);
      assert.is(
        second
          .inspect()
          .accounts.AKIDREQUESTERONE!.hits[0]!.assignments.find((a) => a.assignmentId === pending.assignmentId)!.status,
        'Abandoned',
      );
      await second.advance(7200);
      assert.is(
        (await mturk.send(new GetAssignmentCommand({ AssignmentId: done.assignmentId }))).Assignment!.AssignmentStatus,
        'Approved',
      );
      const fresh = (await mturk.send(new CreateHITCommand(hitInput()))).HIT!.HITId!;
      const known = new Set([
        hitId,
        done.assignmentId,
        pending.assignmentId,
        HIT!.HITTypeId,
        QualificationType!.QualificationTypeId,
      ]);
      assert.not.ok(known.has(fresh));
    } finally {
      mturk.destroy();
      await second.close();
    }
  },
);

StateFile(
  'when the state file is not a simulator state then the simulator refuses to start and leaves it untouched',
  async ({ dir }) => {
    const cases = [
      '{"format": "hitstate-simulator-state", "version": 1, "records": ',
      '{"hits": []}',
      '',
      '{"format":"hitstate-simulator-state","version":99}',
    ];
    for (const [i, text] of cases.entries()) {
      const file = join(dir, `bad-${i}.json`);
      writeFileSync(file, text);
      const err = await rejection(createSimulator({ stateFile: file, clock: 'virtual' }));
      assert.is(err.code, 'HST_ERR_SIM_STATE_CORRUPT');
      assert.ok(err.message.includes(file), err.message);
      assert.is((err.details as { file?: string }).file, file);
      assert.is(readFileSync(file, 'utf8'), text);
    }
  },
);

StateFile(
  'when --state is a JSON state of an older simulator then it is imported once, the JSON kept beside',
  async ({ dir }) => {
    // A JSON state as the simulator wrote it in December 2026 (made by test/fixtures/sim/make-state.ts).
    const fixture = fileURLToPath(new URL('../fixtures/sim/state-2026-12.json', import.meta.url));
    const json = JSON.parse(readFileSync(fixture, 'utf8')) as PersistedState;
    const stateFile = join(dir, 'state.json');
    copyFileSync(fixture, stateFile);
    const sim = await createSimulator({ clock: 'virtual', stateFile });
    const view = sim.inspect();
    const now = sim.clock.now();
    await sim.close();
    assert.is(now, json.clockMs, 'virtual time continues from the file');
    const hits = Object.values(view.accounts).flatMap((a) => a.hits);
    assert.equal(
      hits.map((h) => h.hitId).sort(),
      json.records.hits.map((h) => h.hitId).sort(),
      'every HIT, deleted too',
    );
    assert.equal(
      hits.flatMap((h) => h.assignments.map((a) => a.assignmentId)).sort(),
      json.records.assignments.map((a) => a.assignmentId).sort(),
    );
    assert.is(readFileSync(stateFile).subarray(0, 15).toString('latin1'), 'SQLite format 3', 'SQLite in its place');
    assert.is(
      readFileSync(`${stateFile}.imported.json`, 'utf8'),
      readFileSync(fixture, 'utf8'),
      'the JSON kept as it was',
    );
    // Once: the next start opens the database and finds the same state.
    const again = await createSimulator({ clock: 'virtual', stateFile });
    try {
      assert.equal(again.inspect(), view);
      assert.is(again.clock.now(), now);
    } finally {
      await again.close();
    }
  },
);

StateFile('without --state the state is an SQLite database in memory: nothing is written to disk', async ({ dir }) => {
  const before = readdirSync(dir);
  const sim = await createSimulator({ clock: 'virtual', seed: 3 });
  const mturk = clientFor(sim);
  try {
    const hitId = (await mturk.send(new CreateHITCommand(hitInput()))).HIT!.HITId!;
    const a = await sim.workers.accept('AWORKERMEMORY1', { hitId });
    await sim.workers.submit(a.assignmentId, { label: 'cat' });
    assert.is(
      (await mturk.send(new GetAssignmentCommand({ AssignmentId: a.assignmentId }))).Assignment!.AssignmentStatus,
      'Submitted',
    );
  } finally {
    mturk.destroy();
    await sim.close();
  }
  assert.equal(readdirSync(dir), before);
});

StateFile.run();
