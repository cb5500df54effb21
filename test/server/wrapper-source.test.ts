import { Script } from 'node:vm';
import { transformSync } from 'esbuild';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { SUBMISSION_FIELD, WRAPPER_SOURCE } from '../../src/server/wrapper-source.js';

const Wrapper = suite('wrapper source');

Wrapper('when the wrapper is parsed then it is a valid classic script', () => {
  new Script(WRAPPER_SOURCE, { filename: 'wrapper.js' });
});

Wrapper('when the wrapper is lowered to ES2019 then nothing changes (it uses no newer syntax)', () => {
  const as2019 = transformSync(WRAPPER_SOURCE, { loader: 'js', target: 'es2019' }).code;
  const asNext = transformSync(WRAPPER_SOURCE, { loader: 'js', target: 'esnext' }).code;
  assert.is(as2019, asNext);
});

Wrapper(
  'when the shared constants are inserted then the wrapper posts the one submission field and knows the preview id',
  () => {
    assert.not.match(WRAPPER_SOURCE, /\$\{/);
    assert.ok(WRAPPER_SOURCE.includes(`var SUBMISSION_FIELD = '${SUBMISSION_FIELD}';`));
    assert.ok(WRAPPER_SOURCE.includes("var PREVIEW_ASSIGNMENT = 'ASSIGNMENT_ID_NOT_AVAILABLE';"));
    assert.ok(WRAPPER_SOURCE.includes('HTMLFormElement.prototype.submit.call(form)'));
  },
);

Wrapper.run();
