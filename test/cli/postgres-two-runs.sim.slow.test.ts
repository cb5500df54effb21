// Issue 16 on PostgreSQL: several `hitstate run` processes write one environment of one database,
// each owning its runs: the scenario of two-runs-scenario.ts (shared with the lowdb test), every
// process finding the store through HITSTATE_DATABASE_URL, and nothing of it written to lowdb files.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { freshSchemaUrl, withPostgresServer } from '../support/postgres.js';
import { childEnv, type SimCliContext } from './helpers.js';
import { twoRunsScenario } from './two-runs-scenario.js';

await withPostgresServer('two runs of one PostgreSQL store in two processes', (server) => {
  const url = freshSchemaUrl(server, 'two_runs');
  const Two = suite<SimCliContext>('cli/two runs of one PostgreSQL store in two processes');
  twoRunsScenario(
    Two,
    'when two runs of one PostgreSQL store go at once then both finish, a third process reads and reviews them, and a killed owner is taken over once',
    {
      env: () => childEnv({ HITSTATE_DATABASE_URL: url }),
      checkFinal: (stdout) => {
        // The store is the database, shown without its password.
        assert.match(stdout, /postgres:\/\/hitstate:\*\*\*@127\.0\.0\.1/);
        assert.not.match(stdout, new RegExp(server.password));
      },
    },
  );
  Two.run();
});
