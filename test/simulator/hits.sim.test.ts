import {
  CreateAdditionalAssignmentsForHITCommand,
  CreateHITCommand,
  CreateHITTypeCommand,
  CreateHITWithHITTypeCommand,
  CreateQualificationTypeCommand,
  DeleteHITCommand,
  GetHITCommand,
  ListHITsCommand,
  ListHITsForQualificationTypeCommand,
  ListReviewableHITsCommand,
  paginateListHITs,
  paginateListReviewableHITs,
  RequestError,
  UpdateExpirationForHITCommand,
  UpdateHITReviewStatusCommand,
  UpdateHITTypeOfHITCommand,
  type MTurkClient,
} from '@aws-sdk/client-mturk';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Simulator } from '../../src/simulator/index.js';
import { clientFor, externalQuestion, hitInput, rejection, startSim, typeInput } from './helpers.js';

const Hits = suite<{ sim: Simulator; mturk: MTurkClient }>('simulator HIT operations', {} as never);

Hits.before.each(async (ctx) => {
  ctx.sim = await startSim();
  ctx.mturk = clientFor(ctx.sim);
});
Hits.after.each(async (ctx) => {
  ctx.mturk.destroy();
  await ctx.sim.close();
});

Hits('when CreateHIT succeeds then the HIT echoes its properties with MTurk shapes', async ({ sim, mturk }) => {
  const { HIT } = await mturk.send(
    new CreateHITCommand(hitInput({ MaxAssignments: 3, RequesterAnnotation: 'run-1/unit-1', Reward: '1.5' })),
  );
  assert.match(HIT!.HITId!, /^[A-Z0-9]{30}$/);
  assert.match(HIT!.HITTypeId!, /^[A-Z0-9]{30}$/);
  // As on MTurk, the HIT group id is an id of its own (the worker pages take either as groupId).
  assert.match(HIT!.HITGroupId!, /^[A-Z0-9]{30}$/);
  assert.is.not(HIT!.HITGroupId, HIT!.HITTypeId);
  assert.is(HIT!.Reward, '1.5');
  assert.is(HIT!.RequesterAnnotation, 'run-1/unit-1');
  assert.is(HIT!.HITReviewStatus, 'NotReviewed');
  assert.is(HIT!.MaxAssignments, 3);
  assert.is(HIT!.Keywords, 'image, label');
  assert.is(HIT!.CreationTime!.getTime(), sim.clock.now());
  assert.is(HIT!.Expiration!.getTime(), sim.clock.now() + 3600_000);
  assert.equal(HIT!.QualificationRequirements, []);
  const again = await mturk.send(new GetHITCommand({ HITId: HIT!.HITId }));
  assert.equal(again.HIT, HIT);
});

Hits(
  'when CreateHITType is called twice with the same properties then the same HIT type comes back',
  async ({ mturk }) => {
    const a = await mturk.send(new CreateHITTypeCommand(typeInput()));
    const b = await mturk.send(new CreateHITTypeCommand(typeInput()));
    const c = await mturk.send(new CreateHITTypeCommand(typeInput({ Reward: '0.51' })));
    assert.is(a.HITTypeId, b.HITTypeId);
    assert.is.not(a.HITTypeId, c.HITTypeId);
    const { HIT } = await mturk.send(new CreateHITCommand(hitInput()));
    assert.is(HIT!.HITTypeId, a.HITTypeId);
  },
);

Hits('when a documented limit is broken then CreateHIT answers a 400 naming the member', async ({ mturk }) => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ Reward: '$1.00' }, /at 'reward'.*pattern/],
    [{ Reward: '0.001' }, /at 'reward'/],
    [{ Reward: '0.00' }, /Reward is too low/],
    [{ Title: 't'.repeat(129) }, /at 'title'.*less than or equal to 128/],
    [{ Title: '' }, /at 'title'.*greater than or equal to 1/],
    [{ Description: 'd'.repeat(2001) }, /at 'description'.*2000/],
    [{ Keywords: 'k'.repeat(1001) }, /at 'keywords'.*1000/],
    [{ AssignmentDurationInSeconds: 29 }, /at 'assignmentDurationInSeconds'.*greater than or equal to 30/],
    [{ AssignmentDurationInSeconds: 31_536_001 }, /at 'assignmentDurationInSeconds'.*31536000/],
    [{ LifetimeInSeconds: 10 }, /at 'lifetimeInSeconds'/],
    [{ AutoApprovalDelayInSeconds: 2_592_001 }, /at 'autoApprovalDelayInSeconds'/],
    [{ MaxAssignments: 0 }, /at 'maxAssignments'/],
    [{ RequesterAnnotation: 'a'.repeat(256) }, /at 'requesterAnnotation'.*255/],
    [{ UniqueRequestToken: 't'.repeat(65) }, /at 'uniqueRequestToken'.*64/],
    [{ Question: 'not xml <' }, /Question is not well-formed XML/],
    [{ Question: externalQuestion('http://example.com/task') }, /must use https/],
    [{ Question: `<x>${'a'.repeat(70_000)}</x>` }, /at 'question'.*65535 bytes/],
    [{ HITLayoutId: 'ABC' }, /HITLayoutId is not supported/],
    [
      {
        QualificationRequirements: [
          { QualificationTypeId: '00000000000000000071', Comparator: 'GreaterThan', IntegerValues: [1] },
        ],
      },
      /Worker_Locale qualification compares LocaleValues/,
    ],
  ];
  for (const [overrides, message] of cases) {
    const err = await rejection(mturk.send(new CreateHITCommand(hitInput(overrides) as never)));
    // A broken constraint of the model is a ValidationException; MTurk's own rules are RequestErrors.
    assert.ok(
      err instanceof RequestError || err.name === 'ValidationException',
      `${err.name}: ${JSON.stringify(overrides).slice(0, 80)}`,
    );
    assert.match(err.message, message);
  }
  assert.equal((await mturk.send(new ListHITsCommand({}))).HITs, []);
});

Hits(
  'when a UniqueRequestToken repeats within 24 hours then HitAlreadyExists names the HIT, and after 24 hours it is forgotten',
  async ({ sim, mturk }) => {
    const first = await mturk.send(new CreateHITCommand(hitInput({ UniqueRequestToken: 'run1-unit1' })));
    const repeat = await rejection(mturk.send(new CreateHITCommand(hitInput({ UniqueRequestToken: 'run1-unit1' }))));
    assert.instance(repeat, RequestError);
    assert.is(repeat.TurkErrorCode, 'AWS.MechanicalTurk.HitAlreadyExists');
    assert.ok(repeat.message.includes(first.HIT!.HITId!), repeat.message);
    const { HITTypeId } = await mturk.send(new CreateHITTypeCommand(typeInput()));
    const viaType = await rejection(
      mturk.send(
        new CreateHITWithHITTypeCommand({
          HITTypeId,
          LifetimeInSeconds: 600,
          Question: externalQuestion(),
          UniqueRequestToken: 'run1-unit1',
        }),
      ),
    );
    assert.is(viaType.TurkErrorCode, 'AWS.MechanicalTurk.HitAlreadyExists');
    assert.is((await mturk.send(new ListHITsCommand({}))).NumResults, 1);
    await sim.advance(24 * 3600 - 1);
    assert.is(
      (await rejection(mturk.send(new CreateHITCommand(hitInput({ UniqueRequestToken: 'run1-unit1' }))))).TurkErrorCode,
      'AWS.MechanicalTurk.HitAlreadyExists',
    );
    await sim.advance(1);
    const later = await mturk.send(new CreateHITCommand(hitInput({ UniqueRequestToken: 'run1-unit1' })));
    assert.is.not(later.HIT!.HITId, first.HIT!.HITId);
    const other = clientFor(sim, 'AKIDOTHERREQUESTER');
    try {
      await other.send(new CreateHITCommand(hitInput({ UniqueRequestToken: 'run1-unit1' })));
    } finally {
      other.destroy();
    }
  },
);

Hits(
  'when more than 100 HITs exist then every page with results has a NextToken and an empty page ends the listing',
  async ({ mturk }) => {
    const created: string[] = [];
    for (let i = 0; i < 230; i++)
      created.push((await mturk.send(new CreateHITCommand(hitInput({ RequesterAnnotation: `n${i}` })))).HIT!.HITId!);
    const pages: number[] = [];
    const seen: string[] = [];
    for await (const page of paginateListHITs({ client: mturk, pageSize: 100 }, {})) {
      pages.push(page.NumResults!);
      seen.push(...page.HITs!.map((h) => h.HITId!));
      // As real MTurk: a token on every page that has results, the last one included; none on the empty page.
      if (page.NumResults! > 0) assert.ok(page.NextToken);
      else assert.is(page.NextToken, undefined);
    }
    assert.equal(pages, [100, 100, 30, 0]);
    assert.equal(seen, created);
    const exact = await mturk.send(
      new ListHITsCommand({
        MaxResults: 100,
        NextToken: (await mturk.send(new ListHITsCommand({ MaxResults: 100 }))).NextToken,
      }),
    );
    assert.is(exact.NumResults, 100);
    const defaults = await mturk.send(new ListHITsCommand({}));
    assert.is(defaults.NumResults, 10);
    const bad = await rejection(mturk.send(new ListHITsCommand({ NextToken: 'garbage' })));
    assert.match(bad.message, /NextToken 'garbage' is not valid/);
    const wrongList = await rejection(mturk.send(new ListReviewableHITsCommand({ NextToken: exact.NextToken })));
    assert.match(wrongList.message, /not valid for this request/);
  },
);

Hits('when HITs are added while paging then the next page continues after the last HIT seen', async ({ mturk }) => {
  for (let i = 0; i < 5; i++) await mturk.send(new CreateHITCommand(hitInput()));
  const first = await mturk.send(new ListHITsCommand({ MaxResults: 3 }));
  const added = (await mturk.send(new CreateHITCommand(hitInput()))).HIT!.HITId;
  const second = await mturk.send(new ListHITsCommand({ MaxResults: 3, NextToken: first.NextToken }));
  assert.is(second.NumResults, 3);
  assert.is(second.HITs![2]!.HITId, added);
  assert.ok(second.NextToken);
  const end = await mturk.send(new ListHITsCommand({ MaxResults: 3, NextToken: second.NextToken }));
  assert.equal([end.NumResults, end.HITs, end.NextToken], [0, [], undefined]);
});

Hits(
  'when HITs become Reviewable then ListReviewableHITs lists them by type and status, and Reviewing moves them',
  async ({ sim, mturk }) => {
    const { HITTypeId: typeA } = await mturk.send(new CreateHITTypeCommand(typeInput()));
    const { HITTypeId: typeB } = await mturk.send(new CreateHITTypeCommand(typeInput({ Title: 'Other' })));
    const make = async (type: string | undefined) =>
      (
        await mturk.send(
          new CreateHITWithHITTypeCommand({ HITTypeId: type, LifetimeInSeconds: 60, Question: externalQuestion() }),
        )
      ).HIT!.HITId!;
    const a1 = await make(typeA);
    const b1 = await make(typeB);
    const a2 = await make(typeA);
    assert.equal((await mturk.send(new ListReviewableHITsCommand({}))).HITs, []);
    await sim.advance(60);
    const all = [];
    for await (const page of paginateListReviewableHITs({ client: mturk, pageSize: 2 }, {}))
      all.push(...page.HITs!.map((h) => h.HITId));
    assert.equal(all, [a1, b1, a2]);
    assert.equal(
      (await mturk.send(new ListReviewableHITsCommand({ HITTypeId: typeA }))).HITs!.map((h) => h.HITId),
      [a1, a2],
    );
    await mturk.send(new UpdateHITReviewStatusCommand({ HITId: a1 }));
    assert.is((await mturk.send(new GetHITCommand({ HITId: a1 }))).HIT!.HITStatus, 'Reviewing');
    assert.equal(
      (await mturk.send(new ListReviewableHITsCommand({ HITTypeId: typeA }))).HITs!.map((h) => h.HITId),
      [a2],
    );
    assert.equal(
      (await mturk.send(new ListReviewableHITsCommand({ Status: 'Reviewing' }))).HITs!.map((h) => h.HITId),
      [a1],
    );
    const twice = await rejection(mturk.send(new UpdateHITReviewStatusCommand({ HITId: a1 })));
    assert.match(twice.message, /state 'Reviewing'.*status of: Reviewable/);
    await mturk.send(new UpdateHITReviewStatusCommand({ HITId: a1, Revert: true }));
    assert.is((await mturk.send(new GetHITCommand({ HITId: a1 }))).HIT!.HITStatus, 'Reviewable');
    const revertAgain = await rejection(mturk.send(new UpdateHITReviewStatusCommand({ HITId: a1, Revert: true })));
    assert.match(revertAgain.message, /status of: Reviewing/);
  },
);

Hits(
  'when the expiration is moved then later times extend, earlier ones are refused and past ones expire at once',
  async ({ sim, mturk }) => {
    const { HIT } = await mturk.send(new CreateHITCommand(hitInput({ LifetimeInSeconds: 600 })));
    const hitId = HIT!.HITId!;
    const now = sim.clock.now();
    const shorter = await rejection(
      mturk.send(new UpdateExpirationForHITCommand({ HITId: hitId, ExpireAt: new Date(now + 300_000) })),
    );
    assert.match(shorter.message, /cannot shorten the expiration/);
    await mturk.send(new UpdateExpirationForHITCommand({ HITId: hitId, ExpireAt: new Date(now + 1200_000) }));
    await sim.advance(900);
    const mid = (await mturk.send(new GetHITCommand({ HITId: hitId }))).HIT!;
    assert.is(mid.HITStatus, 'Assignable');
    assert.is(mid.Expiration!.getTime(), now + 1200_000);
    const tooFar = await rejection(
      mturk.send(
        new UpdateExpirationForHITCommand({ HITId: hitId, ExpireAt: new Date(sim.clock.now() + 366 * 86400_000) }),
      ),
    );
    assert.match(tooFar.message, /at 'expireAt'/);
    await mturk.send(new UpdateExpirationForHITCommand({ HITId: hitId, ExpireAt: new Date(0) }));
    const expired = (await mturk.send(new GetHITCommand({ HITId: hitId }))).HIT!;
    assert.is(expired.HITStatus, 'Reviewable');
    assert.is(expired.Expiration!.getTime(), sim.clock.now());
    assert.is(expired.NumberOfAssignmentsAvailable, 1);
    await sim.advance(60);
    await mturk.send(new UpdateExpirationForHITCommand({ HITId: hitId, ExpireAt: new Date(0) }));
    assert.is(
      (await mturk.send(new GetHITCommand({ HITId: hitId }))).HIT!.Expiration!.getTime(),
      expired.Expiration!.getTime(),
    );
    await mturk.send(
      new UpdateExpirationForHITCommand({ HITId: hitId, ExpireAt: new Date(sim.clock.now() + 600_000) }),
    );
    assert.is((await mturk.send(new GetHITCommand({ HITId: hitId }))).HIT!.HITStatus, 'Assignable');
    await sim.workers.accept('AWORKERONE', { hitId });
  },
);

Hits(
  'when assignments are added then MaxAssignments grows, a HIT under 10 cannot reach 10, and a repeated token adds nothing',
  async ({ sim, mturk }) => {
    const { HIT } = await mturk.send(new CreateHITCommand(hitInput({ MaxAssignments: 2 })));
    const hitId = HIT!.HITId!;
    const a = await sim.workers.accept('AWORKERONE', { hitId });
    const b = await sim.workers.accept('AWORKERTWO', { hitId });
    await sim.workers.submit(a.assignmentId, { x: '1' });
    await sim.workers.submit(b.assignmentId, { x: '2' });
    assert.is((await mturk.send(new GetHITCommand({ HITId: hitId }))).HIT!.HITStatus, 'Reviewable');
    await mturk.send(
      new CreateAdditionalAssignmentsForHITCommand({
        HITId: hitId,
        NumberOfAdditionalAssignments: 3,
        UniqueRequestToken: 'more-1',
      }),
    );
    const grown = (await mturk.send(new GetHITCommand({ HITId: hitId }))).HIT!;
    assert.equal([grown.MaxAssignments, grown.NumberOfAssignmentsAvailable, grown.HITStatus], [5, 3, 'Assignable']);
    const dup = await rejection(
      mturk.send(
        new CreateAdditionalAssignmentsForHITCommand({
          HITId: hitId,
          NumberOfAdditionalAssignments: 3,
          UniqueRequestToken: 'more-1',
        }),
      ),
    );
    assert.is(dup.TurkErrorCode, 'AWS.MechanicalTurk.DuplicateRequest');
    const tooMany = await rejection(
      mturk.send(new CreateAdditionalAssignmentsForHITCommand({ HITId: hitId, NumberOfAdditionalAssignments: 5 })),
    );
    assert.is(tooMany.TurkErrorCode, 'AWS.MechanicalTurk.InvalidMaximumAssignmentsIncrease');
    assert.is((await mturk.send(new GetHITCommand({ HITId: hitId }))).HIT!.MaxAssignments, 5);
    const big = (await mturk.send(new CreateHITCommand(hitInput({ MaxAssignments: 10 })))).HIT!;
    await mturk.send(
      new CreateAdditionalAssignmentsForHITCommand({ HITId: big.HITId, NumberOfAdditionalAssignments: 5 }),
    );
    assert.is((await mturk.send(new GetHITCommand({ HITId: big.HITId }))).HIT!.MaxAssignments, 15);
  },
);

Hits(
  'when a HIT moves to another HIT type then it takes that type title, reward and requirements',
  async ({ mturk }) => {
    const { HIT } = await mturk.send(new CreateHITCommand(hitInput()));
    const { QualificationType } = await mturk.send(
      new CreateQualificationTypeCommand({ Name: 'Trained', Description: 'd', QualificationTypeStatus: 'Active' }),
    );
    const requirement = { QualificationTypeId: QualificationType!.QualificationTypeId!, Comparator: 'Exists' as const };
    const { HITTypeId } = await mturk.send(
      new CreateHITTypeCommand(
        typeInput({ Title: 'New title', Reward: '0.75', QualificationRequirements: [requirement] }),
      ),
    );
    await mturk.send(new UpdateHITTypeOfHITCommand({ HITId: HIT!.HITId, HITTypeId }));
    const moved = (await mturk.send(new GetHITCommand({ HITId: HIT!.HITId }))).HIT!;
    assert.equal([moved.HITTypeId, moved.Title, moved.Reward], [HITTypeId, 'New title', '0.75']);
    assert.equal(moved.QualificationRequirements, [requirement]);
    const forQual = await mturk.send(
      new ListHITsForQualificationTypeCommand({ QualificationTypeId: requirement.QualificationTypeId }),
    );
    assert.equal(
      forQual.HITs!.map((h) => h.HITId),
      [HIT!.HITId],
    );
    const unknown = await rejection(
      mturk.send(new UpdateHITTypeOfHITCommand({ HITId: HIT!.HITId, HITTypeId: '3ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ' })),
    );
    assert.match(unknown.message, /HITType 3Z+ does not exist/);
  },
);

Hits(
  'when DeleteHIT is called then only Reviewable or Reviewing HITs with nothing left to review are disposed',
  async ({ sim, mturk }) => {
    const { HIT } = await mturk.send(new CreateHITCommand(hitInput({ MaxAssignments: 2 })));
    const hitId = HIT!.HITId!;
    const assignable = await rejection(mturk.send(new DeleteHITCommand({ HITId: hitId })));
    assert.match(
      assignable.message,
      /^This HIT is currently in the state 'Assignable'\. {2}This operation can be called with a status of: Reviewing, Reviewable \(\d+\)$/,
    );
    const a = await sim.workers.accept('AWORKERONE', { hitId });
    await sim.workers.submit(a.assignmentId, { x: '1' });
    await mturk.send(new UpdateExpirationForHITCommand({ HITId: hitId, ExpireAt: new Date(0) }));
    const undecided = await rejection(mturk.send(new DeleteHITCommand({ HITId: hitId })));
    assert.match(undecided.message, /Submitted assignment/);
    await sim.advance(86_400);
    await mturk.send(new DeleteHITCommand({ HITId: hitId }));
    const disposed = (await mturk.send(new GetHITCommand({ HITId: hitId }))).HIT!;
    assert.is(disposed.HITStatus, 'Disposed');
    assert.equal((await mturk.send(new ListHITsCommand({}))).HITs, []);
    const again = await rejection(mturk.send(new DeleteHITCommand({ HITId: hitId })));
    assert.match(again.message, /state 'Disposed'/);
    const { HIT: empty } = await mturk.send(new CreateHITCommand(hitInput()));
    await mturk.send(new UpdateExpirationForHITCommand({ HITId: empty!.HITId, ExpireAt: new Date(0) }));
    await mturk.send(new DeleteHITCommand({ HITId: empty!.HITId }));
    const { HIT: reviewing } = await mturk.send(new CreateHITCommand(hitInput()));
    await mturk.send(new UpdateExpirationForHITCommand({ HITId: reviewing!.HITId, ExpireAt: new Date(0) }));
    await mturk.send(new UpdateHITReviewStatusCommand({ HITId: reviewing!.HITId }));
    await mturk.send(new DeleteHITCommand({ HITId: reviewing!.HITId }));
    assert.is(sim.inspect().accounts.AKIDREQUESTERONE!.hits.filter((h) => h.status === 'Disposed').length, 3);
  },
);

Hits.run();
