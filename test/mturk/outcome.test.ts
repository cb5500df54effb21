import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { VirtualClock } from '../../src/clock.js';
import { isHitstateError } from '../../src/errors.js';
import { MTurkGateway } from '../../src/mturk/gateway.js';
import {
  classifyError,
  errorMessage,
  mapRequestError,
  orThrow,
  parseHitIdFromMessage,
  type MTurkOutcome,
} from '../../src/mturk/outcome.js';
import { drive, FakeMTurk, fault, requestError, STATIC, throttle, type FakeReply } from './helpers.js';

const Outcome = suite('outcome');
const gateways: MTurkGateway[] = [];

function setup(
  reply: (op: string, n: number) => FakeReply,
  maxAttempts = 3,
): { gw: MTurkGateway; fake: FakeMTurk; clock: VirtualClock } {
  const clock = new VirtualClock(0);
  const fake = new FakeMTurk((req, n) => reply(req.operation, n));
  const gw = new MTurkGateway(
    { name: 'unit', environment: 'custom', endpoint: 'http://127.0.0.1:9', credentials: STATIC },
    { clock, requestHandler: fake.handler, governor: { maxAttempts } },
  );
  gateways.push(gw);
  return { gw, fake, clock };
}

async function run<T>(
  s: { gw: MTurkGateway; clock: VirtualClock },
  work: Promise<MTurkOutcome<T>>,
): Promise<MTurkOutcome<T>> {
  return drive(s.clock, [s.gw], work);
}

Outcome.after(() => {
  for (const g of gateways) g.close();
});

Outcome('when MTurk says a HIT does not exist then the outcome is notFound without the timestamp', async () => {
  const s = setup(() =>
    requestError(
      'Hit 36818Z1KV5CDQ807J1UQ45304AOA3Z does not exist. (1619128282649)',
      'AWS.MechanicalTurk.HITDoesNotExist',
    ),
  );
  const r = await run(s, s.gw.getHIT('36818Z1KV5CDQ807J1UQ45304AOA3Z'));
  assert.equal(r, {
    status: 'notFound',
    message: 'Hit 36818Z1KV5CDQ807J1UQ45304AOA3Z does not exist.',
    retryable: false,
    code: 'HST_ERR_MTURK_NOT_FOUND',
    turkErrorCode: 'AWS.MechanicalTurk.HITDoesNotExist',
  });
});

Outcome('when a HIT token is repeated then the outcome is alreadyDone carrying the existing HITId', async () => {
  const s = setup(() =>
    requestError(
      'The HIT with ID "3U18MJKL1WA8S1G7ULNIMQIIED9NCW" already exists: it was created with UniqueRequestToken \'hs-hit-x\'. (1700000000000 s)',
      'AWS.MechanicalTurk.HitAlreadyExists',
    ),
  );
  const r = await run(
    s,
    s.gw.createHITWithHITType({
      hitTypeId: 'T1',
      runId: 'r',
      unitId: 'u',
      question: { externalUrl: 'http://127.0.0.1:1/task' },
    }),
  );
  assert.is(r.status, 'alreadyDone');
  assert.is((r as { hitId?: string }).hitId, '3U18MJKL1WA8S1G7ULNIMQIIED9NCW');
  assert.is(s.fake.requests.length, 1);
});

Outcome('when a bonus token is repeated then the outcome is alreadyDone and nothing is retried', async () => {
  const s = setup(() =>
    requestError(
      "The bonus request with UniqueRequestToken 'hs-bonus-1' was already processed at 2026-01-01T00:00:00.000Z; nothing was paid again.",
      'AWS.MechanicalTurk.DuplicateRequest',
    ),
  );
  const r = await run(
    s,
    s.gw.sendBonus({
      workerId: 'A1',
      assignmentId: 'ASG1',
      amountUsd: '1.00',
      reason: 'great',
      runId: 'r',
      unitId: 'u',
    }),
  );
  assert.is(r.status, 'alreadyDone');
  assert.is(s.fake.requests.length, 1);
});

Outcome('when funds are short then the outcome is insufficientFunds', async () => {
  const s = setup(() =>
    requestError(
      'This Requester has insufficient funds in their account to complete this transaction.',
      'AWS.MechanicalTurk.InsufficientFunds',
    ),
  );
  const r = await run(
    s,
    s.gw.sendBonus({
      workerId: 'A1',
      assignmentId: 'ASG1',
      amountUsd: '1.00',
      reason: 'great',
      runId: 'r',
      unitId: 'u',
    }),
  );
  assert.equal(
    [r.status, (r as { code: string }).code, (r as { retryable: boolean }).retryable],
    ['insufficientFunds', 'HST_ERR_MTURK_INSUFFICIENT_FUNDS', false],
  );
});

Outcome('when throttling outlasts every attempt then the outcome is throttled and retryable', async () => {
  const s = setup(() => throttle(), 3);
  const r = await run(s, s.gw.getHIT('H1'));
  assert.equal(
    [r.status, (r as { retryable: boolean }).retryable, (r as { code: string }).code],
    ['throttled', true, 'HST_ERR_MTURK_THROTTLED'],
  );
  assert.is(s.fake.requests.length, 3);
  assert.equal([s.gw.stats().throttles, s.gw.stats().http.throttled], [3, 3]);
});

Outcome('when faults or dropped connections persist then retry-safe calls end unavailable after retries', async () => {
  for (const reply of [fault(), { status: 503, json: '' } as FakeReply, { networkError: 'ECONNRESET' } as FakeReply]) {
    const s = setup(() => reply, 2);
    const r = await run(s, s.gw.getHIT('H1'));
    assert.equal([r.status, (r as { retryable: boolean }).retryable], ['unavailable', true]);
    assert.is(s.fake.requests.length, 2);
  }
});

Outcome('when a fault hits a call that is not safe to repeat then it is not retried', async () => {
  const s = setup(() => fault(), 5);
  const r = await run(s, s.gw.notifyWorkers({ subject: 's', messageText: 'm', workerIds: ['A1'] }));
  assert.is(r.status, 'unavailable');
  assert.is(s.fake.requests.length, 1);
});

Outcome('when a throttle is followed by success then the call succeeds and the retry is counted', async () => {
  const s = setup((_op, n) =>
    n === 0
      ? throttle()
      : { json: { HIT: { HITId: 'H1', HITTypeId: 'T1', HITStatus: 'Assignable', MaxAssignments: 1 } } },
  );
  const r = await run(s, s.gw.getHIT('H1'));
  assert.is(r.status, 'ok');
  assert.equal([s.gw.stats().retries, s.gw.stats().throttles, s.gw.stats().attempts], [1, 1, 2]);
});

Outcome('when an assignment is not visible yet ("status of: null") then invalid is retryable', () => {
  const r = mapRequestError({
    name: 'RequestError',
    message: 'This operation can be called with a status of: null (1596835865828 s)',
    TurkErrorCode: 'AWS.MechanicalTurk.InvalidAssignmentState',
  });
  assert.equal([r.status, r.retryable], ['invalid', true]);
});

Outcome(
  'when MTurk answers ValidationException then the outcome is invalid, not retried, with its message',
  async () => {
    // AWS's front end answered a request that broke the model like this (boto3 issue 1222).
    const message =
      "1 validation error detected: Value null at 'requesterFeedback' failed to satisfy constraint: Member must not be null";
    const s = setup(() => ({ status: 400, json: { __type: 'ValidationException', message } }));
    const r = await run(s, s.gw.getHIT('H1'));
    assert.equal(r, { status: 'invalid', message, retryable: false, code: 'HST_ERR_MTURK_REQUEST_INVALID' });
    assert.is(s.gw.stats().attempts, 1);
  },
);

Outcome('when MTurk rejects the credentials then the call throws HST_ERR_CREDENTIALS_UNUSABLE', async () => {
  const s = setup(() => ({
    status: 403,
    json: { __type: 'UnrecognizedClientException', message: 'The security token included in the request is invalid.' },
  }));
  const err = await run(s, s.gw.getAccountBalance()).then(
    () => null,
    (e: unknown) => e,
  );
  assert.ok(isHitstateError(err, 'HST_ERR_CREDENTIALS_UNUSABLE'), String(err));
  assert.match((err as Error).message, /static access key AKIDHITSTATEUNIT/);
});

Outcome('when the transport fails in an unknown way then the error is thrown, not turned into an outcome', async () => {
  const s = setup(() => {
    throw new TypeError('bug in a handler');
  });
  const err = await run(s, s.gw.getHIT('H1')).then(
    () => null,
    (e: unknown) => e,
  );
  assert.instance(err, TypeError);
});

Outcome('when errors are classified then names, statuses and network codes decide', () => {
  assert.is(
    classifyError({ name: 'ThrottlingException', $fault: 'client', $metadata: { httpStatusCode: 400 } }),
    'throttled',
  );
  assert.is(classifyError({ name: 'Whatever', $metadata: { httpStatusCode: 429 } }), 'throttled');
  assert.is(
    classifyError({ name: 'ServiceFault', $fault: 'server', $metadata: { httpStatusCode: 400 } }),
    'unavailable',
  );
  assert.is(classifyError({ name: 'Unknown', $fault: 'server', $metadata: { httpStatusCode: 503 } }), 'unavailable');
  assert.is(classifyError({ name: 'TimeoutError' }), 'unavailable');
  assert.is(classifyError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })), 'unavailable');
  assert.is(classifyError({ name: 'RequestError', $fault: 'client' }), 'request');
  assert.is(classifyError({ name: 'ExpiredTokenException', $fault: 'client' }), 'credentials');
  assert.is(classifyError(new TypeError('x')), 'unknown');
  assert.is(
    errorMessage({ message: 'Assignment X does not exist. (1373477231604 s)' }),
    'Assignment X does not exist.',
  );
  assert.is(
    parseHitIdFromMessage('There is already a HIT with this token: HITId=3ABCDEFGHIJKLMNOPQRSTUVWXYZ012'),
    '3ABCDEFGHIJKLMNOPQRSTUVWXYZ012',
  );
});

Outcome(
  'when orThrow meets each status then values pass, alreadyDone is returned and failures throw their code',
  () => {
    assert.is(orThrow({ status: 'ok', value: 5 }), 5);
    const done = {
      status: 'alreadyDone',
      message: 'm',
      retryable: false,
      code: 'HST_ERR_MTURK_REQUEST_INVALID',
    } as const;
    assert.is(orThrow(done), done);
    const cases = [
      [
        { status: 'notFound', message: 'gone', retryable: false, code: 'HST_ERR_MTURK_NOT_FOUND' },
        'HST_ERR_MTURK_NOT_FOUND',
      ],
      [
        { status: 'invalid', message: 'bad', retryable: false, code: 'HST_ERR_MTURK_QUALIFICATION_NOT_OWNED' },
        'HST_ERR_MTURK_QUALIFICATION_NOT_OWNED',
      ],
      [
        { status: 'throttled', message: 't', retryable: true, code: 'HST_ERR_MTURK_THROTTLED' },
        'HST_ERR_MTURK_THROTTLED',
      ],
      [
        { status: 'unavailable', message: 'u', retryable: true, code: 'HST_ERR_MTURK_UNAVAILABLE' },
        'HST_ERR_MTURK_UNAVAILABLE',
      ],
      [
        {
          status: 'insufficientFunds',
          message: 'f',
          retryable: false,
          code: 'HST_ERR_MTURK_INSUFFICIENT_FUNDS',
          turkErrorCode: 'X',
        },
        'HST_ERR_MTURK_INSUFFICIENT_FUNDS',
      ],
    ] as const;
    for (const [outcome, code] of cases) {
      let err: unknown;
      try {
        orThrow(outcome as MTurkOutcome<number>, { operation: 'GetHIT', hitId: 'H1' });
      } catch (e) {
        err = e;
      }
      assert.ok(isHitstateError(err, code), code);
      assert.is((err as { details: { hitId?: string } }).details.hitId, 'H1');
    }
  },
);

Outcome.run();
