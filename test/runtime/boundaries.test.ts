// The runtime's module boundary, enforced by a test: src/runtime/ may use the machines, the
// gateway, the store, the config, the task server's port, errors and clocks; never the simulator
// (hitstate's MTurk is reached over HTTP like any other) or the CLI.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';

const root = fileURLToPath(new URL('../..', import.meta.url));
const Boundary = suite('runtime boundary');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : name.endsWith('.ts') ? [path] : [];
  });
}

Boundary('when src/runtime/ imports anything then it is not the simulator nor the CLI', () => {
  const bad: string[] = [];
  for (const file of sources(join(root, 'src', 'runtime'))) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]/g)) {
      const target = relative(root, join(file, '..', m[1]!));
      if (
        m[1]!.startsWith('.') &&
        (target.startsWith(join('src', 'simulator')) || target.startsWith(join('src', 'cli')))
      )
        bad.push(`${relative(root, file)} imports '${m[1]}'`);
    }
  }
  assert.equal(bad, [], `the runtime talks to MTurk (or hitstate's own) through the gateway only:\n${bad.join('\n')}`);
});

Boundary.run();
