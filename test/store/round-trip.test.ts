import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { isHitstateError } from '../../src/errors.js';
import type { Store } from '../../src/store/index.js';
import { collect, open, removeDir, seedRun, tempDir } from './helpers.js';

/** Reads every collection into plain data, for before/after comparisons. */
async function everything(store: Store) {
  return {
    requesters: store.requesters.list(),
    runs: store.runs.list(),
    units: store.units.ofRun('r1'),
    counts: store.units.statusCounts('r1'),
    hits: store.hits.ofRun('r1'),
    unbound: store.hits.unboundOfRun('r1').map((h) => h.id),
    mapping: store.hits.ofUnit('r1-u0'),
    agents: store.agents.ofRun('r1'),
    byAssignment: store.agents.byAssignment('ASG0', 'WORKER0'),
    submission: store.agents.submission('ag0'),
    workers: store.workers.ofRun('r1'),
    blocked: store.workers.blockedBy('lab').map((w) => w.id),
    qualifications: store.qualifications.ofRequester('lab'),
    intents: store.outbox.ofRun('r1'),
    unconfirmed: store.outbox.unconfirmedIntents().map((i) => i.token),
    snapshot: store.snapshots.get('unit:r1-u0'),
    snapshots: store.snapshots.ofRun('r1'),
    audit: await collect(store.audit.entries({ runId: 'r1' })),
    auditNoRun: await collect(store.audit.entries()),
  };
}

function fill(store: Store): void {
  seedRun(store, 3);
  store.runs.setHitType('r1', '3PN7FLVWM454R7NYSKRT54250KKSYM');
  store.runs.setStatus('r1', 'running');
  store.qualifications.put({
    requesterName: 'lab',
    name: 'passed-onboarding',
    qualificationTypeId: '3QUALTYPE0000000000000000000001',
  });
  store.hits.bind({ hitId: 'R1HIT1', unitId: 'r1-u0', assignmentId: 'ASG0' });
  store.units.setStatus('r1-u0', 'assigned');
  store.units.assignAgent('r1-u0', 'ag0', 'WORKER0');
  store.agents.create({
    agentId: 'ag0',
    unitId: 'r1-u0',
    workerId: 'WORKER0',
    assignmentId: 'ASG0',
    hitId: 'R1HIT1',
    status: 'accepted',
  });
  store.agents.setStatus('ag0', 'completed');
  store.agents.recordSubmission('ag0', { labels: ['cat', 'dog'], confidence: 0.9, comment: null });
  store.agents.setReview('ag0', { decision: 'approved', feedback: 'Thanks!' });
  store.workers.block('WORKER9', 'lab', 'spam answers');
  store.hits.observe('R1HIT1', 'Reviewable');
  store.snapshots.put('unit:r1-u0', {
    machine: 'unit',
    machineVersion: 2,
    snapshot: { status: 'active', value: 'completed', context: { unitId: 'r1-u0', deadlineAt: 123 }, children: {} },
  });
  store.snapshots.put('run:r1', {
    machine: 'taskRun',
    machineVersion: 1,
    snapshot: { status: 'active', value: 'running', context: {}, children: {} },
  });
  store.audit.append({
    operation: 'CreateHITType',
    outcome: 'ok',
    runId: 'r1',
    requesterName: 'lab',
    requestId: 'req-1',
    attempts: 1,
    durationMs: 84,
  });
  store.audit.append({
    operation: 'GetAccountBalance',
    outcome: 'ok',
    requesterName: 'lab',
    details: { available: '10000.00' },
  });
}

const RoundTrip = suite('store round trip');
let dir = '';
RoundTrip.before.each(() => {
  dir = tempDir();
});
RoundTrip.after.each(() => removeDir(dir));

RoundTrip('when every collection is filled, closed and reopened then each reads back identical', async () => {
  const store = await open(dir);
  fill(store);
  await store.outbox.recordIntent({
    kind: 'approve',
    runId: 'r1',
    agentId: 'ag0',
    assignmentId: 'ASG0',
    token: 'r1-ag0-approve',
    args: { AssignmentId: 'ASG0' },
  });
  store.outbox.markSent('r1-ag0-approve');
  store.outbox.markConfirmed('r1-ag0-approve', {});
  await store.outbox.recordIntent({
    kind: 'bonus',
    runId: 'r1',
    agentId: 'ag0',
    workerId: 'WORKER0',
    assignmentId: 'ASG0',
    amountUsd: '0.25',
    token: 'r1-ag0-bonus',
    args: { Reason: 'great' },
  });
  const before = await everything(store);
  await store.close();

  const again = await open(dir);
  const after = await everything(again);
  await again.close();
  assert.equal(after, before);
  assert.is(before.units.length, 3);
  assert.equal(before.counts, { assigned: 1, created: 2 });
  assert.equal(before.unbound, ['R1HIT0', 'R1HIT2']);
  assert.is(before.mapping?.id, 'R1HIT1');
  assert.is(before.byAssignment?.id, 'ag0');
  assert.equal(before.submission, { labels: ['cat', 'dog'], confidence: 0.9, comment: null });
  assert.equal(before.unconfirmed, ['r1-ag0-bonus']);
  assert.equal(
    before.audit.map((e) => e.operation),
    ['CreateHITType'],
  );
  assert.equal(
    before.auditNoRun.map((e) => e.operation),
    ['GetAccountBalance'],
  );
  assert.equal(before.blocked, ['WORKER9']);
});

RoundTrip('when a record is handed out then it is frozen and a later change does not alter it', async () => {
  const store = await open(dir);
  seedRun(store, 1);
  const unit = store.units.require('r1-u0');
  assert.ok(Object.isFrozen(unit));
  assert.throws(
    () => ((unit as { status: string }).status = 'expired'),
    (err: unknown) => err instanceof TypeError,
  );
  store.units.setStatus('r1-u0', 'launched');
  assert.is(unit.status, 'created');
  assert.is(store.units.require('r1-u0').status, 'launched');
  assert.ok(Object.isFrozen(store.runs.require('r1').config));
  await store.close();
});

RoundTrip(
  'when the store is written then files are compact JSON with format, kind, version and environment',
  async () => {
    const store = await open(dir);
    seedRun(store, 1);
    await store.close();
    const text = readFileSync(join(dir, 'sandbox', 'runs', 'r1', 'units-000.json'), 'utf8');
    assert.not.match(text, /\n/);
    const data = JSON.parse(text);
    assert.equal(
      {
        format: data.format,
        kind: data.kind,
        schemaVersion: data.schemaVersion,
        environment: data.environment,
        runId: data.runId,
      },
      { format: 'hitstate-store', kind: 'units', schemaVersion: 1, environment: { kind: 'sandbox' }, runId: 'r1' },
    );
    assert.equal(Object.keys(data.records), ['r1-u0']);
  },
);

RoundTrip("when NODE_ENV is test then the store still writes real files (lowdb's preset would not)", async () => {
  const previous = process.env.NODE_ENV;
  process.env.NODE_ENV = 'test';
  try {
    const store = await open(dir);
    seedRun(store, 1);
    await store.close();
    assert.ok(existsSync(join(dir, 'sandbox', 'runs', 'r1', 'units-000.json')));
  } finally {
    if (previous === undefined) delete process.env.NODE_ENV;
    else process.env.NODE_ENV = previous;
  }
});

RoundTrip(
  'when a unit is bound, unbound and bound again then the pool stays per run and generations count',
  async () => {
    const store = await open(dir);
    seedRun(store, 2);
    seedRun(store, 1, 'r2');
    const first = store.hits.bind({ hitId: 'R1HIT0', unitId: 'r1-u1', assignmentId: 'A1' });
    assert.is(first.generation, 1);
    assert.equal(
      store.hits.unboundOfRun('r1').map((h) => h.id),
      ['R1HIT1'],
    );
    assert.equal(
      store.hits.unboundOfRun('r2').map((h) => h.id),
      ['R2HIT0'],
    );
    const freed = store.hits.unbindUnit('r1-u1');
    assert.equal([freed?.id, freed?.unitId, freed?.assignmentId, freed?.generation], ['R1HIT0', null, null, 2]);
    assert.is(store.hits.ofUnit('r1-u1'), undefined);
    assert.is(store.hits.unbindUnit('r1-u1'), null);
    assert.equal(
      store.hits.unboundOfRun('r1').map((h) => h.id),
      ['R1HIT1', 'R1HIT0'],
    );
    const again = store.hits.bind({ hitId: 'R1HIT0', unitId: 'r1-u0', assignmentId: 'A2' });
    assert.equal([again.unitId, again.generation], ['r1-u0', 3]);
    await store.close();
  },
);

RoundTrip('when a binding breaks the pool rules then it is refused with HST_ERR_STORE_BINDING_CONFLICT', async () => {
  const store = await open(dir);
  seedRun(store, 2);
  seedRun(store, 1, 'r2');
  store.hits.bind({ hitId: 'R1HIT0', unitId: 'r1-u0', assignmentId: 'A1' });
  const cases = [
    { hitId: 'R2HIT0', unitId: 'r1-u1', assignmentId: 'A2' },
    { hitId: 'R1HIT0', unitId: 'r1-u1', assignmentId: 'A2' },
    { hitId: 'R1HIT1', unitId: 'r1-u0', assignmentId: 'A2' },
  ];
  for (const c of cases) {
    try {
      store.hits.bind(c);
      assert.unreachable(`${JSON.stringify(c)} was accepted`);
    } catch (err) {
      assert.ok(isHitstateError(err, 'HST_ERR_STORE_BINDING_CONFLICT'), String(err));
    }
  }
  assert.is(store.hits.bind({ hitId: 'R1HIT0', unitId: 'r1-u0', assignmentId: 'A3' }).assignmentId, 'A3');
  await store.close();
});

RoundTrip('when records are invalid or missing then typed errors name the field', async () => {
  const store = await open(dir);
  seedRun(store, 1);
  const code = (fn: () => unknown) => {
    try {
      fn();
      return 'no error';
    } catch (err) {
      return isHitstateError(err) ? err.code : String(err);
    }
  };
  assert.is(
    code(() => store.units.create({ unitId: 'r1-u0', runId: 'r1', index: 1, payAmountUsd: '0.50' })),
    'HST_ERR_STORE_DUPLICATE',
  );
  assert.is(
    code(() => store.units.create({ unitId: 'x y', runId: 'r1', index: 1, payAmountUsd: '0.50' })),
    'HST_ERR_STORE_INVALID_RECORD',
  );
  assert.is(
    code(() => store.units.create({ unitId: 'u9', runId: 'r1', index: 1, payAmountUsd: '0.5.0' })),
    'HST_ERR_STORE_INVALID_RECORD',
  );
  assert.is(
    code(() => store.units.create({ unitId: 'u9', runId: 'nope', index: 1, payAmountUsd: '0.50' })),
    'HST_ERR_RUN_NOT_FOUND',
  );
  assert.is(
    code(() => store.units.setStatus('nope', 'expired')),
    'HST_ERR_UNIT_NOT_FOUND',
  );
  assert.is(
    code(() => store.agents.setStatus('nope', 'returned')),
    'HST_ERR_AGENT_NOT_FOUND',
  );
  assert.is(
    code(() => store.hits.require('NOPE')),
    'HST_ERR_STORE_NOT_FOUND',
  );
  assert.is(
    code(() => store.runs.create({ runId: 'R1', requesterName: 'lab', config: {} })),
    'HST_ERR_STORE_DUPLICATE',
  );
  assert.is(
    code(() => store.runs.create({ runId: 'r9', requesterName: 'ghost', config: {} })),
    'HST_ERR_STORE_NOT_FOUND',
  );
  assert.is(
    code(() => store.runs.create({ runId: 'r9', requesterName: 'lab', config: { when: new Date() } })),
    'HST_ERR_STORE_INVALID_RECORD',
  );
  assert.is(
    code(() =>
      store.requesters.put({
        name: 'x',
        credentialSource: { kind: 'profile', profile: 'p', secretAccessKey: 's' } as never,
      }),
    ),
    'HST_ERR_STORE_INVALID_RECORD',
  );
  assert.is(
    code(() => store.snapshots.put('worker:W1', { machine: 'm', machineVersion: 1, snapshot: {} })),
    'HST_ERR_STORE_INVALID_RECORD',
  );
  assert.is(
    code(() => store.snapshots.put('unit:nope', { machine: 'm', machineVersion: 1, snapshot: {} })),
    'HST_ERR_UNIT_NOT_FOUND',
  );
  await store.close();
  assert.is(
    code(() => store.units.get('r1-u0')),
    'HST_ERR_STORE_CLOSED',
  );
});

RoundTrip('when an agent submits twice then the first submission is kept', async () => {
  const store = await open(dir);
  seedRun(store, 1);
  store.agents.create({ agentId: 'ag0', unitId: 'r1-u0', workerId: 'W0', assignmentId: 'A0', hitId: 'R1HIT0' });
  store.agents.recordSubmission('ag0', { answer: 1 });
  try {
    store.agents.recordSubmission('ag0', { answer: 2 });
    assert.unreachable('second submission accepted');
  } catch (err) {
    assert.ok(isHitstateError(err, 'HST_ERR_STORE_DUPLICATE'));
  }
  assert.equal(store.agents.submission('ag0'), { answer: 1 });
  await store.close();
});

RoundTrip(
  'when a run is exported then it holds the run, its HITs, units, agents with submissions, workers, outbox and audit',
  async () => {
    const store = await open(dir);
    fill(store);
    seedRun(store, 1, 'other');
    await store.outbox.recordIntent({ kind: 'approve', runId: 'r1', agentId: 'ag0', token: 'tok-1', args: {} });
    const exported = await store.exportRun('r1');
    const roundTripped = JSON.parse(JSON.stringify(exported));
    assert.equal(roundTripped, exported);
    assert.is(exported.format, 'hitstate-run-export');
    assert.is(exported.run.id, 'r1');
    assert.is(exported.requester?.name, 'lab');
    assert.is(exported.hits.length, 3);
    assert.ok(exported.hits.every((h) => h.runId === 'r1'));
    assert.is(exported.units.length, 3);
    assert.equal(
      exported.agents.map((a) => [a.id, a.submission]),
      [['ag0', { labels: ['cat', 'dog'], confidence: 0.9, comment: null }]],
    );
    assert.equal(
      exported.workers.map((w) => w.id),
      ['WORKER0'],
    );
    assert.equal(
      exported.outbox.map((i) => i.token),
      ['tok-1'],
    );
    assert.equal(
      exported.audit.map((e) => e.operation),
      ['CreateHITType'],
    );
    assert.is(exported.qualifications.length, 1);
    await store.close();
  },
);

RoundTrip.run();
