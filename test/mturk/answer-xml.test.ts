import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { isHitstateError, type ErrorCode } from '../../src/errors.js';
import { parseAnswers, recoverSubmission, SUBMISSION_FIELD } from '../../src/mturk/answer-xml.js';

const NS = 'http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/2005-10-01/QuestionFormAnswers.xsd';
const answer = (id: string, inner: string): string =>
  `<Answer><QuestionIdentifier>${id}</QuestionIdentifier>${inner}</Answer>`;
const doc = (...answers: string[]): string =>
  `<?xml version="1.0" encoding="ASCII"?>\n<QuestionFormAnswers xmlns="${NS}">\n  ${answers.join('\n  ')}\n</QuestionFormAnswers>`;
const escapeXml = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function failure(fn: () => unknown): { code: ErrorCode; xml?: string } | undefined {
  try {
    fn();
  } catch (err) {
    if (isHitstateError(err)) return { code: err.code, xml: (err.details.cause as { xml?: string } | undefined)?.xml };
    throw err;
  }
  return undefined;
}

const Parse = suite('answer-xml parseAnswers');

Parse('when one answer is given then the map has one FreeText value', () => {
  assert.equal(
    { ...parseAnswers(doc(answer('weather', '<FreeText>sunny</FreeText>'))) },
    { weather: { type: 'FreeText', text: 'sunny' } },
  );
});

Parse('when values look like numbers then they stay the exact strings submitted', () => {
  const a = parseAnswers(
    doc(
      answer('zip', '<FreeText>007</FreeText>'),
      answer('hex', '<FreeText>0x1F</FreeText>'),
      answer('e', '<FreeText>1e3</FreeText>'),
      answer('b', '<FreeText>true</FreeText>'),
    ),
  );
  assert.equal(
    [a.zip, a.hex, a.e, a.b].map((v) => (v as { text: string }).text),
    ['007', '0x1F', '1e3', 'true'],
  );
});

Parse('when text has entities, character references, CDATA and whitespace then it is decoded exactly once', () => {
  const a = parseAnswers(
    doc(answer('t', '<FreeText>  a &amp;amp; b &lt;c&gt; &#233;&#x1F600; <![CDATA[raw &amp; <x>]]>\n</FreeText>')),
  );
  assert.is((a.t as { text: string }).text, '  a &amp; b <c> é😀 raw &amp; <x>\n');
});

Parse('when an answer comes in the old or the new simulator form then both read the same', () => {
  // Real MTurk (and the simulator since issue 14): ASCII declaration, no newline, references.
  const ascii = `<?xml version="1.0" encoding="ASCII"?><QuestionFormAnswers xmlns="${NS}"><Answer><QuestionIdentifier>q</QuestionIdentifier><FreeText>a&#8212;b &#128512;</FreeText></Answer></QuestionFormAnswers>`;
  // What stores and fixtures written by the simulator before it hold: UTF-8 declaration, a newline, raw characters.
  const utf8 = `<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n<QuestionFormAnswers xmlns="${NS}"><Answer><QuestionIdentifier>q</QuestionIdentifier><FreeText>a\u2014b 😀</FreeText></Answer></QuestionFormAnswers>`;
  const expected = { q: { type: 'FreeText', text: 'a\u2014b 😀' } };
  assert.equal({ ...parseAnswers(ascii) }, expected);
  assert.equal({ ...parseAnswers(utf8) }, expected);
});

Parse('when a question identifier repeats then every answer is kept in order', () => {
  const a = parseAnswers(
    doc(
      answer('c', '<FreeText>x</FreeText>'),
      answer('d', '<FreeText>1</FreeText>'),
      answer('c', '<FreeText>y</FreeText>'),
      answer('c', '<FreeText>z</FreeText>'),
    ),
  );
  assert.equal(a.c, [
    { type: 'FreeText', text: 'x' },
    { type: 'FreeText', text: 'y' },
    { type: 'FreeText', text: 'z' },
  ]);
  assert.equal(a.d, { type: 'FreeText', text: '1' });
});

Parse('when answers are selections or uploads then they are typed accordingly', () => {
  const a = parseAnswers(
    doc(
      answer('colour', '<SelectionIdentifier>red</SelectionIdentifier><SelectionIdentifier>blue</SelectionIdentifier>'),
      answer('other', '<OtherSelectionText>teal</OtherSelectionText>'),
      answer(
        'file',
        '<UploadedFileSizeInBytes>1024</UploadedFileSizeInBytes><UploadedFileKey>abc/def</UploadedFileKey>',
      ),
    ),
  );
  assert.equal(a.colour, { type: 'Selection', selectionIds: ['red', 'blue'] });
  assert.equal(a.other, { type: 'Selection', selectionIds: [], otherText: 'teal' });
  assert.equal(a.file, { type: 'UploadedFile', fileKey: 'abc/def', sizeBytes: 1024 });
});

Parse('when the document is empty or has no answers then the map is empty', () => {
  assert.equal(Object.keys(parseAnswers('')), []);
  assert.equal(Object.keys(parseAnswers(`<QuestionFormAnswers xmlns="${NS}"/>`)), []);
  assert.equal(parseAnswers(doc(answer('empty', '<FreeText></FreeText>'), answer('none', ''))).empty, {
    type: 'FreeText',
    text: '',
  });
});

Parse('when a question id is a prototype name then it is an ordinary key', () => {
  const a = parseAnswers(
    doc(answer('__proto__', '<FreeText>p</FreeText>'), answer('constructor', '<FreeText>c</FreeText>')),
  );
  // biome-ignore lint/complexity/useLiteralKeys: the key under test is a prototype name
  // biome-ignore lint/suspicious/noProto: reads the own key, not the prototype
  assert.equal(a['__proto__'], { type: 'FreeText', text: 'p' });
  // biome-ignore lint/complexity/useLiteralKeys: the key under test is a prototype name
  assert.equal(a['constructor'], { type: 'FreeText', text: 'c' });
  assert.is(({} as Record<string, unknown>).p, undefined);
});

Parse('when the XML is malformed then HST_ERR_XML_MALFORMED keeps the raw text', () => {
  for (const bad of [
    '<QuestionFormAnswers><Answer>',
    '<QuestionFormAnswers><Answer><QuestionIdentifier>a</QuestionIdentifier><FreeText>x</Answer></QuestionFormAnswers>',
    'not xml at all',
    '<Other/>',
    '<QuestionFormAnswers/><QuestionFormAnswers/>',
    doc('<Answer><FreeText>x</FreeText></Answer>'),
    doc('<Bogus/>'),
    doc(answer('a', '<FreeText><b>bold</b></FreeText>')),
    doc(answer('a', '<FreeText>a & b</FreeText>')),
    doc(answer('a', '<FreeText>&#0;</FreeText>')),
  ]) {
    const f = failure(() => parseAnswers(bad));
    assert.is(f?.code, 'HST_ERR_XML_MALFORMED', bad);
    assert.is(f?.xml, bad);
  }
});

Parse('when a DOCTYPE or an unknown entity appears then HST_ERR_XML_ENTITY refuses it before expansion', () => {
  const laughs = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">]>${doc(answer('a', '<FreeText>&lol2;</FreeText>')).replace(/^<\?xml[^>]*>\n/, '')}`;
  assert.is(failure(() => parseAnswers(laughs))?.code, 'HST_ERR_XML_ENTITY');
  assert.is(failure(() => parseAnswers(`<!-- c --><!DOCTYPE x>${doc()}`))?.code, 'HST_ERR_XML_ENTITY');
  assert.is(failure(() => parseAnswers(doc(answer('a', '<FreeText>&nbsp;</FreeText>'))))?.code, 'HST_ERR_XML_ENTITY');
});

Parse('when the input is over 65,535 bytes or nests too deep then HST_ERR_XML_TOO_LARGE', () => {
  const big = doc(answer('a', `<FreeText>${'x'.repeat(65_536)}</FreeText>`));
  assert.is(failure(() => parseAnswers(big))?.code, 'HST_ERR_XML_TOO_LARGE');
  const deep = `<QuestionFormAnswers>${'<a>'.repeat(40)}${'</a>'.repeat(40)}</QuestionFormAnswers>`;
  assert.is(failure(() => parseAnswers(deep))?.code, 'HST_ERR_XML_TOO_LARGE');
});

const Recover = suite('answer-xml recoverSubmission');

Recover('when the wrapper posted the JSON field then the submission comes back exactly as sent', () => {
  const data = {
    zip: '007',
    nested: { list: [1, 'two', { three: null }], text: 'a <b> & "c" é\n' },
    flag: true,
    n: 1.5e-7,
  };
  const xml = doc(
    answer('assignmentId', '<FreeText>ASG1</FreeText>'),
    answer(SUBMISSION_FIELD, `<FreeText>${escapeXml(JSON.stringify(data))}</FreeText>`),
  );
  assert.equal(recoverSubmission(xml), { source: 'json', data });
});

Recover('when there is no JSON field then the other fields come back as text without reserved fields', () => {
  const xml = doc(
    answer('assignmentId', '<FreeText>ASG1</FreeText>'),
    answer('workerId', '<FreeText>A1</FreeText>'),
    answer('q1', '<FreeText>007</FreeText>'),
    answer('tags', '<FreeText>a</FreeText>'),
    answer('tags', '<FreeText>b</FreeText>'),
  );
  const r = recoverSubmission(xml);
  assert.is(r.source, 'fields');
  assert.equal({ ...(r.data as object) }, { q1: '007', tags: ['a', 'b'] });
});

Recover('when the JSON field is broken or repeated then HST_ERR_XML_MALFORMED', () => {
  assert.is(
    failure(() => recoverSubmission(doc(answer(SUBMISSION_FIELD, '<FreeText>{"a":</FreeText>'))))?.code,
    'HST_ERR_XML_MALFORMED',
  );
  assert.is(
    failure(() =>
      recoverSubmission(
        doc(answer(SUBMISSION_FIELD, '<FreeText>{}</FreeText>'), answer(SUBMISSION_FIELD, '<FreeText>{}</FreeText>')),
      ),
    )?.code,
    'HST_ERR_XML_MALFORMED',
  );
});

Parse.run();
Recover.run();
