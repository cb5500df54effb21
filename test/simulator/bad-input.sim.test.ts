// Every implemented operation gets bodies of the wrong shape in every member: the server must
// answer each with a ValidationException (the body breaks the model) or a RequestError (MTurk's
// own rules), or succeed when the garbage happens to be acceptable; never a 500 from an internal
// failure, and keep serving.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { OPERATIONS } from '../../src/simulator/operations/index.js';
import { rawCall, startSim } from './helpers.js';

const MEMBERS = [
  'HITId',
  'HITTypeId',
  'AssignmentId',
  'QualificationTypeId',
  'WorkerId',
  'WorkerIds',
  'Title',
  'Description',
  'Keywords',
  'Reward',
  'BonusAmount',
  'Reason',
  'RequesterFeedback',
  'OverrideRejection',
  'AssignmentDurationInSeconds',
  'LifetimeInSeconds',
  'AutoApprovalDelayInSeconds',
  'MaxAssignments',
  'Question',
  'RequesterAnnotation',
  'UniqueRequestToken',
  'QualificationRequirements',
  'NumberOfAdditionalAssignments',
  'ExpireAt',
  'Revert',
  'Status',
  'AssignmentStatuses',
  'MaxResults',
  'NextToken',
  'Name',
  'QualificationTypeStatus',
  'Test',
  'AnswerKey',
  'TestDurationInSeconds',
  'RetryDelayInSeconds',
  'AutoGranted',
  'AutoGrantedValue',
  'IntegerValue',
  'SendNotification',
  'MustBeRequestable',
  'MustBeOwnedByCaller',
  'Query',
  'Subject',
  'MessageText',
  'Notification',
  'Active',
  'TestEventType',
];
const GARBAGE: unknown[] = [12345, -1, 1.5, 'x', '', [], [{}], {}, { a: 1 }, true, '\u0000<&>'];

const BadInput = suite('simulator bad input');

/** A 400 whose body is a ValidationException (`message`) or a RequestError (`Message`). */
const isClientError = (status: number, json: Record<string, unknown>): boolean =>
  status === 400 &&
  ((json.__type === 'ValidationException' && typeof json.message === 'string') ||
    (json.__type === 'RequestError' && typeof json.Message === 'string'));

BadInput(
  'when every member of every operation has the wrong shape then each answer is a 400 naming the problem and the server keeps serving',
  async () => {
    const sim = await startSim();
    try {
      const problems: string[] = [];
      for (const operation of Object.keys(OPERATIONS)) {
        for (const value of GARBAGE) {
          const body = Object.fromEntries(MEMBERS.map((m) => [m, value]));
          const { status, json } = await rawCall(sim, JSON.stringify(body), {
            'x-amz-target': `MTurkRequesterServiceV20170117.${operation}`,
          });
          if (status === 200) continue;
          if (!isClientError(status, json))
            problems.push(`${operation} ${JSON.stringify(value)} -> ${status} ${JSON.stringify(json)}`);
        }
        for (const member of MEMBERS) {
          const { status, json } = await rawCall(sim, JSON.stringify({ [member]: { nested: [null] } }), {
            'x-amz-target': `MTurkRequesterServiceV20170117.${operation}`,
          });
          if (status !== 200 && !isClientError(status, json))
            problems.push(`${operation} ${member} -> ${status} ${JSON.stringify(json)}`);
        }
      }
      assert.equal(problems, []);
      const alive = await rawCall(sim, '{}');
      assert.is(alive.status, 200);
      assert.is(alive.json.AvailableBalance, '10000.00');
    } finally {
      await sim.close();
    }
  },
);

BadInput.run();
