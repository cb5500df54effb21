import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { SimulatorStats } from '../../src/simulator/index.js';
import { simWorld, TASK_URL, value } from './sim-helpers.js';

const Absorb = suite('governor against a throttling, faulty simulator');

async function httpStats(url: string): Promise<SimulatorStats> {
  const res = await fetch(`${url}/_sim/stats`);
  assert.is(res.status, 200);
  return (await res.json()) as SimulatorStats;
}

Absorb(
  'when the server throttles below the governor rate then every call still completes and /_sim/stats shows throttling',
  async () => {
    const w = await simWorld({ throttle: { ratePerSecond: 5, burst: 10 } });
    try {
      const gw = w.gateway('busy', 'custom', { governor: { ratePerSecond: 20, burst: 40, seed: 3 } });
      const type = value(
        await w.run(
          gw.createHITType({ title: 'Busy', description: 'x', rewardUsd: '0.10', assignmentDurationSec: 600 }),
        ),
      );
      const created = await w.run(
        Promise.all(
          Array.from({ length: 60 }, (_, i) =>
            gw.createHITWithHITType({
              hitTypeId: type.hitTypeId,
              runId: 'busy',
              unitId: `u${i}`,
              question: { externalUrl: TASK_URL },
            }),
          ),
        ),
      );
      assert.equal(
        created.map((c) => c.status).filter((s) => s !== 'ok'),
        [],
      );
      const hitIds = created.map((c) => value(c).hit.hitId);
      const polled = await w.run(Promise.all(hitIds.map((id) => gw.getHIT(id))));
      assert.ok(polled.every((p) => p.status === 'ok'));
      const server = await httpStats(w.sim.url);
      assert.ok(server.throttled > 0, `throttled ${server.throttled}`);
      const mine = gw.stats();
      assert.is(mine.throttles, server.throttled);
      assert.ok(mine.retries >= mine.throttles);
      assert.is(mine.failures, 0);
      assert.ok(mine.effectiveRatePerSecond < 20);
      assert.is(w.sim.inspect().accounts.AKIDBUSY!.hits.length, 60);
      assert.is(
        Object.values(server.calls).reduce((a, b) => a + b, 0),
        mine.attempts,
        'every attempt the governor made reached the server once',
      );
    } finally {
      await w.close();
    }
  },
);

Absorb(
  'when calls fail or connections drop then tokens keep HITs and bonuses single and every money call completes',
  async () => {
    const w = await simWorld({ faultRate: 0.25, seed: 11 });
    try {
      const gw = w.gateway('faulty', 'custom', { governor: { ratePerSecond: 20, burst: 20, seed: 5, maxAttempts: 8 } });
      const type = value(
        await w.run(
          gw.createHITType({ title: 'Faulty', description: 'x', rewardUsd: '0.10', assignmentDurationSec: 600 }),
        ),
      );
      const created = await w.run(
        Promise.all(
          Array.from({ length: 40 }, (_, i) =>
            gw.createHITWithHITType({
              hitTypeId: type.hitTypeId,
              runId: 'f',
              unitId: `u${i}`,
              question: { externalUrl: TASK_URL },
            }),
          ),
        ),
      );
      const hitIds = created.map((c) =>
        c.status === 'ok' ? c.value.hit.hitId : c.status === 'alreadyDone' ? c.hitId : `failed:${c.status}`,
      );
      assert.not.ok(
        hitIds.some((id) => id?.startsWith('failed')),
        hitIds.join(','),
      );
      assert.is(new Set(hitIds).size, 40);
      assert.ok(
        created.some((c) => c.status === 'alreadyDone'),
        'a dropped create was retried and recognised by its token',
      );
      assert.is(w.sim.inspect().accounts.AKIDFAULTY!.hits.length, 40);
      const work = [];
      for (const [i, hitId] of hitIds.slice(0, 20).entries()) {
        const workerId = `A3W${String(i).padStart(10, '0')}`;
        const { assignmentId } = await w.sim.workers.accept(workerId, { hitId: hitId! });
        await w.sim.workers.submit(assignmentId, { a: String(i) });
        work.push({ workerId, assignmentId });
      }
      const bonuses = await w.run(
        Promise.all(
          work.map((x) => gw.sendBonus({ ...x, amountUsd: '0.50', reason: 'bonus', runId: 'f', unitId: x.workerId })),
        ),
      );
      assert.ok(
        bonuses.every((b) => b.status === 'ok' || b.status === 'alreadyDone'),
        bonuses.map((b) => b.status).join(','),
      );
      const approvals = await w.run(
        Promise.all(work.map((x) => gw.approveAssignment({ assignmentId: x.assignmentId }))),
      );
      assert.ok(
        approvals.every((a) => a.status === 'ok' || a.status === 'alreadyDone'),
        approvals.map((a) => a.status).join(','),
      );
      const account = w.sim.inspect().accounts.AKIDFAULTY!;
      assert.is(account.bonusPayments.length, 20);
      assert.ok(account.hits.flatMap((h) => h.assignments).filter((a) => a.status === 'Approved').length === 20);
      const server = await httpStats(w.sim.url);
      assert.ok(server.faults > 0 && server.dropped > 0, JSON.stringify(server));
      assert.is(gw.stats().faults, server.faults + server.dropped);
    } finally {
      await w.close();
    }
  },
);

Absorb('when polling fills the queue then a money call overtakes it', async () => {
  const w = await simWorld();
  try {
    const gw = w.gateway('lanes', 'custom', { governor: { ratePerSecond: 2, burst: 1 } });
    const type = value(
      await w.run(
        gw.createHITType({ title: 'Lanes', description: 'x', rewardUsd: '0.10', assignmentDurationSec: 600 }),
      ),
    );
    const hit = value(
      await w.run(
        gw.createHITWithHITType({
          hitTypeId: type.hitTypeId,
          runId: 'l',
          unitId: 'u',
          question: { externalUrl: TASK_URL },
        }),
      ),
    ).hit;
    const { assignmentId } = await w.sim.workers.accept('A4W0000000001', { hitId: hit.hitId });
    await w.sim.workers.submit(assignmentId, { a: '1' });
    const order: string[] = [];
    const polls = Array.from({ length: 10 }, (_, i) => gw.getHIT(hit.hitId).then(() => order.push(`poll${i}`)));
    const approve = gw.approveAssignment({ assignmentId }).then(() => order.push('approve'));
    await w.run(Promise.all([...polls, approve]));
    assert.ok(order.indexOf('approve') <= 2, order.join(','));
  } finally {
    await w.close();
  }
});

Absorb.run();
