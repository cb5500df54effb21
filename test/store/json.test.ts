import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { isHitstateError } from '../../src/errors.js';
import { cloneJson, jsonObjectText } from '../../src/store/json.js';

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

Json(
  'when data is kept as text then the text is that of the checked copy, and anything but a plain JSON object is refused',
  () => {
    const values: unknown[] = [
      JSON.parse('{"__proto__": {"isAdmin": true}, "label": "ok"}'),
      { a: undefined, b: [1, undefined, 'x'], c: { d: null, e: -0, f: 1.5 } },
      Object.assign(Object.create(null) as object, { g: true }),
    ];
    for (const value of values)
      assert.is(jsonObjectText(value, 'snapshot'), JSON.stringify(cloneJson(value, 'snapshot')));
    for (const bad of [{ x: new Date(0) }, { x: [Number.NaN] }, { x: () => 1 }, [1], null]) {
      try {
        jsonObjectText(bad, 'snapshot');
        assert.unreachable(`${JSON.stringify(bad)} accepted`);
      } catch (err) {
        assert.ok(isHitstateError(err, 'HST_ERR_STORE_INVALID_RECORD'), String(err));
      }
    }
  },
);

Json.run();
