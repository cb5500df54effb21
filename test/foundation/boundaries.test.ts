// Enforces the module boundaries of docs/architecture.md with a test, not with review:
// machines/ are pure (xstate only), the simulator knows nothing of the runtime, and so on.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';

const root = fileURLToPath(new URL('../..', import.meta.url));
const Boundaries = suite('boundaries');

function sources(dir: string): string[] {
  const abs = join(root, dir);
  let entries: string[];
  try {
    entries = readdirSync(abs);
  } catch {
    return [];
  }
  return entries.flatMap((name) => {
    const path = join(abs, name);
    if (statSync(path).isDirectory()) return sources(relative(root, path));
    return /\.(ts|mts|js|mjs)$/.test(name) && !name.endsWith('.d.ts') ? [path] : [];
  });
}

function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const found = [
    ...text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]/g),
    ...text.matchAll(/import\(\s*['"]([^'"]+)['"]\s*\)/g),
  ];
  return found.map((m) => m[1]!);
}

function offenders(dir: string, allowed: (spec: string, file: string) => boolean): string[] {
  return sources(dir).flatMap((file) =>
    imports(file)
      .filter((spec) => !allowed(spec, file))
      .map((spec) => `${relative(root, file)} imports '${spec}'`),
  );
}

const resolvesUnder = (spec: string, file: string, folder: string): boolean =>
  spec.startsWith('.') && relative(join(root, folder), join(file, '..', spec)).split(/[\\/]/)[0] !== '..';

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
