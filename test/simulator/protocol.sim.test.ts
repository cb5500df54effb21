import {
  CreateHITCommand,
  GetAccountBalanceCommand,
  GetHITCommand,
  ListHITsCommand,
  GetFileUploadURLCommand,
  MTurkServiceException,
  RequestError,
  type MTurkClient,
} from '@aws-sdk/client-mturk';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Simulator } from '../../src/simulator/index.js';
import { clientFor, hitInput, rawCall, rejection, startSim } from './helpers.js';

const Protocol = suite<{ sim: Simulator; mturk: MTurkClient }>('simulator protocol', {} as never);

Protocol.before(async (ctx) => {
  ctx.sim = await startSim({ maxBodyBytes: 4096 });
  ctx.mturk = clientFor(ctx.sim);
});
Protocol.after(async (ctx) => {
  ctx.mturk.destroy();
  await ctx.sim.close();
});

const noCodeKey = (json: Record<string, unknown>): void => {
  assert.not.ok('code' in json || 'Code' in json, `error bodies must not carry code/Code: ${JSON.stringify(json)}`);
};

Protocol(
  'when the SDK calls with only the endpoint changed then it gets a typed answer with a request id',
  async ({ mturk }) => {
    const balance = await mturk.send(new GetAccountBalanceCommand({}));
    assert.is(balance.AvailableBalance, '10000.00');
    assert.is(balance.OnHoldBalance, '0.00');
    assert.match(balance.$metadata.requestId ?? '', /^[0-9a-f-]{36}$/);
  },
);

Protocol(
  'when a request has no Authorization header then it is refused with 403 MissingAuthenticationTokenException',
  async ({ sim }) => {
    const res = await fetch(`${sim.url}/`, {
      method: 'POST',
      headers: {
        'x-amz-target': 'MTurkRequesterServiceV20170117.GetAccountBalance',
        'content-type': 'application/x-amz-json-1.1',
      },
      body: '{}',
    });
    assert.is(res.status, 403);
    assert.equal(await res.json(), {
      __type: 'MissingAuthenticationTokenException',
      message: 'Missing Authentication Token',
    });
    const noCredential = await rawCall(sim, '{}', { authorization: 'Bearer abc' });
    assert.is(noCredential.status, 403);
    assert.is(noCredential.json.__type, 'IncompleteSignatureException');
  },
);

Protocol(
  'when the target is unknown, missing or not implemented then a RequestError names it',
  async ({ sim, mturk }) => {
    const wrongPrefix = await rawCall(sim, '{}', { 'x-amz-target': 'AWSShineFrontendService_20170701.GetBalance' });
    assert.is(wrongPrefix.status, 400);
    assert.is(wrongPrefix.json.__type, 'RequestError');
    assert.match(String(wrongPrefix.json.Message), /AWSShineFrontendService_20170701\.GetBalance/);
    const unknownOp = await rawCall(sim, '{}', { 'x-amz-target': 'MTurkRequesterServiceV20170117.MakeCoffee' });
    assert.is(unknownOp.status, 400);
    assert.match(String(unknownOp.json.Message), /Unknown operation 'MakeCoffee'/);
    const missing = await rawCall(sim, '{}', { 'x-amz-target': '' });
    assert.match(String(missing.json.Message), /Missing x-amz-target/);
    noCodeKey(unknownOp.json);
    const err = await rejection(
      mturk.send(
        new GetFileUploadURLCommand({ AssignmentId: '3AAAAAAAAAAAAAAAAAAAAAAAAAAAAA', QuestionIdentifier: 'q' }),
      ),
    );
    assert.instance(err, RequestError);
    assert.match(err.message, /GetFileUploadURL is not implemented by the hitstate MTurk simulator/);
  },
);

Protocol('when the body is not a JSON object then a RequestError says so and nothing is counted', async ({ sim }) => {
  sim.resetStats();
  const broken = await rawCall(sim, '{"HITId": ', { 'x-amz-target': 'MTurkRequesterServiceV20170117.GetHIT' });
  assert.is(broken.status, 400);
  assert.is(broken.json.__type, 'RequestError');
  assert.match(String(broken.json.Message), /not valid JSON/);
  noCodeKey(broken.json);
  const array = await rawCall(sim, '[1,2]', { 'x-amz-target': 'MTurkRequesterServiceV20170117.GetHIT' });
  assert.match(String(array.json.Message), /must be a JSON object/);
  assert.equal(sim.stats().calls, {});
});

Protocol(
  'when required members are missing or mistyped then the SDK raises a ValidationException with the AWS message',
  async ({ mturk, sim }) => {
    const missing = await rejection(mturk.send(new GetHITCommand({} as never)));
    assert.is(missing.name, 'ValidationException');
    assert.not.instance(missing, RequestError);
    assert.is(
      missing.message,
      "1 validation error detected: Value null at 'hITId' failed to satisfy constraint: Member must not be null",
    );
    assert.is((missing as unknown as MTurkServiceException).$fault, 'client');
    assert.is((missing as unknown as MTurkServiceException).$metadata.httpStatusCode, 400);
    const typed = await rawCall(sim, JSON.stringify({ MaxResults: 'ten' }), {
      'x-amz-target': 'MTurkRequesterServiceV20170117.ListHITs',
    });
    assert.is(typed.status, 400);
    assert.equal(typed.json, {
      __type: 'ValidationException',
      message:
        "1 validation error detected: Value 'ten' at 'maxResults' failed to satisfy constraint: Member must be an integer",
    });
    const tooMany = await rejection(mturk.send(new ListHITsCommand({ MaxResults: 101 })));
    assert.match(tooMany.message, /less than or equal to 100/);
    const zero = await rejection(mturk.send(new ListHITsCommand({ MaxResults: 0 })));
    assert.match(zero.message, /greater than or equal to 1/);
  },
);

Protocol(
  'when a body is larger than the limit then the answer is 413 with a RequestError body and the server keeps serving',
  async ({ sim, mturk }) => {
    const big = await rawCall(sim, JSON.stringify({ Title: 'x'.repeat(5000) }), {
      'x-amz-target': 'MTurkRequesterServiceV20170117.CreateHITType',
    });
    assert.is(big.status, 413);
    assert.is(big.json.__type, 'RequestError');
    assert.match(String(big.json.Message), /larger than 4096 bytes/);
    noCodeKey(big.json);
    const viaSdk = await rejection(mturk.send(new CreateHITCommand(hitInput({ Description: 'y'.repeat(5000) }))));
    assert.instance(viaSdk, RequestError);
    assert.is((await mturk.send(new GetAccountBalanceCommand({}))).AvailableBalance, '10000.00');
  },
);

Protocol('when two access keys call then each is its own requester account', async ({ sim, mturk }) => {
  const other = clientFor(sim, 'AKIDREQUESTERTWO');
  try {
    const { HIT } = await other.send(new CreateHITCommand(hitInput()));
    const hidden = await rejection(mturk.send(new GetHITCommand({ HITId: HIT!.HITId })));
    assert.match(hidden.message, new RegExp(`^Hit ${HIT!.HITId} does not exist\\. \\(\\d+\\)$`));
    assert.is(hidden.TurkErrorCode, 'AWS.MechanicalTurk.HITDoesNotExist');
    assert.ok((await mturk.send(new ListHITsCommand({}))).HITs!.every((h) => h.HITId !== HIT!.HITId));
    assert.is((await other.send(new GetAccountBalanceCommand({}))).AvailableBalance, '9999.40');
    assert.is((await mturk.send(new GetAccountBalanceCommand({}))).AvailableBalance, '10000.00');
    const accounts = sim.inspect().accounts;
    assert.ok(accounts.AKIDREQUESTERTWO!.hits.length === 1);
    assert.match(accounts.AKIDREQUESTERTWO!.customerId, /^A[A-Z0-9]{13}$/);
  } finally {
    other.destroy();
  }
});

Protocol('when an error comes back then it is the SDK error class with the MTurk message shape', async ({ mturk }) => {
  const err = await rejection(mturk.send(new GetHITCommand({ HITId: '3AAAAAAAAAAAAAAAAAAAAAAAAAAAAA' })));
  assert.instance(err, RequestError);
  assert.instance(err, MTurkServiceException);
  assert.is(err.name, 'RequestError');
  assert.is((err as unknown as MTurkServiceException).$metadata.httpStatusCode, 400);
  assert.match(err.message, /^Hit 3AAAAAAAAAAAAAAAAAAAAAAAAAAAAA does not exist\. \(\d{13}\)$/);
});

Protocol('when a browser opens the root then it gets the worker home page, not an API error', async ({ sim }) => {
  const res = await fetch(`${sim.url}/`);
  assert.is(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /text\/html/);
  assert.match(await res.text(), /Available HITs/);
});

Protocol.run();
