// Issue 16, part 5: runs are owned one at a time, not the store, on the lowdb store (a directory):
// the scenario is in two-runs-scenario.ts, shared with the PostgreSQL test.
import { suite } from 'uvu';
import { childEnv, type SimCliContext } from './helpers.js';
import { twoRunsScenario } from './two-runs-scenario.js';

const Two = suite<SimCliContext>('cli/two runs of one store in two processes');
twoRunsScenario(
  Two,
  'when two runs of one store go at once then both finish, a third process reads and reviews them, and a killed owner is taken over once',
  { env: () => childEnv() },
);
Two.run();
