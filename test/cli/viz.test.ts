// `hitstate viz` in a child process: what it prints parses (JSON as JSON, Mermaid line by line
// against the stateDiagram-v2 statements it uses), for every machine.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ROOT, childEnv, runCli } from './helpers.js';

const Viz = suite('cli/viz');

const MACHINES = ['unit', 'agent', 'taskRun'];

/** The stateDiagram-v2 statements `hitstate viz` writes; anything else is a parse error. */
const STATEMENT = [
  /^%%.*$/,
  /^\[\*\] --> [A-Za-z_][\w]*$/,
  /^[A-Za-z_][\w]* --> [A-Za-z_][\w]*( : .+)?$/,
  /^[A-Za-z_][\w]* : .+$/,
  /^state "[^"]+" as [A-Za-z_][\w]*$/,
  /^state [A-Za-z_][\w]* \{$/,
  /^\}$/,
];

function parseMermaid(text: string): { states: Set<string>; transitions: number } {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  assert.is(lines[0], 'stateDiagram-v2');
  let depth = 0;
  let transitions = 0;
  const states = new Set<string>();
  for (const line of lines.slice(1)) {
    assert.ok(
      STATEMENT.some((re) => re.test(line)),
      `not a stateDiagram-v2 statement: ${line}`,
    );
    if (line.endsWith('{')) depth++;
    if (line === '}') depth--;
    assert.ok(depth >= 0, 'braces balance');
    const arrow = /^(\S+) --> (\S+)/.exec(line);
    if (arrow !== null) {
      transitions++;
      for (const s of arrow.slice(1)) if (s !== '[*]') states.add(s);
    }
  }
  assert.is(depth, 0, 'every block is closed');
  return { states, transitions };
}

Viz(
  'when each machine is drawn as Mermaid then every line is a valid statement and the diagram has states and transitions',
  async () => {
    for (const machine of MACHINES) {
      const result = await runCli(['viz', '--machine', machine], { cwd: ROOT, env: childEnv() });
      assert.is(result.code, 0, result.stderr);
      const { states, transitions } = parseMermaid(result.stdout);
      assert.ok(states.size >= 4, `${machine} has states`);
      assert.ok(transitions >= 4, `${machine} has transitions`);
    }
  },
);

Viz(
  'when every machine is printed as JSON then the output is one JSON document keyed by machine, each an XState definition',
  async () => {
    const result = await runCli(['viz', '--format', 'json'], { cwd: ROOT, env: childEnv() });
    assert.is(result.code, 0, result.stderr);
    const parsed = JSON.parse(result.stdout) as Record<string, { id: string; states: Record<string, unknown> }>;
    assert.equal(Object.keys(parsed), MACHINES);
    for (const name of MACHINES) {
      assert.is(parsed[name]!.id, name);
      assert.ok(Object.keys(parsed[name]!.states).length >= 4);
    }
    const one = await runCli(['viz', '--machine', 'agent', '--format', 'json'], { cwd: ROOT, env: childEnv() });
    assert.is((JSON.parse(one.stdout) as { id: string }).id, 'agent');
  },
);

Viz('when the machine name is unknown then the exit code is usage and the choices are listed', async () => {
  const result = await runCli(['viz', '--machine', 'worker'], { cwd: ROOT, env: childEnv() });
  assert.is(result.code, 2);
  assert.match(result.stderr, /--machine must be one of unit, agent, taskRun/);
});

Viz.run();
