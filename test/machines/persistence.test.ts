// Persistence: every state of every machine survives getPersistedSnapshot → JSON text → parse →
// restore → getPersistedSnapshot unchanged (the pending command and deadline too), and a
// supervisor stored as separate child snapshots (the runtime's layout) restores and carries on.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createActor, type AnyMachineSnapshot, type AnyStateMachine } from 'xstate';
import { machineStates } from '../../machines/export.js';
import {
  arrivalOf,
  nextDeadline,
  pendingCommands,
  pendingCommandsOfRun,
  unitStatusOf,
} from '../../machines/inspect.js';
import {
  joinTaskRunSnapshot,
  splitTaskRunSnapshot,
  type StoredActor,
} from '../../src/runtime/supervisor/snapshot-layout.js';
import { activeStateIds, persistedText, walk } from './graph-walk.js';
import { agentModel, groupModel, taskRunModel, unitModel, type Model } from './models.js';
import { RunHarness } from './run-harness.js';

const RoundTrip = suite('machines: JSON round trip in every state');

for (const model of [unitModel, agentModel, groupModel, taskRunModel] as Array<Model<AnyStateMachine>>) {
  RoundTrip(
    `when any ${model.name} snapshot is persisted, parsed, restored and persisted again then nothing changed`,
    () => {
      const roundTripped = new Set<string>();
      for (const { snapshot } of walk(model).states) {
        const text = persistedText(model.machine, snapshot);
        const actor = createActor(model.machine, { snapshot: JSON.parse(text) });
        actor.start();
        const again = JSON.stringify(actor.getPersistedSnapshot());
        actor.stop();
        assert.is(again, text, `round trip changed the snapshot in ${JSON.stringify(snapshot.value)}`);
        const restored = JSON.parse(again) as AnyMachineSnapshot;
        const view = (s: AnyMachineSnapshot) => ({ value: s.value, context: s.context });
        assert.equal(
          pendingCommands(view(restored) as never),
          pendingCommands(view(snapshot) as never),
          'the pending command is rebuilt identically',
        );
        assert.equal(nextDeadline(view(restored) as never), nextDeadline(view(snapshot) as never));
        for (const id of activeStateIds(model.machine.id, snapshot.value)) roundTripped.add(id);
      }
      // A transient state (only `always` transitions out, taken at once) is never at rest, so never stored.
      const stable = machineStates(model.machine).filter((s) => !(s.description ?? '').startsWith('Transient'));
      assert.equal(
        stable.filter((s) => !roundTripped.has(s.id)).map((s) => s.id),
        [],
      );
    },
  );
}

/** What the store would hold: JSON text, parsed back (undefined fields drop out). */
const asJSON = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

/** Splits a run's persisted snapshot, stores each part as JSON text, and restores it (the runtime's layout). */
function storeAndRestore(h: RunHarness): RunHarness {
  const { supervisor, actors } = splitTaskRunSnapshot(h.actor.getPersistedSnapshot());
  const stored = {
    supervisor: JSON.stringify(supervisor),
    actors: Object.fromEntries(Object.entries(actors).map(([id, a]) => [id, JSON.stringify(a)])),
  };
  h.stop();
  const parsedActors = Object.fromEntries(
    Object.entries(stored.actors).map(([id, text]) => [id, JSON.parse(text) as StoredActor]),
  );
  const snapshot = joinTaskRunSnapshot(JSON.parse(stored.supervisor) as Record<string, unknown>, parsedActors);
  return new RunHarness({ runId: 'r1', unitIds: [] }, { snapshot, clock: h.clock });
}

/** A run with something pending everywhere: a launch, an approval, a reconciliation, a confirmation. */
function busyRun(): RunHarness {
  const h = new RunHarness({
    runId: 'r1',
    unitIds: ['u1', 'u2', 'u3', 'u4'],
    settings: { maxConcurrentUnits: 3 },
  }).setUp();
  h.launchAll();
  h.arrive('HIT-u1', 'A1', 'W1');
  h.send({ type: 'agent.submitted', agentId: 'A1-W1', at: h.now });
  h.send({ type: 'hit.observed', hitId: 'HIT-u1', status: 'Reviewable', available: 0, at: h.now });
  h.confirmSubmission('u1');
  h.send({ type: 'review.approve', agentId: 'A1-W1', requestId: 'q1', at: h.now });
  h.arrive('HIT-u2', 'A2', 'W2');
  h.send({ type: 'hit.observed', hitId: 'HIT-u2', status: 'Reviewable', available: 0, at: h.now });
  h.arrive('HIT-u3', 'A3', 'W3');
  h.send({ type: 'hit.observed', hitId: 'HIT-u3', status: 'Assignable', available: 1, at: h.now + 1 });
  return h;
}

const Supervisor = suite('machines: supervisor stored as separate children');

Supervisor(
  'when a busy run is stored apart and restored then every child is back with its id, systemId and state, and persists identically',
  () => {
    const h = busyRun();
    const split = splitTaskRunSnapshot(h.actor.getPersistedSnapshot());
    const before = asJSON(split);
    const restored = storeAndRestore(h);
    assert.equal(asJSON(splitTaskRunSnapshot(restored.actor.getPersistedSnapshot())), before);
    assert.equal(Object.keys(split.actors).sort(), [
      'agent:A1-W1',
      'agent:A2-W2',
      'agent:A3-W3',
      'group:0',
      'unit:u1',
      'unit:u2',
      'unit:u3',
      'unit:u4',
    ]);
    assert.equal(split.actors['agent:A2-W2']?.parentId, 'unit:u2', 'an agent is stored under the unit that owns it');
    assert.equal(split.actors['unit:u2']?.parentId, 'group:0');
    for (const id of Object.keys(split.actors))
      assert.is(restored.actor.system.get(id)?.id, id, `${id} is found by systemId after restore`);
    assert.is(restored.snapshot.status, 'active');
    restored.stop();
  },
);

Supervisor(
  'when a run is restored then pendingCommandsOfRun gives back exactly the commands the actors were waiting on, same ids',
  () => {
    const h = busyRun();
    const issued = new Map(h.outbox.map((c) => [c.commandId, c]));
    const restored = storeAndRestore(h);
    assert.equal(restored.outbox, [], 'entry actions do not run again on restore');
    const pending = pendingCommandsOfRun(JSON.parse(JSON.stringify(restored.actor.getPersistedSnapshot())));
    assert.equal(pending.map((c) => c.kind).sort(), [
      'approveAssignment',
      'confirmHIT',
      'launchHIT',
      'reconcileSubmission',
    ]);
    for (const command of pending)
      assert.equal(command, issued.get(command.commandId), `${command.kind} is rebuilt as issued`);
    restored.stop();
  },
);

Supervisor('when a restored run carries on then results, arrivals, reviews and the end of the run all work', () => {
  const restored = storeAndRestore(busyRun());
  const pending = pendingCommandsOfRun(restored.actor.getPersistedSnapshot());
  for (const c of pending) {
    if (c.kind === 'launchHIT')
      restored.send({
        type: 'launch.succeeded',
        unitId: c.unitId,
        commandId: c.commandId,
        hitId: `HIT-${c.unitId}`,
        at: restored.now,
      });
    if (c.kind === 'approveAssignment')
      restored.send({ type: 'review.succeeded', agentId: c.agentId, commandId: c.commandId, at: restored.now });
    if (c.kind === 'reconcileSubmission')
      restored.send({ type: 'reconcile.succeeded', unitId: c.unitId, commandId: c.commandId, at: restored.now });
  }
  assert.is(restored.unit('u1').value, 'accepted');
  assert.equal(restored.unit('u2').value, { completed: 'awaitingReview' });
  assert.equal(restored.agent('A2-W2')?.context.dataStored, true);
  restored.send({ type: 'hit.observed', hitId: 'HIT-u3', status: 'Unassignable', available: 0, at: restored.now + 2 });
  assert.equal(restored.unit('u3').value, { assigned: 'working' });
  assert.equal(restored.arrive('HIT-u4', 'A4', 'W4'), {
    unitId: 'u4',
    hitId: 'HIT-u4',
    assignmentId: 'A4',
    at: restored.now,
  });
  restored.send({ type: 'run.expire', at: restored.now });
  for (const c of restored.take('expireHIT'))
    restored.send({
      type: 'expire.succeeded',
      unitId: c.kind === 'expireHIT' ? c.unitId : '',
      commandId: c.commandId,
      at: restored.now,
    });
  for (const [hitId, unitId] of [
    ['HIT-u3', 'u3'],
    ['HIT-u4', 'u4'],
  ]) {
    restored.send({ type: 'hit.observed', hitId: hitId!, status: 'Reviewable', available: 1, at: restored.now + 3 });
    assert.is(unitStatusOf(restored.unit(unitId!)), 'expired');
  }
  assert.is(restored.value, 'done');
  assert.equal(restored.snapshot.context.anomalies, []);
  assert.is(arrivalOf(restored.snapshot, 'A1-W1') !== undefined, true);
  restored.stop();
});

Supervisor('when the run is stored in each of its states then each restores and persists identically', () => {
  const scenarios: Array<[string, () => RunHarness]> = [
    ['settingUp', () => new RunHarness({ runId: 'r1', unitIds: ['u1'] })],
    [
      'failed',
      () =>
        new RunHarness({ runId: 'r1', unitIds: ['u1'] }).send({
          type: 'setup.failed',
          commandId: 'r1/setUpResources/1',
          reason: 'no',
          at: 0,
        }),
    ],
    [
      'launching',
      () => new RunHarness({ runId: 'r1', unitIds: ['u1', 'u2'], settings: { maxConcurrentUnits: 1 } }).setUp(),
    ],
    [
      'running',
      () => {
        const h = busyRun();
        h.launchAll();
        return h;
      },
    ],
    ['expiring', () => busyRun().send({ type: 'run.expire', at: 1 })],
    [
      'draining',
      () => {
        const h = new RunHarness({ runId: 'r1', unitIds: ['u1'] }).setUp();
        h.launchAll();
        h.arrive('HIT-u1', 'A1', 'W1');
        return h.send({ type: 'run.expire', at: h.now });
      },
    ],
    [
      'done',
      () => {
        const h = new RunHarness({ runId: 'r1', unitIds: ['u1'] }).setUp();
        h.launchAll();
        h.send({ type: 'run.expire', at: h.now });
        const [expire] = h.take('expireHIT');
        return h.send({ type: 'expire.succeeded', unitId: 'u1', commandId: expire!.commandId, at: h.now });
      },
    ],
  ];
  for (const [state, make] of scenarios) {
    const h = make();
    assert.is(h.value, state);
    const before = asJSON(splitTaskRunSnapshot(h.actor.getPersistedSnapshot()));
    const restored = storeAndRestore(h);
    assert.is(restored.value, state);
    assert.equal(asJSON(splitTaskRunSnapshot(restored.actor.getPersistedSnapshot())), before, state);
    restored.stop();
  }
});

RoundTrip.run();
Supervisor.run();
