import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { isHitstateError } from '../../src/errors.js';
import type { MTurkGateway } from '../../src/mturk/gateway.js';
import { compensationQualificationName } from '../../src/mturk/ops-qualifications.js';
import { simWorld, TASK_URL, value, type SimWorld } from './sim-helpers.js';

const Workers = suite<{ w: SimWorld }>('gateway workers and qualifications (simulator)', {
  w: undefined as unknown as SimWorld,
});

Workers.before(async (ctx) => {
  ctx.w = await simWorld();
});
Workers.after(async (ctx) => {
  await ctx.w.close();
});

const worker = (i: number): string => `A2W${String(i).padStart(10, '0')}`;
const refused = (p: Promise<unknown>): Promise<boolean> =>
  p.then(
    () => false,
    (e: unknown) => isHitstateError(e),
  );

async function approvedWork(w: SimWorld, gw: MTurkGateway, workerId: string): Promise<void> {
  const type = value(
    await w.run(
      gw.createHITType({
        title: 'Warm-up',
        description: 'Warm-up task',
        rewardUsd: '0.10',
        assignmentDurationSec: 600,
      }),
    ),
  );
  const hit = value(
    await w.run(
      gw.createHITWithHITType({
        hitTypeId: type.hitTypeId,
        runId: 'warm',
        unitId: workerId,
        question: { externalUrl: TASK_URL },
      }),
    ),
  ).hit;
  const { assignmentId } = await w.sim.workers.accept(workerId, { hitId: hit.hitId });
  await w.sim.workers.submit(assignmentId, { a: '1' });
  value(await w.run(gw.approveAssignment({ assignmentId })));
}

Workers(
  'when more than 100 workers are blocked then is-blocked reads every page, and unblock lifts it',
  async ({ w }) => {
    const gw = w.gateway('blk', 'custom', { governor: { ratePerSecond: 50, burst: 50 } });
    const blocked = await w.run(
      Promise.all(Array.from({ length: 120 }, (_, i) => gw.blockWorker({ workerId: worker(i), reason: `spam ${i}` }))),
    );
    assert.ok(blocked.every((b) => b.status === 'ok'));
    w.sim.resetStats();
    assert.equal(value(await w.run(gw.isWorkerBlocked(worker(115)))), { blocked: true, reason: 'spam 115' });
    assert.is(w.sim.stats().calls.ListWorkerBlocks, 2);
    assert.equal(value(await w.run(gw.isWorkerBlocked(worker(999)))), { blocked: false });
    const type = value(
      await w.run(
        gw.createHITType({ title: 'Blocked test', description: 'x', rewardUsd: '0.10', assignmentDurationSec: 600 }),
      ),
    );
    const hit = value(
      await w.run(
        gw.createHITWithHITType({
          hitTypeId: type.hitTypeId,
          runId: 'blk',
          unitId: 'u',
          question: { externalUrl: TASK_URL },
        }),
      ),
    ).hit;
    assert.ok(await refused(w.sim.workers.accept(worker(115), { hitId: hit.hitId })));
    value(await w.run(gw.unblockWorker({ workerId: worker(115), reason: 'appeal accepted' })));
    assert.equal(value(await w.run(gw.isWorkerBlocked(worker(115)))), { blocked: false });
    assert.is((await w.sim.workers.accept(worker(115), { hitId: hit.hitId })).hitId, hit.hitId);
  },
);

Workers(
  'when a qualification is found or created then the name is exact (no sandbox suffix) and the id is stable',
  async ({ w }) => {
    const gw = w.gateway('qual1', 'sandbox');
    const created = value(
      await w.run(gw.findOrCreateQualificationType({ name: 'hitstate-onboarded', description: 'Passed onboarding' })),
    );
    assert.equal(
      [created.created, created.qualificationType.ownedByCaller, created.qualificationType.name],
      [true, true, 'hitstate-onboarded'],
    );
    assert.equal(
      w.sim.inspect().accounts.AKIDQUAL1!.qualificationTypes.map((q) => q.name),
      ['hitstate-onboarded'],
    );
    const again = value(
      await w.run(gw.findOrCreateQualificationType({ name: 'hitstate-onboarded', description: 'Passed onboarding' })),
    );
    assert.equal(
      [again.created, again.qualificationType.qualificationTypeId],
      [false, created.qualificationType.qualificationTypeId],
    );
    assert.is(value(await w.run(gw.findQualificationType({ name: 'hitstate-ONBOARDED' }))), null);
  },
);

Workers('when many types share a prefix then the exact name is found beyond the first page', async ({ w }) => {
  const gw = w.gateway('qual2', 'custom', { governor: { ratePerSecond: 50, burst: 50 } });
  const made = await w.run(
    Promise.all(
      Array.from({ length: 105 }, (_, i) =>
        gw.findOrCreateQualificationType({ name: `screen-${String(i).padStart(3, '0')}`, description: 'noise' }),
      ),
    ),
  );
  assert.ok(made.every((m) => m.status === 'ok'));
  const exact = value(await w.run(gw.findOrCreateQualificationType({ name: 'screen', description: 'the one' })));
  assert.ok(exact.created);
  w.sim.resetStats();
  const found = value(await w.run(gw.findQualificationType({ name: 'screen' })));
  assert.is(found?.qualificationTypeId, exact.qualificationType.qualificationTypeId);
  assert.ok((w.sim.stats().calls.ListQualificationTypes ?? 0) >= 2);
});

Workers(
  'when another requester owns the name then find and find-or-create refuse unless foreign types are allowed',
  async ({ w }) => {
    const owner = w.gateway('qualowner');
    const other = w.gateway('qualother');
    const theirs = value(
      await w.run(owner.findOrCreateQualificationType({ name: 'shared-masters', description: 'theirs' })),
    ).qualificationType;
    const found = await w.run(other.findQualificationType({ name: 'shared-masters' }));
    assert.equal(
      [
        found.status,
        (found as { code?: string }).code,
        (found as { qualificationTypeId?: string }).qualificationTypeId,
      ],
      ['invalid', 'HST_ERR_MTURK_QUALIFICATION_NOT_OWNED', theirs.qualificationTypeId],
    );
    const create = await w.run(other.findOrCreateQualificationType({ name: 'shared-masters', description: 'mine?' }));
    assert.is((create as { code?: string }).code, 'HST_ERR_MTURK_QUALIFICATION_NOT_OWNED');
    assert.is(w.sim.inspect().accounts.AKIDQUALOTHER?.qualificationTypes.length ?? 0, 0);
    const allowed = value(await w.run(other.findQualificationType({ name: 'shared-masters', allowForeign: true })));
    assert.equal([allowed?.qualificationTypeId, allowed?.ownedByCaller], [theirs.qualificationTypeId, false]);
  },
);

Workers(
  'when two callers find-or-create the same name at once then one type exists and both get its id',
  async ({ w }) => {
    const a = w.gateway('race');
    const [x, y] = await w.run(
      Promise.all([
        a.findOrCreateQualificationType({ name: 'raced', description: 'r' }),
        a.findOrCreateQualificationType({ name: 'raced', description: 'r' }),
      ]),
    );
    assert.is(value(x!).qualificationType.qualificationTypeId, value(y!).qualificationType.qualificationTypeId);
    assert.equal([value(x!).created, value(y!).created].sort(), [false, true]);
    assert.is(w.sim.inspect().accounts.AKIDRACE!.qualificationTypes.length, 1);
  },
);

Workers(
  'when a qualification is granted and revoked then MTurk lets only holders accept the gated HIT',
  async ({ w }) => {
    const gw = w.gateway('grant');
    const q = value(
      await w.run(gw.findOrCreateQualificationType({ name: 'vetted', description: 'Vetted workers' })),
    ).qualificationType;
    value(
      await w.run(
        gw.associateQualificationWithWorker({
          qualificationTypeId: q.qualificationTypeId,
          workerId: worker(500),
          value: 3,
        }),
      ),
    );
    const grant = w.sim.inspect().accounts.AKIDGRANT!.qualifications.find((g) => g.workerId === worker(500))!;
    assert.equal([grant.status, grant.integerValue], ['Granted', 3]);
    const type = value(
      await w.run(
        gw.createHITType({
          title: 'Vetted only',
          description: 'x',
          rewardUsd: '0.10',
          assignmentDurationSec: 600,
          qualificationRequirements: [
            { qualificationTypeId: q.qualificationTypeId, comparator: 'GreaterThanOrEqualTo', value: 2 },
          ],
        }),
      ),
    );
    const hits = [];
    for (const unitId of ['a', 'b'])
      hits.push(
        value(
          await w.run(
            gw.createHITWithHITType({
              hitTypeId: type.hitTypeId,
              runId: 'g',
              unitId,
              question: { externalUrl: TASK_URL },
            }),
          ),
        ).hit,
      );
    assert.ok(await refused(w.sim.workers.accept(worker(501), { hitId: hits[0]!.hitId })));
    assert.is((await w.sim.workers.accept(worker(500), { hitId: hits[0]!.hitId })).hitId, hits[0]!.hitId);
    value(
      await w.run(
        gw.disassociateQualificationFromWorker({
          qualificationTypeId: q.qualificationTypeId,
          workerId: worker(500),
          reason: 'audit',
        }),
      ),
    );
    assert.ok(await refused(w.sim.workers.accept(worker(500), { hitId: hits[1]!.hitId })));
    const never = await w.run(
      gw.disassociateQualificationFromWorker({ qualificationTypeId: q.qualificationTypeId, workerId: worker(502) }),
    );
    assert.is(never.status, 'notFound');
    value(await w.run(gw.deleteQualificationType(q.qualificationTypeId)));
    assert.is(value(await w.run(gw.findQualificationType({ name: 'vetted' }))), null);
  },
);

Workers('when the balance is read then dollars and cents agree', async ({ w }) => {
  const gw = w.gateway('balance');
  const b = value(await w.run(gw.getAccountBalance()));
  assert.equal([b.availableUsd, b.availableCents], ['10000.00', 1_000_000]);
});

Workers(
  'when workers are notified then known workers get the message, strangers fail, and 150 ids take two calls',
  async ({ w }) => {
    const gw = w.gateway('notify');
    await approvedWork(w, gw, worker(700));
    w.sim.resetStats();
    const ids = [worker(700), ...Array.from({ length: 149 }, (_, i) => worker(800 + i))];
    const r = value(
      await w.run(gw.notifyWorkers({ subject: 'Thanks', messageText: 'More work soon', workerIds: ids })),
    );
    assert.is(r.sent, 1);
    assert.is(r.failures.length, 149);
    assert.ok(r.failures.every((f) => f.code === 'HardFailure'));
    assert.is(w.sim.stats().calls.NotifyWorkers, 2);
    assert.equal(
      w.sim.inspect().workers[worker(700)]!.messages.map((m) => m.subject),
      ['Thanks'],
    );
  },
);

Workers(
  'when a compensation HIT is created then only that worker can take it, and a repeat creates nothing new',
  async ({ w }) => {
    const gw = w.gateway('comp');
    await approvedWork(w, gw, worker(600));
    const input = {
      workerId: worker(600),
      rewardUsd: '2.00',
      reason: 'Your returned HIT 7 was not your fault.',
      runId: 'run-c',
      key: 'returned-7',
    };
    const c = value(await w.run(gw.createCompensationHIT(input)));
    assert.ok(c.notified);
    const account = w.sim.inspect().accounts.AKIDCOMP!;
    assert.equal(
      account.qualificationTypes.filter(
        (q) => q.name === compensationQualificationName('run-c', worker(600), 'returned-7'),
      ).length,
      1,
    );
    assert.not.ok(
      account.qualificationTypes.some((q) => q.name.includes(worker(600))),
      'the WorkerId never appears in a public name',
    );
    const hitType = account.hitTypes.find((t) => t.hitTypeId === c.hitTypeId)!;
    assert.equal(
      hitType.qualificationRequirements.map((q) => [q.QualificationTypeId, q.Comparator]),
      [[c.qualificationTypeId, 'Exists']],
    );
    assert.ok(await refused(w.sim.workers.accept(worker(601), { hitId: c.hitId })));
    const { assignmentId } = await w.sim.workers.accept(worker(600), { hitId: c.hitId });
    await w.sim.workers.submit(assignmentId, { workerid: worker(600) });
    const again = await w.run(gw.createCompensationHIT(input));
    assert.equal([again.status, (again as { hitId?: string }).hitId], ['alreadyDone', c.hitId]);
    assert.is(w.sim.inspect().accounts.AKIDCOMP!.hits.filter((h) => h.hitTypeId === c.hitTypeId).length, 1);
  },
);

Workers.run();
