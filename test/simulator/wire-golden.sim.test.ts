// Pins the wire format: one scripted call per implemented operation, on a frozen virtual clock and
// a fixed seed, compared with test/simulator/golden/{req,res}/<Operation>.txt, and the error
// replies with golden/res-err/<Error>.txt. The gateway's response parsing can be tested on the
// same files. After an intended change, rewrite them with HITSTATE_UPDATE_GOLDEN=1.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createSimulator, type Simulator } from '../../src/simulator/index.js';
import { OPERATIONS } from '../../src/simulator/operations/index.js';
import { externalQuestion } from './helpers.js';

const GOLDEN = join(dirname(fileURLToPath(import.meta.url)), 'golden');
const UPDATE = process.env.HITSTATE_UPDATE_GOLDEN === '1';
const AUTH =
  'AWS4-HMAC-SHA256 Credential=AKIDGOLDEN/20260101/us-east-1/mturk-requester/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=0000';
const SQS = 'https://sqs.us-east-1.amazonaws.com/123456789012/mturk-events';

interface Exchange {
  request: string;
  response: string;
  json: Record<string, any>;
}

async function call(
  sim: Simulator,
  operation: string,
  body: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<Exchange> {
  const text = JSON.stringify(body);
  const requestHeaders: Record<string, string> = {
    'content-type': 'application/x-amz-json-1.1',
    'x-amz-target': `MTurkRequesterServiceV20170117.${operation}`,
    authorization: AUTH,
    ...headers,
  };
  const res = await fetch(`${sim.url}/`, { method: 'POST', headers: requestHeaders, body: text });
  const raw = await res.text();
  const json = raw === '' ? {} : (JSON.parse(raw) as Record<string, any>);
  const request = [
    'POST / HTTP/1.1',
    ...Object.entries(requestHeaders)
      .sort()
      .map(([k, v]) => `${k}: ${v}`),
    '',
    JSON.stringify(body, null, 2),
    '',
  ].join('\n');
  const response = [
    `HTTP/1.1 ${res.status}`,
    `content-type: ${res.headers.get('content-type')}`,
    ...(res.headers.get('x-amzn-requestid') ? [`x-amzn-requestid: ${res.headers.get('x-amzn-requestid')}`] : []),
    '',
    JSON.stringify(json, null, 2),
    '',
  ].join('\n');
  return { request, response, json };
}

function golden(path: string, actual: string): void {
  const file = join(GOLDEN, path);
  if (UPDATE) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, actual);
    return;
  }
  let expected: string;
  try {
    expected = readFileSync(file, 'utf8');
  } catch {
    assert.unreachable(`missing golden file ${path}; run with HITSTATE_UPDATE_GOLDEN=1 to create it`);
    return;
  }
  assert.fixture(actual, expected, `${path} differs; if the change is intended, run with HITSTATE_UPDATE_GOLDEN=1`);
}

const Wire = suite('simulator wire format');

Wire('when each operation is called once then its request and response match the golden files', async () => {
  const sim = await createSimulator({ clock: 'virtual', seed: 20260101 });
  const done = new Set<string>();
  try {
    const run = async (operation: string, body: Record<string, unknown>): Promise<Record<string, any>> => {
      const ex = await call(sim, operation, body);
      assert.is(ex.response.split('\n')[0], 'HTTP/1.1 200', `${operation}: ${ex.response}`);
      if (!done.has(operation)) {
        golden(`req/${operation}.txt`, ex.request);
        golden(`res/${operation}.txt`, ex.response);
        done.add(operation);
      }
      return ex.json;
    };
    const typeProps = {
      Title: 'Label an image',
      Description: 'Pick the best label.',
      Keywords: 'image, label',
      Reward: '0.50',
      AssignmentDurationInSeconds: 600,
      AutoApprovalDelayInSeconds: 86400,
    };
    const { QualificationType } = await run('CreateQualificationType', {
      Name: 'Trained',
      Description: 'Passed training',
      Keywords: 'training',
      QualificationTypeStatus: 'Active',
    });
    const qualId = QualificationType.QualificationTypeId as string;
    const requirement = {
      QualificationTypeId: qualId,
      Comparator: 'GreaterThanOrEqualTo',
      IntegerValues: [1],
      ActionsGuarded: 'Accept',
    };
    const { HITTypeId } = await run('CreateHITType', { ...typeProps, QualificationRequirements: [requirement] });
    const { HIT } = await run('CreateHITWithHITType', {
      HITTypeId,
      MaxAssignments: 2,
      LifetimeInSeconds: 3600,
      Question: externalQuestion(),
      RequesterAnnotation: 'run-1',
      UniqueRequestToken: 'golden-1',
    });
    const hitId = HIT.HITId as string;
    const plain = await run('CreateHIT', {
      ...typeProps,
      MaxAssignments: 1,
      LifetimeInSeconds: 3600,
      Question: externalQuestion(),
      UniqueRequestToken: 'golden-2',
    });
    await run('AssociateQualificationWithWorker', {
      QualificationTypeId: qualId,
      WorkerId: 'AGOLDENWORKER1',
      IntegerValue: 3,
      SendNotification: false,
    });
    await run('AssociateQualificationWithWorker', {
      QualificationTypeId: qualId,
      WorkerId: 'AGOLDENWORKER2',
      IntegerValue: 1,
    });
    await run('GetQualificationScore', { QualificationTypeId: qualId, WorkerId: 'AGOLDENWORKER1' });
    await run('GetQualificationType', { QualificationTypeId: qualId });
    await run('ListQualificationTypes', { MustBeRequestable: true, MustBeOwnedByCaller: true, MaxResults: 10 });
    await run('UpdateQualificationType', { QualificationTypeId: qualId, Description: 'Passed the 2026 training' });
    await run('ListWorkersWithQualificationType', { QualificationTypeId: qualId, Status: 'Granted', MaxResults: 100 });
    await run('ListHITsForQualificationType', { QualificationTypeId: qualId, MaxResults: 100 });
    const { QualificationType: reviewed } = await call(sim, 'CreateQualificationType', {
      Name: 'Reviewed',
      Description: 'Checked by hand',
      QualificationTypeStatus: 'Active',
    }).then((e) => e.json);
    const asked = await sim.workers.requestQualification('AGOLDENWORKER3', reviewed.QualificationTypeId);
    const rejected = await sim.workers.requestQualification('AGOLDENWORKER4', reviewed.QualificationTypeId);
    await run('ListQualificationRequests', { QualificationTypeId: reviewed.QualificationTypeId, MaxResults: 100 });
    await run('AcceptQualificationRequest', { QualificationRequestId: asked.qualificationRequestId, IntegerValue: 2 });
    await run('RejectQualificationRequest', {
      QualificationRequestId: rejected.qualificationRequestId,
      Reason: 'Not yet',
    });
    await run('UpdateNotificationSettings', {
      HITTypeId,
      Notification: { Destination: SQS, Transport: 'SQS', Version: '2014-08-15', EventTypes: ['AssignmentSubmitted'] },
      Active: true,
    });
    await run('SendTestEventNotification', {
      Notification: { Destination: SQS, Transport: 'SQS', Version: '2014-08-15', EventTypes: ['AssignmentSubmitted'] },
      TestEventType: 'Ping',
    });
    const one = await sim.workers.accept('AGOLDENWORKER1', { hitId });
    const two = await sim.workers.accept('AGOLDENWORKER2', { hitId });
    await sim.advance(120);
    await sim.workers.submit(one.assignmentId, { label: 'cat', note: 'a < b & c' });
    await sim.workers.submit(two.assignmentId, { label: 'dog' });
    await run('GetHIT', { HITId: hitId });
    await run('ListHITs', { MaxResults: 1 });
    await run('ListReviewableHITs', { HITTypeId, Status: 'Reviewable', MaxResults: 100 });
    await run('ListAssignmentsForHIT', { HITId: hitId, AssignmentStatuses: ['Submitted'], MaxResults: 100 });
    await run('GetAssignment', { AssignmentId: one.assignmentId });
    await run('ApproveAssignment', { AssignmentId: one.assignmentId, RequesterFeedback: 'Thanks' });
    await run('RejectAssignment', { AssignmentId: two.assignmentId, RequesterFeedback: 'Wrong label' });
    await run('SendBonus', {
      WorkerId: 'AGOLDENWORKER1',
      AssignmentId: one.assignmentId,
      BonusAmount: '0.25',
      Reason: 'Careful work',
      UniqueRequestToken: 'golden-bonus',
    });
    await run('ListBonusPayments', { HITId: hitId, MaxResults: 100 });
    await run('NotifyWorkers', {
      Subject: 'More HITs',
      MessageText: 'New HITs are up.',
      WorkerIds: ['AGOLDENWORKER1', 'AGOLDENSTRANGER'],
    });
    await run('CreateWorkerBlock', { WorkerId: 'AGOLDENWORKER2', Reason: 'Random answers' });
    await run('ListWorkerBlocks', { MaxResults: 100 });
    await run('DeleteWorkerBlock', { WorkerId: 'AGOLDENWORKER2', Reason: 'Appeal accepted' });
    await run('UpdateHITReviewStatus', { HITId: hitId, Revert: false });
    await run('CreateAdditionalAssignmentsForHIT', {
      HITId: hitId,
      NumberOfAdditionalAssignments: 1,
      UniqueRequestToken: 'golden-more',
    });
    await run('UpdateHITTypeOfHIT', { HITId: plain.HIT.HITId, HITTypeId });
    await run('UpdateExpirationForHIT', { HITId: hitId, ExpireAt: 0 });
    await run('DeleteHIT', { HITId: hitId });
    await run('DisassociateQualificationFromWorker', {
      QualificationTypeId: qualId,
      WorkerId: 'AGOLDENWORKER2',
      Reason: 'Expired',
    });
    await run('GetAccountBalance', {});
    await run('DeleteQualificationType', { QualificationTypeId: qualId });
    assert.equal([...done].sort(), Object.keys(OPERATIONS).sort(), 'every implemented operation has golden files');
  } finally {
    await sim.close();
  }
});

Wire('when errors are answered then their replies match the golden files', async () => {
  const sim = await createSimulator({ clock: 'virtual', seed: 20260102, throttle: { ratePerSecond: 1, burst: 1 } });
  const faulty = await createSimulator({ clock: 'virtual', seed: 4, faultRate: 1 });
  const plain = await createSimulator({ clock: 'virtual', seed: 20260103 });
  try {
    // Two required members missing: one ValidationException counting both, as AWS answered.
    const invalid = await call(plain, 'SendBonus', {
      AssignmentId: '3GOLDENGOLDENGOLDENGOLDENGOLD',
      BonusAmount: '1.00',
    });
    golden('res-err/ValidationException.txt', invalid.response);
    const notFound = await call(sim, 'GetHIT', { HITId: '3GOLDENGOLDENGOLDENGOLDENGOLD' });
    golden('res-err/RequestError.txt', notFound.response);
    golden(
      'res-err/ThrottlingException.txt',
      (await call(sim, 'GetHIT', { HITId: '3GOLDENGOLDENGOLDENGOLDENGOLD' })).response,
    );
    golden(
      'res-err/MissingAuthenticationTokenException.txt',
      (await call(sim, 'GetAccountBalance', {}, { authorization: '' })).response,
    );
    let fault: Exchange | undefined;
    for (let i = 0; i < 10 && !fault; i++) {
      fault = await call(faulty, 'GetAccountBalance', {}).catch(() => undefined);
    }
    assert.ok(fault, 'a ServiceFault reply within 10 calls');
    golden('res-err/ServiceFault.txt', fault!.response);
  } finally {
    await sim.close();
    await faulty.close();
    await plain.close();
  }
});

Wire.run();
