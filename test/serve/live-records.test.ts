// Only live records in memory: a deleted HIT (DeleteHIT) and its assignments leave memory after
// the call is committed, are not loaded at start, and are read back on demand with the same
// answers as before (GetHIT, GetAssignment, ListAssignmentsForHIT, SendBonus, NotifyWorkers);
// the worker's dashboard still shows the work. And a database made by the previous release
// (schema 3) upgrades. A HIT whose work is all finished is dormant: its assignments are read at
// the first question about them, not at start: deleted HITs and their assignments are marked, who worked for whom kept.
import {
  ApproveAssignmentCommand,
  CreateAdditionalAssignmentsForHITCommand,
  CreateHITCommand,
  DeleteHITCommand,
  GetAssignmentCommand,
  GetHITCommand,
  ListAssignmentsForHITCommand,
  ListHITsCommand,
  NotifyWorkersCommand,
  RejectAssignmentCommand,
  SendBonusCommand,
} from '@aws-sdk/client-mturk';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { migrate, openDatabase, SCHEMA_VERSION } from '../../src/simulator/serve/db.js';
import { checkLedger } from '../../src/simulator/serve/ledger.js';
import { hitInput, startServe, type ServeWorld } from './helpers.js';

const Live = suite<{ w: ServeWorld }>('serve keeps only live records in memory');

Live.before(async (ctx) => {
  ctx.w = await startServe({ lab: 100 });
});
Live.after(async (ctx) => {
  await ctx.w.close();
});

const inMemory = (m: Map<string, unknown>, id: string): boolean => Map.prototype.has.call(m, id);

Live('a deleted HIT leaves memory, and answers as before when asked for', async ({ w }) => {
  const lab = w.client('lab');
  const done = (await lab.send(new CreateHITCommand(hitInput({ MaxAssignments: 2 })))).HIT!.HITId!;
  const kept = (await lab.send(new CreateHITCommand(hitInput()))).HIT!.HITId!;
  const a1 = w.work('AWORKERDELETE1', done).assignmentId;
  const a2 = w.work('AWORKERDELETE2', done).assignmentId;
  for (const id of [a1, a2])
    await lab.send(new ApproveAssignmentCommand({ AssignmentId: id, RequesterFeedback: 'Thanks' }));
  const before = await lab.send(new ListAssignmentsForHITCommand({ HITId: done }));
  await lab.send(new DeleteHITCommand({ HITId: done }));
  const state = w.server.engine.state;
  assert.not.ok(inMemory(state.hits, done), 'the deleted HIT left memory');
  assert.not.ok(inMemory(state.assignments, a1), 'its assignments too');
  assert.ok(inMemory(state.hits, kept), 'a live HIT stays');

  const check = async (label: string) => {
    const lab = w.client('lab'); // the restarted server has a new port
    const hit = await lab.send(new GetHITCommand({ HITId: done }));
    assert.is(hit.HIT?.HITStatus, 'Disposed', label);
    const a = await lab.send(new GetAssignmentCommand({ AssignmentId: a2 }));
    assert.is(a.Assignment?.AssignmentStatus, 'Approved', label);
    assert.is(a.Assignment?.RequesterFeedback, 'Thanks', label);
    const list = await lab.send(new ListAssignmentsForHITCommand({ HITId: done }));
    assert.equal(
      list.Assignments?.map((x) => x.AssignmentId),
      before.Assignments?.map((x) => x.AssignmentId),
      label,
    );
    assert.not.ok(inMemory(w.server.engine.state.hits, done), `${label}: read on demand, then let go`);
    // Listings of live HITs never show it.
    const listed = await lab.send(new ListHITsCommand({}));
    assert.equal(
      listed.HITs?.map((h) => h.HITId),
      [kept],
      label,
    );
  };
  await check('after DeleteHIT');
  await w.restart();
  assert.not.ok(inMemory(w.server.engine.state.hits, done), 'not loaded at start');
  assert.not.ok(inMemory(w.server.engine.state.assignments, a1), 'nor its assignments');
  await check('after a restart');

  // Money and messages still reach the worker of a deleted HIT.
  await w.client('lab').send(
    new SendBonusCommand({
      AssignmentId: a1,
      WorkerId: 'AWORKERDELETE1',
      BonusAmount: '0.50',
      Reason: 'extra',
      UniqueRequestToken: 'b1',
    }),
  );
  const notified = await w
    .client('lab')
    .send(new NotifyWorkersCommand({ WorkerIds: ['AWORKERDELETE1'], Subject: 'Hi', MessageText: 'More work soon' }));
  assert.equal(notified.NotifyWorkersFailureStatuses, [], 'NotifyWorkers knows who worked for the requester');
  const db = openDatabase(w.dbFile);
  try {
    assert.equal(checkLedger(db).problems, []);
    const cold = db
      .prepare('SELECT count(*) FROM records WHERE live = 0 AND (id = ? OR hit_id = ?)')
      .pluck()
      .get(done, done);
    assert.is(cold, 3, 'the HIT and its two assignments are marked');
  } finally {
    db.close();
  }
});

Live(
  'a reviewed HIT is dormant at start: its assignments are read when asked for, and answer as before',
  async ({ w }) => {
    const lab = w.client('lab');
    const reviewed = (await lab.send(new CreateHITCommand(hitInput({ MaxAssignments: 2 })))).HIT!.HITId!;
    const open = (await lab.send(new CreateHITCommand(hitInput({ MaxAssignments: 2 })))).HIT!.HITId!;
    const a1 = w.work('AWORKERDORMANT1', reviewed).assignmentId;
    const a2 = w.work('AWORKERDORMANT2', reviewed).assignmentId;
    const held = w.work('AWORKERDORMANT3', open).assignmentId;
    await lab.send(new ApproveAssignmentCommand({ AssignmentId: a1, RequesterFeedback: 'Thanks' }));
    await lab.send(new RejectAssignmentCommand({ AssignmentId: a2, RequesterFeedback: 'Off topic' }));
    const before = await lab.send(new ListAssignmentsForHITCommand({ HITId: reviewed }));
    await w.restart();
    const state = w.server.engine.state;
    assert.ok(inMemory(state.hits, reviewed), 'the reviewed HIT is live');
    assert.not.ok(inMemory(state.assignments, a1), 'its finished assignments stay on disk at start');
    assert.ok(inMemory(state.assignments, held), 'a HIT with submitted work is loaded whole');
    // By id first: the store finds the HIT and reads all its assignments.
    const got = await w.client('lab').send(new GetAssignmentCommand({ AssignmentId: a2 }));
    assert.is(got.Assignment?.AssignmentStatus, 'Rejected');
    assert.is(got.Assignment?.RequesterFeedback, 'Off topic');
    assert.ok(inMemory(state.assignments, a1), 'the whole HIT woke');
    const after = await w.client('lab').send(new ListAssignmentsForHITCommand({ HITId: reviewed }));
    assert.equal(after.Assignments, before.Assignments);
    assert.is(
      (await w.client('lab').send(new GetHITCommand({ HITId: reviewed }))).HIT?.NumberOfAssignmentsCompleted,
      2,
    );

    // Woken by HIT: more slots on a dormant HIT, and a worker who did it cannot take it twice.
    await w.restart();
    await w
      .client('lab')
      .send(new CreateAdditionalAssignmentsForHITCommand({ HITId: reviewed, NumberOfAdditionalAssignments: 1 }));
    assert.throws(() => w.work('AWORKERDORMANT1', reviewed), /already holds an assignment of this HIT/);
    const third = w.work('AWORKERDORMANT4', reviewed).assignmentId;
    const all = await w.client('lab').send(new ListAssignmentsForHITCommand({ HITId: reviewed }));
    assert.equal(all.Assignments?.map((a) => a.AssignmentId).sort(), [a1, a2, third].sort());
    const db = openDatabase(w.dbFile);
    try {
      assert.equal(checkLedger(db).problems, []);
    } finally {
      db.close();
    }
  },
);

Live('a database of the previous release (schema 3) upgrades: deleted HITs marked, workers kept', async ({ w }) => {
  const file = join(w.dir, 'release3.db');
  const old = new Database(file);
  migrate(old, file, 3);
  const put = old.prepare('INSERT INTO records (kind, id, data) VALUES (?, ?, ?)');
  const hit = (id: string, disposed: boolean) =>
    put.run(
      'hit',
      id,
      JSON.stringify({ hitId: id, account: 'RACCOUNT000001', disposed, status: disposed ? 'Disposed' : 'Reviewable' }),
    );
  const assignment = (id: string, hitId: string, status: string) =>
    put.run(
      'assignment',
      id,
      JSON.stringify({ assignmentId: id, hitId, workerId: 'AWORKEROLD0001', account: 'RACCOUNT000001', status }),
    );
  hit('HDELETED', true);
  hit('HLIVE', false);
  assignment('ADELETED', 'HDELETED', 'Approved');
  assignment('ALIVE', 'HLIVE', 'Submitted');
  old.close();
  const db = openDatabase(file);
  try {
    assert.is(db.prepare('SELECT version FROM schema_version').pluck().get(), SCHEMA_VERSION);
    const rows = db.prepare('SELECT id, live, hit_id, worker_id FROM records ORDER BY id').all();
    assert.equal(rows, [
      { id: 'ADELETED', live: 0, hit_id: 'HDELETED', worker_id: 'AWORKEROLD0001' },
      { id: 'ALIVE', live: 1, hit_id: 'HLIVE', worker_id: 'AWORKEROLD0001' },
      { id: 'HDELETED', live: 0, hit_id: null, worker_id: null },
      { id: 'HLIVE', live: 1, hit_id: null, worker_id: null },
    ]);
    assert.equal(db.prepare('SELECT account, worker_id FROM worked_for').all(), [
      { account: 'RACCOUNT000001', worker_id: 'AWORKEROLD0001' },
    ]);
  } finally {
    db.close();
  }
});

Live.run();
