import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { isHitstateError } from '../../src/errors.js';
import {
  buildCompensationQuestionForm,
  buildExternalQuestion,
  buildHTMLQuestion,
  QUESTION_NAMESPACES,
} from '../../src/mturk/question-xml.js';

const Question = suite('question-xml');
const read = new XMLParser({ ignoreAttributes: false, parseTagValue: false, cdataPropName: '__cdata' });

Question('when an ExternalQuestion is built then it has the namespace, the escaped URL and the frame height', () => {
  const xml = buildExternalQuestion('https://tasks.example.org/r1?a=1&b=<2>', 600);
  assert.ok(XMLValidator.validate(xml) === true);
  assert.match(xml, /&amp;b=&lt;2&gt;/);
  const doc = read.parse(xml);
  assert.is(doc.ExternalQuestion['@_xmlns'], QUESTION_NAMESPACES.externalQuestion);
  assert.is(doc.ExternalQuestion.ExternalURL, 'https://tasks.example.org/r1?a=1&b=<2>');
  assert.is(doc.ExternalQuestion.FrameHeight, '600');
});

Question('when no frame height is given then 0 (fit the window) is used', () => {
  assert.match(buildExternalQuestion('https://x.example/t'), /<FrameHeight>0<\/FrameHeight>/);
});

Question('when the URL is http then it is refused unless allowed for a custom endpoint', () => {
  assert.throws(
    () => buildExternalQuestion('http://127.0.0.1:8080/t', 0),
    (e: unknown) => isHitstateError(e, 'HST_ERR_CONFIG_INVALID'),
  );
  assert.match(
    buildExternalQuestion('http://127.0.0.1:8080/t', 0, { allowHttp: true }),
    /http:\/\/127\.0\.0\.1:8080\/t/,
  );
  assert.throws(
    () => buildExternalQuestion('not a url', 0),
    (e: unknown) => isHitstateError(e, 'HST_ERR_CONFIG_INVALID'),
  );
  assert.throws(
    () => buildExternalQuestion('ftp://x.example/t', 0, { allowHttp: true }),
    (e: unknown) => isHitstateError(e, 'HST_ERR_CONFIG_INVALID'),
  );
});

Question('when the frame height is negative or fractional then it is refused', () => {
  for (const h of [-1, 1.5, Number.NaN]) {
    assert.throws(
      () => buildExternalQuestion('https://x.example/t', h),
      (e: unknown) => isHitstateError(e, 'HST_ERR_CONFIG_INVALID'),
    );
  }
});

Question('when HTML contains "]]>" then the HTMLQuestion splits CDATA and the HTML reads back unchanged', () => {
  const html = '<!DOCTYPE html><html><body><script>if (a[b[0]]>1) x = "&amp;";</script></body></html>';
  const xml = buildHTMLQuestion(html, 450);
  assert.ok(XMLValidator.validate(xml) === true);
  const doc = new XMLParser({
    ignoreAttributes: false,
    parseTagValue: false,
    cdataPropName: false as unknown as string,
  }).parse(xml);
  assert.is(doc.HTMLQuestion['@_xmlns'], QUESTION_NAMESPACES.htmlQuestion);
  assert.is(doc.HTMLQuestion.HTMLContent, html);
  assert.is(doc.HTMLQuestion.FrameHeight, '450');
});

Question('when a question exceeds 65,535 bytes then it is refused as too large', () => {
  assert.throws(
    () => buildHTMLQuestion(`<p>${'é'.repeat(33_000)}</p>`, 0),
    (e: unknown) => isHitstateError(e, 'HST_ERR_XML_TOO_LARGE'),
  );
});

Question('when a compensation form is built then it asks for the Worker ID and shows the escaped reason', () => {
  const xml = buildCompensationQuestionForm('Bonus for <task> & more');
  assert.ok(XMLValidator.validate(xml) === true);
  const doc = read.parse(xml);
  assert.is(doc.QuestionForm['@_xmlns'], QUESTION_NAMESPACES.questionForm);
  assert.is(doc.QuestionForm.Question.QuestionIdentifier, 'workerid');
  assert.is(doc.QuestionForm.Question.IsRequired, 'true');
  assert.match(doc.QuestionForm.Question.QuestionContent.Text, /Bonus for <task> & more/);
  assert.is(doc.QuestionForm.Question.AnswerSpecification.FreeTextAnswer.Constraints.Length['@_minLength'], '2');
});

Question.run();
