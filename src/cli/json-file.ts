/**
 * Reading a JSON file a user names on the command line (a task config, a units list), with the
 * errors every such file gets: the path and the system's reason when it cannot be read, the
 * parser's message when it is not JSON.
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import { HitstateError } from '../errors.js';

/**
 * The parsed content of the JSON file at `path`.
 *
 * @param what - the file as messages name it, e.g. `the config file`.
 * @param field - the field errors name (`details.field`).
 * @param notJsonFix - what to do when the file is not JSON (appended to the parser's message).
 * @throws HitstateError `HST_ERR_CONFIG_INVALID` naming the file, the field and the fix.
 */
export function readJsonFile(path: string, what: string, field: string, notJsonFix = ''): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new HitstateError(
      'HST_ERR_CONFIG_INVALID',
      `cannot read ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}; check the path`,
      { file: path, field },
    );
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new HitstateError(
      'HST_ERR_CONFIG_INVALID',
      notJsonFix === ''
        ? `${path} is not valid JSON: ${(err as Error).message}`
        : `${path} is not valid JSON (${(err as Error).message}); ${notJsonFix}`,
      { file: path, field },
    );
  }
}
