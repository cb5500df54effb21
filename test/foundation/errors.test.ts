import { readFileSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ERROR_CODES, HitstateError, isHitstateError } from '../../src/errors.js';

const Errors = suite('errors');
const docs = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
const documented = new Set([...docs.matchAll(/^\| `(HST_ERR_[A-Z_]+)` \|/gm)].map((m) => m[1]!));
const declared = Object.keys(ERROR_CODES);

Errors('when a code is declared in src/errors.ts then docs/errors.md has its row', () => {
  const missing = declared.filter((c) => !documented.has(c));
  assert.equal(missing, [], `add rows to docs/errors.md for: ${missing.join(', ')}`);
});

Errors('when docs/errors.md lists a code then src/errors.ts declares it', () => {
  const stale = [...documented].filter((c) => !(c in ERROR_CODES));
  assert.equal(stale, [], `remove or declare: ${stale.join(', ')}`);
});

Errors('when codes are declared then each follows HST_ERR_<AREA>_<PROBLEM> and has meaning and fix', () => {
  for (const [code, info] of Object.entries(ERROR_CODES)) {
    assert.match(code, /^HST_ERR_[A-Z]+(_[A-Z]+)+$/);
    assert.ok(info.meaning.length > 10, `${code} needs a meaning`);
    assert.ok(info.fix.length > 10, `${code} needs a fix`);
  }
});

Errors('when an error is thrown then instanceof, code, details and toJSON work', () => {
  const err = new HitstateError('HST_ERR_CONFIG_INVALID', 'task.reward must look like "0.50"', {
    field: 'task.reward',
    cause: new Error('x'),
  });
  assert.ok(err instanceof HitstateError);
  assert.ok(err instanceof Error);
  assert.ok(isHitstateError(err, 'HST_ERR_CONFIG_INVALID'));
  assert.not.ok(isHitstateError(err, 'HST_ERR_STORE_CORRUPT'));
  assert.not.ok(isHitstateError(new Error('plain')));
  assert.is(err.name, 'HitstateError');
  assert.is(err.details.field, 'task.reward');
  assert.instance(err.cause, Error);
  assert.is(err.httpStatus, 500);
  assert.equal(err.toJSON(), {
    error: { code: 'HST_ERR_CONFIG_INVALID', message: 'task.reward must look like "0.50"', field: 'task.reward' },
  });
  assert.is(new HitstateError('HST_ERR_SERVER_TOKEN_INVALID', 'bad token').httpStatus, 401);
});

Errors('when an object from another copy of the package carries the marker then instanceof holds', () => {
  const foreign = Object.create(Error.prototype) as Record<symbol, unknown>;
  foreign[Symbol.for('hitstate.error')] = true;
  assert.ok(foreign instanceof HitstateError);
});

Errors.run();
