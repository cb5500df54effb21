// MTurk fidelity (issue 14): what real MTurk answered, checked twice for each behaviour: through
// the unmodified @aws-sdk/client-mturk, and by TypeScript ports of the client code that depends
// on it (Mephisto's get_outstanding_hits, a `while 'NextToken' in result` loop, psiTurk's
// empty-feedback reject, a data-collection script's qualification requirements). The same client
// code runs in Python against the server in boto3.sim.test.ts.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import {
  AssociateQualificationWithWorkerCommand,
  CreateHITCommand,
  CreateQualificationTypeCommand,
  CreateWorkerBlockCommand,
  GetAssignmentCommand,
  GetHITCommand,
  ListAssignmentsForHITCommand,
  ListBonusPaymentsCommand,
  ListHITsCommand,
  ListHITsForQualificationTypeCommand,
  ListQualificationRequestsCommand,
  ListQualificationTypesCommand,
  ListReviewableHITsCommand,
  ListWorkerBlocksCommand,
  ListWorkersWithQualificationTypeCommand,
  type MTurkClient,
  RejectAssignmentCommand,
  RequestError,
  SendBonusCommand,
  ApproveAssignmentCommand,
  paginateListHITs,
} from '@aws-sdk/client-mturk';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseAnswers } from '../../src/mturk/answer-xml.js';
import type { Simulator } from '../../src/simulator/index.js';
import { MODEL_OPERATIONS } from '../../src/simulator/operations/index.js';
import { MODEL_MEMBERS } from '../../src/simulator/required-members.js';
import { clientFor, hitInput, rawCall, rejection, startSim } from './helpers.js';

const Fidelity = suite<{ sim: Simulator; mturk: MTurkClient }>('simulator MTurk fidelity');

Fidelity.before.each(async (ctx) => {
  ctx.sim = await startSim();
  ctx.mturk = clientFor(ctx.sim);
});
Fidelity.after.each(async (ctx) => {
  ctx.mturk.destroy();
  await ctx.sim.close();
});

/** Python's `d[key]`: a missing key raises (KeyError), it is never undefined. */
function key<T extends object, K extends keyof T>(d: T, k: K): NonNullable<T[K]> {
  if (!(k in d) || d[k] === undefined) throw new Error(`KeyError: '${String(k)}'`);
  return d[k] as NonNullable<T[K]>;
}

/**
 * Mephisto's `mturk_utils.get_outstanding_hits`, ported: list 100 HITs, then keep asking with the
 * previous page's NextToken while the previous page had HITs; group them by HITTypeId.
 */
async function getOutstandingHits(client: MTurkClient): Promise<Record<string, unknown[]>> {
  let newHits = await client.send(new ListHITsCommand({ MaxResults: 100 }));
  const allHits = [...key(newHits, 'HITs')];
  while (key(newHits, 'HITs').length > 0) {
    newHits = await client.send(new ListHITsCommand({ MaxResults: 100, NextToken: key(newHits, 'NextToken') }));
    allHits.push(...key(newHits, 'HITs'));
  }
  const byType: Record<string, unknown[]> = {};
  for (const h of allHits) (byType[key(h, 'HITTypeId')] ??= []).push(h);
  return byType;
}

/** The `while 'NextToken' in result` loop of review scripts, ported (ListAssignmentsForHIT). */
async function allAssignmentIds(client: MTurkClient, hitId: string): Promise<string[]> {
  let result = await client.send(new ListAssignmentsForHITCommand({ HITId: hitId, MaxResults: 100 }));
  const ids = key(result, 'Assignments').map((a) => key(a, 'AssignmentId'));
  while ('NextToken' in result) {
    result = await client.send(
      new ListAssignmentsForHITCommand({ HITId: hitId, MaxResults: 100, NextToken: result.NextToken }),
    );
    ids.push(...key(result, 'Assignments').map((a) => key(a, 'AssignmentId')));
  }
  return ids;
}

/**
 * psiTurk's `amt_services.reject_assignment`, ported: RejectAssignment with an empty
 * RequesterFeedback; any exception is reported as a failure (its `amt_service_response`).
 */
async function psiturkRejectAssignment(
  client: MTurkClient,
  assignmentId: string,
): Promise<{ success: boolean; exception?: unknown }> {
  try {
    await client.send(new RejectAssignmentCommand({ AssignmentId: assignmentId, RequesterFeedback: '' }));
    return { success: true };
  } catch (exception) {
    return { success: false, exception };
  }
}

/** The qualification requirements a published data-collection script sends with every HIT. */
const TYPICAL_QUALIFICATIONS = [
  {
    QualificationTypeId: '00000000000000000040',
    Comparator: 'GreaterThanOrEqualTo',
    IntegerValues: [500],
    RequiredToPreview: false,
    ActionsGuarded: 'Accept',
  },
  {
    QualificationTypeId: '000000000000000000L0',
    Comparator: 'GreaterThanOrEqualTo',
    IntegerValues: [98],
    RequiredToPreview: false,
    ActionsGuarded: 'Accept',
  },
  {
    QualificationTypeId: '00000000000000000071',
    Comparator: 'EqualTo',
    LocaleValues: [{ Country: 'US' }],
    RequiredToPreview: false,
    ActionsGuarded: 'Accept',
  },
] as const;

async function createHits(mturk: MTurkClient, n: number, overrides: Record<string, unknown> = {}): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++)
    ids.push((await mturk.send(new CreateHITCommand(hitInput(overrides) as never))).HIT!.HITId!);
  return ids;
}

async function submitted(sim: Simulator, hitId: string, workerId: string, fields: Record<string, string> = {}) {
  const { assignmentId } = await sim.workers.accept(workerId, { hitId });
  await sim.workers.submit(assignmentId, { label: 'cat', ...fields });
  return assignmentId;
}

async function previewRefused(sim: Simulator, hitTypeId: string, hitId: string, workerId: string): Promise<boolean> {
  const res = await fetch(`${sim.url}/mturk/preview?groupId=${hitTypeId}&hitId=${hitId}&workerId=${workerId}`);
  return (await res.text()).includes('You cannot preview this HIT');
}

Fidelity(
  'when any of the nine List operations has results then every page with results has a NextToken and an empty page ends it',
  async ({ sim, mturk }) => {
    const { QualificationType } = await mturk.send(
      new CreateQualificationTypeCommand({
        Name: 'Trained',
        Description: 'Passed the training',
        QualificationTypeStatus: 'Active',
      }),
    );
    const qualId = QualificationType!.QualificationTypeId!;
    await mturk.send(
      new AssociateQualificationWithWorkerCommand({
        QualificationTypeId: qualId,
        WorkerId: 'AWORKERONE',
        IntegerValue: 1,
      }),
    );
    const [hitId] = await createHits(mturk, 1, {
      QualificationRequirements: [{ QualificationTypeId: qualId, Comparator: 'Exists' }],
    });
    const assignmentId = await submitted(sim, hitId!, 'AWORKERONE');
    await mturk.send(
      new SendBonusCommand({
        WorkerId: 'AWORKERONE',
        AssignmentId: assignmentId,
        BonusAmount: '0.10',
        Reason: 'thanks',
      }),
    );
    await mturk.send(new CreateWorkerBlockCommand({ WorkerId: 'ASPAMMER', Reason: 'spam' }));
    await sim.workers.requestQualification('AWORKERTWO', qualId);

    const lists: [string, (token?: string) => Promise<{ NumResults?: number; NextToken?: string }>][] = [
      ['ListHITs', (NextToken) => mturk.send(new ListHITsCommand({ MaxResults: 100, NextToken }))],
      ['ListReviewableHITs', (NextToken) => mturk.send(new ListReviewableHITsCommand({ MaxResults: 100, NextToken }))],
      [
        'ListAssignmentsForHIT',
        (NextToken) => mturk.send(new ListAssignmentsForHITCommand({ HITId: hitId, MaxResults: 100, NextToken })),
      ],
      [
        'ListBonusPayments',
        (NextToken) => mturk.send(new ListBonusPaymentsCommand({ HITId: hitId, MaxResults: 100, NextToken })),
      ],
      ['ListWorkerBlocks', (NextToken) => mturk.send(new ListWorkerBlocksCommand({ MaxResults: 100, NextToken }))],
      [
        'ListQualificationTypes',
        (NextToken) =>
          mturk.send(
            new ListQualificationTypesCommand({
              MustBeRequestable: true,
              MustBeOwnedByCaller: true,
              MaxResults: 100,
              NextToken,
            }),
          ),
      ],
      [
        'ListWorkersWithQualificationType',
        (NextToken) =>
          mturk.send(
            new ListWorkersWithQualificationTypeCommand({ QualificationTypeId: qualId, MaxResults: 100, NextToken }),
          ),
      ],
      [
        'ListHITsForQualificationType',
        (NextToken) =>
          mturk.send(
            new ListHITsForQualificationTypeCommand({ QualificationTypeId: qualId, MaxResults: 100, NextToken }),
          ),
      ],
      [
        'ListQualificationRequests',
        (NextToken) =>
          mturk.send(new ListQualificationRequestsCommand({ QualificationTypeId: qualId, MaxResults: 100, NextToken })),
      ],
    ];
    for (const [name, list] of lists) {
      const first = await list();
      assert.is(first.NumResults, 1, `${name}: one result`);
      assert.type(first.NextToken, 'string', `${name}: the last page with results has a NextToken`);
      const end = await list(first.NextToken);
      assert.is(end.NumResults, 0, `${name}: the page after it is empty`);
      assert.not.ok('NextToken' in end, `${name}: the empty page has no NextToken`);
    }
    assert.is(lists.length, 9);
  },
);

Fidelity(
  "when Mephisto's get_outstanding_hits runs then it reads every HIT without a KeyError, whatever the count",
  async ({ mturk }) => {
    assert.equal(await getOutstandingHits(mturk), {}, 'no HIT: the first page is empty and the loop does not run');
    const created = await createHits(mturk, 1);
    created.push(...(await createHits(mturk, 99)));
    const hundred = await getOutstandingHits(mturk);
    assert.equal(
      Object.values(hundred).flatMap((hits) => hits.map((h) => (h as { HITId: string }).HITId)),
      created,
      'exactly one full page',
    );
    created.push(...(await createHits(mturk, 130, { Title: 'Another type' })));
    const all = await getOutstandingHits(mturk);
    assert.is(Object.keys(all).length, 2, 'grouped by HITTypeId');
    assert.equal(
      Object.values(all)
        .flat()
        .map((h) => (h as { HITId: string }).HITId)
        .sort(),
      [...created].sort(),
    );
    // The SDK paginator follows the same tokens and ends on the empty page.
    const pages: number[] = [];
    for await (const page of paginateListHITs({ client: mturk, pageSize: 100 }, {})) pages.push(page.NumResults!);
    assert.equal(pages, [100, 100, 30, 0]);
  },
);

Fidelity(
  "when a review script loops `while 'NextToken' in result` then it sees every assignment, across pages",
  async ({ sim, mturk }) => {
    const [hitId] = await createHits(mturk, 1, { MaxAssignments: 130 });
    const ids: string[] = [];
    for (let i = 0; i < 130; i++) ids.push(await submitted(sim, hitId!, `AWORKER${String(i).padStart(4, '0')}`));
    assert.equal(await allAssignmentIds(mturk, hitId!), ids);
    const [single] = await createHits(mturk, 1);
    const one = await submitted(sim, single!, 'AWORKERONE');
    assert.equal(await allAssignmentIds(mturk, single!), [one], 'a single page of one result is processed too');
  },
);

Fidelity(
  "when psiTurk's `worker reject` sends an empty RequesterFeedback then the rejection succeeds",
  async ({ sim, mturk }) => {
    const [hitId] = await createHits(mturk, 1);
    const assignmentId = await submitted(sim, hitId!, 'AWORKERONE');
    const outcome = await psiturkRejectAssignment(mturk, assignmentId);
    assert.equal(outcome, { success: true });
    const { Assignment } = await mturk.send(new GetAssignmentCommand({ AssignmentId: assignmentId }));
    assert.is(Assignment!.AssignmentStatus, 'Rejected');
    assert.is(Assignment!.RequesterFeedback, '');
    // Through the SDK: leaving the member out is what the model forbids, with AWS's exact message.
    const [other] = await createHits(mturk, 1);
    const second = await submitted(sim, other!, 'AWORKERONE');
    const missing = await rejection(mturk.send(new RejectAssignmentCommand({ AssignmentId: second } as never)));
    assert.is(missing.name, 'ValidationException');
    assert.is(
      missing.message,
      "1 validation error detected: Value null at 'requesterFeedback' failed to satisfy constraint: Member must not be null",
    );
    assert.is(
      (await mturk.send(new GetAssignmentCommand({ AssignmentId: second }))).Assignment!.AssignmentStatus,
      'Submitted',
    );
  },
);

Fidelity(
  "when the data-collection script's requirements carry RequiredToPreview and ActionsGuarded then the HIT is created and ActionsGuarded decides",
  async ({ sim, mturk }) => {
    const { HIT } = await mturk.send(
      new CreateHITCommand(hitInput({ QualificationRequirements: TYPICAL_QUALIFICATIONS }) as never),
    );
    const hitId = HIT!.HITId!;
    const read = (await mturk.send(new GetHITCommand({ HITId: hitId }))).HIT!;
    assert.equal(read.QualificationRequirements, TYPICAL_QUALIFICATIONS, 'both members come back as sent');
    // A new worker has 0 approved HITs: the requirement guards accepting only, not previewing.
    assert.is(await previewRefused(sim, read.HITTypeId!, hitId, 'ANEWWORKER'), false);
    await rejection(sim.workers.accept('ANEWWORKER', { hitId }));
    sim.workers.setSystemQualification('AVETERAN', '00000000000000000040', 1000);
    assert.ok(await sim.workers.accept('AVETERAN', { hitId }));

    // RequiredToPreview: true with ActionsGuarded: Accept still guards accepting only.
    const both = await mturk.send(
      new CreateHITCommand(
        hitInput({
          Title: 'Both members',
          QualificationRequirements: [{ ...TYPICAL_QUALIFICATIONS[0], RequiredToPreview: true }],
        }) as never,
      ),
    );
    assert.is(await previewRefused(sim, both.HIT!.HITTypeId!, both.HIT!.HITId!, 'ANEWWORKER'), false);

    // RequiredToPreview: true alone is echoed with ActionsGuarded: PreviewAndAccept added.
    const legacy = await mturk.send(
      new CreateHITCommand(
        hitInput({
          Title: 'Legacy',
          QualificationRequirements: [
            {
              QualificationTypeId: '00000000000000000040',
              Comparator: 'GreaterThanOrEqualTo',
              IntegerValues: [500],
              RequiredToPreview: true,
            },
          ],
        }) as never,
      ),
    );
    const echoed = {
      QualificationTypeId: '00000000000000000040',
      Comparator: 'GreaterThanOrEqualTo',
      IntegerValues: [500],
      RequiredToPreview: true,
      ActionsGuarded: 'PreviewAndAccept',
    };
    const legacyId = legacy.HIT!.HITId!;
    assert.equal(legacy.HIT!.QualificationRequirements, [echoed]);
    assert.equal((await mturk.send(new GetHITCommand({ HITId: legacyId }))).HIT!.QualificationRequirements, [echoed]);
    const listed = (await mturk.send(new ListHITsCommand({ MaxResults: 100 }))).HITs!.find((h) => h.HITId === legacyId);
    assert.equal(listed!.QualificationRequirements, [echoed]);
    assert.is(await previewRefused(sim, legacy.HIT!.HITTypeId!, legacyId, 'ANEWWORKER'), true);
  },
);

Fidelity(
  'when required members are missing then one ValidationException counts them all, in lower camel case',
  async ({ sim, mturk }) => {
    const [hitId] = await createHits(mturk, 1);
    const assignmentId = await submitted(sim, hitId!, 'AWORKERONE');
    const noReason = await rejection(
      mturk.send(
        new SendBonusCommand({ WorkerId: 'AWORKERONE', AssignmentId: assignmentId, BonusAmount: '1.00' } as never),
      ),
    );
    assert.is(noReason.name, 'ValidationException');
    assert.not.instance(noReason, RequestError);
    assert.is(
      noReason.message,
      "1 validation error detected: Value null at 'reason' failed to satisfy constraint: Member must not be null",
    );
    const twoMissing = await rawCall(sim, JSON.stringify({ AssignmentId: assignmentId, BonusAmount: '1.00' }), {
      'x-amz-target': 'MTurkRequesterServiceV20170117.SendBonus',
    });
    assert.is(twoMissing.status, 400);
    assert.equal(twoMissing.json, {
      __type: 'ValidationException',
      message:
        "2 validation errors detected: Value null at 'workerId' failed to satisfy constraint: Member must not be null; Value null at 'reason' failed to satisfy constraint: Member must not be null",
    });
    const nested = await rejection(
      mturk.send(
        new CreateHITCommand(
          hitInput({
            QualificationRequirements: [
              { QualificationTypeId: '00000000000000000040', Comparator: 'Exists' },
              { QualificationTypeId: '00000000000000000071', LocaleValues: [{ Subdivision: 'CA' }] },
            ],
          }) as never,
        ),
      ),
    );
    assert.is(
      nested.message,
      "2 validation errors detected: Value null at 'qualificationRequirements.2.member.comparator' failed to satisfy constraint: Member must not be null; Value null at 'qualificationRequirements.2.member.localeValues.1.member.country' failed to satisfy constraint: Member must not be null",
    );
    // Missing members and broken constraints of present ones are counted in one answer.
    const three = await rawCall(
      sim,
      JSON.stringify({ WorkerId: 'bad id', AssignmentId: assignmentId, BonusAmount: '0.9752' }),
      {
        'x-amz-target': 'MTurkRequesterServiceV20170117.SendBonus',
      },
    );
    assert.equal(three.json, {
      __type: 'ValidationException',
      message:
        "3 validation errors detected: Value null at 'reason' failed to satisfy constraint: Member must not be null; Value 'bad id' at 'workerId' failed to satisfy constraint: Member must satisfy regular expression pattern: ^A[A-Z0-9]+$; Value '0.9752' at 'bonusAmount' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[0-9]+(\\.)?[0-9]{0,2}$",
    });
    // A present value outside its constraint has the same shape: this is the answer Dallinger
    // recorded from production MTurk for a bonus of 0.9752 (Dallinger issue 1052).
    const cents = await rejection(
      mturk.send(
        new SendBonusCommand({
          WorkerId: 'AWORKERONE',
          AssignmentId: assignmentId,
          BonusAmount: '0.9752',
          Reason: 'r',
        }),
      ),
    );
    assert.is(
      cents.message,
      "1 validation error detected: Value '0.9752' at 'bonusAmount' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[0-9]+(\\.)?[0-9]{0,2}$",
    );
    const long = await rejection(mturk.send(new CreateHITCommand(hitInput({ Title: 't'.repeat(129) }))));
    assert.is(long.name, 'ValidationException');
    assert.match(
      long.message,
      /^1 validation error detected: Value 't{80}\.\.\.' at 'title' failed to satisfy constraint: Member must have length less than or equal to 128$/,
    );
    // MTurk's own rules stay RequestErrors.
    const unknown = await rejection(mturk.send(new GetHITCommand({ HITId: '3NOPENOPENOPENOPENOPENOPENOPEN' })));
    assert.instance(unknown, RequestError);
    assert.equal(sim.inspect().accounts.AKIDREQUESTERONE!.bonusPayments, [], 'nothing was paid');
  },
);

Fidelity("when the model-members table is compared with the SDK's model typings then they agree", () => {
  // Required members are the non-optional ones (`Name: T | undefined;`) of each `...Request`
  // interface, optional ones are marked `Name?:`.
  const require = createRequire(import.meta.url);
  const sdkDir = dirname(require.resolve('@aws-sdk/client-mturk/package.json'));
  const dts = readFileSync(join(sdkDir, 'dist-types', 'models', 'models_0.d.ts'), 'utf8').replace(
    /\/\*\*[\s\S]*?\*\//g,
    '',
  );
  const fromModel: Record<string, string[]> = {};
  const optionalInModel: Record<string, string[]> = {};
  for (const m of dts.matchAll(/export interface (\w+)Request \{([\s\S]*?)\n\}/g)) {
    fromModel[m[1]!] = [...m[2]!.matchAll(/^\s*(\w+): /gm)].map((r) => r[1]!);
    optionalInModel[m[1]!] = [...m[2]!.matchAll(/^\s*(\w+)\?: /gm)].map((r) => r[1]!);
  }
  const operations = [...MODEL_OPERATIONS].sort();
  assert.equal(Object.keys(MODEL_MEMBERS).sort(), operations, 'one entry per operation of the model');
  for (const op of operations) {
    assert.equal([...MODEL_MEMBERS[op]!.required].sort(), (fromModel[op] ?? []).sort(), `${op} required members`);
    assert.equal(
      [...(MODEL_MEMBERS[op]!.optional ?? [])].sort(),
      (optionalInModel[op] ?? []).sort(),
      `${op} optional members`,
    );
  }
});

Fidelity(
  'when assignments are submitted, approved and rejected then they have no Deadline and their Answer is ASCII as MTurk wrote it',
  async ({ sim, mturk }) => {
    const [a, b, c] = await createHits(mturk, 3);
    const submittedId = await submitted(sim, a!, 'AWORKERONE', { comment: 'a\u2014b caf\u00e9 \u{1F600}' });
    const approvedId = await submitted(sim, b!, 'AWORKERONE');
    const rejectedId = await submitted(sim, c!, 'AWORKERONE');
    await mturk.send(new ApproveAssignmentCommand({ AssignmentId: approvedId }));
    await mturk.send(new RejectAssignmentCommand({ AssignmentId: rejectedId, RequesterFeedback: 'wrong label' }));
    for (const id of [submittedId, approvedId, rejectedId]) {
      const { Assignment } = await mturk.send(new GetAssignmentCommand({ AssignmentId: id }));
      assert.is(Assignment!.Deadline, undefined, `${Assignment!.AssignmentStatus}: no Deadline`);
      assert.ok(
        Assignment!.Answer!.startsWith(
          '<?xml version="1.0" encoding="ASCII"?><QuestionFormAnswers xmlns="http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/2005-10-01/QuestionFormAnswers.xsd">',
        ),
      );
    }
    const listed = await mturk.send(new ListAssignmentsForHITCommand({ HITId: a! }));
    const answer = listed.Assignments![0]!.Answer!;
    assert.not.ok('Deadline' in listed.Assignments![0]!);
    assert.ok(/^[\x00-\x7F]*$/.test(answer), 'pure ASCII');
    assert.ok(answer.includes('<FreeText>a&#8212;b caf&#233; &#128512;</FreeText>'), answer);
    assert.equal(parseAnswers(answer).comment, { type: 'FreeText', text: 'a\u2014b caf\u00e9 \u{1F600}' });
  },
);

Fidelity(
  'when a script links a preview by HITGroupId then the worker pages find the group, as with the HIT type id',
  async ({ sim, mturk }) => {
    const { HIT } = await mturk.send(new CreateHITCommand(hitInput()));
    const group = HIT!.HITGroupId!;
    assert.is.not(group, HIT!.HITTypeId, 'a separate id, as on MTurk');
    assert.equal(
      (await mturk.send(new GetHITCommand({ HITId: HIT!.HITId! }))).HIT!.HITGroupId,
      group,
      'stable across reads',
    );
    for (const groupId of [group, HIT!.HITTypeId!]) {
      const page = await (await fetch(`${sim.url}/mturk/preview?groupId=${groupId}&workerId=AWORKERONE`)).text();
      assert.match(page, /<iframe id="task"/, `preview?groupId=${groupId}`);
    }
    const accepted = await fetch(`${sim.url}/mturk/accept`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ groupId: group, workerId: 'AWORKERONE' }).toString(),
      redirect: 'manual',
    });
    assert.is(accepted.status, 303);
    assert.is(sim.inspect().accounts.AKIDREQUESTERONE!.hits[0]!.assignments[0]!.workerId, 'AWORKERONE');
  },
);

Fidelity.run();
