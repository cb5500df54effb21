// The public surface of machines/: its purity (xstate only; xstate/graph only in the exporters),
// its pinned export list, the snapshot readers, the default tables, and type-level refusals.
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { AgentEvent } from '../../machines/agent-types.js';
import * as api from '../../machines/index.js';
import { MapPoolTables, tablesOf } from '../../machines/task-run-tables.js';
import type { TaskRunEvent } from '../../machines/task-run-types.js';
import type { UnitEvent } from '../../machines/unit-types.js';
import { importsOf, sourceFiles } from '../support/imports.js';
import { RunHarness } from './run-harness.js';
import { HIT, assignedUnit, completedAgent, launchedUnit, observed, unitDrive, workingAgent } from './support.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const Api = suite('machines: public surface');

Api(
  'when machines/ files are read then they import only xstate, xstate/graph (in export.ts only) and each other',
  () => {
    const bad: string[] = [];
    for (const path of sourceFiles('machines')) {
      const file = relative(join(root, 'machines'), path);
      const text = readFileSync(path, 'utf8');
      for (const spec of importsOf(path)) {
        const ok =
          spec === 'xstate' ||
          (spec === 'xstate/graph' && file === 'export.ts') ||
          (spec.startsWith('./') && !spec.includes('/', 2));
        if (!ok) bad.push(`${file} imports ${spec}`);
      }
      if (/\bDate\.now\(|\bsetTimeout\(|\bafter:\s*\{|\binvoke:\s*\{/.test(text))
        bad.push(`${file} reads the clock, sets a timer or invokes`);
    }
    assert.equal(bad, []);
  },
);

// The machines entry's export list is pinned with every other entry's in test/runtime/package-entry.test.ts.

Api(
  'when a snapshot is read then unit and agent statuses are the AssignmentState / AgentState, pending reviews reported apart',
  () => {
    const unit = assignedUnit().send(observed(HIT, 'Assignable', 1, 5));
    assert.is(api.unitStatusOf(unit.snapshot), 'assigned');
    assert.is(api.machineOf(unit.snapshot), 'unit');
    const agent = completedAgent().send({
      type: 'review.bonus',
      requestId: 'b',
      amountUsd: '1.00',
      reason: 'r',
      at: 1,
    });
    assert.is(api.agentStatusOf(agent.snapshot), 'completed');
    assert.is(api.agentPendingReview(agent.snapshot), 'bonus');
    assert.is(api.agentPendingReview(workingAgent().snapshot), null);
    assert.is(api.machineOf(agent.snapshot), 'agent');
  },
);

Api('when a snapshot went through JSON then pendingCommands and nextDeadline read it the same', () => {
  const unit = unitDrive().send({ type: 'unit.launch', at: 1 });
  const parsed = JSON.parse(JSON.stringify({ value: unit.snapshot.value, context: unit.snapshot.context }));
  assert.equal(api.pendingCommands(parsed), api.pendingCommands(unit.snapshot));
  unit.send({ type: 'launch.failed', commandId: 'r1/u1/launchHIT/1', reason: 'throttled', retryable: true, at: 10 });
  assert.equal(api.pendingCommands(unit.snapshot), [], 'waiting to retry: no command in flight');
  assert.is(api.nextDeadline(unit.snapshot), 30_010);
});

Api('when deadlines are asked then each actor names only a deadline its state handles', () => {
  assert.is(api.nextDeadline(launchedUnit().snapshot), undefined);
  const assigned = assignedUnit();
  assert.is(api.nextDeadline(assigned.snapshot), assigned.snapshot.context.deadlineAt!);
  assert.is(
    api.nextDeadline(assigned.send({ type: 'unit.expire', hitId: null, at: 1 }).snapshot),
    undefined,
    'expiring waits on its command, not on the assignment deadline',
  );
  const agent = workingAgent();
  assert.is(api.nextDeadline(agent.snapshot), agent.snapshot.context.deadlineAt);
  assert.is(api.nextDeadline(completedAgent().snapshot), undefined);
  const h = new RunHarness({
    runId: 'r1',
    unitIds: ['u1'],
    settings: { assignmentDurationSec: 60, drainGraceSec: 5 },
  }).setUp();
  h.launchAll();
  h.arrive('HIT-u1', 'A1', 'W1');
  assert.is(api.nextDeadline(h.snapshot), undefined);
  h.send({ type: 'run.expire', at: 1000 });
  assert.is(api.nextDeadline(h.snapshot), 66_000);
  h.stop();
});

Api(
  'when the default tables are changed then the old tables are unchanged, reads find every row, and JSON keeps the order',
  () => {
    const ids = Array.from({ length: 300 }, (_, i) => `${i}`);
    const a = MapPoolTables.empty().addUnits(ids);
    const b = a.putUnit('1', { status: api.AssignmentState.launched });
    assert.equal(a.unit('1'), { status: 'created' });
    assert.equal(b.unit('1'), { status: 'launched' });
    assert.is(a.freeCount, 0);
    assert.is(b.freeCount, 1);
    assert.is(b.firstFree(), '1');
    assert.is(b.indexOf('299'), 299);
    const c = b.putHit('H1', { unitId: null, assignmentId: null, createdBy: '1' });
    assert.is(b.hit('H1'), undefined);
    assert.equal([...c.hits()], [['H1', { unitId: null, assignmentId: null, createdBy: '1' }]]);
    const json = JSON.parse(JSON.stringify(c));
    assert.equal(
      json.units.map(([id]: [string]) => id),
      ids,
      'ids that look like numbers keep the run order',
    );
    const revived = tablesOf({ tables: json });
    assert.equal(revived.toJSON(), c.toJSON());
    assert.is(tablesOf({ tables: json }), revived, 'a context read twice is revived once');
    assert.is(tablesOf({ tables: c }), c);
  },
);

Api('when the machines are drawn then every state explains itself with a description', () => {
  for (const [name, machine] of Object.entries(api.MACHINES)) {
    const silent = api
      .machineStates(machine)
      .filter((s) => (s.description ?? '').trim().length < 10)
      .map((s) => s.id);
    assert.equal(silent, [], `${name}: states without a description`);
  }
  assert.equal(
    api
      .machineStates(api.unitGroupMachine)
      .filter((s) => !s.description)
      .map((s) => s.id),
    [],
  );
});

Api('when events are typed then malformed ones do not compile', () => {
  // @ts-expect-error an observation needs `available` (NumberOfAssignmentsAvailable) and `at`.
  const noAvailable: UnitEvent = { type: 'hit.observed', hitId: 'H', status: 'Reviewable' };
  // @ts-expect-error every event that depends on time carries `at`.
  const noAt: AgentEvent = { type: 'agent.submitted' };
  // @ts-expect-error the supervisor only routes agent events that carry `agentId`.
  const unaddressed: TaskRunEvent = { type: 'review.approve', requestId: 'q', at: 1 };
  const bind: TaskRunEvent = {
    // @ts-expect-error the runtime cannot bind a worker behind the supervisor's back.
    type: 'unit.bindAgent',
    unitId: 'u1',
    hitId: 'H',
    assignmentId: 'A',
    agentId: 'A-W',
    workerId: 'W',
    deadlineAt: 1,
    at: 1,
  };
  assert.ok(noAvailable && noAt && unaddressed && bind);
});

Api.run();
