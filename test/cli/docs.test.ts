// docs/cli.md documents every command, option and HITSTATE_* variable the command line has, and
// every exit code; a new flag without docs fails here.
import { readFileSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { EXIT, type CommandSpec } from '../../src/cli/command.js';

const docs = readFileSync(new URL('../../docs/cli.md', import.meta.url), 'utf8');
const migrating = readFileSync(new URL('../../docs/migrating-from-mephisto.md', import.meta.url), 'utf8');

async function specs(): Promise<CommandSpec[]> {
  return [
    (await import('../../src/cli/commands/demo.js')).demoCommand,
    (await import('../../src/cli/commands/run.js')).runCommand,
    (await import('../../src/cli/commands/resume.js')).resumeCommand,
    (await import('../../src/cli/commands/status.js')).statusCommand,
    (await import('../../src/cli/commands/review.js')).reviewCommand,
    (await import('../../src/cli/commands/expire.js')).expireCommand,
    (await import('../../src/cli/commands/expire.js')).stopCommand,
    (await import('../../src/cli/commands/resume.js')).attachCommand,
    (await import('../../src/cli/commands/continue.js')).relaunchCommand,
    (await import('../../src/cli/commands/continue.js')).addUnitsCommand,
    (await import('../../src/cli/commands/budget.js')).budgetCommand,
    (await import('../../src/cli/commands/cleanup.js')).cleanupCommand,
    (await import('../../src/cli/commands/export.js')).exportCommand,
    (await import('../../src/cli/commands/store.js')).storeCommand,
    (await import('../../src/cli/commands/worker.js')).workerCommand,
    (await import('../../src/cli/commands/init.js')).initCommand,
    (await import('../../src/cli/commands/viz.js')).vizCommand,
    (await import('../../src/cli/commands/sim.js')).simCommand,
    (await import('../../src/cli/commands/serve.js')).serveCommand,
  ];
}

const Docs = suite('docs/cli.md');

Docs('when a command exists then docs/cli.md has its section, and each of its options and variables', async () => {
  for (const spec of await specs()) {
    assert.match(docs, new RegExp(`^## \`hitstate ${spec.name}`, 'm'), `section of ${spec.name}`);
    if (spec.name === 'sim' || spec.name === 'viz') continue;
    for (const option of spec.options) {
      assert.ok(docs.includes(`--${option.name}`), `docs/cli.md mentions --${option.name} of ${spec.name}`);
      if (option.env !== undefined) assert.ok(docs.includes(`\`${option.env}\``), `docs/cli.md lists ${option.env}`);
    }
  }
});

Docs('when exit codes are documented then the table has exactly the codes of EXIT', () => {
  const table = docs.split('### Exit codes')[1]!.split('\n## ')[0]!;
  const documented = [...table.matchAll(/^\| (\d+) \|/gm)].map((m) => Number(m[1])).sort((a, b) => a - b);
  assert.equal(
    documented,
    Object.values(EXIT).sort((a, b) => a - b),
  );
});

Docs('when the Mephisto page maps the provider then every class and the mturk scripts are covered', () => {
  for (const name of [
    'MTurkProvider',
    'MTurkRequester',
    'MTurkWorker',
    'MTurkUnit',
    'MTurkAgent',
    'mturk_utils',
    'cleanup',
    'launch_makeup_hits',
    'soft_block_workers_by_mturk_id',
    'identify_broken_units',
    'print_outstanding_hit_status',
  ]) {
    assert.ok(migrating.includes(name), `docs/migrating-from-mephisto.md covers ${name}`);
  }
});

Docs.run();
