// performReconcile when MTurk's answer does not hold the task wrapper's data: the raw answer is
// stored, flagged, and the unit is told the reconciliation succeeded (so it can be reviewed and the
// run can end). The run and MTurk are stand-ins: only the answer varies.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { ReconcileSubmissionCommand } from '../../machines/index.js';
import { SUBMISSION_FIELD } from '../../src/mturk/answer-xml.js';
import type { AssignmentInfo } from '../../src/mturk/records.js';
import { isRawAnswerSubmission, performReconcile, RAW_ANSWER_KEY } from '../../src/runtime/commands/hit-commands.js';
import type { RunPort } from '../../src/runtime/core/run-port.js';

const Raw = suite('performReconcile: raw MTurk answers');

const COMMAND: ReconcileSubmissionCommand = {
  kind: 'reconcileSubmission',
  commandId: 'r1/u1/reconcileSubmission/H1',
  runId: 'r1',
  unitId: 'u1',
  hitId: 'H1',
  assignmentId: 'A1',
  agentId: 'A1-W1',
  attempt: 1,
};

const answer = (fields: ReadonlyArray<readonly [string, string]>): string =>
  `<?xml version="1.0" encoding="UTF-8"?><QuestionFormAnswers xmlns="http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/2005-10-01/QuestionFormAnswers.xsd">${fields
    .map(([id, text]) => `<Answer><QuestionIdentifier>${id}</QuestionIdentifier><FreeText>${text}</FreeText></Answer>`)
    .join('')}</QuestionFormAnswers>`;

/** Reconciles one assignment whose answer is `answerXml`; returns what was stored, sent and reported. */
async function reconcile(answerXml: string) {
  const stored = new Map<string, unknown>();
  const sent: Array<{ type: string }> = [];
  const drift: string[] = [];
  const assignment: AssignmentInfo = {
    assignmentId: 'A1',
    workerId: 'W1',
    hitId: 'H1',
    assignmentStatus: 'Submitted',
    submitTimeMs: 5,
    answerXml,
  };
  const run = {
    runId: 'r1',
    gateway: { listAssignmentsForHIT: async () => ({ status: 'ok', value: [assignment] }) },
    services: {
      clock: { now: () => 10 },
      events: {
        emit: (type: string, e: { message: string }) => (type === 'drift.found' ? drift.push(e.message) : undefined),
      },
      store: {
        agents: {
          get: () => ({ id: 'A1-W1' }),
          submission: (agentId: string) => stored.get(agentId),
          recordSubmission: (agentId: string, data: unknown) => void stored.set(agentId, data),
        },
        flush: async () => {},
      },
    },
    persistNow: () => {},
    send: (event: { type: string }) => void sent.push(event),
  } as unknown as RunPort;
  const result = await performReconcile(run, COMMAND);
  return { result, data: stored.get('A1-W1'), sent: sent.map((e) => e.type), drift };
}

Raw(
  'when the wrapper field is not JSON then the answer fields are stored raw and flagged, and the reconciliation succeeds',
  async () => {
    const { result, data, sent, drift } = await reconcile(
      answer([
        [SUBMISSION_FIELD, '{"label": "ca'],
        ['comment', 'fine'],
        ['assignmentId', 'A1'],
      ]),
    );
    assert.is(result.status, 'ok');
    assert.equal(sent, ['reconcile.succeeded']);
    assert.ok(isRawAnswerSubmission(data));
    assert.equal(
      data[RAW_ANSWER_KEY].fields,
      { [SUBMISSION_FIELD]: '{"label": "ca', comment: 'fine' },
      'MTurk’s reserved fields dropped',
    );
    assert.match(data[RAW_ANSWER_KEY].reason, /not valid JSON/);
    assert.ok(drift.some((m) => m.includes(RAW_ANSWER_KEY)));
  },
);

Raw('when the wrapper field is posted twice then both values are kept raw', async () => {
  const { data } = await reconcile(
    answer([
      [SUBMISSION_FIELD, '{"a":1}'],
      [SUBMISSION_FIELD, '{"a":2}'],
    ]),
  );
  assert.ok(isRawAnswerSubmission(data));
  assert.equal(data[RAW_ANSWER_KEY].fields, { [SUBMISSION_FIELD]: ['{"a":1}', '{"a":2}'] });
});

Raw('when the answer XML itself cannot be parsed then the XML is stored as it is', async () => {
  const xml = '<QuestionFormAnswers><Answer><QuestionIdentifier>x</QuestionIdentifier>';
  const { result, data, sent } = await reconcile(xml);
  assert.is(result.status, 'ok');
  assert.equal(sent, ['reconcile.succeeded']);
  assert.ok(isRawAnswerSubmission(data));
  assert.is(data[RAW_ANSWER_KEY].xml, xml);
  assert.is(data[RAW_ANSWER_KEY].fields, undefined);
});

Raw('when the wrapper field holds JSON then the data is stored as posted, not flagged', async () => {
  const { data } = await reconcile(answer([[SUBMISSION_FIELD, '{"label": "cat"}']]));
  assert.equal(data, { label: 'cat' });
  assert.not.ok(isRawAnswerSubmission(data));
});

Raw('when data has that key among others, or is not an object, then it is not taken for a raw answer', () => {
  assert.not.ok(isRawAnswerSubmission({ [RAW_ANSWER_KEY]: {}, other: 1 }));
  assert.not.ok(isRawAnswerSubmission(null));
  assert.not.ok(isRawAnswerSubmission(['x']));
});

Raw.run();
