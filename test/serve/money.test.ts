// A randomized sequence of funding, HITs, approvals, rejections, overrides, bonuses, returns and
// expiries through the real SDK against `hitstate serve`, two requesters at once. After it:
// the database reloads to exactly the live state (every change was written through), and the
// ledger invariant holds to the cent: requester debits = worker credits + fees + refunds (+ held
// while HITs are open, 0 at the end), each account and worker agreeing with the records.
import {
  ApproveAssignmentCommand,
  CreateAdditionalAssignmentsForHITCommand,
  CreateHITCommand,
  CreateWorkerBlockCommand,
  GetAccountBalanceCommand,
  RejectAssignmentCommand,
  SendBonusCommand,
  UpdateExpirationForHITCommand,
} from '@aws-sdk/client-mturk';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Prng } from '../../src/random.js';
import { openDatabase } from '../../src/simulator/serve/db.js';
import { checkLedger } from '../../src/simulator/serve/ledger.js';
import { fundRequester } from '../../src/simulator/serve/requesters.js';
import { accept, returnAssignment } from '../../src/simulator/worker-actions.js';
import { hitInput, startServe, type ServeWorld } from './helpers.js';

const Money = suite<{ w: ServeWorld }>('serve money and storage');

Money.before(async (ctx) => {
  ctx.w = await startServe({ alpha: 300, beta: 120 });
});
Money.after(async (ctx) => {
  await ctx.w.close();
});

/** Every record of the state, as sorted JSON lines per kind (order in memory and on disk differ). */
function canonical(w: ServeWorld): Record<string, string[]> {
  const r = w.server.engine.state.records() as unknown as Record<string, unknown>;
  const out: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(r))
    out[k] = Array.isArray(v) ? v.map((x) => JSON.stringify(x)).sort() : [String(v)];
  return out;
}

function assertLedger(w: ServeWorld, label: string) {
  const db = openDatabase(w.dbFile);
  try {
    const report = checkLedger(db);
    assert.equal(report.problems, [], `${label}: ${report.problems.join('; ')}`);
    assert.is(
      report.requesterDebitsCents,
      report.workerCreditsCents + report.feesCents + report.refundsCents + report.heldCents,
      label,
    );
    return report;
  } finally {
    db.close();
  }
}

Money('randomized: reload equals the live state; the ledger balances to the cent', async ({ w }) => {
  const rng = new Prng(20261206);
  const pick = <T>(xs: readonly T[]): T => xs[rng.int(xs.length)]!;
  const names = ['alpha', 'beta'] as const;
  const workers = ['AWORKERONE0001', 'AWORKERTWO0002', 'AWORKERTHREE03', 'AWORKERFOUR004'];
  const hits: { name: string; hitId: string }[] = [];
  const submitted: { name: string; assignmentId: string; workerId: string }[] = [];
  const rejected: { name: string; assignmentId: string }[] = [];
  const accepted: string[] = [];
  let calls = 0;
  let refusals = 0;
  const attempt = async (p: Promise<unknown>) => {
    calls++;
    try {
      await p;
    } catch (err) {
      // Insufficient funds, a HIT no longer open: the engine's refusals, part of the sequence.
      refusals++;
      assert.ok((err as Error).name === 'RequestError', `unexpected ${(err as Error).name}: ${(err as Error).message}`);
    }
  };
  for (let step = 0; step < 160; step++) {
    const name = pick(names);
    const client = w.client(name);
    const r = rng.next();
    if (r < 0.2 || hits.length === 0) {
      const out = await client
        .send(
          new CreateHITCommand(
            hitInput({
              Reward: pick(['0.05', '0.10', '0.33', '1.00', '0.01']),
              MaxAssignments: pick([1, 2, 3, 9, 10, 12]),
              LifetimeInSeconds: pick([600, 3600, 7200]),
              AutoApprovalDelayInSeconds: pick([60, 3600]),
              Title: `HIT ${step} '; DROP TABLE records; --`,
            }),
          ),
        )
        .catch((err: Error) => {
          assert.is(err.name, 'RequestError');
          refusals++;
          return undefined;
        });
      calls++;
      if (out?.HIT?.HITId) hits.push({ name, hitId: out.HIT.HITId });
    } else if (r < 0.45) {
      const h = pick(hits);
      try {
        const engine = w.server.engine;
        const a = accept(engine, pick(workers), { hitId: h.hitId });
        if (rng.next() < 0.15) {
          returnAssignment(engine, a.assignmentId);
        } else if (rng.next() < 0.1) {
          accepted.push(a.assignmentId); // left to be abandoned at its deadline
        } else {
          const { submit } = await import('../../src/simulator/worker-actions.js');
          submit(engine, a.assignmentId, [['answer', `a${step}`]]);
          submitted.push({ name: h.name, assignmentId: a.assignmentId, workerId: a.workerId });
        }
        w.server.flush();
      } catch {
        refusals++; // full, expired, already held by this worker
      }
    } else if (r < 0.6 && submitted.length > 0) {
      const s = submitted.splice(rng.int(submitted.length), 1)[0]!;
      if (rng.next() < 0.7)
        await attempt(w.client(s.name).send(new ApproveAssignmentCommand({ AssignmentId: s.assignmentId })));
      else {
        await attempt(
          w
            .client(s.name)
            .send(new RejectAssignmentCommand({ AssignmentId: s.assignmentId, RequesterFeedback: '<b>not</b> done' })),
        );
        rejected.push({ name: s.name, assignmentId: s.assignmentId });
      }
    } else if (r < 0.65 && rejected.length > 0) {
      const s = rejected.splice(rng.int(rejected.length), 1)[0]!;
      await attempt(
        w.client(s.name).send(new ApproveAssignmentCommand({ AssignmentId: s.assignmentId, OverrideRejection: true })),
      );
    } else if (r < 0.72) {
      const engine = w.server.engine;
      const done = [...engine.state.assignments.values()].filter((a) => a.status === 'Approved');
      if (done.length > 0) {
        const a = pick(done);
        const owner = names.find((n) => w.keys[n]!.requesterId === a.account)!;
        await attempt(
          w.client(owner).send(
            new SendBonusCommand({
              WorkerId: a.workerId,
              AssignmentId: a.assignmentId,
              BonusAmount: pick(['0.01', '0.07', '1.25']),
              Reason: 'Thanks',
              UniqueRequestToken: `bonus-${step}`,
            }),
          ),
        );
      }
    } else if (r < 0.78) {
      const h = pick(hits);
      await attempt(
        w.client(h.name).send(new UpdateExpirationForHITCommand({ HITId: h.hitId, ExpireAt: new Date(0) })),
      );
    } else if (r < 0.83) {
      const h = pick(hits);
      await attempt(
        w
          .client(h.name)
          .send(new CreateAdditionalAssignmentsForHITCommand({ HITId: h.hitId, NumberOfAdditionalAssignments: 1 })),
      );
    } else if (r < 0.86) {
      await attempt(client.send(new CreateWorkerBlockCommand({ WorkerId: pick(workers), Reason: 'test block' })));
    } else if (r < 0.9) {
      const db = openDatabase(w.dbFile);
      fundRequester(db, name, 1 + rng.int(5000));
      db.close();
      w.server.applyAdminOps();
    } else {
      await w.clock.advance(pick([30, 600, 2000]) * 1000);
      w.server.engine.processDue();
      w.server.flush();
    }
    if (step % 40 === 39) {
      assertLedger(w, `step ${step}`);
      const before = canonical(w);
      await w.restart();
      assert.equal(canonical(w), before, `reload after step ${step}`);
    }
  }
  assert.ok(calls > 80, `calls ${calls}`);
  // Everything ends: HITs expire, accepted work is abandoned, submitted work auto-approves.
  await w.clock.advance(3 * 86_400 * 1000);
  w.server.engine.processDue();
  w.server.flush();
  const report = assertLedger(w, 'end');
  assert.is(report.heldCents, 0, 'nothing is held once every HIT has ended');
  assert.ok(report.workerCreditsCents > 0 && report.feesCents > 0 && report.refundsCents > 0, JSON.stringify(report));
  const before = canonical(w);
  await w.restart();
  assert.equal(canonical(w), before, 'reload at the end');
  const balance = await w.client('alpha').send(new GetAccountBalanceCommand({}));
  assert.is(balance.OnHoldBalance, '0.00');
  assert.ok(refusals < calls, `refusals ${refusals} of ${calls}`);
});

Money.run();
