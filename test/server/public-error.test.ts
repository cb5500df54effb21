import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { HitstateError } from '../../src/errors.js';
import { publicError } from '../../src/server/http-io.js';

const PublicError = suite('server/http-io publicError');

PublicError('when the store refuses a worker submission as not storable then the browser gets a 400, not a 500', () => {
  const err = new HitstateError(
    'HST_ERR_STORE_INVALID_RECORD',
    'submission of agent A-B nests deeper than 256 levels',
    { field: 'submission' },
  );
  const { status, body, expected } = publicError(err, 'backend');
  assert.is(status, 400);
  assert.is(body.error.code, 'HST_ERR_STORE_INVALID_RECORD');
  assert.not.match(body.error.message, /agent A-B/);
  assert.ok(expected);
});

PublicError('when the backend fails unexpectedly then it is a 500 without details', () => {
  const { status, body, expected } = publicError(new Error('disk on fire at /secret/path'), 'backend');
  assert.is(status, 500);
  assert.is(body.error.code, 'HST_ERR_SERVER_INTERNAL');
  assert.not.match(body.error.message, /secret/);
  assert.not.ok(expected);
});

PublicError.run();
