import {
  AssociateQualificationWithWorkerCommand,
  CreateHITCommand,
  CreateQualificationTypeCommand,
  CreateWorkerBlockCommand,
  DeleteQualificationTypeCommand,
  DeleteWorkerBlockCommand,
  DisassociateQualificationFromWorkerCommand,
  GetQualificationScoreCommand,
  GetQualificationTypeCommand,
  ListQualificationTypesCommand,
  ListWorkerBlocksCommand,
  ListWorkersWithQualificationTypeCommand,
  AcceptQualificationRequestCommand,
  ListQualificationRequestsCommand,
  RejectQualificationRequestCommand,
  paginateListQualificationTypes,
  paginateListWorkerBlocks,
  paginateListWorkersWithQualificationType,
  RequestError,
  UpdateQualificationTypeCommand,
  type MTurkClient,
  type QualificationRequirement,
} from '@aws-sdk/client-mturk';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Simulator } from '../../src/simulator/index.js';
import { clientFor, hitInput, postJson, rejection, startSim } from './helpers.js';

const Quals = suite<{ sim: Simulator; mturk: MTurkClient }>('simulator qualifications and blocks', {} as never);

Quals.before.each(async (ctx) => {
  ctx.sim = await startSim();
  ctx.mturk = clientFor(ctx.sim);
});
Quals.after.each(async (ctx) => {
  ctx.mturk.destroy();
  await ctx.sim.close();
});

const LOCALE = '00000000000000000071';

async function qualType(mturk: MTurkClient, name = 'Trained annotator'): Promise<string> {
  const { QualificationType } = await mturk.send(
    new CreateQualificationTypeCommand({
      Name: name,
      Description: 'Passed the training',
      Keywords: 'training',
      QualificationTypeStatus: 'Active',
    }),
  );
  return QualificationType!.QualificationTypeId!;
}

async function hitWith(mturk: MTurkClient, requirements: QualificationRequirement[], max = 20): Promise<string> {
  return (
    await mturk.send(new CreateHITCommand(hitInput({ MaxAssignments: max, QualificationRequirements: requirements })))
  ).HIT!.HITId!;
}

/** Whether the worker can accept the HIT (the assignment is returned right away so the slot stays free). */
async function canAccept(sim: Simulator, workerId: string, hitId: string): Promise<boolean> {
  try {
    const a = await sim.workers.accept(workerId, { hitId });
    await sim.workers.returnAssignment(a.assignmentId);
    return true;
  } catch (err) {
    assert.is((err as { code?: string }).code, 'HST_ERR_SIM_WORKER_NOT_ALLOWED', String(err));
    return false;
  }
}

Quals('when qualification types are created, read, updated and deleted then MTurk rules apply', async ({ mturk }) => {
  const id = await qualType(mturk);
  const got = (await mturk.send(new GetQualificationTypeCommand({ QualificationTypeId: id }))).QualificationType!;
  assert.equal(
    [got.Name, got.QualificationTypeStatus, got.IsRequestable, got.AutoGranted, got.Keywords],
    ['Trained annotator', 'Active', true, false, 'training'],
  );
  const dup = await rejection(
    mturk.send(
      new CreateQualificationTypeCommand({
        Name: 'Trained annotator',
        Description: 'x',
        QualificationTypeStatus: 'Active',
      }),
    ),
  );
  assert.match(dup.message, /^You have already created a QualificationType with this name\./);
  const noDuration = await rejection(
    mturk.send(
      new CreateQualificationTypeCommand({
        Name: 'Quiz',
        Description: 'x',
        QualificationTypeStatus: 'Active',
        Test: '<QuestionForm xmlns="http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/2017-11-06/QuestionForm.xsd"><Question><QuestionIdentifier>q</QuestionIdentifier></Question></QuestionForm>',
      }),
    ),
  );
  assert.match(noDuration.message, /TestDurationInSeconds/);
  const both = await rejection(
    mturk.send(
      new CreateQualificationTypeCommand({
        Name: 'Quiz',
        Description: 'x',
        QualificationTypeStatus: 'Active',
        AutoGranted: true,
        Test: '<QuestionForm xmlns="http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/2017-11-06/QuestionForm.xsd"><Question><QuestionIdentifier>q</QuestionIdentifier></Question></QuestionForm>',
        TestDurationInSeconds: 60,
      }),
    ),
  );
  assert.match(both.message, /both a Test and AutoGranted/);
  const updated = await mturk.send(
    new UpdateQualificationTypeCommand({
      QualificationTypeId: id,
      Description: 'New description',
      QualificationTypeStatus: 'Inactive',
      AutoGranted: true,
      AutoGrantedValue: 5,
    }),
  );
  assert.equal(
    [
      updated.QualificationType!.Description,
      updated.QualificationType!.QualificationTypeStatus,
      updated.QualificationType!.AutoGrantedValue,
    ],
    ['New description', 'Inactive', 5],
  );
  const locale = (await mturk.send(new GetQualificationTypeCommand({ QualificationTypeId: LOCALE })))
    .QualificationType!;
  assert.equal([locale.Name, locale.IsRequestable], ['Worker_Locale', false]);
  await mturk.send(new DeleteQualificationTypeCommand({ QualificationTypeId: id }));
  const gone = await rejection(mturk.send(new GetQualificationTypeCommand({ QualificationTypeId: id })));
  assert.match(gone.message, /does not exist/);
  assert.ok(await qualType(mturk));
});

Quals('when qualification types are listed then requestable, owner and query filters apply', async ({ sim, mturk }) => {
  const mine = await qualType(mturk, 'Image expert');
  const other = clientFor(sim, 'AKIDOTHERREQUESTER');
  try {
    const theirs = await qualType(other, 'Audio expert');
    await other.send(
      new CreateQualificationTypeCommand({
        Name: 'Hidden expert',
        Description: 'inactive',
        QualificationTypeStatus: 'Inactive',
      }),
    );
    const missing = await rejection(mturk.send(new ListQualificationTypesCommand({} as never)));
    assert.match(missing.message, /Value null at 'mustBeRequestable'/);
    const owned = await mturk.send(
      new ListQualificationTypesCommand({ MustBeRequestable: true, MustBeOwnedByCaller: true }),
    );
    assert.equal(
      owned.QualificationTypes!.map((q) => q.QualificationTypeId),
      [mine],
    );
    const requestable = await mturk.send(
      new ListQualificationTypesCommand({ MustBeRequestable: true, MaxResults: 100 }),
    );
    assert.equal(
      requestable.QualificationTypes!.map((q) => q.Name),
      ['Image expert', 'Audio expert'],
    );
    const everything = await mturk.send(
      new ListQualificationTypesCommand({ MustBeRequestable: false, MaxResults: 100 }),
    );
    assert.ok(everything.QualificationTypes!.some((q) => q.Name === 'Worker_Locale'));
    assert.ok(!everything.QualificationTypes!.some((q) => q.Name === 'Hidden expert'));
    const query = await mturk.send(new ListQualificationTypesCommand({ MustBeRequestable: true, Query: 'AUDIO' }));
    assert.equal(
      query.QualificationTypes!.map((q) => q.QualificationTypeId),
      [theirs],
    );
    const notOwner = await rejection(
      mturk.send(
        new AssociateQualificationWithWorkerCommand({
          QualificationTypeId: theirs,
          WorkerId: 'AWORKERONE',
          IntegerValue: 1,
        }),
      ),
    );
    assert.match(notOwner.message, /do not own QualificationType/);
  } finally {
    other.destroy();
  }
});

Quals('when a qualification is granted, read and revoked then scores and worker lists follow', async ({ mturk }) => {
  const id = await qualType(mturk);
  await mturk.send(
    new AssociateQualificationWithWorkerCommand({
      QualificationTypeId: id,
      WorkerId: 'AWORKERONE',
      IntegerValue: 85,
      SendNotification: false,
    }),
  );
  await mturk.send(new AssociateQualificationWithWorkerCommand({ QualificationTypeId: id, WorkerId: 'AWORKERTWO' }));
  const score = (
    await mturk.send(new GetQualificationScoreCommand({ QualificationTypeId: id, WorkerId: 'AWORKERONE' }))
  ).Qualification!;
  assert.equal([score.IntegerValue, score.Status, score.WorkerId], [85, 'Granted', 'AWORKERONE']);
  assert.ok(score.GrantTime instanceof Date);
  assert.is(
    (await mturk.send(new GetQualificationScoreCommand({ QualificationTypeId: id, WorkerId: 'AWORKERTWO' })))
      .Qualification!.IntegerValue,
    1,
  );
  const never = await rejection(
    mturk.send(new GetQualificationScoreCommand({ QualificationTypeId: id, WorkerId: 'ANEVERHELD' })),
  );
  assert.match(never.message, /does not exist/);
  await mturk.send(
    new DisassociateQualificationFromWorkerCommand({
      QualificationTypeId: id,
      WorkerId: 'AWORKERONE',
      Reason: 'quality dropped',
    }),
  );
  const revoked = await rejection(
    mturk.send(new GetQualificationScoreCommand({ QualificationTypeId: id, WorkerId: 'AWORKERONE' })),
  );
  assert.instance(revoked, RequestError);
  assert.match(revoked.message, /status of: Granted/);
  const again = await rejection(
    mturk.send(new DisassociateQualificationFromWorkerCommand({ QualificationTypeId: id, WorkerId: 'AWORKERONE' })),
  );
  assert.match(again.message, /status of: Granted/);
  const granted = await mturk.send(
    new ListWorkersWithQualificationTypeCommand({ QualificationTypeId: id, Status: 'Granted' }),
  );
  assert.equal(
    granted.Qualifications!.map((q) => q.WorkerId),
    ['AWORKERTWO'],
  );
  const all = await mturk.send(new ListWorkersWithQualificationTypeCommand({ QualificationTypeId: id }));
  assert.equal(
    all.Qualifications!.map((q) => [q.WorkerId, q.Status]),
    [
      ['AWORKERONE', 'Revoked'],
      ['AWORKERTWO', 'Granted'],
    ],
  );
  for (let i = 0; i < 120; i++)
    await mturk.send(
      new AssociateQualificationWithWorkerCommand({ QualificationTypeId: id, WorkerId: `AMANY${i}`, IntegerValue: i }),
    );
  let count = 0;
  for await (const page of paginateListWorkersWithQualificationType(
    { client: mturk, pageSize: 100 },
    { QualificationTypeId: id, Status: 'Granted' },
  ))
    count += page.NumResults!;
  assert.is(count, 121);
});

Quals(
  'when a HIT requires an integer qualification then only workers meeting it can accept',
  async ({ sim, mturk }) => {
    const id = await qualType(mturk);
    await mturk.send(
      new AssociateQualificationWithWorkerCommand({ QualificationTypeId: id, WorkerId: 'AHIGH', IntegerValue: 90 }),
    );
    await mturk.send(
      new AssociateQualificationWithWorkerCommand({ QualificationTypeId: id, WorkerId: 'ALOW', IntegerValue: 10 }),
    );
    const gte = await hitWith(mturk, [
      { QualificationTypeId: id, Comparator: 'GreaterThanOrEqualTo', IntegerValues: [50] },
    ]);
    assert.equal(
      [await canAccept(sim, 'AHIGH', gte), await canAccept(sim, 'ALOW', gte), await canAccept(sim, 'ANONE', gte)],
      [true, false, false],
    );
    const none = await hitWith(mturk, [{ QualificationTypeId: id, Comparator: 'DoesNotExist' }]);
    assert.equal([await canAccept(sim, 'AHIGH', none), await canAccept(sim, 'ANONE', none)], [false, true]);
    const inSet = await hitWith(mturk, [{ QualificationTypeId: id, Comparator: 'In', IntegerValues: [10, 20] }]);
    assert.equal([await canAccept(sim, 'AHIGH', inSet), await canAccept(sim, 'ALOW', inSet)], [false, true]);
    const refused = await rejection(sim.workers.accept('ALOW', { hitId: gte }));
    assert.match(refused.message, /Trained annotator GreaterThanOrEqualTo 50/);
    await mturk.send(new DisassociateQualificationFromWorkerCommand({ QualificationTypeId: id, WorkerId: 'AHIGH' }));
    assert.is(await canAccept(sim, 'AHIGH', gte), false);
    const unknown = await rejection(
      mturk.send(
        new CreateHITCommand(
          hitInput({
            QualificationRequirements: [
              { QualificationTypeId: '3UNKNOWNUNKNOWNUNKNOWNUNKNOWN1', Comparator: 'Exists' },
            ],
          }),
        ),
      ),
    );
    assert.match(unknown.message, /QualificationType 3UNKNOWN\w+ does not exist/);
  },
);

Quals(
  'when a HIT requires a locale then countries and subdivisions are compared with EqualTo, In and NotIn',
  async ({ sim, mturk }) => {
    sim.workers.setLocale('AINCA', { Country: 'US', Subdivision: 'CA' });
    sim.workers.setLocale('AINNY', { Country: 'US', Subdivision: 'NY' });
    sim.workers.setLocale('AINDE', { Country: 'DE' });
    const us = await hitWith(mturk, [
      { QualificationTypeId: LOCALE, Comparator: 'EqualTo', LocaleValues: [{ Country: 'US' }] },
    ]);
    assert.equal(
      [await canAccept(sim, 'AINCA', us), await canAccept(sim, 'ADEFAULTUS', us), await canAccept(sim, 'AINDE', us)],
      [true, true, false],
    );
    const westCoast = await hitWith(mturk, [
      {
        QualificationTypeId: LOCALE,
        Comparator: 'In',
        LocaleValues: [{ Country: 'US', Subdivision: 'CA' }, { Country: 'US', Subdivision: 'WA' }, { Country: 'DE' }],
      },
    ]);
    assert.equal(
      [
        await canAccept(sim, 'AINCA', westCoast),
        await canAccept(sim, 'AINNY', westCoast),
        await canAccept(sim, 'AINDE', westCoast),
      ],
      [true, false, true],
    );
    const notNy = await hitWith(mturk, [
      { QualificationTypeId: LOCALE, Comparator: 'NotIn', LocaleValues: [{ Country: 'US', Subdivision: 'NY' }] },
    ]);
    assert.equal([await canAccept(sim, 'AINCA', notNy), await canAccept(sim, 'AINNY', notNy)], [true, false]);
    const notUs = await hitWith(mturk, [
      { QualificationTypeId: LOCALE, Comparator: 'NotEqualTo', LocaleValues: [{ Country: 'US' }] },
    ]);
    assert.equal([await canAccept(sim, 'AINCA', notUs), await canAccept(sim, 'AINDE', notUs)], [false, true]);
    const tooMany = await rejection(
      mturk.send(
        new CreateHITCommand(
          hitInput({
            QualificationRequirements: [
              {
                QualificationTypeId: LOCALE,
                Comparator: 'EqualTo',
                LocaleValues: [{ Country: 'US' }, { Country: 'DE' }],
              },
            ],
          }),
        ),
      ),
    );
    assert.match(tooMany.message, /exactly one LocaleValue/);
    const badCountry = await rejection(
      mturk.send(
        new CreateHITCommand(
          hitInput({
            QualificationRequirements: [
              { QualificationTypeId: LOCALE, Comparator: 'In', LocaleValues: [{ Country: 'usa' }] },
            ],
          }),
        ),
      ),
    );
    assert.match(badCountry.message, /localeValues\.1\.member\.country/);
  },
);

Quals(
  'when requirements are combined with system qualifications then approval rate and Masters count',
  async ({ sim, mturk }) => {
    const masters = '2F1QJWKUDD8XADTFD2Q0G6UTO95ALH';
    const hit = await hitWith(mturk, [
      { QualificationTypeId: '000000000000000000L0', Comparator: 'GreaterThanOrEqualTo', IntegerValues: [95] },
      { QualificationTypeId: masters, Comparator: 'Exists', ActionsGuarded: 'DiscoverPreviewAndAccept' },
    ]);
    assert.is(await canAccept(sim, 'ANEWWORKER', hit), false);
    sim.workers.setSystemQualification('ANEWWORKER', masters, 1);
    assert.is(await canAccept(sim, 'ANEWWORKER', hit), true);
    sim.workers.setSystemQualification('ANEWWORKER', '000000000000000000L0', 90);
    assert.is(await canAccept(sim, 'ANEWWORKER', hit), false);
    sim.workers.setSystemQualification('ANEWWORKER', '000000000000000000L0', null);
    assert.is(await canAccept(sim, 'ANEWWORKER', hit), true);
    // Both members together are accepted (real GetHIT answers carried both); ActionsGuarded decides.
    const both = await mturk.send(
      new CreateHITCommand(
        hitInput({
          QualificationRequirements: [
            { QualificationTypeId: masters, Comparator: 'Exists', ActionsGuarded: 'Accept', RequiredToPreview: true },
          ],
        }),
      ),
    );
    assert.equal(both.HIT!.QualificationRequirements, [
      { QualificationTypeId: masters, Comparator: 'Exists', RequiredToPreview: true, ActionsGuarded: 'Accept' },
    ]);
  },
);

Quals(
  'when a worker is blocked then they cannot accept the requester HITs, and unblocking restores it',
  async ({ sim, mturk }) => {
    const hit = await hitWith(mturk, []);
    await mturk.send(new CreateWorkerBlockCommand({ WorkerId: 'ABADWORKER', Reason: 'spam answers' }));
    const refused = await rejection(sim.workers.accept('ABADWORKER', { hitId: hit }));
    assert.is(refused.code, 'HST_ERR_SIM_WORKER_NOT_ALLOWED');
    assert.match(refused.message, /blocked/);
    const other = clientFor(sim, 'AKIDOTHERREQUESTER');
    try {
      const theirs = (await other.send(new CreateHITCommand(hitInput()))).HIT!.HITId!;
      assert.ok(await sim.workers.accept('ABADWORKER', { hitId: theirs }));
    } finally {
      other.destroy();
    }
    const noReason = await rejection(mturk.send(new CreateWorkerBlockCommand({ WorkerId: 'ABADWORKER' } as never)));
    assert.match(noReason.message, /Value null at 'reason'/);
    const blocks = await mturk.send(new ListWorkerBlocksCommand({}));
    assert.equal(blocks.WorkerBlocks, [{ WorkerId: 'ABADWORKER', Reason: 'spam answers' }]);
    await mturk.send(new DeleteWorkerBlockCommand({ WorkerId: 'ABADWORKER', Reason: 'appeal accepted' }));
    await mturk.send(new DeleteWorkerBlockCommand({ WorkerId: 'ANEVERBLOCKED' }));
    assert.ok(await sim.workers.accept('ABADWORKER', { hitId: hit }));
    for (let i = 0; i < 105; i++)
      await mturk.send(new CreateWorkerBlockCommand({ WorkerId: `ABLOCKED${i}`, Reason: 'r' }));
    const sizes = [];
    for await (const page of paginateListWorkerBlocks({ client: mturk, pageSize: 100 }, {}))
      sizes.push(page.NumResults);
    assert.equal(sizes, [100, 5, 0]);
  },
);

Quals(
  'when workers request qualifications then auto-granted types grant at once and others wait for accept or reject',
  async ({ sim, mturk }) => {
    const { QualificationType: auto } = await mturk.send(
      new CreateQualificationTypeCommand({
        Name: 'Open',
        Description: 'd',
        QualificationTypeStatus: 'Active',
        AutoGranted: true,
        AutoGrantedValue: 3,
      }),
    );
    assert.equal(await sim.workers.requestQualification('AWORKERONE', auto!.QualificationTypeId!), {
      status: 'Granted',
    });
    assert.is(
      (
        await mturk.send(
          new GetQualificationScoreCommand({ QualificationTypeId: auto!.QualificationTypeId, WorkerId: 'AWORKERONE' }),
        )
      ).Qualification!.IntegerValue,
      3,
    );
    const { QualificationType: manual } = await mturk.send(
      new CreateQualificationTypeCommand({
        Name: 'Reviewed',
        Description: 'd',
        QualificationTypeStatus: 'Active',
        RetryDelayInSeconds: 3600,
      }),
    );
    const typeId = manual!.QualificationTypeId!;
    const one = await sim.workers.requestQualification('AWORKERONE', typeId);
    const two = (
      await postJson(`${sim.url}/_sim/workers/AWORKERTWO/qualification-requests`, { qualificationTypeId: typeId })
    ).json;
    assert.equal([one.status, two.status], ['Pending', 'Pending']);
    const again = await postJson(`${sim.url}/_sim/workers/AWORKERTWO/qualification-requests`, {
      qualificationTypeId: typeId,
    });
    assert.is(again.status, 409);
    assert.is(again.json.error.code, 'HST_ERR_SIM_QUALIFICATION_REQUEST_REFUSED');
    const listed = await mturk.send(new ListQualificationRequestsCommand({ QualificationTypeId: typeId }));
    assert.equal(
      listed.QualificationRequests!.map((r) => [r.QualificationRequestId, r.WorkerId]),
      [
        [one.qualificationRequestId, 'AWORKERONE'],
        [two.qualificationRequestId, 'AWORKERTWO'],
      ],
    );
    assert.ok(listed.QualificationRequests![0]!.SubmitTime instanceof Date);
    await mturk.send(
      new AcceptQualificationRequestCommand({ QualificationRequestId: one.qualificationRequestId, IntegerValue: 9 }),
    );
    await mturk.send(
      new RejectQualificationRequestCommand({ QualificationRequestId: two.qualificationRequestId, Reason: 'Not yet' }),
    );
    assert.is(
      (await mturk.send(new GetQualificationScoreCommand({ QualificationTypeId: typeId, WorkerId: 'AWORKERONE' })))
        .Qualification!.IntegerValue,
      9,
    );
    assert.equal((await mturk.send(new ListQualificationRequestsCommand({}))).QualificationRequests, []);
    const decided = await rejection(
      mturk.send(new AcceptQualificationRequestCommand({ QualificationRequestId: two.qualificationRequestId })),
    );
    assert.match(decided.message, /is Rejected\. This operation can be called with a status of: Submitted/);
    const tooSoon = await rejection(sim.workers.requestQualification('AWORKERTWO', typeId));
    assert.match(tooSoon.message, /retry delay runs until/);
    await sim.advance(3600);
    assert.is((await sim.workers.requestQualification('AWORKERTWO', typeId)).status, 'Pending');
    const other = clientFor(sim, 'AKIDOTHERREQUESTER');
    try {
      const notTheirs = await rejection(
        other.send(new AcceptQualificationRequestCommand({ QualificationRequestId: one.qualificationRequestId })),
      );
      assert.match(notTheirs.message, /does not exist/);
    } finally {
      other.destroy();
    }
    await mturk.send(new DeleteQualificationTypeCommand({ QualificationTypeId: typeId }));
    assert.equal(
      sim.inspect().accounts.AKIDREQUESTERONE!.qualificationRequests.map((r) => r.status),
      ['Granted', 'Rejected', 'Rejected'],
    );
    const pages = [];
    for await (const page of paginateListQualificationTypes(
      { client: mturk, pageSize: 1 },
      { MustBeRequestable: true, MustBeOwnedByCaller: true },
    ))
      pages.push(page.QualificationTypes!.map((q) => q.Name));
    assert.equal(pages, [['Open'], []]);
  },
);

Quals.run();
