import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { isHitstateError } from '../../src/errors.js';
import { cloneJson } from '../../src/store/json.js';

const Json = suite('store/json');

Json('when a worker submits a "__proto__" key then it is kept as data and the copy keeps a plain prototype', () => {
  const submitted = JSON.parse('{"__proto__": {"isAdmin": true}, "label": "ok"}') as unknown;
  const copy = cloneJson(submitted, 'submission') as Record<string, unknown>;
  assert.is(Object.getPrototypeOf(copy), Object.prototype);
  assert.ok(Object.hasOwn(copy, '__proto__'));
  assert.equal(JSON.parse(JSON.stringify(copy)), JSON.parse('{"__proto__": {"isAdmin": true}, "label": "ok"}'));
  assert.is(JSON.stringify(copy), '{"__proto__":{"isAdmin":true},"label":"ok"}');
  assert.is(({} as Record<string, unknown>).isAdmin, undefined);
});

Json('when data nests deeper than the limit then it is refused with the field path', () => {
  let deep: unknown = 'leaf';
  for (let i = 0; i < 300; i++) deep = { d: deep };
  try {
    cloneJson(deep, 'submission');
    assert.unreachable('should refuse');
  } catch (err) {
    assert.ok(isHitstateError(err, 'HST_ERR_STORE_INVALID_RECORD'));
    assert.match(err.message, /nests deeper than 256 levels/);
  }
});

Json.run();
