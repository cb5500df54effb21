/**
 * Where this hitstate installation lives (the folder of its package.json), found from this
 * module's location both in a checkout (`src/cli/`) and in the installed package (`dist/src/cli/`).
 *
 * @module
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HitstateError } from '../errors.js';

/** The folder holding hitstate's package.json. @throws HitstateError `HST_ERR_CONFIG_INVALID` when it cannot be found. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const file = join(dir, 'package.json');
    if (existsSync(file) && (JSON.parse(readFileSync(file, 'utf8')) as { name?: string }).name === 'hitstate')
      return dir;
    dir = dirname(dir);
  }
  throw new HitstateError(
    'HST_ERR_CONFIG_INVALID',
    "hitstate's package.json was not found above this module; reinstall hitstate",
    { field: 'package.json' },
  );
}

/** hitstate's version, from its package.json. */
export function packageVersion(): string {
  return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}
