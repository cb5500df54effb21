// The command line a detached run repeats itself with (src/cli/daemon.ts): everything but
// --detach is kept, and a PostgreSQL URL given as --store (which may hold a password) travels
// through the child's environment, never through its command line, which `ps` shows to anyone.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { detachedCommandOf } from '../../src/cli/daemon.js';

const Daemon = suite('cli/daemon: the detached command line');

Daemon('when the store is a directory then the child gets the same flags, minus --detach, plus the run id', () => {
  const { argv, env } = detachedCommandOf(
    'run',
    { positionals: ['task.json'], options: { detach: true, store: '/data/store', yes: true, port: '0' } },
    'r-1',
    { HITSTATE_STORE_DIR: '/elsewhere' },
  );
  assert.equal(argv, ['run', 'task.json', '--store=/data/store', '--yes', '--port=0', '--run-id=r-1']);
  assert.is(env.HITSTATE_STORE_DIR, '/elsewhere', 'the environment is passed on as it is');
  assert.is(env.HITSTATE_DATABASE_URL, undefined);
});

Daemon('when the store is a database URL with a password then it goes through the environment only', () => {
  const url = 'postgres://lab:s3cret@db.example:5432/hitstate';
  const { argv, env } = detachedCommandOf(
    'resume',
    { positionals: ['r-2'], options: { detach: true, store: ` ${url} ` } },
    'r-2',
    { HITSTATE_STORE_DIR: '/would/win/over/the/url', PATH: '/usr/bin' },
  );
  assert.equal(argv, ['resume', 'r-2']);
  assert.not.ok(argv.join(' ').includes('s3cret'), 'no password on the command line');
  assert.is(env.HITSTATE_DATABASE_URL, url);
  assert.is(env.HITSTATE_STORE_DIR, undefined, 'a store directory would override the URL in the child');
  assert.is(env.PATH, '/usr/bin');
});

Daemon.run();
