// The runtime's module boundary, enforced by a test: src/runtime/ may use the machines, the
// gateway, the store, the config, the task server's port, errors and clocks; never the simulator
// (hitstate's MTurk is reached over HTTP like any other) or the CLI.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { importOffenders, resolvesUnder } from '../support/imports.js';

const Boundary = suite('runtime boundary');

Boundary('when src/runtime/ imports anything then it is not the simulator nor the CLI', () => {
  const bad = importOffenders(
    'src/runtime',
    (spec, file) => !resolvesUnder(spec, file, 'src/simulator') && !resolvesUnder(spec, file, 'src/cli'),
  );
  assert.equal(bad, [], `the runtime talks to MTurk (or hitstate's own) through the gateway only:\n${bad.join('\n')}`);
});

Boundary.run();
