// `hitstate --version` and `hitstate init` (finding 7 of issue 19): each template is scaffolded
// into a temporary folder and its own end-to-end test is run there, against the simulator, with
// `hitstate` mapped to this checkout (its compiled dist/ when that is fresh, else its sources; the
// packaging test installs the real package).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { compiledFor } from '../../src/cli/compiled.mjs';
import { childEnv, ROOT, runCli, tempDir } from './helpers.js';

/** What `hitstate/<entry>` resolves to in the project: compiled code starts several times faster than tsx. */
const entry = (source: string): string => {
  const path = join(ROOT, source);
  return compiledFor(path) ?? path;
};

const Init = suite('cli/init and --version');
const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

Init('when asked for --version or -V then it prints the package version and exits 0', async () => {
  const dir = tempDir();
  try {
    for (const flag of ['--version', '-V']) {
      const r = await runCli([flag], { cwd: dir.path, env: childEnv() });
      assert.is(r.code, 0, r.stderr);
      assert.is(r.stdout, `hitstate ${version}\n`);
    }
  } finally {
    dir.remove();
  }
});

Init(
  'when DIR holds files or the template is unknown then init refuses, naming the fix, and writes nothing',
  async () => {
    const dir = tempDir();
    try {
      mkdirSync(join(dir.path, 'busy'));
      writeFileSync(join(dir.path, 'busy', 'notes.txt'), 'mine');
      const busy = await runCli(['init', 'busy'], { cwd: dir.path, env: childEnv() });
      assert.is(busy.code, 1);
      assert.match(
        busy.stderr,
        /busy is not empty \(notes\.txt\); init never writes over files\. Pick a new or empty folder/,
      );
      assert.match(busy.stderr, /HST_ERR_CLI_INIT_DIR_NOT_EMPTY/);
      assert.is(readFileSync(join(dir.path, 'busy', 'notes.txt'), 'utf8'), 'mine');
      const unknown = await runCli(['init', 'fresh', '--template', 'fancy'], { cwd: dir.path, env: childEnv() });
      assert.is(unknown.code, 2);
      assert.match(unknown.stderr, /--template must be one of basic, consent-onboarding, multi-page, got "fancy"/);
    } finally {
      dir.remove();
    }
  },
);

for (const template of ['basic', 'consent-onboarding', 'multi-page']) {
  Init(
    `when a ${template} project is made then its files are there and its own test passes on the simulator`,
    async () => {
      const dir = tempDir();
      try {
        const made = await runCli(['init', 'my-task', '--template', template], { cwd: dir.path, env: childEnv() });
        assert.is(made.code, 0, made.stderr);
        const project = join(dir.path, 'my-task');
        for (const file of [
          'hitstate.config.json',
          'task.html',
          'assets/task.js',
          'test/task.test.ts',
          'README.md',
          'package.json',
          '.gitignore',
        ])
          assert.match(made.stdout, file, `init lists ${file}`);
        const pkg = JSON.parse(readFileSync(join(project, 'package.json'), 'utf8')) as {
          name: string;
          dependencies: Record<string, string>;
        };
        assert.is(pkg.name, 'my-task');
        assert.is(pkg.dependencies.hitstate, `file:${ROOT.replace(/\/$/, '')}`);
        assert.match(readFileSync(join(project, 'README.md'), 'utf8'), `hitstate init --template ${template}`);
        assert.match(readFileSync(join(project, 'task.html'), 'utf8'), /assets\/task\.js/);
        assert.match(readFileSync(join(project, 'assets', 'task.js'), 'utf8'), /window\.hitstate\s*\.submit\(/);

        // The project's test, as `npm test` runs it, with `hitstate` resolved to this checkout.
        writeFileSync(
          join(project, 'tsconfig.checkout.json'),
          JSON.stringify({
            extends: './tsconfig.json',
            compilerOptions: {
              paths: {
                hitstate: [entry('src/index.ts')],
                'hitstate/simulator': [entry('src/simulator/index.ts')],
                'hitstate/testing': [entry('src/testing/index.ts')],
              },
            },
          }),
        );
        const { spawn } = await import('node:child_process');
        const tsx = import.meta.resolve('tsx');
        const result = await new Promise<{ code: number | null; out: string }>((resolve) => {
          const child = spawn(process.execPath, ['--import', tsx, '--test', 'test/task.test.ts'], {
            cwd: project,
            env: childEnv({ TSX_TSCONFIG_PATH: 'tsconfig.checkout.json', NODE_NO_WARNINGS: '1' }),
            stdio: ['ignore', 'pipe', 'pipe'],
          });
          let out = '';
          child.stdout.on('data', (d: Buffer) => void (out += d.toString()));
          child.stderr.on('data', (d: Buffer) => void (out += d.toString()));
          const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
          child.on('close', (code) => {
            clearTimeout(timer);
            resolve({ code, out });
          });
        });
        assert.is(result.code, 0, result.out);
        assert.match(result.out, /# pass 1\n# fail 0/);
      } finally {
        dir.remove();
      }
    },
  );
}

Init.run();
