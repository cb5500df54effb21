// The build checks what it claims (docs/testing.md): `npm test` and `.ci/run` run the type check
// and the linter before any test, and each fails on a planted error. The planted files live in a
// temporary directory with the project's own tsconfig.json (extended) and biome.json (copied),
// so the check uses exactly the project's settings and never touches the tree.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = (name: string) => join(root, 'node_modules', '.bin', name);
const CI = suite('CI checks what it claims');

let dir = '';
CI.before(() => {
  dir = mkdtempSync(join(tmpdir(), 'hitstate-ci-'));
  // An ES module package, as hitstate is (module: NodeNext reads this).
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
});
CI.after(() => rmSync(dir, { recursive: true, force: true }));

function run(command: string, args: string[]): { code: number | null; output: string } {
  const r = spawnSync(command, args, { cwd: dir, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  if (r.error !== undefined) throw r.error;
  return { code: r.status, output: `${r.stdout}${r.stderr}` };
}

/** Type-checks `source` as planted.ts with the project's compiler options. */
function typecheck(source: string): { code: number | null; output: string } {
  writeFileSync(join(dir, 'planted.ts'), source);
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      extends: join(root, 'tsconfig.json'),
      compilerOptions: { rootDir: '.', typeRoots: [join(root, 'node_modules', '@types')] },
      include: ['planted.ts'],
    }),
  );
  return run(bin('tsc'), ['-p', join(dir, 'tsconfig.json')]);
}

/** Lints `source` as planted.ts with the project's Biome configuration. */
function lint(source: string): { code: number | null; output: string } {
  const config = JSON.parse(readFileSync(join(root, 'biome.json'), 'utf8')) as Record<string, unknown>;
  // The temporary directory is no git checkout, and the schema path is relative to the root.
  delete config.vcs;
  delete config.$schema;
  writeFileSync(join(dir, 'biome.json'), JSON.stringify(config));
  writeFileSync(join(dir, 'planted.ts'), source);
  return run(bin('biome'), ['check', '--config-path', dir, join(dir, 'planted.ts')]);
}

CI('when npm test runs then the type check and the linter come before the tests, and .ci/run runs both too', () => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  // The checks (type check, lint and build, at once) pass before any test runs: child processes
  // then run compiled code, and a failed check stops the command.
  assert.match(pkg.scripts.test ?? '', /^node test\/checks\.mjs && node test\/run\.mjs/);
  const checks = readFileSync(join(root, 'test', 'checks.mjs'), 'utf8');
  assert.match(checks, /^export const CHECKS = \['typecheck', 'lint', 'build'\];$/m);
  assert.match(checks, /process\.exit\(1\)/, 'a failed check fails the command');
  assert.match(pkg.scripts.typecheck ?? '', /^tsc -p tsconfig\.json$/);
  assert.match(pkg.scripts.lint ?? '', /^biome check \.$/);
  const tsconfig = JSON.parse(readFileSync(join(root, 'tsconfig.json'), 'utf8')) as { include: string[] };
  assert.ok(tsconfig.include.includes('test'), 'the type check covers test/, where the @ts-expect-error tests are');
  const ci = readFileSync(join(root, '.ci', 'run'), 'utf8');
  assert.match(ci, /^run_tier npm test -- "\$@"$/m, ".ci/run runs the README's test command");
  assert.match(ci, /^run_tier node test\/run\.mjs --slow "\$@"$/m, 'and the slow tier');
  assert.match(ci, /echo "\$\{total_passed\} passed, \$\{total_failed\} failed"\nexit "\$status"\n*$/);
});

CI('when a clean file is checked then both tools pass (so a failure below is the planted error)', () => {
  const clean = "export const answer: number = 42;\nexport const label = 'ok';\n";
  const tsc = typecheck(clean);
  assert.is(tsc.code, 0, tsc.output);
  const biome = lint(clean);
  assert.is(biome.code, 0, biome.output);
});

CI('when a type error is planted then tsc fails naming the file and line', () => {
  const tsc = typecheck("export const answer: number = 'forty-two';\n");
  assert.is.not(tsc.code, 0);
  assert.match(tsc.output, /planted\.ts\(1,14\): error TS2322/);
});

CI(
  'when a type test expects an error that does not happen then tsc fails (the @ts-expect-error tests can fail)',
  () => {
    const tsc = typecheck('// @ts-expect-error a number is a number\nexport const answer: number = 42;\n');
    assert.is.not(tsc.code, 0);
    assert.match(tsc.output, /planted\.ts\(1,1\): error TS2578/);
  },
);

CI('when a lint error is planted then biome fails naming the rule', () => {
  const biome = lint('export function same(a: unknown, b: unknown): boolean {\n  return a == b;\n}\n');
  assert.is.not(biome.code, 0);
  assert.match(biome.output, /planted\.ts:2:\d+ lint\/suspicious\/noDoubleEquals/);
});

CI('when a file is misformatted then biome fails', () => {
  const biome = lint('export const label    =   "ok"\n');
  assert.is.not(biome.code, 0);
  assert.match(biome.output, /planted\.ts format/);
});

CI.run();
