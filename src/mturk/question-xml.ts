/**
 * Question documents for `CreateHITWithHITType`: ExternalQuestion (the task page hitstate
 * serves), HTMLQuestion (HTML hosted by MTurk) and the QuestionForm of compensation HITs.
 * Built with fast-xml-parser's builder, so every value is escaped.
 *
 * @module
 */
import { XMLBuilder } from 'fast-xml-parser';
import { HitstateError } from '../errors.js';

/** MTurk's schema namespaces (docs/stack-notes.md#schema-namespaces). */
export const QUESTION_NAMESPACES = {
  externalQuestion: 'http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/2006-07-14/ExternalQuestion.xsd',
  htmlQuestion: 'http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/2011-11-11/HTMLQuestion.xsd',
  questionForm: 'http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/2017-11-06/QuestionForm.xsd',
  questionFormAnswers:
    'http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/2005-10-01/QuestionFormAnswers.xsd',
} as const;

/** MTurk's limit on question and answer documents, in bytes. */
export const MAX_XML_BYTES = 65_535;

const builder = new XMLBuilder({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  cdataPropName: '__cdata',
  suppressEmptyNode: true,
});

function checkFrameHeight(frameHeight: number): number {
  if (!Number.isSafeInteger(frameHeight) || frameHeight < 0) {
    throw new HitstateError(
      'HST_ERR_CONFIG_INVALID',
      `frameHeight must be a non-negative integer of pixels (0 = fit the worker's window), got ${frameHeight}`,
      { field: 'frameHeight' },
    );
  }
  return frameHeight;
}

function checkSize(xml: string, what: string): string {
  const bytes = Buffer.byteLength(xml, 'utf8');
  if (bytes > MAX_XML_BYTES) {
    throw new HitstateError(
      'HST_ERR_XML_TOO_LARGE',
      `${what} is ${bytes} bytes; MTurk accepts at most ${MAX_XML_BYTES}. Host the content on the task server (ExternalQuestion) instead.`,
      { field: 'question' },
    );
  }
  return xml;
}

/** Options of {@link buildExternalQuestion}. */
export interface ExternalQuestionOptions {
  /**
   * Accept an `http:` URL. MTurk itself requires HTTPS; hitstate's own server does not, so the
   * gateway allows http only for custom endpoints. @defaultValue false
   */
  readonly allowHttp?: boolean;
}

/**
 * An ExternalQuestion pointing workers' browsers at `url` in a frame of `frameHeight` pixels.
 *
 * @example
 * ```ts
 * buildExternalQuestion('https://tasks.example.org/run/r1?x=1&y=2', 0);
 * // <ExternalQuestion xmlns="…/2006-07-14/ExternalQuestion.xsd"><ExternalURL>https://tasks.example.org/run/r1?x=1&amp;y=2</ExternalURL><FrameHeight>0</FrameHeight></ExternalQuestion>
 * ```
 * @param frameHeight - pixels; 0 makes the frame fit the worker's window. @defaultValue 0
 * @throws HitstateError `HST_ERR_CONFIG_INVALID` for a non-HTTPS URL (unless allowed) or a bad height.
 */
export function buildExternalQuestion(url: string, frameHeight = 0, options: ExternalQuestionOptions = {}): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new HitstateError(
      'HST_ERR_CONFIG_INVALID',
      `the task URL must be an absolute URL, got ${JSON.stringify(url)}`,
      { field: 'externalUrl' },
    );
  }
  const allowed = options.allowHttp ? ['https:', 'http:'] : ['https:'];
  if (!allowed.includes(parsed.protocol)) {
    throw new HitstateError(
      'HST_ERR_CONFIG_INVALID',
      `MTurk requires an https task URL, got ${JSON.stringify(url)}; serve the task over HTTPS (plain http works only against a custom endpoint)`,
      { field: 'externalUrl' },
    );
  }
  const xml = builder.build({
    ExternalQuestion: {
      '@_xmlns': QUESTION_NAMESPACES.externalQuestion,
      ExternalURL: url,
      FrameHeight: checkFrameHeight(frameHeight),
    },
  }) as string;
  return checkSize(xml, 'the ExternalQuestion');
}

/** Splits text so that no CDATA section contains `]]>`. */
function cdataSections(text: string): string[] {
  const parts = text.split(']]>');
  return parts.map((p, i) => (i > 0 ? '>' : '') + p + (i < parts.length - 1 ? ']]' : ''));
}

/**
 * An HTMLQuestion: MTurk hosts `html` (a full HTML document) and shows it in a frame.
 *
 * @param frameHeight - pixels; 0 makes the frame fit the worker's window. @defaultValue 0
 * @throws HitstateError `HST_ERR_XML_TOO_LARGE` above 65,535 bytes; `HST_ERR_CONFIG_INVALID` for a bad height.
 */
export function buildHTMLQuestion(html: string, frameHeight = 0): string {
  const xml = builder.build({
    HTMLQuestion: {
      '@_xmlns': QUESTION_NAMESPACES.htmlQuestion,
      HTMLContent: { __cdata: cdataSections(html) },
      FrameHeight: checkFrameHeight(frameHeight),
    },
  }) as string;
  return checkSize(xml, 'the HTMLQuestion');
}

/** The question id of the compensation HIT's single free-text question. */
export const COMPENSATION_QUESTION_ID = 'workerid';

/**
 * The QuestionForm of a compensation HIT (Mephisto's layout): one required free-text question
 * asking the worker to confirm their Worker ID, with the reason for the payment.
 */
export function buildCompensationQuestionForm(reason: string): string {
  const xml = builder.build({
    QuestionForm: {
      '@_xmlns': QUESTION_NAMESPACES.questionForm,
      Question: {
        QuestionIdentifier: COMPENSATION_QUESTION_ID,
        DisplayName: 'Confirm Worker ID',
        IsRequired: 'true',
        QuestionContent: {
          Text: `This HIT pays you: ${reason} Please enter your Worker ID to confirm and submit.`,
        },
        AnswerSpecification: {
          FreeTextAnswer: {
            Constraints: {
              Length: { '@_minLength': '2' },
              AnswerFormatRegex: { '@_regex': '\\S', '@_errorText': 'The content cannot be blank.' },
            },
          },
        },
      },
    },
  }) as string;
  return checkSize(xml, 'the compensation QuestionForm');
}
