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
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createSimulator } from '../../src/simulator/index.js';
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
    assert.equal(readdirSync(dir), ['sim.json']);
    assert.is(JSON.parse(readFileSync(stateFile, 'utf8')).format, 'hitstate-simulator-state');

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

StateFile.run();
