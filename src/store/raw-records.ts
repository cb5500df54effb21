/**
 * Splits a store file's `records` object into each record's JSON text without building the
 * records' object trees: opening a large store then costs a scan of its snapshot shards (the
 * bulk of its bytes) instead of parsing them and collecting the garbage. The store keeps snapshot
 * records as text anyway (`JsonText`) and parses one when it is read.
 *
 * The scan checks the structure (strings, nesting, separators); a record's own content is checked
 * when it is parsed.
 *
 * @module
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;

const isSpace = (c: number): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

/** Why a file's text could not be split. */
export class RawRecordsError extends Error {}

/** The index just past the string starting at `at` (a quote). */
function endOfString(text: string, at: number): number {
  let i = at + 1;
  for (;;) {
    const q = text.indexOf('"', i);
    if (q < 0) throw new RawRecordsError(`a string starting at ${at} never ends`);
    let backslashes = 0;
    for (let j = q - 1; text.charCodeAt(j) === BACKSLASH; j--) backslashes++;
    if (backslashes % 2 === 0) return q + 1;
    i = q + 1;
  }
}

/**
 * The index just past the JSON value starting at `at` (its structure is scanned, not parsed).
 * @throws RawRecordsError when no whole value starts there.
 */
export function endOfValue(text: string, at: number): number {
  const first = text.charCodeAt(at);
  if (first === QUOTE) return endOfString(text, at);
  if (first !== OPEN_BRACE && first !== OPEN_BRACKET) {
    let i = at;
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c === COMMA || c === CLOSE_BRACE || c === CLOSE_BRACKET || isSpace(c)) break;
      i++;
    }
    if (i === at) throw new RawRecordsError(`a value is missing at ${at}`);
    return i;
  }
  let depth = 0;
  let i = at;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      i = endOfString(text, i);
      continue;
    }
    if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++;
    else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--;
      if (depth === 0) return i + 1;
    }
    i++;
  }
  throw new RawRecordsError(`a value starting at ${at} never ends`);
}

/**
 * Splits `{…header…,"records":{"key":value,…}}` (records last, as the store writes its files) into
 * the header object and each record's text.
 * @throws RawRecordsError when the text is not shaped so.
 */
export function splitRecords(text: string): { header: Record<string, unknown>; records: [string, string][] } {
  const marker = ',"records":{';
  const at = text.indexOf(marker);
  if (at < 0) throw new RawRecordsError('no "records" object');
  const header = JSON.parse(`${text.slice(0, at)}}`) as Record<string, unknown>;
  const records: [string, string][] = [];
  let i = at + marker.length;
  const skip = () => {
    while (i < text.length && isSpace(text.charCodeAt(i))) i++;
  };
  skip();
  if (text.charCodeAt(i) === CLOSE_BRACE) i++;
  else
    for (;;) {
      skip();
      if (text.charCodeAt(i) !== QUOTE) throw new RawRecordsError(`a key is expected at ${i}`);
      const keyEnd = endOfString(text, i);
      const key = JSON.parse(text.slice(i, keyEnd)) as string;
      i = keyEnd;
      skip();
      if (text.charCodeAt(i) !== COLON) throw new RawRecordsError(`a colon is expected at ${i}`);
      i++;
      skip();
      const end = endOfValue(text, i);
      records.push([key, text.slice(i, end)]);
      i = end;
      skip();
      const c = text.charCodeAt(i);
      i++;
      if (c === CLOSE_BRACE) break;
      if (c !== COMMA) throw new RawRecordsError(`a comma or a closing brace is expected at ${i - 1}`);
    }
  skip();
  if (text.charCodeAt(i) !== CLOSE_BRACE)
    throw new RawRecordsError(`the file does not end after its records (at ${i})`);
  i++;
  skip();
  if (i !== text.length) throw new RawRecordsError(`text follows the records (at ${i})`);
  return { header, records };
}
