import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { VirtualClock } from '../../src/clock.js';
import { isHitstateError, type HitstateError } from '../../src/errors.js';
import type { MTurkCallEvent } from '../../src/mturk/audit.js';
import type { Environment } from '../../src/mturk/environment.js';
import { MTurkGateway } from '../../src/mturk/gateway.js';
import { parseRequesterAnnotation } from '../../src/mturk/annotation.js';
import { bonusToken, hitToken } from '../../src/mturk/tokens.js';
import { drive, FakeMTurk, requestError, STATIC, type FakeReply } from './helpers.js';

const Gateway = suite('gateway');
const opened: MTurkGateway[] = [];

function setup(
  environment: Environment,
  reply: (op: string, body: Record<string, unknown>) => FakeReply = () => ({ json: {} }),
  extra: { onListenerError?: (e: unknown) => void } = {},
) {
  const clock = new VirtualClock(0);
  const fake = new FakeMTurk((req) => reply(req.operation, req.body));
  const gw = new MTurkGateway(
    { name: 'unit', environment, endpoint: 'http://127.0.0.1:9', credentials: STATIC },
    { clock, requestHandler: fake.handler, auditSalt: 'salt', ...extra },
  );
  opened.push(gw);
  const run = <T>(p: Promise<T>): Promise<T> => drive(clock, [gw], p);
  return { gw, fake, clock, run };
}

Gateway.after(() => {
  for (const g of opened) g.close();
});

const hitReply = (body: Record<string, unknown>): FakeReply => ({
  json: {
    HIT: {
      HITId: 'H1',
      HITTypeId: body.HITTypeId,
      HITGroupId: 'G1',
      HITStatus: 'Assignable',
      MaxAssignments: 1,
      NumberOfAssignmentsAvailable: 1,
      RequesterAnnotation: body.RequesterAnnotation,
      CreationTime: 1_700_000_000,
    },
  },
});

Gateway(
  'when a HIT type is created on live then the reward is a dollar string and the locale requirement is added',
  async () => {
    const { gw, fake, run } = setup('live', () => ({ json: { HITTypeId: 'T1' } }));
    const r = await run(
      gw.createHITType({
        title: 'Label',
        description: 'Label images',
        keywords: ['images', 'labels'],
        rewardUsd: 0.5,
        assignmentDurationSec: 1800,
      }),
    );
    assert.equal(r, {
      status: 'ok',
      value: { hitTypeId: 'T1', qualificationRequirements: fake.requests[0]!.body.QualificationRequirements as never },
    });
    const body = fake.requests[0]!.body;
    assert.equal(
      [body.Reward, body.Keywords, body.AutoApprovalDelayInSeconds, body.AssignmentDurationInSeconds],
      ['0.50', 'images,labels', 604_800, 1800],
    );
    assert.equal(
      (body.QualificationRequirements as { QualificationTypeId: string }[]).map((q) => q.QualificationTypeId),
      ['00000000000000000071'],
    );
  },
);

Gateway('when a HIT type is created on sandbox then no locale requirement is sent', async () => {
  const { gw, fake, run } = setup('sandbox', () => ({ json: { HITTypeId: 'T1' } }));
  await run(
    gw.createHITType({ title: 'Label', description: 'Label images', rewardUsd: '0.50', assignmentDurationSec: 1800 }),
  );
  assert.is(fake.requests[0]!.body.QualificationRequirements, undefined);
});

Gateway('when HIT type fields break MTurk limits then nothing is sent and every field is named', async () => {
  const { gw, fake } = setup('sandbox');
  let err: unknown;
  try {
    await gw.createHITType({
      title: '',
      description: 'x'.repeat(2001),
      rewardUsd: '0.50',
      assignmentDurationSec: 10,
      autoApprovalDelaySec: -1,
    });
  } catch (e) {
    err = e;
  }
  assert.ok(isHitstateError(err, 'HST_ERR_CONFIG_INVALID'));
  assert.equal(
    (err as HitstateError).details.problems?.map((p) => p.field),
    ['title', 'description', 'assignmentDurationSec', 'autoApprovalDelaySec'],
  );
  assert.is(fake.requests.length, 0);
});

Gateway(
  'when a HIT is created then it carries the derived token, the run annotation and an ExternalQuestion',
  async () => {
    const { gw, fake, run } = setup('sandbox', (_op, body) => hitReply(body));
    const r = await run(
      gw.createHITWithHITType({
        hitTypeId: 'T1',
        runId: 'run-1',
        unitId: 'unit-1',
        question: { externalUrl: 'https://tasks.example.org/r?a=1&b=2', frameHeight: 700 },
      }),
    );
    assert.is(r.status, 'ok');
    const body = fake.requests[0]!.body;
    assert.is(body.UniqueRequestToken, hitToken('run-1', 'unit-1', 0));
    assert.equal(parseRequesterAnnotation(body.RequesterAnnotation as string), { runId: 'run-1', unitId: 'unit-1' });
    assert.match(
      body.Question as string,
      /<ExternalURL>https:\/\/tasks\.example\.org\/r\?a=1&amp;b=2<\/ExternalURL><FrameHeight>700<\/FrameHeight>/,
    );
    assert.equal([body.MaxAssignments, body.LifetimeInSeconds], [1, 31 * 86_400]);
    if (r.status === 'ok') {
      assert.is(r.value.previewUrl, 'https://workersandbox.mturk.com/mturk/preview?groupId=T1');
      assert.is(r.value.token, body.UniqueRequestToken);
      assert.equal(r.value.hit.annotation, { runId: 'run-1', unitId: 'unit-1' });
      assert.is(r.value.hit.createdAtMs, 1_700_000_000_000);
    }
  },
);

Gateway('when the task URL is plain http then live and sandbox refuse it and custom accepts it', async () => {
  const question = { externalUrl: 'http://127.0.0.1:8080/task' };
  for (const env of ['live', 'sandbox'] as const) {
    const { gw, fake } = setup(env);
    let err: unknown;
    try {
      await gw.createHITWithHITType({ hitTypeId: 'T1', runId: 'r', unitId: 'u', question });
    } catch (e) {
      err = e;
    }
    assert.ok(isHitstateError(err, 'HST_ERR_CONFIG_INVALID'), env);
    assert.is(fake.requests.length, 0);
  }
  const { gw, run } = setup('custom', (_op, body) => hitReply(body));
  assert.is((await run(gw.createHITWithHITType({ hitTypeId: 'T1', runId: 'r', unitId: 'u', question }))).status, 'ok');
});

Gateway('when a rejection has no feedback then it is refused before any call', async () => {
  const { gw, fake } = setup('sandbox');
  for (const feedback of [undefined, '', '   ', 'x'.repeat(1025)]) {
    let err: unknown;
    try {
      await gw.rejectAssignment({ assignmentId: 'A1', requesterFeedback: feedback as string });
    } catch (e) {
      err = e;
    }
    assert.ok(isHitstateError(err, 'HST_ERR_MTURK_FEEDBACK_REQUIRED'), String(feedback));
  }
  assert.is(fake.requests.length, 0);
});

Gateway(
  'when approve meets an assignment approved meanwhile then GetAssignment confirms and the outcome is alreadyDone',
  async () => {
    const { gw, fake, run } = setup('sandbox', (op) =>
      op === 'ApproveAssignment'
        ? requestError(
            'This operation can be called with a status of: Submitted (1537741087056)',
            'AWS.MechanicalTurk.InvalidAssignmentState',
          )
        : { json: { Assignment: { AssignmentId: 'A1', WorkerId: 'AW1', HITId: 'H1', AssignmentStatus: 'Approved' } } },
    );
    const r = await run(gw.approveAssignment({ assignmentId: 'A1' }));
    assert.equal([r.status, (r as { assignmentStatus?: string }).assignmentStatus], ['alreadyDone', 'Approved']);
    assert.equal(
      fake.requests.map((q) => q.operation),
      ['ApproveAssignment', 'GetAssignment'],
    );
  },
);

Gateway('when approve meets a rejected assignment without override then the outcome says how to override', async () => {
  const { gw, run } = setup('sandbox', (op) =>
    op === 'ApproveAssignment'
      ? requestError(
          'This operation can be called with a status of: Submitted',
          'AWS.MechanicalTurk.InvalidAssignmentState',
        )
      : { json: { Assignment: { AssignmentId: 'A1', AssignmentStatus: 'Rejected' } } },
  );
  const r = await run(gw.approveAssignment({ assignmentId: 'A1' }));
  assert.is(r.status, 'invalid');
  assert.match((r as { message: string }).message, /overrideRejection: true/);
});

Gateway(
  'when a bonus is sent then the token derives from run, unit, worker and key and the amount is formatted',
  async () => {
    const { gw, fake, run } = setup('sandbox');
    const r = await run(
      gw.sendBonus({
        workerId: 'AW1',
        assignmentId: 'A1',
        amountUsd: 1.5,
        reason: 'thanks',
        runId: 'r1',
        unitId: 'u1',
        key: 'quality',
      }),
    );
    assert.equal(r, { status: 'ok', value: { token: bonusToken('r1', 'u1', 'AW1', 'quality'), amountUsd: '1.50' } });
    assert.equal(fake.requests[0]!.body, {
      WorkerId: 'AW1',
      AssignmentId: 'A1',
      BonusAmount: '1.50',
      Reason: 'thanks',
      UniqueRequestToken: bonusToken('r1', 'u1', 'AW1', 'quality'),
    });
  },
);

Gateway('when lists span several pages then every page is read, 100 at a time', async () => {
  const all = Array.from({ length: 250 }, (_, i) => ({
    AssignmentId: `A${i}`,
    WorkerId: `AW${i}`,
    HITId: 'H1',
    AssignmentStatus: 'Submitted',
  }));
  const { gw, fake, run } = setup('sandbox', (_op, body) => {
    const start = Number(body.NextToken ?? 0);
    const end = start + (body.MaxResults as number);
    return {
      json: {
        Assignments: all.slice(start, end),
        NumResults: all.slice(start, end).length,
        ...(end < all.length ? { NextToken: String(end) } : {}),
      },
    };
  });
  const r = await run(gw.listAssignmentsForHIT({ hitId: 'H1' }));
  assert.is(r.status === 'ok' ? r.value.length : -1, 250);
  assert.equal(
    fake.requests.map((q) => [q.body.MaxResults, q.body.NextToken ?? null]),
    [
      [100, null],
      [100, '100'],
      [100, '200'],
    ],
  );
  const pages: number[] = [];
  for await (const page of gw.paginateAssignmentsForHIT({ hitId: 'H1' })) pages.push(page.length);
  assert.equal(pages, [100, 100, 50]);
});

Gateway(
  'when MTurk puts a NextToken on every page with results then a short page ends the listing without an empty call',
  async () => {
    for (const [total, expected] of [
      [250, [null, '100', '200']],
      [200, [null, '100', '200']],
      [0, [null]],
    ] as const) {
      const all = Array.from({ length: total }, (_, i) => ({
        AssignmentId: `A${i}`,
        WorkerId: `AW${i}`,
        HITId: 'H1',
        AssignmentStatus: 'Submitted',
      }));
      // Real MTurk: a token on every page that has results, the last one included; an empty page has none.
      const { gw, fake, run } = setup('sandbox', (_op, body) => {
        const start = Number(body.NextToken ?? 0);
        const items = all.slice(start, start + (body.MaxResults as number));
        return {
          json: {
            ...(items.length > 0 ? { NextToken: String(start + items.length) } : {}),
            NumResults: items.length,
            Assignments: items,
          },
        };
      });
      const r = await run(gw.listAssignmentsForHIT({ hitId: 'H1' }));
      assert.is(r.status === 'ok' ? r.value.length : -1, total);
      assert.equal(
        fake.requests.map((q) => q.body.NextToken ?? null),
        [...expected],
        `${total} assignments`,
      );
      fake.requests.length = 0;
      const pages: number[] = [];
      for await (const page of gw.paginateAssignmentsForHIT({ hitId: 'H1' })) pages.push(page.length);
      assert.is(fake.requests.length, expected.length, `${total} assignments, paginating generator`);
      assert.is(
        pages.reduce((a, b) => a + b, 0),
        total,
      );
    }
  },
);

Gateway('when a page fails in a paginating generator then a HitstateError is thrown', async () => {
  const { gw, clock } = setup('sandbox', (_op, body) =>
    body.NextToken ? requestError('Hit H1 does not exist.') : { json: { Assignments: [], NextToken: 'x' } },
  );
  const consume = async (): Promise<unknown> => {
    for await (const _ of gw.paginateAssignmentsForHIT({ hitId: 'H1' })) void _;
    return null;
  };
  const err = await drive(
    clock,
    [gw],
    consume().then(
      () => null,
      (e: unknown) => e,
    ),
  );
  assert.ok(isHitstateError(err, 'HST_ERR_MTURK_NOT_FOUND'), String(err));
});

Gateway(
  'when money moves or a HIT changes then an mturk.call event is emitted with worker ids pseudonymised',
  async () => {
    const { gw, run } = setup('sandbox', (op, body) => (op === 'CreateHITWithHITType' ? hitReply(body) : { json: {} }));
    const events: MTurkCallEvent[] = [];
    gw.events.on('mturk.call', (e) => events.push(e));
    await run(
      gw.sendBonus({
        workerId: 'AWORKER1',
        assignmentId: 'ASG1',
        amountUsd: '0.25',
        reason: 'thanks',
        runId: 'r',
        unitId: 'u',
      }),
    );
    await run(gw.getHIT('H1'));
    await run(
      gw.createHITWithHITType({
        hitTypeId: 'T1',
        runId: 'r',
        unitId: 'u',
        question: { externalUrl: 'https://x.example/t' },
      }),
    );
    assert.equal(
      events.map((e) => [e.operation, e.method, e.outcome, e.lane]),
      [
        ['SendBonus', 'sendBonus', 'ok', 'money'],
        ['CreateHITWithHITType', 'createHITWithHITType', 'ok', 'lifecycle'],
      ],
    );
    const bonus = events[0]!;
    assert.is(bonus.token, bonusToken('r', 'u', 'AWORKER1', 'bonus'));
    assert.match(String(bonus.arguments.WorkerId), /^W[0-9a-f]{16}$/);
    assert.not.ok(JSON.stringify(bonus).includes('AWORKER1'));
    assert.is(bonus.arguments.UniqueRequestToken, undefined);
    assert.equal(bonus.ids, { assignmentId: 'ASG1' });
    assert.equal(
      [bonus.requester, bonus.environment, bonus.attempts, bonus.requestId],
      ['unit', 'sandbox', 1, 'req-1'],
    );
    assert.equal(events[1]!.ids, { hitTypeId: 'T1', hitId: 'H1' });
  },
);

Gateway(
  'when audit listeners throw or reject then calls and other listeners go on and the errors are reported',
  async () => {
    const reported: unknown[] = [];
    const { gw, run } = setup('sandbox', () => ({ json: {} }), { onListenerError: (e) => reported.push(e) });
    const seen: string[] = [];
    const throwing = (): void => {
      throw new Error('listener bug');
    };
    gw.events.on('mturk.call', throwing);
    gw.events.on('mturk.call', async () => {
      throw new Error('async listener bug');
    });
    gw.events.once('mturk.call', (e) => seen.push(`once:${e.operation}`));
    gw.events.on('mturk.call', (e) => seen.push(e.operation));
    const r = await run(gw.blockWorker({ workerId: 'AW1', reason: 'spam' }));
    assert.is(r.status, 'ok');
    await new Promise((resolve) => setImmediate(resolve));
    gw.events.off('mturk.call', throwing);
    await run(gw.unblockWorker({ workerId: 'AW1' }));
    assert.equal(seen, ['once:CreateWorkerBlock', 'CreateWorkerBlock', 'DeleteWorkerBlock']);
    assert.equal(
      reported.map((e) => (e as Error).message),
      ['listener bug', 'async listener bug', 'async listener bug'],
    );
  },
);

Gateway(
  'when the clock is virtual or real then the SDK makes one attempt per governor attempt (the governor retries)',
  async () => {
    const { gw } = setup('sandbox');
    const real = new MTurkGateway(
      { name: 'real', environment: 'custom', endpoint: 'http://127.0.0.1:9', credentials: STATIC },
      { requestHandler: new FakeMTurk().handler },
    );
    opened.push(real);
    const virtualStrategy = (await gw.client.config.retryStrategy()) as unknown as { mode: string };
    const realStrategy = (await real.client.config.retryStrategy()) as unknown as { mode: string };
    assert.equal([await gw.client.config.maxAttempts(), virtualStrategy.mode], [1, 'standard']);
    assert.equal([await real.client.config.maxAttempts(), realStrategy.mode], [1, 'standard']);
  },
);

Gateway.run();
