/**
 * Question documents (what a HIT shows) and answer documents (what a submission stores).
 *
 * A HIT's `Question` must be an ExternalQuestion, HTMLQuestion or QuestionForm in its MTurk
 * namespace, well-formed and at most 65,535 bytes. The answer of an externalSubmit is a
 * QuestionFormAnswers document with one FreeText answer per submitted field.
 *
 * @module
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';

const SCHEMAS = 'http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas';
export const NAMESPACES = {
  ExternalQuestion: [`${SCHEMAS}/2006-07-14/ExternalQuestion.xsd`],
  HTMLQuestion: [`${SCHEMAS}/2011-11-11/HTMLQuestion.xsd`],
  QuestionForm: [`${SCHEMAS}/2017-11-06/QuestionForm.xsd`, `${SCHEMAS}/2005-10-01/QuestionForm.xsd`],
} as const;
export const ANSWER_NAMESPACE = `${SCHEMAS}/2005-10-01/QuestionFormAnswers.xsd`;

/** A question document, understood. */
export type ParsedQuestion =
  | { kind: 'ExternalQuestion'; externalUrl: string; frameHeight: number }
  | { kind: 'HTMLQuestion'; html: string; frameHeight: number }
  | { kind: 'QuestionForm'; questions: FormQuestion[] };

/** One Question of a QuestionForm: free text, or a choice among selections. */
export interface FormQuestion {
  identifier: string;
  text: string;
  /** A SelectionAnswer's choices (absent: a FreeTextAnswer, or any other answer kind, as text). */
  selections?: { id: string; text: string }[];
  /** The SelectionAnswer lets the worker pick more than one (MaxSelectionCount > 1, or checkboxes). */
  multiple?: boolean;
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/**
 * Checks that an ExternalURL is one MTurk would frame: https, or (a documented deviation of the
 * simulator) http on a loopback host so local task servers need no certificate.
 */
export function externalUrlProblem(raw: string): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return `ExternalURL '${raw}' is not a valid absolute URL.`;
  }
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname)) return undefined;
  return `ExternalURL '${raw}' must use https:// (this simulator also accepts http:// on 127.0.0.1, localhost and [::1]).`;
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  parseTagValue: false,
  parseAttributeValue: false,
  ignoreDeclaration: true,
  removeNSPrefix: false,
  trimValues: true,
  isArray: (name) => name === 'Question' || name === 'Selection',
});

function textOf(node: unknown): string {
  if (node === undefined || node === null) return '';
  if (typeof node === 'string' || typeof node === 'number' || typeof node === 'boolean') return String(node);
  if (Array.isArray(node)) return node.map(textOf).join(' ');
  if (typeof node === 'object') {
    return Object.entries(node as Record<string, unknown>)
      .filter(([k]) => !k.startsWith('@_'))
      .map(([, v]) => textOf(v))
      .filter((s) => s !== '')
      .join(' ');
  }
  return '';
}

function frameHeightOf(node: Record<string, unknown>, kind: string): number {
  const raw = node.FrameHeight;
  if (typeof raw !== 'string' || !/^\d+$/.test(raw.trim()))
    throw new Error(`${kind} needs a FrameHeight element holding a whole number of pixels (0 means fit the window).`);
  return Number(raw.trim());
}

/**
 * Parses and checks a question document.
 *
 * @throws Error with a message naming what is wrong (the caller turns it into a RequestError).
 */
export function parseQuestion(xml: string): ParsedQuestion {
  const valid = XMLValidator.validate(xml);
  if (valid !== true)
    throw new Error(
      `Question is not well-formed XML: ${valid.err.msg} (line ${valid.err.line}, column ${valid.err.col}).`,
    );
  let doc: Record<string, unknown>;
  try {
    doc = parser.parse(xml) as Record<string, unknown>;
  } catch (err) {
    throw new Error(`Question could not be parsed: ${err instanceof Error ? err.message : String(err)}.`);
  }
  const roots = Object.keys(doc).filter((k) => !k.startsWith('?') && !k.startsWith('#'));
  if (roots.length !== 1)
    throw new Error('Question must have exactly one root element: ExternalQuestion, HTMLQuestion or QuestionForm.');
  const root = roots[0]!;
  if (!(root in NAMESPACES))
    throw new Error(`Question root element must be ExternalQuestion, HTMLQuestion or QuestionForm, got '${root}'.`);
  const kind = root as keyof typeof NAMESPACES;
  const node = (doc[root] ?? {}) as Record<string, unknown>;
  const ns = typeof node === 'object' ? node['@_xmlns'] : undefined;
  if (!(NAMESPACES[kind] as readonly string[]).includes(String(ns))) {
    throw new Error(
      `${kind} must declare xmlns="${NAMESPACES[kind][0]}", got ${ns === undefined ? 'no namespace' : `'${String(ns)}'`}.`,
    );
  }
  if (kind === 'ExternalQuestion') {
    const url = typeof node.ExternalURL === 'string' ? node.ExternalURL.trim() : '';
    if (url === '') throw new Error('ExternalQuestion needs an ExternalURL element.');
    const problem = externalUrlProblem(url);
    if (problem) throw new Error(problem);
    return { kind, externalUrl: url, frameHeight: frameHeightOf(node, kind) };
  }
  if (kind === 'HTMLQuestion') {
    const html = typeof node.HTMLContent === 'string' ? node.HTMLContent : '';
    if (html.trim() === '')
      throw new Error('HTMLQuestion needs a non-empty HTMLContent element (usually wrapped in CDATA).');
    return { kind, html, frameHeight: frameHeightOf(node, kind) };
  }
  const questions = ((node.Question as unknown[] | undefined) ?? []).map((q, i) => {
    const rec = (q ?? {}) as Record<string, unknown>;
    const identifier = typeof rec.QuestionIdentifier === 'string' ? rec.QuestionIdentifier.trim() : '';
    if (identifier === '') throw new Error(`QuestionForm Question ${i + 1} needs a QuestionIdentifier.`);
    const text = textOf(rec.DisplayName) || textOf(rec.QuestionContent) || identifier;
    const answer = ((rec.AnswerSpecification as Record<string, unknown> | undefined)?.SelectionAnswer ?? undefined) as
      | Record<string, unknown>
      | undefined;
    const raw = (answer?.Selections as Record<string, unknown> | undefined)?.Selection as unknown[] | undefined;
    if (!answer || !raw?.length) return { identifier, text };
    const selections = raw.map((sel, j) => {
      const r = (sel ?? {}) as Record<string, unknown>;
      const id = typeof r.SelectionIdentifier === 'string' ? r.SelectionIdentifier.trim() : '';
      if (id === '')
        throw new Error(`QuestionForm Question '${identifier}' Selection ${j + 1} needs a SelectionIdentifier.`);
      return { id, text: textOf(r.Text) || textOf(r.FormattedContent) || id };
    });
    const max = Number(textOf(answer.MaxSelectionCount) || '1');
    const multiple = max > 1 || textOf(answer.StyleSuggestion) === 'checkbox';
    return { identifier, text, selections, multiple };
  });
  if (questions.length === 0) throw new Error('QuestionForm needs at least one Question.');
  return { kind, questions };
}

// XML 1.0 cannot carry most control characters at all, even escaped.
// eslint-disable-next-line no-control-regex
const INVALID_XML_CHARS =
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * Escapes text for an XML element; characters XML 1.0 cannot represent become U+FFFD. Line ends
 * are written as sent (a browser sends CR LF from a textarea); XML parsers read them back as LF.
 */
export function escapeXml(text: string): string {
  return text
    .replace(INVALID_XML_CHARS, '\uFFFD')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/**
 * Writes every character outside ASCII as a numeric character reference of its code point
 * (`—` → `&#8212;`, an astral character as one reference, never a surrogate pair), as MTurk's
 * ASCII-encoded answers did.
 */
export function asciiReferences(xml: string): string {
  // The u flag makes each astral character one match, so it becomes one reference.
  return xml.replace(/[^\x00-\x7F]/gu, (ch) => `&#${ch.codePointAt(0)};`);
}

/** The XML declaration real MTurk answers started with, immediately followed by the root element. */
export const ANSWER_DECLARATION = '<?xml version="1.0" encoding="ASCII"?>';

/**
 * The QuestionFormAnswers document of a submission: one FreeText answer per field, in order
 * (or, for the fields named in `selectionQuestions`, one Answer with its SelectionIdentifiers),
 * serialized as MTurk did: `<?xml version="1.0" encoding="ASCII"?><QuestionFormAnswers xmlns=…>`
 * with no newline in between, and non-ASCII characters as numeric character references.
 */
export function buildAnswerXml(
  fields: readonly (readonly [string, string])[],
  selectionQuestions: ReadonlySet<string> = new Set(),
): string {
  // A selection question's answer is one Answer with a SelectionIdentifier per choice, as MTurk's.
  const chosen = new Map<string, string[]>();
  for (const [id, value] of fields) if (selectionQuestions.has(id)) chosen.set(id, [...(chosen.get(id) ?? []), value]);
  const answers = fields
    .map(([id, value], i) => {
      const q = `<QuestionIdentifier>${escapeXml(id)}</QuestionIdentifier>`;
      if (!selectionQuestions.has(id)) return `<Answer>${q}<FreeText>${escapeXml(value)}</FreeText></Answer>`;
      if (fields.findIndex(([other]) => other === id) !== i) return '';
      const ids = chosen.get(id)!.map((v) => `<SelectionIdentifier>${escapeXml(v)}</SelectionIdentifier>`);
      return `<Answer>${q}${ids.join('')}</Answer>`;
    })
    .join('');
  return asciiReferences(
    `${ANSWER_DECLARATION}<QuestionFormAnswers xmlns="${ANSWER_NAMESPACE}">${answers}</QuestionFormAnswers>`,
  );
}
