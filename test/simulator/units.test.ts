import { XMLParser } from 'fast-xml-parser';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseAnswers } from '../../src/mturk/answer-xml.js';
import { EventQueue } from '../../src/simulator/event-queue.js';
import { assignmentCostCents, bonusCostCents, feeCents, formatCents, toCents } from '../../src/simulator/money.js';
import { mergeAfter, OrderedIndex } from '../../src/simulator/ordered-index.js';
import { buildAnswerXml, escapeXml, externalUrlProblem, parseQuestion } from '../../src/simulator/question.js';
import { guards, meets } from '../../src/simulator/qualifications.js';
import { Prng } from '../../src/random.js';
import { IdGenerator } from '../../src/simulator/ids.js';
import { frameUrl } from '../../src/simulator/worker-pages.js';

const Index = suite('ordered-index');

Index('when keys are inserted out of order then iteration is in key order and resumes after a key', () => {
  const ix = new OrderedIndex<string>();
  const keys = Array.from({ length: 500 }, (_, i) => (i * 7919) % 1000);
  for (const k of keys) ix.set(k, `v${k}`);
  const sorted = [...new Set(keys)].sort((a, b) => a - b);
  assert.is(ix.size, sorted.length);
  assert.equal(
    [...ix.entriesAfter()].map(([k]) => k),
    sorted,
  );
  assert.equal(
    [...ix.entriesAfter(sorted[10])].map(([k]) => k),
    sorted.slice(11),
  );
  assert.equal(
    [...ix.entriesAfter(sorted[10]! + 0.5)].map(([k]) => k),
    sorted.slice(11),
  );
});

Index('when entries are deleted then they disappear and a page token past them still resumes', () => {
  const ix = new OrderedIndex<number>();
  for (let k = 1; k <= 300; k++) ix.set(k, k);
  for (let k = 2; k <= 300; k += 2) assert.ok(ix.delete(k));
  assert.not.ok(ix.delete(2));
  assert.is(ix.size, 150);
  assert.equal(
    [...ix.entriesAfter(100)].slice(0, 3).map(([k]) => k),
    [101, 103, 105],
  );
  ix.set(5, -5);
  assert.equal([...ix.values()].slice(0, 3), [1, 3, -5]);
  assert.ok(ix.has(299));
  assert.not.ok(ix.has(300));
});

Index('when several indexes are merged then entries come in key order', () => {
  const a = new OrderedIndex<string>();
  const b = new OrderedIndex<string>();
  for (const k of [1, 4, 9]) a.set(k, 'a');
  for (const k of [2, 3, 10]) b.set(k, 'b');
  assert.equal(
    [...mergeAfter([a, b])].map(([k]) => k),
    [1, 2, 3, 4, 9, 10],
  );
  assert.equal(
    [...mergeAfter([a, b], 3)].map(([k]) => k),
    [4, 9, 10],
  );
});

const Queue = suite('event-queue');

Queue('when events are pushed then they pop in time order, ties in push order, only once due', () => {
  const q = new EventQueue();
  q.push({ atMs: 30, kind: 'hitExpiry', ref: 'c' });
  q.push({ atMs: 10, kind: 'hitExpiry', ref: 'a' });
  q.push({ atMs: 20, kind: 'autoApproval', ref: 'b1' });
  q.push({ atMs: 20, kind: 'assignmentDeadline', ref: 'b2' });
  assert.is(q.peekTime(), 10);
  assert.is(q.popDue(5), undefined);
  const refs: string[] = [];
  for (let e = q.popDue(25); e; e = q.popDue(25)) refs.push(e.ref);
  assert.equal(refs, ['a', 'b1', 'b2']);
  assert.is(q.size, 1);
});

const Money = suite('money');

Money('when amounts are converted then cents are exact and balances print with two decimals', () => {
  assert.is(toCents('5'), 500);
  assert.is(toCents('0.5'), 50);
  assert.is(toCents('101.42'), 10142);
  assert.is(toCents('3.'), 300);
  assert.is(formatCents(1000000), '10000.00');
  assert.is(formatCents(5), '0.05');
  assert.is(formatCents(-120), '-1.20');
});

Money('when fees are computed then 20% (40% from 10 assignments) rounds half up with a one cent minimum', () => {
  assert.is(feeCents(50, 0.2), 10);
  assert.is(feeCents(1, 0.2), 1);
  assert.is(feeCents(7, 0.2), 1);
  assert.is(feeCents(8, 0.2), 2);
  assert.is(assignmentCostCents(50, 9), 60);
  assert.is(assignmentCostCents(50, 10), 70);
  assert.is(bonusCostCents(100), 120);
});

const Xml = suite('question and answer xml');

Xml(
  'when an answer is built then values are escaped, line ends read back as LF, control characters are replaced',
  () => {
    const xml = buildAnswerXml([
      ['q1', 'a < b & "c" \'d\''],
      ['json', '{"x":"line1\r\nline2"}'],
      ['bad', 'x\u0001y'],
    ]);
    assert.ok(
      xml.startsWith(
        '<?xml version="1.0" encoding="ASCII"?><QuestionFormAnswers xmlns="http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/2005-10-01/QuestionFormAnswers.xsd">',
      ),
      xml.slice(0, 120),
    );
    const parsed = new XMLParser({ parseTagValue: false, trimValues: false, isArray: (n) => n === 'Answer' }).parse(
      xml,
    );
    const answers = parsed.QuestionFormAnswers.Answer as { QuestionIdentifier: string; FreeText: string }[];
    assert.equal(
      answers.map((a) => a.QuestionIdentifier),
      ['q1', 'json', 'bad'],
    );
    assert.is(answers[0]!.FreeText, 'a < b & "c" \'d\'');
    assert.is(answers[1]!.FreeText, '{"x":"line1\nline2"}');
    // U+FFFD is outside ASCII, so it is written as a reference, which hitstate's own parser decodes.
    assert.is(answers[2]!.FreeText, 'x&#65533;y');
    assert.equal(parseAnswers(xml).bad, { type: 'FreeText', text: 'x\uFFFDy' });
    assert.is(escapeXml('<&>'), '&lt;&amp;&gt;');
  },
);

Xml(
  'when an answer has characters outside ASCII then each is one numeric character reference of its code point',
  () => {
    const xml = buildAnswerXml([['q', 'a\u2014b café 😀 日本']]);
    assert.ok(/^[\x00-\x7F]*$/.test(xml), 'the document is pure ASCII');
    assert.ok(xml.includes('<FreeText>a&#8212;b caf&#233; &#128512; &#26085;&#26412;</FreeText>'), xml);
    const parsed = parseAnswers(xml);
    assert.equal(parsed.q, { type: 'FreeText', text: 'a\u2014b café 😀 日本' });
  },
);

Xml('when question documents are parsed then kinds, namespaces and URLs are checked', () => {
  const ns = 'http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas';
  const ext = parseQuestion(
    `<?xml version="1.0"?><ExternalQuestion xmlns="${ns}/2006-07-14/ExternalQuestion.xsd"><ExternalURL>https://x.example/t?a=1&amp;b=2</ExternalURL><FrameHeight>0</FrameHeight></ExternalQuestion>`,
  );
  assert.equal(ext, { kind: 'ExternalQuestion', externalUrl: 'https://x.example/t?a=1&b=2', frameHeight: 0 });
  const html = parseQuestion(
    `<HTMLQuestion xmlns="${ns}/2011-11-11/HTMLQuestion.xsd"><HTMLContent><![CDATA[<p>Hi</p>]]></HTMLContent><FrameHeight>400</FrameHeight></HTMLQuestion>`,
  );
  assert.equal(html, { kind: 'HTMLQuestion', html: '<p>Hi</p>', frameHeight: 400 });
  const form = parseQuestion(
    `<QuestionForm xmlns="${ns}/2017-11-06/QuestionForm.xsd"><Question><QuestionIdentifier>q1</QuestionIdentifier><DisplayName>First</DisplayName></Question></QuestionForm>`,
  );
  assert.equal(form, { kind: 'QuestionForm', questions: [{ identifier: 'q1', text: 'First' }] });
  assert.throws(() => parseQuestion('<ExternalQuestion><ExternalURL>'), /not well-formed/);
  assert.throws(
    () =>
      parseQuestion(
        '<ExternalQuestion><ExternalURL>https://x</ExternalURL><FrameHeight>1</FrameHeight></ExternalQuestion>',
      ),
    /must declare xmlns/,
  );
  assert.throws(() => parseQuestion(`<Other xmlns="${ns}/x.xsd"/>`), /root element/);
  assert.throws(
    () =>
      parseQuestion(
        `<ExternalQuestion xmlns="${ns}/2006-07-14/ExternalQuestion.xsd"><ExternalURL>http://example.com/</ExternalURL><FrameHeight>1</FrameHeight></ExternalQuestion>`,
      ),
    /must use https/,
  );
  assert.throws(
    () =>
      parseQuestion(
        `<ExternalQuestion xmlns="${ns}/2006-07-14/ExternalQuestion.xsd"><ExternalURL>https://x.example/</ExternalURL></ExternalQuestion>`,
      ),
    /FrameHeight/,
  );
});

Xml('when an ExternalURL is http then only loopback hosts are accepted', () => {
  assert.is(externalUrlProblem('http://127.0.0.1:3000/task'), undefined);
  assert.is(externalUrlProblem('http://localhost/task'), undefined);
  assert.is(externalUrlProblem('http://[::1]:8080/'), undefined);
  assert.ok(externalUrlProblem('http://10.0.0.1/task'));
  assert.ok(externalUrlProblem('ftp://example.com/'));
  assert.ok(externalUrlProblem('not a url'));
});

Xml('when frame parameters are appended then the task URL keeps its query and fragment', () => {
  assert.is(
    frameUrl('https://x.example/t', { assignmentId: 'A1', hitId: 'H', workerId: undefined }),
    'https://x.example/t?assignmentId=A1&hitId=H',
  );
  assert.is(
    frameUrl('https://x.example/t?lang=en%20GB#top', { a: 'b c' }),
    'https://x.example/t?lang=en%20GB&a=b%20c#top',
  );
});

const Quals = suite('qualification comparators');

Quals(
  'when integer comparators are evaluated then each compares the worker value, and a missing value meets only DoesNotExist',
  () => {
    const req = (Comparator: string, IntegerValues?: number[]) => ({
      QualificationTypeId: 'Q',
      Comparator,
      ...(IntegerValues ? { IntegerValues } : {}),
    });
    const v = { integer: 80 };
    assert.ok(meets(req('LessThan', [81]), v));
    assert.not.ok(meets(req('LessThan', [80]), v));
    assert.ok(meets(req('LessThanOrEqualTo', [80]), v));
    assert.ok(meets(req('GreaterThan', [79]), v));
    assert.not.ok(meets(req('GreaterThan', [80]), v));
    assert.ok(meets(req('GreaterThanOrEqualTo', [80]), v));
    assert.ok(meets(req('EqualTo', [80]), v));
    assert.ok(meets(req('NotEqualTo', [1]), v));
    assert.ok(meets(req('In', [1, 80]), v));
    assert.not.ok(meets(req('NotIn', [1, 80]), v));
    assert.ok(meets(req('Exists'), v));
    assert.not.ok(meets(req('DoesNotExist'), v));
    assert.ok(meets(req('DoesNotExist'), undefined));
    for (const c of ['Exists', 'EqualTo', 'NotEqualTo', 'NotIn', 'LessThan'])
      assert.not.ok(meets(req(c, [1]), undefined), c);
  },
);

Quals('when ActionsGuarded is set then it guards discover, preview and accept as documented', () => {
  const base = { QualificationTypeId: 'Q', Comparator: 'Exists' };
  assert.equal(
    ['discover', 'preview', 'accept'].map((a) => guards(base, a as never)),
    [false, false, true],
  );
  assert.equal(
    ['discover', 'preview', 'accept'].map((a) => guards({ ...base, ActionsGuarded: 'PreviewAndAccept' }, a as never)),
    [false, true, true],
  );
  assert.equal(
    ['discover', 'preview', 'accept'].map((a) =>
      guards({ ...base, ActionsGuarded: 'DiscoverPreviewAndAccept' }, a as never),
    ),
    [true, true, true],
  );
  assert.equal(
    ['discover', 'preview', 'accept'].map((a) => guards({ ...base, RequiredToPreview: true }, a as never)),
    [false, true, true],
  );
});

const Ids = suite('ids');

Ids('when ids are generated from a seed then they have MTurk shapes and repeat for the same seed', () => {
  const a = new IdGenerator(new Prng(42));
  const b = new IdGenerator(new Prng(42));
  const ids = [a.entityId(), a.entityId(), a.customerId()];
  assert.equal([b.entityId(), b.entityId(), b.customerId()], ids);
  assert.match(ids[0]!, /^[1-9][A-Z0-9]{29}$/);
  assert.match(ids[2]!, /^A[A-Z0-9]{13}$/);
  assert.match(a.requestId(), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}$/);
  const restored = Prng.restore(new Prng(9).state);
  assert.is(restored.next(), new Prng(9).next());
});

Index.run();
Queue.run();
Money.run();
Xml.run();
Quals.run();
Ids.run();
