// The package installs the way the README says and has its types: `npm pack`, install the tarball
// into a temporary project (offline: the dependencies come from the local npm cache, resolved by
// this repository's package-lock.json), compile the README's embedding example with tsc against
// the installed declarations, and run the `hitstate` bin from the compiled dist/ without tsx.
// Slow tier: it needs a fresh `npm run build` (it never builds, since other slow files run dist/).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { staleReason } from '../../src/cli/compiled.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const Install = suite('package install from a tarball');

let dir = '';
let installed = false;
let skipped: string | undefined;

function run(command: string, args: string[], cwd: string) {
  const r = spawnSync(command, args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, npm_config_update_notifier: 'false', npm_config_fund: 'false', NO_COLOR: '1' },
  });
  if (r.error !== undefined) throw r.error;
  return { code: r.status, output: `${r.stdout}${r.stderr}` };
}

/** The first ```ts block after the README's "Embedding in a task server" heading. */
function readmeEmbeddingExample(): string {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Embedding in a task server'));
  const code = section.match(/```ts\n([\s\S]*?)```/)?.[1];
  if (code === undefined) throw new Error('README.md has no ```ts block under "## Embedding in a task server"');
  return code;
}

function compile(file: string, source: string): { code: number | null; output: string } {
  writeFileSync(join(dir, file), source);
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2023',
        lib: ['ES2023'],
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        noEmit: true,
        // The published declarations must hold up on their own, not only under skipLibCheck.
        skipLibCheck: false,
        types: ['node'],
        typeRoots: [join(root, 'node_modules', '@types')],
      },
      files: [file],
    }),
  );
  return run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], dir);
}

Install.before(() => {
  const stale = staleReason(join(root, 'src', 'index.ts'));
  if (stale !== undefined) throw new Error(`dist/ is not fresh (${stale}): run \`npm run build\` first`);
  dir = mkdtempSync(join(tmpdir(), 'hitstate-install-'));
  const pack = run('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', dir], root);
  assert.is(pack.code, 0, pack.output);
  const tarball = pack.output.trim().split('\n').pop()!;
  // The consumer depends on the tarball; the repository's lockfile pins every other package, so
  // npm takes them from its cache by integrity and needs no registry.
  const repo = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  const dependencies = { ...repo.dependencies, hitstate: `file:${tarball}` };
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'consumer', private: true, type: 'module', dependencies }),
  );
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as {
    name: string;
    packages: Record<string, unknown>;
  };
  lock.name = 'consumer';
  lock.packages[''] = { name: 'consumer', dependencies };
  writeFileSync(join(dir, 'package-lock.json'), JSON.stringify(lock));
  const install = run('npm', ['install', '--offline', '--no-audit', '--ignore-scripts'], dir);
  if (install.code !== 0 && /ENOTCACHED/.test(install.output)) {
    skipped = `a dependency is not in the local npm cache (offline install refused):\n${install.output.slice(-600)}`;
    return;
  }
  assert.is(install.code, 0, install.output);
  installed = true;
});
Install.after(() => {
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

function skip(test: string): boolean {
  if (installed) return false;
  console.log(`SKIPPED ${test}: ${skipped ?? 'the install did not run'}`);
  return true;
}

Install('when the tarball is packed then it has the compiled code and types, and no sources or test build', () => {
  if (skip('tarball contents')) return;
  const pkg = join(dir, 'node_modules', 'hitstate');
  for (const file of ['dist/src/index.js', 'dist/src/index.d.ts', 'dist/machines/index.d.ts', 'src/cli/hitstate.mjs'])
    assert.ok(existsSync(join(pkg, file)), `${file} is in the package`);
  for (const file of ['src/index.ts', 'dist/test', 'test', 'tsconfig.json'])
    assert.not.ok(existsSync(join(pkg, file)), `${file} is not in the package`);
});

Install('when the README embedding example is compiled against the installed package then tsc passes', () => {
  if (skip('README example')) return;
  const tsc = compile('example.ts', readmeEmbeddingExample());
  assert.is(tsc.code, 0, tsc.output);
});

Install('when a user reaches for the runtime internals then the published types refuse them', () => {
  if (skip('internals')) return;
  const tsc = compile(
    'internals.ts',
    "import { createRuntime } from 'hitstate';\nconst runtime = await createRuntime({ environment: { kind: 'sandbox' }, requester: { name: 'lab', credentials: { kind: 'profile', profile: 'lab' } } });\nexport const store = runtime.store;\n",
  );
  assert.is.not(tsc.code, 0);
  assert.match(tsc.output, /internals\.ts\(3,\d+\): error TS2339: Property 'store' does not exist/);
});

Install('when the installed bin runs then it runs the compiled dist/ (no tsx is installed)', () => {
  if (skip('bin')) return;
  assert.not.ok(existsSync(join(dir, 'node_modules', 'tsx')), 'tsx is a devDependency and must not be installed');
  const help = run(
    process.execPath,
    [join(dir, 'node_modules', 'hitstate', 'src', 'cli', 'hitstate.mjs'), '--help'],
    dir,
  );
  assert.is(help.code, 0, help.output);
  assert.match(help.output, /Usage: hitstate COMMAND/);
});

Install.run();
