/**
 * The JSON text of each record of a records file, cut out of the file's text. A store that keeps
 * records as text ({@link JsonText}) takes them from the file as read instead of serializing the
 * parsed objects again: a scan of the text costs a fraction of a `JSON.stringify` of the objects.
 *
 * @module
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COLON = 0x3a;
const COMMA = 0x2c;

function skipSpace(text: string, i: number): number {
  for (;;) {
    const c = text.charCodeAt(i);
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
    else return i;
  }
}

/** The index after the string starting at `i` (a quote). */
function stringEnd(text: string, i: number): number {
  for (let j = i + 1; j < text.length; j++) {
    const c = text.charCodeAt(j);
    if (c === BACKSLASH) j++;
    else if (c === QUOTE) return j + 1;
  }
  return -1;
}

/** The index after the JSON value starting at `i`. */
function valueEnd(text: string, i: number): number {
  const first = text.charCodeAt(i);
  if (first === QUOTE) return stringEnd(text, i);
  if (first !== OPEN_OBJECT && first !== OPEN_ARRAY) {
    let j = i;
    for (; j < text.length; j++) {
      const c = text.charCodeAt(j);
      if (c === COMMA || c === CLOSE_OBJECT || c === CLOSE_ARRAY || c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) break;
    }
    return j;
  }
  let depth = 0;
  for (let j = i; j < text.length; j++) {
    const c = text.charCodeAt(j);
    if (c === QUOTE) {
      j = stringEnd(text, j) - 1;
      if (j < 0) return -1;
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) depth++;
    else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      depth--;
      if (depth === 0) return j + 1;
    }
  }
  return -1;
}

/**
 * Calls `each(key, start, end)` for every member of the object starting at `i`.
 * @returns the index after the object, or -1 when the text is not an object there.
 */
function members(text: string, i: number, each: (key: string, start: number, end: number) => void): number {
  if (text.charCodeAt(i) !== OPEN_OBJECT) return -1;
  i = skipSpace(text, i + 1);
  if (text.charCodeAt(i) === CLOSE_OBJECT) return i + 1;
  for (;;) {
    if (text.charCodeAt(i) !== QUOTE) return -1;
    const keyEnd = stringEnd(text, i);
    if (keyEnd < 0) return -1;
    const key = JSON.parse(text.slice(i, keyEnd)) as string;
    i = skipSpace(text, keyEnd);
    if (text.charCodeAt(i) !== COLON) return -1;
    const start = skipSpace(text, i + 1);
    const end = valueEnd(text, start);
    if (end < 0) return -1;
    each(key, start, end);
    i = skipSpace(text, end);
    const c = text.charCodeAt(i);
    if (c === CLOSE_OBJECT) return i + 1;
    if (c !== COMMA) return -1;
    i = skipSpace(text, i + 1);
  }
}

/**
 * The text of each member of the file's top-level `records` object, by key, cut from `text`, a
 * file `JSON.parse` has accepted. Null when the text is not laid out as a records file.
 *
 * @example
 * ```ts
 * recordTexts('{"kind":"snapshots","records":{"unit:u1":{"a":1}}}'); // Map { 'unit:u1' => '{"a":1}' }
 * ```
 */
export function recordTexts(text: string): Map<string, string> | null {
  let records: Map<string, string> | null = null;
  let broken = false;
  const end = members(text, skipSpace(text, 0), (key, start, stop) => {
    if (key !== 'records') return;
    const found = new Map<string, string>();
    if (members(text, start, (id, s, e) => found.set(id, text.slice(s, e))) !== stop) broken = true;
    records = found;
  });
  return end < 0 || broken ? null : records;
}
