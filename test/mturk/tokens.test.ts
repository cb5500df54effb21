import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { isHitstateError } from '../../src/errors.js';
import {
  assertValidToken,
  bonusToken,
  compensationToken,
  hitToken,
  isHitstateToken,
  MAX_TOKEN_LENGTH,
} from '../../src/mturk/tokens.js';
import { buildRequesterAnnotation, parseRequesterAnnotation } from '../../src/mturk/annotation.js';

const Tokens = suite('tokens');

Tokens('when the same run, unit and attempt are given twice then the HIT token is the same', () => {
  assert.is(hitToken('run-1', 'unit-7', 0), hitToken('run-1', 'unit-7', 0));
  assert.is(hitToken('run-1', 'unit-7'), hitToken('run-1', 'unit-7', 0));
});

Tokens('when run, unit, attempt or purpose differ then the tokens differ', () => {
  const tokens = [
    hitToken('run-1', 'unit-7', 0),
    hitToken('run-1', 'unit-7', 1),
    hitToken('run-1', 'unit-8', 0),
    hitToken('run-2', 'unit-7', 0),
    bonusToken('run-1', 'unit-7', 'A1', 'bonus'),
    bonusToken('run-1', 'unit-7', 'A1', 'quality'),
    bonusToken('run-1', 'unit-7', 'A2', 'bonus'),
    compensationToken('run-1', 'A1', 'bonus'),
  ];
  assert.is(new Set(tokens).size, tokens.length);
});

Tokens('when ids contain separators then concatenation ambiguities do not collide', () => {
  assert.is.not(hitToken('a-b', 'c', 0), hitToken('a', 'b-c', 0));
  assert.is.not(hitToken('a"', 'b', 0), hitToken('a', '"b', 0));
  assert.is.not(bonusToken('r', 'u', 'w', 'k'), bonusToken('r', 'u', 'w,k', 'bonus'));
});

Tokens('when tokens are derived then they are at most 64 characters of [a-z0-9-] and recognisable', () => {
  const long = 'x'.repeat(5_000);
  for (const t of [hitToken(long, long, 99), bonusToken(long, long, long, long), compensationToken(long, long, long)]) {
    assert.ok(t.length <= MAX_TOKEN_LENGTH, t);
    assert.match(t, /^[a-z0-9-]+$/);
    assert.ok(isHitstateToken(t));
  }
  assert.match(hitToken('r', 'u'), /^hs-hit-/);
  assert.match(bonusToken('r', 'u', 'w'), /^hs-bonus-/);
  assert.match(compensationToken('r', 'w', 'k'), /^hs-comp-/);
});

Tokens('when the derivation is pinned then a known input keeps its token across releases', () => {
  // A change here means a crash-replay after upgrading would create a second HIT or pay twice.
  assert.is(hitToken('run-1', 'unit-1', 0), 'hs-hit-d6a15d21cac0338c1008634018604d6b');
  assert.is(bonusToken('run-1', 'unit-1', 'A1B2C3', 'bonus'), 'hs-bonus-025dd12e5093a6f6a4910008828e28f6');
});

Tokens('when an id is empty then deriving a token is refused with a config error', () => {
  let err: unknown;
  try {
    hitToken('', 'u');
  } catch (e) {
    err = e;
  }
  assert.ok(isHitstateError(err, 'HST_ERR_CONFIG_INVALID'));
});

Tokens('when a caller token is empty or longer than 64 characters then it is refused', () => {
  assert.is(assertValidToken('ok-token'), 'ok-token');
  assert.throws(
    () => assertValidToken(''),
    (e: unknown) => isHitstateError(e, 'HST_ERR_CONFIG_INVALID'),
  );
  assert.throws(
    () => assertValidToken('x'.repeat(65)),
    (e: unknown) => isHitstateError(e, 'HST_ERR_CONFIG_INVALID'),
  );
});

const Annotation = suite('annotation');

Annotation('when an annotation is built then it is compact and parses back to the same run and unit', () => {
  const text = buildRequesterAnnotation({ runId: 'r1', unitId: 'u7' });
  assert.is(text, 'hitstate:v1:run=r1;unit=u7');
  assert.equal(parseRequesterAnnotation(text), { runId: 'r1', unitId: 'u7' });
});

Annotation('when ids contain separators then they are encoded and recovered exactly', () => {
  const a = { runId: 'run;1=x:y', unitId: 'ü nit%', purpose: 'compensation' };
  assert.equal(parseRequesterAnnotation(buildRequesterAnnotation(a)), a);
});

Annotation('when the text is foreign, damaged or missing then parsing gives null', () => {
  for (const t of [
    undefined,
    null,
    '',
    'mephisto run 5',
    'hitstate:v1:',
    'hitstate:v1:unit=u',
    'hitstate:v1:run=%E0%A4%A',
    'hitstate:v2:run=r',
  ]) {
    assert.is(parseRequesterAnnotation(t), null, String(t));
  }
});

Annotation('when the annotation would exceed 255 characters then building it is refused', () => {
  assert.throws(
    () => buildRequesterAnnotation({ runId: 'r'.repeat(250) }),
    (e: unknown) => isHitstateError(e, 'HST_ERR_CONFIG_INVALID'),
  );
  assert.throws(
    () => buildRequesterAnnotation({ runId: '' }),
    (e: unknown) => isHitstateError(e, 'HST_ERR_CONFIG_INVALID'),
  );
});

Tokens.run();
Annotation.run();
