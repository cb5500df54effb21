import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { isHitstateError } from '../../src/errors.js';
import { hitToken } from '../../src/mturk/tokens.js';
import { pageSizes, simWorld, TASK_URL, value, type SimWorld } from './sim-helpers.js';

const Hits = suite<{ w: SimWorld }>('gateway HITs (simulator)', { w: undefined as unknown as SimWorld });

Hits.before(async (ctx) => {
  ctx.w = await simWorld();
});
Hits.after(async (ctx) => {
  await ctx.w.close();
});

const typeInput = {
  title: 'Label images',
  description: 'Label 10 images',
  keywords: ['images'],
  rewardUsd: '0.50',
  assignmentDurationSec: 1800,
};

Hits(
  'when a HIT type and a HIT are created then the simulator holds them with annotation, token and question',
  async ({ w }) => {
    const gw = w.gateway('hits1');
    const type = value(await w.run(gw.createHITType(typeInput)));
    const created = value(
      await w.run(
        gw.createHITWithHITType({
          hitTypeId: type.hitTypeId,
          runId: 'run-1',
          unitId: 'unit-1',
          question: { externalUrl: `${TASK_URL}?x=1&y=2`, frameHeight: 0 },
        }),
      ),
    );
    assert.is(created.hit.hitStatus, 'Assignable');
    assert.equal(created.hit.annotation, { runId: 'run-1', unitId: 'unit-1' });
    assert.is(created.previewUrl, `${w.sim.url}/mturk/preview?groupId=${type.hitTypeId}`);
    const account = w.sim.inspect().accounts.AKIDHITS1!;
    assert.is(account.hits.length, 1);
    assert.match(
      account.hits[0]!.question,
      /<ExternalURL>https:\/\/tasks\.example\.org\/run\?x=1&amp;y=2<\/ExternalURL>/,
    );
    assert.is(account.hitTypes[0]!.reward, '0.50');
    assert.is(account.hitTypes[0]!.autoApprovalDelaySec, 604_800);
    const read = value(await w.run(gw.getHIT(created.hit.hitId)));
    assert.equal(
      [read.hitId, read.hitTypeId, read.maxAssignments, read.assignmentsAvailable],
      [created.hit.hitId, type.hitTypeId, 1, 1],
    );
  },
);

Hits(
  'when the same HIT is created again with its token then no second HIT exists and the outcome names the first',
  async ({ w }) => {
    const gw = w.gateway('hits2');
    const type = value(await w.run(gw.createHITType(typeInput)));
    const input = { hitTypeId: type.hitTypeId, runId: 'run-2', unitId: 'unit-9', question: { externalUrl: TASK_URL } };
    const first = value(await w.run(gw.createHITWithHITType(input)));
    assert.is(first.token, hitToken('run-2', 'unit-9', 0));
    const again = await w.run(gw.createHITWithHITType(input));
    assert.is(again.status, 'alreadyDone');
    assert.is((again as { hitId?: string }).hitId, first.hit.hitId);
    assert.is(w.sim.inspect().accounts.AKIDHITS2!.hits.length, 1);
    const relaunch = value(await w.run(gw.createHITWithHITType({ ...input, attempt: 1 })));
    assert.is.not(relaunch.hit.hitId, first.hit.hitId);
  },
);

Hits('when a HIT does not exist then get, expire and delete answer notFound', async ({ w }) => {
  const gw = w.gateway('hits3');
  for (const r of [
    await w.run(gw.getHIT('3NOSUCHHIT000000000000000000000')),
    await w.run(gw.expireHIT('3NOSUCHHIT000000000000000000000')),
    await w.run(gw.deleteHIT('3NOSUCHHIT000000000000000000000')),
  ]) {
    assert.equal([r.status, (r as { code?: string }).code], ['notFound', 'HST_ERR_MTURK_NOT_FOUND']);
  }
});

Hits(
  'when a live HIT is deleted then MTurk refuses (invalid); expire-and-dispose expires it and disposes it',
  async ({ w }) => {
    const gw = w.gateway('hits4');
    const type = value(await w.run(gw.createHITType(typeInput)));
    const hit = value(
      await w.run(
        gw.createHITWithHITType({
          hitTypeId: type.hitTypeId,
          runId: 'r4',
          unitId: 'u',
          question: { externalUrl: TASK_URL },
        }),
      ),
    ).hit;
    const refused = await w.run(gw.deleteHIT(hit.hitId));
    assert.is(refused.status, 'invalid');
    assert.match((refused as { message: string }).message, /Assignable/);
    const disposed = value(await w.run(gw.expireAndDisposeHIT(hit.hitId)));
    assert.equal(disposed, { hitId: hit.hitId, expired: true, disposed: true });
    assert.is(w.sim.inspect().accounts.AKIDHITS4!.hits[0]!.status, 'Disposed');
    const again = await w.run(gw.deleteHIT(hit.hitId));
    assert.is(again.status, 'alreadyDone');
  },
);

Hits(
  'when a worker holds an assignment then expire-and-dispose expires the HIT and reports why it stays',
  async ({ w }) => {
    const gw = w.gateway('hits5');
    const type = value(await w.run(gw.createHITType(typeInput)));
    const hit = value(
      await w.run(
        gw.createHITWithHITType({
          hitTypeId: type.hitTypeId,
          runId: 'r5',
          unitId: 'u',
          question: { externalUrl: TASK_URL },
        }),
      ),
    ).hit;
    await w.sim.workers.accept('A1HOLDER0000001', { hitId: hit.hitId });
    const r = value(await w.run(gw.expireAndDisposeHIT(hit.hitId)));
    assert.equal([r.expired, r.disposed], [true, false]);
    assert.ok((r.notDisposedBecause ?? '').length > 0);
  },
);

Hits('when an expired HIT has no work then it is listed as reviewable for its HIT type', async ({ w }) => {
  const gw = w.gateway('hits6');
  const type = value(await w.run(gw.createHITType(typeInput)));
  const other = value(await w.run(gw.createHITType({ ...typeInput, title: 'Other task' })));
  const hits = [];
  for (const unitId of ['a', 'b', 'c'])
    hits.push(
      value(
        await w.run(
          gw.createHITWithHITType({
            hitTypeId: type.hitTypeId,
            runId: 'r6',
            unitId,
            question: { externalUrl: TASK_URL },
          }),
        ),
      ).hit,
    );
  const foreign = value(
    await w.run(
      gw.createHITWithHITType({
        hitTypeId: other.hitTypeId,
        runId: 'r6',
        unitId: 'z',
        question: { externalUrl: TASK_URL },
      }),
    ),
  ).hit;
  value(await w.run(gw.expireHIT(hits[0]!.hitId)));
  value(await w.run(gw.expireHIT(foreign.hitId)));
  const reviewable = value(await w.run(gw.listReviewableHITs({ hitTypeId: type.hitTypeId })));
  assert.equal(
    reviewable.map((h) => h.hitId),
    [hits[0]!.hitId],
  );
  const all = value(await w.run(gw.listReviewableHITs()));
  assert.equal(all.map((h) => h.hitId).sort(), [hits[0]!.hitId, foreign.hitId].sort());
});

Hits('when a HIT type has more than 100 HITs then listing paginates to the end', async ({ w }) => {
  const gw = w.gateway('hits7', 'custom', { governor: { ratePerSecond: 50, burst: 50 } });
  const type = value(await w.run(gw.createHITType(typeInput)));
  const other = value(await w.run(gw.createHITType({ ...typeInput, title: 'Noise' })));
  const created = await w.run(
    Promise.all(
      Array.from({ length: 230 }, (_, i) =>
        gw.createHITWithHITType({
          hitTypeId: i % 10 === 9 ? other.hitTypeId : type.hitTypeId,
          runId: 'r7',
          unitId: `u${i}`,
          question: { externalUrl: TASK_URL },
        }),
      ),
    ),
  );
  assert.ok(created.every((c) => c.status === 'ok'));
  w.sim.resetStats();
  const mine = value(await w.run(gw.listHITsForHITType({ hitTypeId: type.hitTypeId })));
  assert.is(mine.length, 207);
  assert.is(new Set(mine.map((h) => h.hitId)).size, 207);
  assert.ok(mine.every((h) => h.annotation?.runId === 'r7'));
  assert.is(w.sim.stats().calls.ListHITs, 3);
  const pages = await w.run(pageSizes(gw.paginateHITsForHITType({ hitTypeId: other.hitTypeId })));
  assert.is(pages.length, 3);
  assert.is(
    pages.reduce((a, b) => a + b, 0),
    23,
  );
  for (const h of created.slice(0, 120)) if (h.status === 'ok') value(await w.run(gw.expireHIT(h.value.hit.hitId)));
  const reviewable = value(await w.run(gw.listReviewableHITs()));
  assert.is(reviewable.length, 120);
});

Hits(
  'when a requester behaves as sandbox or live against the simulator then preview links and the locale rule follow',
  async ({ w }) => {
    const sandbox = w.gateway('sandboxlike', 'sandbox');
    const live = w.gateway('livelike', 'live');
    const sType = value(await w.run(sandbox.createHITType(typeInput)));
    const lType = value(await w.run(live.createHITType(typeInput)));
    assert.equal(w.sim.inspect().accounts.AKIDSANDBOXLIKE!.hitTypes[0]!.qualificationRequirements, []);
    assert.equal(
      w.sim
        .inspect()
        .accounts.AKIDLIVELIKE!.hitTypes[0]!.qualificationRequirements.map((q) => [
          q.QualificationTypeId,
          q.Comparator,
          q.LocaleValues?.length,
        ]),
      [['00000000000000000071', 'In', 5]],
    );
    const s = value(
      await w.run(
        sandbox.createHITWithHITType({
          hitTypeId: sType.hitTypeId,
          runId: 'r8',
          unitId: 'u',
          question: { externalUrl: TASK_URL },
        }),
      ),
    );
    const l = value(
      await w.run(
        live.createHITWithHITType({
          hitTypeId: lType.hitTypeId,
          runId: 'r8',
          unitId: 'u',
          question: { externalUrl: TASK_URL },
        }),
      ),
    );
    assert.is(s.previewUrl, `https://workersandbox.mturk.com/mturk/preview?groupId=${sType.hitTypeId}`);
    assert.is(l.previewUrl, `https://www.mturk.com/mturk/preview?groupId=${lType.hitTypeId}`);
    w.sim.workers.setLocale('A1FRENCH0000001', { Country: 'FR' });
    const refused = await w.sim.workers.accept('A1FRENCH0000001', { hitId: l.hit.hitId }).then(
      () => null,
      (e: unknown) => e,
    );
    assert.ok(isHitstateError(refused), 'a worker outside the allowed locales cannot accept the live HIT');
    const accepted = await w.sim.workers.accept('A1FRENCH0000001', { hitId: s.hit.hitId });
    assert.is(accepted.hitId, s.hit.hitId);
  },
);

Hits.run();
