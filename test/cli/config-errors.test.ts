// `hitstate run CONFIG` checks the whole config before anything is created, in a real child process.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { childEnv, runCli, tempDir } from './helpers.js';

const Config = suite<{ dir: ReturnType<typeof tempDir> }>('cli/run config');

Config.before.each((ctx) => {
  ctx.dir = tempDir();
});

Config.after.each((ctx) => {
  ctx.dir.remove();
});

Config(
  'when a config has five different mistakes then all five are listed with field and fix, nothing is created, and the exit code is 1',
  async ({ dir }) => {
    const file = join(dir.path, 'task.json');
    writeFileSync(
      file,
      JSON.stringify({
        title: '',
        description: 'Pick the sentiment',
        reward: '$1',
        assignmentDurationSec: 10,
        units: 0,
        page: { taskPage: 'missing.html' },
      }),
    );
    // The endpoint is never called: the config is refused first (port 9 is discard, nothing listens there).
    const result = await runCli(['run', 'task.json', '--env', 'http://127.0.0.1:9', '--store', 'store'], {
      cwd: dir.path,
      env: childEnv(),
    });
    assert.is(result.code, 1, result.stderr);
    assert.match(result.stderr, /task\.json has 5 problems; nothing was created:/);
    const listed = [...result.stderr.matchAll(/^ {2}- ([\w.[\]]+): (.+)$/gm)].map((m) => [m[1], m[2]]);
    assert.equal(listed.map(([field]) => field).sort(), [
      'assignmentDurationSec',
      'page.taskPage',
      'reward',
      'title',
      'units',
    ]);
    const byField = Object.fromEntries(listed);
    assert.match(byField.reward!, /like "0\.50"/);
    assert.match(byField.assignmentDurationSec!, /from 30 to/);
    assert.match(byField['page.taskPage']!, /missing\.html is not a file/);
    assert.match(result.stderr, /\[HST_ERR_CONFIG_INVALID\]/);
    assert.not.match(result.stderr, /\n\s+at /, 'no stack trace');
    assert.is(result.stdout, '');
    assert.not.ok(existsSync(join(dir.path, 'store')), 'no store was created');
  },
);

Config('when the config file is not JSON then the message names the file and the parse error', async ({ dir }) => {
  writeFileSync(join(dir.path, 'task.json'), '{ "title": "x", }');
  const result = await runCli(['run', 'task.json', '--env', 'http://127.0.0.1:9'], { cwd: dir.path, env: childEnv() });
  assert.is(result.code, 1);
  assert.match(result.stderr, /task\.json is not valid JSON/);
  assert.match(result.stderr, /\[HST_ERR_CONFIG_INVALID\]/);
});

Config('when a flag is wrong then the exit code is 2 and the flag is named', async ({ dir }) => {
  const result = await runCli(['run', 'task.json', '--env', 'staging'], { cwd: dir.path, env: childEnv() });
  assert.is(result.code, 2);
  assert.match(result.stderr, /--env must be live, sandbox or the http\(s\) URL/);
});

Config.run();
