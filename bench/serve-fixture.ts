// The platform benchmark's big database: 100,000 HITs and 1,000,000 assignments of one requester,
// as a platform has them after months of work. The record shapes come from the real engine: a
// template HIT type, HITs and assignments are made through the SDK and the worker actions against
// a real `serve` on the file; they are then cloned (new ids, sequence numbers and times) straight
// into the `records` table, because making a million assignments one call at a time would take
// an hour. The mix: 90% of the HITs are finished and deleted (DeleteHIT), 8% finished and still
// listed (Reviewable, every assignment approved), 2% live (Assignable, 10 of 20 assignments
// submitted and waiting for review).
//
// Cached as the other fixtures are (bench/support/fixture-cache.ts, HITSTATE_BENCH_CACHE), keyed
// by the code that shapes the database.
import { join } from 'node:path';
import {
  CreateHITTypeCommand,
  CreateHITWithHITTypeCommand,
  DeleteHITCommand,
  MTurkClient,
} from '@aws-sdk/client-mturk';
import { VirtualClock } from '../src/clock.js';
import { IdGenerator } from '../src/simulator/ids.js';
import { addRequester, createServe, openDatabase } from '../src/simulator/serve/index.js';
import { accept, submit } from '../src/simulator/worker-actions.js';
import { Prng } from '../src/random.js';
import { cachedDir } from './support/fixture-cache.js';

// The records are cloned as JSON and the schema migrates on open, so only this file and the
// dependencies shape the database (not every change of the engine, which would rebuild it each time).
const SHAPING = ['bench/serve-fixture.ts', 'package-lock.json'];

/** What the fixture holds. */
export interface ServeFixture {
  file: string;
  hits: number;
  assignments: number;
  liveHits: number;
  accessKeyId: string;
  secretAccessKey: string;
  buildMs: number;
}

const PER_HIT = 10;
const DB_FILE = 'crowd.db';

async function build(file: string, hits: number, log: (s: string) => void): Promise<ServeFixture> {
  const started = performance.now();
  const admin = openDatabase(file);
  const keys = addRequester(admin, 'bench', 100_000_000);
  admin.close();
  const clock = new VirtualClock(Date.now() - 90 * 86_400_000);
  const server = await createServe({ db: file, publicUrl: 'https://crowd.example.org', clock, log: () => {} });
  const client = new MTurkClient({
    endpoint: server.url,
    region: 'us-east-1',
    credentials: { accessKeyId: keys.accessKeyId, secretAccessKey: keys.secretAccessKey },
    maxAttempts: 1,
  });
  const type = await client.send(
    new CreateHITTypeCommand({
      Title: 'Label the image',
      Description: 'Pick the label that fits the picture best.',
      Reward: '0.10',
      AssignmentDurationInSeconds: 600,
      AutoApprovalDelayInSeconds: 7 * 86_400,
      Keywords: 'image, label',
    }),
  );
  const question = `<ExternalQuestion xmlns="http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/2006-07-14/ExternalQuestion.xsd"><ExternalURL>https://tasks.example.org/label</ExternalURL><FrameHeight>600</FrameHeight></ExternalQuestion>`;
  const make = async (maxAssignments = PER_HIT) =>
    (
      await client.send(
        new CreateHITWithHITTypeCommand({
          HITTypeId: type.HITTypeId,
          MaxAssignments: maxAssignments,
          LifetimeInSeconds: 30 * 86_400,
          Question: question,
        }),
      )
    ).HIT!.HITId!;
  const engine = server.engine;
  const work = (hitId: string, n: number, approve: boolean) => {
    for (let w = 0; w < n; w++) {
      const a = accept(engine, `AWORKER${String(w).padStart(7, '0')}`, { hitId });
      submit(engine, a.assignmentId, [['label', 'cat']]);
      if (approve) engine.approve(engine.state.assignments.get(a.assignmentId)!, engine.now(), 'Thanks!');
    }
    server.flush();
  };
  // Templates: deleted, reviewable, live.
  const deleted = await make();
  work(deleted, PER_HIT, true);
  await client.send(new DeleteHITCommand({ HITId: deleted }));
  const reviewable = await make();
  work(reviewable, PER_HIT, true);
  const live = await make(2 * PER_HIT);
  work(live, PER_HIT, false);
  client.destroy();
  await server.close();

  const db = openDatabase(file);
  const row = (kind: string, id: string) =>
    JSON.parse(
      (db.prepare('SELECT data FROM records WHERE kind = ? AND id = ?').get(kind, id) as { data: string }).data,
    );
  const assignmentsOf = (hitId: string) =>
    (db.prepare("SELECT data FROM records WHERE kind = 'assignment'").all() as { data: string }[])
      .map((r) => JSON.parse(r.data))
      .filter((a) => a.hitId === hitId);
  const templates = [deleted, reviewable, live].map((id) => ({ hit: row('hit', id), assignments: assignmentsOf(id) }));
  db.prepare("DELETE FROM records WHERE kind IN ('hit', 'assignment', 'notification')").run();
  const ids = new IdGenerator(new Prng(7));
  let seq = Number((db.prepare("SELECT value FROM meta WHERE key = 'seq'").get() as { value: string }).value);
  // As the server's writer writes them: a deleted HIT and its assignments are not live.
  const insert = db.prepare('INSERT INTO records (kind, id, data, live, hit_id, worker_id) VALUES (?, ?, ?, ?, ?, ?)');
  let liveHits = 0;
  let assignments = 0;
  const BATCH = 5_000;
  for (let start = 0; start < hits; start += BATCH) {
    db.transaction(() => {
      for (let i = start; i < Math.min(hits, start + BATCH); i++) {
        const pick = i % 50;
        const t = templates[pick < 45 ? 0 : pick < 49 ? 1 : 2]!;
        if (pick >= 45) liveHits++;
        // Finished HITs spread over the last 90 days, oldest first; live ones made in the last hours.
        const shift = pick >= 49 ? 89.9 * 86_400_000 - (hits - i) * 1000 : Math.floor((i / hits) * 89 * 86_400_000);
        const hitId = ids.entityId();
        const hit = { ...t.hit, hitId, seq: ++seq, creationMs: t.hit.creationMs + shift };
        hit.expirationMs = t.hit.expirationMs + shift;
        // A finished HIT past its lifetime has expired (as the server would have marked it then).
        if (pick < 49 && hit.expirationMs < Date.now()) hit.expired = true;
        if (hit.reviewSeq) hit.reviewSeq = ++seq;
        insert.run('hit', hitId, JSON.stringify(hit), hit.disposed ? 0 : 1, null, null);
        for (const a of t.assignments) {
          const assignmentId = ids.entityId();
          const c = { ...a, assignmentId, hitId, seq: ++seq };
          for (const k of ['acceptMs', 'submitMs', 'deadlineMs', 'autoApprovalMs', 'approvalMs', 'reviewMs'])
            if (typeof c[k] === 'number') c[k] += shift;
          if (c.submitSeq !== undefined) c.submitSeq = ++seq;
          insert.run('assignment', assignmentId, JSON.stringify(c), hit.disposed ? 0 : 1, hitId, c.workerId);
          assignments++;
        }
      }
    })();
    if (start % 20_000 === 0) log(`fixture: ${start + BATCH} of ${hits} HITs written`);
  }
  db.prepare("UPDATE meta SET value = ? WHERE key = 'seq'").run(String(seq));
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  return {
    file,
    hits,
    assignments,
    liveHits,
    accessKeyId: keys.accessKeyId,
    secretAccessKey: keys.secretAccessKey,
    buildMs: Math.round(performance.now() - started),
  };
}

/** The cached fixture database (built when missing or when the code that shapes it changed). */
export async function serveFixture(hits: number, fresh: boolean, log: (s: string) => void): Promise<ServeFixture> {
  const { value, dir } = await cachedDir<ServeFixture>({
    prefix: 'serve-',
    key: String(hits),
    shaping: SHAPING,
    fresh,
    // The file is kept relative to the fixture's folder, so the cache can be copied or moved.
    build: async (building) => ({ ...(await build(join(building, DB_FILE), hits, log)), file: DB_FILE }),
  });
  if (value === undefined) throw new Error('the serve fixture was not built');
  return { ...value, file: join(dir, DB_FILE) };
}
