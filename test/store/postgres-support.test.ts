// test/support/postgres.ts: where it finds PostgreSQL, and that a test file without PostgreSQL
// says it skipped and why instead of passing silently.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { findPostgresBin } from '../support/postgres.js';

const Support = suite('test support postgres');
const root = fileURLToPath(new URL('../..', import.meta.url));

Support('when initdb is not on PATH then the Debian folder /usr/lib/postgresql/N/bin is found', () => {
  const saved = process.env.PATH;
  process.env.PATH = '/nonexistent';
  try {
    const found = findPostgresBin();
    let debian: string[] = [];
    try {
      debian = readdirSync('/usr/lib/postgresql').filter((v) => existsSync(`/usr/lib/postgresql/${v}/bin/initdb`));
    } catch {
      // No Debian PostgreSQL here.
    }
    if (debian.length === 0) {
      // No Debian cluster binaries on this machine: only /usr/local/bin can be the answer.
      assert.ok(found === undefined || found === '/usr/local/bin', String(found));
    } else {
      assert.match(String(found), /^\/usr\/lib\/postgresql\/\d+\/bin$/);
    }
  } finally {
    process.env.PATH = saved;
  }
});

Support(
  'when HITSTATE_PG_BIN names a folder without PostgreSQL then the contract file prints SKIPPED with the reason',
  () => {
    const child = spawnSync(process.execPath, ['--import', 'tsx', 'test/store/contract/postgres.test.ts'], {
      cwd: root,
      env: { ...process.env, HITSTATE_PG_BIN: '/nonexistent', NO_COLOR: '1' },
      encoding: 'utf8',
    });
    const output = child.stdout + child.stderr;
    assert.match(
      output,
      /SKIPPED: the store backend contract on PostgreSQL needs a PostgreSQL server: HITSTATE_PG_BIN=\/nonexistent holds no initdb and pg_ctl/,
    );
    // uvu reports the skipped contract, so the runner counts it: never a silent green.
    assert.match(output, /Skipped:\s+1/);
    assert.is(child.status, 0, output);
  },
);

Support.run();
