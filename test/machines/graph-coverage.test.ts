// Model-based coverage: each machine's graph is walked with xstate/graph (getAdjacencyMap over
// the event models of models.ts); every (state, event) pair of the walk is a
// test path, replayed in a real actor restored from JSON. Every state must be reachable and every
// transition that toDirectedGraph lists (plus eventless ones) must fire on some path.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { machineStates, machineTransitions } from '../../machines/export.js';
import { activeStateIds, replay, walk } from './graph-walk.js';
import { agentModel, groupModel, taskRunModel, unitModel, type Model } from './models.js';

const Coverage = suite('machines: xstate/graph coverage');

function measure<M extends Parameters<typeof machineTransitions>[0]>(model: Model<M>) {
  const result = walk(model);
  const fired = new Set<string>();
  const reached = new Set<string>();
  const errors: string[] = [];
  for (const s of result.states) for (const id of activeStateIds(model.machine.id, s.snapshot.value)) reached.add(id);
  for (const step of result.steps) {
    const { transitions, states, errors: failed } = replay(model.machine, step.snapshot, step.event);
    errors.push(...failed);
    for (const t of transitions) fired.add(t);
    for (const s of states) reached.add(s);
  }
  const transitions = machineTransitions(model.machine).map((t) => t.key);
  const states = machineStates(model.machine).map((s) => s.id);
  return {
    walk: result,
    missingTransitions: transitions.filter((t) => !fired.has(t)),
    unknownFired: [...fired].filter((t) => !transitions.includes(t)),
    missingStates: states.filter((s) => !reached.has(s)),
    errors,
    transitions: transitions.length,
    states: states.length,
  };
}

for (const model of [unitModel, agentModel, groupModel, taskRunModel] as Array<
  Model<Parameters<typeof machineTransitions>[0]>
>) {
  Coverage(
    `when the ${model.name} machine’s graph is walked then every state is reached and every transition fires on some test path`,
    () => {
      const m = measure(model);
      const covered = m.transitions - m.missingTransitions.length;
      console.log(
        `  coverage ${model.name}: ${m.states - m.missingStates.length}/${m.states} states, ${covered}/${m.transitions} transitions (${((100 * covered) / m.transitions).toFixed(1)}%), ` +
          `${m.walk.states.length} abstract states, ${m.walk.steps.length} test paths`,
      );
      assert.equal(m.errors.slice(0, 5), [], 'a test path made the actor error');
      assert.equal(m.missingStates, [], 'unreachable states');
      assert.equal(m.missingTransitions, [], 'transitions no test path exercises');
      assert.equal(m.unknownFired, [], 'fired transitions the graph does not list (the key format drifted)');
    },
  );
}

Coverage.run();
