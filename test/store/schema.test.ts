// The record specs of src/store/schema.ts: a field that is not what its record type says (a status
// that is no state of its machine, a review decision or block of the wrong shape, a missing
// result) is refused with the place in the file and what it must be, by the reader and by opening.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { isHitstateError } from '../../src/errors.js';
import { hydrateRecords, readAgent, readIntent, readUnit, readWorker, SchemaProblem } from '../../src/store/schema.js';
import { open, rejection, removeDir, seedRun, tempDir } from './helpers.js';

const Schema = suite('store record specs');
let dir = '';
Schema.before.each(() => {
  dir = tempDir();
});
Schema.after.each(() => removeDir(dir));

const unit = {
  id: 'u1',
  runId: 'r1',
  index: 0,
  status: 'created',
  payAmountUsd: '0.50',
  agentId: null,
  workerId: null,
  createdAt: 1,
  updatedAt: 1,
};
const agent = {
  id: 'a1',
  runId: 'r1',
  unitId: 'u1',
  workerId: 'W1',
  assignmentId: 'A1',
  hitId: 'H1',
  status: 'completed',
  createdAt: 1,
  updatedAt: 2,
  submittedAt: 2,
  review: { decision: 'approved', feedback: null, reviewedAt: 3 },
};

function problem(read: () => unknown): SchemaProblem {
  try {
    read();
  } catch (err) {
    if (err instanceof SchemaProblem) return err;
    throw err;
  }
  throw new Error('expected a SchemaProblem, the record was accepted');
}

Schema('when a record matches its spec then it is handed out frozen, nested parts included', () => {
  const read = readAgent(structuredClone(agent), 'records.a1');
  assert.is(read.status, 'completed');
  assert.is(read.review?.decision, 'approved');
  assert.ok(Object.isFrozen(read) && Object.isFrozen(read.review));
  assert.equal(readUnit(structuredClone(unit), 'records.u1'), unit);
});

Schema('when a status is no state of its machine then the reader names the field and the states', () => {
  const err = problem(() => readUnit({ ...unit, status: 'paused' }, 'records.u1'));
  assert.is(err.where, 'records.u1.status');
  assert.match(err.message, /must be one of "created", "launched"/);
  assert.match(err.message, /found "paused"/);
});

Schema('when a nested part is wrong then its own place is named', () => {
  const decision = problem(() => readAgent({ ...agent, review: { ...agent.review, decision: 'maybe' } }, 'records.a1'));
  assert.is(decision.where, 'records.a1.review.decision');
  assert.match(decision.message, /"approved", "rejected", "soft_rejected"/);
  assert.is(problem(() => readAgent({ ...agent, review: 'yes' }, 'records.a1')).where, 'records.a1.review');
  const block = problem(() =>
    readWorker({ id: 'W1', firstSeenAt: 1, blocks: { alice: { blockedAt: 1 } } }, 'records.W1'),
  );
  assert.is(block.where, 'records.W1.blocks.alice.reason');
  assert.match(block.message, /must be a string, found undefined/);
});

Schema('when an intent has no result field then it is refused as missing, while a null result passes', () => {
  const intent = {
    token: 't1',
    kind: 'approve',
    state: 'pending',
    runId: 'r1',
    unitId: null,
    agentId: 'a1',
    workerId: null,
    assignmentId: 'A1',
    hitId: null,
    amountUsd: null,
    args: {},
    attempts: 0,
    createdAt: 1,
    sentAt: null,
    settledAt: null,
    failure: null,
  };
  const err = problem(() => readIntent(structuredClone(intent), 'records.t1'));
  assert.is(err.where, 'records.t1.result');
  assert.match(err.message, /is missing/);
  assert.is(readIntent({ ...intent, result: null }, 'records.t1').result, null);
  assert.is(problem(() => readIntent({ ...intent, result: null, kind: 'tip' }, 'records.t1')).where, 'records.t1.kind');
});

Schema('when a file is hydrated then its header is read field by field, in the order files are written', () => {
  const file = hydrateRecords(
    {
      format: 'hitstate-store',
      kind: 'units',
      schemaVersion: 1,
      environment: { kind: 'sandbox' },
      runId: 'r1',
      shard: 0,
      records: { u1: unit },
    },
    readUnit,
    (u) => u.id,
    (u) => u.runId,
  );
  assert.equal(Object.keys(file), ['format', 'kind', 'schemaVersion', 'environment', 'runId', 'shard', 'records']);
  assert.equal(file.environment, { kind: 'sandbox' });
  assert.is(file.records.get('u1')?.status, 'created');
  const err = problem(() =>
    hydrateRecords(
      { format: 'hitstate-store', kind: 'units', schemaVersion: 1, environment: { kind: 'moon' }, records: {} },
      readUnit,
      (u) => u.id,
    ),
  );
  assert.is(err.where, 'environment.kind');
});

Schema('when a hand edit gives a unit a status no unit has then opening refuses and names the field', async () => {
  const store = await open(dir);
  seedRun(store, 1);
  await store.close();
  const path = join(dir, 'sandbox', 'runs', 'r1', 'units-000.json');
  writeFileSync(path, readFileSync(path, 'utf8').replace('"created"', '"paused"'));
  const err = await rejection(open(dir));
  assert.ok(isHitstateError(err, 'HST_ERR_STORE_CORRUPT'), String(err));
  assert.match((err as Error).message, /records\.r1-u0\.status must be one of "created"/);
  assert.match((err as Error).message, /units-000\.json/);
});

Schema.run();
