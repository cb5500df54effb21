// Isolation between requesters on `hitstate serve`: for every operation family, requester beta
// using requester alpha's ids gets exactly the answer an unknown id gets (same status, error type,
// TurkErrorCode and message once the id and time stamp are masked), beta's listings show nothing
// of alpha's, and alpha's objects are unchanged afterwards.
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { OPERATIONS } from '../../src/simulator/operations/index.js';
import { requestQualification } from '../../src/simulator/worker-actions.js';
import { externalQuestion, startServe, typeInput, type ServeWorld } from './helpers.js';

const UNKNOWN = `3${'Z'.repeat(29)}`;
const UNKNOWN_WORKER = 'AZZZZZZZZZZZZZ';

interface Reply {
  status: number;
  body: Record<string, unknown>;
}

async function call(w: ServeWorld, name: string, op: string, input: Record<string, unknown>): Promise<Reply> {
  const k = w.keys[name]!;
  const url = new URL(w.server.url);
  const body = JSON.stringify(input);
  const signer = new SignatureV4({
    service: 'mturk-requester',
    region: 'us-east-1',
    credentials: { accessKeyId: k.accessKeyId, secretAccessKey: k.secretAccessKey },
    sha256: Hash.bind(null, 'sha256'),
  });
  const req = await signer.sign(
    new HttpRequest({
      method: 'POST',
      protocol: 'http:',
      hostname: url.hostname,
      port: Number(url.port),
      path: '/',
      headers: {
        host: url.host,
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': `MTurkRequesterServiceV20170117.${op}`,
      },
      body,
    }),
  );
  const headers = { ...(req.headers as Record<string, string>) };
  delete headers.host;
  const res = await fetch(`${w.server.url}/`, { method: 'POST', headers, body });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function ok(w: ServeWorld, name: string, op: string, input: Record<string, unknown>) {
  const r = await call(w, name, op, input);
  assert.is(r.status, 200, `${op}: ${JSON.stringify(r.body)}`);
  return r.body as Record<string, any>;
}

interface Ids {
  hitTypeId: string;
  hitId: string;
  assignmentId: string;
  qualificationTypeId: string;
  workerId: string;
  requestId: string;
}

const Isolation = suite<{ w: ServeWorld; alpha: Ids; betaHit: string; betaType: string }>('serve isolation');

Isolation.before(async (ctx) => {
  const w = await startServe({ alpha: 500, beta: 500 });
  ctx.w = w;
  const type = await ok(w, 'alpha', 'CreateHITType', typeInput());
  const hit = await ok(w, 'alpha', 'CreateHITWithHITType', {
    HITTypeId: type.HITTypeId,
    LifetimeInSeconds: 3600,
    MaxAssignments: 3,
    Question: externalQuestion(),
  });
  const qual = await ok(w, 'alpha', 'CreateQualificationType', {
    Name: 'Alpha skill',
    Description: 'Alpha only',
    QualificationTypeStatus: 'Active',
  });
  const qid = qual.QualificationType.QualificationTypeId as string;
  const workerId = 'AALPHAWORKER01';
  await ok(w, 'alpha', 'AssociateQualificationWithWorker', {
    QualificationTypeId: qid,
    WorkerId: workerId,
    IntegerValue: 5,
    SendNotification: false,
  });
  const { assignmentId } = w.work(workerId, hit.HIT.HITId);
  await ok(w, 'alpha', 'ApproveAssignment', { AssignmentId: assignmentId });
  await ok(w, 'alpha', 'SendBonus', {
    WorkerId: workerId,
    AssignmentId: assignmentId,
    BonusAmount: '0.50',
    Reason: 'great',
    UniqueRequestToken: 'b1',
  });
  await ok(w, 'alpha', 'CreateWorkerBlock', { WorkerId: 'ABLOCKEDBYALPHA', Reason: 'spam' });
  await ok(w, 'alpha', 'UpdateNotificationSettings', {
    HITTypeId: type.HITTypeId,
    Notification: {
      Destination: 'https://hooks.example.org/a',
      Transport: 'SQS',
      Version: '2006-05-05',
      EventTypes: ['AssignmentSubmitted'],
    },
    Active: true,
  }).catch(() => undefined);
  const req = requestQualification(w.server.engine, 'AREQUESTER0001', qid);
  w.server.flush();
  ctx.alpha = {
    hitTypeId: type.HITTypeId,
    hitId: hit.HIT.HITId,
    assignmentId,
    qualificationTypeId: qid,
    workerId,
    requestId: req.qualificationRequestId ?? '',
  };
  const betaType = await ok(w, 'beta', 'CreateHITType', typeInput({ Title: 'Beta task' }));
  const betaHit = await ok(w, 'beta', 'CreateHITWithHITType', {
    HITTypeId: betaType.HITTypeId,
    LifetimeInSeconds: 3600,
    MaxAssignments: 1,
    Question: externalQuestion(),
  });
  ctx.betaType = betaType.HITTypeId;
  ctx.betaHit = betaHit.HIT.HITId;
});
Isolation.after(async ({ w }) => {
  await w.close();
});

/** The reply with ids and MTurk's "(epoch ms)" stamps masked. */
function masked(r: Reply, ids: string[]): string {
  let text = JSON.stringify(r);
  for (const id of ids) if (id) text = text.split(id).join('<ID>');
  return text.replace(/\(\d{10,}\)/g, '(<T>)');
}

type Case = [op: string, input: (ids: Ids, other: { betaHit: string; betaType: string }) => Record<string, unknown>];

const ID_CASES: Case[] = [
  ['GetHIT', (i) => ({ HITId: i.hitId })],
  ['UpdateExpirationForHIT', (i) => ({ HITId: i.hitId, ExpireAt: 0 })],
  ['UpdateHITReviewStatus', (i) => ({ HITId: i.hitId, Revert: false })],
  ['DeleteHIT', (i) => ({ HITId: i.hitId })],
  ['CreateAdditionalAssignmentsForHIT', (i) => ({ HITId: i.hitId, NumberOfAdditionalAssignments: 1 })],
  ['UpdateHITTypeOfHIT', (i, o) => ({ HITId: i.hitId, HITTypeId: o.betaType })],
  ['UpdateHITTypeOfHIT', (i, o) => ({ HITId: o.betaHit, HITTypeId: i.hitTypeId })],
  [
    'CreateHITWithHITType',
    (i) => ({ HITTypeId: i.hitTypeId, LifetimeInSeconds: 600, MaxAssignments: 1, Question: externalQuestion() }),
  ],
  ['ListAssignmentsForHIT', (i) => ({ HITId: i.hitId })],
  ['ListReviewableHITs', (i) => ({ HITTypeId: i.hitTypeId })],
  ['ListBonusPayments', (i) => ({ HITId: i.hitId })],
  ['ListBonusPayments', (i) => ({ AssignmentId: i.assignmentId })],
  ['GetAssignment', (i) => ({ AssignmentId: i.assignmentId })],
  ['ApproveAssignment', (i) => ({ AssignmentId: i.assignmentId, OverrideRejection: true })],
  ['RejectAssignment', (i) => ({ AssignmentId: i.assignmentId, RequesterFeedback: 'no' })],
  ['SendBonus', (i) => ({ WorkerId: i.workerId, AssignmentId: i.assignmentId, BonusAmount: '1.00', Reason: 'x' })],
  ['GetQualificationType', (i) => ({ QualificationTypeId: i.qualificationTypeId })],
  ['UpdateQualificationType', (i) => ({ QualificationTypeId: i.qualificationTypeId, Description: 'taken' })],
  ['DeleteQualificationType', (i) => ({ QualificationTypeId: i.qualificationTypeId })],
  [
    'AssociateQualificationWithWorker',
    (i) => ({ QualificationTypeId: i.qualificationTypeId, WorkerId: i.workerId, IntegerValue: 1 }),
  ],
  [
    'DisassociateQualificationFromWorker',
    (i) => ({ QualificationTypeId: i.qualificationTypeId, WorkerId: i.workerId }),
  ],
  ['ListWorkersWithQualificationType', (i) => ({ QualificationTypeId: i.qualificationTypeId })],
  ['GetQualificationScore', (i) => ({ QualificationTypeId: i.qualificationTypeId, WorkerId: i.workerId })],
  ['ListQualificationRequests', (i) => ({ QualificationTypeId: i.qualificationTypeId })],
  ['ListHITsForQualificationType', (i) => ({ QualificationTypeId: i.qualificationTypeId })],
  ['AcceptQualificationRequest', (i) => ({ QualificationRequestId: i.requestId })],
  ['RejectQualificationRequest', (i) => ({ QualificationRequestId: i.requestId, Reason: 'no' })],
  [
    'CreateHIT',
    (i) => ({
      ...typeInput(),
      LifetimeInSeconds: 600,
      MaxAssignments: 1,
      Question: externalQuestion(),
      QualificationRequirements: [{ QualificationTypeId: i.qualificationTypeId, Comparator: 'Exists' }],
    }),
  ],
  ['UpdateNotificationSettings', (i) => ({ HITTypeId: i.hitTypeId, Active: false })],
  ['NotifyWorkers', (i) => ({ Subject: 'hi', MessageText: 'hello', WorkerIds: [i.workerId] })],
];

Isolation("another requester's ids answer exactly as unknown ids, in every operation family", async (ctx) => {
  const { w, alpha } = ctx;
  const unknown: Ids = {
    hitTypeId: UNKNOWN,
    hitId: UNKNOWN,
    assignmentId: UNKNOWN,
    qualificationTypeId: UNKNOWN,
    workerId: UNKNOWN_WORKER,
    requestId: UNKNOWN,
  };
  const other = { betaHit: ctx.betaHit, betaType: ctx.betaType };
  const before = JSON.stringify(w.server.engine.state.records());
  for (const [op, input] of ID_CASES) {
    const foreign = await call(w, 'beta', op, input(alpha, other));
    const none = await call(w, 'beta', op, input(unknown, other));
    const ids = [...Object.values(alpha), UNKNOWN, UNKNOWN_WORKER, ctx.betaHit, ctx.betaType];
    assert.is(masked(foreign, ids), masked(none, ids), op);
  }
  // Nothing of alpha's changed (beta's refused calls record nothing on alpha's objects).
  const after = w.server.engine.state.records();
  const a = JSON.parse(before);
  for (const kind of ['hits', 'hitTypes', 'assignments', 'qualificationTypes', 'grants', 'bonuses', 'blocks'])
    assert.equal(
      (after as any)[kind].filter(
        (r: { account?: string }) => r.account === undefined || r.account === w.keys.alpha!.requesterId,
      ),
      a[kind].filter((r: { account?: string }) => r.account === undefined || r.account === w.keys.alpha!.requesterId),
      kind,
    );
  const covered = new Set(ID_CASES.map(([op]) => op));
  const implemented = Object.keys(OPERATIONS);
  const withoutIds = [
    'GetAccountBalance',
    'ListHITs',
    'ListQualificationTypes',
    'ListWorkerBlocks',
    'CreateHITType',
    'CreateQualificationType',
    'CreateWorkerBlock',
    'DeleteWorkerBlock',
    'SendTestEventNotification',
    'ListReviewPolicyResultsForHIT',
    'GetFileUploadURL',
  ];
  const missing = implemented.filter((op) => !covered.has(op) && !withoutIds.includes(op));
  assert.equal(missing, [], 'every operation that takes an id is covered');
});

Isolation("listings and blocks: beta sees nothing of alpha's; beta's changes never touch alpha's", async (ctx) => {
  const { w, alpha } = ctx;
  const text = (o: unknown) => JSON.stringify(o);
  const hits = await ok(w, 'beta', 'ListHITs', {});
  assert.not.ok(text(hits).includes(alpha.hitId));
  assert.is(hits.HITs.length, 1);
  const quals = await ok(w, 'beta', 'ListQualificationTypes', { MustBeRequestable: false });
  assert.not.ok(text(quals).includes(alpha.qualificationTypeId));
  const reviewable = await ok(w, 'beta', 'ListReviewableHITs', {});
  assert.not.ok(text(reviewable).includes(alpha.hitId));
  const blocks = await ok(w, 'beta', 'ListWorkerBlocks', {});
  assert.equal(blocks.WorkerBlocks, []);
  await ok(w, 'beta', 'DeleteWorkerBlock', { WorkerId: 'ABLOCKEDBYALPHA' });
  const alphaBlocks = await ok(w, 'alpha', 'ListWorkerBlocks', {});
  assert.is(alphaBlocks.WorkerBlocks[0].WorkerId, 'ABLOCKEDBYALPHA');
  const betaBalance = await ok(w, 'beta', 'GetAccountBalance', {});
  const alphaBalance = await ok(w, 'alpha', 'GetAccountBalance', {});
  assert.is.not(betaBalance.AvailableBalance, alphaBalance.AvailableBalance);
  const own = await ok(w, 'alpha', 'GetHIT', { HITId: alpha.hitId });
  assert.is(own.HIT.HITId, alpha.hitId);
});

Isolation.run();
