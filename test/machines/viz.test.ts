// The `hitstate viz` command and the committed drawings: Mermaid that declares every state, JSON
// definitions that parse and hold every state, --write/--check, and a staleness test of
// docs/machines/* and docs/machines.md against freshly generated output.
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { machineStates } from '../../machines/export.js';
import { MACHINES } from '../../machines/registry.js';
import type { CliIO } from '../../src/cli/command.js';
import { staleDocument, staleFiles } from '../../src/cli/commands/viz.js';
import { main } from '../../src/cli/main.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const NAMES = Object.keys(MACHINES) as Array<keyof typeof MACHINES>;

async function viz(args: string[], cwd = root): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CliIO = {
    out: (t) => void (out += t),
    err: (t) => void (err += t),
    isTTY: false,
    env: {},
    cwd,
    signal: new AbortController().signal,
    forceSignal: new AbortController().signal,
    ask: async () => undefined,
  };
  const code = await main(['viz', ...args], io);
  return { code, out, err };
}

const mermaidId = (machineId: string, id: string) => id.slice(machineId.length + 1).replace(/[^A-Za-z0-9]/g, '_');

/** The Mermaid statements the exporter writes; anything else would be a syntax risk. */
const MERMAID_LINE = [
  /^stateDiagram-v2$/,
  /^\s*%% .*$/,
  /^\s*\[\*\] --> [A-Za-z0-9_]+$/,
  /^\s*[A-Za-z0-9_]+ --> \[\*\]$/,
  /^\s*state [A-Za-z0-9_]+ \{$/,
  /^\s*\}$/,
  /^\s*state "[^"]+" as [A-Za-z0-9_]+$/,
  /^\s*[A-Za-z0-9_]+ : [^;"]+$/,
  /^\s*[A-Za-z0-9_]+ --> [A-Za-z0-9_]+ : [A-Za-z0-9_.*]+( \[[A-Za-z0-9_]+\])?$/,
];

const Viz = suite('hitstate viz');

for (const name of NAMES) {
  Viz(
    `when the ${name} machine is printed as Mermaid then it is a stateDiagram-v2 declaring every state, in statements Mermaid accepts`,
    async () => {
      const { code, out } = await viz(['--machine', name]);
      assert.is(code, 0);
      assert.ok(out.startsWith('stateDiagram-v2\n'));
      const lines = out.trimEnd().split('\n');
      for (const line of lines)
        assert.ok(
          MERMAID_LINE.some((re) => re.test(line)),
          `unexpected Mermaid line: ${JSON.stringify(line)}`,
        );
      const machine = MACHINES[name];
      for (const s of machineStates(machine)) {
        const id = mermaidId(machine.id, s.id);
        assert.ok(
          lines.some((l) => new RegExp(`(^|\\s|state )${id}( |$|:)`).test(l.trim()) || l.includes(` as ${id}`)),
          `state ${s.id} (${id}) is not in the diagram`,
        );
      }
    },
  );

  Viz(`when the ${name} machine is printed as JSON then it parses and has every state`, async () => {
    const { code, out } = await viz(['--machine', name, '--format', 'json']);
    assert.is(code, 0);
    const definition = JSON.parse(out) as { id: string; states: Record<string, unknown> };
    const ids = new Set<string>();
    const collect = (node: { id?: string; states?: Record<string, unknown> }): void => {
      if (node.id) ids.add(node.id);
      for (const child of Object.values(node.states ?? {})) collect(child as typeof node);
    };
    collect(definition);
    for (const s of machineStates(MACHINES[name])) assert.ok(ids.has(s.id), `state ${s.id} is missing from the JSON`);
  });
}

Viz('when no machine is named then all three are printed; --format table gives markdown tables', async () => {
  const all = await viz([]);
  assert.is(all.out.match(/^stateDiagram-v2$/gm)?.length, 3);
  const table = await viz(['--machine', 'agent', '--format', 'table']);
  assert.match(table.out, /^\| State \| Meaning \|\n\|---\|---\|\n/);
  assert.match(table.out, /\| `in task` \| The worker is doing the task\. \|/);
});

Viz(
  'when --write DIR is given then it writes every .mmd and .json, refreshes DIR.md’s generated blocks, and --check then passes',
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hitstate-'));
    try {
      writeFileSync(join(dir, 'machines.md'), '# Doc\n\n<!-- viz:unit:mermaid -->\nold\n<!-- /viz -->\n\ntext kept\n');
      const written = await viz(['--write', 'machines'], dir);
      assert.is(written.code, 0, written.err);
      for (const name of NAMES) {
        assert.ok(readFileSync(join(dir, 'machines', `${name}.mmd`), 'utf8').startsWith('stateDiagram-v2'));
        JSON.parse(readFileSync(join(dir, 'machines', `${name}.json`), 'utf8'));
      }
      const doc = readFileSync(join(dir, 'machines.md'), 'utf8');
      assert.match(
        doc,
        /<!-- viz:unit:mermaid -->\n```mermaid\nstateDiagram-v2\n[\s\S]*```\n<!-- \/viz -->\n\ntext kept\n$/,
      );
      assert.is((await viz(['--write', 'machines', '--check'], dir)).code, 0);
      writeFileSync(join(dir, 'machines', 'agent.mmd'), 'stale');
      const checked = await viz(['--write', 'machines', '--check'], dir);
      assert.is(checked.code, 1);
      assert.match(checked.err, /machines\/agent\.mmd/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

Viz('when options do not fit together then it is a usage error (exit 2) saying what to change', async () => {
  const check = await viz(['--check']);
  assert.is(check.code, 2);
  assert.match(check.err, /--check needs --write DIR/);
  const both = await viz(['--write', 'x', '--machine', 'unit']);
  assert.is(both.code, 2);
  assert.match(both.err, /drop --machine/);
  const bad = await viz(['--machine', 'units']);
  assert.is(bad.code, 2);
});

Viz(
  'when --refresh FILE is given then only its generated blocks are rewritten, and --check reports staleness',
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hitstate-viz-'));
    try {
      const file = join(dir, 'README.md');
      writeFileSync(file, '# Title\n\n<!-- viz:unit:mermaid -->\nold\n<!-- /viz -->\n\nKept as written.\n');
      const stale = await viz(['--refresh', 'README.md', '--check'], dir);
      assert.is(stale.code, 1);
      assert.match(stale.err, /stale diagrams/);
      const refreshed = await viz(['--refresh', 'README.md'], dir);
      assert.is(refreshed.code, 0);
      const text = readFileSync(file, 'utf8');
      assert.ok(text.startsWith('# Title\n\n<!-- viz:unit:mermaid -->\n```mermaid\nstateDiagram-v2'));
      assert.ok(text.endsWith('<!-- /viz -->\n\nKept as written.\n'));
      assert.is((await viz(['--refresh', 'README.md', '--check'], dir)).code, 0);
      assert.is((await viz(['--refresh', 'missing.md'], dir)).code, 2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

Viz(
  'when the committed docs/machines/* and docs/machines.md are compared with fresh output then none is stale (run `npm run viz`)',
  () => {
    assert.ok(existsSync(join(root, 'docs', 'machines.md')));
    assert.equal(staleFiles(join(root, 'docs', 'machines')), []);
    assert.not.ok(staleDocument(join(root, 'README.md')), 'README.md has stale diagrams: run `npm run viz`');
  },
);

Viz.run();
