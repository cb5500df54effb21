/**
 * Reading `Assignment.Answer`: MTurk's QuestionFormAnswers XML, parsed into a typed map, and the
 * JSON submission hitstate's task wrapper posts as one field, recovered losslessly.
 *
 * Hostile input is refused before parsing: a DOCTYPE (and so any entity declaration), more than
 * 65,535 bytes, deep nesting, references to entities other than XML's five, and malformed XML
 * each raise a `HitstateError` (`HST_ERR_XML_*`) that keeps the raw text in `cause.xml`.
 *
 * @module
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { HitstateError, type ErrorCode } from '../errors.js';
import { MAX_XML_BYTES } from './question-xml.js';

/**
 * The form field the task wrapper posts the whole submission in, as JSON. One field keeps nested
 * data intact (Mephisto posted one field per top-level key and lost nested objects, #442).
 */
export const SUBMISSION_FIELD = 'hitstate_submission';

/** Fields MTurk reserves on externalSubmit; never part of the worker's data. */
export const RESERVED_FIELDS: readonly string[] = Object.freeze(['assignmentId', 'hitId', 'workerId', 'turkSubmitTo']);

/** One answer to one question. */
export type AnswerValue =
  | { readonly type: 'FreeText'; readonly text: string }
  | { readonly type: 'Selection'; readonly selectionIds: readonly string[]; readonly otherText?: string }
  | { readonly type: 'UploadedFile'; readonly fileKey: string; readonly sizeBytes: number };

/**
 * Answers by `QuestionIdentifier`: one answer gives the value, a repeated identifier (e.g. a group
 * of checkboxes posted under one name) gives every value in document order.
 */
export type ParsedAnswers = Readonly<Record<string, AnswerValue | readonly AnswerValue[]>>;

const MAX_NESTING = 32;
const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: true,
  removeNSPrefix: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  parseTagValue: false,
  trimValues: false,
  processEntities: false,
  cdataPropName: '#cdata',
  maxNestedTags: MAX_NESTING,
});

type XmlNode = Record<string, unknown>;

function fail(code: ErrorCode, message: string, xml: string, reason?: unknown): never {
  throw new HitstateError(code, message, {
    field: 'Answer',
    cause: { xml, ...(reason === undefined ? {} : { reason }) },
  });
}

const PROLOG_DOCTYPE = /^\uFEFF?\s*(?:<\?xml[\s\S]*?\?>)?(?:\s*(?:<!--[\s\S]*?-->|<\?[\s\S]*?\?>))*\s*<!DOCTYPE/i;
const PREDEFINED: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function validCodePoint(cp: number): boolean {
  return (
    cp === 0x9 ||
    cp === 0xa ||
    cp === 0xd ||
    (cp >= 0x20 && cp <= 0xd7ff) ||
    (cp >= 0xe000 && cp <= 0xfffd) ||
    (cp >= 0x10000 && cp <= 0x10ffff)
  );
}

/** Decodes XML's five entities and character references; anything else is refused. */
function decodeText(text: string, xml: string): string {
  return text.replace(/&([^;&\s]*);/g, (_m, ref: string) => {
    if (ref.startsWith('#')) {
      const hex = ref[1] === 'x' || ref[1] === 'X';
      const digits = ref.slice(hex ? 2 : 1);
      const cp =
        /^[0-9a-fA-F]+$/.test(digits) && (hex || /^\d+$/.test(digits))
          ? Number.parseInt(digits, hex ? 16 : 10)
          : Number.NaN;
      if (!validCodePoint(cp))
        fail('HST_ERR_XML_MALFORMED', `the answer XML contains an invalid character reference &${ref};`, xml);
      return String.fromCodePoint(cp);
    }
    const value = PREDEFINED[ref];
    if (value === undefined)
      fail(
        'HST_ERR_XML_ENTITY',
        `the answer XML references the entity &${ref};, which is not one of XML's five predefined entities; genuine MTurk answers never do`,
        xml,
      );
    return value;
  });
}

function tagOf(node: XmlNode): string | undefined {
  return Object.keys(node).find((k) => k !== ':@');
}

function isBlank(node: XmlNode): boolean {
  return tagOf(node) === '#text' && String(node['#text']).trim() === '';
}

function children(node: XmlNode, tag: string): XmlNode[] {
  const value = node[tag];
  return Array.isArray(value) ? (value as XmlNode[]) : [];
}

/** The text of an element that may mix escaped text and CDATA, but holds no elements. */
function textOf(node: XmlNode, tag: string, xml: string): string {
  let text = '';
  for (const part of children(node, tag)) {
    const partTag = tagOf(part);
    if (partTag === '#text') text += decodeText(String(part['#text']), xml);
    else if (partTag === '#cdata')
      text += children(part, '#cdata')
        .map((c) => String(c['#text'] ?? ''))
        .join('');
    else
      fail(
        'HST_ERR_XML_MALFORMED',
        `the answer XML has an element <${partTag}> inside <${tag}>, where only text is allowed`,
        xml,
      );
  }
  return text;
}

function parseAnswer(answer: XmlNode, xml: string): { id: string; value: AnswerValue } {
  let id: string | undefined;
  let freeText: string | undefined;
  const selections: string[] = [];
  let otherText: string | undefined;
  let fileKey: string | undefined;
  let sizeText: string | undefined;
  for (const child of children(answer, 'Answer')) {
    if (isBlank(child)) continue;
    const tag = tagOf(child)!;
    switch (tag) {
      case 'QuestionIdentifier':
        id = textOf(child, tag, xml);
        break;
      case 'FreeText':
        freeText = textOf(child, tag, xml);
        break;
      case 'SelectionIdentifier':
        selections.push(textOf(child, tag, xml));
        break;
      case 'OtherSelectionText':
        otherText = textOf(child, tag, xml);
        break;
      case 'UploadedFileKey':
        fileKey = textOf(child, tag, xml);
        break;
      case 'UploadedFileSizeInBytes':
        sizeText = textOf(child, tag, xml).trim();
        break;
      default:
        fail('HST_ERR_XML_MALFORMED', `the answer XML has an unexpected element <${tag}> in an <Answer>`, xml);
    }
  }
  if (id === undefined) fail('HST_ERR_XML_MALFORMED', 'an <Answer> of the answer XML has no <QuestionIdentifier>', xml);
  if (fileKey !== undefined) {
    const sizeBytes = Number(sizeText ?? '0');
    if (!Number.isSafeInteger(sizeBytes) || sizeBytes < 0)
      fail(
        'HST_ERR_XML_MALFORMED',
        `answer ${id}: UploadedFileSizeInBytes must be a whole number, got ${JSON.stringify(sizeText)}`,
        xml,
      );
    return { id, value: { type: 'UploadedFile', fileKey, sizeBytes } };
  }
  if (selections.length > 0 || otherText !== undefined) {
    return {
      id,
      value: { type: 'Selection', selectionIds: selections, ...(otherText === undefined ? {} : { otherText }) },
    };
  }
  return { id, value: { type: 'FreeText', text: freeText ?? '' } };
}

/**
 * Parses QuestionFormAnswers XML into answers by question id. Values stay strings exactly as
 * submitted (`"007"` stays `"007"`, whitespace is kept). An empty document gives `{}`.
 *
 * @example
 * ```ts
 * const answers = parseAnswers(assignment.answerXml);
 * const zip = answers.zip; // { type: 'FreeText', text: '007' }
 * ```
 * @throws HitstateError `HST_ERR_XML_TOO_LARGE` above 65,535 bytes or 32 levels of nesting,
 *   `HST_ERR_XML_ENTITY` for a DOCTYPE or an unknown entity, `HST_ERR_XML_MALFORMED` for anything
 *   that is not well-formed QuestionFormAnswers.
 */
export function parseAnswers(xml: string): ParsedAnswers {
  if (typeof xml !== 'string')
    fail('HST_ERR_XML_MALFORMED', `the answer must be an XML string, got ${typeof xml}`, String(xml));
  const bytes = Buffer.byteLength(xml, 'utf8');
  if (bytes > MAX_XML_BYTES)
    fail('HST_ERR_XML_TOO_LARGE', `the answer XML is ${bytes} bytes; at most ${MAX_XML_BYTES} are accepted`, xml);
  if (xml.trim() === '') return Object.create(null) as ParsedAnswers;
  if (PROLOG_DOCTYPE.test(xml))
    fail(
      'HST_ERR_XML_ENTITY',
      'the answer XML declares a DOCTYPE; it is refused because DOCTYPEs carry entity declarations (entity expansion attacks), and MTurk answers never have one',
      xml,
    );
  const validation = XMLValidator.validate(xml);
  if (validation !== true) {
    fail(
      'HST_ERR_XML_MALFORMED',
      `the answer XML is not well-formed: ${validation.err.msg} (line ${validation.err.line}, column ${validation.err.col})`,
      xml,
      validation.err,
    );
  }
  let doc: XmlNode[];
  try {
    doc = parser.parse(xml) as XmlNode[];
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (/nested/i.test(message))
      fail('HST_ERR_XML_TOO_LARGE', `the answer XML nests deeper than ${MAX_NESTING} levels`, xml, err);
    fail('HST_ERR_XML_MALFORMED', `the answer XML could not be parsed: ${message}`, xml, err);
  }
  const roots = doc.filter((n) => !isBlank(n));
  const rootTag = roots.length === 1 ? tagOf(roots[0]!) : undefined;
  if (rootTag !== 'QuestionFormAnswers') {
    fail(
      'HST_ERR_XML_MALFORMED',
      `the answer XML must have one <QuestionFormAnswers> root element, found ${roots.map((n) => `<${tagOf(n)}>`).join(', ') || 'none'}`,
      xml,
    );
  }
  const out: Record<string, AnswerValue | AnswerValue[]> = Object.create(null);
  for (const child of children(roots[0]!, 'QuestionFormAnswers')) {
    if (isBlank(child)) continue;
    if (tagOf(child) !== 'Answer')
      fail(
        'HST_ERR_XML_MALFORMED',
        `the answer XML has an unexpected <${tagOf(child)}> in <QuestionFormAnswers>; only <Answer> elements are allowed`,
        xml,
      );
    const { id, value } = parseAnswer(child, xml);
    const seen = out[id];
    if (seen === undefined) out[id] = value;
    else if (Array.isArray(seen)) seen.push(value);
    else out[id] = [seen as AnswerValue, value];
  }
  return out;
}

/** What {@link recoverSubmission} found. */
export type RecoveredSubmission =
  /** The wrapper's JSON field, parsed: exactly the data the task posted. */
  | { readonly source: 'json'; readonly data: unknown }
  /** No JSON field (a task not using hitstate's wrapper): every other field as text. */
  | { readonly source: 'fields'; readonly data: Readonly<Record<string, string | readonly string[]>> };

/** An answer as text: free text, the selections (with any other text), or the uploaded file's key. */
function answerText(value: AnswerValue): string | readonly string[] {
  switch (value.type) {
    case 'FreeText':
      return value.text;
    case 'Selection':
      return value.otherText === undefined ? value.selectionIds : [...value.selectionIds, value.otherText];
    case 'UploadedFile':
      return value.fileKey;
  }
}

/**
 * Recovers what a worker submitted from MTurk's answer XML, for units whose submission never
 * reached the task server. When the wrapper posted the {@link SUBMISSION_FIELD} field its JSON is
 * returned as it was sent; otherwise the other fields as strings (MTurk's reserved fields
 * dropped).
 *
 * @throws HitstateError as {@link parseAnswers}, and `HST_ERR_XML_MALFORMED` when the submission
 *   field is repeated or is not valid JSON.
 */
export function recoverSubmission(xml: string): RecoveredSubmission {
  const answers = parseAnswers(xml);
  const field = answers[SUBMISSION_FIELD];
  if (field !== undefined) {
    if (Array.isArray(field) || (field as AnswerValue).type !== 'FreeText') {
      fail(
        'HST_ERR_XML_MALFORMED',
        `the answer has ${SUBMISSION_FIELD} more than once or not as free text; the submission is ambiguous`,
        xml,
      );
    }
    const text = (field as { text: string }).text;
    try {
      return { source: 'json', data: JSON.parse(text) as unknown };
    } catch (err) {
      fail(
        'HST_ERR_XML_MALFORMED',
        `the answer's ${SUBMISSION_FIELD} field is not valid JSON (${err instanceof Error ? err.message : String(err)})`,
        xml,
        err,
      );
    }
  }
  return { source: 'fields', data: answerFields(answers) };
}

/** Every answer field but MTurk's reserved ones, as text (a repeated field's values in order). */
export function answerFields(answers: ReturnType<typeof parseAnswers>): Record<string, string | readonly string[]> {
  const data: Record<string, string | readonly string[]> = Object.create(null);
  for (const [id, value] of Object.entries(answers)) {
    if (RESERVED_FIELDS.includes(id)) continue;
    data[id] = Array.isArray(value)
      ? (value as AnswerValue[]).flatMap((v) => answerText(v))
      : answerText(value as AnswerValue);
  }
  return data;
}
