// State groups are declared once, as tags in machines/ (machines/tags.ts): the runtime asks a
// snapshot for a tag and never names a substate nor keeps its own list of states. These tests
// pin the tags' meaning against the status groups of machines/states.ts and fail when code under
// src/runtime/ (or the CLI's progress bar) matches state strings by hand.
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createActor } from 'xstate';
import {
  AGENT_STATES,
  AGENT_TAGS,
  AgentTag,
  UNIT_STATES,
  UNIT_TAGS,
  UnitStateGroups,
  UnitTag,
  agentHasTag,
  agentMachine,
  taskRunMachine,
  unitHasTag,
  unitMachine,
  unitStatusesTagged,
} from '../../machines/index.js';
import { ROOT, sourceFiles } from '../support/imports.js';

const Tags = suite('state tags');

interface NodeLike {
  readonly key: string;
  readonly tags: readonly string[];
  readonly states: Readonly<Record<string, NodeLike>>;
}
const rootOf = (machine: { root: unknown }): NodeLike => machine.root as NodeLike;

/** [path, node] for every state node below the root. */
function nodesOf(machine: { root: unknown }): Array<[string, NodeLike]> {
  const out: Array<[string, NodeLike]> = [];
  const walk = (node: NodeLike, path: string): void => {
    for (const [key, child] of Object.entries(node.states)) {
      const at = path === '' ? key : `${path}.${key}`;
      out.push([at, child]);
      walk(child, at);
    }
  };
  walk(rootOf(machine), '');
  return out;
}

const tagged = (machine: { root: unknown }, tag: string): string[] =>
  nodesOf(machine)
    .filter(([, node]) => node.tags.includes(tag))
    .map(([path]) => path)
    .sort();

Tags('when a tag is declared then some state carries it', () => {
  for (const tag of UNIT_TAGS) assert.ok(tagged(unitMachine, tag).length > 0, `no unit state carries ${tag}`);
  for (const tag of AGENT_TAGS) assert.ok(tagged(agentMachine, tag).length > 0, `no agent state carries ${tag}`);
});

Tags('when the unit is settled then its status is outside the incomplete group', () => {
  const incomplete = new Set<string>(UnitStateGroups.incomplete);
  assert.equal(unitStatusesTagged(UnitTag.settled).sort(), UNIT_STATES.filter((s) => !incomplete.has(s)).sort());
});

Tags('when the unit tags are read then they name the pending and failed substates', () => {
  assert.equal(tagged(unitMachine, UnitTag.launching), ['created.launching']);
  assert.equal(tagged(unitMachine, UnitTag.confirming), ['assigned.overdue', 'assigned.returnTentative']);
  assert.equal(tagged(unitMachine, UnitTag.reconcileFailed), ['completed.reconcileFailed']);
  assert.equal(unitStatusesTagged(UnitTag.final).sort(), [...UnitStateGroups.finalUnit].sort());
  assert.equal(unitStatusesTagged(UnitTag.ignoresHit).sort(), ['accepted', 'expired', 'rejected', 'soft_rejected']);
});

Tags('when the agent tags are read then they group the AgentState values', () => {
  const onTask = ['accepted', 'in task', 'onboarding', 'partner disconnect', 'waiting'];
  assert.equal(tagged(agentMachine, AgentTag.onTask), onTask);
  assert.equal(tagged(agentMachine, AgentTag.working), ['none', ...onTask].sort());
  assert.equal(tagged(agentMachine, AgentTag.left), ['disconnect', 'timeout']);
  assert.equal(tagged(agentMachine, AgentTag.submitted), ['approved', 'completed', 'rejected', 'soft_rejected']);
  assert.equal(tagged(agentMachine, AgentTag.needsReview), ['completed.idle']);
  const pending = tagged(agentMachine, AgentTag.reviewPending);
  assert.ok(pending.length > 0);
  for (const path of pending) assert.ok(!path.endsWith('.idle') && path.includes('.'), path);
  // Every substate of a reviewed status that is not idle has a command pending.
  const reviewSubstates = nodesOf(agentMachine)
    .map(([path]) => path)
    .filter((p) => p.includes('.') && !p.endsWith('.idle'))
    .sort();
  assert.equal(pending, reviewSubstates);
  for (const s of AGENT_STATES) assert.ok(Object.hasOwn(rootOf(agentMachine).states, s), s);
});

Tags('when a snapshot is stored then the tag readers answer as the live actor does', () => {
  const unit = createActor(unitMachine, { input: { unitId: 'u1', runId: 'r1' } }).start();
  unit.send({ type: 'unit.launch', at: 0 });
  const live = unit.getSnapshot();
  const stored = JSON.parse(JSON.stringify(unit.getPersistedSnapshot())) as { value: never };
  for (const tag of UNIT_TAGS) {
    assert.is(unitHasTag(stored, tag), live.hasTag(tag), tag);
    assert.is(unitHasTag(live, tag), live.hasTag(tag), tag);
  }
  assert.ok(unitHasTag(stored, UnitTag.launching));
  unit.stop();
  const agent = createActor(agentMachine, {
    input: {
      agentId: 'A1-W1',
      unitId: 'u1',
      runId: 'r1',
      workerId: 'W1',
      assignmentId: 'A1',
      hitId: 'H1',
      deadlineAt: 3_600_000,
    },
  }).start();
  agent.send({ type: 'agent.accepted', at: 0 } as never);
  for (const tag of AGENT_TAGS) assert.is(agentHasTag(agent.getSnapshot(), tag), agent.getSnapshot().hasTag(tag), tag);
  assert.ok(agentHasTag(agent.getSnapshot(), AgentTag.onTask));
  agent.stop();
});

/** Names of substates (below the top level) that are not also a top-level state of some machine. */
function substateNames(): Set<string> {
  const top = new Set<string>();
  const sub = new Set<string>();
  for (const machine of [unitMachine, agentMachine, taskRunMachine]) {
    for (const [path] of nodesOf(machine)) {
      if (path.includes('.')) sub.add(path.slice(path.lastIndexOf('.') + 1));
      else top.add(path);
    }
  }
  for (const name of top) sub.delete(name);
  return sub;
}

const quoted = (name: string): string => `['"\`]${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}['"\`]`;

Tags('when runtime code reads a state then it asks a tag, never a substate string', () => {
  const files = [...sourceFiles('src/runtime'), `${ROOT}src/cli/progress.ts`];
  const names = [...substateNames()];
  const statuses = new Set<string>([...UNIT_STATES, ...AGENT_STATES]);
  const offenders: string[] = [];
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    const where = relative(ROOT, file);
    for (const name of names) {
      const compared = new RegExp(
        `(?:[!=]==\\s*${quoted(name)})|(?:${quoted(name)}\\s*[!=]==)|(?:case\\s+${quoted(name)}\\s*:)`,
      );
      if (compared.test(text)) offenders.push(`${where}: compares with the substate '${name}'`);
    }
    // Reading into a state value's object form is matching substates by hand.
    if (/\.value\s+as\s+\{/.test(text) || /typeof\s+[\w.?]*\.value\s*===\s*'object'/.test(text))
      offenders.push(`${where}: reads a snapshot's state value as an object`);
    // A hand-written list of two or more unit or agent statuses is a state group declared again.
    for (const m of text.matchAll(/(?:new Set(?:<[^>]*>)?\(\s*)?\[([^\][]*)\]/g)) {
      const items = [...m[1]!.matchAll(/'([^']*)'/g)].map((x) => x[1]!);
      if (items.length >= 2 && items.every((i) => statuses.has(i)))
        offenders.push(`${where}: lists states by hand [${items.join(', ')}]; use a tag from machines/tags.ts`);
    }
  }
  assert.equal(offenders, [], offenders.join('\n'));
});

Tags.run();
