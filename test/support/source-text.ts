/**
 * Reading the sources of the repository as text: comments apart from code, for the tests that
 * check what comments cite (`test/foundation/citations.test.ts`) and what code casts
 * (`test/foundation/casts.test.ts`).
 */
/** A piece of text of a file: a comment of a source file, or a whole line of a doc. */
export interface Fragment {
  line: number;
  text: string;
}

/** A JavaScript or TypeScript source split into its comments and its code. */
export interface SourceText {
  /** Every comment, one fragment per line, with its line number. */
  readonly comments: Fragment[];
  /**
   * The source with each comment and the text of each string, template and regular expression
   * literal blanked to spaces (newlines kept, so offsets and lines still match).
   */
  readonly code: string;
}

/** The comments of a JavaScript or TypeScript source, with the line each starts on. */
export function commentsOf(source: string): Fragment[] {
  return splitSource(source).comments;
}

/**
 * Splits a source into comments and code, skipping strings, template literals (with their
 * interpolations) and regular expression literals, so a `//` or a quote inside one is not taken
 * for a comment.
 */
export function splitSource(source: string): SourceText {
  const out: Fragment[] = [];
  const blanked: Array<[number, number]> = [];
  let i = 0;
  let line = 1;
  // Open template literals and the brace depth inside each `${`, so a brace in code is not an end.
  const templates: number[] = [];
  let lastSignificant = '';
  const n = source.length;
  const advance = (to: number): void => {
    for (let k = i; k < to; k++) if (source[k] === '\n') line++;
    i = to;
  };
  const skipString = (quote: string): void => {
    let k = i + 1;
    while (k < n && source[k] !== quote && source[k] !== '\n') k += source[k] === '\\' ? 2 : 1;
    blanked.push([i + 1, Math.min(k, n)]);
    advance(k + 1);
  };
  const skipTemplateText = (): void => {
    // From inside a template's text up to its end (`) or to an interpolation (${).
    let k = i;
    while (k < n) {
      if (source[k] === '\\') k += 2;
      else if (source[k] === '`') {
        blanked.push([i, k]);
        advance(k + 1);
        lastSignificant = '`';
        return;
      } else if (source[k] === '$' && source[k + 1] === '{') {
        blanked.push([i, k]);
        templates.push(0);
        advance(k + 2);
        lastSignificant = '{';
        return;
      } else k++;
    }
    blanked.push([i, n]);
    advance(n);
  };
  while (i < n) {
    const c = source[i]!;
    const next = source[i + 1];
    if (c === '/' && next === '/') {
      const end = source.indexOf('\n', i);
      const stop = end === -1 ? n : end;
      out.push({ line, text: source.slice(i + 2, stop) });
      blanked.push([i, stop]);
      advance(stop);
    } else if (c === '/' && next === '*') {
      const end = source.indexOf('*/', i + 2);
      const stop = end === -1 ? n : end + 2;
      source
        .slice(i + 2, end === -1 ? n : end)
        .split('\n')
        .forEach((text, k) => {
          out.push({ line: line + k, text });
        });
      blanked.push([i, stop]);
      advance(stop);
    } else if (c === "'" || c === '"') {
      skipString(c);
      lastSignificant = c;
    } else if (c === '`') {
      advance(i + 1);
      skipTemplateText();
    } else if (c === '/' && (lastSignificant === '' || /[(,=:[!&|?{};+\-*%<>~^]/.test(lastSignificant))) {
      // A regular expression literal: skip it (with its classes), so a quote inside is not a string.
      let k = i + 1;
      let inClass = false;
      while (k < n && source[k] !== '\n') {
        const ch = source[k];
        if (ch === '\\') k++;
        else if (ch === '[') inClass = true;
        else if (ch === ']') inClass = false;
        else if (ch === '/' && !inClass) break;
        k++;
      }
      blanked.push([i + 1, Math.min(k, n)]);
      advance(k + 1);
      lastSignificant = '/';
    } else if (templates.length > 0 && c === '{') {
      templates[templates.length - 1]!++;
      advance(i + 1);
      lastSignificant = c;
    } else if (templates.length > 0 && c === '}') {
      if (templates[templates.length - 1] === 0) {
        templates.pop();
        advance(i + 1);
        skipTemplateText();
      } else {
        templates[templates.length - 1]!--;
        advance(i + 1);
        lastSignificant = c;
      }
    } else {
      if (!/\s/.test(c)) {
        // A word before `/` (return, typeof...) still starts a regex; any other word ends an operand.
        const word = /^[A-Za-z_$][\w$]*/.exec(source.slice(i, i + 40));
        if (word) {
          lastSignificant = /^(return|typeof|case|in|of|delete|void|throw|new|else|do)$/.test(word[0]) ? '(' : 'a';
          advance(i + word[0].length);
          continue;
        }
        lastSignificant = c;
      }
      advance(i + 1);
    }
  }
  let code = '';
  let from = 0;
  // Ranges were found in order and never overlap.
  for (const [start, stop] of blanked) {
    code += source.slice(from, start) + source.slice(start, stop).replace(/[^\n]/g, ' ');
    from = stop;
  }
  return { comments: out, code: code + source.slice(from) };
}
