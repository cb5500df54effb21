/**
 * The task server's signing secret for `hitstate run` and `resume`. It must stay the same across
 * restarts, or workers still on the task page lose their tokens: `HITSTATE_SERVER_SECRET` when
 * set, else a random secret created once in `<store dir>/task-server.secret` (mode 0600).
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HitstateError } from '../errors.js';
import type { CliIO } from './command.js';

/** File name of the generated secret inside the store directory. */
export const SECRET_FILE = 'task-server.secret';
const MIN_BYTES = 32;

/**
 * The secret to sign agent tokens with.
 *
 * @throws HitstateError `HST_ERR_CONFIG_INVALID` when `HITSTATE_SERVER_SECRET` or the file holds fewer than 32 bytes.
 */
export function taskServerSecret(storeDir: string, io: Pick<CliIO, 'env'>): string {
  const fromEnv = io.env.HITSTATE_SERVER_SECRET;
  if (fromEnv !== undefined && fromEnv !== '') {
    if (Buffer.byteLength(fromEnv) < MIN_BYTES)
      throw new HitstateError(
        'HST_ERR_CONFIG_INVALID',
        `HITSTATE_SERVER_SECRET must be at least ${MIN_BYTES} bytes (e.g. \`openssl rand -hex 32\`)`,
        { field: 'HITSTATE_SERVER_SECRET' },
      );
    return fromEnv;
  }
  const file = join(storeDir, SECRET_FILE);
  mkdirSync(storeDir, { recursive: true });
  try {
    writeFileSync(file, `${randomBytes(MIN_BYTES).toString('hex')}\n`, { flag: 'wx', mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const secret = readFileSync(file, 'utf8').trim();
  if (Buffer.byteLength(secret) < MIN_BYTES) {
    throw new HitstateError(
      'HST_ERR_CONFIG_INVALID',
      `${file} holds a secret shorter than ${MIN_BYTES} bytes; delete the file (a new one is made) or set HITSTATE_SERVER_SECRET`,
      { file },
    );
  }
  return secret;
}
