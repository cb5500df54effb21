import { suite } from 'uvu';
import * as assert from 'uvu/assert';

const Exports = suite('hitstate/simulator exports');

Exports('when the entry point is imported then its runtime exports are exactly the documented ones', async () => {
  const entry = await import('../../src/simulator/index.js');
  assert.equal(Object.keys(entry).sort(), ['createSimulator']);
  assert.type(entry.createSimulator, 'function');
});

Exports.run();
