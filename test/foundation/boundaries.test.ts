// Enforces the module boundaries of docs/architecture.md with a test, not with review:
// machines/ are pure (xstate only), the simulator knows nothing of the runtime, and so on.
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  importOffenders as offenders,
  resolvesUnder,
  ROOT as root,
  sourceFiles as sources,
} from '../support/imports.js';

const Boundaries = suite('boundaries');

Boundaries('when machines/ import anything but xstate and machines/ then the test lists each offender', () => {
  const bad = offenders(
    'machines',
    (spec, file) => spec === 'xstate' || spec === 'xstate/graph' || resolvesUnder(spec, file, 'machines'),
  );
  assert.equal(
    bad,
    [],
    `machines/ must stay pure. Import only types from elsewhere is not allowed either: move the code to src/runtime/ and provide it with machine.provide().\n${bad.join('\n')}`,
  );
});

Boundaries(
  'when src/simulator/ imports the runtime, store, gateway or server then the test lists each offender',
  () => {
    const bad = offenders('src/simulator', (spec, file) => {
      if (!spec.startsWith('.')) return true;
      return !['src/runtime', 'src/store', 'src/mturk', 'src/server', 'src/cli', 'machines'].some((f) =>
        resolvesUnder(spec, file, f),
      );
    });
    assert.equal(bad, [], `the simulator must stand alone so users can self-host it:\n${bad.join('\n')}`);
  },
);

Boundaries('when src/mturk/ or src/store/ import the runtime, server or cli then the test lists each offender', () => {
  const lower = (dir: string) =>
    offenders(
      dir,
      (spec, file) =>
        !['src/runtime', 'src/server', 'src/cli', 'src/simulator'].some((f) => resolvesUnder(spec, file, f)),
    );
  const bad = [...lower('src/mturk'), ...lower('src/store')];
  assert.equal(bad, [], bad.join('\n'));
});

Boundaries('when library code lives under src/ then it never calls process.exit', () => {
  const bad = sources('src')
    .filter((f) => !relative(root, f).startsWith(join('src', 'cli')))
    .filter((f) => /process\.exit\(/.test(readFileSync(f, 'utf8')))
    .map((f) => relative(root, f));
  assert.equal(bad, [], `only src/cli/ may exit the process:\n${bad.join('\n')}`);
});

Boundaries.run();
